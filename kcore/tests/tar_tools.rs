//! `kcore::tar` against archives written by real tools: GNU tar in each
//! `--format` (gnu, oldgnu, ustar, posix with each sparse version, v7),
//! Python's `tarfile` (GNU, USTAR and PAX formats, with a pax global
//! header), bsdtar (pax, restricted pax, ustar, gnutar, v7) and busybox tar.
//!
//! Each test builds a tree in a temporary directory (long names past 100,
//! 155 and 256 bytes, deep directories, symbolic and hard links, an empty
//! file, a file whose contents are a tar archive, a named pipe, a sparse
//! file with many holes), archives it with the tool, appends a newer copy of
//! one file where the tool can, and compares what the reader lists (path,
//! kind, size, link target, mode, owner) with what GNU `tar -tv` lists, and
//! every regular file's data with the file on disk.
//!
//! A tool that is not installed is reported loudly on stderr and its live
//! test is skipped; the fixtures in `kcore/tests/tar/` (made once by
//! `make-fixtures.sh`, with their `tar -tv` listings beside them) cover
//! bsdtar and busybox whatever is installed.

#[path = "tar/listing.rs"]
mod listing;

use std::path::{Path, PathBuf};
use std::process::Command;

use kcore::tar::{self, EntryError, Kind, SkipReason};
use listing::{Row, rows_from_listing};

/// Says loudly that `tool` is missing.
fn missing(tool: &str) {
    eprintln!();
    eprintln!("*** {tool} is not installed: its live archives are NOT tested here ***");
    eprintln!("*** (bsdtar and busybox are still covered by kcore/tests/tar/ fixtures) ***");
    eprintln!();
}

/// Whether `tool` runs.
fn have(tool: &str, probe: &[&str]) -> bool {
    let found = Command::new(tool)
        .args(probe)
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        missing(tool);
    }
    found
}

/// Whether GNU tar is there: it lists every archive the live tests make.
fn have_gnu_tar() -> bool {
    let found = Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("GNU tar"));
    if !found {
        missing("GNU tar");
    }
    found
}

/// Runs a command and insists that it ran; its exit status is returned
/// (tar exits 2 after leaving out a name its format cannot hold).
fn run(command: &mut Command) -> bool {
    let output = command.output().expect("command runs");
    if !output.status.success() {
        eprintln!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    output.status.success()
}

/// A fresh temporary directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kcore-tar-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The name of the sparse file in the tree (first in name order, so that
/// everything after it must still be read).
const SPARSE: &str = "0-sparse";

/// Makes the test tree under `root/tree` and returns that directory.
fn make_tree(root: &Path) -> PathBuf {
    let tree = root.join("tree");
    let write = |path: &str, data: &[u8]| {
        let file = tree.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, data).unwrap();
    };
    write("short.txt", b"short\n");
    write("empty", b"");
    write("deep/a/b/c/d/e/f/g/h/i/j/k/file.txt", b"deep\n");
    // 111 bytes (fits ustar prefix + name), 170, and 300.
    let long_111 = format!("{}/{}", "p".repeat(60), "f".repeat(50));
    let long_170 = format!("{}/{}/file-170", "q".repeat(80), "r".repeat(80));
    let long_300 = format!("{}/file-300.txt", vec!["s".repeat(70); 4].join("/"));
    let long_leaf = format!("leaf/{}", "l".repeat(120));
    for path in [&long_111, &long_170, &long_300, &long_leaf] {
        write(path, format!("{path}\n").as_bytes());
    }
    let mut big = Vec::new();
    for index in 0..3000u32 {
        big.extend_from_slice(&index.to_le_bytes());
    }
    write("big.bin", &big);
    // A file whose contents are a tar archive: its members must not show.
    let inner = root.join("inner");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("PHANTOM-MEMBER"), b"phantom").unwrap();
    let nested = Command::new("tar")
        .args(["--format=ustar", "-cf", "-", "-C"])
        .arg(&inner)
        .arg("PHANTOM-MEMBER")
        .output()
        .unwrap();
    write("archive-inside.tar", &nested.stdout);
    // Links, one with a long target and one with a long name.
    std::os::unix::fs::symlink("short.txt", tree.join("link-short")).unwrap();
    std::os::unix::fs::symlink(&long_300, tree.join("link-long")).unwrap();
    std::fs::hard_link(tree.join("short.txt"), tree.join("hard-short")).unwrap();
    std::fs::hard_link(tree.join("big.bin"), tree.join(format!("{long_170}-hard"))).unwrap();
    run(Command::new("mkfifo").arg(tree.join("pipe")));
    // Sparse: 40 data runs separated by 64 KiB holes.
    let file = std::fs::File::create(tree.join(SPARSE)).unwrap();
    file.set_len(41 * 65536).unwrap();
    for run_index in 0..40u64 {
        use std::os::unix::fs::FileExt;
        file.write_all_at(b"data", run_index * 65536 + 1000)
            .unwrap();
    }
    write("dup.txt", b"first version\n");
    tree
}

