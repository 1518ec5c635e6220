//! [`Index`]: a read-only tree whose files borrow their bytes, as initfs
//! builds it from the initramfs: once, from the archive's members, then
//! only read. Nothing is copied: a file's bytes are the archive's.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{FsError, Kind};

/// A node's contents.
#[derive(Debug)]
pub enum Contents<'a> {
    /// A directory: its entries by name.
    Dir(BTreeMap<String, usize>),
    /// A regular file's bytes.
    File(&'a [u8]),
}

/// The tree; node 0 is the root directory.
#[derive(Debug)]
pub struct Index<'a> {
    nodes: Vec<Contents<'a>>,
}

impl<'a> Index<'a> {
    /// An index holding only the empty root.
    pub fn new() -> Index<'a> {
        Index {
            nodes: alloc::vec![Contents::Dir(BTreeMap::new())],
        }
    }

    /// Adds a member: `path` relative and clean (no `.`, `..` or empty
    /// component). Missing parent directories are made. A later member of
    /// the same path replaces an earlier one of the same kind (as `tar -x`
    /// leaves it); one that would put a file where a directory is, or the
    /// other way, is refused.
    ///
    /// # Errors
    /// `Exists` for such a clash; `InvalidPath` for an unclean path.
    pub fn add(&mut self, path: &str, contents: Option<&'a [u8]>) -> Result<(), FsError> {
        crate::path::check_server_path(path)?;
        if path.is_empty() {
            return Err(FsError::InvalidPath);
        }
        let mut dir = 0;
        let mut parts = path.split('/').peekable();
        while let Some(name) = parts.next() {
            let last = parts.peek().is_none();
            let existing = self.children(dir)?.get(name).copied();
            match (existing, last, contents) {
                (Some(node), false, _) | (Some(node), true, None) => {
                    if !matches!(self.nodes[node], Contents::Dir(_)) {
                        return Err(FsError::Exists);
                    }
                    dir = node;
                }
                (Some(node), true, Some(data)) => {
                    if !matches!(self.nodes[node], Contents::File(_)) {
                        return Err(FsError::Exists);
                    }
                    self.nodes[node] = Contents::File(data);
                }
                (None, _, _) => {
                    let node = self.nodes.len();
                    self.nodes.push(match (last, contents) {
                        (true, Some(data)) => Contents::File(data),
                        _ => Contents::Dir(BTreeMap::new()),
                    });
                    self.children_mut(dir)?.insert(String::from(name), node);
                    dir = node;
                }
            }
        }
        Ok(())
    }

    fn children(&self, dir: usize) -> Result<&BTreeMap<String, usize>, FsError> {
        match self.nodes.get(dir) {
            Some(Contents::Dir(children)) => Ok(children),
            Some(Contents::File(_)) => Err(FsError::NotADirectory),
            None => Err(FsError::BadDescriptor),
        }
    }

    fn children_mut(&mut self, dir: usize) -> Result<&mut BTreeMap<String, usize>, FsError> {
        match self.nodes.get_mut(dir) {
            Some(Contents::Dir(children)) => Ok(children),
            Some(Contents::File(_)) => Err(FsError::NotADirectory),
            None => Err(FsError::BadDescriptor),
        }
    }

    /// The node at `path` (checked: relative, clean) from directory `dir`;
    /// the empty path is `dir` itself.
    ///
    /// # Errors
    /// `InvalidPath`, `NameTooLong`, `NotFound`, `NotADirectory`.
    pub fn lookup(&self, dir: usize, path: &str) -> Result<usize, FsError> {
        crate::path::check_server_path(path)?;
        let mut node = dir;
        if path.is_empty() {
            return self
                .nodes
                .get(node)
                .map(|_| node)
                .ok_or(FsError::BadDescriptor);
        }
        for name in path.split('/') {
            node = *self.children(node)?.get(name).ok_or(FsError::NotFound)?;
        }
        Ok(node)
    }

    /// The node's contents.
    pub fn get(&self, node: usize) -> Option<&Contents<'a>> {
        self.nodes.get(node)
    }

    /// Kind and size (a directory's size is its number of entries).
    pub fn kind_and_size(&self, node: usize) -> Option<(Kind, u64)> {
        Some(match self.nodes.get(node)? {
            Contents::Dir(children) => (Kind::Dir, children.len() as u64),
            Contents::File(data) => (Kind::File, data.len() as u64),
        })
    }

    /// The entries of directory `dir` from the `skip`-th on.
    pub fn entries(
        &self,
        dir: usize,
        skip: usize,
    ) -> Result<impl Iterator<Item = (&str, Kind)> + '_, FsError> {
        Ok(self.children(dir)?.iter().skip(skip).map(|(name, &node)| {
            let kind = match self.nodes[node] {
                Contents::Dir(_) => Kind::Dir,
                Contents::File(_) => Kind::File,
            };
            (name.as_str(), kind)
        }))
    }
}

