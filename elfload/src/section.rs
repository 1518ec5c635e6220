//! [`section`]: the bytes of a named section, such as the `.mica.manifest`
//! section a driver's manifest lives in (`sysconf::manifest`).
//!
//! [`crate::parse`] never reads section headers; this is the only reader.
//! It checks the file header as `parse` does (an ELF64 little-endian x86_64
//! file of any type, so relocatable objects too), then the whole section
//! header table before it looks for the name, so a file gets the same
//! answer whatever name is asked for:
//!
//! 1. `e_shoff` 0: no section header table, `Ok(None)`.
//! 2. `e_shentsize` must be 64 ([`ElfError::BadShentsize`]).
//! 3. The count is `e_shnum`, or, when that is 0, section header 0's
//!    `sh_size` (extended numbering); a count of 0 is `Ok(None)`. The table
//!    must lie inside the file ([`ElfError::SectionHeadersOutOfFile`]).
//! 4. `e_shstrndx` `SHN_UNDEF` (0) means no section has a name: every
//!    header is still checked, and the answer is `Ok(None)`. `SHN_XINDEX`
//!    (0xffff) means the index is section header 0's `sh_link`. Any other
//!    reserved value (0xff00 and up), an index 0 through `SHN_XINDEX`, or
//!    one past the table is [`ElfError::BadShstrndx`].
//! 5. The name table must be an `SHT_STRTAB` whose bytes lie in the file,
//!    are not empty and end in a NUL ([`ElfError::BadSectionNameTable`]);
//!    so every name inside it is terminated, checked in constant time.
//! 6. Every section but header 0 and `SHT_NULL` ones (whose other fields
//!    are undefined) must have its name inside the name table
//!    ([`ElfError::BadSectionName`]) and, unless it is `SHT_NOBITS`, its
//!    bytes inside the file ([`ElfError::SectionOutOfFile`]).
//!
//! Then the first section (in table order, header 0 and `SHT_NULL` ones
//! skipped) whose name is exactly `name` is the answer. An `SHT_NOBITS`
//! section (`.bss`) occupies no file bytes: its answer is an empty slice.
//!
//! The work is linear in the number of sections times the length of
//! `name`, and the number of sections is bounded by the file's size.

use crate::ElfError;
use crate::format::{
    FileHeader, SHDR_BYTES, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_NOBITS, SHT_NULL, SHT_STRTAB,
    SectionHeader,
};

/// The bytes of the first section named `name` in the ELF64 file `file`.
///
/// `Ok(None)` when the file has no section header table, no section
/// names, or no section of that name. An `SHT_NOBITS` section gives
/// `Ok(Some(&[]))`. The returned slice borrows from `file`.
///
/// # Errors
///
/// The file header's own errors ([`ElfError::TooShort`],
/// [`ElfError::BadMagic`], ... as for [`crate::parse`], but any `e_type`),
/// and for the section header table [`ElfError::BadShentsize`],
/// [`ElfError::SectionHeadersOutOfFile`], [`ElfError::BadShstrndx`],
/// [`ElfError::BadSectionNameTable`], [`ElfError::BadSectionName`] and
/// [`ElfError::SectionOutOfFile`]. The module documentation lists the
/// checks in order.
pub fn section<'file>(file: &'file [u8], name: &str) -> Result<Option<&'file [u8]>, ElfError> {
    let header = FileHeader::read(file)?;
    let Some(table) = Table::read(file, &header)? else {
        return Ok(None);
    };
    let Some(names) = table.names()? else {
        table.check_all(&[])?;
        return Ok(None);
    };
    table.check_all(names)?;
    for index in 1..table.count {
        let sh = table.header(index)?;
        if sh.sh_type != SHT_NULL && name_is(names, sh.name, name) {
            return table.bytes(&sh).map(Some);
        }
    }
    Ok(None)
}

/// The section header table, its place checked.
struct Table<'file> {
    /// The whole file.
    file: &'file [u8],
    /// The table's bytes, `count * 64`.
    entries: &'file [u8],
    /// Number of section headers, header 0 included; at least 1.
    count: usize,
    /// `e_shstrndx`, not yet resolved.
    shstrndx: u16,
}

