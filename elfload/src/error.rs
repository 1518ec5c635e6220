//! Why a file cannot be loaded ([`ElfError`]) and why a stack or TLS block
//! cannot be written ([`SetupError`]).
//!
//! Each variant is one reason, so a test can assert exactly which check
//! fired, and each prints as one sentence the runtime can show the user
//! (`exec: program header table lies outside the file`).

use core::fmt;

/// Why [`crate::parse`] refused a file (or [`crate::tls_layout`] its TLS
/// template, or [`crate::section`] its section header table). The checks
/// and their order are listed in `docs/elf.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElfError {
    /// The file is shorter than the 64-byte ELF64 header.
    TooShort,
    /// The file does not start with `\x7fELF`.
    BadMagic,
    /// `EI_CLASS` is not `ELFCLASS64` (a 32-bit or unknown class).
    Not64Bit,
    /// `EI_DATA` is not `ELFDATA2LSB` (big-endian or unknown encoding).
    NotLittleEndian,
    /// `EI_VERSION` or `e_version` is not 1 (`EV_CURRENT`).
    BadVersion,
    /// `e_machine` is not `EM_X86_64` (62).
    WrongMachine,
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (a relocatable object, a
    /// core dump or an unknown type).
    NotExecutable,
    /// [`crate::Options::base`] is not a multiple of the page size (only
    /// checked for a static-pie, where it is used).
    MisalignedBase,
    /// [`crate::Options::file_page_offset`] is not below the page size.
    BadFilePageOffset,
    /// `e_phentsize` is not 56, the size of an ELF64 program header.
    BadPhentsize,
    /// `e_phnum` is 0: there is nothing to load.
    NoProgramHeaders,
    /// `e_phnum` is `PN_XNUM` (0xffff): the real count would be in a section
    /// header, which is not supported.
    ExtendedPhnum,
    /// `e_phnum` is above [`crate::MAX_PHNUM`].
    TooManyProgramHeaders,
    /// The program header table does not lie wholly inside the file.
    PhdrsOutOfFile,
    /// The program has a `PT_INTERP` header: it is dynamically linked and
    /// needs an interpreter, which Mica does not have.
    NeedsInterpreter,
    /// A `PT_LOAD`'s file bytes (`p_offset + p_filesz`) reach past the end
    /// of the file or overflow.
    SegmentOutOfFile,
    /// A `PT_LOAD`'s `p_filesz` is larger than its `p_memsz`.
    FileSizeExceedsMemSize,
    /// A `PT_LOAD`'s `p_align` is neither 0, 1 nor a power of two.
    BadAlignment,
    /// A `PT_LOAD`'s `p_offset` and `p_vaddr` differ modulo its `p_align`.
    MisalignedSegment,
    /// A `PT_LOAD`'s addresses overflow (`p_vaddr` plus the load bias, or
    /// plus `p_memsz`).
    AddressOverflow,
    /// A `PT_LOAD` starts below [`abi::layout::USER_START`] (the null page,
    /// which stays unmapped).
    BelowUserStart,
    /// A `PT_LOAD` reaches past [`abi::layout::USER_END`], into memory only
    /// the kernel may map.
    AboveUserEnd,
    /// A `PT_LOAD` is both writable and executable.
    WritableAndExecutable,
    /// A `PT_LOAD` starts at a lower address than the one before it.
    UnsortedSegments,
    /// Two `PT_LOAD`s share a page (their page-rounded ranges overlap).
    OverlappingSegments,
    /// More than [`crate::MAX_SEGMENTS`] non-empty `PT_LOAD`s.
    TooManySegments,
    /// No `PT_LOAD` with a non-zero `p_memsz`.
    NoLoadSegments,
    /// The entry point lies in no executable segment.
    EntryNotExecutable,
    /// More than one `PT_TLS` header.
    MultipleTls,
    /// The `PT_TLS` initialization image reaches past the end of the file.
    TlsOutOfFile,
    /// The `PT_TLS` header's `p_filesz` is larger than its `p_memsz`.
    TlsFileSizeExceedsMemSize,
    /// The `PT_TLS` header's `p_align` is neither 0, 1 nor a power of two.
    TlsBadAlignment,
    /// The TLS block (`p_memsz`, `p_align` and the TCB) would not fit in
    /// the user address space.
    TlsTooLarge,
    /// `PT_GNU_STACK` asks for an executable stack, which Mica never gives.
    ExecutableStack,
    /// `e_shentsize` is not 64, the size of an ELF64 section header (only
    /// checked when there is a section header table).
    BadShentsize,
    /// The section header table (`e_shoff` plus the count times 64) does
    /// not lie wholly inside the file, or the extended count does not fit.
    SectionHeadersOutOfFile,
    /// `e_shstrndx` is a reserved index other than `SHN_XINDEX`, is past
    /// the table, or (through `SHN_XINDEX`) is 0 or past the table.
    BadShstrndx,
    /// The section name table is not an `SHT_STRTAB`, is empty, or does not
    /// end in a NUL.
    BadSectionNameTable,
    /// A section's `sh_name` lies outside the section name table.
    BadSectionName,
    /// A section's bytes (`sh_offset + sh_size`) reach past the end of the
    /// file or overflow.
    SectionOutOfFile,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::TooShort => "file is shorter than an ELF64 header",
            Self::BadMagic => "not an ELF file (bad magic number)",
            Self::Not64Bit => "not a 64-bit ELF file",
            Self::NotLittleEndian => "not a little-endian ELF file",
            Self::BadVersion => "unknown ELF version",
            Self::WrongMachine => "not an x86_64 program",
            Self::NotExecutable => "not an executable (ELF type is neither EXEC nor DYN)",
            Self::MisalignedBase => "load base is not page-aligned",
            Self::BadFilePageOffset => "file page offset is not below the page size",
            Self::BadPhentsize => "program header size is not 56 bytes",
            Self::NoProgramHeaders => "file has no program headers",
            Self::ExtendedPhnum => "extended program header count (PN_XNUM) is not supported",
            Self::TooManyProgramHeaders => "too many program headers",
            Self::PhdrsOutOfFile => "program header table lies outside the file",
            Self::NeedsInterpreter => {
                "dynamically linked program (PT_INTERP): only static programs can run"
            }
            Self::SegmentOutOfFile => "loadable segment lies outside the file",
            Self::FileSizeExceedsMemSize => "loadable segment has more file bytes than memory",
            Self::BadAlignment => "loadable segment alignment is not a power of two",
            Self::MisalignedSegment => {
                "loadable segment offset and address disagree modulo its alignment"
            }
            Self::AddressOverflow => "loadable segment address range overflows",
            Self::BelowUserStart => "loadable segment starts in the unmapped null page",
            Self::AboveUserEnd => "loadable segment reaches into kernel memory",
            Self::WritableAndExecutable => "loadable segment is both writable and executable",
            Self::UnsortedSegments => "loadable segments are not sorted by address",
            Self::OverlappingSegments => "loadable segments share a page",
            Self::TooManySegments => "too many loadable segments",
            Self::NoLoadSegments => "file has nothing to load (no non-empty PT_LOAD)",
            Self::EntryNotExecutable => "entry point is not in an executable segment",
            Self::MultipleTls => "more than one TLS segment",
            Self::TlsOutOfFile => "TLS segment lies outside the file",
            Self::TlsFileSizeExceedsMemSize => "TLS segment has more file bytes than memory",
            Self::TlsBadAlignment => "TLS segment alignment is not a power of two",
            Self::TlsTooLarge => "TLS block is too large",
            Self::ExecutableStack => "program asks for an executable stack (PT_GNU_STACK)",
            Self::BadShentsize => "section header size is not 64 bytes",
            Self::SectionHeadersOutOfFile => "section header table lies outside the file",
            Self::BadShstrndx => "section name table index is out of range",
            Self::BadSectionNameTable => {
                "section name table is not a string table ending in a NUL byte"
            }
            Self::BadSectionName => "a section name lies outside the section name table",
            Self::SectionOutOfFile => "a section lies outside the file",
        };
        f.write_str(text)
    }
}

