//! Syscall stubs: one raw `syscall` instruction, and a typed wrapper per
//! syscall with the same name as its `abi::syscall::Syscall` variant.
//! Encoding and decoding come from `abi`, so they match the kernel's.
//!
//! The slots are raw [`CapSlot`]s: programs use the typed handles
//! ([`crate::handle`]) and [`crate::ipc`] for messages; tests use these.
//! [`invoke`] makes any syscall from its `abi` argument struct. The IPC
//! syscalls have their names here too ([`call`] is `Syscall::Call`),
//! taking an endpoint's raw slot and the one [`Message`] type.
//!
//! Deadlines are absolute nanoseconds on the [`clock_read`] clock (0: wait
//! for ever): [`wait_until`], [`futex_wait`].

use core::sync::atomic::AtomicU32;

use abi::syscall::*;
use abi::{CapSlot, MapFlags, Rights, SysError};

use crate::handle::Handle;
use crate::ipc::{Endpoint, Message};

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
pub fn invoke<A: SyscallArgs, R: SyscallResult>(args: &A) -> Result<R, SysError> {
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
    invoke::<_, NoResult>(&NullArgs {}).map(|_| ())
}

/// `DebugWrite`: print bytes on the kernel console.
pub fn debug_write(console: CapSlot, bytes: &[u8]) -> Result<(), SysError> {
    invoke::<_, NoResult>(&DebugWriteArgs {
        console,
        addr: bytes.as_ptr() as u64,
        len: bytes.len() as u64,
    })
    .map(|_| ())
}

/// `DebugExit`: end the QEMU run.
pub fn debug_exit(console: CapSlot, code: u64) -> Result<(), SysError> {
    invoke::<_, NoResult>(&DebugExitArgs { console, code }).map(|_| ())
}

/// `DebugFrameCount`: (free, total) frames.
pub fn debug_frame_count(console: CapSlot) -> Result<FrameCount, SysError> {
    invoke(&DebugFrameCountArgs { console })
}

/// `DebugLogRead`: kernel log bytes from position `cursor` into `buf`
/// (at most `DEBUG_LOG_READ_MAX_BYTES`); the results say where the copy
/// started, how much it took and where the log ends.
pub fn debug_log_read(console: CapSlot, cursor: u64, buf: &mut [u8]) -> Result<LogRead, SysError> {
    invoke(&DebugLogReadArgs {
        console,
        cursor,
        addr: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
    })
}

/// `ThreadExit`: end the calling thread.
pub fn thread_exit(code: u64) -> ! {
    let _ = invoke::<_, NoResult>(&ThreadExitArgs { code });
    // The kernel never returns from ThreadExit; stop here regardless.
    loop {
        core::hint::spin_loop();
    }
}

/// `ThreadYield`.
pub fn thread_yield() {
    let _ = invoke::<_, NoResult>(&ThreadYieldArgs {});
}

