//! The plan [`crate::parse`] returns: an [`Image`] of up to
//! [`MAX_SEGMENTS`] [`Segment`]s, each with its direct pages, copies and
//! zero pages, and the values the runtime passes to the program.
//!
//! Everything here is plain data that [`crate::parse`] has checked; the
//! crate header states the plan rules and `docs/elf.md` how the runtime
//! carries them out. The fields of [`Image`] are private so that its
//! invariants (listed on the type) hold for as long as it lives.

use abi::MapFlags;
use abi::layout::PAGE_BYTES;

/// Most non-empty `PT_LOAD` segments a program may have. Static programs
/// have four (headers, text, read-only data, data); each segment costs the
/// runtime up to three address-space regions.
pub const MAX_SEGMENTS: usize = 8;

/// How to load a file: the caller's half of the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Load bias of a static-pie (`ET_DYN`): every address in the file is
    /// moved up by it. Must be a multiple of `PAGE_BYTES`, and large enough
    /// that the first segment lands at or above `USER_START` (a static-pie
    /// is usually linked at 0). Ignored for `ET_EXEC`, which always loads at
    /// the addresses it was linked at; [`Image::bias`] says which applied.
    ///
    /// A segment whose `p_align` is larger than a page keeps its alignment
    /// only if `base` is a multiple of [`Image::load_align`].
    pub base: u64,
    /// Where the file's first byte lies within its page, in the memory
    /// object that holds it: (address of byte 0) % `PAGE_BYTES`. When it is
    /// not 0, no page of the file can be mapped as it is, and every file
    /// byte is planned as a copy. Must be below `PAGE_BYTES`.
    pub file_page_offset: u64,
}

/// What kind of executable the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `ET_EXEC`: linked at fixed addresses, loaded there.
    Exec,
    /// `ET_DYN` without `PT_INTERP`: a static position-independent
    /// executable, loaded at [`Options::base`]. Its own startup code applies
    /// its relocations.
    StaticPie,
}

/// Access rights of a segment, from its `p_flags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Access {
    /// `PF_R`.
    pub read: bool,
    /// `PF_W`.
    pub write: bool,
    /// `PF_X`.
    pub exec: bool,
}

impl Access {
    /// The rights for [`abi::MapFlags`]. Every mapping is readable on
    /// x86_64 (there are no write-only or execute-only pages), so `READ` is
    /// set even when `PF_R` is not.
    pub fn map_flags(self) -> MapFlags {
        let mut flags = MapFlags::READ;
        if self.write {
            flags |= MapFlags::WRITE;
        }
        if self.exec {
            flags |= MapFlags::EXEC;
        }
        flags
    }
}

/// A run of whole pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageRange {
    /// First address; page-aligned.
    pub start: u64,
    /// Number of pages; more than 0.
    pub pages: u64,
}

impl PageRange {
    /// One past the last byte, `start + pages * PAGE_BYTES`. Every range in
    /// a plan ends at or below `USER_END`, so this cannot overflow there;
    /// for other values it saturates.
    pub fn end(&self) -> u64 {
        self.start
            .saturating_add(self.pages.saturating_mul(PAGE_BYTES))
    }
}

/// Pages mapped straight from the file's memory object: `pages` pages from
/// `vaddr` show the file bytes `file_offset .. file_offset + pages *
/// PAGE_BYTES`, read-only or executable, never writable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DirectMap {
    /// First address; page-aligned.
    pub vaddr: u64,
    /// Offset in the file of the byte shown at `vaddr`; page-aligned (and,
    /// since [`Options::file_page_offset`] is 0 whenever there are direct
    /// pages, also page-aligned in the memory object holding the file).
    pub file_offset: u64,
    /// Number of pages; more than 0.
    pub pages: u64,
}

/// Bytes copied from the file into fresh memory: `len` bytes from
/// `file_offset` go to `vaddr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileCopy {
    /// Destination address (any alignment).
    pub vaddr: u64,
    /// Offset in the file of the first byte.
    pub file_offset: u64,
    /// Number of bytes; more than 0.
    pub len: u64,
}

/// One loadable segment and how to fill its pages.
///
/// The segment covers `[vaddr, vaddr + mem_bytes)`, rounded out to the
/// pages `start .. start + pages * PAGE_BYTES`. Of those bytes,
/// `[vaddr, vaddr + file_bytes)` come from the file (`file_offset` on),
/// through `direct` and `copies`; all others are zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Segment {
    /// `p_vaddr` plus the load bias: the first byte of the segment.
    pub vaddr: u64,
    /// `p_memsz`: bytes the segment spans in memory; more than 0.
    pub mem_bytes: u64,
    /// `p_offset`: where the segment's file bytes start in the file.
    pub file_offset: u64,
    /// `p_filesz`: bytes that come from the file; at most `mem_bytes`.
    pub file_bytes: u64,
    /// First page: `vaddr` rounded down to a page.
    pub start: u64,
    /// Pages from `start` to `vaddr + mem_bytes` rounded up.
    pub pages: u64,
    /// Rights every page of the segment ends up with.
    pub access: Access,
    /// File pages mapped from the file's memory object, whole pages of the
    /// file that may reach past the segment's file bytes by less than a
    /// page at each end (see the crate documentation); only for a segment
    /// that is not writable.
    pub direct: Option<DirectMap>,
    /// File bytes copied into fresh memory: the head page's part before
    /// `direct` and the tail page's part after it, or, with no `direct`,
    /// all file bytes in `copies[0]`. Never on a direct page.
    pub copies: [Option<FileCopy>; 2],
}

