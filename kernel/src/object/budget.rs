//! Budgets: how many frames a holder may spend.
//!
//! Every frame the kernel allocates for a program (its objects, page
//! tables, capability-space slot pages, memory-object pages and the
//! bookkeeping nodes behind them) is charged to a budget, and refunded to
//! the same budget when it is freed. A budget is split from a parent: the
//! child's whole limit, plus the frame of the child object itself, is
//! charged to the parent until the child is destroyed. The root budget
//! covers the RAM free after boot and is never destroyed.
//!
//! Lifetime: `refs` counts capabilities. A budget whose last capability
//! is gone lingers while anything is still charged to it (a page lent to
//! another program keeps its payer); it is destroyed once both are zero,
//! and then refunds its parent.
//!
//! The arithmetic (and its invariant `used <= limit`) is
//! `kcore::budget::Account`, host-tested.

use kcore::budget::Account;

use crate::cap::ObjectRef;
use crate::mem::kobj::{KernelObject, ObjId};

/// A budget.
pub struct Budget {
    /// Its limit and the frames charged now.
    pub account: Account,
    /// The budget it was split from (`None` for the root).
    pub parent: Option<ObjId<Budget>>,
    /// Never destroyed (the root).
    pub permanent: bool,
    /// Capabilities naming it.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
}

impl KernelObject for Budget {}

impl Budget {
    /// A budget with `account`.
    pub fn new(account: Account, parent: Option<ObjId<Budget>>, permanent: bool) -> Budget {
        Budget {
            account,
            parent,
            permanent,
            refs: 0,
            reap_next: None,
        }
    }

    /// Whether it can go: no capability names it and nothing is charged.
    pub fn is_unused(&self) -> bool {
        !self.permanent && self.refs == 0 && self.account.used() == 0
    }
}
