//! Physical frame allocator: one bit per 4 KiB frame, over storage the
//! caller provides.
//!
//! The kernel sizes the storage with [`FrameBitmap::words_needed`] (it carves
//! the words out of the first usable RAM range), builds the bitmap with every
//! frame used, then marks the memory map's usable ranges free with
//! [`FrameBitmap::add_free_range`] and takes its own image, the boot modules
//! and the bitmap storage back out with [`FrameBitmap::reserve_range`]. After
//! boot only [`FrameBitmap::alloc`] and [`FrameBitmap::free`] are used.
//!
//! # Encoding
//!
//! Bit `i % 64` of word `i / 64` describes frame `i`: **set means free**,
//! clear means used (allocated, reserved, or never RAM). Setting "free" rather
//! than "used" lets [`FrameBitmap::alloc`] find a free frame with one
//! `trailing_zeros` on the first non-zero word.
//!
//! # Lazy initialisation
//!
//! [`FrameBitmap::new`] writes nothing: the words from `written` on have not
//! been written yet, hold whatever the storage held, stand for used frames
//! and are never read. A range or a free that reaches such a word clears
//! the words up to it first; a run of whole words that a free range covers
//! is written once, with all ones. So adding the memory map's usable ranges
//! in ascending order stores each word once (one `rep stosq` iteration a
//! word for the long runs) instead of clearing the bitmap and then
//! visiting every word again: for 16 GiB (64 Ki words) that was about half
//! a million instructions.
//!
//! # Invariants
//!
//! - `words.len() == words_needed(frames)`: storage beyond that is not kept.
//! - `written <= words.len()`; only `words[..written]` is ever read.
//! - Bits for frame numbers at or above `frames` (the tail of the last word)
//!   are always clear in written words, so a word scan can never hand out a
//!   frame outside the bitmap.
//! - `free_count` equals the number of set bits in `words[..written]`, at all
//!   times.
//! - `hint < written` whenever `written > 0` (it is 0 otherwise).
//!
//! The allocator cannot tell an allocated frame from a reserved one (both are
//! clear bits): freeing a reserved frame makes it allocatable. Callers free
//! only frames they got from [`FrameBitmap::alloc`].

use core::fmt;
use core::ops::Range;

/// Size of one physical frame, in bytes.
pub const FRAME_BYTES: u64 = 4096;

/// Bits per storage word, as a `u64` for frame arithmetic.
const BITS_PER_WORD: u64 = u64::BITS as u64;

/// A physical frame number (physical address / 4096).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameNumber(pub u64);

impl FrameNumber {
    /// The physical address of the frame's first byte.
    ///
    /// Frame numbers at or above `2^52` have no 64-bit address (x86_64
    /// physical addresses have at most 52 bits, so no frame from the memory
    /// map is that large); for them the multiplication wraps. Use
    /// [`FrameNumber::checked_addr`] for a number that did not come from the
    /// allocator.
    pub const fn addr(self) -> u64 {
        self.0.wrapping_mul(FRAME_BYTES)
    }

    /// The physical address of the frame's first byte, or `None` if it does
    /// not fit in 64 bits.
    pub const fn checked_addr(self) -> Option<u64> {
        self.0.checked_mul(FRAME_BYTES)
    }

    /// The frame that contains physical address `addr`.
    pub const fn containing(addr: u64) -> Self {
        Self(addr / FRAME_BYTES)
    }
}

/// Why a [`FrameBitmap`] operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The frame number is at or beyond the end of the bitmap.
    OutOfRange,
    /// The frame is already free: a double free.
    NotAllocated,
    /// The storage has fewer words than [`FrameBitmap::words_needed`] asks for.
    StorageTooSmall,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfRange => "frame number beyond the frame bitmap",
            Self::NotAllocated => "frame is already free",
            Self::StorageTooSmall => "frame bitmap storage too small",
        })
    }
}

