//! The pages of memory objects: filling a hole, breaking copy-on-write,
//! dropping or write-protecting a page everywhere it is mapped, resizing
//! and destroying objects.

use abi::SysError;
use abi::layout::PAGE_BYTES;
use kcore::frame::FrameNumber;

use crate::arch::tlb::TlbFlush;
use crate::arch::user_tables;
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::mem::phys;
use crate::object::aspace::AddressSpace;
use crate::object::budget;
use crate::object::budget::Budget;
use crate::object::memory;
use crate::object::memory::{Backing, MemoryObject};

/// A zeroed user page paid for by `budget`, held once.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn new_page(k: &mut Kernel, budget: ObjId<Budget>) -> Result<FrameNumber, SysError> {
    let page = new_page_unfilled(k, budget)?;
    phys::zero_page(page.addr());
    Ok(page)
}

/// A user page paid for by `budget`, held once, with whatever bytes the
/// frame held: for a caller that overwrites every byte of it before the
/// page is stored anywhere (a copy-on-write copy), so zeroing it first
/// would be wasted work.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
fn new_page_unfilled(k: &mut Kernel, budget: ObjId<Budget>) -> Result<FrameNumber, SysError> {
    budget::charge(k, budget, 1)?;
    let Some(page) = frame::alloc() else {
        budget::refund(k, budget, 1);
        return Err(SysError::OutOfMemory);
    };
    frame::page_init(page, budget.frame_number());
    Ok(page)
}

/// A memory object lets go of a user page; the last one frees it and
/// refunds whoever paid (and wakes its futex waiters: `futex::page_freed`).
pub fn release_page(k: &mut Kernel, page: FrameNumber) {
    if let Some(payer) = frame::page_release(page) {
        crate::futex::page_freed(k, page);
        // SAFETY: the number was stored by `new_page` from a live
        // budget, and a budget lives while anything is charged to it
        // (this page was, until now).
        let budget = unsafe { ObjId::<Budget>::from_frame_number(payer) };
        if let Some(budget) = budget {
            budget::refund(k, budget, 1);
        }
    }
}

/// Puts `page` (a user page held once, for the object) at `index` of
/// anonymous `memory`, paying for tree nodes from its budget. Returns
/// the page it replaced.
///
/// # Errors
/// [`SysError::OutOfMemory`]; the page is then still the caller's.
pub fn store_page(
    k: &mut Kernel,
    memory: ObjId<MemoryObject>,
    index: u64,
    page: u64,
) -> Result<Option<u64>, SysError> {
    let budget = k.objects.get(memory).header.payer;
    // The store hands out what the budget can pay for, and the budget
    // pays for what the tree kept (a failed set gives its nodes back):
    // no walk of the tree to count them first.
    let mut nodes = Nodes::new(budget::available(k, budget));
    let tree = &mut k.objects.get_mut(memory).tree;
    let before = tree.nodes();
    let result = tree.set(&mut nodes, index, page);
    // `set` only adds nodes, at most the allowance.
    let added = tree.nodes().wrapping_sub(before);
    budget::charge(k, budget, added).expect("nodes were within the allowance");
    result.map_err(|_| SysError::OutOfMemory)
}

/// A zeroed page for the hole at `index` of anonymous `memory`, paid
/// for by the object's budget.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn fill_page(k: &mut Kernel, memory: ObjId<MemoryObject>, index: u64) -> Result<u64, SysError> {
    let budget = k.objects.get(memory).header.payer;
    let page = new_page(k, budget)?;
    if let Err(error) = store_page(k, memory, index, page.addr()) {
        release_page(k, page);
        return Err(error);
    }
    Ok(page.addr())
}

/// Gives `memory` its own copy of the shared page `old` at `index`
/// (paid for by the object's budget), unmapping the old one wherever
/// the object is mapped; the copy is returned. Futex waiters that see
/// the page through `memory` follow it to the copy
/// (`futex::page_replaced`).
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing changes).
pub fn copy_page(
    k: &mut Kernel,
    memory: ObjId<MemoryObject>,
    index: u64,
    old: u64,
) -> Result<u64, SysError> {
    let budget = k.objects.get(memory).header.payer;
    // Every byte is copied over it before it is stored: not zeroed.
    let page = new_page_unfilled(k, budget)?;
    phys::copy_page(page.addr(), old);
    store_page(k, memory, index, page.addr()).expect("a present page needs no new node");
    crate::futex::page_replaced(k, memory, index, old, page.addr());
    unmap_page_everywhere(k, memory, index, Some(old));
    release_page(k, FrameNumber::containing(old));
    Ok(page.addr())
}

