//! Saved replies: a thread's reply right kept as a capability
//! (`ObjectRef::Reply`), so that a server can leave a caller waiting while
//! it receives and answers other calls.
//!
//! `ReplySave` moves the thread's `ReplyRight::To(caller)` into a new
//! capability of its own capability space; `ReplyWith` answers through it
//! and empties the slot. No object is made and no budget pays: the
//! capability names the waiting caller, and holds no reference to it (a
//! caller's life is not the server's to prolong).
//!
//! Invariant, both ways: a caller's `Thread::saved_reply` is `Some(slot)`
//! exactly while `slot` holds `Reply(Some(caller))`; the caller is then in
//! `ThreadState::AwaitingReply` with no `replier`. Every operation that
//! breaks one side mends the other:
//! - the capability is deleted (`CapDelete`, the capability space
//!   destroyed): [`release`] wakes the caller with `PeerClosed`;
//! - it is answered: [`answer`] unlinks, empties the slot, wakes the
//!   caller with the reply;
//! - it is moved (`CapMove`, only within its space: it never has
//!   `GRANT`): [`moved`] follows it;
//! - the caller ends or is destroyed (`thread::detach`): [`caller_gone`]
//!   turns the capability into `Reply(None)`, which stays in its slot
//!   until `ReplyWith` (`PeerClosed`) or `CapDelete` empties it. The slot
//!   is not emptied at once: the server still owns that slot number, and
//!   a slot freed behind its back could be reused before it deletes it.
//!
//! Callers: `syscall::ipc` (`ReplySave`, `ReplyWith`), `cap::tree`
//! (moves), `object::lifetime` (deletion), `object::thread` (the caller's
//! end). The IPC fast paths never see a saved reply: `ReplyWith` has no
//! fast path, and after `ReplySave` the server holds no reply right, which
//! sends its next `ReplyRecv` to the general path.

use abi::{CapSlot, Rights, SysError};

use crate::cap::{Capability, ObjectRef, SlotId, tree};
use crate::ipc;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::cspace;
use crate::object::thread::{self, ReplyRight, Thread};

/// The rights of every Reply capability: `WRITE`, to answer (never
/// `GRANT`, so it cannot be sent or moved to another capability space).
pub const REPLY_RIGHTS: Rights = Rights::WRITE;

/// `ReplySave` for the running thread `server`: its reply right becomes a
/// Reply capability in slot `dst` of its capability space (the lowest
/// free one for [`CapSlot::NULL`]); returns the slot.
///
/// # Errors
/// In order: [`SysError::InvalidCap`] without a reply right;
/// [`SysError::InvalidArg`] for a fault message's right (kept);
/// [`SysError::PeerClosed`] if the caller has gone (the right is used
/// up); [`SysError::InvalidCap`] or [`SysError::OutOfMemory`] for `dst`
/// (the right is kept).
pub fn save(k: &mut Kernel, server: ObjId<Thread>, dst: CapSlot) -> Result<u32, SysError> {
    // Checks.
    let caller = match k.objects.get(server).reply {
        ReplyRight::None => return Err(SysError::InvalidCap),
        ReplyRight::Fault(_) => return Err(SysError::InvalidArg),
        ReplyRight::CallerGone => {
            k.objects.get_mut(server).reply = ReplyRight::None;
            return Err(SysError::PeerClosed);
        }
        ReplyRight::To(caller) => caller,
    };
    let space = k.objects.get(server).cspace;
    k.objects.get(space).check_reserve(dst)?;
    // Commit: the right leaves the thread for the capability.
    let index = k
        .objects
        .get_mut(space)
        .reserve(dst)
        .expect("check_reserve found the slot free");
    let cap = Capability {
        object: ObjectRef::Reply(Some(caller)),
        rights: REPLY_RIGHTS,
        badge: 0,
    };
    // An original: nothing derives from it, and only its own deletion
    // (or its space's) reaches it.
    let slot = tree::install(k, space, index, cap, None);
    k.objects.get_mut(server).reply = ReplyRight::None;
    let caller = k.objects.get_mut(caller);
    caller.replier = None;
    caller.saved_reply = Some(slot);
    Ok(index)
}

