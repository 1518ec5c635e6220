//! Driver manifests: what a program says it needs, embedded in its own ELF
//! file, and the check of that against what `system.toml` grants it.
//!
//! A program declares its needs in its source with
//! [`manifest!`](crate::manifest!), which packs them at compile time into
//! a `static` in the ELF section `.mica.manifest` ([`SECTION`]). Before
//! init starts the program it finds that section (`elfload::section`),
//! decodes it with [`Manifest::parse`] and calls [`check`] with the
//! program's entry of the packed configuration. A need the configuration
//! does not grant is a [`Refusal`], which prints as one line for init's
//! log (`serial: asks for ISA IRQ 3, not granted`); init then does not
//! start the program. The configuration stays
//! the authority: a manifest only lets a mismatch show up as a clear
//! message at start instead of a capability error deep in the driver.
//!
//! Everything here is `no_std`, allocates nothing and never panics on any
//! input: [`Manifest::parse`] checks every byte up front, so that
//! [`Manifest::needs`] cannot fail. The encoder ([`pack`], [`pack_into`])
//! is a `const fn` so that the macro can run it at compile time; it checks
//! each need with the same rules as the decoder ([`Need::validate`]), and
//! the macro turns a failure into a compile error.
//!
//! # Format, version 1
//!
//! All integers are little-endian. A 16-byte header, then the need records
//! (16 bytes each), then a string table, back to back:
//!
//! | offset | size | field                                                  |
//! |--------|------|--------------------------------------------------------|
//! | 0      | 4    | magic, `b"MMAN"`                                       |
//! | 4      | 2    | version, 1                                             |
//! | 6      | 2    | need count                                             |
//! | 8      | 4    | string table size in bytes                             |
//! | 12     | 4    | total size: 16 + 16 * count + string table size        |
//!
//! The total must match both the sum and the length of the buffer (the
//! section), so two manifests linked into one program do not parse.
//!
//! A **need record** is laid out as a grant record of the packed
//! configuration (and uses the same kinds, plus 8): kind (u8), three
//! reserved zero bytes, `a` (u32), `b` (u64).
//!
//! | kind | need          | `a`                        | `b`                                     |
//! |------|---------------|----------------------------|-----------------------------------------|
//! | 1    | I/O ports     | first port, <= 0xffff      | count, >= 1, first + count <= 0x10000   |
//! | 2    | ISA IRQ       | line, 0-15                 | zero                                    |
//! | 3    | GSI           | GSI, <= [`crate::MAX_GSI`] | bit 0 level-triggered, bit 1 active low |
//! | 4    | device memory | page count, >= 1           | physical address, page-aligned, end fits in u64 |
//! | 5    | serves        | name: string table offset  | name: length in bytes                   |
//! | 6    | client of     | name: string table offset  | name: length in bytes                   |
//! | 7    | authority     | [`Authority`] id, 1-6      | zero                                    |
//! | 8    | debug         | zero                       | zero                                    |
//!
//! An endpoint name must lie inside the string table, be UTF-8 and be a
//! valid name ([`crate::is_name`]). The string table has no terminators
//! and no alignment; bytes no record refers to are allowed.
//!
//! # Coverage
//!
//! [`check`] says a need is granted when the program's entry has:
//! for I/O ports, one port grant that contains the whole range; for an IRQ,
//! the same ISA line, or the same GSI with the same trigger and polarity;
//! for device memory, one grant that contains the whole range; for serves
//! and client of, a grant of that kind naming the same endpoint; for an
//! authority, that authority; for debug, the debug flag. Adjacent grants
//! are not merged: a range that spans two of them is refused.

use core::fmt;

use crate::{Authority, Program};

mod need;
mod pack;

pub use need::{Need, NeedError};
pub use pack::{PackError, pack, pack_into, packed_len};

#[doc(hidden)]
pub use pack::__private;

