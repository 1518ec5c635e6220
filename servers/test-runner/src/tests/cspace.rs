//! Capability-space syscalls: copy, mint, move, delete, info and revoke,
//! within the program's space and into others; a full space; creating
//! spaces; and the frame count after creating and deleting many objects of
//! each kind.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::syscall::{CSPACE_MAX_SLOTS, CapCopyArgs, CapInfo, Syscall, SyscallArgs};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::support::{
    EMPTY_SLOT, Raw, budget, clear_out, code, free_frames, join, low_slot, must, out, raw_entry,
    set_out,
};
use super::syscalls::fail;
use super::{Failure, TestResult, aspace_cap, debug_cap};
use crate::{ensure, ensure_eq};

/// Slots the probe thread looks at.
static PROBE_SLOTS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Describes `PROBE_SLOTS[..count]` of its own capability space into
/// `OUT[3 * i..]`: 1 or 0xe000 + error, then type and rights, then badge.
fn probe_body(count: u64) -> u64 {
    for (i, probe) in PROBE_SLOTS.iter().enumerate().take(count as usize) {
        let slot = CapSlot(probe.load(Ordering::SeqCst) as u32);
        match sys::cap_info(slot) {
            Ok(info) => {
                set_out(3 * i, 1);
                set_out(
                    3 * i + 1,
                    u64::from(info.object_type) | u64::from(info.rights) << 8,
                );
                set_out(3 * i + 2, info.badge);
            }
            Err(error) => set_out(3 * i, 0xe000 + error.code()),
        }
    }
    0
}

/// Receives on `low(arg)` and flags the end at `OUT[1]`.
fn recv_flag(arg: u64) -> u64 {
    let result = sys::recv(low_slot(arg));
    set_out(1, 1 + code(result));
    code(result)
}

/// Waits on `low(arg)` and records the bits at `OUT[2]`.
fn wait_record(arg: u64) -> u64 {
    match sys::wait(low_slot(arg)) {
        Ok(bits) => {
            set_out(2, bits);
            0
        }
        Err(error) => error.code(),
    }
}

/// Flags `OUT[4]`, deletes its own capability (`low(arg)`), flags again.
fn delete_self(arg: u64) -> u64 {
    set_out(4, 1);
    let result = sys::cap_delete(low_slot(arg));
    set_out(4, 2);
    code(result)
}

raw_entry! {
    delete_self_entry => delete_self;
    probe_entry => probe_body;
    recv_flag_entry => recv_flag;
    wait_record_entry => wait_record;
}

/// What a thread running in `space` finds in its `slots`: `None` for an
/// empty slot, else the capability's description.
pub(super) fn probe<const N: usize>(
    space: CapSlot,
    slots: [u32; N],
) -> Result<[Option<CapInfo>; N], Failure> {
    for (probe, slot) in PROBE_SLOTS.iter().zip(slots) {
        probe.store(u64::from(slot), Ordering::SeqCst);
    }
    clear_out();
    let prober = Raw::new(probe_entry, N as u64).cspace(space).start()?;
    ensure_eq!(prober.join()?, 0);
    let mut found = [None; N];
    for (i, entry) in found.iter_mut().enumerate() {
        match out(3 * i) {
            1 => {
                *entry = Some(CapInfo {
                    object_type: (out(3 * i + 1) & 0xff) as u32,
                    rights: (out(3 * i + 1) >> 8) as u32,
                    badge: out(3 * i + 2),
                })
            }
            status => ensure_eq!(status, 0xe000 + SysError::InvalidCap.code()),
        }
    }
    Ok(found)
}

/// A description to compare with what [`probe`] or `cap_info` report.
pub(super) fn described(kind: ObjectType, rights: Rights, badge: u64) -> CapInfo {
    CapInfo {
        object_type: kind.to_reg() as u32,
        rights: rights.bits(),
        badge,
    }
}

/// Whether `slot` of the program's space is empty.
pub(super) fn empty(slot: CapSlot) -> bool {
    sys::cap_info(slot) == Err(SysError::InvalidCap)
}

