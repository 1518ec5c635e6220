//! The heap: the `talc` allocator over one memory object that the program
//! maps itself and commits as the heap grows.
//!
//! At start the runtime picks the heap base (from [`HEAP_BASE`], moved by
//! a random number of pages when address-space randomisation is on). On
//! the first allocation it creates an anonymous memory object of
//! [`RESERVE_PAGES`] pages (one frame until pages are touched) and maps it
//! there, so a program that never allocates pays nothing for a heap. When
//! `talc` runs out of room it asks [`Grow`] for more: the next pages are
//! committed with
//! `AspacePopulate`, which takes them from the budget now, and handed to
//! `talc`. A budget that cannot pay makes the populate fail, and the
//! allocation returns null: `Vec::try_reserve` reports the error, and an
//! infallible allocation ends the process through the runtime's panic
//! policy. A later touch of heap memory never faults for want of memory.
//!
//! The lock is the futex [`RawMutex`]: a thread that finds the heap busy
//! sleeps instead of spinning.

use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use abi::CapSlot;
use abi::layout::PAGE_BYTES;

use crate::sync::RawMutex;
use crate::sys;

/// Where the heap starts before randomisation.
pub const HEAP_BASE: u64 = 0x0000_1000_0000_0000;
/// How far randomisation may move it, in pages (4 GiB).
pub const HEAP_RANDOM_PAGES: u64 = 1 << 20;
/// Pages of address space the heap may grow to (64 GiB).
pub const RESERVE_PAGES: u64 = 1 << 24;
/// Pages committed at least per growth.
const GROW_MIN_PAGES: u64 = 4;
/// Pages committed by one `AspacePopulate` call (the kernel's limit).
const POPULATE_CHUNK: u64 = abi::syscall::POPULATE_MAX_PAGES;

/// The heap's address, 0 until [`init`] chose it.
static BASE: AtomicU64 = AtomicU64::new(0);
/// The program's address space, to map and populate.
static ASPACE: AtomicU32 = AtomicU32::new(0);
/// The budget that pays for the heap's object.
static BUDGET: AtomicU32 = AtomicU32::new(0);

/// The `talc` source: commits pages at the end of the heap. It also
/// keeps the free whole pages ([`Heap`]), under the same lock.
#[derive(Debug)]
pub struct Grow {
    /// The end of what talc manages (None before the first claim).
    heap_end: Option<HeapEnd>,
    /// The end of the committed pages.
    committed: u64,
    /// The first free whole page (0: none); each free page holds the
    /// address of the next in its first word.
    free_pages: u64,
}

// SAFETY: `acquire` hands talc only memory it has just committed at the
// end of the heap's own region, which nothing else in the program uses;
// it never calls the global allocator (it makes syscalls and touches
// atomics only).
unsafe impl talc::source::Source for Grow {
    fn acquire<B: talc::base::binning::Binning>(
        talc: &mut talc::base::Talc<Self, B>,
        layout: Layout,
    ) -> Result<(), ()> {
        let base = BASE.load(Ordering::Acquire);
        if base == 0 {
            return Err(());
        }
        let source = &mut talc.source;
        if source.committed == 0 {
            map_reserve(base)?;
        }
        let start = if source.committed == 0 {
            base
        } else {
            source.committed
        };
        let used_pages = (start - base) / PAGE_BYTES;
        // Enough for the request with room for talc's tags, and at least
        // as much again as the heap holds, so growth is geometric.
        let need = (layout.size() as u64)
            .checked_add(layout.align() as u64)
            .and_then(|n| n.checked_add(4 * PAGE_BYTES))
            .ok_or(())?
            .div_ceil(PAGE_BYTES);
        let pages = need.max(used_pages).max(GROW_MIN_PAGES);
        if used_pages
            .checked_add(pages)
            .is_none_or(|end| end > RESERVE_PAGES)
        {
            return Err(());
        }
        commit(start, pages)?;
        let end = start + pages * PAGE_BYTES;
        source.committed = end;
        let new_end = end as *mut u8;
        let heap_end = match source.heap_end {
            // SAFETY: [start, end) was just committed, lies in the heap's
            // own region and is used by nothing but this allocator.
            None => unsafe { talc.claim(start as *mut u8, (end - start) as usize) }.ok_or(())?,
            // SAFETY: as above; `heap_end` is what talc returned last.
            Some(HeapEnd(heap_end)) => unsafe { talc.extend(heap_end, new_end) },
        };
        talc.source.heap_end = Some(HeapEnd(heap_end));
        Ok(())
    }
}

/// The end of the heap, as talc reported it.
#[derive(Clone, Copy, Debug)]
struct HeapEnd(NonNull<u8>);

// SAFETY: a heap address, used only under the allocator's lock.
unsafe impl Send for HeapEnd {}

/// Maps the heap's memory object at `base` (the first allocation's work).
fn map_reserve(base: u64) -> Result<(), ()> {
    let budget = CapSlot(BUDGET.load(Ordering::Relaxed));
    let aspace = CapSlot(ASPACE.load(Ordering::Relaxed));
    let memory = sys::memory_create(budget, RESERVE_PAGES).map_err(|_| ())?;
    let flags = abi::MapFlags::READ | abi::MapFlags::WRITE;
    let mapped = sys::aspace_map(aspace, memory, 0, base, RESERVE_PAGES, flags);
    // The region holds the object now (or the map failed).
    let _ = sys::cap_delete(memory);
    mapped.map_err(|_| ())
}

/// Commits `pages` pages from `start` with `AspacePopulate`.
fn commit(start: u64, pages: u64) -> Result<(), ()> {
    let aspace = CapSlot(ASPACE.load(Ordering::Relaxed));
    let mut done = 0;
    while done < pages {
        let chunk = (pages - done).min(POPULATE_CHUNK);
        sys::aspace_populate(aspace, start + done * PAGE_BYTES, chunk).map_err(|_| ())?;
        done += chunk;
    }
    Ok(())
}

