//! `CapCopy`, `CapMint` and `CapMove` in the program's own space (rights,
//! badges, named destinations, each error), and `CapInfo`.

use crate::raw as sys;
use abi::syscall::{CapCopyArgs, Syscall, SyscallArgs};
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::tests::support::{EMPTY_SLOT, budget, free_frames, must};
use crate::tests::syscalls::fail;
use crate::tests::{TestResult, aspace_cap, debug_cap};
use crate::{ensure, ensure_eq};

use super::support::{described, empty, revoked};

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
        (CapSlot(crate::tests::boot().thread_cap), ObjectType::Thread),
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
        CapSlot(crate::tests::boot().thread_cap),
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

pub fn info() -> TestResult {
    let info = sys::cap_info(aspace_cap()).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::AddressSpace));
    ensure_eq!(info.rights, Rights::all().bits());
    ensure_eq!(info.badge, 0);
    let info = sys::cap_info(debug_cap()).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::Debug));
    let info = sys::cap_info(CapSlot(crate::tests::boot().thread_cap)).map_err(|_| fail())?;
    ensure_eq!(info.object_type(), Some(ObjectType::Thread));
    ensure_eq!(
        sys::cap_info(CapSlot(90)).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    Ok(())
}
