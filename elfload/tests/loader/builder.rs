//! A small ELF64 writer for the tests: a file header, a program header
//! table and file bytes with a recognizable pattern, with every field open
//! to overwriting so that each check of the planner can be hit on its own.
//!
//! It is deliberately dumb: it writes what it is told, including nonsense,
//! and only grows the file to hold the headers when they are at a sane
//! offset. Shared with the fuzz target, which builds its seed files with it.

/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_DYNAMIC`.
pub const PT_DYNAMIC: u32 = 2;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_NOTE`.
pub const PT_NOTE: u32 = 4;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// `PT_TLS`.
pub const PT_TLS: u32 = 7;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// `PT_GNU_RELRO`.
pub const PT_GNU_RELRO: u32 = 0x6474_e552;

/// `PF_X`.
pub const X: u32 = 1;
/// `PF_W`.
pub const W: u32 = 2;
/// `PF_R`.
pub const R: u32 = 4;

/// `ET_EXEC`.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`.
pub const ET_DYN: u16 = 3;

/// Size of the file header.
pub const EHDR: u64 = 64;
/// Size of one program header.
pub const PHDR: u64 = 56;
/// Page size.
pub const PAGE: u64 = 4096;

/// One program header, field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ph {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

impl Ph {
    /// A page-aligned `PT_LOAD`.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
            align: PAGE,
        }
    }

    /// A header of another type, with no file or memory bytes.
    pub fn other(p_type: u32, flags: u32) -> Ph {
        Ph {
            p_type,
            flags,
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
            align: 0,
        }
    }

    /// `self` with `p_align` set.
    pub fn align(self, align: u64) -> Ph {
        Ph { align, ..self }
    }

    /// The 56 bytes of this header.
    pub fn to_bytes(self) -> [u8; 56] {
        let mut out = [0u8; 56];
        out[0..4].copy_from_slice(&self.p_type.to_le_bytes());
        out[4..8].copy_from_slice(&self.flags.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..24].copy_from_slice(&self.vaddr.to_le_bytes());
        out[24..32].copy_from_slice(&self.vaddr.to_le_bytes());
        out[32..40].copy_from_slice(&self.filesz.to_le_bytes());
        out[40..48].copy_from_slice(&self.memsz.to_le_bytes());
        out[48..56].copy_from_slice(&self.align.to_le_bytes());
        out
    }
}

/// A whole file, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elf {
    /// `e_ident`.
    pub ident: [u8; 16],
    pub e_type: u16,
    pub machine: u16,
    pub version: u32,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    /// `e_phnum`; `None` writes the number of `phdrs`.
    pub phnum: Option<u16>,
    pub phdrs: Vec<Ph>,
    /// Length of the file before the headers are written (it grows to hold
    /// them when `phoff` is below 1 MiB).
    pub len: u64,
    /// Bytes written over the file last: (offset, bytes).
    pub patches: Vec<(u64, Vec<u8>)>,
}

/// The byte at file offset `offset` before headers are written: never 0,
/// and different on neighbouring offsets, so a misplaced or missing copy
/// shows.
pub fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(31).wrapping_add(7) % 251) as u8 + 1
}

impl Elf {
    /// A valid identification: ELF64, little-endian, version 1.
    pub fn ident() -> [u8; 16] {
        let mut ident = [0u8; 16];
        ident[..4].copy_from_slice(b"\x7fELF");
        ident[4] = 2;
        ident[5] = 1;
        ident[6] = 1;
        ident
    }

    /// A typical static executable linked at 0x400000, like GNU ld's:
    /// - headers, read-only: file 0..0x1c8 at 0x400000;
    /// - text, read+exec: file 0x1000..0x3345 at 0x401000 (two whole pages
    ///   and a partial tail);
    /// - data, read+write: file 0x3f00..0x4100 at 0x404f00, with .bss up to
    ///   0x408000;
    /// - `PT_GNU_STACK` read+write.
    pub fn exec() -> Elf {
        Elf {
            ident: Elf::ident(),
            e_type: ET_EXEC,
            machine: 62,
            version: 1,
            entry: 0x401010,
            phoff: EHDR,
            phentsize: 56,
            phnum: None,
            phdrs: vec![
                Ph::load(R, 0, 0x40_0000, 0x1c8, 0x1c8),
                Ph::load(R | X, 0x1000, 0x40_1000, 0x2345, 0x2345),
                Ph::load(R | W, 0x3f00, 0x40_4f00, 0x200, 0x3100),
                Ph::other(PT_GNU_STACK, R | W),
            ],
            len: 0x4100,
            patches: Vec::new(),
        }
    }

    /// The same layout as [`Elf::exec`], as a static-pie linked at 0.
    pub fn pie() -> Elf {
        let mut elf = Elf::exec();
        elf.e_type = ET_DYN;
        elf.entry -= 0x40_0000;
        for ph in &mut elf.phdrs {
            if ph.p_type == PT_LOAD {
                ph.vaddr -= 0x40_0000;
            }
        }
        elf
    }

