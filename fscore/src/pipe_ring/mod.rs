//! The direct pipe ring: the layout of a pipe's bytes in memory that its
//! ends map, the rules every end applies to what it reads there, and the
//! protocol of its lock, its waits and its wake-ups.
//!
//! A pipe in direct mode (`docs/files.md`, "Direct pipes") keeps its bytes
//! in a memory object of [`RING_PAGES`] pages that each end maps: a header
//! page of 32-bit words ([`word`]) and a data area of [`DATA_BYTES`]. Ends
//! move bytes without the pipe server; the server only keeps the counts of
//! ends, sets [`NO_WRITERS`] and [`NO_READERS`] in the flags word, and
//! frees the lock of an end that went while holding it.
//!
//! The indices are free-running `u32` byte counts: `HEAD` counts bytes
//! read, `TAIL` bytes written; the bytes held are `TAIL - HEAD`
//! (wrapping), and byte `i` lives at `i % DATA_BYTES` in the data area.
//! Every end may write any word, so nothing read from the header is
//! trusted: [`held`] refuses a count above the capacity ([`FsError::Io`],
//! the pipe is broken for the end that saw it) and [`spans`] only ever
//! names ranges inside the data area.
//!
//! The lock word ([`word::LOCK`]) is 0 when free, else the holder's id
//! (at most [`ID_MAX`], given by the server when the end attached) with
//! [`CONTENDED`] set once someone waits for it.
//!
//! This module holds the layout and the pure rules (a [`Geometry`]: the
//! real one, [`Geometry::DIRECT`], or a tiny one for models). The
//! protocol is generic over how the ring's memory is reached
//! ([`memory`]: the [`RingWords`] and [`RingMemory`] traits), so that the
//! same code runs on Mica (`files::pipe_ring` implements the traits with
//! its mappings, `AtomicU32` and the futex system calls;
//! `servers/pipe/src/direct.rs` with the server's mapping) and under loom
//! (`fscore/tests/pipe_loom.rs`, every interleaving of a few ends):
//! [`end`] is an end's side ([`RingEnd`]: lock, read, write, waits and
//! wake-ups), [`server`] the server's (flags, freeing a dead end's lock).

use crate::FsError;
use crate::pipe::PIPE_BUF;

pub mod end;
pub mod memory;
pub mod server;

pub use end::{RingEnd, Side};
pub use memory::{CopyFault, RingMemory, RingWords, Wake};

/// Bytes of the header page.
pub const HEADER_BYTES: usize = 4096;
/// Bytes of the data area: a power of two, so that free-running `u32`
/// indices wrap onto it.
pub const DATA_BYTES: u32 = 64 * 1024;
/// Pages of a ring's memory object: the header and the data area.
pub const RING_PAGES: u64 = 1 + DATA_BYTES as u64 / 4096;

/// The header's 32-bit words, by index.
pub mod word {
    /// The lock: 0, or the holder's id, with `CONTENDED` if anyone waits.
    pub const LOCK: usize = 0;
    /// Bytes read so far (wrapping).
    pub const HEAD: usize = 1;
    /// Bytes written so far (wrapping).
    pub const TAIL: usize = 2;
    /// Set by the server only: `NO_WRITERS`, `NO_READERS`.
    pub const FLAGS: usize = 3;
    /// Readers wait on it; a writer bumps it after writing for them.
    pub const DATA_SEQ: usize = 4;
    /// Writers wait on it; a reader bumps it after making room for them.
    pub const SPACE_SEQ: usize = 5;
    /// Readers about to wait (counted under the lock).
    pub const READ_WAITERS: usize = 6;
    /// Writers about to wait (counted under the lock).
    pub const WRITE_WAITERS: usize = 7;
    /// Words the header uses.
    pub const COUNT: usize = 8;
}

/// In `FLAGS`: no write end is open (an empty pipe is at its end).
pub const NO_WRITERS: u32 = 1;
/// In `FLAGS`: no read end is open (a write is `BrokenPipe`).
pub const NO_READERS: u32 = 2;
/// In `FLAGS`, set by an end: the pipe server is gone (an end's call to it
/// failed), so nobody counts ends any more; every end then answers
/// `BadDescriptor`, as the message path does.
pub const SERVER_GONE: u32 = 4;
/// In `LOCK`: someone waits for the lock (its holder wakes them).
pub const CONTENDED: u32 = 1 << 31;
/// The largest lock holder id.
pub const ID_MAX: u32 = CONTENDED - 1;

