//! Syscall numbers and the register encoding of every syscall's arguments
//! and results, side by side, so the kernel's decoder and the runtime's
//! encoder are the same code.
//!
//! # Calling convention
//! `syscall` with the number in `rax` and up to six arguments in
//! `rdi, rsi, rdx, r10, r8, r9` ([`ArgRegs`]). On return `rax` holds the
//! status (0, or a [`SysError`] code) and up to six results are in
//! `rdi, rsi, rdx, r10, r8, r9` ([`RetRegs`]). `rcx` and `r11` are clobbered (the
//! `syscall` instruction uses them); every other register, and the FPU/SSE
//! state, is preserved. Argument registers a syscall does not use are ignored.
//!
//! Every syscall that names an object does so through a capability slot
//! ([`CapSlot`]) in the caller's capability space: there is no ambient
//! authority. Every syscall that takes a capability can fail with
//! [`SysError::InvalidCap`] (slot 0, out of range, empty, or a register
//! value above 32 bits); those that need a particular object type or right
//! also with [`SysError::WrongType`] and [`SysError::MissingRights`]. Each
//! variant below lists the rest, in the order the kernel checks them.

// The documentation's links name these.
#[cfg(doc)]
use crate::ipc::MessageInfo;
#[cfg(doc)]
use crate::{CapSlot, MapFlags, ObjectType, Rights, SysError};

#[macro_use]
mod encoding;
// The argument and result structs, one file per family of syscalls (the
// groups of numbers below); every item is re-exported here.
mod cap;
mod clock;
mod common;
mod debug;
mod device;
mod futex;
mod ipc;
mod memory;
mod notification;
#[cfg(test)]
mod tests;
mod thread;

pub use cap::*;
pub use clock::*;
pub use common::*;
pub use debug::*;
pub use device::*;
pub use encoding::*;
pub use futex::*;
pub use ipc::*;
pub use memory::*;
pub use notification::*;
pub use thread::*;

/// The argument registers `rdi, rsi, rdx, r10, r8, r9`, in that order.
pub type ArgRegs = [u64; 6];
/// The result registers `rdi, rsi, rdx, r10, r8, r9`, in that order.
pub type RetRegs = [u64; 6];

