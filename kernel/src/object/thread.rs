//! Threads: saved user registers, FPU state, scheduling and IPC state and
//! the objects a thread runs in.
//!
//! A thread object is one frame. Stackless kernel: a blocked thread is just
//! its saved context plus [`ThreadState`] (what it waits for); it has no
//! kernel stack. Its message, while it waits to send, is still in its saved
//! argument registers (and its IPC buffer).
//!
//! Links: `links` threads it onto exactly one queue at a time: a run queue
//! when `Ready` and not suspended, an endpoint's queue when blocked there,
//! a notification's waiters when waiting on one, a futex bucket when in
//! `FutexWait`. `timer_links` put it in the kernel's timer queue as well
//! while it is blocked with a deadline (`crate::timer`): [`wake`] and
//! [`end`] disarm that timeout, and [`time_out`] is what it does when due.
//!
//! Life cycle: created inactive, started (ready), blocked and woken
//! ([`wake`]) any number of times, ended ([`end`]: by `ThreadExit`, a
//! fault nobody answers, or its destruction), and destroyed when the last
//! capability naming it goes ([`teardown`]).
//!
//! Lifetime: `header.refs` counts capabilities naming the thread; at zero
//! the kernel takes it off every queue and frees it.

use abi::syscall::{IO_PORTS_PER_THREAD, ThreadStatus, exit_kind};
use abi::{CapSlot, SysError};
use kcore::queue::Links;
use kcore::timerq::TimerLinks;

use crate::arch::{self, FpuArea, UserContext};
use crate::cap::{ObjectRef, SlotId};
use crate::kernel::Kernel;
use crate::klog;
use crate::mem::kobj::ObjId;
use crate::object::aspace::AddressSpace;
use crate::object::budget::Budget;
use crate::object::cspace::CSpace;
use crate::object::endpoint::{self, Endpoint};
use crate::object::ioports::{self, IoPorts};
use crate::object::lifetime::{self, Header};
use crate::object::notification::{self, Notification};
use crate::object::reply;
use crate::timer::{self, TimerId};

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Created, not started.
    Inactive,
    /// Runnable (in a run queue unless suspended).
    Ready,
    /// On the CPU (or entered the kernel from it).
    Running,
    /// Waiting in an endpoint's queue to send; the message is in its
    /// argument registers and IPC buffer.
    Sending {
        /// The endpoint.
        endpoint: ObjId<Endpoint>,
        /// Badge of the capability it sends with.
        badge: u64,
        /// A send, a call, or a fault message.
        kind: SendKind,
        /// Whether its capability allows sending capabilities.
        grant: bool,
    },
    /// Waiting in an endpoint's queue to receive.
    Receiving {
        /// The endpoint.
        endpoint: ObjId<Endpoint>,
    },
    /// Called; waiting for the reply.
    AwaitingReply {
        /// Whether its capability allowed capabilities in the reply.
        grant: bool,
    },
    /// Waiting for a notification's word to become non-zero.
    Waiting {
        /// The notification.
        notification: ObjId<Notification>,
    },
    /// Waiting in `FutexWait` for a wake on a futex word.
    Futex {
        /// The word's key (its physical address): where the thread waits
        /// in the kernel's futex table.
        key: u64,
        /// The word's address in the thread's own address space, to follow
        /// the page if copy-on-write gives the space a copy of it; 0 when
        /// not known (moved here by another space's `FutexRequeue`).
        vaddr: u64,
    },
    /// Waiting in `ThreadWait` for another thread to end.
    Joining {
        /// The thread waited for.
        target: ObjId<Thread>,
    },
    /// Ended; `status` says how.
    Exited,
}

/// What a sender sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendKind {
    /// A message; the sender goes on once it is delivered.
    Send,
    /// A message; the sender then waits for the reply.
    Call,
    /// The sender's fault message (its `fault` words, no buffer); it
    /// waits for the answer (resume or kill).
    Fault,
}

impl SendKind {
    /// Whether the sender waits for an answer once the message is taken.
    pub fn awaits_reply(self) -> bool {
        self != SendKind::Send
    }
}

