//! Notification syscalls: create, signal, wait, poll, and the timer.

use abi::syscall::{
    NotificationCreateArgs, PollArgs, SignalArgs, Signals, SyscallResult, TimerSetArgs, WaitArgs,
};
use abi::{Rights, SysError};

use super::{check_new_slot, install_new, lookup, payer};
use crate::cap::ObjectRef;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::lifetime;
use crate::object::notification;
use crate::object::notification::Notification;
use crate::object::thread::Thread;
use crate::timer;

/// `NotificationCreate`.
pub fn create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: NotificationCreateArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    check_new_slot(k, caller)?;
    let id = lifetime::new_object(k, budget, Notification::new(budget))?;
    Ok(install_new(k, caller, ObjectRef::Notification(id), parent))
}

/// `Signal`: a badged capability signals its badge, an unbadged one `bits`.
pub fn signal(k: &mut Kernel, caller: ObjId<Thread>, args: SignalArgs) -> Result<Next, SysError> {
    let (id, cap) = lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::WRITE)?;
    let bits = match (cap.badge, args.bits) {
        (0, 0) => return Err(SysError::InvalidArg),
        (0, bits) => bits,
        (badge, 0) => badge,
        (_, _) => return Err(SysError::InvalidArg),
    };
    notification::signal(k, id, bits);
    Ok(Next::Success)
}

/// `Wait`, until the deadline if there is one.
pub fn wait(k: &mut Kernel, caller: ObjId<Thread>, args: WaitArgs) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::READ)?;
    let word = core::mem::take(&mut k.objects.get_mut(id).word);
    if word != 0 {
        return Ok(Next::Reply(Signals { bits: word }.encode()));
    }
    if args.deadline != 0 {
        return wait_until(k, id, caller, args.deadline);
    }
    notification::block(k, id, caller);
    Ok(Next::Blocked)
}

/// The rest of a `Wait` with a deadline (out of line: it reads the clock
/// and arms a timer, which would cost the common wait registers).
#[inline(never)]
fn wait_until(
    k: &mut Kernel,
    id: ObjId<Notification>,
    caller: ObjId<Thread>,
    deadline: u64,
) -> Result<Next, SysError> {
    if timer::expired(deadline) {
        return Err(SysError::TimedOut);
    }
    notification::block(k, id, caller);
    timer::arm_thread(k, caller, deadline);
    Ok(Next::Blocked)
}

/// `Poll`.
pub fn poll(k: &mut Kernel, caller: ObjId<Thread>, args: PollArgs) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::READ)?;
    let word = core::mem::take(&mut k.objects.get_mut(id).word);
    Ok(Next::Reply(Signals { bits: word }.encode()))
}

/// `TimerSet`.
pub fn timer_set(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: TimerSetArgs,
) -> Result<Next, SysError> {
    let (id, _) = lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::WRITE)?;
    if args.deadline != 0 && args.bits == 0 {
        return Err(SysError::InvalidArg);
    }
    if args.deadline == 0 {
        timer::disarm(k, id);
    } else {
        timer::arm(k, id, args.deadline, args.bits);
    }
    Ok(Next::Success)
}