/// Every syscall, with its number.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syscall {
    // Null and the debug object: 0..16.
    /// Does nothing and returns success: the cost of entering and leaving
    /// the kernel. No arguments, no capability, no errors.
    Null = 0,
    /// Writes bytes to the kernel's debug console (QEMU's debugcon, port 0xe9).
    ///
    /// Arguments: [`DebugWriteArgs`]. Rights: [`Rights::WRITE`] on a
    /// [`ObjectType::Debug`] capability. Errors: [`SysError::InvalidArg`] if
    /// the buffer is longer than [`DEBUG_WRITE_MAX_BYTES`];
    /// [`SysError::BadAddress`] if it is not readable user memory.
    DebugWrite = 1,
    /// Ends the QEMU run with an exit code (through the `isa-debug-exit`
    /// device); returns only if no such device exists.
    ///
    /// Arguments: [`DebugExitArgs`]. Rights: [`Rights::CONTROL`] on a
    /// [`ObjectType::Debug`] capability. Errors: [`SysError::InvalidArg`] if
    /// the code is 64 or more; [`SysError::PeerClosed`] if the device is absent.
    DebugExit = 2,
    /// Reports the kernel's free and total physical frames.
    ///
    /// Arguments: [`DebugFrameCountArgs`]; results: [`FrameCount`]. Rights:
    /// [`Rights::READ`] on a [`ObjectType::Debug`] capability.
    DebugFrameCount = 3,
    /// Reports kernel event counters (for tests and benchmarks).
    ///
    /// Arguments: [`DebugCountersArgs`]; results: [`KernelCounters`].
    /// Rights: [`Rights::READ`] on a [`ObjectType::Debug`] capability.
    DebugCounters = 4,
    /// Copies bytes of the kernel log (its `klog!` lines, the last
    /// [`KERNEL_LOG_BYTES`] of them) from position `cursor` of the log's
    /// whole history: `dmesg`. Bytes already overwritten are skipped: the
    /// copy starts at the oldest kept byte at or after `cursor`, and the
    /// results say where. A `cursor` at or past the end copies nothing.
    ///
    /// Arguments: [`DebugLogReadArgs`]; results: [`LogRead`]. Rights:
    /// [`Rights::READ`] on a [`ObjectType::Debug`] capability. Errors:
    /// [`SysError::InvalidArg`] if the buffer is longer than
    /// [`DEBUG_LOG_READ_MAX_BYTES`]; [`SysError::BadAddress`] if it is not
    /// in user space or the part the copy fills is not writable.
    DebugLogRead = 5,

    // Capabilities and capability spaces: 16..32.
    /// Copies a capability (of any type) with the same or fewer rights,
    /// into the caller's or another capability space. The copy is derived
    /// from the source: revoking the source deletes it.
    ///
    /// Arguments: [`CapCopyArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on a destination [`ObjectType::CSpace`] other than
    /// the caller's, and then [`Rights::GRANT`] on the source. Errors:
    /// [`SysError::InvalidArg`] if `rights` has unknown bits;
    /// [`SysError::MissingRights`] if `rights` is not a subset of the
    /// source's rights; [`SysError::InvalidCap`] if a named destination
    /// slot is out of range or full; [`SysError::OutOfMemory`] if no slot
    /// is free.
    CapCopy = 16,
    /// Like [`Syscall::CapCopy`], and also sets a badge: only on an
    /// unbadged [`ObjectType::Endpoint`] or [`ObjectType::Notification`]
    /// capability, and the badge must not be 0.
    ///
    /// Arguments: [`CapMintArgs`]; results: [`SlotResult`]. Errors as
    /// [`Syscall::CapCopy`], plus [`SysError::InvalidArg`] for a badge of 0,
    /// a badge on another object type or on an already badged capability.
    CapMint = 17,
    /// Moves a capability to another slot, of the caller's or another
    /// capability space; it keeps its place in the derivation tree.
    ///
    /// Arguments: [`CapMoveArgs`]; results: [`SlotResult`]. Rights and
    /// errors as [`Syscall::CapCopy`] (a move to another space needs
    /// [`Rights::GRANT`] on the capability).
    CapMove = 18,
    /// Empties a slot (of any type). Capabilities derived from it stay
    /// (they become derived from its parent). Deleting the last capability
    /// to an object destroys it: a thread stops (wherever it was blocked)
    /// and is freed, an endpoint or notification wakes its waiters with
    /// [`SysError::PeerClosed`] (a thread waiting to deliver a fault message
    /// ends with its fault), a capability space deletes its slots, an
    /// address space drops its regions and frees its page tables, a memory
    /// object releases its pages, a budget refunds its parent once nothing
    /// is charged to it. (The debug and device-memory objects and the root
    /// budget never go away.) A slot a revoke left taken (below) is freed.
    /// Arguments: [`CapDeleteArgs`].
    CapDelete = 19,
    /// Deletes every capability derived from the one in `slot`, in every
    /// capability space; the capability itself stays. Each slot it empties
    /// stays taken, by a placeholder that names nothing, until its holder
    /// deletes it: every use of it but `CapDelete` answers
    /// [`SysError::InvalidCap`], and no new capability lands there, so a
    /// program that kept the slot's number never comes to use or delete a
    /// capability the slot got later. Preemptible: a long revoke lets
    /// interrupts in and carries on where it stopped.
    /// Arguments: [`CapRevokeArgs`].
    CapRevoke = 20,
    /// Writes a [`CapInfo`] describing a slot's capability to user memory.
    ///
    /// Arguments: [`CapInfoArgs`]. Errors: [`SysError::BadAddress`] if the
    /// destination is not writable user memory.
    CapInfo = 21,
    /// Creates a capability space with room for `slots` capabilities
    /// (slot 0 included, which never holds one).
    ///
    /// Arguments: [`CSpaceCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on an [`ObjectType::Budget`]. Errors:
    /// [`SysError::InvalidArg`] if `slots` is below 2 or above
    /// [`CSPACE_MAX_SLOTS`]; [`SysError::OutOfMemory`].
    CSpaceCreate = 22,
    /// Takes the capability in `slot`, and everything derived from it, out
    /// from under `ancestor` (of which it must be derived, directly or
    /// not): it becomes `ancestor`'s sibling, so revoking `ancestor` no
    /// longer reaches it while revoking anything above `ancestor` still
    /// does. A process server uses it to let a process's own objects go
    /// while its children, paid from its budget, run on.
    ///
    /// Arguments: [`CapDetachArgs`]. Errors: [`SysError::InvalidArg`] if
    /// `slot` is not derived from `ancestor`.
    CapDetach = 23,
    /// Empties every full slot of `count` slots from `first` in the
    /// caller's capability space, each as [`Syscall::CapDelete`] would;
    /// empty slots are skipped at no cost (the space keeps a bitmap of its
    /// full slots). `exec` uses it to clear the capability space around
    /// the few capabilities it keeps. Preemptible as [`Syscall::CapRevoke`].
    ///
    /// Arguments: [`CapDeleteRangeArgs`]. No capability is named, so none
    /// needs rights. Errors: [`SysError::InvalidCap`] if `first` does not
    /// fit in 32 bits; [`SysError::InvalidArg`] if `first` is 0, `count`
    /// is 0, or the range passes the end of the caller's space.
    CapDeleteRange = 24,
    /// Copies up to [`CAP_COPY_MANY_MAX`] capabilities from the caller's
    /// space into one capability space, as that many [`Syscall::CapCopy`]s
    /// to named slots would, in one call: a loader hands a new program its
    /// capabilities with it. Each [`CapCopyEntry`] may also ask that the
    /// source hold a given object type (so no [`Syscall::CapInfo`] is
    /// needed first), and may give its rights as a mask (the copy gets the
    /// source's rights among them) rather than exactly, or may only check
    /// its source, copying nothing ([`cap_copy_mode::CHECK`]: `exec`
    /// checks the capabilities a new program keeps so). The entries are
    /// done in order; one that fails is skipped (the others still happen)
    /// and the results say which were copied and why the first one that
    /// was not failed. Not preemptible: the count is bounded.
    ///
    /// Arguments: [`CapCopyManyArgs`]; results: [`CapCopyManyResult`].
    /// Rights: [`Rights::WRITE`] on a destination [`ObjectType::CSpace`]
    /// other than the caller's, and then [`Rights::GRANT`] on each source.
    /// Errors of the call (nothing is copied): [`SysError::InvalidArg`]
    /// for a count of 0 or more than [`CAP_COPY_MANY_MAX`];
    /// [`SysError::BadAddress`] if the entries are not readable; those of
    /// looking up the destination space ([`SysError::InvalidCap`],
    /// [`SysError::WrongType`], [`SysError::MissingRights`]). Errors of an
    /// entry (in the results): [`SysError::InvalidArg`] for unknown rights
    /// bits, an unknown mode, a destination slot of 0 (not 0 for a check)
    /// or an unknown type;
    /// [`SysError::InvalidCap`] for an empty source or a destination slot
    /// out of range or full; [`SysError::WrongType`] if the source is not
    /// of the type asked; [`SysError::MissingRights`] as for
    /// [`Syscall::CapCopy`] (for a check: the source lacks a right asked).
    CapCopyMany = 25,

    // Threads: 32..48.
    /// Creates a thread in an address space and a capability space, and
    /// puts a capability to it (all rights) in a free slot of the caller's
    /// capability space. The thread does not run until
    /// [`Syscall::ThreadStart`]; it has the caller's priority and maximum
    /// controlled priority.
    ///
    /// Arguments: [`ThreadCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on the [`ObjectType::Budget`], the
    /// [`ObjectType::AddressSpace`] and the [`ObjectType::CSpace`].
    /// Errors: [`SysError::OutOfMemory`] if no frame or no free slot is left.
    ThreadCreate = 32,
    /// Starts a thread made by [`Syscall::ThreadCreate`] at `entry` with
    /// stack `stack`, `arg` in `rdi` (other registers zero) and FS base
    /// `tls` (GS base zero).
    ///
    /// Arguments: [`ThreadStartArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Thread`]. Errors: [`SysError::InvalidArg`] if it has
    /// already started, `entry` or `stack` is not a user address, or `tls`
    /// is not below `0x0000_8000_0000_0000`.
    ThreadStart = 33,
    /// Sets a thread's IPC buffer address (page-aligned user address, or 0
    /// for none) and its fault endpoint slot (0 for none): an exception the
    /// kernel cannot resolve is sent there as a fault message
    /// ([`crate::ipc::fault`]); without one (or if the slot holds no
    /// endpoint capability with [`Rights::WRITE`]) the thread is killed.
    ///
    /// Arguments: [`ThreadConfigureArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Thread`]. Errors: [`SysError::InvalidArg`] for an
    /// unaligned or non-user buffer address.
    ThreadConfigure = 34,
    /// Sets a thread's priority and maximum controlled priority (the
    /// highest it may give itself or others). Neither may exceed the
    /// caller's own maximum controlled priority.
    ///
    /// Arguments: [`ThreadSetPriorityArgs`]. Rights: [`Rights::WRITE`] on
    /// the [`ObjectType::Thread`]. Errors: [`SysError::InvalidArg`] for a
    /// priority at or above [`PRIORITY_LEVELS`];
    /// [`SysError::MissingRights`] for one above the caller's maximum.
    ThreadSetPriority = 35,
    /// Copies a thread's user registers (also FS and GS base) into a
    /// [`ThreadRegs`] in user memory. The thread must not be the caller.
    ///
    /// Arguments: [`ThreadReadRegsArgs`]. Rights: [`Rights::READ`] on the
    /// [`ObjectType::Thread`]. Errors: [`SysError::InvalidArg`] for the
    /// caller itself; [`SysError::BadAddress`].
    ThreadReadRegs = 36,
    /// Sets a thread's user registers from a [`ThreadRegs`] in user memory.
    /// Only the arithmetic flags and the direction flag of `rflags` are
    /// taken; interrupts stay on. The thread must not be the caller.
    ///
    /// Arguments: [`ThreadWriteRegsArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Thread`]. Errors: [`SysError::InvalidArg`] for the
    /// caller itself, or a `rip`, `rsp`, FS or GS base that is not a
    /// canonical user address; [`SysError::BadAddress`].
    ThreadWriteRegs = 37,
    /// Stops a thread from running until [`Syscall::ThreadResume`]. A
    /// blocked thread stays blocked (it can still receive a message or a
    /// reply; it returns from the syscall once resumed). Suspending the
    /// caller itself takes effect at once.
    /// Arguments: [`ThreadSuspendArgs`]. Rights: [`Rights::WRITE`].
    ThreadSuspend = 38,
    /// Lets a suspended thread run again (no effect on one that is not).
    /// Arguments: [`ThreadResumeArgs`]. Rights: [`Rights::WRITE`].
    ThreadResume = 39,
    /// Binds a thread to a notification (or unbinds it, with slot 0): a
    /// receive on any endpoint then also returns when the notification is
    /// signalled, with [`MessageInfo::NOTIFICATION`] and the bits.
    ///
    /// Arguments: [`ThreadBindArgs`]. Rights: [`Rights::WRITE`] on the
    /// thread, [`Rights::READ`] on the notification. Errors:
    /// [`SysError::InvalidArg`] if either is already bound elsewhere, or the
    /// thread has ended.
    ThreadBind = 40,
    /// Waits until a thread has ended and reports how.
    ///
    /// Arguments: [`ThreadWaitArgs`]; results: [`ThreadStatus`]. Rights:
    /// [`Rights::READ`] on an [`ObjectType::Thread`] capability. Errors:
    /// [`SysError::InvalidArg`] if the thread waits for itself;
    /// [`SysError::WouldBlock`] if another thread already waits for it.
    ThreadWait = 41,
    /// Ends the calling thread with an exit code. Never returns.
    /// Arguments: [`ThreadExitArgs`]. Needs no capability: a thread may
    /// always end itself.
    ThreadExit = 42,
    /// Gives up the rest of the time slice. No arguments, no errors.
    ThreadYield = 43,
    /// Moves the calling thread into another address space and restarts it
    /// there at `entry` with stack `stack`, `arg` in `rdi` (other registers
    /// zero), FS base `tls` and GS base zero (the FPU state is kept): the
    /// kernel half of `exec`. Does not return.
    ///
    /// Arguments: [`ThreadExecArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::AddressSpace`]. Errors: [`SysError::InvalidArg`] if
    /// `entry` or `stack` is not a user address, or `tls` is not below
    /// `0x0000_8000_0000_0000`.
    ThreadExec = 44,

    // Endpoints (IPC): 48..64.
    /// Creates an endpoint. Arguments: [`EndpointCreateArgs`]; results:
    /// [`SlotResult`]. Rights: [`Rights::WRITE`] on an
    /// [`ObjectType::Budget`]. Errors: [`SysError::OutOfMemory`].
    EndpointCreate = 48,
    /// Sends a message and waits until a receiver takes it.
    ///
    /// Arguments: [`SendArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Endpoint`], and [`Rights::GRANT`] to send capabilities
    /// (each of which also needs [`Rights::GRANT`]). Errors:
    /// [`SysError::InvalidArg`] for a bad info word (see
    /// [`MessageInfo::from_reg`]) or no IPC buffer when one is needed;
    /// [`SysError::BadAddress`] if the sender's IPC buffer is not mapped;
    /// [`SysError::InvalidCap`] for a bad capability to send;
    /// [`SysError::OutOfMemory`] if the receiver's capability space is
    /// full; [`SysError::PeerClosed`] if the endpoint is destroyed;
    /// [`SysError::TimedOut`] if the info has [`MessageInfo::with_deadline`]
    /// and the deadline in the IPC buffer ([`crate::ipc::IpcBuffer::deadline`])
    /// passes before a receiver takes the message (at once if it has
    /// passed and no receiver waits). The deadline needs an IPC buffer
    /// ([`SysError::InvalidArg`] without one, [`SysError::BadAddress`] if
    /// it is not mapped).
    Send = 49,
    /// [`Syscall::Send`] that fails with [`SysError::WouldBlock`] instead
    /// of waiting when no receiver is waiting (a deadline flag is ignored).
    NbSend = 50,
    /// Sends a message and waits for the reply; the receiver gets a
    /// one-shot reply right. Results: [`RecvResult`] (the reply, badge 0).
    /// Arguments, rights and errors as [`Syscall::Send`], plus
    /// [`SysError::PeerClosed`] if the receiver ends (or drops the reply
    /// right) without replying. A deadline bounds only the wait for a
    /// receiver: once one has taken the call, the caller waits for the
    /// reply however long it takes (the server may already have acted on
    /// the call; see `docs/ipc.md`).
    Call = 51,
    /// Waits for a message (or a bound notification's signal), until a
    /// deadline if one is given.
    ///
    /// Arguments: [`RecvArgs`]; results: [`RecvResult`].
    /// Rights: [`Rights::READ`] on the [`ObjectType::Endpoint`]. Errors:
    /// [`SysError::BadAddress`] if a long message or capabilities arrive
    /// and the IPC buffer is missing or not writable (the message stays
    /// with its sender); [`SysError::PeerClosed`] if the endpoint is
    /// destroyed; [`SysError::TimedOut`] if the deadline passes first (at
    /// once if it has passed and nothing is there to receive).
    Recv = 52,
    /// [`Syscall::Recv`] that fails with [`SysError::WouldBlock`] instead
    /// of waiting.
    NbRecv = 53,
    /// Answers the last call received, through the one-shot reply right.
    ///
    /// Arguments: [`ReplyArgs`]. Errors: as
    /// [`Syscall::Send`] for the message; [`SysError::InvalidCap`] if there
    /// is no reply right (none received, or already used);
    /// [`SysError::PeerClosed`] if the caller has gone.
    Reply = 54,
    /// [`Syscall::Reply`], then [`Syscall::Recv`]: the server loop in one
    /// syscall. A reply to a caller that has gone is dropped and the
    /// receive goes ahead. Results: [`RecvResult`]. With
    /// [`MessageInfo::with_deadline`], the deadline in the IPC buffer
    /// bounds the receive ([`SysError::TimedOut`]; the reply has gone by then).
    ReplyRecv = 55,
    /// Saves the calling thread's reply right in a new
    /// [`ObjectType::Reply`] capability of its own capability space, so
    /// that the caller keeps waiting while the thread receives other
    /// calls; [`Syscall::ReplyWith`] answers it later. Afterwards the
    /// thread holds no reply right.
    ///
    /// Arguments: [`ReplySaveArgs`]; results: [`SlotResult`]. Errors, in
    /// order: [`SysError::InvalidCap`] if there is no reply right;
    /// [`SysError::InvalidArg`] if it answers a fault message (those are
    /// not saved; the right is kept); [`SysError::PeerClosed`] if the
    /// caller has gone (the right is used up); [`SysError::InvalidCap`]
    /// for a named `dst` out of range or full, [`SysError::OutOfMemory`]
    /// if no slot is free (the right is kept).
    ReplySave = 56,
    /// Answers the caller saved in an [`ObjectType::Reply`] capability,
    /// with a message as [`Syscall::Reply`] sends one, and empties the
    /// slot. Deleting the capability instead answers the caller with
    /// [`SysError::PeerClosed`].
    ///
    /// Arguments: [`ReplyWithArgs`]. Errors: [`SysError::InvalidCap`] and
    /// [`SysError::WrongType`] for the slot; those of [`Syscall::Reply`]
    /// for the message (the capability is kept, to try again);
    /// [`SysError::PeerClosed`] if the caller has gone (the slot is
    /// emptied).
    ReplyWith = 57,
    /// [`Syscall::ReplySave`] into a named slot, then [`Syscall::Recv`]: a
    /// server that cannot answer a call yet keeps it and waits for the
    /// next one in one syscall. The reply right becomes a Reply
    /// capability in `dst`; a right whose caller has already gone leaves a
    /// dead one there (as if the caller had ended just after the save),
    /// so `dst` holds a Reply capability whenever the receive was reached.
    ///
    /// Arguments: [`ReplySaveRecvArgs`]; results: [`RecvResult`]. Rights:
    /// [`Rights::READ`] on the [`ObjectType::Endpoint`]. Errors, in order,
    /// with nothing saved or received: those of the endpoint capability;
    /// [`SysError::InvalidArg`] for a NULL `dst`; [`SysError::InvalidCap`]
    /// if there is no reply right; [`SysError::InvalidArg`] if it answers
    /// a fault message (the right is kept); [`SysError::InvalidCap`] for a
    /// `dst` out of range or full (the right is kept). Then, with the
    /// reply saved in `dst`, those of [`Syscall::Recv`]:
    /// [`SysError::BadAddress`], [`SysError::PeerClosed`] (the endpoint is
    /// destroyed), [`SysError::TimedOut`].
    ReplySaveRecv = 58,
    /// Has the kernel tell a server when a client's capabilities are all
    /// gone. From now on, when a capability to `endpoint` minted with
    /// [`crate::ipc::WATCH_BADGE`] in its badge straight from an unbadged
    /// one (the server's own record of what it gave a client) loses the
    /// last capability derived from it, the kernel deletes it and signals
    /// `notification` with bit `badge % 64`. A NULL `notification` stops
    /// it.
    ///
    /// Arguments: [`EndpointWatchArgs`]. Rights: [`Rights::READ`] and
    /// [`Rights::WRITE`] on the [`ObjectType::Endpoint`];
    /// [`Rights::WRITE`] on the [`ObjectType::Notification`]. Errors:
    /// [`SysError::InvalidArg`] for a badged endpoint capability.
    EndpointWatch = 59,

    // Notifications: 64..80.
    /// Creates a notification (word 0). Arguments: [`NotificationCreateArgs`];
    /// results: [`SlotResult`]. Rights: [`Rights::WRITE`] on an
    /// [`ObjectType::Budget`]. Errors: [`SysError::OutOfMemory`].
    NotificationCreate = 64,
    /// ORs bits into a notification's word and wakes a waiter. A badged
    /// capability signals its badge (`bits` must then be 0); an unbadged
    /// one signals `bits` (not 0).
    ///
    /// Arguments: [`SignalArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Notification`]. Errors: [`SysError::InvalidArg`] for
    /// bits on a badged capability or 0 bits on an unbadged one.
    Signal = 65,
    /// Waits until a notification's word is not 0 (or a deadline passes),
    /// then returns it and clears it. Arguments: [`WaitArgs`]; results:
    /// [`Signals`]. Rights: [`Rights::READ`]. Errors:
    /// [`SysError::PeerClosed`] if the notification is destroyed;
    /// [`SysError::TimedOut`] if the deadline passes first (at once if it
    /// has passed and the word is 0).
    Wait = 66,
    /// Returns a notification's word (possibly 0) and clears it, without
    /// waiting. Arguments: [`PollArgs`]; results: [`Signals`]. Rights:
    /// [`Rights::READ`].
    Poll = 67,

    // Budgets, memory objects and address spaces: 80..96.
    /// Makes a child budget of `frames` frames from a budget: the child's
    /// frames (and the frame of the child budget object itself) are
    /// charged to the parent until the child is destroyed. The new
    /// capability is derived from the parent's, so revoking the parent
    /// destroys the child and everything made from it.
    ///
    /// Arguments: [`BudgetSplitArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on the [`ObjectType::Budget`]. Errors:
    /// [`SysError::InvalidArg`] for 0 frames; [`SysError::OutOfMemory`] if
    /// the parent cannot pay `frames + 1` or no slot is free.
    BudgetSplit = 80,
    /// Reports a budget's limit and the frames charged to it.
    ///
    /// Arguments: [`BudgetInfoArgs`]; results: [`BudgetStatus`]. Rights:
    /// [`Rights::READ`] on the [`ObjectType::Budget`].
    BudgetInfo = 81,
    /// Creates an anonymous memory object of `pages` pages. No page exists
    /// yet: each is allocated (zeroed, and charged to the budget) when a
    /// mapping of it is first touched.
    ///
    /// Arguments: [`MemoryCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on an [`ObjectType::Budget`]. Errors:
    /// [`SysError::InvalidArg`] if `pages` is 0 or above
    /// [`MEMORY_MAX_PAGES`]; [`SysError::OutOfMemory`].
    MemoryCreate = 82,
    /// Creates a memory object for a range of device registers (MMIO):
    /// `pages` pages of physical memory from `phys`, mapped uncached. The
    /// range must lie outside every RAM range of the memory map.
    ///
    /// Arguments: [`MemoryCreateDeviceArgs`]; results: [`SlotResult`].
    /// Rights: [`Rights::WRITE`] on the [`ObjectType::Budget`] and on the
    /// [`ObjectType::DeviceMemory`]. Errors: [`SysError::InvalidArg`] for an
    /// unaligned, empty, overflowing or too large range, or one that
    /// touches RAM or the local APIC's or an I/O APIC's registers (the
    /// kernel drives those); [`SysError::OutOfMemory`].
    MemoryCreateDevice = 83,
    /// Changes the number of pages of an anonymous memory object. Shrinking
    /// unmaps the cut pages from every address space and frees them
    /// (regions past the new end fault). Growing adds absent pages.
    ///
    /// Arguments: [`MemoryResizeArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::MemoryObject`]. Errors: [`SysError::InvalidArg`] for 0
    /// or more than [`MEMORY_MAX_PAGES`] pages, or a device object;
    /// [`SysError::OutOfMemory`] if the object's budget cannot pay for the
    /// bookkeeping of the larger size.
    MemoryResize = 84,
    /// Makes a read-only memory object from the bytes `[addr, addr + len)`
    /// of an address space, for sending in a message: whole pages are
    /// shared copy-on-write ([`LendMode::Lend`]) or taken from the address
    /// space's objects, which see fresh zero pages there afterwards
    /// ([`LendMode::Move`]); a partial first or last page is copied into a
    /// fresh page with the bytes outside the range zeroed. Nothing the
    /// sender does afterwards changes the object. The capability has
    /// [`Rights::READ`] and [`Rights::GRANT`] only.
    ///
    /// Arguments: [`MemoryLendArgs`]; results: [`LendResult`]. Rights:
    /// [`Rights::WRITE`] on the [`ObjectType::Budget`]; [`Rights::READ`] on
    /// the [`ObjectType::AddressSpace`] ([`Rights::WRITE`] too to move).
    /// Errors: [`SysError::InvalidArg`] for 0 bytes, more than
    /// [`MEMORY_MAX_PAGES`] pages, or a range outside user space;
    /// [`SysError::BadAddress`] if a byte is not in a readable region (or,
    /// to move, a writable one); [`SysError::OutOfMemory`].
    MemoryLend = 85,
    /// Creates an empty address space (the kernel half shared).
    /// Arguments: [`AspaceCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on an [`ObjectType::Budget`]. Errors:
    /// [`SysError::OutOfMemory`].
    AspaceCreate = 86,
    /// Maps `pages` pages of a memory object, from page `offset`, at
    /// `vaddr` in an address space: a region. Pages are mapped when first
    /// touched (a region of at most 16 pages gets the object's present
    /// pages at once). Writable and executable together needs
    /// [`Rights::CONTROL`] on the memory object; an object can be mapped in
    /// at most 64 address spaces at once.
    ///
    /// Arguments: [`AspaceMapArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::AddressSpace`]; [`Rights::READ`] on the
    /// [`ObjectType::MemoryObject`], and [`Rights::WRITE`] too for a
    /// writable mapping. Errors: [`SysError::InvalidArg`] for bad flags
    /// (see [`MapFlags::from_reg`]), an unaligned or non-user range, 0
    /// pages, a range past the object's end, or a page already mapped;
    /// [`SysError::OutOfMemory`].
    AspaceMap = 87,
    /// Unmaps `pages` pages from `vaddr`: regions inside the range go,
    /// regions that cross its ends are cut (a region around the whole
    /// range is split in two). Holes in the range are allowed. Each region
    /// removed drops its reference on its memory object; the pages stay
    /// with the object.
    ///
    /// Arguments: [`AspaceUnmapArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::AddressSpace`]. Errors: [`SysError::InvalidArg`] for
    /// an unaligned, empty, overflowing or non-user range, or one with
    /// nothing mapped; [`SysError::OutOfMemory`] if a split needs a region
    /// entry and the address space has none left.
    AspaceUnmap = 88,
    /// Changes the access of `pages` pages from `vaddr`, which must all be
    /// mapped; regions that cross the range's ends are split. The new
    /// access must be allowed by the rights of the memory-object
    /// capability each region was mapped with.
    ///
    /// Arguments: [`AspaceProtectArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::AddressSpace`]. Errors: [`SysError::InvalidArg`] for a
    /// bad range, a hole in it, bad flags or [`MapFlags::SHARE`];
    /// [`SysError::MissingRights`] for access the mapping's rights do not
    /// allow; [`SysError::OutOfMemory`] if a split finds no free region entry.
    AspaceProtect = 89,
    /// Makes a copy of an address space, as `fork` needs: every region is
    /// mapped at the same address in the new space, shared if it was mapped
    /// with [`MapFlags::SHARE`], else as a copy-on-write copy of its memory
    /// object (both sides then see their own pages; a page is copied on the
    /// first write by either side). No page is copied here.
    ///
    /// Arguments: [`AspaceCloneArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on the [`ObjectType::Budget`], [`Rights::READ`] and
    /// [`Rights::WRITE`] on the [`ObjectType::AddressSpace`]. Errors:
    /// [`SysError::OutOfMemory`] (nothing is kept).
    AspaceClone = 90,
    /// Makes every page of `pages` pages from `vaddr` present, as a touch
    /// would: a writable region's pages as a write makes them (a hole gets
    /// a zeroed page, a copy-on-write page is copied), other regions'
    /// pages as a read does. A program commits memory with it before using
    /// it, so that running out of budget is an error it can handle rather
    /// than a fault on first touch (like Linux's `MAP_POPULATE`). Not
    /// preemptible: one call does at most [`POPULATE_MAX_PAGES`] pages.
    ///
    /// Arguments: [`AspacePopulateArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::AddressSpace`]. Errors: [`SysError::InvalidArg`] for
    /// an unaligned, empty, too long, overflowing or non-user range, then
    /// for a page in no region or past its memory object's end (nothing is
    /// done then); [`SysError::OutOfMemory`] if a page or page table cannot
    /// be paid for (the pages before it stay present).
    AspacePopulate = 91,

    // Time: 96..112.
    /// Reads the monotonic clock. Results: [`ClockTime`]. Needs no
    /// capability: time since boot is not authority. No errors.
    ClockRead = 96,
    /// Arms a notification's timer: when the clock reaches `deadline`
    /// (nanoseconds on the [`Syscall::ClockRead`] clock; a one-shot timer,
    /// never early) the notification is signalled with `bits`. A deadline of 0 disarms it;
    /// arming again replaces the previous deadline.
    ///
    /// Arguments: [`TimerSetArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Notification`]. Errors: [`SysError::InvalidArg`] for 0
    /// bits with a deadline.
    TimerSet = 97,

    // Futexes: 112..128.
    /// Waits on the 32-bit word at `addr` while it holds `expected`, until
    /// a [`Syscall::FutexWake`] (or [`Syscall::FutexRequeue`]) on the same
    /// word wakes it or the deadline passes. The word is found by its
    /// physical page and offset, so every address space that maps the page
    /// shares the futex; a private page that copy-on-write later copies is
    /// another page, and another futex. The comparison and the wait happen
    /// under the kernel lock, so a wake that follows a change of the word
    /// is never missed. Waiters wake in priority order, FIFO among equals.
    ///
    /// Needs no capability: the caller's address space is the authority
    /// (it can only wait on memory it can read). The page is faulted in as
    /// a write would (as a read in a read-only region), so a copy-on-write
    /// page becomes the caller's own first.
    ///
    /// Arguments: [`FutexWaitArgs`]. Errors: [`SysError::InvalidArg`] if
    /// `expected` does not fit in 32 bits; [`SysError::BadAddress`] if
    /// `addr` is not 4-byte aligned, not a user address, in no region (or
    /// past its object's end), or in device memory;
    /// [`SysError::OutOfMemory`] if the page cannot be paid for;
    /// [`SysError::WouldBlock`] if the word is not `expected` (at once);
    /// [`SysError::TimedOut`] if the deadline passes first (at once if it
    /// has passed); [`SysError::BadAddress`] also if the word's page is
    /// freed while the caller waits (its memory object shrank or was
    /// destroyed after it was unmapped).
    FutexWait = 112,
    /// Wakes up to `count` threads waiting on the word at `addr` (by
    /// [`Syscall::FutexWait`]), the most urgent first, FIFO among equals.
    /// Needs no capability.
    ///
    /// Arguments: [`FutexWakeArgs`]; results: [`FutexWoken`]. Errors:
    /// [`SysError::InvalidArg`] for a `count` of 0 ([`FUTEX_ALL`] wakes
    /// every waiter); [`SysError::BadAddress`] and
    /// [`SysError::OutOfMemory`] as for [`Syscall::FutexWait`].
    FutexWake = 113,
    /// If the word at `addr` holds `expected`, wakes up to `wake_count` of
    /// its waiters and moves up to `requeue_count` of the rest to wait on
    /// the word at `addr2` instead (behind that word's waiters of equal or
    /// higher priority; their deadlines stay). A condition variable's
    /// broadcast uses it to move the waiters to the mutex word rather than
    /// wake them all at once. Needs no capability.
    ///
    /// Arguments: [`FutexRequeueArgs`]; results: [`FutexRequeued`].
    /// Errors: [`SysError::InvalidArg`] if both counts are 0, `expected`
    /// does not fit in 32 bits, or both addresses name the same word;
    /// [`SysError::BadAddress`] and [`SysError::OutOfMemory`] as for
    /// [`Syscall::FutexWait`] (for either address);
    /// [`SysError::WouldBlock`] if the word at `addr` is not `expected`
    /// (nothing is woken or moved).
    FutexRequeue = 114,
    // Devices: 128..144.
    /// Makes an [`ObjectType::IoPorts`] object for the `count` ports from
    /// `base`, inside the range of `parent`: the [`ObjectType::IoSpace`]
    /// (every port) or another [`ObjectType::IoPorts`] (so a supervisor
    /// can hand out part of a range it holds). Threads bound to it ([`Syscall::IoPortsBind`]) run `in` and
    /// `out` on those ports directly (the TSS I/O permission bitmap), with
    /// no syscall; any other port faults them (#GP, to their fault
    /// endpoint). Ports the kernel uses itself ([`KERNEL_IO_PORTS`]) are
    /// never granted.
    ///
    /// Arguments: [`IoPortsCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on the parent and on the [`ObjectType::Budget`].
    /// Errors: [`SysError::WrongType`] for a parent of another type;
    /// [`SysError::InvalidArg`] if `count` is 0, or the range passes port
    /// 0xffff, leaves the parent's range or overlaps a kernel port;
    /// [`SysError::OutOfMemory`].
    IoPortsCreate = 128,
    /// Lets a thread use an I/O port range. A thread holds at most
    /// [`IO_PORTS_PER_THREAD`] ranges, and a range is bound to at most
    /// [`THREADS_PER_IO_PORTS`] threads. Deleting the last capability to
    /// the range unbinds it from every thread at once.
    ///
    /// Arguments: [`IoPortsBindArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::IoPorts`] and on the [`ObjectType::Thread`]. Errors:
    /// [`SysError::InvalidArg`] if the thread already holds this range or
    /// has ended; [`SysError::OutOfMemory`] if either side is full.
    IoPortsBind = 129,
    /// Takes an I/O port range away from a thread: its next `in` or `out`
    /// on those ports faults.
    ///
    /// Arguments: [`IoPortsUnbindArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::IoPorts`] and on the [`ObjectType::Thread`]. Errors:
    /// [`SysError::InvalidArg`] if the thread does not hold the range.
    IoPortsUnbind = 130,
    /// Makes an [`ObjectType::Irq`] for one interrupt line ([`IrqSource`]:
    /// an ISA IRQ, routed as the ACPI MADT says, or a GSI of an I/O APIC
    /// with its trigger and polarity), routed to the boot CPU and masked
    /// until [`Syscall::IrqBind`] gives it a notification. One object per
    /// line. ISA IRQs 0 (the kernel's timer) and 2 (the 8259 cascade), and
    /// the GSI IRQ 0 arrives on, are never granted.
    ///
    /// Arguments: [`IrqCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on the [`ObjectType::IrqControl`] and on the
    /// [`ObjectType::Budget`]. Errors: [`SysError::InvalidArg`] for a
    /// malformed source, a line the kernel keeps, a line no I/O APIC has
    /// (or no I/O APIC at all), or a line already made into an object;
    /// [`SysError::OutOfMemory`] (also when no interrupt vector is free).
    IrqCreate = 131,
    /// Delivers the line to a notification: when it fires, the kernel
    /// masks it and signals the notification with the capability's badge
    /// (or, unbadged, with `bits`); the line stays masked until
    /// [`Syscall::IrqAck`]. A null notification slot unbinds it (the line
    /// is masked). If the line fires with no notification (never bound,
    /// or the notification was destroyed), it is masked and the kernel
    /// logs it once; it never storms.
    ///
    /// Arguments: [`IrqBindArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Irq`] and on the [`ObjectType::Notification`].
    /// Errors: [`SysError::InvalidArg`] if neither or both of the badge
    /// and `bits` are non-zero (as for [`Syscall::Signal`]).
    IrqBind = 132,
    /// The driver has served the device: the line is unmasked (if it was
    /// masked by a delivery), so the next interrupt can come.
    ///
    /// Arguments: [`IrqAckArgs`]. Rights: [`Rights::WRITE`] on the
    /// [`ObjectType::Irq`]. Errors: only those of the capability.
    IrqAck = 133,
}

