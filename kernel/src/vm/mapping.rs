//! Regions: map, unmap, protect, and destroying an address space.

use abi::SysError;
use abi::layout::PAGE_BYTES;
use kcore::frame::FrameNumber;
use kcore::region::RegionError;

use crate::arch::tlb::TlbFlush;
use crate::arch::user_tables::{self, PageRights};
use crate::cap::ObjectRef;
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::object::aspace::{AddressSpace, REGIONS, Region, attrs};
use crate::object::budget;
use crate::object::lifetime;
use crate::object::memory::{Backing, FixedKind, MemoryObject};

/// The error a region-list failure reports to user space.
pub fn region_error(error: RegionError) -> SysError {
    match error {
        RegionError::Full => SysError::OutOfMemory,
        RegionError::Unaligned
        | RegionError::Empty
        | RegionError::OutOfBounds
        | RegionError::Overlap
        | RegionError::NotMapped => SysError::InvalidArg,
    }
}

/// Maps one page (leaf) in `aspace`; page tables are charged to its
/// budget.
///
/// # Errors
/// [`SysError::OutOfMemory`] if a table cannot be paid for.
pub fn map_leaf(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    virt: u64,
    phys: u64,
    rights: PageRights,
) -> Result<(), SysError> {
    let space = k.objects.get(aspace);
    let (root, budget) = (space.root, space.header.payer);
    let allowance = budget::available(k, budget).min(3);
    let mut taken = 0;
    let result = user_tables::map(root, virt, phys, rights, &mut || {
        if taken >= allowance {
            return None;
        }
        let table = frame::alloc()?;
        // Below `allowance`, at most 3.
        taken = taken.wrapping_add(1);
        Some(table.addr())
    });
    budget::charge(k, budget, taken).expect("tables were within the allowance");
    // A count of page-table frames, bounded by RAM.
    let space = k.objects.get_mut(aspace);
    space.tables = space.tables.wrapping_add(taken);
    match result {
        Ok((_, flush)) => {
            flush.run();
            Ok(())
        }
        Err(_) => Err(SysError::OutOfMemory),
    }
}

/// Changes the number of `aspace`'s regions that map `memory` by
/// `delta`, keeping the object's mapping record and references.
pub fn count_regions(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    memory: ObjId<MemoryObject>,
    delta: i64,
) -> Result<(), SysError> {
    match k.objects.get_mut(memory).count_regions(aspace, delta)? {
        Some(true) => lifetime::add_ref(k, ObjectRef::Memory(memory)),
        Some(false) => lifetime::release(k, ObjectRef::Memory(memory)),
        None => {}
    }
    Ok(())
}

/// Adds a region (its range and access already checked against the
/// caller's rights). No page is mapped until it is touched.
///
/// # Errors
/// [`SysError::InvalidArg`] for a bad or overlapping range;
/// [`SysError::OutOfMemory`] if the address space has no free region
/// entry or the object is mapped in too many address spaces.
pub fn map_region(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    region: Region,
) -> Result<(), SysError> {
    if !k.objects.get(region.object).can_map_in(aspace) {
        return Err(SysError::OutOfMemory);
    }
    k.objects
        .get_mut(aspace)
        .regions
        .insert(region)
        .map_err(region_error)?;
    count_regions(k, aspace, region.object, 1).expect("checked there is room for the mapping");
    prefault(k, aspace, &region);
    Ok(())
}

/// Maps the pages a small new region's object already has, so that a
/// pager's map is not followed by another fault. Larger regions fill
/// lazily; so does anything a page table cannot be paid for.
fn prefault(k: &mut Kernel, aspace: ObjId<AddressSpace>, region: &Region) {
    const EAGER_PAGES: u64 = 16;
    if region.pages > EAGER_PAGES {
        return;
    }
    let object = k.objects.get(region.object);
    let mut present = [(0u64, 0u64, false, false); EAGER_PAGES as usize];
    let mut count = 0;
    match object.backing {
        Backing::Fixed { base, kind } => {
            let device = kind == FixedKind::Device;
            for page in 0..region.pages.min(object.size.saturating_sub(region.offset)) {
                // `offset + page < size` (the bound of the loop), inside
                // the object's physical range; `count` indexes `present`.
                let index = region.offset.wrapping_add(page);
                let phys = base.wrapping_add(index.wrapping_mul(PAGE_BYTES));
                present[count] = (page, phys, true, device);
                count = count.wrapping_add(1);
            }
        }
        Backing::Anonymous => {
            let nodes = Nodes::read_only();
            object
                .tree
                .for_each_in(&nodes, region.offset, region.pages, |index, phys| {
                    let exclusive = frame::page_refs(FrameNumber::containing(phys)) == 1;
                    // `for_each_in` gives indexes from `region.offset` on,
                    // at most `region.pages` of them.
                    present[count] = (index.wrapping_sub(region.offset), phys, exclusive, false);
                    count = count.wrapping_add(1);
                });
        }
    }
    for &(page, phys, exclusive, device) in &present[..count] {
        let rights = PageRights {
            write: region.attrs & attrs::WRITE != 0 && exclusive,
            exec: region.attrs & attrs::EXEC != 0,
            uncached: device,
        };
        // `page < region.pages`: inside the region, which `check` bounded.
        let virt = region.start.wrapping_add(page.wrapping_mul(PAGE_BYTES));
        if map_leaf(k, aspace, virt, phys, rights).is_err() {
            return;
        }
    }
}

