//! Property test: random sequences of tree operations against a simple
//! model, comparing every result, with the tree's invariants checked and
//! every owner's charges recomputed from the model after each step.
//!
//! The model keeps each node's full path in one flat `BTreeMap` (children
//! are found by prefix), file data as a plain `Vec<u8>`, and the pages a
//! file holds as a set with their payers. Its charges are recomputed from
//! scratch before each allocation, sharing no code with `account.rs`. At
//! the end the test releases every open and removes every entry, and the
//! tree must be back to its root with nothing charged.

use super::tests::check_invariants;
use super::*;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

const PAGE: u64 = PAGE_BYTES;
const OWNERS: [u64; 3] = [1, 2, 3];
/// The root's number in the model.
const ROOT: usize = 0;

#[derive(Clone, Debug)]
enum MBody {
    Dir,
    File {
        data: Vec<u8>,
        /// Page number to payer.
        pages: BTreeMap<u64, u64>,
    },
}

#[derive(Clone, Debug)]
struct MNode {
    body: MBody,
    owner: u64,
    opens: u32,
    linked: bool,
    id: NodeId,
}

#[derive(Debug)]
struct Model {
    limits: Limits,
    /// Live nodes by number; `ROOT` is the root.
    nodes: BTreeMap<usize, MNode>,
    next: usize,
    /// Every linked node but the root, by full path.
    paths: BTreeMap<String, usize>,
}

impl Model {
    fn new(limits: Limits, root: NodeId) -> Model {
        let root = MNode {
            body: MBody::Dir,
            owner: 0,
            opens: 0,
            linked: true,
            id: root,
        };
        Model {
            limits,
            nodes: BTreeMap::from([(ROOT, root)]),
            next: 1,
            paths: BTreeMap::new(),
        }
    }

    fn usage(&self) -> BTreeMap<u64, Usage> {
        let mut usage: BTreeMap<u64, Usage> = BTreeMap::new();
        for (&number, node) in &self.nodes {
            if number != ROOT {
                let mine = usage.entry(node.owner).or_default();
                mine.bytes += NODE_BYTES;
                mine.nodes += 1;
            }
            if let MBody::File { pages, .. } = &node.body {
                for payer in pages.values() {
                    usage.entry(*payer).or_default().bytes += PAGE;
                }
            }
        }
        usage
    }

    /// Whether `owner` may be charged `bytes` and `nodes` more.
    fn fits(&self, owner: u64, bytes: u64, nodes: u64) -> bool {
        let usage = self.usage();
        let mine = usage.get(&owner).copied().unwrap_or_default();
        let total_bytes: u64 = usage.values().map(|u| u.bytes).sum();
        let limits = self.limits;
        total_bytes + bytes <= limits.max_bytes_total
            && mine.bytes + bytes <= limits.max_bytes_per_owner
            && self.nodes.len() as u64 + nodes <= limits.max_nodes
            && mine.nodes + nodes <= limits.max_nodes_per_owner
    }

    fn get(&self, path: &str) -> Option<usize> {
        if path.is_empty() {
            Some(ROOT)
        } else {
            self.paths.get(path).copied()
        }
    }

    fn is_dir(&self, number: usize) -> bool {
        matches!(self.nodes[&number].body, MBody::Dir)
    }

