//! Scripts on memory and address spaces: `window` (a memory object, or
//! device memory, mapped, populated, touched, protected, resized and
//! unmapped in the worker's own window, with the two rules it checks),
//! `clone` (a copy-on-write clone of a scratch address space, now and
//! then with a partner in it), `lend` (bytes of an address space lent or
//! moved into a memory object, mapped somewhere) and `resize`.

use abi::layout::PAGE_BYTES;
use abi::syscall::{
    AspaceCloneArgs, AspaceMapArgs, AspacePopulateArgs, AspaceProtectArgs, AspaceUnmapArgs,
    CSpaceCreateArgs, CapCopyArgs, CapDeleteArgs, CapInfoArgs, CapRevokeArgs, LendMode,
    MemoryCreateArgs, MemoryCreateDeviceArgs, MemoryLendArgs, MemoryResizeArgs, Syscall,
    SyscallArgs, ThreadCreateArgs, ThreadSetPriorityArgs, ThreadStartArgs,
};
use abi::{CapSlot, MapFlags, ObjectType, Rights, SysError};

use super::{PARTNER_PRIORITY, slot};
use crate::sysfuzz::layout::{
    FUZZ_MMIO, FUZZ_MMIO_PAGES, G_ASPACE, G_CONSOLE, OWN_WINDOW, OWN_WINDOW_PAGES,
    OWN_WINDOW_STRIDE, PARTNER_IPC, PARTNER_STACK_PAGES, PARTNER_STACKS, WINDOW, WINDOW_PAGES,
    partner_stack_top,
};
use crate::sysfuzz::partner;
use crate::sysfuzz::report::{self, stat};
use crate::sysfuzz::worker::Worker;

impl Worker {
    /// Touches `addr` of the child's own address space through the
    /// kernel: `CapInfo` of the console (always there) writes 16 bytes.
    fn touch(&mut self, addr: u64) -> Result<(), SysError> {
        self.call(&CapInfoArgs {
            slot: G_CONSOLE,
            out: addr,
        })
        .map(|_| ())
    }

    /// Checks that a write to `addr` fails with `BadAddress` (the rule at
    /// `line`); records an anomaly otherwise.
    fn expect_unwritable(&mut self, addr: u64, line: u32) {
        let result = self.touch(addr);
        if result != Err(SysError::BadAddress) {
            let status = match result {
                Ok(()) => 0,
                Err(error) => error.code(),
            };
            let args = CapInfoArgs {
                slot: G_CONSOLE,
                out: addr,
            }
            .encode();
            self.anomaly(line, Syscall::CapInfo.number(), args, status);
        }
    }

