//! Shared memory: a memory object mapped read-write in this address space
//! while another program maps it too, seen as a slice of [`AtomicU32`].
//!
//! The other side may write any byte at any moment, so this program never
//! makes a Rust reference to plain data in the region, nor a non-atomic
//! access: every access is a 4-byte atomic on an aligned word, and every
//! access has the same size, so no two accesses of different sizes ever
//! meet on one byte. [`SharedRegion::words`] gives the region as
//! `&[AtomicU32]`, which safe code (the `ring` crate) reads and writes,
//! and whose words are futex words ([`crate::sys::futex_wait`] keys a futex
//! by physical address, so both sides wait on and wake the same word).
//!
//! A region made by [`SharedRegion::map`] owns its mapping: the kernel
//! only maps a range where no region is, so nothing else of the program
//! lives there, and dropping the region unmaps it. This is the only
//! `unsafe` of the module: viewing that range as a slice.

use core::sync::atomic::AtomicU32;

use abi::layout::PAGE_BYTES;
use abi::{CapSlot, MapFlags, SysError};

use crate::handle::Handle;
use crate::memory::MemoryObject;
use crate::sys;

/// A range of shared memory, `len_bytes` long, that this program accesses
/// only through atomic 32-bit words.
#[derive(Debug)]
pub struct SharedRegion {
    /// The first byte's address (4-byte aligned; page-aligned when mapped).
    addr: usize,
    /// Its length in bytes (a multiple of 4).
    len_bytes: usize,
    /// The mapping this region made and unmaps when dropped: the address
    /// space and the number of pages.
    mapping: Option<(CapSlot, u64)>,
}

impl SharedRegion {
    /// `AspaceMap`: maps `pages` pages of `memory` from its page
    /// `offset_pages`, read-write, at `vaddr` in this program's address
    /// space, and returns the region. Dropping it unmaps them.
    ///
    /// # Errors
    /// The kernel's: `InvalidArg` if `vaddr` is not page-aligned, `pages`
    /// is 0 or past the object's end, or a page of the range is already
    /// mapped; `MissingRights` if `memory` cannot be written.
    pub fn map(
        memory: &MemoryObject,
        offset_pages: u64,
        vaddr: u64,
        pages: u64,
    ) -> Result<SharedRegion, SysError> {
        let len_bytes = pages
            .checked_mul(PAGE_BYTES)
            .and_then(|bytes| usize::try_from(bytes).ok())
            .ok_or(SysError::InvalidArg)?;
        let addr = usize::try_from(vaddr).map_err(|_| SysError::InvalidArg)?;
        let aspace = crate::process::own_caps().aspace;
        sys::aspace_map(
            aspace,
            memory.slot(),
            offset_pages,
            vaddr,
            pages,
            MapFlags::READ | MapFlags::WRITE,
        )?;
        Ok(SharedRegion {
            addr,
            len_bytes,
            mapping: Some((aspace, pages)),
        })
    }

    /// A region over memory mapped by someone else; it does not unmap it.
    ///
    /// # Safety
    /// The caller guarantees that:
    /// 1. `[addr, addr + len_bytes)` is mapped readable and writable, and
    ///    stays mapped to the same memory for as long as the region lives;
    /// 2. `addr` and `len_bytes` are multiples of 4, and `addr + len_bytes`
    ///    does not overflow;
    /// 3. within this program, nothing accesses those bytes during the
    ///    region's life except through 4-byte atomics on aligned words
    ///    (another `SharedRegion`, or `AtomicU32`s): no Rust reference to
    ///    plain data there, no non-atomic or other-sized access.
    pub unsafe fn from_raw_parts(addr: usize, len_bytes: usize) -> SharedRegion {
        SharedRegion {
            addr,
            len_bytes,
            mapping: None,
        }
    }

    /// The first byte's address.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// The length in bytes.
    pub fn len_bytes(&self) -> usize {
        self.len_bytes
    }

    /// The region as words: word `i` holds bytes `4 * i .. 4 * i + 4`,
    /// little-endian.
    #[inline]
    pub fn words(&self) -> &[AtomicU32] {
        // SAFETY: `map` made the mapping itself at `addr`, `len_bytes`
        // long, page-aligned, where the kernel guaranteed no region was
        // before (so no other object of the program lives there), and
        // keeps it until drop; `from_raw_parts`'s caller promised the same
        // (obligations 1 and 2). `AtomicU32` has the size and alignment of
        // `u32`, and interior mutability, so writes by the other side and
        // by other threads through the same slice are atomic accesses of
        // one size (obligation 3), never a data race. The slice borrows
        // `self`, so it cannot outlive the mapping.
        unsafe { core::slice::from_raw_parts(self.addr as *const AtomicU32, self.len_bytes / 4) }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        if let Some((aspace, pages)) = self.mapping {
            // The range is ours: unmapping can only fail if someone
            // unmapped it already, and then there is nothing to undo.
            let _ = sys::aspace_unmap(aspace, self.addr as u64, pages);
        }
    }
}
