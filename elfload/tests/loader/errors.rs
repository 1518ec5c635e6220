//! One test per reason to refuse a file, each asserting the exact
//! [`ElfError`] for a file that is valid except for that one fault.

use abi::layout::{PAGE_BYTES, USER_END};
use elfload::{ElfError, Image, Options, parse};

use crate::builder::*;
use crate::invariants::check_image;

/// Where the tests load static-pies.
pub const PIE_BASE: u64 = 0x1000_0000;

/// Options for `elf`: the test base for a static-pie, nothing for others.
pub fn options_for(elf: &Elf) -> Options {
    Options {
        base: if elf.e_type == ET_DYN { PIE_BASE } else { 0 },
        file_page_offset: 0,
    }
}

/// The error `parse` gives for `elf`.
#[track_caller]
pub fn error(elf: &Elf) -> ElfError {
    error_with(elf, &options_for(elf))
}

/// The error `parse` gives for `elf` with `opts`.
#[track_caller]
pub fn error_with(elf: &Elf, opts: &Options) -> ElfError {
    match parse(&elf.build(), opts) {
        Ok(image) => panic!("accepted: {image:#?}"),
        Err(error) => error,
    }
}

/// The image `parse` gives for `elf`, after checking its invariants.
#[track_caller]
pub fn image(elf: &Elf) -> Image {
    image_with(elf, &options_for(elf))
}

/// The image `parse` gives for `elf` with `opts`, after checking its
/// invariants.
#[track_caller]
pub fn image_with(elf: &Elf, opts: &Options) -> Image {
    let file = elf.build();
    let image = parse(&file, opts).unwrap_or_else(|error| panic!("refused: {error}"));
    check_image(&image, &file, opts);
    image
}

#[test]
fn the_test_files_are_valid() {
    image(&Elf::exec());
    image(&Elf::pie());
}

#[test]
fn too_short() {
    let file = Elf::exec().build();
    for len in [0, 1, 4, 63] {
        assert_eq!(
            parse(&file[..len], &Options::default()),
            Err(ElfError::TooShort)
        );
    }
}

#[test]
fn bad_magic() {
    for (at, value) in [(0, 0x7e), (1, b'e'), (3, 0)] {
        let mut elf = Elf::exec();
        elf.ident[at] = value;
        assert_eq!(error(&elf), ElfError::BadMagic);
    }
}

#[test]
fn thirty_two_bit() {
    for class in [0, 1, 3] {
        let mut elf = Elf::exec();
        elf.ident[4] = class;
        assert_eq!(error(&elf), ElfError::Not64Bit);
    }
}

#[test]
fn big_endian() {
    for data in [0, 2] {
        let mut elf = Elf::exec();
        elf.ident[5] = data;
        assert_eq!(error(&elf), ElfError::NotLittleEndian);
    }
}

#[test]
fn bad_version() {
    let mut elf = Elf::exec();
    elf.ident[6] = 0;
    assert_eq!(error(&elf), ElfError::BadVersion);
    let mut elf = Elf::exec();
    elf.version = 2;
    assert_eq!(error(&elf), ElfError::BadVersion);
}

#[test]
fn wrong_machine() {
    for machine in [0, 3, 183, 62 << 8] {
        let mut elf = Elf::exec();
        elf.machine = machine;
        assert_eq!(error(&elf), ElfError::WrongMachine);
    }
}

#[test]
fn not_an_executable() {
    for e_type in [0, 1, 4, 0xfe00] {
        let mut elf = Elf::exec();
        elf.e_type = e_type;
        assert_eq!(error(&elf), ElfError::NotExecutable);
    }
}

#[test]
fn misaligned_base() {
    let opts = Options {
        base: PIE_BASE + 0x800,
        file_page_offset: 0,
    };
    assert_eq!(error_with(&Elf::pie(), &opts), ElfError::MisalignedBase);
    // An ET_EXEC ignores the base, aligned or not.
    let image = image_with(&Elf::exec(), &opts);
    assert_eq!(image.bias(), 0);
}

#[test]
fn bad_file_page_offset() {
    for file_page_offset in [PAGE_BYTES, PAGE_BYTES + 1, u64::MAX] {
        let opts = Options {
            base: 0,
            file_page_offset,
        };
        assert_eq!(error_with(&Elf::exec(), &opts), ElfError::BadFilePageOffset);
    }
}

#[test]
fn bad_phentsize() {
    for size in [0, 32, 55, 57, 64] {
        let mut elf = Elf::exec();
        elf.phentsize = size;
        assert_eq!(error(&elf), ElfError::BadPhentsize);
    }
}

#[test]
fn no_program_headers() {
    let mut elf = Elf::exec();
    elf.phnum = Some(0);
    assert_eq!(error(&elf), ElfError::NoProgramHeaders);
}

