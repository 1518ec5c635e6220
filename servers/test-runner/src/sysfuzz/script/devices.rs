//! The `devices` script: the fuzzer's devices on their success paths (its
//! I/O ports, its interrupt line, device memory where nothing answers).

use abi::layout::PAGE_BYTES;
use abi::syscall::{
    IoPortsBindArgs, IoPortsCreateArgs, IoPortsUnbindArgs, IrqAckArgs, IrqBindArgs,
    MemoryCreateDeviceArgs, NotificationCreateArgs, Syscall, SyscallArgs, ThreadCreateArgs,
};
use abi::{CapSlot, ObjectType, Rights};

use super::slot;
use crate::sysfuzz::layout::{FUZZ_MMIO, FUZZ_MMIO_PAGES, FUZZ_PORTS};
use crate::sysfuzz::worker::Worker;

impl Worker {
    /// The fuzzer's devices on their success paths: a sub-range of its
    /// ports bound to and unbound from a thread that never runs, its
    /// interrupt line bound to a notification, acked and unbound, and
    /// device memory mapped in a scratch address space.
    pub(super) fn script_devices(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let ports = self
            .live(ObjectType::IoPorts, Rights::WRITE)
            .filter(|_| self.rng.chance(50))
            .unwrap_or(self.infra.ports);
        let (first, count) = FUZZ_PORTS;
        let base = u64::from(first) + self.rng.below(u64::from(count));
        let length = self
            .rng
            .range(1, u64::from(first) + u64::from(count) - base);
        let range = self.make(
            &IoPortsCreateArgs {
                parent: slot(ports),
                budget: slot(budget),
                base,
                count: length,
            },
            ObjectType::IoPorts,
            ports,
        );
        let aspace = self.live(ObjectType::AddressSpace, Rights::empty());
        let cspace = self.live(ObjectType::CSpace, Rights::empty());
        let thread = match (aspace, cspace) {
            (Some(aspace), Some(cspace)) => self.make(
                &ThreadCreateArgs {
                    budget: slot(budget),
                    aspace: slot(aspace),
                    cspace: slot(cspace),
                },
                ObjectType::Thread,
                budget,
            ),
            _ => None,
        };
        if let (Some(range), Some(thread)) = (range, thread) {
            for _ in 0..self.rng.range(1, 3) {
                let _ = self.call(&IoPortsBindArgs {
                    ports: slot(range),
                    thread: slot(thread),
                });
                if self.rng.chance(70) {
                    let _ = self.call(&IoPortsUnbindArgs {
                        ports: slot(range),
                        thread: slot(thread),
                    });
                }
            }
        }
        let irq = self
            .live(ObjectType::Irq, Rights::WRITE)
            .unwrap_or(self.infra.irq);
        let notification = self.make(
            &NotificationCreateArgs {
                budget: slot(budget),
            },
            ObjectType::Notification,
            budget,
        );
        if let Some(notification) = notification {
            let bits = 1 << self.rng.below(64);
            if self
                .call(&IrqBindArgs {
                    irq: slot(irq),
                    notification: slot(notification),
                    bits,
                })
                .is_ok()
            {
                let _ = self.call(&IrqAckArgs { irq: slot(irq) });
                if self.rng.chance(50) {
                    let _ = self.call(&IrqBindArgs {
                        irq: slot(irq),
                        notification: CapSlot::NULL,
                        bits: 0,
                    });
                }
            }
        }
        // Device memory (mapped only by `window`, see `forget_device`).
        let pages = self.rng.range(1, 4);
        let phys = FUZZ_MMIO + self.rng.below(FUZZ_MMIO_PAGES - pages) * PAGE_BYTES;
        let (status, results) = self.raw(
            Syscall::MemoryCreateDevice.number(),
            MemoryCreateDeviceArgs {
                budget: slot(budget),
                device: slot(self.infra.device),
                phys,
                pages,
            }
            .encode(),
        );
        if status == 0 {
            self.forget_device(results[0]);
        }
        for made in [range, thread, notification].into_iter().flatten() {
            if self.rng.chance(60) {
                self.drop_slot(made);
            }
        }
    }
}
