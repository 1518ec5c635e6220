//! Unit tests of the tar reader on archives made by hand ([`build`]); the
//! archives of real tools are tested in `kcore/tests/tar_tools.rs`, and
//! the never-panic properties in [`props`].

mod build;
mod links;
mod props;

use super::*;
use build::{Archive, Head, Magic};
use std::string::{String, ToString};
use std::vec::Vec;

/// Every item, entries and errors alike.
fn collect(archive: &[u8]) -> Vec<Result<Entry<'_>, EntryError<'_>>> {
    entries(archive).collect()
}

/// The paths of the entries, skipped ones marked `!reason`.
pub fn listing(archive: &[u8]) -> Vec<String> {
    entries(archive)
        .map(|item| match item {
            Ok(entry) => entry.path.to_string(),
            Err(EntryError::Skipped(skipped)) => format!("{}!{:?}", skipped.path, skipped.reason),
            Err(EntryError::Corrupt(error)) => format!("corrupt {error:?}"),
        })
        .collect()
}

#[test]
fn empty_archives() {
    assert!(collect(&[]).is_empty());
    assert!(collect(&[0u8; 1024]).is_empty());
    assert!(collect(&[0u8; 100]).is_empty());
    assert_eq!(find(&[], "init"), Err(TarError::NotFound));
    assert_eq!(find(&[0u8; 1024], "init"), Err(TarError::NotFound));
}

#[test]
fn lists_members_in_order_with_their_attributes() {
    let archive = Archive::new()
        .dir("bin/")
        .file("bin/init", b"\x7fELF init")
        .member("etc/motd", 0, &[b'x'; 512])
        .link("link", b'2', "../target")
        .file("empty", b"")
        .member("pipe", b'6', b"")
        .finish();
    assert_eq!(
        listing(&archive),
        ["bin", "bin/init", "etc/motd", "link", "empty", "pipe"]
    );
    let got: Vec<Entry<'_>> = entries(&archive).map(Result::unwrap).collect();
    assert_eq!(got[0].kind, Kind::Directory);
    let init = got[1];
    assert_eq!(init.kind, Kind::File);
    assert_eq!(init.data, b"\x7fELF init");
    assert_eq!(init.size(), 9);
    assert_eq!(init.data_offset, 2 * BLOCK_BYTES);
    assert_eq!(&archive[init.data_offset..][..9], init.data);
    assert_eq!(init.header_offset, BLOCK_BYTES);
    assert_eq!((init.mode, init.uid, init.gid), (0o644, 1000, 100));
    assert_eq!(init.mtime, 0o14_000_000_000);
    assert_eq!(got[2].kind, Kind::File);
    assert_eq!(got[2].size(), 512);
    // A symlink's target is kept as written, `..` and all.
    assert_eq!(
        got[3].kind,
        Kind::Symlink {
            target: b"../target"
        }
    );
    assert!(got[4].data.is_empty());
    assert_eq!(got[5].kind, Kind::Fifo);
}

#[test]
fn find_and_lookup() {
    let archive = Archive::new()
        .dir("./")
        .dir("./sbin")
        .file("./sbin/init", b"first program")
        .file("motd", b"hello")
        .link("ln", b'2', "motd")
        .finish();
    assert_eq!(find(&archive, "sbin/init"), Ok(&b"first program"[..]));
    assert_eq!(find(&archive, "./sbin/init"), Ok(&b"first program"[..]));
    assert_eq!(find(&archive, "/sbin//init"), Ok(&b"first program"[..]));
    assert_eq!(find(&archive, "motd"), Ok(&b"hello"[..]));
    assert_eq!(find(&archive, "sbin"), Err(TarError::NotAFile));
    assert_eq!(find(&archive, "ln"), Err(TarError::NotAFile));
    assert_eq!(find(&archive, "init"), Err(TarError::NotFound));
    assert_eq!(find(&archive, "sbin/init/x"), Err(TarError::NotFound));
    // The root directory is the entry `./`.
    assert_eq!(lookup(&archive, "").unwrap().kind, Kind::Directory);
    assert_eq!(lookup(&archive, "/").unwrap().header_offset, 0);
    assert!(lookup(&archive, ".").unwrap().path.is_root());
}