#[test]
fn extended_phnum() {
    let mut elf = Elf::exec();
    elf.phnum = Some(0xffff);
    assert_eq!(error(&elf), ElfError::ExtendedPhnum);
}

#[test]
fn too_many_program_headers() {
    let mut elf = Elf::exec();
    while elf.phdrs.len() < 64 {
        elf.phdrs.push(Ph::other(0, 0));
    }
    image(&elf);
    elf.phdrs.push(Ph::other(0, 0));
    assert_eq!(error(&elf), ElfError::TooManyProgramHeaders);
    elf.phnum = Some(0xfffe);
    assert_eq!(error(&elf), ElfError::TooManyProgramHeaders);
}

#[test]
fn program_headers_out_of_file() {
    let elf = Elf::exec();
    let file = elf.build();
    let table_end = (EHDR + PHDR * elf.phdrs.len() as u64) as usize;
    // Truncated inside the table.
    assert_eq!(
        parse(&file[..table_end - 1], &Options::default()),
        Err(ElfError::PhdrsOutOfFile)
    );
    // Past the end, and overflowing.
    for phoff in [elf.len, elf.len - 100, u64::MAX - 10, u64::MAX] {
        let mut moved = Elf::exec();
        moved.phoff = phoff;
        let mut file = moved.build();
        file.truncate(elf.len as usize);
        assert_eq!(
            parse(&file, &Options::default()),
            Err(ElfError::PhdrsOutOfFile),
            "phoff {phoff:#x}"
        );
    }
}

#[test]
fn interpreter() {
    let interp = Ph {
        offset: 0x100,
        filesz: 0x1c,
        ..Ph::other(PT_INTERP, R)
    };
    assert_eq!(error(&Elf::exec().with(interp)), ElfError::NeedsInterpreter);
    assert_eq!(error(&Elf::pie().with(interp)), ElfError::NeedsInterpreter);
    // PT_DYNAMIC without PT_INTERP is fine (a static-pie has one).
    let dynamic = Ph {
        offset: 0x3f00,
        vaddr: 0x4f00,
        filesz: 0x100,
        memsz: 0x100,
        ..Ph::other(PT_DYNAMIC, R | W)
    };
    image(&Elf::pie().with(dynamic));
    image(&Elf::exec().with(dynamic));
}

#[test]
fn segment_out_of_file() {
    let mut elf = Elf::exec();
    elf.phdrs[1].filesz = elf.len - elf.phdrs[1].offset + 1;
    elf.phdrs[1].memsz = elf.phdrs[1].filesz;
    assert_eq!(error(&elf), ElfError::SegmentOutOfFile);
    let mut elf = Elf::exec();
    elf.phdrs[2].offset = u64::MAX - 0xff;
    elf.phdrs[2].vaddr = u64::MAX - 0xff;
    assert_eq!(error(&elf), ElfError::SegmentOutOfFile);
    // An empty segment is still checked against the file.
    let mut elf = Elf::exec();
    elf.phdrs.push(Ph::load(R, 0x5000, 0x50_0000, 0x10, 0));
    assert_eq!(error(&elf), ElfError::SegmentOutOfFile);
}

#[test]
fn file_size_exceeds_mem_size() {
    let mut elf = Elf::exec();
    elf.phdrs[2].memsz = elf.phdrs[2].filesz - 1;
    assert_eq!(error(&elf), ElfError::FileSizeExceedsMemSize);
}

#[test]
fn bad_alignment() {
    for align in [3, 0x1800, 0x1001, u64::MAX] {
        let mut elf = Elf::exec();
        elf.phdrs[1].align = align;
        assert_eq!(error(&elf), ElfError::BadAlignment, "align {align:#x}");
    }
}

#[test]
fn misaligned_segment() {
    let mut elf = Elf::exec();
    elf.phdrs[1].vaddr += 0x800;
    elf.entry += 0x800;
    assert_eq!(error(&elf), ElfError::MisalignedSegment);
    // The same offsets modulo a page but not modulo a larger p_align.
    let mut elf = Elf::exec();
    elf.phdrs[1].align = 0x20_0000;
    elf.phdrs[1].vaddr += 0x10_0000;
    elf.phdrs[2].vaddr += 0x10_0000;
    elf.entry += 0x10_0000;
    assert_eq!(error(&elf), ElfError::MisalignedSegment);
}

