//! Lexical path names: cleaning, joining, mount-prefix matching, and the
//! check a server applies to the paths it receives.
//!
//! Mica resolves `.` and `..` by looking at the text of the path only, never
//! at the file system (Plan 9's `cleanname`; Pike, "Lexical File Names in
//! Plan 9, or Getting Dot-Dot Right"). `/a/b/..` is `/a` whatever `/a/b`
//! is, so `cd ..` always goes back where the user came from, and no server
//! ever sees `..`: the runtime cleans the path against its cwd, the
//! namespace picks the mount by the longest whole-component prefix
//! ([`relative_to`], [`find_mount`]), and the server gets the rest, a
//! relative path it checks with [`check_server_path`] (Fuchsia's rule:
//! nothing can climb out of the directory a capability stands for).
//!
//! # Clean paths
//!
//! [`clean`] returns the shortest path that names the same thing
//! lexically:
//!
//! - repeated `/` become one, and `.` components go;
//! - `name/..` goes (both components);
//! - `..` at the root stays at the root: `/..` is `/`;
//! - a relative path keeps the `..` it cannot resolve, at its front:
//!   `../a` stays, `a/../..` is `..`;
//! - no trailing `/`, except the root `/` itself;
//! - the empty path, and any relative path that resolves to nothing, is `.`.
//!
//! So a clean absolute path is `/` or `/` followed by names (no `.`, `..`
//! or empty component), and a clean relative path is `.` or zero or more
//! `..` followed by zero or more names.
//!
//! # Server paths
//!
//! A server receives paths relative to a directory it serves. The empty
//! path means that directory itself; otherwise the path is one or more
//! names separated by single `/`, none of them `.` or `..`.

use alloc::string::String;

use crate::FsError;

/// The longest component, in bytes.
pub const NAME_MAX: usize = 255;

/// The longest path, in bytes.
pub const PATH_MAX: usize = 4096;

/// Cleans `path` lexically (see the module documentation).
pub fn clean(path: &str) -> String {
    let mut out = String::with_capacity(path.len().max(1));
    clean_into(path, &mut out);
    out
}

/// Cleans `path` into `out`, replacing its contents; [`clean`] without the
/// allocation when `out` is reused.
///
/// Works in place on the output like Plan 9's `cleanname`: names are
/// appended, and a `..` removes the last appended name unless the output is
/// down to its floor (the root, or the leading `..` of a relative path).
pub fn clean_into(path: &str, out: &mut String) {
    out.clear();
    let rooted = path.starts_with('/');
    if rooted {
        out.push('/');
    }
    // Where the names start: after the root's `/`.
    let base = out.len();
    // `out[..floor]` cannot be undone by a `..`: the root, or the leading
    // `..` components of a relative path.
    let mut floor = base;
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if out.len() > floor {
                    // Drop the last name (and the `/` before it, if any
                    // beyond the floor).
                    let cut = out
                        .get(floor..)
                        .and_then(|tail| tail.rfind('/'))
                        .map_or(floor, |slash| floor + slash);
                    out.truncate(cut);
                } else if !rooted {
                    if out.len() > base {
                        out.push('/');
                    }
                    out.push_str("..");
                    floor = out.len();
                }
                // At the root: `..` is the root.
            }
            name => {
                if out.len() > base {
                    out.push('/');
                }
                out.push_str(name);
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
}

/// Whether `path` is already clean: [`clean`] would return it unchanged.
pub fn is_clean(path: &str) -> bool {
    if path == "/" || path == "." {
        return true;
    }
    let names = path.strip_prefix('/').unwrap_or(path);
    let rooted = names.len() != path.len();
    let mut seen_name = false;
    for component in names.split('/') {
        match component {
            "" | "." => return false,
            ".." if rooted || seen_name => return false,
            ".." => {}
            _ => seen_name = true,
        }
    }
    true
}

/// `path` resolved against the directory `cwd`, cleaned: an absolute
/// `path` wins, a relative one is appended to `cwd`. `cwd` need not be
/// clean; an empty `cwd` is `.`.
pub fn join(cwd: &str, path: &str) -> String {
    if path.starts_with('/') || cwd.is_empty() {
        return clean(path);
    }
    let mut whole = String::with_capacity(cwd.len() + 1 + path.len());
    whole.push_str(cwd);
    whole.push('/');
    whole.push_str(path);
    let mut out = String::with_capacity(whole.len());
    clean_into(&whole, &mut out);
    out
}

