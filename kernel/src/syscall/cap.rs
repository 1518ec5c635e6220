//! Capability-space syscalls: copy, mint, move, delete, revoke, describe,
//! and creating capability spaces.

use abi::syscall::{
    CAP_COPY_ANY_TYPE, CAP_COPY_MANY_MAX, CSPACE_MAX_SLOTS, CSpaceCreateArgs, CapCopyArgs,
    CapCopyEntry, CapCopyManyArgs, CapCopyManyResult, CapDeleteArgs, CapDeleteRangeArgs,
    CapDetachArgs, CapInfo, CapInfoArgs, CapMintArgs, CapMoveArgs, CapRevokeArgs, SyscallResult,
    cap_copy_mode,
};
use abi::{CapSlot, Rights, SysError};

use super::{check_new_slot, cspace_of, install_new, lookup, payer, slot_result};
use crate::cap::tree::{self, Preempted};
use crate::cap::{Capability, ObjectRef, SlotId};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::cspace::{self, CSpace};
use crate::object::thread::Thread;
use crate::usercopy::{Read, UserPtr, UserSlice, Write};

/// A checked copy, mint or move.
struct DeriveOp {
    /// The source slot.
    source: SlotId,
    /// The capability to install.
    cap: Capability,
    /// Destination space.
    cspace: ObjId<CSpace>,
    /// Destination slot (or NULL for the lowest free).
    dst: CapSlot,
}

/// Checks a copy (`rights`), a mint (`rights` and `badge`) or a move
/// (`rights` None) from the caller's `src` to `dst` in `cspace_slot`.
fn decode_derive(
    k: &Kernel,
    caller: ObjId<Thread>,
    src: CapSlot,
    rights: Option<Rights>,
    badge: Option<u64>,
    cspace_slot: CapSlot,
    dst: CapSlot,
) -> Result<DeriveOp, SysError> {
    let own = cspace_of(k, caller);
    let source = cspace::get(&k.objects, own, src)?;
    // The source's own checks come before the destination's lookup.
    check_source(&source.1, rights)?;
    let target = target_space(k, caller, cspace_slot)?;
    derive_into(k, source, rights, badge, (own, target), dst)
}

/// The checks of a copy (`rights`) or move (None) that look only at the
/// source capability `cap`.
fn check_source(cap: &Capability, rights: Option<Rights>) -> Result<(), SysError> {
    // A saved reply answers its caller once: a copy would answer twice.
    // (It moves, but only within its space: it has no GRANT.)
    if rights.is_some() && matches!(cap.object, ObjectRef::Reply(_)) {
        return Err(SysError::InvalidArg);
    }
    if !cap.rights.contains(rights.unwrap_or(cap.rights)) {
        return Err(SysError::MissingRights);
    }
    Ok(())
}

/// The destination space `cspace_slot` names: the caller's for NULL,
/// else a capability space the caller may write.
fn target_space(
    k: &Kernel,
    caller: ObjId<Thread>,
    cspace_slot: CapSlot,
) -> Result<ObjId<CSpace>, SysError> {
    if cspace_slot == CapSlot::NULL {
        Ok(cspace_of(k, caller))
    } else {
        Ok(lookup::<ObjId<CSpace>>(k, caller, cspace_slot, Rights::WRITE)?.0)
    }
}

/// [`decode_derive`] with the source looked up (`source`, in the
/// caller's space `own`) and the destination space found (`target`).
fn derive_into(
    k: &Kernel,
    (source, cap): (SlotId, Capability),
    rights: Option<Rights>,
    badge: Option<u64>,
    (own, target): (ObjId<CSpace>, ObjId<CSpace>),
    dst: CapSlot,
) -> Result<DeriveOp, SysError> {
    check_source(&cap, rights)?;
    let rights = rights.unwrap_or(cap.rights);
    if target != own && !cap.rights.contains(Rights::GRANT) {
        return Err(SysError::MissingRights);
    }
    let badge = match badge {
        None => cap.badge,
        Some(badge) => {
            if badge == 0
                || cap.badge != 0
                || !cap.object.object_type().is_some_and(|t| t.is_badgeable())
            {
                return Err(SysError::InvalidArg);
            }
            badge
        }
    };
    k.objects.get(target).check_reserve(dst)?;
    Ok(DeriveOp {
        source,
        cap: Capability {
            object: cap.object,
            rights,
            badge,
        },
        cspace: target,
        dst,
    })
}