/// Drops the leaves that show page `index` of `memory` (only those
/// mapping `phys`, if given) in every address space that maps it: the
/// one-page case of [`unmap_pages_everywhere`], kept apart
/// because copy-on-write runs it on every copy (a range walk costs
/// about 100 instructions more).
pub fn unmap_page_everywhere(
    k: &mut Kernel,
    memory: ObjId<MemoryObject>,
    index: u64,
    phys: Option<u64>,
) {
    let object = k.objects.get(memory);
    for aspace in object.spaces() {
        let space = k.objects.get(aspace);
        for region in space.regions.regions_of(memory) {
            // A region's `offset + pages` does not wrap (the region list's
            // invariant), and the page is inside the region.
            if (region.offset..region.offset.wrapping_add(region.pages)).contains(&index) {
                let page = index.wrapping_sub(region.offset);
                let virt = region.start.wrapping_add(page.wrapping_mul(PAGE_BYTES));
                user_tables::unmap_page(space.root, virt, phys).run();
            }
        }
    }
}

/// What [`unmap_pages_everywhere`] does to the leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmap {
    /// Drops them (the pages are going).
    Drop,
    /// Makes them read-only (the pages become copy-on-write).
    WriteProtect,
}

/// Drops or write-protects the leaves of `memory`'s pages `first..end`
/// in every address space that maps it.
pub fn unmap_pages_everywhere(
    k: &mut Kernel,
    memory: ObjId<MemoryObject>,
    first: u64,
    end: u64,
    what: Unmap,
) {
    let object = k.objects.get(memory);
    for aspace in object.spaces() {
        let space = k.objects.get(aspace);
        let mut flush = TlbFlush::none(space.root);
        for region in space.regions.regions_of(memory) {
            let lo = first.max(region.offset);
            // As in `unmap_page_everywhere`: `offset <= lo < hi <= offset
            // + pages`, all inside the region.
            let hi = end.min(region.offset.wrapping_add(region.pages));
            if lo >= hi {
                continue;
            }
            let at = |page: u64| {
                let bytes = page.wrapping_sub(region.offset).wrapping_mul(PAGE_BYTES);
                region.start.wrapping_add(bytes)
            };
            let (start, stop) = (at(lo), at(hi));
            flush.merge(match what {
                Unmap::WriteProtect => user_tables::write_protect_range(space.root, start, stop),
                Unmap::Drop => user_tables::unmap_range(space.root, start, stop),
            });
        }
        flush.run();
    }
}

/// Whether an address space other than `except` has a region of `memory`
/// that shows a page at or past `pages`.
pub fn mapped_past(
    k: &Kernel,
    memory: ObjId<MemoryObject>,
    pages: u64,
    except: ObjId<AddressSpace>,
) -> bool {
    let object = k.objects.get(memory);
    object.spaces().filter(|&a| a != except).any(|aspace| {
        k.objects
            .get(aspace)
            .regions
            .regions_of(memory)
            .any(|region| region.offset.saturating_add(region.pages) > pages)
    })
}

/// Resizes anonymous `memory` to `pages` pages. Shrinking unmaps and
/// releases the cut pages and frees the tree nodes that empty; growing
/// takes nothing (the tree deepens as pages are stored).
///
/// # Errors
/// [`SysError::InvalidArg`] for a fixed object or a bad size (nothing
/// changes).
pub fn resize_memory(
    k: &mut Kernel,
    memory: ObjId<MemoryObject>,
    pages: u64,
) -> Result<(), SysError> {
    let object = k.objects.get(memory);
    if object.backing != Backing::Anonymous {
        return Err(SysError::InvalidArg);
    }
    let (old, budget) = (object.size, object.header.payer);
    if pages < old {
        unmap_pages_everywhere(k, memory, pages, old, Unmap::Drop);
    }
    // The tree is taken out of the object while pages leave it, so
    // that releasing them can refund their budgets.
    let mut tree = memory::take_tree(k, memory);
    let mut nodes = Nodes::read_only();
    let before = tree.nodes();
    let result = tree.resize(&mut nodes, pages, |_, page| {
        release_page(k, FrameNumber::containing(page));
    });
    let after = tree.nodes();
    k.objects.get_mut(memory).tree = tree;
    // Resizing only frees nodes.
    budget::refund(k, budget, before.wrapping_sub(after));
    result.map_err(|_| SysError::InvalidArg)?;
    k.objects.get_mut(memory).size = pages;
    Ok(())
}
