//! Scripts: short sequences that build something a random call would
//! rarely reach, with random choices at every step (and every step may
//! fail, often with `OutOfMemory` under the small budget). Their objects
//! join the pool, so random calls then work on them too.
//!
//! - `window`: create a memory object, derive a copy, map it in the
//!   worker's window of the child's own address space, populate it (now
//!   and then a page too far, a hole), touch its pages
//!   (through the kernel: `CapInfo` writes there), protect it read-only,
//!   resize it, unmap it, revoke and delete it. Two rules are checked:
//!   after a read-only protect, and after the unmap, the kernel must
//!   refuse to write there (`BadAddress`).
//! - `partner`: a scratch address space with the child's image, a stack
//!   and an IPC buffer mapped, a capability space holding an endpoint,
//!   notification or address space, and a partner thread (`partner.rs`).
//! - `clone`: clone a scratch address space (copy-on-write), sometimes
//!   with a partner started in the clone.
//! - `lend`: lend or move bytes of a scratch address space, map the result.
//! - `resize`: grow and shrink memory objects.
//! - `split`: split a budget, spend it, revoke or delete it.
//! - `derive`: copy and mint an endpoint or notification, then revoke it.
//! - `probe`: a syscall that creates something, paid by a fresh budget of
//!   a few frames no one else knows; when it fails with `OutOfMemory`,
//!   the budget must be empty ("nothing kept", as the syscalls promise).
//! - `ipc`: calls and sends to an endpoint an echo partner serves, with
//!   random message infos and capabilities.
//! - `relocate`: move capabilities to other slots and spaces.
//! - `exec`: a partner in a scratch address space moves with `ThreadExec`
//!   into another (a fresh one with the image and a stack mapped, or a
//!   clone) and ends there; the worker waits for it and counts the
//!   partner's `ThreadExec` and `ThreadExit` from its exit code.
//! - `devices`: a sub-range of the fuzzer's I/O ports bound to and
//!   unbound from a thread, its interrupt line bound to a notification,
//!   acked and unbound, device memory (where nothing answers) made.
//!   (`window` maps device memory in the worker's window now and then.)
//! - `futex`: a `FutexWait` in the worker's window that a partner, in a
//!   scratch space sharing the page, ends with `FutexWake`.

use abi::layout::PAGE_BYTES;
use abi::syscall::{
    AspaceCloneArgs, AspaceCreateArgs, AspaceMapArgs, AspacePopulateArgs, AspaceProtectArgs,
    AspaceUnmapArgs, BudgetInfoArgs, BudgetSplitArgs, CSpaceCreateArgs, CapCopyArgs, CapDeleteArgs,
    CapInfoArgs, CapMintArgs, CapMoveArgs, CapRevokeArgs, ClockReadArgs, EndpointCreateArgs,
    FutexWaitArgs, IoPortsBindArgs, IoPortsCreateArgs, IoPortsUnbindArgs, IrqAckArgs, IrqBindArgs,
    LendMode, MemoryCreateArgs, MemoryCreateDeviceArgs, MemoryLendArgs, MemoryResizeArgs,
    NotificationCreateArgs, Syscall, SyscallArgs, ThreadConfigureArgs, ThreadCreateArgs,
    ThreadSetPriorityArgs, ThreadStartArgs, ThreadWaitArgs, exit_kind,
};
use abi::{CapSlot, MapFlags, ObjectType, Rights, SysError};

use super::args;
use super::layout::{
    CSPACE_SLOTS, FIRST_RANDOM_SLOT, FUZZ_MMIO, FUZZ_MMIO_PAGES, FUZZ_PORTS, G_ASPACE, G_CONSOLE,
    OWN_WINDOW, OWN_WINDOW_PAGES, OWN_WINDOW_STRIDE, PARTNER_IPC, PARTNER_STACK_PAGES,
    PARTNER_STACKS, WINDOW, WINDOW_PAGES, partner_stack_top,
};
use super::partner;
use super::report::{self, stat};
use super::worker::{SERVED, Tag, Worker};