fn reserve(k: &mut Kernel, op: &DeriveOp) -> u32 {
    k.objects
        .get_mut(op.cspace)
        .reserve(op.dst)
        .expect("decode checked the destination slot")
}

fn invoke_derive(k: &mut Kernel, op: DeriveOp) -> Next {
    let index = reserve(k, &op);
    tree::install(k, op.cspace, index, op.cap, Some(op.source));
    slot_result(index)
}

/// `CapCopy`.
pub fn copy(k: &mut Kernel, caller: ObjId<Thread>, args: CapCopyArgs) -> Result<Next, SysError> {
    let op = decode_derive(
        k,
        caller,
        args.src,
        Some(args.rights),
        None,
        args.cspace,
        args.dst,
    )?;
    Ok(invoke_derive(k, op))
}

/// Bytes of one [`CapCopyEntry`].
const ENTRY_BYTES: u64 = core::mem::size_of::<CapCopyEntry>() as u64;
/// Entries `CapCopyMany` reads from the caller at once.
const ENTRIES_PER_READ: usize = 16;

/// `CapCopyMany`: the call's checks (count, entries, destination space),
/// then each entry checked and copied in turn; an entry that fails is
/// skipped and reported.
pub fn copy_many(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapCopyManyArgs,
) -> Result<Next, SysError> {
    if !(1..=CAP_COPY_MANY_MAX).contains(&args.count) {
        return Err(SysError::InvalidArg);
    }
    let spaces = (cspace_of(k, caller), target_space(k, caller, args.cspace)?);
    // `count <= CAP_COPY_MANY_MAX`, checked above.
    let count = args.count as usize;
    // At most 64 entries of 16 bytes: none of the products below wrap.
    let whole = UserSlice::<Read>::new(args.addr, args.count.wrapping_mul(ENTRY_BYTES))?;
    // Every entry readable before the first is done.
    whole.prepare(k, caller)?;
    let mut result = CapCopyManyResult::default();
    // Read a few at a time: a small buffer to clear, and most calls fit
    // in one.
    let mut buffer = [CapCopyEntry::default(); ENTRIES_PER_READ];
    for first in (0..count).step_by(ENTRIES_PER_READ) {
        // `first < count`.
        let n = ENTRIES_PER_READ.min(count.wrapping_sub(first));
        let entries = &mut buffer[..n];
        let bytes = zerocopy::IntoBytes::as_mut_bytes(entries);
        whole
            .part(first.wrapping_mul(ENTRY_BYTES as usize), bytes.len())?
            .copy_to(k, caller, bytes)?;
        for (i, entry) in (first..).zip(entries.iter()) {
            match decode_entry(k, spaces, entry) {
                Ok(op) => {
                    if let Some(op) = op {
                        invoke_derive(k, op);
                    }
                    result.copied |= 1 << i;
                }
                Err(error) if result.first_error == 0 => result.first_error = error.code(),
                Err(_) => {}
            }
        }
    }
    Ok(Next::Reply(result.encode()))
}

/// Checks one [`CapCopyEntry`] from the caller's space to `target`
/// (`spaces`): a copy as [`decode_derive`] checks it, after the entry's
/// own checks (its mode, its destination, the source's type); `None` for
/// a [`cap_copy_mode::CHECK`] entry that passed (nothing to copy).
fn decode_entry(
    k: &Kernel,
    spaces: (ObjId<CSpace>, ObjId<CSpace>),
    entry: &CapCopyEntry,
) -> Result<Option<DeriveOp>, SysError> {
    let wanted = Rights::from_reg(u64::from(entry.rights))?;
    // A copy names its destination; a check names none.
    if (entry.dst == 0) != (entry.mode == cap_copy_mode::CHECK) {
        return Err(SysError::InvalidArg);
    }
    let source = cspace::get(&k.objects, spaces.0, CapSlot(entry.src))?;
    let cap = source.1;
    if entry.object_type != CAP_COPY_ANY_TYPE {
        let kind = abi::ObjectType::from_reg(u64::from(entry.object_type))?;
        if cap.object.object_type() != Some(kind) {
            return Err(SysError::WrongType);
        }
    }
    let rights = match entry.mode {
        cap_copy_mode::EXACT => wanted,
        cap_copy_mode::MASK => cap.rights & wanted,
        cap_copy_mode::CHECK if cap.rights.contains(wanted) => return Ok(None),
        cap_copy_mode::CHECK => return Err(SysError::MissingRights),
        _ => return Err(SysError::InvalidArg),
    };
    derive_into(k, source, Some(rights), None, spaces, CapSlot(entry.dst)).map(Some)
}