#[test]
fn address_overflow() {
    // p_vaddr + p_memsz wraps.
    let mut elf = Elf::exec();
    elf.phdrs[2].vaddr = u64::MAX - 0xff;
    elf.phdrs[2].offset = 0x3f00;
    elf.phdrs[2].align = 0;
    assert_eq!(error(&elf), ElfError::AddressOverflow);
    // The load bias wraps p_vaddr (of the text, at 0x1000).
    let opts = Options {
        base: u64::MAX - PAGE_BYTES + 1,
        file_page_offset: 0,
    };
    let mut elf = Elf::pie();
    elf.phdrs.remove(0);
    assert_eq!(error_with(&elf, &opts), ElfError::AddressOverflow);
}

#[test]
fn below_user_start() {
    let mut elf = Elf::exec();
    elf.phdrs[0].vaddr = 0;
    assert_eq!(error(&elf), ElfError::BelowUserStart);
    let mut elf = Elf::exec();
    elf.phdrs[0].vaddr = 0xfff;
    elf.phdrs[0].align = 1;
    assert_eq!(error(&elf), ElfError::BelowUserStart);
    // A static-pie linked at 0 needs a base.
    let opts = Options::default();
    assert_eq!(error_with(&Elf::pie(), &opts), ElfError::BelowUserStart);
}

#[test]
fn above_user_end() {
    // Reaching one byte past USER_END.
    let mut elf = Elf::exec();
    elf.phdrs[2].vaddr = USER_END - 0x3100 + 1;
    elf.phdrs[2].align = 1;
    assert_eq!(error(&elf), ElfError::AboveUserEnd);
    // In the kernel half.
    let mut elf = Elf::exec();
    elf.phdrs[2].vaddr = 0xffff_8000_0000_0f00;
    assert_eq!(error(&elf), ElfError::AboveUserEnd);
    // A static-pie moved up there.
    let opts = Options {
        base: USER_END - 0x4000,
        file_page_offset: 0,
    };
    assert_eq!(error_with(&Elf::pie(), &opts), ElfError::AboveUserEnd);
    // Ending exactly at USER_END is fine.
    let mut elf = Elf::exec();
    elf.phdrs[2].vaddr = USER_END - 0x3100;
    elf.phdrs[2].align = 1;
    let image = image(&elf);
    assert_eq!(image.segments()[2].end(), USER_END);
}

#[test]
fn writable_and_executable() {
    let mut elf = Elf::exec();
    elf.phdrs[1].flags = R | W | X;
    assert_eq!(error(&elf), ElfError::WritableAndExecutable);
    let mut elf = Elf::exec();
    elf.phdrs[2].flags = W | X;
    assert_eq!(error(&elf), ElfError::WritableAndExecutable);
}

#[test]
fn unsorted_segments() {
    let mut elf = Elf::exec();
    elf.phdrs.swap(1, 2);
    assert_eq!(error(&elf), ElfError::UnsortedSegments);
}

#[test]
fn overlapping_segments() {
    // The data segment starts on the page where the text ends.
    let mut elf = Elf::exec();
    elf.phdrs[2].vaddr = 0x40_3f00;
    assert_eq!(error(&elf), ElfError::OverlappingSegments);
    // Two segments at the same address.
    let mut elf = Elf::exec();
    elf.phdrs.insert(2, elf.phdrs[1]);
    assert_eq!(error(&elf), ElfError::OverlappingSegments);
    // Disjoint bytes, shared page.
    let mut elf = Elf::exec();
    elf.phdrs[0].filesz = 0x100;
    elf.phdrs[0].memsz = 0x100;
    elf.phdrs
        .insert(1, Ph::load(R, 0x200, 0x40_0200, 0x10, 0x10).align(0));
    assert_eq!(error(&elf), ElfError::OverlappingSegments);
}

#[test]
fn too_many_segments() {
    let mut elf = Elf::exec();
    elf.phdrs.truncate(2);
    // 6 more read-only one-page segments after the text: 8 in all.
    for index in 0..6 {
        let vaddr = 0x50_0000 + index * 0x1000;
        elf.phdrs
            .push(Ph::load(R, 0x100, vaddr + 0x100, 0x10, 0x10));
    }
    let image = image(&elf);
    assert_eq!(image.segments().len(), elfload::MAX_SEGMENTS);
    elf.phdrs.push(Ph::load(R, 0x100, 0x60_0100, 0x10, 0x10));
    assert_eq!(error(&elf), ElfError::TooManySegments);
    // Empty segments do not count.
    elf.phdrs.pop();
    elf.phdrs.push(Ph::load(R, 0x100, 0x60_0100, 0, 0));
    image_with(&elf, &Options::default());
}

#[test]
fn no_load_segments() {
    let mut elf = Elf::exec();
    elf.phdrs.retain(|ph| ph.p_type != PT_LOAD);
    assert_eq!(error(&elf), ElfError::NoLoadSegments);
    let mut elf = Elf::exec();
    for ph in &mut elf.phdrs {
        ph.filesz = 0;
        ph.memsz = 0;
    }
    assert_eq!(error(&elf), ElfError::NoLoadSegments);
}

