//! The program's namespace: which server holds which part of the path
//! tree.
//!
//! init (and later a parent) gives a program a client capability for
//! each file server it may use, named after the service. The names are
//! mounted by one fixed convention:
//!
//! | service | mounted at | scheme |
//! |---|---|---|
//! | `initfs` | `/` | `initfs:` |
//! | `ramfs` | `/tmp` | `tmp:` |
//! | `pipe` | - | `pipe:` |
//! | `console` | `/dev` | `dev:` |
//!
//! A path is resolved once, by [`resolve`]: a scheme path (`tmp:a/b`)
//! goes to the scheme's root; any other path is joined to the current
//! directory, cleaned, and matched against the mounts by whole
//! components, the longest mount first. The result is the mount's root
//! capability and a clean path relative to it, which the server checks
//! again. A program with no file service has the null namespace: every
//! resolution fails with `NoNamespace`.

use alloc::string::String;
use alloc::vec::Vec;

use abi::CapSlot;
use abi::startup::handle::CLIENT;
use fscore::FsError;
use fscore::path;
use rt::sync::OnceLock;

/// One mount point.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Where it is mounted: `/`, `/tmp`.
    pub path: &'static str,
    /// Its scheme name, without the colon.
    pub scheme: &'static str,
    /// The service the capability was granted for.
    pub service: &'static str,
    /// The server's root directory.
    pub root: CapSlot,
}

/// The convention: service, mount point (or none), scheme.
const CONVENTION: [(&str, Option<&str>, &str); 4] = [
    ("initfs", Some("/"), "initfs"),
    ("ramfs", Some("/tmp"), "tmp"),
    ("pipe", None, "pipe"),
    // The console server (servers/console): `/dev/console`.
    ("console", Some("/dev"), "dev"),
];

/// Whether the service `name` is one of the file servers the namespace
/// mounts (a parent leaves them out to give a child the null namespace).
pub fn is_file_service(name: &str) -> bool {
    CONVENTION.iter().any(|&(service, _, _)| service == name)
}

/// The program's mounts, read once from its startup page.
pub fn mounts() -> &'static [Mount] {
    static MOUNTS: OnceLock<Vec<Mount>> = OnceLock::new();
    MOUNTS.get_or_init(|| {
        let Some(info) = rt::start::startup_info() else {
            return Vec::new();
        };
        CONVENTION
            .iter()
            .filter_map(|&(service, at, scheme)| {
                let root = info.handle_named(CLIENT, service)?;
                Some(Mount {
                    path: at.unwrap_or(""),
                    scheme,
                    service,
                    root,
                })
            })
            .collect()
    })
}

/// Where a path leads: a server's directory capability and a clean path
/// relative to it (empty for the directory itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The directory capability to send the request to.
    pub dir: CapSlot,
    /// The path relative to it.
    pub path: String,
    /// The mount, to tell whether two paths are on one server.
    pub mount: &'static str,
}

/// Resolves `path` against the current directory `cwd` (clean, absolute)
/// and the program's mounts.
///
/// # Errors
/// `InvalidPath` for an empty path or one with a NUL byte; `NameTooLong`;
/// `NoNamespace` when no mount holds it (always, in the null namespace).
pub fn resolve(cwd: &str, path: &str) -> Result<Target, FsError> {
    resolve_in(mounts(), cwd, path)
}

/// [`resolve`] against a given mount table.
///
/// # Errors
/// As [`resolve`].
pub fn resolve_in(mounts: &[Mount], cwd: &str, path: &str) -> Result<Target, FsError> {
    if path.is_empty() || path.contains('\0') {
        return Err(FsError::InvalidPath);
    }
    if path.len() > fscore::path::PATH_MAX {
        return Err(FsError::NameTooLong);
    }
    if let Some((scheme, rest)) = split_scheme(path) {
        let mount = mounts
            .iter()
            .find(|m| m.scheme == scheme)
            .ok_or(FsError::NoNamespace)?;
        // A scheme path is relative to the scheme's root, and cannot climb
        // above it.
        let clean = path::clean(&alloc::format!("/{rest}"));
        return Ok(Target {
            dir: mount.root,
            path: String::from(clean.trim_start_matches('/')),
            mount: mount.scheme,
        });
    }
    let absolute = path::clean(&path::join(cwd, path));
    let mount = mounts
        .iter()
        .filter(|m| !m.path.is_empty())
        .filter(|m| path::relative_to(m.path, &absolute).is_some())
        .max_by_key(|m| m.path.len())
        .ok_or(FsError::NoNamespace)?;
    let relative = path::relative_to(mount.path, &absolute).unwrap_or("");
    Ok(Target {
        dir: mount.root,
        path: String::from(relative),
        mount: mount.scheme,
    })
}

/// `scheme:rest` when `path` starts with a scheme name (letters, digits,
/// `-`) and a colon, before any `/`.
fn split_scheme(path: &str) -> Option<(&str, &str)> {
    let colon = path.find(':')?;
    let scheme = &path[..colon];
    let valid = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| (scheme, &path[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<Mount> {
        let mount = |path, scheme, slot| Mount {
            path,
            scheme,
            service: scheme,
            root: CapSlot(slot),
        };
        alloc::vec![
            mount("/", "initfs", 1),
            mount("/tmp", "tmp", 2),
            mount("", "pipe", 3),
            mount("/dev", "dev", 4)
        ]
    }

    fn at(cwd: &str, path: &str) -> Result<(u32, String), FsError> {
        resolve_in(&table(), cwd, path).map(|t| (t.dir.0, t.path))
    }

    #[test]
    fn the_longest_mount_wins_by_whole_components() {
        assert_eq!(at("/", "/tmp/a"), Ok((2, "a".into())));
        assert_eq!(at("/", "/tmp"), Ok((2, "".into())));
        assert_eq!(at("/", "/tmpx/a"), Ok((1, "tmpx/a".into())));
        assert_eq!(at("/", "/"), Ok((1, "".into())));
        assert_eq!(at("/tmp", "b/../c"), Ok((2, "c".into())));
        assert_eq!(at("/tmp", ".."), Ok((1, "".into())));
        assert_eq!(at("/bin", "../../../tmp//x/."), Ok((2, "x".into())));
        assert_eq!(at("/", "/dev/console"), Ok((4, "console".into())));
        assert_eq!(at("/dev", "console"), Ok((4, "console".into())));
        assert_eq!(at("/", "/dev"), Ok((4, "".into())));
        assert_eq!(at("/", "/devices"), Ok((1, "devices".into())));
    }

    #[test]
    fn schemes_go_to_their_root_and_cannot_climb() {
        assert_eq!(at("/", "tmp:a/b"), Ok((2, "a/b".into())));
        assert_eq!(at("/", "tmp:../../etc"), Ok((2, "etc".into())));
        assert_eq!(at("/", "pipe:"), Ok((3, "".into())));
        assert_eq!(at("/", "dev:console"), Ok((4, "console".into())));
        assert_eq!(at("/", "nope:x"), Err(FsError::NoNamespace));
        // A colon after a slash is part of a name.
        assert_eq!(at("/", "/tmp/a:b"), Ok((2, "a:b".into())));
    }

    #[test]
    fn bad_paths_and_the_null_namespace() {
        assert_eq!(at("/", ""), Err(FsError::InvalidPath));
        assert_eq!(at("/", "a\0b"), Err(FsError::InvalidPath));
        assert_eq!(
            resolve_in(&[], "/", "/bin/sh").map(|t| t.path),
            Err(FsError::NoNamespace)
        );
    }
}
