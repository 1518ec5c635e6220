//! Capability-space syscalls: copy, delete, describe.

use abi::SysError;
use abi::syscall::{CapCopyArgs, CapDeleteArgs, CapInfo, CapInfoArgs, SlotResult, SyscallResult};

use super::cspace_of;
use crate::cap::Capability;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::thread::Thread;
use crate::usercopy::{UserPtr, Write};

/// `CapCopy`: same or fewer rights, into the lowest free slot.
pub fn copy(k: &mut Kernel, caller: ObjId<Thread>, args: CapCopyArgs) -> Result<Next, SysError> {
    // decode
    let cspace = cspace_of(k, caller);
    let source = cspace.get(args.src)?;
    if !source.rights.contains(args.rights) {
        return Err(SysError::MissingRights);
    }
    let slot = cspace.free_slot()?;
    // invoke
    let copy = Capability {
        rights: args.rights,
        ..source
    };
    let cspace = k.objects.get(caller).cspace;
    k.objects.get_mut(cspace).install(slot, copy);
    k.add_ref(copy.object);
    Ok(Next::Reply(
        SlotResult {
            slot: u64::from(slot.0),
        }
        .encode(),
    ))
}

/// `CapDelete`.
pub fn delete(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: CapDeleteArgs,
) -> Result<Next, SysError> {
    let cspace = k.objects.get(caller).cspace;
    let cap = k.objects.get_mut(cspace).take(args.slot)?;
    k.drop_cap(cap);
    Ok(Next::Reply([0; 5]))
}

/// `CapInfo`: write the description to user memory.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn info(k: &mut Kernel, caller: ObjId<Thread>, args: CapInfoArgs) -> Result<Next, SysError> {
    let cap = cspace_of(k, caller).get(args.slot)?;
    let out = UserPtr::<CapInfo, Write>::new(args.out)?;
    let info = CapInfo {
        object_type: cap.object.object_type().to_reg() as u32,
        rights: cap.rights.bits(),
        badge: cap.badge,
    };
    out.write(&info)?;
    Ok(Next::Reply([0; 5]))
}
