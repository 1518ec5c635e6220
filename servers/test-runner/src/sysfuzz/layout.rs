//! Where things are: the capability slots the runner gives the fuzzer
//! child, the slots it keeps out of reach of random calls, and the
//! addresses the fuzzer uses in its own address space and in the scratch
//! address spaces it makes.
//!
//! The child's own address space holds its image (a copy of the runner's),
//! its stacks and IPC buffers, plus two areas only the kernel writes: the
//! scratch buffer every "valid" user pointer of a random call points into,
//! and one window per worker where scripts map memory objects and touch
//! them through the kernel. No random call can name the address space
//! itself, so nothing else in it changes.

use abi::CapSlot;
use abi::layout::PAGE_BYTES;

/// The child's budget (a split of the runner's): pays for everything.
pub const G_BUDGET: CapSlot = CapSlot(1);
/// Where the child sends its report (a badged endpoint, write only).
pub const G_RESULTS: CapSlot = CapSlot(2);
/// The debug object, read only: the pool's debug capabilities derive
/// from it (frame counts and counters, and the rights checks of
/// `DebugWrite` and `DebugExit`).
pub const G_DEBUG: CapSlot = CapSlot(3);
/// The debug object, write only: the child's console for traces and
/// messages. Never in the pool.
pub const G_CONSOLE: CapSlot = CapSlot(4);
/// A notification the runner signals once the slots below are filled.
pub const G_GO: CapSlot = CapSlot(5);
/// The child's own address space (to start workers, map its scratch
/// areas and lend its image). Never in the pool.
pub const G_ASPACE: CapSlot = CapSlot(6);
/// The child's own capability space (to start workers). Never in the pool.
pub const G_CSPACE: CapSlot = CapSlot(7);

/// Slots below this hold the child's own capabilities (the grants above,
/// its workers' threads and alarms, its scratch memory). They are filled
/// before any random call and never emptied, and a random slot argument is
/// either a slot the pool learned from a syscall that filled it, one at or
/// above this, or an invalid value: no random call can reach them.
pub const FIRST_RANDOM_SLOT: u32 = 64;
/// Slots in the child's capability space.
pub const CSPACE_SLOTS: u32 = rt::process::CHILD_CSPACE_SLOTS as u32;

/// The scratch buffer in the child's own address space: "valid" user
/// pointers of random calls point here, so syscalls that write user
/// memory (`CapInfo`, `ThreadReadRegs`) scribble nowhere else. The pages
/// around it are unmapped.
pub const OWN_SCRATCH: u64 = 0x0000_0060_0000_0000;
/// Pages of the scratch buffer.
pub const OWN_SCRATCH_PAGES: u64 = 4;
/// A read-only page (user copies into it fail), with unmapped pages around.
pub const OWN_READ_ONLY: u64 = OWN_SCRATCH + 8 * PAGE_BYTES;
/// Worker `w`'s window in the child's own address space:
/// `OWN_WINDOW + w * OWN_WINDOW_STRIDE`, [`OWN_WINDOW_PAGES`] pages.
pub const OWN_WINDOW: u64 = 0x0000_0061_0000_0000;
/// Distance between two workers' windows.
pub const OWN_WINDOW_STRIDE: u64 = 0x0000_0000_1000_0000;
/// Pages of a worker's window.
pub const OWN_WINDOW_PAGES: u64 = 16;

/// In scratch address spaces: where random mappings go.
pub const WINDOW: u64 = 0x0000_0001_0000_0000;
/// Pages of [`WINDOW`].
pub const WINDOW_PAGES: u64 = 64;
/// In scratch address spaces: the partner threads' stacks.
pub const PARTNER_STACKS: u64 = 0x0000_0002_0000_0000;
/// Pages of the stack object, one [`PARTNER_STACK_BYTES`] part per partner.
pub const PARTNER_STACK_PAGES: u64 = 32;
/// Bytes of one partner's stack.
pub const PARTNER_STACK_BYTES: u64 = 4 * PAGE_BYTES;
/// In scratch address spaces: the partner threads' IPC buffer page.
pub const PARTNER_IPC: u64 = 0x0000_0003_0000_0000;

/// The top of partner stack `index` (as if called: rsp + 8 is 16-byte
/// aligned at entry).
pub const fn partner_stack_top(index: u64) -> u64 {
    let parts = PARTNER_STACK_PAGES * PAGE_BYTES / PARTNER_STACK_BYTES;
    PARTNER_STACKS + (index % parts + 1) * PARTNER_STACK_BYTES - 8
}
