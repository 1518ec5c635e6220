//! Mica's packed system configuration: the binary form of `system.toml`.
//!
//! xtask reads `system.toml`, validates it and writes this form into the
//! initramfs as `etc/system.bin` (the encoder, [`encode`], behind the
//! `encode` feature). init decodes it with [`Config::parse`], which borrows
//! from the bytes, never allocates and never panics, and checks every field
//! again: header corruption fails the whole parse ([`DecodeError`]); a bad
//! program entry fails only that entry ([`EntryError`] from
//! [`Config::programs`]), so init can log it and start the rest.
//!
//! # Format, version 2
//!
//! All integers are little-endian. The file is a 32-byte header followed by
//! five tables and a string table, packed back to back in this order, with
//! no padding between them:
//!
//! | offset | size | field                                                 |
//! |--------|------|-------------------------------------------------------|
//! | 0      | 4    | magic, `b"MSYS"`                                      |
//! | 4      | 2    | version, 3                                            |
//! | 6      | 2    | flags: bit 0 ASLR on; other bits zero                 |
//! | 8      | 2    | program count                                         |
//! | 10     | 2    | endpoint count                                        |
//! | 12     | 2    | grant count                                           |
//! | 14     | 2    | argument count                                        |
//! | 16     | 2    | dependency count                                      |
//! | 18     | 2    | reserved, zero                                        |
//! | 20     | 4    | string table size in bytes                            |
//! | 24     | 4    | total size in bytes (header, tables and strings)      |
//! | 28     | 4    | reserved, zero                                        |
//!
//! A *string reference* is 8 bytes: offset (u32) and length (u32) into the
//! string table; the bytes must lie inside it and be UTF-8.
//!
//! **Programs** (64 bytes each), in start order:
//!
//! | offset | size | field                                                |
//! |--------|------|------------------------------------------------------|
//! | 0      | 8    | name (string reference)                              |
//! | 8      | 8    | path in the initramfs (string reference), `bin/...`  |
//! | 16     | 1    | priority, 0-63                                       |
//! | 17     | 1    | restart: 0 never, 1 on failure, 2 always             |
//! | 18     | 1    | flags: bit 0 may hold the debug capability           |
//! | 19     | 1    | highest priority it may give threads, 0-63, >= priority; 0: the priority |
//! | 20     | 4    | budget in frames, not zero                           |
//! | 24     | 4    | first restart delay (backoff start), ms              |
//! | 28     | 4    | longest restart delay (backoff cap), ms, >= first    |
//! | 32     | 4    | minimum run time before the backoff resets, ms       |
//! | 36     | 4    | give up after this many failures (0: never)          |
//! | 40     | 4    | ... within this window, ms                           |
//! | 44     | 2    | first argument (index into the argument table)       |
//! | 46     | 2    | argument count                                       |
//! | 48     | 2    | first grant (index into the grant table)             |
//! | 50     | 2    | grant count                                          |
//! | 52     | 2    | first dependency (index into the dependency table)   |
//! | 54     | 2    | dependency count                                     |
//!
//! **Endpoints** (12 bytes each): name (string reference), the index of the
//! program that serves it (u16), reserved u16 zero.
//!
//! **Grants** (16 bytes each): kind (u8), 3 reserved zero bytes, `a` (u32),
//! `b` (u64):
//!
//! | kind | grant          | `a`                         | `b`                                   |
//! |------|----------------|-----------------------------|---------------------------------------|
//! | 1    | I/O ports      | first port                  | port count, >= 1, first + count <= 0x10000 |
//! | 2    | ISA IRQ        | line, 0-15                  | zero                                  |
//! | 3    | GSI            | GSI, <= [`MAX_GSI`]         | bit 0 level-triggered, bit 1 active low |
//! | 4    | device memory  | page count, >= 1            | physical address, page-aligned, end fits in u64 |
//! | 5    | serves         | endpoint index (its server is this program) | zero              |
//! | 6    | client of      | endpoint index (served by another program)  | zero              |
//! | 7    | authority      | [`Authority`] id, 1-6       | zero                                  |
//!
//! **Arguments** (8 bytes each): string references.
//!
//! **Dependencies** (2 bytes each): the index of a program that must start
//! first; not the program itself.
//!
//! **Strings**: UTF-8 bytes, referenced by offset and length.
//!
//! A program's I/O ports must not include the kernel's own
//! (`abi::syscall::KERNEL_IO_PORTS`). What one entry cannot show xtask
//! rejects at build time: overlapping grants between programs, duplicate
//! names and dependency cycles. init checks the first two again with
//! [`Program::conflict_with`] against the entries it accepted before.
//!
//! Version 2 added grant kind 7 (authority); a version 1 file is refused
//! as [`DecodeError::UnsupportedVersion`].
//!
//! # Also here
//!
//! - [`Authority`]: the strong kernel capabilities a program may be given.
//! - [`manifest`](mod@manifest): a driver's own statement of what it needs, embedded in
//!   its ELF file (section `.mica.manifest`, written with the
//!   [`manifest!`] macro), and the check of it against the program's
//!   grants.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "encode")]
extern crate alloc;

