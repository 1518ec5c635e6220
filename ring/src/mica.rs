//! The ring on Mica: a mapped memory object (`rt::shared::SharedRegion`)
//! is a [`Memory`], and [`FutexWaker`] sleeps and wakes with the futex
//! syscalls on the region's words.
//!
//! Futexes are keyed by physical address (docs/syscalls.md, 112
//! `FutexWait`), so a client and a server that map one memory object at
//! different addresses in different address spaces wait on and wake the
//! same word. The kernel compares the word and queues the waiter in one
//! step, which is what [`crate::wake`] asks of a waker.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::AtomicU32;

use rt::SysError;
use rt::shared::SharedRegion;

use crate::wake::TimedOut;
use crate::{Memory, Waker};

impl Memory for SharedRegion {
    #[inline]
    fn len_bytes(&self) -> usize {
        self.words().len_bytes()
    }
    #[inline]
    fn load_u32(&self, offset: usize) -> u32 {
        self.words().load_u32(offset)
    }
    #[inline]
    fn store_u32(&self, offset: usize, value: u32) {
        self.words().store_u32(offset, value)
    }
    #[inline]
    fn fence(&self) {
        self.words().fence()
    }
    #[inline]
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        self.words().read_words(offset, out)
    }
    #[inline]
    fn write_words(&self, offset: usize, words: &[u32]) {
        self.words().write_words(offset, words)
    }
    // Bytes 8 at a time (`rt::atomic_bytes`, through the region's
    // `AtomicU64` view); the ring copies bytes only in the data area, whose
    // bytes it never accesses as 4-byte words.
    #[inline]
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        if self.copy_out(offset, out).is_err() {
            crate::memory::outside(offset, out.len(), self.len_bytes());
        }
    }
    #[inline]
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        if self.copy_in(offset, bytes).is_err() {
            crate::memory::outside(offset, bytes.len(), self.len_bytes());
        }
    }
}

/// A region whose words can be futex words.
pub trait FutexWords: Memory {
    /// The word at `offset` (a multiple of 4 inside the region).
    ///
    /// # Panics
    /// If it is not: a bug in the caller.
    fn futex_word(&self, offset: usize) -> &AtomicU32;
}

impl FutexWords for SharedRegion {
    #[inline]
    fn futex_word(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset.is_multiple_of(4),
            "ring: unaligned futex word {offset}"
        );
        &self.words()[offset / 4]
    }
}

impl<T: FutexWords + ?Sized> FutexWords for &T {
    #[inline]
    fn futex_word(&self, offset: usize) -> &AtomicU32 {
        (**self).futex_word(offset)
    }
}

impl<T: FutexWords + ?Sized> FutexWords for Box<T> {
    #[inline]
    fn futex_word(&self, offset: usize) -> &AtomicU32 {
        (**self).futex_word(offset)
    }
}

impl<T: FutexWords + ?Sized> FutexWords for Arc<T> {
    #[inline]
    fn futex_word(&self, offset: usize) -> &AtomicU32 {
        (**self).futex_word(offset)
    }
}

/// Sleeps and wakes with `FutexWait` and `FutexWake`. Deadlines are
/// `ClockRead` nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct FutexWaker;

impl<M: FutexWords + ?Sized> Waker<M> for FutexWaker {
    #[inline]
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        deadline: Option<u64>,
    ) -> Result<(), TimedOut> {
        // 0 is "no deadline" to the kernel; a deadline of 0 has passed.
        let deadline = deadline.map_or(0, |d| d.max(1));
        match rt::sys::futex_wait(memory.futex_word(offset), expected, deadline) {
            Err(SysError::TimedOut) => Err(TimedOut),
            // Woken, the word already changed (`WouldBlock`), or an error
            // the caller cannot act on here: it looks at the word again.
            _ => Ok(()),
        }
    }

    #[inline]
    fn wake(&self, memory: &M, offset: usize) {
        // One waiter at most sleeps on each index word: the end of a
        // queue that waits on it is owned by one side and used through
        // `&mut self`, so one thread at a time. (Waking one is also 42
        // instructions cheaper per round trip than waking all.)
        let _ = rt::sys::futex_wake(memory.futex_word(offset), 1);
    }
}
