//! Random arguments, by kind: the kinds come from `abi`'s table
//! (`Syscall::arg_kinds`), generated from the same definitions the kernel
//! decodes registers with, so every register gets a value of the sort the
//! kernel expects there, good or bad.
//!
//! - Slots: from the pool (live, revoked, deleted, of the type the
//!   argument wants or another), or empty, out of range, above 32 bits.
//! - Addresses: valid (the child's scratch buffer; the window, image,
//!   stack and IPC pages of scratch address spaces), null, unmapped,
//!   kernel half, non-canonical, straddling into an unmapped page or the
//!   end of user space, unaligned. For the syscalls that access the
//!   caller's own memory, "valid" is the scratch buffer only, so the
//!   kernel never writes into the fuzzer's image.
//! - Lengths: 0, 4095, 4096, 4097, huge, and a few others.
//! - Deadlines: none (0), past (1, or a little before the last clock
//!   reading), near (within a few milliseconds of it) and far (seconds
//!   away, or `u64::MAX`).
//! - Futex words: in the child's own address space (the scratch buffer,
//!   any worker's window, which scripts map and unmap under other
//!   workers' waits, the read-only page, the image), misaligned, or any
//!   bad address.
//! - Physical addresses: pages where nothing answers
//!   (`layout::FUZZ_MMIO`) or ones the kernel refuses (see [`phys`]).
//! - I/O ports: mostly inside the fuzzer's range (`layout::FUZZ_PORTS`),
//!   else outside it, kernel ports, the end of the port space.
//! - Interrupt sources: ISA lines, GSIs with flags, malformed ones.
//! - Counts, rights, map flags, message infos, modes and plain values:
//!   edges and in-range values.
//!
//! Slot arguments never name the child's own capabilities
//! (`layout::FIRST_RANDOM_SLOT`).

use abi::ipc::MessageInfo;
use abi::layout::{PAGE_BYTES, USER_END};
use abi::syscall::{ArgKind, CSPACE_MAX_SLOTS, MEMORY_MAX_PAGES, Syscall};
use abi::{ObjectType, Rights};

use super::layout::{
    CSPACE_SLOTS, FIRST_RANDOM_SLOT, FUZZ_MMIO, FUZZ_MMIO_PAGES, FUZZ_PORTS, OWN_READ_ONLY,
    OWN_SCRATCH, OWN_SCRATCH_PAGES, OWN_WINDOW, OWN_WINDOW_PAGES, OWN_WINDOW_STRIDE, PARTNER_IPC,
    PARTNER_STACKS, WINDOW, WINDOW_PAGES, partner_stack_top,
};
use super::pool::Pool;
use super::rng::Rng;

/// What a worker knows that arguments draw on.
pub struct Context {
    /// The last clock reading (for deadlines near now).
    pub now: u64,
    /// Where partner threads start.
    pub partner_entry: u64,
    /// Pages of the program image.
    pub image_pages: u64,
}

/// What a slot argument is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// An object of this type.
    Kind(ObjectType),
    /// An endpoint or a notification (badges).
    Badgeable,
    /// Any capability.
    Any,
    /// A destination capability space (NULL: the caller's).
    Space,
    /// A destination slot (NULL: the lowest free), in the space the
    /// argument before it names.
    Destination,
}

