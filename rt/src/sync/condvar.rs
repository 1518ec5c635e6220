//! A condition variable: a sequence number that waiters sleep on.
//!
//! `wait` reads the sequence, releases the lock and sleeps while the
//! sequence is unchanged; `notify_*` bump it and wake sleepers. A notify
//! that comes between the read and the sleep changes the sequence, so the
//! sleep returns at once: no wake-up is lost. Spurious wake-ups are
//! possible, as with every condition variable: wait in a loop.

use core::sync::atomic::{AtomicU32, Ordering};

use abi::SysError;
use abi::syscall::FUTEX_ALL;

use crate::sync::MutexGuard;
use crate::sys;

/// A condition variable, used with one [`Mutex`](crate::sync::Mutex).
#[derive(Debug, Default)]
pub struct Condvar {
    sequence: AtomicU32,
    waiters: AtomicU32,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Condvar {
        Condvar {
            sequence: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Releases the lock, sleeps until notified, takes the lock again.
    pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let _ = self.wait_until(guard, 0);
    }

    /// As [`Condvar::wait`], giving up at `deadline` (nanoseconds on the
    /// monotonic clock; 0: never). Returns `false` if it gave up.
    pub fn wait_until<T>(&self, guard: &mut MutexGuard<'_, T>, deadline: u64) -> bool {
        let sequence = self.sequence.load(Ordering::Relaxed);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let result = MutexGuard::unlocked(guard, || {
            sys::futex_wait(&self.sequence, sequence, deadline)
        });
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        result != Err(SysError::TimedOut)
    }

    /// Wakes one waiter, if any (no syscall when there is none).
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every waiter (no syscall when there is none).
    pub fn notify_all(&self) {
        self.notify(FUTEX_ALL);
    }

    fn notify(&self, count: u64) {
        self.sequence.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) != 0 {
            let _ = sys::futex_wake(&self.sequence, count);
        }
    }
}
