//! Capabilities going: `CapDelete` (of a middle capability, of the
//! original, of the caller's own thread), `CapRevoke` (across spaces, many
//! at once), `CapDeleteRange`, `CapDetach`, and `EndpointWatch`, which
//! signals when the last capability derived from a lease goes.

use crate::raw as sys;
use abi::syscall::Syscall;
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::tests::support::{
    EMPTY_SLOT, Raw, budget, clear_out, code, free_frames, low_slot, must, out, raw_entry, set_out,
};
use crate::tests::syscalls::fail;
use crate::tests::{TestResult, aspace_cap, debug_cap};
use crate::{ensure, ensure_eq};

use super::support::{described, empty, probe, revoked};

/// Flags `OUT[4]`, deletes its own capability (`low(arg)`), flags again.
fn delete_self(arg: u64) -> u64 {
    set_out(4, 1);
    let result = sys::cap_delete(low_slot(arg));
    set_out(4, 2);
    code(result)
}

raw_entry! {
    delete_self_entry => delete_self;
}

pub fn delete() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let with_ep = free_frames()?;
    ensure!(with_ep < before);
    // Deleting a middle capability: its children move up to its parent.
    let middle = must(sys::cap_copy(ep, Rights::all()))?;
    let child = must(sys::cap_copy(middle, Rights::READ))?;
    ensure_eq!(sys::cap_delete(middle), Ok(()));
    ensure!(empty(middle));
    ensure!(!empty(child));
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    ensure!(revoked(child));
    // Deleting the original: the copies keep the object alive, as
    // originals of their own.
    let copy = must(sys::cap_copy(ep, Rights::all()))?;
    let grandchild = must(sys::cap_copy(copy, Rights::READ))?;
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, with_ep);
    ensure_eq!(sys::cap_revoke(copy), Ok(()));
    ensure!(revoked(grandchild));
    // The last capability takes the object.
    ensure_eq!(sys::cap_delete(copy), Ok(()));
    ensure_eq!(free_frames()?, before);
    // Errors.
    for bad in [
        CapSlot::NULL,
        copy,
        EMPTY_SLOT,
        CapSlot(4096),
        CapSlot(u32::MAX),
    ] {
        ensure_eq!(sys::cap_delete(bad), Err(SysError::InvalidCap));
    }
    let (status, _) = sys::raw_syscall(Syscall::CapDelete.number(), [1 << 32, 0, 0, 0, 0, 0]);
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    Ok(())
}

