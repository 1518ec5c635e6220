//! Properties: no input panics the reader, what it lists lies inside the
//! archive, and [`find`] / [`lookup`] agree with the last duplicate of
//! [`entries`]; and archives built from a model read back as the model.

use super::build::{Archive, Head, fix_checksum};
use super::*;
use proptest::prelude::*;

/// Checks every promise of the reader on `bytes` (which may be anything).
pub fn check_promises(bytes: &[u8]) {
    let items: Vec<_> = entries(bytes).collect();
    let corrupt = items
        .iter()
        .filter(|item| matches!(item, Err(EntryError::Corrupt(_))))
        .count();
    assert!(corrupt <= 1);
    if corrupt == 1 {
        assert!(matches!(items.last(), Some(Err(EntryError::Corrupt(_)))));
    }
    for item in &items {
        match item {
            Ok(entry) => {
                assert!(!entry.path.has_parent_component());
                assert!(entry.kind == Kind::Directory || !entry.path.is_root());
                let range = entry.data_offset..entry.data_offset + entry.data.len();
                assert!(range.end <= bytes.len());
                assert_eq!(bytes[range].as_ptr(), entry.data.as_ptr());
                assert!(entry.header_offset < bytes.len());
                assert!(entry.mode <= 0o7777);
            }
            Err(EntryError::Skipped(skipped)) => {
                assert!(skipped.header_offset < bytes.len());
                let _ = skipped.to_string();
            }
            Err(EntryError::Corrupt(error)) => {
                assert!(matches!(error, TarError::Truncated | TarError::BadHeader));
            }
        }
    }
    let _ = find(bytes, "init");
    let _ = find(bytes, "");
    check_leading(bytes, &items);
    check_many(bytes, &items);
    if corrupt == 1 {
        if let Some(Ok(entry)) = items.first() {
            let path = entry.path.to_string();
            assert!(matches!(
                lookup(bytes, &path),
                Err(TarError::Truncated | TarError::BadHeader)
            ));
        }
        return;
    }
    // `lookup` gives the last item with each path.
    for (index, item) in items.iter().enumerate() {
        let path = match item {
            Ok(entry) => entry.path,
            Err(EntryError::Skipped(skipped)) => skipped.path,
            Err(EntryError::Corrupt(_)) => unreachable!(),
        };
        let mut buffer = [0u8; 4096];
        let Some(text) = path
            .write_to(&mut buffer)
            .and_then(|text| core::str::from_utf8(text).ok())
        else {
            continue;
        };
        let last = items
            .iter()
            .rposition(|other| match other {
                Ok(entry) => entry.path == path,
                Err(EntryError::Skipped(skipped)) => skipped.path == path,
                Err(EntryError::Corrupt(_)) => false,
            })
            .unwrap();
        assert!(last >= index);
        match &items[last] {
            Ok(entry) => {
                assert_eq!(lookup(bytes, text), Ok(*entry));
                if entry.is_regular_file() {
                    assert_eq!(find(bytes, text), Ok(entry.data));
                }
            }
            _ => assert_eq!(lookup(bytes, text), Err(TarError::Unsupported)),
        }
    }
}

/// `find_leading` answers from the first item alone, whatever follows.
fn check_leading(bytes: &[u8], items: &[Result<Entry<'_>, EntryError<'_>>]) {
    let mut buffer = [0u8; 4096];
    let text = |path: Path<'_>, buffer: &mut [u8; 4096]| {
        path.write_to(buffer)
            .and_then(|text| core::str::from_utf8(text).ok())
            .map(String::from)
    };
    match items.first() {
        None => assert_eq!(find_leading(bytes, "init"), Err(TarError::NotFound)),
        Some(Err(EntryError::Corrupt(error))) => {
            assert_eq!(find_leading(bytes, "init"), Err(*error));
        }
        Some(Ok(entry)) => {
            if let Some(path) = text(entry.path, &mut buffer) {
                let want = if entry.is_regular_file() {
                    Ok(entry.data)
                } else {
                    Err(TarError::NotAFile)
                };
                assert_eq!(find_leading(bytes, &path), want);
                let other = format!("{path}/not-here");
                assert_eq!(find_leading(bytes, &other), Err(TarError::NotFound));
            }
        }
        Some(Err(EntryError::Skipped(skipped))) => {
            if let Some(path) = text(skipped.path, &mut buffer) {
                assert_eq!(find_leading(bytes, &path), Err(TarError::Unsupported));
            }
        }
    }
}

