//! Scripts around partner threads (`partner.rs` is what they run):
//! `partner` (a scratch address space and capability space, and a partner
//! started in them), `ipc` (calls and sends to an endpoint an echo partner
//! serves), `exec` (a partner that moves with `ThreadExec` into another
//! address space and ends there; the worker waits for it) and `futex` (a
//! `FutexWait` a partner ends with `FutexWake`), with the scratch address
//! space the last two start their partner in.

use abi::syscall::{
    AspaceCloneArgs, AspaceCreateArgs, AspaceMapArgs, AspaceUnmapArgs, CSpaceCreateArgs,
    CapCopyArgs, ClockReadArgs, EndpointCreateArgs, FutexWaitArgs, MemoryCreateArgs,
    NotificationCreateArgs, Syscall, SyscallArgs, ThreadConfigureArgs, ThreadCreateArgs,
    ThreadSetPriorityArgs, ThreadStartArgs, ThreadWaitArgs, exit_kind,
};
use abi::{CapSlot, MapFlags, ObjectType, Rights, SysError};

use super::{PARTNER_PRIORITY, slot};
use crate::sysfuzz::args;
use crate::sysfuzz::layout::{
    G_ASPACE, OWN_WINDOW, OWN_WINDOW_STRIDE, PARTNER_IPC, PARTNER_STACK_PAGES, PARTNER_STACKS,
    WINDOW, partner_stack_top,
};
use crate::sysfuzz::partner;
use crate::sysfuzz::report::{self, stat};
use crate::sysfuzz::worker::{SERVED, Tag, Worker};

/// Percent of partners whose faults go to their endpoint as fault
/// messages (the rest are killed by the kernel).
const FAULT_ENDPOINT_PERCENT: u64 = 30;

impl Worker {
    pub(super) fn script_partner(&mut self) {
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

    /// Messages to an endpoint an echo partner serves (it may have ended,
    /// and then the supervisor rescues the worker).
    pub(super) fn script_ipc(&mut self) {
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
    pub(super) fn script_exec(&mut self) {
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
    pub(super) fn script_futex(&mut self) {
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
}
