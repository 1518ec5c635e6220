//! `CapCopyMany`: many copies in one call, into the caller's space and
//! into another; the type check and the rights mask; an entry that fails
//! is skipped and reported while the others happen; entries that only
//! check; and each error of the call and of an entry.

use crate::raw as sys;
use abi::syscall::{
    CAP_COPY_ANY_TYPE, CAP_COPY_MANY_MAX, CapCopyEntry, CapCopyManyResult, Syscall, cap_copy_mode,
};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::cspace::{described, empty, probe};
use super::support::{budget, free_frames, must};
use super::{TestResult, debug_cap};
use crate::{ensure, ensure_eq};

/// An entry copying `src` to `dst` with exactly `rights`, of any type.
fn exact(src: CapSlot, dst: u32, rights: Rights) -> CapCopyEntry {
    CapCopyEntry {
        src: src.0,
        dst,
        rights: rights.bits(),
        object_type: CAP_COPY_ANY_TYPE,
        mode: cap_copy_mode::EXACT,
    }
}

/// The result of a call where entries `copied` were copied and the first
/// other one failed with `error`.
fn result(copied: u64, error: Option<SysError>) -> CapCopyManyResult {
    CapCopyManyResult {
        copied,
        first_error: error.map_or(0, SysError::code),
    }
}

