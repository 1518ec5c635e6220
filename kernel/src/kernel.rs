//! The kernel state: every object and queue, behind one lock.
//!
//! Each entry from user mode (`crate::entry`) takes the lock, does its
//! work, destroys the objects that lost their last reference
//! (`crate::object::lifetime`), picks the thread to run (`crate::switch`)
//! and drops the lock before returning to user mode. The kernel never runs
//! with interrupts on (except in the idle halt and at preemption points),
//! so on one CPU the lock is never contended; it is there for the second.
//!
//! This is the bottom layer: it holds state and calls nothing. The
//! operations on each part live with that part: object operations in
//! `crate::object::<type>`, scheduling in `crate::sched`, timers in
//! `crate::timer`, futex waits in `crate::futex`, the CPU's live
//! registers in `crate::switch`.

use crate::futex;
use crate::mem::kobj::Objects;
use crate::object::irq::IrqTable;
use crate::object::lifetime::Reaper;
use crate::sched::Scheduler;
use crate::switch::CpuState;
use crate::timer::Timers;

/// Everything the kernel knows.
pub struct Kernel {
    /// Access to kernel objects.
    pub objects: Objects,
    /// Run queues and running thread.
    pub sched: Scheduler,
    /// Which thread's FPU and TLS registers are live in the CPU.
    pub cpu: CpuState,
    /// Objects whose last reference is gone, to destroy.
    pub reaper: Reaper,
    /// Armed deadlines: notification timers and thread timeouts.
    pub timers: Timers,
    /// Interrupt lines, by vector.
    pub irqs: IrqTable,
    /// Threads waiting on futex words.
    pub futex: futex::Table,
    /// Threads started and not yet ended.
    pub live_threads: u64,
    /// Next thread number (for logs).
    pub next_thread_id: u64,
    /// Whether the "no threads left" line has been logged.
    pub announced_idle: bool,
    /// Whether `Call` and `ReplyRecv` try the fast path.
    pub fastpath: FastPath,
    /// Syscalls the fast path has handled.
    pub fastpath_hits: u64,
    /// A `CapRevoke` is walking the derivation tree (`cap::tree::revoke`).
    pub revoking: bool,
}

/// Whether the IPC fast path is tried (kernel command line `fastpath=off`
/// turns it off, so that the test suite can run on the general path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastPath {
    /// `Call` and `ReplyRecv` try it first.
    On,
    /// Every syscall takes the general path.
    Off,
}

/// The kernel state; `None` until boot has built it.
pub static KERNEL: spin::Mutex<Option<Kernel>> = spin::Mutex::new(None);

/// What a syscall handler decided about the calling thread.
pub enum Next {
    /// Return to it with status 0 and no results (the result registers
    /// zeroed).
    Success,
    /// Return to it with these results (status 0).
    Reply([u64; 6]),
    /// It has blocked; whoever wakes it sets its results.
    Blocked,
    /// It has ended, or its results are already set.
    Done,
    /// Run the syscall again from the start (a preempted long operation).
    Restart,
}

impl Kernel {
    /// An empty kernel.
    pub const fn new() -> Kernel {
        Kernel {
            objects: Objects::new(),
            sched: Scheduler::new(),
            cpu: CpuState::new(),
            reaper: Reaper::new(),
            timers: Timers::new(),
            irqs: IrqTable::new(),
            futex: futex::Table::new(),
            live_threads: 0,
            next_thread_id: 1,
            announced_idle: false,
            fastpath: FastPath::On,
            fastpath_hits: 0,
            revoking: false,
        }
    }
}
