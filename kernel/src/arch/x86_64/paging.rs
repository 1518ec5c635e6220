//! Page tables: the kernel's address space (direct map of RAM, the kernel
//! image with per-section rights, the local APIC) and user mappings.
//!
//! The kernel's tables are built by hand through the direct map at
//! [`DIRECT_MAP_BASE`] (four levels, SDM Vol. 3A §4.5): [`map_range`]
//! fills each run of entries that falls in one table in one loop, with
//! the largest leaves the alignment allows. Layout of the upper half,
//! shared by every address space: PML4 slot 256 = direct map, 510 = local
//! APIC and I/O APICs, 511 = kernel image. All three are created at boot,
//! before any user root copies them, and the kernel never adds an
//! upper-half PML4 entry afterwards.
//!
//! The direct map covers exactly the RAM of the memory map (merged and
//! shrunk to whole pages): 1 GiB leaves where the CPU has them and a
//! whole aligned GiB is RAM, 2 MiB leaves where a whole aligned 2 MiB is,
//! 4 KiB leaves only at the ragged ends of the ranges. A large leaf never
//! covers anything that is not RAM, so device registers and firmware
//! holes are never mapped write-back.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kcore::memmap::PhysRange;
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::{PageTableFlags as Flags, PhysFrame};

use crate::config::{DIRECT_MAP_BASE, DIRECT_MAP_MAX_BYTES, LAPIC_VIRT, MAX_MEMMAP_ENTRIES};
use crate::mem::frame;

/// Where the kernel image is linked: virtual = physical + this.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

const GIB1: u64 = 1 << 30;
const MIB2: u64 = 2 << 20;
const KIB4: u64 = 4096;
/// Entries in one page table.
const ENTRIES: u64 = 512;
/// Bits 12..52 of an entry: the physical address it points to.
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

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

/// Entry `index` of the kernel page table at physical `table`.
fn entry(table: u64, index: u64) -> *mut u64 {
    debug_assert!(index < ENTRIES && table.is_multiple_of(KIB4));
    // index < 512: the entry lies inside the table's frame.
    phys_to_virt(table).wrapping_add(index.wrapping_mul(8)) as *mut u64
}

fn read(table: u64, index: u64) -> u64 {
    // SAFETY: `table` is a frame of the kernel's own tables (its root or a
    // table reached from a present interior entry), in the direct map
    // (the boot map's first 4 GiB before the switch: every table comes
    // from the lowest free frames); `index` is below 512. Only the boot
    // CPU touches these tables, at boot, so nothing changes them meanwhile.
    unsafe { entry(table, index).read() }
}

fn write(table: u64, index: u64, value: u64) {
    // SAFETY: as in `read`. Callers write only entries that were empty
    // (checked) in the kernel's upper half, so no live mapping changes.
    unsafe { entry(table, index).write(value) }
}

/// The table under entry `index` of `table`, made (zeroed) if the entry
/// is empty. Interior entries are present and writable; the leaf decides.
///
/// # Panics
/// If the entry is a large leaf (mappings overlap) or no frame is free.
fn table_below(table: u64, index: u64) -> u64 {
    let value = read(table, index);
    if value & Flags::PRESENT.bits() == 0 {
        let next = frame::alloc_zeroed()
            .expect("a frame for a kernel page table")
            .addr();
        let interior = Flags::PRESENT | Flags::WRITABLE;
        write(table, index, next | interior.bits());
        return next;
    }
    assert!(
        value & Flags::HUGE_PAGE.bits() == 0,
        "kernel mapping inside a large page"
    );
    value & ADDRESS
}

/// Maps `bytes` (a page multiple) at `virt` to `phys` in the tables under
/// `root` with leaf `flags`, using leaves of up to `largest` bytes (4 KiB,
/// 2 MiB or 1 GiB) wherever both addresses are aligned to them and the
/// range covers them whole, 4 KiB leaves elsewhere. Each run of leaves in
/// one table is written in one loop, without walking from the root again.
///
/// # Panics
/// If anything in the range is mapped already, or no frame is left for a
/// table (boot only).
fn map_range(root: u64, virt: u64, phys: u64, bytes: u64, flags: Flags, largest: u64) {
    debug_assert!((virt | phys | bytes).is_multiple_of(KIB4));
    // Boot only, over ranges the memory map and the linker gave, all below
    // the direct map's end: no sum below can wrap (`done <= bytes`).
    let mut done: u64 = 0;
    while done < bytes {
        let (va, pa, left) = (
            virt.wrapping_add(done),
            phys.wrapping_add(done),
            bytes.wrapping_sub(done),
        );
        let mut table = root;
        // PML4, PDPT, PD, PT: a leaf at the first level whose size fits.
        for shift in [39u32, 30, 21, 12] {
            let size = 1u64 << shift;
            let index = (va >> shift) % ENTRIES;
            let fits = size <= largest && (va | pa).is_multiple_of(size) && left >= size;
            if shift == 12 || (shift <= 30 && fits) {
                let leaf = if shift == 12 {
                    flags
                } else {
                    flags | Flags::HUGE_PAGE
                };
                let count = ENTRIES.wrapping_sub(index).min(left >> shift);
                let mut value = pa | leaf.bits();
                for slot in index..index.wrapping_add(count) {
                    assert!(
                        read(table, slot) & Flags::PRESENT.bits() == 0,
                        "kernel mapping over a present entry"
                    );
                    write(table, slot, value);
                    value = value.wrapping_add(size);
                }
                done = done.wrapping_add(count.wrapping_mul(size));
                break;
            }
            table = table_below(table, index);
        }
    }
}

