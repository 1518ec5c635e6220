//! Plans of good files: which pages are direct, which bytes are copied,
//! which stay zero, and the values the runtime passes on.
//!
//! Every image here also goes through `check_image`, which loads small
//! images into a model memory and compares each byte with the file.

use abi::MapFlags;
use abi::layout::PAGE_BYTES;
use elfload::{
    Access, DirectMap, FileCopy, Kind, Options, PageRange, Segment, TlsTemplate, parse,
    random_offset,
};

use crate::builder::*;
use crate::errors::{PIE_BASE, image, image_with, tls};
use crate::invariants::{check_image, load_model};

/// Options with the file `file_page_offset` bytes into its first page.
fn unaligned(file_page_offset: u64) -> Options {
    Options {
        base: 0,
        file_page_offset,
    }
}

#[test]
fn static_executable_plan() {
    let image = image(&Elf::exec());
    assert_eq!(image.kind(), Kind::Exec);
    assert_eq!(image.bias(), 0);
    assert_eq!(image.entry(), 0x40_1010);
    assert_eq!(image.phdr(), Some(0x40_0040));
    assert_eq!(image.phnum(), 4);
    assert_eq!(image.phentsize(), 56);
    assert_eq!(image.tls(), None);
    assert_eq!(image.stack_size(), None);
    assert_eq!(image.load_align(), PAGE_BYTES);
    assert_eq!(
        image.span(),
        PageRange {
            start: 0x40_0000,
            pages: 8
        }
    );
    let read_only = Access {
        read: true,
        ..Access::default()
    };
    assert_eq!(
        image.segments(),
        [
            // Headers: less than a page, but its page of the file is all
            // there: mapped as it is.
            Segment {
                vaddr: 0x40_0000,
                mem_bytes: 0x1c8,
                file_offset: 0,
                file_bytes: 0x1c8,
                start: 0x40_0000,
                pages: 1,
                access: read_only,
                direct: Some(DirectMap {
                    vaddr: 0x40_0000,
                    file_offset: 0,
                    pages: 1
                }),
                copies: [None, None],
            },
            // Text: two whole pages and the partial tail, whose page of the
            // file lies inside it: all mapped.
            Segment {
                vaddr: 0x40_1000,
                mem_bytes: 0x2345,
                file_offset: 0x1000,
                file_bytes: 0x2345,
                start: 0x40_1000,
                pages: 3,
                access: Access {
                    exec: true,
                    ..read_only
                },
                direct: Some(DirectMap {
                    vaddr: 0x40_1000,
                    file_offset: 0x1000,
                    pages: 3
                }),
                copies: [None, None],
            },
            // Data: writable, so copied; .bss after it.
            Segment {
                vaddr: 0x40_4f00,
                mem_bytes: 0x3100,
                file_offset: 0x3f00,
                file_bytes: 0x200,
                start: 0x40_4000,
                pages: 4,
                access: Access {
                    write: true,
                    ..read_only
                },
                direct: None,
                copies: [
                    Some(FileCopy {
                        vaddr: 0x40_4f00,
                        file_offset: 0x3f00,
                        len: 0x200
                    }),
                    None
                ],
            },
        ]
    );
    let text = image.segments()[1];
    assert_eq!(text.fresh_ranges(), [None, None]);
}

#[test]
fn partial_pages_inside_the_file_are_mapped() {
    // Read-only data from file 0x100 to 0x3100 at 0x500100: its first and
    // last pages are partial, but the file's pages there lie inside the
    // file, so they are mapped as they are, as on Linux.
    let mut elf = Elf::exec();
    elf.phdrs
        .insert(2, Ph::load(R, 0x100, 0x50_0100, 0x3000, 0x3000));
    elf.phdrs[3].vaddr += 0x10_0000;
    let file = elf.build();
    let image = image(&elf);
    let segment = image.segments()[2];
    assert_eq!(
        segment.direct,
        Some(DirectMap {
            vaddr: 0x50_0000,
            file_offset: 0,
            pages: 4
        })
    );
    assert_eq!(segment.copies, [None, None]);
    assert_eq!(segment.fresh_ranges(), [None, None]);
    // The file bytes around the segment show (the headers before it, the
    // text after it).
    let memory = load_model(&image, &file);
    assert_eq!(memory[&0x50_0000][..], file[..0x1000]);
    assert_eq!(memory[&0x50_3000][..], file[0x3000..0x4000]);
}

