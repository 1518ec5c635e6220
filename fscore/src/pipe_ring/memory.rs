//! How the pipe ring's protocol reaches the ring: [`RingWords`] (the
//! header's words and futex waits and wakes on them) and [`RingMemory`]
//! (those, plus the data area and its [`Geometry`]).
//!
//! On Mica, `files::pipe_ring` implements both with its two mappings of
//! the ring, `AtomicU32` and `rt::sys::futex_wait` / `futex_wake`, and
//! `servers/pipe/src/direct.rs` implements [`RingWords`] with the
//! server's mapping. `fscore/tests/pipe_loom.rs` implements both with
//! loom's atomics, loom cells for the data area, and a mutex and a
//! condition variable per word for the futex.
//!
//! What the protocol ([`super::end`], [`super::server`]) needs of an
//! implementation:
//! 1. Every word operation is one atomic, sequentially consistent
//!    operation on that word (`SeqCst` on Mica), visible to every end.
//! 2. [`RingWords::futex_wait`] returns at once if the word does not hold
//!    `expected`, compared atomically with respect to
//!    [`RingWords::futex_wake`] (as the kernel's futex does): a wake made
//!    after the word changed either finds the sleeper or the sleeper sees
//!    the change. It may return early for any reason; callers look again.
//! 3. The copies touch only `offset .. offset + len` of the data area, of
//!    [`RingMemory::GEOMETRY`]'s `data_bytes` (the protocol only asks for
//!    ranges inside it).
//!
//! Word indices are those of [`super::word`]; an implementation may
//! panic on an index past [`super::word::COUNT`] (the protocol never
//! passes one).

use super::Geometry;

/// How many sleepers a [`RingWords::futex_wake`] wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// One (the lock's holder hands it to one waiter).
    One,
    /// Every sleeper on the word (`abi::syscall::FUTEX_ALL` on Mica).
    All,
}

/// A copy between the data area and a buffer failed (on Mica: the
/// mapping refused the range); the protocol answers `FsError::Io`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyFault;

/// The ring header's 32-bit words, each reached atomically, and futex
/// waits and wakes on them. See the module's documentation for what an
/// implementation must do.
pub trait RingWords {
    /// Loads word `word`.
    fn load(&self, word: usize) -> u32;
    /// Stores `value` in word `word`.
    fn store(&self, word: usize, value: u32);
    /// Stores `value` in word `word` and returns what it held.
    fn swap(&self, word: usize, value: u32) -> u32;
    /// Stores `new` in word `word` if it holds `current`: `Ok` with the
    /// old value if it did, else `Err` with what it holds.
    fn compare_exchange(&self, word: usize, current: u32, new: u32) -> Result<u32, u32>;
    /// Adds `value` to word `word` (wrapping) and returns what it held.
    fn fetch_add(&self, word: usize, value: u32) -> u32;
    /// Subtracts `value` from word `word` (wrapping) and returns what it
    /// held.
    fn fetch_sub(&self, word: usize, value: u32) -> u32;
    /// Sets the bits of `value` in word `word` and returns what it held.
    fn fetch_or(&self, word: usize, value: u32) -> u32;
    /// Sleeps while word `word` holds `expected`, until a
    /// [`futex_wake`](RingWords::futex_wake) of it; returns at once if it
    /// does not, and may return early.
    fn futex_wait(&self, word: usize, expected: u32);
    /// Wakes one or all of the sleepers on word `word`.
    fn futex_wake(&self, word: usize, wake: Wake);
}

/// The ring as an end sees it: the header's words and the data area.
pub trait RingMemory: RingWords {
    /// The data area's size and the atomic write size:
    /// [`Geometry::DIRECT`] unless a model shrinks it.
    const GEOMETRY: Geometry = Geometry::DIRECT;

    /// Copies `src` into the data area at `offset`.
    ///
    /// # Errors
    /// [`CopyFault`] if the range cannot be written.
    fn copy_in(&self, offset: usize, src: &[u8]) -> Result<(), CopyFault>;

    /// Copies the data area's bytes at `offset` into `dst`.
    ///
    /// # Errors
    /// [`CopyFault`] if the range cannot be read.
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Result<(), CopyFault>;
}
