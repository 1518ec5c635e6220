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

use abi::SysError;
use kcore::budget::Account;

use crate::cap::ObjectRef;
use crate::kernel::Kernel;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::lifetime::{self, Header};

/// A budget.
#[repr(C)]
pub struct Budget {
    /// References (capabilities), and the parent as payer (the root pays
    /// for itself).
    pub header: Header,
    /// Its limit and the frames charged now.
    pub account: Account,
    /// Whether it can ever be destroyed.
    kind: BudgetKind,
}

crate::kernel_object!(Budget);

/// Whether a budget is the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BudgetKind {
    /// Covers the RAM free at boot; never destroyed.
    Root,
    /// Split from another; destroyed once unused.
    Child,
}

impl Budget {
    /// Whether it can go: no capability names it and nothing is charged.
    pub fn is_unused(&self) -> bool {
        self.kind == BudgetKind::Child && self.header.refs == 0 && self.account.used() == 0
    }
}

/// Makes the root budget, paying for its own frame, with a limit of 0
/// (boot sets it to the frames free once this one is taken).
///
/// # Errors
/// [`SysError::OutOfMemory`] if no frame is free.
pub fn create_root(objects: &mut Objects) -> Result<ObjId<Budget>, SysError> {
    objects
        .alloc_with(|id| Budget {
            header: Header::new(id),
            account: Account::new(0),
            kind: BudgetKind::Root,
        })
        .map_err(|()| SysError::OutOfMemory)
}

/// Splits a budget of `frames` from `parent`, which is charged the
/// frames and the child's own frame (`Account::split`).
///
/// # Errors
/// [`SysError::OutOfMemory`] if `parent` cannot pay or no frame is free
/// (nothing charged).
pub fn split(
    k: &mut Kernel,
    parent: ObjId<Budget>,
    frames: u64,
) -> Result<ObjId<Budget>, SysError> {
    let account = k
        .objects
        .get_mut(parent)
        .account
        .split(frames)
        .map_err(|_| SysError::OutOfMemory)?;
    let child = Budget {
        header: Header::new(parent),
        account,
        kind: BudgetKind::Child,
    };
    k.objects.alloc(child).map_err(|_| {
        k.objects
            .get_mut(parent)
            .account
            .join(&account)
            .expect("the split was charged");
        SysError::OutOfMemory
    })
}

/// Refunds the parent the child's limit (its frame is refunded when it
/// is freed). Nothing is charged to it any more ([`Budget::is_unused`]).
pub fn teardown(k: &mut Kernel, id: ObjId<Budget>) {
    let budget = k.objects.get(id);
    let (parent, limit) = (budget.header.payer, budget.account.limit());
    refund(k, parent, limit);
}

/// Charges `frames` to `budget`.
///
/// # Errors
/// [`SysError::OutOfMemory`] if the budget cannot pay (nothing charged).
pub fn charge(k: &mut Kernel, budget: ObjId<Budget>, frames: u64) -> Result<(), SysError> {
    k.objects
        .get_mut(budget)
        .account
        .charge(frames)
        .map_err(|_| SysError::OutOfMemory)
}

/// Frames `budget` can still pay for.
pub fn available(k: &Kernel, budget: ObjId<Budget>) -> u64 {
    k.objects.get(budget).account.available()
}

/// Returns `frames` to `budget`; a budget left with nothing charged
/// and no capability goes.
///
/// # Panics
/// If more is refunded than was charged (a kernel bug).
pub fn refund(k: &mut Kernel, budget: ObjId<Budget>, frames: u64) {
    let payer = k.objects.get_mut(budget);
    payer
        .account
        .refund(frames)
        .expect("refunding frames that were charged");
    if frames > 0 && payer.is_unused() {
        lifetime::schedule_destroy(k, ObjectRef::Budget(budget));
    }
}