type Allocator = talc::TalcLock<RawMutex, Grow>;

/// The allocator (the global one in programs built for Mica).
#[cfg_attr(target_os = "none", global_allocator)]
static ALLOCATOR: Heap = Heap(Allocator::new(Grow {
    heap_end: None,
    committed: 0,
    free_pages: 0,
}));

/// Whole pages taken from talc at once for [`Heap`]'s free list.
const PAGES_PER_CARVE: usize = 16;

/// The global allocator: `talc`, except that a whole page (size and
/// alignment `PAGE_BYTES`: a file server's data page, say) comes from a
/// free list of pages carved [`PAGES_PER_CARVE`] at a time. From talc
/// each would cost two pages, as talc's tag after a chunk leaves the next
/// page-aligned place a page further on. Freed pages go back to the
/// list, not to talc.
pub struct Heap(Allocator);

/// Whether `layout` is one whole page (the alignment first: most
/// allocations fail that test at once).
#[inline(always)]
fn is_page(layout: Layout) -> bool {
    layout.align() == PAGE_BYTES as usize && layout.size() == PAGE_BYTES as usize
}

impl Heap {
    fn lock(
        &self,
    ) -> lock_api::MutexGuard<'_, RawMutex, talc::base::Talc<Grow, talc::DefaultBinning>> {
        self.0.lock()
    }

    /// A page from the free list, carving more from talc when it is empty.
    #[inline(never)]
    fn alloc_page(&self) -> *mut u8 {
        let mut talc = self.lock();
        if talc.source.free_pages == 0 {
            let page = PAGE_BYTES as usize;
            let Ok(block) = Layout::from_size_align(page * PAGES_PER_CARVE, page) else {
                return core::ptr::null_mut();
            };
            // SAFETY: `block` has a non-zero size.
            let Some(start) = (unsafe { talc.allocate(block) }) else {
                return core::ptr::null_mut();
            };
            let start = start.as_ptr() as u64;
            for i in (0..PAGES_PER_CARVE as u64).rev() {
                let free = start + i * PAGE_BYTES;
                // SAFETY: `free` is a page of the block just allocated,
                // which this list owns from now on.
                unsafe { (free as *mut u64).write(talc.source.free_pages) };
                talc.source.free_pages = free;
            }
        }
        let page = talc.source.free_pages;
        // SAFETY: a page on the free list, whose first word is the next.
        talc.source.free_pages = unsafe { (page as *const u64).read() };
        page as *mut u8
    }

    /// Puts `page` (from [`Heap::alloc_page`]) back on the free list.
    ///
    /// # Safety
    /// `page` was allocated as a whole page and is no longer used.
    #[inline(never)]
    unsafe fn free_page(&self, page: *mut u8) {
        let mut talc = self.lock();
        // SAFETY: the caller's contract: the page is ours again.
        unsafe { (page as *mut u64).write(talc.source.free_pages) };
        talc.source.free_pages = page as u64;
    }
}

// SAFETY: whole pages come from blocks talc allocated for the list and
// are handed out once until freed; everything else is talc's own
// `GlobalAlloc`, whose contract the callers keep.
unsafe impl core::alloc::GlobalAlloc for Heap {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_page(layout) {
            return self.alloc_page();
        }
        // SAFETY: the caller's contract.
        unsafe { self.0.alloc(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_page(layout) {
            // SAFETY: a page allocation (same layout), freed by its owner.
            return unsafe { self.free_page(ptr) };
        }
        // SAFETY: the caller's contract.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let page = PAGE_BYTES as usize;
        let into_page = new_size == page && layout.align() == page;
        if !is_page(layout) && !into_page {
            // SAFETY: the caller's contract.
            return unsafe { self.0.realloc(ptr, layout, new_size) };
        }
        // Into or out of a whole page: a new allocation and a copy.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `new_size` is non-zero (the caller's contract).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both are live allocations of at least the smaller
            // size, and distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// Locks the heap until the guard drops (`fork` holds it across the
/// clone, so the child's copy of the heap is consistent).
pub(crate) fn lock() -> impl Drop {
    ALLOCATOR.0.lock()
}

/// Why the heap could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeapError {
    /// `init` ran before.
    AlreadySet,
    /// The base is not page-aligned or leaves no room for the reserve.
    BadBase,
}

/// Sets the heap up at `base` (page-aligned) in `aspace`, paid by
/// `budget`. Nothing is mapped until the first allocation.
///
/// # Errors
/// [`HeapError`].
pub fn init(budget: CapSlot, aspace: CapSlot, base: u64) -> Result<(), HeapError> {
    if BASE.load(Ordering::Acquire) != 0 {
        return Err(HeapError::AlreadySet);
    }
    let fits = base
        .checked_add(RESERVE_PAGES * PAGE_BYTES)
        .is_some_and(|end| end <= abi::layout::USER_END);
    if base == 0 || !base.is_multiple_of(PAGE_BYTES) || !fits {
        return Err(HeapError::BadBase);
    }
    ASPACE.store(aspace.0, Ordering::Relaxed);
    BUDGET.store(budget.0, Ordering::Relaxed);
    BASE.store(base, Ordering::Release);
    Ok(())
}

/// Where the heap is (0 before [`init`]).
pub fn base() -> u64 {
    BASE.load(Ordering::Relaxed)
}

/// Bytes of the heap committed so far.
pub fn committed_bytes() -> u64 {
    let end = ALLOCATOR.0.lock().source.committed;
    end.saturating_sub(base())
}