mod authority;
pub mod budget;
pub mod restart;

#[cfg(feature = "encode")]
mod encode;
pub mod manifest;

pub use authority::Authority;
#[cfg(feature = "encode")]
pub use encode::{EncodeError, GrantSpec, ProgramSpec, System, encode};

use core::fmt;

/// The first four bytes of a packed configuration.
pub const MAGIC: [u8; 4] = *b"MSYS";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 3;
/// Header size in bytes.
pub const HEADER_BYTES: usize = 32;
/// Program record size in bytes.
pub const PROGRAM_BYTES: usize = 64;
/// Endpoint record size in bytes.
pub const ENDPOINT_BYTES: usize = 12;
/// Grant record size in bytes.
pub const GRANT_BYTES: usize = 16;
/// Argument record (a string reference) size in bytes.
pub const ARG_BYTES: usize = 8;
/// Dependency record size in bytes.
pub const DEP_BYTES: usize = 2;
/// The highest priority a program may have.
pub const MAX_PRIORITY: u8 = 63;
/// The highest ISA IRQ line.
pub const MAX_ISA_IRQ: u8 = 15;
/// The highest GSI a grant may name (the I/O APIC inputs Mica routes).
pub const MAX_GSI: u32 = 255;
/// Ports in the x86 I/O space.
pub const IO_PORT_SPACE: u32 = 0x1_0000;
/// Bytes in a page of device memory.
pub const PAGE_BYTES: u64 = 4096;

/// Header flag: the loader randomizes program addresses.
pub const FLAG_ASLR: u16 = 1;
/// Program flag: the program may be given the debug capability.
pub const PROGRAM_FLAG_DEBUG: u8 = 1;
/// GSI grant flag (in `b`): level-triggered.
pub const GSI_LEVEL: u64 = 1;
/// GSI grant flag (in `b`): active low.
pub const GSI_ACTIVE_LOW: u64 = 2;

/// Grant kinds, as stored.
pub mod kind {
    /// I/O port range.
    pub const IO_PORTS: u8 = 1;
    /// ISA IRQ line.
    pub const IRQ_ISA: u8 = 2;
    /// I/O APIC GSI.
    pub const IRQ_GSI: u8 = 3;
    /// Device memory range.
    pub const DEVICE_MEMORY: u8 = 4;
    /// An endpoint the program serves.
    pub const SERVES: u8 = 5;
    /// An endpoint the program is a client of.
    pub const CLIENT_OF: u8 = 6;
    /// An [`Authority`](crate::Authority).
    pub const AUTHORITY: u8 = 7;
}

/// Why a whole configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the header.
    TooShort,
    /// The magic is not [`MAGIC`].
    BadMagic,
    /// A version this decoder does not read.
    UnsupportedVersion(u16),
    /// Unknown header flags or nonzero reserved fields.
    ReservedBits,
    /// The sizes in the header do not add up to the buffer's length.
    SizeMismatch,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort => write!(f, "shorter than the header"),
            DecodeError::BadMagic => write!(f, "not a packed system configuration (bad magic)"),
            DecodeError::UnsupportedVersion(v) => {
                write!(f, "version {v} (this init reads {VERSION})")
            }
            DecodeError::ReservedBits => {
                write!(f, "unknown flags or nonzero reserved header fields")
            }
            DecodeError::SizeMismatch => write!(f, "the header's sizes do not match the file's"),
        }
    }
}