#[test]
fn ustar_prefix_is_part_of_the_path() {
    let long_dir = "d".repeat(150);
    let mut head = Head::new("server.elf", b'0', 4);
    head.prefix = long_dir.as_bytes().to_vec();
    let mut dotted = Head::new("x", b'0', 6);
    dotted.prefix = b"./p".to_vec();
    let archive = Archive::new()
        .raw(&head, b"data")
        .raw(&dotted, b"dotted")
        .finish();
    let path = format!("{long_dir}/server.elf");
    assert_eq!(find(&archive, &path), Ok(&b"data"[..]));
    assert_eq!(find(&archive, "server.elf"), Err(TarError::NotFound));
    assert_eq!(find(&archive, "p/x"), Ok(&b"dotted"[..]));
    assert_eq!(listing(&archive), [path, "p/x".to_string()]);
    // Both fields full: 256 bytes of path.
    let mut wide = Head::new(&"n".repeat(100), b'0', 4);
    wide.prefix = "p".repeat(155).into_bytes();
    let archive = Archive::new().raw(&wide, b"wide").finish();
    let path = format!("{}/{}", "p".repeat(155), "n".repeat(100));
    assert_eq!(find(&archive, &path), Ok(&b"wide"[..]));
}

#[test]
fn gnu_and_v7_headers_have_no_prefix() {
    for magic in [Magic::Gnu, Magic::V7] {
        let mut head = Head::new("init", b'0', 3);
        head.magic = magic;
        // GNU keeps atime/ctime where ustar has the prefix.
        head.prefix = b"14000000000".to_vec();
        let archive = Archive::new().raw(&head, b"gnu").finish();
        assert_eq!(listing(&archive), ["init"], "{magic:?}");
        assert_eq!(find(&archive, "init"), Ok(&b"gnu"[..]));
    }
}

#[test]
fn trailing_slash_on_a_file_type_is_a_directory() {
    // GNU tar lists all of these as directories; the data of a `0` is
    // skipped by its size.
    for typeflag in [0, b'0'] {
        for magic in [Magic::V7, Magic::Ustar, Magic::Gnu] {
            let mut head = Head::new("dir/", typeflag, 0);
            head.magic = magic;
            let archive = Archive::new().raw(&head, b"").file("after", b"a").finish();
            let first = entries(&archive).next().unwrap().unwrap();
            assert_eq!(first.kind, Kind::Directory, "{typeflag} {magic:?}");
            assert_eq!(find(&archive, "after"), Ok(&b"a"[..]));
        }
    }
}

#[test]
fn directories_have_no_data_whatever_their_size() {
    // As GNU tar reads it: the 512 bytes after the directory header are
    // the next header.
    let inner = Head::new("inside", b'0', 0).block();
    let archive = Archive::new()
        .raw(&Head::new("d", b'5', 512), &inner)
        .file("after", b"a")
        .finish();
    assert_eq!(listing(&archive), ["d", "inside", "after"]);
    // Other types' data is skipped by their size.
    let archive = Archive::new()
        .raw(&Head::new("l", b'2', 512), &inner)
        .file("after", b"a")
        .finish();
    assert_eq!(listing(&archive), ["l", "after"]);
}

#[test]
fn gnu_long_names_and_links() {
    let name = "n/".repeat(200) + "file";
    let target = "t/".repeat(150) + "file";
    let archive = Archive::new()
        .gnu_long(b'L', name.as_bytes())
        .file("truncated-name", b"long")
        .gnu_long(b'L', b"link")
        .gnu_long(b'K', target.as_bytes())
        .link("l", b'2', "short")
        .finish();
    let got: Vec<Entry<'_>> = entries(&archive).map(Result::unwrap).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].path.to_string(), name);
    assert_eq!(got[0].data, b"long");
    // The long name borrows the archive.
    let first = got[0].path.components().next().unwrap();
    assert!(archive.as_ptr_range().contains(&first.as_ptr()));
    assert_eq!(got[1].path.to_string(), "link");
    assert_eq!(
        got[1].kind,
        Kind::Symlink {
            target: target.as_bytes()
        }
    );
    assert_eq!(find(&archive, &name), Ok(&b"long"[..]));
    // The header offset is that of the first record of the member.
    assert_eq!(got[0].header_offset, 0);
}