/// Rewrites `dup.txt` so that an appended copy differs from the first.
fn change_dup(tree: &Path) {
    std::fs::write(tree.join("dup.txt"), b"second version, longer\n").unwrap();
}

/// `tar -tv` of `archive` by GNU tar, as rows.
fn gnu_listing(archive: &Path) -> Vec<Row> {
    let output = Command::new("tar")
        .args(["--numeric-owner", "-tvf"])
        .arg(archive)
        .output()
        .expect("GNU tar lists archives");
    rows_from_listing(&String::from_utf8_lossy(&output.stdout))
}

/// The reader's rows for `archive`.
fn reader_rows(archive: &[u8]) -> Vec<Row> {
    tar::entries(archive)
        .map(|item| match item {
            Ok(entry) => Row::from_entry(&entry),
            Err(EntryError::Skipped(skipped)) if skipped.reason == SkipReason::Sparse => {
                Row::sparse(skipped.path.to_string())
            }
            Err(error) => Row::other(format!("{error}")),
        })
        .collect()
}

/// Compares the reader with GNU tar's listing of `archive`, and each
/// regular file it finds with the file under `tree` (if given). Members in
/// `sparse` are expected to be skipped as sparse.
fn compare(label: &str, archive_path: &Path, tree: Option<&Path>, sparse: bool) {
    let archive = std::fs::read(archive_path).unwrap();
    let mut expected = gnu_listing(archive_path);
    assert!(expected.len() > 3, "{label}: GNU tar lists too little");
    if sparse {
        let row = expected.iter_mut().find(|row| row.path == SPARSE);
        let row = row.unwrap_or_else(|| panic!("{label}: no {SPARSE} in the archive"));
        *row = Row::sparse(SPARSE.to_string());
    }
    listing::resolve_hard_link_sizes(&mut expected);
    let got = reader_rows(&archive);
    for (index, (want, have)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(want, have, "{label}: member {index}");
    }
    assert_eq!(expected.len(), got.len(), "{label}: member count");
    let Some(tree) = tree else { return };
    // Each path's last member has the data the file has now.
    for entry in tar::entries(&archive).flatten() {
        if !entry.is_regular_file() {
            continue;
        }
        let path = entry.path.to_string();
        let on_disk = std::fs::read(tree.join(&path)).unwrap();
        assert_eq!(
            tar::find(&archive, &path),
            Ok(&on_disk[..]),
            "{label}: {path}"
        );
        if let Kind::HardLink { target } = entry.kind {
            assert!(tar::lookup(&archive, &target.to_string()).is_ok());
        }
    }
    let dup = tar::find(&archive, "dup.txt");
    assert_eq!(
        dup,
        Ok(&b"second version, longer\n"[..]),
        "{label}: dup.txt"
    );
    assert!(
        tar::entries(&archive)
            .flatten()
            .all(|e| !e.path.to_string().contains("PHANTOM")),
        "{label}: a phantom member"
    );
}

