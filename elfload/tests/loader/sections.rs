//! `elfload::section`: lookups in files with a section header table built
//! by `builder::with_sections`, each refusal of a hostile table with its
//! exact error, extended numbering, and property tests (never a panic, the
//! same answer for every name, found bytes inside the file).

use elfload::{ElfError, section};
use proptest::prelude::*;

use crate::builder::*;
use crate::invariants::check_section;

/// A manifest-like payload.
const MANIFEST: &[u8] = b"MMAN\x01\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00";

/// The test executable with sections: `.text`, `.mica.manifest`, an empty
/// `.note`, `.bss` (no file bytes), a second `.text` and `.mica`.
fn sectioned() -> Vec<u8> {
    with_sections(
        Elf::exec().build(),
        &[
            (".text", SHT_PROGBITS, b"code bytes"),
            (".mica.manifest", SHT_PROGBITS, MANIFEST),
            (".note", SHT_PROGBITS, b""),
            (".bss", SHT_NOBITS, &[0; 4096]),
            (".text", SHT_PROGBITS, b"second text"),
            (".mica", SHT_PROGBITS, b"prefix"),
        ],
    )
}

/// The error `section` gives for `file`, whatever the name.
#[track_caller]
fn error(file: &[u8]) -> ElfError {
    let error = section(file, ".mica.manifest").unwrap_err();
    assert_eq!(section(file, "no such").unwrap_err(), error);
    check_section(file, ".text");
    error
}

#[test]
fn finds_sections_by_exact_name() {
    let file = sectioned();
    assert_eq!(section(&file, ".mica.manifest"), Ok(Some(MANIFEST)));
    assert_eq!(section(&file, ".mica"), Ok(Some(&b"prefix"[..])));
    assert_eq!(section(&file, ".note"), Ok(Some(&b""[..])));
    // The first of two sections with one name.
    assert_eq!(section(&file, ".text"), Ok(Some(&b"code bytes"[..])));
    assert_eq!(
        section(&file, ".shstrtab").unwrap().unwrap()[..6],
        *b"\0.text"
    );
    // No file bytes for SHT_NOBITS.
    assert_eq!(section(&file, ".bss"), Ok(Some(&b""[..])));
    for absent in [
        ".mica.manifes",
        ".mica.manifest2",
        "mica.manifest",
        "",
        ".te",
        "\0",
    ] {
        assert_eq!(section(&file, absent), Ok(None), "{absent:?}");
    }
    assert_eq!(section(&file, ".mica\0manifest"), Ok(None));
    // The slice is the file's own bytes.
    let found = section(&file, ".mica.manifest").unwrap().unwrap();
    let at = found.as_ptr() as usize - file.as_ptr() as usize;
    assert_eq!(&file[at..at + MANIFEST.len()], MANIFEST);
}

#[test]
fn files_without_section_headers() {
    // The builder's files have e_shoff 0.
    assert_eq!(section(&Elf::exec().build(), ".text"), Ok(None));
    assert_eq!(section(&Elf::pie().build(), ".text"), Ok(None));
    // e_shoff 0 wins over every other field.
    let mut file = Elf::exec().build();
    file[58..64].fill(0xff);
    assert_eq!(section(&file, ".text"), Ok(None));
    // A table whose extended count is 0: no sections.
    let mut file = sectioned();
    file[60..62].fill(0);
    set_section_field(&mut file, 0, sh::SIZE, &0u64.to_le_bytes());
    assert_eq!(section(&file, ".mica.manifest"), Ok(None));
}

#[test]
fn the_file_header_is_checked_first() {
    let file = sectioned();
    assert_eq!(section(&file[..63], ".text"), Err(ElfError::TooShort));
    let mut bad = file.clone();
    bad[0] = 0;
    assert_eq!(section(&bad, ".text"), Err(ElfError::BadMagic));
    let mut bad = file.clone();
    bad[4] = 1;
    assert_eq!(section(&bad, ".text"), Err(ElfError::Not64Bit));
    // Any e_type, a relocatable object (ET_REL) included, and no program
    // headers needed.
    let mut object = file.clone();
    object[16..18].copy_from_slice(&1u16.to_le_bytes());
    object[56..58].fill(0);
    assert_eq!(section(&object, ".mica.manifest"), Ok(Some(MANIFEST)));
}

