//! The kernel's physical frame allocator: `kcore::frame::FrameBitmap` over
//! the memory map, with its bitmap stored in RAM it reserves for itself.
//!
//! Never hands out the kernel image, the initramfs, the boot structures,
//! the bitmap itself, the first MiB or anything the memory map does not
//! call RAM. Free counts are exact (tests compare them before and after).

use kcore::frame::{FRAME_BYTES, FrameBitmap, FrameNumber};
use kcore::memmap::{PhysRange, usable_ranges};

use crate::config::{DIRECT_MAP_BASE, MAX_MEMMAP_ENTRIES};

static FRAMES: spin::Mutex<Option<FrameBitmap<'static>>> = spin::Mutex::new(None);
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
    let mut usable = [PhysRange::new(0, 0); MAX_MEMMAP_ENTRIES * 2];
    let count = usable_ranges(ram, reserved, &mut usable).expect("memory map fits");
    let usable = &usable[..count];
    let top = usable.iter().map(|r| r.end).max().unwrap_or(0);
    let frames = top / FRAME_BYTES;
    let words = FrameBitmap::words_needed(frames);
    let bytes = (words as u64 * 8).div_ceil(FRAME_BYTES) * FRAME_BYTES;
    let home = usable
        .iter()
        .find(|r| r.end <= EARLY_MAP_BYTES && r.len() >= bytes)
        .map(|r| r.start)
        .expect("a RAM range below 4 GiB for the frame bitmap");
    // SAFETY: [home, home + bytes) is usable RAM (not the kernel, the
    // initramfs or boot data), mapped by the boot page tables at
    // DIRECT_MAP_BASE and by the kernel's direct map afterwards; it is
    // reserved below before any frame is handed out, so this slice is its
    // only user for the life of the kernel.
    let storage =
        unsafe { core::slice::from_raw_parts_mut((DIRECT_MAP_BASE + home) as *mut u64, words) };
    let mut bitmap = FrameBitmap::new(storage, frames).expect("bitmap sized by words_needed");
    for r in usable {
        bitmap.add_free_range(FrameNumber(r.start / FRAME_BYTES), r.len() / FRAME_BYTES);
    }
    bitmap.reserve_range(FrameNumber(home / FRAME_BYTES), bytes / FRAME_BYTES);
    let free = bitmap.free_count();
    TOTAL.store(free, core::sync::atomic::Ordering::Relaxed);
    *FRAMES.lock() = Some(bitmap);
    (free, free)
}

/// Takes a free frame (contents undefined).
pub fn alloc() -> Option<FrameNumber> {
    FRAMES.lock().as_mut()?.alloc()
}

/// Takes a free frame and zeroes it.
pub fn alloc_zeroed() -> Option<FrameNumber> {
    let frame = alloc()?;
    // SAFETY: the frame was just taken from the allocator, so nothing else
    // refers to it, and the direct map covers all RAM.
    unsafe {
        core::ptr::write_bytes(
            (DIRECT_MAP_BASE + frame.addr()) as *mut u8,
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
    let bitmap = guard.as_mut().expect("frame allocator initialised");
    bitmap.free(frame).expect("freeing an allocated frame");
}

/// (free, total) frames right now.
pub fn counts() -> (u64, u64) {
    let free = FRAMES.lock().as_ref().map_or(0, |b| b.free_count());
    (free, TOTAL.load(core::sync::atomic::Ordering::Relaxed))
}
