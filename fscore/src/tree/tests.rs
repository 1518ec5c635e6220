//! Unit tests of each tree operation and each of its errors, and the
//! invariant check the property test runs after every step.

use super::*;
use alloc::vec;
use alloc::vec::Vec;

const R: OpenFlags = OpenFlags::READ;
const RW: OpenFlags = OpenFlags::READ.union(OpenFlags::WRITE);
const CREATE: OpenFlags = RW.union(OpenFlags::CREATE);
const ALICE: u64 = 1;
const BOB: u64 = 2;
const PAGE: usize = PAGE_BYTES as usize;

/// Checks the invariants of the module documentation, and that the
/// charges add up to what the nodes hold.
pub(super) fn check_invariants(tree: &Tree) {
    let root = tree.nodes.get(tree.root).expect("the root is live");
    assert!(root.linked && root.parent.is_none());
    let mut expected: BTreeMap<u64, Usage> = BTreeMap::new();
    let mut named = BTreeMap::new();
    for (id, node) in tree.nodes.iter() {
        assert!(
            node.linked || node.opens > 0,
            "{id:?} should have been freed"
        );
        if id != tree.root {
            let usage = expected.entry(node.owner).or_default();
            usage.bytes += NODE_BYTES;
            usage.nodes += 1;
        }
        match &node.body {
            Body::File(file) => {
                for payer in file.payers() {
                    expected.entry(payer).or_default().bytes += PAGE_BYTES;
                }
            }
            Body::Dir(dir) => {
                let mut subdirs = 0;
                for (name, child) in &dir.entries {
                    let child_node = tree.nodes.get(*child).expect("entries name live nodes");
                    assert!(child_node.linked, "{name} names a removed node");
                    assert!(named.insert(*child, id).is_none(), "{name} named twice");
                    if let Body::Dir(_) = child_node.body {
                        subdirs += 1;
                        assert_eq!(child_node.parent, Some(id), "parent of {name}");
                    }
                }
                assert_eq!(dir.subdirs, subdirs);
                if !node.linked {
                    assert!(dir.entries.is_empty() && node.parent.is_none());
                }
            }
        }
    }
    for (id, node) in tree.nodes.iter() {
        if id != tree.root {
            assert_eq!(node.linked, named.contains_key(&id), "{id:?} linked");
        }
        if node.linked && matches!(node.body, Body::Dir(_)) {
            assert!(tree.is_ancestor(tree.root, id), "{id:?} reaches the root");
        }
    }
    let owners: BTreeMap<u64, Usage> = tree.accounts.owners().collect();
    assert_eq!(owners, expected, "charges match what is held");
    let total = expected
        .values()
        .fold(Usage::default(), |sum, usage| Usage {
            bytes: sum.bytes + usage.bytes,
            nodes: sum.nodes + usage.nodes,
        });
    assert_eq!(tree.total_usage(), total);
    assert_eq!(tree.node_count(), total.nodes + 1);
}

fn tree() -> Tree {
    Tree::new(Limits::UNLIMITED)
}

/// Creates the file `path` with `data`, closed.
fn file(tree: &mut Tree, path: &str, data: &[u8]) -> NodeId {
    let id = tree.open(tree.root(), path, CREATE, ALICE).unwrap();
    assert_eq!(tree.write(id, 0, data, ALICE), Ok(data.len()));
    tree.release(id).unwrap();
    id
}

fn contents(tree: &Tree, node: NodeId) -> Vec<u8> {
    let size = tree.stat(node).unwrap().size as usize;
    let mut out = vec![0xaa; size + 3];
    assert_eq!(tree.read(node, 0, &mut out), Ok(size));
    out.truncate(size);
    out
}

fn names(tree: &Tree, dir: NodeId) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    while let Some(entry) = tree.readdir(dir, after.as_deref()).unwrap() {
        after = Some(entry.name.clone());
        out.push(entry.name);
    }
    out
}

#[test]
fn a_new_tree_has_an_empty_root() {
    let tree = tree();
    let root = tree.root();
    assert_eq!(tree.lookup(root, ""), Ok(root));
    let stat = tree.stat(root).unwrap();
    assert_eq!(
        (stat.kind, stat.size, stat.nlink, stat.blocks),
        (Kind::Dir, 0, 2, 0)
    );
    assert_eq!(tree.readdir(root, None), Ok(None));
    assert_eq!(tree.node_count(), 1);
    assert_eq!(tree.total_usage(), Usage::default());
    check_invariants(&tree);
}