/// Why one entry (a program or an endpoint) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryError {
    /// A string reference outside the string table.
    StringOutOfBounds,
    /// A string that is not UTF-8.
    StringNotUtf8,
    /// An empty name or path.
    EmptyString,
    /// A path not of the form `bin/...`.
    BadPath,
    /// Priority above [`MAX_PRIORITY`].
    BadPriority(u8),
    /// A highest priority above [`MAX_PRIORITY`] or below the priority.
    BadMaxPriority(u8),
    /// Unknown restart kind.
    BadRestart(u8),
    /// Backoff start above its cap.
    BadBackoff,
    /// Budget of zero frames.
    ZeroBudget,
    /// The least budget is zero or above the budget.
    BadLeastBudget,
    /// Unknown flags or nonzero reserved bytes.
    ReservedBits,
    /// An argument, grant or dependency range outside its table.
    TableOutOfBounds,
    /// Unknown grant kind.
    BadGrantKind(u8),
    /// A malformed I/O port range.
    BadIoPorts,
    /// I/O ports that include ones the kernel drives itself
    /// (`abi::syscall::KERNEL_IO_PORTS`).
    KernelIoPorts,
    /// An IRQ line or GSI out of range, or unknown GSI flags.
    BadIrq,
    /// A malformed device memory range.
    BadDeviceMemory,
    /// An endpoint index out of range, or an endpoint entry that is bad.
    BadEndpoint,
    /// Serves an endpoint whose entry names another server, or is a client
    /// of its own endpoint.
    WrongServer,
    /// A dependency index out of range, or on itself.
    BadDependency,
    /// An authority grant with an unknown id.
    BadAuthority(u32),
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::StringOutOfBounds => write!(f, "a string lies outside the string table"),
            EntryError::StringNotUtf8 => write!(f, "a string is not UTF-8"),
            EntryError::EmptyString => write!(f, "an empty name or path"),
            EntryError::BadPath => write!(f, "the path is not of the form bin/..."),
            EntryError::BadPriority(p) => write!(f, "priority {p} is above {MAX_PRIORITY}"),
            EntryError::BadMaxPriority(p) => write!(
                f,
                "max_priority {p} is above {MAX_PRIORITY} or below the priority"
            ),
            EntryError::BadRestart(r) => write!(f, "unknown restart policy {r}"),
            EntryError::BadBackoff => write!(f, "the first restart delay exceeds the longest"),
            EntryError::ZeroBudget => write!(f, "a budget of zero frames"),
            EntryError::BadLeastBudget => {
                write!(f, "a least budget of zero frames or above the budget")
            }
            EntryError::ReservedBits => write!(f, "unknown flags or nonzero reserved bytes"),
            EntryError::TableOutOfBounds => write!(
                f,
                "an argument, grant or dependency range outside its table"
            ),
            EntryError::BadGrantKind(k) => write!(f, "unknown grant kind {k}"),
            EntryError::BadIoPorts => write!(f, "a malformed I/O port range"),
            EntryError::KernelIoPorts => write!(f, "I/O ports that include the kernel's own"),
            EntryError::BadIrq => write!(f, "an IRQ line out of range"),
            EntryError::BadDeviceMemory => write!(f, "a malformed device memory range"),
            EntryError::BadEndpoint => write!(f, "a bad endpoint reference"),
            EntryError::WrongServer => {
                write!(f, "an endpoint grant disagrees with the endpoint's server")
            }
            EntryError::BadDependency => write!(f, "a bad dependency"),
            EntryError::BadAuthority(id) => write!(f, "unknown authority id {id}"),
        }
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b = bytes.get(at..end)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b = bytes.get(at..end)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let end = at.checked_add(8)?;
    let b: [u8; 8] = bytes.get(at..end)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// The offset and length of one table.
#[derive(Clone, Copy, Debug)]
struct Table {
    start: usize,
    count: usize,
    record_bytes: usize,
}

