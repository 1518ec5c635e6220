//! [`Tree`]: the file tree of the ramfs server, in memory.
//!
//! The server turns each request into one call here, with the client's
//! session id as the `owner` who pays for what the call allocates. Paths
//! are relative to a directory node (the one the client's capability
//! stands for) and must pass [`check_server_path`]; every operation checks
//! them again, so a server cannot forget. The empty path names that
//! directory itself. The tree knows nothing of descriptors or open modes:
//! the server checks `READ`/`WRITE` and keeps offsets, and holds one open
//! count per open file ([`Tree::open`], [`Tree::retain`],
//! [`Tree::release`]).
//!
//! Helpers: [`slab`] (ids), [`account`] (who pays, [`Limits`]), `data`
//! (sparse file pages).
//!
//! # Rules
//!
//! - A removed file or directory lives on while it is open: reads and
//!   writes keep working until the last [`Tree::release`], which frees it
//!   (POSIX). A removed directory is empty and stays so: nothing can be
//!   made in it ([`FsError::NotFound`]).
//! - Operations that need a name refuse the empty path with
//!   [`FsError::InvalidPath`], except [`Tree::rmdir`], which answers
//!   [`FsError::Busy`]: the directory a capability stands for (the root,
//!   in particular) cannot be removed through it.
//! - [`Tree::rename`] follows POSIX `rename`: it replaces an existing file,
//!   or an empty directory by a directory; a file over a directory is
//!   [`FsError::IsADirectory`], a directory over a file
//!   [`FsError::NotADirectory`], a directory into its own subtree
//!   [`FsError::InvalidArgument`]; renaming a name onto itself does
//!   nothing.
//! - Running out of space ([`Limits`]) gives [`FsError::NoSpace`] and
//!   changes nothing, except that a write which runs out part way is short
//!   (see [`Tree::write`]).
//! - Directory listings are sorted by name (bytewise), and a listing that
//!   resumes after a name ([`Tree::readdir`]) stays correct when entries
//!   come and go between calls. `.` and `..` are not listed: they are
//!   resolved lexically before a path reaches a server.
//! - No sequence of calls panics: stale ids answer
//!   [`FsError::BadDescriptor`], and every size is checked.
//!
//! # Invariants
//!
//! - The root is always live and linked; it has no parent and no owner.
//! - A node is in the slab iff it is linked (named by exactly one directory
//!   entry, or the root) or open (`opens > 0`).
//! - A linked directory's `parent` is the directory whose entry names it;
//!   following parents from any linked directory reaches the root, so
//!   there is no cycle. An unlinked directory has no parent and no entry.
//! - `subdirs` is the number of directories among a directory's entries.
//! - Every node but the root is charged [`NODE_BYTES`] and one node to its
//!   `owner`; every data page [`PAGE_BYTES`] to its payer
//!   ([`account`]).

pub mod account;
mod data;
pub mod slab;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use core::ops::Bound;

pub use account::{Limits, NODE_BYTES, PAGE_BYTES, Usage};
pub use slab::NodeId;

use self::account::Accounts;
use self::data::FileData;
pub use self::data::{PageBytes, SharedPage, Span};
use self::slab::Slab;
use crate::path::{check_server_path, split_parent};
use crate::{DirEntry, FsError, Kind, OpenFlags, Stat};

/// What a node holds.
#[derive(Debug)]
enum Body {
    Dir(Dir),
    File(FileData),
}

/// A directory's entries.
#[derive(Debug, Default)]
struct Dir {
    entries: BTreeMap<String, NodeId>,
    /// How many entries are directories.
    subdirs: u32,
}

/// A file or directory.
#[derive(Debug)]
struct Node {
    body: Body,
    /// Who paid for the node (0 for the root, which nobody pays for).
    owner: u64,
    /// Open files on it, held by the server for its clients.
    opens: u32,
    /// Whether a directory entry names it (always, for the root).
    linked: bool,
    /// The directory whose entry names it, for linked directories (used to
    /// refuse moving a directory under itself); `None` otherwise.
    parent: Option<NodeId>,
}

