//! Read-only reader for tar archives, as used for the initramfs.
//!
//! The kernel calls [`find`] on the initramfs the bootloader loaded to get
//! the bytes of the first program; init and the test runner find programs
//! and configurations the same way; a file server lists and serves the
//! archive through [`entries`] and [`lookup`]. The archive is untrusted
//! input: every field is checked, every offset is computed with checked
//! arithmetic and every slice is taken with `get`, so no input can panic,
//! overflow or read out of bounds. Nothing is copied: entries, their paths
//! and their link targets borrow the archive, long names from GNU `L`
//! records and pax `path` records included.
//!
//! # What it reads
//!
//! Archives of every format GNU tar writes (`--format=gnu`, `oldgnu`,
//! `ustar`, `posix` (pax) and `v7`), and those of bsdtar, busybox tar and
//! Python's `tarfile`, listed as `tar -tv` lists them:
//!
//! - paths of any length: the ustar `prefix`, GNU `L` and `K` records, pax
//!   `path` and `linkpath` (`reader.rs` says which wins); the records
//!   themselves are never entries;
//! - pax `size` (the data length), `mtime`, `uid` and `gid`, from the
//!   member's own extended header or a global one (`pax.rs` says which
//!   global keywords count);
//! - numbers in octal or GNU base-256 (`header.rs`);
//! - directories (`5`, GNU `D`, or a regular-file typeflag on a name that
//!   ends in `/`, as v7 archives mark them), symbolic links with their
//!   target, hard links resolved to the data of the latest earlier member
//!   with the target's path, devices and named pipes.
//!
//! # Paths
//!
//! Entry paths are cleaned ([`Path`]): a leading `/` is dropped, `.` and
//! empty components removed. A member whose path (or whose hard link's
//! target) has a `..` component is skipped with
//! [`SkipReason::ParentComponent`] rather than cleaned lexically: like GNU
//! tar, which refuses to extract such members, the reader does not guess
//! where they were meant to go, and no entry can name anything above the
//! root. The root itself (`./`) is a directory entry with an empty path.
//!
//! # Skipped members
//!
//! A member the reader will not represent (a GNU sparse file, an unknown
//! typeflag, a `..` path, a hard link to nothing, a malformed field) comes
//! out of [`entries`] as [`EntryError::Skipped`] with a [`SkipReason`] the
//! caller can log, and iteration goes on with the next member: the reader
//! always knows where a member ends, sparse ones included. Only a corrupt
//! header or an archive cut short ends the walk, as
//! [`EntryError::Corrupt`].
//!
//! # Duplicates
//!
//! A path may appear more than once (`tar -r` appends a newer copy).
//! [`entries`] lists every copy in archive order; [`lookup`] and [`find`]
//! give the last one, as extracting the archive would leave it.
//!
//! [`find_leading`] is the one exception, for a format that promises a
//! member comes first and only once: it reads the first member and stops
//! (the kernel finds `bootstrap` so, docs/initramfs.md).
//!
//! # Costs
//!
//! [`entries`] reads each header once, but each hard link it yields
//! rescans the archive up to that link (once per hop of a link to a
//! link). [`lookup`] and [`find`] read the whole archive once, and resolve
//! only the member they return; [`lookup_many`] answers several paths in
//! that one pass. Reading a header is dominated by its checksum, a sum of
//! its 512 bytes taken a word at a time (`header.rs`).

mod entry;
mod header;
mod path;
mod pax;
mod reader;

#[cfg(test)]
mod tests;

use core::fmt;
use core::iter::FusedIterator;

pub use entry::{Entry, Kind, SkipReason, Skipped};
pub use header::{BLOCK_BYTES, Field};
pub use path::{Components, Path};

/// Why an archive, or a lookup in it, failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarError {
    /// The archive ends inside a header or inside a member's data.
    Truncated,
    /// A header's checksum does not match, or its `size` or `chksum` field
    /// is not a number.
    BadHeader,
    /// No member has the requested path.
    NotFound,
    /// The latest member with the requested path is not a regular file
    /// (or a hard link to one).
    NotAFile,
    /// The latest member with the requested path is one the reader skips
    /// (see [`SkipReason`]).
    Unsupported,
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "tar archive is truncated",
            Self::BadHeader => "tar header is corrupt",
            Self::NotFound => "no such file in the tar archive",
            Self::NotAFile => "not a regular file in the tar archive",
            Self::Unsupported => "a member of a kind this tar reader does not support",
        })
    }
}

/// What [`entries`] yields instead of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryError<'a> {
    /// This member is not represented; the next item is the next member.
    Skipped(Skipped<'a>),
    /// The archive cannot be read past here; this is the last item.
    Corrupt(TarError),
}

impl fmt::Display for EntryError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Skipped(skipped) => write!(f, "skipped {skipped}"),
            Self::Corrupt(error) => write!(f, "{error}"),
        }
    }
}