#[test]
fn read_with_hands_out_what_read_copies() {
    let mut tree = tree();
    let root = tree.root();
    let file = tree
        .open(root, "f", OpenFlags::WRITE | OpenFlags::CREATE, 1)
        .unwrap();
    // A page of data, a hole of two pages, and a partial page.
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    tree.write(file, 10, &data[..4000], 1).unwrap();
    tree.write(file, 3 * 4096 + 7, &data[4000..], 1).unwrap();
    for (offset, max) in [
        (0, 20_000),
        (5, 4096),
        (4000, 9000),
        (12_000, 100),
        (20_000, 10),
    ] {
        let mut copied = vec![0u8; max];
        let n = tree.read(file, offset, &mut copied).unwrap();
        let mut handed = Vec::new();
        let m = tree
            .read_with(file, offset, max, |piece| {
                assert!(piece.len() <= 4096);
                handed.extend_from_slice(piece);
            })
            .unwrap();
        assert_eq!((m, &handed[..]), (n, &copied[..n]));
    }
    assert_eq!(
        tree.read_with(root, 0, 10, |_| {}),
        Err(FsError::IsADirectory)
    );
}

#[test]
fn lookup_errors() {
    let mut tree = tree();
    let root = tree.root();
    file(&mut tree, "f", b"x");
    tree.mkdir(root, "d", ALICE).unwrap();
    assert_eq!(tree.lookup(root, "missing"), Err(FsError::NotFound));
    assert_eq!(tree.lookup(root, "d/missing"), Err(FsError::NotFound));
    assert_eq!(tree.lookup(root, "f/x"), Err(FsError::NotADirectory));
    assert_eq!(tree.lookup(root, "../f"), Err(FsError::InvalidPath));
    assert_eq!(tree.lookup(root, "/f"), Err(FsError::InvalidPath));
    assert_eq!(tree.lookup(root, "d/"), Err(FsError::InvalidPath));
    let long = "n".repeat(crate::path::NAME_MAX + 1);
    assert_eq!(tree.lookup(root, &long), Err(FsError::NameTooLong));
    assert_eq!(
        tree.lookup(NodeId::from_u64(77), ""),
        Err(FsError::BadDescriptor)
    );
}

#[test]
fn lookup_from_a_subdirectory() {
    let mut tree = tree();
    let root = tree.root();
    let d = tree.mkdir(root, "d", ALICE).unwrap();
    let e = tree.mkdir(d, "e", ALICE).unwrap();
    let f = tree.open(e, "f", CREATE, ALICE).unwrap();
    assert_eq!(tree.lookup(root, "d/e/f"), Ok(f));
    assert_eq!(tree.lookup(d, "e/f"), Ok(f));
    assert_eq!(tree.lookup(e, ""), Ok(e));
    assert_eq!(tree.lookup(f, ""), Ok(f));
    assert_eq!(tree.lookup(f, "x"), Err(FsError::NotADirectory));
}

#[test]
fn open_creates_truncates_and_counts() {
    let mut tree = tree();
    let root = tree.root();
    assert_eq!(tree.open(root, "f", RW, ALICE), Err(FsError::NotFound));
    let f = tree.open(root, "f", CREATE, ALICE).unwrap();
    assert_eq!(tree.write(f, 0, b"hello", ALICE), Ok(5));
    assert_eq!(
        tree.open(root, "f", CREATE, ALICE),
        Ok(f),
        "CREATE on an existing file"
    );
    assert_eq!(contents(&tree, f), b"hello");
    let exclusive = CREATE | OpenFlags::EXCLUSIVE;
    assert_eq!(tree.open(root, "f", exclusive, ALICE), Err(FsError::Exists));
    let truncating = RW | OpenFlags::TRUNCATE;
    assert_eq!(tree.open(root, "f", truncating, ALICE), Ok(f));
    assert_eq!(contents(&tree, f), b"");
    assert_eq!(
        tree.usage(ALICE),
        Usage {
            bytes: NODE_BYTES,
            nodes: 1
        }
    );
    assert_eq!(tree.nodes.get(f).unwrap().opens, 3);
    for _ in 0..3 {
        tree.release(f).unwrap();
    }
    assert_eq!(tree.release(f), Err(FsError::BadDescriptor), "not open");
    assert_eq!(tree.open(root, "", exclusive, ALICE), Err(FsError::Exists));
    check_invariants(&tree);
}

