//! Notifications: a word of signal bits, for events that need no message
//! (interrupts, timers, "work is ready").
//!
//! Signal ORs bits in and wakes the first waiter (priority order), which
//! takes and clears the whole word; with no waiter, a bound thread blocked
//! in an endpoint receive gets the bits instead; otherwise they stay in the
//! word. A notification can also carry a timer deadline: the kernel
//! signals it at the first tick at or after the deadline.
//!
//! Lifetime: `refs` counts capabilities; at zero the kernel wakes the
//! waiters with `PeerClosed`, unbinds the bound thread, disarms the timer
//! and frees it.

use kcore::queue::{Links, List};

use crate::cap::ObjectRef;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::budget::Budget;
use crate::object::thread::Thread;

/// A notification.
pub struct Notification {
    /// Signalled bits not yet taken.
    pub word: u64,
    /// Threads in `Wait`, in priority order.
    pub waiters: List<ObjId<Thread>>,
    /// The thread bound to it, if any.
    pub bound: Option<ObjId<Thread>>,
    /// Timer deadline in nanoseconds (0 = not armed).
    pub deadline: u64,
    /// Bits the timer signals.
    pub timer_bits: u64,
    /// Links in the kernel's list of armed timers.
    pub timer_links: Links<ObjId<Notification>>,
    /// The budget that paid for it.
    pub budget: ObjId<Budget>,
    /// Capabilities naming it.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
}

impl KernelObject for Notification {}

impl Notification {
    /// A notification with no bits set, paid for by `budget`.
    pub const fn new(budget: ObjId<Budget>) -> Notification {
        Notification {
            word: 0,
            waiters: List::new(),
            bound: None,
            deadline: 0,
            timer_bits: 0,
            timer_links: Links::unlinked(),
            budget,
            refs: 0,
            reap_next: None,
        }
    }
}
