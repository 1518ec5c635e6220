//! Thread blocks: the memory of one thread, and its control block (TCB).
//!
//! Every thread `rt` makes gets one memory object, mapped as one region in
//! a slot of the thread area:
//!
//! ```text
//!  slot base                                          slot base + SLOT_BYTES
//!  | stack (grows down) | TLS data | TCB | IPC buffer page |   (unmapped)   |
//!  ^ below: unmapped, so an overflow faults               ^ page-aligned
//! ```
//!
//! The FS base points at the TCB, whose first word is its own address
//! (the x86-64 TLS ABI, "variant II": `mov rax, fs:0` yields the thread
//! pointer; a program's PT_TLS data sits just below it, at negative
//! offsets). The TCB's second word is the IPC buffer's address, which
//! `rt::ipc` reads with one `mov` from `fs:8`.
//!
//! The TLS and IPC pages are committed (`AspacePopulate`) when the block
//! is made, so writing the TCB never faults; stack pages are filled in as
//! the stack grows.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::layout::PAGE_BYTES;
use abi::{MapFlags, SysError};

use crate::process;
use crate::sys;

/// Where the thread area starts before randomisation.
pub const AREA_BASE: u64 = 0x0000_4000_0000_0000;
/// How far randomisation may move it, in pages (4 GiB).
pub const AREA_RANDOM_PAGES: u64 = 1 << 20;
/// Bytes of address space per thread slot (a stack can be almost this big).
pub const SLOT_BYTES: u64 = 1 << 30;
/// Thread slots in the area.
pub const SLOTS: usize = 256;
/// Slot of the first thread of a program loaded by `rt::spawn`.
pub const MAIN_SLOT: usize = 0;
/// Default stack size.
pub const DEFAULT_STACK_BYTES: u64 = 64 * 1024;
/// Thread-local keys per thread ([`crate::thread::Local`]).
pub const LOCAL_KEYS: usize = 32;

/// The thread control block, at the FS base.
#[repr(C)]
pub struct Tcb {
    /// Its own address (`fs:0`).
    pub self_ptr: u64,
    /// The IPC buffer page (`fs:8`).
    pub ipc_buffer: u64,
    /// The thread's record (`Arc<Record>` as a raw pointer), 0 for none.
    pub record: u64,
    /// Thread-local values: (pointer, destructor) per key, 0 when unset.
    pub locals: [(u64, u64); LOCAL_KEYS],
}

/// Offset of [`Tcb::ipc_buffer`] (read with `fs:8`).
pub const TCB_IPC_BUFFER_OFFSET: usize = core::mem::offset_of!(Tcb, ipc_buffer);
/// Offset of [`Tcb::record`].
pub const TCB_RECORD_OFFSET: usize = core::mem::offset_of!(Tcb, record);

/// Where the thread area is (set once at start).
static AREA: AtomicU64 = AtomicU64::new(AREA_BASE);
/// Which slots are taken.
static USED: [AtomicU64; SLOTS / 64] = [const { AtomicU64::new(0) }; SLOTS / 64];

/// Sets the thread area's base (at start, before any thread is made).
pub fn set_area(base: u64) {
    AREA.store(base, Ordering::Relaxed);
}

/// The thread area's base.
pub fn area() -> u64 {
    AREA.load(Ordering::Relaxed)
}

/// Marks slot `index` taken (the first thread's, made by the loader).
pub fn claim_slot(index: usize) {
    if let Some(word) = USED.get(index / 64) {
        word.fetch_or(1 << (index % 64), Ordering::AcqRel);
    }
}

fn take_slot() -> Option<usize> {
    for (w, word) in USED.iter().enumerate() {
        loop {
            let used = word.load(Ordering::Acquire);
            let free = (!used).trailing_zeros() as usize;
            if free >= 64 {
                break;
            }
            let bit = 1u64 << free;
            if word
                .compare_exchange(used, used | bit, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(w * 64 + free);
            }
        }
    }
    None
}

fn release_slot(index: usize) {
    if let Some(word) = USED.get(index / 64) {
        word.fetch_and(!(1 << (index % 64)), Ordering::AcqRel);
    }
}

/// The layout of a block: pages of stack, of TLS plus TCB, and where the
/// TCB and the TLS data are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Stack pages.
    pub stack_pages: u64,
    /// Pages of TLS data and TCB.
    pub tls_pages: u64,
    /// Offset of the TCB from the start of the TLS pages.
    pub tcb_offset: u64,
    /// Offset of the TLS data from the start of the TLS pages (it ends at
    /// the TCB).
    pub tls_offset: u64,
}

