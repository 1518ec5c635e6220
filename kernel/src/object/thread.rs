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
//! a notification's waiters when waiting on one.
//!
//! Lifetime: `refs` counts capabilities naming the thread; at zero the
//! kernel takes it off every queue and frees it.

use abi::CapSlot;
use abi::syscall::ThreadStatus;
use kcore::queue::Links;

use crate::arch::{FpuArea, UserContext};
use crate::cap::ObjectRef;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::aspace::AddressSpace;
use crate::object::budget::Budget;
use crate::object::cspace::CSpace;
use crate::object::endpoint::Endpoint;
use crate::object::notification::Notification;

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
        /// Whether it called (and will wait for a reply).
        call: bool,
        /// Whether its capability allows sending capabilities.
        grant: bool,
        /// It sends a fault message (its `fault` words), not a syscall's.
        fault: bool,
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
    /// Waiting in `ThreadWait` for another thread to end.
    Joining {
        /// The thread waited for.
        target: ObjId<Thread>,
    },
    /// Ended; `status` says how.
    Exited,
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
    /// Saved user registers; entry code writes here directly.
    pub context: UserContext,
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
    /// The address space it runs in.
    pub aspace: ObjId<AddressSpace>,
    /// The capability space its syscalls name slots in.
    pub cspace: ObjId<CSpace>,
    /// The budget that paid for it.
    pub budget: ObjId<Budget>,
    /// User address of its IPC buffer (0 = none).
    pub ipc_buffer: u64,
    /// Slot of its fault endpoint in its capability space (0 = none).
    pub fault_endpoint: CapSlot,
    /// The caller it may reply to.
    pub reply: ReplyRight,
    /// While awaiting a reply: the thread holding the right to answer.
    pub replier: Option<ObjId<Thread>>,
    /// The notification bound to it (signals also end an endpoint receive).
    pub bound: Option<ObjId<Notification>>,
    /// Capabilities that name this thread.
    pub refs: u32,
    /// Its last fault message (`abi::ipc::fault` words), kept while it
    /// waits for the fault endpoint's answer.
    pub fault: [u64; 4],
    /// The thread waiting for this one to end.
    pub joiner: Option<ObjId<Thread>>,
    /// How it ended (valid in [`ThreadState::Exited`]).
    pub status: ThreadStatus,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
    /// FPU/SSE/AVX state, saved when another thread takes the CPU.
    pub fpu: FpuArea,
}

impl KernelObject for Thread {}

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
            fs_base: 0,
            gs_base: 0,
            state: ThreadState::Inactive,
            suspended: false,
            priority,
            max_priority,
            id,
            links: Links::unlinked(),
            aspace,
            cspace,
            budget,
            ipc_buffer: 0,
            fault_endpoint: CapSlot::NULL,
            reply: ReplyRight::None,
            replier: None,
            bound: None,
            refs: 0,
            fault: [0; 4],
            joiner: None,
            status: ThreadStatus::default(),
            reap_next: None,
            fpu,
        }
    }
}