/// Percent of partners whose faults go to their endpoint as fault
/// messages (the rest are killed by the kernel).
const FAULT_ENDPOINT_PERCENT: u64 = 30;
/// Priority partners get (above the workers', so they answer at once).
const PARTNER_PRIORITY: u64 = super::WORKER_MAX_PRIORITY;

fn slot(value: u64) -> CapSlot {
    CapSlot(value as u32)
}

impl Worker {
    /// Runs one script, chosen at random.
    pub fn script(&mut self) {
        match self.rng.below(100) {
            0..20 => self.script_partner(),
            20..24 => self.script_exec(),
            24..40 => self.script_window(),
            40..50 => self.script_clone(),
            50..59 => self.script_lend(),
            59..66 => self.script_resize(),
            66..75 => self.script_split(),
            75..81 => self.script_derive(),
            81..88 => self.script_probe(),
            88..94 => self.script_ipc(),
            94..96 => self.script_relocate(),
            96..98 => self.script_futex(),
            _ => self.script_devices(),
        }
    }

    /// An FS base for a partner thread (which never uses one): mostly
    /// none, else a user address.
    fn partner_tls(&mut self) -> u64 {
        match self.rng.below(4) {
            0 => WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_BYTES,
            1 => abi::layout::USER_END - 8,
            _ => 0,
        }
    }

    /// A budget to pay with: a live one from the pool, else the worker's.
    fn payer(&mut self) -> Option<u64> {
        let entry = self
            .pool
            .live_with(&mut self.rng, ObjectType::Budget, Rights::WRITE);
        match entry {
            Some(entry) if self.rng.chance(85) => Some(u64::from(entry.slot)),
            _ if self.infra.budget != 0 => Some(self.infra.budget),
            _ => entry.map(|e| u64::from(e.slot)),
        }
    }

    /// A live pool entry of `kind` with `rights`, if any.
    fn live(&mut self, kind: ObjectType, rights: Rights) -> Option<u64> {
        self.pool
            .live_with(&mut self.rng, kind, rights)
            .map(|e| u64::from(e.slot))
    }

    /// Makes an object with `args` (a create syscall) and adds it to the pool.
    fn make<A: SyscallArgs>(&mut self, args: &A, kind: ObjectType, parent: u64) -> Option<u64> {
        let results = self.call(args).ok()?;
        self.learn(results[0], Some(kind), Some(Rights::all()), parent);
        Some(results[0])
    }

    /// Deletes `slot` (and tells the pool).
    fn drop_slot(&mut self, value: u64) {
        if self.call(&CapDeleteArgs { slot: slot(value) }).is_ok() {
            self.pool.deleted(value);
        }
    }

    /// Random rights, usually all of them.
    fn some_rights(&mut self) -> Rights {
        if self.rng.chance(70) {
            Rights::all()
        } else {
            Rights::from_bits_truncate(self.rng.below(16) as u32)
        }
    }

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