/// The ELF section a manifest lives in.
pub const SECTION: &str = ".mica.manifest";
/// The first four bytes of a manifest.
pub const MAGIC: [u8; 4] = *b"MMAN";
/// The format version this module reads and writes.
pub const VERSION: u16 = 1;
/// Header size in bytes.
pub const HEADER_BYTES: usize = 16;
/// Need record size in bytes.
pub const RECORD_BYTES: usize = 16;

/// Need record kinds, as stored. 1-7 are the configuration's grant kinds
/// ([`crate::kind`]).
pub mod kind {
    pub use crate::kind::{
        AUTHORITY, CLIENT_OF, DEVICE_MEMORY, IO_PORTS, IRQ_GSI, IRQ_ISA, SERVES,
    };
    /// The debug capability.
    pub const DEBUG: u8 = 8;
}

/// GSI record flag (in `b`): level-triggered.
const GSI_LEVEL: u64 = crate::GSI_LEVEL;
/// GSI record flag (in `b`): active low.
const GSI_ACTIVE_LOW: u64 = crate::GSI_ACTIVE_LOW;

/// Why a manifest was refused as a whole ([`Manifest::parse`]). Record
/// errors carry the need's index, counted from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManifestError {
    /// Shorter than the header.
    TooShort,
    /// The magic is not [`MAGIC`].
    BadMagic,
    /// A version this decoder does not read.
    UnsupportedVersion(u16),
    /// The header's count and string table size do not add up to its
    /// total size.
    SizeMismatch,
    /// The buffer is shorter than the header's total size.
    Truncated {
        /// The header's total size.
        expected: u32,
        /// The buffer's length.
        found: usize,
    },
    /// The buffer is longer than the header's total size (for example, two
    /// manifests in one section).
    TrailingBytes {
        /// The header's total size.
        expected: u32,
        /// The buffer's length.
        found: usize,
    },
    /// A record of unknown kind.
    BadKind {
        /// The need's index.
        index: u16,
        /// Its kind byte.
        kind: u8,
    },
    /// Nonzero reserved bytes, unknown GSI flags, or a nonzero field the
    /// kind does not use.
    ReservedBits {
        /// The need's index.
        index: u16,
    },
    /// An endpoint name outside the string table.
    StringOutOfBounds {
        /// The need's index.
        index: u16,
    },
    /// An endpoint name that is not UTF-8.
    StringNotUtf8 {
        /// The need's index.
        index: u16,
    },
    /// An authority record with an unknown id.
    BadAuthority {
        /// The need's index.
        index: u16,
        /// The id.
        id: u32,
    },
    /// A need whose values are out of range.
    BadNeed {
        /// The need's index.
        index: u16,
        /// What is wrong.
        error: NeedError,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ManifestError::TooShort => {
                write!(f, "shorter than a manifest header ({HEADER_BYTES} bytes)")
            }
            ManifestError::BadMagic => write!(f, "not a manifest (bad magic)"),
            ManifestError::UnsupportedVersion(v) => {
                write!(f, "manifest version {v} (this reader reads {VERSION})")
            }
            ManifestError::SizeMismatch => write!(
                f,
                "the header's need count and string table size do not add up to its total size"
            ),
            ManifestError::Truncated { expected, found } => write!(
                f,
                "the manifest is cut short: its header says {expected} bytes, there are {found}"
            ),
            ManifestError::TrailingBytes { expected, found } => write!(
                f,
                "{found} bytes where the manifest's header says {expected} (two manifests?)"
            ),
            ManifestError::BadKind { index, kind } => {
                write!(f, "need {index}: unknown kind {kind}")
            }
            ManifestError::ReservedBits { index } => {
                write!(f, "need {index}: nonzero reserved bits")
            }
            ManifestError::StringOutOfBounds { index } => {
                write!(
                    f,
                    "need {index}: the endpoint name lies outside the string table"
                )
            }
            ManifestError::StringNotUtf8 { index } => {
                write!(f, "need {index}: the endpoint name is not UTF-8")
            }
            ManifestError::BadAuthority { index, id } => {
                write!(f, "need {index}: unknown authority id {id}")
            }
            ManifestError::BadNeed { index, error } => write!(f, "need {index}: {error}"),
        }
    }
}

