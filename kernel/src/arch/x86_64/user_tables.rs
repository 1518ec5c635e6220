//! User page tables: the lower half of an address space, walked by hand.
//!
//! Four levels (SDM Vol. 3A §5.5), 4 KiB leaf pages only. The upper half
//! of every root is a copy of the kernel's entries (made by [`new_root`]),
//! and nothing here ever looks at it. So is the last entry of the lower
//! half ([`SHARED_ROOT_ENTRY`]): tables the kernel owns, mapping the pages
//! it shares read-only with every address space (the clock page), built
//! once by [`map_shared_page`] and never freed with an address space. Tables are reached through the
//! direct map; a new table comes from the caller (who charges a budget
//! for it) and is zeroed here. Interior entries are present, writable and
//! user-accessible; the leaf decides the access. Leaves are written with
//! the accessed and dirty bits already set, so the CPU never writes them.
//!
//! Changes that remove or downgrade a leaf return a [`TlbFlush`].
//!
//! Every entry written goes through one function, which also counts the
//! writes ([`generation`]): a translation read while the count stays the
//! same is still valid, so callers may cache one (the futex key of the
//! last word an address space used, `object::aspace::FutexTlb`).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::structures::paging::PageTableFlags as Flags;

use super::paging;
use super::tlb::TlbFlush;
use crate::mem::frame;

const ENTRIES: usize = 512;
/// The bits of a table index.
const INDEX_MASK: u64 = ENTRIES as u64 - 1;
/// The offset bits inside a 2 MiB range (what one leaf table covers).
const LEAF_TABLE_SPAN_MASK: u64 = (1 << 21) - 1;
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;
const PAGE: u64 = 4096;
/// The root entries an address space owns: PML4 entries 0..255.
const USER_ROOT_ENTRIES: usize = 255;
/// The root entry of the shared read-only pages (`abi::layout::USER_END`
/// up to the canonical boundary).
pub const SHARED_ROOT_ENTRY: usize = 255;
const _: () = assert!(abi::layout::USER_END == (SHARED_ROOT_ENTRY as u64) << 39);

/// How a user page may be accessed (always readable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRights {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
    /// Device memory: uncached.
    pub uncached: bool,
}

/// A page table could not be allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoTable;

fn table(phys: u64) -> *mut u64 {
    paging::phys_to_virt(phys) as *mut u64
}

fn read(table_phys: u64, index: usize) -> u64 {
    debug_assert!(index < ENTRIES);
    // SAFETY: `table_phys` is a page-table frame of a user address space
    // (the root or a table reached from one of its present entries), in the
    // direct map; `index` is below 512. The kernel lock makes this the only
    // code touching the tables.
    unsafe { table(table_phys).add(index).read() }
}

/// Entries written so far (any table, any address space).
static WRITES: AtomicU64 = AtomicU64::new(0);

/// The number of page-table entries written so far: unchanged means no
/// translation has changed since (the caller holds the kernel lock).
#[inline(always)]
pub fn generation() -> u64 {
    WRITES.load(Ordering::Relaxed)
}