    /// The errors of walking to the parent of `path` (which names no
    /// `.`, `..` or empty component).
    fn parent_ok(&self, path: &str) -> Result<(), FsError> {
        check_server_path(path)?;
        let names: Vec<&str> = path.split('/').collect();
        for depth in 1..names.len() {
            let prefix = names[..depth].join("/");
            match self.get(&prefix) {
                None => return Err(FsError::NotFound),
                Some(number) if !self.is_dir(number) => return Err(FsError::NotADirectory),
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn lookup(&self, path: &str) -> Result<usize, FsError> {
        self.parent_ok(path)?;
        self.get(path).ok_or(FsError::NotFound)
    }

    /// The names and numbers of the entries of the directory at `path`,
    /// sorted.
    fn children(&self, path: &str) -> Vec<(String, usize)> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        self.paths
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .filter_map(|(key, &number)| {
                let name = &key[prefix.len()..];
                (!name.is_empty() && !name.contains('/')).then(|| (name.to_string(), number))
            })
            .collect()
    }

    fn path_of(&self, number: usize) -> Option<String> {
        if number == ROOT {
            return Some(String::new());
        }
        self.paths
            .iter()
            .find(|(_, n)| **n == number)
            .map(|(path, _)| path.clone())
    }

    fn free_if_unused(&mut self, number: usize) {
        let node = &self.nodes[&number];
        if number != ROOT && !node.linked && node.opens == 0 {
            self.nodes.remove(&number);
        }
    }

    /// Removes the entry at `path` (no children).
    fn remove(&mut self, path: &str) {
        let number = self.paths.remove(path).unwrap();
        self.nodes.get_mut(&number).unwrap().linked = false;
        self.free_if_unused(number);
    }

    fn add(&mut self, path: &str, body: MBody, owner: u64, opens: u32, id: NodeId) -> usize {
        let number = self.next;
        self.next += 1;
        let node = MNode {
            body,
            owner,
            opens,
            linked: true,
            id,
        };
        self.nodes.insert(number, node);
        self.paths.insert(path.to_string(), number);
        number
    }

    fn stat(&self, number: usize) -> (Kind, u64, u32, u64) {
        let node = &self.nodes[&number];
        let (kind, size, nlink, blocks) = match &node.body {
            MBody::File { data, pages } => (Kind::File, data.len() as u64, 1, pages.len() as u64),
            MBody::Dir => {
                let path = self.path_of(number).unwrap_or_default();
                let subdirs = if node.linked {
                    self.children(&path)
                        .iter()
                        .filter(|(_, n)| self.is_dir(*n))
                        .count()
                } else {
                    0
                };
                (Kind::Dir, 0, 2 + subdirs as u32, 0)
            }
        };
        (kind, size, if node.linked { nlink } else { 0 }, blocks)
    }
}

#[derive(Clone, Debug)]
enum Op {
    Open {
        path: String,
        flags: OpenFlags,
        owner: u64,
    },
    Mkdir {
        path: String,
        owner: u64,
    },
    Rmdir {
        path: String,
    },
    Unlink {
        path: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Lookup {
        path: String,
    },
    List {
        path: String,
    },
    Write {
        handle: usize,
        offset: u64,
        len: usize,
        fill: u8,
        owner: u64,
    },
    Read {
        handle: usize,
        offset: u64,
        len: usize,
    },
    Truncate {
        handle: usize,
        len: u64,
    },
    Stat {
        handle: usize,
    },
    ListOpen {
        handle: usize,
    },
    Retain {
        handle: usize,
    },
    Release {
        handle: usize,
    },
}

fn path() -> impl Strategy<Value = String> {
    let name = || prop::sample::select(vec!["a", "b", "c"]);
    prop_oneof![
        // Shallow paths more often, so that parents exist.
        9 => name().prop_map(String::from),
        8 => prop::collection::vec(name(), 2..3).prop_map(|names| names.join("/")),
        4 => prop::collection::vec(name(), 3..4).prop_map(|names| names.join("/")),
        1 => prop::sample::select(vec!["", "a//b", "../a", "a/.", "/a"]).prop_map(String::from),
    ]
}

fn flags() -> impl Strategy<Value = OpenFlags> {
    let r = OpenFlags::READ;
    let w = OpenFlags::WRITE;
    prop::sample::select(vec![
        r,
        r | w,
        w,
        r | w | OpenFlags::CREATE,
        r | w | OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
        w | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        r | w | OpenFlags::TRUNCATE,
        r | OpenFlags::DIRECTORY,
        r | OpenFlags::CREATE,
    ])
}

fn owner() -> impl Strategy<Value = u64> {
    prop::sample::select(OWNERS.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
    let offset = prop_oneof![0..2 * PAGE + 100, Just(PAGE - 1), Just(2 * PAGE)];
    let len = prop_oneof![0usize..40, 0usize..2 * PAGE as usize + 10];
    prop_oneof![
        6 => (path(), flags(), owner()).prop_map(|(path, flags, owner)| Op::Open { path, flags, owner }),
        4 => (path(), owner()).prop_map(|(path, owner)| Op::Mkdir { path, owner }),
        2 => path().prop_map(|path| Op::Rmdir { path }),
        2 => path().prop_map(|path| Op::Unlink { path }),
        3 => (path(), path()).prop_map(|(from, to)| Op::Rename { from, to }),
        // Often into the source's own subtree.
        1 => (path(), path()).prop_map(|(from, below)| Op::Rename { to: format!("{from}/{below}"), from }),
        1 => path().prop_map(|path| Op::Lookup { path }),
        1 => path().prop_map(|path| Op::List { path }),
        6 => (any::<usize>(), offset.clone(), len.clone(), any::<u8>(), owner()).prop_map(
            |(handle, offset, len, fill, owner)| Op::Write { handle, offset, len, fill, owner }
        ),
        3 => (any::<usize>(), offset, len).prop_map(|(handle, offset, len)| Op::Read { handle, offset, len }),
        2 => (any::<usize>(), 0..3 * PAGE).prop_map(|(handle, len)| Op::Truncate { handle, len }),
        1 => any::<usize>().prop_map(|handle| Op::Stat { handle }),
        1 => any::<usize>().prop_map(|handle| Op::ListOpen { handle }),
        1 => any::<usize>().prop_map(|handle| Op::Retain { handle }),
        3 => any::<usize>().prop_map(|handle| Op::Release { handle }),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        1 => Just(Limits::UNLIMITED),
        2 => (
            prop::sample::select(vec![u64::MAX, 6 * NODE_BYTES + 6 * PAGE]),
            prop::sample::select(vec![u64::MAX, 2 * NODE_BYTES + 2 * PAGE, 3 * NODE_BYTES + 3 * PAGE]),
            prop::sample::select(vec![u64::MAX, 4, 8]),
            prop::sample::select(vec![u64::MAX, 3]),
            prop::sample::select(vec![i64::MAX as u64, PAGE + 100, 2 * PAGE]),
        )
            .prop_map(|(total, per_owner, nodes, nodes_per_owner, file)| Limits {
                max_bytes_total: total,
                max_bytes_per_owner: per_owner,
                max_nodes: nodes,
                max_nodes_per_owner: nodes_per_owner,
                max_file_bytes: file,
            }),
    ]
}

/// Runs `op` on the tree and the model, and compares.
fn step(tree: &mut Tree, model: &mut Model, handles: &mut Vec<usize>, op: Op) {
    let root = tree.root();
    let handle = |index: usize| (!handles.is_empty()).then(|| index % handles.len());
    match op {
        Op::Open { path, flags, owner } => {
            let expected = (|| {
                model.parent_ok(&path)?;
                let Some(number) = model.get(&path) else {
                    if !flags.contains(OpenFlags::CREATE) {
                        return Err(FsError::NotFound);
                    }
                    if !model.fits(owner, NODE_BYTES, 1) {
                        return Err(FsError::NoSpace);
                    }
                    return Ok(None);
                };
                if flags.contains(OpenFlags::EXCLUSIVE) {
                    return Err(FsError::Exists);
                }
                let create = flags.contains(OpenFlags::CREATE);
                match model.nodes[&number].body {
                    MBody::Dir if flags.write() || create => Err(FsError::IsADirectory),
                    MBody::File { .. } if flags.contains(OpenFlags::DIRECTORY) => {
                        Err(FsError::NotADirectory)
                    }
                    _ => Ok(Some(number)),
                }
            })();
            let got = tree.open(root, &path, flags, owner);
            match (expected, got) {
                (Ok(None), Ok(id)) => {
                    let body = MBody::File {
                        data: Vec::new(),
                        pages: BTreeMap::new(),
                    };
                    let number = model.add(&path, body, owner, 1, id);
                    handles.push(number);
                }
                (Ok(Some(number)), Ok(id)) => {
                    let node = model.nodes.get_mut(&number).unwrap();
                    assert_eq!(node.id, id, "open {path}");
                    node.opens += 1;
                    if let MBody::File { data, pages } = &mut node.body
                        && flags.contains(OpenFlags::TRUNCATE)
                    {
                        data.clear();
                        pages.clear();
                    }
                    handles.push(number);
                }
                (expected, got) => {
                    assert_eq!(
                        got.map(|_| ()),
                        expected.map(|_| ()),
                        "open {path} {flags:?}"
                    )
                }
            }
        }
        Op::Mkdir { path, owner } => {
            let expected = (|| {
                model.parent_ok(&path)?;
                if path.is_empty() {
                    return Err(FsError::InvalidPath);
                }
                if model.get(&path).is_some() {
                    return Err(FsError::Exists);
                }
                if !model.fits(owner, NODE_BYTES, 1) {
                    return Err(FsError::NoSpace);
                }
                Ok(())
            })();
            let got = tree.mkdir(root, &path, owner);
            assert_eq!(got.map(|_| ()), expected, "mkdir {path}");
            if let Ok(id) = got {
                model.add(&path, MBody::Dir, owner, 0, id);
            }
        }
        Op::Rmdir { path } => {
            let expected = (|| {
                model.parent_ok(&path)?;
                if path.is_empty() {
                    return Err(FsError::Busy);
                }
                let number = model.get(&path).ok_or(FsError::NotFound)?;
                if !model.is_dir(number) {
                    return Err(FsError::NotADirectory);
                }
                if !model.children(&path).is_empty() {
                    return Err(FsError::NotEmpty);
                }
                Ok(())
            })();
            assert_eq!(tree.rmdir(root, &path), expected, "rmdir {path}");
            if expected.is_ok() {
                model.remove(&path);
            }
        }
        Op::Unlink { path } => {
            let expected = (|| {
                model.parent_ok(&path)?;
                if path.is_empty() {
                    return Err(FsError::InvalidPath);
                }
                let number = model.get(&path).ok_or(FsError::NotFound)?;
                if model.is_dir(number) {
                    return Err(FsError::IsADirectory);
                }
                Ok(())
            })();
            assert_eq!(tree.unlink(root, &path), expected, "unlink {path}");
            if expected.is_ok() {
                model.remove(&path);
            }
        }
        Op::Rename { from, to } => {
            let expected = (|| {
                model.parent_ok(&from)?;
                if from.is_empty() {
                    return Err(FsError::InvalidPath);
                }
                model.parent_ok(&to)?;
                if to.is_empty() {
                    return Err(FsError::InvalidPath);
                }
                let source = model.get(&from).ok_or(FsError::NotFound)?;
                if from == to {
                    return Ok(false);
                }
                let source_is_dir = model.is_dir(source);
                if source_is_dir && to.starts_with(&format!("{from}/")) {
                    return Err(FsError::InvalidArgument);
                }
                if let Some(old) = model.get(&to) {
                    match (source_is_dir, model.is_dir(old)) {
                        (false, true) => return Err(FsError::IsADirectory),
                        (true, false) => return Err(FsError::NotADirectory),
                        (true, true) if !model.children(&to).is_empty() => {
                            return Err(FsError::NotEmpty);
                        }
                        _ => {}
                    }
                }
                Ok(true)
            })();
            assert_eq!(
                tree.rename(root, &from, root, &to),
                expected.map(|_| ()),
                "rename {from} {to}"
            );
            if expected == Ok(true) {
                if model.get(&to).is_some() {
                    model.remove(&to);
                }
                let below = format!("{from}/");
                let moved: Vec<(String, usize)> = model
                    .paths
                    .iter()
                    .filter(|(key, _)| **key == from || key.starts_with(&below))
                    .map(|(key, &number)| (key.clone(), number))
                    .collect();
                for (key, number) in moved {
                    model.paths.remove(&key);
                    model
                        .paths
                        .insert(format!("{to}{}", &key[from.len()..]), number);
                }
            }
        }
        Op::Lookup { path } => {
            let expected = model.lookup(&path).map(|number| model.nodes[&number].id);
            assert_eq!(tree.lookup(root, &path), expected, "lookup {path}");
        }
        Op::List { path } => {
            let expected = model.lookup(&path).and_then(|number| {
                if !model.is_dir(number) {
                    return Err(FsError::NotADirectory);
                }
                Ok(model.children(&path))
            });
            let got = tree.lookup(root, &path).and_then(|dir| list(tree, dir));
            compare_listing(model, got, expected);
        }
        Op::ListOpen { handle: index } => {
            let Some(index) = handle(index) else { return };
            let number = handles[index];
            let expected = if model.is_dir(number) {
                Ok(model
                    .path_of(number)
                    .map(|path| model.children(&path))
                    .unwrap_or_default())
            } else {
                Err(FsError::NotADirectory)
            };
            let got = list(tree, model.nodes[&number].id);
            compare_listing(model, got, expected);
        }
        Op::Write {
            handle: index,
            offset,
            len,
            fill,
            owner,
        } => {
            let Some(index) = handle(index) else { return };
            let number = handles[index];
            let data: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
            let expected = model_write(model, number, offset, &data, owner);
            let id = model.nodes[&number].id;
            assert_eq!(
                tree.write(id, offset, &data, owner),
                expected,
                "write {offset} {len}"
            );
        }
        Op::Read {
            handle: index,
            offset,
            len,
        } => {
            let Some(index) = handle(index) else { return };
            let node = &model.nodes[&handles[index]];
            let mut out = vec![0xee; len];
            let got = tree.read(node.id, offset, &mut out);
            match &node.body {
                MBody::Dir => assert_eq!(got, Err(FsError::IsADirectory)),
                MBody::File { data, .. } => {
                    let start = (offset as usize).min(data.len());
                    let end = (start + len).min(data.len());
                    assert_eq!(got, Ok(end - start));
                    assert_eq!(
                        &out[..end - start],
                        &data[start..end],
                        "read {offset} {len}"
                    );
                }
            }
        }
        Op::Truncate { handle: index, len } => {
            let Some(index) = handle(index) else { return };
            let max = model.limits.max_file_bytes;
            let node = model.nodes.get_mut(&handles[index]).unwrap();
            let got = tree.truncate(node.id, len);
            match &mut node.body {
                MBody::Dir => assert_eq!(got, Err(FsError::IsADirectory)),
                MBody::File { .. } if len > max => assert_eq!(got, Err(FsError::FileTooLarge)),
                MBody::File { data, pages } => {
                    assert_eq!(got, Ok(()));
                    data.resize(len as usize, 0);
                    pages.retain(|page, _| page * PAGE < len);
                }
            }
        }
        Op::Stat { handle: index } => {
            let Some(index) = handle(index) else { return };
            let number = handles[index];
            let id = model.nodes[&number].id;
            let stat = tree.stat(id).unwrap();
            assert_eq!(
                (stat.kind, stat.size, stat.nlink, stat.blocks),
                model.stat(number)
            );
            assert_eq!(stat.id, id.to_u64());
        }
        Op::Retain { handle: index } => {
            let Some(index) = handle(index) else { return };
            let number = handles[index];
            assert_eq!(tree.retain(model.nodes[&number].id), Ok(()));
            model.nodes.get_mut(&number).unwrap().opens += 1;
            handles.push(number);
        }
        Op::Release { handle: index } => {
            let Some(index) = handle(index) else { return };
            let number = handles.swap_remove(index);
            assert_eq!(tree.release(model.nodes[&number].id), Ok(()));
            model.nodes.get_mut(&number).unwrap().opens -= 1;
            let id = model.nodes[&number].id;
            model.free_if_unused(number);
            if !model.nodes.contains_key(&number) {
                assert_eq!(tree.stat(id), Err(FsError::BadDescriptor), "freed");
            }
        }
    }
}

/// The model's write: the bytes written, or the error.
fn model_write(
    model: &mut Model,
    number: usize,
    offset: u64,
    data: &[u8],
    owner: u64,
) -> Result<usize, FsError> {
    if model.is_dir(number) {
        return Err(FsError::IsADirectory);
    }
    if data.is_empty() {
        return Ok(0);
    }
    let max = model.limits.max_file_bytes;
    if offset >= max {
        return Err(FsError::FileTooLarge);
    }
    let count = (data.len() as u64).min(max - offset);
    let end = offset + count;
    // Charge the missing pages in order; stop at the first that does not fit.
    let mut written = count;
    for page in offset / PAGE..end.div_ceil(PAGE) {
        let MBody::File { pages, .. } = &model.nodes[&number].body else {
            unreachable!()
        };
        if pages.contains_key(&page) {
            continue;
        }
        if !model.fits(owner, PAGE, 0) {
            written = (page * PAGE).saturating_sub(offset);
            break;
        }
        let MBody::File { pages, .. } = &mut model.nodes.get_mut(&number).unwrap().body else {
            unreachable!()
        };
        pages.insert(page, owner);
    }
    if written == 0 {
        return Err(FsError::NoSpace);
    }
    let MBody::File { data: contents, .. } = &mut model.nodes.get_mut(&number).unwrap().body else {
        unreachable!()
    };
    let (start, stop) = (offset as usize, (offset + written) as usize);
    if contents.len() < stop {
        contents.resize(stop, 0);
    }
    contents[start..stop].copy_from_slice(&data[..written as usize]);
    Ok(written as usize)
}

/// The whole listing of `dir`, one `readdir` at a time.
fn list(tree: &Tree, dir: NodeId) -> Result<Vec<DirEntry>, FsError> {
    let mut entries: Vec<DirEntry> = Vec::new();
    while let Some(entry) = tree.readdir(dir, entries.last().map(|e| e.name.as_str()))? {
        entries.push(entry);
    }
    Ok(entries)
}

fn compare_listing(
    model: &Model,
    got: Result<Vec<DirEntry>, FsError>,
    expected: Result<Vec<(String, usize)>, FsError>,
) {
    let expected = expected.map(|children| {
        children
            .into_iter()
            .map(|(name, number)| {
                let node = &model.nodes[&number];
                let kind = if matches!(node.body, MBody::Dir) {
                    Kind::Dir
                } else {
                    Kind::File
                };
                DirEntry {
                    name,
                    kind,
                    id: node.id.to_u64(),
                }
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(got, expected, "listing");
}

/// The tree's charges equal the model's, owner by owner.
fn compare_usage(tree: &Tree, model: &Model) {
    let usage = model.usage();
    for owner in OWNERS {
        assert_eq!(
            tree.usage(owner),
            usage.get(&owner).copied().unwrap_or_default(),
            "owner {owner}"
        );
    }
    assert_eq!(tree.node_count(), model.nodes.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn matches_a_model(limits in limits(), ops in prop::collection::vec(op(), 0..120)) {
        let mut tree = Tree::new(limits);
        let mut model = Model::new(limits, tree.root());
        // Model node numbers, one per open the tree counts.
        let mut handles: Vec<usize> = Vec::new();
        for op in ops {
            step(&mut tree, &mut model, &mut handles, op);
            check_invariants(&tree);
            compare_usage(&tree, &model);
        }
        // Release every open, then remove every entry, deepest first.
        while !handles.is_empty() {
            step(&mut tree, &mut model, &mut handles, Op::Release { handle: 0 });
        }
        let mut paths: Vec<String> = model.paths.keys().cloned().collect();
        paths.sort_by_key(|path| core::cmp::Reverse(path.matches('/').count()));
        for path in paths {
            let number = model.paths[&path];
            let op = if model.is_dir(number) { Op::Rmdir { path } } else { Op::Unlink { path } };
            step(&mut tree, &mut model, &mut handles, op);
        }
        check_invariants(&tree);
        prop_assert_eq!(tree.total_usage(), Usage::default());
        prop_assert_eq!(tree.node_count(), 1);
        prop_assert_eq!(tree.readdir(tree.root(), None), Ok(None));
    }
}