#[test]
fn entry_not_executable() {
    for entry in [
        0,
        0x40_0000, // the read-only headers
        0x40_0fff, // the page between headers and text
        0x40_3345, // one past the text
        0x40_5000, // the data
        u64::MAX,
    ] {
        let mut elf = Elf::exec();
        elf.entry = entry;
        assert_eq!(
            error(&elf),
            ElfError::EntryNotExecutable,
            "entry {entry:#x}"
        );
    }
    // The first and last byte of the text are fine.
    for entry in [0x40_1000, 0x40_3344] {
        let mut elf = Elf::exec();
        elf.entry = entry;
        assert_eq!(image(&elf).entry(), entry);
    }
    // e_entry + base wraps.
    let mut elf = Elf::pie();
    elf.entry = u64::MAX - PIE_BASE + 1;
    assert_eq!(error(&elf), ElfError::EntryNotExecutable);
}

/// A `PT_TLS` header inside the data segment's file bytes.
pub fn tls() -> Ph {
    Ph {
        offset: 0x3f00,
        vaddr: 0x40_4f00,
        filesz: 0x20,
        memsz: 0x48,
        align: 8,
        ..Ph::other(PT_TLS, R)
    }
}

#[test]
fn multiple_tls() {
    let elf = Elf::exec().with(tls()).with(tls());
    assert_eq!(error(&elf), ElfError::MultipleTls);
}

#[test]
fn tls_out_of_file() {
    let len = Elf::exec().len;
    for (offset, filesz) in [(len - 0x10, 0x11), (u64::MAX, 1), (len + 1, 0)] {
        let elf = Elf::exec().with(Ph {
            offset,
            filesz,
            memsz: 0x100,
            ..tls()
        });
        assert_eq!(error(&elf), ElfError::TlsOutOfFile);
    }
}

#[test]
fn tls_file_size_exceeds_mem_size() {
    let elf = Elf::exec().with(Ph {
        filesz: 0x49,
        ..tls()
    });
    assert_eq!(error(&elf), ElfError::TlsFileSizeExceedsMemSize);
}

#[test]
fn tls_bad_alignment() {
    for align in [3, 24, u64::MAX] {
        let elf = Elf::exec().with(Ph { align, ..tls() });
        assert_eq!(error(&elf), ElfError::TlsBadAlignment);
    }
}

#[test]
fn tls_too_large() {
    let elf = Elf::exec().with(Ph {
        memsz: USER_END + 1,
        ..tls()
    });
    assert_eq!(error(&elf), ElfError::TlsTooLarge);
    let elf = Elf::exec().with(Ph {
        align: 1 << 63,
        ..tls()
    });
    assert_eq!(error(&elf), ElfError::TlsTooLarge);
}

#[test]
fn executable_stack() {
    let mut elf = Elf::exec();
    elf.phdrs[3].flags = R | W | X;
    assert_eq!(error(&elf), ElfError::ExecutableStack);
    // No PT_GNU_STACK at all is fine: the stack is never executable.
    let mut elf = Elf::exec();
    elf.phdrs.pop();
    image(&elf);
}

#[test]
fn messages_are_distinct_sentences() {
    use ElfError::*;
    let all = [
        TooShort,
        BadMagic,
        Not64Bit,
        NotLittleEndian,
        BadVersion,
        WrongMachine,
        NotExecutable,
        MisalignedBase,
        BadFilePageOffset,
        BadPhentsize,
        NoProgramHeaders,
        ExtendedPhnum,
        TooManyProgramHeaders,
        PhdrsOutOfFile,
        NeedsInterpreter,
        SegmentOutOfFile,
        FileSizeExceedsMemSize,
        BadAlignment,
        MisalignedSegment,
        AddressOverflow,
        BelowUserStart,
        AboveUserEnd,
        WritableAndExecutable,
        UnsortedSegments,
        OverlappingSegments,
        TooManySegments,
        NoLoadSegments,
        EntryNotExecutable,
        MultipleTls,
        TlsOutOfFile,
        TlsFileSizeExceedsMemSize,
        TlsBadAlignment,
        TlsTooLarge,
        ExecutableStack,
        BadShentsize,
        SectionHeadersOutOfFile,
        BadShstrndx,
        BadSectionNameTable,
        BadSectionName,
        SectionOutOfFile,
    ];
    let messages: std::collections::BTreeSet<String> =
        all.iter().map(|error| error.to_string()).collect();
    assert_eq!(messages.len(), all.len());
    for message in messages {
        assert!(message.len() > 10 && !message.ends_with('.'), "{message}");
    }
}