fn write(table_phys: u64, index: usize, entry: u64) {
    // Under the kernel lock: a plain increment, no locked instruction.
    WRITES.store(
        WRITES.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    debug_assert!(index < ENTRIES);
    // SAFETY: as in `read`; a user-half entry is written (callers never
    // pass a root index of 256 or more, and only `map_shared_page` writes
    // entry 255, of the kernel's root), so the kernel's mappings stay.
    unsafe { table(table_phys).add(index).write(entry) }
}

fn index(virt: u64, shift: u32) -> usize {
    ((virt >> shift) & INDEX_MASK) as usize
}

fn leaf_flags(rights: PageRights) -> u64 {
    let mut flags = Flags::PRESENT | Flags::USER_ACCESSIBLE | Flags::ACCESSED;
    if rights.write {
        flags |= Flags::WRITABLE | Flags::DIRTY;
    }
    if !rights.exec {
        flags |= paging::nx_flag();
    }
    if rights.uncached {
        flags |= Flags::NO_CACHE | Flags::WRITE_THROUGH;
    }
    flags.bits()
}

const INTERIOR: u64 =
    Flags::PRESENT.bits() | Flags::WRITABLE.bits() | Flags::USER_ACCESSIBLE.bits();

/// Where an interior entry below the root keeps the number of present
/// entries of the table it points to: bits 52-61, which the CPU ignores in
/// entries that are not leaves (SDM Vol. 3A, table 5-20: "Ignored"). So
/// freeing an address space visits only the entries that are there, not
/// all 512 of every table. Leaf tables are never scanned, so only the
/// entries of the upper two levels below the root carry a count.
const COUNT_SHIFT: u32 = 52;
const COUNT_MASK: u64 = 0x3ff << COUNT_SHIFT;
const _: () = assert!(COUNT_MASK & ADDRESS == 0 && COUNT_MASK & INTERIOR == 0);

/// The child count an interior entry carries.
fn children(entry: u64) -> usize {
    ((entry & COUNT_MASK) >> COUNT_SHIFT) as usize
}

/// A new root: empty user half, the kernel's upper half. Written as two
/// block stores (the user half zeroed, the rest copied), not entry by
/// entry: a fresh root holds no translation anyone cached, so the write
/// count ([`generation`]) need not move.
pub fn new_root() -> Option<u64> {
    let root = frame::alloc()?.addr();
    let kernel = paging::kernel_root();
    let shared = ENTRIES - SHARED_ROOT_ENTRY;
    // SAFETY: `root` is a frame just taken from the allocator (nothing
    // else refers to it) and `kernel` the kernel's root, both whole
    // tables in the direct map, distinct frames; the two ranges cover
    // entries 0..255 and 255..512 of 512, inside each table.
    unsafe {
        core::ptr::write_bytes(table(root), 0, SHARED_ROOT_ENTRY);
        core::ptr::copy_nonoverlapping(
            table(kernel).add(SHARED_ROOT_ENTRY),
            table(root).add(SHARED_ROOT_ENTRY),
            shared,
        );
    }
    Some(root)
}

/// Maps `phys` read-only, not executable, at `virt` in the shared entry of
/// the kernel's root, which every later [`new_root`] copies. Boot only,
/// before any address space exists; the tables come from the frame
/// allocator and are never freed.
///
/// # Panics
/// If `virt` is outside the shared entry or no frame is free (at boot).
pub fn map_shared_page(virt: u64, phys: u64) {
    assert!(index(virt, 39) == SHARED_ROOT_ENTRY && virt < 1 << 47);
    let interior = Flags::PRESENT.bits() | Flags::USER_ACCESSIBLE.bits();
    let mut table = paging::kernel_root();
    for shift in [39, 30, 21] {
        let i = index(virt, shift);
        let entry = read(table, i);
        table = if entry & Flags::PRESENT.bits() != 0 {
            entry & ADDRESS
        } else {
            let next = frame::alloc_zeroed()
                .expect("a frame for the shared page tables at boot")
                .addr();
            write(table, i, next | interior);
            next
        };
    }
    let leaf = Flags::PRESENT | Flags::USER_ACCESSIBLE | Flags::ACCESSED | paging::nx_flag();
    write(table, index(virt, 12), phys | leaf.bits());
}

/// Frees the user half's tables and the root; returns how many frames
/// that was. The address space must not be used again (if it is loaded,
/// the kernel's own root is loaded first). Mapped pages are not freed:
/// memory objects own them.
pub fn free_root(root: u64) -> u64 {
    if paging::active_root() == root {
        paging::load_kernel_root();
    }
    free_table(root, 4, USER_ROOT_ENTRIES)
}

/// Entries [`free_table`] skips at once when all of them are empty.
const SKIP: usize = 8;
const _: () = assert!(ENTRIES.is_multiple_of(SKIP));

/// Whether the [`SKIP`] entries of table `phys` from `first` (a multiple
/// of [`SKIP`]) are all empty: an absent entry below the root is 0
/// (tables are zeroed, leaves cleared to 0), and so is an absent root
/// entry of the user half.
fn empty_run(phys: u64, first: usize) -> bool {
    let mut any = 0;
    for i in first..first.wrapping_add(SKIP) {
        any |= read(phys, i);
    }
    any == 0
}

/// Frees `phys`, a table of `level`, and the tables below it; the scan
/// stops after `present` present entries (the root's count is not kept:
/// it passes its entry count), and skips runs of empty entries
/// [`SKIP`] at a time.
fn free_table(phys: u64, level: u8, present: usize) -> u64 {
    let mut freed: u64 = 1;
    if level > 1 {
        let mut left = present;
        let mut i = 0;
        while left > 0 && i < ENTRIES {
            // At the root, `left` counts the entries still to pass: never
            // past the user half.
            if i.is_multiple_of(SKIP) && (level < 4 || left >= SKIP) && empty_run(phys, i) {
                // `i + SKIP <= ENTRIES` (a multiple of SKIP below it).
                i = i.wrapping_add(SKIP);
                if level == 4 {
                    // As below: the root counts every entry it passes.
                    left = left.wrapping_sub(SKIP);
                }
                continue;
            }
            let entry = read(phys, i);
            if entry & Flags::PRESENT.bits() != 0 {
                // `level > 1`; the count is of tables, bounded by RAM.
                let below = level.wrapping_sub(1);
                let count = if below > 1 { children(entry) } else { 0 };
                freed = freed.wrapping_add(free_table(entry & ADDRESS, below, count));
                left = left.wrapping_sub(1);
            } else if level == 4 {
                // The root's "count" is its number of user entries.
                left = left.wrapping_sub(1);
            }
            // Below 512.
            i = i.wrapping_add(1);
        }
    }
    frame::free(kcore::frame::FrameNumber(phys / PAGE));
    freed
}

/// The leaf table covering `virt`, or the shift of the level whose entry
/// is missing (the span of addresses with no table: `1 << shift`).
fn leaf_table(root: u64, virt: u64) -> Result<u64, u32> {
    let mut table = root;
    for shift in [39, 30, 21] {
        let entry = read(table, index(virt, shift));
        if entry & Flags::PRESENT.bits() == 0 {
            return Err(shift);
        }
        table = entry & ADDRESS;
    }
    Ok(table)
}

/// What an access to user memory does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read.
    Read,
    /// A write.
    Write,
    /// An instruction fetch.
    Exec,
}

