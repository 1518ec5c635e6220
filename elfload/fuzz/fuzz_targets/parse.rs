//! Fuzzes `elfload::parse` with arbitrary files and options, and
//! `elfload::section` with the same files.
//!
//! Beyond "never panics", every image `parse` accepts must keep the
//! promises the property tests check (`elfload/tests/loader/invariants.rs`,
//! included here by path): segments sorted, a page apart and in user space,
//! no W+X, direct pages and copies tiling exactly the file bytes from inside
//! the file, the entry point in code, a TLS block that can be laid out, and,
//! for small images, memory loaded by the plan equal byte for byte to a
//! naive reading of the headers. The initial stack of an accepted image is
//! written too. `section` is asked for a few names of every file and must
//! keep the promises of `invariants::check_section`: the same answer twice,
//! the same error for every name, and found bytes inside the file.
//!
//! Random bytes almost never form an ELF header and a program header table
//! whose segments fit in the file, so the input is read as:
//!
//! | bytes  | meaning                                                   |
//! |--------|-----------------------------------------------------------|
//! | 0      | mode: how to make a file from the payload (below)         |
//! | 1..9   | `Options::base` (made page-aligned and user-sized by a bit) |
//! | 9..17  | `Options::file_page_offset` (used only when a bit says so) |
//! | 17..   | payload                                                   |
//!
//! Modes (low two bits): 0, the payload is the file; 1, the payload is
//! XORed over a valid test file from byte 16 on (and may cut it short);
//! 2, the payload is an entry point and program headers behind a valid
//! file header; 3, the payload is a list of (field, value) writes into a
//! valid test file's header fields (and, for the test file with sections,
//! its section header fields). Bits 2-3 pick one of the first four test
//! files, except that with bits 2, 3 and 6 all set the fifth, with a
//! section header table, is picked.
#![no_main]

use std::sync::OnceLock;

use abi::layout::{PAGE_BYTES, STACK_TOP};
use elfload::{InitialStack, Options, parse};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/loader/builder.rs"]
mod builder;
#[allow(dead_code)]
#[path = "../../tests/loader/invariants.rs"]
mod invariants;

use builder::{Elf, PT_TLS, Ph, R, SHT_NOBITS, SHT_PROGBITS, with_sections};

/// Valid files the structured modes start from, built once.
static TEMPLATES: OnceLock<[Vec<u8>; 5]> = OnceLock::new();
/// Mode 2's files without program headers (`ET_EXEC`, `ET_DYN`), built once.
static BARE: OnceLock<[Vec<u8>; 2]> = OnceLock::new();

/// Valid files the structured modes start from: the test executable and
/// static-pie, one with a TLS template, one whose read-only segment
/// has a partial head page, direct pages and a partial tail page, and the
/// executable with a section header table.
fn templates() -> [Vec<u8>; 5] {
    let tls = Ph {
        offset: 0x3f00,
        vaddr: 0x40_4f00,
        filesz: 0x20,
        memsz: 0x48,
        align: 8,
        ..Ph::other(PT_TLS, R)
    };
    let mut head_tail = Elf::exec();
    head_tail
        .phdrs
        .insert(2, Ph::load(R, 0x100, 0x50_0100, 0x3000, 0x3000));
    head_tail.phdrs[3].vaddr += 0x10_0000;
    let sectioned = with_sections(
        Elf::exec().build(),
        &[
            (".text", SHT_PROGBITS, b"code"),
            (
                ".mica.manifest",
                SHT_PROGBITS,
                b"MMAN\x01\0\0\0\0\0\0\0\x10\0\0\0",
            ),
            (".bss", SHT_NOBITS, &[0; 64]),
        ],
    );
    [
        Elf::exec().build(),
        Elf::pie().build(),
        Elf::exec().with(tls).build(),
        head_tail.build(),
        sectioned,
    ]
}

/// A file header with no program headers (`e_type` 2 or 3, by
/// `dynamic`), followed by the test pattern up to 0x6000 bytes.
fn bare(dynamic: bool) -> Vec<u8> {
    let mut elf = Elf::exec();
    if dynamic {
        elf.e_type = builder::ET_DYN;
    }
    elf.phdrs.clear();
    elf.len = 0x6000;
    elf.build()
}