/// `lookup_many` answers every path as `lookup` does, in one pass.
fn check_many(bytes: &[u8], items: &[Result<Entry<'_>, EntryError<'_>>]) {
    let mut paths: Vec<String> = vec!["init".into(), String::new()];
    for item in items {
        let path = match item {
            Ok(entry) => entry.path,
            Err(EntryError::Skipped(skipped)) => skipped.path,
            Err(EntryError::Corrupt(_)) => continue,
        };
        let mut buffer = [0u8; 4096];
        if let Some(text) = path
            .write_to(&mut buffer)
            .and_then(|text| core::str::from_utf8(text).ok())
        {
            paths.push(text.into());
        }
    }
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    // One answer more than paths: it must be left alone.
    let mut answers = vec![Err(TarError::Truncated); paths.len() + 1];
    lookup_many(bytes, &paths, &mut answers);
    for (path, answer) in paths.iter().zip(&answers) {
        assert_eq!(*answer, lookup(bytes, path), "{path}");
    }
    assert_eq!(answers.last(), Some(&Err(TarError::Truncated)));
}

/// One member of a generated archive.
#[derive(Clone, Debug)]
enum Op {
    /// A regular file with a name written plainly, by `L` record or by pax.
    File(String, Spelling, Vec<u8>),
    /// A directory.
    Dir(String),
    /// A symbolic link.
    Symlink(String, String),
    /// A hard link to the path of an earlier op (by index, modulo).
    HardLink(String, usize),
    /// A GNU sparse file of this many segments.
    Sparse(String, usize),
}

/// How a generated file's name is written.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    Plain,
    GnuLong,
    Pax,
}