/// The one-shot right to answer a call, held by the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyRight {
    /// None held.
    None,
    /// May answer this caller once.
    To(ObjId<Thread>),
    /// May answer this thread's fault message once (resume or kill it).
    Fault(ObjId<Thread>),
    /// The caller has gone since.
    CallerGone,
}

/// A thread.
#[repr(C)]
pub struct Thread {
    /// Saved user registers; entry code writes here directly. First, so
    /// that the object's address is the context's (one add fewer on every
    /// entry and exit).
    pub context: UserContext,
    /// References (capabilities) and the budget that paid for it.
    pub header: Header,
    /// User FS base (TLS).
    pub fs_base: u64,
    /// User GS base.
    pub gs_base: u64,
    /// Scheduling and IPC state.
    pub state: ThreadState,
    /// Kept off the run queues even when ready.
    pub suspended: bool,
    /// Scheduling priority (higher runs first).
    pub priority: u8,
    /// Highest priority it may give itself or others.
    pub max_priority: u8,
    /// A number for logs (not an authority: nothing looks threads up by it).
    pub id: u64,
    /// Links in the one queue it is on.
    pub links: Links<ObjId<Thread>>,
    /// Links in the timer queue, and the deadline, while it is blocked
    /// with a timeout.
    pub timer_links: TimerLinks<TimerId>,
    /// The address space it runs in.
    pub aspace: ObjId<AddressSpace>,
    /// The capability space its syscalls name slots in.
    pub cspace: ObjId<CSpace>,
    /// User address of its IPC buffer (0 = none).
    pub ipc_buffer: u64,
    /// Slot of its fault endpoint in its capability space (0 = none).
    pub fault_endpoint: CapSlot,
    /// The caller it may reply to.
    pub reply: ReplyRight,
    /// While awaiting a reply: the thread holding the right to answer.
    /// (Kept one word wide apart from `saved_reply`: the IPC fast path
    /// writes it on every call and reply.)
    pub replier: Option<ObjId<Thread>>,
    /// While awaiting a reply whose right was saved (`ReplySave`): the
    /// slot of the Reply capability that answers it (`object::reply`).
    /// At most one of `replier` and `saved_reply` is set.
    pub saved_reply: Option<SlotId>,
    /// The notification bound to it (signals also end an endpoint receive).
    pub bound: Option<ObjId<Notification>>,
    /// The I/O port ranges it may use (`object::ioports`).
    pub io_ports: [Option<ObjId<IoPorts>>; IO_PORTS_PER_THREAD],
    /// Its last fault message (`abi::ipc::fault` words), kept while it
    /// waits for the fault endpoint's answer.
    pub fault: [u64; 4],
    /// The thread waiting for this one to end.
    pub joiner: Option<ObjId<Thread>>,
    /// How it ended (valid in [`ThreadState::Exited`]).
    pub status: ThreadStatus,
    /// The last translation of its IPC buffer's page
    /// (`crate::ipc::mapped_buffer`); emptied whenever `ipc_buffer` or
    /// `aspace` changes. (Here, after the fields the IPC fast path
    /// writes on every call and reply, whose places it keeps.)
    pub buffer_tlb: BufferTlb,
    /// FPU/SSE/AVX state, saved when another thread takes the CPU.
    pub fpu: FpuArea,
}

crate::kernel_object!(Thread);

/// A one-entry cache of the translation of a thread's IPC buffer page, as
/// `aspace::FutexTlb` is of a futex word's: it holds while no page-table
/// entry has been written anywhere since (`user_tables::generation`:
/// every unmap, downgrade, copy-on-write copy or remap writes one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTlb {
    /// The frame the buffer's page maps to.
    pub frame: u64,
    /// `user_tables::generation()` when the walk was made (`u64::MAX`:
    /// none, which the counter never reaches).
    pub generation: u64,
    /// Whether the walk checked write access too.
    pub writable: bool,
}

impl BufferTlb {
    /// Nothing cached.
    pub const EMPTY: BufferTlb = BufferTlb {
        frame: 0,
        generation: u64::MAX,
        writable: false,
    };
}