/// A bitmap of free physical frames `0..frames`, over borrowed storage.
///
/// See the module documentation for the encoding and invariants.
pub struct FrameBitmap<'a> {
    /// One bit per frame, set = free; exactly `words_needed(frames)` words,
    /// of which only `..written` are meaningful.
    words: &'a mut [u64],
    /// Number of frames covered: frame numbers `0..frames`.
    frames: u64,
    /// Number of set bits in `words[..written]`.
    free_count: u64,
    /// Word index where the next [`FrameBitmap::alloc`] starts its scan
    /// (next fit): the word of the most recent allocation.
    hint: usize,
    /// Words `written..` have not been written since [`FrameBitmap::new`]:
    /// they hold whatever the storage held and stand for used frames.
    written: usize,
}

/// A piece of a range of frames, as the storage words it covers.
enum Piece {
    /// Part of one word: its index and the bits of the range in it.
    Partial(usize, u64),
    /// Whole words, all of whose frames are in the range.
    Whole(Range<usize>),
}

/// The pieces of the frames `[frame, end)`, in order: each partial word
/// alone, each run of whole words as one piece.
struct Pieces {
    frame: u64,
    end: u64,
}

impl Iterator for Pieces {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.frame >= self.end {
            return None;
        }
        let low_bit = self.frame % BITS_PER_WORD;
        // `base <= frame < end`, so neither subtraction can underflow and
        // `base + width <= end` cannot overflow.
        let base = self.frame - low_bit;
        let index = word_index(self.frame);
        if low_bit == 0 && self.end - base >= BITS_PER_WORD {
            let words = (self.end - base) / BITS_PER_WORD;
            self.frame = base + words * BITS_PER_WORD;
            // Lossless like `word_index`: the words end below `frames`.
            return Some(Piece::Whole(index..index + words as usize));
        }
        let high_bit = (self.end - base).min(BITS_PER_WORD);
        self.frame = base + high_bit;
        Some(Piece::Partial(index, bit_range_mask(low_bit, high_bit)))
    }
}

impl<'a> FrameBitmap<'a> {
    /// Words of storage needed to cover `frames` frames.
    ///
    /// Saturates at `usize::MAX` on targets where the count does not fit in a
    /// `usize` (no such storage can exist, so [`FrameBitmap::new`] then fails).
    pub const fn words_needed(frames: u64) -> usize {
        let words = frames.div_ceil(BITS_PER_WORD);
        if words > usize::MAX as u64 {
            usize::MAX
        } else {
            words as usize
        }
    }

    /// Covers frames `0..frames`; every frame starts out used (not
    /// allocatable).
    ///
    /// Only the first [`FrameBitmap::words_needed`]`(frames)` words of
    /// `storage` are used; the rest stay untouched. Nothing is written
    /// here: each word is written when a range first reaches it (module
    /// documentation, "Lazy initialisation").
    ///
    /// # Errors
    ///
    /// [`FrameError::StorageTooSmall`] if `storage` is shorter than
    /// [`FrameBitmap::words_needed`]`(frames)`.
    pub fn new(storage: &'a mut [u64], frames: u64) -> Result<Self, FrameError> {
        let needed = Self::words_needed(frames);
        let words = storage
            .get_mut(..needed)
            .ok_or(FrameError::StorageTooSmall)?;
        Ok(Self {
            words,
            frames,
            free_count: 0,
            hint: 0,
            written: 0,
        })
    }

