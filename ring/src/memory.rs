//! How a ring touches its shared region: the [`Memory`] trait, its
//! implementation over a slice of [`AtomicU32`], and [`AtomicMemory`], a
//! region of [`AtomicU64`] words in ordinary memory (host tests); on Mica,
//! `rt::shared::SharedRegion` (`crate::mica`).
//!
//! Every access is an atomic on an aligned word, so a peer writing at the
//! same moment makes a value change, never undefined behaviour. Indices,
//! flags and entries are 4-byte words; the data area's bytes are copied
//! 8 bytes a word where the region can be seen as [`AtomicU64`]
//! (`rt::atomic_bytes`: a partial first and last word, whole words
//! between), and 4 bytes a word over a plain `[AtomicU32]`. The layout
//! keeps the two on different bytes (the data area starts on a line of
//! its own), so accesses of two sizes never race on one byte.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// A shared region as the ring sees it. Offsets are in bytes from the
/// region's start.
///
/// The ring only passes offsets inside the layout it checked against
/// [`len_bytes`](Memory::len_bytes), so an implementation may panic on an
/// offset out of range or a word offset that is not a multiple of 4: that
/// is a bug in the caller, never the peer's doing.
pub trait Memory {
    /// The region's size in bytes.
    fn len_bytes(&self) -> usize;
    /// Loads the word at `offset` with `Acquire` ordering.
    fn load_u32(&self, offset: usize) -> u32;
    /// Stores `value` at `offset` with `Release` ordering.
    fn store_u32(&self, offset: usize, value: u32);
    /// A sequentially consistent fence: between a side's store of its
    /// index or flag and its load of the peer's (the wake-up protocol).
    fn fence(&self);
    /// Copies `out.len()` words from `offset`, a multiple of 4 (relaxed
    /// loads; the index loaded before with `Acquire` orders them). How
    /// entries are read.
    fn read_words(&self, offset: usize, out: &mut [u32]);
    /// Copies `words` to `offset`, a multiple of 4 (relaxed stores; the
    /// index stored after with `Release` publishes them). How entries are
    /// written.
    fn write_words(&self, offset: usize, words: &[u32]);
    /// Copies `out.len()` bytes from `offset` (relaxed loads; the index
    /// loaded before with `Acquire` orders them).
    fn read_bytes(&self, offset: usize, out: &mut [u8]);
    /// Copies `bytes` to `offset` (relaxed stores; the index stored after
    /// with `Release` publishes them).
    fn write_bytes(&self, offset: usize, bytes: &[u8]);
}

/// The word holding byte `offset`, and the byte's place in it.
#[inline]
fn word_of(offset: usize) -> (usize, usize) {
    (offset / 4, offset % 4)
}

/// The index of the word at `offset`, which must be aligned. Every such
/// offset comes from the layout and the sides' private indices, never
/// from the region, so a misaligned one is a bug of this crate: checked
/// in debug builds (the host tests), and in release builds costing two
/// instructions less on each of the few dozen accesses of a round trip
/// (it could only name the word that holds the byte, still bounds-checked).
#[inline]
fn aligned_word(offset: usize) -> usize {
    debug_assert!(
        offset.is_multiple_of(4),
        "ring: unaligned word offset {offset}"
    );
    offset / 4
}

/// The end of `[offset, offset + len)`, checked against `len_bytes`.
#[inline]
fn checked_end(offset: usize, len: usize, len_bytes: usize) -> usize {
    match offset.checked_add(len) {
        Some(end) if end <= len_bytes => end,
        _ => outside(offset, len, len_bytes),
    }
}

/// Byte access within one word of a region of words.
trait Partial {
    /// Copies `out.len()` (< 4, within one word) bytes at `offset`.
    fn read_partial(&self, offset: usize, out: &mut [u8]);
    /// Stores `bytes` (< 4, within one word) at `offset`, keeping the
    /// word's other bytes.
    fn write_partial(&self, offset: usize, bytes: &[u8]);
}

