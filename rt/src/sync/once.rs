//! One-time initialisation: [`Once`] runs a function once, [`OnceLock`]
//! holds the value it made.
//!
//! Threads that arrive while the first runs the function sleep on the
//! word until it is done. If the function panics, the process ends (the
//! runtime's panic policy), so there is no "poisoned" state.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use abi::syscall::FUTEX_ALL;

use crate::sys;

const INCOMPLETE: u32 = 0;
const RUNNING: u32 = 1;
const RUNNING_WAITED: u32 = 2;
const COMPLETE: u32 = 3;

/// Runs a function once.
#[derive(Debug, Default)]
pub struct Once {
    state: AtomicU32,
}

impl Once {
    /// A `Once` that has not run.
    pub const fn new() -> Once {
        Once {
            state: AtomicU32::new(INCOMPLETE),
        }
    }

    /// Whether the function has run to the end.
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }

    /// Runs `f` if no call has yet; otherwise waits until the one that
    /// runs it is done. Afterwards everything `f` wrote is visible.
    pub fn call_once(&self, f: impl FnOnce()) {
        if self.is_completed() {
            return;
        }
        self.call_slow(f);
    }

    #[cold]
    fn call_slow(&self, f: impl FnOnce()) {
        let mut f = Some(f);
        loop {
            match self.state.compare_exchange(
                INCOMPLETE,
                RUNNING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if let Some(f) = f.take() {
                        f();
                    }
                    if self.state.swap(COMPLETE, Ordering::Release) == RUNNING_WAITED {
                        let _ = sys::futex_wake(&self.state, FUTEX_ALL);
                    }
                    return;
                }
                Err(COMPLETE) => return,
                Err(seen) => {
                    // Say that someone sleeps, then sleep while it runs.
                    if seen == RUNNING_WAITED
                        || self
                            .state
                            .compare_exchange(
                                RUNNING,
                                RUNNING_WAITED,
                                Ordering::Acquire,
                                Ordering::Acquire,
                            )
                            .is_ok()
                    {
                        let _ = sys::futex_wait(&self.state, RUNNING_WAITED, 0);
                    }
                }
            }
        }
    }
}

/// A value made once, on first use.
pub struct OnceLock<T> {
    once: Once,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by the one thread that runs the
// `Once`, before the Release store that completes it; every reader first
// sees COMPLETE with Acquire, so it reads a fully written value, and no one
// writes it again. Sharing needs T: Sync (readers share &T) and Send (the
// writer may not be the thread that drops it).
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
// SAFETY: moving the lock moves the T inside it.
unsafe impl<T: Send> Send for OnceLock<T> {}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T> OnceLock<T> {
    /// An empty lock.
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            once: Once::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if it has been made.
    pub fn get(&self) -> Option<&T> {
        if self.once.is_completed() {
            // SAFETY: COMPLETE (read with Acquire) means the value was
            // written and will never be written again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, made by `f` if this is the first call.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.once.call_once(|| {
            // SAFETY: only the one thread running the Once gets here, and
            // no reader looks at the value before COMPLETE.
            unsafe { (*self.value.get()).write(f()) };
        });
        // SAFETY: call_once returned, so the Once is COMPLETE.
        unsafe { (*self.value.get()).assume_init_ref() }
    }

    /// Sets the value if it has not been made; gives `value` back if it has.
    ///
    /// # Errors
    /// `Err(value)` when the lock already held one.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| value.take().unwrap_or_else(|| unreachable!()));
        value.map_or(Ok(()), Err)
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if self.once.is_completed() {
            // SAFETY: the value was written (COMPLETE) and, with &mut self,
            // nobody else can see it any more.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("OnceLock").field(&self.get()).finish()
    }
}