/// Iterator over the members of an archive; see [`entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    /// The whole archive, to resolve hard links in.
    archive: &'a [u8],
    /// The walk over the blocks.
    reader: reader::Reader<'a>,
    /// Set once the end or a corrupt header has been reached.
    done: bool,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, EntryError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_member() {
            Ok(Some(member)) => Some(
                entry::classify(&member)
                    .and_then(|entry| entry::resolve(self.archive, entry))
                    .map_err(EntryError::Skipped),
            ),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(EntryError::Corrupt(error)))
            }
        }
    }
}

impl FusedIterator for Entries<'_> {}

/// Iterates over the members of `archive` in order: `Ok` for each entry,
/// [`EntryError::Skipped`] for each member it does not represent, and
/// [`EntryError::Corrupt`] as the last item if the archive is unreadable
/// past some point. Extended headers and long-name records are folded
/// into their member and never appear.
pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        archive,
        reader: reader::Reader::new(archive),
        done: false,
    }
}

/// The last member of `archive` whose cleaned path equals `path` cleaned
/// the same way (so `"bin/init"`, `"/bin/init"` and `"./bin//init"` are
/// one path), of any kind; a hard link comes resolved.
///
/// # Errors
///
/// - [`TarError::Truncated`] or [`TarError::BadHeader`] if the archive is
///   unreadable anywhere, even after a match: a later member could have
///   replaced it.
/// - [`TarError::NotFound`] if no member has that path.
/// - [`TarError::Unsupported`] if the last member with that path is skipped
///   (a sparse file, a hard link to nothing, ...).
pub fn lookup<'a>(archive: &'a [u8], path: &str) -> Result<Entry<'a>, TarError> {
    let wanted = Path::new(path.as_bytes());
    let mut reader = reader::Reader::new(archive);
    let mut latest = None;
    while let Some(member) = reader.next_member()? {
        if member.path == wanted {
            latest = Some(member);
        }
    }
    let member = latest.ok_or(TarError::NotFound)?;
    entry::classify(&member)
        .and_then(|entry| entry::resolve(archive, entry))
        .map_err(|_| TarError::Unsupported)
}

/// [`lookup`] of each of `paths` in one pass over the archive: `answers[i]`
/// becomes what `lookup(archive, paths[i])` returns. Paths past the end of
/// `answers` are not looked up, and answers past the end of `paths` are
/// left alone.
///
/// # Errors
///
/// Each answer as [`lookup`] has it; an unreadable archive makes every
/// answer that error.
pub fn lookup_many<'a>(
    archive: &'a [u8],
    paths: &[&str],
    answers: &mut [Result<Entry<'a>, TarError>],
) {
    let count = paths.len().min(answers.len());
    let (paths, answers) = (&paths[..count], &mut answers[..count]);
    answers.fill(Err(TarError::NotFound));
    let mut reader = reader::Reader::new(archive);
    loop {
        let member = match reader.next_member() {
            Ok(Some(member)) => member,
            Ok(None) => break,
            Err(error) => {
                answers.fill(Err(error));
                return;
            }
        };
        for (wanted, answer) in paths.iter().zip(answers.iter_mut()) {
            if member.path.matches(wanted) {
                // Resolved here, once per copy: a later copy replaces it.
                *answer = entry::classify(&member)
                    .and_then(|entry| entry::resolve(archive, entry))
                    .map_err(|_| TarError::Unsupported);
            }
        }
    }
}

/// The first member of `archive`, if its path is `path` and it is a
/// regular file: its data. Only the headers of that member are read.
///
/// Unlike [`find`], this does not see a later member of the same path
/// (which `tar -r` may append) or a corrupt header after it, so it is only
/// for archives whose format promises that `path` comes first and only
/// once: the kernel finds `bootstrap` in the initramfs so
/// (docs/initramfs.md), and init checks that promise with [`lookup_many`].
///
/// # Errors
///
/// - [`TarError::Truncated`] or [`TarError::BadHeader`] if the first
///   member's headers are unreadable.
/// - [`TarError::NotFound`] if the archive is empty or its first member
///   has another path.
/// - [`TarError::Unsupported`] or [`TarError::NotAFile`] as for [`find`]
///   (a hard link as the first member has nothing to name).
pub fn find_leading<'a>(archive: &'a [u8], path: &str) -> Result<&'a [u8], TarError> {
    let member = reader::Reader::new(archive)
        .next_member()?
        .ok_or(TarError::NotFound)?;
    if !member.path.matches(path) {
        return Err(TarError::NotFound);
    }
    let entry = entry::classify(&member)
        .and_then(|entry| entry::resolve(archive, entry))
        .map_err(|_| TarError::Unsupported)?;
    if entry.is_regular_file() {
        Ok(entry.data)
    } else {
        Err(TarError::NotAFile)
    }
}

/// The contents of the regular file at `path`: [`lookup`], then the data
/// of a file or of the file a hard link names. Symbolic links are not
/// followed.
///
/// # Errors
///
/// Those of [`lookup`], and [`TarError::NotAFile`] if the last member with
/// that path is a directory, a symbolic link or a device.
pub fn find<'a>(archive: &'a [u8], path: &str) -> Result<&'a [u8], TarError> {
    let entry = lookup(archive, path)?;
    if entry.is_regular_file() {
        Ok(entry.data)
    } else {
        Err(TarError::NotAFile)
    }
}
