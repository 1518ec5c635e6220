//! Endpoint syscalls: create, send, call, receive, reply, and saved
//! replies. The checks are here; the rendezvous and message transfer are
//! in `crate::ipc`, saved replies in `crate::object::reply`.
//!
//! Deadlines: `Recv` takes one in a register; `Send`, `Call` and
//! `ReplyRecv` (registers full) take one from the IPC buffer when the info
//! has the deadline flag (`MessageInfo::has_deadline`), read before
//! anything else happens. `NbSend`, `Reply` and `ReplyWith` never wait, so
//! they ignore the flag.

use abi::ipc::{MSG_REG_WORDS, MessageInfo};
use abi::syscall::{
    CallArgs, EndpointCreateArgs, EndpointWatchArgs, NbRecvArgs, NbSendArgs, RecvArgs, ReplyArgs,
    ReplyRecvArgs, ReplySaveArgs, ReplySaveRecvArgs, ReplyWithArgs, SendArgs,
};
use abi::{CapSlot, Rights, SysError};

use super::{check_new_slot, install_new, lookup, payer, slot_result};
use crate::cap::ObjectRef;
use crate::ipc::{self, Blocking, ReplyOutcome, SendMode};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::endpoint::Endpoint;
use crate::object::notification::Notification;
use crate::object::thread::{SendKind, Thread};
use crate::object::{lifetime, reply};

/// `EndpointCreate`.
pub fn endpoint_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: EndpointCreateArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    check_new_slot(k, caller)?;
    let id = lifetime::new_object(k, budget, Endpoint::new(budget))?;
    Ok(install_new(k, caller, ObjectRef::Endpoint(id), parent))
}

/// `EndpointWatch`: sets (or clears) the notification the kernel signals
/// when a client's watched capabilities are all gone (`cap::tree`).
pub fn endpoint_watch(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: EndpointWatchArgs,
) -> Result<Next, SysError> {
    let (endpoint, cap) =
        lookup::<ObjId<Endpoint>>(k, caller, args.endpoint, Rights::READ | Rights::WRITE)?;
    if cap.badge != 0 {
        return Err(SysError::InvalidArg);
    }
    let notification = match args.notification {
        CapSlot::NULL => None,
        slot => Some(lookup::<ObjId<Notification>>(k, caller, slot, Rights::WRITE)?.0),
    };
    if let Some(notification) = notification {
        lifetime::add_ref(k, ObjectRef::Notification(notification));
    }
    let old = core::mem::replace(&mut k.objects.get_mut(endpoint).watch, notification);
    if let Some(old) = old {
        lifetime::release(k, ObjectRef::Notification(old));
    }
    Ok(Next::Success)
}

/// Checks the caller's own message: a buffer when the words, the
/// capabilities or the bytes need one.
fn check_message(k: &Kernel, caller: ObjId<Thread>, info: MessageInfo) -> Result<(), SysError> {
    let needs_buffer = info.words() > MSG_REG_WORDS || info.caps() > 0 || info.has_bytes();
    if needs_buffer && k.objects.get(caller).ipc_buffer == 0 {
        return Err(SysError::InvalidArg);
    }
    Ok(())
}

/// Checks a send through `slot` and returns the endpoint and the mode.
fn decode_send(
    k: &Kernel,
    caller: ObjId<Thread>,
    slot: CapSlot,
    info: MessageInfo,
    kind: SendKind,
) -> Result<(ObjId<Endpoint>, SendMode), SysError> {
    let (endpoint, cap) = lookup::<ObjId<Endpoint>>(k, caller, slot, Rights::WRITE)?;
    let grant = cap.rights.contains(Rights::GRANT);
    if info.caps() > 0 && !grant {
        return Err(SysError::MissingRights);
    }
    check_message(k, caller, info)?;
    let mode = SendMode {
        badge: cap.badge,
        grant,
        kind,
    };
    Ok((endpoint, mode))
}

/// How long a blocking `Send`, `Call` or `ReplyRecv` may wait: until the
/// deadline in the caller's IPC buffer if the info asks for one.
fn blocking(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    info: MessageInfo,
) -> Result<Blocking, SysError> {
    if !info.has_deadline() {
        return Ok(Blocking::Block);
    }
    Ok(Blocking::until(ipc::buffer_deadline(k, caller)?))
}