/// `CapMint`.
pub fn mint(k: &mut Kernel, caller: ObjId<Thread>, args: CapMintArgs) -> Result<Next, SysError> {
    let op = decode_derive(
        k,
        caller,
        args.src,
        Some(args.rights),
        Some(args.badge),
        args.cspace,
        args.dst,
    )?;
    Ok(invoke_derive(k, op))
}

/// `CapMove`.
pub fn move_cap(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapMoveArgs,
) -> Result<Next, SysError> {
    let op = decode_derive(k, caller, args.src, None, None, args.cspace, args.dst)?;
    let index = reserve(k, &op);
    tree::move_to(k, op.source, op.cspace, index);
    Ok(slot_result(index))
}

/// `CapDelete`.
pub fn delete(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapDeleteArgs,
) -> Result<Next, SysError> {
    // A revoked slot too: deleting it is what frees it.
    let (slot, _) = cspace::get_any(&k.objects, cspace_of(k, caller), args.slot)?;
    tree::delete(k, slot);
    Ok(Next::Success)
}

/// `CapDeleteRange`: deletes the full slots of `[first, first + count)`
/// of the caller's space, walking its bitmap of full slots; restarts
/// itself when a tick preempts it (the slots emptied so far stay empty,
/// so the restarted call carries on). Destruction is deferred to the end
/// of the syscall, so the space stays valid while it is walked even when
/// the range holds the caller's own thread or space.
pub fn delete_range(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapDeleteRangeArgs,
) -> Result<Next, SysError> {
    let cspace = cspace_of(k, caller);
    let limit = u64::from(k.objects.get(cspace).capacity());
    let end = u64::from(args.first.0)
        .checked_add(args.count)
        .filter(|&end| args.first != CapSlot::NULL && args.count != 0 && end <= limit)
        .ok_or(SysError::InvalidArg)?;
    let mut from = args.first.0;
    let mut deleted: u32 = 0;
    while let Some(index) = k
        .objects
        .get(cspace)
        .next_used(from)
        .filter(|&index| u64::from(index) < end)
    {
        if let Some(slot) = k.objects.get(cspace).slot_id(index) {
            tree::delete(k, slot);
        }
        deleted = deleted.wrapping_add(1);
        if deleted.is_multiple_of(crate::config::REVOKE_BATCH) && crate::time::preemption_point() {
            return Ok(Next::Restart);
        }
        // Below `end`, which is at most the space's limit.
        from = index.wrapping_add(1);
    }
    Ok(Next::Success)
}

/// `CapRevoke`: restarts itself when a tick preempts it.
pub fn revoke(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapRevokeArgs,
) -> Result<Next, SysError> {
    let (slot, _) = cspace::get(&k.objects, cspace_of(k, caller), args.slot)?;
    match tree::revoke(k, slot) {
        Ok(()) => Ok(Next::Success),
        Err(Preempted) => Ok(Next::Restart),
    }
}

/// `CapDetach`: `slot` must derive from `ancestor`.
pub fn detach(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapDetachArgs,
) -> Result<Next, SysError> {
    let cspace = cspace_of(k, caller);
    let (node, _) = cspace::get(&k.objects, cspace, args.slot)?;
    let (ancestor, _) = cspace::get(&k.objects, cspace, args.ancestor)?;
    if !tree::is_derived(k, ancestor, node) {
        return Err(SysError::InvalidArg);
    }
    tree::detach(k, ancestor, node);
    Ok(Next::Success)
}

/// `CapInfo`: write the description to user memory.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn info(k: &mut Kernel, caller: ObjId<Thread>, args: CapInfoArgs) -> Result<Next, SysError> {
    let (_, cap) = cspace::get(&k.objects, cspace_of(k, caller), args.slot)?;
    let out = UserPtr::<CapInfo, Write>::new(args.out)?;
    let info = CapInfo {
        object_type: cap.object.object_type().map_or(0, |t| t.to_reg() as u32),
        rights: cap.rights.bits(),
        badge: cap.badge,
    };
    out.write(k, caller, &info)?;
    Ok(Next::Success)
}

/// `CSpaceCreate`.
pub fn cspace_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CSpaceCreateArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    if !(2..=CSPACE_MAX_SLOTS).contains(&args.slots) {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    let id = cspace::create(k, args.slots, budget)?;
    Ok(install_new(k, caller, ObjectRef::CSpace(id), parent))
}
