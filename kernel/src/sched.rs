//! The scheduler: fixed priorities (`abi::syscall::PRIORITY_LEVELS`), one
//! FIFO per priority and a bitmap of the non-empty ones
//! (`kcore::queue::RunQueues`), so choosing the next thread is O(1).
//! Equal priorities share the CPU round-robin, one timer tick each; a
//! thread made ready at a higher priority than the running one preempts it
//! at the next return to user mode.
//!
//! The queues are intrusive (`Thread::links`): queueing never allocates.
//! A thread is queued exactly when it is `Ready` and not suspended.

use kcore::queue::{LinkStore, Links, RunQueues};

use crate::mem::kobj::{ObjId, Objects};
use crate::object::thread::{Thread, ThreadState};

impl LinkStore<ObjId<Thread>> for Objects {
    fn links(&self, id: ObjId<Thread>) -> Links<ObjId<Thread>> {
        self.get(id).links
    }

    fn set_links(&mut self, id: ObjId<Thread>, links: Links<ObjId<Thread>>) {
        self.get_mut(id).links = links;
    }
}

/// The run queues and the running thread.
pub struct Scheduler {
    queues: RunQueues<ObjId<Thread>>,
    /// The thread on the CPU, if any.
    pub current: Option<ObjId<Thread>>,
}

impl Scheduler {
    /// No threads.
    pub const fn new() -> Scheduler {
        Scheduler {
            queues: RunQueues::new(),
            current: None,
        }
    }

    /// Makes a thread ready; it is queued at the back of its priority
    /// unless it is suspended.
    pub fn make_ready(&mut self, objects: &mut Objects, id: ObjId<Thread>) {
        let thread = objects.get_mut(id);
        thread.state = ThreadState::Ready;
        if !thread.suspended {
            let priority = thread.priority;
            self.queues.push_back(objects, id, priority);
        }
    }

    /// Takes a ready thread off its run queue (before it blocks elsewhere,
    /// is suspended, changes priority or is destroyed).
    pub fn unqueue(&mut self, objects: &mut Objects, id: ObjId<Thread>) {
        let thread = objects.get(id);
        if thread.state == ThreadState::Ready && !thread.suspended {
            let priority = thread.priority;
            self.queues.remove(objects, id, priority);
        }
    }

    /// Stops running the current thread if it is `id` (it has blocked,
    /// ended or been suspended).
    pub fn forget_current(&mut self, id: ObjId<Thread>) {
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Ends the current thread's time slice: it goes to the back of its
    /// queue if another thread of the same or higher priority is ready.
    pub fn rotate(&mut self, objects: &mut Objects) {
        let Some(current) = self.current else {
            return;
        };
        let priority = objects.get(current).priority;
        if self
            .queues
            .highest()
            .is_some_and(|highest| highest >= priority)
        {
            self.current = None;
            self.make_ready(objects, current);
        }
    }

    /// The thread to run: the current one unless a more urgent one is
    /// ready (then the current one goes to the front of its queue, keeping
    /// its turn), else the first of the most urgent queue.
    pub fn pick(&mut self, objects: &mut Objects) -> Option<ObjId<Thread>> {
        if let Some(current) = self.current {
            if self.none_ready_above(objects.get(current).priority) {
                return Some(current);
            }
            self.preempt(objects, current);
        }
        self.run_first_ready(objects)
    }

    /// The running thread `id` gives way to a more urgent one: it is
    /// ready again, at the front of its queue (it keeps its turn), and no
    /// longer current.
    #[inline(always)]
    pub fn preempt(&mut self, objects: &mut Objects, id: ObjId<Thread>) {
        let thread = objects.get_mut(id);
        thread.state = ThreadState::Ready;
        let priority = thread.priority;
        self.queues.push_front(objects, id, priority);
        self.forget_current(id);
    }

    /// Takes the first thread of the most urgent queue off it and makes it
    /// current (its caller sets it `Running`); `None` if none is ready.
    #[inline(always)]
    pub fn run_first_ready(&mut self, objects: &mut Objects) -> Option<ObjId<Thread>> {
        let (next, _) = self.queues.pop_highest(objects)?;
        self.current = Some(next);
        Some(next)
    }

    /// The most urgent ready priority, if any thread is ready.
    pub fn highest_ready(&self) -> Option<u8> {
        self.queues.highest()
    }

    /// Whether no ready thread is more urgent than `priority`.
    #[inline(always)]
    pub fn none_ready_above(&self, priority: u8) -> bool {
        self.queues
            .highest()
            .is_none_or(|highest| highest <= priority)
    }

    /// Whether no ready thread is as urgent as `priority` or more.
    #[inline(always)]
    pub fn none_ready_at_or_above(&self, priority: u8) -> bool {
        self.queues
            .highest()
            .is_none_or(|highest| highest < priority)
    }
}
