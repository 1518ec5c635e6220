//! The kernel's physical frame allocator: `kcore::frame::FrameBitmap` over
//! the memory map, with its bitmap stored in RAM it reserves for itself.
//!
//! Never hands out the kernel image, the initramfs, the boot structures,
//! the bitmap itself, the first MiB or anything the memory map does not
//! call RAM. Free counts are exact (tests compare them before and after).
//!
//! User pages (the frames memory objects hold) also have a [`PageMeta`]
//! each, in an array beside the bitmap: how many memory objects hold the
//! page (copy-on-write clones and lent buffers share pages), and which
//! budget paid for it, to refund when the last holder lets go.
//!
//! The array is not cleared at boot (at 8 bytes a frame that is 1 MiB of
//! stores for 512 MiB of RAM, and 32 MiB for 16 GiB): an entry means
//! something only while its frame is a user page, [`page_init`] writes
//! all of it when the frame becomes one, and nothing reads an entry
//! before that. Every bit pattern is a valid `PageMeta`.
//!
//! The array covers all RAM in the direct map's reach, not only the frames
//! the allocator manages: pages of the initramfs become user pages too
//! ([`page_init_pinned`]: the first program's image is mapped from there,
//! copy-on-write). Such a page holds one reference that is never
//! released, so it is never freed and never written in place.

use kcore::frame::{FRAME_BYTES, FrameBitmap, FrameNumber};
use kcore::memmap::{PhysRange, usable_ranges};

use crate::config::{DIRECT_MAP_BASE, DIRECT_MAP_MAX_BYTES, MAX_MEMMAP_ENTRIES};

/// Bookkeeping of one frame while it holds a user page.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct PageMeta {
    /// Memory objects holding the page, plus one if it is pinned
    /// ([`page_init_pinned`]).
    pub refs: u32,
    /// The budget that paid for it (`ObjId::frame_number`), 0 for none.
    pub budget: u32,
}

/// The allocator and the page bookkeeping.
struct Frames {
    bitmap: FrameBitmap<'static>,
    meta: &'static mut [PageMeta],
}

static FRAMES: spin::Mutex<Option<Frames>> = spin::Mutex::new(None);
/// The memory map's RAM ranges (device memory must stay clear of them).
static RAM: spin::Once<([PhysRange; MAX_MEMMAP_ENTRIES], usize)> = spin::Once::new();
/// Frames the allocator manages (free at boot, before the first allocation).
static TOTAL: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The boot code maps only this much of physical memory at DIRECT_MAP_BASE
/// until the kernel page tables exist; the bitmap must lie below it.
const EARLY_MAP_BYTES: u64 = 4 << 30;

/// Sets up the allocator. `ram` are the memory map's RAM ranges,
/// `reserved` what must never be handed out. Returns (free, total) frames.
///
/// # Panics
/// If no RAM range below 4 GiB can hold the bitmap (a broken boot).
pub fn init(ram: &[PhysRange], reserved: &[PhysRange]) -> (u64, u64) {
    RAM.call_once(|| {
        let mut copy = [PhysRange::new(0, 0); MAX_MEMMAP_ENTRIES];
        let count = ram.len().min(MAX_MEMMAP_ENTRIES);
        copy[..count].copy_from_slice(&ram[..count]);
        (copy, count)
    });
    let mut usable = [PhysRange::new(0, 0); MAX_MEMMAP_ENTRIES * 2];
    let count = usable_ranges(ram, reserved, &mut usable).expect("memory map fits");
    let usable = &usable[..count];
    let top = usable.iter().map(|r| r.end).max().unwrap_or(0);
    let frames = top / FRAME_BYTES;
    // Page bookkeeping for every RAM frame in the direct map (boot modules
    // lie above the last usable frame when they end RAM).
    let ram_top = ram.iter().map(|r| r.end).max().unwrap_or(0);
    let meta_frames = (ram_top.min(DIRECT_MAP_MAX_BYTES) / FRAME_BYTES).max(frames);
    let words = FrameBitmap::words_needed(frames);
    // `words` and `meta_frames` count frames below 2^52 and a `PageMeta`
    // is 8 bytes: these sizes stay below 2^56 and cannot wrap.
    const _: () = assert!(core::mem::size_of::<PageMeta>() <= 8);
    let bitmap_bytes = (words as u64)
        .wrapping_mul(8)
        .div_ceil(FRAME_BYTES)
        .wrapping_mul(FRAME_BYTES);
    let meta_bytes = meta_frames
        .wrapping_mul(core::mem::size_of::<PageMeta>() as u64)
        .div_ceil(FRAME_BYTES)
        .wrapping_mul(FRAME_BYTES);
    let bytes = bitmap_bytes.wrapping_add(meta_bytes);
    let home = usable
        .iter()
        .find(|r| r.end <= EARLY_MAP_BYTES && r.len() >= bytes)
        .map(|r| r.start)
        .expect("a RAM range below 4 GiB for the frame bitmap");
    // SAFETY: [home, home + bytes) is usable RAM (not the kernel, the
    // initramfs or boot data), mapped by the boot page tables at
    // DIRECT_MAP_BASE and by the kernel's direct map afterwards; it is
    // reserved below before any frame is handed out, so the two slices
    // (bitmap words, then the page bookkeeping, not overlapping) are its
    // only users for the life of the kernel. Neither is cleared here: the
    // bitmap writes each word when a range first reaches it
    // (`FrameBitmap::new`), and any bytes are valid `PageMeta`s, each
    // written by `page_init` before it is read (module header).
    let (storage, meta) = unsafe {
        let base = DIRECT_MAP_BASE.wrapping_add(home);
        (
            core::slice::from_raw_parts_mut(base as *mut u64, words),
            core::slice::from_raw_parts_mut(
                base.wrapping_add(bitmap_bytes) as *mut PageMeta,
                meta_frames as usize,
            ),
        )
    };
    let mut bitmap = FrameBitmap::new(storage, frames).expect("bitmap sized by words_needed");
    for r in usable {
        bitmap.add_free_range(FrameNumber(r.start / FRAME_BYTES), r.len() / FRAME_BYTES);
    }
    bitmap.reserve_range(FrameNumber(home / FRAME_BYTES), bytes / FRAME_BYTES);
    let free = bitmap.free_count();
    TOTAL.store(free, core::sync::atomic::Ordering::Relaxed);
    *FRAMES.lock() = Some(Frames { bitmap, meta });
    (free, free)
}