pub fn delete_own_thread() -> TestResult {
    let before = free_frames()?;
    clear_out();
    // Deleting the last capability to oneself ends the thread there.
    let thread = Raw::new(delete_self_entry, 0)
        .priority(33)
        .own_slot()
        .start()?;
    ensure_eq!(out(4), 1);
    thread.deleted_itself()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn revoke() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    let child = must(sys::cap_copy(ep, Rights::all()))?;
    let grandchild = must(sys::cap_copy(child, Rights::all()))?;
    let minted = must(sys::cap_mint(child, Rights::WRITE, 9))?;
    let minted_copy = must(sys::cap_copy(minted, Rights::WRITE))?;
    let elsewhere = must(sys::cap_copy_to(
        grandchild,
        Rights::READ,
        space,
        CapSlot(7),
    ))?;
    ensure_eq!(elsewhere, CapSlot(7));
    let sibling = must(sys::cap_copy(ep, Rights::READ))?;
    let unrelated = must(sys::endpoint_create(budget()))?;
    let unrelated_copy = must(sys::cap_copy(unrelated, Rights::READ))?;
    let debug_copy = must(sys::cap_copy(debug_cap(), Rights::READ))?;
    let in_space = must(sys::cap_copy_to(unrelated, Rights::READ, space, CapSlot(8)))?;

    // Everything derived from `child`, in any space, goes; it stays.
    ensure_eq!(sys::cap_revoke(child), Ok(()));
    for slot in [grandchild, minted, minted_copy] {
        ensure!(empty(slot));
    }
    for slot in [child, ep, sibling, unrelated, unrelated_copy, debug_copy] {
        ensure!(!empty(slot));
    }
    let found = probe(space, [7, 8])?;
    ensure_eq!(found[0], None);
    ensure_eq!(
        found[1],
        Some(described(ObjectType::Endpoint, Rights::READ, 0))
    );
    ensure_eq!(in_space, CapSlot(8));

    // Then from the original; again is nothing to do.
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    ensure!(empty(child) && empty(sibling));
    ensure!(!empty(ep));
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    ensure_eq!(sys::cap_revoke(debug_copy), Ok(()));

    // Many at once (revoke may stop for a tick and carry on): a wide
    // fan and a deep chain.
    let mut slots = [CapSlot::NULL; 600];
    let (fan, chain) = slots.split_at_mut(300);
    for slot in fan {
        *slot = must(sys::cap_copy(ep, Rights::READ))?;
    }
    let mut parent = ep;
    for slot in chain {
        *slot = must(sys::cap_copy(parent, Rights::READ))?;
        parent = *slot;
    }
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    for slot in slots {
        ensure!(empty(slot));
    }
    ensure!(!empty(ep));

    // Errors.
    for bad in [
        CapSlot::NULL,
        child,
        EMPTY_SLOT,
        CapSlot(4096),
        CapSlot(u32::MAX),
    ] {
        ensure_eq!(sys::cap_revoke(bad), Err(SysError::InvalidCap));
    }
    let (status, _) = sys::raw_syscall(Syscall::CapRevoke.number(), [1 << 32, 0, 0, 0, 0, 0]);
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));

    for slot in [unrelated_copy, unrelated, debug_copy, space, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// `CapDeleteRange`: the full slots of the range go (the empty ones are
/// skipped), the slots around it stay; an object whose last capability
/// was in the range is destroyed; a range of more capabilities than a
/// revoke batch is one call. Then each error.
pub fn delete_range() -> TestResult {
    const FIRST: u32 = 3500;
    const COUNT: u32 = 300;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    // Filled: every slot of the range but each seventh, and the slots
    // just outside it.
    let filled: alloc::vec::Vec<CapSlot> = (FIRST..FIRST + COUNT)
        .filter(|n| n % 7 != 0)
        .map(CapSlot)
        .collect();
    for &slot in &filled {
        ensure_eq!(
            sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, slot),
            Ok(slot)
        );
    }
    let below = CapSlot(FIRST - 1);
    let above = CapSlot(FIRST + COUNT);
    for slot in [below, above] {
        ensure_eq!(
            sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, slot),
            Ok(slot)
        );
    }
    // The only capability to a second endpoint sits in the range.
    let doomed = must(sys::endpoint_create(budget()))?;
    let inside = CapSlot(FIRST + 7);
    ensure_eq!(sys::cap_move(doomed, CapSlot::NULL, inside), Ok(inside));

    ensure_eq!(
        sys::cap_delete_range(CapSlot(FIRST), u64::from(COUNT)),
        Ok(())
    );
    for &slot in filled.iter().chain([&inside]) {
        ensure!(empty(slot));
    }
    ensure!(!empty(below) && !empty(above) && !empty(ep));
    // An empty range is no error.
    ensure_eq!(
        sys::cap_delete_range(CapSlot(FIRST), u64::from(COUNT)),
        Ok(())
    );

    // Errors: slot 0, no slots, past the end (4096 slots), an overflowing
    // count, a first slot above 32 bits.
    let limit = 4096u64;
    for (first, count) in [
        (CapSlot::NULL, 1),
        (CapSlot(FIRST), 0),
        (CapSlot(4095), 2),
        (CapSlot(4096), 1),
        (CapSlot(u32::MAX), 1),
        (CapSlot(1), limit),
        (CapSlot(FIRST), u64::MAX),
    ] {
        ensure_eq!(
            sys::cap_delete_range(first, count),
            Err(SysError::InvalidArg)
        );
    }
    let number = Syscall::CapDeleteRange.number();
    let (status, _) = sys::raw_syscall(number, [(1 << 32) | u64::from(FIRST), 1, 0, 0, 0, 0]);
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    // Nothing changed on an error.
    ensure!(!empty(below) && !empty(above));

    for slot in [below, above, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// `CapDetach`: a detached capability (with what derives from it) escapes
/// a revoke of the ancestor, not of what is above; and a budget's child
/// outlives a revoke of the budget that way, still charged to it.
pub fn detach() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let middle = must(sys::cap_copy(ep, Rights::all()))?;
    let kept = must(sys::cap_copy(middle, Rights::all()))?;
    let below_kept = must(sys::cap_copy(kept, Rights::READ))?;
    let doomed = must(sys::cap_copy(middle, Rights::READ))?;
    ensure_eq!(sys::cap_detach(kept, middle), Ok(()));
    ensure_eq!(sys::cap_revoke(middle), Ok(()));
    ensure!(empty(doomed));
    ensure!(!empty(kept) && !empty(below_kept));
    // Still under the original.
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    ensure!(empty(kept) && empty(below_kept) && empty(middle));

    // Errors: not derived (either way round, itself, a sibling), bad slots.
    let a = must(sys::cap_copy(ep, Rights::all()))?;
    let b = must(sys::cap_copy(ep, Rights::all()))?;
    let a_child = must(sys::cap_copy(a, Rights::all()))?;
    for (slot, ancestor) in [(a, a_child), (a, a), (a, b), (ep, a), (a_child, b)] {
        ensure_eq!(sys::cap_detach(slot, ancestor), Err(SysError::InvalidArg));
    }
    for (slot, ancestor) in [(EMPTY_SLOT, a), (a_child, EMPTY_SLOT), (CapSlot::NULL, a)] {
        ensure_eq!(sys::cap_detach(slot, ancestor), Err(SysError::InvalidCap));
    }
    ensure_eq!(sys::cap_detach(a_child, a), Ok(()));
    ensure_eq!(sys::cap_detach(a_child, ep), Ok(()));
    ensure_eq!(sys::cap_detach(a_child, ep), Err(SysError::InvalidArg));

    // Budgets: revoking a parent budget spares a detached child budget and
    // what it paid for; the parent lingers while the child is charged to
    // it, and everything comes back when the child goes.
    let parent = must(sys::budget_split(budget(), 64))?;
    let child = must(sys::budget_split(parent, 16))?;
    let paid_by_child = must(sys::endpoint_create(child))?;
    let paid_by_parent = must(sys::endpoint_create(parent))?;
    ensure_eq!(sys::cap_detach(child, parent), Ok(()));
    ensure_eq!(sys::cap_revoke(parent), Ok(()));
    ensure!(empty(paid_by_parent));
    ensure!(!empty(child) && !empty(paid_by_child));
    ensure_eq!(sys::budget_info(parent).map(|s| s.used), Ok(17));
    ensure_eq!(sys::cap_delete(parent), Ok(()));
    ensure!(sys::endpoint_create(child).is_ok_and(|e| sys::cap_delete(e).is_ok()));
    ensure_eq!(sys::cap_revoke(child), Ok(()));
    ensure!(empty(paid_by_child));
    ensure_eq!(sys::cap_delete(child), Ok(()));

    for slot in [a_child, b, a, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// `EndpointWatch`: a capability the server minted with `WATCH_BADGE`
/// goes, and the notification is signalled, when the last capability
/// derived from it goes, wherever it was; a client's own copy is never
/// taken; nothing happens without the badge bit, after the watch is
/// cleared, or inside a revoke.
pub fn endpoint_watch() -> TestResult {
    use abi::ipc::WATCH_BADGE;
    let before = free_frames()?;
    let rw = Rights::WRITE | Rights::GRANT;
    let ep = must(sys::endpoint_create(budget()))?;
    let note = must(sys::notification_create(budget()))?;
    ensure_eq!(sys::endpoint_watch(ep, note), Ok(()));
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 5))?;
    let given = must(sys::cap_copy(lease, rw))?;
    let copied = must(sys::cap_copy(given, rw))?;
    ensure_eq!(sys::cap_delete(copied), Ok(()));
    ensure_eq!(sys::poll(note), Ok(0));
    // A copy in another space keeps it; destroying that space ends it.
    let space = must(sys::cspace_create(budget(), 64))?;
    must(sys::cap_copy_to(given, rw, space, CapSlot(3)))?;
    ensure_eq!(sys::cap_delete(given), Ok(()));
    ensure_eq!(sys::poll(note), Ok(0));
    ensure!(!empty(lease));
    ensure_eq!(sys::cap_delete(space), Ok(()));
    ensure_eq!(sys::poll(note), Ok(1 << 5));
    ensure!(empty(lease));
    // A client's copy whose own copies go is not taken.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 7))?;
    let given = must(sys::cap_copy(lease, rw))?;
    let copied = must(sys::cap_copy(given, rw))?;
    ensure_eq!(sys::cap_delete(copied), Ok(()));
    ensure!(!empty(given) && !empty(lease));
    ensure_eq!(sys::poll(note), Ok(0));
    ensure_eq!(sys::cap_delete(given), Ok(()));
    ensure_eq!(sys::poll(note), Ok(1 << 7));
    ensure!(empty(lease));
    // Without the badge bit, nothing.
    let plain = must(sys::cap_mint(ep, rw, 9))?;
    let given = must(sys::cap_copy(plain, rw))?;
    ensure_eq!(sys::cap_delete(given), Ok(()));
    ensure!(!empty(plain));
    // Inside a revoke of the lease itself: it stays, no signal.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 1))?;
    must(sys::cap_copy(lease, rw))?;
    ensure_eq!(sys::cap_revoke(lease), Ok(()));
    ensure!(!empty(lease));
    ensure_eq!(sys::poll(note), Ok(0));
    // Cleared: nothing.
    ensure_eq!(sys::endpoint_watch(ep, CapSlot::NULL), Ok(()));
    let late = must(sys::cap_mint(ep, rw, WATCH_BADGE | 2))?;
    let given = must(sys::cap_copy(late, rw))?;
    ensure_eq!(sys::cap_delete(given), Ok(()));
    ensure!(!empty(late));
    ensure_eq!(sys::poll(note), Ok(0));
    // Errors.
    let badged = must(sys::cap_mint(ep, Rights::READ | Rights::WRITE, 11))?;
    ensure_eq!(sys::endpoint_watch(badged, note), Err(SysError::InvalidArg));
    ensure_eq!(sys::cap_delete(badged), Ok(()));
    ensure_eq!(sys::endpoint_watch(note, note), Err(SysError::WrongType));
    ensure_eq!(sys::endpoint_watch(ep, ep), Err(SysError::WrongType));
    let write_only = must(sys::cap_copy(ep, Rights::WRITE))?;
    ensure_eq!(
        sys::endpoint_watch(write_only, note),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::endpoint_watch(EMPTY_SLOT, note),
        Err(SysError::InvalidCap)
    );
    // The endpoint holds the notification while it watches: both go.
    ensure_eq!(sys::endpoint_watch(ep, note), Ok(()));
    for slot in [write_only, late, lease, plain, note, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn delete_basic() -> TestResult {
    let copy = sys::cap_copy(aspace_cap(), Rights::READ).map_err(|_| fail())?;
    ensure_eq!(sys::cap_delete(copy), Ok(()));
    ensure_eq!(sys::cap_delete(copy), Err(SysError::InvalidCap));
    ensure_eq!(sys::cap_info(copy).map(|_| ()), Err(SysError::InvalidCap));
    ensure_eq!(sys::cap_delete(CapSlot(0)), Err(SysError::InvalidCap));
    ensure_eq!(
        sys::cap_delete(CapSlot(u32::MAX)),
        Err(SysError::InvalidCap)
    );
    Ok(())
}