/// A checked manifest, borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Manifest<'a> {
    /// The need records, `count * RECORD_BYTES` bytes.
    records: &'a [u8],
    /// The string table.
    strings: &'a [u8],
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*bytes.get(at..)?.first_chunk()?))
}

impl<'a> Manifest<'a> {
    /// Checks the header, the sizes and every record.
    ///
    /// # Errors
    /// A [`ManifestError`] for the first fault: the header first, then
    /// the records in order.
    pub fn parse(bytes: &'a [u8]) -> Result<Manifest<'a>, ManifestError> {
        let header = bytes
            .first_chunk::<HEADER_BYTES>()
            .ok_or(ManifestError::TooShort)?;
        if header[0..4] != MAGIC {
            return Err(ManifestError::BadMagic);
        }
        let field16 = |at| read_u16(header, at).ok_or(ManifestError::TooShort);
        let field32 = |at| read_u32(header, at).ok_or(ManifestError::TooShort);
        let version = field16(4)?;
        if version != VERSION {
            return Err(ManifestError::UnsupportedVersion(version));
        }
        let count = usize::from(field16(6)?);
        let strings_bytes = field32(8)?;
        let total = field32(12)?;
        // At most 16 + 16 * 0xffff + u32::MAX: no overflow in u64.
        let sum = HEADER_BYTES as u64 + (count * RECORD_BYTES) as u64 + u64::from(strings_bytes);
        if sum != u64::from(total) {
            return Err(ManifestError::SizeMismatch);
        }
        let found = bytes.len();
        let wanted = usize::try_from(total).map_err(|_| ManifestError::Truncated {
            expected: total,
            found,
        })?;
        if found < wanted {
            return Err(ManifestError::Truncated {
                expected: total,
                found,
            });
        }
        if found > wanted {
            return Err(ManifestError::TrailingBytes {
                expected: total,
                found,
            });
        }
        let records_end = HEADER_BYTES + count * RECORD_BYTES;
        let manifest = Manifest {
            records: bytes
                .get(HEADER_BYTES..records_end)
                .ok_or(ManifestError::SizeMismatch)?,
            strings: bytes
                .get(records_end..)
                .ok_or(ManifestError::SizeMismatch)?,
        };
        for index in 0..count {
            manifest.decode(index)?;
        }
        Ok(manifest)
    }

    /// The number of needs.
    pub fn len(&self) -> usize {
        self.records.len() / RECORD_BYTES
    }

    /// Whether it declares no needs.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The needs, in the order they were declared (checked by
    /// [`Manifest::parse`], so the iterator cannot fail).
    pub fn needs(&self) -> Needs<'a> {
        Needs {
            manifest: *self,
            next: 0,
        }
    }

