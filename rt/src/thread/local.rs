//! Thread-local values: `static KEY: Local<T> = Local::new(init);` gives
//! each thread its own `T`, made by `init` on the thread's first use and
//! dropped when the thread ends.
//!
//! Stable Rust has no `#[thread_local]` for bare-metal targets, so the
//! values live in a table in the thread's control block (at the FS base),
//! one entry per key: the POSIX `pthread_key` model. A key takes its index
//! on first use; [`LOCAL_KEYS`](super::block::LOCAL_KEYS) keys exist per
//! program.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::block::{self, LOCAL_KEYS, Tcb};

/// Keys handed out so far.
static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);
/// "No index yet".
const UNSET: usize = usize::MAX;

/// A thread-local value.
pub struct Local<T: 'static> {
    index: AtomicUsize,
    init: fn() -> T,
}

impl<T: 'static> Local<T> {
    /// A key whose value each thread makes with `init`.
    pub const fn new(init: fn() -> T) -> Local<T> {
        Local {
            index: AtomicUsize::new(UNSET),
            init,
        }
    }

    fn index(&self) -> Option<usize> {
        let index = self.index.load(Ordering::Acquire);
        if index != UNSET {
            return Some(index);
        }
        let fresh = NEXT_KEY.fetch_add(1, Ordering::AcqRel);
        if fresh >= LOCAL_KEYS {
            return None;
        }
        match self
            .index
            .compare_exchange(UNSET, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Some(fresh),
            // Another thread won; the fresh index is wasted.
            Err(index) => Some(index),
        }
    }

    /// Runs `f` on this thread's value, making it first if needed.
    ///
    /// # Panics
    /// On a thread `rt` did not make (it has no control block), or when a
    /// program uses more than `LOCAL_KEYS` keys.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        assert!(
            super::registry::has_tcb(),
            "thread-local value used on a thread rt did not make"
        );
        let index = self.index().expect("too many thread-local keys");
        let tcb = block::current_tcb() as *mut Tcb;
        // SAFETY: the current thread's FS base is its TCB (has_tcb), which
        // only this thread touches while it runs; `index` < LOCAL_KEYS.
        let entry = unsafe { &mut (*tcb).locals[index] };
        if entry.0 == 0 {
            let value: Box<T> = Box::new((self.init)());
            *entry = (
                Box::into_raw(value) as u64,
                drop_box::<T> as *const () as u64,
            );
        }
        // SAFETY: a non-zero entry holds the Box<T> made above for this
        // key, alive until the thread ends.
        f(unsafe { &*(entry.0 as *const T) })
    }
}

fn drop_box<T>(ptr: u64) {
    // SAFETY: `ptr` came from Box::into_raw::<T> in `with`, and the entry
    // holding it is cleared before this runs, so it is dropped once.
    drop(unsafe { Box::from_raw(ptr as *mut T) });
}

/// Drops the current thread's values (at its end).
pub(super) fn run_destructors(tcb: u64) {
    let tcb = tcb as *mut Tcb;
    for index in 0..LOCAL_KEYS {
        // SAFETY: the ending thread's own TCB; nothing else touches it.
        let (ptr, dtor) = unsafe { core::mem::take(&mut (*tcb).locals[index]) };
        if ptr != 0 {
            // SAFETY: `dtor` is the `drop_box::<T>` stored with `ptr`.
            let dtor: fn(u64) = unsafe { core::mem::transmute(dtor as usize as *const ()) };
            dtor(ptr);
        }
    }
}