    /// Marks `[start, start + count)` free (boot time: ranges from the memory
    /// map).
    ///
    /// Frames at or beyond [`FrameBitmap::frames`] are ignored (the range is
    /// clipped, and `start + count` saturates); frames that are already free
    /// are not counted twice.
    pub fn add_free_range(&mut self, start: FrameNumber, count: u64) {
        let mut newly_free = 0;
        for piece in self.pieces(start, count) {
            match piece {
                Piece::Partial(index, mask) => {
                    self.write_through(index);
                    if let Some(word) = self.words.get_mut(index) {
                        newly_free += u64::from((mask & !*word).count_ones());
                        *word |= mask;
                    }
                }
                Piece::Whole(run) => {
                    // Written words: 64 frames each, less those already
                    // free (rarely any, so the count is skipped for zero).
                    let split = self.written.clamp(run.start, run.end);
                    let mut already_free = 0;
                    for word in self.words.get_mut(run.start..split).unwrap_or_default() {
                        if *word != 0 {
                            already_free += u64::from(word.count_ones());
                        }
                        *word = u64::MAX;
                    }
                    // Words never written: every frame is new (one store
                    // a word, after clearing any gap before them).
                    if split < run.end {
                        // `written <= split` here: clear the gap up to the run.
                        if let Some(gap) = self.words.get_mut(self.written..split) {
                            gap.fill(0);
                        }
                        if let Some(fresh) = self.words.get_mut(split..run.end) {
                            fresh.fill(u64::MAX);
                        }
                        self.written = run.end;
                    }
                    newly_free += (run.len() as u64) * BITS_PER_WORD - already_free;
                }
            }
        }
        // Cannot overflow: the set bits never exceed `frames`.
        self.free_count += newly_free;
    }

    /// Marks `[start, start + count)` used again (boot time reservations:
    /// the kernel image, boot modules, the bitmap's own storage).
    ///
    /// The range is clipped like in [`FrameBitmap::add_free_range`]. Returns
    /// how many frames were free and now are used.
    pub fn reserve_range(&mut self, start: FrameNumber, count: u64) -> u64 {
        let mut newly_used = 0;
        for piece in self.pieces(start, count) {
            // Words never written stand for used frames already.
            let (run, mask) = match piece {
                Piece::Partial(index, mask) => (index..index + 1, mask),
                Piece::Whole(run) => (run, u64::MAX),
            };
            let written = run.start..run.end.min(self.written).max(run.start);
            for word in self.words.get_mut(written).unwrap_or_default() {
                if *word & mask != 0 {
                    newly_used += u64::from((*word & mask).count_ones());
                }
                *word &= !mask;
            }
        }
        // Cannot underflow: only set bits were counted.
        self.free_count -= newly_used;
        newly_used
    }

    /// Takes one free frame and marks it used, or returns `None` when no
    /// frame is free.
    ///
    /// Next fit: the scan starts at the word of the previous allocation and
    /// wraps around, a word (64 frames) at a time, so the worst case is one
    /// pass over the written words.
    pub fn alloc(&mut self) -> Option<FrameNumber> {
        if self.free_count == 0 {
            return None;
        }
        let len = self.written;
        for step in 0..len {
            // `hint < len` and `step < len`, so the sum is below `2 * len`,
            // which cannot overflow: `len * 8` bytes fit in the address space.
            let index = (self.hint + step) % len;
            let Some(word) = self.words.get_mut(index) else {
                continue;
            };
            if *word == 0 {
                continue;
            }
            let bit = word.trailing_zeros();
            *word &= !(1u64 << bit);
            self.free_count -= 1;
            self.hint = index;
            // A set bit exists only for frames below `frames`, so this is a
            // valid frame number and the arithmetic cannot overflow.
            return Some(FrameNumber(index as u64 * BITS_PER_WORD + u64::from(bit)));
        }
        // Unreachable while the free count is exact; answer honestly anyway.
        None
    }

    /// Returns `frame` to the free pool.
    ///
    /// # Errors
    ///
    /// - [`FrameError::OutOfRange`] if `frame` is not below
    ///   [`FrameBitmap::frames`].
    /// - [`FrameError::NotAllocated`] if `frame` is already free (double
    ///   free); the bitmap is left unchanged.
    pub fn free(&mut self, frame: FrameNumber) -> Result<(), FrameError> {
        let (index, mask) = self.locate(frame).ok_or(FrameError::OutOfRange)?;
        if self.is_free(frame) {
            return Err(FrameError::NotAllocated);
        }
        self.write_through(index);
        let word = self.words.get_mut(index).ok_or(FrameError::OutOfRange)?;
        *word |= mask;
        self.free_count += 1;
        Ok(())
    }