// The entry code saves registers at the context's end (TSS rsp0); the CPU
// aligns that to 16 bytes, so the context must start the page-aligned
// object and be a multiple of 16 bytes long.
const _: () = assert!(core::mem::offset_of!(Thread, context) == 0);
const _: () = assert!(core::mem::size_of::<UserContext>().is_multiple_of(16));

/// Bytes of a thread object without its FPU save area.
pub const THREAD_OBJECT_BYTES: usize = core::mem::offset_of!(Thread, fpu);
const _: () = assert!(THREAD_OBJECT_BYTES <= 1024);

impl Thread {
    /// An inactive thread in `aspace` and `cspace`.
    pub fn new(
        id: u64,
        aspace: ObjId<AddressSpace>,
        cspace: ObjId<CSpace>,
        budget: ObjId<Budget>,
        priority: u8,
        max_priority: u8,
    ) -> Thread {
        let mut fpu = FpuArea([0; crate::arch::fpu::FPU_AREA_BYTES]);
        fpu.init();
        Thread {
            context: UserContext::new_user(0, 0, 0),
            header: Header::new(budget),
            fs_base: 0,
            gs_base: 0,
            state: ThreadState::Inactive,
            suspended: false,
            priority,
            max_priority,
            id,
            links: Links::unlinked(),
            timer_links: TimerLinks::unlinked(),
            aspace,
            cspace,
            ipc_buffer: 0,
            buffer_tlb: BufferTlb::EMPTY,
            fault_endpoint: CapSlot::NULL,
            reply: ReplyRight::None,
            replier: None,
            saved_reply: None,
            bound: None,
            io_ports: [None; IO_PORTS_PER_THREAD],
            fault: [0; 4],
            joiner: None,
            status: ThreadStatus::default(),
            fpu,
        }
    }
}

/// Ends a thread for the fault in its `fault` words, and logs it.
pub fn kill_faulted(k: &mut Kernel, id: ObjId<Thread>) {
    let thread = k.objects.get(id);
    let [vector, kind, rip, addr] = thread.fault;
    let error_code = kind >> abi::ipc::fault::kind::ERROR_CODE_SHIFT;
    klog!(
        Warn,
        "killed thread {}: {} at rip {:#x} (error {:#x}, address {:#x})",
        thread.id,
        arch::exception_name(vector),
        rip,
        error_code,
        addr
    );
    let status = ThreadStatus {
        kind: exit_kind::FAULTED,
        code: vector,
        error_code,
        rip,
        addr,
    };
    end(k, id, status);
}

/// Gives up `id`'s reply right, if it holds one: the caller it owed a
/// reply gets `PeerClosed`; a thread whose fault it owed an answer
/// ends with that fault.
pub fn drop_reply_right(k: &mut Kernel, id: ObjId<Thread>) {
    match core::mem::replace(&mut k.objects.get_mut(id).reply, ReplyRight::None) {
        ReplyRight::To(caller) => {
            k.objects.get_mut(caller).replier = None;
            wake(k, caller, Err(SysError::PeerClosed));
        }
        ReplyRight::Fault(thread) => {
            k.objects.get_mut(thread).replier = None;
            kill_faulted(k, thread);
        }
        ReplyRight::None | ReplyRight::CallerGone => {}
    }
}

/// Sets a blocked thread's syscall results and makes it ready (its
/// timeout, if any, is disarmed).
pub fn wake(k: &mut Kernel, id: ObjId<Thread>, result: Result<[u64; 6], SysError>) {
    timer::disarm_thread(k, id);
    let (status, values) = match result {
        Ok(values) => (0, values),
        Err(error) => (error.code(), [0; 6]),
    };
    k.objects
        .get_mut(id)
        .context
        .set_syscall_result(status, values);
    k.sched.make_ready(&mut k.objects, id);
}