impl Table {
    /// The bytes of record `index`, or `None` past the end.
    fn record<'a>(&self, bytes: &'a [u8], index: usize) -> Option<&'a [u8]> {
        if index >= self.count {
            return None;
        }
        let start = self
            .start
            .checked_add(index.checked_mul(self.record_bytes)?)?;
        bytes.get(start..start.checked_add(self.record_bytes)?)
    }

    /// Whether `first..first + count` lies inside the table.
    fn contains_range(&self, first: usize, count: usize) -> bool {
        first
            .checked_add(count)
            .is_some_and(|end| end <= self.count)
    }

    fn end(&self) -> Option<usize> {
        self.start
            .checked_add(self.count.checked_mul(self.record_bytes)?)
    }
}

/// A decoded configuration, borrowing the packed bytes.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    bytes: &'a [u8],
    aslr: bool,
    programs: Table,
    endpoints: Table,
    grants: Table,
    args: Table,
    deps: Table,
    strings: &'a [u8],
}

impl<'a> Config<'a> {
    /// Checks the header and that the tables exactly fill `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] when the header is corrupt; entries are checked
    /// one by one as they are read.
    pub fn parse(bytes: &'a [u8]) -> Result<Config<'a>, DecodeError> {
        if bytes.len() < HEADER_BYTES {
            return Err(DecodeError::TooShort);
        }
        if bytes[0..4] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let field16 = |at| read_u16(bytes, at).ok_or(DecodeError::TooShort);
        let field32 = |at| read_u32(bytes, at).ok_or(DecodeError::TooShort);
        let version = field16(4)?;
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let flags = field16(6)?;
        if flags & !FLAG_ASLR != 0 || field16(18)? != 0 || field32(28)? != 0 {
            return Err(DecodeError::ReservedBits);
        }
        let table = |start: usize, count_at, record_bytes| -> Result<Table, DecodeError> {
            let table = Table {
                start,
                count: usize::from(field16(count_at)?),
                record_bytes,
            };
            Ok(table)
        };
        let next = |t: &Table| t.end().ok_or(DecodeError::SizeMismatch);
        let programs = table(HEADER_BYTES, 8, PROGRAM_BYTES)?;
        let endpoints = table(next(&programs)?, 10, ENDPOINT_BYTES)?;
        let grants = table(next(&endpoints)?, 12, GRANT_BYTES)?;
        let args = table(next(&grants)?, 14, ARG_BYTES)?;
        let deps = table(next(&args)?, 16, DEP_BYTES)?;
        let strings_start = next(&deps)?;
        let strings_bytes = usize::try_from(field32(20)?).map_err(|_| DecodeError::SizeMismatch)?;
        let total = usize::try_from(field32(24)?).map_err(|_| DecodeError::SizeMismatch)?;
        let end = strings_start
            .checked_add(strings_bytes)
            .ok_or(DecodeError::SizeMismatch)?;
        if end != total || total != bytes.len() {
            return Err(DecodeError::SizeMismatch);
        }
        Ok(Config {
            bytes,
            aslr: flags & FLAG_ASLR != 0,
            programs,
            endpoints,
            grants,
            args,
            deps,
            strings: &bytes[strings_start..end],
        })
    }

    /// Whether the loader randomizes program addresses.
    pub fn aslr(&self) -> bool {
        self.aslr
    }

    /// The number of program entries, good or bad.
    pub fn program_count(&self) -> usize {
        self.programs.count
    }

    /// The number of endpoint entries, good or bad.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.count
    }

