//! The tree of the initramfs: built once from the archive's members,
//! then only read. Files borrow their data from the archive, which stays
//! mapped: nothing is copied.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use fscore::{FsError, Kind};

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
        fscore::path::check_server_path(path)?;
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
        fscore::path::check_server_path(path)?;
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
