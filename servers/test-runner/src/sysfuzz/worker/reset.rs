//! A worker's reset: everything it made revoked, its saved replies
//! deleted, a fresh pool; its own capabilities (budget, debug, image,
//! ports, interrupt line, device memory) checked and remade if a random
//! call took them.

use core::sync::atomic::Ordering;

use abi::syscall::{
    BudgetInfoArgs, BudgetSplitArgs, CapCopyArgs, CapDeleteArgs, CapRevokeArgs, LendMode,
    MemoryLendArgs, Syscall, SyscallArgs,
};
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::sysfuzz::child;
use crate::sysfuzz::layout::{G_ASPACE, G_DEBUG, G_DEVICE, G_IO_PORTS, G_IRQ};
use crate::sysfuzz::pool::State;
use crate::sysfuzz::report::{self, stat};

use super::{RESET_EVERY, SERVED, Tag, Worker};

impl Worker {
    /// Revokes everything the worker made and starts again from a fresh
    /// pool: its budget, debug and image capabilities (remade if they are
    /// gone), and one copy of each in the pool.
    pub fn reset(&mut self) {
        self.tag = Tag::Upkeep;
        report::bump(stat::RESETS, 1);
        let infra = &self.infra;
        let revoked = [
            infra.budget,
            infra.debug,
            infra.text,
            infra.ports,
            infra.irq,
            infra.device,
        ];
        for slot in revoked {
            if slot != 0 {
                let _ = self.call(&CapRevokeArgs {
                    slot: CapSlot(slot as u32),
                });
            }
        }
        // Saved replies derive from nothing the revokes reach: delete them
        // (their callers get PeerClosed, or are gone), or their slots
        // would stay full once the pool forgets them.
        let mut saved = [0u32; crate::sysfuzz::pool::CAPACITY];
        let mut count = 0;
        for entry in self.pool.entries() {
            if entry.kind == Some(ObjectType::Reply) && entry.state == State::Live {
                saved[count] = entry.slot;
                count += 1;
            }
        }
        for &slot in &saved[..count] {
            let _ = self.call(&CapDeleteArgs {
                slot: CapSlot(slot),
            });
        }
        self.pool.clear();
        self.holding_reply = false;
        self.served = [0; SERVED];
        self.prepared = [0; SERVED];
        if self.alone && self.infra.budget != 0 {
            // Alone, nothing outside the worker's budget can hold what it
            // paid for: once revoked, the budget must be empty.
            let args = BudgetInfoArgs {
                budget: CapSlot(self.infra.budget as u32),
            };
            if let Ok(results) = self.call(&args)
                && results[1] != 0
            {
                rt::println!(
                    "sysfuzz: worker {}: {} frames still charged to its budget after revoking it",
                    self.index,
                    results[1]
                );
                let budget = self.infra.budget;
                self.anomaly(line!(), Syscall::BudgetInfo.number(), args.encode(), 0);
                // Start from a fresh budget, so the leak is reported once.
                let _ = self.call(&CapDeleteArgs {
                    slot: CapSlot(budget as u32),
                });
                self.infra.budget = 0;
            }
        }
        self.ensure_infra();
        let seeds = [
            (self.infra.budget, ObjectType::Budget, Rights::all()),
            (self.infra.debug, ObjectType::Debug, Rights::READ),
            (
                self.infra.text,
                ObjectType::MemoryObject,
                Rights::READ | Rights::GRANT,
            ),
            (self.infra.ports, ObjectType::IoPorts, Rights::all()),
            (self.infra.irq, ObjectType::Irq, Rights::all()),
            (self.infra.device, ObjectType::DeviceMemory, Rights::all()),
        ];
        for (source, kind, rights) in seeds {
            if source == 0 {
                continue;
            }
            if let Ok(results) = self.call(&CapCopyArgs {
                src: CapSlot(source as u32),
                rights,
                cspace: CapSlot::NULL,
                dst: CapSlot::NULL,
            }) {
                self.learn(results[0], Some(kind), Some(rights), source);
            }
        }
        self.next_reset = self.calls + RESET_EVERY / 2 + self.rng.below(RESET_EVERY);
    }

