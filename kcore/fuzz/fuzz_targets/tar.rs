//! Fuzzes `kcore::tar` with arbitrary bytes as the archive.
//!
//! Beyond "never panics", checks what the reader promises: at most one
//! `Corrupt` item and only as the last; every entry's path free of `..` and
//! empty only for a directory; every entry's data range (`data_offset` and
//! the data's length) inside the input and equal to the data slice; and
//! `lookup` / `find` giving the last item with each path, as extracting the
//! archive would leave it.
//!
//! Random bytes almost never carry a valid header checksum, so each input is
//! also checked a second time with the checksum of every non-zero block
//! rewritten to be valid (headers always start on a block boundary), which
//! lets the fuzzer reach the size, extended-header, sparse, link and path
//! logic.
#![no_main]

use kcore::tar::{self, EntryError, Kind, TarError};
use libfuzzer_sys::fuzz_target;

/// Byte range of the header checksum field.
const CHKSUM: core::ops::Range<usize> = 148..156;

/// `archive` with a valid checksum in every block that is not all zero.
fn with_valid_checksums(archive: &[u8]) -> Vec<u8> {
    let mut patched = archive.to_vec();
    for block in patched.chunks_exact_mut(tar::BLOCK_BYTES) {
        if block.iter().all(|byte| *byte == 0) {
            continue;
        }
        block[CHKSUM].fill(b' ');
        let sum: u32 = block.iter().map(|byte| u32::from(*byte)).sum();
        block[CHKSUM].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }
    patched
}

fuzz_target!(|archive: &[u8]| {
    check(archive);
    check(&with_valid_checksums(archive));
});

/// Reads `archive` every way the callers can and checks the promises.
fn check(archive: &[u8]) {
    let mut iter = tar::entries(archive);
    let items: Vec<_> = iter.by_ref().collect();
    assert!(iter.next().is_none(), "the iterator is fused");
    let corrupt = items
        .iter()
        .position(|item| matches!(item, Err(EntryError::Corrupt(_))));
    if let Some(at) = corrupt {
        assert_eq!(at + 1, items.len(), "an item after a corrupt header");
    }
    for item in &items {
        match item {
            Ok(entry) => {
                assert!(!entry.path.has_parent_component());
                assert!(entry.kind == Kind::Directory || !entry.path.is_root());
                let end = entry.data_offset + entry.data.len();
                let range = archive.get(entry.data_offset..end).expect("data inside");
                assert_eq!(range.as_ptr(), entry.data.as_ptr());
                assert!(entry.header_offset < archive.len());
            }
            Err(EntryError::Skipped(skipped)) => {
                assert!(skipped.header_offset < archive.len());
            }
            Err(EntryError::Corrupt(error)) => {
                assert!(matches!(error, TarError::Truncated | TarError::BadHeader));
            }
        }
    }
    let _ = tar::find(archive, "init");
    let _ = tar::find(archive, "");
    if corrupt.is_some() {
        return;
    }
    // The last item with each path is what lookup gives.
    for item in &items {
        let path = match item {
            Ok(entry) => entry.path,
            Err(EntryError::Skipped(skipped)) => skipped.path,
            Err(EntryError::Corrupt(_)) => continue,
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
            .rev()
            .find(|other| match other {
                Ok(entry) => entry.path == path,
                Err(EntryError::Skipped(skipped)) => skipped.path == path,
                Err(EntryError::Corrupt(_)) => false,
            })
            .expect("the item itself");
        match last {
            Ok(entry) => {
                assert_eq!(tar::lookup(archive, text), Ok(*entry));
                if entry.is_regular_file() {
                    assert_eq!(tar::find(archive, text), Ok(entry.data));
                } else {
                    assert_eq!(tar::find(archive, text), Err(TarError::NotAFile));
                }
            }
            Err(_) => assert_eq!(tar::lookup(archive, text), Err(TarError::Unsupported)),
        }
    }
}
