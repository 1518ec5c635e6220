//! Operations that change slots: install, delete, move and revoke. Each
//! keeps three things in step: the slot contents, the derivation tree
//! (`kcore::cdt`, whose links live in the slots) and the reference counts
//! of the objects named (the kernel destroys an object when its count
//! reaches zero, after the current operation).

use kcore::cdt::{self, CdtLinks, CdtStore, Revoke};

use super::{Capability, ObjectRef, SlotId};
use crate::kernel::Kernel;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::cspace::CSpace;
use crate::object::{lifetime, reply};

impl CdtStore for Objects {
    type Id = SlotId;

    fn cdt(&self, id: SlotId) -> CdtLinks<SlotId> {
        let slot = self.slot(id);
        CdtLinks {
            prev: slot.prev,
            next: slot.next,
            depth: slot.depth,
        }
    }

    fn set_cdt(&mut self, id: SlotId, links: CdtLinks<SlotId>) {
        let slot = self.slot_mut(id);
        slot.prev = links.prev;
        slot.next = links.next;
        slot.depth = links.depth;
    }
}

/// Puts `cap` in slot `index` of `cspace` (reserved by the caller), as a
/// child of `parent` in the derivation tree or as an original.
pub fn install(
    k: &mut Kernel,
    cspace: ObjId<CSpace>,
    index: u32,
    cap: Capability,
    parent: Option<SlotId>,
) -> SlotId {
    let id = k
        .objects
        .get(cspace)
        .slot_id(index)
        .expect("a reserved slot is in range");
    debug_assert!(k.objects.slot(id).cap.is_none());
    k.objects.slot_mut(id).cap = Some(cap);
    match parent {
        Some(parent) => cdt::insert_child(&mut k.objects, parent, id),
        None => cdt::insert_root(&mut k.objects, id),
    }
    lifetime::add_ref(k, cap.object);
    id
}

/// Empties a slot. Capabilities derived from it move up to its parent.
/// The object loses a reference (and is destroyed later if that was the
/// last). Does nothing to an empty slot.
pub fn delete(k: &mut Kernel, id: SlotId) {
    let Some(cap) = k.objects.slot_mut(id).cap.take() else {
        return;
    };
    // The capability this one derives from, if this is its first child
    // (a later child leaves it with an earlier one).
    let links = cdt::CdtStore::cdt(&k.objects, id);
    let first_of = links.prev.filter(|&prev| {
        links.depth.checked_sub(1) == Some(cdt::CdtStore::cdt(&k.objects, prev).depth)
    });
    cdt::remove(&mut k.objects, id);
    let slot = k.objects.slot(id);
    let (owner, index) = (slot.owner, slot.index);
    k.objects.get_mut(owner).release(index);
    lifetime::release(k, cap.object);
    if let Some(parent) = first_of
        && !k.revoking
    {
        lease_ended(k, parent);
    }
}

/// Takes the capability out of slot `id` for a revoke, as [`delete`]
/// does, but leaves the slot taken, holding `ObjectRef::Revoked`, until
/// its holder deletes it: a holder that kept the slot's number (a
/// server's record of a client's capability, a handle) never deletes or
/// uses a capability the slot got afterwards.
fn leave_revoked(k: &mut Kernel, id: SlotId) {
    let Some(cap) = k.objects.slot_mut(id).cap.take() else {
        return;
    };
    cdt::remove(&mut k.objects, id);
    k.objects.slot_mut(id).cap = Some(Capability {
        object: ObjectRef::Revoked,
        rights: abi::Rights::empty(),
        badge: 0,
    });
    lifetime::release(k, cap.object);
}

/// Ends the lease in `id` if it is one that nothing derives from (a
/// reply that should have carried a copy reached nobody): what the
/// deletion of its last copy would have done.
pub fn end_lease_if_unheld(k: &mut Kernel, id: SlotId) {
    if !k.revoking {
        lease_ended(k, id);
    }
}