/// The non-empty components of `path`, in order, as written (`.` and `..`
/// included; clean the path first to have neither). The root and the empty
/// path have none.
pub fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|component| !component.is_empty())
}

/// Splits a clean path into its parent and its last name: `a/b/c` gives
/// `("a/b", "c")`, `a` gives `("", "a")` (the empty parent is the directory
/// the path is relative to), `/a` gives `("/", "a")`.
///
/// `None` when the path ends in no name: the empty path, `.`, `/`, or a
/// last component `..`.
pub fn split_parent(path: &str) -> Option<(&str, &str)> {
    let (parent, name) = match path.rfind('/') {
        Some(0) => ("/", path.get(1..)?),
        Some(slash) => (path.get(..slash)?, path.get(slash + 1..)?),
        None => ("", path),
    };
    match name {
        "" | "." | ".." => None,
        _ => Some((parent, name)),
    }
}

/// The rest of the clean absolute `path` below the clean absolute `prefix`,
/// if `prefix` is `path` or one of its ancestors, comparing whole
/// components: `/tmp` is a prefix of `/tmp` (rest `""`) and of `/tmp/a`
/// (rest `"a"`), but not of `/tmpx`. The root is a prefix of every
/// absolute path.
pub fn relative_to<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    if prefix == "/" {
        return path.strip_prefix('/');
    }
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('/')
    }
}

/// The mount that serves the clean absolute `path`: the entry of `mounts`
/// whose prefix is the longest whole-component prefix of `path`
/// ([`relative_to`]), with the rest of the path. The first of equal
/// prefixes wins. `None` when no prefix matches (no `/` mount).
pub fn find_mount<'m, 'p, P: AsRef<str>, T>(
    mounts: &'m [(P, T)],
    path: &'p str,
) -> Option<(&'m T, &'p str)> {
    let mut best: Option<(usize, &'m T, &'p str)> = None;
    for (prefix, mount) in mounts {
        let prefix = prefix.as_ref();
        if let Some(rest) = relative_to(prefix, path)
            && best.is_none_or(|(len, _, _)| prefix.len() > len)
        {
            best = Some((prefix.len(), mount, rest));
        }
    }
    best.map(|(_, mount, rest)| (mount, rest))
}

/// Checks a path a client gives the runtime, before it is cleaned: not
/// empty, no NUL byte, at most [`PATH_MAX`] bytes, no component over
/// [`NAME_MAX`].
///
/// # Errors
/// [`FsError::InvalidPath`] for an empty path or a NUL byte;
/// [`FsError::NameTooLong`] for a length over a limit.
pub fn check_path(path: &str) -> Result<(), FsError> {
    if path.is_empty() || path.contains('\0') {
        return Err(FsError::InvalidPath);
    }
    if path.len() > PATH_MAX || components(path).any(|name| name.len() > NAME_MAX) {
        return Err(FsError::NameTooLong);
    }
    Ok(())
}

/// Checks a path a server receives (see the module documentation): empty
/// (the directory itself), or names separated by single `/`, with no `.`,
/// `..` or empty component, no leading or trailing `/`, no NUL byte, each
/// name at most [`NAME_MAX`] bytes and the whole at most [`PATH_MAX`].
///
/// # Errors
/// [`FsError::NameTooLong`] for a length over a limit, checked first;
/// [`FsError::InvalidPath`] for anything else.
pub fn check_server_path(path: &str) -> Result<(), FsError> {
    if path.len() > PATH_MAX {
        return Err(FsError::NameTooLong);
    }
    if path.is_empty() {
        return Ok(());
    }
    let mut invalid = false;
    for name in path.split('/') {
        if name.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        invalid |= matches!(name, "" | "." | "..") || name.contains('\0');
    }
    if invalid {
        return Err(FsError::InvalidPath);
    }
    Ok(())
}

