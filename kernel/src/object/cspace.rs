//! Capability spaces: a header frame plus slot pages of 64 slots each.
//!
//! The header holds the physical addresses of the slot pages (all
//! allocated when the space is created, so no later operation can run out
//! of memory for a slot) and a bitmap of used slots (`kcore::slots`), which
//! finds the lowest free slot without scanning slot by slot. Slot 0 never
//! holds a capability.
//!
//! The slot pages are made ready (their slots written empty) in order,
//! the first at creation and each later one when a slot of it is first
//! reserved: a process that uses a few slots of its 256 never pays for
//! writing the rest. A slot of a page not yet ready is empty, and
//! [`CSpace::slot_id`] answers none for it, so nothing reads its bytes.
//!
//! [`lookup`] is the one place that turns a slot number into an object: it
//! checks the slot, the object type and the rights together.
//!
//! Lifetime: `header.refs` counts capabilities to the space and threads
//! using it; at zero the kernel deletes every slot and frees the pages.

use core::num::NonZeroU64;

use abi::syscall::CSPACE_MAX_SLOTS;
use abi::{CapSlot, Rights, SysError};
use kcore::frame::{FRAME_BYTES, FrameNumber};
use kcore::slots::SlotBitmap;

use crate::cap::{CapTarget, Capability, ObjectRef, SLOT_BYTES, Slot, SlotId};
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::budget::{self, Budget};
use crate::object::lifetime::Header;

/// Slots per slot page.
pub const SLOTS_PER_PAGE: u32 = (FRAME_BYTES as usize / SLOT_BYTES) as u32;
const MAX_PAGES: usize = (CSPACE_MAX_SLOTS / SLOTS_PER_PAGE as u64) as usize;
const BITMAP_WORDS: usize = CSPACE_MAX_SLOTS as usize / 64;

/// A capability space's header.
#[repr(C)]
pub struct CSpace {
    /// References (capabilities and threads using it) and the budget that
    /// paid for it and its slot pages.
    pub header: Header,
    /// Physical addresses of the slot pages (0 past the last).
    pages: [u64; MAX_PAGES],
    /// Slots made ready (pages from the first, a whole number of them):
    /// below it every slot holds a valid `Slot`.
    ready: u32,
    /// Its own id (the owner its slots name).
    me: ObjId<CSpace>,
    /// Which slots are full.
    used: SlotBitmap<BITMAP_WORDS>,
}

crate::kernel_object!(CSpace);

/// Frames a capability space of `slots` slots takes: its header and its
/// slot pages.
pub fn frames_for(slots: u64) -> u64 {
    // At most MAX_PAGES slot pages.
    (slot_pages(slots) as u64).wrapping_add(1)
}

fn slot_pages(slots: u64) -> usize {
    slots
        .div_ceil(u64::from(SLOTS_PER_PAGE))
        .clamp(1, MAX_PAGES as u64) as usize
}

/// Creates a capability space of `slots` slots (rounded up to a page),
/// paid for by `budget` ([`frames_for`] frames).
///
/// # Errors
/// [`SysError::OutOfMemory`] if the budget cannot pay or a frame is
/// missing (nothing is kept).
pub fn create(
    k: &mut Kernel,
    slots: u64,
    budget: ObjId<Budget>,
) -> Result<ObjId<CSpace>, SysError> {
    let count = slot_pages(slots);
    let frames = frames_for(slots);
    budget::charge(k, budget, frames)?;
    // The slot pages first, so that a failure frees only frames.
    let mut pages = [0; MAX_PAGES];
    for page in 0..count {
        let Some(frame) = frame::alloc() else {
            free_frames(&mut pages);
            budget::refund(k, budget, frames);
            return Err(SysError::OutOfMemory);
        };
        pages[page] = frame.addr();
    }
    // `count` is at most MAX_PAGES, so this is at most CSPACE_MAX_SLOTS.
    let limit = (count as u32).wrapping_mul(SLOTS_PER_PAGE);
    let Ok(id) = k.objects.alloc_with(|me| CSpace {
        header: Header::new(budget),
        pages,
        ready: 0,
        me,
        used: SlotBitmap::new(limit),
    }) else {
        free_frames(&mut pages);
        budget::refund(k, budget, frames);
        return Err(SysError::OutOfMemory);
    };
    k.objects.get_mut(id).make_ready(0);
    Ok(id)
}

