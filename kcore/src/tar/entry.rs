//! What a member is: turning a [`Member`] into an [`Entry`] (a file, a
//! directory, a link, a device) or into a [`Skipped`] with the reason the
//! reader will not represent it, and resolving hard links to their
//! target's data.

use core::fmt;

use super::header::Field;
use super::path::Path;
use super::reader::{Member, Reader};

/// Most hard links followed from one link to a regular file (a link to a
/// link to ...). Each hop rescans the archive up to the previous one.
const MAX_LINK_HOPS: usize = 16;

/// One member of an archive, borrowing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The cleaned path: no leading `/`, no `.` or empty components, no
    /// `..`. Empty (the root) only for a directory.
    pub path: Path<'a>,
    /// What the member is.
    pub kind: Kind<'a>,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    /// Owner's user number.
    pub uid: u64,
    /// Owner's group number.
    pub gid: u64,
    /// Modification time, seconds since 1970 (rounded down).
    pub mtime: i64,
    /// Offset of [`Entry::data`] in the archive: for a hard link, of its
    /// target's data.
    pub data_offset: usize,
    /// The contents: a regular file's bytes, or for a hard link its
    /// target's. Other kinds carry whatever data their member had (usually
    /// none).
    pub data: &'a [u8],
    /// Offset of the member's first block (its first extended header if it
    /// has any), for messages and to tell members apart.
    pub header_offset: usize,
}

impl Entry<'_> {
    /// The size of [`Entry::data`] in bytes.
    pub fn size(&self) -> u64 {
        // A slice's length always fits in a u64 on the targets we build.
        u64::try_from(self.data.len()).unwrap_or(u64::MAX)
    }

    /// Whether the entry has a regular file's contents: a regular file, or
    /// a hard link (resolved to one).
    pub fn is_regular_file(&self) -> bool {
        matches!(self.kind, Kind::File | Kind::HardLink { .. })
    }
}

/// The kind of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    /// A regular file (typeflag `0`, NUL or `7`).
    File,
    /// A directory (typeflag `5` or GNU `D`, or a regular-file typeflag
    /// with a name that ends in `/`, as old archives write them).
    Directory,
    /// A symbolic link (`2`) and its target, raw, as the archive has it.
    Symlink {
        /// The link's contents.
        target: &'a [u8],
    },
    /// A hard link (`1`) to an earlier regular file: the entry's data is
    /// that file's.
    HardLink {
        /// The path of the file it links to, cleaned.
        target: Path<'a>,
    },
    /// A character device (`3`).
    CharDevice {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A block device (`4`).
    BlockDevice {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A named pipe (`6`).
    Fifo,
}

/// A member the reader does not represent; the members after it are read
/// as usual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped<'a> {
    /// The member's path as the archive gives it (shown cleaned, `..`
    /// components kept).
    pub path: Path<'a>,
    /// Offset of the member's first block.
    pub header_offset: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at byte {}): {}",
            self.path, self.header_offset, self.reason
        )
    }
}

/// Why a member was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its path, or a hard link's target, has a `..` component: it could
    /// name something outside the archive's root.
    ParentComponent,
    /// Its path cleans to the root, but it is not a directory.
    EmptyPath,
    /// A GNU sparse file (typeflag `S`, or pax `GNU.sparse.*` keywords in
    /// format 0.0, 0.1 or 1.0); its data is not one run of bytes.
    Sparse,
    /// A typeflag this reader does not know or represent (such as GNU `V`
    /// volume labels or `M` multi-volume continuations).
    UnsupportedType(u8),
    /// A numeric header field is not a number.
    BadNumber(Field),
    /// Its pax extended header has a record that cannot be read or a
    /// number that is not one, so its attributes cannot be trusted.
    BadExtendedHeader,
    /// A hard link whose target is not an earlier member.
    LinkTargetMissing,
    /// A hard link whose target (the latest earlier member with that path)
    /// is not a regular file or was itself skipped.
    LinkTargetNotFile,
    /// A hard link to a hard link to ... more than 16 deep.
    LinkChainTooLong,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ParentComponent => f.write_str("path has a `..` component"),
            Self::EmptyPath => f.write_str("a non-directory with an empty path"),
            Self::Sparse => f.write_str("GNU sparse files are not supported"),
            Self::UnsupportedType(typeflag) => {
                write!(f, "unsupported member type {:?}", char::from(*typeflag))
            }
            Self::BadNumber(field) => write!(f, "header field `{}` is not a number", field.name()),
            Self::BadExtendedHeader => f.write_str("malformed pax extended header"),
            Self::LinkTargetMissing => f.write_str("hard link target is not an earlier member"),
            Self::LinkTargetNotFile => f.write_str("hard link target is not a regular file"),
            Self::LinkChainTooLong => f.write_str("hard links chained too deep"),
        }
    }
}

