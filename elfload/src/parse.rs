//! [`parse`]: check a file and plan its segments.
//!
//! The checks run in a fixed order, so a file with several faults always
//! gets the same error: the file header, the options, the program header
//! table, then each program header in file order (for a `PT_LOAD`: file
//! range, sizes, alignment, then, if it is not empty, rights, addresses and
//! its place after the previous segment), and last the checks over the whole
//! file (something to load, the entry point). Program header types other
//! than `PT_LOAD`, `PT_INTERP`, `PT_TLS` and `PT_GNU_STACK` are ignored
//! (`PT_PHDR`, `PT_DYNAMIC`, `PT_NOTE`, `PT_GNU_RELRO`, `PT_GNU_EH_FRAME`,
//! `PT_GNU_PROPERTY`, ...).
//!
//! Sizes and addresses are `u64`, as in the file. Every operation on them is
//! checked; where a bound proven earlier makes overflow impossible, the
//! checked form is kept anyway and its failure mapped to the error that
//! would describe it.

use abi::layout::{PAGE_BYTES, USER_END, USER_START};

use crate::ElfError;
use crate::format::{
    ET_DYN, ET_EXEC, FileHeader, MAX_PHNUM, PF_R, PF_W, PF_X, PHDR_BYTES, PN_XNUM, PT_GNU_STACK,
    PT_INTERP, PT_LOAD, PT_TLS, ProgramHeader,
};
use crate::image::{Access, DirectMap, FileCopy, Image, Kind, MAX_SEGMENTS, Options, Segment};
use crate::tls::{TCB_MAX_BYTES, TlsTemplate, tls_layout};

/// Checks the ELF64 executable `file` and plans how to load it with `opts`.
///
/// The returned [`Image`] holds up to [`MAX_SEGMENTS`] segments, each with
/// the pages to map directly from the file, the bytes to copy and the pages
/// left zero (see the crate documentation), plus the entry point, the TLS
/// template and the values of the auxiliary vector.
///
/// # Errors
///
/// One [`ElfError`] per reason the file cannot be loaded: not a
/// little-endian x86_64 ELF64 executable, a dynamically linked program, a
/// header or segment out of the file or out of user space, segments out of
/// order, overlapping, writable and executable, an entry point outside the
/// code, a bad TLS template or an executable stack. `docs/elf.md` lists them
/// all.
pub fn parse(file: &[u8], opts: &Options) -> Result<Image, ElfError> {
    let header = FileHeader::read(file)?;
    let kind = match header.e_type {
        ET_EXEC => Kind::Exec,
        ET_DYN => Kind::StaticPie,
        _ => return Err(ElfError::NotExecutable),
    };
    if opts.file_page_offset >= PAGE_BYTES {
        return Err(ElfError::BadFilePageOffset);
    }
    let bias = match kind {
        Kind::Exec => 0,
        Kind::StaticPie if is_page_aligned(opts.base) => opts.base,
        Kind::StaticPie => return Err(ElfError::MisalignedBase),
    };
    let file_len = u64::try_from(file.len()).map_err(|_| ElfError::PhdrsOutOfFile)?;
    let table = program_header_table(file, &header)?;

    let mut image = Image {
        kind,
        bias,
        entry: 0,
        segments: [Segment::default(); MAX_SEGMENTS],
        count: 0,
        tls: None,
        phdr: None,
        phnum: header.phnum,
        load_align: PAGE_BYTES,
        stack_size: None,
    };
    let plan = Planner {
        file_len,
        bias,
        file_page_offset: opts.file_page_offset,
    };
    for entry in table.chunks_exact(usize::from(PHDR_BYTES)) {
        let ph = entry
            .first_chunk()
            .and_then(ProgramHeader::read)
            .ok_or(ElfError::PhdrsOutOfFile)?;
        match ph.p_type {
            PT_LOAD => {
                if let Some(segment) = plan.segment(&ph)? {
                    push_segment(&mut image, segment)?;
                    image.load_align = image.load_align.max(ph.align);
                }
            }
            PT_INTERP => return Err(ElfError::NeedsInterpreter),
            PT_TLS => {
                if image.tls.is_some() {
                    return Err(ElfError::MultipleTls);
                }
                image.tls = Some(tls_template(&ph, file_len)?);
            }
            PT_GNU_STACK => {
                if ph.flags & PF_X != 0 {
                    return Err(ElfError::ExecutableStack);
                }
                image.stack_size = (ph.memsz != 0).then_some(ph.memsz);
            }
            _ => {}
        }
    }
    if image.count == 0 {
        return Err(ElfError::NoLoadSegments);
    }

    image.entry = header
        .entry
        .checked_add(bias)
        .ok_or(ElfError::EntryNotExecutable)?;
    let entry_is_code = image.segments().iter().any(|segment| {
        segment.access.exec
            && image
                .entry
                .checked_sub(segment.vaddr)
                .is_some_and(|offset| offset < segment.mem_bytes)
    });
    if !entry_is_code {
        return Err(ElfError::EntryNotExecutable);
    }
    image.phdr = phdr_address(&image, &header);
    Ok(image)
}

