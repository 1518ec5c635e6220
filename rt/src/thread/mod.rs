//! Threads: a [`Builder`] (closure, name, priority, stack size), join and
//! detach, thread-local values ([`Local`]), and the [`Thread`] handle with
//! the thread syscalls.
//!
//! Every thread `rt` makes has a block of its own (`block`): a stack, its
//! TLS data and control block at the FS base, and an IPC buffer page, so
//! [`crate::ipc`] works on every thread. Everything here is safe to use
//! from a crate under `#![forbid(unsafe_code)]`.
//!
//! A panic in any thread ends the whole process (`rt::process`); `join`
//! reports only a thread that ended by a fault nobody handled.

pub mod block;
mod local;
pub(crate) mod registry;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::cell::UnsafeCell;

use abi::syscall::{ThreadRegs, ThreadStatus, exit_kind};
use abi::{CapSlot, SysError};

use crate::handle::{Handle, handle};
use crate::memory::{AddressSpace, Budget, CSpace};
use crate::notify::Notification;
use crate::sys;

pub use block::TlsTemplate;
pub use local::Local;
pub use registry::Record;

handle!(
    /// A thread capability.
    Thread
);

impl Thread {
    /// `ThreadCreate`: an inactive thread in `aspace` naming slots in
    /// `cspace`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(
        budget: &Budget,
        aspace: &AddressSpace,
        cspace: &CSpace,
    ) -> Result<Thread, SysError> {
        sys::thread_create(budget.slot(), aspace.slot(), cspace.slot()).map(Thread::from_raw)
    }

    /// `ThreadStart` at `entry` with `stack`, `arg` in `rdi` and FS base
    /// `tls`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn start(&self, entry: u64, stack: u64, arg: u64, tls: u64) -> Result<(), SysError> {
        sys::thread_start(self.slot, entry, stack, arg, tls)
    }

    /// `ThreadConfigure`: the IPC buffer page and the fault endpoint (a slot
    /// of the thread's own capability space; NULL for none).
    ///
    /// # Errors
    /// The kernel's.
    pub fn configure(&self, ipc_buffer: u64, fault_endpoint: CapSlot) -> Result<(), SysError> {
        sys::thread_configure(self.slot, ipc_buffer, fault_endpoint)
    }

    /// `ThreadSetPriority`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn set_priority(&self, priority: u64, max_priority: u64) -> Result<(), SysError> {
        sys::thread_set_priority(self.slot, priority, max_priority)
    }

    /// `ThreadSuspend`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn suspend(&self) -> Result<(), SysError> {
        sys::thread_suspend(self.slot)
    }

    /// `ThreadResume`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn resume(&self) -> Result<(), SysError> {
        sys::thread_resume(self.slot)
    }

    /// `ThreadReadRegs`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn read_regs(&self) -> Result<ThreadRegs, SysError> {
        sys::thread_read_regs(self.slot)
    }

    /// `ThreadWriteRegs`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn write_regs(&self, regs: &ThreadRegs) -> Result<(), SysError> {
        sys::thread_write_regs(self.slot, regs)
    }

    /// `ThreadBind`: signals of `notification` end this thread's receives.
    ///
    /// # Errors
    /// The kernel's.
    pub fn bind(&self, notification: &Notification) -> Result<(), SysError> {
        sys::thread_bind(self.slot, notification.slot())
    }

    /// `ThreadWait`: waits for the thread to end; its status.
    ///
    /// # Errors
    /// The kernel's.
    pub fn wait(&self) -> Result<ThreadStatus, SysError> {
        sys::thread_wait(self.slot)
    }
}

/// How a joined thread ended when it did not return a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// It took an exception nobody handled (vector, error code, rip,
    /// address in the status).
    Faulted(ThreadStatus),
    /// It ended some other way (deleted, or `ThreadExit` by hand) before
    /// its closure returned.
    Ended(ThreadStatus),
    /// `ThreadWait` failed.
    Kernel(SysError),
}

/// Where a thread's result goes.
struct Packet<T> {
    result: UnsafeCell<Option<T>>,
}

// SAFETY: the result is written once by the thread before it ends and read
// only by `join` after `ThreadWait` says it ended; the kernel's wait orders
// the two. T: Send because it moves between the threads.
unsafe impl<T: Send> Sync for Packet<T> {}