impl Default for Index<'_> {
    fn default() -> Self {
        Index::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(index: &Index<'_>, dir: usize) -> Vec<(String, Kind)> {
        index
            .entries(dir, 0)
            .unwrap()
            .map(|(name, kind)| (String::from(name), kind))
            .collect()
    }

    #[test]
    fn members_make_their_parents_and_list_sorted() {
        let mut index = Index::new();
        index.add("bin/sh", Some(b"sh")).unwrap();
        index.add("etc", None).unwrap();
        index.add("bin/ls", Some(b"ls!")).unwrap();
        let root = names(&index, 0);
        assert_eq!(root, [("bin".into(), Kind::Dir), ("etc".into(), Kind::Dir)]);
        let bin = index.lookup(0, "bin").unwrap();
        assert_eq!(
            names(&index, bin),
            [("ls".into(), Kind::File), ("sh".into(), Kind::File)]
        );
        let ls = index.lookup(0, "bin/ls").unwrap();
        assert_eq!(index.kind_and_size(ls), Some((Kind::File, 3)));
        assert_eq!(index.kind_and_size(bin), Some((Kind::Dir, 2)));
        assert_eq!(index.lookup(bin, ""), Ok(bin));
        assert_eq!(index.lookup(bin, "ls"), Ok(ls));
        assert_eq!(names(&index, bin).len(), 2);
        assert_eq!(index.entries(bin, 1).unwrap().count(), 1);
    }

    #[test]
    fn a_later_member_replaces_and_clashes_are_refused() {
        let mut index = Index::new();
        index.add("a/f", Some(b"old")).unwrap();
        index.add("a/f", Some(b"new")).unwrap();
        let f = index.lookup(0, "a/f").unwrap();
        assert!(matches!(index.get(f), Some(Contents::File(b"new"))));
        // A directory again is fine; a file where a directory is, or the
        // other way, is not.
        index.add("a", None).unwrap();
        assert_eq!(index.add("a", Some(b"x")), Err(FsError::Exists));
        assert_eq!(index.add("a/f", None), Err(FsError::Exists));
        assert_eq!(index.add("a/f/g", Some(b"x")), Err(FsError::Exists));
    }

    #[test]
    fn bad_paths_and_lookups() {
        let mut index = Index::new();
        index.add("d/f", Some(b"")).unwrap();
        for bad in ["", "/d", "d/", "d//f", "./d", "d/..", "d/\0"] {
            assert!(index.add(bad, Some(b"")).is_err(), "{bad:?}");
        }
        assert_eq!(index.lookup(0, "d/x"), Err(FsError::NotFound));
        assert_eq!(index.lookup(0, "d/f/x"), Err(FsError::NotADirectory));
        assert_eq!(index.lookup(0, "../d"), Err(FsError::InvalidPath));
        assert_eq!(index.lookup(99, ""), Err(FsError::BadDescriptor));
        let long = "n".repeat(256);
        assert_eq!(index.lookup(0, &long), Err(FsError::NameTooLong));
        let f = index.lookup(0, "d/f").unwrap();
        assert!(index.entries(f, 0).is_err());
    }
}