/// The per-syscall tables, from one list: [`Syscall::arg_kinds`] (each
/// syscall's argument struct, checked at compile time to be that
/// syscall's) and [`Syscall::name`].
macro_rules! syscall_table {
    ($($call:ident => $args:ident),* $(,)?) => {
        impl Syscall {
            /// What each argument register holds (from the syscall's
            /// argument struct: [`SyscallArgs::KINDS`]).
            pub const fn arg_kinds(self) -> &'static [ArgKind] {
                match self {
                    $(Syscall::$call => {
                        const _: () = assert!(matches!(
                            <$args as SyscallArgs>::SYSCALL,
                            Syscall::$call
                        ));
                        <$args as SyscallArgs>::KINDS
                    }),*
                }
            }

            /// The syscall's name, as in [`Syscall`].
            pub const fn name(self) -> &'static str {
                match self {
                    $(Syscall::$call => stringify!($call)),*
                }
            }
        }
    };
}

/// [`Syscall::from_number`]'s table: the syscall with each number.
const BY_NUMBER: [Option<Syscall>; Syscall::NUMBER_LIMIT as usize] = {
    let mut table = [None; Syscall::NUMBER_LIMIT as usize];
    let mut i = 0;
    while i < Syscall::ALL.len() {
        let call = Syscall::ALL[i];
        assert!(
            table[call as usize].is_none(),
            "two syscalls with one number"
        );
        table[call as usize] = Some(call);
        i += 1;
    }
    table
};