#[test]
fn pax_path_linkpath_and_times() {
    let name = "p/".repeat(300) + "file";
    let archive = Archive::new()
        .pax(b'g', &[("mtime", b"42"), ("uid", b"5")])
        .pax(
            b'x',
            &[("path", name.as_bytes()), ("mtime", b"1700000000.25")],
        )
        .file("short", b"pax")
        .pax(b'x', &[("linkpath", b"target/of/link")])
        .link("l", b'2', "x")
        .file("plain", b"")
        .finish();
    let got: Vec<Entry<'_>> = entries(&archive).map(Result::unwrap).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].path.to_string(), name);
    assert_eq!((got[0].mtime, got[0].uid), (1_700_000_000, 5));
    assert_eq!(
        got[1].kind,
        Kind::Symlink {
            target: b"target/of/link"
        }
    );
    // The global header goes on applying; the local ones do not.
    assert_eq!(got[2].path.to_string(), "plain");
    assert_eq!((got[2].mtime, got[2].uid), (42, 5));
}

#[test]
fn pax_size_decides_where_the_next_header_is() {
    // The ustar size says 0, as writers leave it for files of 8 GiB and
    // more; the data is a tar header. Read by the ustar size it would be
    // a phantom member.
    let phantom = Head::new("phantom", b'0', 0).block();
    let archive = Archive::new()
        .pax(b'x', &[("size", b"512")])
        .raw(&Head::new("big", b'0', 0), &phantom)
        .file("after", b"a")
        .finish();
    assert_eq!(listing(&archive), ["big", "after"]);
    assert_eq!(find(&archive, "big"), Ok(&phantom[..]));
    // A size in a global header is ignored.
    let archive = Archive::new()
        .pax(b'g', &[("size", b"512")])
        .file("a", b"1")
        .finish();
    assert_eq!(find(&archive, "a"), Ok(&b"1"[..]));
}

#[test]
fn global_path_is_ignored() {
    let archive = Archive::new()
        .pax(b'g', &[("path", b"everything"), ("linkpath", b"x")])
        .file("a", b"1")
        .link("s", b'2', "t")
        .finish();
    assert_eq!(listing(&archive), ["a", "s"]);
    assert_eq!(
        lookup(&archive, "s").unwrap().kind,
        Kind::Symlink { target: b"t" }
    );
}

#[test]
fn malformed_pax_skips_the_member_only() {
    let archive = Archive::new()
        .member("PaxHeaders/x", b'x', b"99 path=x\n")
        .file("victim", b"v")
        .file("after", b"a")
        .finish();
    assert_eq!(listing(&archive), ["victim!BadExtendedHeader", "after"]);
}

#[test]
fn gnu_sparse_members_are_skipped_exactly() {
    // 60 map entries: the header's four and three extension blocks.
    for segments in [1, 4, 5, 25, 60] {
        let archive = Archive::new()
            .file("before", b"b")
            .gnu_sparse("holes", segments, 700, b'Z')
            .file("after", b"a")
            .finish();
        assert_eq!(
            listing(&archive),
            ["before", "holes!Sparse", "after"],
            "{segments} segments"
        );
        assert_eq!(find(&archive, "after"), Ok(&b"a"[..]));
    }
    // Cut inside the extension blocks.
    let archive = Archive::new().gnu_sparse("holes", 60, 1, b'Z').finish();
    assert_eq!(listing(&archive[..3 * BLOCK_BYTES]), ["corrupt Truncated"]);
}

#[test]
fn pax_sparse_members_are_skipped_under_their_real_name() {
    let archive = Archive::new()
        .pax(
            b'x',
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"real/name"),
                ("GNU.sparse.realsize", b"100000"),
            ],
        )
        .file("./GNUSparseFile.1/name", &[b'm'; 1500])
        .file("after", b"a")
        .finish();
    assert_eq!(listing(&archive), ["real/name!Sparse", "after"]);
    assert_eq!(find(&archive, "real/name"), Err(TarError::Unsupported));
}

