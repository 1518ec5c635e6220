//! Handles for devices: interrupt lines and I/O port ranges, and the
//! capabilities they are made from.

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
