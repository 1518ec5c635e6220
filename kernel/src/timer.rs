//! Timers: every deadline the kernel keeps, in one queue earliest first
//! (`kcore::timerq::TimerQueue`), and the tick that fires them and shares
//! the CPU between equal priorities.
//!
//! Two kinds of entry share the queue ([`TimerId`]):
//! - a notification's timer (`TimerSet`): when due, the notification is
//!   signalled with its `timer_bits`;
//! - a thread's timeout: a thread blocked with a deadline (`Recv`, `Wait`,
//!   `Send`/`Call`/`ReplyRecv` with the deadline flag, `FutexWait`). When
//!   due, the thread is taken out of whatever it waits in and woken with
//!   `TimedOut` (`object::thread::time_out`).
//!
//! Each entry carries its own `kcore::timerq::TimerLinks` (`timer_links`
//! in the thread or notification object), separate from the thread's
//! wait-queue links, since a thread with a timeout is in both queues.
//!
//! Rule: a thread's timeout is armed only while it is blocked in one of
//! those waits. Whatever ends the wait disarms it first: `thread::wake`
//! (every wake-up of a blocked thread), `ipc::link_reply` (a caller whose
//! message was taken goes on to wait for the reply, without deadline), and
//! `thread::end` (destruction included). The IPC fast path never takes a
//! thread whose timeout is armed (one of its guards), so no timer ever
//! fires on a thread that has moved on or gone.
//!
//! Deadlines are absolute nanoseconds on the monotonic clock
//! (`time::now_ns`); an entry fires at the first tick (or idle wake-up)
//! at or after its deadline, never before. [`next_deadline`] is the
//! earliest one, for programming a one-shot timer.

use kcore::timerq::{TimerLinks, TimerQueue, TimerStore};

use crate::kernel::Kernel;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::notification::{self, Notification};
use crate::object::thread::{self, Thread};

/// What a deadline belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerId {
    /// A blocked thread's timeout.
    Thread(ObjId<Thread>),
    /// A notification's timer.
    Notification(ObjId<Notification>),
}

/// The armed deadlines.
pub struct Timers {
    /// Every armed deadline, earliest first.
    queue: TimerQueue<TimerId>,
    /// The tick count when timers were last checked.
    checked_at: u64,
    /// The deadline the hardware timer is armed for (`reprogram`).
    programmed: Option<u64>,
}

impl Timers {
    /// Nothing armed.
    pub const fn new() -> Timers {
        Timers {
            queue: TimerQueue::new(),
            checked_at: 0,
            programmed: None,
        }
    }
}

impl TimerStore<TimerId> for Objects {
    fn timer_links(&self, id: TimerId) -> TimerLinks<TimerId> {
        match id {
            TimerId::Thread(thread) => self.get(thread).timer_links,
            TimerId::Notification(notification) => self.get(notification).timer_links,
        }
    }

    fn set_timer_links(&mut self, id: TimerId, links: TimerLinks<TimerId>) {
        match id {
            TimerId::Thread(thread) => self.get_mut(thread).timer_links = links,
            TimerId::Notification(notification) => {
                self.get_mut(notification).timer_links = links;
            }
        }
    }
}

/// A timer tick: fire what is due, then rotate equal priorities.
pub fn on_tick(k: &mut Kernel) {
    k.timers.checked_at = crate::time::ticks();
    fire_due(k);
    k.sched.rotate(&mut k.objects);
}

/// Fires every deadline that has passed, earliest first.
pub fn fire_due(k: &mut Kernel) {
    let now = crate::time::now_ns();
    while let Some((id, _)) = k.timers.queue.pop_due(&mut k.objects, now) {
        match id {
            TimerId::Notification(id) => {
                let bits = k.objects.get(id).timer_bits;
                notification::signal(k, id, bits);
            }
            TimerId::Thread(id) => thread::time_out(k, id),
        }
    }
}

