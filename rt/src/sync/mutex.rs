//! A futex mutex (the three-state lock of Drepper's "Futexes Are Tricky"),
//! plugged into `lock_api` for the guard types.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::sys;

/// Free.
const UNLOCKED: u32 = 0;
/// Held, nobody waiting.
const LOCKED: u32 = 1;
/// Held, and a thread may be sleeping on the word.
const CONTENDED: u32 = 2;

/// The lock word behind [`Mutex`].
#[derive(Debug)]
pub struct RawMutex {
    state: AtomicU32,
}

impl RawMutex {
    /// A free lock.
    pub const fn new() -> RawMutex {
        RawMutex {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    #[cold]
    fn lock_contended(&self) {
        // From here on the word says CONTENDED while we hold it, so the
        // unlock that follows ours wakes the next sleeper (one spurious
        // wake at most, never a lost one).
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            // WouldBlock (the word changed) and a wake-up both mean: look
            // again. No other error is possible for a word of our own.
            let _ = sys::futex_wait(&self.state, CONTENDED, 0);
        }
    }
}

impl Default for RawMutex {
    fn default() -> Self {
        RawMutex::new()
    }
}

// SAFETY: `lock` and `try_lock` return only after moving the word from
// UNLOCKED to LOCKED or CONTENDED with an Acquire exchange, and `unlock`
// stores UNLOCKED with Release: exactly one holder at a time, and the
// holder sees everything the previous one wrote.
unsafe impl lock_api::RawMutex for RawMutex {
    const INIT: RawMutex = RawMutex::new();
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock(&self) {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    unsafe fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            let _ = sys::futex_wake(&self.state, 1);
        }
    }

    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}

/// A mutual-exclusion lock around a `T`.
pub type Mutex<T> = lock_api::Mutex<RawMutex, T>;
/// Proof of holding a [`Mutex`]; releases it when dropped.
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;