    pub(super) fn script_window(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let pages = self.rng.range(1, 4);
        let args = MemoryCreateArgs {
            budget: slot(budget),
            pages,
        };
        // Now and then device memory where nothing answers: the touches
        // below write there through the kernel. It stays out of the pool
        // (see `Worker::forget_device`) and goes at the end.
        let device = (self.infra.device != 0 && self.rng.chance(15)).then_some(self.infra.device);
        let memory = match device {
            Some(device) => {
                let args = MemoryCreateDeviceArgs {
                    budget: slot(budget),
                    device: slot(device),
                    phys: FUZZ_MMIO + self.rng.below(FUZZ_MMIO_PAGES - pages) * PAGE_BYTES,
                    pages,
                };
                self.call(&args).ok().map(|results| results[0])
            }
            None => self.make(&args, ObjectType::MemoryObject, budget),
        };
        let Some(memory) = memory else {
            return;
        };
        let rights = if self.rng.chance(75) {
            Rights::all()
        } else {
            self.some_rights()
        };
        let copy = self
            .call(&CapCopyArgs {
                src: slot(memory),
                rights,
                cspace: CapSlot::NULL,
                dst: CapSlot::NULL,
            })
            .map_or(memory, |r| r[0]);
        let window = OWN_WINDOW + self.index as u64 * OWN_WINDOW_STRIDE;
        let flags = if self.rng.chance(80) {
            MapFlags::READ | MapFlags::WRITE
        } else {
            MapFlags::READ
        };
        let offset = self.rng.below(2);
        let map_pages = (pages - offset.min(pages - 1)).min(OWN_WINDOW_PAGES);
        let mapped = self
            .call(&AspaceMapArgs {
                aspace: G_ASPACE,
                memory: slot(copy),
                offset: offset.min(pages - 1),
                vaddr: window,
                pages: map_pages,
                flags,
            })
            .is_ok();
        if mapped {
            if self.rng.chance(40) {
                let pages = map_pages + u64::from(self.rng.chance(20));
                let _ = self.call(&AspacePopulateArgs {
                    aspace: G_ASPACE,
                    vaddr: window,
                    pages,
                });
            }
            for page in 0..map_pages {
                let within = self.rng.below(PAGE_BYTES - 16) & !7;
                let _ = self.touch(window + page * PAGE_BYTES + within);
            }
            if self.rng.chance(50)
                && self
                    .call(&AspaceProtectArgs {
                        aspace: G_ASPACE,
                        vaddr: window,
                        pages: map_pages,
                        flags: MapFlags::READ,
                    })
                    .is_ok()
            {
                self.expect_unwritable(window, line!());
            }
            if self.rng.chance(30) {
                let new_pages = self.rng.range(1, pages + 2);
                let _ = self.call(&MemoryResizeArgs {
                    memory: slot(memory),
                    pages: new_pages,
                });
                let _ = self.touch(window + (map_pages - 1) * PAGE_BYTES);
            }
            // The window must be empty again: retry an unmap that fails.
            let mut unmapped = false;
            for _ in 0..3 {
                let unmap = AspaceUnmapArgs {
                    aspace: G_ASPACE,
                    vaddr: window,
                    pages: map_pages,
                };
                match self.call(&unmap) {
                    Ok(_) => {
                        unmapped = true;
                        break;
                    }
                    Err(error) => {
                        self.anomaly(
                            line!(),
                            Syscall::AspaceUnmap.number(),
                            unmap.encode(),
                            error.code(),
                        );
                    }
                }
            }
            if unmapped {
                self.expect_unwritable(window, line!());
            }
        }
        if device.is_some() {
            // Its copy (never in the pool) goes with it.
            let _ = self.call(&CapRevokeArgs { slot: slot(memory) });
            let _ = self.call(&CapDeleteArgs { slot: slot(memory) });
            return;
        }
        if self.rng.chance(50) && self.call(&CapRevokeArgs { slot: slot(memory) }).is_ok() {
            self.pool.revoked(memory);
        }
        if self.rng.chance(60) {
            self.drop_slot(memory);
        }
    }

    /// One of the address spaces a partner script mapped the image in, if any.
    fn prepared_aspace(&mut self) -> Option<u64> {
        let count = self.prepared.iter().filter(|&&a| a != 0).count() as u64;
        let chosen = self.rng.below(count.max(1)) as usize;
        self.prepared
            .iter()
            .copied()
            .filter(|&a| a != 0)
            .nth(chosen)
    }

    pub(super) fn script_clone(&mut self) {
        let prepared = self.prepared_aspace().filter(|_| self.rng.chance(80));
        let source =
            prepared.or_else(|| self.live(ObjectType::AddressSpace, Rights::READ | Rights::WRITE));
        let Some(source) = source else {
            return;
        };
        let Some(budget) = self.payer() else {
            return;
        };
        let Some(clone) = self.make(
            &AspaceCloneArgs {
                budget: slot(budget),
                aspace: slot(source),
            },
            ObjectType::AddressSpace,
            budget,
        ) else {
            return;
        };
        if self.rng.chance(50) {
            let cspace = self.live(ObjectType::CSpace, Rights::WRITE).or_else(|| {
                self.make(
                    &CSpaceCreateArgs {
                        budget: slot(budget),
                        slots: 2,
                    },
                    ObjectType::CSpace,
                    budget,
                )
            });
            let Some(cspace) = cspace else {
                return;
            };
            let Some(thread) = self.make(
                &ThreadCreateArgs {
                    budget: slot(budget),
                    aspace: slot(clone),
                    cspace: slot(cspace),
                },
                ObjectType::Thread,
                budget,
            ) else {
                return;
            };
            let _ = self.call(&ThreadSetPriorityArgs {
                thread: slot(thread),
                priority: PARTNER_PRIORITY,
                max_priority: PARTNER_PRIORITY,
            });
            let stack_index = self.rng.below(8);
            let tls = self.partner_tls();
            let mode = self.rng.pick(&[partner::TINY, partner::TOUCHER]);
            let rounds = self.rng.below(8);
            if self
                .call(&ThreadStartArgs {
                    thread: slot(thread),
                    entry: self.cx.partner_entry,
                    stack: partner_stack_top(stack_index),
                    arg: partner::arg(mode, rounds, stack_index),
                    tls,
                })
                .is_ok()
            {
                report::bump(stat::PARTNERS, 1);
            }
        }
        if self.rng.chance(30) {
            let start = self.rng.below(WINDOW_PAGES);
            let pages = self.rng.range(1, WINDOW_PAGES);
            let _ = self.call(&AspaceUnmapArgs {
                aspace: slot(clone),
                vaddr: WINDOW + start * PAGE_BYTES,
                pages,
            });
        }
        if self.rng.chance(30) {
            let pages = self.rng.range(1, PARTNER_STACK_PAGES);
            let _ = self.call(&AspaceProtectArgs {
                aspace: slot(clone),
                vaddr: PARTNER_STACKS,
                pages,
                flags: MapFlags::READ,
            });
        }
    }

