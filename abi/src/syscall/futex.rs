//! Futexes (numbers 112..128): the arguments and results of
//! [`Syscall::FutexWait`], [`Syscall::FutexWake`] and [`Syscall::FutexRequeue`].

use super::*;
use crate::SysError;

/// A count that wakes (or moves) every waiter ([`Syscall::FutexWake`],
/// [`Syscall::FutexRequeue`]).
pub const FUTEX_ALL: u64 = u64::MAX;

args!(
    /// Arguments of [`Syscall::FutexWait`].
    FutexWaitArgs for FutexWait {
        /// User address of the 32-bit word, 4-byte aligned.
        addr: u64 as Address,
        /// The value the word must hold for the caller to wait.
        expected: u32,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::FutexWake`].
    FutexWakeArgs for FutexWake {
        /// User address of the 32-bit word, 4-byte aligned.
        addr: u64 as Address,
        /// Most threads to wake (not 0; [`FUTEX_ALL`] for every one).
        count: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::FutexRequeue`].
    FutexRequeueArgs for FutexRequeue {
        /// User address of the 32-bit word whose waiters are woken or moved.
        addr: u64 as Address,
        /// Most of them to wake.
        wake_count: u64 as Count,
        /// User address of the 32-bit word the others move to.
        addr2: u64 as Address,
        /// Most of them to move ([`FUTEX_ALL`] for every one).
        requeue_count: u64 as Count,
        /// The value the word at `addr` must hold.
        expected: u32,
    }
);
results!(
    /// Results of [`Syscall::FutexWake`].
    FutexWoken {
        /// Threads woken.
        woken: u64,
    }
);
results!(
    /// Results of [`Syscall::FutexRequeue`].
    FutexRequeued {
        /// Threads woken.
        woken: u64,
        /// Threads moved to the second word.
        requeued: u64,
    }
);