/// Copies into the caller's own space and into another: the rights
/// exact or masked, the type checked, the badge kept, the copies derived
/// from their sources (a revoke takes them).
pub fn copy_many() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let badged = must(sys::cap_mint(ep, Rights::WRITE | Rights::GRANT, 7))?;
    let weak = must(sys::cap_copy(ep, Rights::READ | Rights::GRANT))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    let (a, b, c) = (3600u32, 3601u32, 3602u32);
    let own = [
        exact(ep, a, Rights::READ),
        CapCopyEntry {
            object_type: ObjectType::Endpoint.to_reg() as u16,
            ..exact(badged, b, Rights::WRITE)
        },
        CapCopyEntry {
            mode: cap_copy_mode::MASK,
            ..exact(weak, c, Rights::WRITE | Rights::GRANT)
        },
    ];
    ensure_eq!(
        sys::cap_copy_many(CapSlot::NULL, &own),
        Ok(result(0b111, None))
    );
    let info = |slot: u32| sys::cap_info(CapSlot(slot)).ok();
    ensure_eq!(
        info(a),
        Some(described(ObjectType::Endpoint, Rights::READ, 0))
    );
    ensure_eq!(
        info(b),
        Some(described(ObjectType::Endpoint, Rights::WRITE, 7))
    );
    // The mask leaves what the source has of it.
    ensure_eq!(
        info(c),
        Some(described(ObjectType::Endpoint, Rights::GRANT, 0))
    );

    // Into another space: every slot named, the last entry too.
    let theirs = [
        exact(ep, 1, Rights::all()),
        exact(badged, 2, Rights::WRITE | Rights::GRANT),
        exact(weak, 63, Rights::READ),
    ];
    ensure_eq!(sys::cap_copy_many(space, &theirs), Ok(result(0b111, None)));
    let found = probe(space, [1, 2, 63, 3])?;
    ensure_eq!(
        found,
        [
            Some(described(ObjectType::Endpoint, Rights::all(), 0)),
            Some(described(
                ObjectType::Endpoint,
                Rights::WRITE | Rights::GRANT,
                7
            )),
            Some(described(ObjectType::Endpoint, Rights::READ, 0)),
            None,
        ]
    );

    // The copies derive from their sources.
    ensure_eq!(sys::cap_revoke(badged), Ok(()));
    ensure!(empty(CapSlot(b)));
    ensure_eq!(probe(space, [2])?, [None]);
    ensure!(!empty(CapSlot(a)));

    // As many as a call takes.
    let first = 3700u32;
    let many: alloc::vec::Vec<CapCopyEntry> = (0..CAP_COPY_MANY_MAX as u32)
        .map(|i| exact(ep, first + i, Rights::READ))
        .collect();
    ensure_eq!(
        sys::cap_copy_many(CapSlot::NULL, &many),
        Ok(result(u64::MAX, None))
    );
    ensure!(!empty(CapSlot(first + CAP_COPY_MANY_MAX as u32 - 1)));
    ensure_eq!(
        sys::cap_delete_range(CapSlot(first), CAP_COPY_MANY_MAX),
        Ok(())
    );

    for slot in [a, c] {
        ensure_eq!(sys::cap_delete(CapSlot(slot)), Ok(()));
    }
    for slot in [badged, weak, space, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Each error of an entry: the entry is skipped and reported (the first
/// one's error), the entries around it still happen.
pub fn copy_many_entry_errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let no_grant = must(sys::cap_copy(ep, Rights::READ | Rights::WRITE))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    let full = 3800u32;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, CapSlot::NULL, CapSlot(full)),
        Ok(CapSlot(full))
    );
    let (before_slot, after_slot) = (3801u32, 3802u32);
    let bad_entries: [(CapCopyEntry, SysError); 10] = [
        // Unknown rights bits.
        (
            CapCopyEntry {
                rights: 1 << 20,
                ..exact(ep, 3810, Rights::READ)
            },
            SysError::InvalidArg,
        ),
        // Destination slot 0.
        (exact(ep, 0, Rights::READ), SysError::InvalidArg),
        // An empty source, slot 0 as the source.
        (
            exact(CapSlot(3899), 3811, Rights::READ),
            SysError::InvalidCap,
        ),
        (
            exact(CapSlot::NULL, 3812, Rights::READ),
            SysError::InvalidCap,
        ),
        // An unknown type; the wrong type.
        (
            CapCopyEntry {
                object_type: 0x7777,
                ..exact(ep, 3813, Rights::READ)
            },
            SysError::InvalidArg,
        ),
        (
            CapCopyEntry {
                object_type: ObjectType::Notification.to_reg() as u16,
                ..exact(ep, 3814, Rights::READ)
            },
            SysError::WrongType,
        ),
        // An unknown mode.
        (
            CapCopyEntry {
                mode: 2,
                ..exact(ep, 3815, Rights::READ)
            },
            SysError::InvalidArg,
        ),
        // More rights than the source's.
        (
            exact(no_grant, 3816, Rights::GRANT),
            SysError::MissingRights,
        ),
        // A full slot; a slot out of range.
        (exact(ep, full, Rights::READ), SysError::InvalidCap),
        (exact(ep, 1 << 20, Rights::READ), SysError::InvalidCap),
    ];
    for (bad, error) in bad_entries {
        let entries = [
            exact(ep, before_slot, Rights::READ),
            bad,
            exact(ep, after_slot, Rights::READ),
        ];
        ensure_eq!(
            sys::cap_copy_many(CapSlot::NULL, &entries),
            Ok(result(0b101, Some(error)))
        );
        ensure!(!empty(CapSlot(before_slot)) && !empty(CapSlot(after_slot)));
        ensure_eq!(sys::cap_delete(CapSlot(before_slot)), Ok(()));
        ensure_eq!(sys::cap_delete(CapSlot(after_slot)), Ok(()));
    }
    // Only the first failure is reported.
    let two = [
        exact(CapSlot(3899), 3811, Rights::READ),
        exact(ep, 0, Rights::READ),
    ];
    ensure_eq!(
        sys::cap_copy_many(CapSlot::NULL, &two),
        Ok(result(0, Some(SysError::InvalidCap)))
    );
    // Into another space a source without GRANT stays home; a reply
    // capability is never copied (there is none here: `Reply` copies are
    // `CapCopy`'s test).
    let out = [exact(no_grant, 1, Rights::READ), exact(ep, 2, Rights::READ)];
    ensure_eq!(
        sys::cap_copy_many(space, &out),
        Ok(result(0b10, Some(SysError::MissingRights)))
    );
    // The debug capability is of its own type.
    let debug = [CapCopyEntry {
        object_type: ObjectType::Endpoint.to_reg() as u16,
        ..exact(debug_cap(), 3, Rights::empty())
    }];
    ensure_eq!(
        sys::cap_copy_many(space, &debug),
        Ok(result(0, Some(SysError::WrongType)))
    );

    for slot in [CapSlot(full), no_grant, space, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Each error of the call: nothing is copied.
pub fn copy_many_call_errors() -> TestResult {
    let ep = must(sys::endpoint_create(budget()))?;
    let slot = 3900u32;
    let one = [exact(ep, slot, Rights::READ)];
    let number = Syscall::CapCopyMany.number();
    let addr = one.as_ptr() as u64;
    let call = |cspace: u64, addr: u64, count: u64| {
        let (status, _) = sys::raw_syscall(number, [cspace, addr, count, 0, 0, 0]);
        SysError::from_code(status)
    };
    // No entries; more than a call takes.
    ensure_eq!(call(0, addr, 0), Some(SysError::InvalidArg));
    ensure_eq!(
        call(0, addr, CAP_COPY_MANY_MAX + 1),
        Some(SysError::InvalidArg)
    );
    // The destination space: empty, not a space, without WRITE; a slot
    // above 32 bits.
    let read_only = must(sys::cspace_create(budget(), 64))?;
    let weak = must(sys::cap_copy(read_only, Rights::READ))?;
    ensure_eq!(call(3999, addr, 1), Some(SysError::InvalidCap));
    ensure_eq!(call(u64::from(ep.0), addr, 1), Some(SysError::WrongType));
    ensure_eq!(
        call(u64::from(weak.0), addr, 1),
        Some(SysError::MissingRights)
    );
    ensure_eq!(call(1 << 32, addr, 1), Some(SysError::InvalidCap));
    // Entries in the kernel half, on the null page, unmapped, or running
    // off the end of user space.
    for bad in [0xffff_8000_0000_0000, 0, 0x10, 0x0000_0008_0000_0000] {
        ensure_eq!(call(0, bad, 1), Some(SysError::BadAddress));
    }
    ensure_eq!(
        call(0, 0x0000_7fff_ffff_fff8, 1),
        Some(SysError::BadAddress)
    );
    ensure!(empty(CapSlot(slot)));
    // Then the call works.
    ensure_eq!(call(0, addr, 1), None);
    ensure!(!empty(CapSlot(slot)));
    for s in [CapSlot(slot), weak, read_only, ep] {
        ensure_eq!(sys::cap_delete(s), Ok(()));
    }
    Ok(())
}

/// `cap_copy_mode::CHECK`: the entry checks its source's type and
/// rights and copies nothing; each of its own errors.
pub fn copy_many_check() -> TestResult {
    let ep = must(sys::endpoint_create(budget()))?;
    let weak = must(sys::cap_copy(ep, Rights::READ))?;
    let check = |src: CapSlot, kind: ObjectType, rights: Rights| CapCopyEntry {
        src: src.0,
        dst: 0,
        rights: rights.bits(),
        object_type: kind.to_reg() as u16,
        mode: cap_copy_mode::CHECK,
    };
    let entries = [
        check(ep, ObjectType::Endpoint, Rights::all()),
        check(weak, ObjectType::Endpoint, Rights::READ),
        CapCopyEntry {
            object_type: CAP_COPY_ANY_TYPE,
            ..check(debug_cap(), ObjectType::Debug, Rights::empty())
        },
    ];
    ensure_eq!(
        sys::cap_copy_many(CapSlot::NULL, &entries),
        Ok(result(0b111, None))
    );
    // Each failure: the wrong type, a right the source lacks, an empty
    // source, a destination named.
    let failing = [
        (
            check(ep, ObjectType::Notification, Rights::empty()),
            SysError::WrongType,
        ),
        (
            check(weak, ObjectType::Endpoint, Rights::WRITE),
            SysError::MissingRights,
        ),
        (
            check(CapSlot(3999), ObjectType::Endpoint, Rights::empty()),
            SysError::InvalidCap,
        ),
        (
            CapCopyEntry {
                dst: 3998,
                ..check(ep, ObjectType::Endpoint, Rights::empty())
            },
            SysError::InvalidArg,
        ),
    ];
    for (entry, error) in failing {
        ensure_eq!(
            sys::cap_copy_many(CapSlot::NULL, &[entry]),
            Ok(result(0, Some(error)))
        );
    }
    // Nothing was copied anywhere.
    ensure!(empty(CapSlot(3998)));
    for slot in [weak, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    Ok(())
}
