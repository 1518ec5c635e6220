//! Directories and names: [`read_dir`], [`mkdir`], [`remove_dir`],
//! [`remove_file`], [`rename`], [`metadata`].

use alloc::string::String;
use alloc::vec::Vec;

use fscore::{FsError, Kind};
use protocols::file::{self, DirEntries, FileClient};
use rt::Handle;
use rt::ipc::Endpoint;

use crate::{Metadata, cwd, namespace};

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name in the directory.
    pub name: String,
    /// What it is.
    pub kind: Kind,
}

/// Runs `f` with a client of the directory capability `dir`, which the
/// namespace owns.
fn with_dir<R>(dir: abi::CapSlot, f: impl FnOnce(&mut FileClient<&Endpoint>) -> R) -> R {
    let endpoint = Endpoint::from_raw(dir);
    let result = f(&mut FileClient::new(&endpoint));
    let _ = endpoint.into_raw();
    result
}

/// The entries of the directory `path`, in the server's order (sorted by
/// name on ramfs and initfs), with the mount points directly below it
/// (`/tmp` and `/dev` in `/`) as directories, in name order among them,
/// as on Unix: the server under them does not know of them.
///
/// # Errors
/// Resolving `path`; `NotFound`, `NotADirectory`, `BadDescriptor`.
pub fn read_dir(path: &str) -> Result<Vec<DirEntry>, FsError> {
    let dir = crate::File::open(path, fscore::OpenFlags::READ | fscore::OpenFlags::DIRECTORY)?;
    let mut entries = Vec::new();
    let mut cookie = 0;
    loop {
        let mut client = FileClient::new(dir.endpoint());
        let (bytes, next) = client.readdir(cookie).map_err(file::error_of)?;
        for entry in DirEntries::new(bytes) {
            let (kind, name) = entry?;
            entries.push(DirEntry {
                name: String::from(name),
                kind,
            });
        }
        if next == 0 {
            break;
        }
        cookie = next;
    }
    let here = fscore::path::join(&cwd::getcwd(), path);
    for mount in namespace::mounts() {
        let Some((parent, name)) = fscore::path::split_parent(mount.path) else {
            continue;
        };
        if parent != here || entries.iter().any(|e| e.name == name) {
            continue;
        }
        let at = entries.partition_point(|e| e.name.as_str() < name);
        entries.insert(
            at,
            DirEntry {
                name: String::from(name),
                kind: Kind::Dir,
            },
        );
    }
    Ok(entries)
}

/// Makes the directory `path`.
///
/// # Errors
/// Resolving `path`; `Exists`, `NotFound` (no parent), `NotADirectory`,
/// `ReadOnly`, `NoSpace`, `NameTooLong`.
pub fn mkdir(path: &str) -> Result<(), FsError> {
    let target = cwd::resolve(path)?;
    with_dir(target.dir, |c| c.mkdir(&target.path)).map_err(file::error_of)
}

/// Removes the empty directory `path`.
///
/// # Errors
/// Resolving `path`; `NotFound`, `NotADirectory`, `NotEmpty`, `ReadOnly`,
/// `Busy` (a mount point, or the root).
pub fn remove_dir(path: &str) -> Result<(), FsError> {
    let target = cwd::resolve(path)?;
    if target.path.is_empty() {
        return Err(FsError::Busy);
    }
    with_dir(target.dir, |c| c.rmdir(&target.path)).map_err(file::error_of)
}

/// Removes the file `path`.
///
/// # Errors
/// Resolving `path`; `NotFound`, `IsADirectory`, `ReadOnly`.
pub fn remove_file(path: &str) -> Result<(), FsError> {
    let target = cwd::resolve(path)?;
    if target.path.is_empty() {
        return Err(FsError::IsADirectory);
    }
    with_dir(target.dir, |c| c.unlink(&target.path)).map_err(file::error_of)
}

/// Renames `from` to `to`, which must be on the same file system.
///
/// # Errors
/// Resolving either; `CrossDevice` across file systems; the server's:
/// `NotFound`, `Exists`, `IsADirectory`, `NotADirectory`, `NotEmpty`,
/// `InvalidArgument` (a directory into itself), `ReadOnly`, `Busy`.
pub fn rename(from: &str, to: &str) -> Result<(), FsError> {
    let cwd = cwd::getcwd();
    let source = namespace::resolve(&cwd, from)?;
    let dest = namespace::resolve(&cwd, to)?;
    if source.dir != dest.dir {
        return Err(FsError::CrossDevice);
    }
    if source.path.is_empty() || dest.path.is_empty() {
        return Err(FsError::Busy);
    }
    with_dir(source.dir, |c| c.rename(&source.path, &dest.path)).map_err(file::error_of)
}

/// The attributes of `path`.
///
/// # Errors
/// Resolving `path`; `NotFound`, `NotADirectory`.
pub fn metadata(path: &str) -> Result<Metadata, FsError> {
    let target = cwd::resolve(path)?;
    let reply = with_dir(target.dir, |c| c.stat_at(&target.path)).map_err(file::error_of)?;
    Metadata::from_reply(reply)
}

/// The file `path` as a read-only memory object (a capability the caller
/// owns), the offset of its first byte in it and its length, without
/// opening it: `File::map` in one call (a loader's).
///
/// # Errors
/// Resolving `path`; `NotFound`, `IsADirectory`; `NotSupported` from a
/// server that cannot share its memory (ramfs: read the file instead).
pub fn map_file(path: &str) -> Result<(abi::CapSlot, u64, u64), FsError> {
    let target = cwd::resolve(path)?;
    map_file_at(target.dir, &target.path)
}

/// [`map_file`] of `path` relative to the directory capability `dir`
/// (a path already resolved: `namespace::resolve`'s target).
///
/// # Errors
/// As [`map_file`], but for resolving.
pub fn map_file_at(dir: abi::CapSlot, path: &str) -> Result<(abi::CapSlot, u64, u64), FsError> {
    let (cap, offset, len) = with_dir(dir, |c| c.map_at(path)).map_err(file::error_of)?;
    Ok((cap.into_raw(), offset, len))
}