impl Segment {
    /// The segment's pages.
    pub fn page_range(&self) -> PageRange {
        PageRange {
            start: self.start,
            pages: self.pages,
        }
    }

    /// One past the segment's last page.
    pub fn end(&self) -> u64 {
        self.page_range().end()
    }

    /// The pages to map as fresh, zero-filled anonymous memory: all pages of
    /// the segment except the direct ones, as at most two runs (before and
    /// after `direct`). The copies go into these pages.
    pub fn fresh_ranges(&self) -> [Option<PageRange>; 2] {
        let Some(direct) = self.direct else {
            return [Some(self.page_range()), None];
        };
        let direct_range = PageRange {
            start: direct.vaddr,
            pages: direct.pages,
        };
        let run = |from: u64, to: u64| {
            let pages = to.checked_sub(from)?.checked_div(PAGE_BYTES)?;
            (pages > 0).then_some(PageRange { start: from, pages })
        };
        [
            run(self.start, direct_range.start),
            run(direct_range.end(), self.end()),
        ]
    }

    /// The copies that are present, in address order.
    pub fn file_copies(&self) -> impl Iterator<Item = FileCopy> + '_ {
        self.copies.iter().flatten().copied()
    }
}

/// A checked program and how to load it: the result of [`crate::parse`].
///
/// Invariants (the property tests and the fuzzer check them on every image
/// `parse` returns):
/// - 1 to [`MAX_SEGMENTS`] segments, sorted by address; their page ranges
///   do not overlap and lie within `[USER_START, USER_END)`;
/// - no segment is writable and executable; a writable one has no direct
///   pages;
/// - in each segment, the direct pages and copies cover exactly the file
///   bytes `[vaddr, vaddr + file_bytes)`, each from the matching file
///   offset, inside the file, without overlapping; direct pages are whole,
///   page-aligned pages of the file that reach past those bytes by less
///   than a page at each end and hold none of the segment's zero bytes; no
///   copy touches a direct page;
/// - the entry point lies in an executable segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    /// See [`Image::kind`].
    pub(crate) kind: Kind,
    /// See [`Image::bias`].
    pub(crate) bias: u64,
    /// See [`Image::entry`].
    pub(crate) entry: u64,
    /// `segments[..count]` are the segments; the rest are default values.
    pub(crate) segments: [Segment; MAX_SEGMENTS],
    /// Number of segments, 1 to `MAX_SEGMENTS`.
    pub(crate) count: usize,
    /// See [`Image::tls`].
    pub(crate) tls: Option<crate::TlsTemplate>,
    /// See [`Image::phdr`].
    pub(crate) phdr: Option<u64>,
    /// See [`Image::phnum`].
    pub(crate) phnum: u16,
    /// See [`Image::load_align`].
    pub(crate) load_align: u64,
    /// See [`Image::stack_size`].
    pub(crate) stack_size: Option<u64>,
}

impl Image {
    /// Whether the file is a fixed-address executable or a static-pie.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// How far every address in the file was moved: [`Options::base`] for a
    /// static-pie, 0 for `ET_EXEC`. All addresses in the image include it.
    pub fn bias(&self) -> u64 {
        self.bias
    }

    /// Where the program starts (`e_entry` plus the bias; `AT_ENTRY`).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// The segments, sorted by address.
    pub fn segments(&self) -> &[Segment] {
        self.segments.get(..self.count).unwrap_or_default()
    }

    /// The `PT_TLS` template, if the program has thread-local variables.
    pub fn tls(&self) -> Option<crate::TlsTemplate> {
        self.tls
    }

    /// Address of the program header table in memory (`AT_PHDR`), when a
    /// segment's file bytes hold it; `None` otherwise.
    pub fn phdr(&self) -> Option<u64> {
        self.phdr
    }

    /// Number of program headers (`AT_PHNUM`).
    pub fn phnum(&self) -> u16 {
        self.phnum
    }

    /// Size of one program header (`AT_PHENT`): always
    /// [`crate::PHDR_BYTES`].
    pub fn phentsize(&self) -> u16 {
        crate::PHDR_BYTES
    }

    /// The largest `p_align` of the loaded segments, and at least
    /// `PAGE_BYTES`. A static-pie keeps every section's alignment only when
    /// loaded at a multiple of it.
    pub fn load_align(&self) -> u64 {
        self.load_align
    }

    /// The stack size the program asked for (a non-zero `p_memsz` of
    /// `PT_GNU_STACK`, as `ld -z stack-size=` writes), if any. Advisory.
    pub fn stack_size(&self) -> Option<u64> {
        self.stack_size
    }

    /// The pages from the first segment's start to the last one's end: the
    /// span the runtime may reserve for the program. Gaps between segments
    /// are not part of any segment and stay unmapped.
    pub fn span(&self) -> PageRange {
        let start = self.segments().first().map_or(0, |first| first.start);
        let end = self.segments().last().map_or(start, Segment::end);
        PageRange {
            start,
            pages: end
                .saturating_sub(start)
                .checked_div(PAGE_BYTES)
                .unwrap_or(0),
        }
    }
}
