//! A capability space: a table of slots, one frame in size. Slot 0 never
//! holds a capability.
//!
//! [`CSpace::lookup`] is the one place that turns a slot number into an
//! object: it checks the slot, the object type and the rights together.

use abi::{CapSlot, Rights, SysError};

use super::{CapTarget, Capability};
use crate::config::CSPACE_SLOTS;
use crate::mem::kobj::KernelObject;

/// A table of capability slots.
pub struct CSpace {
    slots: [Option<Capability>; CSPACE_SLOTS],
    /// Threads using this capability space.
    pub thread_refs: u32,
}

impl KernelObject for CSpace {}

impl CSpace {
    /// An empty capability space.
    pub const fn new() -> CSpace {
        CSpace {
            slots: [None; CSPACE_SLOTS],
            thread_refs: 0,
        }
    }

    fn index(slot: CapSlot) -> Result<usize, SysError> {
        let index = slot.0 as usize;
        if index == 0 || index >= CSPACE_SLOTS {
            return Err(SysError::InvalidCap);
        }
        Ok(index)
    }

    /// The capability in `slot`, whatever its type.
    ///
    /// # Errors
    /// [`SysError::InvalidCap`] for slot 0, a slot out of range or an empty slot.
    pub fn get(&self, slot: CapSlot) -> Result<Capability, SysError> {
        self.slots[Self::index(slot)?].ok_or(SysError::InvalidCap)
    }

    /// The object in `slot`, if it is a `T` and the capability has `needed`.
    ///
    /// # Errors
    /// [`SysError::InvalidCap`], [`SysError::WrongType`] or [`SysError::MissingRights`].
    pub fn lookup<T: CapTarget>(&self, slot: CapSlot, needed: Rights) -> Result<T, SysError> {
        let cap = self.get(slot)?;
        let object = T::from_ref(cap.object).ok_or(SysError::WrongType)?;
        if !cap.rights.contains(needed) {
            return Err(SysError::MissingRights);
        }
        Ok(object)
    }

    /// The lowest free slot.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] when every slot is taken.
    pub fn free_slot(&self) -> Result<CapSlot, SysError> {
        (1..CSPACE_SLOTS)
            .find(|&i| self.slots[i].is_none())
            .map(|i| CapSlot(i as u32))
            .ok_or(SysError::OutOfMemory)
    }

    /// Puts `cap` in `slot`, which [`CSpace::free_slot`] returned.
    pub fn install(&mut self, slot: CapSlot, cap: Capability) {
        if let Ok(index) = Self::index(slot) {
            debug_assert!(self.slots[index].is_none());
            self.slots[index] = Some(cap);
        }
    }

    /// Empties `slot` and returns what it held.
    ///
    /// # Errors
    /// [`SysError::InvalidCap`] if it was empty or out of range.
    pub fn take(&mut self, slot: CapSlot) -> Result<Capability, SysError> {
        self.slots[Self::index(slot)?]
            .take()
            .ok_or(SysError::InvalidCap)
    }
}
