//! Handles for memory: budgets, memory objects, address spaces and
//! capability spaces.

use abi::syscall::{BudgetStatus, LendMode};
use abi::{CapSlot, MapFlags, SysError};

use crate::handle::{Handle, handle};
use crate::sys;

handle!(
    /// A budget: frames its holder may spend on kernel objects and pages.
    Budget
);
handle!(
    /// A memory object: pages that address spaces map.
    MemoryObject
);
handle!(
    /// An address space.
    AddressSpace
);
handle!(
    /// A capability space.
    CSpace
);

impl Budget {
    /// `BudgetSplit`: a child budget of `frames` frames, charged to this one.
    ///
    /// # Errors
    /// The kernel's (`OutOfMemory` when this budget cannot give them).
    pub fn split(&self, frames: u64) -> Result<Budget, SysError> {
        sys::budget_split(self.slot, frames).map(Budget::from_raw)
    }

    /// `BudgetInfo`: the limit and the frames charged now.
    ///
    /// # Errors
    /// The kernel's.
    pub fn status(&self) -> Result<BudgetStatus, SysError> {
        sys::budget_info(self.slot)
    }
}

impl MemoryObject {
    /// `MemoryCreate`: an anonymous object of `pages` pages, each filled
    /// with zeroes when first touched.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(budget: &Budget, pages: u64) -> Result<MemoryObject, SysError> {
        sys::memory_create(budget.slot(), pages).map(MemoryObject::from_raw)
    }

    /// `MemoryResize`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn resize(&self, pages: u64) -> Result<(), SysError> {
        sys::memory_resize(self.slot, pages)
    }
}

impl AddressSpace {
    /// `AspaceCreate`: an empty address space.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(budget: &Budget) -> Result<AddressSpace, SysError> {
        sys::aspace_create(budget.slot()).map(AddressSpace::from_raw)
    }

    /// `AspaceMap`: shows `pages` pages of `memory` from page `offset` at
    /// `vaddr`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn map(
        &self,
        memory: &MemoryObject,
        offset: u64,
        vaddr: u64,
        pages: u64,
        flags: MapFlags,
    ) -> Result<(), SysError> {
        sys::aspace_map(self.slot, memory.slot(), offset, vaddr, pages, flags)
    }

    /// `AspaceMap` of an object named by a raw slot (the initramfs, say).
    ///
    /// # Errors
    /// The kernel's.
    pub fn map_slot(
        &self,
        memory: CapSlot,
        offset: u64,
        vaddr: u64,
        pages: u64,
        flags: MapFlags,
    ) -> Result<(), SysError> {
        sys::aspace_map(self.slot, memory, offset, vaddr, pages, flags)
    }

    /// `AspaceUnmap`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn unmap(&self, vaddr: u64, pages: u64) -> Result<(), SysError> {
        sys::aspace_unmap(self.slot, vaddr, pages)
    }

    /// `AspaceProtect`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn protect(&self, vaddr: u64, pages: u64, flags: MapFlags) -> Result<(), SysError> {
        sys::aspace_protect(self.slot, vaddr, pages, flags)
    }

    /// `AspaceClone`: a copy-on-write copy.
    ///
    /// # Errors
    /// The kernel's.
    pub fn clone_space(&self, budget: &Budget) -> Result<AddressSpace, SysError> {
        sys::aspace_clone(budget.slot(), self.slot).map(AddressSpace::from_raw)
    }

    /// `MemoryLend`: a read-only object holding `[addr, addr + len)` of
    /// this space, and the offset of `addr` in its first page.
    ///
    /// # Errors
    /// The kernel's.
    pub fn lend(
        &self,
        budget: &Budget,
        addr: u64,
        len: u64,
        mode: LendMode,
    ) -> Result<(MemoryObject, u64), SysError> {
        sys::memory_lend(budget.slot(), self.slot, addr, len, mode)
            .map(|(slot, offset)| (MemoryObject::from_raw(slot), offset))
    }
}

impl CSpace {
    /// `CSpaceCreate` with `slots` slots.
    ///
    /// # Errors
    /// The kernel's.
    pub fn create(budget: &Budget, slots: u64) -> Result<CSpace, SysError> {
        sys::cspace_create(budget.slot(), slots).map(CSpace::from_raw)
    }
}