#[test]
fn open_checks_kinds_and_flags() {
    let mut tree = tree();
    let root = tree.root();
    file(&mut tree, "f", b"");
    tree.mkdir(root, "d", ALICE).unwrap();
    let dir_flags = R | OpenFlags::DIRECTORY;
    assert_eq!(
        tree.open(root, "f", dir_flags, ALICE),
        Err(FsError::NotADirectory)
    );
    assert_eq!(tree.open(root, "d", RW, ALICE), Err(FsError::IsADirectory));
    assert_eq!(
        tree.open(root, "d", R | OpenFlags::CREATE, ALICE),
        Err(FsError::IsADirectory)
    );
    assert_eq!(tree.open(root, "", RW, ALICE), Err(FsError::IsADirectory));
    let d = tree.open(root, "d", dir_flags, ALICE).unwrap();
    assert_eq!(tree.open(root, "d", R, ALICE), Ok(d));
    assert_eq!(tree.open(root, "", dir_flags, ALICE), Ok(root));
    assert_eq!(
        tree.open(root, "g", OpenFlags::CREATE, ALICE),
        Err(FsError::InvalidArgument)
    );
    assert_eq!(
        tree.open(root, "f/g", CREATE, ALICE),
        Err(FsError::NotADirectory)
    );
    assert_eq!(
        tree.open(root, "x/g", CREATE, ALICE),
        Err(FsError::NotFound)
    );
    assert_eq!(
        tree.open(root, "a/../g", CREATE, ALICE),
        Err(FsError::InvalidPath)
    );
    assert_eq!(
        tree.lookup(root, "g"),
        Err(FsError::NotFound),
        "nothing was made"
    );
}

#[test]
fn open_counts_do_not_overflow() {
    let mut tree = tree();
    let root = tree.root();
    let f = file(&mut tree, "f", b"");
    tree.nodes.get_mut(f).unwrap().opens = u32::MAX;
    assert_eq!(tree.retain(f), Err(FsError::TooManyOpen));
    let truncating = RW | OpenFlags::TRUNCATE;
    assert_eq!(tree.write(f, 0, b"keep", ALICE), Ok(4));
    assert_eq!(
        tree.open(root, "f", truncating, ALICE),
        Err(FsError::TooManyOpen)
    );
    assert_eq!(
        contents(&tree, f),
        b"keep",
        "a failed open truncates nothing"
    );
    tree.release(f).unwrap();
    assert_eq!(tree.retain(f), Ok(()));
}

#[test]
fn read_and_write_at_offsets() {
    let mut tree = tree();
    let f = file(&mut tree, "f", b"0123456789");
    let mut out = [0; 4];
    assert_eq!(tree.read(f, 3, &mut out), Ok(4));
    assert_eq!(&out, b"3456");
    assert_eq!(tree.read(f, 8, &mut out), Ok(2));
    assert_eq!(tree.read(f, 10, &mut out), Ok(0));
    assert_eq!(tree.read(f, u64::MAX, &mut out), Ok(0));
    assert_eq!(tree.write(f, 8, b"abcd", ALICE), Ok(4));
    assert_eq!(contents(&tree, f), b"01234567abcd");
    assert_eq!(tree.write(f, 1, b"", ALICE), Ok(0));
    assert_eq!(
        tree.write(f, 1 << 40, b"", ALICE),
        Ok(0),
        "empty writes do not grow"
    );
    assert_eq!(tree.stat(f).unwrap().size, 12);
}

#[test]
fn writes_across_pages_and_holes() {
    let mut tree = tree();
    let f = file(&mut tree, "f", b"");
    let data: Vec<u8> = (0..3 * PAGE).map(|i| (i % 253) as u8).collect();
    let offset = 5 * PAGE as u64 - 7;
    assert_eq!(tree.write(f, offset, &data, BOB), Ok(data.len()));
    let stat = tree.stat(f).unwrap();
    assert_eq!(stat.size, offset + data.len() as u64);
    assert_eq!(stat.blocks, 4, "pages 4 to 7 only");
    assert_eq!(
        tree.usage(BOB).bytes,
        4 * PAGE_BYTES,
        "the writer pays for pages"
    );
    let all = contents(&tree, f);
    assert!(
        all[..offset as usize].iter().all(|&b| b == 0),
        "the hole reads as zeros"
    );
    assert_eq!(&all[offset as usize..], &data[..]);
    check_invariants(&tree);
}

