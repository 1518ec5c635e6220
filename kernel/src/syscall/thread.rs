//! Thread syscalls: create, wait, exit, yield.

use abi::layout::{USER_END, USER_START};
use abi::syscall::{
    SlotResult, SyscallResult, ThreadCreateArgs, ThreadExitArgs, ThreadStatus, ThreadWaitArgs,
    exit_kind,
};
use abi::{CapSlot, Rights, SysError};

use super::cspace_of;
use crate::cap::{Capability, ObjectRef};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::aspace::AddressSpace;
use crate::object::thread::{Thread, ThreadState};

/// `ThreadExit`.
pub fn exit(k: &mut Kernel, caller: ObjId<Thread>, args: ThreadExitArgs) -> Result<Next, SysError> {
    let status = ThreadStatus {
        kind: exit_kind::EXITED,
        code: args.code,
        ..ThreadStatus::default()
    };
    k.end_thread(caller, status);
    Ok(Next::Exited)
}

/// `ThreadYield`: to the back of the run queue.
pub fn yield_now(k: &mut Kernel) -> Result<Next, SysError> {
    k.sched.preempt(&mut k.objects);
    Ok(Next::Reply([0; 5]))
}

/// A checked `ThreadCreate`.
struct CreateOp {
    aspace: ObjId<AddressSpace>,
    slot: CapSlot,
    entry: u64,
    stack: u64,
    arg: u64,
}

fn decode_create(
    k: &Kernel,
    caller: ObjId<Thread>,
    args: ThreadCreateArgs,
) -> Result<CreateOp, SysError> {
    let cspace = cspace_of(k, caller);
    let aspace = cspace.lookup::<ObjId<AddressSpace>>(args.aspace, Rights::WRITE)?;
    if !(USER_START..USER_END).contains(&args.entry)
        || !(USER_START..=USER_END).contains(&args.stack)
    {
        return Err(SysError::InvalidArg);
    }
    let slot = cspace.free_slot()?;
    Ok(CreateOp {
        aspace,
        slot,
        entry: args.entry,
        stack: args.stack,
        arg: args.arg,
    })
}

/// `ThreadCreate`.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadCreateArgs,
) -> Result<Next, SysError> {
    let op = decode_create(k, caller, args)?;
    let cspace = k.objects.get(caller).cspace;
    let number = k.new_thread_id();
    let thread = Thread::new(number, op.aspace, cspace, op.entry, op.stack, op.arg);
    let id = k.objects.alloc(thread).map_err(|_| SysError::OutOfMemory)?;
    Ok(invoke_create(k, op, cspace, id))
}

fn invoke_create(
    k: &mut Kernel,
    op: CreateOp,
    cspace: ObjId<crate::cap::cspace::CSpace>,
    id: ObjId<Thread>,
) -> Next {
    let cap = Capability {
        object: ObjectRef::Thread(id),
        rights: Rights::all(),
        badge: 0,
    };
    k.objects.get_mut(cspace).install(op.slot, cap);
    k.objects.get_mut(cspace).thread_refs += 1;
    k.objects.get_mut(id).cap_refs = 1;
    k.objects.get_mut(op.aspace).refs += 1;
    k.live_threads += 1;
    k.sched.make_ready(&mut k.objects, id);
    Next::Reply(
        SlotResult {
            slot: u64::from(op.slot.0),
        }
        .encode(),
    )
}

/// `ThreadWait`.
pub fn wait(k: &mut Kernel, caller: ObjId<Thread>, args: ThreadWaitArgs) -> Result<Next, SysError> {
    let target = cspace_of(k, caller).lookup::<ObjId<Thread>>(args.thread, Rights::READ)?;
    if target == caller {
        return Err(SysError::InvalidArg);
    }
    let thread = k.objects.get(target);
    if thread.state == ThreadState::Exited {
        return Ok(Next::Reply(thread.status.encode()));
    }
    if thread.joiner.is_some() {
        return Err(SysError::WouldBlock);
    }
    k.objects.get_mut(target).joiner = Some(caller);
    k.objects.get_mut(caller).state = ThreadState::Joining;
    k.sched.current = None;
    Ok(Next::Blocked)
}
