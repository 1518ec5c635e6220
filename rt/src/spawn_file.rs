//! A program file kept mapped: the bytes of a read-only memory object that
//! nobody writes (the initramfs, shared by initfs's `map`), mapped once in
//! the caller's space so that starting the program again and again does
//! not map and unmap the file each time (`process` keeps one per program
//! it has started: `Command`'s cache).
//!
//! Each file takes one window of [`WINDOW_BYTES`] at
//! [`WINDOW_BASE`]; at most [`WINDOWS`] are mapped at once. A window
//! holds the object's capability, which the [`MappedFile`] owns: dropping
//! it unmaps the window and deletes the capability.
//!
//! After a `fork`, the copy has the windows mapped (its address space is a
//! clone) but not the capabilities (its capability space holds only what
//! `fork` passes on), so a [`MappedFile`] made before the fork is
//! [`MappedFile::is_stale`] there: dropping it unmaps the window only.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::layout::PAGE_BYTES;
use abi::{CapSlot, MapFlags, SysError};

use crate::process;
use crate::spawn::{ElfFile, Spawn};
use crate::sys;

/// Where the windows start (above the loader's scratch slots, below the
/// stacks).
const WINDOW_BASE: u64 = 0x0000_6800_0000_0000;
/// Bytes of address space per window: the largest file kept mapped.
const WINDOW_BYTES: u64 = 1 << 30;
/// Windows in all.
pub const WINDOWS: u32 = 16;

/// Which windows are in use.
static USED: AtomicU64 = AtomicU64::new(0);

/// A program file kept mapped read-only (see the module docs).
#[derive(Debug)]
pub struct MappedFile {
    memory: CapSlot,
    offset: u64,
    len: u64,
    window: u32,
    pages: u64,
    /// `rt::fork::generation()` when it was made.
    generation: u64,
}

impl MappedFile {
    /// Maps the `len` bytes at byte `offset` of `memory` (a read-only
    /// object nobody writes; the capability becomes the file's) in a free
    /// window.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] with no window free or a file larger than
    /// a window; the kernel's for the mapping. `memory` stays the
    /// caller's then.
    pub fn map(memory: CapSlot, offset: u64, len: u64) -> Result<MappedFile, SysError> {
        let skip = offset % PAGE_BYTES;
        let pages = skip
            .checked_add(len)
            .map(|end| end.div_ceil(PAGE_BYTES))
            .filter(|&pages| pages > 0 && pages <= WINDOW_BYTES / PAGE_BYTES)
            .ok_or(SysError::OutOfMemory)?;
        let window = take_window().ok_or(SysError::OutOfMemory)?;
        let addr = window_addr(window);
        let own = process::own_caps().aspace;
        let mapped = sys::aspace_map(
            own,
            memory,
            offset / PAGE_BYTES,
            addr,
            pages,
            MapFlags::READ,
        );
        // Its first page present now: the page tables a loader's reads
        // need are made here, once, not by the next spawn's first touch.
        let mapped = mapped.and_then(|()| {
            sys::aspace_populate(own, addr, 1).inspect_err(|_| {
                let _ = sys::aspace_unmap(own, addr, pages);
            })
        });
        if let Err(error) = mapped {
            free_window(window);
            return Err(error);
        }
        Ok(MappedFile {
            memory,
            offset,
            len,
            window,
            pages,
            generation: crate::fork::generation(),
        })
    }

    /// Whether it was made before a `fork` that made this process: its
    /// capability is not in this capability space then, so it must not be
    /// used.
    pub fn is_stale(&self) -> bool {
        self.generation != crate::fork::generation()
    }

    /// Whether its memory object is still there (a file server that was
    /// restarted takes back the capabilities it gave).
    pub fn is_valid(&self) -> bool {
        !self.is_stale()
            && sys::cap_info(self.memory)
                .is_ok_and(|info| info.object_type == abi::ObjectType::MemoryObject.to_reg() as u32)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        let start = window_addr(self.window) + self.offset % PAGE_BYTES;
        // SAFETY: `[start, start + len)` lies in the window `map` mapped
        // readable (`pages` pages from the window's start cover the skip
        // and `len`), which stays mapped until `self` drops and which no
        // other `MappedFile` or Rust object uses (each window is taken by
        // one file); the object is one nobody writes (the promise `map`'s
        // caller makes), so the bytes do not change while borrowed.
        unsafe { core::slice::from_raw_parts(start as *const u8, self.len as usize) }
    }

    /// A loader for the program in it.
    pub fn loader(&self) -> Spawn<'_> {
        Spawn::new(ElfFile {
            bytes: self.bytes(),
            backing: Some((self.memory, self.offset)),
        })
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        let own = process::own_caps().aspace;
        let _ = sys::aspace_unmap(own, window_addr(self.window), self.pages);
        if !self.is_stale() {
            let _ = sys::cap_delete(self.memory);
        }
        free_window(self.window);
    }
}

fn window_addr(window: u32) -> u64 {
    WINDOW_BASE + u64::from(window) * WINDOW_BYTES
}

fn take_window() -> Option<u32> {
    loop {
        let used = USED.load(Ordering::Acquire);
        let window = (!used).trailing_zeros();
        if window >= WINDOWS {
            return None;
        }
        let bit = 1u64 << window;
        if USED
            .compare_exchange(used, used | bit, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(window);
        }
    }
}

fn free_window(window: u32) {
    USED.fetch_and(!(1u64 << window), Ordering::AcqRel);
}
