//! The parts of the ELF64 format the planner reads, and the auxiliary vector
//! types the stack writer uses.
//!
//! References: the System V ABI, "ELF-64 Object File Format" (version 1.5)
//! for the file and program headers, and the System V x86-64 psABI, section
//! 3.4 ("Process Initialization") for the auxiliary vector.
//!
//! ELF64 file header (all fields little-endian here):
//!
//! | field         | offset | size | meaning                                  |
//! |---------------|--------|------|------------------------------------------|
//! | `e_ident`     | 0      | 16   | magic, class, data, version, OS ABI      |
//! | `e_type`      | 16     | 2    | `ET_EXEC` 2, `ET_DYN` 3                  |
//! | `e_machine`   | 18     | 2    | `EM_X86_64` 62                           |
//! | `e_version`   | 20     | 4    | 1                                        |
//! | `e_entry`     | 24     | 8    | entry point                              |
//! | `e_phoff`     | 32     | 8    | file offset of the program header table  |
//! | `e_shoff`     | 40     | 8    | file offset of the section header table  |
//! | `e_phentsize` | 54     | 2    | size of one program header (56)          |
//! | `e_phnum`     | 56     | 2    | number of program headers                |
//! | `e_shentsize` | 58     | 2    | size of one section header (64)          |
//! | `e_shnum`     | 60     | 2    | number of section headers                |
//! | `e_shstrndx`  | 62     | 2    | index of the section name string table   |
//!
//! ELF64 program header (56 bytes):
//!
//! | field      | offset | size | | field      | offset | size |
//! |------------|--------|------|-|------------|--------|------|
//! | `p_type`   | 0      | 4    | | `p_paddr`  | 24     | 8    |
//! | `p_flags`  | 4      | 4    | | `p_filesz` | 32     | 8    |
//! | `p_offset` | 8      | 8    | | `p_memsz`  | 40     | 8    |
//! | `p_vaddr`  | 16     | 8    | | `p_align`  | 48     | 8    |
//!
//! ELF64 section header (64 bytes), read only by [`crate::section`]:
//!
//! | field       | offset | size | | field          | offset | size |
//! |-------------|--------|------|-|----------------|--------|------|
//! | `sh_name`   | 0      | 4    | | `sh_size`      | 32     | 8    |
//! | `sh_type`   | 4      | 4    | | `sh_link`      | 40     | 4    |
//! | `sh_flags`  | 8      | 8    | | `sh_info`      | 44     | 4    |
//! | `sh_addr`   | 16     | 8    | | `sh_addralign` | 48     | 8    |
//! | `sh_offset` | 24     | 8    | | `sh_entsize`   | 56     | 8    |
//!
//! Readers return `None` rather than index past the input, so no field read
//! can panic whatever the file holds.

use crate::ElfError;

/// Size of the ELF64 file header.
pub(crate) const EHDR_BYTES: usize = 64;
/// Size of one ELF64 program header: the only `e_phentsize` accepted, and
/// the value of `AT_PHENT`.
pub const PHDR_BYTES: u16 = 56;
/// Most program headers a file may have. Real static programs have about
/// ten; the cap bounds the work done on a hostile file.
pub const MAX_PHNUM: u16 = 64;
/// `e_phnum` value meaning "the count is in section header 0".
pub(crate) const PN_XNUM: u16 = 0xffff;

/// Size of one ELF64 section header: the only `e_shentsize` accepted.
pub const SHDR_BYTES: u16 = 64;
/// Section index 0: no section (`e_shstrndx` when there are no names).
pub(crate) const SHN_UNDEF: u16 = 0;
/// The first reserved section index.
pub(crate) const SHN_LORESERVE: u16 = 0xff00;
/// `e_shstrndx` value meaning "the index is in section header 0's
/// `sh_link`".
pub(crate) const SHN_XINDEX: u16 = 0xffff;
/// Section type: inactive header, other fields undefined.
pub(crate) const SHT_NULL: u32 = 0;
/// Section type: string table.
pub(crate) const SHT_STRTAB: u32 = 3;
/// Section type: occupies no file bytes (`.bss`).
pub(crate) const SHT_NOBITS: u32 = 8;

/// `\x7fELF`.
const MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
/// `e_ident` index of the class byte.
const EI_CLASS: usize = 4;
/// `e_ident` index of the data encoding byte.
const EI_DATA: usize = 5;
/// `e_ident` index of the identification version byte.
const EI_VERSION: usize = 6;
/// 64-bit objects.
const ELFCLASS64: u8 = 2;
/// Two's complement, little-endian.
const ELFDATA2LSB: u8 = 1;
/// The only ELF version.
const EV_CURRENT: u8 = 1;
/// AMD x86-64.
const EM_X86_64: u16 = 62;

/// Executable linked at fixed addresses.
pub(crate) const ET_EXEC: u16 = 2;
/// Shared object; a static-pie when it has no `PT_INTERP`.
pub(crate) const ET_DYN: u16 = 3;

/// Loadable segment.
pub(crate) const PT_LOAD: u32 = 1;
/// Path of the program interpreter (dynamic linking).
pub(crate) const PT_INTERP: u32 = 3;
/// Thread-local storage template.
pub(crate) const PT_TLS: u32 = 7;
/// Stack rights (and, in `p_memsz`, an optional stack size).
pub(crate) const PT_GNU_STACK: u32 = 0x6474_e551;

