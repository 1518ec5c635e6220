//! Notifications: a word of signal bits, for events that need no message
//! (interrupts, timers, "work is ready").
//!
//! Signal ORs bits in and wakes the first waiter (priority order), which
//! takes and clears the whole word; with no waiter, a bound thread blocked
//! in an endpoint receive gets the bits instead; otherwise they stay in the
//! word. A notification can also carry a timer deadline: the kernel
//! signals it at the first tick at or after the deadline (`crate::timer`).
//! A waiter may have a deadline of its own: it then leaves the waiters
//! with `TimedOut` ([`remove_waiter`], called by `thread::time_out`).
//!
//! Lifetime: `header.refs` counts capabilities; at zero the kernel wakes the
//! waiters with `PeerClosed`, unbinds the bound thread, disarms the timer
//! and frees it.

use abi::SysError;
use abi::ipc::MessageInfo;
use abi::syscall::{RecvResult, SyscallResult};
use kcore::queue::List;
use kcore::timerq::TimerLinks;

use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::budget::Budget;
use crate::object::endpoint;
use crate::object::irq::{self, Irq};
use crate::object::lifetime::Header;
use crate::object::thread::{self, Thread, ThreadState};
use crate::timer::{self, TimerId};

/// A notification.
#[repr(C)]
pub struct Notification {
    /// References (capabilities) and the budget that paid for it.
    pub header: Header,
    /// Signalled bits not yet taken.
    pub word: u64,
    /// Threads in `Wait`, in priority order.
    pub waiters: List<ObjId<Thread>>,
    /// The thread bound to it, if any.
    pub bound: Option<ObjId<Thread>>,
    /// The interrupt lines that signal it (a list through the lines).
    pub irqs: Option<ObjId<Irq>>,
    /// Bits the timer signals.
    pub timer_bits: u64,
    /// Links in the kernel's timer queue, and the deadline when armed.
    pub timer_links: TimerLinks<TimerId>,
}

crate::kernel_object!(Notification);

impl Notification {
    /// A notification with no bits set, paid for by `budget`.
    pub const fn new(budget: ObjId<Budget>) -> Notification {
        Notification {
            header: Header::new(budget),
            word: 0,
            waiters: List::new(),
            bound: None,
            irqs: None,
            timer_bits: 0,
            timer_links: TimerLinks::unlinked(),
        }
    }
}

/// Signals a notification with `bits`: the first waiter takes the
/// word, else a bound thread receiving on an endpoint, else the bits
/// stay in the word.
pub fn signal(k: &mut Kernel, id: ObjId<Notification>, bits: u64) {
    let notification = k.objects.get_mut(id);
    notification.word |= bits;
    let word = notification.word;
    if let Some(waiter) = take_first_waiter(k, id) {
        thread::wake(k, waiter, Ok([word, 0, 0, 0, 0, 0]));
        return;
    }
    let Some(bound) = k.objects.get(id).bound else {
        return;
    };
    if let ThreadState::Receiving { endpoint } = k.objects.get(bound).state {
        k.objects.get_mut(id).word = 0;
        endpoint::remove(k, endpoint, bound);
        let result = RecvResult {
            badge: word,
            info: MessageInfo::NOTIFICATION.to_reg(),
            ..RecvResult::default()
        };
        thread::wake(k, bound, Ok(result.encode()));
    }
}

/// Takes the first waiter off the queue, if there is one: it takes the
/// whole word (which is cleared), and its waker sets its results.
#[inline(always)]
pub fn take_first_waiter(k: &mut Kernel, id: ObjId<Notification>) -> Option<ObjId<Thread>> {
    let mut waiters = k.objects.get(id).waiters;
    let waiter = waiters.pop_front(&mut k.objects)?;
    let notification = k.objects.get_mut(id);
    notification.waiters = waiters;
    notification.word = 0;
    Some(waiter)
}

/// Queues the running thread `caller` as a waiter (priority order,
/// FIFO among equals) until a signal.
#[inline(always)]
pub fn block(k: &mut Kernel, id: ObjId<Notification>, caller: ObjId<Thread>) {
    k.sched.forget_current(caller);
    let priority = k.objects.get(caller).priority;
    k.objects.get_mut(caller).state = ThreadState::Waiting { notification: id };
    let mut waiters = k.objects.get(id).waiters;
    if waiters.is_empty() {
        // Alone: no priority order to keep.
        waiters.push_back(&mut k.objects, caller);
    } else {
        waiters.insert_by_priority(&mut k.objects, caller, priority, |objects, t| {
            objects.get(t).priority
        });
    }
    k.objects.get_mut(id).waiters = waiters;
}

/// Takes `waiter` (in `Waiting` on it) off the waiters.
pub fn remove_waiter(k: &mut Kernel, id: ObjId<Notification>, waiter: ObjId<Thread>) {
    let mut waiters = k.objects.get(id).waiters;
    waiters.remove(&mut k.objects, waiter);
    k.objects.get_mut(id).waiters = waiters;
}

/// Before the notification is freed: its timer is disarmed, its waiters
/// get `PeerClosed`, and its bound thread is unbound.
pub fn teardown(k: &mut Kernel, id: ObjId<Notification>) {
    timer::disarm(k, id);
    irq::forget_notification(k, id);
    let mut waiters = k.objects.get(id).waiters;
    while let Some(waiter) = waiters.pop_front(&mut k.objects) {
        thread::wake(k, waiter, Err(SysError::PeerClosed));
    }
    k.objects.get_mut(id).waiters = waiters;
    if let Some(bound) = k.objects.get(id).bound {
        k.objects.get_mut(bound).bound = None;
    }
}
