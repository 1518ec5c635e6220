//! The current directory: its clean absolute name, and a capability to
//! the directory, which keeps it open and proves it existed when
//! [`chdir`] was called.
//!
//! A program starts in the directory its parent names in `PWD` (`spawn`
//! and `exec` set it; `fork` copies the whole state).
//!
//! Relative paths are resolved lexically from the name (Plan 9's rule:
//! `..` goes to the parent of the name, not to wherever a link led), then
//! through the mount table, so a mount below the current directory is
//! honoured.

use alloc::string::String;

use fscore::{FsError, Kind, OpenFlags};
use rt::sync::Mutex;

use crate::File;
use crate::namespace;

/// The current directory.
struct Cwd {
    name: Option<String>,
    dir: Option<File>,
}

static CWD: Mutex<Cwd> = Mutex::new(Cwd {
    name: None,
    dir: None,
});

/// The current directory's clean absolute name: at start, the `PWD` the
/// parent put in the environment (cleaned; it must be absolute), or `/`.
pub fn getcwd() -> String {
    // Read from the environment once: every relative open asks.
    CWD.lock().name.get_or_insert_with(initial).clone()
}

/// Resolves `path` from the current directory (`namespace::resolve`)
/// without copying the directory's name.
///
/// # Errors
/// As `namespace::resolve`.
pub(crate) fn resolve(path: &str) -> Result<namespace::Target, FsError> {
    let mut state = CWD.lock();
    namespace::resolve(state.name.get_or_insert_with(initial), path)
}

/// The directory a program starts in.
fn initial() -> String {
    match rt::process::env_var("PWD") {
        Some(pwd) if pwd.starts_with('/') => fscore::path::clean(pwd),
        _ => String::from("/"),
    }
}

/// Makes `path` the current directory.
///
/// # Errors
/// Those of resolving and opening `path`; `NotADirectory` if it is not one.
pub fn chdir(path: &str) -> Result<(), FsError> {
    let cwd = getcwd();
    let target = namespace::resolve(&cwd, path)?;
    let dir = File::open_at(
        target.dir,
        &target.path,
        OpenFlags::READ | OpenFlags::DIRECTORY,
    )?;
    if dir.kind() != Kind::Dir {
        return Err(FsError::NotADirectory);
    }
    let name = fscore::path::clean(&fscore::path::join(&cwd, path));
    let name = match path.find(':') {
        // A scheme path names the directory by its mount point, when it
        // has one.
        Some(_) if !path.starts_with('/') => scheme_name(&target).unwrap_or(name),
        _ => name,
    };
    let mut state = CWD.lock();
    state.name = Some(name);
    // The old directory is closed as it drops.
    state.dir = Some(dir);
    Ok(())
}

/// The absolute name of a scheme target, if its scheme is mounted.
fn scheme_name(target: &namespace::Target) -> Option<String> {
    let mount = namespace::mounts()
        .iter()
        .find(|m| m.scheme == target.mount && !m.path.is_empty())?;
    Some(fscore::path::clean(&fscore::path::join(
        mount.path,
        &target.path,
    )))
}
