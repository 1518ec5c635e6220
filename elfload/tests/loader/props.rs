//! Property tests: `parse` never panics, on arbitrary bytes or on valid
//! files with random damage, and every image it returns keeps the promises
//! of `invariants::check_image`. Random valid files (built from a few
//! segment shapes) must all be accepted. The stack and TLS writers never
//! panic either, and what they write decodes back.

use abi::layout::PAGE_BYTES;
use elfload::{InitialStack, Options, TlsTemplate, parse, tls_layout};
use proptest::prelude::*;

use crate::builder::*;
use crate::errors::PIE_BASE;
use crate::invariants::check_image;

/// Cases per property.
const CASES: u32 = 2048;

/// One segment of a generated file.
#[derive(Clone, Debug)]
struct SegmentShape {
    /// Unmapped pages before it.
    gap_pages: u64,
    /// Where it starts within its first page.
    page_offset: u64,
    /// `p_filesz`.
    file_bytes: u64,
    /// `p_memsz - p_filesz`.
    bss_bytes: u64,
    /// `p_flags`.
    flags: u32,
    /// `p_align`: 0, 1 or a page.
    align: u64,
    /// With `align` 0 or 1: a file offset that disagrees with the address
    /// within the page, by this much.
    skew: u64,
}

fn segment_shape() -> impl Strategy<Value = SegmentShape> {
    (
        0..3u64,
        prop_oneof![Just(0u64), 0..PAGE_BYTES],
        prop_oneof![Just(0u64), 1..64u64, 0..4 * PAGE_BYTES],
        prop_oneof![Just(0u64), 0..3 * PAGE_BYTES],
        prop_oneof![Just(R), Just(R | X), Just(R | W), Just(0), Just(X), Just(W)],
        prop_oneof![Just(0u64), Just(1u64), Just(PAGE_BYTES)],
        prop_oneof![Just(0u64), 1..PAGE_BYTES],
    )
        .prop_map(
            |(gap_pages, page_offset, file_bytes, bss_bytes, flags, align, skew)| SegmentShape {
                gap_pages,
                page_offset,
                file_bytes,
                bss_bytes: if file_bytes == 0 {
                    bss_bytes.max(1)
                } else {
                    bss_bytes
                },
                flags,
                align,
                skew: if align > 1 { 0 } else { skew },
            },
        )
}

/// A file the planner must accept: segments in order, a page apart, inside
/// the file, with the entry point in the first executable one; sometimes a
/// static-pie, a TLS template, or headers inside the first segment.
fn valid_elf() -> impl Strategy<Value = Elf> {
    (
        any::<bool>(),
        prop::collection::vec(segment_shape(), 1..6),
        any::<bool>(),
        any::<u64>(),
        prop::option::of((0..64u64, 0..256u64, 0..7u32)),
    )
        .prop_map(|(pie, shapes, load_headers, entry_seed, tls)| {
            let mut elf = if pie { Elf::pie() } else { Elf::exec() };
            elf.phdrs.clear();
            let mut vaddr_cursor = if pie { 0 } else { 0x40_0000 };
            let mut file_cursor = PAGE_BYTES;
            if load_headers {
                elf.phdrs.push(Ph::load(R, 0, vaddr_cursor, 0x200, 0x200));
                vaddr_cursor += PAGE_BYTES;
            }
            for shape in &shapes {
                let vaddr = vaddr_cursor + shape.gap_pages * PAGE_BYTES + shape.page_offset;
                let file_page = file_cursor.div_ceil(PAGE_BYTES) * PAGE_BYTES;
                let offset = file_page + (shape.page_offset + shape.skew) % PAGE_BYTES;
                let memsz = shape.file_bytes + shape.bss_bytes;
                let ph = Ph::load(shape.flags, offset, vaddr, shape.file_bytes, memsz);
                elf.phdrs.push(ph.align(shape.align));
                vaddr_cursor = (vaddr + memsz).div_ceil(PAGE_BYTES) * PAGE_BYTES;
                file_cursor = offset + shape.file_bytes;
            }
            // The entry point goes into the first executable segment; make
            // one if there is none.
            let code = match elf.phdrs.iter().position(|ph| ph.flags & X != 0) {
                Some(index) => index,
                None => {
                    let last = elf.phdrs.len() - 1;
                    elf.phdrs[last].flags = R | X;
                    last
                }
            };
            let code = elf.phdrs[code];
            elf.entry = code.vaddr + entry_seed % code.memsz;
            if let Some((filesz, extra, align_log)) = tls {
                elf.phdrs.push(Ph {
                    offset: file_cursor.saturating_sub(filesz),
                    filesz: filesz.min(file_cursor),
                    memsz: filesz.min(file_cursor) + extra,
                    align: 1 << align_log,
                    ..Ph::other(PT_TLS, R)
                });
            }
            elf.phdrs.push(Ph::other(PT_GNU_STACK, R | W));
            elf.len = file_cursor.max(0x300);
            elf
        })
}