    fn script_window(&mut self) {
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

    fn script_partner(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let args = AspaceCreateArgs {
            budget: slot(budget),
        };
        let Some(aspace) = self.make(&args, ObjectType::AddressSpace, budget) else {
            return;
        };
        let text = self
            .live(ObjectType::MemoryObject, Rights::READ)
            .filter(|_| self.rng.chance(8))
            .unwrap_or(self.infra.text);
        let image_pages = self.cx.image_pages;
        let image_mapped = self
            .call(&AspaceMapArgs {
                aspace: slot(aspace),
                memory: slot(text),
                offset: 0,
                vaddr: abi::layout::IMAGE_BASE,
                pages: image_pages,
                flags: MapFlags::READ | MapFlags::EXEC,
            })
            .is_ok();
        let stack = self.make(
            &MemoryCreateArgs {
                budget: slot(budget),
                pages: PARTNER_STACK_PAGES,
            },
            ObjectType::MemoryObject,
            budget,
        );
        if let Some(stack) = stack {
            let _ = self.call(&AspaceMapArgs {
                aspace: slot(aspace),
                memory: slot(stack),
                offset: 0,
                vaddr: PARTNER_STACKS,
                pages: PARTNER_STACK_PAGES,
                flags: MapFlags::READ | MapFlags::WRITE,
            });
        }
        let with_buffer = self.rng.chance(60);
        if with_buffer {
            let ipc = self.make(
                &MemoryCreateArgs {
                    budget: slot(budget),
                    pages: 1,
                },
                ObjectType::MemoryObject,
                budget,
            );
            if let Some(ipc) = ipc {
                let _ = self.call(&AspaceMapArgs {
                    aspace: slot(aspace),
                    memory: slot(ipc),
                    offset: 0,
                    vaddr: PARTNER_IPC,
                    pages: 1,
                    flags: MapFlags::READ | MapFlags::WRITE,
                });
                if self.rng.chance(50) {
                    self.drop_slot(ipc);
                }
            }
        }
        let slots = self.rng.pick(&[2, 16, 64, 100]);
        let Some(cspace) = self.make(
            &CSpaceCreateArgs {
                budget: slot(budget),
                slots,
            },
            ObjectType::CSpace,
            budget,
        ) else {
            return;
        };
        // Mostly servers, so that calls and sends find a receiver.
        let mode = match self.rng.below(100) {
            0..35 => partner::ECHO,
            35..47 => partner::CALLER,
            47..55 => partner::SENDER,
            55..65 => partner::SIGNALLER,
            65..73 => partner::WAITER,
            73..83 => partner::TINY,
            83..93 => partner::TOUCHER,
            _ => partner::EXEC,
        };
        let object = match mode {
            partner::ECHO | partner::CALLER | partner::SENDER => self
                .live(ObjectType::Endpoint, Rights::empty())
                .or_else(|| {
                    self.make(
                        &EndpointCreateArgs {
                            budget: slot(budget),
                        },
                        ObjectType::Endpoint,
                        budget,
                    )
                }),
            partner::SIGNALLER | partner::WAITER => self
                .live(ObjectType::Notification, Rights::empty())
                .or_else(|| {
                    self.make(
                        &NotificationCreateArgs {
                            budget: slot(budget),
                        },
                        ObjectType::Notification,
                        budget,
                    )
                }),
            _ => self.pool.pick_any(&mut self.rng).map(|e| u64::from(e.slot)),
        };
        let mut served = None;
        if let Some(object) = object {
            let rights = if self.rng.chance(85) {
                Rights::all()
            } else {
                self.some_rights()
            };
            let copied = self.call(&CapCopyArgs {
                src: slot(object),
                rights,
                cspace: slot(cspace),
                dst: partner::OBJECT,
            });
            if copied.is_ok() && mode == partner::ECHO && rights.contains(Rights::READ) {
                served = Some(object);
            }
        }
        if mode == partner::EXEC {
            let target = if self.rng.chance(60) {
                self.make(
                    &AspaceCloneArgs {
                        budget: slot(budget),
                        aspace: slot(aspace),
                    },
                    ObjectType::AddressSpace,
                    budget,
                )
            } else {
                self.live(ObjectType::AddressSpace, Rights::WRITE)
            };
            if let Some(target) = target {
                let _ = self.call(&CapCopyArgs {
                    src: slot(target),
                    rights: Rights::all(),
                    cspace: slot(cspace),
                    dst: partner::TARGET,
                });
            }
        }
        let Some(thread) = self.make(
            &ThreadCreateArgs {
                budget: slot(budget),
                aspace: slot(aspace),
                cspace: slot(cspace),
            },
            ObjectType::Thread,
            budget,
        ) else {
            return;
        };
        let fault_endpoint = if self.fault_endpoints && self.rng.chance(FAULT_ENDPOINT_PERCENT) {
            partner::OBJECT
        } else {
            CapSlot::NULL
        };
        let _ = self.call(&ThreadConfigureArgs {
            thread: slot(thread),
            ipc_buffer: if with_buffer { PARTNER_IPC } else { 0 },
            fault_endpoint,
        });
        let priority = if self.rng.chance(80) {
            PARTNER_PRIORITY
        } else {
            self.rng.below(PARTNER_PRIORITY + 1)
        };
        let _ = self.call(&ThreadSetPriorityArgs {
            thread: slot(thread),
            priority,
            max_priority: PARTNER_PRIORITY,
        });
        let stack_index = self.rng.below(8);
        let tls = self.partner_tls();
        let rounds = self.rng.below(32);
        let started = self.call(&ThreadStartArgs {
            thread: slot(thread),
            entry: self.cx.partner_entry,
            stack: partner_stack_top(stack_index),
            arg: partner::arg(mode, rounds, stack_index),
            tls,
        });
        if image_mapped {
            let at = self.rng.below(SERVED as u64) as usize;
            self.prepared[at] = aspace;
        }
        if started.is_ok() {
            report::bump(stat::PARTNERS, 1);
            if let Some(endpoint) = served {
                let at = self.rng.below(SERVED as u64) as usize;
                self.served[at] = endpoint;
            }
        }
        // The mappings and the thread keep what they use alive.
        if let Some(stack) = stack
            && self.rng.chance(50)
        {
            self.drop_slot(stack);
        }
        if self.rng.chance(30) {
            self.drop_slot(cspace);
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

    fn script_clone(&mut self) {
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

    fn script_lend(&mut self) {
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

    fn script_resize(&mut self) {
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

    fn script_split(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let frames = self.rng.range(1, 40);
        let Some(child) = self.make(
            &BudgetSplitArgs {
                budget: slot(budget),
                frames,
            },
            ObjectType::Budget,
            budget,
        ) else {
            return;
        };
        let _ = self.call(&BudgetInfoArgs {
            budget: slot(child),
        });
        for _ in 0..self.rng.range(1, 4) {
            match self.rng.below(4) {
                0 => {
                    let _ = self.make(
                        &EndpointCreateArgs {
                            budget: slot(child),
                        },
                        ObjectType::Endpoint,
                        child,
                    );
                }
                1 => {
                    let pages = self.rng.range(1, 64);
                    let _ = self.make(
                        &MemoryCreateArgs {
                            budget: slot(child),
                            pages,
                        },
                        ObjectType::MemoryObject,
                        child,
                    );
                }
                2 => {
                    let slots = self.rng.pick(&[2, 64, 65, 512]);
                    let _ = self.make(
                        &CSpaceCreateArgs {
                            budget: slot(child),
                            slots,
                        },
                        ObjectType::CSpace,
                        child,
                    );
                }
                _ => {
                    let frames = self.rng.range(1, frames + 1);
                    let _ = self.make(
                        &BudgetSplitArgs {
                            budget: slot(child),
                            frames,
                        },
                        ObjectType::Budget,
                        child,
                    );
                }
            }
        }
        let _ = self.call(&BudgetInfoArgs {
            budget: slot(child),
        });
        match self.rng.below(10) {
            0..4 if self.call(&CapRevokeArgs { slot: slot(child) }).is_ok() => {
                self.pool.revoked(child);
            }
            4..7 => self.drop_slot(child),
            _ => {}
        }
    }

    fn script_derive(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let object = if self.rng.chance(50) {
            self.make(
                &EndpointCreateArgs {
                    budget: slot(budget),
                },
                ObjectType::Endpoint,
                budget,
            )
        } else {
            self.make(
                &NotificationCreateArgs {
                    budget: slot(budget),
                },
                ObjectType::Notification,
                budget,
            )
        };
        let Some(object) = object else {
            return;
        };
        let kind = self.pool.find(object).and_then(|e| e.kind);
        let mut last = object;
        for round in 0..self.rng.range(1, 4) {
            let rights = self.some_rights();
            let badge = round + 1 + self.rng.below(1000);
            let minted = self.call(&CapMintArgs {
                src: slot(object),
                rights,
                badge,
                cspace: CapSlot::NULL,
                dst: CapSlot::NULL,
            });
            if let Ok(results) = minted {
                self.learn(results[0], kind, Some(rights), object);
                last = results[0];
            }
        }
        // A copy of a copy, and a mint of a badged capability (refused).
        let rights = self.some_rights();
        if let Ok(results) = self.call(&CapCopyArgs {
            src: slot(last),
            rights,
            cspace: CapSlot::NULL,
            dst: CapSlot::NULL,
        }) {
            self.learn(results[0], kind, Some(rights), last);
        }
        let _ = self.call(&CapMintArgs {
            src: slot(last),
            rights: Rights::all(),
            badge: 7,
            cspace: CapSlot::NULL,
            dst: CapSlot::NULL,
        });
        if self.rng.chance(70) && self.call(&CapRevokeArgs { slot: slot(object) }).is_ok() {
            self.pool.revoked(object);
        }
        if self.rng.chance(40) {
            self.drop_slot(object);
        }
    }

    fn script_probe(&mut self) {
        let Some(parent) = self.payer() else {
            return;
        };
        let frames = self.rng.range(1, 12);
        let Ok(results) = self.call(&BudgetSplitArgs {
            budget: slot(parent),
            frames,
        }) else {
            return;
        };
        let probe = results[0];
        let budget = slot(probe);
        let aspace = self.live(ObjectType::AddressSpace, Rights::READ | Rights::WRITE);
        let cspace = self.live(ObjectType::CSpace, Rights::WRITE);
        let (number, args) = match self.rng.below(8) {
            0 | 1 if aspace.is_some() => {
                let args = AspaceCloneArgs {
                    budget,
                    aspace: slot(aspace.unwrap_or(0)),
                };
                (Syscall::AspaceClone, args.encode())
            }
            2 if aspace.is_some() => {
                let start = self
                    .rng
                    .pick(&[abi::layout::IMAGE_BASE, PARTNER_STACKS, PARTNER_IPC]);
                let addr = start + self.rng.below(4) * PAGE_BYTES + self.rng.pick(&[0, 100]);
                let len = self.rng.range(1, 4 * PAGE_BYTES);
                let mode = if self.rng.chance(70) {
                    LendMode::Lend
                } else {
                    LendMode::Move
                };
                let args = MemoryLendArgs {
                    budget,
                    aspace: slot(aspace.unwrap_or(0)),
                    addr,
                    len,
                    mode,
                };
                (Syscall::MemoryLend, args.encode())
            }
            3 if aspace.is_some() && cspace.is_some() => {
                let args = ThreadCreateArgs {
                    budget,
                    aspace: slot(aspace.unwrap_or(0)),
                    cspace: slot(cspace.unwrap_or(0)),
                };
                (Syscall::ThreadCreate, args.encode())
            }
            4 => {
                let slots = self.rng.pick(&[2, 64, 65, 200, 1000]);
                (
                    Syscall::CSpaceCreate,
                    CSpaceCreateArgs { budget, slots }.encode(),
                )
            }
            5 => {
                let frames = self.rng.range(1, 16);
                (
                    Syscall::BudgetSplit,
                    BudgetSplitArgs { budget, frames }.encode(),
                )
            }
            6 => (Syscall::AspaceCreate, AspaceCreateArgs { budget }.encode()),
            _ => {
                let pages = self
                    .rng
                    .pick(&[1, 512, 513, 1 << 18, abi::syscall::MEMORY_MAX_PAGES]);
                (
                    Syscall::MemoryCreate,
                    MemoryCreateArgs { budget, pages }.encode(),
                )
            }
        };
        let (status, results) = self.raw(number.number(), args);
        if status == SysError::OutOfMemory.code() {
            // Nothing kept: the probe budget must be as new. Another worker
            // may have paid with it meanwhile, though, through a stale pool
            // entry for a slot this budget now holds; what it made derives
            // from the budget's capability, so a revoke takes it back
            // first, and only a charge that outlives it counts.
            let info = BudgetInfoArgs { budget };
            let charged = |worker: &mut Self| worker.call(&info).map(|r| r[1]) != Ok(0);
            if charged(self) {
                let _ = self.call(&CapRevokeArgs { slot: budget });
            }
            if charged(self)
                && let Ok(after) = self.call(&info)
            {
                self.anomaly(line!(), number.number(), args, status);
                rt::println!(
                    "sysfuzz:   {} failed with OutOfMemory but left {} of {} frames charged",
                    super::report::name(number.number()),
                    after[1],
                    after[0]
                );
            }
        } else if status == 0 {
            let _ = self.call(&CapDeleteArgs {
                slot: slot(results[0]),
            });
        }
        let _ = self.call(&CapRevokeArgs { slot: budget });
        let _ = self.call(&CapDeleteArgs { slot: budget });
    }

    /// Messages to an endpoint an echo partner serves (it may have ended,
    /// and then the supervisor rescues the worker).
    fn script_ipc(&mut self) {
        let count = self.served.iter().filter(|&&e| e != 0).count() as u64;
        if count == 0 {
            self.script_partner();
            return;
        }
        let chosen = self.rng.below(count) as usize;
        let Some(&endpoint) = self.served.iter().filter(|&&e| e != 0).nth(chosen) else {
            return;
        };
        for _ in 0..self.rng.range(1, 4) {
            let call = match self.rng.below(10) {
                0..6 => Syscall::Call,
                6..8 => Syscall::Send,
                _ => Syscall::NbSend,
            };
            let mut args = args::generate(&mut self.rng, &self.pool, &self.cx, call);
            args[0] = endpoint;
            self.tag = Tag::Script;
            self.issue(call, args, false);
        }
    }

    fn script_relocate(&mut self) {
        for _ in 0..self.rng.range(1, 3) {
            let Some(entry) = self.pool.pick_any(&mut self.rng) else {
                return;
            };
            let source = u64::from(entry.slot);
            let elsewhere = self.live(ObjectType::CSpace, Rights::WRITE);
            match elsewhere {
                Some(space) if self.rng.chance(50) => {
                    let dst = if self.rng.chance(50) {
                        0
                    } else {
                        self.rng.range(1, 64)
                    };
                    if self
                        .call(&CapMoveArgs {
                            src: slot(source),
                            cspace: slot(space),
                            dst: slot(dst),
                        })
                        .is_ok()
                    {
                        self.pool.moved(source, 0);
                    }
                }
                _ => {
                    let dst = if self.rng.chance(50) {
                        0
                    } else {
                        self.rng
                            .range(u64::from(FIRST_RANDOM_SLOT), u64::from(CSPACE_SLOTS) - 1)
                    };
                    if let Ok(results) = self.call(&CapMoveArgs {
                        src: slot(source),
                        cspace: CapSlot::NULL,
                        dst: slot(dst),
                    }) {
                        self.pool.moved(source, results[0]);
                    }
                }
            }
        }
    }
    /// A scratch address space with the child's image (read and execute)
    /// and a partner stack object mapped, paid by `budget`; `None` if the
    /// image could not be mapped (a partner could not run there).
    fn scratch_space(&mut self, budget: u64) -> Option<u64> {
        let aspace = self.make(
            &AspaceCreateArgs {
                budget: slot(budget),
            },
            ObjectType::AddressSpace,
            budget,
        )?;
        let image = self.call(&AspaceMapArgs {
            aspace: slot(aspace),
            memory: slot(self.infra.text),
            offset: 0,
            vaddr: abi::layout::IMAGE_BASE,
            pages: self.cx.image_pages,
            flags: MapFlags::READ | MapFlags::EXEC,
        });
        if image.is_err() {
            self.drop_slot(aspace);
            return None;
        }
        let stack = self.make(
            &MemoryCreateArgs {
                budget: slot(budget),
                pages: PARTNER_STACK_PAGES,
            },
            ObjectType::MemoryObject,
            budget,
        );
        if let Some(stack) = stack {
            let _ = self.call(&AspaceMapArgs {
                aspace: slot(aspace),
                memory: slot(stack),
                offset: 0,
                vaddr: PARTNER_STACKS,
                pages: PARTNER_STACK_PAGES,
                flags: MapFlags::READ | MapFlags::WRITE,
            });
            // The mapping keeps it.
            if self.rng.chance(70) {
                self.drop_slot(stack);
            }
        }
        Some(aspace)
    }

    /// A partner that moves with `ThreadExec` into another address space
    /// (a fresh one with the image and a stack, or a clone of its own) and
    /// ends there; the worker waits for it, and counts the partner's
    /// `ThreadExec` and `ThreadExit` in the table from how it ended.
    fn script_exec(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let Some(aspace) = self.scratch_space(budget) else {
            return;
        };
        let target = if self.rng.chance(60) {
            self.scratch_space(budget)
        } else {
            self.make(
                &AspaceCloneArgs {
                    budget: slot(budget),
                    aspace: slot(aspace),
                },
                ObjectType::AddressSpace,
                budget,
            )
        };
        let cspace = self.make(
            &CSpaceCreateArgs {
                budget: slot(budget),
                slots: 4,
            },
            ObjectType::CSpace,
            budget,
        );
        let thread = match (target, cspace) {
            (Some(target), Some(cspace)) => {
                // Now and then without WRITE: the exec is refused.
                let rights = if self.rng.chance(90) {
                    Rights::all()
                } else {
                    self.some_rights()
                };
                let _ = self.call(&CapCopyArgs {
                    src: slot(target),
                    rights,
                    cspace: slot(cspace),
                    dst: partner::TARGET,
                });
                self.make(
                    &ThreadCreateArgs {
                        budget: slot(budget),
                        aspace: slot(aspace),
                        cspace: slot(cspace),
                    },
                    ObjectType::Thread,
                    budget,
                )
            }
            _ => None,
        };
        if let Some(thread) = thread {
            self.exec_partner(thread);
        }
        // The thread holds what it runs in; what is left goes mostly.
        for made in [thread, cspace, target, Some(aspace)].into_iter().flatten() {
            if self.rng.chance(80) {
                self.drop_slot(made);
            }
        }
    }

    /// Starts `thread` as an [`partner::EXEC`] partner, waits for it, and
    /// counts its calls.
    fn exec_partner(&mut self, thread: u64) {
        let _ = self.call(&ThreadSetPriorityArgs {
            thread: slot(thread),
            priority: PARTNER_PRIORITY,
            max_priority: PARTNER_PRIORITY,
        });
        let stack_index = self.rng.below(8);
        let tls = self.partner_tls();
        let rounds = self.rng.below(4);
        let started = self.call(&ThreadStartArgs {
            thread: slot(thread),
            entry: self.cx.partner_entry,
            stack: partner_stack_top(stack_index),
            arg: partner::arg(partner::EXEC, rounds, stack_index),
            tls,
        });
        if started.is_err() {
            return;
        }
        report::bump(stat::PARTNERS, 1);
        // It runs above the worker and ends at once; if something holds
        // it (a random suspend), the supervisor rescues the worker.
        let wait = ThreadWaitArgs {
            thread: slot(thread),
        };
        let (status, results) = self.blocking(Syscall::ThreadWait.number(), wait.encode());
        if status != 0 || results[0] != exit_kind::EXITED {
            return;
        }
        let code = results[1];
        let exec_status = if code == partner::EXECED_CODE {
            0
        } else if code > partner::EXEC_FAILED
            && SysError::from_code(code - partner::EXEC_FAILED).is_some()
        {
            code - partner::EXEC_FAILED
        } else {
            return;
        };
        report::record(Syscall::ThreadExec.number(), exec_status);
        report::record(Syscall::ThreadExit.number(), 0);
        report::bump(stat::PARTNER_CALLS, 2);
    }

    /// A `FutexWait` that a partner ends with `FutexWake`: a page mapped
    /// in the worker's window and in a scratch address space, where a
    /// [`partner::WAKER`] sleeps a little, then wakes the word the worker
    /// waits on meanwhile (keyed by physical address, so across spaces).
    fn script_futex(&mut self) {
        let Some(budget) = self.payer() else {
            return;
        };
        let Some(memory) = self.make(
            &MemoryCreateArgs {
                budget: slot(budget),
                pages: 1,
            },
            ObjectType::MemoryObject,
            budget,
        ) else {
            return;
        };
        let read_write = MapFlags::READ | MapFlags::WRITE;
        let window = OWN_WINDOW + self.index as u64 * OWN_WINDOW_STRIDE;
        let own = AspaceMapArgs {
            aspace: G_ASPACE,
            memory: slot(memory),
            offset: 0,
            vaddr: window,
            pages: 1,
            flags: read_write,
        };
        if self.call(&own).is_err() {
            self.drop_slot(memory);
            return;
        }
        let space = self.scratch_space(budget);
        let cspace = self.make(
            &CSpaceCreateArgs {
                budget: slot(budget),
                slots: 2,
            },
            ObjectType::CSpace,
            budget,
        );
        let mut started = false;
        let mut thread = None;
        if let (Some(space), Some(cspace)) = (space, cspace) {
            let shared = self.call(&AspaceMapArgs {
                aspace: slot(space),
                memory: slot(memory),
                offset: 0,
                vaddr: WINDOW,
                pages: 1,
                flags: read_write,
            });
            thread = self.make(
                &ThreadCreateArgs {
                    budget: slot(budget),
                    aspace: slot(space),
                    cspace: slot(cspace),
                },
                ObjectType::Thread,
                budget,
            );
            if let (Ok(_), Some(thread)) = (shared, thread) {
                let _ = self.call(&ThreadSetPriorityArgs {
                    thread: slot(thread),
                    priority: PARTNER_PRIORITY,
                    max_priority: PARTNER_PRIORITY,
                });
                let stack_index = self.rng.below(8);
                let tls = self.partner_tls();
                started = self
                    .call(&ThreadStartArgs {
                        thread: slot(thread),
                        entry: self.cx.partner_entry,
                        stack: partner_stack_top(stack_index),
                        arg: partner::arg(partner::WAKER, 0, stack_index),
                        tls,
                    })
                    .is_ok();
            }
        }
        if started {
            report::bump(stat::PARTNERS, 1);
            // The partner sleeps first (it runs above the worker): the
            // worker waits meanwhile, on a word that holds 0, until the
            // partner wakes it (else its deadline, or the supervisor).
            let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
            if let Ok(results) = self.call(&ClockReadArgs {}) {
                self.cx.now = results[0];
            }
            self.tag = tag;
            let wait = FutexWaitArgs {
                addr: window,
                expected: 0,
                deadline: self.cx.now + 10 * partner::WAKER_SLEEP_NS,
            };
            self.blocking(Syscall::FutexWait.number(), wait.encode());
        }
        // The window must be empty again.
        let unmap = AspaceUnmapArgs {
            aspace: G_ASPACE,
            vaddr: window,
            pages: 1,
        };
        if let Err(error) = self.call(&unmap) {
            self.anomaly(
                line!(),
                Syscall::AspaceUnmap.number(),
                unmap.encode(),
                error.code(),
            );
        }
        // (Deleting the thread's last capability destroys it: only now.)
        for made in [thread, Some(memory), cspace, space].into_iter().flatten() {
            if self.rng.chance(80) {
                self.drop_slot(made);
            }
        }
    }

    /// The fuzzer's devices on their success paths: a sub-range of its
    /// ports bound to and unbound from a thread that never runs, its
    /// interrupt line bound to a notification, acked and unbound, and
    /// device memory mapped in a scratch address space.
    fn script_devices(&mut self) {
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
