//! `File`: the protocol of every file server (initfs, ramfs, pipe), and
//! what its clients and servers share: the badges, the limits, the
//! directory-listing format ([`DirEntries`]) and the error mapping.
//!
//! A capability to a file server names one object there: a directory, an
//! open file or a pipe end. Its badge says which ([`Badge`]):
//!
//! - a **root** capability, which init hands a program as a client of the
//!   server, carries `abi::startup::CLIENT_BADGE` and the program's index:
//!   it is the server's root directory, and the index is the session every
//!   object opened through it is counted against;
//! - every other capability was minted by the server for an object it
//!   opened (`open`, `dup`): the badge is the object's id, below
//!   `CLIENT_BADGE`. Ids are never reused, so a capability to a closed
//!   object answers `BadDescriptor` for ever.
//!
//! Operations (`docs/files.md` has each one's errors):
//!
//! - on a directory: `open`, `stat_at`, `readdir`, `mkdir`, `rmdir`,
//!   `unlink`, `rename`; paths are relative to the directory, clean and
//!   without `..` (`fscore::path::check_server_path`), and the empty path
//!   names the directory itself;
//! - on an open file: `read`, `read_at`, `read_bytes`, `write`,
//!   `write_at`, `seek`, `truncate`, `attach_ring`, `map`;
//! - on a pipe end: `read`, `write`, and for bulk data `attach_data`,
//!   `write_shared`, `read_shared`; `attach_pipe` for direct mode (the
//!   bytes in a ring every end maps, `fscore::pipe_ring`);
//! - on anything: `stat`, `dup`, `close`.
//!
//! Data travels in the message: at most [`READ_MAX_BYTES`] per read and
//! [`WRITE_MAX_BYTES`] per write (the client API loops), or, for bulk
//! reads and writes, through a ring in memory the client shares with the
//! server (`attach_ring`, the `ring` crate, the opcodes in [`ring`]).

mod objects;
pub mod ring;
mod table;

use fscore::{FsError, Kind};

use crate::status::ErrorCode;

pub use objects::{Objects, This};
pub use table::Table;

crate::wire_enum! {
    /// Where `seek` counts from.
    pub enum Whence {
        /// From the start of the file.
        Start = 0,
        /// From the current offset.
        Current = 1,
        /// From the end of the file.
        End = 2,
    }
}