    /// Whether `frame` is free; `false` for frames outside the bitmap.
    pub fn is_free(&self, frame: FrameNumber) -> bool {
        self.locate(frame)
            .filter(|(index, _)| *index < self.written)
            .and_then(|(index, mask)| self.words.get(index).map(|word| word & mask != 0))
            .unwrap_or(false)
    }

    /// Number of free frames; exact at all times.
    pub fn free_count(&self) -> u64 {
        self.free_count
    }

    /// Number of frames the bitmap covers (frame numbers `0..frames`).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The word index and bit mask of `frame`, or `None` if it is outside
    /// the bitmap.
    fn locate(&self, frame: FrameNumber) -> Option<(usize, u64)> {
        if frame.0 >= self.frames {
            return None;
        }
        let index = word_index(frame.0);
        Some((index, 1u64 << (frame.0 % BITS_PER_WORD)))
    }

    /// Makes words `..=index` written: those not yet written are cleared
    /// (all used, as they stood for).
    fn write_through(&mut self, index: usize) {
        if index < self.written {
            return;
        }
        if let Some(words) = self.words.get_mut(self.written..=index) {
            words.fill(0);
            self.written = index + 1;
        }
    }

    /// The pieces of the frames `[start, start + count)` clipped to
    /// `0..frames`.
    fn pieces(&self, start: FrameNumber, count: u64) -> Pieces {
        Pieces {
            frame: start.0,
            end: start.0.saturating_add(count).min(self.frames),
        }
    }
}

impl fmt::Debug for FrameBitmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameBitmap")
            .field("frames", &self.frames)
            .field("free_count", &self.free_count)
            .field("hint", &self.hint)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// The storage word that holds `frame`'s bit.
///
/// Only called for `frame < frames`, and `frames <= 64 * words.len()`, so
/// `frame / 64 < words.len() <= usize::MAX`: the conversion is lossless.
fn word_index(frame: u64) -> usize {
    (frame / BITS_PER_WORD) as usize
}