/// Unmaps `[start, start + pages)` of `aspace`; returns how many
/// pieces of regions went.
///
/// # Errors
/// [`SysError::InvalidArg`] for a bad range; [`SysError::OutOfMemory`]
/// if a split needs a region entry and none is free. Nothing changes
/// then.
pub fn unmap_range(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    start: u64,
    pages: u64,
) -> Result<usize, SysError> {
    let space = k.objects.get(aspace);
    let end = space.regions.check(start, pages).map_err(region_error)?;
    let (first, last) = space.regions.span(start, end);
    // The one failure: a region around the whole range needs a second
    // entry, and none is free.
    let around = |r: &Region| r.start < start && r.end() > end;
    // Indexes into the region list (at most REGIONS entries).
    let one_region = last == first.wrapping_add(1);
    if one_region && space.regions.get(first).is_some_and(around) && space.regions.len() == REGIONS
    {
        return Err(SysError::OutOfMemory);
    }
    let root = space.root;
    // The common case: exactly one whole region.
    if one_region
        && let Some(&region) = space.regions.get(first)
        && region.start == start
        && region.end() == end
    {
        user_tables::unmap_range(root, start, end).run();
        count_regions(k, aspace, region.object, -1)
            .expect("fewer regions need no new mapping entry");
        k.objects.get_mut(aspace).regions.remove_at(first);
        return Ok(1);
    }
    let mut flush = TlbFlush::none(root);
    // Leaves and mapping records first, while the regions are intact.
    for index in first..last {
        let region = *k
            .objects
            .get(aspace)
            .regions
            .get(index)
            .expect("index inside the span");
        let from = region.start.max(start);
        let to = region.end().min(end);
        flush.merge(user_tables::unmap_range(root, from, to));
        // A region cut at one end stays (trimmed); one cut at both
        // becomes two; the others go.
        let delta = match (region.start < start, region.end() > end) {
            (true, true) => 1,
            (true, false) | (false, true) => 0,
            (false, false) => -1,
        };
        count_regions(k, aspace, region.object, delta)
            .expect("fewer regions need no new mapping entry; a split keeps its entry");
    }
    flush.run();
    let count = k
        .objects
        .get_mut(aspace)
        .regions
        .remove_range(start, pages, |_| {})
        .expect("checked above");
    Ok(count)
}

/// Sets the access of `[start, start + pages)` of `aspace` (every page
/// mapped) to `access` ([`attrs::ACCESS`] bits); returns how many
/// pieces changed. The caller checked the access against each
/// region's `MAY_*` bits.
///
/// # Errors
/// As `kcore::region::RegionList::protect` (nothing changes then).
pub fn protect_range(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    start: u64,
    pages: u64,
    access: u32,
) -> Result<usize, SysError> {
    let space = k.objects.get(aspace);
    let end = space.regions.check(start, pages).map_err(region_error)?;
    let head = space
        .regions
        .find(start)
        .filter(|r| r.start < start)
        .copied();
    let tail = space
        .regions
        // `check` returned an end above `start`, so at least a page.
        .find(end.wrapping_sub(1))
        .filter(|r| r.end() > end)
        .copied();
    let count = k
        .objects
        .get_mut(aspace)
        .regions
        .protect(start, pages, |old| old & !attrs::ACCESS | access, |_| {})
        .map_err(region_error)?;
    // Each split at an end adds a region of the same object (a region
    // around the whole range is split twice: three regions).
    for cut in [head, tail].into_iter().flatten() {
        count_regions(k, aspace, cut.object, 1).expect("a split keeps its mapping entry");
    }
    let root = k.objects.get(aspace).root;
    user_tables::unmap_range(root, start, end).run();
    Ok(count)
}

/// Whether any region of `aspace` overlapping `[start, end)` has
/// attrs that `allows` says no to.
pub fn any_region_refuses(
    k: &Kernel,
    aspace: ObjId<AddressSpace>,
    start: u64,
    end: u64,
    allows: impl Fn(u32) -> bool,
) -> bool {
    k.objects
        .get(aspace)
        .regions
        .iter()
        .filter(|r| r.start < end && r.end() > start)
        .any(|r| !allows(r.attrs))
}

/// Whether every page of `[start, end)` of `aspace` that is in a region
/// lies inside the region's memory object (an object may have shrunk
/// since it was mapped).
pub fn inside_objects(k: &Kernel, aspace: ObjId<AddressSpace>, start: u64, end: u64) -> bool {
    k.objects
        .get(aspace)
        .regions
        .iter()
        .filter(|r| r.start < end && r.end() > start)
        .all(|r| {
            // The last page of the region inside the range: the region
            // meets the range, so at least one page, and no wrap.
            let last = r.end().min(end).wrapping_sub(PAGE_BYTES);
            r.object_page(last) < k.objects.get(r.object).size
        })
}