impl Partial for [AtomicU32] {
    #[inline]
    fn read_partial(&self, offset: usize, out: &mut [u8]) {
        if out.is_empty() {
            return;
        }
        let (word, within) = word_of(offset);
        let bytes = self[word].load(Ordering::Relaxed).to_le_bytes();
        out.copy_from_slice(&bytes[within..within + out.len()]);
    }

    #[inline]
    fn write_partial(&self, offset: usize, bytes: &[u8]) {
        let n = bytes.len();
        if n == 0 {
            return;
        }
        let (word, within) = word_of(offset);
        let mut value = [0u8; 4];
        value[within..within + n].copy_from_slice(bytes);
        let value = u32::from_le_bytes(value);
        let mask = (u32::MAX >> (32 - 8 * n as u32)) << (8 * within as u32);
        self[word].fetch_and(!mask, Ordering::Relaxed);
        self[word].fetch_or(value, Ordering::Relaxed);
    }
}

impl Memory for [AtomicU32] {
    #[inline]
    fn len_bytes(&self) -> usize {
        self.len() * 4
    }

    #[inline]
    fn load_u32(&self, offset: usize) -> u32 {
        self[aligned_word(offset)].load(Ordering::Acquire)
    }

    #[inline]
    fn store_u32(&self, offset: usize, value: u32) {
        self[aligned_word(offset)].store(value, Ordering::Release);
    }

    #[inline]
    fn fence(&self) {
        core::sync::atomic::fence(Ordering::SeqCst);
    }

    #[inline]
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        let start = aligned_word(offset);
        let len = out.len();
        for (value, word) in out.iter_mut().zip(&self[start..start + len]) {
            *value = word.load(Ordering::Relaxed);
        }
    }

    #[inline]
    fn write_words(&self, offset: usize, words: &[u32]) {
        let start = aligned_word(offset);
        for (value, word) in words.iter().zip(&self[start..start + words.len()]) {
            word.store(*value, Ordering::Relaxed);
        }
    }

    #[inline]
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        let end = checked_end(offset, out.len(), self.len_bytes());
        // A partial first word, whole words, a partial last word: the
        // whole words are a loop without bounds checks.
        let head = ((4 - offset % 4) % 4).min(out.len());
        let (first, rest) = out.split_at_mut(head);
        self.read_partial(offset, first);
        let middle = offset + head;
        let whole = (end - middle) / 4;
        let (words_out, last) = rest.split_at_mut(whole * 4);
        let words = &self[middle / 4..middle / 4 + whole];
        for (word, out) in words.iter().zip(words_out.chunks_exact_mut(4)) {
            out.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        self.read_partial(middle + whole * 4, last);
    }

    #[inline]
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        let end = checked_end(offset, bytes.len(), self.len_bytes());
        let head = ((4 - offset % 4) % 4).min(bytes.len());
        let (first, rest) = bytes.split_at(head);
        self.write_partial(offset, first);
        let middle = offset + head;
        let whole = (end - middle) / 4;
        let (words_in, last) = rest.split_at(whole * 4);
        let words = &self[middle / 4..middle / 4 + whole];
        for (word, value) in words.iter().zip(words_in.chunks_exact(4)) {
            let mut le = [0u8; 4];
            le.copy_from_slice(value);
            word.store(u32::from_le_bytes(le), Ordering::Relaxed);
        }
        self.write_partial(middle + whole * 4, last);
    }
}

