//! The scheduler: one FIFO run queue with round-robin time slices of one
//! tick. (Priorities and the O(1) bitmap of queues come with the next issue.)
//!
//! The queue is intrusive: `Thread::next` links the ready threads, so
//! queueing never allocates.

use crate::mem::kobj::{ObjId, Objects};
use crate::object::thread::{Thread, ThreadState};

/// The run queue and the running thread.
pub struct Scheduler {
    head: Option<ObjId<Thread>>,
    tail: Option<ObjId<Thread>>,
    /// The thread on the CPU, if any.
    pub current: Option<ObjId<Thread>>,
}

impl Scheduler {
    /// No threads.
    pub const fn new() -> Scheduler {
        Scheduler {
            head: None,
            tail: None,
            current: None,
        }
    }

    /// Queues a thread at the back, as ready.
    pub fn make_ready(&mut self, objects: &mut Objects, id: ObjId<Thread>) {
        let thread = objects.get_mut(id);
        thread.state = ThreadState::Ready;
        thread.next = None;
        match self.tail {
            Some(tail) => objects.get_mut(tail).next = Some(id),
            None => self.head = Some(id),
        }
        self.tail = Some(id);
    }

    /// Takes the thread at the front.
    pub fn pop(&mut self, objects: &mut Objects) -> Option<ObjId<Thread>> {
        let id = self.head?;
        let thread = objects.get_mut(id);
        self.head = thread.next.take();
        if self.head.is_none() {
            self.tail = None;
        }
        Some(id)
    }

    /// Whether another thread is waiting for the CPU.
    pub fn has_ready(&self) -> bool {
        self.head.is_some()
    }

    /// Ends the current thread's time slice: it goes to the back of the
    /// queue if another thread is ready.
    pub fn preempt(&mut self, objects: &mut Objects) {
        if let Some(current) = self.current
            && self.has_ready()
        {
            self.current = None;
            self.make_ready(objects, current);
        }
    }
}