    /// The programs in start order, each checked on its own.
    pub fn programs(&self) -> Programs<'a> {
        Programs {
            config: *self,
            next: 0,
        }
    }

    /// Program `index`, checked.
    ///
    /// # Errors
    /// What is wrong with the entry; [`EntryError::TableOutOfBounds`] past
    /// the end.
    pub fn program(&self, index: usize) -> Result<Program<'a>, EntryError> {
        let record = self
            .programs
            .record(self.bytes, index)
            .ok_or(EntryError::TableOutOfBounds)?;
        self.decode_program(index, record)
    }

    /// Endpoint `index`, checked: its name and that its server is a
    /// program index.
    ///
    /// # Errors
    /// What is wrong with the entry.
    pub fn endpoint(&self, index: usize) -> Result<Endpoint<'a>, EntryError> {
        let record = self
            .endpoints
            .record(self.bytes, index)
            .ok_or(EntryError::BadEndpoint)?;
        let name = self.string(record, 0)?;
        let server = read_u16(record, 8).ok_or(EntryError::BadEndpoint)?;
        if read_u16(record, 10) != Some(0) {
            return Err(EntryError::ReservedBits);
        }
        if usize::from(server) >= self.programs.count {
            return Err(EntryError::BadEndpoint);
        }
        Ok(Endpoint {
            index: index as u16,
            name,
            server,
        })
    }

    /// The endpoints, each checked on its own.
    pub fn endpoints(&self) -> impl Iterator<Item = Result<Endpoint<'a>, EntryError>> + 'a {
        let config = *self;
        (0..self.endpoints.count).map(move |i| config.endpoint(i))
    }

    /// Reads the string reference at `at` in `record`.
    fn string(&self, record: &[u8], at: usize) -> Result<&'a str, EntryError> {
        let offset = read_u32(record, at).ok_or(EntryError::StringOutOfBounds)?;
        let len = read_u32(record, at + 4).ok_or(EntryError::StringOutOfBounds)?;
        let start = usize::try_from(offset).map_err(|_| EntryError::StringOutOfBounds)?;
        let len = usize::try_from(len).map_err(|_| EntryError::StringOutOfBounds)?;
        let end = start
            .checked_add(len)
            .ok_or(EntryError::StringOutOfBounds)?;
        let strings: &'a [u8] = self.strings;
        let bytes = strings
            .get(start..end)
            .ok_or(EntryError::StringOutOfBounds)?;
        core::str::from_utf8(bytes).map_err(|_| EntryError::StringNotUtf8)
    }

    fn decode_program(&self, index: usize, r: &[u8]) -> Result<Program<'a>, EntryError> {
        let u16_at = |at| {
            read_u16(r, at)
                .map(usize::from)
                .ok_or(EntryError::TableOutOfBounds)
        };
        let u32_at = |at| read_u32(r, at).ok_or(EntryError::TableOutOfBounds);
        let name = self.string(r, 0)?;
        let path = self.string(r, 8)?;
        if name.is_empty() {
            return Err(EntryError::EmptyString);
        }
        if !is_initramfs_path(path) {
            return Err(EntryError::BadPath);
        }
        let priority = r[16];
        if priority > MAX_PRIORITY {
            return Err(EntryError::BadPriority(priority));
        }
        let restart = match r[17] {
            0 => RestartKind::Never,
            1 => RestartKind::OnFailure,
            2 => RestartKind::Always,
            other => return Err(EntryError::BadRestart(other)),
        };
        let flags = r[18];
        if flags & !PROGRAM_FLAG_DEBUG != 0 {
            return Err(EntryError::ReservedBits);
        }
        let max_priority = match r[19] {
            0 => priority,
            max if max > MAX_PRIORITY || max < priority => {
                return Err(EntryError::BadMaxPriority(max));
            }
            max => max,
        };
        let budget_frames = u32_at(20)?;
        if budget_frames == 0 {
            return Err(EntryError::ZeroBudget);
        }
        let least_budget_frames = u32_at(56)?;
        if least_budget_frames == 0 || least_budget_frames > budget_frames {
            return Err(EntryError::BadLeastBudget);
        }
        if u32_at(60)? != 0 {
            return Err(EntryError::ReservedBits);
        }
        let policy = RestartPolicy {
            kind: restart,
            backoff_initial_ms: u32_at(24)?,
            backoff_max_ms: u32_at(28)?,
            min_run_ms: u32_at(32)?,
            give_up_failures: u32_at(36)?,
            give_up_window_ms: u32_at(40)?,
        };
        if policy.backoff_initial_ms > policy.backoff_max_ms {
            return Err(EntryError::BadBackoff);
        }
        let (first_arg, arg_count) = (u16_at(44)?, u16_at(46)?);
        let (first_grant, grant_count) = (u16_at(48)?, u16_at(50)?);
        let (first_dep, dep_count) = (u16_at(52)?, u16_at(54)?);
        if !self.args.contains_range(first_arg, arg_count)
            || !self.grants.contains_range(first_grant, grant_count)
            || !self.deps.contains_range(first_dep, dep_count)
        {
            return Err(EntryError::TableOutOfBounds);
        }
        let program = Program {
            config: *self,
            index: index as u16,
            name,
            path,
            priority,
            max_priority,
            budget_frames,
            least_budget_frames,
            restart: policy,
            debug: flags & PROGRAM_FLAG_DEBUG != 0,
            first_arg,
            arg_count,
            first_grant,
            grant_count,
            first_dep,
            dep_count,
        };
        // Check every argument, grant and dependency now, so that the
        // iterators of an accepted program cannot fail.
        for i in 0..arg_count {
            program.try_arg(i)?;
        }
        for i in 0..grant_count {
            program.try_grant(i)?;
        }
        for i in 0..dep_count {
            program.try_dependency(i)?;
        }
        Ok(program)
    }
}