fn slot_at(page: u64, offset: u32) -> SlotId {
    // `offset < SLOTS_PER_PAGE`: the slot lies inside the page.
    debug_assert!(offset < SLOTS_PER_PAGE);
    let phys = page.wrapping_add(u64::from(offset).wrapping_mul(SLOT_BYTES as u64));
    // Slot pages come from the frame allocator, which never hands out frame 0.
    SlotId(NonZeroU64::new(phys).expect("slot pages are never frame 0"))
}

/// Frees the frames of slot pages (0 entries are unused).
fn free_frames(pages: &mut [u64; MAX_PAGES]) {
    for page in pages.iter_mut().filter(|page| **page != 0) {
        frame::free(FrameNumber(*page / FRAME_BYTES));
        *page = 0;
    }
}

/// Before the space is freed: deletes every capability in it and frees
/// its slot pages (its own frame is refunded when it is freed).
pub fn teardown(k: &mut Kernel, id: ObjId<CSpace>) {
    // Only the full slots: a space with a few capabilities in many slots
    // is torn down in a few steps.
    let mut from = 1;
    while let Some(index) = k.objects.get(id).used.next_used(from) {
        if let Some(slot) = k.objects.get(id).slot_id(index) {
            crate::cap::tree::delete(k, slot);
        }
        // Below the limit, far from u32::MAX.
        from = index.wrapping_add(1);
    }
    let space = k.objects.get_mut(id);
    // `frames` counts the header frame too, so it is at least 1.
    let (payer, slot_pages) = (space.header.payer, space.frames().wrapping_sub(1));
    free_frames(&mut space.pages);
    budget::refund(k, payer, slot_pages);
}

impl CSpace {
    /// Frames it holds (header and slot pages), as [`frames_for`] counted.
    pub fn frames(&self) -> u64 {
        u64::from(self.capacity() / SLOTS_PER_PAGE).wrapping_add(1)
    }

    /// Number of slots (slot 0 included).
    pub fn capacity(&self) -> u32 {
        self.used.limit()
    }

    /// The bound of the slots that can hold a capability now: the ready
    /// ones (at most [`CSpace::capacity`]); every slot from it on is
    /// empty. What a lookup compares a slot number with.
    #[inline(always)]
    pub fn limit(&self) -> u32 {
        self.ready
    }

    /// Number of full slots.
    pub fn used(&self) -> u32 {
        self.used.used()
    }

    /// The first full slot at or after `from`, if any.
    pub fn next_used(&self, from: u32) -> Option<u32> {
        self.used.next_used(from)
    }

    /// Free slots left.
    pub fn free(&self) -> u32 {
        // Slots `1..capacity` are usable and `used` counts only those, so
        // `used <= capacity - 1` (and it is at least a page of slots).
        debug_assert!(self.used() < self.capacity());
        self.capacity().wrapping_sub(1).wrapping_sub(self.used())
    }

    /// The slot at `index`, if in range and ready (slot 0 included; a
    /// slot of a page not yet ready is empty).
    #[inline(always)]
    pub fn slot_id(&self, index: u32) -> Option<SlotId> {
        // `ready` is at most the capacity.
        if index >= self.ready {
            return None;
        }
        // `limit <= CSPACE_MAX_SLOTS`, so the page index is below
        // MAX_PAGES already; the mask only spares the compiler's bounds
        // check.
        let page = self.pages[(index / SLOTS_PER_PAGE) as usize % MAX_PAGES];
        Some(slot_at(page, index % SLOTS_PER_PAGE))
    }

    /// The slot a user names, if valid (not 0, in range).
    ///
    /// # Errors
    /// [`SysError::InvalidCap`].
    #[inline(always)]
    pub fn user_slot(&self, slot: CapSlot) -> Result<SlotId, SysError> {
        if slot == CapSlot::NULL {
            return Err(SysError::InvalidCap);
        }
        self.slot_id(slot.0).ok_or(SysError::InvalidCap)
    }