macro_rules! forward {
    () => {
        #[inline]
        fn len_bytes(&self) -> usize {
            (**self).len_bytes()
        }
        #[inline]
        fn load_u32(&self, offset: usize) -> u32 {
            (**self).load_u32(offset)
        }
        #[inline]
        fn store_u32(&self, offset: usize, value: u32) {
            (**self).store_u32(offset, value)
        }
        #[inline]
        fn fence(&self) {
            (**self).fence()
        }
        #[inline]
        fn read_words(&self, offset: usize, out: &mut [u32]) {
            (**self).read_words(offset, out)
        }
        #[inline]
        fn write_words(&self, offset: usize, words: &[u32]) {
            (**self).write_words(offset, words)
        }
        #[inline]
        fn read_bytes(&self, offset: usize, out: &mut [u8]) {
            (**self).read_bytes(offset, out)
        }
        #[inline]
        fn write_bytes(&self, offset: usize, bytes: &[u8]) {
            (**self).write_bytes(offset, bytes)
        }
    };
}

impl<T: Memory + ?Sized> Memory for &T {
    forward!();
}

impl<T: Memory + ?Sized> Memory for Box<T> {
    forward!();
}

impl<T: Memory + ?Sized> Memory for Arc<T> {
    forward!();
}

/// A region in ordinary memory, for host tests and for two threads of one
/// program: zeroed 8-byte words, shared by reference or `Arc`. Bytes are
/// copied as on Mica, 8 at a time (`rt::atomic_bytes`); a 4-byte word is
/// half of an 8-byte one, loaded whole and stored with a
/// compare-and-swap that keeps the other half.
#[derive(Debug)]
pub struct AtomicMemory {
    words: Box<[AtomicU64]>,
}

impl AtomicMemory {
    /// `len_bytes` zero bytes, rounded up to a whole 8-byte word.
    pub fn new(len_bytes: usize) -> AtomicMemory {
        let words: Vec<AtomicU64> = (0..len_bytes.div_ceil(8))
            .map(|_| AtomicU64::new(0))
            .collect();
        AtomicMemory {
            words: words.into_boxed_slice(),
        }
    }

    /// The words, to scribble over.
    pub fn words(&self) -> &[AtomicU64] {
        &self.words
    }

    /// The 8-byte word holding the 4-byte word at `offset` (aligned), and
    /// the shift of that half in it.
    #[inline]
    fn half(&self, offset: usize) -> (&AtomicU64, u32) {
        let index = aligned_word(offset);
        (&self.words[index / 2], 32 * (index % 2) as u32)
    }
}

impl Memory for AtomicMemory {
    #[inline]
    fn len_bytes(&self) -> usize {
        self.words.len() * 8
    }
    #[inline]
    fn load_u32(&self, offset: usize) -> u32 {
        let (word, shift) = self.half(offset);
        (word.load(Ordering::Acquire) >> shift) as u32
    }
    #[inline]
    fn store_u32(&self, offset: usize, value: u32) {
        let (word, shift) = self.half(offset);
        let mask = u64::from(u32::MAX) << shift;
        let value = u64::from(value) << shift;
        // Only this program touches host memory, and each half has one
        // writer: the loop ends.
        let _ = word.fetch_update(Ordering::Release, Ordering::Relaxed, |old| {
            Some((old & !mask) | value)
        });
    }
    #[inline]
    fn fence(&self) {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        for (i, value) in out.iter_mut().enumerate() {
            let (word, shift) = self.half(offset + 4 * i);
            *value = (word.load(Ordering::Relaxed) >> shift) as u32;
        }
    }
    fn write_words(&self, offset: usize, words: &[u32]) {
        // Relaxed stores in the trait; the compare-and-swap's `Release`
        // is only stronger.
        for (i, value) in words.iter().enumerate() {
            self.store_u32(offset + 4 * i, *value);
        }
    }
    #[inline]
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        if rt::atomic_bytes::read(&self.words, offset, out).is_err() {
            outside(offset, out.len(), self.len_bytes());
        }
    }
    #[inline]
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        if rt::atomic_bytes::write(&self.words, offset, bytes).is_err() {
            outside(offset, bytes.len(), self.len_bytes());
        }
    }
}