impl Node {
    fn kind(&self) -> Kind {
        match self.body {
            Body::Dir(_) => Kind::Dir,
            Body::File(_) => Kind::File,
        }
    }

    fn dir(&self) -> Result<&Dir, FsError> {
        match &self.body {
            Body::Dir(dir) => Ok(dir),
            Body::File(_) => Err(FsError::NotADirectory),
        }
    }

    fn dir_mut(&mut self) -> Result<&mut Dir, FsError> {
        match &mut self.body {
            Body::Dir(dir) => Ok(dir),
            Body::File(_) => Err(FsError::NotADirectory),
        }
    }

    fn file_mut(&mut self) -> Result<&mut FileData, FsError> {
        match &mut self.body {
            Body::File(file) => Ok(file),
            Body::Dir(_) => Err(FsError::IsADirectory),
        }
    }
}

/// An in-memory file tree with per-owner accounting (see the module
/// documentation).
#[derive(Debug)]
pub struct Tree {
    nodes: Slab<Node>,
    root: NodeId,
    accounts: Accounts,
}

impl Tree {
    /// A tree holding only an empty root directory.
    pub fn new(limits: Limits) -> Tree {
        let mut nodes = Slab::new();
        let root = Node {
            body: Body::Dir(Dir::default()),
            owner: 0,
            opens: 0,
            linked: true,
            parent: None,
        };
        // The first insertion into an empty slab cannot fail; the fallback
        // id is never used.
        let root = nodes.insert(root).unwrap_or(NodeId::from_u64(0));
        Tree {
            nodes,
            root,
            accounts: Accounts::new(limits),
        }
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.accounts.limits
    }

