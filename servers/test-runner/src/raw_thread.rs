//! Threads started by hand for the tests: `fn(u64) -> u64` on stacks from
//! a fixed pool, with no control block and no IPC buffer (FS base 0), so
//! that tests control exactly what a thread has. Programs use
//! `rt::thread::Builder` instead.
#![allow(unsafe_code)]
//!
//! [`spawn`] runs `f(arg)` on a new thread; its result becomes the exit
//! code. [`JoinHandle::join`] waits for it, deletes the thread capability
//! and returns the stack to the pool.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::syscall::ThreadStatus;
use abi::{CapSlot, SysError};

/// Bytes of each pooled stack.
pub const STACK_BYTES: usize = 32 * 1024;
/// Threads that can exist at once (besides the first).
pub const MAX_THREADS: usize = 32;

#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_BYTES]>);

struct Pool([Stack; MAX_THREADS]);

// SAFETY: each stack is handed to at most one thread at a time, tracked by
// the atomic bitmap `IN_USE`; the pool itself is never read by rt.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool([const { Stack(UnsafeCell::new([0; STACK_BYTES])) }; MAX_THREADS]);
static IN_USE: AtomicU64 = AtomicU64::new(0);

fn take_stack() -> Option<usize> {
    loop {
        let used = IN_USE.load(Ordering::Acquire);
        let free = (!used).trailing_zeros() as usize;
        if free >= MAX_THREADS {
            return None;
        }
        let bit = 1u64 << free;
        if IN_USE
            .compare_exchange(used, used | bit, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(free);
        }
    }
}

fn release_stack(index: usize) {
    IN_USE.fetch_and(!(1u64 << index), Ordering::Release);
}

/// What the new thread finds at the top of its stack.
#[repr(C)]
struct StartBlock {
    f: fn(u64) -> u64,
    arg: u64,
}

extern "C" fn thread_start(block: *const StartBlock) -> ! {
    // SAFETY: `spawn` wrote a StartBlock at this address on the thread's
    // own stack before creating the thread, and nothing else writes it.
    let StartBlock { f, arg } = unsafe { block.read() };
    rt::sys::thread_exit(f(arg))
}

/// A running thread.
#[must_use = "a thread that is never joined keeps its stack"]
pub struct JoinHandle {
    slot: CapSlot,
    stack: usize,
}

impl JoinHandle {
    /// The slot of the thread's capability.
    pub fn slot(&self) -> CapSlot {
        self.slot
    }

    /// Waits for the thread to end and reports how.
    ///
    /// # Errors
    /// The [`SysError`] of `ThreadWait` (the stack stays reserved then).
    pub fn join(self) -> Result<ThreadStatus, SysError> {
        let status = rt::sys::thread_wait(self.slot)?;
        rt::sys::cap_delete(self.slot)?;
        release_stack(self.stack);
        Ok(status)
    }
}

/// Starts `f(arg)` on a new thread in the program's own address space.
///
/// # Errors
/// [`SysError::OutOfMemory`] when the stack pool is empty; otherwise the
/// error of `ThreadCreate` or `ThreadStart`.
pub fn spawn(f: fn(u64) -> u64, arg: u64) -> Result<JoinHandle, SysError> {
    let index = take_stack().ok_or(SysError::OutOfMemory)?;
    let base = POOL.0[index].0.get() as u64;
    let top = base + STACK_BYTES as u64;
    let block = (top - core::mem::size_of::<StartBlock>() as u64) & !15;
    // SAFETY: the stack at `index` was just reserved for this thread and no
    // thread runs on it yet; `block` lies inside it and is aligned.
    unsafe { (block as *mut StartBlock).write(StartBlock { f, arg }) };
    // The thread starts with rsp = block - 8, as if `thread_start` had been
    // called (rsp + 8 is 16-byte aligned at function entry).
    let entry = thread_start as *const () as u64;
    let own = rt::process::own_caps();
    let slot = match rt::sys::thread_create(own.budget, own.aspace, own.cspace) {
        Ok(slot) => slot,
        Err(e) => {
            release_stack(index);
            return Err(e);
        }
    };
    if let Err(e) = rt::sys::thread_start(slot, entry, block - 8, block, 0) {
        let _ = rt::sys::cap_delete(slot);
        release_stack(index);
        return Err(e);
    }
    Ok(JoinHandle { slot, stack: index })
}
