//! Where everything is in a ring's region: a pure function of its
//! [`Geometry`] (submission entries, completion entries, data bytes).
//!
//! ```text
//! offset          bytes              what                                written by
//! 0               64                 header: magic, version, geometry    the client, once
//! 64   (line 1)   64                 SQ tail, "SQ producer waits" flag   the client
//! 128  (line 2)   64                 SQ head, "SQ consumer sleeps" flag  the server
//! 192  (line 3)   64                 CQ tail, "CQ producer waits" flag   the server
//! 256  (line 4)   64                 CQ head, "CQ consumer sleeps" flag  the client
//! 320  (sq)       32 * sq_entries    submission descriptors (Sqe)        the client
//! cq              16 * cq_entries    completions (Cqe)                   the server
//! data            data_bytes         data the descriptors point into     either
//! ```
//!
//! `cq` and `data` are rounded up to 64 bytes; the total is `data +
//! data_bytes` rounded up to 64. Every index and flag is a little-endian
//! `u32` at the start of its line or 4 bytes in, so the two sides never
//! write the same cache line; a side writes only its own lines (the
//! header once, before the peer attaches). The header's words are a
//! check, not a source: each side computes the layout from the geometry
//! it was given (the server from its IPC request), never from the region.
//!
//! Indices run freely over all of `u32` and wrap; entry `i` of a queue is
//! in slot `i % entries`, which is why entry counts are powers of two.

use crate::Memory;

/// `b"MRNG"` as a little-endian word: the header's first word.
pub const MAGIC: u32 = u32::from_le_bytes(*b"MRNG");
/// The layout's version, the header's second word. A change to anything
/// in this module or to an entry's encoding changes it.
pub const VERSION: u32 = 1;
/// One cache line: each index has one of its own.
pub const LINE_BYTES: usize = 64;
/// The header and the four index lines.
pub const HEADER_BYTES: usize = 5 * LINE_BYTES;
/// The most entries a queue may have.
pub const MAX_ENTRIES: u32 = 1 << 15;
/// The largest data area.
pub const MAX_DATA_BYTES: u32 = 1 << 30;

/// Byte offsets of the header's words.
pub mod offset {
    /// [`MAGIC`](super::MAGIC).
    pub const MAGIC: usize = 0;
    /// [`VERSION`](super::VERSION).
    pub const VERSION: usize = 4;
    /// The submission queue's entry count.
    pub const SQ_ENTRIES: usize = 8;
    /// The completion queue's entry count.
    pub const CQ_ENTRIES: usize = 12;
    /// The data area's size in bytes.
    pub const DATA_BYTES: usize = 16;
    /// The SQ's producer index (the client's): entries submitted.
    pub const SQ_TAIL: usize = 64;
    /// Nonzero while the client waits for room in the SQ.
    pub const SQ_PRODUCER_WAITS: usize = 68;
    /// The SQ's consumer index (the server's): entries taken.
    pub const SQ_HEAD: usize = 128;
    /// Nonzero while the server sleeps waiting for submissions.
    pub const SQ_CONSUMER_SLEEPS: usize = 132;
    /// The CQ's producer index (the server's): completions posted.
    pub const CQ_TAIL: usize = 192;
    /// Nonzero while the server waits for room in the CQ.
    pub const CQ_PRODUCER_WAITS: usize = 196;
    /// The CQ's consumer index (the client's): completions taken.
    pub const CQ_HEAD: usize = 256;
    /// Nonzero while the client sleeps waiting for completions.
    pub const CQ_CONSUMER_SLEEPS: usize = 260;
}

/// A ring's sizes: what both sides must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Submission queue entries: a power of two, 1 to [`MAX_ENTRIES`].
    pub sq_entries: u32,
    /// Completion queue entries: a power of two, 1 to [`MAX_ENTRIES`].
    pub cq_entries: u32,
    /// Bytes of the data area, 0 to [`MAX_DATA_BYTES`].
    pub data_bytes: u32,
}

/// Why a ring cannot be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// An entry count is not a power of two in range, or the data area is
    /// too large.
    BadGeometry,
    /// The memory is smaller than the layout.
    TooSmall,
    /// The header does not hold this layout's magic, version and
    /// geometry (the peer made another ring, or wrote over it).
    BadHeader,
}

/// One queue's place in the region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLayout {
    /// The producer's index.
    pub producer_index: usize,
    /// The producer's "waiting for room" flag.
    pub producer_waits: usize,
    /// The consumer's index.
    pub consumer_index: usize,
    /// The consumer's "sleeping" flag.
    pub consumer_sleeps: usize,
    /// The first slot.
    pub slots: usize,
    /// Slots: a power of two.
    pub entries: u32,
}