/// The physical address `virt` maps to, if its page is present and
/// user-accessible (and writable, for [`Access::Write`]) at every level. (Only this
/// module writes the user half, and it never makes a huge page, so every
/// present interior entry points to a table.)
#[inline(always)]
pub fn translate(root: u64, virt: u64, access: Access) -> Option<u64> {
    walk(root, virt, access, 0)
}

/// [`translate`] for a page the kernel may read through the direct map
/// (futex words): `None` also for an uncached leaf, which only device
/// memory has.
#[inline(always)]
pub fn translate_ram(root: u64, virt: u64, access: Access) -> Option<u64> {
    walk(root, virt, access, Flags::NO_CACHE.bits())
}

/// The walk of [`translate`]; a leaf with any of the `refused` bits set
/// counts as absent.
#[inline(always)]
fn walk(root: u64, virt: u64, access: Access, refused: u64) -> Option<u64> {
    if virt >= abi::layout::USER_END {
        return None;
    }
    let mut required = (Flags::PRESENT | Flags::USER_ACCESSIBLE).bits();
    if access == Access::Write {
        required |= Flags::WRITABLE.bits();
    }
    let mut table = root;
    let mut entry = 0;
    for shift in [39, 30, 21, 12] {
        entry = read(table, index(virt, shift));
        if entry & required != required {
            return None;
        }
        table = entry & ADDRESS;
    }
    if entry & refused != 0 {
        return None;
    }
    // `table` is the page's frame, page-aligned: `|` adds the offset.
    Some(table.wrapping_add(virt & (PAGE - 1)))
}

/// Maps the user page `virt` to `phys`, replacing whatever was there.
/// Missing tables come from `new_table` (zeroed here). Returns the number
/// of tables added and the flush for a replaced entry.
///
/// # Errors
/// [`NoTable`] if `new_table` fails; tables added before stay (they are
/// empty and go with the address space).
pub fn map(
    root: u64,
    virt: u64,
    phys: u64,
    rights: PageRights,
    new_table: &mut impl FnMut() -> Option<u64>,
) -> Result<(u64, TlbFlush), (u64, NoTable)> {
    debug_assert!(virt < abi::layout::USER_END && virt.is_multiple_of(PAGE));
    let mut added = 0;
    let mut table = root;
    // The entry pointing at `table` (none for the root), whose count goes
    // up when `table` gets a new child.
    let mut parent: Option<(u64, usize)> = None;
    for shift in [39, 30, 21] {
        let i = index(virt, shift);
        let entry = read(table, i);
        let next = if entry & Flags::PRESENT.bits() != 0 {
            entry & ADDRESS
        } else {
            let Some(new) = new_table() else {
                return Err((added, NoTable));
            };
            zero(new);
            write(table, i, new | INTERIOR);
            if let Some((holder, at)) = parent {
                // A table has at most 512 entries: the count fits its bits.
                let counted = read(holder, at).wrapping_add(1 << COUNT_SHIFT);
                write(holder, at, counted);
            }
            // At most one table per level.
            added = added.wrapping_add(1);
            new
        };
        parent = Some((table, i));
        table = next;
    }
    let i = index(virt, 12);
    let old = read(table, i);
    write(table, i, phys | leaf_flags(rights));
    let mut flush = TlbFlush::none(root);
    if old & Flags::PRESENT.bits() != 0 {
        flush.add(virt);
    }
    Ok((added, flush))
}

