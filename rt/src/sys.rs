//! Syscall stubs: one raw `syscall` instruction, and a typed wrapper per
//! syscall with the same name as its `abi::syscall::Syscall` variant.
//! Encoding and decoding come from `abi`, so they match the kernel's.
//!
//! Deadlines are absolute nanoseconds on the [`clock_read`] clock (0: wait
//! for ever). The blocking calls that take one have an `_until` form
//! ([`recv_until`], [`wait_until`], [`send_until`], [`call_until`],
//! [`reply_recv_until`], [`futex_wait`]); the forms without it wait for ever.

use core::sync::atomic::AtomicU32;

use abi::ipc::MessageInfo;
use abi::syscall::*;
use abi::{CapSlot, MapFlags, Rights, SysError};

use crate::ipc_buffer::IpcBufferPtr;

/// Makes syscall `number` with argument registers `args`; returns the
/// status word and the result registers.
#[inline(always)]
pub fn raw_syscall(number: u64, args: ArgRegs) -> (u64, RetRegs) {
    let status: u64;
    let (r0, r1, r2, r3, r4, r5): (u64, u64, u64, u64, u64, u64);
    // SAFETY: `syscall` enters the kernel, which preserves every register
    // except rax, the result registers, rcx and r11 (declared here), and
    // never touches this stack; memory it writes is named by the arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => status,
            inlateout("rdi") args[0] => r0,
            inlateout("rsi") args[1] => r1,
            inlateout("rdx") args[2] => r2,
            inlateout("r10") args[3] => r3,
            inlateout("r8") args[4] => r4,
            inlateout("r9") args[5] => r5,
            out("rcx") _,
            out("r11") _,
            options(nostack),
        );
    }
    (status, [r0, r1, r2, r3, r4, r5])
}

/// Makes the syscall `A` describes and decodes its results.
///
/// # Errors
/// The kernel's [`SysError`]; an unknown status code reads as
/// [`SysError::UnknownSyscall`].
#[inline(always)]
pub fn call<A: SyscallArgs, R: SyscallResult>(args: &A) -> Result<R, SysError> {
    let (status, regs) = raw_syscall(A::SYSCALL.number(), args.encode());
    if status == 0 {
        Ok(R::decode(&regs))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `Null`: enter and leave the kernel.
#[inline(always)]
pub fn null() -> Result<(), SysError> {
    call::<_, NoResult>(&NullArgs {}).map(|_| ())
}

/// `DebugWrite`: print bytes on the kernel console.
pub fn debug_write(console: CapSlot, bytes: &[u8]) -> Result<(), SysError> {
    debug_write_raw(console, bytes.as_ptr() as u64, bytes.len() as u64)
}

/// `DebugWrite` with a raw address (tests pass bad ones on purpose).
pub fn debug_write_raw(console: CapSlot, addr: u64, len: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&DebugWriteArgs { console, addr, len }).map(|_| ())
}

/// `DebugExit`: end the QEMU run.
pub fn debug_exit(console: CapSlot, code: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&DebugExitArgs { console, code }).map(|_| ())
}

/// `DebugFrameCount`: (free, total) frames.
pub fn debug_frame_count(console: CapSlot) -> Result<FrameCount, SysError> {
    call(&DebugFrameCountArgs { console })
}

/// `ThreadExit`: end the calling thread.
pub fn thread_exit(code: u64) -> ! {
    let _ = call::<_, NoResult>(&ThreadExitArgs { code });
    // The kernel never returns from ThreadExit; stop here regardless.
    loop {
        core::hint::spin_loop();
    }
}

/// `ThreadYield`.
pub fn thread_yield() {
    let _ = call::<_, NoResult>(&ThreadYieldArgs {});
}

/// `ThreadCreate`: an inactive thread; returns the slot of its capability.
pub fn thread_create(
    budget: CapSlot,
    aspace: CapSlot,
    cspace: CapSlot,
) -> Result<CapSlot, SysError> {
    slot(call(&ThreadCreateArgs {
        budget,
        aspace,
        cspace,
    }))
}

