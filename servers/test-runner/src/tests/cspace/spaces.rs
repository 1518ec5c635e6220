//! Capability spaces: copy, mint and move into another space (rights on
//! the source and on the space, full and out-of-range slots, a full
//! space), `CSpaceCreate` (sizes and errors), and what deleting a space
//! does to the capabilities in it and to a thread running in it.

use crate::raw as sys;
use abi::syscall::CSPACE_MAX_SLOTS;
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::tests::support::{
    EMPTY_SLOT, Raw, budget, clear_out, code, free_frames, low_slot, must, out, raw_entry, set_out,
};
use crate::tests::syscalls::fail;
use crate::tests::{TestResult, debug_cap};
use crate::{ensure, ensure_eq};

use super::support::{described, empty, probe};

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

raw_entry! {
    recv_flag_entry => recv_flag;
    wait_record_entry => wait_record;
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