/// The program header table's bytes, after checking its size and place.
fn program_header_table<'file>(
    file: &'file [u8],
    header: &FileHeader,
) -> Result<&'file [u8], ElfError> {
    if header.phentsize != PHDR_BYTES {
        return Err(ElfError::BadPhentsize);
    }
    match header.phnum {
        0 => return Err(ElfError::NoProgramHeaders),
        PN_XNUM => return Err(ElfError::ExtendedPhnum),
        count if count > MAX_PHNUM => return Err(ElfError::TooManyProgramHeaders),
        _ => {}
    }
    let start = usize::try_from(header.phoff).map_err(|_| ElfError::PhdrsOutOfFile)?;
    let len = usize::from(header.phnum)
        .checked_mul(usize::from(PHDR_BYTES))
        .ok_or(ElfError::PhdrsOutOfFile)?;
    let end = start.checked_add(len).ok_or(ElfError::PhdrsOutOfFile)?;
    file.get(start..end).ok_or(ElfError::PhdrsOutOfFile)
}

/// Appends `segment` after checking that it comes after the last one and
/// shares no page with it (so, by induction, with none before it).
fn push_segment(image: &mut Image, segment: Segment) -> Result<(), ElfError> {
    if let Some(previous) = image.segments().last() {
        if segment.vaddr < previous.vaddr {
            return Err(ElfError::UnsortedSegments);
        }
        if segment.start < previous.end() {
            return Err(ElfError::OverlappingSegments);
        }
    }
    let slot = image
        .segments
        .get_mut(image.count)
        .ok_or(ElfError::TooManySegments)?;
    *slot = segment;
    image.count = image
        .count
        .checked_add(1)
        .ok_or(ElfError::TooManySegments)?;
    Ok(())
}

/// Where the program header table is in memory: inside the file bytes of
/// the segment that holds file offset `e_phoff` and the whole table.
fn phdr_address(image: &Image, header: &FileHeader) -> Option<u64> {
    let table_bytes = u64::from(header.phnum).checked_mul(u64::from(PHDR_BYTES))?;
    let table_end = header.phoff.checked_add(table_bytes)?;
    image.segments().iter().find_map(|segment| {
        let file_end = segment.file_offset.checked_add(segment.file_bytes)?;
        let inside = segment.file_offset <= header.phoff && table_end <= file_end;
        if !inside {
            return None;
        }
        segment
            .vaddr
            .checked_add(header.phoff.checked_sub(segment.file_offset)?)
    })
}

/// Checks a `PT_TLS` header and keeps its template.
fn tls_template(ph: &ProgramHeader, file_len: u64) -> Result<TlsTemplate, ElfError> {
    let file_end = ph.offset.checked_add(ph.filesz);
    if file_end.is_none_or(|end| end > file_len) {
        return Err(ElfError::TlsOutOfFile);
    }
    if ph.filesz > ph.memsz {
        return Err(ElfError::TlsFileSizeExceedsMemSize);
    }
    let align = match ph.align {
        0 | 1 => 1,
        align if align.is_power_of_two() => align,
        _ => return Err(ElfError::TlsBadAlignment),
    };
    let template = TlsTemplate {
        file_offset: ph.offset,
        file_bytes: ph.filesz,
        mem_bytes: ph.memsz,
        align,
    };
    // The largest TCB the runtime may ask for must fit with it (then every
    // smaller one does too).
    tls_layout(Some(&template), TCB_MAX_BYTES)?;
    Ok(template)
}

/// What the plan of one segment depends on besides its program header.
struct Planner {
    /// Length of the file.
    file_len: u64,
    /// Added to every address in the file.
    bias: u64,
    /// [`Options::file_page_offset`].
    file_page_offset: u64,
}

impl Planner {
    /// Checks one `PT_LOAD` and plans it: `None` for an empty one (memsz 0),
    /// which is checked against the file but otherwise ignored.
    fn segment(&self, ph: &ProgramHeader) -> Result<Option<Segment>, ElfError> {
        let file_end = ph.offset.checked_add(ph.filesz);
        if file_end.is_none_or(|end| end > self.file_len) {
            return Err(ElfError::SegmentOutOfFile);
        }
        if ph.filesz > ph.memsz {
            return Err(ElfError::FileSizeExceedsMemSize);
        }
        if ph.align > 1 {
            if !ph.align.is_power_of_two() {
                return Err(ElfError::BadAlignment);
            }
            if !same_offset_in(ph.offset, ph.vaddr, ph.align) {
                return Err(ElfError::MisalignedSegment);
            }
        }
        if ph.memsz == 0 {
            return Ok(None);
        }

        let access = Access {
            read: ph.flags & PF_R != 0,
            write: ph.flags & PF_W != 0,
            exec: ph.flags & PF_X != 0,
        };
        if access.write && access.exec {
            return Err(ElfError::WritableAndExecutable);
        }
        let vaddr = ph
            .vaddr
            .checked_add(self.bias)
            .ok_or(ElfError::AddressOverflow)?;
        let mem_end = vaddr
            .checked_add(ph.memsz)
            .ok_or(ElfError::AddressOverflow)?;
        // USER_START and USER_END are page-aligned, so comparing the exact
        // range is the same as comparing the page-rounded one.
        if vaddr < USER_START {
            return Err(ElfError::BelowUserStart);
        }
        if mem_end > USER_END {
            return Err(ElfError::AboveUserEnd);
        }
        let start = page_down(vaddr);
        let end = page_up(mem_end).ok_or(ElfError::AddressOverflow)?;
        let pages = end
            .checked_sub(start)
            .and_then(|bytes| bytes.checked_div(PAGE_BYTES))
            .ok_or(ElfError::AddressOverflow)?;

        let mut segment = Segment {
            vaddr,
            mem_bytes: ph.memsz,
            file_offset: ph.offset,
            file_bytes: ph.filesz,
            start,
            pages,
            access,
            direct: None,
            copies: [None, None],
        };
        let direct_ok = !access.write
            && self.file_page_offset == 0
            && same_offset_in(ph.offset, vaddr, PAGE_BYTES);
        plan_file_bytes(&mut segment, direct_ok, self.file_len).ok_or(ElfError::AddressOverflow)?;
        Ok(Some(segment))
    }
}