/// Classifies `member`; a hard link comes back with its own (empty) data,
/// not yet resolved (see [`resolve`]).
pub fn classify<'a>(member: &Member<'a>) -> Result<Entry<'a>, Skipped<'a>> {
    let skip = |reason| Skipped {
        path: member.path,
        header_offset: member.start,
        reason,
    };
    let header = member.header;
    let attributes = member.attributes;
    let typeflag = header.typeflag();
    if attributes.sparse || typeflag == b'S' {
        return Err(skip(SkipReason::Sparse));
    }
    if attributes.malformed {
        return Err(skip(SkipReason::BadExtendedHeader));
    }
    if member.path.has_parent_component() {
        return Err(skip(SkipReason::ParentComponent));
    }
    let device = || {
        header
            .device()
            .map_err(|field| skip(SkipReason::BadNumber(field)))
    };
    let kind = match typeflag {
        b'0' | 0 | b'7' if member.path.has_trailing_slash() => Kind::Directory,
        b'0' | 0 | b'7' => Kind::File,
        b'1' => {
            let target = Path::new(member.link);
            if target.has_parent_component() {
                return Err(skip(SkipReason::ParentComponent));
            }
            Kind::HardLink { target }
        }
        b'2' => Kind::Symlink {
            target: member.link,
        },
        b'3' => {
            let (major, minor) = device()?;
            Kind::CharDevice { major, minor }
        }
        b'4' => {
            let (major, minor) = device()?;
            Kind::BlockDevice { major, minor }
        }
        b'5' | b'D' => Kind::Directory,
        b'6' => Kind::Fifo,
        other => return Err(skip(SkipReason::UnsupportedType(other))),
    };
    if member.path.is_root() && kind != Kind::Directory {
        return Err(skip(SkipReason::EmptyPath));
    }
    let number = |field| skip(SkipReason::BadNumber(field));
    let mode = header.mode().map_err(number)?;
    let uid = match attributes.uid {
        Some(uid) => uid,
        None => header.uid().map_err(number)?,
    };
    let gid = match attributes.gid {
        Some(gid) => gid,
        None => header.gid().map_err(number)?,
    };
    let mtime = match attributes.mtime {
        Some(mtime) => mtime,
        None => header.mtime().map_err(number)?,
    };
    Ok(Entry {
        path: member.path,
        kind,
        mode,
        uid,
        gid,
        mtime,
        data_offset: member.data_offset,
        data: member.data,
        header_offset: member.start,
    })
}

/// Gives a hard link `entry` the data of the regular file it links to: the
/// latest member before it with the target's path, following links to
/// links. Other entries come back unchanged.
///
/// # Errors
///
/// A [`Skipped`] for `entry` with [`SkipReason::LinkTargetMissing`],
/// [`SkipReason::LinkTargetNotFile`] or [`SkipReason::LinkChainTooLong`].
pub fn resolve<'a>(archive: &'a [u8], entry: Entry<'a>) -> Result<Entry<'a>, Skipped<'a>> {
    let Kind::HardLink { target } = entry.kind else {
        return Ok(entry);
    };
    let skip = |reason| Skipped {
        path: entry.path,
        header_offset: entry.header_offset,
        reason,
    };
    let mut target = target;
    let mut before = entry.header_offset;
    for _ in 0..MAX_LINK_HOPS {
        let latest = latest_before(archive, target, before)
            .ok_or_else(|| skip(SkipReason::LinkTargetMissing))?;
        let found = classify(&latest).map_err(|_| skip(SkipReason::LinkTargetNotFile))?;
        match found.kind {
            Kind::File => {
                return Ok(Entry {
                    data_offset: found.data_offset,
                    data: found.data,
                    ..entry
                });
            }
            Kind::HardLink { target: next } => {
                target = next;
                before = found.header_offset;
            }
            _ => return Err(skip(SkipReason::LinkTargetNotFile)),
        }
    }
    Err(skip(SkipReason::LinkChainTooLong))
}

/// The last member that starts before byte `before` and has path `path`.
fn latest_before<'a>(archive: &'a [u8], path: Path<'_>, before: usize) -> Option<Member<'a>> {
    let mut reader = Reader::new(archive);
    let mut latest = None;
    // The members before `before` were read once already, without error.
    while let Ok(Some(member)) = reader.next_member() {
        if member.start >= before {
            break;
        }
        if member.path == path {
            latest = Some(member);
        }
    }
    latest
}
