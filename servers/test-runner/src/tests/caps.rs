//! Capability-space syscalls: copy, delete, info; a full space.

use crate::raw as sys;
use abi::syscall::{CapCopyArgs, Syscall, SyscallArgs};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::support::free_frames;
use super::syscalls::fail;
use super::{TestResult, aspace_cap, debug_cap};
use crate::{ensure, ensure_eq};

pub fn copy_ok() -> TestResult {
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

pub fn delete() -> TestResult {
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

pub fn info_ok() -> TestResult {
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