impl Syscall {
    /// Every syscall, in number order (grouped by object: each group
    /// starts at a multiple of 16).
    pub const ALL: [Syscall; 68] = [
        Syscall::Null,
        Syscall::DebugWrite,
        Syscall::DebugExit,
        Syscall::DebugFrameCount,
        Syscall::DebugCounters,
        Syscall::DebugLogRead,
        Syscall::CapCopy,
        Syscall::CapMint,
        Syscall::CapMove,
        Syscall::CapDelete,
        Syscall::CapRevoke,
        Syscall::CapInfo,
        Syscall::CSpaceCreate,
        Syscall::CapDetach,
        Syscall::CapDeleteRange,
        Syscall::CapCopyMany,
        Syscall::ThreadCreate,
        Syscall::ThreadStart,
        Syscall::ThreadConfigure,
        Syscall::ThreadSetPriority,
        Syscall::ThreadReadRegs,
        Syscall::ThreadWriteRegs,
        Syscall::ThreadSuspend,
        Syscall::ThreadResume,
        Syscall::ThreadBind,
        Syscall::ThreadWait,
        Syscall::ThreadExit,
        Syscall::ThreadYield,
        Syscall::ThreadExec,
        Syscall::EndpointCreate,
        Syscall::Send,
        Syscall::NbSend,
        Syscall::Call,
        Syscall::Recv,
        Syscall::NbRecv,
        Syscall::Reply,
        Syscall::ReplyRecv,
        Syscall::ReplySave,
        Syscall::ReplyWith,
        Syscall::ReplySaveRecv,
        Syscall::EndpointWatch,
        Syscall::NotificationCreate,
        Syscall::Signal,
        Syscall::Wait,
        Syscall::Poll,
        Syscall::BudgetSplit,
        Syscall::BudgetInfo,
        Syscall::MemoryCreate,
        Syscall::MemoryCreateDevice,
        Syscall::MemoryResize,
        Syscall::MemoryLend,
        Syscall::AspaceCreate,
        Syscall::AspaceMap,
        Syscall::AspaceUnmap,
        Syscall::AspaceProtect,
        Syscall::AspaceClone,
        Syscall::AspacePopulate,
        Syscall::ClockRead,
        Syscall::TimerSet,
        Syscall::FutexWait,
        Syscall::FutexWake,
        Syscall::FutexRequeue,
        Syscall::IoPortsCreate,
        Syscall::IoPortsBind,
        Syscall::IoPortsUnbind,
        Syscall::IrqCreate,
        Syscall::IrqBind,
        Syscall::IrqAck,
    ];

