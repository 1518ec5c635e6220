//! Timers: notifications with a deadline, signalled when the clock
//! passes it; and the tick that shares the CPU between equal priorities.
//!
//! Armed timers are on one list (`Notification::timer_links`); each tick
//! (and each idle wake-up after one) signals those whose deadline has
//! passed.

use kcore::queue::{LinkStore, Links, List};

use crate::kernel::Kernel;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::notification::{self, Notification};

/// The armed timers.
pub struct Timers {
    /// Notifications with an armed timer.
    armed: List<ObjId<Notification>>,
    /// The tick count when timers were last checked.
    checked_at: u64,
}

impl Timers {
    /// No timer armed.
    pub const fn new() -> Timers {
        Timers {
            armed: List::new(),
            checked_at: 0,
        }
    }
}

impl LinkStore<ObjId<Notification>> for Objects {
    fn links(&self, id: ObjId<Notification>) -> Links<ObjId<Notification>> {
        self.get(id).timer_links
    }

    fn set_links(&mut self, id: ObjId<Notification>, links: Links<ObjId<Notification>>) {
        self.get_mut(id).timer_links = links;
    }
}

/// A timer tick: fire due timers, then rotate equal priorities.
pub fn on_tick(k: &mut Kernel) {
    k.timers.checked_at = crate::time::ticks();
    let now = crate::time::now_ns();
    let mut next = k.timers.armed.front();
    while let Some(id) = next {
        next = k.objects.get(id).timer_links.next;
        let notification = k.objects.get(id);
        if notification.deadline <= now {
            let bits = notification.timer_bits;
            disarm(k, id);
            notification::signal(k, id, bits);
        }
    }
    k.sched.rotate(&mut k.objects);
}

/// Whether a tick has come since timers were last checked (the idle loop
/// asks after each wake-up).
pub fn tick_pending(k: &Kernel) -> bool {
    crate::time::ticks() != k.timers.checked_at
}

/// Arms a notification's timer: at `deadline_ns` it is signalled with
/// `bits` (replacing an earlier deadline).
pub fn arm(k: &mut Kernel, id: ObjId<Notification>, deadline_ns: u64, bits: u64) {
    disarm(k, id);
    let notification = k.objects.get_mut(id);
    notification.deadline = deadline_ns;
    notification.timer_bits = bits;
    k.timers.armed.push_back(&mut k.objects, id);
}

/// Takes a notification's timer off the armed list.
pub fn disarm(k: &mut Kernel, id: ObjId<Notification>) {
    if k.objects.get(id).deadline != 0 {
        k.timers.armed.remove(&mut k.objects, id);
        k.objects.get_mut(id).deadline = 0;
    }
}