/// Whether `path` has the form `bin/<name>`: relative, under `bin/`, no
/// empty, `.` or `..` components and no NUL.
pub fn is_initramfs_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("bin/") else {
        return false;
    };
    !rest.is_empty()
        && !path.contains('\0')
        && rest
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Whether `name` is a valid program or endpoint name: not empty, lowercase
/// ASCII letters, digits and `-`, starting with a letter.
pub const fn is_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

/// Iterator over [`Config::programs`].
#[derive(Clone, Debug)]
pub struct Programs<'a> {
    config: Config<'a>,
    next: usize,
}

impl<'a> Iterator for Programs<'a> {
    type Item = Result<Program<'a>, EntryError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.config.programs.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        Some(self.config.program(index))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.config.programs.count - self.next;
        (left, Some(left))
    }
}

/// When a program is started again after it exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartKind {
    /// Never.
    Never,
    /// When it exits with a failure or faults.
    OnFailure,
    /// Whenever it exits.
    Always,
}

/// A program's restart policy: exponential backoff from
/// `backoff_initial_ms` up to `backoff_max_ms`, reset once the program has
/// run `min_run_ms`; give up after `give_up_failures` failures within
/// `give_up_window_ms` (0 failures: never give up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// When to restart.
    pub kind: RestartKind,
    /// The first delay, ms.
    pub backoff_initial_ms: u32,
    /// The longest delay, ms.
    pub backoff_max_ms: u32,
    /// Run time after which the delay starts again from the first, ms.
    pub min_run_ms: u32,
    /// Failures within the window that make init give up (0: never).
    pub give_up_failures: u32,
    /// The window, ms.
    pub give_up_window_ms: u32,
}

/// One checked program entry.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    config: Config<'a>,
    /// Its index in start order.
    pub index: u16,
    /// Its name.
    pub name: &'a str,
    /// Its path in the initramfs, `bin/...`.
    pub path: &'a str,
    /// Scheduling priority, 0-63.
    pub priority: u8,
    /// The highest priority its threads may give any thread (at least
    /// `priority`).
    pub max_priority: u8,
    /// Budget in frames, not zero: what it asks for.
    pub budget_frames: u32,
    /// The least budget it can run with, 1 to `budget_frames`: init gives
    /// less than `budget_frames` on a machine too small for every
    /// program's ask, never less than this (docs/system.md, "Budgets").
    pub least_budget_frames: u32,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Whether it may be given the debug capability.
    pub debug: bool,
    first_arg: usize,
    arg_count: usize,
    first_grant: usize,
    grant_count: usize,
    first_dep: usize,
    dep_count: usize,
}

