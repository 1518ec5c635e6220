//! The kernel log's ring: the newest `N` bytes of everything logged, read
//! by position in the log's whole history (`DebugLogRead`, `dmesg`).
//!
//! A reader keeps its own cursor (the position of the next byte it wants);
//! bytes overwritten before it read them are skipped, and the read says
//! where it really started, so the reader knows how much it lost.

/// The newest `N` bytes of a log: byte `n` of the history is at
/// `bytes[n % N]` while `n >= end - N`.
pub struct LogRing<const N: usize> {
    bytes: [u8; N],
    /// Bytes logged since the ring was made.
    end: u64,
}

/// What [`LogRing::read`] copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    /// Position of the first byte copied.
    pub start: u64,
    /// Bytes copied.
    pub copied: usize,
    /// Position just past the newest byte: the log's length.
    pub end: u64,
}

impl<const N: usize> LogRing<N> {
    /// An empty log.
    pub const fn new() -> Self {
        LogRing {
            bytes: [0; N],
            end: 0,
        }
    }

    /// Appends `data`, overwriting the oldest bytes when full.
    pub fn push(&mut self, data: &[u8]) {
        // Only the last N bytes of a long write survive it.
        let skip = data.len().saturating_sub(N);
        self.end += skip as u64;
        for &byte in &data[skip..] {
            self.bytes[Self::index(self.end)] = byte;
            self.end += 1;
        }
    }

    /// Copies the kept bytes from position `cursor` on into `out`. A
    /// cursor older than the oldest kept byte starts there; one at or past
    /// the end copies nothing.
    pub fn read(&self, cursor: u64, out: &mut [u8]) -> Read {
        let oldest = self.end.saturating_sub(N as u64);
        let start = cursor.clamp(oldest, self.end);
        // At most N, so it fits a usize.
        let kept = (self.end - start) as usize;
        let copied = out.len().min(kept);
        for (i, byte) in out[..copied].iter_mut().enumerate() {
            *byte = self.bytes[Self::index(start + i as u64)];
        }
        Read {
            start,
            copied,
            end: self.end,
        }
    }

    fn index(position: u64) -> usize {
        // The remainder is below N.
        (position % N as u64) as usize
    }
}

impl<const N: usize> Default for LogRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_was_pushed() {
        let mut ring = LogRing::<8>::new();
        ring.push(b"abc");
        let mut out = [0u8; 8];
        let read = ring.read(0, &mut out);
        assert_eq!(
            read,
            Read {
                start: 0,
                copied: 3,
                end: 3
            }
        );
        assert_eq!(&out[..3], b"abc");
        assert_eq!(ring.read(3, &mut out).copied, 0);
        assert_eq!(
            ring.read(99, &mut out),
            Read {
                start: 3,
                copied: 0,
                end: 3
            }
        );
    }

    #[test]
    fn overwritten_bytes_are_skipped() {
        let mut ring = LogRing::<4>::new();
        ring.push(b"abcdef");
        let mut out = [0u8; 4];
        let read = ring.read(0, &mut out);
        assert_eq!(
            read,
            Read {
                start: 2,
                copied: 4,
                end: 6
            }
        );
        assert_eq!(&out, b"cdef");
        let mut two = [0u8; 2];
        assert_eq!(
            ring.read(3, &mut two),
            Read {
                start: 3,
                copied: 2,
                end: 6
            }
        );
        assert_eq!(&two, b"de");
    }

    proptest! {
        /// Against a model that keeps everything: a read gives exactly the
        /// model's bytes from the clamped cursor.
        #[test]
        fn matches_a_model(
            pushes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
            cursor in 0u64..400,
            len in 0usize..40,
        ) {
            let mut ring = LogRing::<16>::new();
            let mut model = Vec::new();
            for push in &pushes {
                ring.push(push);
                model.extend_from_slice(push);
            }
            let mut out = vec![0u8; len];
            let read = ring.read(cursor, &mut out);
            let end = model.len() as u64;
            let oldest = end.saturating_sub(16);
            prop_assert_eq!(read.end, end);
            prop_assert_eq!(read.start, cursor.clamp(oldest, end));
            let want = &model[read.start as usize..][..read.copied];
            prop_assert_eq!(&out[..read.copied], want);
            prop_assert_eq!(read.copied, len.min((end - read.start) as usize));
        }
    }
}
