//! Fuzzes `kcore::tar` with arbitrary bytes as the archive.
//!
//! Beyond "never panics", checks what the reader promises: at most one error
//! and only as the last item, fields within their header sizes, member data
//! inside the input, and `find` returning the first regular file by its path.
//!
//! Random bytes almost never carry a valid header checksum, so each input is
//! also checked a second time with the checksum of every non-zero block
//! rewritten to be valid (headers always start on a block boundary), which
//! lets the fuzzer reach the size, data and path logic.
#![no_main]

use kcore::tar::{self, TarError};
use libfuzzer_sys::fuzz_target;

/// Whether `inner` lies within `outer` (both are borrowed from one input).
fn is_within(inner: &[u8], outer: &[u8]) -> bool {
    let outer_start = outer.as_ptr() as usize;
    let inner_start = inner.as_ptr() as usize;
    inner_start >= outer_start && inner_start + inner.len() <= outer_start + outer.len()
}

/// Size of a tar block.
const BLOCK_BYTES: usize = 512;
/// Byte range of the header checksum field.
const CHKSUM: core::ops::Range<usize> = 148..156;

/// `archive` with a valid checksum in every block that is not all zero.
fn with_valid_checksums(archive: &[u8]) -> Vec<u8> {
    let mut patched = archive.to_vec();
    for block in patched.chunks_exact_mut(BLOCK_BYTES) {
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

/// Reads `archive` every way the kernel can and checks the promises.
fn check(archive: &[u8]) {
    let mut errors = 0;
    let mut first_regular = None;
    let mut iter = tar::entries(archive);
    for result in iter.by_ref() {
        assert_eq!(errors, 0, "an item after an error");
        match result {
            Ok(entry) => {
                assert!(entry.name.len() <= 100);
                assert!(entry.prefix.len() <= 155);
                assert!(!entry.name.contains(&0) && !entry.prefix.contains(&0));
                assert!(is_within(entry.data, archive));
                if first_regular.is_none() && entry.is_regular_file() {
                    first_regular = Some(entry);
                }
            }
            Err(error) => {
                assert_ne!(error, TarError::NotFound);
                errors += 1;
            }
        }
    }
    assert!(iter.next().is_none(), "the iterator is fused");

    // The first regular file is found by its own path, whatever follows it.
    if let Some(entry) = first_regular {
        let mut path = entry.prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(entry.name);
        if let Ok(path) = core::str::from_utf8(&path) {
            assert_eq!(tar::find(archive, path), Ok(entry.data));
        }
    }
    let _ = tar::find(archive, "init");
    let _ = tar::find(archive, "");
}