crate::protocol! {
    /// Files, directories and pipes, on the server that holds them.
    pub protocol File = 0x4653 {
        client FileClient;
        server FileServer;

        /// Opens `path` relative to this directory with `flags`
        /// (`fscore::OpenFlags`). Returns the new object's capability and
        /// its kind (`fscore::Kind` as a number).
        fn open(path: &str, flags: u32) -> (Cap, u8) = 1;

        /// Up to `max` bytes (at most [`READ_MAX_BYTES`]) at the object's
        /// offset, which moves past them; none at the end of the file. A
        /// pipe waits for data or for its last writer to close.
        fn read(max: u32) -> &[u8] = 2;

        /// Up to `max` bytes at `offset`; the object's offset stays.
        #[idempotent]
        fn read_at(offset: u64, max: u32) -> &[u8] = 3;

        /// Writes `data` (at most [`WRITE_MAX_BYTES`]) at the offset (at
        /// the end with `APPEND`), which moves past it. Returns the bytes
        /// written: all of them, or fewer when the file system is full.
        fn write(data: &[u8]) -> u64 = 4;

        /// Writes `data` at `offset`; the object's offset stays.
        fn write_at(offset: u64, data: &[u8]) -> u64 = 5;

        /// Moves the offset; returns the new one.
        fn seek(offset: i64, whence: Whence) -> u64 = 6;

        /// Kind (`fscore::Kind`), size in bytes, id (unique in the
        /// server), number of links.
        #[idempotent]
        fn stat() -> (u8, u64, u64, u64) = 7;

        /// `stat` of `path` relative to this directory, without opening it.
        #[idempotent]
        fn stat_at(path: &str) -> (u8, u64, u64, u64) = 8;

        /// Sets the size of the open file (cut, or extended with zeroes).
        fn truncate(len: u64) = 9;

        /// Entries of this directory from `cookie` on (0: the first), as
        /// many as fit ([`DirEntries`]), and the cookie to go on from, 0
        /// after the last one.
        #[idempotent]
        fn readdir(cookie: u64) -> (&[u8], u64) = 10;

        /// Makes the directory `path`.
        fn mkdir(path: &str) = 11;

        /// Removes the empty directory `path`.
        fn rmdir(path: &str) = 12;

        /// Removes the file `path`.
        fn unlink(path: &str) = 13;

        /// Renames `from` to `to`, both relative to this directory.
        fn rename(from: &str, to: &str) = 14;

        /// A new capability to the same open object (sharing its offset),
        /// or with `mode` another face of it: `"write"` on a pipe's read
        /// end gives a write end, `"read"` the other way.
        fn dup(mode: &str) -> Cap = 15;

        /// Closes the object this capability names; the capability then
        /// answers `BadDescriptor`. The client deletes it after.
        fn close() = 16;

        /// Serves a ring (the `ring` crate) the client created in the
        /// memory object `memory` with this geometry, for bulk reads and
        /// writes of this open file ([`ring`] has the operations). The
        /// ring is served until the object is closed or the client breaks
        /// one of the ring's rules. Returns the ring's doorbell
        /// (`ring::doorbell`): the endpoint its server thread receives on,
        /// to call when waiting for completions, and the notification
        /// bound to that thread, to signal it.
        fn attach_ring(memory: Cap, sq_entries: u32, cq_entries: u32, data_bytes: u32) -> (Cap, Cap) = 17;

        /// A read-only memory object holding the open file's bytes, the
        /// byte offset of the first one in it, and the file's length, for
        /// mapping instead of reading (a loader maps a program's pages
        /// straight from it). initfs answers with the initramfs, which
        /// any of its clients may read anyway; a server whose files are
        /// not in memory it can share answers `NotSupported`.
        #[idempotent]
        fn map() -> (Cap, u64, u64) = 18;

        /// Pipes: maps the first `data_bytes` bytes (whole pages) of the
        /// memory object `memory`, which the client maps too, as the
        /// data area of this open end, for [`write_shared`] and
        /// [`read_shared`]; one per open object, unmapped when it closes.
        fn attach_data(memory: Cap, data_bytes: u32) = 19;

        /// Pipes: writes the `len` bytes at `offset` in this end's data
        /// area, with the rules of `write` (at most the data area, not a
        /// message, per call). Returns the bytes written.
        fn write_shared(offset: u32, len: u32) -> u64 = 20;

        /// Pipes: reads up to `max` bytes into this end's data area at
        /// `offset`, with the rules of `read`. Returns how many; 0 is the
        /// end of the file.
        fn read_shared(offset: u32, max: u32) -> u64 = 21;

        /// `map` of the file `path` relative to this directory, without
        /// opening it (a loader's one call per program).
        #[idempotent]
        fn map_at(path: &str) -> (Cap, u64, u64) = 22;

        /// Pipes: direct mode (`fscore::pipe_ring`). Returns the pipe's
        /// ring (a memory object of `fscore::pipe_ring::RING_PAGES` pages
        /// every end maps; the server makes it at the pipe's first
        /// attach), this end's lock id and its side (0: read, 1:
        /// write). `WouldBlock` while the pipe
        /// holds bytes or waiting calls of the message path, `NotSupported`
        /// while an end of it has a data area: the end then goes on by
        /// message. Once a pipe is direct, `read`, `write`, `attach_data`,
        /// `read_shared` and `write_shared` on it answer `NotSupported`.
        fn attach_pipe() -> (Cap, u32, u8) = 23;

        /// Up to `max` bytes at `offset` (at most
        /// `abi::ipc::MSG_MAX_BYTES`), as the bytes of the reply
        /// (docs/ipc.md, "Bytes"): the kernel copies them from where the
        /// server keeps them into the window the caller named
        /// (`rt::ipc_bytes::receive_into`), one copy in all. Returns how
        /// many, as many as the window took. At [`AT_OFFSET`], the bytes
        /// are the object's offset's, which moves past them (as `read`);
        /// at any other offset it stays. A server that cannot answer with
        /// bytes answers `NotSupported`.
        fn read_bytes(offset: u64, max: u32) -> u64 = 24;
    }
}

/// The offset `read_bytes` takes for "at the object's offset, which
/// moves" (no file reaches it: offsets stop at `i64::MAX`).
pub const AT_OFFSET: u64 = u64::MAX;

/// The most bytes one `read` or `read_at` returns: a reply of 64 words
/// holds a length word and 63 words of data.
pub const READ_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 1) * 8;
/// The most bytes one `write` or `write_at` takes: a request of 64 words
/// holds an offset, a length word and 62 words of data.
pub const WRITE_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 2) * 8;
/// The most bytes of entries one `readdir` reply holds: a reply of 64
/// words holds a length word, these, and the next cookie.
pub const READDIR_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 2) * 8;
/// The longest path one request carries (the rest of a message).
pub const PATH_MAX_BYTES: usize = WRITE_MAX_BYTES;