#[test]
fn truncate_shrinks_zeroes_and_grows() {
    let mut tree = tree();
    let f = file(&mut tree, "f", &[7; 3 * PAGE]);
    assert_eq!(tree.truncate(f, PAGE as u64 + 10), Ok(()));
    assert_eq!(tree.stat(f).unwrap().blocks, 2);
    assert_eq!(tree.usage(ALICE).bytes, NODE_BYTES + 2 * PAGE_BYTES);
    assert_eq!(
        tree.truncate(f, 4 * PAGE as u64),
        Ok(()),
        "grows with a hole"
    );
    assert_eq!(tree.stat(f).unwrap().blocks, 2);
    let all = contents(&tree, f);
    assert_eq!(all.len(), 4 * PAGE);
    assert!(all[..PAGE + 10].iter().all(|&b| b == 7));
    assert!(
        all[PAGE + 10..].iter().all(|&b| b == 0),
        "the cut bytes do not come back"
    );
    assert_eq!(tree.truncate(f, 0), Ok(()));
    assert_eq!(tree.stat(f).unwrap().blocks, 0);
    assert_eq!(tree.usage(ALICE).bytes, NODE_BYTES);
    assert_eq!(tree.truncate(f, u64::MAX), Err(FsError::FileTooLarge));
    assert_eq!(tree.truncate(tree.root(), 0), Err(FsError::IsADirectory));
    check_invariants(&tree);
}

#[test]
fn directories_cannot_be_read_or_written() {
    let mut tree = tree();
    let root = tree.root();
    assert_eq!(tree.read(root, 0, &mut [0; 4]), Err(FsError::IsADirectory));
    assert_eq!(tree.write(root, 0, b"x", ALICE), Err(FsError::IsADirectory));
    let f = file(&mut tree, "f", b"");
    assert_eq!(tree.readdir(f, None), Err(FsError::NotADirectory));
}

#[test]
fn mkdir_and_its_errors() {
    let mut tree = tree();
    let root = tree.root();
    let d = tree.mkdir(root, "d", ALICE).unwrap();
    assert_eq!(tree.stat(root).unwrap().nlink, 3);
    assert_eq!(tree.stat(d).unwrap().nlink, 2);
    assert_eq!(tree.mkdir(root, "d", ALICE), Err(FsError::Exists));
    file(&mut tree, "f", b"");
    assert_eq!(tree.mkdir(root, "f", ALICE), Err(FsError::Exists));
    assert_eq!(tree.mkdir(root, "f/e", ALICE), Err(FsError::NotADirectory));
    assert_eq!(tree.mkdir(root, "x/e", ALICE), Err(FsError::NotFound));
    assert_eq!(tree.mkdir(root, "", ALICE), Err(FsError::InvalidPath));
    assert_eq!(tree.mkdir(root, "d/e", BOB).map(|_| ()), Ok(()));
    assert_eq!(
        tree.usage(BOB),
        Usage {
            bytes: NODE_BYTES,
            nodes: 1
        }
    );
    check_invariants(&tree);
}

#[test]
fn rmdir_and_its_errors() {
    let mut tree = tree();
    let root = tree.root();
    let d = tree.mkdir(root, "d", ALICE).unwrap();
    tree.mkdir(root, "d/e", ALICE).unwrap();
    file(&mut tree, "f", b"");
    assert_eq!(tree.rmdir(root, "d"), Err(FsError::NotEmpty));
    assert_eq!(tree.rmdir(root, "f"), Err(FsError::NotADirectory));
    assert_eq!(tree.rmdir(root, "x"), Err(FsError::NotFound));
    assert_eq!(tree.rmdir(root, ""), Err(FsError::Busy), "the root stays");
    assert_eq!(tree.rmdir(d, ""), Err(FsError::Busy));
    assert_eq!(tree.rmdir(d, "e"), Ok(()));
    assert_eq!(tree.rmdir(root, "d"), Ok(()));
    assert_eq!(tree.lookup(root, "d"), Err(FsError::NotFound));
    assert_eq!(
        tree.stat(d),
        Err(FsError::BadDescriptor),
        "freed: it was not open"
    );
    assert_eq!(tree.stat(root).unwrap().nlink, 2);
    assert_eq!(names(&tree, root), ["f"]);
    check_invariants(&tree);
}