fn zero(phys: u64) {
    // SAFETY: `phys` is a frame the caller just allocated for a table, in
    // the direct map; nothing else refers to it yet.
    unsafe { core::ptr::write_bytes(table(phys), 0, ENTRIES) };
}

/// Maps each page of `[start, end)` that has no leaf yet to `phys(virt)`,
/// when that gives one, with `rights`. The range lies inside the leaf
/// table that covers `start`; nothing is mapped if that table is
/// missing (no table is made here). An absent leaf is never cached, so
/// nothing needs a flush.
pub fn map_absent(
    root: u64,
    start: u64,
    end: u64,
    rights: PageRights,
    mut phys: impl FnMut(u64) -> Option<u64>,
) {
    debug_assert!(end <= (start | LEAF_TABLE_SPAN_MASK).wrapping_add(1));
    let Ok(leaf) = leaf_table(root, start) else {
        return;
    };
    let flags = leaf_flags(rights);
    let mut virt = start;
    while virt < end {
        let i = index(virt, 12);
        if read(leaf, i) & Flags::PRESENT.bits() == 0
            && let Some(page) = phys(virt)
        {
            write(leaf, i, page | flags);
        }
        // Below `end`, inside user space.
        virt = virt.wrapping_add(PAGE);
    }
}

/// Clears the leaf at `virt` if it maps `phys` (any page, for `None`).
pub fn unmap_page(root: u64, virt: u64, phys: Option<u64>) -> TlbFlush {
    let mut flush = TlbFlush::none(root);
    if let Ok(leaf) = leaf_table(root, virt) {
        let i = index(virt, 12);
        let entry = read(leaf, i);
        if entry & Flags::PRESENT.bits() != 0 && phys.is_none_or(|p| entry & ADDRESS == p) {
            write(leaf, i, 0);
            flush.add(virt);
        }
    }
    flush
}

/// Applies `change` to every present leaf in `[start, end)` (which must be
/// inside user space), skipping absent tables; `change` returns the new
/// entry. Returns the flush for the leaves it changed.
fn update_range(root: u64, start: u64, end: u64, change: impl Fn(u64) -> u64) -> TlbFlush {
    let mut flush = TlbFlush::none(root);
    let mut virt = start;
    while virt < end {
        let leaf = match leaf_table(root, virt) {
            Ok(leaf) => leaf,
            Err(shift) => {
                // No table below this entry: skip all it would cover.
                // `virt` is in user space, far below 2^64.
                virt = (virt | (1_u64 << shift).wrapping_sub(1)).wrapping_add(1);
                continue;
            }
        };
        let last = end.min((virt | LEAF_TABLE_SPAN_MASK).wrapping_add(1));
        while virt < last {
            let i = index(virt, 12);
            let entry = read(leaf, i);
            if entry & Flags::PRESENT.bits() != 0 {
                let new = change(entry);
                if new != entry {
                    write(leaf, i, new);
                    flush.add(virt);
                }
            }
            virt = virt.wrapping_add(PAGE);
        }
    }
    flush
}

/// Clears every leaf in `[start, end)`.
pub fn unmap_range(root: u64, start: u64, end: u64) -> TlbFlush {
    update_range(root, start, end, |_| 0)
}

/// Makes every leaf in `[start, end)` read-only.
pub fn write_protect_range(root: u64, start: u64, end: u64) -> TlbFlush {
    update_range(root, start, end, |entry| entry & !Flags::WRITABLE.bits())
}
