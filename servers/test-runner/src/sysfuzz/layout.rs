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
/// An I/O port range of harmless ports ([`FUZZ_PORTS`]), made by the
/// runner from the I/O space (which the child never sees): the pool's
/// port ranges derive from it or are made from it (`IoPortsCreate` of
/// sub-ranges).
pub const G_IO_PORTS: CapSlot = CapSlot(8);
/// An interrupt line with no device behind it ([`FUZZ_IRQ`]), made by the
/// runner from the IRQ control (which the child never sees): the pool's
/// `Irq` capabilities derive from it.
pub const G_IRQ: CapSlot = CapSlot(9);
/// The device-memory capability (`MemoryCreateDevice`). The kernel lets it
/// make objects for any range that is not RAM and not the APICs'; the
/// fuzzer's physical addresses (`args::phys`) keep to [`FUZZ_MMIO`], where
/// nothing answers, or to ranges the kernel refuses.
pub const G_DEVICE: CapSlot = CapSlot(10);

/// The ports of [`G_IO_PORTS`], as `(first, count)`: the POST port and
/// the DMA page registers next to it (0x80-0x87). Nothing the run needs
/// is there, and no fuzzer thread runs `in` or `out` anyway (ranges are
/// bound to partner threads, which never touch ports). Never near: the
/// keyboard controller (0x60-0x64; 0x64 can reset the machine), the RTC
/// (0x70-0x71), PCI configuration (0xcf8-0xcff), `isa-debug-exit` (0xf4)
/// or the COM ports.
pub const FUZZ_PORTS: (u16, u16) = (0x80, 8);
/// The ISA IRQ of [`G_IRQ`]: IRQ 5. QEMU 7.2's `pc` machine with
/// `-nodefaults` (and the run's `isa-debug-exit` and COM1 on `-serial`)
/// wires nothing to it: the keyboard and mouse are on 1 and 12, COM1 on
/// 4, the floppy controller on 6, the RTC on 8, ACPI's SCI on 9, IDE on
/// 14 and 15; 5, 10 and 11 are PCI link lines no device of this machine
/// uses. So the line never fires: binding, unbinding and acking it are
/// safe in any order.
pub const FUZZ_IRQ: u8 = 5;
/// Physical pages the fuzzer makes device memory from: the top of the
/// PCI hole below the I/O APIC, unassigned on QEMU's `pc` with
/// `-nodefaults` (no device with a memory BAR), so reads return nothing
/// and writes go nowhere. Not the HPET (0xfed00000): a write there (a
/// partner's stack mapped over it, say) could enable it or its legacy
/// replacement routing, which takes IRQ 8 from the RTC the IRQ tests use,
/// and its timers could raise interrupts on lines the kernel routes.
pub const FUZZ_MMIO: u64 = 0xfe00_0000;
/// Pages of [`FUZZ_MMIO`] (up to the I/O APIC at 0xfec00000).
pub const FUZZ_MMIO_PAGES: u64 = 0xc00;

/// Slots below this hold the child's own capabilities (the grants above,
/// its workers' threads and alarms, its scratch memory). They are filled
/// before any random call and never emptied, and a random slot argument is
/// either a slot the pool learned from a syscall that filled it, one at or
/// above this, or an invalid value: no random call can reach them.
pub const FIRST_RANDOM_SLOT: u32 = 64;
/// Slots in the child's capability space.
pub const CSPACE_SLOTS: u32 = crate::copy_spawn::CHILD_CSPACE_SLOTS as u32;

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