#[test]
fn a_removed_open_directory_stays_empty() {
    let mut tree = tree();
    let root = tree.root();
    tree.mkdir(root, "d", ALICE).unwrap();
    let d = tree.open(root, "d", R, ALICE).unwrap();
    assert_eq!(tree.rmdir(root, "d"), Ok(()));
    assert_eq!(tree.stat(d).unwrap().nlink, 0);
    assert_eq!(tree.readdir(d, None), Ok(None));
    assert_eq!(tree.open(d, "f", CREATE, ALICE), Err(FsError::NotFound));
    assert_eq!(tree.mkdir(d, "e", ALICE), Err(FsError::NotFound));
    tree.mkdir(root, "x", ALICE).unwrap();
    assert_eq!(tree.rename(root, "x", d, "x"), Err(FsError::NotFound));
    assert_eq!(tree.usage(ALICE).nodes, 2, "kept while open");
    tree.release(d).unwrap();
    assert_eq!(tree.usage(ALICE).nodes, 1);
    check_invariants(&tree);
}

#[test]
fn unlink_and_its_errors() {
    let mut tree = tree();
    let root = tree.root();
    let f = file(&mut tree, "f", b"data");
    tree.mkdir(root, "d", ALICE).unwrap();
    assert_eq!(tree.unlink(root, "d"), Err(FsError::IsADirectory));
    assert_eq!(tree.unlink(root, "x"), Err(FsError::NotFound));
    assert_eq!(tree.unlink(root, "f/x"), Err(FsError::NotADirectory));
    assert_eq!(tree.unlink(root, ""), Err(FsError::InvalidPath));
    assert_eq!(tree.unlink(root, "f"), Ok(()));
    assert_eq!(tree.stat(f), Err(FsError::BadDescriptor));
    assert_eq!(
        tree.usage(ALICE),
        Usage {
            bytes: NODE_BYTES,
            nodes: 1
        }
    );
    check_invariants(&tree);
}

#[test]
fn an_unlinked_open_file_lives_until_the_last_release() {
    let mut tree = tree();
    let root = tree.root();
    let f = tree.open(root, "f", CREATE, ALICE).unwrap();
    tree.retain(f).unwrap();
    tree.write(f, 0, b"still here", BOB).unwrap();
    tree.unlink(root, "f").unwrap();
    assert_eq!(tree.lookup(root, "f"), Err(FsError::NotFound));
    assert_eq!(tree.stat(f).unwrap().nlink, 0);
    assert_eq!(contents(&tree, f), b"still here");
    assert_eq!(tree.write(f, 10, b"!", ALICE), Ok(1));
    let g = tree.open(root, "f", CREATE, ALICE).unwrap();
    assert_ne!(f, g, "the name is free for a new file");
    tree.release(f).unwrap();
    assert_eq!(contents(&tree, f), b"still here!");
    tree.release(f).unwrap();
    assert_eq!(tree.stat(f), Err(FsError::BadDescriptor));
    assert_eq!(
        tree.usage(BOB),
        Usage::default(),
        "the page went back to its payer"
    );
    assert_eq!(
        tree.usage(ALICE),
        Usage {
            bytes: NODE_BYTES,
            nodes: 1
        }
    );
    check_invariants(&tree);
}

#[test]
fn rename_moves_and_replaces_files() {
    let mut tree = tree();
    let root = tree.root();
    let f = file(&mut tree, "f", b"new");
    let g = file(&mut tree, "g", b"old");
    let d = tree.mkdir(root, "d", ALICE).unwrap();
    assert_eq!(tree.rename(root, "f", d, "f2"), Ok(()));
    assert_eq!(tree.lookup(root, "d/f2"), Ok(f));
    assert_eq!(tree.rename(d, "f2", root, "g"), Ok(()));
    assert_eq!(tree.lookup(root, "g"), Ok(f));
    assert_eq!(
        tree.stat(g),
        Err(FsError::BadDescriptor),
        "the replaced file is freed"
    );
    assert_eq!(names(&tree, root), ["d", "g"]);
    assert_eq!(tree.rename(root, "g", root, "g"), Ok(()), "onto itself");
    assert_eq!(tree.usage(ALICE).nodes, 2);
    check_invariants(&tree);
}

