//! Threads: saved user registers, FPU state, scheduling state and the
//! objects a thread runs in.
//!
//! A thread object is one frame. Stackless kernel: a blocked thread is
//! just its saved context plus [`ThreadState`]; it has no kernel stack.
//! Lifetime: a thread is freed when it has ended and no capability names it.

use abi::syscall::ThreadStatus;

use crate::arch::{FpuArea, UserContext};
use crate::cap::cspace::CSpace;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::aspace::AddressSpace;

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// In the run queue.
    Ready,
    /// On the CPU (or entered the kernel from it).
    Running,
    /// Waiting in `ThreadWait` for another thread to end.
    Joining,
    /// Ended; `status` says how.
    Exited,
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
    /// Scheduling state.
    pub state: ThreadState,
    /// A number for logs (not an authority: nothing looks threads up by it).
    pub id: u64,
    /// The address space it runs in.
    pub aspace: ObjId<AddressSpace>,
    /// The capability space its syscalls name slots in.
    pub cspace: ObjId<CSpace>,
    /// Next thread in the run queue.
    pub next: Option<ObjId<Thread>>,
    /// Capabilities that name this thread.
    pub cap_refs: u32,
    /// The thread waiting for this one to end.
    pub joiner: Option<ObjId<Thread>>,
    /// How it ended (valid in [`ThreadState::Exited`]).
    pub status: ThreadStatus,
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

impl Thread {
    /// A thread that will start at `entry` with stack `stack` and `arg` in `rdi`.
    pub fn new(
        id: u64,
        aspace: ObjId<AddressSpace>,
        cspace: ObjId<CSpace>,
        entry: u64,
        stack: u64,
        arg: u64,
    ) -> Thread {
        let mut fpu = FpuArea([0; crate::arch::fpu::FPU_AREA_BYTES]);
        fpu.init();
        Thread {
            context: UserContext::new_user(entry, stack, arg),
            fs_base: 0,
            gs_base: 0,
            state: ThreadState::Ready,
            id,
            aspace,
            cspace,
            next: None,
            cap_refs: 0,
            joiner: None,
            status: ThreadStatus::default(),
            fpu,
        }
    }
}
