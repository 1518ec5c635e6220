//! Devices (numbers 128..144): the arguments of the I/O port syscalls
//! (`IoPorts*`) and the interrupt syscalls (`Irq*`), how an interrupt line
//! is named in one register ([`IrqSource`]), the ports the kernel keeps
//! ([`KERNEL_IO_PORTS`]) and the limits on port ranges.

use super::*;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

/// Where an interrupt comes from, in one register: bits 0-31 the number,
/// bits 32-39 the kind, and for a GSI bit 40 level-triggered and bit 41
/// active-low. Room is left for MSI (a kind of its own) without a new
/// syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqSource {
    /// An ISA IRQ (0-15); trigger and polarity come from the MADT.
    Isa(u8),
    /// A global system interrupt of an I/O APIC.
    Gsi {
        /// Its number.
        gsi: u32,
        /// Level-triggered (else edge).
        level: bool,
        /// Active low (else active high).
        active_low: bool,
    },
}

impl IrqSource {
    const KIND_SHIFT: u32 = 32;
    const KIND_ISA: u64 = 0;
    const KIND_GSI: u64 = 1;
    const LEVEL: u64 = 1 << 40;
    const ACTIVE_LOW: u64 = 1 << 41;

    /// Encodes into one register.
    pub const fn to_reg(self) -> u64 {
        match self {
            IrqSource::Isa(irq) => irq as u64,
            IrqSource::Gsi {
                gsi,
                level,
                active_low,
            } => {
                let mut reg = (Self::KIND_GSI << Self::KIND_SHIFT) | gsi as u64;
                if level {
                    reg |= Self::LEVEL;
                }
                if active_low {
                    reg |= Self::ACTIVE_LOW;
                }
                reg
            }
        }
    }

    /// Decodes a register.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] for an unknown kind, an ISA IRQ above 15,
    /// or bits set that the kind does not use.
    pub const fn from_reg(reg: u64) -> Result<IrqSource, SysError> {
        let number = reg & 0xffff_ffff;
        let kind = (reg >> Self::KIND_SHIFT) & 0xff;
        let flags = reg & !0xff_ffff_ffff;
        if kind == Self::KIND_ISA && flags == 0 && number < 16 {
            return Ok(IrqSource::Isa(number as u8));
        }
        if kind == Self::KIND_GSI && flags & !(Self::LEVEL | Self::ACTIVE_LOW) == 0 {
            return Ok(IrqSource::Gsi {
                gsi: number as u32,
                level: flags & Self::LEVEL != 0,
                active_low: flags & Self::ACTIVE_LOW != 0,
            });
        }
        Err(SysError::InvalidArg)
    }
}

impl Reg for IrqSource {
    const KIND: ArgKind = ArgKind::Value;
    fn to_reg(self) -> u64 {
        IrqSource::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        IrqSource::from_reg(reg)
    }
}

/// I/O ports the kernel drives itself and never grants: the 8259 PICs
/// (0x20-0x21, 0xa0-0xa1), the PIT and the speaker gate it calibrates with
/// (0x40-0x43, 0x61), QEMU's `isa-debug-exit` (0xf4) and the debug console
/// of the kernel log (0xe9). As `(first, count)`.
pub const KERNEL_IO_PORTS: [(u16, u16); 6] = [
    (0x20, 2),
    (0x40, 4),
    (0x61, 1),
    (0xa0, 2),
    (0xe9, 1),
    (0xf4, 1),
];

/// I/O port ranges one thread may hold.
pub const IO_PORTS_PER_THREAD: usize = 4;
/// Threads one I/O port range may be bound to.
pub const THREADS_PER_IO_PORTS: usize = 8;
/// Ports in the x86 I/O space.
pub const IO_PORT_COUNT: u64 = 1 << 16;

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
