//! Address spaces: a page-table root plus the regions mapped in it.
//!
//! A region is a run of pages of one memory object, mapped at a fixed
//! address; the region keeps the object alive. This is the minimal form
//! the IPC issue needs (create, map, destroy); unmap, protect, lazy
//! faults and copy-on-write clone come with the memory issue, with the
//! region list in `kcore`.
//!
//! Lifetime: `refs` counts capabilities plus threads running in it; at
//! zero the kernel frees its page tables and drops its regions. The first
//! program's address space is `permanent` (its pages belong to no memory
//! object).

use x86_64::structures::paging::PhysFrame;

use crate::cap::ObjectRef;
use crate::config::ASPACE_REGIONS;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::memory::MemoryObject;

/// Pages of a memory object mapped at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First address.
    pub vaddr: u64,
    /// Number of pages.
    pub pages: u64,
    /// The object.
    pub memory: ObjId<MemoryObject>,
}

/// An address space.
pub struct AddressSpace {
    /// Root of its page tables (upper half shared with the kernel).
    pub root: PhysFrame,
    /// Mapped regions (unordered).
    pub regions: [Option<Region>; ASPACE_REGIONS],
    /// Never destroyed (the first program's).
    pub permanent: bool,
    /// Capabilities and threads that refer to it.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
}

impl KernelObject for AddressSpace {}

impl AddressSpace {
    /// An address space with no regions.
    pub fn new(root: PhysFrame, permanent: bool) -> AddressSpace {
        AddressSpace {
            root,
            regions: [None; ASPACE_REGIONS],
            permanent,
            refs: 0,
            reap_next: None,
        }
    }

    /// A free region entry.
    pub fn free_region(&self) -> Option<usize> {
        self.regions.iter().position(Option::is_none)
    }
}
