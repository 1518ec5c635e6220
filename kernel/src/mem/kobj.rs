//! Frames that hold kernel objects, and typed references to them.
//!
//! Every kernel object (thread, capability space, address space) lives in
//! a frame of its own, reached through the direct map. An [`ObjId<T>`] is
//! the frame's physical address, typed: it is minted only by
//! [`Objects::alloc`] for a `T`, so it always names a `T` until
//! [`Objects::free`]. `free` is `unsafe`: its caller promises that nothing
//! names the object any more, and only `object::lifetime` calls it, when
//! the object's last reference is gone and its type has taken it out of
//! every queue. A stale `ObjId` is therefore never dereferenced.
//!
//! Every object type holds an `object::lifetime::Header` at a known
//! offset ([`KernelObject::HEADER_OFFSET`], filled in by `kernel_object!`),
//! so [`Objects::header_mut`] reaches the header of an object of any type.
//!
//! Access goes through the single [`Objects`] token owned by the kernel
//! state: `get_mut` borrows it mutably, so the borrow checker guarantees at
//! most one mutable reference to any object at a time.

use core::marker::PhantomData;
use core::num::NonZeroU64;
use kcore::frame::{FRAME_BYTES, FrameNumber};

use super::frame;
use crate::cap::{ObjectRef, Slot, SlotId};
use crate::config::DIRECT_MAP_BASE;
use crate::object::lifetime::Header;

/// A kernel object that fits in one frame.
///
/// # Safety
/// 1. The type has a [`Header`] field named `header` at byte offset
///    [`KernelObject::HEADER_OFFSET`]. Implement it with
///    `kernel_object!`, which computes the offset.
pub unsafe trait KernelObject: Sized {
    /// Where the header is in the object.
    const HEADER_OFFSET: usize;

    /// Compile-time check that the object fits its frame.
    const FITS: () = assert!(
        core::mem::size_of::<Self>() <= FRAME_BYTES as usize
            && core::mem::align_of::<Self>() <= FRAME_BYTES as usize
    );

    /// The object's header.
    fn header(&self) -> &Header;
}

/// Implements [`KernelObject`] for a type with a field `header: Header`.
#[macro_export]
macro_rules! kernel_object {
    ($ty:ty) => {
        // SAFETY: the offset is the compiler's own for the field.
        unsafe impl $crate::mem::kobj::KernelObject for $ty {
            const HEADER_OFFSET: usize = core::mem::offset_of!($ty, header);

            fn header(&self) -> &$crate::object::lifetime::Header {
                &self.header
            }
        }
    };
}

/// A typed reference to a kernel object in its frame.
pub struct ObjId<T> {
    phys: NonZeroU64,
    _type: PhantomData<*const T>,
}

impl<T> Clone for ObjId<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ObjId<T> {}
impl<T> PartialEq for ObjId<T> {
    fn eq(&self, other: &Self) -> bool {
        self.phys == other.phys
    }
}
impl<T> Eq for ObjId<T> {}
impl<T> core::fmt::Debug for ObjId<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ObjId({:#x})", self.phys)
    }
}

// SAFETY: an ObjId is a physical address; the objects it names are only
// touched under the kernel lock, whichever CPU holds the id.
unsafe impl<T> Send for ObjId<T> {}

/// The direct-map address of kernel-object memory at `phys` (RAM, below
/// the direct map's size, so the sum stays in the upper half).
#[inline(always)]
fn direct(phys: u64) -> u64 {
    DIRECT_MAP_BASE.wrapping_add(phys)
}

impl<T> ObjId<T> {
    fn ptr(self) -> *mut T {
        direct(self.phys.get()) as *mut T
    }

    /// The physical address of the object's frame.
    pub fn phys(self) -> u64 {
        self.phys.get()
    }

    /// The number of the object's frame, to keep in 32 bits (the direct
    /// map, hence every frame, lies below 512 GiB).
    pub fn frame_number(self) -> u32 {
        (self.phys.get() / FRAME_BYTES) as u32
    }

    /// The id back from [`ObjId::frame_number`]; `None` for 0.
    ///
    /// # Safety
    /// 1. `number` came from `frame_number` of an `ObjId<T>`.
    /// 2. That object is still alive (not freed since).
    pub unsafe fn from_frame_number(number: u32) -> Option<ObjId<T>> {
        let phys = NonZeroU64::new(u64::from(number) * FRAME_BYTES)?;
        Some(ObjId {
            phys,
            _type: PhantomData,
        })
    }
}

/// The one token through which kernel objects are reached.
pub struct Objects {
    _private: (),
}

impl Objects {
    /// The token; the kernel state creates exactly one.
    pub const fn new() -> Objects {
        Objects { _private: () }
    }