impl QueueLayout {
    /// The offset of the slot of entry `index`, `entry_bytes` long.
    #[inline]
    pub fn slot(&self, index: u32, entry_bytes: usize) -> usize {
        self.slots + (index & (self.entries - 1)) as usize * entry_bytes
    }
}

/// Where everything is, for one geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The sizes it was computed from.
    pub geometry: Geometry,
    /// The submission queue's first slot.
    pub sq: usize,
    /// The completion queue's first slot.
    pub cq: usize,
    /// The data area's first byte.
    pub data: usize,
    /// The region's size: the least memory that holds it.
    pub total_bytes: usize,
}

const fn round_up(value: usize, to: usize) -> usize {
    value.div_ceil(to) * to
}

const fn valid_entries(entries: u32) -> bool {
    entries.is_power_of_two() && entries <= MAX_ENTRIES
}

impl Layout {
    /// The layout of `geometry`.
    ///
    /// # Errors
    /// [`SetupError::BadGeometry`] if an entry count is not a power of two
    /// from 1 to [`MAX_ENTRIES`] or `data_bytes` is above
    /// [`MAX_DATA_BYTES`].
    pub const fn new(geometry: Geometry) -> Result<Layout, SetupError> {
        if !valid_entries(geometry.sq_entries)
            || !valid_entries(geometry.cq_entries)
            || geometry.data_bytes > MAX_DATA_BYTES
        {
            return Err(SetupError::BadGeometry);
        }
        // At most 320 + 2^20 + 2^19 + 2^30 + 63 bytes: no overflow.
        let sq = HEADER_BYTES;
        let cq = round_up(
            sq + geometry.sq_entries as usize * <crate::Sqe as crate::Entry>::BYTES,
            LINE_BYTES,
        );
        let data = round_up(
            cq + geometry.cq_entries as usize * <crate::Cqe as crate::Entry>::BYTES,
            LINE_BYTES,
        );
        let total_bytes = round_up(data + geometry.data_bytes as usize, LINE_BYTES);
        Ok(Layout {
            geometry,
            sq,
            cq,
            data,
            total_bytes,
        })
    }

    /// The submission queue.
    pub const fn sq_queue(&self) -> QueueLayout {
        QueueLayout {
            producer_index: offset::SQ_TAIL,
            producer_waits: offset::SQ_PRODUCER_WAITS,
            consumer_index: offset::SQ_HEAD,
            consumer_sleeps: offset::SQ_CONSUMER_SLEEPS,
            slots: self.sq,
            entries: self.geometry.sq_entries,
        }
    }

    /// The completion queue.
    pub const fn cq_queue(&self) -> QueueLayout {
        QueueLayout {
            producer_index: offset::CQ_TAIL,
            producer_waits: offset::CQ_PRODUCER_WAITS,
            consumer_index: offset::CQ_HEAD,
            consumer_sleeps: offset::CQ_CONSUMER_SLEEPS,
            slots: self.cq,
            entries: self.geometry.cq_entries,
        }
    }

    /// Pages of `page_bytes` the region needs.
    pub const fn pages(&self, page_bytes: usize) -> usize {
        self.total_bytes.div_ceil(page_bytes)
    }

    /// Whether `memory` is large enough.
    ///
    /// # Errors
    /// [`SetupError::TooSmall`].
    pub fn check_size<M: Memory + ?Sized>(&self, memory: &M) -> Result<(), SetupError> {
        if memory.len_bytes() < self.total_bytes {
            return Err(SetupError::TooSmall);
        }
        Ok(())
    }

    /// Writes the header (magic, version, geometry) and zeroes the four
    /// index lines: what the side that creates the ring does first.
    ///
    /// # Errors
    /// [`SetupError::TooSmall`].
    pub fn write_header<M: Memory + ?Sized>(&self, memory: &M) -> Result<(), SetupError> {
        self.check_size(memory)?;
        // As words: the header's bytes are only ever 4-byte words.
        memory.write_words(0, &[0; HEADER_BYTES / 4]);
        memory.store_u32(offset::MAGIC, MAGIC);
        memory.store_u32(offset::VERSION, VERSION);
        memory.store_u32(offset::SQ_ENTRIES, self.geometry.sq_entries);
        memory.store_u32(offset::CQ_ENTRIES, self.geometry.cq_entries);
        memory.store_u32(offset::DATA_BYTES, self.geometry.data_bytes);
        Ok(())
    }

