//! Duplicates and hard links: the later member wins, and a hard link
//! has the data of the latest earlier member with its target's path.

use super::build::Archive;
use super::listing;
use crate::tar::*;

#[test]
fn later_duplicates_win() {
    let archive = Archive::new()
        .file("motd", b"old")
        .file("other", b"x")
        .file("./motd", b"new")
        .finish();
    assert_eq!(find(&archive, "motd"), Ok(&b"new"[..]));
    assert_eq!(listing(&archive), ["motd", "other", "motd"]);
    // A later member of another kind replaces the file.
    let archive = Archive::new().file("d", b"file").dir("d/").finish();
    assert_eq!(find(&archive, "d"), Err(TarError::NotAFile));
    // A later skipped member replaces it too.
    let archive = Archive::new()
        .file("s", b"file")
        .gnu_sparse("s", 2, 10, b'x')
        .finish();
    assert_eq!(find(&archive, "s"), Err(TarError::Unsupported));
}

#[test]
fn hard_links_resolve_to_earlier_files() {
    let archive = Archive::new()
        .file("a", b"old a")
        .link("to-old", b'1', "./a")
        .file("a", b"new a")
        .link("to-new", b'1', "a")
        .link("chain", b'1', "to-new")
        .link("dangling", b'1', "nothing")
        .link("forward", b'1', "later")
        .dir("d")
        .link("to-dir", b'1', "d")
        .link("escape", b'1', "../a")
        .link("self", b'1', "self")
        .file("later", b"l")
        .finish();
    assert_eq!(find(&archive, "to-old"), Ok(&b"old a"[..]));
    assert_eq!(find(&archive, "to-new"), Ok(&b"new a"[..]));
    assert_eq!(find(&archive, "chain"), Ok(&b"new a"[..]));
    let to_new = lookup(&archive, "to-new").unwrap();
    assert_eq!(&archive[to_new.data_offset..][..5], b"new a");
    assert_eq!(
        to_new.kind,
        Kind::HardLink {
            target: Path::new(b"a")
        }
    );
    assert_eq!(
        listing(&archive),
        [
            "a",
            "to-old",
            "a",
            "to-new",
            "chain",
            "dangling!LinkTargetMissing",
            "forward!LinkTargetMissing",
            "d",
            "to-dir!LinkTargetNotFile",
            "escape!ParentComponent",
            "self!LinkTargetMissing",
            "later",
        ]
    );
    assert_eq!(find(&archive, "dangling"), Err(TarError::Unsupported));
}

#[test]
fn hard_link_chains_are_bounded() {
    let mut archive = Archive::new();
    archive.file("l0", b"data");
    for hop in 1..=20 {
        archive.link(&format!("l{hop}"), b'1', &format!("l{}", hop - 1));
    }
    let archive = archive.finish();
    assert_eq!(find(&archive, "l16"), Ok(&b"data"[..]));
    assert_eq!(find(&archive, "l17"), Err(TarError::Unsupported));
    let skipped = listing(&archive)
        .iter()
        .filter(|line| line.ends_with("!LinkChainTooLong"))
        .count();
    assert_eq!(skipped, 4);
}
