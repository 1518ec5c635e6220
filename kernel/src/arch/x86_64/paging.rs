//! Page tables: the kernel's address space (direct map of RAM, the kernel
//! image with per-section rights, the local APIC) and user mappings.
//!
//! Built on the `x86_64` crate's `OffsetPageTable`, which walks and creates
//! tables through the direct map at [`DIRECT_MAP_BASE`]. Layout of the upper
//! half, shared by every address space (SDM Vol. 3A §5.5):
//! PML4 slot 256 = direct map, 510 = local APIC, 511 = kernel image. All
//! three are created at boot, before any user root copies them, and the
//! kernel never adds an upper-half PML4 entry afterwards.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kcore::memmap::PhysRange;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::mapper::{MapToError, Mapper};
use x86_64::structures::paging::{
    FrameAllocator, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size2MiB,
    Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

use crate::config::{DIRECT_MAP_BASE, DIRECT_MAP_MAX_BYTES, LAPIC_VIRT};
use crate::mem::frame;

/// Where the kernel image is linked: virtual = physical + this.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

const MIB2: u64 = 2 << 20;
const KIB4: u64 = 4096;

static NX: AtomicBool = AtomicBool::new(false);
static KERNEL_ROOT: spin::Once<PhysFrame> = spin::Once::new();
/// Physical address of the root in CR3 (one CPU runs user code for now).
static ACTIVE_ROOT: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
}

/// The direct-map address of a physical address.
pub fn phys_to_virt(phys: u64) -> u64 {
    DIRECT_MAP_BASE + phys
}

/// How a user page may be accessed (always readable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAccess {
    /// Read only.
    Read,
    /// Read and write, never execute.
    ReadWrite,
    /// Read and execute, never write.
    ReadExecute,
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No frame for a page table.
    OutOfMemory,
    /// Something is already mapped there.
    AlreadyMapped,
}

struct KernelFrames;

// SAFETY: `frame::alloc` hands out each free frame once and never a frame
// in use, which is what `FrameAllocator` requires.
unsafe impl FrameAllocator<Size4KiB> for KernelFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        frame::alloc().map(|f| PhysFrame::containing_address(PhysAddr::new(f.addr())))
    }
}

fn to_map_error<S: x86_64::structures::paging::PageSize>(e: MapToError<S>) -> MapError {
    match e {
        MapToError::FrameAllocationFailed => MapError::OutOfMemory,
        MapToError::ParentEntryHugePage | MapToError::PageAlreadyMapped(_) => {
            MapError::AlreadyMapped
        }
    }
}

/// Runs `f` on the page tables rooted at `root`.
fn with_tables<R>(root: PhysFrame, f: impl FnOnce(&mut OffsetPageTable<'_>) -> R) -> R {
    let pml4 = phys_to_virt(root.start_address().as_u64()) as *mut PageTable;
    // SAFETY: `root` is a PML4 frame owned by the kernel (the kernel root or
    // a user root from `new_user_root`), reachable through the direct map,
    // which covers all RAM at DIRECT_MAP_BASE; the kernel runs on one CPU
    // with interrupts off, so no other reference to these tables is live
    // during `f`.
    let mut tables = unsafe { OffsetPageTable::new(&mut *pml4, VirtAddr::new(DIRECT_MAP_BASE)) };
    f(&mut tables)
}

fn map_4k(
    tables: &mut OffsetPageTable<'_>,
    virt: u64,
    phys: u64,
    flags: Flags,
) -> Result<(), MapError> {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    let frame = PhysFrame::containing_address(PhysAddr::new(phys));
    let parent = flags & (Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE);
    // SAFETY: mapping a frame the caller owns (RAM from the allocator, the
    // kernel image, the initramfs or the local APIC) at an address that is
    // not yet mapped (map_to refuses otherwise), so no existing reference
    // changes meaning.
    unsafe { tables.map_to_with_table_flags(page, frame, flags, parent, &mut KernelFrames) }
        .map(|flush| flush.ignore())
        .map_err(to_map_error)
}

fn map_2m(
    tables: &mut OffsetPageTable<'_>,
    virt: u64,
    phys: u64,
    flags: Flags,
) -> Result<(), MapError> {
    let page = Page::<Size2MiB>::containing_address(VirtAddr::new(virt));
    let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(phys));
    // SAFETY: as in `map_4k`; the 2 MiB range is RAM inside one memory-map entry.
    unsafe { tables.map_to(page, frame, flags, &mut KernelFrames) }
        .map(|flush| flush.ignore())
        .map_err(to_map_error)
}

