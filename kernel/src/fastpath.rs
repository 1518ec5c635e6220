//! The IPC fast path: `Call` and `ReplyRecv` of a register-only message to
//! a partner that is already waiting, switching straight to it.
//!
//! Each function is a list of guards, then the commit. Any guard that
//! fails returns `None` with nothing changed, and the general path
//! (`crate::ipc`) handles the syscall instead; so the fast path only ever
//! does what the general path would, minus its generality:
//! - the message has at most `MSG_REG_WORDS` words and no capabilities
//!   (no IPC buffer is touched);
//! - the partner is waiting (a receiver for `Call`, a caller for the reply
//!   of `ReplyRecv`, or a faulted thread the reply resumes), is not
//!   suspended, and no ready thread is more urgent than it (so switching to
//!   it directly is what the scheduler would do);
//! - for `Call`, the receiver holds no unanswered reply right; for
//!   `ReplyRecv`, no sender is queued on the endpoint and the bound
//!   notification (if any) has no bits pending (those receive at once).
//!
//! `Kernel::fastpath` (`FastPath::Off`) turns it off (kernel command line `fastpath=off`), so
//! the whole test suite can run on the general path too.

use abi::ipc::{MSG_REG_WORDS, MessageInfo};
use abi::syscall::ArgRegs;
use abi::{CapSlot, Rights};

use crate::cap::Capability;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::cspace;
use crate::object::endpoint;
use crate::object::endpoint::{Endpoint, QueueKind};
use crate::object::thread::{ReplyRight, Thread, ThreadState};

/// The syscalls with a fast path (the entry code tells them apart by
/// number, so this does not look again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastIpc {
    /// `Syscall::Call`.
    Call,
    /// `Syscall::ReplyRecv`.
    ReplyRecv,
}

/// Tries the fast path for the `kind` syscall the running thread `caller`
/// made; returns the thread to run next if it handled it.
#[inline(always)]
pub fn try_ipc(k: &mut Kernel, caller: ObjId<Thread>, kind: FastIpc) -> Option<ObjId<Thread>> {
    let (_, args) = k.objects.get(caller).context.syscall_args();
    match kind {
        FastIpc::Call => call(k, caller, &args),
        FastIpc::ReplyRecv => reply_recv(k, caller, &args),
    }
}

/// The info register, if the message fits in registers: bits 0-15 hold
/// the length, the capability count, reserved and kernel-only bits, so a
/// register-only message with no capabilities has them at most
/// `MSG_REG_WORDS` (one compare instead of a full decode).
#[inline(always)]
fn short_info(reg: u64) -> Option<MessageInfo> {
    if reg & 0xffff <= MSG_REG_WORDS as u64 {
        Some(MessageInfo::from_received(reg))
    } else {
        None
    }
}

#[inline(always)]
fn endpoint(
    k: &Kernel,
    caller: ObjId<Thread>,
    slot: u64,
    rights: Rights,
) -> Option<(ObjId<Endpoint>, Capability)> {
    let slot = CapSlot::from_reg(slot).ok()?;
    let cspace = k.objects.get(caller).cspace;
    cspace::lookup_inline::<ObjId<Endpoint>>(&k.objects, cspace, slot, rights).ok()
}

/// Whether `partner` may run now in the caller's place.
fn can_switch_to(k: &Kernel, partner: ObjId<Thread>) -> bool {
    let thread = k.objects.get(partner);
    !thread.suspended
        && k.sched
            .highest_ready()
            .is_none_or(|highest| highest <= thread.priority)
}

fn switch_to(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    partner: ObjId<Thread>,
) -> Option<ObjId<Thread>> {
    k.sched.forget_current(caller);
    k.objects.get_mut(partner).state = ThreadState::Running;
    k.sched.current = Some(partner);
    k.fastpath_hits += 1;
    Some(partner)
}

#[inline(always)]
fn call(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<ObjId<Thread>> {
    // Guards.
    let info = short_info(args[1])?;
    let (endpoint, cap) = endpoint(k, caller, args[0], Rights::WRITE)?;
    let receiver = k.objects.get(endpoint).first(QueueKind::Recv)?;
    let owes_reply = matches!(
        k.objects.get(receiver).reply,
        ReplyRight::To(_) | ReplyRight::Fault(_)
    );
    if owes_reply || !can_switch_to(k, receiver) || crate::timer::thread_armed(k, receiver) {
        return None;
    }
    // Commit: the receiver takes the message and the reply right; the
    // caller waits for the reply.
    endpoint::pop(k, endpoint);
    let grant = cap.rights.contains(Rights::GRANT);
    let thread = k.objects.get_mut(caller);
    thread.state = ThreadState::AwaitingReply { grant };
    thread.replier = Some(receiver);
    let thread = k.objects.get_mut(receiver);
    thread.reply = ReplyRight::To(caller);
    let received = info.with_call().to_reg();
    thread
        .context
        .set_syscall_result(0, [cap.badge, received, args[2], args[3], args[4], args[5]]);
    switch_to(k, caller, receiver)
}

#[inline(always)]
fn reply_recv(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<ObjId<Thread>> {
    // Guards.
    let info = short_info(args[1])?;
    // A reply to a call, or the answer that resumes a faulted thread.
    let (target, fault) = match k.objects.get(caller).reply {
        ReplyRight::To(target) => (target, false),
        ReplyRight::Fault(target) if info.label() == abi::ipc::fault::RESUME => (target, true),
        _ => return None,
    };
    let (endpoint, _) = endpoint(k, caller, args[0], Rights::READ)?;
    if k.objects.get(endpoint).kind == QueueKind::Send {
        return None;
    }
    if let Some(bound) = k.objects.get(caller).bound
        && k.objects.get(bound).word != 0
    {
        return None;
    }
    if !can_switch_to(k, target) {
        return None;
    }
    // Commit: the reply goes to the caller, which runs; this thread waits
    // on the endpoint.
    k.objects.get_mut(caller).reply = ReplyRight::None;
    let thread = k.objects.get_mut(target);
    thread.replier = None;
    // A faulted thread runs its faulting instruction again, registers
    // untouched.
    if !fault {
        thread
            .context
            .set_syscall_result(0, [0, info.to_reg(), args[2], args[3], args[4], args[5]]);
    }
    k.objects.get_mut(caller).state = ThreadState::Receiving { endpoint };
    endpoint::enqueue(k, endpoint, caller, QueueKind::Recv);
    switch_to(k, caller, target)
}
