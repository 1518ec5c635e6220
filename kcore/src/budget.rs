//! Budget arithmetic: a limit of frames and the frames charged against it.
//!
//! The kernel keeps one [`Account`] in each budget object. Charging more
//! than the limit fails and changes nothing; refunding never takes `used`
//! below zero (a refund larger than the charge is a kernel bug, reported
//! as an error rather than wrapped). A child budget is split off by
//! charging its whole limit (plus one frame for the child object) to the
//! parent, and refunding that when the child goes.
//!
//! Invariant: `used <= limit`, always.

/// Why a budget operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetError {
    /// The charge would exceed the limit.
    Exhausted,
    /// A refund larger than what is charged.
    Overrefund,
}

/// Frames a budget may spend and has spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    limit: u64,
    used: u64,
}

impl Account {
    /// An account of `limit` frames, none used.
    pub const fn new(limit: u64) -> Account {
        Account { limit, used: 0 }
    }

    /// Frames it may have charged at once.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// Frames charged now.
    pub const fn used(&self) -> u64 {
        self.used
    }

    /// Frames still free to charge.
    pub const fn available(&self) -> u64 {
        self.limit - self.used
    }

    /// Charges `frames`.
    ///
    /// # Errors
    /// [`BudgetError::Exhausted`] if fewer than `frames` are available
    /// (nothing is charged).
    pub fn charge(&mut self, frames: u64) -> Result<(), BudgetError> {
        if frames > self.available() {
            return Err(BudgetError::Exhausted);
        }
        self.used += frames;
        Ok(())
    }

    /// Returns `frames`.
    ///
    /// # Errors
    /// [`BudgetError::Overrefund`] if fewer than `frames` are charged
    /// (nothing changes).
    pub fn refund(&mut self, frames: u64) -> Result<(), BudgetError> {
        if frames > self.used {
            return Err(BudgetError::Overrefund);
        }
        self.used -= frames;
        Ok(())
    }

    /// Splits off a child of `frames` frames whose own object takes one
    /// more frame: charges `frames + 1` here and returns the child.
    ///
    /// # Errors
    /// [`BudgetError::Exhausted`] (nothing is charged).
    pub fn split(&mut self, frames: u64) -> Result<Account, BudgetError> {
        let total = frames.checked_add(1).ok_or(BudgetError::Exhausted)?;
        self.charge(total)?;
        Ok(Account::new(frames))
    }

    /// Takes back a child made by [`Account::split`] (whatever it still
    /// has charged is its own business: it is returned whole).
    ///
    /// # Errors
    /// [`BudgetError::Overrefund`] if this account never paid for it.
    pub fn join(&mut self, child: &Account) -> Result<(), BudgetError> {
        self.refund(child.limit + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn runs_out_exactly_at_the_limit() {
        let mut a = Account::new(3);
        for _ in 0..3 {
            a.charge(1).unwrap();
        }
        assert_eq!(a.charge(1), Err(BudgetError::Exhausted));
        assert_eq!(a.used(), 3);
        a.refund(1).unwrap();
        a.charge(1).unwrap();
        assert_eq!(a.refund(4), Err(BudgetError::Overrefund));
        assert_eq!(a.used(), 3);
    }

    #[test]
    fn split_charges_the_child_and_its_object() {
        let mut root = Account::new(10);
        let child = root.split(4).unwrap();
        assert_eq!((root.used(), child.limit(), child.used()), (5, 4, 0));
        assert_eq!(root.split(5), Err(BudgetError::Exhausted));
        assert_eq!(root.split(u64::MAX), Err(BudgetError::Exhausted));
        root.join(&child).unwrap();
        assert_eq!(root.used(), 0);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Charge(u64),
        Refund(u64),
        Split(u64),
        Join(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..20).prop_map(Op::Charge),
            (0u64..20).prop_map(Op::Refund),
            (0u64..20).prop_map(Op::Split),
            (0usize..8).prop_map(Op::Join),
        ]
    }

    proptest! {
        /// Against a model in plain integers: charges succeed exactly when
        /// they fit, failures change nothing, and joining every child
        /// brings `used` back to what was charged directly.
        #[test]
        fn matches_the_model(limit in 0u64..100, ops in proptest::collection::vec(op(), 0..64)) {
            let mut account = Account::new(limit);
            let mut direct = 0u64;
            let mut children: Vec<Account> = Vec::new();
            for op in ops {
                let before = account;
                let used = direct + children.iter().map(|c| c.limit() + 1).sum::<u64>();
                prop_assert_eq!(account.used(), used);
                match op {
                    Op::Charge(n) => match account.charge(n) {
                        Ok(()) => { prop_assert!(used + n <= limit); direct += n; }
                        Err(e) => {
                            prop_assert_eq!(e, BudgetError::Exhausted);
                            prop_assert!(used + n > limit);
                            prop_assert_eq!(account, before);
                        }
                    },
                    // Refunds of direct charges only (a child's share comes
                    // back by joining it), or larger than everything charged.
                    Op::Refund(n) if n <= direct || n > used => match account.refund(n) {
                        Ok(()) => { prop_assert!(n <= direct); direct -= n; }
                        Err(_) => { prop_assert!(n > used); prop_assert_eq!(account, before); }
                    },
                    Op::Refund(_) => {}
                    Op::Split(n) => match account.split(n) {
                        Ok(child) => { prop_assert!(used + n < limit); children.push(child); }
                        Err(_) => { prop_assert!(used + n + 1 > limit); prop_assert_eq!(account, before); }
                    },
                    Op::Join(i) => {
                        if !children.is_empty() {
                            let child = children.remove(i % children.len());
                            account.join(&child).unwrap();
                        }
                    }
                }
                prop_assert!(account.used() <= account.limit());
            }
            for child in children.drain(..) {
                account.join(&child).unwrap();
            }
            prop_assert_eq!(account.used(), direct);
        }
    }
}