/// The type each slot argument wants, by syscall and argument index.
fn want(call: Syscall, index: usize) -> Want {
    use ObjectType::*;
    use Syscall as S;
    let kind = match (call, index) {
        (
            S::DebugWrite | S::DebugExit | S::DebugFrameCount | S::DebugCounters | S::DebugLogRead,
            0,
        ) => Debug,
        (
            S::ThreadCreate
            | S::CSpaceCreate
            | S::EndpointCreate
            | S::NotificationCreate
            | S::AspaceCreate
            | S::MemoryCreate
            | S::BudgetSplit
            | S::BudgetInfo
            | S::MemoryCreateDevice
            | S::AspaceClone
            | S::MemoryLend,
            0,
        ) => Budget,
        (S::ThreadCreate, 1) => AddressSpace,
        (S::ThreadCreate, 2) => CSpace,
        (
            S::ThreadWait
            | S::ThreadStart
            | S::ThreadConfigure
            | S::ThreadSetPriority
            | S::ThreadReadRegs
            | S::ThreadWriteRegs
            | S::ThreadSuspend
            | S::ThreadResume
            | S::ThreadBind,
            0,
        ) => Thread,
        (S::ThreadConfigure, 2) => Endpoint,
        (S::ThreadBind, 1) => Notification,
        (S::CapCopy, 2) | (S::CapMint, 3) | (S::CapMove, 1) | (S::CapCopyMany, 0) => {
            return Want::Space;
        }
        (S::CapCopy, 3)
        | (S::CapMint, 4)
        | (S::CapMove, 2)
        | (S::ReplySave, 0)
        | (S::ReplySaveRecv, 1) => {
            return Want::Destination;
        }
        (S::ReplyWith, 0) => Reply,
        (S::CapMint, 0) => return Want::Badgeable,
        (
            S::AspaceMap | S::AspaceUnmap | S::AspaceProtect | S::AspacePopulate | S::ThreadExec,
            0,
        )
        | (S::AspaceClone | S::MemoryLend, 1) => AddressSpace,
        (S::AspaceMap, 1) | (S::MemoryResize, 0) => MemoryObject,
        (S::MemoryCreateDevice, 1) => DeviceMemory,
        (S::IoPortsCreate | S::IoPortsBind | S::IoPortsUnbind, 0) => IoPorts,
        (S::IoPortsCreate, 1) => Budget,
        (S::IoPortsBind | S::IoPortsUnbind, 1) => Thread,
        (S::IrqCreate, 0) => IrqControl,
        (S::IrqCreate, 1) => Budget,
        (S::IrqBind | S::IrqAck, 0) => Irq,
        (S::IrqBind, 1) => Notification,
        (
            S::Send | S::NbSend | S::Call | S::Recv | S::NbRecv | S::ReplyRecv | S::ReplySaveRecv,
            0,
        ) => Endpoint,
        (S::Signal | S::Wait | S::Poll | S::TimerSet, 0) => Notification,
        (S::EndpointWatch, 0) => Endpoint,
        (S::EndpointWatch, 1) => Notification,
        _ => return Want::Any,
    };
    Want::Kind(kind)
}

/// A slot value that is surely invalid: NULL, out of range or above 32 bits.
pub fn invalid_slot(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => u64::from(CSPACE_SLOTS) + rng.below(64),
        2 => CSPACE_MAX_SLOTS + rng.below(4),
        3 => u64::from(u32::MAX),
        4 => (1 << 32) | rng.below(64),
        _ => u64::MAX,
    }
}

/// An empty-looking slot of the child's space (never one of its own).
fn random_slot(rng: &mut Rng) -> u64 {
    u64::from(FIRST_RANDOM_SLOT) + rng.below(u64::from(CSPACE_SLOTS - FIRST_RANDOM_SLOT))
}