    /// Reserves a slot for a new capability: the named one (must be
    /// empty), or the lowest free one for [`CapSlot::NULL`].
    ///
    /// # Errors
    /// [`SysError::InvalidCap`] for a named slot out of range or full;
    /// [`SysError::OutOfMemory`] when no slot is free.
    pub fn reserve(&mut self, slot: CapSlot) -> Result<u32, SysError> {
        let index = if slot == CapSlot::NULL {
            self.used.alloc().ok_or(SysError::OutOfMemory)?
        } else if self.used.claim(slot.0) {
            slot.0
        } else {
            return Err(SysError::InvalidCap);
        };
        self.make_ready(index);
        Ok(index)
    }

    /// Makes the slot pages up to the one holding `index` (below the
    /// limit) ready: their slots written empty, in order.
    fn make_ready(&mut self, index: u32) {
        while index >= self.ready {
            // `ready < index < limit`: a page that exists.
            let page = (self.ready / SLOTS_PER_PAGE) as usize % MAX_PAGES;
            let addr = self.pages[page];
            for offset in 0..SLOTS_PER_PAGE {
                let slot = Slot {
                    cap: None,
                    prev: None,
                    next: None,
                    depth: 0,
                    // Below the limit, at most CSPACE_MAX_SLOTS.
                    index: self.ready.wrapping_add(offset),
                    owner: self.me,
                };
                Objects::init_slot(slot_at(addr, offset), slot);
            }
            // At most the limit.
            self.ready = self.ready.wrapping_add(SLOTS_PER_PAGE);
        }
    }

    /// Checks that [`CSpace::reserve`] would succeed, without reserving.
    ///
    /// # Errors
    /// As [`CSpace::reserve`].
    pub fn check_reserve(&self, slot: CapSlot) -> Result<(), SysError> {
        if slot == CapSlot::NULL {
            return if self.free() > 0 {
                Ok(())
            } else {
                Err(SysError::OutOfMemory)
            };
        }
        if slot.0 == 0 || slot.0 >= self.capacity() || self.used.is_used(slot.0) {
            return Err(SysError::InvalidCap);
        }
        Ok(())
    }

    /// Marks a slot free again (its capability is gone).
    pub fn release(&mut self, index: u32) {
        let released = self.used.release(index);
        debug_assert!(released, "released a free slot");
    }
}

/// The capability in the caller's `slot`, whatever its type.
///
/// # Errors
/// [`SysError::InvalidCap`] for slot 0, a slot out of range, an empty
/// slot or a revoked one (`ObjectRef::Revoked`).
#[inline(always)]
pub fn get(
    objects: &Objects,
    cspace: ObjId<CSpace>,
    slot: CapSlot,
) -> Result<(SlotId, Capability), SysError> {
    let (id, cap) = get_any(objects, cspace, slot)?;
    if cap.object == ObjectRef::Revoked {
        return Err(SysError::InvalidCap);
    }
    Ok((id, cap))
}

/// [`get`], a revoked slot's placeholder included (`CapDelete` frees it).
///
/// # Errors
/// [`SysError::InvalidCap`] for a slot out of range or empty.
pub fn get_any(
    objects: &Objects,
    cspace: ObjId<CSpace>,
    slot: CapSlot,
) -> Result<(SlotId, Capability), SysError> {
    let id = objects.get(cspace).user_slot(slot)?;
    let cap = objects.slot(id).cap.ok_or(SysError::InvalidCap)?;
    Ok((id, cap))
}

/// The object in `slot`, if it is a `T` and the capability has `needed`;
/// with the capability itself (for its badge and rights).
///
/// # Errors
/// [`SysError::InvalidCap`], [`SysError::WrongType`] or [`SysError::MissingRights`].
pub fn lookup<T: CapTarget>(
    objects: &Objects,
    cspace: ObjId<CSpace>,
    slot: CapSlot,
    needed: Rights,
) -> Result<(T, Capability), SysError> {
    lookup_inline(objects, cspace, slot, needed)
}

/// [`lookup`], always inlined (for the IPC fast path).
#[inline(always)]
pub fn lookup_inline<T: CapTarget>(
    objects: &Objects,
    cspace: ObjId<CSpace>,
    slot: CapSlot,
    needed: Rights,
) -> Result<(T, Capability), SysError> {
    let (_, cap) = get(objects, cspace, slot)?;
    let object = T::from_ref(cap.object).ok_or(SysError::WrongType)?;
    if !cap.rights.contains(needed) {
        return Err(SysError::MissingRights);
    }
    Ok((object, cap))
}