/// Short names from a small alphabet (so duplicates are common), or long
/// ones.
fn name() -> impl Strategy<Value = String> {
    let short = proptest::collection::vec("[ab]{1,2}", 1..4).prop_map(|parts| parts.join("/"));
    prop_oneof![
        3 => short.clone(),
        1 => short.prop_map(|name| format!("{}/{name}", "long".repeat(40))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let spelling = prop_oneof![
        Just(Spelling::Plain),
        Just(Spelling::GnuLong),
        Just(Spelling::Pax)
    ];
    prop_oneof![
        4 => (name(), spelling, proptest::collection::vec(any::<u8>(), 0..1100))
            .prop_map(|(name, spelling, data)| Op::File(name, spelling, data)),
        1 => name().prop_map(Op::Dir),
        1 => (name(), name()).prop_map(|(name, target)| Op::Symlink(name, target)),
        1 => (name(), any::<usize>()).prop_map(|(name, to)| Op::HardLink(name, to)),
        1 => (name(), 1usize..40).prop_map(|(name, segments)| Op::Sparse(name, segments)),
    ]
}

/// Writes `ops`; a plain name too long for the header goes by pax.
fn build(ops: &[Op]) -> Vec<u8> {
    let mut archive = Archive::new();
    for (index, op) in ops.iter().enumerate() {
        match op {
            Op::File(name, spelling, data) => {
                let spelling = match spelling {
                    Spelling::Plain if name.len() >= 100 => Spelling::Pax,
                    other => *other,
                };
                match spelling {
                    Spelling::Plain => archive.file(name, data),
                    Spelling::GnuLong => archive.gnu_long(b'L', name.as_bytes()).file("x", data),
                    Spelling::Pax => archive
                        .pax(b'x', &[("path", name.as_bytes())])
                        .file("y", data),
                };
            }
            Op::Dir(name) => {
                archive.pax(b'x', &[("path", name.as_bytes())]).dir("d");
            }
            Op::Symlink(name, target) => {
                archive
                    .pax(
                        b'x',
                        &[("path", name.as_bytes()), ("linkpath", target.as_bytes())],
                    )
                    .link("s", b'2', "");
            }
            Op::HardLink(name, to) => {
                let target = match ops.get(to % (index + 1)) {
                    Some(Op::File(target, ..) | Op::Dir(target) | Op::Symlink(target, _)) => {
                        target.clone()
                    }
                    Some(Op::HardLink(target, _) | Op::Sparse(target, _)) => target.clone(),
                    None => String::new(),
                };
                archive
                    .pax(
                        b'x',
                        &[("path", name.as_bytes()), ("linkpath", target.as_bytes())],
                    )
                    .link("h", b'1', "");
            }
            Op::Sparse(name, segments) => {
                archive.gnu_long(b'L', name.as_bytes());
                archive.gnu_sparse("z", *segments, 100, b's');
            }
        }
    }
    archive.finish()
}

/// The path each op's member has.
fn op_path(op: &Op) -> &str {
    match op {
        Op::File(name, ..)
        | Op::Dir(name)
        | Op::Symlink(name, _)
        | Op::HardLink(name, _)
        | Op::Sparse(name, _) => name,
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        check_promises(&bytes);
    }

    #[test]
    fn random_headers_with_valid_checksums_never_panic(
        mut block in proptest::collection::vec(any::<u8>(), BLOCK_BYTES),
        typeflag in prop_oneof![
            Just(b'0'), Just(b'1'), Just(b'2'), Just(b'5'), Just(b'x'), Just(b'g'),
            Just(b'L'), Just(b'K'), Just(b'S'), any::<u8>(),
        ],
        size in prop_oneof![
            proptest::collection::vec(
                prop_oneof![Just(b'0'), Just(b'1'), Just(b' '), Just(0u8), any::<u8>()],
                12,
            ),
            Just(b"00000001000\0".to_vec()),
            Just(b"77777777777\0".to_vec()),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        block[156] = typeflag;
        block[124..136].copy_from_slice(&size);
        fix_checksum(&mut block);
        block.extend_from_slice(&tail);
        check_promises(&block);
    }

    #[test]
    fn mutated_archives_never_panic(
        ops in proptest::collection::vec(op(), 0..6),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        refix in any::<bool>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut archive = build(&ops);
        for (at, value) in edits {
            let at = at.index(archive.len());
            archive[at] = value;
        }
        if refix {
            for block in archive.chunks_exact_mut(BLOCK_BYTES) {
                if block.iter().any(|byte| *byte != 0) {
                    fix_checksum(block);
                }
            }
        }
        check_promises(&archive);
        let cut = cut.index(archive.len() + 1);
        check_promises(&archive[..cut]);
    }

    #[test]
    fn generated_archives_read_back(ops in proptest::collection::vec(op(), 0..8)) {
        let archive = build(&ops);
        check_promises(&archive);
        let items: Vec<_> = entries(&archive).collect();
        prop_assert_eq!(items.len(), ops.len());
        for (item, op) in items.iter().zip(&ops) {
            let path = match item {
                Ok(entry) => entry.path,
                Err(EntryError::Skipped(skipped)) => skipped.path,
                Err(EntryError::Corrupt(error)) => panic!("{error}"),
            };
            prop_assert!(path.matches(op_path(op)));
            match (op, item) {
                (Op::File(_, _, data), Ok(entry)) => {
                    prop_assert_eq!(entry.kind, Kind::File);
                    prop_assert_eq!(entry.data, &data[..]);
                }
                (Op::Dir(_), Ok(entry)) => prop_assert_eq!(entry.kind, Kind::Directory),
                (Op::Symlink(_, target), Ok(entry)) => prop_assert_eq!(
                    entry.kind,
                    Kind::Symlink { target: target.as_bytes() }
                ),
                (Op::HardLink(..), _) => {}
                (Op::Sparse(..), Err(EntryError::Skipped(skipped))) => {
                    prop_assert_eq!(skipped.reason, SkipReason::Sparse);
                }
                (op, item) => panic!("{op:?} read as {item:?}"),
            }
        }
    }

    #[test]
    fn ustar_names_split_at_any_slash(
        parts in proptest::collection::vec("[a-z]{1,40}", 2..12),
        split in any::<prop::sample::Index>(),
    ) {
        let at = split.index(parts.len() - 1) + 1;
        let prefix = parts[..at].join("/");
        let name = parts[at..].join("/");
        prop_assume!(prefix.len() <= 155 && name.len() <= 100);
        let mut head = Head::new(&name, b'0', 2);
        head.prefix = prefix.into_bytes();
        let archive = Archive::new().raw(&head, b"ok").finish();
        prop_assert_eq!(find(&archive, &parts.join("/")), Ok(&b"ok"[..]));
    }
}