/// The program's TLS template: `filesz` bytes at `image` (in this address
/// space), `memsz` in all, aligned to `align`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsTemplate {
    /// Address of the initial bytes.
    pub image: u64,
    /// Bytes to copy.
    pub filesz: u64,
    /// Bytes in all (the rest zero).
    pub memsz: u64,
    /// Alignment (a power of two; 0 or 1: none).
    pub align: u64,
}

impl Layout {
    /// The layout for a stack of at least `stack_bytes` and `tls`.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] when it does not fit in a slot.
    pub fn new(stack_bytes: u64, tls: &TlsTemplate) -> Result<Layout, SysError> {
        let align = tls.align.max(1);
        if !align.is_power_of_two() || align > PAGE_BYTES {
            return Err(SysError::InvalidArg);
        }
        // Variant II: the data ends at the thread pointer, which the
        // linker assumes is aligned like the data; the TCB wants 64.
        let tls_size = tls
            .memsz
            .checked_next_multiple_of(align)
            .ok_or(SysError::InvalidArg)?;
        let tcb_offset = tls_size
            .checked_next_multiple_of(align.max(64))
            .ok_or(SysError::InvalidArg)?;
        let tcb_end = tcb_offset
            .checked_add(core::mem::size_of::<Tcb>() as u64)
            .ok_or(SysError::InvalidArg)?;
        let tls_pages = tcb_end.div_ceil(PAGE_BYTES);
        let stack_pages = stack_bytes.max(PAGE_BYTES).div_ceil(PAGE_BYTES);
        let total = stack_pages
            .checked_add(tls_pages)
            .and_then(|p| p.checked_add(1))
            .ok_or(SysError::InvalidArg)?;
        if total.checked_mul(PAGE_BYTES).is_none_or(|b| b > SLOT_BYTES) {
            return Err(SysError::InvalidArg);
        }
        Ok(Layout {
            stack_pages,
            tls_pages,
            tcb_offset,
            tls_offset: tcb_offset - tls_size,
        })
    }

    /// Pages in all.
    pub fn pages(&self) -> u64 {
        self.stack_pages + self.tls_pages + 1
    }

    /// The stack's top (16-byte aligned), from the block's base.
    pub fn stack_top(&self) -> u64 {
        self.stack_pages * PAGE_BYTES
    }

    /// The TCB's offset from the block's base.
    pub fn tcb(&self) -> u64 {
        self.stack_top() + self.tcb_offset
    }

    /// The IPC buffer's offset from the block's base.
    pub fn ipc_buffer(&self) -> u64 {
        (self.stack_pages + self.tls_pages) * PAGE_BYTES
    }
}

/// A thread's block: its slot, memory and layout.
#[derive(Debug)]
pub struct Block {
    /// Slot index in the area.
    pub index: usize,
    /// Where the block starts.
    pub base: u64,
    /// Its layout.
    pub layout: Layout,
}

impl Block {
    /// Makes a block in a free slot: a memory object paid by the program's
    /// budget, mapped read + write, its TLS and IPC pages committed, the
    /// TLS data copied from `tls` and the TCB written.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] when no slot is free or the budget cannot
    /// pay; the kernel's otherwise. Nothing is left behind.
    pub fn create(stack_bytes: u64, tls: &TlsTemplate) -> Result<Block, SysError> {
        let layout = Layout::new(stack_bytes, tls)?;
        let index = take_slot().ok_or(SysError::OutOfMemory)?;
        let base = area() + index as u64 * SLOT_BYTES;
        let block = Block {
            index,
            base,
            layout,
        };
        if let Err(e) = block.map() {
            block.destroy();
            return Err(e);
        }
        block.write_tcb(tls);
        Ok(block)
    }

    fn map(&self) -> Result<(), SysError> {
        let own = process::own_caps();
        let memory = sys::memory_create(own.budget, self.layout.pages())?;
        let flags = MapFlags::READ | MapFlags::WRITE;
        let mapped = sys::aspace_map(own.aspace, memory, 0, self.base, self.layout.pages(), flags);
        // The region holds the object from here on (or the map failed).
        let _ = sys::cap_delete(memory);
        mapped?;
        let committed = self.layout.tls_pages + 1;
        sys::aspace_populate(own.aspace, self.base + self.layout.stack_top(), committed)
    }

