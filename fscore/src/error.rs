//! [`FsError`]: the errors of Mica's file API, shared by the file servers,
//! the namespace server and the runtime.
//!
//! The set is small on purpose (STYLE.md §6: not POSIX errno). Each error
//! has a stable 16-bit code, [`FsError::code`], which travels as a protocol
//! application error (`protocols::status`: application codes start at
//! `0x100`; the file API's start at [`FsError::FIRST_CODE`] = `0x101`).
//! A client turns the reply's status back into the error with
//! [`FsError::from_code`]. Codes are never renumbered or reused: a new error
//! takes the next free code.

use core::fmt;

/// An error of the file API. The discriminant is the wire code
/// ([`FsError::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum FsError {
    /// No file or directory has that name, or a directory on the way was
    /// removed.
    NotFound = 0x101,
    /// A component used as a directory (a path prefix, the target of
    /// `readdir`, an open with [`OpenFlags::DIRECTORY`]) is not one.
    ///
    /// [`OpenFlags::DIRECTORY`]: crate::OpenFlags::DIRECTORY
    NotADirectory = 0x102,
    /// The operation needs a file but the node is a directory: reading or
    /// writing a directory, opening one for writing, `unlink` on one,
    /// renaming a file over one.
    IsADirectory = 0x103,
    /// The name is already taken: `mkdir` of an existing name, an exclusive
    /// create of an existing file.
    Exists = 0x104,
    /// The directory still has entries (`rmdir`, or renaming a directory
    /// over a non-empty one).
    NotEmpty = 0x105,
    /// The descriptor or node names no open file: closed, never opened, or
    /// a node that has since been freed.
    BadDescriptor = 0x106,
    /// The file was not opened for this: reading a write-only descriptor,
    /// or writing (or truncating) a read-only one.
    WrongMode = 0x107,
    /// The file system itself is read-only (initfs).
    ReadOnly = 0x108,
    /// The path is malformed: an empty, `.` or `..` component where a name
    /// is needed, a NUL byte, bytes that are not UTF-8, or an absolute path
    /// where a server expects a relative one.
    InvalidPath = 0x109,
    /// A component is longer than [`NAME_MAX`] bytes, or the path longer
    /// than [`PATH_MAX`].
    ///
    /// [`NAME_MAX`]: crate::path::NAME_MAX
    /// [`PATH_MAX`]: crate::path::PATH_MAX
    NameTooLong = 0x10a,
    /// The caller's quota or the whole file system is full (bytes or
    /// nodes).
    NoSpace = 0x10b,
    /// A write to a pipe that no reader has open any more.
    BrokenPipe = 0x10c,
    /// The operation would have to wait (an empty pipe with writers, a full
    /// pipe) and the caller asked not to.
    WouldBlock = 0x10d,
    /// A rename between two different file systems (two servers, or two
    /// mounts).
    CrossDevice = 0x10e,
    /// An argument is out of range: unknown or contradictory open flags, a
    /// seek before offset 0, a directory renamed into its own subtree.
    InvalidArgument = 0x10f,
    /// Too many open files: the caller's descriptor table or a node's open
    /// count is full.
    TooManyOpen = 0x110,
    /// The caller has no namespace (the null namespace of a sandboxed
    /// program), so no path resolves.
    NoNamespace = 0x111,
    /// The node is in use in a way that forbids the operation: removing the
    /// root of a file system or a mount point.
    Busy = 0x112,
    /// The file would grow past the largest size the server allows.
    FileTooLarge = 0x113,
    /// The server does not do this for this object (`map` of a file that
    /// is not in memory the server can share).
    NotSupported = 0x114,
    /// Shared state broke: a direct pipe's ring holds indices no honest
    /// end writes (a hostile or broken end scribbled on it). The pipe is
    /// unusable for the end that saw it; nothing else is affected.
    Io = 0x115,
}

impl FsError {
    /// The smallest code of the file API.
    pub const FIRST_CODE: u16 = 0x101;

    /// Every error, in code order.
    pub const ALL: [FsError; 21] = [
        FsError::NotFound,
        FsError::NotADirectory,
        FsError::IsADirectory,
        FsError::Exists,
        FsError::NotEmpty,
        FsError::BadDescriptor,
        FsError::WrongMode,
        FsError::ReadOnly,
        FsError::InvalidPath,
        FsError::NameTooLong,
        FsError::NoSpace,
        FsError::BrokenPipe,
        FsError::WouldBlock,
        FsError::CrossDevice,
        FsError::InvalidArgument,
        FsError::TooManyOpen,
        FsError::NoNamespace,
        FsError::Busy,
        FsError::FileTooLarge,
        FsError::NotSupported,
        FsError::Io,
    ];

    /// The stable wire code.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The error with wire code `code`, or `None` for a code the file API
    /// does not define.
    pub const fn from_code(code: u16) -> Option<FsError> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i] as u16 == code {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// A short description, the same as the `Display` text.
    pub const fn message(self) -> &'static str {
        match self {
            FsError::NotFound => "no such file or directory",
            FsError::NotADirectory => "not a directory",
            FsError::IsADirectory => "is a directory",
            FsError::Exists => "file exists",
            FsError::NotEmpty => "directory not empty",
            FsError::BadDescriptor => "bad file descriptor",
            FsError::WrongMode => "file not open for this operation",
            FsError::ReadOnly => "read-only file system",
            FsError::InvalidPath => "invalid path",
            FsError::NameTooLong => "file name too long",
            FsError::NoSpace => "no space left (quota or file system full)",
            FsError::BrokenPipe => "broken pipe (no reader)",
            FsError::WouldBlock => "operation would block",
            FsError::CrossDevice => "rename across file systems",
            FsError::InvalidArgument => "invalid argument",
            FsError::TooManyOpen => "too many open files",
            FsError::NoNamespace => "no namespace",
            FsError::Busy => "resource busy",
            FsError::FileTooLarge => "file too large",
            FsError::NotSupported => "operation not supported",
            FsError::Io => "I/O error (shared pipe state broken)",
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for FsError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn codes_are_dense_and_round_trip() {
        for (i, error) in FsError::ALL.iter().enumerate() {
            assert_eq!(error.code(), FsError::FIRST_CODE + i as u16);
            assert_eq!(FsError::from_code(error.code()), Some(*error));
        }
    }

    #[test]
    fn unknown_codes_are_none() {
        for code in [0, 1, 0xff, 0x100, 0x116, 0x200, u16::MAX] {
            assert_eq!(FsError::from_code(code), None);
        }
    }

    #[test]
    fn messages_are_distinct_and_displayed() {
        for (i, a) in FsError::ALL.iter().enumerate() {
            assert_eq!(a.to_string(), a.message());
            assert!(!a.message().is_empty());
            for b in &FsError::ALL[i + 1..] {
                assert_ne!(a.message(), b.message());
            }
        }
    }
}
