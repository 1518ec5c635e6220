//! Notifications: a word of signal bits, with a one-shot timer.

use abi::SysError;

use crate::handle::{Handle, handle};
use crate::memory::Budget;
use crate::sys;

handle!(
    /// A notification capability.
    Notification
);

impl Notification {
    /// `NotificationCreate`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(budget: &Budget) -> Result<Notification, SysError> {
        sys::notification_create(budget.slot()).map(Notification::from_raw)
    }

    /// `Signal`: ORs `bits` (or the capability's badge) into the word.
    ///
    /// # Errors
    /// The kernel's.
    pub fn signal(&self, bits: u64) -> Result<(), SysError> {
        sys::signal(self.slot, bits)
    }

    /// `Wait`: the bits, once any is set.
    ///
    /// # Errors
    /// The kernel's.
    pub fn wait(&self) -> Result<u64, SysError> {
        sys::wait(self.slot)
    }

    /// `Wait` until `deadline` (0: for ever).
    ///
    /// # Errors
    /// [`SysError::TimedOut`] at the deadline.
    pub fn wait_until(&self, deadline: u64) -> Result<u64, SysError> {
        sys::wait_until(self.slot, deadline)
    }

    /// `Poll`: the bits, possibly 0, without waiting.
    ///
    /// # Errors
    /// The kernel's.
    pub fn poll(&self) -> Result<u64, SysError> {
        sys::poll(self.slot)
    }

    /// `TimerSet`: signals `bits` at `deadline` (0 disarms).
    ///
    /// # Errors
    /// The kernel's.
    pub fn timer_set(&self, deadline: u64, bits: u64) -> Result<(), SysError> {
        sys::timer_set(self.slot, deadline, bits)
    }
}
