//! Address spaces: a page-table root plus the regions mapped in it.
//!
//! A region shows a run of pages of one memory object at an address, with
//! an access ([`attrs`]); the list of regions and its overlap checks are
//! `kcore::region`. Page tables are filled lazily: a page is mapped when
//! the thread first touches it (`crate::vm::fault`), so the tables are a
//! cache of what the regions say, and any leaf may be dropped at any time
//! (it faults back in).
//!
//! Lifetime: `refs` counts capabilities plus threads running in it; at
//! zero the kernel drops its regions (each holds a reference on its
//! memory object) and frees its page tables, refunding `budget` for the
//! object and the `tables`.

use kcore::region::RegionList;

use crate::cap::ObjectRef;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::budget::Budget;
use crate::object::memory::MemoryObject;

/// Regions one address space holds (its object fits one frame).
pub const REGIONS: usize = 96;

/// The region list of an address space.
pub type Regions = RegionList<ObjId<MemoryObject>, REGIONS>;

/// A mapped region.
pub type Region = kcore::region::Region<ObjId<MemoryObject>>;

/// The bits of a region's `attrs`.
pub mod attrs {
    /// Readable (every region is).
    pub const READ: u32 = 1 << 0;
    /// Writable now.
    pub const WRITE: u32 = 1 << 1;
    /// Executable now.
    pub const EXEC: u32 = 1 << 2;
    /// Shared with a clone rather than copied.
    pub const SHARE: u32 = 1 << 3;
    /// The memory capability it was mapped with allows writing.
    pub const MAY_WRITE: u32 = 1 << 4;
    /// ... allows writable and executable together.
    pub const MAY_WRITE_EXEC: u32 = 1 << 5;
    /// The access bits.
    pub const ACCESS: u32 = READ | WRITE | EXEC;
}

/// An address space.
pub struct AddressSpace {
    /// Physical address of the root of its page tables (upper half shared
    /// with the kernel).
    pub root: u64,
    /// The budget that paid for it and its page tables.
    pub budget: ObjId<Budget>,
    /// Page-table frames it holds, the root included.
    pub tables: u64,
    /// Capabilities and threads that refer to it.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
    /// Mapped regions.
    pub regions: Regions,
}

impl KernelObject for AddressSpace {}

impl AddressSpace {
    /// An address space with no regions, whose root (one table) `budget`
    /// paid for.
    pub fn new(root: u64, budget: ObjId<Budget>) -> AddressSpace {
        AddressSpace {
            root,
            budget,
            tables: 1,
            refs: 0,
            reap_next: None,
            regions: RegionList::new(abi::layout::USER_START, abi::layout::USER_END),
        }
    }
}
