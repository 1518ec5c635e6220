//! Endpoints: synchronous rendezvous points for IPC.
//!
//! An endpoint is only a queue of threads that wait on it, all senders or
//! all receivers (a sender finding receivers waiting hands its message to
//! the first at once, and the other way round). The queue is in priority
//! order, FIFO among equals. The message itself never waits in the
//! endpoint: it stays in the blocked sender's registers and IPC buffer
//! until a receiver takes it (`crate::ipc`).
//!
//! Lifetime: `header.refs` counts capabilities; at zero the kernel wakes
//! every waiter with `PeerClosed` and frees the endpoint.

use abi::SysError;
use kcore::queue::List;

use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::budget::Budget;
use crate::object::lifetime::Header;
use crate::object::notification::Notification;
use crate::object::thread::{self, SendKind, Thread, ThreadState};

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
#[repr(C)]
pub struct Endpoint {
    /// Where the kernel reports a client's capabilities all gone
    /// (`EndpointWatch`; the endpoint holds a reference to it).
    pub watch: Option<ObjId<Notification>>,
    /// References (capabilities) and the budget that paid for it.
    pub header: Header,
    /// Waiting threads, in priority order.
    pub queue: List<ObjId<Thread>>,
    /// Whether they send or receive.
    pub kind: QueueKind,
}

crate::kernel_object!(Endpoint);

impl Endpoint {
    /// An endpoint nobody waits on, paid for by `budget`.
    pub const fn new(budget: ObjId<Budget>) -> Endpoint {
        Endpoint {
            watch: None,
            header: Header::new(budget),
            queue: List::new(),
            kind: QueueKind::Idle,
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

/// Takes a thread off an endpoint's queue.
pub fn remove(k: &mut Kernel, endpoint: ObjId<Endpoint>, id: ObjId<Thread>) {
    let mut queue = k.objects.get(endpoint).queue;
    queue.remove(&mut k.objects, id);
    let endpoint = k.objects.get_mut(endpoint);
    endpoint.queue = queue;
    endpoint.settle();
}

/// Takes the first waiter off an endpoint's queue (the one
/// `Endpoint::first` names).
#[inline(always)]
pub fn pop(k: &mut Kernel, endpoint: ObjId<Endpoint>) -> Option<ObjId<Thread>> {
    let mut queue = k.objects.get(endpoint).queue;
    let first = queue.pop_front(&mut k.objects);
    let endpoint = k.objects.get_mut(endpoint);
    endpoint.queue = queue;
    endpoint.settle();
    first
}

/// Queues a thread on an endpoint (priority order) as `kind`.
#[inline(always)]
pub fn enqueue(k: &mut Kernel, endpoint: ObjId<Endpoint>, id: ObjId<Thread>, kind: QueueKind) {
    let mut queue = k.objects.get(endpoint).queue;
    let priority = k.objects.get(id).priority;
    queue.insert_by_priority(&mut k.objects, id, priority, |objects, t| {
        objects.get(t).priority
    });
    let endpoint = k.objects.get_mut(endpoint);
    endpoint.queue = queue;
    endpoint.kind = kind;
}

/// Wakes every waiter with `PeerClosed` before the endpoint is freed; a
/// thread queued with a fault message ends with its fault (nobody can
/// answer it now).
pub fn teardown(k: &mut Kernel, id: ObjId<Endpoint>) {
    if let Some(watch) = k.objects.get_mut(id).watch.take() {
        crate::object::lifetime::release(k, crate::cap::ObjectRef::Notification(watch));
    }
    while let Some(waiter) = pop(k, id) {
        match k.objects.get(waiter).state {
            ThreadState::Sending {
                kind: SendKind::Fault,
                ..
            } => {
                // Not in a syscall, and off the queue already: it ends as
                // if it were running.
                k.objects.get_mut(waiter).state = ThreadState::Running;
                thread::kill_faulted(k, waiter);
            }
            _ => thread::wake(k, waiter, Err(SysError::PeerClosed)),
        }
    }
}