    pub(super) fn script_lend(&mut self) {
        let Some(source) = self.live(ObjectType::AddressSpace, Rights::READ) else {
            return;
        };
        let Some(budget) = self.payer() else {
            return;
        };
        let image_pages = self.cx.image_pages.max(1);
        let start = match self.rng.below(4) {
            0 => abi::layout::IMAGE_BASE + self.rng.below(image_pages) * PAGE_BYTES,
            1 => PARTNER_STACKS + self.rng.below(PARTNER_STACK_PAGES) * PAGE_BYTES,
            2 => PARTNER_IPC,
            _ => WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_BYTES,
        };
        let addr = start
            + if self.rng.chance(50) {
                0
            } else {
                self.rng.below(PAGE_BYTES)
            };
        let len = match self.rng.below(4) {
            0 => PAGE_BYTES,
            1 => self.rng.range(1, 3) * PAGE_BYTES,
            2 => self.rng.range(1, 3 * PAGE_BYTES),
            _ => self.rng.range(1, 64),
        };
        let mode = if self.rng.chance(70) {
            LendMode::Lend
        } else {
            LendMode::Move
        };
        let Ok(results) = self.call(&MemoryLendArgs {
            budget: slot(budget),
            aspace: slot(source),
            addr,
            len,
            mode,
        }) else {
            return;
        };
        let lent = results[0];
        self.learn(
            lent,
            Some(ObjectType::MemoryObject),
            Some(Rights::READ | Rights::GRANT),
            budget,
        );
        if self.rng.chance(60) {
            let target = self
                .live(ObjectType::AddressSpace, Rights::WRITE)
                .unwrap_or(source);
            let pages = (results[1] + len).div_ceil(PAGE_BYTES);
            let vaddr = WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_BYTES;
            let _ = self.call(&AspaceMapArgs {
                aspace: slot(target),
                memory: slot(lent),
                offset: 0,
                vaddr,
                pages,
                flags: MapFlags::READ,
            });
        }
    }

    pub(super) fn script_resize(&mut self) {
        let memory = match self.live(ObjectType::MemoryObject, Rights::WRITE) {
            Some(memory) => memory,
            None => {
                let Some(budget) = self.payer() else {
                    return;
                };
                let args = MemoryCreateArgs {
                    budget: slot(budget),
                    pages: self.rng.range(1, 16),
                };
                let Some(memory) = self.make(&args, ObjectType::MemoryObject, budget) else {
                    return;
                };
                memory
            }
        };
        for _ in 0..self.rng.range(1, 3) {
            let pages = match self.rng.below(4) {
                0 => self.rng.range(1, 4),
                1 => self.rng.range(5, 64),
                2 => self.rng.range(65, 1 << 20),
                _ => self.rng.pick(&[
                    abi::syscall::MEMORY_MAX_PAGES,
                    abi::syscall::MEMORY_MAX_PAGES + 1,
                    0,
                ]),
            };
            let _ = self.call(&MemoryResizeArgs {
                memory: slot(memory),
                pages,
            });
        }
    }
}
