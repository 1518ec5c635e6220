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
//! **Bytes** (a ring's data area, a pipe end's data area) are copied by
//! [`SharedRegion::copy_in`], [`SharedRegion::copy_out`] and
//! [`SharedRegion::copy_to`]: below 2 KiB 8 at a time through the same
//! mapping seen as `&[AtomicU64]` ([`SharedRegion::words64`],
//! [`crate::atomic_bytes`]), from 2 KiB with one `rep movsb`, the copy that
//! is fastest on hardware there (an `asm!` block, which the compiler treats
//! as an opaque access). Either way a peer writing the bytes while they are
//! copied only changes what is copied. The one rule: bytes copied this way are not accessed as 4-byte
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
    /// space, and returns the region. Dropping it unmaps them. The region
    /// is mapped with `SHARE`: a `fork` of this program leaves the object
    /// shared, rather than making it copy-on-write, which would
    /// write-protect the pages in the other side's mapping too, and split
    /// them from it at the first write.
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
            MapFlags::READ | MapFlags::WRITE | MapFlags::SHARE,
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
    ///    `SharedRegion`, `AtomicU32`s or `AtomicU64`s) or a region's own
    ///    copies (`rep movsb`, outside Rust's accesses), never two sizes
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
        if src.len() < REP_MOVSB_MIN {
            return atomic_bytes::write(self.words64(), offset, src);
        }
        let dst = self.span(offset, src.len())?;
        // SAFETY: `dst..dst + src.len()` lies inside the region (`span`),
        // which is mapped read-write while `self` lives (obligation 1 of
        // `from_raw_parts`, or `map`'s own mapping), and no Rust reference
        // of this program points at its bytes (obligation 3); `src` is a
        // live shared borrow of `src.len()` bytes, outside the region
        // because Rust never hands out references into it.
        unsafe { copy_bytes(dst as *mut u8, src.as_ptr(), src.len()) };
        Ok(())
    }

    /// Copies `dst.len()` bytes of the region at byte `offset` into `dst`.
    ///
    /// # Errors
    /// `InvalidArg` if `offset + dst.len()` passes the region's end.
    #[inline]
    pub fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Result<(), SysError> {
        if dst.len() < REP_MOVSB_MIN {
            return atomic_bytes::read(self.words64(), offset, dst);
        }
        let src = self.span(offset, dst.len())?;
        // SAFETY: as in `copy_in`, the other way: the source range is
        // inside the mapped region, `dst` is a live exclusive borrow of
        // `dst.len()` bytes outside it.
        unsafe { copy_bytes(dst.as_mut_ptr(), src as *const u8, dst.len()) };
        Ok(())
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
        if len < REP_MOVSB_MIN {
            return atomic_bytes::copy(self.words64(), offset, dst.words64(), dst_offset, len);
        }
        let src = self.span(offset, len)?;
        let to = dst.span(dst_offset, len)?;
        // SAFETY: both ranges lie inside regions mapped read-write while
        // `self` and `dst` live, and no Rust reference points into either;
        // if they overlap (one region copied into itself) the bytes are
        // whatever a forward byte copy leaves, never outside the ranges.
        unsafe { copy_bytes(to as *mut u8, src as *const u8, len) };
        Ok(())
    }

    /// The address of `len` bytes at `offset`, if they lie in the region.
    fn span(&self, offset: usize, len: usize) -> Result<usize, SysError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len_bytes() => Ok(self.addr + offset),
            _ => Err(SysError::InvalidArg),
        }
    }
}

/// From this many bytes a copy is one `rep movsb`, below it 8-byte words:
/// the string copy is the fast one for large copies on CPUs with ERMS
/// (glibc's `memcpy` switches to it at the same size, its default
/// `rep_movsb_threshold`), a loop of words for small ones. Under QEMU's
/// `-icount` each byte of a `rep movsb` counts as an instruction and each
/// word of the loop as about two, but what is right on hardware decides.
const REP_MOVSB_MIN: usize = 2048;

/// `rep movsb`: `len` bytes from `src` to `dst`, forwards.
///
/// # Safety
/// The caller guarantees that:
/// 1. `src..src + len` is mapped readable and `dst..dst + len` mapped
///    writable for the whole copy;
/// 2. no Rust reference of this program is live over `dst..dst + len`
///    except one the caller holds exclusively and passed as `dst`.
unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller's obligations give the ranges; the direction
    // flag is clear (the ABI keeps it so between instructions of Rust
    // code), so the copy goes forwards and touches only those bytes.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
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