/// A mask with bits `low..high` set, for `low < high <= 64`.
fn bit_range_mask(low: u64, high: u64) -> u64 {
    let width = high - low;
    let ones = if width >= BITS_PER_WORD {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    ones << low
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Storage for `frames` frames, filled with a pattern so that tests
    /// notice if `new` forgets to clear it.
    fn storage_for(frames: u64) -> Vec<u64> {
        vec![0xA5A5_A5A5_A5A5_A5A5; FrameBitmap::words_needed(frames)]
    }

    /// Allocates until `None`, returning the frames handed out.
    fn drain(bitmap: &mut FrameBitmap<'_>) -> Vec<FrameNumber> {
        let mut out = Vec::new();
        while let Some(frame) = bitmap.alloc() {
            out.push(frame);
        }
        out
    }

    #[test]
    fn frame_number_addresses() {
        assert_eq!(FrameNumber(0).addr(), 0);
        assert_eq!(FrameNumber(1).addr(), 4096);
        assert_eq!(FrameNumber(0x12345).addr(), 0x1234_5000);
        assert_eq!(FrameNumber::containing(0), FrameNumber(0));
        assert_eq!(FrameNumber::containing(4095), FrameNumber(0));
        assert_eq!(FrameNumber::containing(4096), FrameNumber(1));
        assert_eq!(
            FrameNumber::containing(u64::MAX),
            FrameNumber(u64::MAX / 4096)
        );
        assert_eq!(
            FrameNumber::containing(u64::MAX).checked_addr(),
            Some(u64::MAX - 4095)
        );
        assert_eq!(FrameNumber(u64::MAX / 4096 + 1).checked_addr(), None);
        // Wraps rather than panicking.
        let _ = FrameNumber(u64::MAX).addr();
    }

    #[test]
    fn words_needed_rounds_up() {
        assert_eq!(FrameBitmap::words_needed(0), 0);
        assert_eq!(FrameBitmap::words_needed(1), 1);
        assert_eq!(FrameBitmap::words_needed(63), 1);
        assert_eq!(FrameBitmap::words_needed(64), 1);
        assert_eq!(FrameBitmap::words_needed(65), 2);
        assert_eq!(FrameBitmap::words_needed(128), 2);
        assert_eq!(
            FrameBitmap::words_needed(u64::MAX),
            (u64::MAX / 64 + 1) as usize
        );
    }

    #[test]
    fn new_rejects_short_storage_and_ignores_extra() {
        let mut short = [0u64; 1];
        assert_eq!(
            FrameBitmap::new(&mut short, 65).err(),
            Some(FrameError::StorageTooSmall)
        );
        let mut huge = [0u64; 1];
        assert_eq!(
            FrameBitmap::new(&mut huge, u64::MAX).err(),
            Some(FrameError::StorageTooSmall)
        );
        let mut long = [7u64; 4];
        {
            let mut bitmap = FrameBitmap::new(&mut long, 64).unwrap();
            assert_eq!(bitmap.frames(), 64);
            assert_eq!(bitmap.free_count(), 0);
            assert!((0..64).all(|frame| !bitmap.is_free(FrameNumber(frame))));
            assert_eq!(bitmap.alloc(), None);
            bitmap.add_free_range(FrameNumber(0), 1);
        }
        // Only the word the bitmap covers, and only once a range reached it.
        assert_eq!(long, [1, 7, 7, 7]);
    }

    #[test]
    fn words_are_written_only_when_reached() {
        let frames = 64 * 10;
        let mut storage = storage_for(frames);
        {
            let mut bitmap = FrameBitmap::new(&mut storage, frames).unwrap();
            // Nothing reached yet: the garbage means "used".
            assert_eq!(bitmap.reserve_range(FrameNumber(0), frames), 0);
            assert_eq!(bitmap.free(FrameNumber(200)), Ok(()));
            assert_eq!(bitmap.free(FrameNumber(200)), Err(FrameError::NotAllocated));
            bitmap.add_free_range(FrameNumber(64 * 5), 64 * 2);
            assert_eq!(bitmap.free_count(), 1 + 128);
            assert!(!bitmap.is_free(FrameNumber(201)));
            assert!(!bitmap.is_free(FrameNumber(64 * 7)));
        }
        // Words 0..3 cleared (frame 200 set), 5 and 6 full, 7.. untouched.
        assert_eq!(storage[..3], [0, 0, 0]);
        assert_eq!(storage[3], 1 << (200 - 192));
        assert_eq!(storage[4], 0);
        assert_eq!(storage[5..7], [u64::MAX, u64::MAX]);
        assert!(
            storage[7..]
                .iter()
                .all(|word| *word == 0xA5A5_A5A5_A5A5_A5A5)
        );
    }

    #[test]
    fn empty_bitmap() {
        let mut storage: [u64; 0] = [];
        let mut bitmap = FrameBitmap::new(&mut storage, 0).unwrap();
        assert_eq!(bitmap.alloc(), None);
        bitmap.add_free_range(FrameNumber(0), 100);
        assert_eq!(bitmap.free_count(), 0);
        assert_eq!(bitmap.reserve_range(FrameNumber(0), 100), 0);
        assert_eq!(bitmap.free(FrameNumber(0)), Err(FrameError::OutOfRange));
        assert!(!bitmap.is_free(FrameNumber(0)));
    }

    #[test]
    fn starts_all_used() {
        let mut storage = storage_for(200);
        let mut bitmap = FrameBitmap::new(&mut storage, 200).unwrap();
        assert_eq!(bitmap.free_count(), 0);
        assert!((0..200).all(|frame| !bitmap.is_free(FrameNumber(frame))));
        assert_eq!(bitmap.alloc(), None);
    }

    #[test]
    fn free_counts_are_exact_after_each_operation() {
        let mut storage = storage_for(300);
        let mut bitmap = FrameBitmap::new(&mut storage, 300).unwrap();
        bitmap.add_free_range(FrameNumber(10), 100);
        assert_eq!(bitmap.free_count(), 100);
        // Overlapping range: only the 50 new frames count.
        bitmap.add_free_range(FrameNumber(60), 100);
        assert_eq!(bitmap.free_count(), 150);
        // Same range again: nothing new.
        bitmap.add_free_range(FrameNumber(10), 150);
        assert_eq!(bitmap.free_count(), 150);
        assert_eq!(bitmap.reserve_range(FrameNumber(0), 20), 10);
        assert_eq!(bitmap.free_count(), 140);
        assert_eq!(bitmap.reserve_range(FrameNumber(0), 20), 0);
        assert_eq!(bitmap.free_count(), 140);
        let frame = bitmap.alloc().unwrap();
        assert_eq!(bitmap.free_count(), 139);
        bitmap.free(frame).unwrap();
        assert_eq!(bitmap.free_count(), 140);
        assert_eq!(bitmap.free(frame), Err(FrameError::NotAllocated));
        assert_eq!(bitmap.free_count(), 140);
    }

    #[test]
    fn ranges_are_clipped_at_the_end() {
        let mut storage = storage_for(70);
        let mut bitmap = FrameBitmap::new(&mut storage, 70).unwrap();
        bitmap.add_free_range(FrameNumber(60), 1000);
        assert_eq!(bitmap.free_count(), 10);
        bitmap.add_free_range(FrameNumber(65), u64::MAX);
        assert_eq!(bitmap.free_count(), 10);
        bitmap.add_free_range(FrameNumber(u64::MAX), u64::MAX);
        bitmap.add_free_range(FrameNumber(70), 5);
        assert_eq!(bitmap.free_count(), 10);
        assert_eq!(bitmap.reserve_range(FrameNumber(68), u64::MAX), 2);
        assert_eq!(bitmap.reserve_range(FrameNumber(u64::MAX), 1), 0);
        assert_eq!(bitmap.free_count(), 8);
        let got = drain(&mut bitmap);
        let want: Vec<_> = (60..68).map(FrameNumber).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn zero_length_ranges_change_nothing() {
        let mut storage = storage_for(64);
        let mut bitmap = FrameBitmap::new(&mut storage, 64).unwrap();
        bitmap.add_free_range(FrameNumber(3), 0);
        assert_eq!(bitmap.free_count(), 0);
        bitmap.add_free_range(FrameNumber(0), 64);
        assert_eq!(bitmap.reserve_range(FrameNumber(3), 0), 0);
        assert_eq!(bitmap.free_count(), 64);
    }

    #[test]
    fn tail_bits_of_last_word_are_never_handed_out() {
        for frames in [1u64, 5, 63, 64, 65, 127, 129] {
            let mut storage = storage_for(frames);
            let mut bitmap = FrameBitmap::new(&mut storage, frames).unwrap();
            bitmap.add_free_range(FrameNumber(0), u64::MAX);
            assert_eq!(bitmap.free_count(), frames);
            let got = drain(&mut bitmap);
            assert_eq!(got.len() as u64, frames);
            assert!(got.iter().all(|frame| frame.0 < frames));
            assert_eq!(bitmap.free_count(), 0);
        }
    }

    #[test]
    fn never_hands_out_a_reserved_frame() {
        let mut storage = storage_for(256);
        let mut bitmap = FrameBitmap::new(&mut storage, 256).unwrap();
        bitmap.add_free_range(FrameNumber(0), 256);
        assert_eq!(bitmap.reserve_range(FrameNumber(10), 20), 20);
        assert_eq!(bitmap.reserve_range(FrameNumber(100), 1), 1);
        assert_eq!(bitmap.reserve_range(FrameNumber(191), 2), 2);
        let got = drain(&mut bitmap);
        assert_eq!(got.len(), 256 - 23);
        for frame in got {
            assert!(!(10..30).contains(&frame.0));
            assert_ne!(frame.0, 100);
            assert!(!(191..193).contains(&frame.0));
        }
    }

    #[test]
    fn alloc_exhausts_exactly_free_count_distinct_frames() {
        let mut storage = storage_for(1000);
        let mut bitmap = FrameBitmap::new(&mut storage, 1000).unwrap();
        bitmap.add_free_range(FrameNumber(1), 300);
        bitmap.add_free_range(FrameNumber(500), 333);
        let expected = bitmap.free_count();
        let got = drain(&mut bitmap);
        assert_eq!(got.len() as u64, expected);
        let distinct: BTreeSet<_> = got.iter().copied().collect();
        assert_eq!(distinct.len(), got.len());
        assert_eq!(bitmap.free_count(), 0);
        assert_eq!(bitmap.alloc(), None);
        assert!(got.iter().all(|frame| !bitmap.is_free(*frame)));
    }

    #[test]
    fn double_free_and_out_of_range_are_detected() {
        let mut storage = storage_for(100);
        let mut bitmap = FrameBitmap::new(&mut storage, 100).unwrap();
        bitmap.add_free_range(FrameNumber(0), 100);
        assert_eq!(bitmap.free(FrameNumber(5)), Err(FrameError::NotAllocated));
        assert_eq!(bitmap.free(FrameNumber(100)), Err(FrameError::OutOfRange));
        assert_eq!(
            bitmap.free(FrameNumber(u64::MAX)),
            Err(FrameError::OutOfRange)
        );
        let frame = bitmap.alloc().unwrap();
        assert!(!bitmap.is_free(frame));
        assert_eq!(bitmap.free(frame), Ok(()));
        assert!(bitmap.is_free(frame));
        assert_eq!(bitmap.free(frame), Err(FrameError::NotAllocated));
        assert_eq!(bitmap.free_count(), 100);
    }

    #[test]
    fn next_fit_moves_on_and_wraps_around() {
        let mut storage = storage_for(256);
        let mut bitmap = FrameBitmap::new(&mut storage, 256).unwrap();
        bitmap.add_free_range(FrameNumber(0), 256);
        let first: Vec<_> = (0..130).map(|_| bitmap.alloc().unwrap()).collect();
        assert_eq!(first, (0..130).map(FrameNumber).collect::<Vec<_>>());
        // Frame 0 is free again, but the scan continues from the hint.
        bitmap.free(FrameNumber(0)).unwrap();
        assert_eq!(bitmap.alloc(), Some(FrameNumber(130)));
        bitmap.reserve_range(FrameNumber(131), 1000);
        // Nothing after the hint: the scan wraps to frame 0.
        assert_eq!(bitmap.alloc(), Some(FrameNumber(0)));
        assert_eq!(bitmap.alloc(), None);
    }

    #[test]
    fn large_bitmap_word_boundaries() {
        let frames = 64 * 20 + 7;
        let mut storage = storage_for(frames);
        let mut bitmap = FrameBitmap::new(&mut storage, frames).unwrap();
        bitmap.add_free_range(FrameNumber(63), 66);
        assert_eq!(bitmap.free_count(), 66);
        assert!(!bitmap.is_free(FrameNumber(62)));
        assert!(bitmap.is_free(FrameNumber(63)));
        assert!(bitmap.is_free(FrameNumber(128)));
        assert!(!bitmap.is_free(FrameNumber(129)));
        assert_eq!(bitmap.reserve_range(FrameNumber(64), 64), 64);
        assert_eq!(drain(&mut bitmap), vec![FrameNumber(63), FrameNumber(128)]);
    }

    #[test]
    fn error_display() {
        assert!(!FrameError::OutOfRange.to_string().is_empty());
        assert!(!FrameError::NotAllocated.to_string().is_empty());
        assert!(!FrameError::StorageTooSmall.to_string().is_empty());
        let mut storage = storage_for(3);
        let bitmap = FrameBitmap::new(&mut storage, 3).unwrap();
        assert!(format!("{bitmap:?}").contains("frames: 3"));
    }

    /// One step of the model-based property test.
    #[derive(Clone, Debug)]
    enum Op {
        Alloc,
        Free(u64),
        AddFree(u64, u64),
        Reserve(u64, u64),
    }

    fn op_strategy(frames: u64) -> impl Strategy<Value = Op> {
        // Frame numbers and counts reach a little past the end to exercise
        // clipping, plus the saturating extremes.
        let frame = prop_oneof![
            8 => 0..frames + 70,
            1 => Just(u64::MAX),
        ];
        let count = prop_oneof![
            8 => 0..frames + 70,
            1 => Just(u64::MAX),
        ];
        prop_oneof![
            4 => Just(Op::Alloc),
            3 => frame.clone().prop_map(Op::Free),
            2 => (frame.clone(), count.clone()).prop_map(|(start, count)| Op::AddFree(start, count)),
            1 => (frame, count).prop_map(|(start, count)| Op::Reserve(start, count)),
        ]
    }

    fn scenario() -> impl Strategy<Value = (u64, Vec<Op>)> {
        (0u64..400).prop_flat_map(|frames| {
            (
                Just(frames),
                proptest::collection::vec(op_strategy(frames), 0..200),
            )
        })
    }

    /// Frames of `[start, start + count)` clipped to `0..frames`.
    fn clipped(start: u64, count: u64, frames: u64) -> std::ops::Range<u64> {
        start.min(frames)..start.saturating_add(count).min(frames)
    }

    proptest! {
        #[test]
        fn matches_a_set_model((frames, ops) in scenario()) {
            let mut storage = storage_for(frames);
            let mut bitmap = FrameBitmap::new(&mut storage, frames).unwrap();
            let mut model: BTreeSet<u64> = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Alloc => match bitmap.alloc() {
                        Some(frame) => prop_assert!(model.remove(&frame.0), "handed out non-free {frame:?}"),
                        None => prop_assert!(model.is_empty()),
                    },
                    Op::Free(frame) => {
                        let want = if frame >= frames {
                            Err(FrameError::OutOfRange)
                        } else if model.contains(&frame) {
                            Err(FrameError::NotAllocated)
                        } else {
                            model.insert(frame);
                            Ok(())
                        };
                        prop_assert_eq!(bitmap.free(FrameNumber(frame)), want);
                    }
                    Op::AddFree(start, count) => {
                        bitmap.add_free_range(FrameNumber(start), count);
                        model.extend(clipped(start, count, frames));
                    }
                    Op::Reserve(start, count) => {
                        let range = clipped(start, count, frames);
                        let before = model.len();
                        model.retain(|frame| !range.contains(frame));
                        let removed = (before - model.len()) as u64;
                        prop_assert_eq!(bitmap.reserve_range(FrameNumber(start), count), removed);
                    }
                }
                prop_assert_eq!(bitmap.free_count(), model.len() as u64);
            }
            for frame in 0..frames + 70 {
                prop_assert_eq!(bitmap.is_free(FrameNumber(frame)), model.contains(&frame));
            }
            let drained: BTreeSet<u64> = drain(&mut bitmap).into_iter().map(|f| f.0).collect();
            prop_assert_eq!(drained, model);
            prop_assert_eq!(bitmap.free_count(), 0);
        }

        #[test]
        fn alloc_count_equals_free_count(
            frames in 0u64..2000,
            ranges in proptest::collection::vec((0u64..2100, 0u64..300), 0..10),
        ) {
            let mut storage = storage_for(frames);
            let mut bitmap = FrameBitmap::new(&mut storage, frames).unwrap();
            for (start, count) in ranges {
                bitmap.add_free_range(FrameNumber(start), count);
            }
            let expected = bitmap.free_count();
            let got = drain(&mut bitmap);
            prop_assert_eq!(got.len() as u64, expected);
            prop_assert!(got.iter().all(|frame| frame.0 < frames));
        }
    }
}