#[test]
fn extended_numbering() {
    let file = sectioned();
    let count = u16::from_le_bytes([file[60], file[61]]);
    let shstrndx = u16::from_le_bytes([file[62], file[63]]);
    // e_shnum 0: the count is in section header 0's sh_size.
    let mut extended = file.clone();
    extended[60..62].fill(0);
    set_section_field(&mut extended, 0, sh::SIZE, &u64::from(count).to_le_bytes());
    assert_eq!(section(&extended, ".mica.manifest"), Ok(Some(MANIFEST)));
    // e_shstrndx SHN_XINDEX: the index is in section header 0's sh_link.
    extended[62..64].fill(0xff);
    set_section_field(
        &mut extended,
        0,
        sh::LINK,
        &u32::from(shstrndx).to_le_bytes(),
    );
    assert_eq!(section(&extended, ".mica.manifest"), Ok(Some(MANIFEST)));
    // ... pointing at the null section or past the table.
    for link in [0, u32::from(count), u32::MAX] {
        set_section_field(&mut extended, 0, sh::LINK, &link.to_le_bytes());
        assert_eq!(error(&extended), ElfError::BadShstrndx, "{link}");
    }
    // An extended count past the file.
    let mut huge = file.clone();
    huge[60..62].fill(0);
    for size in [u64::from(count) + 1, 1 << 58, u64::MAX] {
        set_section_field(&mut huge, 0, sh::SIZE, &size.to_le_bytes());
        assert_eq!(error(&huge), ElfError::SectionHeadersOutOfFile, "{size}");
    }
}

#[test]
fn no_section_names() {
    let mut file = sectioned();
    file[62..64].fill(0);
    assert_eq!(section(&file, ".mica.manifest"), Ok(None));
    assert_eq!(section(&file, ""), Ok(None));
    // The sections are still checked.
    set_section_field(&mut file, 1, sh::OFFSET, &u64::MAX.to_le_bytes());
    assert_eq!(error(&file), ElfError::SectionOutOfFile);
}

#[test]
fn bad_section_header_table() {
    let file = sectioned();
    let len = file.len() as u64;
    let mut bad = file.clone();
    bad[58..60].copy_from_slice(&56u16.to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadShentsize);
    for shoff in [len, len - 64, u64::MAX, u64::MAX - 63, 1 << 63] {
        let mut bad = file.clone();
        bad[40..48].copy_from_slice(&shoff.to_le_bytes());
        assert_eq!(error(&bad), ElfError::SectionHeadersOutOfFile, "{shoff:#x}");
    }
    let mut bad = file.clone();
    bad[60..62].copy_from_slice(&0xfeffu16.to_le_bytes());
    assert_eq!(error(&bad), ElfError::SectionHeadersOutOfFile);
    // Cut inside the table.
    assert_eq!(
        error(&file[..file.len() - 1]),
        ElfError::SectionHeadersOutOfFile
    );
}

#[test]
fn bad_name_table_index() {
    let file = sectioned();
    let count = u16::from_le_bytes([file[60], file[61]]);
    for index in [count, count + 1, 0xff00, 0xff01, 0xfffe] {
        let mut bad = file.clone();
        bad[62..64].copy_from_slice(&index.to_le_bytes());
        assert_eq!(error(&bad), ElfError::BadShstrndx, "{index:#x}");
    }
}

