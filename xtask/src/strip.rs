//! Dropping the debug sections of a program before it goes into the
//! initramfs.
//!
//! The user programs are built with debug information (line tables, type
//! information: most of each file, 1.3 MB of `bin/tiny`'s 1.3 MB). Nothing
//! in Mica reads it, yet a program is a file window the loader maps and the
//! initramfs the boot copies. [`strip_debug`] writes a copy without the
//! `.debug*` sections; the unstripped ELFs stay in `target/user/` for gdb
//! (README.md, "Debugging").
//!
//! What the copy keeps, byte for byte: the ELF header, the program headers
//! and every segment's file bytes (the part of the file up to the end of the
//! last of them, at the same offsets), so the loader sees the same image.
//! Every other section (`.symtab`, `.strtab`, `.shstrtab`, `.comment`, and
//! any section init or the loader reads, such as `.mica.manifest`) follows,
//! moved, with its header's offset updated. A dropped section's header
//! becomes an unused entry (`SHT_NULL`, all zeros) at the same index, so
//! that no section index (a symbol's `st_shndx`, a header's `sh_link`)
//! changes meaning.

use anyhow::{Context, Result, bail};
use object::Endianness;
use object::elf::{FileHeader64, SHT_NOBITS, SHT_NULL};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};

/// Names of the sections dropped start with this (`.debug_info`,
/// `.debug_line`, ...).
const DEBUG_PREFIX: &[u8] = b".debug";

/// A copy of the 64-bit ELF `elf` without its `.debug*` sections; an error
/// (never a panic) when `elf` is not a well-formed ELF file.
pub fn strip_debug(elf: &[u8]) -> Result<Vec<u8>> {
    let header = FileHeader64::<Endianness>::parse(elf).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    let sections = header
        .section_headers(endian, elf)
        .context("reading the section headers")?;
    if sections.is_empty() {
        return Ok(elf.to_vec());
    }
    let names = header
        .section_strings(endian, elf, sections)
        .context("reading the section names")?;
    // The part kept in place: the headers and every segment's bytes.
    let mut keep = u64::from(header.e_ehsize.get(endian));
    let phnum = u64::from(header.phnum(endian, elf)?);
    let phentsize = u64::from(header.e_phentsize.get(endian));
    if phnum != 0 {
        keep = keep.max(end(header.e_phoff.get(endian), phnum * phentsize)?);
    }
    for ph in header.program_headers(endian, elf)? {
        keep = keep.max(end(ph.p_offset(endian), ph.p_filesz(endian))?);
    }
    let keep = usize::try_from(keep)?;
    let Some(head) = elf.get(..keep) else {
        bail!("a segment ends at {keep:#x}, past the file's end");
    };
    let mut out = head.to_vec();
    let mut table = sections.to_vec();
    let mut dropped = 0;
    for (index, sh) in table.iter_mut().enumerate().skip(1) {
        let kind = sh.sh_type(endian);
        if kind == SHT_NULL {
            continue;
        }
        let name = sh
            .name(endian, names)
            .with_context(|| format!("section {index}'s name"))?;
        if name.starts_with(DEBUG_PREFIX) {
            object::pod::bytes_of_mut(sh).fill(0);
            dropped += 1;
            continue;
        }
        if kind == SHT_NOBITS {
            continue;
        }
        let (offset, size) = (sh.sh_offset(endian), sh.sh_size(endian));
        let section_end = end(offset, size)?;
        if section_end <= keep as u64 {
            continue;
        }
        if offset < keep as u64 {
            bail!("section {index} straddles the end of the segments ({keep:#x})");
        }
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(section_end).ok())
            .and_then(|(start, end)| elf.get(start..end))
            .with_context(|| format!("section {index} lies past the file's end"))?;
        let align = usize::try_from(sh.sh_addralign(endian).max(1))?;
        if !align.is_power_of_two() {
            bail!("section {index}'s alignment {align} is not a power of two");
        }
        out.resize(out.len().next_multiple_of(align), 0);
        sh.sh_offset.set(endian, out.len() as u64);
        out.extend_from_slice(bytes);
    }
    if dropped == 0 {
        return Ok(elf.to_vec());
    }
    // The section header table, 8-aligned, then the header pointing at it.
    out.resize(out.len().next_multiple_of(8), 0);
    let shoff = out.len() as u64;
    out.extend_from_slice(object::pod::bytes_of_slice(&table));
    let mut new_header = *header;
    new_header.e_shoff.set(endian, shoff);
    let header_bytes = object::pod::bytes_of(&new_header);
    out[..header_bytes.len()].copy_from_slice(header_bytes);
    Ok(out)
}