/// Whether `[start, end)` overlaps a RAM range of the memory map.
pub fn touches_ram(start: u64, end: u64) -> bool {
    RAM.get().is_none_or(|(ranges, count)| {
        ranges[..*count]
            .iter()
            .any(|r| r.start < end && start < r.end)
    })
}

/// Takes a free frame (contents undefined).
pub fn alloc() -> Option<FrameNumber> {
    FRAMES.lock().as_mut()?.bitmap.alloc()
}

/// Takes a free frame and zeroes it.
pub fn alloc_zeroed() -> Option<FrameNumber> {
    let frame = alloc()?;
    // SAFETY: the frame was just taken from the allocator, so nothing else
    // refers to it, and the direct map covers all RAM.
    unsafe {
        core::ptr::write_bytes(
            DIRECT_MAP_BASE.wrapping_add(frame.addr()) as *mut u8,
            0,
            FRAME_BYTES as usize,
        )
    };
    Some(frame)
}

/// Returns a frame. A frame that was not allocated is a kernel bug.
///
/// # Panics
/// On a double free or a frame outside the allocator's range.
pub fn free(frame: FrameNumber) {
    let mut guard = FRAMES.lock();
    let frames = guard.as_mut().expect("frame allocator initialised");
    frames
        .bitmap
        .free(frame)
        .expect("freeing an allocated frame");
}

/// (free, total) frames right now.
pub fn counts() -> (u64, u64) {
    let free = FRAMES.lock().as_ref().map_or(0, |f| f.bitmap.free_count());
    (free, TOTAL.load(core::sync::atomic::Ordering::Relaxed))
}

/// Runs `f` on the bookkeeping of `frame`, an allocated frame.
///
/// # Panics
/// For a frame outside the allocator's range (a kernel bug: only frames
/// from [`alloc`] hold user pages).
fn with_meta<R>(frame: FrameNumber, f: impl FnOnce(&mut PageMeta) -> R) -> R {
    let mut guard = FRAMES.lock();
    let frames = guard.as_mut().expect("frame allocator initialised");
    f(&mut frames.meta[frame.0 as usize])
}

/// Makes a freshly allocated frame a user page held once, paid for by
/// `budget` (0 for none). Writes the whole [`PageMeta`]: the other
/// `page_*` functions are only for frames this has been called on.
pub fn page_init(frame: FrameNumber, budget: u32) {
    with_meta(frame, |m| *m = PageMeta { refs: 1, budget });
}

/// Makes `frame`, RAM the allocator never hands out (a page of the
/// initramfs), a user page held once and pinned: a second reference that
/// is never released, so the page is never freed (nor its budget
/// refunded: none paid) and, held twice or more, always shared, so a write
/// copies it. Boot only, once per frame. `false` if the frame has no
/// bookkeeping (not RAM in the direct map) or is free; nothing changes
/// then.
pub fn page_init_pinned(frame: FrameNumber) -> bool {
    let mut guard = FRAMES.lock();
    let frames = guard.as_mut().expect("frame allocator initialised");
    // A free frame would be handed out while mapped: never pin one.
    if frames.bitmap.is_free(frame) {
        return false;
    }
    let Some(meta) = frames.meta.get_mut(frame.0 as usize) else {
        return false;
    };
    *meta = PageMeta { refs: 2, budget: 0 };
    true
}

/// One more memory object holds the page.
pub fn page_share(frame: FrameNumber) {
    // Each holder is a memory object in the direct map, and fewer than
    // 2^32 of them fit there (asserted in `object::memory`).
    with_meta(frame, |m| m.refs = m.refs.wrapping_add(1));
}

/// How many memory objects hold the page.
pub fn page_refs(frame: FrameNumber) -> u32 {
    with_meta(frame, |m| m.refs)
}

/// A memory object lets go of the page. At the last holder the frame is
/// freed and the budget that paid for it returned (`Some`, 0 for none).
pub fn page_release(frame: FrameNumber) -> Option<u32> {
    let mut guard = FRAMES.lock();
    let frames = guard.as_mut().expect("frame allocator initialised");
    let meta = &mut frames.meta[frame.0 as usize];
    meta.refs = meta.refs.saturating_sub(1);
    if meta.refs != 0 {
        return None;
    }
    let budget = meta.budget;
    frames
        .bitmap
        .free(frame)
        .expect("freeing an allocated frame");
    Some(budget)
}