/// `ThreadStart`: run at `entry` on `stack` with `arg` in `rdi` and FS
/// base `tls` (0 for none).
pub fn thread_start(
    thread: CapSlot,
    entry: u64,
    stack: u64,
    arg: u64,
    tls: u64,
) -> Result<(), SysError> {
    unit(call(&ThreadStartArgs {
        thread,
        entry,
        stack,
        arg,
        tls,
    }))
}

/// `ThreadConfigure`.
pub fn thread_configure(
    thread: CapSlot,
    ipc_buffer: u64,
    fault_endpoint: CapSlot,
) -> Result<(), SysError> {
    unit(call(&ThreadConfigureArgs {
        thread,
        ipc_buffer,
        fault_endpoint,
    }))
}

/// `ThreadSetPriority`.
pub fn thread_set_priority(
    thread: CapSlot,
    priority: u64,
    max_priority: u64,
) -> Result<(), SysError> {
    unit(call(&ThreadSetPriorityArgs {
        thread,
        priority,
        max_priority,
    }))
}

/// `ThreadReadRegs`.
pub fn thread_read_regs(thread: CapSlot) -> Result<ThreadRegs, SysError> {
    let mut out = ThreadRegs::default();
    thread_read_regs_raw(thread, &mut out as *mut ThreadRegs as u64)?;
    Ok(out)
}

/// `ThreadReadRegs` with a raw destination address.
pub fn thread_read_regs_raw(thread: CapSlot, out: u64) -> Result<(), SysError> {
    unit(call(&ThreadReadRegsArgs { thread, out }))
}

/// `ThreadWriteRegs`.
pub fn thread_write_regs(thread: CapSlot, regs: &ThreadRegs) -> Result<(), SysError> {
    thread_write_regs_raw(thread, regs as *const ThreadRegs as u64)
}

/// `ThreadWriteRegs` with a raw source address.
pub fn thread_write_regs_raw(thread: CapSlot, regs: u64) -> Result<(), SysError> {
    unit(call(&ThreadWriteRegsArgs { thread, regs }))
}

/// `ThreadSuspend`.
pub fn thread_suspend(thread: CapSlot) -> Result<(), SysError> {
    unit(call(&ThreadSuspendArgs { thread }))
}

/// `ThreadResume`.
pub fn thread_resume(thread: CapSlot) -> Result<(), SysError> {
    unit(call(&ThreadResumeArgs { thread }))
}

/// `ThreadBind` (`notification` NULL unbinds).
pub fn thread_bind(thread: CapSlot, notification: CapSlot) -> Result<(), SysError> {
    unit(call(&ThreadBindArgs {
        thread,
        notification,
    }))
}

/// `ThreadWait`: wait for a thread to end.
pub fn thread_wait(thread: CapSlot) -> Result<ThreadStatus, SysError> {
    call(&ThreadWaitArgs { thread })
}

/// `CapCopy` into the caller's lowest free slot.
pub fn cap_copy(src: CapSlot, rights: Rights) -> Result<CapSlot, SysError> {
    cap_copy_to(src, rights, CapSlot::NULL, CapSlot::NULL)
}

/// `CapCopy` into slot `dst` (NULL: lowest free) of `cspace` (NULL: own).
pub fn cap_copy_to(
    src: CapSlot,
    rights: Rights,
    cspace: CapSlot,
    dst: CapSlot,
) -> Result<CapSlot, SysError> {
    slot(call(&CapCopyArgs {
        src,
        rights,
        cspace,
        dst,
    }))
}

/// `CapMint` into the caller's lowest free slot.
pub fn cap_mint(src: CapSlot, rights: Rights, badge: u64) -> Result<CapSlot, SysError> {
    cap_mint_to(src, rights, badge, CapSlot::NULL, CapSlot::NULL)
}

/// `CapMint` into slot `dst` of `cspace` (NULL: lowest free, own space).
pub fn cap_mint_to(
    src: CapSlot,
    rights: Rights,
    badge: u64,
    cspace: CapSlot,
    dst: CapSlot,
) -> Result<CapSlot, SysError> {
    slot(call(&CapMintArgs {
        src,
        rights,
        badge,
        cspace,
        dst,
    }))
}