    /// `self` with one more program header.
    pub fn with(mut self, ph: Ph) -> Elf {
        self.phdrs.push(ph);
        self
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let table_end = self.phoff.saturating_add(PHDR * self.phdrs.len() as u64);
        let mut len = self.len.max(EHDR);
        if self.phoff < 1 << 20 {
            len = len.max(table_end);
        }
        let mut file: Vec<u8> = (0..len).map(pattern).collect();
        let mut header = [0u8; 64];
        header[..16].copy_from_slice(&self.ident);
        header[16..18].copy_from_slice(&self.e_type.to_le_bytes());
        header[18..20].copy_from_slice(&self.machine.to_le_bytes());
        header[20..24].copy_from_slice(&self.version.to_le_bytes());
        header[24..32].copy_from_slice(&self.entry.to_le_bytes());
        header[32..40].copy_from_slice(&self.phoff.to_le_bytes());
        // e_shoff 0, e_flags 0.
        header[52..54].copy_from_slice(&64u16.to_le_bytes());
        header[54..56].copy_from_slice(&self.phentsize.to_le_bytes());
        let phnum = self.phnum.unwrap_or(self.phdrs.len() as u16);
        header[56..58].copy_from_slice(&phnum.to_le_bytes());
        // e_shentsize 64, e_shnum 0, e_shstrndx 0.
        header[58..60].copy_from_slice(&64u16.to_le_bytes());
        file[..64].copy_from_slice(&header);
        if self.phoff < 1 << 20 {
            for (index, ph) in self.phdrs.iter().enumerate() {
                let at = (self.phoff + PHDR * index as u64) as usize;
                file[at..at + 56].copy_from_slice(&ph.to_bytes());
            }
        }
        for (offset, bytes) in &self.patches {
            let at = *offset as usize;
            if file.len() < at + bytes.len() {
                file.resize(at + bytes.len(), 0);
            }
            file[at..at + bytes.len()].copy_from_slice(bytes);
        }
        file
    }
}

/// `SHT_NULL`.
pub const SHT_NULL: u32 = 0;
/// `SHT_PROGBITS`.
pub const SHT_PROGBITS: u32 = 1;
/// `SHT_STRTAB`.
pub const SHT_STRTAB: u32 = 3;
/// `SHT_NOBITS`.
pub const SHT_NOBITS: u32 = 8;

/// Offsets of the section header fields.
pub mod sh {
    pub const NAME: usize = 0;
    pub const TYPE: usize = 4;
    pub const OFFSET: usize = 24;
    pub const SIZE: usize = 32;
    pub const LINK: usize = 40;
}

/// `file` with a section header table like a linker's: the null header,
/// then `sections` (name, type, bytes; the bytes are appended to the file,
/// or for `SHT_NOBITS` only counted in `sh_size`), then `.shstrtab`, whose
/// index goes in `e_shstrndx`. The table is appended last, 8-aligned, and
/// `e_shoff`, `e_shentsize`, `e_shnum` and `e_shstrndx` are set.
pub fn with_sections(mut file: Vec<u8>, sections: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut names = vec![0u8];
    let mut headers = vec![[0u8; 64]];
    let mut add = |file: &mut Vec<u8>, name: &str, sh_type: u32, bytes: &[u8]| {
        let mut header = [0u8; 64];
        header[0..4].copy_from_slice(&(names.len() as u32).to_le_bytes());
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        header[4..8].copy_from_slice(&sh_type.to_le_bytes());
        header[24..32].copy_from_slice(&(file.len() as u64).to_le_bytes());
        header[32..40].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        if sh_type != SHT_NOBITS {
            file.extend_from_slice(bytes);
        }
        headers.push(header);
    };
    for (name, sh_type, bytes) in sections {
        add(&mut file, name, *sh_type, bytes);
    }
    // The name table names itself, so its bytes are complete only once its
    // own name is in.
    let shstrndx = headers.len();
    let mut header = [0u8; 64];
    header[0..4].copy_from_slice(&(names.len() as u32).to_le_bytes());
    names.extend_from_slice(b".shstrtab\0");
    header[4..8].copy_from_slice(&SHT_STRTAB.to_le_bytes());
    header[24..32].copy_from_slice(&(file.len() as u64).to_le_bytes());
    header[32..40].copy_from_slice(&(names.len() as u64).to_le_bytes());
    file.extend_from_slice(&names);
    headers.push(header);
    while !file.len().is_multiple_of(8) {
        file.push(0);
    }
    let shoff = file.len() as u64;
    for header in &headers {
        file.extend_from_slice(header);
    }
    file[40..48].copy_from_slice(&shoff.to_le_bytes());
    file[58..60].copy_from_slice(&64u16.to_le_bytes());
    file[60..62].copy_from_slice(&(headers.len() as u16).to_le_bytes());
    file[62..64].copy_from_slice(&(shstrndx as u16).to_le_bytes());
    file
}

/// File offset of section header `index` of `file`.
pub fn section_header_at(file: &[u8], index: usize) -> usize {
    let shoff = u64::from_le_bytes(file[40..48].try_into().unwrap());
    shoff as usize + 64 * index
}

/// Writes `value` (little-endian, its own width) into field `field` of
/// section header `index` of `file`.
pub fn set_section_field(file: &mut [u8], index: usize, field: usize, value: &[u8]) {
    let at = section_header_at(file, index) + field;
    file[at..at + value.len()].copy_from_slice(value);
}
