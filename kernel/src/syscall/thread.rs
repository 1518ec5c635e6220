//! Thread syscalls: create, start, configure, priorities, registers,
//! suspend and resume, binding a notification, wait, exit, yield.

use abi::layout::{PAGE_BYTES, USER_END, USER_START, is_user_canonical};
use abi::syscall::{
    PRIORITY_LEVELS, SyscallResult, ThreadBindArgs, ThreadConfigureArgs, ThreadCreateArgs,
    ThreadExitArgs, ThreadReadRegsArgs, ThreadRegs, ThreadResumeArgs, ThreadSetPriorityArgs,
    ThreadStartArgs, ThreadStatus, ThreadSuspendArgs, ThreadWaitArgs, ThreadWriteRegsArgs,
    USER_RFLAGS_MASK, exit_kind,
};
use abi::{CapSlot, Rights, SysError};

use super::{check_new_slot, install_new, lookup, payer};
use crate::arch::UserContext;
use crate::cap::ObjectRef;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::aspace::AddressSpace;
use crate::object::cspace::CSpace;
use crate::object::lifetime;
use crate::object::notification::Notification;
use crate::object::thread;
use crate::object::thread::{Thread, ThreadState};
use crate::switch;
use crate::usercopy::{Read, UserPtr, Write};

/// `ThreadExit`.
pub fn exit(k: &mut Kernel, caller: ObjId<Thread>, args: ThreadExitArgs) -> Result<Next, SysError> {
    let status = ThreadStatus {
        kind: exit_kind::EXITED,
        code: args.code,
        ..ThreadStatus::default()
    };
    thread::end(k, caller, status);
    Ok(Next::Done)
}

/// `ThreadYield`: to the back of its priority's queue.
pub fn yield_now(k: &mut Kernel) -> Result<Next, SysError> {
    k.sched.rotate(&mut k.objects);
    Ok(Next::Success)
}

/// `ThreadCreate`: an inactive thread with the caller's priorities.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadCreateArgs,
) -> Result<Next, SysError> {
    // decode
    let (budget, payer_slot) = payer(k, caller, args.budget)?;
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    let (cspace, _) = lookup::<ObjId<CSpace>>(k, caller, args.cspace, Rights::WRITE)?;
    check_new_slot(k, caller)?;
    let parent = k.objects.get(caller);
    let (priority, max_priority) = (parent.priority, parent.max_priority);
    let number = thread::new_id(k);
    let thread = Thread::new(number, aspace, cspace, budget, priority, max_priority);
    let id = lifetime::new_object(k, budget, thread)?;
    // invoke
    lifetime::add_ref(k, ObjectRef::AddressSpace(aspace));
    lifetime::add_ref(k, ObjectRef::CSpace(cspace));
    Ok(install_new(k, caller, ObjectRef::Thread(id), payer_slot))
}

/// `ThreadStart`: registers, FS base (`tls`, GS base 0), run queue.
pub fn start(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadStartArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    if k.objects.get(id).state != ThreadState::Inactive
        || !(USER_START..USER_END).contains(&args.entry)
        || !(USER_START..=USER_END).contains(&args.stack)
        || !is_user_canonical(args.tls)
    {
        return Err(SysError::InvalidArg);
    }
    k.objects.get_mut(id).context = UserContext::new_user(args.entry, args.stack, args.arg);
    switch::set_tls_bases(k, id, args.tls, 0);
    // Threads live in frames: the count is far below its type's range.
    k.live_threads = k.live_threads.wrapping_add(1);
    k.sched.make_ready(&mut k.objects, id);
    Ok(Next::Success)
}

/// `ThreadConfigure`.
pub fn configure(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadConfigureArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    let buffer = args.ipc_buffer;
    if buffer != 0
        && (!buffer.is_multiple_of(PAGE_BYTES) || !(USER_START..USER_END).contains(&buffer))
    {
        return Err(SysError::InvalidArg);
    }
    let thread = k.objects.get_mut(id);
    thread.ipc_buffer = buffer;
    thread.buffer_tlb = crate::object::thread::BufferTlb::EMPTY;
    thread.fault_endpoint = args.fault_endpoint;
    Ok(Next::Success)
}

/// `ThreadSetPriority`: never above the caller's own maximum.
pub fn set_priority(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadSetPriorityArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    if args.priority >= PRIORITY_LEVELS || args.max_priority >= PRIORITY_LEVELS {
        return Err(SysError::InvalidArg);
    }
    let ceiling = u64::from(k.objects.get(caller).max_priority);
    if args.priority > ceiling || args.max_priority > ceiling {
        return Err(SysError::MissingRights);
    }
    // Requeue a queued thread at its new priority.
    let queued = k.objects.get(id).state == ThreadState::Ready;
    k.sched.unqueue(&mut k.objects, id);
    let thread = k.objects.get_mut(id);
    thread.priority = args.priority as u8;
    thread.max_priority = args.max_priority as u8;
    if queued {
        k.sched.make_ready(&mut k.objects, id);
    }
    Ok(Next::Success)
}