/// A byte range outside the region: a bug of the caller (the ring passes
/// only ranges it checked against the layout).
#[cold]
#[track_caller]
pub(crate) fn outside(offset: usize, len: usize, len_bytes: usize) -> ! {
    panic!("ring: bytes {offset}+{len} outside a region of {len_bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes and reads back every range of up to 40 bytes at offsets 0
    /// to 15 (every alignment within 4-byte and 8-byte words, ranges
    /// inside one word and across several).
    fn round_trips<M: Memory + ?Sized>(memory: &M) {
        let data: Vec<u8> = (1..=48).collect();
        for offset in 0..16 {
            for len in 0..=40 {
                memory.write_bytes(0, &[0xee; 64]);
                memory.write_bytes(offset, &data[..len]);
                let mut all = [0u8; 64];
                memory.read_bytes(0, &mut all);
                for (i, byte) in all.iter().enumerate() {
                    let expected = if (offset..offset + len).contains(&i) {
                        data[i - offset]
                    } else {
                        0xee
                    };
                    assert_eq!(*byte, expected, "offset {offset} len {len} byte {i}");
                }
                let mut back = vec![0u8; len];
                memory.read_bytes(offset, &mut back);
                assert_eq!(back, &data[..len]);
            }
        }
    }

    #[test]
    fn bytes_round_trip_at_every_alignment() {
        // 8 bytes a word (as on Mica), then 4.
        round_trips(&AtomicMemory::new(64));
        let words: Vec<AtomicU32> = (0..16).map(|_| AtomicU32::new(0)).collect();
        round_trips(&words[..]);
    }

    #[test]
    fn bytes_and_words_agree() {
        let memory = AtomicMemory::new(24);
        let bytes: Vec<u8> = (1..=24).collect();
        memory.write_bytes(0, &bytes);
        let mut words = [0u32; 6];
        memory.read_words(0, &mut words);
        for (i, word) in words.iter().enumerate() {
            assert_eq!(*word, memory.load_u32(4 * i));
            assert_eq!(word.to_le_bytes(), bytes[4 * i..4 * i + 4]);
        }
        memory.store_u32(12, 0xa1a2_a3a4);
        memory.write_words(16, &[0xb1b2_b3b4]);
        let mut back = [0u8; 24];
        memory.read_bytes(0, &mut back);
        assert_eq!(back[..12], bytes[..12]);
        assert_eq!(
            back[12..20],
            [0xa4, 0xa3, 0xa2, 0xa1, 0xb4, 0xb3, 0xb2, 0xb1]
        );
        assert_eq!(back[20..], bytes[20..]);
    }

    #[test]
    fn words_in_and_out() {
        let memory = AtomicMemory::new(16);
        memory.write_words(4, &[0x0403_0201, 0x0807_0605]);
        let mut bytes = [0u8; 16];
        memory.read_bytes(0, &mut bytes);
        assert_eq!(bytes, [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
        let mut words = [0u32; 3];
        memory.read_words(0, &mut words);
        assert_eq!(words, [0, 0x0403_0201, 0x0807_0605]);
    }

    #[test]
    fn words_are_little_endian() {
        let memory = AtomicMemory::new(8);
        memory.store_u32(4, 0x0403_0201);
        let mut bytes = [0u8; 8];
        memory.read_bytes(0, &mut bytes);
        assert_eq!(bytes, [0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(memory.len_bytes(), 8);
        assert_eq!(AtomicMemory::new(5).len_bytes(), 8);
    }

    #[test]
    #[should_panic(expected = "outside a region")]
    fn reading_past_the_end_panics() {
        let memory = AtomicMemory::new(8);
        memory.read_bytes(6, &mut [0; 4]);
    }

    #[test]
    #[should_panic(expected = "outside a region")]
    fn an_overflowing_range_panics() {
        let memory = AtomicMemory::new(8);
        memory.write_bytes(usize::MAX, &[0; 2]);
    }

    #[test]
    #[should_panic(expected = "unaligned")]
    fn unaligned_words_panic() {
        AtomicMemory::new(8).load_u32(2);
    }
}
