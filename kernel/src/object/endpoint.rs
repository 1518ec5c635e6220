//! Endpoints: synchronous rendezvous points for IPC.
//!
//! An endpoint is only a queue of threads that wait on it, all senders or
//! all receivers (a sender finding receivers waiting hands its message to
//! the first at once, and the other way round). The queue is in priority
//! order, FIFO among equals. The message itself never waits in the
//! endpoint: it stays in the blocked sender's registers and IPC buffer
//! until a receiver takes it (`crate::ipc`).
//!
//! Lifetime: `refs` counts capabilities; at zero the kernel wakes every
//! waiter with `PeerClosed` and frees the endpoint.

use kcore::queue::List;

use crate::cap::ObjectRef;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::budget::Budget;
use crate::object::thread::Thread;

/// Who waits in an endpoint's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// Nobody.
    Idle,
    /// Senders (and callers).
    Send,
    /// Receivers.
    Recv,
}

/// An endpoint.
pub struct Endpoint {
    /// Waiting threads, in priority order.
    pub queue: List<ObjId<Thread>>,
    /// Whether they send or receive.
    pub kind: QueueKind,
    /// The budget that paid for it.
    pub budget: ObjId<Budget>,
    /// Capabilities naming it.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
}

impl KernelObject for Endpoint {}

impl Endpoint {
    /// An endpoint nobody waits on, paid for by `budget`.
    pub const fn new(budget: ObjId<Budget>) -> Endpoint {
        Endpoint {
            queue: List::new(),
            kind: QueueKind::Idle,
            budget,
            refs: 0,
            reap_next: None,
        }
    }

    /// The first waiter, if they are of `kind`.
    pub fn first(&self, kind: QueueKind) -> Option<ObjId<Thread>> {
        if self.kind == kind {
            self.queue.front()
        } else {
            None
        }
    }

    /// Records that the queue may have become empty.
    pub fn settle(&mut self) {
        if self.queue.is_empty() {
            self.kind = QueueKind::Idle;
        }
    }
}