#[test]
fn gnu_tar_every_format() {
    if !have_gnu_tar() {
        return;
    }
    let root = scratch("gnu");
    let tree = make_tree(&root);
    let formats: &[(&str, &[&str], bool)] = &[
        ("gnu", &["--format=gnu", "--sparse"], true),
        ("oldgnu", &["--format=oldgnu", "--sparse"], true),
        ("gnu-dense", &["--format=gnu"], false),
        ("ustar", &["--format=ustar"], false),
        ("v7", &["--format=v7"], false),
        ("posix", &["--format=posix", "--sparse"], true),
        (
            "posix-0.0",
            &["--format=posix", "--sparse", "--sparse-version=0.0"],
            true,
        ),
        (
            "posix-0.1",
            &["--format=posix", "--sparse", "--sparse-version=0.1"],
            true,
        ),
        (
            "posix-1.0",
            &["--format=posix", "--sparse", "--sparse-version=1.0"],
            true,
        ),
        (
            "posix-global",
            &["--format=posix", "--pax-option=comment=global,uid=4242"],
            false,
        ),
    ];
    for (label, options, sparse) in formats {
        std::fs::write(tree.join("dup.txt"), b"first version\n").unwrap();
        let archive = root.join(format!("{label}.tar"));
        // ustar and v7 leave out what they cannot hold, and say so.
        run(Command::new("tar")
            .args(*options)
            .args(["--sort=name", "-cf"])
            .arg(&archive)
            .arg("-C")
            .arg(&tree)
            .arg("."));
        change_dup(&tree);
        // GNU tar cannot append after a global header it wrote itself.
        let format = options
            .iter()
            .filter(|option| !option.starts_with("--pax-option"));
        assert!(run(Command::new("tar")
            .args(format)
            .arg("-rf")
            .arg(&archive)
            .arg("-C")
            .arg(&tree)
            .arg("./dup.txt")));
        compare(label, &archive, Some(&tree), *sparse);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Python's `tarfile` writing the tree one member at a time (so that a
/// name a format cannot hold is left out, not the rest), then appending.
const PYTHON_WRITER: &str = r#"
import os, sys, tarfile
fmt = {"gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT, "pax": tarfile.PAX_FORMAT}[sys.argv[1]]
tree, out, mode = sys.argv[2], sys.argv[3], sys.argv[4]
extra = {"comment": "global", "uid": "4242"} if sys.argv[1] == "pax" and mode == "w" else {}
with tarfile.open(out, mode, format=fmt, pax_headers=extra) as archive:
    names = []
    if mode == "w":
        for top, dirs, files in os.walk(tree):
            dirs.sort()
            names.append(top)
            names.extend(sorted(os.path.join(top, f) for f in files))
    else:
        names = [os.path.join(tree, "dup.txt")]
    for name in names:
        try:
            archive.add(name, arcname=os.path.relpath(name, tree), recursive=False)
        except ValueError as error:
            print("left out", name, error, file=sys.stderr)
"#;

#[test]
fn python_tarfile_formats() {
    if !have_gnu_tar() || !have("python3", &["--version"]) {
        return;
    }
    let root = scratch("python");
    let tree = make_tree(&root);
    for format in ["gnu", "ustar", "pax"] {
        std::fs::write(tree.join("dup.txt"), b"first version\n").unwrap();
        let archive = root.join(format!("python-{format}.tar"));
        for mode in ["w", "a"] {
            assert!(run(Command::new("python3")
                .args(["-c", PYTHON_WRITER, format])
                .arg(&tree)
                .arg(&archive)
                .arg(mode)));
            change_dup(&tree);
        }
        compare(&format!("python {format}"), &archive, Some(&tree), false);
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bsdtar_formats() {
    if !have_gnu_tar() || !have("bsdtar", &["--version"]) {
        return;
    }
    let root = scratch("bsdtar");
    let tree = make_tree(&root);
    // libarchive writes holes as pax GNU.sparse 1.0 in the pax formats.
    for (format, sparse) in [
        ("pax", true),
        ("paxr", true),
        ("ustar", false),
        ("gnutar", false),
        ("v7", false),
    ] {
        std::fs::write(tree.join("dup.txt"), b"first version\n").unwrap();
        let archive = root.join(format!("bsdtar-{format}.tar"));
        run(Command::new("bsdtar")
            .arg(format!("--format={format}"))
            .arg("-cf")
            .arg(&archive)
            .arg("-C")
            .arg(&tree)
            .arg("."));
        change_dup(&tree);
        run(Command::new("bsdtar")
            .arg(format!("--format={format}"))
            .arg("-rf")
            .arg(&archive)
            .arg("-C")
            .arg(&tree)
            .arg("dup.txt"));
        compare(&format!("bsdtar {format}"), &archive, Some(&tree), sparse);
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn busybox_tar() {
    if !have_gnu_tar() || !have("busybox", &["tar", "--help"]) {
        return;
    }
    let root = scratch("busybox");
    let tree = make_tree(&root);
    change_dup(&tree);
    let archive = root.join("busybox.tar");
    run(Command::new("busybox")
        .args(["tar", "-cf"])
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .arg("."));
    // busybox tar cannot append; the duplicate is tested elsewhere.
    compare("busybox", &archive, Some(&tree), false);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn checked_in_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tar");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "tar") {
            continue;
        }
        let label = path.file_name().unwrap().to_string_lossy().to_string();
        let archive = std::fs::read(&path).unwrap();
        let listing = std::fs::read_to_string(path.with_extension("tv")).unwrap();
        let mut expected = rows_from_listing(&listing);
        for row in &mut expected {
            if row.path == SPARSE {
                *row = Row::sparse(SPARSE.to_string());
            }
        }
        listing::resolve_hard_link_sizes(&mut expected);
        assert_eq!(reader_rows(&archive), expected, "{label}");
        // Regular files hold their own path and a newline.
        for entry in tar::entries(&archive).flatten() {
            let path = entry.path.to_string();
            if entry.is_regular_file() && path.ends_with(".txt") && path != "dup.txt" {
                let wanted = format!("{path}\n");
                assert_eq!(entry.data, wanted.as_bytes(), "{label}: {path}");
            }
        }
        if label.contains("append") {
            assert_eq!(tar::find(&archive, "dup.txt"), Ok(&b"second\n"[..]));
        }
        count += 1;
    }
    assert!(count >= 5, "fixtures missing from {}", dir.display());
}