/// The holder id in a lock word (0: free).
pub const fn holder(lock: u32) -> u32 {
    lock & ID_MAX
}

/// The sizes the rules depend on: [`Geometry::DIRECT`] on Mica; models
/// use a tiny data area so that a few bytes fill it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes of the data area: a power of two (free-running `u32` indices
    /// then wrap onto it), at least `atomic_bytes`.
    pub data_bytes: u32,
    /// Writes of at most this many bytes go in whole or wait (`PIPE_BUF`);
    /// longer ones take what fits.
    pub atomic_bytes: usize,
}

impl Geometry {
    /// Every direct pipe's: [`DATA_BYTES`] of data, atomic writes up to
    /// [`PIPE_BUF`].
    pub const DIRECT: Geometry = Geometry {
        data_bytes: DATA_BYTES,
        atomic_bytes: PIPE_BUF,
    };

    /// The bytes held between `head` and `tail`, or `Io` if the peer made
    /// it more than the ring holds (a hostile or broken end).
    #[inline]
    pub const fn held(self, head: u32, tail: u32) -> Result<u32, FsError> {
        let held = tail.wrapping_sub(head);
        if held > self.data_bytes {
            Err(FsError::Io)
        } else {
            Ok(held)
        }
    }

    /// What a read of at most `max` bytes does now, with `held` bytes in
    /// the ring: `Some(n)` takes `n` bytes (`Some(0)`: the end of the
    /// file, or a read of nothing), `None` waits.
    #[inline]
    pub const fn read_amount(self, max: usize, held: u32, no_writers: bool) -> Option<u32> {
        let max = if max > self.data_bytes as usize {
            self.data_bytes
        } else {
            max as u32
        };
        if held > 0 || max == 0 || no_writers {
            Some(if held < max { held } else { max })
        } else {
            None
        }
    }

    /// What a write of `len` bytes does now, with `free` bytes of room:
    /// `Ok(Some(n))` puts `n` bytes (all of an atomic write, at most
    /// `atomic_bytes`; at least one byte of a longer one), `Ok(None)`
    /// waits, `Err(BrokenPipe)` when no reader is left.
    #[inline]
    pub const fn write_amount(
        self,
        len: usize,
        free: u32,
        no_readers: bool,
    ) -> Result<Option<u32>, FsError> {
        if no_readers {
            return Err(FsError::BrokenPipe);
        }
        if len == 0 {
            return Ok(Some(0));
        }
        if len <= self.atomic_bytes {
            // Atomic: all or wait (atomic_bytes <= data_bytes, so it
            // fits an empty ring).
            return Ok(if len as u64 <= free as u64 {
                Some(len as u32)
            } else {
                None
            });
        }
        if free == 0 {
            return Ok(None);
        }
        Ok(Some(if (len as u64) < free as u64 {
            len as u32
        } else {
            free
        }))
    }

    /// The data area ranges, as `(offset, len)`, that `count` bytes from
    /// index `at` occupy: the second is empty unless they wrap. `count` is
    /// clamped to the capacity, so both lie inside the data area whatever
    /// the indices were.
    #[inline]
    pub const fn spans(self, at: u32, count: u32) -> [(usize, usize); 2] {
        let count = if count > self.data_bytes {
            self.data_bytes
        } else {
            count
        };
        let start = at % self.data_bytes;
        let first = if count < self.data_bytes - start {
            count
        } else {
            self.data_bytes - start
        };
        [
            (start as usize, first as usize),
            (0, (count - first) as usize),
        ]
    }
}

/// [`Geometry::held`] of [`Geometry::DIRECT`].
#[inline]
pub const fn held(head: u32, tail: u32) -> Result<u32, FsError> {
    Geometry::DIRECT.held(head, tail)
}

/// [`Geometry::read_amount`] of [`Geometry::DIRECT`].
#[inline]
pub const fn read_amount(max: usize, held: u32, no_writers: bool) -> Option<u32> {
    Geometry::DIRECT.read_amount(max, held, no_writers)
}

/// [`Geometry::write_amount`] of [`Geometry::DIRECT`].
#[inline]
pub const fn write_amount(len: usize, free: u32, no_readers: bool) -> Result<Option<u32>, FsError> {
    Geometry::DIRECT.write_amount(len, free, no_readers)
}