#[test]
fn partial_pages_past_the_file_or_over_zeroes_are_copied() {
    // The same segment in a file that ends 0x100 bytes after it (the data
    // segment gone): its last page of the file would reach past the end,
    // so its part is copied into a fresh page, zero after it.
    let mut elf = Elf::exec();
    elf.phdrs[2] = Ph::load(R, 0x100, 0x50_0100, 0x3000, 0x3000);
    elf.len = 0x3400;
    let file = elf.build();
    let plan = image(&elf);
    let segment = plan.segments()[2];
    assert_eq!(
        segment.direct,
        Some(DirectMap {
            vaddr: 0x50_0000,
            file_offset: 0,
            pages: 3
        })
    );
    assert_eq!(
        segment.copies,
        [
            None,
            Some(FileCopy {
                vaddr: 0x50_3000,
                file_offset: 0x3000,
                len: 0x100
            })
        ]
    );
    assert_eq!(
        segment.fresh_ranges(),
        [
            None,
            Some(PageRange {
                start: 0x50_3000,
                pages: 1
            })
        ]
    );
    let memory = load_model(&plan, &file);
    let tail = &memory[&0x50_3000];
    assert_eq!(tail[..0x100], file[0x3000..0x3100]);
    assert!(tail[0x100..].iter().all(|&byte| byte == 0));
    assert!(file[0x3100..0x3200].iter().all(|&byte| byte != 0));
    // A first page that holds zero bytes of the segment (its .bss) is
    // copied too, and so is its first page even when the file goes on:
    // the zeros must show, not the file.
    let mut elf = Elf::exec();
    elf.phdrs
        .insert(2, Ph::load(R, 0x1100, 0x50_0100, 0x10, 0x2000));
    elf.phdrs[3].vaddr += 0x10_0000;
    let file = elf.build();
    let plan = image(&elf);
    let segment = plan.segments()[2];
    assert_eq!(segment.direct, None);
    assert_eq!(
        segment.copies,
        [
            Some(FileCopy {
                vaddr: 0x50_0100,
                file_offset: 0x1100,
                len: 0x10
            }),
            None
        ]
    );
    let head = &load_model(&plan, &file)[&0x50_0000];
    assert!(head[..0x100].iter().all(|&byte| byte == 0));
    assert_eq!(head[0x100..0x110], file[0x1100..0x1110]);
    assert!(head[0x110..].iter().all(|&byte| byte == 0));
}

#[test]
fn read_only_bss_is_fresh_zero_pages() {
    let mut elf = Elf::exec();
    elf.phdrs
        .insert(2, Ph::load(R, 0x1000, 0x50_0000, 0x2000, 0x5000));
    elf.phdrs[3].vaddr += 0x20_0000;
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.pages, 5);
    assert_eq!(
        segment.direct,
        Some(DirectMap {
            vaddr: 0x50_0000,
            file_offset: 0x1000,
            pages: 2
        })
    );
    assert_eq!(segment.copies, [None, None]);
    assert_eq!(
        segment.fresh_ranges(),
        [
            None,
            Some(PageRange {
                start: 0x50_2000,
                pages: 3
            })
        ]
    );
}

#[test]
fn writable_segment_is_copied_whole() {
    let mut elf = Elf::exec();
    elf.phdrs[2] = Ph::load(R | W, 0x1000, 0x50_0000, 0x3000, 0x3800);
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.direct, None);
    assert_eq!(
        segment.copies,
        [
            Some(FileCopy {
                vaddr: 0x50_0000,
                file_offset: 0x1000,
                len: 0x3000
            }),
            None
        ]
    );
    assert_eq!(segment.fresh_ranges(), [Some(segment.page_range()), None]);
    assert!(segment.access.map_flags().contains(MapFlags::WRITE));
}

