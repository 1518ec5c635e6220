//! Handles for devices: interrupt lines and I/O port ranges, and the
//! capabilities they are made from; and the byte-wide port accesses
//! ([`port_read_u8`], [`port_write_u8`]) a thread bound to a range makes
//! itself, without a syscall, so a driver needs no `unsafe`.

use abi::SysError;
use abi::syscall::IrqSource;

use crate::handle::{Handle, handle};
use crate::memory::{Budget, MemoryObject};
use crate::notify::Notification;
use crate::sys;
use crate::thread::Thread;

handle!(
    /// The right to make interrupt-line capabilities (the first program's).
    IrqControl
);
handle!(
    /// One interrupt line.
    Irq
);
handle!(
    /// All the I/O ports the kernel does not use (the first program's).
    IoSpace
);
handle!(
    /// A range of I/O ports.
    IoPorts
);
handle!(
    /// The physical ranges that are not RAM (the first program's).
    DeviceMemory
);

impl Irq {
    /// `IrqCreate` from `control`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(
        control: &IrqControl,
        budget: &Budget,
        source: IrqSource,
    ) -> Result<Irq, SysError> {
        sys::irq_create(control.slot(), budget.slot(), source).map(Irq::from_raw)
    }

    /// `IrqBind`: deliver the line to `notification` (its badge, or `bits`
    /// when unbadged).
    ///
    /// # Errors
    /// The kernel's.
    pub fn bind(&self, notification: &Notification, bits: u64) -> Result<(), SysError> {
        sys::irq_bind(self.slot, notification.slot(), bits)
    }

    /// `IrqBind` with no notification: stop delivering.
    ///
    /// # Errors
    /// The kernel's.
    pub fn unbind(&self) -> Result<(), SysError> {
        sys::irq_bind(self.slot, abi::CapSlot::NULL, 0)
    }

    /// `IrqAck`: the device is served; unmask the line.
    ///
    /// # Errors
    /// The kernel's.
    pub fn ack(&self) -> Result<(), SysError> {
        sys::irq_ack(self.slot)
    }
}

impl IoPorts {
    /// `IoPortsCreate`: `count` ports from `base`, out of `parent` (the I/O
    /// space's raw slot or another range's).
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(
        parent: abi::CapSlot,
        budget: &Budget,
        base: u64,
        count: u64,
    ) -> Result<IoPorts, SysError> {
        sys::io_ports_create(parent, budget.slot(), base, count).map(IoPorts::from_raw)
    }

    /// `IoPortsBind`: lets `thread` use these ports.
    ///
    /// # Errors
    /// The kernel's.
    pub fn bind(&self, thread: &Thread) -> Result<(), SysError> {
        sys::io_ports_bind(self.slot, thread.slot())
    }

    /// `IoPortsUnbind`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn unbind(&self, thread: &Thread) -> Result<(), SysError> {
        sys::io_ports_unbind(self.slot, thread.slot())
    }
}

impl DeviceMemory {
    /// `MemoryCreateDevice`: an object over `pages` pages from `phys`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create_memory(
        &self,
        budget: &Budget,
        phys: u64,
        pages: u64,
    ) -> Result<MemoryObject, SysError> {
        sys::memory_create_device(budget.slot(), self.slot, phys, pages).map(MemoryObject::from_raw)
    }
}

/// Reads one byte from I/O port `port` (`in al, dx`).
///
/// The calling thread must be bound to a range holding `port`
/// ([`IoPorts::bind`]); otherwise the instruction faults and the fault goes
/// to the thread's fault endpoint, as any other. Safe: the kernel opens
/// only the ports of the ranges the thread holds, never its own (the debug
/// console, the timer, the interrupt controllers), so what an access can
/// do is what the capability granted.
#[inline(always)]
pub fn port_read_u8(port: u16) -> u8 {
    let value: u8;
    // SAFETY: `in` touches no memory of this program and no register but
    // `al`; a port the thread may not use raises #GP, which the kernel
    // turns into a fault of this thread (never undefined behaviour here).
    unsafe {
        core::arch::asm!("in al, dx", in("dx") port, out("al") value,
            options(nomem, nostack, preserves_flags));
    }
    value
}

/// Writes one byte to I/O port `port` (`out dx, al`); as
/// [`port_read_u8`], the thread must be bound to a range holding it.
#[inline(always)]
pub fn port_write_u8(port: u16, value: u8) {
    // SAFETY: as in `port_read_u8`: no memory of this program is touched,
    // and a port the thread may not use faults the thread.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") value,
            options(nomem, nostack, preserves_flags));
    }
}
