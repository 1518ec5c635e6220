//! Fuzzes `abi::boot::FlatImageHeader::parse` with arbitrary bytes as the
//! image.
//!
//! Beyond "never panics", checks that it accepts exactly the images its
//! documentation describes (a model computed in `u128`), and that an accepted
//! image keeps its promises: the entry point inside the loaded data and the
//! executable part, `mem_bytes >= file_bytes`, page-multiple `exec_bytes` and
//! `stack_bytes`, and data of exactly `file_bytes` from `header_bytes` on.
//!
//! Random bytes almost never start with the magic, version, header size and
//! load address, so each input is also checked a second time behind a valid
//! copy of those first 24 bytes, which lets the fuzzer reach the size, entry
//! and W^X checks.
#![no_main]

use abi::boot::{
    FLAT_MAGIC, FLAT_MAX_HEADER_BYTES, FLAT_MAX_MEM_BYTES, FLAT_MAX_STACK_BYTES, FLAT_VERSION,
    FlatImageHeader,
};
use abi::layout::{IMAGE_BASE, PAGE_BYTES};
use libfuzzer_sys::fuzz_target;

/// Size of the header; the data follows it after `header_bytes` of header
/// and padding.
const HEADER_BYTES: usize = 64;

/// Reads a header from its documented layout (little-endian fields in
/// declaration order); `None` if `image` is shorter than a header.
fn read_header(image: &[u8]) -> Option<FlatImageHeader> {
    let bytes = image.get(..HEADER_BYTES)?;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    Some(FlatImageHeader {
        magic: bytes[..8].try_into().unwrap(),
        version: u32_at(8),
        header_bytes: u32_at(12),
        load_addr: u64_at(16),
        entry: u64_at(24),
        file_bytes: u64_at(32),
        mem_bytes: u64_at(40),
        stack_bytes: u64_at(48),
        exec_bytes: u64_at(56),
    })
}

/// Whether the documentation of [`FlatImageHeader`] calls `image` loadable,
/// computed in `u128` so that nothing can overflow.
fn loadable(image: &[u8]) -> bool {
    let Some(h) = read_header(image) else {
        return false;
    };
    let page = u128::from(PAGE_BYTES);
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    let file = u128::from(h.file_bytes);
    let mem = u128::from(h.mem_bytes);
    let exec = u128::from(h.exec_bytes);
    let stack = u128::from(h.stack_bytes);
    h.magic == FLAT_MAGIC
        && h.version == FLAT_VERSION
        && h.header_bytes as usize >= HEADER_BYTES
        && h.header_bytes <= FLAT_MAX_HEADER_BYTES
        && h.load_addr == IMAGE_BASE
        && u128::from(h.header_bytes) + file <= image.len() as u128
        && file <= mem
        && mem <= u128::from(FLAT_MAX_MEM_BYTES)
        && load <= entry
        && entry < load + file
        && entry < load + exec
        && exec % page == 0
        && exec <= mem
        && stack != 0
        && stack % page == 0
        && stack <= u128::from(FLAT_MAX_STACK_BYTES)
}

/// `image` behind a valid magic, version, header size and load address.
fn with_valid_prefix(image: &[u8]) -> Vec<u8> {
    let mut patched = Vec::with_capacity(24 + image.len());
    patched.extend_from_slice(&FLAT_MAGIC);
    patched.extend_from_slice(&FLAT_VERSION.to_le_bytes());
    patched.extend_from_slice(&(HEADER_BYTES as u32).to_le_bytes());
    patched.extend_from_slice(&IMAGE_BASE.to_le_bytes());
    patched.extend_from_slice(image);
    patched
}

fuzz_target!(|image: &[u8]| {
    check(image);
    check(&with_valid_prefix(image));
});

/// Parses `image` and checks the outcome against the documentation.
fn check(image: &[u8]) {
    let result = FlatImageHeader::parse(image);
    assert_eq!(result.is_ok(), loadable(image), "{result:?}");
    let Ok((h, data)) = result else {
        return;
    };
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    assert_eq!(Some(h), read_header(image));
    assert!(load <= entry && entry < load + u128::from(h.file_bytes));
    assert!(entry < load + u128::from(h.exec_bytes));
    assert!(h.mem_bytes >= h.file_bytes);
    assert!(h.mem_bytes >= h.exec_bytes);
    assert_eq!(h.exec_bytes % PAGE_BYTES, 0);
    assert_eq!(h.stack_bytes % PAGE_BYTES, 0);
    assert_eq!(data.len() as u64, h.file_bytes);
    assert_eq!(data.as_ptr(), image[h.header_bytes as usize..].as_ptr());
}