impl<'file> Table<'file> {
    /// Finds and bounds the table; `None` when there is none or it has no
    /// entries.
    fn read(file: &'file [u8], header: &FileHeader) -> Result<Option<Table<'file>>, ElfError> {
        if header.shoff == 0 {
            return Ok(None);
        }
        if header.shentsize != SHDR_BYTES {
            return Err(ElfError::BadShentsize);
        }
        let out = ElfError::SectionHeadersOutOfFile;
        let start = usize::try_from(header.shoff).map_err(|_| out)?;
        let count = if header.shnum == 0 {
            // Extended numbering: the count is section header 0's sh_size.
            let first = file
                .get(start..)
                .and_then(|rest| rest.first_chunk())
                .and_then(SectionHeader::read)
                .ok_or(out)?;
            usize::try_from(first.size).map_err(|_| out)?
        } else {
            usize::from(header.shnum)
        };
        if count == 0 {
            return Ok(None);
        }
        let len = count.checked_mul(usize::from(SHDR_BYTES)).ok_or(out)?;
        let end = start.checked_add(len).ok_or(out)?;
        let entries = file.get(start..end).ok_or(out)?;
        Ok(Some(Table {
            file,
            entries,
            count,
            shstrndx: header.shstrndx,
        }))
    }

    /// Section header `index`, which is below `count`.
    fn header(&self, index: usize) -> Result<SectionHeader, ElfError> {
        let out = ElfError::SectionHeadersOutOfFile;
        let start = index.checked_mul(usize::from(SHDR_BYTES)).ok_or(out)?;
        self.entries
            .get(start..)
            .and_then(|rest| rest.first_chunk())
            .and_then(SectionHeader::read)
            .ok_or(out)
    }

    /// The section name string table's bytes, or `None` for `SHN_UNDEF`.
    fn names(&self) -> Result<Option<&'file [u8]>, ElfError> {
        let index = match self.shstrndx {
            SHN_UNDEF => return Ok(None),
            SHN_XINDEX => {
                usize::try_from(self.header(0)?.link).map_err(|_| ElfError::BadShstrndx)?
            }
            reserved if reserved >= SHN_LORESERVE => return Err(ElfError::BadShstrndx),
            index => usize::from(index),
        };
        if index == 0 || index >= self.count {
            return Err(ElfError::BadShstrndx);
        }
        let sh = self.header(index)?;
        if sh.sh_type != SHT_STRTAB {
            return Err(ElfError::BadSectionNameTable);
        }
        let names = self.bytes(&sh)?;
        // The ELF specification ends every string table with a NUL, so a
        // name that starts inside one is terminated.
        if names.last() != Some(&0) {
            return Err(ElfError::BadSectionNameTable);
        }
        Ok(Some(names))
    }

    /// Checks every section's name (against `names`, unless there are no
    /// names: empty) and bytes.
    fn check_all(&self, names: &[u8]) -> Result<(), ElfError> {
        for index in 1..self.count {
            let sh = self.header(index)?;
            if sh.sh_type == SHT_NULL {
                continue;
            }
            let name_ok = usize::try_from(sh.name).is_ok_and(|at| at < names.len());
            if !names.is_empty() && !name_ok {
                return Err(ElfError::BadSectionName);
            }
            self.bytes(&sh)?;
        }
        Ok(())
    }

    /// The file bytes of section `sh`: empty for `SHT_NOBITS`.
    fn bytes(&self, sh: &SectionHeader) -> Result<&'file [u8], ElfError> {
        if sh.sh_type == SHT_NOBITS {
            return Ok(&[]);
        }
        let out = ElfError::SectionOutOfFile;
        let start = usize::try_from(sh.offset).map_err(|_| out)?;
        let len = usize::try_from(sh.size).map_err(|_| out)?;
        let end = start.checked_add(len).ok_or(out)?;
        self.file.get(start..end).ok_or(out)
    }
}

/// Whether the NUL-terminated name at offset `at` of `names` is `name`
/// (never, if `name` holds a NUL).
fn name_is(names: &[u8], at: u32, name: &str) -> bool {
    if name.as_bytes().contains(&0) {
        return false;
    }
    let Ok(at) = usize::try_from(at) else {
        return false;
    };
    let Some(end) = at.checked_add(name.len()) else {
        return false;
    };
    names.get(at..end) == Some(name.as_bytes()) && names.get(end) == Some(&0)
}