    /// Puts `value` in a fresh frame.
    ///
    /// # Errors
    /// `Err(value)` if no frame is free.
    pub fn alloc<T: KernelObject>(&mut self, value: T) -> Result<ObjId<T>, T> {
        let () = T::FITS;
        let Some(frame) = frame::alloc() else {
            return Err(value);
        };
        let id: ObjId<T> = ObjId {
            // The allocator never hands out frame 0.
            phys: NonZeroU64::new(frame.addr()).expect("frame 0 is never allocated"),
            _type: PhantomData,
        };
        // SAFETY: the frame is fresh from the allocator (nothing else refers
        // to it), mapped through the direct map, page-aligned (>= align_of T)
        // and large enough (T::FITS).
        unsafe { id.ptr().write(value) };
        Ok(id)
    }

    /// Like [`Objects::alloc`], for a value that needs its own id (the
    /// root budget pays for itself).
    ///
    /// # Errors
    /// `Err(())` if no frame is free.
    pub fn alloc_with<T: KernelObject>(
        &mut self,
        make: impl FnOnce(ObjId<T>) -> T,
    ) -> Result<ObjId<T>, ()> {
        let () = T::FITS;
        let frame = frame::alloc().ok_or(())?;
        let id: ObjId<T> = ObjId {
            // The allocator never hands out frame 0.
            phys: NonZeroU64::new(frame.addr()).expect("frame 0 is never allocated"),
            _type: PhantomData,
        };
        // SAFETY: as in `alloc`.
        unsafe { id.ptr().write(make(id)) };
        Ok(id)
    }

    /// The header of the object `object` names; `None` for the
    /// singletons, which have none and are never destroyed.
    #[inline(always)]
    pub fn header_mut(&mut self, object: ObjectRef) -> Option<&mut Header> {
        let (phys, offset) = object.header_location()?;
        // SAFETY: `object` names a live kernel object (module invariant),
        // whose type holds its `Header` at `offset` (`KernelObject`'s
        // contract, and `header_location` gives the offset of the type the
        // variant names); `&mut self` makes this the only live reference
        // into any kernel object.
        Some(unsafe { &mut *(direct(phys.wrapping_add(offset as u64)) as *mut Header) })
    }

    /// The object `id` names.
    pub fn get<T: KernelObject>(&self, id: ObjId<T>) -> &T {
        // SAFETY: `id` was minted by `alloc::<T>` and its object is alive
        // (module invariant); `&self` excludes a concurrent `get_mut`.
        unsafe { &*id.ptr() }
    }

    /// The object `id` names, mutably.
    pub fn get_mut<T: KernelObject>(&mut self, id: ObjId<T>) -> &mut T {
        // SAFETY: as in `get`; `&mut self` makes this the only live
        // reference into any kernel object.
        unsafe { &mut *id.ptr() }
    }

    /// The slot `id` names.
    pub fn slot(&self, id: SlotId) -> &Slot {
        // SAFETY: a SlotId is minted only by `CSpace` for a slot in one of
        // its slot pages, which stay allocated (and initialised) until the
        // space is destroyed, after its slots have left every list; `&self`
        // excludes a concurrent `slot_mut`.
        unsafe { &*(direct(id.0.get()) as *const Slot) }
    }

    /// The slot `id` names, mutably.
    pub fn slot_mut(&mut self, id: SlotId) -> &mut Slot {
        // SAFETY: as in `slot`; `&mut self` makes this the only live
        // reference into any kernel object or slot.
        unsafe { &mut *(direct(id.0.get()) as *mut Slot) }
    }

    /// Writes a slot of a slot page not yet in use (whose bytes are not
    /// yet a valid `Slot`): one its capability space has not made ready
    /// (`object::cspace`), so that nothing refers to it.
    pub fn init_slot(id: SlotId, slot: Slot) {
        // SAFETY: `id` lies in a slot page of a capability space that has
        // not made it ready: `CSpace::slot_id` answers no slot of it, so
        // no reference into it exists (and the kernel lock makes this the
        // only code running); the direct map covers it, and slot addresses
        // are multiples of SLOT_BYTES (Slot's alignment). `write` does not
        // drop the old bytes, which are not a valid Slot yet.
        unsafe { (direct(id.0.get()) as *mut Slot).write(slot) };
    }

    /// Destroys the object and returns its frame.
    ///
    /// # Safety
    /// 1. Nothing names `id` any more: no capability, queue, list, other
    ///    object's field or destroy-list link.
    /// 2. `id` has not been freed before.
    pub unsafe fn free<T: KernelObject>(&mut self, id: ObjId<T>) {
        // SAFETY: `id` names a live T (module invariant and obligation 2)
        // that nothing refers to any more (obligation 1), so it is dropped
        // exactly once and its frame can be reused.
        unsafe { core::ptr::drop_in_place(id.ptr()) };
        frame::free(FrameNumber(id.phys.get() / FRAME_BYTES));
    }
}