/// Options for a generated file: a base for a static-pie (fixed or
/// random), sometimes an unaligned container.
fn options(elf: &Elf, base_seed: u64, file_page_offset: u64) -> Options {
    let base = match base_seed % 3 {
        0 => PIE_BASE,
        _ => (PAGE_BYTES + base_seed % (1 << 46)) & !(PAGE_BYTES - 1),
    };
    Options {
        base: if elf.e_type == ET_DYN {
            base
        } else {
            base_seed
        },
        file_page_offset,
    }
}

/// One way to damage a file.
#[derive(Clone, Debug)]
enum Damage {
    /// XOR one byte.
    Flip { at: usize, xor: u8 },
    /// Cut the file short.
    Truncate { keep: usize },
    /// Overwrite one header field (by index into `fields`) with a value.
    Field { field: usize, value: u64 },
}

/// Values that sit on the edges of the checks.
fn edge_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        Just(3),
        Just(56),
        Just(64),
        Just(0xfff),
        Just(PAGE_BYTES),
        Just(0x1001),
        Just(PIE_BASE),
        Just(abi::layout::USER_END),
        Just(abi::layout::USER_END - 1),
        Just(0xffff),
        Just(u64::from(u32::MAX)),
        Just(u64::MAX),
        Just(u64::MAX - PAGE_BYTES + 1),
        Just(1 << 63),
        any::<u64>(),
        0..0x10000u64,
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Damage::Flip { at, xor }),
        any::<usize>().prop_map(|keep| Damage::Truncate { keep }),
        (any::<usize>(), edge_value()).prop_map(|(field, value)| Damage::Field { field, value }),
        (any::<usize>(), edge_value()).prop_map(|(field, value)| Damage::Field { field, value }),
    ]
}