#[test]
fn rename_moves_and_replaces_directories() {
    let mut tree = tree();
    let root = tree.root();
    let a = tree.mkdir(root, "a", ALICE).unwrap();
    tree.mkdir(root, "a/sub", ALICE).unwrap();
    let empty = tree.mkdir(root, "empty", ALICE).unwrap();
    tree.mkdir(root, "full", ALICE).unwrap();
    file(&mut tree, "full/x", b"");
    assert_eq!(tree.rename(root, "a", root, "full"), Err(FsError::NotEmpty));
    assert_eq!(tree.rename(root, "a", root, "empty"), Ok(()));
    assert_eq!(tree.stat(empty), Err(FsError::BadDescriptor));
    assert_eq!(tree.lookup(root, "empty/sub").map(|_| ()), Ok(()));
    assert_eq!(tree.rename(root, "empty", root, "full/a"), Ok(()));
    assert_eq!(tree.lookup(root, "full/a"), Ok(a));
    assert_eq!(tree.stat(root).unwrap().nlink, 3);
    assert_eq!(
        tree.stat(tree.lookup(root, "full").unwrap()).unwrap().nlink,
        3
    );
    check_invariants(&tree);
}

#[test]
fn rename_errors() {
    let mut tree = tree();
    let root = tree.root();
    tree.mkdir(root, "d", ALICE).unwrap();
    tree.mkdir(root, "d/e", ALICE).unwrap();
    file(&mut tree, "f", b"");
    assert_eq!(
        tree.rename(root, "f", root, "d"),
        Err(FsError::IsADirectory)
    );
    assert_eq!(
        tree.rename(root, "d", root, "f"),
        Err(FsError::NotADirectory)
    );
    assert_eq!(
        tree.rename(root, "d", root, "d/e/x"),
        Err(FsError::InvalidArgument)
    );
    assert_eq!(
        tree.rename(root, "d", root, "d/x"),
        Err(FsError::InvalidArgument)
    );
    assert_eq!(tree.rename(root, "d/e", root, "d"), Err(FsError::NotEmpty));
    assert_eq!(tree.rename(root, "x", root, "y"), Err(FsError::NotFound));
    assert_eq!(tree.rename(root, "f", root, "x/y"), Err(FsError::NotFound));
    assert_eq!(
        tree.rename(root, "f", root, "f/y"),
        Err(FsError::NotADirectory)
    );
    assert_eq!(tree.rename(root, "", root, "y"), Err(FsError::InvalidPath));
    assert_eq!(tree.rename(root, "f", root, ""), Err(FsError::InvalidPath));
    assert_eq!(tree.rename(root, "d", root, "d"), Ok(()));
    assert_eq!(names(&tree, root), ["d", "f"]);
    check_invariants(&tree);
}

#[test]
fn readdir_is_sorted_and_survives_changes() {
    let mut tree = tree();
    let root = tree.root();
    for name in ["m", "b", "x", "a"] {
        file(&mut tree, name, b"");
    }
    tree.mkdir(root, "k", ALICE).unwrap();
    let first = tree.readdir(root, None).unwrap().unwrap();
    assert_eq!((first.name.as_str(), first.kind), ("a", Kind::File));
    let second = tree.readdir(root, Some("a")).unwrap().unwrap();
    assert_eq!(second.name, "b");
    // Between calls: remove the last name returned and the next one, add
    // one before the cursor and one after it.
    tree.unlink(root, "b").unwrap();
    tree.rmdir(root, "k").unwrap();
    file(&mut tree, "aa", b"");
    file(&mut tree, "n", b"");
    let mut rest = Vec::new();
    let mut after = String::from("b");
    while let Some(entry) = tree.readdir(root, Some(&after)).unwrap() {
        after = entry.name.clone();
        rest.push(entry.name);
    }
    assert_eq!(rest, ["m", "n", "x"]);
    let dir = tree.mkdir(root, "z", ALICE).unwrap();
    let entry = tree.readdir(root, Some("y")).unwrap().unwrap();
    assert_eq!((entry.kind, entry.id), (Kind::Dir, dir.to_u64()));
}

#[test]
fn node_limits_refuse_and_change_nothing() {
    let limits = Limits {
        max_nodes: 3,
        max_nodes_per_owner: 1,
        ..Limits::UNLIMITED
    };
    let mut tree = Tree::new(limits);
    let root = tree.root();
    tree.mkdir(root, "a", ALICE).unwrap();
    assert_eq!(tree.mkdir(root, "b", ALICE), Err(FsError::NoSpace));
    assert_eq!(tree.open(root, "b", CREATE, ALICE), Err(FsError::NoSpace));
    tree.mkdir(root, "b", BOB).unwrap();
    assert_eq!(
        tree.mkdir(root, "c", 3),
        Err(FsError::NoSpace),
        "the root counts"
    );
    assert_eq!(names(&tree, root), ["a", "b"]);
    tree.rmdir(root, "a").unwrap();
    tree.mkdir(root, "c", ALICE).unwrap();
    check_invariants(&tree);
}