/// Why [`crate::InitialStack::write`] or [`crate::TlsLayout::write_block`]
/// could not fill the caller's buffer. These are about the caller's
/// arguments and memory, not about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetupError {
    /// The buffer is too small for what must go in it.
    BufferTooSmall,
    /// The buffer's address is unusable: the stack buffer would start below
    /// address 0, or the TLS block is not aligned to
    /// [`crate::TlsLayout::block_align`] or its end overflows.
    BadAddress,
    /// An argument or environment string contains a NUL byte, which would
    /// cut it short.
    NulInString,
    /// An extra auxiliary vector entry uses a type the stack writer sets
    /// itself (`AT_NULL`, `AT_PHDR`, `AT_PHENT`, `AT_PHNUM`, `AT_PAGESZ`,
    /// `AT_ENTRY` or `AT_RANDOM`).
    ReservedAuxType,
    /// The TLS template does not lie inside the file given, or does not
    /// fit the layout given (not the file or layout it was made from).
    TemplateMismatch,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::BufferTooSmall => "buffer too small",
            Self::BadAddress => "buffer address is misaligned or out of range",
            Self::NulInString => "argument or environment string contains a NUL byte",
            Self::ReservedAuxType => "auxiliary vector entry uses a reserved type",
            Self::TemplateMismatch => "TLS template does not match the file or layout",
        };
        f.write_str(text)
    }
}
