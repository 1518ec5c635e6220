//! Scripts on capabilities and budgets: `split` (a budget split, spent,
//! revoked or deleted), `derive` (an endpoint or notification copied and
//! minted, then revoked), `probe` (a create paid by a fresh budget of a
//! few frames: one that fails with `OutOfMemory` must leave the budget
//! empty) and `relocate` (capabilities moved to other slots and spaces).

use abi::layout::PAGE_BYTES;
use abi::syscall::{
    AspaceCloneArgs, AspaceCreateArgs, BudgetInfoArgs, BudgetSplitArgs, CSpaceCreateArgs,
    CapCopyArgs, CapDeleteArgs, CapMintArgs, CapMoveArgs, CapRevokeArgs, EndpointCreateArgs,
    LendMode, MemoryCreateArgs, MemoryLendArgs, NotificationCreateArgs, Syscall, SyscallArgs,
    ThreadCreateArgs,
};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::slot;
use crate::sysfuzz::layout::{CSPACE_SLOTS, FIRST_RANDOM_SLOT, PARTNER_IPC, PARTNER_STACKS};
use crate::sysfuzz::report;
use crate::sysfuzz::worker::Worker;

impl Worker {
    pub(super) fn script_split(&mut self) {
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

    pub(super) fn script_derive(&mut self) {
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

    pub(super) fn script_probe(&mut self) {
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
                    report::name(number.number()),
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

    pub(super) fn script_relocate(&mut self) {
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
}
