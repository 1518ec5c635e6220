//! Sleeping and waking on a word of the region: the [`Waker`] trait.
//!
//! A side that finds nothing to do sleeps on the peer's index word, with
//! the value it last read as the expected value; the peer, after it moves
//! that index, wakes the word if the sleeper's flag is set. On Mica the
//! implementation is the futex syscalls (`crate::mica::FutexWaker`),
//! keyed by physical address, so it works between address spaces that map
//! the same memory object. Host tests use a mutex and a condition
//! variable, and loom its own.
//!
//! The protocol (see `crate::queue`) needs only this of an
//! implementation: a `wake` made after the word changed either finds the
//! sleeper or the sleeper sees the change before sleeping. A `wait` may
//! return early for any reason; the caller looks again.

/// The deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

/// Waits on and wakes 32-bit words of a region `M`.
pub trait Waker<M: ?Sized> {
    /// Sleeps while the word at `offset` holds `expected`, until a
    /// [`wake`](Waker::wake) of the word or `deadline` (absolute, on the
    /// implementation's clock: `ClockRead` nanoseconds on Mica; `None`:
    /// never). Returns at once if the word differs; may return early.
    ///
    /// # Errors
    /// [`TimedOut`] when the deadline has passed.
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        deadline: Option<u64>,
    ) -> Result<(), TimedOut>;

    /// Wakes whoever sleeps on the word at `offset`.
    fn wake(&self, memory: &M, offset: usize);

    /// Whether [`wait`](Waker::wait) itself wakes the peer and returns
    /// only once the peer has done what it could (an IPC call answered
    /// when the server goes back to sleep: `crate::mica::CallWaker`).
    /// [`Client::submit_and_wait`](crate::Client::submit_and_wait) then
    /// publishes without looking at the peer's flag. `false` by default.
    #[inline]
    fn wait_wakes_peer(&self) -> bool {
        false
    }

    /// Whether the peer may sleep on the ring's words, so that publishing
    /// an index must look at its flag (the store, fence, load of the
    /// protocol). `false` for a server whose client sleeps only in calls
    /// that the server's own wait answers (`crate::doorbell`): publishing
    /// is then one store. `true` by default.
    #[inline]
    fn peer_may_sleep(&self) -> bool {
        true
    }

    /// Whether the peer is blocked until this side's next
    /// [`wait`](Waker::wait), which answers it: a server that has taken
    /// its client's call (`crate::doorbell::DoorbellWaker`). Until then
    /// the peer publishes nothing and looks at no flag, so a consumer that
    /// has taken every entry it saw sleeps without looking again: it
    /// raises its flag once (for what the peer publishes after the
    /// answer) and leaves it up while each wake-up is such a call
    /// (`Consumer::wait`). `false` by default.
    #[inline]
    fn answers_peer(&self) -> bool {
        false
    }
}

/// A waker that never sleeps: `wait` returns at once, so a side that
/// waits polls. For tests and for sides that poll anyway.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spin;

impl<M: ?Sized> Waker<M> for Spin {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        core::hint::spin_loop();
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {}
}

impl<M: ?Sized, W: Waker<M> + ?Sized> Waker<M> for &W {
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        deadline: Option<u64>,
    ) -> Result<(), TimedOut> {
        (**self).wait(memory, offset, expected, deadline)
    }

    fn wake(&self, memory: &M, offset: usize) {
        (**self).wake(memory, offset)
    }

    #[inline]
    fn wait_wakes_peer(&self) -> bool {
        (**self).wait_wakes_peer()
    }

    #[inline]
    fn peer_may_sleep(&self) -> bool {
        (**self).peer_may_sleep()
    }

    #[inline]
    fn answers_peer(&self) -> bool {
        (**self).answers_peer()
    }
}

impl<M: ?Sized, W: Waker<M> + ?Sized> Waker<M> for alloc::sync::Arc<W> {
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        deadline: Option<u64>,
    ) -> Result<(), TimedOut> {
        (**self).wait(memory, offset, expected, deadline)
    }

    fn wake(&self, memory: &M, offset: usize) {
        (**self).wake(memory, offset)
    }

    #[inline]
    fn wait_wakes_peer(&self) -> bool {
        (**self).wait_wakes_peer()
    }

    #[inline]
    fn peer_may_sleep(&self) -> bool {
        (**self).peer_may_sleep()
    }

    #[inline]
    fn answers_peer(&self) -> bool {
        (**self).answers_peer()
    }
}