impl<'a> Program<'a> {
    fn try_arg(&self, i: usize) -> Result<&'a str, EntryError> {
        let record = self
            .config
            .args
            .record(self.config.bytes, self.first_arg + i)
            .ok_or(EntryError::TableOutOfBounds)?;
        self.config.string(record, 0)
    }

    fn try_dependency(&self, i: usize) -> Result<u16, EntryError> {
        let record = self
            .config
            .deps
            .record(self.config.bytes, self.first_dep + i)
            .ok_or(EntryError::TableOutOfBounds)?;
        let dep = read_u16(record, 0).ok_or(EntryError::TableOutOfBounds)?;
        if usize::from(dep) >= self.config.programs.count || dep == self.index {
            return Err(EntryError::BadDependency);
        }
        Ok(dep)
    }

    fn try_grant(&self, i: usize) -> Result<Grant<'a>, EntryError> {
        let r = self
            .config
            .grants
            .record(self.config.bytes, self.first_grant + i)
            .ok_or(EntryError::TableOutOfBounds)?;
        let kind = r[0];
        if r[1..4] != [0, 0, 0] {
            return Err(EntryError::ReservedBits);
        }
        let a = read_u32(r, 4).ok_or(EntryError::TableOutOfBounds)?;
        let b = read_u64(r, 8).ok_or(EntryError::TableOutOfBounds)?;
        let endpoint = |a: u32| -> Result<Endpoint<'a>, EntryError> {
            if b != 0 {
                return Err(EntryError::ReservedBits);
            }
            self.config
                .endpoint(usize::try_from(a).map_err(|_| EntryError::BadEndpoint)?)
                .map_err(|_| EntryError::BadEndpoint)
        };
        match kind {
            kind::IO_PORTS => {
                let end = u64::from(a).checked_add(b).ok_or(EntryError::BadIoPorts)?;
                if b == 0 || end > u64::from(IO_PORT_SPACE) {
                    return Err(EntryError::BadIoPorts);
                }
                let kernel = abi::syscall::KERNEL_IO_PORTS.iter().any(|&(first, count)| {
                    u64::from(a) < u64::from(first) + u64::from(count) && u64::from(first) < end
                });
                if kernel {
                    return Err(EntryError::KernelIoPorts);
                }
                Ok(Grant::IoPorts {
                    base: a as u16,
                    count: b as u32,
                })
            }
            kind::IRQ_ISA => {
                if a > u32::from(MAX_ISA_IRQ) || b != 0 {
                    return Err(EntryError::BadIrq);
                }
                Ok(Grant::IrqIsa(a as u8))
            }
            kind::IRQ_GSI => {
                if a > MAX_GSI || b & !(GSI_LEVEL | GSI_ACTIVE_LOW) != 0 {
                    return Err(EntryError::BadIrq);
                }
                Ok(Grant::IrqGsi {
                    gsi: a,
                    level: b & GSI_LEVEL != 0,
                    active_low: b & GSI_ACTIVE_LOW != 0,
                })
            }
            kind::DEVICE_MEMORY => {
                let bytes = u64::from(a).checked_mul(PAGE_BYTES);
                let ok =
                    a != 0 && b % PAGE_BYTES == 0 && bytes.and_then(|n| b.checked_add(n)).is_some();
                if !ok {
                    return Err(EntryError::BadDeviceMemory);
                }
                Ok(Grant::DeviceMemory { phys: b, pages: a })
            }
            kind::SERVES => {
                let e = endpoint(a)?;
                if e.server != self.index {
                    return Err(EntryError::WrongServer);
                }
                Ok(Grant::Serves(e))
            }
            kind::CLIENT_OF => {
                let e = endpoint(a)?;
                if e.server == self.index {
                    return Err(EntryError::WrongServer);
                }
                Ok(Grant::ClientOf(e))
            }
            kind::AUTHORITY => {
                if b != 0 {
                    return Err(EntryError::ReservedBits);
                }
                let authority = Authority::from_id(a).ok_or(EntryError::BadAuthority(a))?;
                Ok(Grant::Authority(authority))
            }
            other => Err(EntryError::BadGrantKind(other)),
        }
    }

    /// Its arguments (checked when the program was decoded).
    pub fn args(&self) -> impl Iterator<Item = &'a str> + 'a {
        let program = *self;
        (0..self.arg_count).filter_map(move |i| program.try_arg(i).ok())
    }

    /// Its grants (checked when the program was decoded).
    pub fn grants(&self) -> impl Iterator<Item = Grant<'a>> + 'a {
        let program = *self;
        (0..self.grant_count).filter_map(move |i| program.try_grant(i).ok())
    }

    /// The indices of the programs that must start before it.
    pub fn depends_on(&self) -> impl Iterator<Item = u16> + 'a {
        let program = *self;
        (0..self.dep_count).filter_map(move |i| program.try_dependency(i).ok())
    }

    /// Whether it is granted `authority`.
    pub fn has_authority(&self, authority: Authority) -> bool {
        self.grants().any(|g| g == Grant::Authority(authority))
    }

    /// The number of arguments.
    pub fn arg_count(&self) -> usize {
        self.arg_count
    }

    /// The number of grants.
    pub fn grant_count(&self) -> usize {
        self.grant_count
    }

    /// The number of dependencies.
    pub fn dependency_count(&self) -> usize {
        self.dep_count
    }
}