#[test]
fn names_are_cleaned_and_escapes_refused() {
    let archive = Archive::new()
        .file("/abs/olute", b"1")
        .file("./a//b/./c", b"2")
        .file("../up", b"3")
        .file("a/../../up", b"4")
        .file(".", b"5")
        .file("./", b"")
        .file("after", b"6")
        .finish();
    assert_eq!(
        listing(&archive),
        [
            "abs/olute",
            "a/b/c",
            "../up!ParentComponent",
            "a/../../up!ParentComponent",
            ".!EmptyPath",
            ".",
            "after",
        ]
    );
    assert_eq!(find(&archive, "abs/olute"), Ok(&b"1"[..]));
    assert_eq!(find(&archive, "a/b/c"), Ok(&b"2"[..]));
    assert_eq!(find(&archive, "up"), Err(TarError::NotFound));
}

#[test]
fn unsupported_types_and_bad_fields_are_skipped() {
    let mut bad_mtime = Head::new("bad-mtime", b'0', 1);
    bad_mtime.mtime = 0;
    let mut block = bad_mtime.block();
    block[136] = b'9';
    build::fix_checksum(&mut block);
    let mut archive = Archive::new();
    archive
        .member("label", b'V', b"")
        .member("continued", b'M', &[1; 600])
        .member("vendor", b'Q', b"")
        .member("char", b'3', b"")
        .member("block", b'4', b"");
    archive.bytes.extend_from_slice(&block);
    archive.bytes.extend_from_slice(&[0; BLOCK_BYTES]);
    let archive = archive.file("after", b"a").finish();
    assert_eq!(
        listing(&archive),
        [
            "label!UnsupportedType(86)",
            "continued!UnsupportedType(77)",
            "vendor!UnsupportedType(81)",
            "char",
            "block",
            "bad-mtime!BadNumber(Mtime)",
            "after",
        ]
    );
    let char_device = lookup(&archive, "char").unwrap();
    assert_eq!(char_device.kind, Kind::CharDevice { major: 0, minor: 0 });
    let skipped = entries(&archive).next().unwrap().unwrap_err();
    assert!(skipped.to_string().contains("unsupported member type 'V'"));
}

#[test]
fn base256_sizes() {
    let mut head = Head::new("b256", b'0', 5);
    head.base256_size = true;
    let archive = Archive::new()
        .raw(&head, b"12345")
        .file("after", b"a")
        .finish();
    assert_eq!(find(&archive, "b256"), Ok(&b"12345"[..]));
    assert_eq!(find(&archive, "after"), Ok(&b"a"[..]));
    // 10 GiB parses, and is more than the archive holds.
    head.size = 10 << 30;
    let archive = Archive::new().raw(&head, b"12345").finish();
    assert_eq!(listing(&archive), ["corrupt Truncated"]);
    assert_eq!(find(&archive, "b256"), Err(TarError::Truncated));
}

#[test]
fn bad_headers_end_the_walk() {
    let mut archive = Archive::new().file("a", b"1").file("b", b"2").finish();
    archive[BLOCK_BYTES * 2] ^= 1; // first byte of the second header
    assert_eq!(listing(&archive), ["a", "corrupt BadHeader"]);
    // Even a match before the damage is not trusted: a later member could
    // have replaced it.
    assert_eq!(find(&archive, "a"), Err(TarError::BadHeader));
    let mut iter = entries(&archive);
    assert!(iter.next().unwrap().is_ok());
    assert!(iter.next().unwrap().is_err());
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
    // A checksum or size field that is not octal.
    for (at, bytes) in [(148, &b"9"[..]), (148, &[0; 8]), (124, b"0000000009\0\0")] {
        let mut archive = Archive::new().file("a", b"1").finish();
        archive[at..at + bytes.len()].copy_from_slice(bytes);
        if at == 124 {
            build::fix_checksum(&mut archive[..BLOCK_BYTES]);
        }
        assert_eq!(listing(&archive), ["corrupt BadHeader"], "{at}");
    }
}

#[test]
fn signed_checksums_are_accepted() {
    let mut block = Head::new("\u{7f}", b'0', 0).block();
    block[0..3].copy_from_slice(b"\xff\xfe\xfd");
    block[super::header::CHKSUM].fill(b' ');
    let signed: i64 = block.iter().map(|b| i64::from(b.cast_signed())).sum();
    block[super::header::CHKSUM].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    let got = collect(&block);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].unwrap().path.to_string(), "\u{fffd}\u{fffd}\u{fffd}");
}