/// [`check_server_path`] on bytes from the wire, which must also be UTF-8.
///
/// # Errors
/// As [`check_server_path`], and [`FsError::InvalidPath`] for bytes that
/// are not UTF-8.
pub fn server_path_from_bytes(bytes: &[u8]) -> Result<&str, FsError> {
    if bytes.len() > PATH_MAX {
        return Err(FsError::NameTooLong);
    }
    let path = core::str::from_utf8(bytes).map_err(|_| FsError::InvalidPath)?;
    check_server_path(path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn clean_examples() {
        let cases = [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("/", "/"),
            ("//", "/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/../a", "/a"),
            ("..", ".."),
            ("../", ".."),
            ("../a", "../a"),
            ("../../a/b", "../../a/b"),
            ("a/..", "."),
            ("a/../..", ".."),
            ("a/../../b", "../b"),
            ("../a/..", ".."),
            ("../a/../..", "../.."),
            ("a//b///c", "a/b/c"),
            ("/a/./b/", "/a/b"),
            ("/a/b/../c", "/a/c"),
            ("/a/b/../../..", "/"),
            ("a/b/c/../../d", "a/d"),
            ("./a/./b/.", "a/b"),
            ("...", "..."),
            ("/a/.../..", "/a"),
            ("..a/b", "..a/b"),
        ];
        for (path, cleaned) in cases {
            assert_eq!(clean(path), cleaned, "clean({path:?})");
            assert!(is_clean(cleaned), "is_clean({cleaned:?})");
        }
    }

    #[test]
    fn is_clean_rejects_what_clean_would_change() {
        for path in [
            "", "./a", "a/", "//a", "/..", "a/..", "a/../b", "/a/.", "a//b",
        ] {
            assert!(!is_clean(path), "{path:?}");
        }
    }

    #[test]
    fn clean_into_reuses_the_buffer() {
        let mut out = "leftover".to_string();
        clean_into("/x/../y", &mut out);
        assert_eq!(out, "/y");
        clean_into("", &mut out);
        assert_eq!(out, ".");
    }

    #[test]
    fn join_examples() {
        assert_eq!(join("/usr", "bin"), "/usr/bin");
        assert_eq!(join("/usr", "/etc"), "/etc");
        assert_eq!(join("/usr", ".."), "/");
        assert_eq!(join("/", "../../x"), "/x");
        assert_eq!(join("/a/b", "../c/./d/"), "/a/c/d");
        assert_eq!(join("a", "../../b"), "../b");
        assert_eq!(join("", "a/b"), "a/b");
        assert_eq!(join(".", ""), ".");
        assert_eq!(join("/a", ""), "/a");
    }

    #[test]
    fn components_and_split_parent() {
        assert_eq!(components("/a//b/").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(components("/").count(), 0);
        assert_eq!(components("").count(), 0);
        assert_eq!(split_parent("a/b/c"), Some(("a/b", "c")));
        assert_eq!(split_parent("a"), Some(("", "a")));
        assert_eq!(split_parent("/a"), Some(("/", "a")));
        assert_eq!(split_parent("/a/b"), Some(("/a", "b")));
        assert_eq!(split_parent("../a"), Some(("..", "a")));
        for path in ["", ".", "/", "..", "a/..", "../.."] {
            assert_eq!(split_parent(path), None, "{path:?}");
        }
    }

    #[test]
    fn relative_to_matches_whole_components() {
        assert_eq!(relative_to("/tmp", "/tmp"), Some(""));
        assert_eq!(relative_to("/tmp", "/tmp/a"), Some("a"));
        assert_eq!(relative_to("/tmp", "/tmp/a/b"), Some("a/b"));
        assert_eq!(relative_to("/tmp", "/tmpx"), None);
        assert_eq!(relative_to("/tmp", "/tm"), None);
        assert_eq!(relative_to("/tmp", "/"), None);
        assert_eq!(relative_to("/", "/"), Some(""));
        assert_eq!(relative_to("/", "/a/b"), Some("a/b"));
        assert_eq!(relative_to("/a/b", "/a/b/c"), Some("c"));
        assert_eq!(relative_to("/a/b", "/a/bc"), None);
    }

    #[test]
    fn find_mount_takes_the_longest_prefix() {
        let mounts = [("/", 0), ("/tmp", 1), ("/tmp/deep", 2), ("/dev", 3)];
        assert_eq!(find_mount(&mounts, "/"), Some((&0, "")));
        assert_eq!(find_mount(&mounts, "/etc/x"), Some((&0, "etc/x")));
        assert_eq!(find_mount(&mounts, "/tmp"), Some((&1, "")));
        assert_eq!(find_mount(&mounts, "/tmpx"), Some((&0, "tmpx")));
        assert_eq!(find_mount(&mounts, "/tmp/a"), Some((&1, "a")));
        assert_eq!(find_mount(&mounts, "/tmp/deep/a"), Some((&2, "a")));
        assert_eq!(find_mount(&mounts, "/tmp/deeper"), Some((&1, "deeper")));
        assert_eq!(find_mount(&mounts[1..], "/etc"), None);
        let none: [(&str, u8); 0] = [];
        assert_eq!(find_mount(&none, "/"), None);
    }

    #[test]
    fn check_path_examples() {
        assert_eq!(check_path("/a/../b"), Ok(()));
        assert_eq!(check_path(""), Err(FsError::InvalidPath));
        assert_eq!(check_path("a\0b"), Err(FsError::InvalidPath));
        let long_name = "x".repeat(NAME_MAX + 1);
        assert_eq!(check_path(&long_name), Err(FsError::NameTooLong));
        assert_eq!(check_path(&"x".repeat(NAME_MAX)), Ok(()));
        let long_path = "a/".repeat(PATH_MAX / 2 + 1);
        assert_eq!(check_path(&long_path), Err(FsError::NameTooLong));
    }

    #[test]
    fn check_server_path_examples() {
        for good in ["", "a", "a/b", "a.b/..c/...", "x y/\u{e9}"] {
            assert_eq!(check_server_path(good), Ok(()), "{good:?}");
        }
        for bad in [
            "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "a\0", "\0",
        ] {
            assert_eq!(check_server_path(bad), Err(FsError::InvalidPath), "{bad:?}");
        }
        let name = "n".repeat(NAME_MAX);
        assert_eq!(check_server_path(&name), Ok(()));
        let longer = "n".repeat(NAME_MAX + 1);
        assert_eq!(check_server_path(&longer), Err(FsError::NameTooLong));
        assert_eq!(
            check_server_path(&alloc::format!("a/{longer}/b")),
            Err(FsError::NameTooLong)
        );
        let mut at_limit = "a/".repeat(PATH_MAX / 2);
        at_limit.pop();
        at_limit.push('b');
        assert_eq!(at_limit.len(), PATH_MAX);
        assert_eq!(check_server_path(&at_limit), Ok(()));
        at_limit.push_str("/c");
        assert_eq!(check_server_path(&at_limit), Err(FsError::NameTooLong));
    }

    #[test]
    fn server_paths_from_bytes() {
        assert_eq!(server_path_from_bytes(b"a/b"), Ok("a/b"));
        assert_eq!(server_path_from_bytes(b"a/\xff"), Err(FsError::InvalidPath));
        assert_eq!(server_path_from_bytes(b"../a"), Err(FsError::InvalidPath));
        let long = [b'a'; PATH_MAX + 1];
        assert_eq!(server_path_from_bytes(&long), Err(FsError::NameTooLong));
    }

    /// The model: a path resolved to a stack of names, written from scratch
    /// without sharing code with `clean`.
    #[derive(Clone, Debug, PartialEq)]
    struct Resolved {
        rooted: bool,
        /// Unresolved leading `..` (always 0 when rooted).
        up: usize,
        names: Vec<String>,
    }

    impl Resolved {
        fn start(path: &str) -> Resolved {
            Resolved {
                rooted: path.starts_with('/'),
                up: 0,
                names: Vec::new(),
            }
        }

        fn apply(&mut self, path: &str) {
            for component in path.split('/') {
                if component.is_empty() || component == "." {
                    continue;
                }
                if component != ".." {
                    self.names.push(component.to_string());
                } else if self.names.pop().is_none() && !self.rooted {
                    self.up += 1;
                }
            }
        }

        fn of(path: &str) -> Resolved {
            let mut resolved = Resolved::start(path);
            resolved.apply(path);
            resolved
        }

        fn render(&self) -> String {
            let mut parts: Vec<&str> = (0..self.up).map(|_| "..").collect();
            parts.extend(self.names.iter().map(String::as_str));
            let body = parts.join("/");
            match (self.rooted, body.is_empty()) {
                (true, _) => alloc::format!("/{body}"),
                (false, true) => ".".to_string(),
                (false, false) => body,
            }
        }
    }

    /// Paths over a small alphabet so that `.`, `..`, empty components and
    /// repeated names are common.
    fn any_path() -> impl Strategy<Value = String> {
        let component = prop::sample::select(vec!["a", "b", "cc", ".", "..", "", "..."]);
        (any::<bool>(), prop::collection::vec(component, 0..10)).prop_map(|(rooted, parts)| {
            let body = parts.join("/");
            if rooted {
                alloc::format!("/{body}")
            } else {
                body
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn clean_matches_the_model(path in any_path()) {
            let cleaned = clean(&path);
            prop_assert_eq!(&cleaned, &Resolved::of(&path).render());
            prop_assert_eq!(clean(&cleaned), cleaned.clone(), "not idempotent");
            prop_assert!(is_clean(&cleaned));
            prop_assert_eq!(is_clean(&path), path == cleaned);
            prop_assert!(!cleaned.is_empty());
            prop_assert!(!cleaned.contains("//"));
            prop_assert!(cleaned == "/" || !cleaned.ends_with('/'));
            prop_assert!(cleaned == "." || components(&cleaned).all(|c| c != "."));
            if path.starts_with('/') {
                prop_assert!(cleaned.starts_with('/'));
                prop_assert!(components(&cleaned).all(|c| c != ".."), "`..` kept in {}", cleaned);
            }
        }

        #[test]
        fn join_matches_the_model(cwd in any_path(), path in any_path()) {
            let joined = join(&cwd, &path);
            let expected = if path.starts_with('/') {
                Resolved::of(&path)
            } else {
                let mut resolved = Resolved::of(&cwd);
                resolved.apply(&path);
                resolved
            };
            prop_assert_eq!(&joined, &expected.render());
            prop_assert_eq!(clean(&joined), joined.clone());
            // Joining onto the clean cwd is the same as onto the raw one.
            prop_assert_eq!(join(&clean(&cwd), &path), joined);
        }

        #[test]
        fn dot_dot_at_the_root_stays_there(ups in 1usize..6, path in any_path()) {
            let climbing = alloc::format!("/{}", "../".repeat(ups));
            prop_assert_eq!(clean(&climbing), "/");
            let rooted = alloc::format!("/{}", path.trim_start_matches('/'));
            prop_assert_eq!(join(&climbing, &path), clean(&rooted));
        }

        #[test]
        fn relative_to_inverts_join(
            prefix in any_path(),
            rest in any_path(),
            names in prop::collection::vec(prop::sample::select(vec!["a", "b", "..."]), 0..4),
        ) {
            let prefix = join("/", &prefix);
            let path = join(&prefix, &rest);
            if let Some(found) = relative_to(&prefix, &path) {
                prop_assert_eq!(join(&prefix, found), path.clone());
                prop_assert!(check_server_path(found).is_ok(), "{:?}", found);
            }
            // A path built below the prefix without climbing is found again.
            let names = names.join("/");
            let below = join(&prefix, &names);
            prop_assert_eq!(relative_to(&prefix, &below), Some(names.as_str()));
        }

        #[test]
        fn server_paths_are_the_clean_non_climbing_ones(path in any_path()) {
            let expected = path.is_empty()
                || (is_clean(&path)
                    && !path.starts_with('/')
                    && path != "."
                    && components(&path).all(|c| c != ".."));
            prop_assert_eq!(check_server_path(&path).is_ok(), expected, "{:?}", path);
        }

        #[test]
        fn split_parent_rejoins(path in any_path()) {
            let path = clean(&path);
            if let Some((parent, name)) = split_parent(&path) {
                prop_assert_eq!(join(parent, name), path.clone());
                prop_assert!(!name.contains('/'));
            } else {
                prop_assert!(matches!(components(&path).next_back(), None | Some(".") | Some("..")));
            }
        }
    }
}
