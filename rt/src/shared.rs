//! Shared memory: a memory object mapped read-write in this address space
//! while another program maps it too, seen as a slice of [`AtomicU32`]
//! (and, for copying bytes, of [`AtomicU64`]).
//!
//! The other side may write any byte at any moment, so this program never
//! makes a Rust reference to plain data in the region, nor a non-atomic
//! access: every access is an atomic on an aligned word.
//! [`SharedRegion::words`] gives the region as
//! `&[AtomicU32]`, which safe code (the `ring` crate) reads and writes,
//! and whose words are futex words ([`crate::sys::futex_wait`] keys a futex
//! by physical address, so both sides wait on and wake the same word).
//!
//! A region made by [`SharedRegion::map`] owns its mapping: the kernel
//! only maps a range where no region is, so nothing else of the program
//! lives there, and dropping the region unmaps it. The `unsafe` of the
//! module: viewing that range as a slice of words of either size.
//!
//! **Bytes** (a ring's data area, a pipe end's data area) are copied 8 at
//! a time through the same mapping seen as `&[AtomicU64]`
//! ([`SharedRegion::words64`]): [`SharedRegion::copy_in`],
//! [`SharedRegion::copy_out`] and [`SharedRegion::copy_to`], or
//! [`crate::atomic_bytes`] on the words. These are atomic accesses too, so
//! a peer writing the bytes while they are copied only changes what is
//! copied. The one rule: bytes copied this way are not accessed as 4-byte
//! words at the same moment (racing atomic accesses of different sizes
//! must not overlap); a ring keeps its indices and entries, and its data
//! area, on different bytes.

use core::sync::atomic::{AtomicU32, AtomicU64};

use abi::layout::PAGE_BYTES;
use abi::{CapSlot, MapFlags, SysError};

use crate::atomic_bytes;
use crate::handle::Handle;
use crate::memory::MemoryObject;
use crate::sys;

/// A range of shared memory, `len_bytes` long, that this program accesses
/// only through atomic 32-bit and 64-bit words.
#[derive(Debug)]
pub struct SharedRegion {
    /// The first byte's address (8-byte aligned; page-aligned when mapped).
    addr: usize,
    /// Its length in 4-byte words (kept in words, not bytes, so that
    /// [`words`](SharedRegion::words), on every access of a ring, does not
    /// divide).
    len_words: usize,
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
            len_words: len_bytes / 4,
            mapping: Some((aspace, pages)),
        })
    }

    /// A region over memory mapped by someone else; it does not unmap it.
    ///
    /// # Safety
    /// The caller guarantees that:
    /// 1. `[addr, addr + len_bytes)` is mapped readable and writable, and
    ///    stays mapped to the same memory for as long as the region lives;
    /// 2. `addr` and `len_bytes` are multiples of 8, and `addr + len_bytes`
    ///    does not overflow;
    /// 3. within this program, nothing accesses those bytes during the
    ///    region's life except through atomics on aligned words (another
    ///    `SharedRegion`, `AtomicU32`s or `AtomicU64`s), never two sizes
    ///    racing on the same bytes: no Rust reference to plain data there,
    ///    no non-atomic access.
    pub unsafe fn from_raw_parts(addr: usize, len_bytes: usize) -> SharedRegion {
        SharedRegion {
            addr,
            len_words: len_bytes / 4,
            mapping: None,
        }
    }

    /// The first byte's address.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// The length in bytes.
    pub fn len_bytes(&self) -> usize {
        self.len_words * 4
    }

    /// The region as words: word `i` holds bytes `4 * i .. 4 * i + 4`,
    /// little-endian.
    #[inline]
    pub fn words(&self) -> &[AtomicU32] {
        // SAFETY: `map` made the mapping itself at `addr`, `len_words`
        // words (whole pages) long, page-aligned, where the kernel guaranteed no region was
        // before (so no other object of the program lives there), and
        // keeps it until drop; `from_raw_parts`'s caller promised the same
        // (obligations 1 and 2). `AtomicU32` has the size and alignment of
        // `u32`, and interior mutability, so writes by the other side and
        // by other threads through the same slice are atomic accesses of
        // one size (obligation 3), never a data race. The slice borrows
        // `self`, so it cannot outlive the mapping.
        unsafe { core::slice::from_raw_parts(self.addr as *const AtomicU32, self.len_words) }
    }

    /// The region as 8-byte words, for copying bytes
    /// ([`crate::atomic_bytes`]): word `i` holds bytes `8 * i .. 8 * i + 8`,
    /// little-endian. Bytes accessed through these words must not be
    /// accessed through [`words`](SharedRegion::words) at the same moment.
    #[inline]
    pub fn words64(&self) -> &[AtomicU64] {
        // SAFETY: as in `words`: the range is mapped read-write while
        // `self` lives and the slice borrows `self`. `addr` is 8-aligned
        // (page-aligned from `map`; obligation 2 of `from_raw_parts`) and
        // the length, a multiple of 8 bytes, holds `len_words / 2` whole
        // words. `AtomicU64` has the size of `u64` and its alignment (8 on
        // x86_64), and interior mutability; accesses of this program are
        // atomic, and those of another size never race with these on the
        // same bytes (obligation 3, and this method's documentation).
        unsafe { core::slice::from_raw_parts(self.addr as *const AtomicU64, self.len_words / 2) }
    }
}

impl SharedRegion {
    /// Copies `src` into the region at byte `offset`, 8 bytes at a time
    /// (see the module documentation).
    ///
    /// # Errors
    /// `InvalidArg` if `offset + src.len()` passes the region's end.
    #[inline]
    pub fn copy_in(&self, offset: usize, src: &[u8]) -> Result<(), SysError> {
        atomic_bytes::write(self.words64(), offset, src)
    }

    /// Copies `dst.len()` bytes of the region at byte `offset` into `dst`.
    ///
    /// # Errors
    /// `InvalidArg` if `offset + dst.len()` passes the region's end.
    #[inline]
    pub fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Result<(), SysError> {
        atomic_bytes::read(self.words64(), offset, dst)
    }

    /// Copies `len` bytes of this region at `offset` into the region `dst`
    /// at `dst_offset` (from one peer's data area to another's, say); if
    /// the ranges overlap, they get whatever a forward copy leaves.
    ///
    /// # Errors
    /// `InvalidArg` if either range passes its region's end.
    pub fn copy_to(
        &self,
        offset: usize,
        dst: &SharedRegion,
        dst_offset: usize,
        len: usize,
    ) -> Result<(), SysError> {
        atomic_bytes::copy(self.words64(), offset, dst.words64(), dst_offset, len)
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