/// `CapMove` to slot `dst` of `cspace` (NULL: lowest free, own space).
pub fn cap_move(src: CapSlot, cspace: CapSlot, dst: CapSlot) -> Result<CapSlot, SysError> {
    slot(call(&CapMoveArgs { src, cspace, dst }))
}

/// `CapRevoke`.
pub fn cap_revoke(slot: CapSlot) -> Result<(), SysError> {
    unit(call(&CapRevokeArgs { slot }))
}

/// `CapDelete`.
pub fn cap_delete(slot: CapSlot) -> Result<(), SysError> {
    call::<_, NoResult>(&CapDeleteArgs { slot }).map(|_| ())
}

/// `CapInfo` into `out`.
pub fn cap_info(slot: CapSlot) -> Result<CapInfo, SysError> {
    let mut out = CapInfo::default();
    cap_info_raw(slot, &mut out as *mut CapInfo as u64)?;
    Ok(out)
}

/// `CapInfo` with a raw destination address (tests pass bad ones on purpose).
pub fn cap_info_raw(slot: CapSlot, out: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&CapInfoArgs { slot, out }).map(|_| ())
}

/// `ClockRead`: nanoseconds since boot.
pub fn clock_read() -> u64 {
    call::<_, ClockTime>(&ClockReadArgs {}).map_or(0, |t| t.nanos)
}

fn slot(result: Result<SlotResult, SysError>) -> Result<CapSlot, SysError> {
    result.map(|r| CapSlot(r.slot as u32))
}

fn unit(result: Result<NoResult, SysError>) -> Result<(), SysError> {
    result.map(|_| ())
}

/// `CSpaceCreate`.
pub fn cspace_create(budget: CapSlot, slots: u64) -> Result<CapSlot, SysError> {
    slot(call(&CSpaceCreateArgs { budget, slots }))
}

/// `EndpointCreate`.
pub fn endpoint_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(call(&EndpointCreateArgs { budget }))
}

/// `NotificationCreate`.
pub fn notification_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(call(&NotificationCreateArgs { budget }))
}

/// `AspaceCreate`.
pub fn aspace_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(call(&AspaceCreateArgs { budget }))
}

/// `MemoryCreate`.
pub fn memory_create(budget: CapSlot, pages: u64) -> Result<CapSlot, SysError> {
    slot(call(&MemoryCreateArgs { budget, pages }))
}

/// `AspaceMap`.
pub fn aspace_map(
    aspace: CapSlot,
    memory: CapSlot,
    offset: u64,
    vaddr: u64,
    pages: u64,
    flags: MapFlags,
) -> Result<(), SysError> {
    unit(call(&AspaceMapArgs {
        aspace,
        memory,
        offset,
        vaddr,
        pages,
        flags,
    }))
}

/// A message: label, length, capability count and the register words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Message {
    /// Label, length and capability count.
    pub info: MessageInfo,
    /// Words 0-3 (the rest are in the IPC buffer).
    pub words: [u64; 4],
}

impl Message {
    /// A message with `label` and up to four register words.
    pub fn new(label: u64, words: &[u64]) -> Message {
        let mut message = Message {
            info: MessageInfo::new(label, words.len(), 0),
            words: [0; 4],
        };
        for (slot, word) in message.words.iter_mut().zip(words) {
            *slot = *word;
        }
        message
    }

    /// The same message carrying `caps` capabilities (their slots go in
    /// the IPC buffer).
    pub fn with_caps(mut self, caps: usize) -> Message {
        self.info = self.info.with_caps(caps);
        self
    }

    /// The same message with the deadline flag: the kernel reads the
    /// deadline from the sender's IPC buffer ([`IpcBufferPtr::set_deadline`]).
    pub fn with_deadline(mut self) -> Message {
        self.info = self.info.with_deadline();
        self
    }
}

/// What a receive returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The sender's badge (or signal bits for a notification).
    pub badge: u64,
    /// The message.
    pub message: Message,
}

fn received(result: Result<RecvResult, SysError>) -> Result<Received, SysError> {
    result.map(|r| Received {
        badge: r.badge,
        message: Message {
            info: MessageInfo::from_received(r.info),
            words: [r.mr0, r.mr1, r.mr2, r.mr3],
        },
    })
}

