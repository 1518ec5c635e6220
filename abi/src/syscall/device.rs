//! Devices (numbers 128..144): the arguments of the I/O port syscalls
//! (`IoPorts*`) and the interrupt syscalls (`Irq*`).

use super::*;
use crate::CapSlot;
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

args!(
    /// Arguments of [`Syscall::IoPortsCreate`].
    IoPortsCreateArgs for IoPortsCreate {
        /// The [`ObjectType::IoSpace`] or an [`ObjectType::IoPorts`] whose
        /// range holds the new one, with [`Rights::WRITE`].
        parent: CapSlot,
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The first port.
        base: u64 as Value,
        /// Number of ports (not 0; `base + count` at most 0x10000).
        count: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::IoPortsBind`].
    IoPortsBindArgs for IoPortsBind {
        /// An [`ObjectType::IoPorts`] with [`Rights::WRITE`].
        ports: CapSlot,
        /// An [`ObjectType::Thread`] with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::IoPortsUnbind`].
    IoPortsUnbindArgs for IoPortsUnbind {
        /// An [`ObjectType::IoPorts`] with [`Rights::WRITE`].
        ports: CapSlot,
        /// An [`ObjectType::Thread`] with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::IrqCreate`].
    IrqCreateArgs for IrqCreate {
        /// The [`ObjectType::IrqControl`] capability, with [`Rights::WRITE`].
        control: CapSlot,
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The line.
        source: IrqSource,
    }
);
args!(
    /// Arguments of [`Syscall::IrqBind`].
    IrqBindArgs for IrqBind {
        /// An [`ObjectType::Irq`] with [`Rights::WRITE`].
        irq: CapSlot,
        /// An [`ObjectType::Notification`] with [`Rights::WRITE`], or
        /// [`CapSlot::NULL`] to unbind.
        notification: CapSlot,
        /// The bits to signal when the capability is unbadged (else 0).
        bits: u64,
    }
);
args!(
    /// Arguments of [`Syscall::IrqAck`].
    IrqAckArgs for IrqAck {
        /// An [`ObjectType::Irq`] with [`Rights::WRITE`].
        irq: CapSlot,
    }
);