/// The save of `ReplySaveRecv` for the running thread `server`: as
/// [`save`] into the named slot `dst`, except that a right whose caller
/// has gone leaves a dead Reply capability there (`Reply(None)`, as if
/// the caller had ended just after the save) instead of failing, so that
/// `dst` holds a Reply capability whenever the receive goes ahead.
///
/// # Errors
/// In order, with nothing changed: [`SysError::InvalidCap`] without a
/// reply right; [`SysError::InvalidArg`] for a fault message's right;
/// [`SysError::InvalidCap`] for `dst` out of range or full.
pub fn save_into(k: &mut Kernel, server: ObjId<Thread>, dst: CapSlot) -> Result<(), SysError> {
    debug_assert!(dst != CapSlot::NULL, "the caller checked");
    let caller = match k.objects.get(server).reply {
        ReplyRight::None => return Err(SysError::InvalidCap),
        ReplyRight::Fault(_) => return Err(SysError::InvalidArg),
        ReplyRight::CallerGone => None,
        ReplyRight::To(caller) => Some(caller),
    };
    let space = k.objects.get(server).cspace;
    k.objects.get(space).check_reserve(dst)?;
    let Some(_) = caller else {
        // Commit: a dead capability, naming nobody.
        k.objects
            .get_mut(space)
            .reserve(dst)
            .expect("check_reserve found the slot free");
        let cap = Capability {
            object: ObjectRef::Reply(None),
            rights: REPLY_RIGHTS,
            badge: 0,
        };
        tree::install(k, space, dst.0, cap, None);
        k.objects.get_mut(server).reply = ReplyRight::None;
        return Ok(());
    };
    save(k, server, dst).map(|_| ())
}

/// The Reply capability in `thread`'s `slot`: where it is and the caller
/// it answers (`None` once the caller has gone).
///
/// # Errors
/// [`SysError::InvalidCap`] for slot 0, out of range or empty;
/// [`SysError::WrongType`] for a capability of another type.
pub fn lookup(
    k: &Kernel,
    thread: ObjId<Thread>,
    slot: CapSlot,
) -> Result<(SlotId, Option<ObjId<Thread>>), SysError> {
    let (id, cap) = cspace::get(&k.objects, k.objects.get(thread).cspace, slot)?;
    match cap.object {
        ObjectRef::Reply(caller) => Ok((id, caller)),
        _ => Err(SysError::WrongType),
    }
}

/// `ReplyWith` for the running thread `replier`, whose message is in its
/// argument registers, through the Reply capability in `slot` (found by
/// [`lookup`]): the caller gets the message, or the receiver-side error
/// of the transfer, and the slot is emptied.
///
/// # Errors
/// [`SysError::PeerClosed`] if the caller has gone (the slot is emptied
/// too); the sender-side errors of the transfer (nothing changes: the
/// capability stays and the caller still waits).
pub fn answer(
    k: &mut Kernel,
    replier: ObjId<Thread>,
    slot: SlotId,
    caller: Option<ObjId<Thread>>,
) -> Result<(), SysError> {
    let Some(caller) = caller else {
        tree::delete(k, slot);
        ipc::end_unsent_leases(k, replier);
        return Err(SysError::PeerClosed);
    };
    let result = ipc::transfer_reply(k, replier, caller)?;
    used_up(k, slot, caller);
    if result.is_err() {
        ipc::end_unsent_leases(k, replier);
    }
    thread::wake(k, caller, result);
    Ok(())
}

/// The Reply capability in `slot`, naming `caller`, has been answered:
/// unlinked from the caller, then deleted (unlinked first, so that
/// emptying the slot does not answer `PeerClosed` on top).
#[inline(always)]
pub fn used_up(k: &mut Kernel, slot: SlotId, caller: ObjId<Thread>) {
    caller_gone(k, slot);
    k.objects.get_mut(caller).saved_reply = None;
    // An original nothing derives from, naming no counted object: what
    // `tree::delete` would do comes down to emptying the slot.
    tree::delete_alone(k, slot);
}

/// A Reply capability naming `caller` was deleted: the caller's `Call`
/// fails with `PeerClosed` (from `lifetime::release`; a dead capability,
/// `Reply(None)`, answers nobody). Out of line: `release` is on every
/// capability deletion's path, and this is rare.
#[cold]
#[inline(never)]
pub fn release(k: &mut Kernel, caller: ObjId<Thread>) {
    k.objects.get_mut(caller).saved_reply = None;
    thread::wake(k, caller, Err(SysError::PeerClosed));
}

/// The caller whose reply was saved in `slot` has gone (or is being
/// answered): the capability stays, naming nobody.
pub fn caller_gone(k: &mut Kernel, slot: SlotId) {
    let cap = k.objects.slot_mut(slot).cap.as_mut();
    debug_assert!(
        matches!(
            cap,
            Some(Capability {
                object: ObjectRef::Reply(Some(_)),
                ..
            })
        ),
        "a saved caller's slot holds its Reply capability"
    );
    if let Some(cap) = cap {
        cap.object = ObjectRef::Reply(None);
    }
}

/// The capability `cap` has just moved to slot `to`: if it is a Reply
/// capability whose caller still waits, the caller follows it.
pub fn moved(k: &mut Kernel, cap: Option<Capability>, to: SlotId) {
    if let Some(Capability {
        object: ObjectRef::Reply(Some(caller)),
        ..
    }) = cap
    {
        k.objects.get_mut(caller).saved_reply = Some(to);
    }
}