/// `ThreadCreate`: an inactive thread; returns the slot of its capability.
pub fn thread_create(
    budget: CapSlot,
    aspace: CapSlot,
    cspace: CapSlot,
) -> Result<CapSlot, SysError> {
    slot(invoke(&ThreadCreateArgs {
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
    unit(invoke(&ThreadStartArgs {
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
    unit(invoke(&ThreadConfigureArgs {
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
    unit(invoke(&ThreadSetPriorityArgs {
        thread,
        priority,
        max_priority,
    }))
}

/// `ThreadReadRegs`.
pub fn thread_read_regs(thread: CapSlot) -> Result<ThreadRegs, SysError> {
    let mut out = ThreadRegs::default();
    unit(invoke(&ThreadReadRegsArgs {
        thread,
        out: &mut out as *mut ThreadRegs as u64,
    }))?;
    Ok(out)
}

/// `ThreadWriteRegs`.
pub fn thread_write_regs(thread: CapSlot, regs: &ThreadRegs) -> Result<(), SysError> {
    unit(invoke(&ThreadWriteRegsArgs {
        thread,
        regs: regs as *const ThreadRegs as u64,
    }))
}

/// `ThreadSuspend`.
pub fn thread_suspend(thread: CapSlot) -> Result<(), SysError> {
    unit(invoke(&ThreadSuspendArgs { thread }))
}

/// `ThreadResume`.
pub fn thread_resume(thread: CapSlot) -> Result<(), SysError> {
    unit(invoke(&ThreadResumeArgs { thread }))
}

/// `ThreadBind` (`notification` NULL unbinds).
pub fn thread_bind(thread: CapSlot, notification: CapSlot) -> Result<(), SysError> {
    unit(invoke(&ThreadBindArgs {
        thread,
        notification,
    }))
}

/// `ThreadWait`: wait for a thread to end.
pub fn thread_wait(thread: CapSlot) -> Result<ThreadStatus, SysError> {
    invoke(&ThreadWaitArgs { thread })
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
    slot(invoke(&CapCopyArgs {
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
    slot(invoke(&CapMintArgs {
        src,
        rights,
        badge,
        cspace,
        dst,
    }))
}

/// `CapMove` to slot `dst` of `cspace` (NULL: lowest free, own space).
pub fn cap_move(src: CapSlot, cspace: CapSlot, dst: CapSlot) -> Result<CapSlot, SysError> {
    slot(invoke(&CapMoveArgs { src, cspace, dst }))
}

/// `CapRevoke`.
pub fn cap_revoke(slot: CapSlot) -> Result<(), SysError> {
    unit(invoke(&CapRevokeArgs { slot }))
}

/// `CapDetach`: `slot` and what derives from it no longer derive from
/// `ancestor`.
pub fn cap_detach(slot: CapSlot, ancestor: CapSlot) -> Result<(), SysError> {
    unit(invoke(&CapDetachArgs { slot, ancestor }))
}

/// `EndpointWatch`: signal `notification` when a client's watched
/// capabilities to `endpoint` are all gone (NULL: stop).
pub fn endpoint_watch(endpoint: CapSlot, notification: CapSlot) -> Result<(), SysError> {
    unit(invoke(&EndpointWatchArgs {
        endpoint,
        notification,
    }))
}

/// `CapDeleteRange`: empties every full slot of `count` slots from
/// `first` in the caller's space.
pub fn cap_delete_range(first: CapSlot, count: u64) -> Result<(), SysError> {
    unit(invoke(&CapDeleteRangeArgs { first, count }))
}

/// `CapDelete`.
pub fn cap_delete(slot: CapSlot) -> Result<(), SysError> {
    invoke::<_, NoResult>(&CapDeleteArgs { slot }).map(|_| ())
}

/// `CapInfo` into `out`.
pub fn cap_info(slot: CapSlot) -> Result<CapInfo, SysError> {
    let mut out = CapInfo::default();
    invoke::<_, NoResult>(&CapInfoArgs {
        slot,
        out: &mut out as *mut CapInfo as u64,
    })?;
    Ok(out)
}

/// `ClockRead`: nanoseconds since boot.
pub fn clock_read() -> u64 {
    invoke::<_, ClockTime>(&ClockReadArgs {}).map_or(0, |t| t.nanos)
}

fn slot(result: Result<SlotResult, SysError>) -> Result<CapSlot, SysError> {
    result.map(|r| CapSlot(r.slot as u32))
}

fn unit(result: Result<NoResult, SysError>) -> Result<(), SysError> {
    result.map(|_| ())
}

/// `CSpaceCreate`.
pub fn cspace_create(budget: CapSlot, slots: u64) -> Result<CapSlot, SysError> {
    slot(invoke(&CSpaceCreateArgs { budget, slots }))
}

/// `EndpointCreate`.
pub fn endpoint_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(invoke(&EndpointCreateArgs { budget }))
}

/// `NotificationCreate`.
pub fn notification_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(invoke(&NotificationCreateArgs { budget }))
}

/// `AspaceCreate`.
pub fn aspace_create(budget: CapSlot) -> Result<CapSlot, SysError> {
    slot(invoke(&AspaceCreateArgs { budget }))
}

/// `MemoryCreate`.
pub fn memory_create(budget: CapSlot, pages: u64) -> Result<CapSlot, SysError> {
    slot(invoke(&MemoryCreateArgs { budget, pages }))
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
    unit(invoke(&AspaceMapArgs {
        aspace,
        memory,
        offset,
        vaddr,
        pages,
        flags,
    }))
}

/// `Signal`.
pub fn signal(notification: CapSlot, bits: u64) -> Result<(), SysError> {
    unit(invoke(&SignalArgs { notification, bits }))
}

/// `Wait`: the bits.
pub fn wait(notification: CapSlot) -> Result<u64, SysError> {
    wait_until(notification, 0)
}

/// `Wait` that gives up with [`SysError::TimedOut`] at `deadline` (0:
/// never): the bits.
pub fn wait_until(notification: CapSlot, deadline: u64) -> Result<u64, SysError> {
    invoke::<_, Signals>(&WaitArgs {
        notification,
        deadline,
    })
    .map(|s| s.bits)
}

/// `Poll`: the bits (possibly 0).
pub fn poll(notification: CapSlot) -> Result<u64, SysError> {
    invoke::<_, Signals>(&PollArgs { notification }).map(|s| s.bits)
}

/// `TimerSet` (deadline 0 disarms).
pub fn timer_set(notification: CapSlot, deadline: u64, bits: u64) -> Result<(), SysError> {
    unit(invoke(&TimerSetArgs {
        notification,
        deadline,
        bits,
    }))
}

/// `AspaceUnmap`: a whole region.
pub fn aspace_unmap(aspace: CapSlot, vaddr: u64, pages: u64) -> Result<(), SysError> {
    unit(invoke(&AspaceUnmapArgs {
        aspace,
        vaddr,
        pages,
    }))
}

/// `DebugCounters`.
pub fn debug_counters(console: CapSlot) -> Result<KernelCounters, SysError> {
    invoke(&DebugCountersArgs { console })
}

/// `BudgetSplit`: a child budget of `frames` frames.
pub fn budget_split(budget: CapSlot, frames: u64) -> Result<CapSlot, SysError> {
    let r: SlotResult = invoke(&BudgetSplitArgs { budget, frames })?;
    Ok(CapSlot(r.slot as u32))
}

/// `BudgetInfo`: a budget's limit and the frames charged to it.
pub fn budget_info(budget: CapSlot) -> Result<BudgetStatus, SysError> {
    invoke(&BudgetInfoArgs { budget })
}

/// `MemoryResize`.
pub fn memory_resize(memory: CapSlot, pages: u64) -> Result<(), SysError> {
    invoke::<_, NoResult>(&MemoryResizeArgs { memory, pages }).map(|_| ())
}

/// `MemoryCreateDevice`: an MMIO object for `pages` pages from `phys`.
pub fn memory_create_device(
    budget: CapSlot,
    device: CapSlot,
    phys: u64,
    pages: u64,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = invoke(&MemoryCreateDeviceArgs {
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
    invoke::<_, NoResult>(&AspaceProtectArgs {
        aspace,
        vaddr,
        pages,
        flags,
    })
    .map(|_| ())
}

/// `AspaceClone`: a copy-on-write copy of an address space.
pub fn aspace_clone(budget: CapSlot, aspace: CapSlot) -> Result<CapSlot, SysError> {
    let r: SlotResult = invoke(&AspaceCloneArgs { budget, aspace })?;
    Ok(CapSlot(r.slot as u32))
}

/// `ThreadExec`: go on in `aspace` at `entry` with FS base `tls` (0 for
/// none); returns only on error.
pub fn thread_exec(aspace: CapSlot, entry: u64, stack: u64, arg: u64, tls: u64) -> SysError {
    match invoke::<_, NoResult>(&ThreadExecArgs {
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
    unit(invoke(&AspacePopulateArgs {
        aspace,
        vaddr,
        pages,
    }))
}

/// `CapCopyMany`: copies each of `entries` (at most
/// `CAP_COPY_MANY_MAX`) into `cspace` (NULL: the caller's); returns which
/// were copied and why the first that was not failed.
pub fn cap_copy_many(
    cspace: CapSlot,
    entries: &[CapCopyEntry],
) -> Result<CapCopyManyResult, SysError> {
    invoke(&CapCopyManyArgs {
        cspace,
        addr: entries.as_ptr() as u64,
        count: entries.len() as u64,
    })
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
    let r: LendResult = invoke(&MemoryLendArgs {
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
    let r: SlotResult = invoke(&IoPortsCreateArgs {
        parent,
        budget,
        base,
        count,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `IoPortsBind`: lets `thread` use the ports of `ports` with `in`/`out`.
pub fn io_ports_bind(ports: CapSlot, thread: CapSlot) -> Result<(), SysError> {
    invoke::<_, NoResult>(&IoPortsBindArgs { ports, thread }).map(|_| ())
}

/// `IoPortsUnbind`: takes the ports of `ports` away from `thread`.
pub fn io_ports_unbind(ports: CapSlot, thread: CapSlot) -> Result<(), SysError> {
    invoke::<_, NoResult>(&IoPortsUnbindArgs { ports, thread }).map(|_| ())
}

/// `IrqCreate`: an interrupt line from `control`, paid by `budget`.
pub fn irq_create(
    control: CapSlot,
    budget: CapSlot,
    source: IrqSource,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = invoke(&IrqCreateArgs {
        control,
        budget,
        source,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `IrqBind`: deliver the line to `notification` (its badge, or `bits`
/// when unbadged); `CapSlot::NULL` unbinds.
pub fn irq_bind(irq: CapSlot, notification: CapSlot, bits: u64) -> Result<(), SysError> {
    invoke::<_, NoResult>(&IrqBindArgs {
        irq,
        notification,
        bits,
    })
    .map(|_| ())
}

/// `IrqAck`: the device is served; unmask the line.
pub fn irq_ack(irq: CapSlot) -> Result<(), SysError> {
    invoke::<_, NoResult>(&IrqAckArgs { irq }).map(|_| ())
}

/// `FutexWait`: sleeps while `word` holds `expected`, until a
/// [`futex_wake`] on it or `deadline` (0: never). Returns `Ok` when woken;
/// [`SysError::WouldBlock`] at once if the word differs,
/// [`SysError::TimedOut`] at the deadline. A wake-up says nothing about
/// the word: callers check it again.
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: u64) -> Result<(), SysError> {
    unit(invoke(&FutexWaitArgs {
        addr: word.as_ptr() as u64,
        expected,
        deadline,
    }))
}

/// `FutexWake`: wakes up to `count` waiters on `word` ([`FUTEX_ALL`]: all);
/// returns how many.
pub fn futex_wake(word: &AtomicU32, count: u64) -> Result<u64, SysError> {
    invoke::<_, FutexWoken>(&FutexWakeArgs {
        addr: word.as_ptr() as u64,
        count,
    })
    .map(|r| r.woken)
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
    invoke::<_, FutexRequeued>(&FutexRequeueArgs {
        addr: word.as_ptr() as u64,
        wake_count,
        addr2: target.as_ptr() as u64,
        requeue_count,
        expected,
    })
    .map(|r| (r.woken, r.requeued))
}

/// Runs `f` on the endpoint named by a raw slot, without taking the slot
/// over.
fn on_endpoint<R>(endpoint: CapSlot, f: impl FnOnce(&Endpoint) -> R) -> R {
    let handle = <Endpoint as Handle>::from_raw(endpoint);
    let result = f(&handle);
    let _ = handle.into_raw();
    result
}

/// `Send` ([`Endpoint::send`] on a raw slot).
pub fn send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.send(message))
}

/// `NbSend` ([`Endpoint::nb_send`] on a raw slot).
pub fn nb_send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.nb_send(message))
}

/// `Call` ([`Endpoint::call`] on a raw slot): the reply replaces `message`.
pub fn call(endpoint: CapSlot, message: &mut Message) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.call(message))
}

/// `Recv` ([`Endpoint::recv_until`] on a raw slot; deadline 0: none).
pub fn recv(endpoint: CapSlot, message: &mut Message, deadline: u64) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.recv_until(message, deadline))
}

/// `NbRecv` ([`Endpoint::nb_recv`] on a raw slot).
pub fn nb_recv(endpoint: CapSlot, message: &mut Message) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.nb_recv(message))
}

/// `Reply` ([`crate::ipc::reply`]).
pub fn reply(message: &Message) -> Result<(), SysError> {
    crate::ipc::reply(message)
}

/// `ReplyRecv` ([`Endpoint::reply_recv`] on a raw slot).
pub fn reply_recv(endpoint: CapSlot, message: &mut Message) -> Result<(), SysError> {
    on_endpoint(endpoint, |e| e.reply_recv(message))
}

/// `ReplySave`: the thread's reply right becomes a Reply capability in
/// `dst` (NULL: the lowest free slot); returns the slot. Owned, it is a
/// [`crate::ipc::SavedReply`].
pub fn reply_save(dst: CapSlot) -> Result<CapSlot, SysError> {
    slot(invoke(&ReplySaveArgs { dst }))
}

/// `ReplySaveRecv` ([`Endpoint::reply_save_recv`] on a raw slot): the
/// reply right saved into `dst`, then a receive on `endpoint`.
///
/// # Errors
/// As [`Endpoint::reply_save_recv`].
pub fn reply_save_recv(
    endpoint: CapSlot,
    dst: CapSlot,
    message: &mut Message,
) -> Result<(crate::ipc::SavedReply, Result<(), SysError>), SysError> {
    on_endpoint(endpoint, |e| e.reply_save_recv(dst, message))
}

/// `ReplyWith` ([`crate::ipc::reply_with`]): answers the caller saved in
/// the Reply capability `reply`, which is used up.
pub fn reply_with(reply: CapSlot, message: &Message) -> Result<(), SysError> {
    crate::ipc::reply_with(reply, message)
}