    /// The number placed in `rax`.
    pub const fn number(self) -> u64 {
        self as u64
    }

    /// Numbers are below this (the groups leave gaps for new syscalls).
    pub const NUMBER_LIMIT: u64 = 144;

    /// Decodes `rax`; `None` for an unknown number.
    pub fn from_number(number: u64) -> Option<Syscall> {
        BY_NUMBER
            .get(usize::try_from(number).ok()?)
            .copied()
            .flatten()
    }

    /// The syscall's place in [`Syscall::ALL`] (for tables indexed by
    /// syscall).
    pub const fn index(self) -> usize {
        let mut i = 0;
        while i < Syscall::ALL.len() {
            if Syscall::ALL[i] as u64 == self as u64 {
                return i;
            }
            i += 1;
        }
        unreachable!()
    }
}

syscall_table!(
            Null => NullArgs, DebugWrite => DebugWriteArgs, DebugExit => DebugExitArgs,
            DebugFrameCount => DebugFrameCountArgs, ThreadExit => ThreadExitArgs,
            ThreadYield => ThreadYieldArgs, ThreadCreate => ThreadCreateArgs,
            ThreadWait => ThreadWaitArgs, CapCopy => CapCopyArgs, CapDelete => CapDeleteArgs,
            CapInfo => CapInfoArgs, ClockRead => ClockReadArgs, CapMint => CapMintArgs,
            CapMove => CapMoveArgs, CapRevoke => CapRevokeArgs, CSpaceCreate => CSpaceCreateArgs,
            EndpointCreate => EndpointCreateArgs, NotificationCreate => NotificationCreateArgs,
            AspaceCreate => AspaceCreateArgs, MemoryCreate => MemoryCreateArgs,
            AspaceMap => AspaceMapArgs, ThreadStart => ThreadStartArgs,
            ThreadConfigure => ThreadConfigureArgs, ThreadSetPriority => ThreadSetPriorityArgs,
            ThreadReadRegs => ThreadReadRegsArgs, ThreadWriteRegs => ThreadWriteRegsArgs,
            ThreadSuspend => ThreadSuspendArgs, ThreadResume => ThreadResumeArgs,
            ThreadBind => ThreadBindArgs, Send => SendArgs, NbSend => NbSendArgs,
            Call => CallArgs, Recv => RecvArgs, NbRecv => NbRecvArgs, Reply => ReplyArgs,
            ReplyRecv => ReplyRecvArgs, Signal => SignalArgs, Wait => WaitArgs,
            Poll => PollArgs, TimerSet => TimerSetArgs, AspaceUnmap => AspaceUnmapArgs,
            DebugCounters => DebugCountersArgs, BudgetSplit => BudgetSplitArgs,
            BudgetInfo => BudgetInfoArgs, MemoryResize => MemoryResizeArgs,
            MemoryCreateDevice => MemoryCreateDeviceArgs, AspaceProtect => AspaceProtectArgs,
            AspaceClone => AspaceCloneArgs, ThreadExec => ThreadExecArgs,
            MemoryLend => MemoryLendArgs, FutexWait => FutexWaitArgs,
            FutexWake => FutexWakeArgs, FutexRequeue => FutexRequeueArgs,
            IoPortsCreate => IoPortsCreateArgs,
            IoPortsBind => IoPortsBindArgs, IoPortsUnbind => IoPortsUnbindArgs,
            IrqCreate => IrqCreateArgs, IrqBind => IrqBindArgs, IrqAck => IrqAckArgs,
            AspacePopulate => AspacePopulateArgs, ReplySave => ReplySaveArgs,
            ReplyWith => ReplyWithArgs, ReplySaveRecv => ReplySaveRecvArgs,
            CapDetach => CapDetachArgs,
            EndpointWatch => EndpointWatchArgs, CapDeleteRange => CapDeleteRangeArgs,
            DebugLogRead => DebugLogReadArgs, CapCopyMany => CapCopyManyArgs,
);