/// Whether `slot` holds what a revoke leaves: it answers `InvalidCap` to
/// any use, stays taken (a copy into it is refused), and is freed by
/// `CapDelete`, once. It is freed here.
fn revoked(slot: CapSlot) -> bool {
    let unusable = sys::cap_info(slot) == Err(SysError::InvalidCap)
        && sys::cap_copy(slot, Rights::empty()) == Err(SysError::InvalidCap);
    let own = CapSlot::NULL;
    let taken = sys::cap_copy_to(rt::process::own_caps().cspace, Rights::empty(), own, slot)
        == Err(SysError::InvalidCap);
    unusable
        && taken
        && sys::cap_delete(slot) == Ok(())
        && sys::cap_delete(slot) == Err(SysError::InvalidCap)
}

pub fn copy() -> TestResult {
    let before = free_frames()?;
    let own = rt::process::own_caps();
    let ep = must(sys::endpoint_create(budget()))?;
    let all = Rights::all();

    // Same or fewer rights, down to none; a copy needs no rights itself.
    let both = must(sys::cap_copy(ep, Rights::READ | Rights::WRITE))?;
    ensure_eq!(
        sys::cap_info(both),
        Ok(described(
            ObjectType::Endpoint,
            Rights::READ | Rights::WRITE,
            0
        ))
    );
    let read = must(sys::cap_copy(both, Rights::READ))?;
    let none = must(sys::cap_copy(read, Rights::empty()))?;
    ensure_eq!(sys::cap_info(none).map(|i| i.rights), Ok(0));
    let none_again = must(sys::cap_copy(none, Rights::empty()))?;
    ensure_eq!(
        sys::cap_copy(read, Rights::READ | Rights::WRITE),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_copy(none, Rights::READ),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_copy(both, all), Err(SysError::MissingRights));

    // Every object type copies and keeps its type.
    for (slot, kind) in [
        (debug_cap(), ObjectType::Debug),
        (aspace_cap(), ObjectType::AddressSpace),
        (CapSlot(super::boot().thread_cap), ObjectType::Thread),
        (own.cspace, ObjectType::CSpace),
        (own.budget, ObjectType::Budget),
        (ep, ObjectType::Endpoint),
    ] {
        let copy = must(sys::cap_copy(slot, Rights::READ))?;
        ensure_eq!(sys::cap_info(copy), Ok(described(kind, Rights::READ, 0)));
        ensure_eq!(sys::cap_delete(copy), Ok(()));
    }

    // Bad sources.
    for bad in [CapSlot::NULL, EMPTY_SLOT, CapSlot(4096), CapSlot(u32::MAX)] {
        ensure_eq!(
            sys::cap_copy(bad, Rights::empty()),
            Err(SysError::InvalidCap)
        );
    }
    // Named destinations in the program's own space.
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, EMPTY_SLOT),
        Ok(EMPTY_SLOT)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, EMPTY_SLOT),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, ep),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, CapSlot(4096)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, CapSlot(4095)),
        Ok(CapSlot(4095))
    );
    // Naming the own space through its capability needs no GRANT on the
    // source, but WRITE on the space.
    let into_own = must(sys::cap_copy_to(
        none,
        Rights::empty(),
        own.cspace,
        CapSlot::NULL,
    ))?;
    let own_read = must(sys::cap_copy(own.cspace, Rights::READ | Rights::GRANT))?;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, own_read, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, debug_cap(), CapSlot::NULL),
        Err(SysError::WrongType)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot(EMPTY_SLOT.0 + 1), CapSlot::NULL),
        Err(SysError::InvalidCap)
    );
    // Rights are checked before the destination.
    ensure_eq!(
        sys::cap_copy_to(read, all, debug_cap(), CapSlot::NULL),
        Err(SysError::MissingRights)
    );

    // Decoding: slots above 32 bits, unknown rights bits.
    let raw = |regs| sys::raw_syscall(Syscall::CapCopy.number(), regs).0;
    let src = u64::from(ep.0);
    for regs in [
        [1 << 32, 1, 0, 0, 0, 0],
        [src, 1, 1 << 32, 0, 0, 0],
        [src, 1, 0, 1 << 32, 0, 0],
    ] {
        ensure_eq!(SysError::from_code(raw(regs)), Some(SysError::InvalidCap));
    }
    for rights in [1 << 4, 1 << 31, 1 << 32, u64::MAX] {
        ensure_eq!(
            SysError::from_code(raw([src, rights, 0, 0, 0, 0])),
            Some(SysError::InvalidArg)
        );
    }

    for slot in [
        both,
        read,
        none,
        none_again,
        EMPTY_SLOT,
        CapSlot(4095),
        into_own,
        own_read,
        ep,
    ] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn mint() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let own = rt::process::own_caps();

    let badged = must(sys::cap_mint(ep, Rights::WRITE, 7))?;
    ensure_eq!(
        sys::cap_info(badged),
        Ok(described(ObjectType::Endpoint, Rights::WRITE, 7))
    );
    let badged_n = must(sys::cap_mint(n, Rights::READ | Rights::WRITE, 1 << 63))?;
    ensure_eq!(
        sys::cap_info(badged_n),
        Ok(described(
            ObjectType::Notification,
            Rights::READ | Rights::WRITE,
            1 << 63
        ))
    );
    // A copy keeps the badge; it cannot be changed or removed.
    let copy = must(sys::cap_copy(badged, Rights::empty()))?;
    ensure_eq!(sys::cap_info(copy).map(|i| i.badge), Ok(7));
    ensure_eq!(
        sys::cap_mint(badged, Rights::WRITE, 8),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_mint(badged, Rights::WRITE, 7),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_mint(copy, Rights::empty(), 9),
        Err(SysError::InvalidArg)
    );
    // Badge 0.
    ensure_eq!(
        sys::cap_mint(ep, Rights::WRITE, 0),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_mint(n, Rights::WRITE, 0),
        Err(SysError::InvalidArg)
    );
    // Only endpoints and notifications take badges.
    for slot in [
        debug_cap(),
        aspace_cap(),
        CapSlot(super::boot().thread_cap),
        own.cspace,
        own.budget,
    ] {
        ensure_eq!(
            sys::cap_mint(slot, Rights::READ, 1),
            Err(SysError::InvalidArg)
        );
    }
    // Rights: a subset, checked before the badge.
    let weak = must(sys::cap_copy(ep, Rights::READ))?;
    ensure_eq!(
        sys::cap_mint(weak, Rights::READ | Rights::WRITE, 1),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_mint(weak, Rights::READ | Rights::WRITE, 0),
        Err(SysError::MissingRights)
    );
    let weak_badged = must(sys::cap_mint(weak, Rights::READ, 3))?;
    ensure_eq!(
        sys::cap_info(weak_badged),
        Ok(described(ObjectType::Endpoint, Rights::READ, 3))
    );
    // Bad sources, named destinations.
    ensure_eq!(
        sys::cap_mint(CapSlot::NULL, Rights::READ, 1),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_mint(EMPTY_SLOT, Rights::READ, 1),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::WRITE, 9, CapSlot::NULL, EMPTY_SLOT),
        Ok(EMPTY_SLOT)
    );
    ensure_eq!(sys::cap_info(EMPTY_SLOT).map(|i| i.badge), Ok(9));
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::WRITE, 9, CapSlot::NULL, EMPTY_SLOT),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::WRITE, 9, CapSlot::NULL, CapSlot(5000)),
        Err(SysError::InvalidCap)
    );
    // Revoking the original takes every minted copy.
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    for slot in [badged, copy, weak, weak_badged, EMPTY_SLOT] {
        ensure!(revoked(slot));
    }
    for slot in [badged_n, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn move_cap() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;

    let badged = must(sys::cap_mint(ep, Rights::WRITE | Rights::GRANT, 5))?;
    let moved = must(sys::cap_move(badged, CapSlot::NULL, CapSlot::NULL))?;
    ensure!(moved != badged);
    ensure!(empty(badged));
    ensure_eq!(
        sys::cap_info(moved),
        Ok(described(
            ObjectType::Endpoint,
            Rights::WRITE | Rights::GRANT,
            5
        ))
    );
    ensure_eq!(
        sys::cap_move(moved, CapSlot::NULL, EMPTY_SLOT),
        Ok(EMPTY_SLOT)
    );
    ensure!(empty(moved));
    let moved = EMPTY_SLOT;
    // Full destinations (the source itself too), out of range: the
    // capability stays where it was.
    ensure_eq!(
        sys::cap_move(moved, CapSlot::NULL, ep),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_move(moved, CapSlot::NULL, moved),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_move(moved, CapSlot::NULL, CapSlot(4096)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::cap_info(moved).map(|i| i.badge), Ok(5));
    // Bad sources.
    for bad in [CapSlot::NULL, badged, CapSlot(u32::MAX)] {
        ensure_eq!(
            sys::cap_move(bad, CapSlot::NULL, CapSlot::NULL),
            Err(SysError::InvalidCap)
        );
    }
    ensure_eq!(
        sys::cap_move(moved, debug_cap(), CapSlot::NULL),
        Err(SysError::WrongType)
    );
    let (status, _) = sys::raw_syscall(
        Syscall::CapMove.number(),
        [u64::from(moved.0), 0, 1 << 32, 0, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));

    // A moved capability keeps its children and its parent.
    let parent = must(sys::cap_copy(ep, Rights::all()))?;
    let child = must(sys::cap_copy(parent, Rights::READ))?;
    let parent_moved = must(sys::cap_move(parent, CapSlot::NULL, CapSlot::NULL))?;
    ensure_eq!(sys::cap_revoke(parent_moved), Ok(()));
    ensure!(revoked(child));
    ensure_eq!(sys::cap_info(parent_moved).map(|_| ()), Ok(()));
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    ensure!(revoked(parent_moved));
    ensure!(revoked(moved));

    // Moving the original: the object stays alive, its copies follow.
    let frames_with_ep = free_frames()?;
    let copy = must(sys::cap_copy(ep, Rights::READ))?;
    let original = must(sys::cap_move(ep, CapSlot::NULL, CapSlot::NULL))?;
    ensure_eq!(free_frames()?, frames_with_ep);
    ensure_eq!(sys::cap_revoke(original), Ok(()));
    ensure!(revoked(copy));
    ensure_eq!(sys::cap_delete(original), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
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

pub fn across_spaces() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    let all = Rights::all();

    // Copy, mint and move in, to the lowest free or a named slot.
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ | Rights::WRITE, space, CapSlot::NULL),
        Ok(CapSlot(1))
    );
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::WRITE, 0x55, space, CapSlot::NULL),
        Ok(CapSlot(2))
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space, CapSlot(10)),
        Ok(CapSlot(10))
    );
    let to_move = must(sys::cap_copy(ep, all))?;
    ensure_eq!(sys::cap_move(to_move, space, CapSlot(20)), Ok(CapSlot(20)));
    ensure!(empty(to_move));
    let found = probe(space, [1, 2, 10, 20, 3, 63])?;
    ensure_eq!(
        found,
        [
            Some(described(
                ObjectType::Endpoint,
                Rights::READ | Rights::WRITE,
                0
            )),
            Some(described(ObjectType::Endpoint, Rights::WRITE, 0x55)),
            Some(described(ObjectType::Endpoint, Rights::READ, 0)),
            Some(described(ObjectType::Endpoint, all, 0)),
            None,
            None,
        ]
    );

    // Named slots full or out of range.
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space, CapSlot(10)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space, CapSlot(64)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::READ, 1, space, CapSlot(2)),
        Err(SysError::InvalidCap)
    );

    // Without GRANT on the source nothing leaves the space; inside it, it may.
    let no_grant = must(sys::cap_copy(ep, Rights::READ | Rights::WRITE))?;
    ensure_eq!(
        sys::cap_copy_to(no_grant, Rights::READ, space, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_mint_to(no_grant, Rights::READ, 1, space, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_move(no_grant, space, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure!(!empty(no_grant));
    let inside = must(sys::cap_copy(no_grant, Rights::READ))?;
    // Without WRITE on the destination space either.
    let space_read = must(sys::cap_copy(space, Rights::READ | Rights::GRANT))?;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space_read, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::READ, 1, space_read, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::cap_move(inside, space_read, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    // A space capability with WRITE only is enough.
    let space_write = must(sys::cap_copy(space, Rights::WRITE))?;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space_write, CapSlot::NULL),
        Ok(CapSlot(3))
    );

    // Revoking in this space reaches into the other.
    ensure_eq!(sys::cap_revoke(ep), Ok(()));
    let found = probe(space, [1, 2, 3, 10, 20])?;
    ensure_eq!(found, [None; 5]);
    ensure!(empty(no_grant) && empty(inside));

    // A full destination space. The revoke's placeholders stay taken
    // until the space's own program deletes them: the rest fills up.
    let mut copies = 0;
    let full = loop {
        match sys::cap_copy_to(ep, Rights::READ, space, CapSlot::NULL) {
            Ok(_) => copies += 1,
            Err(error) => break error,
        }
    };
    ensure_eq!(full, SysError::OutOfMemory);
    ensure!(copies > 50 && copies < 63);
    ensure_eq!(
        sys::cap_mint_to(ep, Rights::READ, 1, space, CapSlot::NULL),
        Err(SysError::OutOfMemory)
    );
    let last = must(sys::cap_copy(ep, all))?;
    ensure_eq!(
        sys::cap_move(last, space, CapSlot::NULL),
        Err(SysError::OutOfMemory)
    );

    for slot in [last, space_read, space_write, space, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn create_errors() -> TestResult {
    let before = free_frames()?;
    for slots in [0, 1, CSPACE_MAX_SLOTS + 1, 1 << 32, u64::MAX] {
        ensure_eq!(
            sys::cspace_create(budget(), slots),
            Err(SysError::InvalidArg)
        );
    }
    ensure_eq!(
        sys::cspace_create(CapSlot::NULL, 64),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cspace_create(EMPTY_SLOT, 64),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cspace_create(debug_cap(), 64),
        Err(SysError::WrongType)
    );
    let weak = must(sys::cap_copy(budget(), Rights::READ | Rights::GRANT))?;
    ensure_eq!(sys::cspace_create(weak, 64), Err(SysError::MissingRights));
    // The budget is checked before the size.
    ensure_eq!(sys::cspace_create(weak, 0), Err(SysError::MissingRights));
    ensure_eq!(sys::cap_delete(weak), Ok(()));

    // Sizes round up to a multiple of 64.
    for (slots, limit) in [
        (2, 64),
        (64, 64),
        (65, 128),
        (1000, 1024),
        (CSPACE_MAX_SLOTS, 8192),
    ] {
        let space = must(sys::cspace_create(budget(), slots))?;
        ensure_eq!(
            sys::cap_info(space).map(|i| i.object_type()),
            Ok(Some(ObjectType::CSpace))
        );
        let copy = |dst| sys::cap_copy_to(debug_cap(), Rights::READ, space, dst);
        ensure_eq!(copy(CapSlot(limit - 1)), Ok(CapSlot(limit - 1)));
        ensure_eq!(copy(CapSlot(limit)), Err(SysError::InvalidCap));
        ensure_eq!(copy(CapSlot::NULL), Ok(CapSlot(1)));
        ensure_eq!(sys::cap_delete(space), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn delete_space_deletes_caps() -> TestResult {
    let before = free_frames()?;
    // The last capability to an endpoint is in another space; deleting
    // that space destroys the endpoint and wakes its receiver.
    let ep = must(sys::endpoint_create(budget()))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::all(), space, CapSlot::NULL),
        Ok(CapSlot(1))
    );
    clear_out();
    let receiver = Raw::new(recv_flag_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(out(1), 0);
    ensure_eq!(sys::cap_delete(space), Ok(()));
    ensure_eq!(out(1), 1 + SysError::PeerClosed.code());
    ensure_eq!(receiver.join()?, SysError::PeerClosed.code());
    ensure_eq!(free_frames()?, before);

    // A space a thread runs in lives as long as the thread.
    let n = must(sys::notification_create(budget()))?;
    let frames_with_n = free_frames()?;
    let space = must(sys::cspace_create(budget(), 64))?;
    ensure_eq!(
        sys::cap_copy_to(n, Rights::READ, space, CapSlot::NULL),
        Ok(CapSlot(1))
    );
    let waiter = Raw::new(wait_record_entry, 1)
        .cspace(space)
        .priority(33)
        .start()?;
    ensure_eq!(sys::cap_delete(space), Ok(()));
    ensure_eq!(sys::signal(n, 0x4), Ok(()));
    ensure_eq!(out(2), 0x4);
    ensure_eq!(waiter.join()?, 0);
    ensure_eq!(free_frames()?, frames_with_n);
    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

const CYCLE: usize = 1000;

/// Creates `CYCLE` objects with `create`, deletes them, and checks that
/// each took at least `frames_each` frames and that all came back.
fn cycle(create: fn() -> Result<CapSlot, SysError>, frames_each: u64) -> TestResult {
    // Once first, so that nothing sized lazily is counted.
    let warm = must(create())?;
    must(sys::cap_delete(warm))?;
    let before = free_frames()?;
    let mut slots = [CapSlot::NULL; CYCLE];
    for slot in slots.iter_mut() {
        *slot = must(create())?;
    }
    ensure!(before - free_frames()? >= frames_each * CYCLE as u64);
    for slot in slots {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn cycle_endpoints() -> TestResult {
    cycle(|| sys::endpoint_create(budget()), 1)
}

pub fn cycle_notifications() -> TestResult {
    cycle(|| sys::notification_create(budget()), 1)
}

pub fn cycle_cspaces() -> TestResult {
    cycle(|| sys::cspace_create(budget(), 64), 2)
}

pub fn cycle_threads_unstarted() -> TestResult {
    cycle(
        || {
            let own = rt::process::own_caps();
            sys::thread_create(own.budget, own.aspace, own.cspace)
        },
        1,
    )
}

fn plus_one(x: u64) -> u64 {
    x + 1
}

pub fn cycle_threads_run() -> TestResult {
    ensure_eq!(join(must(spawn(plus_one, 0))?)?, 1);
    let before = free_frames()?;
    const BATCH: usize = 25;
    for round in 0..(CYCLE / BATCH) as u64 {
        let mut handles = [const { None }; BATCH];
        for (i, handle) in handles.iter_mut().enumerate() {
            *handle = Some(must(spawn(plus_one, round * 100 + i as u64))?);
        }
        for (i, handle) in handles.into_iter().enumerate() {
            if let Some(handle) = handle {
                ensure_eq!(join(handle)?, round * 100 + i as u64 + 1);
            }
        }
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

// ---------------------------------------------------------------------------
// Copy, delete and info in the program's own space; a full space.

/// `CapCopy` with fewer rights, of a copy, with none.
pub fn copy_rights() -> TestResult {
    let copy = sys::cap_copy(debug_cap(), Rights::READ | Rights::WRITE).map_err(|_| fail())?;
    ensure!(copy != debug_cap());
    let info = sys::cap_info(copy).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::Debug));
    ensure_eq!(info.rights, (Rights::READ | Rights::WRITE).bits());
    // A copy of a copy with the same rights, then with none.
    let again = sys::cap_copy(copy, Rights::READ | Rights::WRITE).map_err(|_| fail())?;
    let none = sys::cap_copy(again, Rights::empty()).map_err(|_| fail())?;
    ensure_eq!(sys::cap_info(none).map(|i| i.rights), Ok(0));
    for slot in [copy, again, none] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    Ok(())
}

pub fn copy_errors() -> TestResult {
    ensure_eq!(
        sys::cap_copy(CapSlot(0), Rights::READ),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy(CapSlot(101), Rights::READ),
        Err(SysError::InvalidCap)
    );
    let weak = sys::cap_copy(debug_cap(), Rights::READ).map_err(|_| fail())?;
    ensure_eq!(
        sys::cap_copy(weak, Rights::READ | Rights::WRITE),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(weak), Ok(()));
    // Unknown rights bits are rejected, not ignored.
    let mut regs = CapCopyArgs {
        src: debug_cap(),
        rights: Rights::READ,
        cspace: CapSlot::NULL,
        dst: CapSlot::NULL,
    }
    .encode();
    regs[1] = 1 << 20;
    let (status, _) = sys::raw_syscall(Syscall::CapCopy.number(), regs);
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidArg));
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

pub fn info() -> TestResult {
    let info = sys::cap_info(aspace_cap()).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::AddressSpace));
    ensure_eq!(info.rights, Rights::all().bits());
    ensure_eq!(info.badge, 0);
    let info = sys::cap_info(debug_cap()).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::Debug));
    let info = sys::cap_info(CapSlot(super::boot().thread_cap)).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::Thread));
    ensure_eq!(
        sys::cap_info(CapSlot(90)).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    Ok(())
}

pub fn space_full() -> TestResult {
    let own = rt::process::own_caps();
    let before = free_frames()?;
    let space = sys::cspace_create(own.budget, 64).map_err(|_| fail())?;
    let copy = || sys::cap_copy_to(debug_cap(), Rights::READ, space, CapSlot::NULL);
    // Slots 1..64 fill in order; slot 0 never holds a capability.
    for expected in 1..64 {
        ensure_eq!(copy(), Ok(CapSlot(expected)));
    }
    ensure_eq!(copy(), Err(SysError::OutOfMemory));
    // A named slot that is full or out of range.
    ensure_eq!(
        sys::cap_copy_to(debug_cap(), Rights::READ, space, CapSlot(5)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_copy_to(debug_cap(), Rights::READ, space, CapSlot(64)),
        Err(SysError::InvalidCap)
    );
    // Deleting the space deletes its 63 capabilities and frees it.
    ensure_eq!(sys::cap_delete(space), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