    /// `slot` if it still holds a full copy of the child's `source` (of
    /// type `kind`), else a new copy of it (0 if that fails).
    fn ensure_copy(&mut self, slot: u64, source: CapSlot, kind: ObjectType) -> u64 {
        if slot != 0 && self.describe(slot) == (Some(kind), Some(Rights::all())) {
            return slot;
        }
        self.call(&CapCopyArgs {
            src: source,
            rights: Rights::all(),
            cspace: CapSlot::NULL,
            dst: CapSlot::NULL,
        })
        .map_or(0, |results| results[0])
    }

    /// Makes sure the worker's budget, debug, device and image
    /// capabilities are there (a random call may have deleted or moved
    /// them).
    fn ensure_infra(&mut self) {
        let budget_ok = self.infra.budget != 0
            && self
                .call(&BudgetInfoArgs {
                    budget: CapSlot(self.infra.budget as u32),
                })
                .is_ok();
        if !budget_ok {
            self.infra.budget = 0;
            let fuzz = CapSlot(child::FUZZ_BUDGET.load(Ordering::Relaxed));
            for attempt in 0..2 {
                match self.call(&BudgetSplitArgs {
                    budget: fuzz,
                    frames: self.budget_frames,
                }) {
                    Ok(results) => {
                        self.infra.budget = results[0];
                        break;
                    }
                    Err(SysError::OutOfMemory) if attempt == 0 => {
                        // Budgets of this worker's that were deleted but
                        // still pay for something hold the rest: start
                        // everyone again.
                        report::bump(stat::FUZZ_RESETS, 1);
                        let _ = self.call(&CapRevokeArgs { slot: fuzz });
                        for flag in &child::RESCUED {
                            flag.store(1, Ordering::Release);
                        }
                        child::RESCUED[self.index].store(0, Ordering::Release);
                    }
                    Err(_) => break,
                }
            }
            child::WORKER_BUDGET[self.index].store(self.infra.budget as u32, Ordering::Relaxed);
        }
        let debug_ok = self.infra.debug != 0
            && self.describe(self.infra.debug) == (Some(ObjectType::Debug), Some(Rights::READ));
        if !debug_ok {
            self.infra.debug = self
                .call(&CapCopyArgs {
                    src: G_DEBUG,
                    rights: Rights::READ,
                    cspace: CapSlot::NULL,
                    dst: CapSlot::NULL,
                })
                .map_or(0, |results| results[0]);
        }
        self.infra.ports = self.ensure_copy(self.infra.ports, G_IO_PORTS, ObjectType::IoPorts);
        self.infra.irq = self.ensure_copy(self.infra.irq, G_IRQ, ObjectType::Irq);
        self.infra.device = self.ensure_copy(self.infra.device, G_DEVICE, ObjectType::DeviceMemory);
        let lent = Some(ObjectType::MemoryObject);
        let text_ok = self.infra.text != 0
            && self.describe(self.infra.text) == (lent, Some(Rights::READ | Rights::GRANT));
        if !text_ok {
            // The worker's own copy of the image (a memory object is
            // mapped in at most `MAPPINGS` address spaces): lent from the
            // child's address space, paid by the worker's budget, so a
            // reset revokes it with the rest. If that fails, the child's.
            let (start, _, end) = crate::copy_spawn::image_bounds();
            let lend = MemoryLendArgs {
                budget: CapSlot(self.infra.budget as u32),
                aspace: G_ASPACE,
                addr: start,
                len: end - start,
                mode: LendMode::Lend,
            };
            self.infra.text = match self.call(&lend) {
                Ok(results) => results[0],
                Err(_) => self
                    .call(&CapCopyArgs {
                        src: CapSlot(child::TEXT.load(Ordering::Relaxed)),
                        rights: Rights::READ | Rights::GRANT,
                        cspace: CapSlot::NULL,
                        dst: CapSlot::NULL,
                    })
                    .map_or(0, |results| results[0]),
            };
        }
    }
}