impl Program<'_> {
    /// What `self` and `other` (another entry) must not share: a name,
    /// I/O ports, an IRQ (compared within its kind) or device memory
    /// (authorities never conflict: several programs may hold one). init
    /// checks each program it accepts against those it accepted before,
    /// as xtask did at build time. Names the first conflict found, so with
    /// several the answer may depend on which program is `self`.
    pub fn conflict_with(&self, other: &Program<'_>) -> Option<Conflict> {
        if self.name == other.name {
            return Some(Conflict::Name);
        }
        for mine in self.grants() {
            for theirs in other.grants() {
                if let Some(conflict) = grant_conflict(&mine, &theirs) {
                    return Some(conflict);
                }
            }
        }
        None
    }
}

/// Whether two grants to different programs overlap.
fn grant_conflict(a: &Grant<'_>, b: &Grant<'_>) -> Option<Conflict> {
    let overlap =
        |a_start: u64, a_end: u64, b_start: u64, b_end: u64| a_start < b_end && b_start < a_end;
    match (a, b) {
        (Grant::IoPorts { base: a, count: n }, Grant::IoPorts { base: b, count: m }) => {
            let (a, b) = (u64::from(*a), u64::from(*b));
            overlap(a, a + u64::from(*n), b, b + u64::from(*m)).then_some(Conflict::IoPorts)
        }
        (Grant::IrqIsa(a), Grant::IrqIsa(b)) => (a == b).then_some(Conflict::Irq),
        (Grant::IrqGsi { gsi: a, .. }, Grant::IrqGsi { gsi: b, .. }) => {
            (a == b).then_some(Conflict::Irq)
        }
        (Grant::DeviceMemory { phys: a, pages: n }, Grant::DeviceMemory { phys: b, pages: m }) => {
            // Both ends fit in u64: checked when the grants were decoded.
            let a_end = a.saturating_add(u64::from(*n) * PAGE_BYTES);
            let b_end = b.saturating_add(u64::from(*m) * PAGE_BYTES);
            overlap(*a, a_end, *b, b_end).then_some(Conflict::DeviceMemory)
        }
        _ => None,
    }
}

/// What two programs share that they must not ([`Program::conflict_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The same name.
    Name,
    /// Overlapping I/O ports.
    IoPorts,
    /// The same ISA IRQ or the same GSI.
    Irq,
    /// Overlapping device memory.
    DeviceMemory,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Name => write!(f, "the same name"),
            Conflict::IoPorts => write!(f, "overlapping I/O ports"),
            Conflict::Irq => write!(f, "the same IRQ"),
            Conflict::DeviceMemory => write!(f, "overlapping device memory"),
        }
    }
}

/// One endpoint: its name and the program that serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// Its index in the endpoint table.
    pub index: u16,
    /// Its name.
    pub name: &'a str,
    /// The index of the program that serves it.
    pub server: u16,
}

/// One checked grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant<'a> {
    /// Ports `base..base + count`; `count >= 1`, the end at most 0x10000.
    IoPorts {
        /// First port.
        base: u16,
        /// Number of ports.
        count: u32,
    },
    /// An ISA IRQ line, 0-15.
    IrqIsa(u8),
    /// An I/O APIC GSI.
    IrqGsi {
        /// Its number, at most [`MAX_GSI`].
        gsi: u32,
        /// Level-triggered (else edge).
        level: bool,
        /// Active low (else active high).
        active_low: bool,
    },
    /// Device memory `phys..phys + pages * 4096`, page-aligned, not empty.
    DeviceMemory {
        /// Physical address.
        phys: u64,
        /// Number of pages.
        pages: u32,
    },
    /// An endpoint this program serves.
    Serves(Endpoint<'a>),
    /// Another program's endpoint this program calls.
    ClientOf(Endpoint<'a>),
    /// A strong kernel capability.
    Authority(Authority),
}