/// `Send`.
pub fn send(k: &mut Kernel, caller: ObjId<Thread>, args: SendArgs) -> Result<Next, SysError> {
    let (endpoint, mode) = decode_send(k, caller, args.endpoint, args.info, SendKind::Send)?;
    let blocking = blocking(k, caller, args.info)?;
    ipc::send(k, caller, endpoint, mode, blocking)
}

/// `NbSend`.
pub fn nb_send(k: &mut Kernel, caller: ObjId<Thread>, args: NbSendArgs) -> Result<Next, SysError> {
    let (endpoint, mode) = decode_send(k, caller, args.endpoint, args.info, SendKind::Send)?;
    ipc::send(k, caller, endpoint, mode, Blocking::Poll)
}

/// `Call`.
pub fn call(k: &mut Kernel, caller: ObjId<Thread>, args: CallArgs) -> Result<Next, SysError> {
    let (endpoint, mode) = decode_send(k, caller, args.endpoint, args.info, SendKind::Call)?;
    let blocking = blocking(k, caller, args.info)?;
    ipc::send(k, caller, endpoint, mode, blocking)
}

/// `Recv`.
pub fn recv(k: &mut Kernel, caller: ObjId<Thread>, args: RecvArgs) -> Result<Next, SysError> {
    let (endpoint, _) = lookup::<ObjId<Endpoint>>(k, caller, args.endpoint, Rights::READ)?;
    ipc::recv(k, caller, endpoint, Blocking::until(args.deadline))
}

/// `NbRecv`.
pub fn nb_recv(k: &mut Kernel, caller: ObjId<Thread>, args: NbRecvArgs) -> Result<Next, SysError> {
    let (endpoint, _) = lookup::<ObjId<Endpoint>>(k, caller, args.endpoint, Rights::READ)?;
    ipc::recv(k, caller, endpoint, Blocking::Poll)
}

/// `Reply`.
pub fn reply(k: &mut Kernel, caller: ObjId<Thread>, args: ReplyArgs) -> Result<Next, SysError> {
    check_message(k, caller, args.info)?;
    match ipc::reply(k, caller)? {
        ReplyOutcome::Delivered => Ok(Next::Success),
        ReplyOutcome::CallerGone => Err(SysError::PeerClosed),
    }
}

/// `ReplyRecv`: a reply to a caller that has gone is dropped; a deadline
/// bounds the receive.
pub fn reply_recv(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ReplyRecvArgs,
) -> Result<Next, SysError> {
    let (endpoint, _) = lookup::<ObjId<Endpoint>>(k, caller, args.endpoint, Rights::READ)?;
    check_message(k, caller, args.info)?;
    let blocking = blocking(k, caller, args.info)?;
    ipc::reply(k, caller)?;
    ipc::recv(k, caller, endpoint, blocking)
}

/// `ReplySave`: the reply right becomes a Reply capability.
pub fn reply_save(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ReplySaveArgs,
) -> Result<Next, SysError> {
    reply::save(k, caller, args.dst).map(slot_result)
}

/// `ReplySaveRecv`: the reply right becomes a Reply capability in the
/// named slot (a dead one if its caller has gone), then the thread
/// receives; nothing happens if the save cannot.
pub fn reply_save_recv(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ReplySaveRecvArgs,
) -> Result<Next, SysError> {
    let (endpoint, _) = lookup::<ObjId<Endpoint>>(k, caller, args.endpoint, Rights::READ)?;
    if args.dst == CapSlot::NULL {
        return Err(SysError::InvalidArg);
    }
    reply::save_into(k, caller, args.dst)?;
    ipc::recv(k, caller, endpoint, Blocking::until(args.deadline))
}

/// `ReplyWith`: answers through a Reply capability, as `Reply` answers
/// through the thread's right.
pub fn reply_with(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ReplyWithArgs,
) -> Result<Next, SysError> {
    let (slot, target) = reply::lookup(k, caller, args.reply)?;
    check_message(k, caller, args.info)?;
    reply::answer(k, caller, slot, target)?;
    Ok(Next::Success)
}
