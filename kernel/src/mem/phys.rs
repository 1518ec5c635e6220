//! Words of user pages reached through the direct map, for copies between
//! address spaces (IPC buffers).
//!
//! Callers pass physical addresses that `arch::paging::translate_user`
//! returned for a present user page, or of a fresh user page about to be
//! stored in a memory object. Every such page is RAM that a memory
//! object (or the boot image) holds, so the direct map covers it. User
//! threads may write the same words concurrently (on another CPU); the
//! accesses are volatile and the values are only ever treated as
//! untrusted data.

use crate::config::DIRECT_MAP_BASE;

/// The direct-map address of `phys`. Physical addresses are below the
/// direct map's size (module contract), so the sum cannot wrap.
#[inline(always)]
fn virt(phys: u64) -> u64 {
    DIRECT_MAP_BASE.wrapping_add(phys)
}

/// Reads the aligned word at `phys`.
pub fn read_u64(phys: u64) -> u64 {
    debug_assert!(phys.is_multiple_of(8));
    // SAFETY: `phys` is in a RAM page mapped to user space (module
    // contract), covered by the direct map, and 8-byte aligned; a user
    // page is never a Rust object of the kernel, so no reference aliases it.
    unsafe { core::ptr::read_volatile(virt(phys) as *const u64) }
}

/// Writes the aligned word at `phys`.
pub fn write_u64(phys: u64, value: u64) {
    debug_assert!(phys.is_multiple_of(8));
    // SAFETY: as in `read_u64`; the page was translated as writable.
    unsafe { core::ptr::write_volatile(virt(phys) as *mut u64, value) }
}

/// Whether `len` bytes (at most a page) from `phys` stay inside its page.
/// For debug assertions: the offset is below 4096, so the sum cannot wrap.
fn fits_in_page(phys: u64, len: u64) -> bool {
    (phys % 4096).wrapping_add(len) <= 4096
}

/// Copies the `count` aligned words at `src` to `dst` (IPC buffer words:
/// each range inside one user page, the two in different pages or the
/// same range).
#[inline(always)]
pub fn copy_words(dst: u64, src: u64, count: usize) {
    debug_assert!(dst.is_multiple_of(8) && src.is_multiple_of(8));
    // A page holds 512 words, so the byte count below cannot wrap.
    debug_assert!(count <= 512);
    debug_assert!({
        let bytes = (count as u64).wrapping_mul(8);
        fits_in_page(dst, bytes) && fits_in_page(src, bytes)
    });
    let src = virt(src) as *const u64;
    let dst = virt(dst) as *mut u64;
    for i in 0..count {
        // SAFETY: as in `read_u64` and `write_u64`, for each word of the
        // two ranges, which lie in single user pages (`dst` translated as
        // writable); a word is read before it is written, so even the same
        // range copies correctly.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
}

/// Copies the 4 KiB page at `src` to the page at `dst`.
pub fn copy_page(dst: u64, src: u64) {
    debug_assert!(dst.is_multiple_of(4096) && src.is_multiple_of(4096) && dst != src);
    // SAFETY: both are RAM pages (a fresh frame for `dst`, a user page
    // held by a memory object for `src`), distinct, page-aligned and in the
    // direct map. Only `dst` is written, and nothing else refers to it yet.
    unsafe { core::ptr::copy_nonoverlapping(virt(src) as *const u64, virt(dst) as *mut u64, 512) }
}

/// Copies `len` bytes from physical `src` to physical `dst`, both inside
/// one page each.
pub fn copy_bytes(dst: u64, src: u64, len: u64) {
    debug_assert!(len <= 4096 && fits_in_page(dst, len) && fits_in_page(src, len));
    // SAFETY: both ranges lie in single RAM pages in the direct map (a
    // fresh page for `dst`, a mapped user page for `src`), so they do not
    // overlap; only `dst`, which nothing else refers to yet, is written.
    unsafe {
        core::ptr::copy_nonoverlapping(virt(src) as *const u8, virt(dst) as *mut u8, len as usize)
    }
}

/// Copies `bytes` (at most a page) to the start of the page at `dst`.
pub fn copy_in(dst: u64, bytes: &[u8]) {
    debug_assert!(dst.is_multiple_of(4096) && bytes.len() <= 4096);
    // SAFETY: `dst` is a fresh RAM page in the direct map that nothing
    // else refers to yet; `bytes` fits in it and is a kernel slice.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), virt(dst) as *mut u8, bytes.len()) }
}

/// Copies `len` bytes from physical `src` to physical `dst`, each range
/// inside one user page (the bytes of a message: `crate::ipc_bytes`), with
/// `rep movsb` as usercopy does. The two may be the same page (a thread
/// sending to its own address space): then the bytes copied may overlap,
/// and the result is the copy's, byte by byte forward, as for any user
/// `memcpy` on overlapping ranges.
pub fn copy_span(dst: u64, src: u64, len: u64) {
    debug_assert!(len <= 4096 && fits_in_page(dst, len) && fits_in_page(src, len));
    // SAFETY: both ranges lie in single RAM pages of user memory in the
    // direct map (module contract), `dst` translated as writable; user
    // pages are never Rust objects of the kernel. `rep movsb` copies byte
    // by byte forward, so overlapping ranges give a defined (if mixed)
    // result rather than anything undefined.
    unsafe {
        crate::arch::usercopy::copy_direct(
            virt(dst) as *mut u8,
            virt(src) as *const u8,
            len as usize,
        );
    }
}

/// Zeroes the 4 KiB page at `dst`.
pub fn zero_page(dst: u64) {
    debug_assert!(dst.is_multiple_of(4096));
    // SAFETY: `dst` is a fresh RAM page in the direct map that nothing
    // else refers to yet (not yet stored in any object or mapped).
    unsafe { core::ptr::write_bytes(virt(dst) as *mut u64, 0, 512) }
}