#[test]
fn bad_name_table() {
    let file = sectioned();
    let names = usize::from(u16::from_le_bytes([file[62], file[63]]));
    // Not a string table (the .text section as the name table).
    let mut bad = file.clone();
    bad[62..64].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadSectionNameTable);
    let mut bad = file.clone();
    set_section_field(&mut bad, names, sh::TYPE, &SHT_PROGBITS.to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadSectionNameTable);
    let mut bad = file.clone();
    set_section_field(&mut bad, names, sh::TYPE, &SHT_NOBITS.to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadSectionNameTable);
    // Empty, or cut before its last NUL.
    let mut bad = file.clone();
    set_section_field(&mut bad, names, sh::SIZE, &0u64.to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadSectionNameTable);
    let size = section(&file, ".shstrtab").unwrap().unwrap().len() as u64;
    let mut bad = file.clone();
    set_section_field(&mut bad, names, sh::SIZE, &(size - 1).to_le_bytes());
    assert_eq!(error(&bad), ElfError::BadSectionNameTable);
    // Outside the file.
    let mut bad = file.clone();
    set_section_field(&mut bad, names, sh::SIZE, &u64::MAX.to_le_bytes());
    assert_eq!(error(&bad), ElfError::SectionOutOfFile);
}

#[test]
fn bad_sections() {
    let file = sectioned();
    let names_len = section(&file, ".shstrtab").unwrap().unwrap().len() as u32;
    let len = file.len() as u64;
    // A name outside the name table, in any section: the answer does not
    // depend on which section is asked for.
    for name in [names_len, names_len + 1, u32::MAX] {
        let mut bad = file.clone();
        set_section_field(&mut bad, 5, sh::NAME, &name.to_le_bytes());
        assert_eq!(error(&bad), ElfError::BadSectionName, "{name}");
    }
    // Bytes outside the file.
    for (offset, size) in [
        (len, 1),
        (len - 1, 2),
        (u64::MAX, 1),
        (1, u64::MAX),
        (0, len + 1),
    ] {
        let mut bad = file.clone();
        set_section_field(&mut bad, 6, sh::OFFSET, &offset.to_le_bytes());
        set_section_field(&mut bad, 6, sh::SIZE, &size.to_le_bytes());
        assert_eq!(
            error(&bad),
            ElfError::SectionOutOfFile,
            "{offset:#x} {size:#x}"
        );
    }
    // Exactly up to the end of the file is fine.
    let mut edge = file.clone();
    set_section_field(&mut edge, 6, sh::OFFSET, &(len - 4).to_le_bytes());
    set_section_field(&mut edge, 6, sh::SIZE, &4u64.to_le_bytes());
    assert_eq!(section(&edge, ".mica"), Ok(Some(&file[file.len() - 4..])));
}

#[test]
fn null_and_nobits_sections_are_not_checked_for_bytes() {
    let mut file = sectioned();
    // .bss (4) anywhere: it has no file bytes.
    set_section_field(&mut file, 4, sh::OFFSET, &u64::MAX.to_le_bytes());
    set_section_field(&mut file, 4, sh::SIZE, &u64::MAX.to_le_bytes());
    assert_eq!(section(&file, ".bss"), Ok(Some(&b""[..])));
    // An SHT_NULL header's other fields are undefined, and it is never
    // found, even with a valid name.
    set_section_field(&mut file, 2, sh::TYPE, &SHT_NULL.to_le_bytes());
    set_section_field(&mut file, 2, sh::OFFSET, &u64::MAX.to_le_bytes());
    assert_eq!(section(&file, ".mica.manifest"), Ok(None));
    set_section_field(&mut file, 2, sh::NAME, &u32::MAX.to_le_bytes());
    assert_eq!(section(&file, ".mica"), Ok(Some(&b"prefix"[..])));
}

