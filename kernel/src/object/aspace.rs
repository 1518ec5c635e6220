//! Address spaces: a page-table root plus the regions mapped in it.
//!
//! A region shows a run of pages of one memory object at an address, with
//! an access ([`attrs`]); the list of regions and its overlap checks are
//! `kcore::region`. Page tables are filled lazily: a page is mapped when
//! the thread first touches it (`crate::vm::fault`), so the tables are a
//! cache of what the regions say, and any leaf may be dropped at any time
//! (it faults back in).
//!
//! Lifetime: `header.refs` counts capabilities plus threads running in it; at
//! zero the kernel drops its regions (each holds a reference on its
//! memory object) and frees its page tables, refunding `budget` for the
//! object and the `tables`.

use abi::SysError;
use kcore::region::RegionList;

use crate::arch::user_tables;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::budget::{self, Budget};
use crate::object::lifetime::{self, Header};
use crate::object::memory::MemoryObject;
use crate::vm;

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
#[repr(C)]
pub struct AddressSpace {
    /// References (capabilities, threads running in it) and the budget
    /// that paid for it and its page tables.
    pub header: Header,
    /// Physical address of the root of its page tables (upper half shared
    /// with the kernel).
    pub root: u64,
    /// Page-table frames it holds, the root included.
    pub tables: u64,
    /// Mapped regions.
    pub regions: Regions,
    /// The translation of the last futex word's page (`crate::futex::key`).
    pub futex_tlb: FutexTlb,
    /// The last translations of pages the bytes of messages came from or
    /// went to (`crate::ipc_bytes`), two-way by page parity, so the two
    /// pages of an unaligned 4 KiB piece are both kept.
    pub bytes_tlb: [BytesTlb; 2],
    /// Page faults of its threads the kernel resolved (`DebugFrameCount`).
    pub resolved_faults: u64,
}

/// One entry of [`AddressSpace::bytes_tlb`]: a user page, its frame, and
/// whether the walk checked write access; valid while no page-table entry
/// has been written since (`user_tables::generation`), as [`FutexTlb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BytesTlb {
    /// The virtual page; `u64::MAX` for none.
    pub page: u64,
    /// The frame it maps to (RAM).
    pub frame: u64,
    /// `user_tables::generation()` when the walk was made.
    pub generation: u64,
    /// Whether the walk checked write access too.
    pub writable: bool,
}

impl BytesTlb {
    /// Nothing cached.
    pub const EMPTY: BytesTlb = BytesTlb {
        page: u64::MAX,
        frame: 0,
        generation: 0,
        writable: false,
    };
}

/// A one-entry cache in front of the page-table walk of `crate::futex::key`:
/// the page of the last futex word an address space used and the frame it
/// maps to, writable and cached. It holds while no page-table entry has
/// been written since (`user_tables::generation`): every unmap, downgrade,
/// copy-on-write copy or remap writes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FutexTlb {
    /// The virtual page (address of its first byte); `u64::MAX` for none.
    pub page: u64,
    /// The physical address of the frame it maps to.
    pub frame: u64,
    /// `user_tables::generation()` when the walk was made.
    pub generation: u64,
}

impl FutexTlb {
    /// Nothing cached.
    pub const EMPTY: FutexTlb = FutexTlb {
        page: u64::MAX,
        frame: 0,
        generation: 0,
    };
}

crate::kernel_object!(AddressSpace);

impl AddressSpace {
    /// An address space with no regions, whose root (one table) `budget`
    /// paid for.
    pub fn new(root: u64, budget: ObjId<Budget>) -> AddressSpace {
        AddressSpace {
            header: Header::new(budget),
            root,
            tables: 1,
            regions: RegionList::new(abi::layout::USER_START, abi::layout::USER_END),
            futex_tlb: FutexTlb::EMPTY,
            bytes_tlb: [BytesTlb::EMPTY; 2],
            resolved_faults: 0,
        }
    }
}

/// A new address space paid for by `budget`, with its root table.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn create(k: &mut Kernel, budget: ObjId<Budget>) -> Result<ObjId<AddressSpace>, SysError> {
    budget::charge(k, budget, 1)?;
    let Some(root) = user_tables::new_root() else {
        budget::refund(k, budget, 1);
        return Err(SysError::OutOfMemory);
    };
    lifetime::new_object(k, budget, AddressSpace::new(root, budget)).inspect_err(|_| {
        user_tables::free_root(root);
        budget::refund(k, budget, 1);
    })
}

/// Before the address space is freed: drops every region (each held a
/// reference on its memory object) and frees the page tables.
pub fn teardown(k: &mut Kernel, aspace: ObjId<AddressSpace>) {
    let mut index: usize = 0;
    while let Some(&region) = k.objects.get(aspace).regions.get(index) {
        vm::mapping::count_regions(k, aspace, region.object, -1)
            .expect("fewer regions need no new mapping entry");
        // `index` named a region of the list, so it is below its length.
        index = index.wrapping_add(1);
    }
    k.objects.get_mut(aspace).regions.clear(|_| {});
    let space = k.objects.get(aspace);
    let (root, payer, tables) = (space.root, space.header.payer, space.tables);
    let freed = user_tables::free_root(root);
    debug_assert_eq!(freed, tables, "page-table frames counted");
    budget::refund(k, payer, tables);
}