fn nx_flag() -> Flags {
    if NX.load(Ordering::Relaxed) {
        Flags::NO_EXECUTE
    } else {
        Flags::empty()
    }
}

/// Builds the kernel's page tables and switches to them. `ram` are the
/// memory map's RAM ranges; `lapic_phys` the local APIC's registers, if any.
/// Boot CPU, once.
///
/// # Panics
/// If the boot memory cannot hold the page tables (a broken boot).
pub fn init_kernel_space(ram: &[PhysRange], lapic_phys: Option<u64>, nx: bool) {
    NX.store(nx, Ordering::Relaxed);
    let root = frame::alloc_zeroed().expect("a frame for the kernel PML4");
    let root = PhysFrame::containing_address(PhysAddr::new(root.addr()));
    let nx = nx_flag();
    with_tables(root, |t| {
        let data = Flags::PRESENT | Flags::WRITABLE | Flags::GLOBAL | nx;
        for r in ram {
            let start = r.start.div_ceil(KIB4) * KIB4;
            let end = (r.end / KIB4 * KIB4).min(DIRECT_MAP_MAX_BYTES);
            let mut pa = start;
            while pa < end {
                let step = if pa.is_multiple_of(MIB2) && pa + MIB2 <= end {
                    MIB2
                } else {
                    KIB4
                };
                let result = if step == MIB2 {
                    map_2m(t, phys_to_virt(pa), pa, data)
                } else {
                    map_4k(t, phys_to_virt(pa), pa, data)
                };
                result.expect("direct map of RAM");
                pa += step;
            }
        }
        let sections = [
            (
                &raw const __text_start,
                &raw const __text_end,
                Flags::PRESENT | Flags::GLOBAL,
            ),
            (
                &raw const __rodata_start,
                &raw const __rodata_end,
                Flags::PRESENT | Flags::GLOBAL | nx,
            ),
            (&raw const __data_start, &raw const __data_end, data),
        ];
        for (start, end, flags) in sections {
            let mut va = start as u64;
            while va < end as u64 {
                map_4k(t, va, va - KERNEL_VMA, flags).expect("kernel image mapping");
                va += KIB4;
            }
        }
        if let Some(phys) = lapic_phys {
            let mmio = data | Flags::NO_CACHE | Flags::WRITE_THROUGH;
            map_4k(t, LAPIC_VIRT, phys, mmio).expect("local APIC mapping");
        }
    });
    KERNEL_ROOT.call_once(|| root);
    ACTIVE_ROOT.store(root.start_address().as_u64(), Ordering::Relaxed);
    // SAFETY: the new tables map the kernel image at the addresses it runs
    // at, the direct map (boot stack, per-CPU data, allocator bitmap) and the
    // APIC, so every address the kernel uses stays valid after the switch.
    unsafe { Cr3::write(root, Cr3Flags::empty()) };
}

/// A new user page-table root sharing the kernel's upper half.
pub fn new_user_root() -> Option<PhysFrame> {
    let kernel = *KERNEL_ROOT.get()?;
    let frame = frame::alloc_zeroed()?;
    let root = PhysFrame::containing_address(PhysAddr::new(frame.addr()));
    let src = phys_to_virt(kernel.start_address().as_u64()) as *const PageTable;
    let dst = phys_to_virt(root.start_address().as_u64()) as *mut PageTable;
    // SAFETY: both are page-table frames in the direct map; `dst` was just
    // allocated, so nothing else refers to it, and `src` is only read.
    let (src, dst) = unsafe { (&*src, &mut *dst) };
    for i in 256..512 {
        dst[i] = src[i].clone();
    }
    Some(root)
}

/// Maps one user page `virt` -> `phys` in the tables at `root`.
///
/// # Errors
/// [`MapError::AlreadyMapped`] or [`MapError::OutOfMemory`] (page tables).
pub fn map_user_page(
    root: PhysFrame,
    virt: u64,
    phys: u64,
    access: PageAccess,
) -> Result<(), MapError> {
    let base = Flags::PRESENT | Flags::USER_ACCESSIBLE;
    let flags = match access {
        PageAccess::Read => base | nx_flag(),
        PageAccess::ReadWrite => base | Flags::WRITABLE | nx_flag(),
        PageAccess::ReadExecute => base,
    };
    with_tables(root, |t| map_4k(t, virt, phys, flags))
}