    /// Copies the TLS template and writes the TCB.
    fn write_tcb(&self, tls: &TlsTemplate) {
        let tcb = self.base + self.layout.tcb();
        let data = self.base + self.layout.stack_top() + self.layout.tls_offset;
        if tls.filesz > 0 {
            // SAFETY: [data, data + filesz) lies in this block's committed
            // TLS pages (Layout::new sized them), which nothing else uses;
            // the template is the program's own mapped PT_TLS image.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    tls.image as *const u8,
                    data as *mut u8,
                    tls.filesz.min(tls.memsz) as usize,
                )
            };
        }
        let value = Tcb {
            self_ptr: tcb,
            ipc_buffer: self.base + self.layout.ipc_buffer(),
            record: 0,
            locals: [(0, 0); LOCAL_KEYS],
        };
        // SAFETY: the TCB lies in the committed TLS pages, aligned to 64.
        unsafe { (tcb as *mut Tcb).write(value) };
    }

    /// The TCB's address (the FS base).
    pub fn tcb(&self) -> u64 {
        self.base + self.layout.tcb()
    }

    /// The stack's top.
    pub fn stack_top(&self) -> u64 {
        self.base + self.layout.stack_top()
    }

    /// The IPC buffer's address.
    pub fn ipc_buffer(&self) -> u64 {
        self.base + self.layout.ipc_buffer()
    }

    /// Unmaps the block (its pages come back) and frees the slot. The
    /// thread must not run on it any more.
    pub fn destroy(self) {
        let own = process::own_caps();
        let _ = sys::aspace_unmap(own.aspace, self.base, self.layout.pages());
        release_slot(self.index);
    }
}

/// The current thread's TCB address (its FS base), read from `fs:0`.
/// Only for a thread `rt` made (`registry::has_tcb`): on one started by
/// hand with FS base 0 the read faults at address 0.
#[inline(always)]
pub fn current_tcb() -> u64 {
    let tcb: u64;
    // SAFETY: on a thread made by rt the FS base is a TCB whose first word
    // is its own address (`Block::create`, the loader); the read has no
    // other effect, and on any other thread it can only fault.
    unsafe {
        core::arch::asm!("mov {}, fs:0", out(reg) tcb, options(nostack, readonly, preserves_flags));
    }
    tcb
}

/// The current thread's IPC buffer address, from `fs:8`.
#[inline(always)]
pub fn ipc_buffer_addr() -> u64 {
    let addr: u64;
    // SAFETY: as in `current_tcb`: the FS base of a thread rt made points
    // at its TCB, whose word at offset 8 is the IPC buffer's address.
    unsafe {
        core::arch::asm!("mov {}, fs:8", out(reg) addr, options(nostack, readonly, preserves_flags));
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(memsz: u64, align: u64) -> TlsTemplate {
        TlsTemplate {
            image: 0,
            filesz: 0,
            memsz,
            align,
        }
    }

    #[test]
    fn a_block_without_tls_has_stack_tcb_page_and_ipc_page() {
        let layout = Layout::new(64 * 1024, &TlsTemplate::default()).unwrap();
        assert_eq!(layout.stack_pages, 16);
        assert_eq!(layout.tls_pages, 1);
        assert_eq!(layout.pages(), 18);
        assert_eq!(layout.tcb(), 16 * PAGE_BYTES);
        assert_eq!(layout.ipc_buffer(), 17 * PAGE_BYTES);
        assert_eq!(layout.stack_top() % 16, 0);
    }

    #[test]
    fn tls_data_ends_at_the_thread_pointer_which_is_aligned() {
        for (memsz, align) in [
            (8, 8),
            (13, 4),
            (100, 64),
            (5000, 128),
            (1, 1),
            (0, 0),
            (24, 4096),
        ] {
            let layout = Layout::new(4096, &tls(memsz, align)).unwrap();
            let size = memsz.next_multiple_of(align.max(1));
            assert_eq!(
                layout.tls_offset + size,
                layout.tcb_offset,
                "{memsz} {align}"
            );
            assert_eq!(layout.tcb() % align.max(64), 0);
            assert!(layout.tcb_offset + size_of::<Tcb>() as u64 <= layout.tls_pages * PAGE_BYTES);
        }
    }

    #[test]
    fn bad_layouts_are_refused() {
        assert_eq!(Layout::new(4096, &tls(8, 3)), Err(SysError::InvalidArg));
        assert_eq!(Layout::new(4096, &tls(8, 8192)), Err(SysError::InvalidArg));
        assert_eq!(
            Layout::new(SLOT_BYTES, &tls(0, 0)),
            Err(SysError::InvalidArg)
        );
        assert_eq!(
            Layout::new(4096, &tls(u64::MAX, 8)),
            Err(SysError::InvalidArg)
        );
        assert!(Layout::new(SLOT_BYTES - 4 * PAGE_BYTES, &tls(0, 0)).is_ok());
    }

    #[test]
    fn the_tcb_offsets_are_what_the_asm_reads() {
        assert_eq!(TCB_IPC_BUFFER_OFFSET, 8);
        assert_eq!(core::mem::offset_of!(Tcb, self_ptr), 0);
    }
}