/// A slot argument.
fn slot(rng: &mut Rng, pool: &Pool, want: Want, previous: u64) -> u64 {
    let from_pool = |rng: &mut Rng, kind: Option<ObjectType>| {
        let entry = match kind {
            Some(kind) => pool.pick_kind(rng, kind).or_else(|| pool.pick_any(rng)),
            None => pool.pick_any(rng),
        };
        entry.map_or(0, |e| u64::from(e.slot))
    };
    let roll = rng.below(100);
    match want {
        Want::Kind(kind) => match roll {
            0..60 => from_pool(rng, Some(kind)),
            60..85 => from_pool(rng, None),
            85..92 => random_slot(rng),
            _ => invalid_slot(rng),
        },
        Want::Badgeable => {
            let kind = rng.pick(&[ObjectType::Endpoint, ObjectType::Notification]);
            slot(rng, pool, Want::Kind(kind), previous)
        }
        Want::Any => match roll {
            0..82 => from_pool(rng, None),
            82..90 => random_slot(rng),
            _ => invalid_slot(rng),
        },
        Want::Space => match roll {
            0..55 => 0,
            55..88 => from_pool(rng, Some(ObjectType::CSpace)),
            88..95 => from_pool(rng, None),
            _ => invalid_slot(rng),
        },
        Want::Destination => match roll {
            0..55 => 0,
            // Another space: any index there (a pool space is small).
            55..85 if previous != 0 => rng.range(1, 80),
            55..85 => random_slot(rng),
            85..92 => from_pool(rng, None),
            _ => invalid_slot(rng),
        },
    }
}

/// A capability to send in a message (its slot goes in the IPC buffer).
pub fn cap_to_send(rng: &mut Rng, pool: &Pool) -> u64 {
    slot(rng, pool, Want::Any, 0)
}

/// A `CapCopyMany` entry's destination slot in the space `space` names
/// (0: the worker's own, where it is a free-looking slot, never one of
/// the child's own): mostly a plausible one, sometimes 0 or out of range.
pub fn copy_destination(rng: &mut Rng, space: u64) -> u32 {
    let slot = match rng.below(100) {
        0..5 => 0,
        5..10 => invalid_slot(rng),
        _ if space != 0 => rng.range(1, 80),
        _ => random_slot(rng),
    };
    // Above 32 bits: still invalid (never wrapped to one of the child's
    // own slots).
    u32::try_from(slot).unwrap_or(u32::MAX)
}

/// A [`Rights`] register: mostly valid bits, sometimes unknown ones.
pub fn rights(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..40 => Rights::all().bits().into(),
        40..88 => rng.below(16),
        88..94 => (1 << 4) | rng.below(16),
        94..97 => 1 << 31,
        _ => rng.pick(&[1 << 32, u64::MAX]),
    }
}

/// A `MapFlags` register: valid combinations, no READ, unknown bits.
fn map_flags(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..35 => 0b011,
        35..50 => 0b001,
        50..60 => 0b101,
        60..70 => 0b1011,
        70..90 => rng.below(16),
        90..95 => 0b111,
        _ => rng.pick(&[1 << 4 | 1, 1 << 31 | 1, 1 << 32 | 3, u64::MAX]),
    }
}

/// A message-info register: label, words, capabilities; often the
/// deadline flag (the worker puts a deadline in its IPC buffer); sometimes
/// too many words or reserved and kernel-only bits.
pub fn info(rng: &mut Rng) -> u64 {
    let label = match rng.below(4) {
        0 => rng.below(4),
        1 => rng.next() & 0xffff_ffff_ffff,
        _ => rng.below(1000),
    };
    let words = match rng.below(100) {
        0..45 => rng.below(5) as usize,
        45..90 => rng.range(5, 64) as usize,
        _ => rng.range(65, 255) as usize,
    };
    let caps = match rng.below(100) {
        0..60 => 0,
        _ => rng.range(1, 3) as usize,
    };
    let mut info = MessageInfo::new(label, words, caps);
    if rng.chance(20) {
        info = info.with_deadline();
    }
    let mut info = info.to_reg();
    if rng.chance(6) {
        info |= rng.pick(&[1 << 10, 1 << 12, 1 << 13, 1 << 14, 1 << 15]);
    }
    info
}

