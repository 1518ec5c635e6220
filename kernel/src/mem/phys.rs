//! Words of user pages reached through the direct map, for copies between
//! address spaces (IPC buffers).
//!
//! Callers pass physical addresses that `arch::paging::translate_user`
//! returned for a present user page. Every such page is RAM that a memory
//! object (or the boot image) holds, so the direct map covers it. User
//! threads may write the same words concurrently (on another CPU); the
//! accesses are volatile and the values are only ever treated as
//! untrusted data.

use crate::config::DIRECT_MAP_BASE;

/// Reads the aligned word at `phys`.
pub fn read_u64(phys: u64) -> u64 {
    debug_assert!(phys.is_multiple_of(8));
    // SAFETY: `phys` is in a RAM page mapped to user space (module
    // contract), covered by the direct map, and 8-byte aligned; a user
    // page is never a Rust object of the kernel, so no reference aliases it.
    unsafe { core::ptr::read_volatile((DIRECT_MAP_BASE + phys) as *const u64) }
}

/// Writes the aligned word at `phys`.
pub fn write_u64(phys: u64, value: u64) {
    debug_assert!(phys.is_multiple_of(8));
    // SAFETY: as in `read_u64`; the page was translated as writable.
    unsafe { core::ptr::write_volatile((DIRECT_MAP_BASE + phys) as *mut u64, value) }
}