/// `offset + size`, checked.
fn end(offset: u64, size: u64) -> Result<u64> {
    offset
        .checked_add(size)
        .context("an ELF offset plus size overflows")
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object, ObjectSection};

    /// Sections by name with their bytes, `.debug*` left out.
    fn kept_sections(elf: &[u8]) -> Vec<(String, Vec<u8>)> {
        let file = object::File::parse(elf).unwrap();
        file.sections()
            .filter(|s| {
                let name = s.name().unwrap_or("");
                !name.is_empty() && !name.starts_with(".debug")
            })
            .map(|s| (s.name().unwrap().to_string(), s.data().unwrap().to_vec()))
            .collect()
    }

    /// Every program header with its segment's file bytes.
    fn segments(elf: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let header = FileHeader64::<Endianness>::parse(elf).unwrap();
        let endian = header.endian().unwrap();
        header
            .program_headers(endian, elf)
            .unwrap()
            .iter()
            .map(|ph| {
                let bytes = ph.data(endian, elf).unwrap();
                (object::pod::bytes_of(ph).to_vec(), bytes.to_vec())
            })
            .collect()
    }

    /// Strips `elf` and checks the copy against it.
    fn check_copy(elf: &[u8]) -> Vec<u8> {
        let stripped = strip_debug(elf).unwrap();
        assert!(stripped.len() <= elf.len());
        let file = object::File::parse(&*stripped).unwrap();
        assert!(
            file.sections()
                .all(|s| !s.name().unwrap().starts_with(".debug"))
        );
        // Compared one by one: a failure names the section, not its bytes.
        let (before, after) = (kept_sections(elf), kept_sections(&stripped));
        let names = |list: &[(String, Vec<u8>)]| -> Vec<String> {
            list.iter().map(|(name, _)| name.clone()).collect()
        };
        assert_eq!(names(&before), names(&after));
        for ((name, old), (_, new)) in before.iter().zip(&after) {
            assert!(old == new, "section {name} changed");
        }
        // The ELF header differs in `e_shoff` (bytes 40 to 47) alone; a
        // segment from offset 0 holds it, so compare with it put back.
        assert_eq!(elf[..40], stripped[..40]);
        assert_eq!(elf[48..64], stripped[48..64]);
        let mut unpatched = stripped.clone();
        unpatched[40..48].copy_from_slice(&elf[40..48]);
        assert!(
            segments(elf) == segments(&unpatched),
            "the segments changed"
        );
        assert_eq!(file.entry(), object::File::parse(elf).unwrap().entry());
        // Stripping again changes nothing.
        assert_eq!(strip_debug(&stripped).unwrap(), stripped);
        stripped
    }

    #[test]
    fn the_test_binary_keeps_everything_but_debug_sections() {
        // This binary is a real 64-bit ELF, built with debug information.
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let had_debug = object::File::parse(&*elf)
            .unwrap()
            .sections()
            .any(|s| s.name().unwrap().starts_with(".debug"));
        let stripped = check_copy(&elf);
        if had_debug {
            assert!(stripped.len() < elf.len());
        }
    }

    #[test]
    fn built_programs_still_load_with_their_manifests() {
        // The user programs, when a build has left them in target/user.
        let release = crate::build::root()
            .join("target/user")
            .join(crate::build::TARGET)
            .join("release");
        let mut checked = 0;
        for name in ["tiny", "proc", "sh", "coreutils", "probe"] {
            let Ok(elf) = std::fs::read(release.join(name)) else {
                continue;
            };
            let stripped = check_copy(&elf);
            assert!(stripped.len() * 4 < elf.len(), "{name}: {}", stripped.len());
            let options = elfload::Options {
                base: 0,
                file_page_offset: 0,
            };
            assert!(elfload::parse(&stripped, &options).is_ok(), "{name}");
            let manifest = sysconf::manifest::SECTION;
            assert_eq!(
                elfload::section(&stripped, manifest).unwrap(),
                elfload::section(&elf, manifest).unwrap(),
                "{name}"
            );
            assert_eq!(
                elfload::section(&stripped, ".debug_info").unwrap(),
                None,
                "{name}"
            );
            checked += 1;
        }
        if checked == 0 {
            eprintln!("*** no user programs built: only the test binary is stripped ***");
        }
    }

    #[test]
    fn bad_files_are_errors() {
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(strip_debug(b"").is_err());
        assert!(strip_debug(b"\x7fELF").is_err());
        assert!(strip_debug(&elf[..64]).is_err());
        assert!(strip_debug(&elf[..elf.len() / 2]).is_err());
        // Every byte of the header changed in turn: an answer, never a panic.
        for at in 0..64 {
            let mut bad = elf.clone();
            bad[at] ^= 0xff;
            let _ = strip_debug(&bad);
        }
    }
}