/// A user virtual address. `own` says the kernel will access it in the
/// caller's own address space (`DebugWrite`, `DebugLogRead`, `CapInfo`, `ThreadReadRegs`,
/// `ThreadWriteRegs`): then "valid" means the scratch buffer only, never
/// the image, whose data the kernel would overwrite.
pub fn address(rng: &mut Rng, cx: &Context, own: bool) -> u64 {
    let page = PAGE_BYTES;
    let roll = rng.below(100);
    if own && (32..45).contains(&roll) {
        // Instead of image, entry, stack and IPC-buffer addresses of
        // scratch spaces: the read-only page, the code (not writable).
        return rng.pick(&[OWN_READ_ONLY, OWN_READ_ONLY + 8, cx.partner_entry]);
    }
    match roll {
        // Valid: the scratch buffer (8-byte aligned).
        0..16 => OWN_SCRATCH + (rng.below(OWN_SCRATCH_PAGES * page - 256) & !7),
        // Valid in scratch spaces: window pages, image pages, stacks, IPC.
        16..32 => WINDOW + rng.below(WINDOW_PAGES) * page,
        32..38 => abi::layout::IMAGE_BASE + rng.below(cx.image_pages.max(1)) * page,
        38..41 => cx.partner_entry,
        41..45 => {
            let top = partner_stack_top(rng.below(8));
            rng.pick(&[PARTNER_STACKS, PARTNER_IPC, top])
        }
        // Null.
        45..50 => 0,
        // Unmapped.
        50..56 => 0x0000_5000_0000_0000 + rng.below(1 << 20) * page,
        // Kernel half.
        56..62 => rng.pick(&[
            0xffff_8000_0000_0000,
            0xffff_ffff_8000_0000,
            0xffff_ff00_0000_0000,
            0xffff_ffff_ffff_f000,
            u64::MAX - 7,
        ]),
        // Non-canonical.
        62..68 => rng.pick(&[
            0x0000_8000_0000_0000,
            0x0000_8000_0000_1000,
            0x0001_0000_0000_0000,
            0x8000_0000_0000_0000,
            0x00ff_ffff_ffff_f000,
        ]),
        // Straddling: into an unmapped page, out of a read-only one, the
        // end of user space.
        68..80 => rng.pick(&[
            OWN_SCRATCH + OWN_SCRATCH_PAGES * page - 8,
            OWN_SCRATCH + OWN_SCRATCH_PAGES * page - 1,
            OWN_SCRATCH + OWN_SCRATCH_PAGES * page - 100,
            OWN_SCRATCH + page - 8,
            OWN_SCRATCH - 8,
            OWN_READ_ONLY,
            OWN_READ_ONLY + page - 8,
            USER_END - 8,
            USER_END - page,
            USER_END,
            WINDOW + WINDOW_PAGES * page - 8,
        ]),
        // Unaligned.
        80..90 => WINDOW + rng.below(WINDOW_PAGES) * page + rng.range(1, page - 1),
        90..95 => abi::layout::USER_START + rng.below(16) * page,
        _ => rng.next(),
    }
}

/// The address of a futex word, for the futex syscalls (which act on the
/// caller's own address space).
fn futex_address(rng: &mut Rng, cx: &Context) -> u64 {
    let page = PAGE_BYTES;
    match rng.below(100) {
        0..35 => OWN_SCRATCH + (rng.below(OWN_SCRATCH_PAGES * page) & !3),
        35..55 => {
            let window =
                OWN_WINDOW + rng.below(super::report::MAX_WORKERS as u64) * OWN_WINDOW_STRIDE;
            window + (rng.below(OWN_WINDOW_PAGES * page) & !3)
        }
        55..61 => OWN_READ_ONLY + (rng.below(page) & !3),
        61..66 => abi::layout::IMAGE_BASE + (rng.below(cx.image_pages.max(1) * page) & !3),
        66..78 => OWN_SCRATCH + (rng.below(OWN_SCRATCH_PAGES * page) & !3) + rng.range(1, 3),
        _ => address(rng, cx, true),
    }
}

/// Whether `call` is a futex syscall.
pub fn is_futex(call: Syscall) -> bool {
    matches!(
        call,
        Syscall::FutexWait | Syscall::FutexWake | Syscall::FutexRequeue
    )
}