/// (offset, width) of every field of the file header and of each program
/// header in the table at 64.
fn fields(phnum: usize) -> Vec<(usize, usize)> {
    let mut out = vec![(4, 1), (5, 1), (6, 1), (16, 2), (18, 2), (20, 4), (24, 8)];
    out.extend([(32, 8), (54, 2), (56, 2)]);
    for index in 0..phnum {
        let base = 64 + 56 * index;
        for (at, width) in [(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (48, 8)] {
            out.push((base + at, width));
        }
    }
    out
}

/// `file` with `damage` applied.
fn apply(file: &mut Vec<u8>, phnum: usize, damage: &Damage) {
    match *damage {
        Damage::Flip { at, xor } => {
            // An earlier truncation may have left nothing to flip.
            let len = file.len();
            if len > 0 {
                file[at % len] ^= xor;
            }
        }
        Damage::Truncate { keep } => file.truncate(keep % (file.len() + 1)),
        Damage::Field { field, value } => {
            let fields = fields(phnum);
            let (at, width) = fields[field % fields.len()];
            if at + width <= file.len() {
                file[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
            }
        }
    }
}

/// Parses `file` and checks the image if there is one.
fn parse_and_check(file: &[u8], opts: &Options) {
    if let Ok(image) = parse(file, opts) {
        check_image(&image, file, opts);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        base in any::<u64>(),
        file_page_offset in prop_oneof![Just(0u64), any::<u64>()],
    ) {
        let opts = Options { base, file_page_offset };
        parse_and_check(&bytes, &opts);
        // The same bytes behind a valid identification get further.
        let mut file = bytes;
        file.resize(file.len().max(64), 0);
        file[..16].copy_from_slice(&Elf::ident());
        file[18..20].copy_from_slice(&62u16.to_le_bytes());
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        parse_and_check(&file, &opts);
    }

    #[test]
    fn valid_files_are_accepted(
        elf in valid_elf(),
        base_seed in any::<u64>(),
        file_page_offset in prop_oneof![Just(0u64), 0..PAGE_BYTES],
    ) {
        let opts = options(&elf, base_seed, file_page_offset);
        let file = elf.build();
        let image = parse(&file, &opts);
        prop_assert!(image.is_ok(), "{:?} refused: {:?}", elf, image);
        check_image(&image.unwrap(), &file, &opts);
    }

    #[test]
    fn damaged_files_never_panic(
        elf in valid_elf(),
        base_seed in any::<u64>(),
        file_page_offset in prop_oneof![Just(0u64), 0..PAGE_BYTES],
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let opts = options(&elf, base_seed, file_page_offset);
        let mut file = elf.build();
        for damage in &damages {
            apply(&mut file, elf.phdrs.len(), damage);
            parse_and_check(&file, &opts);
        }
    }

    #[test]
    fn stacks_never_panic_and_decode_back(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8),
        env in prop::collection::vec(prop::collection::vec(1..=255u8, 0..40), 0..8),
        random in any::<[u8; 16]>(),
        len in 0..1200usize,
        top in prop_oneof![Just(abi::layout::STACK_TOP), any::<u64>()],
    ) {
        let image = parse(&Elf::exec().build(), &Options::default()).unwrap();
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
        let stack = InitialStack { args: &args, env: &env, random, extra_aux: &[] };
        let mut buffer = vec![0x55u8; len];
        if let Ok(rsp) = stack.write(&image, &mut buffer, top) {
            prop_assert_eq!(rsp % 16, 0);
            prop_assert!(rsp >= top - len as u64 && rsp < top);
            // argc and each argv pointer, then every string, read back.
            let bottom = top - len as u64;
            let word = |addr: u64| {
                let at = (addr - bottom) as usize;
                u64::from_le_bytes(buffer[at..at + 8].try_into().unwrap())
            };
            prop_assert_eq!(word(rsp), args.len() as u64);
            for (index, arg) in args.iter().enumerate() {
                let at = (word(rsp + 8 + 8 * index as u64) - bottom) as usize;
                prop_assert_eq!(&buffer[at..at + arg.len()], *arg);
                prop_assert_eq!(buffer[at + arg.len()], 0);
            }
        }
    }

    #[test]
    fn tls_layouts_never_panic(
        file_offset in edge_value(),
        file_bytes in edge_value(),
        mem_bytes in edge_value(),
        align in prop_oneof![(0..64u32).prop_map(|log| 1u64 << log), edge_value()],
        tcb in prop_oneof![0..256u64, edge_value()],
    ) {
        let template = TlsTemplate { file_offset, file_bytes, mem_bytes, align };
        if let Ok(layout) = tls_layout(Some(&template), tcb) {
            let align = align.max(1);
            prop_assert!(file_bytes <= mem_bytes && align.is_power_of_two());
            prop_assert_eq!(layout.tp_offset % align, 0);
            prop_assert_eq!(layout.tp_offset % layout.block_align, 0);
            prop_assert_eq!(layout.tp_offset - layout.data_offset, mem_bytes.div_ceil(align) * align);
            prop_assert!(layout.tcb_bytes >= tcb.max(8));
            prop_assert_eq!(layout.block_bytes % layout.block_align, 0);
            if layout.block_bytes < 1 << 16 {
                let file = vec![7u8; 0x1_0000];
                let mut block = vec![0u8; layout.block_bytes as usize];
                let _ = layout.write_block(&file, &mut block, 0x10_0000);
            }
        }
    }
}