/// Empties a slot whose capability is alone in the derivation tree (an
/// original that nothing derives from) and holds no reference: a dead
/// Reply capability (`ObjectRef::Reply(None)`). What [`delete`] does, less
/// what cannot apply: no descendant to promote, no object to release, no
/// lease to end.
#[inline(always)]
pub fn delete_alone(k: &mut Kernel, id: SlotId) {
    debug_assert!(matches!(
        k.objects.slot(id).cap,
        Some(Capability {
            object: ObjectRef::Reply(None),
            ..
        })
    ));
    debug_assert!(cdt::CdtStore::cdt(&k.objects, id) == cdt::CdtLinks::root());
    let slot = k.objects.slot_mut(id);
    slot.cap = None;
    let (owner, index) = (slot.owner, slot.index);
    k.objects.get_mut(owner).release(index);
}

/// `EndpointWatch`: if `id` is a watched capability (badged with
/// `WATCH_BADGE`, minted straight from an unbadged capability to an
/// endpoint that has a watch notification) and nothing derives from it
/// any more, deletes it and signals the notification with bit
/// `badge % 64`.
fn lease_ended(k: &mut Kernel, id: SlotId) {
    if cdt::has_children(&k.objects, id) {
        return;
    }
    let Some(cap) = k.objects.slot(id).cap else {
        return;
    };
    let ObjectRef::Endpoint(endpoint) = cap.object else {
        return;
    };
    if cap.badge & abi::ipc::WATCH_BADGE == 0 {
        return;
    }
    let Some(notification) = k.objects.get(endpoint).watch else {
        return;
    };
    let minted_by_server = cdt::parent(&k.objects, id)
        .and_then(|parent| k.objects.slot(parent).cap)
        .is_some_and(|parent| parent.badge == 0);
    if !minted_by_server {
        return;
    }
    // Its parent is unbadged: deleting it cannot end another lease.
    delete(k, id);
    crate::object::notification::signal(k, notification, 1 << (cap.badge % 64));
}

/// Moves the capability in `from` to slot `index` of `cspace` (reserved by
/// the caller); it keeps its place in the derivation tree (and a saved
/// reply's caller follows it).
pub fn move_to(k: &mut Kernel, from: SlotId, cspace: ObjId<CSpace>, index: u32) -> SlotId {
    let to = k
        .objects
        .get(cspace)
        .slot_id(index)
        .expect("a reserved slot is in range");
    let cap = k.objects.slot_mut(from).cap.take();
    k.objects.slot_mut(to).cap = cap;
    cdt::replace(&mut k.objects, from, to);
    let slot = k.objects.slot(from);
    let (owner, index) = (slot.owner, slot.index);
    k.objects.get_mut(owner).release(index);
    reply::moved(k, cap, to);
    to
}

/// Whether the capability in `node` is derived (directly or not) from the
/// one in `ancestor`.
pub fn is_derived(k: &Kernel, ancestor: SlotId, node: SlotId) -> bool {
    cdt::is_descendant(&k.objects, ancestor, node)
}

/// Takes `node` and what derives from it out from under `ancestor` (it must
/// be derived from it): it becomes `ancestor`'s sibling. Only the tree
/// changes: no object gains or loses a reference.
pub fn detach(k: &mut Kernel, ancestor: SlotId, node: SlotId) {
    cdt::detach(&mut k.objects, ancestor, node);
}

/// A revoke stopped to let an interrupt in; the caller restarts it.
pub struct Preempted;

/// Deletes every capability derived from `id`, leaves first.
///
/// # Errors
/// [`Preempted`] when a timer tick arrived: the deletions so far stand,
/// and running the revoke again carries on.
pub fn revoke(k: &mut Kernel, id: SlotId) -> Result<(), Preempted> {
    let mut revoke = Revoke::new(id);
    let mut deleted: u32 = 0;
    // A watched capability left childless here is either inside the
    // subtree (the revoke deletes it next) or the revoke's root: no lease
    // ends while the cursor walks (a deletion of its own would move the
    // ground under it).
    k.revoking = true;
    while let Some(leaf) = revoke.next_leaf(&k.objects) {
        leave_revoked(k, leaf);
        deleted = deleted.wrapping_add(1);
        if deleted.is_multiple_of(crate::config::REVOKE_BATCH) && crate::time::preemption_point() {
            k.revoking = false;
            return Err(Preempted);
        }
    }
    k.revoking = false;
    Ok(())
}
