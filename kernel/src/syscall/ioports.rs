//! I/O port syscalls: make a range, bind it to a thread, unbind it. The
//! ports themselves are reached with `in`/`out`, not syscalls
//! (`object::ioports`).

use abi::syscall::{
    IO_PORT_COUNT, IoPortsBindArgs, IoPortsCreateArgs, IoPortsUnbindArgs, KERNEL_IO_PORTS,
};
use abi::{Rights, SysError};

use super::{check_new_slot, install_new, lookup, payer};
use crate::cap::ObjectRef;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::ioports::{self, IoPorts};
use crate::object::lifetime;
use crate::object::thread::{Thread, ThreadState};

/// `IoPortsCreate`.
pub fn create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: IoPortsCreateArgs,
) -> Result<Next, SysError> {
    // decode
    let (budget, payer_slot) = payer(k, caller, args.budget)?;
    let cspace = k.objects.get(caller).cspace;
    let (_, parent) = crate::object::cspace::get(&k.objects, cspace, args.parent)?;
    let inside_parent = match parent.object {
        ObjectRef::IoSpace => true,
        ObjectRef::IoPorts(range) => k.objects.get(range).covers(args.base, args.count),
        _ => return Err(SysError::WrongType),
    };
    if !parent.rights.contains(Rights::WRITE) {
        return Err(SysError::MissingRights);
    }
    let end = args
        .base
        .checked_add(args.count)
        .ok_or(SysError::InvalidArg)?;
    let kernel_port = KERNEL_IO_PORTS.iter().any(|&(first, count)| {
        // Kernel constants, 16 and 32 bits wide, added in 64 bits.
        let (first, last) = (
            u64::from(first),
            u64::from(first).wrapping_add(u64::from(count)),
        );
        args.base < last && first < end
    });
    if args.count == 0 || end > IO_PORT_COUNT || !inside_parent || kernel_port {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    // invoke (the range fits: base < 2^16, count <= 2^16)
    let ports = IoPorts::new(args.base as u16, args.count as u32, budget);
    let id = lifetime::new_object(k, budget, ports)?;
    Ok(install_new(k, caller, ObjectRef::IoPorts(id), payer_slot))
}

/// `IoPortsBind`.
pub fn bind(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: IoPortsBindArgs,
) -> Result<Next, SysError> {
    let (ports, _) = lookup::<ObjId<IoPorts>>(k, caller, args.ports, Rights::WRITE)?;
    let (thread, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    if k.objects.get(thread).state == ThreadState::Exited {
        return Err(SysError::InvalidArg);
    }
    ioports::bind(k, ports, thread)?;
    Ok(Next::Success)
}

/// `IoPortsUnbind`.
pub fn unbind(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: IoPortsUnbindArgs,
) -> Result<Next, SysError> {
    let (ports, _) = lookup::<ObjId<IoPorts>>(k, caller, args.ports, Rights::WRITE)?;
    let (thread, _) = lookup::<ObjId<Thread>>(k, caller, args.thread, Rights::WRITE)?;
    ioports::unbind(k, ports, thread)?;
    Ok(Next::Success)
}
