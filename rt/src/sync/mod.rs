//! Synchronisation on the kernel's futexes: [`Mutex`], [`Condvar`],
//! [`Once`] and [`OnceLock`].
//!
//! Each is an atomic word in the program's memory. The uncontended paths
//! (taking a free lock, releasing one nobody waits for, notifying a
//! condition variable nobody waits on, reading a finished `Once`) are one
//! atomic instruction and no syscall; a thread that has to wait sleeps in
//! `FutexWait` on the word, and is woken by `FutexWake`.
//!
//! Nothing here spins: on one CPU with priorities, a high-priority thread
//! spinning on a lock whose holder has a lower priority would never let
//! it run.

mod condvar;
mod mutex;
mod once;

pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard, RawMutex};
pub use once::{Once, OnceLock};