#[test]
fn unaligned_container_copies_everything() {
    let elf = Elf::exec();
    let file = elf.build();
    for file_page_offset in [1, 8, 0x800, PAGE_BYTES - 1] {
        let opts = unaligned(file_page_offset);
        let image = image_with(&elf, &opts);
        for segment in image.segments() {
            assert_eq!(segment.direct, None);
            assert_eq!(
                segment.copies,
                [
                    Some(FileCopy {
                        vaddr: segment.vaddr,
                        file_offset: segment.file_offset,
                        len: segment.file_bytes
                    }),
                    None
                ]
            );
        }
        // The same segment bytes as with an aligned file (whose direct
        // pages also show the file around them).
        let aligned = image_with(&elf, &Options::default());
        let (copied, mapped) = (load_model(&image, &file), load_model(&aligned, &file));
        for segment in image.segments() {
            for addr in segment.vaddr..segment.vaddr + segment.file_bytes {
                let page = addr / PAGE_BYTES * PAGE_BYTES;
                let at = (addr - page) as usize;
                assert_eq!(copied[&page][at], mapped[&page][at]);
            }
        }
    }
}

#[test]
fn align_zero_and_one_mean_no_alignment() {
    for align in [0, 1] {
        // Offset and address disagree within the page: legal, copied.
        let mut elf = Elf::exec();
        elf.phdrs.insert(
            2,
            Ph::load(R, 0x123, 0x50_0456, 0x2100, 0x2100).align(align),
        );
        elf.phdrs[3].vaddr += 0x10_0000;
        let segment = image(&elf).segments()[2];
        assert_eq!(segment.direct, None);
        assert_eq!(
            segment.copies,
            [
                Some(FileCopy {
                    vaddr: 0x50_0456,
                    file_offset: 0x123,
                    len: 0x2100
                }),
                None
            ]
        );
        // They agree: its pages of the file are mapped as they are.
        elf.phdrs[2] = Ph::load(R, 0x123, 0x50_0123, 0x2100, 0x2100).align(align);
        let segment = image(&elf).segments()[2];
        assert_eq!(
            segment.direct,
            Some(DirectMap {
                vaddr: 0x50_0000,
                file_offset: 0,
                pages: 3
            })
        );
    }
}

#[test]
fn static_pie_at_a_base() {
    let elf = Elf::pie();
    let pie = image(&elf);
    let exec = image(&Elf::exec());
    assert_eq!(pie.kind(), Kind::StaticPie);
    assert_eq!(pie.bias(), PIE_BASE);
    assert_eq!(pie.entry(), PIE_BASE + 0x1010);
    assert_eq!(pie.phdr(), Some(PIE_BASE + 0x40));
    // The plan of an ET_EXEC linked 0x400000 higher, moved.
    for (pie, exec) in pie.segments().iter().zip(exec.segments()) {
        let shift = |addr: u64| addr - 0x40_0000 + PIE_BASE;
        assert_eq!(pie.vaddr, shift(exec.vaddr));
        assert_eq!(pie.start, shift(exec.start));
        assert_eq!(pie.pages, exec.pages);
        assert_eq!(pie.file_offset, exec.file_offset);
        assert_eq!(
            pie.direct.map(|d| d.file_offset),
            exec.direct.map(|d| d.file_offset)
        );
        assert_eq!(
            pie.direct.map(|d| d.vaddr),
            exec.direct.map(|d| shift(d.vaddr))
        );
        let pie_copies: Vec<_> = pie.file_copies().map(|c| (c.vaddr, c.len)).collect();
        let exec_copies: Vec<_> = exec
            .file_copies()
            .map(|c| (shift(c.vaddr), c.len))
            .collect();
        assert_eq!(pie_copies, exec_copies);
    }
    // Any page-aligned base that keeps it in user space works.
    for base in [PAGE_BYTES, 0x5555_5555_4000, 0x7f00_0000_0000] {
        let opts = Options {
            base,
            file_page_offset: 0,
        };
        assert_eq!(image_with(&elf, &opts).entry(), base + 0x1010);
    }
}