    /// Decodes and checks record `index`.
    fn decode(&self, index: usize) -> Result<Need<'a>, ManifestError> {
        // Indices come from a u16 count.
        let at = index as u16;
        let start = index * RECORD_BYTES;
        let record = self
            .records
            .get(start..start + RECORD_BYTES)
            .ok_or(ManifestError::SizeMismatch)?;
        let reserved = ManifestError::ReservedBits { index: at };
        let kind = record[0];
        if record[1..4] != [0, 0, 0] {
            return Err(reserved);
        }
        let a = read_u32(record, 4).ok_or(ManifestError::SizeMismatch)?;
        let b = read_u64(record, 8).ok_or(ManifestError::SizeMismatch)?;
        let bad = |error| ManifestError::BadNeed { index: at, error };
        let name = || -> Result<&'a str, ManifestError> {
            let out_of_bounds = ManifestError::StringOutOfBounds { index: at };
            let start = usize::try_from(a).map_err(|_| out_of_bounds)?;
            let len = usize::try_from(b).map_err(|_| out_of_bounds)?;
            let end = start.checked_add(len).ok_or(out_of_bounds)?;
            let strings: &'a [u8] = self.strings;
            let bytes = strings.get(start..end).ok_or(out_of_bounds)?;
            core::str::from_utf8(bytes).map_err(|_| ManifestError::StringNotUtf8 { index: at })
        };
        let need = match kind {
            kind::IO_PORTS => Need::IoPorts {
                base: u16::try_from(a).map_err(|_| bad(NeedError::BadIoPorts))?,
                count: u32::try_from(b).map_err(|_| bad(NeedError::BadIoPorts))?,
            },
            kind::IRQ_ISA => {
                if b != 0 {
                    return Err(reserved);
                }
                Need::IrqIsa(u8::try_from(a).map_err(|_| bad(NeedError::BadIsaIrq))?)
            }
            kind::IRQ_GSI => {
                if b & !(GSI_LEVEL | GSI_ACTIVE_LOW) != 0 {
                    return Err(reserved);
                }
                Need::IrqGsi {
                    gsi: a,
                    level: b & GSI_LEVEL != 0,
                    active_low: b & GSI_ACTIVE_LOW != 0,
                }
            }
            kind::DEVICE_MEMORY => Need::DeviceMemory { phys: b, pages: a },
            kind::SERVES => Need::Serves(name()?),
            kind::CLIENT_OF => Need::ClientOf(name()?),
            kind::AUTHORITY => {
                if b != 0 {
                    return Err(reserved);
                }
                let authority = Authority::from_id(a)
                    .ok_or(ManifestError::BadAuthority { index: at, id: a })?;
                Need::Authority(authority)
            }
            kind::DEBUG => {
                if a != 0 || b != 0 {
                    return Err(reserved);
                }
                Need::Debug
            }
            other => {
                return Err(ManifestError::BadKind {
                    index: at,
                    kind: other,
                });
            }
        };
        need.validate().map_err(bad)?;
        Ok(need)
    }
}

/// Iterator over [`Manifest::needs`].
#[derive(Clone, Debug)]
pub struct Needs<'a> {
    manifest: Manifest<'a>,
    next: usize,
}

impl<'a> Iterator for Needs<'a> {
    type Item = Need<'a>;

    fn next(&mut self) -> Option<Need<'a>> {
        while self.next < self.manifest.len() {
            let index = self.next;
            self.next += 1;
            // Every record was checked by `parse`; a failure cannot happen,
            // and would only skip the record.
            if let Ok(need) = self.manifest.decode(index) {
                return Some(need);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.manifest.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Needs<'_> {}

/// A need of a manifest that the program's grants do not cover
/// ([`check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal<'a> {
    /// The need's index in the manifest.
    pub index: u16,
    /// The need.
    pub need: Need<'a>,
}

/// One line saying what was asked for: `asks for I/O ports
/// 0x2f8..0x300, not granted`, `asks for ISA IRQ 3, not granted`, `asks
/// to serve endpoint "tty", not granted`, `asks for authority io-space, not
/// granted`.
impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.need {
            Need::Serves(name) => write!(f, "asks to serve endpoint \"{name}\", not granted"),
            Need::ClientOf(name) => {
                write!(f, "asks to be a client of endpoint \"{name}\", not granted")
            }
            need => write!(f, "asks for {need}, not granted"),
        }
    }
}

/// Checks every need of `manifest` against `program`'s grants.
///
/// # Errors
/// The first need, in manifest order, that the grants do not cover.
pub fn check<'m>(manifest: &Manifest<'m>, program: &Program<'_>) -> Result<(), Refusal<'m>> {
    for (index, need) in manifest.needs().enumerate() {
        if !need.is_granted_to(program) {
            return Err(Refusal {
                // At most 0xffff records.
                index: index as u16,
                need,
            });
        }
    }
    Ok(())
}
