//! The kernel state: every object and queue, behind one lock.
//!
//! Each entry from user mode takes the lock, does its work, picks the
//! thread to run and drops the lock before returning to user mode. The
//! kernel never runs with interrupts on (except in the idle halt), so on
//! one CPU the lock is never contended; it is there for the second CPU.

use abi::syscall::{ThreadStatus, exit_kind};

use crate::arch::{self, Fault, ResumeTarget, UserTrap};
use crate::cap::{Capability, ObjectRef};
use crate::klog;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::thread::{Thread, ThreadState};
use crate::sched::Scheduler;

/// Everything the kernel knows.
pub struct Kernel {
    /// Access to kernel objects.
    pub objects: Objects,
    /// Run queue and running thread.
    pub sched: Scheduler,
    /// The thread whose FPU and TLS registers are live in the CPU.
    fpu_owner: Option<ObjId<Thread>>,
    /// Threads created and not yet ended.
    pub live_threads: u64,
    /// Next thread number (for logs).
    pub next_thread_id: u64,
    /// Whether the "no threads left" line has been logged.
    announced_idle: bool,
}

/// The kernel state; `None` until boot has built it.
pub static KERNEL: spin::Mutex<Option<Kernel>> = spin::Mutex::new(None);

/// What a syscall handler decided about the calling thread.
pub enum Next {
    /// Return to it with these results (status 0).
    Reply([u64; 5]),
    /// It has blocked; whoever wakes it sets its results.
    Blocked,
    /// It has ended.
    Exited,
}

impl Kernel {
    /// An empty kernel.
    pub const fn new() -> Kernel {
        Kernel {
            objects: Objects::new(),
            sched: Scheduler::new(),
            fpu_owner: None,
            live_threads: 0,
            next_thread_id: 1,
            announced_idle: false,
        }
    }

    /// Handles the syscall the current thread just made.
    pub fn syscall(&mut self) {
        let Some(current) = self.sched.current else {
            return;
        };
        let (number, args) = self.objects.get(current).context.syscall_args();
        let (status, values) = match crate::syscall::dispatch(self, current, number, args) {
            Ok(Next::Reply(values)) => (0, values),
            Err(error) => (error.code(), [0; 5]),
            // The thread is blocked (its waker sets the results) or gone.
            Ok(Next::Blocked | Next::Exited) => return,
        };
        self.objects
            .get_mut(current)
            .context
            .set_syscall_result(status, values);
    }

    /// Handles an interrupt or exception from the current thread.
    pub fn user_trap(&mut self, trap: UserTrap) {
        match trap {
            UserTrap::Timer => {
                crate::time::tick();
                self.sched.preempt(&mut self.objects);
            }
            UserTrap::Spurious => {}
            UserTrap::Fault(fault) => {
                if let Some(current) = self.sched.current {
                    self.kill(current, fault);
                }
            }
        }
    }

    fn kill(&mut self, id: ObjId<Thread>, fault: Fault) {
        let thread_number = self.objects.get(id).id;
        klog!(
            Warn,
            "killed thread {}: {} at rip {:#x} (error {:#x}, address {:#x})",
            thread_number,
            arch::exception_name(fault.vector),
            fault.rip,
            fault.error_code,
            fault.addr
        );
        let status = ThreadStatus {
            kind: exit_kind::FAULTED,
            code: fault.vector,
            error_code: fault.error_code,
            rip: fault.rip,
            addr: fault.addr,
        };
        self.end_thread(id, status);
    }

    /// Ends a running thread: records how, wakes its joiner, and frees it
    /// if no capability names it.
    pub fn end_thread(&mut self, id: ObjId<Thread>, status: ThreadStatus) {
        if self.sched.current == Some(id) {
            self.sched.current = None;
        }
        let thread = self.objects.get_mut(id);
        thread.state = ThreadState::Exited;
        thread.status = status;
        let joiner = thread.joiner.take();
        self.live_threads = self.live_threads.saturating_sub(1);
        if let Some(joiner) = joiner {
            self.objects
                .get_mut(joiner)
                .context
                .set_syscall_result(0, abi::syscall::SyscallResult::encode(&status));
            self.sched.make_ready(&mut self.objects, joiner);
        }
        if self.objects.get(id).cap_refs == 0 {
            self.destroy_thread(id);
        }
    }

    fn destroy_thread(&mut self, id: ObjId<Thread>) {
        if self.fpu_owner == Some(id) {
            self.fpu_owner = None;
        }
        let thread = self.objects.get(id);
        let (aspace, cspace) = (thread.aspace, thread.cspace);
        self.objects.free(id);
        let aspace = self.objects.get_mut(aspace);
        aspace.refs = aspace.refs.saturating_sub(1);
        let cspace = self.objects.get_mut(cspace);
        cspace.thread_refs = cspace.thread_refs.saturating_sub(1);
    }

    /// Counts a new capability to `object`.
    pub fn add_ref(&mut self, object: ObjectRef) {
        match object {
            ObjectRef::Debug => {}
            ObjectRef::AddressSpace(id) => self.objects.get_mut(id).refs += 1,
            ObjectRef::Thread(id) => self.objects.get_mut(id).cap_refs += 1,
        }
    }

    /// Forgets a deleted capability; destroys the object if that was the
    /// last reference and it is not in use.
    pub fn drop_cap(&mut self, cap: Capability) {
        match cap.object {
            ObjectRef::Debug => {}
            ObjectRef::AddressSpace(id) => {
                // The first address space outlives its capabilities for now.
                let aspace = self.objects.get_mut(id);
                aspace.refs = aspace.refs.saturating_sub(1);
            }
            ObjectRef::Thread(id) => {
                let thread = self.objects.get_mut(id);
                thread.cap_refs = thread.cap_refs.saturating_sub(1);
                if thread.cap_refs == 0 && thread.state == ThreadState::Exited {
                    self.destroy_thread(id);
                }
            }
        }
    }

    /// Picks the thread to run next and prepares the CPU for it (FPU and
    /// TLS registers); `None` when nothing is runnable.
    pub fn choose_next(&mut self) -> Option<ResumeTarget> {
        let next = match self.sched.current {
            Some(current) => current,
            None => {
                let Some(next) = self.sched.pop(&mut self.objects) else {
                    if self.live_threads == 0 && !self.announced_idle {
                        self.announced_idle = true;
                        klog!(Info, "no user threads left; idle");
                    }
                    return None;
                };
                self.sched.current = Some(next);
                next
            }
        };
        self.objects.get_mut(next).state = ThreadState::Running;
        if self.fpu_owner != Some(next) {
            if let Some(previous) = self.fpu_owner {
                let (fs, gs) = arch::read_tls_bases();
                let thread = self.objects.get_mut(previous);
                arch::fpu::save(&mut thread.fpu);
                thread.fs_base = fs;
                thread.gs_base = gs;
            }
            let thread = self.objects.get(next);
            arch::fpu::restore(&thread.fpu);
            arch::write_tls_bases(thread.fs_base, thread.gs_base);
            self.fpu_owner = Some(next);
        }
        let thread = self.objects.get(next);
        let root = self.objects.get(thread.aspace).root;
        Some(ResumeTarget {
            context: &thread.context,
            root,
        })
    }

    /// Gives a thread number.
    pub fn new_thread_id(&mut self) -> u64 {
        let id = self.next_thread_id;
        self.next_thread_id += 1;
        id
    }
}