#[test]
fn large_alignment_is_reported() {
    // Headers and text have the same offsets and addresses, so any
    // alignment holds for them.
    let mut elf = Elf::pie();
    elf.phdrs[0].align = 0x20_0000;
    elf.phdrs[1].align = 0x10_0000;
    assert_eq!(image(&elf).load_align(), 0x20_0000);
}

#[test]
fn other_headers_are_ignored() {
    let mut elf = Elf::exec();
    let note = Ph {
        offset: 0x100,
        vaddr: 0x40_0100,
        filesz: 0x20,
        memsz: 0x20,
        align: 4,
        ..Ph::other(PT_NOTE, R)
    };
    let phdr = Ph {
        offset: 0x40,
        vaddr: 0x40_0040,
        filesz: 0x1c0,
        memsz: 0x1c0,
        align: 8,
        ..Ph::other(PT_PHDR, R)
    };
    elf.phdrs.insert(0, phdr);
    elf.phdrs.push(note);
    elf.phdrs.push(Ph::other(PT_GNU_RELRO, R));
    // Garbage in headers of unknown types is not looked at.
    elf.phdrs.push(Ph {
        offset: u64::MAX,
        filesz: u64::MAX,
        align: 3,
        ..Ph::other(0x1234_5678, R | W | X)
    });
    let image = image(&elf);
    assert_eq!(image.segments().len(), 3);
    assert_eq!(image.phnum(), 8);
}

#[test]
fn empty_load_segments_are_skipped() {
    let mut elf = Elf::exec();
    // Even below USER_START, writable and executable, or out of order.
    elf.phdrs.insert(1, Ph::load(R | W | X, 0, 0, 0, 0));
    elf.phdrs.push(Ph::load(R, 0x1000, 0x1000, 0, 0));
    let image = image(&elf);
    assert_eq!(image.segments().len(), 3);
}

#[test]
fn gnu_stack_size() {
    let mut elf = Elf::exec();
    elf.phdrs[3].memsz = 0x80_0000;
    assert_eq!(image(&elf).stack_size(), Some(0x80_0000));
}

#[test]
fn segment_without_rights() {
    let mut elf = Elf::exec();
    elf.phdrs
        .insert(2, Ph::load(0, 0x1000, 0x50_0000, 0, 0x1000));
    elf.phdrs[3].vaddr += 0x10_0000;
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.access, Access::default());
    assert_eq!(segment.access.map_flags(), MapFlags::READ);
    assert_eq!(segment.copies, [None, None]);
}

#[test]
fn map_flags() {
    let access = |read, write, exec| Access { read, write, exec };
    assert_eq!(access(true, false, false).map_flags(), MapFlags::READ);
    assert_eq!(
        access(true, true, false).map_flags(),
        MapFlags::READ | MapFlags::WRITE
    );
    assert_eq!(
        access(false, false, true).map_flags(),
        MapFlags::READ | MapFlags::EXEC
    );
}

#[test]
fn tls_template_is_kept() {
    let with_tls = image(&Elf::exec().with(tls()));
    assert_eq!(
        with_tls.tls(),
        Some(TlsTemplate {
            file_offset: 0x3f00,
            file_bytes: 0x20,
            mem_bytes: 0x48,
            align: 8
        })
    );
    let mut zero_align = tls();
    zero_align.align = 0;
    let with_tls = image(&Elf::exec().with(zero_align));
    assert_eq!(with_tls.tls().map(|t| t.align), Some(1));
}

