//! The file API of Mica programs.
//!
//! The kernel knows nothing of files. A file server (initfs, ramfs, pipe)
//! holds them and answers the `File` protocol (`protocols::file`); an open
//! file is a capability to its server, badged with the open object's id.
//! This crate is what a program calls:
//!
//! - [`namespace`]: the program's mount table, built from the client
//!   capabilities its startup page names (`/` on initfs, `/tmp` on ramfs,
//!   the schemes `initfs:`, `tmp:`, `pipe:`). A program given none of them
//!   has the null namespace: every open fails with `NoNamespace`. Paths
//!   are resolved here, once per call, and the request goes straight to
//!   the server that owns the file: no namespace server in between
//!   (`docs/files.md` says why, with the measurement);
//! - [`cwd`]: the current directory, a directory capability and its clean
//!   name; relative paths are joined to the name and cleaned lexically
//!   (`fscore::path`), so a server only ever sees a clean path without
//!   `..`, relative to a directory it serves;
//! - [`File`]: open, read, write, seek, stat, truncate, dup, close;
//! - [`dir`]: read_dir, mkdir, rmdir, unlink, rename, metadata;
//! - [`stdio`]: standard input, output and error.
//!
//! Every call returns `fscore::FsError`, a small typed set; `docs/files.md`
//! lists which call gives which.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod area;
mod bulk;
pub mod cwd;
pub mod dir;
mod file;
pub mod namespace;
mod pipe_ring;
mod slots;
pub mod stdio;

pub use cwd::{chdir, getcwd};
pub use dir::{
    DirEntry, map_file, map_file_at, metadata, mkdir, read_dir, remove_dir, remove_file, rename,
};
pub use file::{File, SeekFrom, close_slot, dup_slot};
pub use fscore::{FsError, Kind, OpenFlags};

/// A file's or directory's attributes (`stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// What it is.
    pub kind: Kind,
    /// Its size in bytes (of a directory: its number of entries).
    pub size: u64,
    /// Its id, unique in its server.
    pub id: u64,
    /// The number of names it has.
    pub links: u64,
}

impl Metadata {
    fn from_reply((kind, size, id, links): (u8, u64, u64, u64)) -> Result<Metadata, FsError> {
        Ok(Metadata {
            kind: Kind::from_code(kind).ok_or(FsError::InvalidArgument)?,
            size,
            id,
            links,
        })
    }
}