#[test]
fn truncated_archives() {
    let archive = Archive::new()
        .file("a", &[7; 700])
        .file("b", b"bee")
        .finish();
    assert_eq!(listing(&archive[..100]), ["corrupt Truncated"]);
    assert_eq!(
        listing(&archive[..BLOCK_BYTES + 699]),
        ["corrupt Truncated"]
    );
    // Cut inside the first member's padding: the member is whole.
    assert_eq!(listing(&archive[..BLOCK_BYTES + 700]), ["a"]);
    assert_eq!(
        listing(&archive[..3 * BLOCK_BYTES + 10]),
        ["a", "corrupt Truncated"]
    );
    // No end blocks at all, or a cut inside them: ends cleanly.
    assert_eq!(listing(&archive[..5 * BLOCK_BYTES]), ["a", "b"]);
    assert_eq!(listing(&archive[..5 * BLOCK_BYTES + 3]), ["a", "b"]);
    // Extended headers with no member after them are dropped.
    let archive = Archive::new()
        .file("a", b"1")
        .gnu_long(b'L', b"nothing follows")
        .finish();
    assert_eq!(listing(&archive), ["a"]);
}

#[test]
fn stops_at_the_first_zero_block() {
    let mut archive = Archive::new().file("a", b"1").finish();
    archive.extend_from_slice(&Archive::new().file("after", b"2").finish());
    assert_eq!(listing(&archive), ["a"]);
    assert_eq!(find(&archive, "after"), Err(TarError::NotFound));
}

#[test]
fn messages() {
    for error in [
        TarError::Truncated,
        TarError::BadHeader,
        TarError::NotFound,
        TarError::NotAFile,
        TarError::Unsupported,
    ] {
        assert!(!error.to_string().is_empty());
        assert!(!EntryError::Corrupt(error).to_string().is_empty());
    }
    let skipped = Skipped {
        path: Path::new(b"./x/../y"),
        header_offset: 1024,
        reason: SkipReason::ParentComponent,
    };
    assert_eq!(
        EntryError::Skipped(skipped).to_string(),
        "skipped x/../y (at byte 1024): path has a `..` component"
    );
}

#[test]
fn find_leading_reads_the_first_member_only() {
    let archive = Archive::new()
        .file("bootstrap", b"first")
        .dir("bin")
        .file("bootstrap", b"appended")
        .finish();
    assert_eq!(find_leading(&archive, "bootstrap"), Ok(&b"first"[..]));
    assert_eq!(find_leading(&archive, "./bootstrap"), Ok(&b"first"[..]));
    assert_eq!(find(&archive, "bootstrap"), Ok(&b"appended"[..]));
    assert_eq!(find_leading(&archive, "bin"), Err(TarError::NotFound));
    assert_eq!(
        find_leading(&[0u8; 1024], "bootstrap"),
        Err(TarError::NotFound)
    );
    // What follows the first member is not read: not even a corrupt header.
    let mut cut = archive.clone();
    cut[3 * BLOCK_BYTES] ^= 1;
    assert_eq!(find_leading(&cut, "bootstrap"), Ok(&b"first"[..]));
    assert_eq!(find(&cut, "bootstrap"), Err(TarError::BadHeader));
    // A directory first is not a file.
    let archive = Archive::new().dir("bootstrap").finish();
    assert_eq!(find_leading(&archive, "bootstrap"), Err(TarError::NotAFile));
}

#[test]
fn lookup_many_answers_as_lookup() {
    let archive = Archive::new()
        .file("a", b"1")
        .file("b", b"2")
        .file("a", b"3")
        .finish();
    let mut answers = [Ok(lookup(&archive, "b").unwrap()); 3];
    lookup_many(&archive, &["a", "c", "/b"], &mut answers);
    assert_eq!(answers[0].map(|entry| entry.data), Ok(&b"3"[..]));
    assert_eq!(answers[1], Err(TarError::NotFound));
    assert_eq!(answers[2].map(|entry| entry.data), Ok(&b"2"[..]));
    let mut cut = archive.clone();
    cut[2 * BLOCK_BYTES] ^= 1;
    lookup_many(&cut, &["a", "b"], &mut answers);
    assert_eq!(answers[..2], [Err(TarError::BadHeader); 2]);
}