#[test]
fn phdr_only_when_a_segment_holds_it() {
    // Headers not loaded: no AT_PHDR.
    let mut elf = Elf::exec();
    elf.phdrs.remove(0);
    assert_eq!(image(&elf).phdr(), None);
    // Loaded, but only partly inside the file bytes.
    let mut elf = Elf::exec();
    elf.phdrs[0].filesz = 0x100;
    assert_eq!(image(&elf).phdr(), None);
}

#[test]
fn one_byte_and_page_edge_segments() {
    // A one-byte segment at the last byte of a page: the page is mapped.
    let mut elf = Elf::exec();
    elf.phdrs.insert(2, Ph::load(R, 0xfff, 0x50_0fff, 1, 1));
    elf.phdrs[3].vaddr += 0x10_0000;
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.pages, 1);
    assert_eq!(segment.copies, [None, None]);
    assert_eq!(segment.direct.map(|d| d.pages), Some(1));
    // With a byte of .bss after it on the next page: still mapped, and
    // the next page is fresh.
    elf.phdrs[2] = Ph::load(R, 0xfff, 0x50_0fff, 1, 2);
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.direct.map(|d| d.pages), Some(1));
    assert_eq!(segment.pages, 2);
    // With it on the same page: copied, so that the zero shows.
    elf.phdrs[2] = Ph::load(R, 0xff0, 0x50_0ff0, 1, 2);
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.direct, None);
    assert_eq!(segment.copies[0].map(|c| c.len), Some(1));
    // Exactly one whole page: direct, no copies.
    elf.phdrs[2] = Ph::load(R, 0x1000, 0x50_0000, 0x1000, 0x1000);
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.copies, [None, None]);
    assert_eq!(segment.direct.map(|d| d.pages), Some(1));
    // Spanning a page boundary without a whole page: both pages mapped.
    elf.phdrs[2] = Ph::load(R, 0x1800, 0x50_0800, 0x1000, 0x1000);
    let segment = image(&elf).segments()[2];
    assert_eq!(segment.pages, 2);
    assert_eq!(segment.direct.map(|d| d.pages), Some(2));
    assert_eq!(segment.copies, [None, None]);
}

#[test]
fn parse_reads_only_its_input() {
    // The same bytes in a larger buffer parse the same (nothing depends on
    // what follows the file), and a file ending right after its last
    // segment is fine.
    let elf = Elf::exec();
    let file = elf.build();
    let mut longer = file.clone();
    longer.extend_from_slice(&[0xff; 4096]);
    let opts = Options::default();
    assert_eq!(parse(&file, &opts), parse(&longer[..file.len()], &opts));
    let image = parse(&longer, &opts).unwrap();
    check_image(&image, &longer, &opts);
}

#[test]
fn random_offsets() {
    assert_eq!(random_offset(0, 0), 0);
    assert_eq!(random_offset(u64::MAX, 0), 0);
    assert_eq!(random_offset(0, 1000), 0);
    assert_eq!(random_offset(u64::MAX, 1000), 999 * PAGE_BYTES);
    assert_eq!(random_offset(u64::MAX, 1), 0);
    // Evenly spread: the top bits pick the page.
    for page in 0..1024 {
        assert_eq!(random_offset(page << 54, 1024), page * PAGE_BYTES);
        assert_eq!(
            random_offset((page << 54) | ((1 << 54) - 1), 1024),
            page * PAGE_BYTES
        );
    }
    // Huge ranges do not overflow.
    let offset = random_offset(u64::MAX, u64::MAX);
    assert_eq!(offset % PAGE_BYTES, 0);
    assert!(offset > u64::MAX / 2);
    let mut state = 0x1234_5678_9abc_def0u64;
    for max_pages in [1, 2, 3, 7, 4096, 1 << 20, (1 << 35) + 1] {
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let offset = random_offset(state, max_pages);
            assert_eq!(offset % PAGE_BYTES, 0);
            assert!(offset < max_pages * PAGE_BYTES);
        }
    }
}