/// Whether the CPU has 1 GiB pages (CPUID 0x80000001 EDX bit 26).
fn has_gib_pages() -> bool {
    raw_cpuid::CpuId::new()
        .get_extended_processor_and_feature_identifiers()
        .is_some_and(|f| f.has_1gib_pages())
}

/// The RAM ranges the direct map covers: sorted, overlapping or touching
/// ranges merged, each shrunk inward to whole pages and cut at
/// [`DIRECT_MAP_MAX_BYTES`]. Returns how many of `out` are used.
fn direct_map_ranges(ram: &[PhysRange], out: &mut [PhysRange; MAX_MEMMAP_ENTRIES]) -> usize {
    let mut count: usize = 0;
    for r in ram.iter().filter(|r| r.start < r.end) {
        // Insertion sort by start: at most a few dozen ranges.
        let Some(slot) = out.get_mut(count) else {
            break;
        };
        *slot = *r;
        let mut at = count;
        // `at` and `count` stay below `out.len()` (64).
        while at > 0 && out[at.wrapping_sub(1)].start > out[at].start {
            out.swap(at.wrapping_sub(1), at);
            at = at.wrapping_sub(1);
        }
        count = count.wrapping_add(1);
    }
    let mut merged: usize = 0;
    for i in 0..count {
        let r = out[i];
        let last = merged.wrapping_sub(1);
        if merged > 0 && r.start <= out[last].end {
            out[last].end = out[last].end.max(r.end);
        } else {
            out[merged] = r;
            merged = merged.wrapping_add(1);
        }
    }
    let mut kept: usize = 0;
    for i in 0..merged {
        // Rounding to pages: `div_ceil` of an address below 2^64 times 4 KiB
        // wraps only for the very last page, which no RAM range reaches.
        let start = out[i].start.div_ceil(KIB4).wrapping_mul(KIB4);
        let end = (out[i].end / KIB4)
            .wrapping_mul(KIB4)
            .min(DIRECT_MAP_MAX_BYTES);
        if start < end {
            out[kept] = PhysRange::new(start, end);
            kept = kept.wrapping_add(1);
        }
    }
    kept
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
    let root = frame::alloc_zeroed()
        .expect("a frame for the kernel PML4")
        .addr();
    let nx = nx_flag();
    let data = Flags::PRESENT | Flags::WRITABLE | Flags::GLOBAL | nx;
    let largest = if has_gib_pages() { GIB1 } else { MIB2 };
    let mut ranges = [PhysRange::new(0, 0); MAX_MEMMAP_ENTRIES];
    let count = direct_map_ranges(ram, &mut ranges);
    for r in &ranges[..count] {
        map_range(root, phys_to_virt(r.start), r.start, r.len(), data, largest);
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
        // linker.ld pads every section to 4 KiB.
        let (start, end) = (start as u64, end as u64);
        // The sections lie above KERNEL_VMA, `end` after `start`.
        map_range(
            root,
            start,
            start.wrapping_sub(KERNEL_VMA),
            end.wrapping_sub(start),
            flags,
            KIB4,
        );
    }
    if let Some(phys) = lapic_phys {
        let mmio = data | Flags::NO_CACHE | Flags::WRITE_THROUGH;
        map_range(root, LAPIC_VIRT, phys, KIB4, mmio, KIB4);
    }
    let root = PhysFrame::containing_address(PhysAddr::new(root));
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
    let mmio = Flags::PRESENT
        | Flags::WRITABLE
        | Flags::GLOBAL
        | Flags::NO_CACHE
        | Flags::WRITE_THROUGH
        | nx_flag();
    map_range(kernel_root(), virt, phys, KIB4, mmio, KIB4);
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