/// A physical address (only device-memory objects take one). The child
/// holds the device-memory capability, so an address the kernel accepts
/// becomes an object that scripts and random calls map and write: those
/// are pages of `layout::FUZZ_MMIO`, where nothing answers. The rest are
/// addresses the kernel must refuse: RAM, the APICs' registers, unaligned,
/// at or past its physical limit (2^46), ranges that run into RAM or the
/// I/O APIC. Never other MMIO (the HPET, the BIOS flash), and never
/// 2^40..2^46 (past the physical address width of QEMU's CPUs: a page
/// there would be mapped with reserved bits set).
fn phys(rng: &mut Rng) -> u64 {
    let far = (rng.next() | 1 << 46) & !0xfff;
    match rng.below(100) {
        0..65 => FUZZ_MMIO + rng.below(FUZZ_MMIO_PAGES) * PAGE_BYTES,
        65..72 => rng.pick(&[
            FUZZ_MMIO,
            FUZZ_MMIO + (FUZZ_MMIO_PAGES - 1) * PAGE_BYTES,
            FUZZ_MMIO + (FUZZ_MMIO_PAGES - 8) * PAGE_BYTES,
        ]),
        _ => rng.pick(&[
            0,
            0x1000,
            0x10_0000,
            0x1000_0000,
            0x1fff_f000,
            0xfec0_0000,
            0xfee0_0000,
            0xfee0_0001,
            FUZZ_MMIO + 1,
            FUZZ_MMIO + 0x800,
            1 << 46,
            (1 << 46) - PAGE_BYTES,
            0xffff_ffff_ffff_f000,
            far,
        ]),
    }
}

/// A first I/O port: mostly inside `layout::FUZZ_PORTS` (sub-ranges of the
/// fuzzer's range succeed), else ports the range does not hold, kernel
/// ports, the last port, and past it.
fn port(rng: &mut Rng) -> u64 {
    let (first, count) = FUZZ_PORTS;
    let (first, count) = (u64::from(first), u64::from(count));
    match rng.below(100) {
        0..70 => first + rng.below(count),
        70..80 => rng.pick(&[first - 1, first + count, first + count - 1]),
        80..88 => rng.pick(&[0, 0x20, 0x40, 0x61, 0xf4, 0xe9, 0x60, 0x64, 0xcf8]),
        88..94 => rng.pick(&[0xffff, 0x1_0000, 0x1_0001]),
        _ => rng.next(),
    }
}

/// An interrupt source register ([`abi::syscall::IrqSource`]): ISA lines
/// (the kernel's own, the fuzzer's, others), GSIs with flags, unknown
/// kinds and stray bits. `IrqCreate` needs the IRQ control, which the
/// fuzzer never holds, so these reach the checks before it only.
fn irq_source(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..40 => rng.below(18),
        40..70 => 1 << 32 | rng.below(3) << 40 | rng.below(30),
        70..80 => 2 << 32 | rng.below(16),
        80..90 => 1 << 43 | rng.below(16),
        _ => rng.next(),
    }
}

/// A length in bytes.
pub fn length(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..12 => 0,
        12..22 => 4095,
        22..34 => 4096,
        34..44 => 4097,
        44..52 => rng.pick(&[USER_END, 1 << 47, u64::MAX, u64::MAX - 4095, 1 << 40]),
        52..60 => rng.pick(&[1, 8, 16, 160, 8192, 12288, 65536]),
        _ => rng.below(3 * PAGE_BYTES),
    }
}

/// A number of pages, slots or frames.
pub fn count(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..10 => 0,
        10..55 => rng.range(1, 8),
        55..70 => rng.range(9, 64),
        70..78 => rng.pick(&[64, 65, 128, 4096, 8191, 8192, 8193]),
        78..86 => rng.pick(&[
            MEMORY_MAX_PAGES,
            MEMORY_MAX_PAGES + 1,
            1 << 20,
            u64::from(u32::MAX),
            1 << 32,
            u64::MAX,
        ]),
        _ => rng.below(1024),
    }
}