#[test]
fn errors_print_one_sentence() {
    // Distinct from every other error: `errors::messages_are_distinct_sentences`.
    for (error, text) in [
        (
            ElfError::BadShentsize,
            "section header size is not 64 bytes",
        ),
        (
            ElfError::SectionHeadersOutOfFile,
            "section header table lies outside the file",
        ),
        (
            ElfError::BadShstrndx,
            "section name table index is out of range",
        ),
        (
            ElfError::BadSectionNameTable,
            "section name table is not a string table ending in a NUL byte",
        ),
        (
            ElfError::BadSectionName,
            "a section name lies outside the section name table",
        ),
        (
            ElfError::SectionOutOfFile,
            "a section lies outside the file",
        ),
    ] {
        assert_eq!(error.to_string(), text);
    }
}

/// Damage to a sectioned file.
#[derive(Clone, Debug)]
enum Damage {
    /// XOR one byte.
    Flip { at: usize, xor: u8 },
    /// Keep only this many bytes.
    Truncate { keep: usize },
    /// Write a value into one field of the file header's section fields
    /// or of a section header.
    Field { field: usize, value: u64 },
}

/// (offset, width) of the section fields of the file header and of each
/// section header of `file` (whose table is intact).
fn section_fields(file: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![(40, 8), (58, 2), (60, 2), (62, 2)];
    let count = usize::from(u16::from_le_bytes([file[60], file[61]]));
    for index in 0..count {
        let base = section_header_at(file, index);
        for (at, width) in [(0, 4), (4, 4), (24, 8), (32, 8), (40, 4)] {
            out.push((base + at, width));
        }
    }
    out
}

fn damage() -> impl Strategy<Value = Damage> {
    let value = prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        0..16u64,
        0xfff0..0x10000u64,
        0..0x1_0000u64,
        any::<u64>(),
    ];
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Damage::Flip { at, xor }),
        any::<usize>().prop_map(|keep| Damage::Truncate { keep }),
        (any::<usize>(), value.clone()).prop_map(|(field, value)| Damage::Field { field, value }),
        (any::<usize>(), value).prop_map(|(field, value)| Damage::Field { field, value }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        valid_header in any::<bool>(),
    ) {
        let mut file = bytes;
        if valid_header && file.len() >= 64 {
            file[..20].copy_from_slice(&Elf::exec().build()[..20]);
            file[20..24].copy_from_slice(&1u32.to_le_bytes());
        }
        check_section(&file, ".mica.manifest");
        check_section(&file, "");
    }

    #[test]
    fn damaged_tables_never_panic(
        damages in prop::collection::vec(damage(), 1..5),
        name in prop::sample::select(vec![".mica.manifest", ".text", ".bss", ".shstrtab", ""]),
    ) {
        let mut file = sectioned();
        let fields = section_fields(&file);
        for damage in &damages {
            match *damage {
                Damage::Flip { at, xor } => {
                    if !file.is_empty() {
                        let len = file.len();
                        file[at % len] ^= xor;
                    }
                }
                Damage::Truncate { keep } => file.truncate(keep % (file.len() + 1)),
                Damage::Field { field, value } => {
                    let (at, width) = fields[field % fields.len()];
                    if at + width <= file.len() {
                        file[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
                    }
                }
            }
        }
        check_section(&file, name);
    }

    /// Random sections: each is found by its name with its bytes.
    #[test]
    fn built_sections_are_found(
        sections in prop::collection::vec(
            ("[a-z.]{1,12}", prop::collection::vec(any::<u8>(), 0..40), any::<bool>()),
            0..8,
        ),
    ) {
        let list: Vec<(&str, u32, &[u8])> = sections
            .iter()
            .map(|(name, bytes, nobits)| {
                let sh_type = if *nobits { SHT_NOBITS } else { SHT_PROGBITS };
                (name.as_str(), sh_type, bytes.as_slice())
            })
            .collect();
        let file = with_sections(Elf::exec().build(), &list);
        for (name, _, _) in &sections {
            let first = list.iter().find(|(n, _, _)| n == name).unwrap();
            let expected: &[u8] = if first.1 == SHT_NOBITS { &[] } else { first.2 };
            prop_assert_eq!(section(&file, name), Ok(Some(expected)));
            check_section(&file, name);
        }
    }
}