/// Raw IPC: syscall `number` with the endpoint slot and a message.
#[inline(always)]
fn ipc(number: Syscall, endpoint: u64, message: &Message) -> Result<Received, SysError> {
    let args = [
        endpoint,
        message.info.to_reg(),
        message.words[0],
        message.words[1],
        message.words[2],
        message.words[3],
    ];
    let (status, regs) = raw_syscall(number.number(), args);
    if status == 0 {
        received(Ok(RecvResult::decode(&regs)))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `Send`.
pub fn send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    ipc(Syscall::Send, endpoint.to_reg(), message).map(|_| ())
}

/// `Send` that gives up with [`SysError::TimedOut`] if no receiver has
/// taken the message by `deadline`; `buffer` is the calling thread's IPC
/// buffer, which carries the deadline.
pub fn send_until(
    endpoint: CapSlot,
    message: &Message,
    buffer: &IpcBufferPtr,
    deadline: u64,
) -> Result<(), SysError> {
    buffer.set_deadline(deadline);
    ipc(Syscall::Send, endpoint.to_reg(), &message.with_deadline()).map(|_| ())
}

/// `NbSend`.
pub fn nb_send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    ipc(Syscall::NbSend, endpoint.to_reg(), message).map(|_| ())
}

/// `Call`: returns the reply.
#[inline(always)]
pub fn call_endpoint(endpoint: CapSlot, message: &Message) -> Result<Received, SysError> {
    ipc(Syscall::Call, endpoint.to_reg(), message)
}

/// `Call` that gives up with [`SysError::TimedOut`] if no receiver has
/// taken the call by `deadline` (the wait for the reply has no deadline);
/// `buffer` is the calling thread's IPC buffer, which carries the deadline.
pub fn call_until(
    endpoint: CapSlot,
    message: &Message,
    buffer: &IpcBufferPtr,
    deadline: u64,
) -> Result<Received, SysError> {
    buffer.set_deadline(deadline);
    ipc(Syscall::Call, endpoint.to_reg(), &message.with_deadline())
}

/// `Recv`.
pub fn recv(endpoint: CapSlot) -> Result<Received, SysError> {
    recv_until(endpoint, 0)
}

/// `Recv` that gives up with [`SysError::TimedOut`] at `deadline` (0:
/// never).
pub fn recv_until(endpoint: CapSlot, deadline: u64) -> Result<Received, SysError> {
    let (status, regs) = raw_syscall(
        Syscall::Recv.number(),
        RecvArgs { endpoint, deadline }.encode(),
    );
    if status == 0 {
        received(Ok(RecvResult::decode(&regs)))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `NbRecv`.
pub fn nb_recv(endpoint: CapSlot) -> Result<Received, SysError> {
    ipc(Syscall::NbRecv, endpoint.to_reg(), &Message::default())
}

/// `Reply`.
pub fn reply(message: &Message) -> Result<(), SysError> {
    ipc(Syscall::Reply, 0, message).map(|_| ())
}

/// `ReplyRecv`: answer the last call, then wait on `endpoint`.
#[inline(always)]
pub fn reply_recv(endpoint: CapSlot, message: &Message) -> Result<Received, SysError> {
    ipc(Syscall::ReplyRecv, endpoint.to_reg(), message)
}

/// `ReplyRecv` whose receive gives up with [`SysError::TimedOut`] at
/// `deadline`; `buffer` is the calling thread's IPC buffer, which carries
/// the deadline.
pub fn reply_recv_until(
    endpoint: CapSlot,
    message: &Message,
    buffer: &IpcBufferPtr,
    deadline: u64,
) -> Result<Received, SysError> {
    buffer.set_deadline(deadline);
    ipc(
        Syscall::ReplyRecv,
        endpoint.to_reg(),
        &message.with_deadline(),
    )
}

/// `Signal`.
pub fn signal(notification: CapSlot, bits: u64) -> Result<(), SysError> {
    unit(call(&SignalArgs { notification, bits }))
}

/// `Wait`: the bits.
pub fn wait(notification: CapSlot) -> Result<u64, SysError> {
    wait_until(notification, 0)
}

/// `Wait` that gives up with [`SysError::TimedOut`] at `deadline` (0:
/// never): the bits.
pub fn wait_until(notification: CapSlot, deadline: u64) -> Result<u64, SysError> {
    call::<_, Signals>(&WaitArgs {
        notification,
        deadline,
    })
    .map(|s| s.bits)
}

/// `Poll`: the bits (possibly 0).
pub fn poll(notification: CapSlot) -> Result<u64, SysError> {
    call::<_, Signals>(&PollArgs { notification }).map(|s| s.bits)
}

/// `TimerSet` (deadline 0 disarms).
pub fn timer_set(notification: CapSlot, deadline: u64, bits: u64) -> Result<(), SysError> {
    unit(call(&TimerSetArgs {
        notification,
        deadline,
        bits,
    }))
}

/// `AspaceUnmap`: a whole region.
pub fn aspace_unmap(aspace: CapSlot, vaddr: u64, pages: u64) -> Result<(), SysError> {
    unit(call(&AspaceUnmapArgs {
        aspace,
        vaddr,
        pages,
    }))
}

/// `DebugCounters`.
pub fn debug_counters(console: CapSlot) -> Result<KernelCounters, SysError> {
    call(&DebugCountersArgs { console })
}

/// `BudgetSplit`: a child budget of `frames` frames.
pub fn budget_split(budget: CapSlot, frames: u64) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&BudgetSplitArgs { budget, frames })?;
    Ok(CapSlot(r.slot as u32))
}