/// Nanoseconds ahead of the last clock reading that count as "near".
pub const NEAR_NS: u64 = 3_000_000;

/// A deadline: none, past, near or far.
pub fn deadline(rng: &mut Rng, cx: &Context) -> u64 {
    match rng.below(100) {
        0..30 => 0,
        30..45 => {
            let before = cx.now.saturating_sub(rng.below(NEAR_NS)).max(1);
            rng.pick(&[1, before])
        }
        45..85 => cx.now.wrapping_add(rng.below(NEAR_NS)).max(1),
        _ => rng.pick(&[cx.now.wrapping_add(1_000_000_000), u64::MAX]),
    }
}

/// A plain value: codes, badges, bits, priorities, words.
pub fn value(rng: &mut Rng, cx: &Context) -> u64 {
    match rng.below(100) {
        0..15 => 0,
        15..35 => rng.range(1, 4),
        35..50 => rng.pick(&[7, 19, 20, 21, 22, 31, 32, 63, 64, 65, 100]),
        50..60 => 1 << rng.below(64),
        60..68 => rng.pick(&[u64::MAX, 1 << 48, u64::from(u32::MAX), 1 << 32]),
        68..78 => cx.now.wrapping_add(rng.below(30_000_000)),
        _ => rng.next(),
    }
}

/// Arguments for `call`, one per register its table lists; the rest of
/// the registers (which the kernel ignores) get garbage now and then.
pub fn generate(rng: &mut Rng, pool: &Pool, cx: &Context, call: Syscall) -> [u64; 6] {
    let kinds = call.arg_kinds();
    let own = matches!(
        call,
        Syscall::DebugWrite
            | Syscall::DebugLogRead
            | Syscall::CapInfo
            | Syscall::ThreadReadRegs
            | Syscall::ThreadWriteRegs
    );
    let mut args = [0u64; 6];
    for (index, kind) in kinds.iter().enumerate() {
        // The space a destination is in (`ReplySaveRecv`'s is always the
        // caller's: the argument before it is the endpoint).
        let previous = match (call, index) {
            (_, 0) | (Syscall::ReplySaveRecv, _) => 0,
            _ => args[index - 1],
        };
        args[index] = match kind {
            ArgKind::Slot => slot(rng, pool, want(call, index), previous),
            ArgKind::Rights => rights(rng),
            ArgKind::MapFlags => map_flags(rng),
            ArgKind::Info => info(rng),
            ArgKind::Address if is_futex(call) => futex_address(rng, cx),
            ArgKind::Address => address(rng, cx, own),
            ArgKind::PhysAddress => phys(rng),
            ArgKind::Length => length(rng),
            ArgKind::Count => count(rng),
            ArgKind::Mode => rng.pick(&[0, 0, 1, 1, 2, u64::MAX]),
            ArgKind::Deadline => deadline(rng, cx),
            ArgKind::Value => match (call, index) {
                (Syscall::IoPortsCreate, 2) => port(rng),
                (Syscall::IrqCreate, 2) => irq_source(rng),
                _ => value(rng, cx),
            },
        };
    }
    // `ReplySaveRecv` refuses a NULL destination: name a slot most times;
    // and half the time wait without a deadline (the worker's alarm ends
    // the receive), so that it succeeds now and then rather than timing
    // out after the save.
    if call == Syscall::ReplySaveRecv {
        if args[1] == 0 && !rng.chance(10) {
            args[1] = random_slot(rng);
        }
        if rng.chance(50) {
            args[2] = 0;
        }
    }
    if rng.chance(20) {
        for arg in args.iter_mut().skip(kinds.len()) {
            *arg = rng.next();
        }
    }
    args
}

/// Arguments for a syscall number the kernel does not know.
pub fn unknown(rng: &mut Rng) -> [u64; 6] {
    core::array::from_fn(|_| {
        if rng.chance(50) {
            rng.below(8)
        } else {
            rng.next()
        }
    })
}