#[test]
fn byte_limits_make_writes_short() {
    let limits = Limits {
        max_bytes_per_owner: NODE_BYTES + 2 * PAGE_BYTES,
        ..Limits::UNLIMITED
    };
    let mut tree = Tree::new(limits);
    let f = tree.open(tree.root(), "f", CREATE, ALICE).unwrap();
    let data = vec![1; 3 * PAGE];
    assert_eq!(
        tree.write(f, 100, &data, ALICE),
        Ok(2 * PAGE - 100),
        "short"
    );
    assert_eq!(
        tree.write(f, 2 * PAGE as u64, b"x", ALICE),
        Err(FsError::NoSpace)
    );
    assert_eq!(tree.stat(f).unwrap().size, 2 * PAGE as u64);
    assert_eq!(
        tree.write(f, 0, &data[..PAGE], ALICE),
        Ok(PAGE),
        "held pages are free"
    );
    assert_eq!(
        tree.write(f, 2 * PAGE as u64, b"bob", BOB),
        Ok(3),
        "bob pays for his"
    );
    assert_eq!(tree.usage(BOB).bytes, PAGE_BYTES);
    tree.truncate(f, 0).unwrap();
    assert_eq!(tree.usage(BOB), Usage::default());
    assert_eq!(tree.usage(ALICE).bytes, NODE_BYTES);
    check_invariants(&tree);
}

#[test]
fn total_limits_hold_across_owners() {
    let limits = Limits {
        max_bytes_total: 2 * NODE_BYTES + PAGE_BYTES,
        ..Limits::UNLIMITED
    };
    let mut tree = Tree::new(limits);
    let root = tree.root();
    let f = tree.open(root, "f", CREATE, ALICE).unwrap();
    let g = tree.open(root, "g", CREATE, BOB).unwrap();
    assert_eq!(tree.write(f, 0, b"a", ALICE), Ok(1));
    assert_eq!(tree.write(g, 0, b"b", BOB), Err(FsError::NoSpace));
    assert_eq!(tree.open(root, "h", CREATE, 3), Err(FsError::NoSpace));
    tree.set_limits(Limits::UNLIMITED);
    assert_eq!(tree.write(g, 0, b"b", BOB), Ok(1));
    assert_eq!(tree.limits(), Limits::UNLIMITED);
}

#[test]
fn file_size_limit() {
    let limits = Limits {
        max_file_bytes: 10,
        ..Limits::UNLIMITED
    };
    let mut tree = Tree::new(limits);
    let f = tree.open(tree.root(), "f", CREATE, ALICE).unwrap();
    assert_eq!(
        tree.write(f, 4, b"0123456789", ALICE),
        Ok(6),
        "short at the limit"
    );
    assert_eq!(tree.write(f, 10, b"x", ALICE), Err(FsError::FileTooLarge));
    assert_eq!(tree.truncate(f, 11), Err(FsError::FileTooLarge));
    assert_eq!(tree.truncate(f, 10), Ok(()));
    let mut unlimited = Tree::new(Limits::UNLIMITED);
    let g = unlimited
        .open(unlimited.root(), "g", CREATE, ALICE)
        .unwrap();
    assert_eq!(
        unlimited.write(g, u64::MAX - 1, b"xy", ALICE),
        Err(FsError::FileTooLarge)
    );
    let last = i64::MAX as u64 - 1;
    assert_eq!(unlimited.write(g, last, b"xy", ALICE), Ok(1));
    assert_eq!(unlimited.stat(g).unwrap().size, i64::MAX as u64);
    assert_eq!(unlimited.stat(g).unwrap().blocks, 1);
}