/// [`Geometry::spans`] of [`Geometry::DIRECT`].
#[inline]
pub const fn spans(at: u32, count: u32) -> [(usize, usize); 2] {
    Geometry::DIRECT.spans(at, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn held_refuses_more_than_the_ring() {
        assert_eq!(held(0, 0), Ok(0));
        assert_eq!(held(5, 9), Ok(4));
        assert_eq!(held(u32::MAX - 1, 3), Ok(5));
        assert_eq!(held(0, DATA_BYTES), Ok(DATA_BYTES));
        assert_eq!(held(0, DATA_BYTES + 1), Err(FsError::Io));
        // A head ahead of the tail is a huge count: refused.
        assert_eq!(held(10, 9), Err(FsError::Io));
    }

    #[test]
    fn reads_wait_take_or_end() {
        assert_eq!(read_amount(10, 0, false), None);
        assert_eq!(read_amount(10, 0, true), Some(0));
        assert_eq!(read_amount(10, 3, false), Some(3));
        assert_eq!(read_amount(10, 30, true), Some(10));
        assert_eq!(read_amount(0, 0, false), Some(0));
        assert_eq!(read_amount(usize::MAX, DATA_BYTES, false), Some(DATA_BYTES));
    }

    #[test]
    fn writes_are_atomic_up_to_pipe_buf() {
        assert_eq!(write_amount(1, 0, true), Err(FsError::BrokenPipe));
        assert_eq!(write_amount(0, 0, true), Err(FsError::BrokenPipe));
        assert_eq!(write_amount(0, 0, false), Ok(Some(0)));
        assert_eq!(write_amount(PIPE_BUF, PIPE_BUF as u32 - 1, false), Ok(None));
        assert_eq!(
            write_amount(PIPE_BUF, PIPE_BUF as u32, false),
            Ok(Some(4096))
        );
        assert_eq!(write_amount(PIPE_BUF + 1, 1, false), Ok(Some(1)));
        assert_eq!(write_amount(PIPE_BUF + 1, 0, false), Ok(None));
        assert_eq!(
            write_amount(usize::MAX, DATA_BYTES, false),
            Ok(Some(DATA_BYTES))
        );
    }

    #[test]
    fn lock_words() {
        assert_eq!(holder(0), 0);
        assert_eq!(holder(7 | CONTENDED), 7);
        assert_eq!(holder(ID_MAX), ID_MAX);
    }

    const _: () = assert!(word::COUNT * 4 <= HEADER_BYTES);
    const _: () = assert!(DATA_BYTES.is_power_of_two());
    const _: () = assert!(PIPE_BUF as u32 <= DATA_BYTES);
    const _: () = assert!(RING_PAGES == 17);

    #[test]
    fn a_tiny_geometry_keeps_the_rules() {
        let tiny = Geometry {
            data_bytes: 4,
            atomic_bytes: 2,
        };
        assert_eq!(tiny.held(0, 5), Err(FsError::Io));
        assert_eq!(tiny.read_amount(10, 3, false), Some(3));
        assert_eq!(tiny.write_amount(2, 1, false), Ok(None));
        assert_eq!(tiny.write_amount(3, 1, false), Ok(Some(1)));
        assert_eq!(tiny.spans(7, 3), [(3, 1), (0, 2)]);
    }

    proptest! {
        /// Whatever the indices, the spans lie inside the data area, do
        /// not overlap, and cover the clamped count.
        #[test]
        fn spans_stay_inside(at in any::<u32>(), count in any::<u32>()) {
            let [(a, alen), (b, blen)] = spans(at, count);
            let cap = DATA_BYTES as usize;
            prop_assert!(a + alen <= cap);
            prop_assert_eq!(b, 0);
            prop_assert!(blen <= a);
            prop_assert_eq!(alen + blen, count.min(DATA_BYTES) as usize);
            prop_assert_eq!(a, (at % DATA_BYTES) as usize);
        }

        /// `held` accepts exactly the counts a ring can hold, and the
        /// amounts never pass what the ring holds or has room for.
        #[test]
        fn amounts_are_bounded(head in any::<u32>(), tail in any::<u32>(),
                               max in any::<usize>(), flag in any::<bool>()) {
            match held(head, tail) {
                Ok(n) => {
                    prop_assert!(n <= DATA_BYTES);
                    if let Some(take) = read_amount(max, n, flag) {
                        prop_assert!(take <= n && take as usize <= max);
                    }
                    let free = DATA_BYTES - n;
                    if let Ok(Some(put)) = write_amount(max, free, flag) {
                        prop_assert!(put <= free && put as usize <= max);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e, FsError::Io);
                    prop_assert!(tail.wrapping_sub(head) > DATA_BYTES);
                }
            }
        }
    }
}