/// A blocked thread's deadline has passed (its timer has just been taken
/// out of the queue): it leaves the queue it waits in and returns
/// `TimedOut`. Only the waits that take a deadline arm one.
pub fn time_out(k: &mut Kernel, id: ObjId<Thread>) {
    match k.objects.get(id).state {
        ThreadState::Sending { endpoint, .. } | ThreadState::Receiving { endpoint } => {
            endpoint::remove(k, endpoint, id);
        }
        ThreadState::Waiting { notification } => notification::remove_waiter(k, notification, id),
        ThreadState::Futex { .. } => crate::futex::remove(k, id),
        state => {
            // Every way out of those waits disarms the timeout first.
            debug_assert!(false, "a timeout fired on a thread in {state:?}");
            return;
        }
    }
    wake(k, id, Err(SysError::TimedOut));
}

/// Takes a thread out of whatever it waits in, and cuts its reply
/// relations: a caller it owes a reply gets `PeerClosed`; a server
/// that owes it one finds the right gone (or its saved Reply capability
/// naming nobody).
fn detach(k: &mut Kernel, id: ObjId<Thread>) {
    k.sched.forget_current(id);
    k.sched.unqueue(&mut k.objects, id);
    timer::disarm_thread(k, id);
    match k.objects.get(id).state {
        ThreadState::Sending { endpoint, .. } | ThreadState::Receiving { endpoint } => {
            endpoint::remove(k, endpoint, id);
        }
        ThreadState::Waiting { notification } => notification::remove_waiter(k, notification, id),
        ThreadState::Futex { .. } => crate::futex::remove(k, id),
        ThreadState::Joining { target } => k.objects.get_mut(target).joiner = None,
        ThreadState::AwaitingReply { .. } => {
            let thread = k.objects.get_mut(id);
            let (server, saved) = (thread.replier.take(), thread.saved_reply.take());
            if let Some(server) = server {
                k.objects.get_mut(server).reply = ReplyRight::CallerGone;
            }
            if let Some(slot) = saved {
                reply::caller_gone(k, slot);
            }
        }
        ThreadState::Inactive | ThreadState::Ready | ThreadState::Running | ThreadState::Exited => {
        }
    }
    drop_reply_right(k, id);
    let thread = k.objects.get_mut(id);
    thread.state = ThreadState::Inactive;
    if let Some(notification) = thread.bound.take() {
        k.objects.get_mut(notification).bound = None;
    }
}

/// Ends a thread: records how, wakes its joiner, and leaves the object
/// for its capabilities to release.
pub fn end(k: &mut Kernel, id: ObjId<Thread>, status: ThreadStatus) {
    let started = !matches!(
        k.objects.get(id).state,
        ThreadState::Inactive | ThreadState::Exited
    );
    detach(k, id);
    if started {
        k.live_threads = k.live_threads.saturating_sub(1);
    }
    let thread = k.objects.get_mut(id);
    thread.state = ThreadState::Exited;
    thread.status = status;
    if let Some(joiner) = thread.joiner.take() {
        wake(k, joiner, Ok(abi::syscall::SyscallResult::encode(&status)));
    }
}

/// Undoes what a thread holds before its frame is freed: it ends if it
/// has not, its joiner learns it is gone, the CPU forgets its registers,
/// a bound notification is unbound, and its address space and capability
/// space lose a reference.
pub fn teardown(k: &mut Kernel, id: ObjId<Thread>) {
    if k.objects.get(id).state != ThreadState::Exited {
        let status = ThreadStatus {
            kind: exit_kind::EXITED,
            ..ThreadStatus::default()
        };
        end(k, id, status);
    }
    if let Some(joiner) = k.objects.get_mut(id).joiner.take() {
        wake(k, joiner, Err(SysError::PeerClosed));
    }
    k.cpu.forget(id);
    ioports::release_thread(k, id);
    // An exited thread can still have been bound since it ended.
    if let Some(notification) = k.objects.get_mut(id).bound.take() {
        k.objects.get_mut(notification).bound = None;
    }
    let thread = k.objects.get(id);
    let (aspace, cspace) = (thread.aspace, thread.cspace);
    lifetime::release(k, ObjectRef::AddressSpace(aspace));
    lifetime::release(k, ObjectRef::CSpace(cspace));
}

/// Gives a thread number.
pub fn new_id(k: &mut Kernel) -> u64 {
    let id = k.next_thread_id;
    // One per thread created: a u64 cannot run out.
    k.next_thread_id = k.next_thread_id.wrapping_add(1);
    id
}