#[test]
fn stale_ids_are_bad_descriptors() {
    let mut tree = tree();
    let f = file(&mut tree, "f", b"");
    tree.unlink(tree.root(), "f").unwrap();
    let g = file(&mut tree, "g", b"");
    assert_ne!(f, g);
    assert_eq!(tree.stat(f), Err(FsError::BadDescriptor));
    assert_eq!(tree.read(f, 0, &mut [0]), Err(FsError::BadDescriptor));
    assert_eq!(tree.write(f, 0, b"x", ALICE), Err(FsError::BadDescriptor));
    assert_eq!(tree.truncate(f, 0), Err(FsError::BadDescriptor));
    assert_eq!(tree.retain(f), Err(FsError::BadDescriptor));
    assert_eq!(tree.release(f), Err(FsError::BadDescriptor));
    assert_eq!(tree.readdir(f, None), Err(FsError::BadDescriptor));
    assert_eq!(tree.mkdir(f, "x", ALICE), Err(FsError::BadDescriptor));
    assert_eq!(tree.open(f, "", R, ALICE), Err(FsError::BadDescriptor));
    assert_eq!(tree.unlink(f, "x"), Err(FsError::BadDescriptor));
    assert_eq!(tree.rmdir(f, "x"), Err(FsError::BadDescriptor));
    let root = tree.root();
    assert_eq!(tree.rename(root, "g", f, "x"), Err(FsError::BadDescriptor));
}

/// The bytes `spans` hands out, joined (holes as zeros).
fn span_bytes(spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::new();
    for span in spans {
        match &span.page {
            Some(page) => out.extend_from_slice(&page.0[span.start..span.start + span.len]),
            None => out.resize(out.len() + span.len, 0),
        }
    }
    out
}

#[test]
fn spans_match_read_and_stay_while_held() {
    let mut tree = Tree::new(Limits::UNLIMITED);
    let root = tree.root();
    let file = tree.open(root, "f", CREATE, ALICE).unwrap();
    let data: Vec<u8> = (0..3 * PAGE).map(|i| (i % 251) as u8).collect();
    tree.write(file, 0, &data, ALICE).unwrap();
    // A hole from 3 pages to 5, then a page of data.
    tree.write(file, 5 * PAGE as u64, &data[..PAGE], ALICE)
        .unwrap();

    for (offset, max, pieces) in [(0, 3 * PAGE, 16), (100, PAGE, 16), (PAGE - 1, 2, 2)] {
        let mut spans = Vec::new();
        let n = tree
            .spans(file, offset as u64, max, pieces, |s| spans.push(s))
            .unwrap();
        let mut expect = vec![0; max];
        let m = tree.read(file, offset as u64, &mut expect).unwrap();
        assert_eq!(n, m);
        assert_eq!(span_bytes(&spans), expect[..m]);
        assert!(spans.len() <= pieces);
    }
    // The piece limit cuts the bytes: 2 spans from an unaligned offset.
    let mut spans = Vec::new();
    let n = tree
        .spans(file, 10, 3 * PAGE, 2, |s| spans.push(s))
        .unwrap();
    assert_eq!((n, spans.len()), (2 * PAGE - 10, 2));
    // Holes come as spans without a page.
    let mut spans = Vec::new();
    tree.spans(file, 3 * PAGE as u64, 2 * PAGE, 16, |s| spans.push(s))
        .unwrap();
    assert!(spans.iter().all(|span| span.page.is_none()));
    // Past the end: nothing.
    assert_eq!(
        tree.spans(file, 6 * PAGE as u64, 10, 16, |_| panic!()),
        Ok(0)
    );

    // Held spans keep their bytes through a write, a truncation and the
    // file's removal.
    let mut held = Vec::new();
    tree.spans(file, 0, 2 * PAGE, 16, |s| held.push(s)).unwrap();
    tree.write(file, 0, &[0xee; 100], ALICE).unwrap();
    tree.truncate(file, 10).unwrap();
    tree.unlink(root, "f").unwrap();
    tree.release(file).unwrap();
    assert_eq!(span_bytes(&held), data[..2 * PAGE]);
    check_invariants(&tree);
    assert_eq!(tree.total_usage(), Usage::default());
}

#[test]
fn spans_of_a_directory_or_stale_node_fail() {
    let mut tree = Tree::new(Limits::UNLIMITED);
    let root = tree.root();
    assert_eq!(
        tree.spans(root, 0, 10, 1, |_| ()),
        Err(FsError::IsADirectory)
    );
    let file = tree.open(root, "f", CREATE, ALICE).unwrap();
    tree.unlink(root, "f").unwrap();
    tree.release(file).unwrap();
    assert_eq!(
        tree.spans(file, 0, 10, 1, |_| ()),
        Err(FsError::BadDescriptor)
    );
}