/// Another thread than the caller, named with `rights`.
fn other_thread(
    k: &Kernel,
    caller: ObjId<Thread>,
    slot: CapSlot,
    rights: Rights,
) -> Result<ObjId<Thread>, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, slot, rights)?;
    if id == caller {
        return Err(SysError::InvalidArg);
    }
    Ok(id)
}

/// `ThreadReadRegs`.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn read_regs(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadReadRegsArgs,
) -> Result<Next, SysError> {
    let id = other_thread(k, caller, args.thread, Rights::READ)?;
    let out = UserPtr::<ThreadRegs, Write>::new(args.out)?;
    let c = &k.objects.get(id).context;
    let (fs_base, gs_base) = switch::tls_bases(k, id);
    let regs = ThreadRegs {
        rip: c.rip,
        rsp: c.rsp,
        rflags: c.rflags,
        rax: c.rax,
        rbx: c.rbx,
        rcx: c.rcx,
        rdx: c.rdx,
        rsi: c.rsi,
        rdi: c.rdi,
        rbp: c.rbp,
        r8: c.r8,
        r9: c.r9,
        r10: c.r10,
        r11: c.r11,
        r12: c.r12,
        r13: c.r13,
        r14: c.r14,
        r15: c.r15,
        fs_base,
        gs_base,
    };
    out.write(k, caller, &regs)?;
    Ok(Next::Success)
}

/// `ThreadWriteRegs`.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn write_regs(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadWriteRegsArgs,
) -> Result<Next, SysError> {
    let id = other_thread(k, caller, args.thread, Rights::WRITE)?;
    let regs = UserPtr::<ThreadRegs, Read>::new(args.regs)?.read(k, caller)?;
    let addresses = [regs.rip, regs.rsp, regs.fs_base, regs.gs_base];
    if !addresses.iter().all(|&address| is_user_canonical(address)) {
        return Err(SysError::InvalidArg);
    }
    let c = &mut k.objects.get_mut(id).context;
    c.rip = regs.rip;
    c.rsp = regs.rsp;
    c.rflags = (c.rflags & !USER_RFLAGS_MASK) | (regs.rflags & USER_RFLAGS_MASK);
    c.rax = regs.rax;
    c.rbx = regs.rbx;
    c.rcx = regs.rcx;
    c.rdx = regs.rdx;
    c.rsi = regs.rsi;
    c.rdi = regs.rdi;
    c.rbp = regs.rbp;
    c.r8 = regs.r8;
    c.r9 = regs.r9;
    c.r10 = regs.r10;
    c.r11 = regs.r11;
    c.r12 = regs.r12;
    c.r13 = regs.r13;
    c.r14 = regs.r14;
    c.r15 = regs.r15;
    // Return with iretq: sysret would clobber rcx and r11.
    c.vector = 0;
    switch::set_tls_bases(k, id, regs.fs_base, regs.gs_base);
    Ok(Next::Success)
}

/// `ThreadSuspend`.
pub fn suspend(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadSuspendArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    if k.objects.get(id).suspended {
        return Ok(Next::Success);
    }
    k.sched.unqueue(&mut k.objects, id);
    let thread = k.objects.get_mut(id);
    thread.suspended = true;
    if thread.state == ThreadState::Running {
        thread.state = ThreadState::Ready;
        k.sched.forget_current(id);
    }
    if id == caller {
        // Its results must be in place before it next runs.
        k.objects.get_mut(id).context.set_syscall_result(0, [0; 6]);
        return Ok(Next::Done);
    }
    Ok(Next::Success)
}

/// `ThreadResume`.
pub fn resume(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadResumeArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    let thread = k.objects.get_mut(id);
    if thread.suspended {
        thread.suspended = false;
        if thread.state == ThreadState::Ready {
            k.sched.make_ready(&mut k.objects, id);
        }
    }
    Ok(Next::Success)
}

/// `ThreadBind`.
pub fn bind(k: &mut Kernel, caller: ObjId<Thread>, args: ThreadBindArgs) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    if args.notification == CapSlot::NULL {
        if let Some(notification) = k.objects.get_mut(id).bound.take() {
            k.objects.get_mut(notification).bound = None;
        }
        return Ok(Next::Success);
    }
    let (notification, _) =
        lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::READ)?;
    if k.objects.get(id).bound.is_some()
        || k.objects.get(notification).bound.is_some()
        || k.objects.get(id).state == ThreadState::Exited
    {
        return Err(SysError::InvalidArg);
    }
    k.objects.get_mut(id).bound = Some(notification);
    k.objects.get_mut(notification).bound = Some(id);
    Ok(Next::Success)
}

/// `ThreadWait`.
pub fn wait(k: &mut Kernel, caller: ObjId<Thread>, args: ThreadWaitArgs) -> Result<Next, SysError> {
    let target = other_thread(k, caller, args.thread, Rights::READ)?;
    let thread = k.objects.get(target);
    if thread.state == ThreadState::Exited {
        return Ok(Next::Reply(thread.status.encode()));
    }
    if thread.joiner.is_some() {
        return Err(SysError::WouldBlock);
    }
    k.objects.get_mut(target).joiner = Some(caller);
    k.objects.get_mut(caller).state = ThreadState::Joining { target };
    k.sched.forget_current(caller);
    Ok(Next::Blocked)
}