    /// Replaces the limits; what is held already stays, new charges must
    /// fit the new limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.accounts.limits = limits;
    }

    /// What `owner` holds.
    pub fn usage(&self, owner: u64) -> Usage {
        self.accounts.usage(owner)
    }

    /// What all owners hold together.
    pub fn total_usage(&self) -> Usage {
        self.accounts.total()
    }

    /// The number of nodes, the root and removed-but-open ones included.
    pub fn node_count(&self) -> u64 {
        self.nodes.len() as u64
    }

    fn node(&self, id: NodeId) -> Result<&Node, FsError> {
        self.nodes.get(id).ok_or(FsError::BadDescriptor)
    }

    fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, FsError> {
        self.nodes.get_mut(id).ok_or(FsError::BadDescriptor)
    }

    /// The node `path` names from `dir`, with no check of `path`.
    fn walk(&self, dir: NodeId, path: &str) -> Result<NodeId, FsError> {
        let mut current = dir;
        self.node(current)?;
        for name in crate::path::components(path) {
            let entries = &self.node(current)?.dir()?.entries;
            current = *entries.get(name).ok_or(FsError::NotFound)?;
        }
        Ok(current)
    }

    /// Checks `path`, and splits it into the directory that holds its last
    /// name, and that name. `None` for the empty path.
    fn parent_of<'p>(
        &self,
        dir: NodeId,
        path: &'p str,
    ) -> Result<Option<(NodeId, &'p str)>, FsError> {
        check_server_path(path)?;
        self.node(dir)?;
        let Some((parent_path, name)) = split_parent(path) else {
            return Ok(None);
        };
        let parent = self.walk(dir, parent_path)?;
        self.node(parent)?.dir()?;
        Ok(Some((parent, name)))
    }

    /// [`Tree::parent_of`] where a name is needed.
    fn named_parent_of<'p>(
        &self,
        dir: NodeId,
        path: &'p str,
    ) -> Result<(NodeId, &'p str), FsError> {
        self.parent_of(dir, path)?.ok_or(FsError::InvalidPath)
    }

    /// The entry `name` of directory `parent`.
    fn entry(&self, parent: NodeId, name: &str) -> Result<Option<NodeId>, FsError> {
        Ok(self.node(parent)?.dir()?.entries.get(name).copied())
    }

    /// The node `path` names from `dir`, without opening it.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `dir` is stale; the errors of
    /// [`check_server_path`]; [`FsError::NotADirectory`] if a component
    /// before the last is a file; [`FsError::NotFound`] if a name is
    /// missing.
    pub fn lookup(&self, dir: NodeId, path: &str) -> Result<NodeId, FsError> {
        check_server_path(path)?;
        self.walk(dir, path)
    }

    /// Makes a node named `name` in `parent`, charged to `owner`.
    fn make(
        &mut self,
        parent: NodeId,
        name: &str,
        body: Body,
        owner: u64,
    ) -> Result<NodeId, FsError> {
        if !self.node(parent)?.linked {
            // A removed directory stays empty.
            return Err(FsError::NotFound);
        }
        let is_dir = matches!(body, Body::Dir(_));
        self.accounts.charge(owner, NODE_BYTES, 1)?;
        let node = Node {
            body,
            owner,
            opens: 0,
            linked: true,
            parent: is_dir.then_some(parent),
        };
        let Ok(id) = self.nodes.insert(node) else {
            self.accounts.uncharge(owner, NODE_BYTES, 1);
            return Err(FsError::NoSpace);
        };
        let dir = self.node_mut(parent)?.dir_mut()?;
        dir.entries.insert(name.to_string(), id);
        if is_dir {
            dir.subdirs = dir.subdirs.saturating_add(1);
        }
        Ok(id)
    }

    /// Opens the node `path` names from `dir` and counts the open (release
    /// it with [`Tree::release`]).
    ///
    /// `flags` must be valid ([`OpenFlags::from_bits`]); of them the tree
    /// uses `CREATE` (make an empty file, charged to `owner`, if the name is
    /// free), `EXCLUSIVE` (fail if it exists), `TRUNCATE` (cut an existing
    /// file to 0), `DIRECTORY` (it must be a directory), and `WRITE` (a
    /// directory cannot be opened for writing). The empty path opens `dir`
    /// itself.
    ///
    /// # Errors
    /// Those of [`Tree::lookup`] (but a missing last name is created with
    /// `CREATE`); [`FsError::InvalidArgument`] for invalid flags;
    /// [`FsError::Exists`] with `EXCLUSIVE`; [`FsError::IsADirectory`] for a
    /// directory with `WRITE` or `CREATE`; [`FsError::NotADirectory`] for a
    /// file with `DIRECTORY`; [`FsError::NoSpace`] if the new file cannot
    /// be charged; [`FsError::TooManyOpen`] if the node's open count is
    /// full. On error nothing changed.
    pub fn open(
        &mut self,
        dir: NodeId,
        path: &str,
        flags: OpenFlags,
        owner: u64,
    ) -> Result<NodeId, FsError> {
        let flags = OpenFlags::from_bits(flags.bits())?;
        let target = match self.parent_of(dir, path)? {
            None => dir,
            Some((parent, name)) => match self.entry(parent, name)? {
                Some(id) => id,
                None if flags.contains(OpenFlags::CREATE) => {
                    let id = self.make(parent, name, Body::File(FileData::default()), owner)?;
                    // A new node has room for one open.
                    self.node_mut(id)?.opens = 1;
                    return Ok(id);
                }
                None => return Err(FsError::NotFound),
            },
        };
        if flags.contains(OpenFlags::EXCLUSIVE) {
            return Err(FsError::Exists);
        }
        let max_size = self.accounts.limits.max_file_bytes;
        let node = self.nodes.get_mut(target).ok_or(FsError::BadDescriptor)?;
        match node.body {
            Body::Dir(_) if flags.write() || flags.contains(OpenFlags::CREATE) => {
                return Err(FsError::IsADirectory);
            }
            Body::File(_) if flags.contains(OpenFlags::DIRECTORY) => {
                return Err(FsError::NotADirectory);
            }
            _ => {}
        }
        let opens = node.opens.checked_add(1).ok_or(FsError::TooManyOpen)?;
        if flags.contains(OpenFlags::TRUNCATE)
            && let Body::File(file) = &mut node.body
        {
            // Cutting to 0 is within any size limit.
            file.truncate(0, &mut self.accounts, max_size)?;
        }
        node.opens = opens;
        Ok(target)
    }

    /// Counts one more open of `node` (a server duplicating an open file).
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale;
    /// [`FsError::TooManyOpen`] if its open count is full.
    pub fn retain(&mut self, node: NodeId) -> Result<(), FsError> {
        let node = self.node_mut(node)?;
        node.opens = node.opens.checked_add(1).ok_or(FsError::TooManyOpen)?;
        Ok(())
    }

    /// Counts one open of `node` fewer; the last release of a removed node
    /// frees it and gives back its charges.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale or not open.
    pub fn release(&mut self, node: NodeId) -> Result<(), FsError> {
        let entry = self.node_mut(node)?;
        entry.opens = entry.opens.checked_sub(1).ok_or(FsError::BadDescriptor)?;
        self.free_if_unused(node);
        Ok(())
    }

    /// Frees `id` if it is neither linked nor open.
    fn free_if_unused(&mut self, id: NodeId) {
        let unused = self
            .nodes
            .get(id)
            .is_some_and(|node| !node.linked && node.opens == 0);
        if !unused || id == self.root {
            return;
        }
        if let Some(node) = self.nodes.remove(id) {
            self.accounts.uncharge(node.owner, NODE_BYTES, 1);
            if let Body::File(file) = node.body {
                file.free(&mut self.accounts);
            }
        }
    }

    /// Copies bytes of file `node` from `offset` into `out`; returns how
    /// many (0 at or past the end). Holes read as zeros.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale;
    /// [`FsError::IsADirectory`] for a directory.
    pub fn read(&self, node: NodeId, offset: u64, out: &mut [u8]) -> Result<usize, FsError> {
        match &self.node(node)?.body {
            Body::File(file) => Ok(file.read(offset, out)),
            Body::Dir(_) => Err(FsError::IsADirectory),
        }
    }

    /// Like [`Tree::read`] for at most `max` bytes, handing them to `sink`
    /// in order a piece at a time (at most a page each) instead of copying
    /// them into a buffer.
    ///
    /// # Errors
    /// As [`Tree::read`].
    pub fn read_with(
        &self,
        node: NodeId,
        offset: u64,
        max: usize,
        sink: impl FnMut(&[u8]),
    ) -> Result<usize, FsError> {
        match &self.node(node)?.body {
            Body::File(file) => Ok(file.read_with(offset, max, sink)),
            Body::Dir(_) => Err(FsError::IsADirectory),
        }
    }

    /// The bytes of file `node` from `offset`, at most `max` in at most
    /// `pieces` spans, handed to `sink` in order (`FileData::spans`: the
    /// spans share the file's pages, which a holder keeps as they are);
    /// returns how many bytes (0 at or past the end).
    ///
    /// # Errors
    /// As [`Tree::read`].
    pub fn spans(
        &self,
        node: NodeId,
        offset: u64,
        max: usize,
        pieces: usize,
        sink: impl FnMut(Span),
    ) -> Result<usize, FsError> {
        match &self.node(node)?.body {
            Body::File(file) => Ok(file.spans(offset, max, pieces, sink)),
            Body::Dir(_) => Err(FsError::IsADirectory),
        }
    }

    /// Writes `data` into file `node` at `offset`, growing it (a gap past
    /// the old end reads as zeros and holds no memory); returns how many
    /// bytes were written. New data pages are charged to `owner`.
    ///
    /// **Short writes:** the write stops at the first page that cannot be
    /// charged, or at [`Limits::max_file_bytes`], and returns what it wrote
    /// before (POSIX allows this; the client's next call gets the error).
    /// It fails only when it cannot write a single byte. An empty write
    /// returns 0 and changes nothing.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale;
    /// [`FsError::IsADirectory`] for a directory; [`FsError::NoSpace`] if
    /// not even the first byte's page can be charged;
    /// [`FsError::FileTooLarge`] if `offset` is at or past the size limit.
    pub fn write(
        &mut self,
        node: NodeId,
        offset: u64,
        data: &[u8],
        owner: u64,
    ) -> Result<usize, FsError> {
        let max_size = self.accounts.limits.max_file_bytes;
        let file = self.nodes.get_mut(node).ok_or(FsError::BadDescriptor)?;
        file.file_mut()?
            .write(offset, data, owner, &mut self.accounts, max_size)
    }

    /// Sets the length of file `node` to `len`: shrinking frees the pages
    /// past it and gives their charges back to whoever paid; growing makes
    /// a hole, which allocates nothing (so no owner is charged).
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale;
    /// [`FsError::IsADirectory`] for a directory;
    /// [`FsError::FileTooLarge`] past [`Limits::max_file_bytes`].
    pub fn truncate(&mut self, node: NodeId, len: u64) -> Result<(), FsError> {
        let max_size = self.accounts.limits.max_file_bytes;
        let file = self.nodes.get_mut(node).ok_or(FsError::BadDescriptor)?;
        file.file_mut()?.truncate(len, &mut self.accounts, max_size)
    }

    /// Makes an empty directory at `path` from `dir`, charged to `owner`,
    /// and returns it (not opened).
    ///
    /// # Errors
    /// Those of [`Tree::lookup`] for the parent; [`FsError::InvalidPath`]
    /// for the empty path; [`FsError::Exists`] if the name is taken;
    /// [`FsError::NotFound`] in a removed directory; [`FsError::NoSpace`].
    pub fn mkdir(&mut self, dir: NodeId, path: &str, owner: u64) -> Result<NodeId, FsError> {
        let (parent, name) = self.named_parent_of(dir, path)?;
        if self.entry(parent, name)?.is_some() {
            return Err(FsError::Exists);
        }
        self.make(parent, name, Body::Dir(Dir::default()), owner)
    }

    /// Takes the entry `name` out of `parent` (known to exist), marking
    /// its node removed, and frees it if it is not open.
    fn unlink_entry(&mut self, parent: NodeId, name: &str) -> Result<(), FsError> {
        let dir = self.node_mut(parent)?.dir_mut()?;
        let id = dir.entries.remove(name).ok_or(FsError::NotFound)?;
        let node = self.node_mut(id)?;
        node.linked = false;
        node.parent = None;
        if matches!(node.body, Body::Dir(_)) {
            let dir = self.node_mut(parent)?.dir_mut()?;
            dir.subdirs = dir.subdirs.saturating_sub(1);
        }
        self.free_if_unused(id);
        Ok(())
    }

    /// Removes the empty directory at `path` from `dir`. It lives on while
    /// open, empty for good.
    ///
    /// # Errors
    /// Those of [`Tree::lookup`]; [`FsError::Busy`] for the empty path (the
    /// directory `dir` itself, in particular the root);
    /// [`FsError::NotADirectory`] for a file; [`FsError::NotEmpty`].
    pub fn rmdir(&mut self, dir: NodeId, path: &str) -> Result<(), FsError> {
        let (parent, name) = self.parent_of(dir, path)?.ok_or(FsError::Busy)?;
        let id = self.entry(parent, name)?.ok_or(FsError::NotFound)?;
        if !self.node(id)?.dir()?.entries.is_empty() {
            return Err(FsError::NotEmpty);
        }
        self.unlink_entry(parent, name)
    }

    /// Removes the file at `path` from `dir`. It lives on while open.
    ///
    /// # Errors
    /// Those of [`Tree::lookup`]; [`FsError::InvalidPath`] for the empty
    /// path; [`FsError::IsADirectory`] for a directory.
    pub fn unlink(&mut self, dir: NodeId, path: &str) -> Result<(), FsError> {
        let (parent, name) = self.named_parent_of(dir, path)?;
        let id = self.entry(parent, name)?.ok_or(FsError::NotFound)?;
        if self.node(id)?.kind() == Kind::Dir {
            return Err(FsError::IsADirectory);
        }
        self.unlink_entry(parent, name)
    }

    /// Whether directory `ancestor` is `dir` or one of its ancestors.
    fn is_ancestor(&self, ancestor: NodeId, dir: NodeId) -> bool {
        let mut current = Some(dir);
        // Parents never form a cycle (an invariant); the bound only makes
        // termination obvious.
        for _ in 0..=self.nodes.len() {
            match current {
                Some(id) if id == ancestor => return true,
                Some(id) => current = self.nodes.get(id).and_then(|node| node.parent),
                None => return false,
            }
        }
        false
    }

    /// Moves the entry `from` (relative to `from_dir`) to `to` (relative
    /// to `to_dir`), with the POSIX rules of the module documentation.
    ///
    /// Checks, in order: both paths, the source's parent and name
    /// ([`FsError::NotFound`], [`FsError::NotADirectory`]), the
    /// destination's parent (the same, and [`FsError::NotFound`] if it was
    /// removed); a name onto itself succeeds here; then a directory into
    /// its own subtree ([`FsError::InvalidArgument`]), then the replaced
    /// entry ([`FsError::IsADirectory`], [`FsError::NotADirectory`],
    /// [`FsError::NotEmpty`]).
    ///
    /// # Errors
    /// As listed; [`FsError::InvalidPath`] for an empty path. On error
    /// nothing changed.
    pub fn rename(
        &mut self,
        from_dir: NodeId,
        from: &str,
        to_dir: NodeId,
        to: &str,
    ) -> Result<(), FsError> {
        let (source_parent, source_name) = self.named_parent_of(from_dir, from)?;
        let (target_parent, target_name) = self.named_parent_of(to_dir, to)?;
        let source = self
            .entry(source_parent, source_name)?
            .ok_or(FsError::NotFound)?;
        if !self.node(target_parent)?.linked {
            return Err(FsError::NotFound);
        }
        let replaced = self.entry(target_parent, target_name)?;
        if replaced == Some(source) {
            return Ok(());
        }
        let source_is_dir = self.node(source)?.kind() == Kind::Dir;
        if source_is_dir && self.is_ancestor(source, target_parent) {
            return Err(FsError::InvalidArgument);
        }
        if let Some(old) = replaced {
            match (source_is_dir, &self.node(old)?.body) {
                (false, Body::Dir(_)) => return Err(FsError::IsADirectory),
                (true, Body::File(_)) => return Err(FsError::NotADirectory),
                (true, Body::Dir(dir)) if !dir.entries.is_empty() => {
                    return Err(FsError::NotEmpty);
                }
                _ => {}
            }
            self.unlink_entry(target_parent, target_name)?;
        }
        // Move the entry; the parents are directories (checked above).
        let dir = self.node_mut(source_parent)?.dir_mut()?;
        dir.entries.remove(source_name);
        if source_is_dir {
            dir.subdirs = dir.subdirs.saturating_sub(1);
        }
        let dir = self.node_mut(target_parent)?.dir_mut()?;
        dir.entries.insert(target_name.to_string(), source);
        if source_is_dir {
            dir.subdirs = dir.subdirs.saturating_add(1);
            self.node_mut(source)?.parent = Some(target_parent);
        }
        Ok(())
    }

    /// The attributes of `node`.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `node` is stale.
    pub fn stat(&self, node: NodeId) -> Result<Stat, FsError> {
        let entry = self.node(node)?;
        let (size, blocks, nlink) = match &entry.body {
            Body::File(file) => (file.size(), file.pages(), 1),
            Body::Dir(dir) => (0, 0, dir.subdirs.saturating_add(2)),
        };
        Ok(Stat {
            kind: entry.kind(),
            size,
            nlink: if entry.linked { nlink } else { 0 },
            id: node.to_u64(),
            blocks,
        })
    }

    /// The first entry of directory `dir` whose name sorts after `after`
    /// (from the start for `None`). Pass the returned name as the next
    /// `after`: entries added or removed between calls are seen or skipped
    /// by where their names sort, and no entry is returned twice.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if `dir` is stale;
    /// [`FsError::NotADirectory`] for a file.
    pub fn readdir(&self, dir: NodeId, after: Option<&str>) -> Result<Option<DirEntry>, FsError> {
        let entries = &self.node(dir)?.dir()?.entries;
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let Some((name, &id)) = entries.range::<str, _>((start, Bound::Unbounded)).next() else {
            return Ok(None);
        };
        Ok(Some(DirEntry {
            name: name.clone(),
            kind: self.node(id)?.kind(),
            id: id.to_u64(),
        }))
    }
}
