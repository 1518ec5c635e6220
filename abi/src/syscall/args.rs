//! Every syscall's argument struct and result struct, and the limits
//! they name.

use super::*;
use crate::ipc::MessageInfo;
use crate::{CapSlot, MapFlags, ObjectType, Rights, SysError};

/// Largest buffer one [`Syscall::DebugWrite`] accepts.
pub const DEBUG_WRITE_MAX_BYTES: u64 = 4096;
/// Exit codes [`Syscall::DebugExit`] accepts are below this.
pub const DEBUG_EXIT_CODE_LIMIT: u64 = 64;
/// Largest buffer one [`Syscall::DebugLogRead`] fills.
pub const DEBUG_LOG_READ_MAX_BYTES: u64 = 4096;
/// How much of its log the kernel keeps for [`Syscall::DebugLogRead`]
/// (the newest bytes; older ones are overwritten).
pub const KERNEL_LOG_BYTES: u64 = 16384;

args!(
    /// Arguments of [`Syscall::Null`].
    NullArgs for Null {}
);
args!(
    /// Arguments of [`Syscall::DebugWrite`].
    DebugWriteArgs for DebugWrite {
        /// A [`ObjectType::Debug`] capability with [`Rights::WRITE`].
        console: CapSlot,
        /// User address of the bytes.
        addr: u64 as Address,
        /// Number of bytes, at most [`DEBUG_WRITE_MAX_BYTES`].
        len: u64 as Length,
    }
);
args!(
    /// Arguments of [`Syscall::DebugExit`].
    DebugExitArgs for DebugExit {
        /// A [`ObjectType::Debug`] capability with [`Rights::CONTROL`].
        console: CapSlot,
        /// Exit code, below [`DEBUG_EXIT_CODE_LIMIT`]; QEMU exits with `code * 2 + 1`.
        code: u64,
    }
);
args!(
    /// Arguments of [`Syscall::DebugFrameCount`].
    DebugFrameCountArgs for DebugFrameCount {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::DebugLogRead`].
    DebugLogReadArgs for DebugLogRead {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
        /// Position in the log's history of the first byte wanted (0: the
        /// first byte the kernel ever logged).
        cursor: u64,
        /// User address of the buffer.
        addr: u64 as Address,
        /// Its length, at most [`DEBUG_LOG_READ_MAX_BYTES`].
        len: u64 as Length,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadExit`].
    ThreadExitArgs for ThreadExit {
        /// Reported to a [`Syscall::ThreadWait`]er.
        code: u64,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadYield`].
    ThreadYieldArgs for ThreadYield {}
);
args!(
    /// Arguments of [`Syscall::ThreadCreate`].
    ThreadCreateArgs for ThreadCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// An [`ObjectType::CSpace`] capability with [`Rights::WRITE`]: the
        /// slots the new thread's syscalls name.
        cspace: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadWait`].
    ThreadWaitArgs for ThreadWait {
        /// An [`ObjectType::Thread`] capability with [`Rights::READ`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapCopy`].
    CapCopyArgs for CapCopy {
        /// The capability to copy.
        src: CapSlot,
        /// Rights of the copy; a subset of the source's.
        rights: Rights,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapDelete`].
    CapDeleteArgs for CapDelete {
        /// The slot to empty.
        slot: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapInfo`].
    CapInfoArgs for CapInfo {
        /// The slot to describe.
        slot: CapSlot,
        /// User address of a writable [`CapInfo`].
        out: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ClockRead`].
    ClockReadArgs for ClockRead {}
);

args!(
    /// Arguments of [`Syscall::CapMint`].
    CapMintArgs for CapMint {
        /// The capability to copy (unbadged endpoint or notification).
        src: CapSlot,
        /// Rights of the copy; a subset of the source's.
        rights: Rights,
        /// The badge (not 0).
        badge: u64,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapMove`].
    CapMoveArgs for CapMove {
        /// The capability to move.
        src: CapSlot,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapRevoke`].
    CapRevokeArgs for CapRevoke {
        /// The capability whose derived capabilities go.
        slot: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::EndpointWatch`].
    EndpointWatchArgs for EndpointWatch {
        /// An unbadged capability to the server's endpoint.
        endpoint: CapSlot,
        /// The notification to signal, or [`CapSlot::NULL`] to stop.
        notification: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapDetach`].
    CapDetachArgs for CapDetach {
        /// The capability to take out, with what derives from it.
        slot: CapSlot,
        /// The capability it is derived from, which stays.
        ancestor: CapSlot,
    }
);

args!(
    /// Arguments of [`Syscall::CapDeleteRange`].
    CapDeleteRangeArgs for CapDeleteRange {
        /// The first slot of the range (not 0).
        first: CapSlot,
        /// How many slots (at least 1, not past the space's end).
        count: u64 as Count,
    }
);

/// Most slots one capability space has ([`Syscall::CSpaceCreate`]).
pub const CSPACE_MAX_SLOTS: u64 = 8192;
/// Most pages one memory object has ([`Syscall::MemoryCreate`],
/// [`Syscall::MemoryResize`]): 2^26 pages, 256 GiB of address space
/// (pages are allocated only when touched).
pub const MEMORY_MAX_PAGES: u64 = 1 << 26;
/// Thread priorities are `0..PRIORITY_LEVELS`; higher runs first.
pub const PRIORITY_LEVELS: u64 = 64;

args!(
    /// Arguments of [`Syscall::CSpaceCreate`].
    CSpaceCreateArgs for CSpaceCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// Number of slots, `2..=CSPACE_MAX_SLOTS` (rounded up to 64).
        slots: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::EndpointCreate`].
    EndpointCreateArgs for EndpointCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::NotificationCreate`].
    NotificationCreateArgs for NotificationCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceCreate`].
    AspaceCreateArgs for AspaceCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryCreate`].
    MemoryCreateArgs for MemoryCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// Number of pages, `1..=MEMORY_MAX_PAGES`.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceMap`].
    AspaceMapArgs for AspaceMap {
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// An [`ObjectType::MemoryObject`] capability.
        memory: CapSlot,
        /// First page of the object to map.
        offset: u64 as Count,
        /// Page-aligned user address.
        vaddr: u64 as Address,
        /// Number of pages (not 0).
        pages: u64 as Count,
        /// Access.
        flags: MapFlags,
    }
);
args!(
    /// Arguments of [`Syscall::DebugCounters`].
    DebugCountersArgs for DebugCounters {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
    }
);
results!(
    /// Results of [`Syscall::DebugCounters`].
    KernelCounters {
        /// `Call`s and `ReplyRecv`s the IPC fast path has handled.
        fastpath_ipc: u64,
        /// 1 if the fast path is on (kernel command line `fastpath=off`
        /// turns it off), else 0.
        fastpath_enabled: u64,
        /// Spurious interrupts (the local APIC's spurious vector, the
        /// 8259's IRQ 7 and 15), counted and dropped.
        spurious_interrupts: u64,
        /// Interrupts on vectors nothing was bound to, counted and dropped.
        unexpected_interrupts: u64,
        /// Interrupt deliveries to user space (an [`ObjectType::Irq`]
        /// signalling its notification).
        irq_deliveries: u64,
        /// TSC value when the last device interrupt entered the kernel
        /// (for the `irq_to_user` benchmark).
        last_irq_tsc: u64,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceUnmap`].
    AspaceUnmapArgs for AspaceUnmap {
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// First address of the region.
        vaddr: u64 as Address,
        /// Its length in pages.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadStart`].
    ThreadStartArgs for ThreadStart {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// Where it starts; a user address.
        entry: u64 as Address,
        /// Its initial stack pointer; a user address.
        stack: u64 as Address,
        /// Placed in its `rdi`.
        arg: u64,
        /// Its FS base (thread-local storage), or 0 for none; below
        /// `0x0000_8000_0000_0000`.
        tls: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadConfigure`].
    ThreadConfigureArgs for ThreadConfigure {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// Page-aligned user address of its [`crate::ipc::IpcBuffer`], or 0.
        ipc_buffer: u64 as Address,
        /// Slot (in its capability space) of its fault endpoint, or 0.
        fault_endpoint: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadSetPriority`].
    ThreadSetPriorityArgs for ThreadSetPriority {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// New priority, below [`PRIORITY_LEVELS`].
        priority: u64,
        /// New maximum controlled priority, below [`PRIORITY_LEVELS`].
        max_priority: u64,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadReadRegs`].
    ThreadReadRegsArgs for ThreadReadRegs {
        /// An [`ObjectType::Thread`] capability with [`Rights::READ`].
        thread: CapSlot,
        /// User address of a writable [`ThreadRegs`].
        out: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadWriteRegs`].
    ThreadWriteRegsArgs for ThreadWriteRegs {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// User address of a readable [`ThreadRegs`].
        regs: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadSuspend`].
    ThreadSuspendArgs for ThreadSuspend {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadResume`].
    ThreadResumeArgs for ThreadResume {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadBind`].
    ThreadBindArgs for ThreadBind {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// An [`ObjectType::Notification`] with [`Rights::READ`], or
        /// [`CapSlot::NULL`] to unbind.
        notification: CapSlot,
    }
);

args!(
    /// Arguments of [`Syscall::BudgetSplit`].
    BudgetSplitArgs for BudgetSplit {
        /// The parent [`ObjectType::Budget`], with [`Rights::WRITE`].
        budget: CapSlot,
        /// Frames the child may spend (not 0).
        frames: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::BudgetInfo`].
    BudgetInfoArgs for BudgetInfo {
        /// An [`ObjectType::Budget`] with [`Rights::READ`].
        budget: CapSlot,
    }
);
results!(
    /// Results of [`Syscall::BudgetInfo`].
    BudgetStatus {
        /// Frames the budget may spend.
        limit: u64,
        /// Frames charged to it now (objects, page tables, pages, child
        /// budgets).
        used: u64,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryResize`].
    MemoryResizeArgs for MemoryResize {
        /// An anonymous [`ObjectType::MemoryObject`] with [`Rights::WRITE`].
        memory: CapSlot,
        /// New number of pages, `1..=MEMORY_MAX_PAGES`.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryCreateDevice`].
    MemoryCreateDeviceArgs for MemoryCreateDevice {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The [`ObjectType::DeviceMemory`] capability, with [`Rights::WRITE`].
        device: CapSlot,
        /// Page-aligned physical address of the first register page.
        phys: u64 as PhysAddress,
        /// Number of pages (not 0).
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::IoPortsCreate`].
    IoPortsCreateArgs for IoPortsCreate {
        /// The [`ObjectType::IoSpace`] or an [`ObjectType::IoPorts`] whose
        /// range holds the new one, with [`Rights::WRITE`].
        parent: CapSlot,
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The first port.
        base: u64 as Value,
        /// Number of ports (not 0; `base + count` at most 0x10000).
        count: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::IoPortsBind`].
    IoPortsBindArgs for IoPortsBind {
        /// An [`ObjectType::IoPorts`] with [`Rights::WRITE`].
        ports: CapSlot,
        /// An [`ObjectType::Thread`] with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::IoPortsUnbind`].
    IoPortsUnbindArgs for IoPortsUnbind {
        /// An [`ObjectType::IoPorts`] with [`Rights::WRITE`].
        ports: CapSlot,
        /// An [`ObjectType::Thread`] with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::IrqCreate`].
    IrqCreateArgs for IrqCreate {
        /// The [`ObjectType::IrqControl`] capability, with [`Rights::WRITE`].
        control: CapSlot,
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The line.
        source: IrqSource,
    }
);
args!(
    /// Arguments of [`Syscall::IrqBind`].
    IrqBindArgs for IrqBind {
        /// An [`ObjectType::Irq`] with [`Rights::WRITE`].
        irq: CapSlot,
        /// An [`ObjectType::Notification`] with [`Rights::WRITE`], or
        /// [`CapSlot::NULL`] to unbind.
        notification: CapSlot,
        /// The bits to signal when the capability is unbadged (else 0).
        bits: u64,
    }
);
args!(
    /// Arguments of [`Syscall::IrqAck`].
    IrqAckArgs for IrqAck {
        /// An [`ObjectType::Irq`] with [`Rights::WRITE`].
        irq: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceProtect`].
    AspaceProtectArgs for AspaceProtect {
        /// An [`ObjectType::AddressSpace`] with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Page-aligned first address.
        vaddr: u64 as Address,
        /// Number of pages (not 0).
        pages: u64 as Count,
        /// The new access ([`MapFlags::SHARE`] not allowed).
        flags: MapFlags,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceClone`].
    AspaceCloneArgs for AspaceClone {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`]: pays for the
        /// new space, its page tables and the copies' pages.
        budget: CapSlot,
        /// The [`ObjectType::AddressSpace`] to copy, with [`Rights::READ`]
        /// and [`Rights::WRITE`].
        aspace: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadExec`].
    ThreadExecArgs for ThreadExec {
        /// The [`ObjectType::AddressSpace`] to run in, with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Where the thread starts; a user address.
        entry: u64 as Address,
        /// Its initial stack pointer; a user address.
        stack: u64 as Address,
        /// Placed in its `rdi`.
        arg: u64,
        /// Its FS base (thread-local storage), or 0 for none; below
        /// `0x0000_8000_0000_0000`.
        tls: u64 as Address,
    }
);

/// Most pages one [`Syscall::AspacePopulate`] makes present (4 MiB): the
/// call is not preemptible, so its work is bounded.
pub const POPULATE_MAX_PAGES: u64 = 1024;

args!(
    /// Arguments of [`Syscall::AspacePopulate`].
    AspacePopulateArgs for AspacePopulate {
        /// An [`ObjectType::AddressSpace`] with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Page-aligned first address.
        vaddr: u64 as Address,
        /// Number of pages, `1..=POPULATE_MAX_PAGES`.
        pages: u64 as Count,
    }
);

/// Most entries one [`Syscall::CapCopyMany`] takes.
pub const CAP_COPY_MANY_MAX: u64 = 64;
/// [`CapCopyEntry::object_type`] for a source of any type.
pub const CAP_COPY_ANY_TYPE: u16 = u16::MAX;

/// How a [`CapCopyEntry`]'s `rights` are read.
pub mod cap_copy_mode {
    /// The copy has exactly these rights, which the source must have.
    pub const EXACT: u16 = 0;
    /// The copy has the source's rights among these.
    pub const MASK: u16 = 1;
    /// Nothing is copied: the entry only checks that the source holds
    /// the type asked and these rights (its destination must be 0). A
    /// program checks many of its own capabilities with one call so.
    pub const CHECK: u16 = 2;
}

/// One capability for [`Syscall::CapCopyMany`] (16 bytes, in the caller's
/// memory).
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
pub struct CapCopyEntry {
    /// The caller's slot to copy.
    pub src: u32,
    /// The destination slot (not 0: the call names every slot; 0 for a
    /// [`cap_copy_mode::CHECK`]).
    pub dst: u32,
    /// Rights ([`Rights::bits`]), read as `mode` says.
    pub rights: u32,
    /// The type the source must hold ([`ObjectType::to_reg`]), or
    /// [`CAP_COPY_ANY_TYPE`].
    pub object_type: u16,
    /// [`cap_copy_mode::EXACT`], [`cap_copy_mode::MASK`] or
    /// [`cap_copy_mode::CHECK`].
    pub mode: u16,
}

const _: () = assert!(core::mem::size_of::<CapCopyEntry>() == 16);

args!(
    /// Arguments of [`Syscall::CapCopyMany`].
    CapCopyManyArgs for CapCopyMany {
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// User address of `count` [`CapCopyEntry`]s.
        addr: u64 as Address,
        /// Number of entries, `1..=CAP_COPY_MANY_MAX`.
        count: u64 as Count,
    }
);
results!(
    /// Results of [`Syscall::CapCopyMany`].
    CapCopyManyResult {
        /// Bit `i` set: entry `i` was copied (or, a check, passed).
        copied: u64,
        /// The error code ([`SysError::code`]) of the first entry not
        /// copied; 0 if every one was.
        first_error: u64,
    }
);

/// How [`Syscall::MemoryLend`] takes whole pages.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LendMode {
    /// Share them copy-on-write: the sender keeps its data.
    Lend = 0,
    /// Take them: the sender's objects get fresh zero pages there.
    Move = 1,
}

impl Reg for LendMode {
    const KIND: ArgKind = ArgKind::Mode;
    fn to_reg(self) -> u64 {
        self as u64
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        match reg {
            0 => Ok(LendMode::Lend),
            1 => Ok(LendMode::Move),
            _ => Err(SysError::InvalidArg),
        }
    }
}

args!(
    /// Arguments of [`Syscall::MemoryLend`].
    MemoryLendArgs for MemoryLend {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`]: pays for the
        /// new object and the copied head and tail pages.
        budget: CapSlot,
        /// The [`ObjectType::AddressSpace`] holding the bytes.
        aspace: CapSlot,
        /// First byte.
        addr: u64 as Address,
        /// Number of bytes (not 0).
        len: u64 as Length,
        /// Share or take the whole pages.
        mode: LendMode,
    }
);
results!(
    /// Results of [`Syscall::MemoryLend`].
    LendResult {
        /// The slot of the new memory object's capability.
        slot: u64,
        /// Where the first byte is in the object (`addr % 4096`).
        offset: u64,
    }
);

/// Defines the arguments of a syscall that sends a message: a slot, the
/// info word and the four register words.
macro_rules! message_args {
    ($(#[$meta:meta])* $name:ident for $call:ident, $(#[$smeta:meta])* $slot:ident : $slot_ty:ty) => {
        args!(
            $(#[$meta])*
            $name for $call {
                $(#[$smeta])*
                $slot: $slot_ty,
                /// Label, length and capability count.
                info: MessageInfo,
                /// Message word 0.
                mr0: u64,
                /// Message word 1.
                mr1: u64,
                /// Message word 2.
                mr2: u64,
                /// Message word 3.
                mr3: u64,
            }
        );
    };
}

message_args!(
    /// Arguments of [`Syscall::Send`].
    SendArgs for Send,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::NbSend`].
    NbSendArgs for NbSend,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::Call`].
    CallArgs for Call,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::Reply`].
    ReplyArgs for Reply,
    /// Ignored (the reply right is implicit).
    reserved: u64
);
message_args!(
    /// Arguments of [`Syscall::ReplyRecv`].
    ReplyRecvArgs for ReplyRecv,
    /// The [`ObjectType::Endpoint`] (with [`Rights::READ`]) to receive on.
    endpoint: CapSlot
);
args!(
    /// Arguments of [`Syscall::ReplySave`].
    ReplySaveArgs for ReplySave {
        /// Slot for the [`ObjectType::Reply`] capability, or
        /// [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
message_args!(
    /// Arguments of [`Syscall::ReplyWith`].
    ReplyWithArgs for ReplyWith,
    /// The [`ObjectType::Reply`] capability to answer through.
    reply: CapSlot
);
args!(
    /// Arguments of [`Syscall::ReplySaveRecv`].
    ReplySaveRecvArgs for ReplySaveRecv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
        /// The empty slot for the [`ObjectType::Reply`] capability (not
        /// [`CapSlot::NULL`]: the results are the receive's, so the slot
        /// must be known beforehand).
        dst: CapSlot,
        /// When the receive gives up ([`SysError::TimedOut`]), in
        /// nanoseconds on the [`Syscall::ClockRead`] clock; 0 waits for
        /// ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::Recv`].
    RecvArgs for Recv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::NbRecv`].
    NbRecvArgs for NbRecv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::Signal`].
    SignalArgs for Signal {
        /// An [`ObjectType::Notification`] capability with [`Rights::WRITE`].
        notification: CapSlot,
        /// Bits to signal (unbadged capabilities only).
        bits: u64,
    }
);
args!(
    /// Arguments of [`Syscall::Wait`].
    WaitArgs for Wait {
        /// An [`ObjectType::Notification`] capability with [`Rights::READ`].
        notification: CapSlot,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::Poll`].
    PollArgs for Poll {
        /// An [`ObjectType::Notification`] capability with [`Rights::READ`].
        notification: CapSlot,
    }
);

args!(
    /// Arguments of [`Syscall::TimerSet`].
    TimerSetArgs for TimerSet {
        /// An [`ObjectType::Notification`] capability with [`Rights::WRITE`].
        notification: CapSlot,
        /// When, in nanoseconds since boot; 0 disarms.
        deadline: u64 as Deadline,
        /// Bits to signal.
        bits: u64,
    }
);

/// A count that wakes (or moves) every waiter ([`Syscall::FutexWake`],
/// [`Syscall::FutexRequeue`]).
pub const FUTEX_ALL: u64 = u64::MAX;

args!(
    /// Arguments of [`Syscall::FutexWait`].
    FutexWaitArgs for FutexWait {
        /// User address of the 32-bit word, 4-byte aligned.
        addr: u64 as Address,
        /// The value the word must hold for the caller to wait.
        expected: u32,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::FutexWake`].
    FutexWakeArgs for FutexWake {
        /// User address of the 32-bit word, 4-byte aligned.
        addr: u64 as Address,
        /// Most threads to wake (not 0; [`FUTEX_ALL`] for every one).
        count: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::FutexRequeue`].
    FutexRequeueArgs for FutexRequeue {
        /// User address of the 32-bit word whose waiters are woken or moved.
        addr: u64 as Address,
        /// Most of them to wake.
        wake_count: u64 as Count,
        /// User address of the 32-bit word the others move to.
        addr2: u64 as Address,
        /// Most of them to move ([`FUTEX_ALL`] for every one).
        requeue_count: u64 as Count,
        /// The value the word at `addr` must hold.
        expected: u32,
    }
);
results!(
    /// Results of [`Syscall::FutexWake`].
    FutexWoken {
        /// Threads woken.
        woken: u64,
    }
);
results!(
    /// Results of [`Syscall::FutexRequeue`].
    FutexRequeued {
        /// Threads woken.
        woken: u64,
        /// Threads moved to the second word.
        requeued: u64,
    }
);

results!(
    /// Results of a receive ([`Syscall::Recv`], [`Syscall::Call`]'s reply, ...).
    RecvResult {
        /// The badge of the sender's capability (0 if unbadged or a reply),
        /// or the signal bits when `info` is [`MessageInfo::NOTIFICATION`].
        badge: u64,
        /// The received [`MessageInfo`] register.
        info: u64,
        /// Message word 0.
        mr0: u64,
        /// Message word 1.
        mr1: u64,
        /// Message word 2.
        mr2: u64,
        /// Message word 3.
        mr3: u64,
    }
);
results!(
    /// Results of [`Syscall::Wait`] and [`Syscall::Poll`].
    Signals {
        /// The notification word (now cleared).
        bits: u64,
    }
);

/// A thread's user registers, for [`Syscall::ThreadReadRegs`] and
/// [`Syscall::ThreadWriteRegs`].
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[allow(missing_docs)]
pub struct ThreadRegs {
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    /// FS base (TLS).
    pub fs_base: u64,
    /// GS base.
    pub gs_base: u64,
}

/// The `rflags` bits [`Syscall::ThreadWriteRegs`] takes from the caller:
/// CF, PF, AF, ZF, SF, DF and OF (never TF, IF or IOPL).
pub const USER_RFLAGS_MASK: u64 = 0x0cd5;

results!(
    /// Results of syscalls that return nothing.
    NoResult {}
);
results!(
    /// Results of [`Syscall::DebugFrameCount`].
    FrameCount {
        /// Frames free right now.
        free: u64,
        /// Frames the allocator manages.
        total: u64,
        /// Page faults of the caller's address space the kernel has
        /// resolved (each mapped what the touch needed; faults it could
        /// not resolve are not counted).
        resolved_faults: u64,
    }
);
results!(
    /// Results of [`Syscall::DebugLogRead`].
    LogRead {
        /// Position of the first byte copied (past `cursor` when the
        /// bytes in between were overwritten).
        start: u64,
        /// Bytes copied into the buffer.
        copied: u64,
        /// Position just past the newest byte logged: the log's length.
        end: u64,
    }
);
results!(
    /// Results of syscalls that fill a capability slot.
    SlotResult {
        /// The slot that now holds the new capability.
        slot: u64,
    }
);
results!(
    /// Results of [`Syscall::ClockRead`].
    ClockTime {
        /// Nanoseconds since boot.
        nanos: u64,
    }
);

/// How a thread ended, in [`ThreadStatus::kind`].
pub mod exit_kind {
    /// It called [`super::Syscall::ThreadExit`]; `code` is its exit code.
    pub const EXITED: u64 = 1;
    /// The kernel killed it for a fault it could not resolve; `code` is the
    /// CPU exception vector.
    pub const FAULTED: u64 = 2;
}

results!(
    /// Results of [`Syscall::ThreadWait`].
    ThreadStatus {
        /// One of [`exit_kind`].
        kind: u64,
        /// The exit code, or the exception vector for a fault.
        code: u64,
        /// The exception's error code (faults only).
        error_code: u64,
        /// The instruction pointer at the fault (faults only).
        rip: u64,
        /// The faulting address (`cr2`) for a page fault (faults only).
        addr: u64,
    }
);

/// What [`Syscall::CapInfo`] writes to user memory.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
pub struct CapInfo {
    /// The object type's code ([`ObjectType::to_reg`]).
    pub object_type: u32,
    /// The capability's rights ([`Rights::bits`]).
    pub rights: u32,
    /// The badge (0 when unbadged).
    pub badge: u64,
}

impl CapInfo {
    /// The object type, if the code is known.
    pub fn object_type(&self) -> Option<ObjectType> {
        ObjectType::from_reg(u64::from(self.object_type)).ok()
    }
}