    /// Checks that `memory` is large enough and its header describes this
    /// layout: what the side that attaches does first. The words are read
    /// once each and only compared.
    ///
    /// # Errors
    /// [`SetupError::TooSmall`], [`SetupError::BadHeader`].
    pub fn check_header<M: Memory + ?Sized>(&self, memory: &M) -> Result<(), SetupError> {
        self.check_size(memory)?;
        let expected = [
            (offset::MAGIC, MAGIC),
            (offset::VERSION, VERSION),
            (offset::SQ_ENTRIES, self.geometry.sq_entries),
            (offset::CQ_ENTRIES, self.geometry.cq_entries),
            (offset::DATA_BYTES, self.geometry.data_bytes),
        ];
        for (at, value) in expected {
            if memory.load_u32(at) != value {
                return Err(SetupError::BadHeader);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(sq_entries: u32, cq_entries: u32, data_bytes: u32) -> Geometry {
        Geometry {
            sq_entries,
            cq_entries,
            data_bytes,
        }
    }

    #[test]
    fn offsets_of_a_small_ring() {
        let layout = Layout::new(geometry(4, 8, 100)).unwrap();
        assert_eq!(layout.sq, 320);
        assert_eq!(layout.cq, 320 + 128);
        assert_eq!(layout.data, 448 + 128);
        assert_eq!(layout.total_bytes, 576 + 128);
        assert_eq!(layout.pages(4096), 1);
    }

    #[test]
    fn rounding_to_lines() {
        // One 32-byte Sqe and one 16-byte Cqe each take a whole line.
        let layout = Layout::new(geometry(1, 1, 1)).unwrap();
        assert_eq!((layout.sq, layout.cq, layout.data), (320, 384, 448));
        assert_eq!(layout.total_bytes, 512);
        let layout = Layout::new(geometry(1, 1, 0)).unwrap();
        assert_eq!(layout.total_bytes, 448);
    }

    #[test]
    fn each_index_has_its_own_line() {
        let lines = [
            offset::SQ_TAIL,
            offset::SQ_HEAD,
            offset::CQ_TAIL,
            offset::CQ_HEAD,
        ]
        .map(|at| at / LINE_BYTES);
        assert_eq!(lines, [1, 2, 3, 4]);
        // Each flag shares the line of the index its side writes.
        for (index, flag) in [
            (offset::SQ_TAIL, offset::SQ_PRODUCER_WAITS),
            (offset::SQ_HEAD, offset::SQ_CONSUMER_SLEEPS),
            (offset::CQ_TAIL, offset::CQ_PRODUCER_WAITS),
            (offset::CQ_HEAD, offset::CQ_CONSUMER_SLEEPS),
        ] {
            assert_eq!(index / LINE_BYTES, flag / LINE_BYTES);
        }
        assert_eq!(MAGIC, 0x474e_524d);
    }

    #[test]
    fn bad_geometries() {
        for bad in [
            geometry(0, 1, 0),
            geometry(1, 0, 0),
            geometry(3, 4, 0),
            geometry(4, 6, 0),
            geometry(MAX_ENTRIES * 2, 1, 0),
            geometry(1, MAX_ENTRIES * 2, 0),
            geometry(1, 1, MAX_DATA_BYTES + 1),
        ] {
            assert_eq!(Layout::new(bad), Err(SetupError::BadGeometry), "{bad:?}");
        }
        let largest = Layout::new(geometry(MAX_ENTRIES, MAX_ENTRIES, MAX_DATA_BYTES)).unwrap();
        assert_eq!(largest.total_bytes, 320 + (1 << 20) + (1 << 19) + (1 << 30));
    }

    #[test]
    fn slots_wrap() {
        let layout = Layout::new(geometry(4, 2, 0)).unwrap();
        let sq = layout.sq_queue();
        assert_eq!(sq.slot(0, 32), 320);
        assert_eq!(sq.slot(5, 32), 352);
        assert_eq!(sq.slot(u32::MAX, 32), 320 + 3 * 32);
        let cq = layout.cq_queue();
        assert_eq!(cq.slot(u32::MAX, 16), layout.cq + 16);
    }

    #[test]
    fn header_written_then_checked() {
        let layout = Layout::new(geometry(2, 2, 64)).unwrap();
        let memory = crate::AtomicMemory::new(layout.total_bytes);
        assert_eq!(layout.check_header(&memory), Err(SetupError::BadHeader));
        layout.write_header(&memory).unwrap();
        assert_eq!(layout.check_header(&memory), Ok(()));
        // Another geometry does not match, nor does a scribbled word.
        let other = Layout::new(geometry(2, 8, 64)).unwrap();
        assert_eq!(other.check_header(&memory), Err(SetupError::TooSmall));
        let other = Layout::new(geometry(2, 2, 0)).unwrap();
        assert_eq!(other.check_header(&memory), Err(SetupError::BadHeader));
        memory.store_u32(offset::VERSION, 2);
        assert_eq!(layout.check_header(&memory), Err(SetupError::BadHeader));
        let small = crate::AtomicMemory::new(layout.total_bytes - 64);
        assert_eq!(layout.write_header(&small), Err(SetupError::TooSmall));
    }
}
