//! Interrupt syscalls: make a line, bind it to a notification,
//! acknowledge it (`object::irq`).

use abi::syscall::{IrqAckArgs, IrqBindArgs, IrqCreateArgs};
use abi::{CapSlot, Rights, SysError};

use super::{check_new_slot, install_new, lookup, payer};
use crate::cap::{IrqControlObject, ObjectRef};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::irq::{self, Irq};
use crate::object::notification::Notification;
use crate::object::thread::Thread;

/// `IrqCreate`.
pub fn create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: IrqCreateArgs,
) -> Result<Next, SysError> {
    let (budget, payer_slot) = payer(k, caller, args.budget)?;
    lookup::<IrqControlObject>(k, caller, args.control, Rights::WRITE)?;
    check_new_slot(k, caller)?;
    let id = irq::create(k, budget, args.source)?;
    Ok(install_new(k, caller, ObjectRef::Irq(id), payer_slot))
}

/// `IrqBind`: the badge of the notification capability, or `bits`.
pub fn bind(k: &mut Kernel, caller: ObjId<Thread>, args: IrqBindArgs) -> Result<Next, SysError> {
    let (line, _) = lookup::<ObjId<Irq>>(k, caller, args.irq, Rights::WRITE)?;
    if args.notification == CapSlot::NULL {
        irq::bind(k, line, None);
        return Ok(Next::Success);
    }
    let (notification, cap) =
        lookup::<ObjId<Notification>>(k, caller, args.notification, Rights::WRITE)?;
    let bits = match (cap.badge, args.bits) {
        (0, 0) => return Err(SysError::InvalidArg),
        (0, bits) => bits,
        (badge, 0) => badge,
        (_, _) => return Err(SysError::InvalidArg),
    };
    irq::bind(k, line, Some((notification, bits)));
    Ok(Next::Success)
}

/// `IrqAck`.
pub fn ack(k: &mut Kernel, caller: ObjId<Thread>, args: IrqAckArgs) -> Result<Next, SysError> {
    let (line, _) = lookup::<ObjId<Irq>>(k, caller, args.irq, Rights::WRITE)?;
    irq::acknowledge(k, line);
    Ok(Next::Success)
}