/// Arms the hardware timer for the earliest deadline, if that changed
/// since it was last armed (`arch::timer` interrupts at the first TSC value
/// at which the clock reaches it: one-shot, to the microsecond, not at the
/// next 100 Hz tick). Called at the end of every general kernel entry; the
/// fast paths never change the queue.
#[inline(always)]
pub fn reprogram(k: &mut Kernel) {
    let next = k.timers.queue.next_deadline();
    if next != k.timers.programmed {
        program(k, next);
    }
}

#[inline(never)]
fn program(k: &mut Kernel, next: Option<u64>) {
    k.timers.programmed = next;
    match next {
        Some(ns) => crate::arch::timer::arm_deadline(crate::time::tsc_at(ns)),
        None => crate::arch::timer::cancel_deadline(),
    }
}

/// A timer interrupt came for a deadline: the hardware's deadline is spent
/// (one-shot), so the next `reprogram` arms it again even for the same one.
pub fn deadline_reached(k: &mut Kernel) {
    k.timers.programmed = None;
    fire_due(k);
}

/// The earliest armed deadline (nanoseconds), if any: when a one-shot
/// timer should next interrupt.
pub fn next_deadline(k: &Kernel) -> Option<u64> {
    k.timers.queue.next_deadline()
}

/// Whether a tick has come since timers were last checked (the idle loop
/// asks after each wake-up).
pub fn tick_pending(k: &Kernel) -> bool {
    crate::time::ticks() != k.timers.checked_at
}

/// Whether a deadline (0 = none) has passed already. (The clock is read
/// out of line: most calls have no deadline, and the read's division
/// would cost every caller registers.)
#[inline(always)]
pub fn expired(deadline_ns: u64) -> bool {
    deadline_ns != 0 && passed(deadline_ns)
}

#[inline(never)]
fn passed(deadline_ns: u64) -> bool {
    deadline_ns <= crate::time::now_ns()
}

/// Arms a notification's timer: at `deadline_ns` (not 0) it is signalled
/// with `bits` (replacing an earlier deadline).
pub fn arm(k: &mut Kernel, id: ObjId<Notification>, deadline_ns: u64, bits: u64) {
    disarm(k, id);
    k.objects.get_mut(id).timer_bits = bits;
    let entry = TimerId::Notification(id);
    k.timers.queue.insert(&mut k.objects, entry, deadline_ns);
}

/// Takes a notification's timer out of the queue, if it is armed.
pub fn disarm(k: &mut Kernel, id: ObjId<Notification>) {
    let entry = TimerId::Notification(id);
    k.timers.queue.remove(&mut k.objects, entry);
}

/// Arms the timeout of `id`, which has just blocked: at `deadline_ns` it
/// is woken with `TimedOut`. A deadline of 0 arms nothing.
#[inline(always)]
pub fn arm_thread(k: &mut Kernel, id: ObjId<Thread>, deadline_ns: u64) {
    if deadline_ns != 0 {
        insert_thread(k, id, deadline_ns);
    }
}

#[inline(never)]
fn insert_thread(k: &mut Kernel, id: ObjId<Thread>, deadline_ns: u64) {
    k.timers
        .queue
        .insert(&mut k.objects, TimerId::Thread(id), deadline_ns);
}

/// Disarms the timeout of `id`, if one is armed (its wait has ended).
/// Every wake-up runs it, so the test is inline and the removal is not.
#[inline(always)]
pub fn disarm_thread(k: &mut Kernel, id: ObjId<Thread>) {
    if k.objects.get(id).timer_links.queued {
        remove_thread(k, id);
    }
}

#[inline(never)]
fn remove_thread(k: &mut Kernel, id: ObjId<Thread>) {
    k.timers.queue.remove(&mut k.objects, TimerId::Thread(id));
}

/// Whether `id` has a timeout armed.
#[inline(always)]
pub fn thread_armed(k: &Kernel, id: ObjId<Thread>) -> bool {
    k.objects.get(id).timer_links.queued
}