/// The application error code of `error`.
pub fn code(error: FsError) -> ErrorCode {
    ErrorCode::new(error.code())
}

/// A handler's result as the protocol's: the error as its code.
pub fn wire<T>(result: Result<T, FsError>) -> Result<T, ErrorCode> {
    result.map_err(code)
}

/// Where a `seek` of `offset` from `base` lands: an offset from 0 to
/// `i64::MAX`, or `InvalidArgument`.
pub fn seek_target(base: u64, offset: i64) -> Result<u64, FsError> {
    base.checked_add_signed(offset)
        .filter(|&to| i64::try_from(to).is_ok())
        .ok_or(FsError::InvalidArgument)
}

/// The `FsError` a client got from a server: its own code, or
/// `BadDescriptor` for a capability that is no longer served
/// (`PeerClosed`, a refused capability), or `InvalidArgument` for a
/// server that answered nonsense.
pub fn error_of(error: crate::Error) -> FsError {
    match error {
        crate::Error::Remote(code) => {
            FsError::from_code(code.get()).unwrap_or(FsError::InvalidArgument)
        }
        crate::Error::PeerClosed | crate::Error::Kernel(_) => FsError::BadDescriptor,
        crate::Error::TooLarge => FsError::NameTooLong,
        _ => FsError::InvalidArgument,
    }
}

/// What a file-server capability's badge names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    /// The root directory, for the program (session) init gave it to.
    Root {
        /// The session: the program's index in the system, plus one.
        session: u32,
    },
    /// An object the server opened.
    Object(u64),
    /// Badge 0: the server's own unbadged capability, which no client
    /// holds.
    None,
}

impl Badge {
    /// Reads a received badge.
    pub fn of(badge: u64) -> Badge {
        if badge & abi::startup::CLIENT_BADGE != 0 {
            Badge::Root {
                session: badge as u32,
            }
        } else if badge == 0 {
            Badge::None
        } else {
            Badge::Object(badge & !abi::ipc::WATCH_BADGE)
        }
    }
}

/// The entries of one `readdir` reply: each is one byte of kind
/// (`fscore::Kind`), one byte of name length, then the name.
#[derive(Clone, Copy, Debug)]
pub struct DirEntries<'a> {
    bytes: &'a [u8],
}

impl<'a> DirEntries<'a> {
    /// Reads a reply's bytes.
    pub fn new(bytes: &'a [u8]) -> DirEntries<'a> {
        DirEntries { bytes }
    }
}

/// Builds the bytes of one `readdir` reply.
#[derive(Clone, Debug)]
pub struct DirWriter {
    bytes: [u8; READDIR_MAX_BYTES],
    len: usize,
}

impl Default for DirWriter {
    fn default() -> DirWriter {
        DirWriter {
            bytes: [0; READDIR_MAX_BYTES],
            len: 0,
        }
    }
}

impl DirWriter {
    /// Appends one entry if it fits; `false` if it does not (or the name
    /// is over 255 bytes).
    pub fn push(&mut self, kind: Kind, name: &str) -> bool {
        let Ok(len) = u8::try_from(name.len()) else {
            return false;
        };
        let end = self.len + 2 + name.len();
        let Some(out) = self.bytes.get_mut(self.len..end) else {
            return false;
        };
        out[0] = kind.code();
        out[1] = len;
        out[2..].copy_from_slice(name.as_bytes());
        self.len = end;
        true
    }

    /// The entries so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Whether no entry was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'a> Iterator for DirEntries<'a> {
    /// A kind and a name; `Err` ends a malformed reply.
    type Item = Result<(Kind, &'a str), FsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.bytes.split_first()?;
        let entry = (|| {
            let (&len, rest) = rest.split_first()?;
            let name = rest.get(..usize::from(len))?;
            let name = core::str::from_utf8(name).ok()?;
            let kind = Kind::from_code(kind)?;
            Some((kind, name, rest.get(usize::from(len)..)?))
        })();
        match entry {
            Some((kind, name, rest)) => {
                self.bytes = rest;
                Some(Ok((kind, name)))
            }
            None => {
                self.bytes = &[];
                Some(Err(FsError::InvalidArgument))
            }
        }
    }
}