/// (offset, width) of the header fields mode 3 writes into `template`:
/// the file header's, those of the first eight program headers (at 64),
/// and those of its section headers if it has a table.
fn fields(template: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![(4, 1), (5, 1), (6, 1), (16, 2), (18, 2), (20, 4), (24, 8)];
    out.extend([(32, 8), (54, 2), (56, 2)]);
    for index in 0..8 {
        let base = 64 + 56 * index;
        for (at, width) in [(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (48, 8)] {
            out.push((base + at, width));
        }
    }
    let shoff = u64::from_le_bytes(template[40..48].try_into().unwrap()) as usize;
    if shoff != 0 {
        out.extend([(40, 8), (58, 2), (60, 2), (62, 2)]);
        let count = usize::from(u16::from_le_bytes([template[60], template[61]]));
        for index in 0..count {
            let base = shoff + 64 * index;
            for (at, width) in [(0, 4), (4, 4), (24, 8), (32, 8), (40, 4)] {
                out.push((base + at, width));
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((head, payload)) = data.split_first_chunk::<17>() else {
        return;
    };
    let mode = head[0];
    let base = u64::from_le_bytes(head[1..9].try_into().unwrap());
    let file_page_offset = u64::from_le_bytes(head[9..17].try_into().unwrap());
    let opts = Options {
        base: if mode & 0x20 != 0 {
            base & 0x0000_7fff_ffff_f000
        } else {
            base
        },
        file_page_offset: if mode & 0x10 != 0 {
            file_page_offset
        } else {
            0
        },
    };
    let templates = TEMPLATES.get_or_init(templates);
    let pick = if mode & 0x4c == 0x4c {
        4
    } else {
        usize::from((mode >> 2) & 3)
    };
    let template = &templates[pick];

    let file = match mode & 3 {
        0 => payload.to_vec(),
        1 => {
            let mut file = template.clone();
            for (byte, change) in file.iter_mut().skip(16).zip(payload) {
                *byte ^= change;
            }
            if mode & 0x80 != 0 {
                file.truncate(file.len().saturating_sub(payload.len()));
            }
            file
        }
        2 => {
            let (entry, phdrs) = payload.split_at(payload.len().min(8));
            let bare = BARE.get_or_init(|| [bare(false), bare(true)]);
            let mut file = bare[usize::from(mode & 0x40 != 0)].clone();
            file[24..24 + entry.len()].copy_from_slice(entry);
            let count = (phdrs.len() / 56).min(64);
            let table = &phdrs[..count * 56];
            file[56..58].copy_from_slice(&(count as u16).to_le_bytes());
            file[64..64 + table.len()].copy_from_slice(table);
            file
        }
        _ => {
            let mut file = template.clone();
            let fields = fields(template);
            for write in payload.chunks_exact(9) {
                let (at, width) = fields[usize::from(write[0]) % fields.len()];
                file[at..at + width].copy_from_slice(&write[1..1 + width]);
            }
            file
        }
    };
    check(&file, &opts, payload);
});

/// Parses `file`; checks an accepted image and writes its initial stack
/// with arguments cut from `payload`. Looks up sections of `file`.
fn check(file: &[u8], opts: &Options, payload: &[u8]) {
    for name in [".mica.manifest", ".text", ".bss", ""] {
        invariants::check_section(file, name);
    }
    let result = parse(file, opts);
    assert_eq!(result, parse(file, opts), "parse is deterministic");
    let Ok(image) = result else {
        return;
    };
    invariants::check_image(&image, file, opts);

    let args: Vec<&[u8]> = payload.chunks(24).take(6).collect();
    let stack = InitialStack {
        args: &args,
        env: &args[args.len() / 2..],
        random: [0x5a; 16],
        extra_aux: &[],
    };
    let mut buffer = vec![0u8; PAGE_BYTES as usize / 4];
    if let Ok(rsp) = stack.write(&image, &mut buffer, STACK_TOP) {
        assert_eq!(rsp % 16, 0);
        assert!(rsp < STACK_TOP && STACK_TOP - rsp <= buffer.len() as u64);
        let argc = (rsp - (STACK_TOP - buffer.len() as u64)) as usize;
        assert_eq!(buffer[argc..argc + 8], (args.len() as u64).to_le_bytes());
    }
}