/// Segment flag: executable.
pub(crate) const PF_X: u32 = 1;
/// Segment flag: writable.
pub(crate) const PF_W: u32 = 2;
/// Segment flag: readable.
pub(crate) const PF_R: u32 = 4;

/// Auxiliary vector type: end of the vector.
pub const AT_NULL: u64 = 0;
/// Auxiliary vector type: address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Auxiliary vector type: size of one program header.
pub const AT_PHENT: u64 = 4;
/// Auxiliary vector type: number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Auxiliary vector type: page size.
pub const AT_PAGESZ: u64 = 6;
/// Auxiliary vector type: the program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Auxiliary vector type: address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;

/// The file header fields the planner uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileHeader {
    /// `e_type`.
    pub e_type: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phnum`.
    pub phnum: u16,
    /// `e_shoff`.
    pub shoff: u64,
    /// `e_shentsize`.
    pub shentsize: u16,
    /// `e_shnum`.
    pub shnum: u16,
    /// `e_shstrndx`.
    pub shstrndx: u16,
}

impl FileHeader {
    /// Reads and checks the identification, machine and version; `e_type`
    /// and the program header fields are checked by the caller.
    pub fn read(file: &[u8]) -> Result<FileHeader, ElfError> {
        let header = file.first_chunk::<EHDR_BYTES>().ok_or(ElfError::TooShort)?;
        let byte = |at: usize| header.get(at).copied();
        if header.first_chunk::<4>() != Some(&MAGIC) {
            return Err(ElfError::BadMagic);
        }
        if byte(EI_CLASS) != Some(ELFCLASS64) {
            return Err(ElfError::Not64Bit);
        }
        if byte(EI_DATA) != Some(ELFDATA2LSB) {
            return Err(ElfError::NotLittleEndian);
        }
        let version = read_u32(header, 20);
        if byte(EI_VERSION) != Some(EV_CURRENT) || version != Some(u32::from(EV_CURRENT)) {
            return Err(ElfError::BadVersion);
        }
        if read_u16(header, 18) != Some(EM_X86_64) {
            return Err(ElfError::WrongMachine);
        }
        // The header is 64 bytes long, so these reads cannot fail; `TooShort`
        // is only the answer a failure would deserve.
        Ok(FileHeader {
            e_type: read_u16(header, 16).ok_or(ElfError::TooShort)?,
            entry: read_u64(header, 24).ok_or(ElfError::TooShort)?,
            phoff: read_u64(header, 32).ok_or(ElfError::TooShort)?,
            phentsize: read_u16(header, 54).ok_or(ElfError::TooShort)?,
            phnum: read_u16(header, 56).ok_or(ElfError::TooShort)?,
            shoff: read_u64(header, 40).ok_or(ElfError::TooShort)?,
            shentsize: read_u16(header, 58).ok_or(ElfError::TooShort)?,
            shnum: read_u16(header, 60).ok_or(ElfError::TooShort)?,
            shstrndx: read_u16(header, 62).ok_or(ElfError::TooShort)?,
        })
    }
}

/// One program header, as in the file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProgramHeader {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags`: `PF_R`, `PF_W`, `PF_X`.
    pub flags: u32,
    /// `p_offset`: where the segment's file bytes start in the file.
    pub offset: u64,
    /// `p_vaddr`: where the segment starts in memory, before the load bias.
    pub vaddr: u64,
    /// `p_filesz`: how many bytes come from the file.
    pub filesz: u64,
    /// `p_memsz`: how many bytes the segment spans in memory.
    pub memsz: u64,
    /// `p_align`: 0 and 1 mean no alignment, otherwise a power of two.
    pub align: u64,
}

impl ProgramHeader {
    /// Reads one program header from its 56 bytes.
    pub fn read(entry: &[u8; PHDR_BYTES as usize]) -> Option<ProgramHeader> {
        Some(ProgramHeader {
            p_type: read_u32(entry, 0)?,
            flags: read_u32(entry, 4)?,
            offset: read_u64(entry, 8)?,
            vaddr: read_u64(entry, 16)?,
            filesz: read_u64(entry, 32)?,
            memsz: read_u64(entry, 40)?,
            align: read_u64(entry, 48)?,
        })
    }
}

/// One section header, as in the file (the fields [`crate::section`]
/// uses).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SectionHeader {
    /// `sh_name`: offset of the name in the section name string table.
    pub name: u32,
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_offset`: where the section's bytes start in the file.
    pub offset: u64,
    /// `sh_size`: how many bytes (none in the file for `SHT_NOBITS`).
    pub size: u64,
    /// `sh_link`: in section header 0, the extended `e_shstrndx`.
    pub link: u32,
}

impl SectionHeader {
    /// Reads one section header from its 64 bytes.
    pub fn read(entry: &[u8; SHDR_BYTES as usize]) -> Option<SectionHeader> {
        Some(SectionHeader {
            name: read_u32(entry, 0)?,
            sh_type: read_u32(entry, 4)?,
            offset: read_u64(entry, 24)?,
            size: read_u64(entry, 32)?,
            link: read_u32(entry, 40)?,
        })
    }
}

/// The little-endian `u16` at byte `at` of `bytes`, if it is all there.
fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

/// The little-endian `u32` at byte `at` of `bytes`, if it is all there.
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

/// The little-endian `u64` at byte `at` of `bytes`, if it is all there.
fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}