/// Fills in `direct` and `copies` of `segment`, whose addresses are checked.
/// `direct_ok`: whether its file pages may be mapped as they are. `None`
/// only if arithmetic overflows, which the checks before rule out.
///
/// The direct pages are the whole pages of its file bytes, and also the
/// partial first and last ones when the file's page there lies wholly
/// inside the file and the segment has no zero-filled bytes in it: as on
/// Linux, the bytes of that page outside the segment then show (they are
/// the file's own, which the program could read anyway), and nothing past
/// the file's end ever does. Only what remains is copied.
fn plan_file_bytes(segment: &mut Segment, direct_ok: bool, file_len: u64) -> Option<()> {
    if segment.file_bytes == 0 {
        return Some(());
    }
    let data_end = segment.vaddr.checked_add(segment.file_bytes)?;
    let mem_end = segment.vaddr.checked_add(segment.mem_bytes)?;
    // The file offset of the page at `page` (a page of the segment): it
    // may lie before the segment's first byte, never before the file's
    // (`direct_ok` says the offset and the address agree within a page).
    let offset_of = |page: u64| match page.checked_sub(segment.vaddr) {
        Some(after) => segment.file_offset.checked_add(after),
        None => segment
            .file_offset
            .checked_sub(segment.vaddr.checked_sub(page)?),
    };
    // Whether the partial page at `page` can show the file as it is: all
    // of it in the file, and none of the segment's zero bytes in it.
    let whole_in_file = |page: u64| {
        let no_zeroes = mem_end <= data_end || data_end >= page.saturating_add(PAGE_BYTES);
        no_zeroes
            && offset_of(page)
                .and_then(|offset| offset.checked_add(PAGE_BYTES))
                .is_some_and(|end| end <= file_len)
    };
    let head = page_down(segment.vaddr);
    let tail = page_down(data_end);
    let direct_start = if head == segment.vaddr || whole_in_file(head) {
        head
    } else {
        page_up(segment.vaddr)?
    };
    let direct_end = if tail == data_end || !whole_in_file(tail) {
        tail
    } else {
        page_up(data_end)?
    };
    if direct_ok && direct_start < direct_end {
        let copy = |from: u64, to: u64| -> Option<Option<FileCopy>> {
            let Some(len) = to.checked_sub(from).filter(|&len| len > 0) else {
                return Some(None);
            };
            Some(Some(FileCopy {
                vaddr: from,
                file_offset: offset_of(from)?,
                len,
            }))
        };
        let direct = DirectMap {
            vaddr: direct_start,
            file_offset: offset_of(direct_start)?,
            pages: direct_end
                .checked_sub(direct_start)?
                .checked_div(PAGE_BYTES)?,
        };
        segment.copies = [
            copy(segment.vaddr, direct_start)?,
            copy(direct_end, data_end)?,
        ];
        segment.direct = Some(direct);
    } else {
        segment.copies = [
            Some(FileCopy {
                vaddr: segment.vaddr,
                file_offset: segment.file_offset,
                len: segment.file_bytes,
            }),
            None,
        ];
    }
    Some(())
}

/// Whether `a` and `b` have the same remainder modulo `align`, a power of
/// two.
fn same_offset_in(a: u64, b: u64, align: u64) -> bool {
    let mask = align.wrapping_sub(1);
    (a ^ b) & mask == 0
}

/// The bits of an address below the page size.
const PAGE_MASK: u64 = PAGE_BYTES - 1;

/// Whether `addr` is a multiple of the page size.
fn is_page_aligned(addr: u64) -> bool {
    addr & PAGE_MASK == 0
}

/// `addr` rounded down to a page.
fn page_down(addr: u64) -> u64 {
    addr & !PAGE_MASK
}

/// `addr` rounded up to a page, if that does not overflow.
fn page_up(addr: u64) -> Option<u64> {
    Some(addr.checked_add(PAGE_MASK)? & !PAGE_MASK)
}