/// Switches to the address space rooted at `root` if it is not current.
#[inline(always)]
pub fn activate(root: PhysFrame) {
    let root_addr = root.start_address().as_u64();
    // The loaded root is remembered rather than read back from CR3.
    if ACTIVE_ROOT.load(Ordering::Relaxed) != root_addr {
        ACTIVE_ROOT.store(root_addr, Ordering::Relaxed);
        // SAFETY: every root the kernel creates shares the kernel's upper
        // half (`new_user_root`), so the kernel keeps running unchanged.
        unsafe { Cr3::write(root, Cr3Flags::empty()) };
    }
}

/// The physical address `virt` maps to in the address space `root`, if
/// the page is present and user-accessible (and writable, with `write`) at
/// every level. A walk by hand: on the IPC path with long messages it runs
/// twice per message, and a generic mapper costs four times as much.
pub fn translate_user(root: PhysFrame, virt: u64, write: bool) -> Option<u64> {
    const ADDRESS: u64 = 0x000f_ffff_ffff_f000;
    if virt >= abi::layout::USER_END {
        return None;
    }
    let mut required = (Flags::PRESENT | Flags::USER_ACCESSIBLE).bits();
    if write {
        required |= Flags::WRITABLE.bits();
    }
    let mut table = root.start_address().as_u64();
    for shift in [39, 30, 21, 12] {
        let index = (virt >> shift) & 511;
        // SAFETY: `table` is the root or a lower table taken from a present
        // entry of this address space's user half, a page-table frame in
        // the direct map; reading one of its 512 entries has no effect.
        let entry = unsafe {
            (phys_to_virt(table) as *const u64)
                .add(index as usize)
                .read()
        };
        // User mappings are 4 KiB pages only (`map_user_page`); anything
        // else is not a user page.
        if entry & required != required || (shift != 12 && entry & Flags::HUGE_PAGE.bits() != 0) {
            return None;
        }
        table = entry & ADDRESS;
    }
    Some(table + (virt & 0xfff))
}

/// Whether a user page is mapped at `virt` in `root`.
pub fn is_mapped(root: PhysFrame, virt: u64) -> bool {
    translate_user(root, virt, false).is_some()
}

/// Removes the mapping of the user page at `virt` (if any) and flushes it
/// from the TLB when `root` is the active address space.
pub fn unmap_user_page(root: PhysFrame, virt: u64) {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    let unmapped = with_tables(root, |t| t.unmap(page).map(|(_, flush)| flush));
    if let Ok(flush) = unmapped {
        if ACTIVE_ROOT.load(Ordering::Relaxed) == root.start_address().as_u64() {
            flush.flush();
        } else {
            // Not loaded: no TLB holds its entries (no PCIDs, one CPU).
            flush.ignore();
        }
    }
}

/// Frees the user half's page tables and the root itself. The address
/// space must not be used again; if it is loaded, the kernel's own root is
/// loaded first. The pages mapped belong to memory objects, not to the
/// tables, and are not freed here.
pub fn free_user_root(root: PhysFrame) {
    let root_addr = root.start_address().as_u64();
    if ACTIVE_ROOT.load(Ordering::Relaxed) == root_addr
        && let Some(kernel) = KERNEL_ROOT.get()
    {
        activate(*kernel);
    }
    free_table(root_addr, 4, 0..256);
}

/// Frees the table at `phys` (level 4 = PML4) and the tables below it,
/// looking at entries `range` of this one.
fn free_table(phys: u64, level: u8, range: core::ops::Range<usize>) {
    if level > 1 {
        // SAFETY: `phys` is a page-table frame of a user address space
        // being destroyed: reachable only from its parent entry (or the
        // root), which nothing uses any more.
        let table = unsafe { &*(phys_to_virt(phys) as *const PageTable) };
        for entry in table.iter().take(range.end).skip(range.start) {
            let flags = entry.flags();
            if flags.contains(Flags::PRESENT) && !flags.contains(Flags::HUGE_PAGE) {
                free_table(entry.addr().as_u64(), level - 1, 0..512);
            }
        }
    }
    frame::free(kcore::frame::FrameNumber(phys / KIB4));
}
