//! Memory objects: pages that address spaces map.
//!
//! Two kinds ([`Backing`]):
//! - anonymous: pages are allocated and zeroed on first touch, kept in a
//!   page tree (`kcore::pagetree`) and reference-counted in the frame
//!   allocator's page bookkeeping, so that a copy-on-write clone or a lent
//!   buffer can share them;
//! - fixed: a contiguous physical range the kernel does not own (device
//!   registers, or the initramfs), never freed.
//!
//! The object also records which address spaces map it ([`Mapping`],
//! with the number of regions there), so that a page it replaces
//! (copy-on-write) or drops (shrink, move) can be unmapped everywhere.
//!
//! Lifetime: `header.refs` counts capabilities plus address spaces that map it
//! (one per [`Mapping`]). At zero
//! its pages are released (freed with their last holder) and its frame and
//! tree nodes refunded to `budget`.

use abi::SysError;
use kcore::frame::FrameNumber;
use kcore::pagetree::PageTree;

use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::object::aspace::AddressSpace;
use crate::object::budget::{self, Budget};
use crate::object::lifetime::Header;
use crate::vm;

/// Where a memory object's pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Frames from the allocator, in the page tree, allocated on demand.
    Anonymous,
    /// A contiguous physical range from `base`, not owned.
    Fixed {
        /// Physical address of page 0.
        base: u64,
        /// RAM or device registers.
        kind: FixedKind,
    },
}

/// What a fixed range is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedKind {
    /// RAM the kernel does not own (the initramfs): mapped cached.
    Ram,
    /// Device registers: mapped uncached.
    Device,
}

/// Where an object is mapped: an address space, and how many of its
/// regions show the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The address space (`None` only in unused entries).
    pub aspace: Option<ObjId<AddressSpace>>,
    /// Its regions that map the object.
    pub regions: u32,
}

impl Mapping {
    const EMPTY: Mapping = Mapping {
        aspace: None,
        regions: 0,
    };
}

/// Address spaces one object can be mapped in at once.
pub const MAPPINGS: usize = 64;

/// A memory object.
#[repr(C)]
pub struct MemoryObject {
    /// References (capabilities, and one per address space mapping it)
    /// and the budget that paid for the object and its tree nodes (pages
    /// carry their own payer).
    pub header: Header,
    /// Where its pages are.
    pub backing: Backing,
    /// Number of pages.
    pub size: u64,
    /// Anonymous pages present: physical addresses (unused when fixed).
    pub tree: PageTree,
    /// Where it is mapped: the first `mapped` entries.
    mappings: [Mapping; MAPPINGS],
    /// Entries in use in `mappings`.
    mapped: usize,
}

crate::kernel_object!(MemoryObject);

// `mem::frame::page_share` counts a page's holders, memory objects, in a
// u32: fewer than 2^32 of them fit in the direct map.
const _: () = assert!(
    crate::config::DIRECT_MAP_MAX_BYTES / core::mem::size_of::<MemoryObject>() as u64
        <= u32::MAX as u64
);

impl MemoryObject {
    /// An anonymous object of `pages` absent pages.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] for more pages than a tree holds.
    pub fn anonymous(pages: u64, budget: ObjId<Budget>) -> Result<MemoryObject, SysError> {
        let tree = PageTree::new(pages).map_err(|_| SysError::InvalidArg)?;
        Ok(MemoryObject {
            header: Header::new(budget),
            backing: Backing::Anonymous,
            size: pages,
            tree,
            mappings: [Mapping::EMPTY; MAPPINGS],
            mapped: 0,
        })
    }

    /// An object for `pages` pages of physical memory from `base`.
    pub fn fixed(base: u64, pages: u64, kind: FixedKind, budget: ObjId<Budget>) -> MemoryObject {
        MemoryObject {
            header: Header::new(budget),
            backing: Backing::Fixed { base, kind },
            size: pages,
            tree: PageTree::new(0).expect("an empty tree"),
            mappings: [Mapping::EMPTY; MAPPINGS],
            mapped: 0,
        }
    }

    /// Counts `regions` more (or fewer) regions of `aspace` mapping it.
    /// Returns whether the address space is new to it (`Some(true)`: one
    /// more reference) or no longer maps it (`Some(false)`: one fewer).
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] if a new address space would be more than
    /// [`MAPPINGS`] (nothing changes).
    pub fn count_regions(
        &mut self,
        aspace: ObjId<AddressSpace>,
        regions: i64,
    ) -> Result<Option<bool>, SysError> {
        if regions == 0 {
            return Ok(None);
        }
        let live = &mut self.mappings[..self.mapped];
        if let Some(i) = live.iter().position(|m| m.aspace == Some(aspace)) {
            // A u32 count plus a change of a few regions: far from i64's
            // limits.
            let count = i64::from(live[i].regions).wrapping_add(regions);
            debug_assert!(count >= 0, "more regions unmapped than mapped");
            if count > 0 {
                live[i].regions = count as u32;
                return Ok(None);
            }
            // `live` is not empty: it holds entry `i`.
            live.swap(i, self.mapped.wrapping_sub(1));
            self.mapped = self.mapped.wrapping_sub(1);
            self.mappings[self.mapped] = Mapping::EMPTY;
            return Ok(Some(false));
        }
        debug_assert!(regions > 0, "unmapping regions that were never mapped");
        let free = self
            .mappings
            .get_mut(self.mapped)
            .ok_or(SysError::OutOfMemory)?;
        *free = Mapping {
            aspace: Some(aspace),
            regions: regions as u32,
        };
        // Entry `mapped` existed (the `get_mut` above): still within MAPPINGS.
        self.mapped = self.mapped.wrapping_add(1);
        Ok(Some(true))
    }

    /// Whether mapping it in `aspace` needs no new [`Mapping`] entry or
    /// finds one free.
    pub fn can_map_in(&self, aspace: ObjId<AddressSpace>) -> bool {
        self.mapped < MAPPINGS || self.spaces().any(|a| a == aspace)
    }

    /// The address spaces it is mapped in.
    pub fn spaces(&self) -> impl Iterator<Item = ObjId<AddressSpace>> + '_ {
        self.mappings[..self.mapped].iter().filter_map(|m| m.aspace)
    }
}

/// Before the object is freed: its pages are released (each freed with
/// its last holder) and its tree nodes refunded.
pub fn teardown(k: &mut Kernel, memory: ObjId<MemoryObject>) {
    let payer = k.objects.get(memory).header.payer;
    let mut tree = take_tree(k, memory);
    let tree_nodes = tree.nodes();
    let mut nodes = Nodes::read_only();
    tree.clear(&mut nodes, |_, page| {
        vm::pages::release_page(k, FrameNumber::containing(page));
    });
    debug_assert_eq!(nodes.freed(), tree_nodes);
    budget::refund(k, payer, tree_nodes);
}

/// Moves `memory`'s page tree out (an empty one stays in its place).
pub fn take_tree(k: &mut Kernel, memory: ObjId<MemoryObject>) -> PageTree {
    let empty = PageTree::new(0).expect("an empty tree");
    core::mem::replace(&mut k.objects.get_mut(memory).tree, empty)
}