/// `BudgetInfo`: a budget's limit and the frames charged to it.
pub fn budget_info(budget: CapSlot) -> Result<BudgetStatus, SysError> {
    call(&BudgetInfoArgs { budget })
}

/// `MemoryResize`.
pub fn memory_resize(memory: CapSlot, pages: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&MemoryResizeArgs { memory, pages }).map(|_| ())
}

/// `MemoryCreateDevice`: an MMIO object for `pages` pages from `phys`.
pub fn memory_create_device(
    budget: CapSlot,
    device: CapSlot,
    phys: u64,
    pages: u64,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&MemoryCreateDeviceArgs {
        budget,
        device,
        phys,
        pages,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `AspaceProtect`.
pub fn aspace_protect(
    aspace: CapSlot,
    vaddr: u64,
    pages: u64,
    flags: MapFlags,
) -> Result<(), SysError> {
    call::<_, NoResult>(&AspaceProtectArgs {
        aspace,
        vaddr,
        pages,
        flags,
    })
    .map(|_| ())
}

/// `AspaceClone`: a copy-on-write copy of an address space.
pub fn aspace_clone(budget: CapSlot, aspace: CapSlot) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&AspaceCloneArgs { budget, aspace })?;
    Ok(CapSlot(r.slot as u32))
}

/// `ThreadExec`: go on in `aspace` at `entry` with FS base `tls` (0 for
/// none); returns only on error.
pub fn thread_exec(aspace: CapSlot, entry: u64, stack: u64, arg: u64, tls: u64) -> SysError {
    match call::<_, NoResult>(&ThreadExecArgs {
        aspace,
        entry,
        stack,
        arg,
        tls,
    }) {
        Ok(_) => SysError::UnknownSyscall,
        Err(error) => error,
    }
}

/// `AspacePopulate`: make `pages` pages from `vaddr` present now, so that
/// running out of budget is an error here rather than a fault later.
pub fn aspace_populate(aspace: CapSlot, vaddr: u64, pages: u64) -> Result<(), SysError> {
    unit(call(&AspacePopulateArgs {
        aspace,
        vaddr,
        pages,
    }))
}

/// `MemoryLend`: a read-only object holding `[addr, addr + len)` of
/// `aspace`; returns its slot and the offset of the first byte in it.
pub fn memory_lend(
    budget: CapSlot,
    aspace: CapSlot,
    addr: u64,
    len: u64,
    mode: LendMode,
) -> Result<(CapSlot, u64), SysError> {
    let r: LendResult = call(&MemoryLendArgs {
        budget,
        aspace,
        addr,
        len,
        mode,
    })?;
    Ok((CapSlot(r.slot as u32), r.offset))
}