/// A thread to configure and start.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until spawn"]
pub struct Builder {
    name: Option<String>,
    priority: Option<u64>,
    stack_bytes: Option<u64>,
    fault_endpoint: Option<CapSlot>,
}

impl Builder {
    /// A thread with the defaults: no name, the caller's priority, a
    /// [`block::DEFAULT_STACK_BYTES`] stack.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread (panic messages and logs show it).
    pub fn name(mut self, name: &str) -> Builder {
        self.name = Some(String::from(name));
        self
    }

    /// Sets the priority (at most the caller's maximum).
    pub fn priority(mut self, priority: u64) -> Builder {
        self.priority = Some(priority);
        self
    }

    /// Sets the stack size in bytes (rounded up to pages; at most about
    /// [`block::SLOT_BYTES`]).
    pub fn stack_size(mut self, bytes: u64) -> Builder {
        self.stack_bytes = Some(bytes);
        self
    }

    /// Sends the thread's faults to `endpoint` (a slot of this program)
    /// instead of the process's fault endpoint.
    pub fn fault_endpoint(mut self, endpoint: CapSlot) -> Builder {
        self.fault_endpoint = Some(endpoint);
        self
    }

    /// Starts `f` on a new thread.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] when the budget, the heap or the thread
    /// slots are exhausted; [`SysError::InvalidArg`] for a stack too large
    /// or a priority above the caller's maximum. Nothing is left behind.
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SysError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let packet = Arc::new(Packet {
            result: UnsafeCell::new(None),
        });
        let theirs = Arc::clone(&packet);
        let main: Box<dyn FnOnce() + Send> = Box::new(move || {
            let value = f();
            // SAFETY: only this thread writes the result, once, before it
            // ends (see Packet).
            unsafe { *theirs.result.get() = Some(value) };
        });
        let stack = self.stack_bytes.unwrap_or(block::DEFAULT_STACK_BYTES);
        let record = registry::start(self.name, self.priority, stack, self.fault_endpoint, main)?;
        Ok(JoinHandle { record, packet })
    }
}

/// Starts `f` on a new thread with the defaults ([`Builder`]).
///
/// # Errors
/// As [`Builder::spawn`].
pub fn spawn<F, T>(f: F) -> Result<JoinHandle<T>, SysError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f)
}

/// A started thread: [`JoinHandle::join`] waits for its result,
/// [`JoinHandle::detach`] lets it run on its own. Dropping the handle
/// detaches.
pub struct JoinHandle<T> {
    record: Arc<Record>,
    packet: Arc<Packet<T>>,
}

impl<T> JoinHandle<T> {
    /// The thread's capability.
    pub fn thread(&self) -> &Thread {
        self.record.thread()
    }

    /// The thread's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.record.name()
    }

    /// Waits for the thread to end; its closure's value. The thread's
    /// stack, slot and capability are freed.
    ///
    /// # Errors
    /// [`JoinError`] when the closure did not return.
    pub fn join(self) -> Result<T, JoinError> {
        let status = self.record.thread().wait().map_err(JoinError::Kernel)?;
        registry::reap(&self.record);
        // SAFETY: the thread has ended (ThreadWait), so it no longer
        // writes the result.
        match unsafe { (*self.packet.result.get()).take() } {
            Some(value) => Ok(value),
            None if status.kind == exit_kind::FAULTED => Err(JoinError::Faulted(status)),
            None => Err(JoinError::Ended(status)),
        }
    }

    /// Lets the thread run on its own: its memory is freed after it ends.
    pub fn detach(self) {
        registry::detach(&self.record);
    }
}

/// The calling thread's capability slot, if rt knows it.
pub fn current_slot() -> Option<CapSlot> {
    registry::current_thread_slot()
}

/// The current thread's record, if `rt` made it.
pub fn current() -> Option<Arc<Record>> {
    registry::current()
}

/// Gives the CPU to another ready thread of the same priority, if any.
pub fn yield_now() {
    sys::thread_yield();
}

/// Sleeps for `duration` (see [`crate::time::sleep`]).
pub fn sleep(duration: core::time::Duration) {
    crate::time::sleep(duration);
}

pub use registry::suspend_others as registry_suspend_others;
#[cfg(target_os = "none")]
pub(crate) use registry::with_current_name;
pub use registry::{adopt_main, has_tcb};
