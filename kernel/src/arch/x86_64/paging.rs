//! Page tables: the kernel's address space (direct map of RAM, the kernel
//! image with per-section rights, the local APIC) and user mappings.
//!
//! Built on the `x86_64` crate's `OffsetPageTable`, which walks and creates
//! tables through the direct map at [`DIRECT_MAP_BASE`]. Layout of the upper
//! half, shared by every address space (SDM Vol. 3A §5.5):
//! PML4 slot 256 = direct map, 510 = local APIC and I/O APICs, 511 = kernel image. All
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
    // Physical addresses the kernel maps are below DIRECT_MAP_MAX_BYTES,
    // so the sum stays in the upper half.
    DIRECT_MAP_BASE.wrapping_add(phys)
}

struct KernelFrames;

// SAFETY: `frame::alloc` hands out each free frame once and never a frame
// in use, which is what `FrameAllocator` requires.
unsafe impl FrameAllocator<Size4KiB> for KernelFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        frame::alloc().map(|f| PhysFrame::containing_address(PhysAddr::new(f.addr())))
    }
}

/// Why a kernel mapping could not be made (boot only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MapError {
    /// No frame for a page table.
    OutOfMemory,
    /// Something is already mapped there.
    AlreadyMapped,
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

/// The no-execute bit, if the CPU has it (else nothing).
pub fn nx_flag() -> Flags {
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
            // Firmware ranges may reach the top of the address space; after
            // the clamp to the direct map's size nothing below can wrap.
            let end = (r.end / KIB4).wrapping_mul(KIB4).min(DIRECT_MAP_MAX_BYTES);
            let start = r.start.min(end).div_ceil(KIB4).wrapping_mul(KIB4);
            let mut pa = start;
            while pa < end {
                let step = if pa.is_multiple_of(MIB2) && pa.wrapping_add(MIB2) <= end {
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
                pa = pa.wrapping_add(step);
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
                // The image is linked above KERNEL_VMA and ends below the
                // last page of the address space.
                map_4k(t, va, va.wrapping_sub(KERNEL_VMA), flags).expect("kernel image mapping");
                va = va.wrapping_add(KIB4);
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

/// Maps the 4 KiB page of device registers at physical `phys` at `virt` in
/// the kernel's upper half, uncached like the local APIC (the I/O APICs,
/// at `IOAPIC_VIRT`). Boot only: after [`init_kernel_space`], before any
/// user root copies the upper half.
///
/// # Panics
/// If `virt` is already mapped or no frame is left for a page table.
pub fn map_device_page(virt: u64, phys: u64) {
    let root = PhysFrame::containing_address(PhysAddr::new(kernel_root()));
    let mmio = Flags::PRESENT
        | Flags::WRITABLE
        | Flags::GLOBAL
        | Flags::NO_CACHE
        | Flags::WRITE_THROUGH
        | nx_flag();
    with_tables(root, |t| map_4k(t, virt, phys, mmio)).expect("device register mapping");
}

/// Switches to the address space rooted at `root` if it is not current.
#[inline(always)]
pub fn activate(root: PhysFrame) {
    activate_phys(root.start_address().as_u64());
}

/// [`activate`] by physical address.
#[inline(always)]
pub fn activate_phys(root_addr: u64) {
    // The loaded root is remembered rather than read back from CR3.
    if ACTIVE_ROOT.load(Ordering::Relaxed) != root_addr {
        ACTIVE_ROOT.store(root_addr, Ordering::Relaxed);
        // SAFETY: `root_addr` is the frame-aligned physical address of a
        // root the kernel created (no flag bits: PCID is off), and every
        // such root shares the kernel's upper half
        // (`user_tables::new_root`), so the kernel keeps running
        // unchanged. Written directly rather than through `Cr3::write`,
        // which would check the address again on every switch.
        unsafe {
            core::arch::asm!("mov cr3, {root}", root = in(reg) root_addr,
                             options(nostack, preserves_flags))
        };
    }
}

/// The physical address of the root loaded in CR3.
pub fn active_root() -> u64 {
    ACTIVE_ROOT.load(Ordering::Relaxed)
}

/// The kernel's own root (upper half only).
///
/// # Panics
/// Before [`init_kernel_space`].
pub fn kernel_root() -> u64 {
    KERNEL_ROOT
        .get()
        .expect("kernel page tables built")
        .start_address()
        .as_u64()
}

/// Loads the kernel's own root (before an address space's tables go).
pub fn load_kernel_root() {
    if let Some(kernel) = KERNEL_ROOT.get() {
        activate(*kernel);
    }
}