/// `IoPortsCreate`: a range of `count` I/O ports from `base`, made from
/// `parent` (the I/O space or a range holding it).
pub fn io_ports_create(
    parent: CapSlot,
    budget: CapSlot,
    base: u64,
    count: u64,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&IoPortsCreateArgs {
        parent,
        budget,
        base,
        count,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `IoPortsBind`: lets `thread` use the ports of `ports` with `in`/`out`.
pub fn io_ports_bind(ports: CapSlot, thread: CapSlot) -> Result<(), SysError> {
    call::<_, NoResult>(&IoPortsBindArgs { ports, thread }).map(|_| ())
}

/// `IoPortsUnbind`: takes the ports of `ports` away from `thread`.
pub fn io_ports_unbind(ports: CapSlot, thread: CapSlot) -> Result<(), SysError> {
    call::<_, NoResult>(&IoPortsUnbindArgs { ports, thread }).map(|_| ())
}

/// `IrqCreate`: an interrupt line from `control`, paid by `budget`.
pub fn irq_create(
    control: CapSlot,
    budget: CapSlot,
    source: IrqSource,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&IrqCreateArgs {
        control,
        budget,
        source,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `IrqBind`: deliver the line to `notification` (its badge, or `bits`
/// when unbadged); `CapSlot::NULL` unbinds.
pub fn irq_bind(irq: CapSlot, notification: CapSlot, bits: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&IrqBindArgs {
        irq,
        notification,
        bits,
    })
    .map(|_| ())
}

/// `IrqAck`: the device is served; unmask the line.
pub fn irq_ack(irq: CapSlot) -> Result<(), SysError> {
    call::<_, NoResult>(&IrqAckArgs { irq }).map(|_| ())
}

/// `FutexWait`: sleeps while `word` holds `expected`, until a
/// [`futex_wake`] on it or `deadline` (0: never). Returns `Ok` when woken;
/// [`SysError::WouldBlock`] at once if the word differs,
/// [`SysError::TimedOut`] at the deadline. A wake-up says nothing about
/// the word: callers check it again.
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: u64) -> Result<(), SysError> {
    unit(call(&FutexWaitArgs {
        addr: word.as_ptr() as u64,
        expected,
        deadline,
    }))
}

/// `FutexWait` with raw registers (tests pass bad addresses and values).
pub fn futex_wait_raw(addr: u64, expected: u64, deadline: u64) -> Result<(), SysError> {
    let (status, _) = raw_syscall(
        Syscall::FutexWait.number(),
        [addr, expected, deadline, 0, 0, 0],
    );
    match status {
        0 => Ok(()),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// `FutexWake`: wakes up to `count` waiters on `word` ([`FUTEX_ALL`]: all);
/// returns how many.
pub fn futex_wake(word: &AtomicU32, count: u64) -> Result<u64, SysError> {
    futex_wake_raw(word.as_ptr() as u64, count)
}

/// `FutexWake` with a raw address.
pub fn futex_wake_raw(addr: u64, count: u64) -> Result<u64, SysError> {
    call::<_, FutexWoken>(&FutexWakeArgs { addr, count }).map(|r| r.woken)
}

/// `FutexRequeue`: if `word` holds `expected`, wakes up to `wake_count` of
/// its waiters and moves up to `requeue_count` others to `target`;
/// returns (woken, moved).
pub fn futex_requeue(
    word: &AtomicU32,
    wake_count: u64,
    target: &AtomicU32,
    requeue_count: u64,
    expected: u32,
) -> Result<(u64, u64), SysError> {
    futex_requeue_raw(
        word.as_ptr() as u64,
        wake_count,
        target.as_ptr() as u64,
        requeue_count,
        expected,
    )
}

/// `FutexRequeue` with raw addresses.
pub fn futex_requeue_raw(
    addr: u64,
    wake_count: u64,
    addr2: u64,
    requeue_count: u64,
    expected: u32,
) -> Result<(u64, u64), SysError> {
    call::<_, FutexRequeued>(&FutexRequeueArgs {
        addr,
        wake_count,
        addr2,
        requeue_count,
        expected,
    })
    .map(|r| (r.woken, r.requeued))
}
