//! Pure logic of Mica's file servers and of the runtime's file API: plain
//! Rust with no IPC and no system calls, deterministic, tested on the host
//! with `cargo test -p fscore`.
//!
//! - [`error`]: [`FsError`], the errors of the file API, with stable wire
//!   codes from `0x101`.
//! - [`flags`]: [`OpenFlags`] and the rules for valid combinations.
//! - [`stat`]: [`Kind`], [`Stat`] and [`DirEntry`], what `stat` and
//!   `readdir` answer, shared by protocols, servers and clients.
//! - [`path`]: lexical path cleaning (Plan 9's `cleanname`), joining onto a
//!   cwd, mount-prefix matching, and the check a server applies to every
//!   path it receives.
//! - [`tree`]: the ramfs file tree: nodes with generation-checked ids,
//!   sorted directories, sparse paged file data, POSIX unlink-while-open
//!   and rename rules, and per-owner memory accounting with limits.
//! - [`index`]: a read-only tree whose files borrow their bytes (initfs's
//!   view of the initramfs).
//! - [`pipe`]: the pipe buffer: a bounded byte ring with reader and writer
//!   counts, atomic writes up to [`pipe::PIPE_BUF`], end of file and broken
//!   pipes.
//! - [`pipe_ring`]: the layout of a direct pipe's ring in shared memory,
//!   the checks every end applies to the indices it reads there, and the
//!   protocol of its ends and its server (lock, waits, wake-ups, flags),
//!   generic over how the ring is reached so that loom can check it.
//!
//! The ramfs and pipe servers wrap [`tree::Tree`] and [`pipe::Pipe`] in
//! their receive loops; the runtime uses [`path`] to keep its cwd and
//! [`FsError`] to report errors. This crate depends only on `alloc`, has no
//! unsafe code, and builds for the host and for `x86_64-unknown-none`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod error;
pub mod flags;
pub mod index;
pub mod path;
pub mod pipe;
pub mod pipe_ring;
pub mod stat;
pub mod tree;

pub use error::FsError;
pub use flags::OpenFlags;
pub use stat::{DirEntry, Kind, Stat};
