//! Copies: an address space cloned copy-on-write (the kernel half of
//! `fork`), and a buffer captured as a read-only memory object for a
//! message (lent or moved pages).
//!
//! Both share pages rather than copy them: a shared page is held by
//! several objects (its reference count in the frame bookkeeping), mapped
//! read-only everywhere, and copied by the first write through any of them
//! (`crate::vm::fault`).

use abi::SysError;
use abi::layout::{PAGE_BYTES, is_user_range};
use abi::syscall::{LendMode, MEMORY_MAX_PAGES};
use kcore::frame::FrameNumber;

use crate::arch::user_tables;
use crate::cap::ObjectRef;
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::object::aspace;
use crate::object::aspace::{AddressSpace, REGIONS, Region, attrs};
use crate::object::budget;
use crate::object::budget::Budget;
use crate::object::lifetime;
use crate::object::memory::{Backing, FixedKind, MemoryObject};
use crate::vm::{self, Access, pages::Unmap};

/// A copy-on-write copy of anonymous `memory`, paid for by `budget`:
/// every present page is shared, and `memory`'s mappings lose write
/// access to them. The copy has no references yet.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn clone_memory(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    memory: ObjId<MemoryObject>,
) -> Result<ObjId<MemoryObject>, SysError> {
    let size = k.objects.get(memory).size;
    let copy = lifetime::new_object(k, budget, MemoryObject::anonymous(size, budget)?)?;
    let mut nodes = Nodes::new(budget::available(k, budget));
    let mut tree = core::mem::replace(
        &mut k.objects.get_mut(copy).tree,
        kcore::pagetree::PageTree::new(0).expect("an empty tree"),
    );
    let mut complete = true;
    // The runs of present pages, to write-protect only those: an object
    // is often far larger than what it holds (a heap's reserve), and a
    // walk of its whole range would visit every absent table of it.
    let mut runs = [(0u64, 0u64); PROTECT_RUNS];
    let mut run_count: usize = 0;
    let mut overflow = false;
    k.objects
        .get(memory)
        .tree
        .for_each(&Nodes::read_only(), |index, page| {
            if complete && tree.set(&mut nodes, index, page).is_ok() {
                frame::page_share(FrameNumber::containing(page));
            } else {
                complete = false;
            }
            // Indexes come in order, below the object's size: `end + 1`
            // does not wrap.
            match run_count.checked_sub(1).and_then(|last| runs.get_mut(last)) {
                Some((_, end)) if *end == index => *end = index.wrapping_add(1),
                _ if run_count < PROTECT_RUNS => {
                    runs[run_count] = (index, index.wrapping_add(1));
                    // Below PROTECT_RUNS.
                    run_count = run_count.wrapping_add(1);
                }
                _ => overflow = true,
            }
        });
    // The tree's count, not the store's: a failed set gives back the
    // nodes it took.
    budget::charge(k, budget, tree.nodes()).expect("nodes were within the allowance");
    k.objects.get_mut(copy).tree = tree;
    if !complete {
        lifetime::discard(k, ObjectRef::Memory(copy));
        return Err(SysError::OutOfMemory);
    }
    if overflow {
        vm::pages::unmap_pages_everywhere(k, memory, 0, size, Unmap::WriteProtect);
    } else {
        for &(first, end) in &runs[..run_count] {
            vm::pages::unmap_pages_everywhere(k, memory, first, end, Unmap::WriteProtect);
        }
    }
    Ok(copy)
}

/// Runs of present pages [`clone_memory`] write-protects one by one; an
/// object with more takes one walk of its whole range instead.
const PROTECT_RUNS: usize = 16;

/// A copy of `source` paid for by `budget`: regions mapped with
/// [`attrs::SHARE`] (and fixed objects) show the same objects, the
/// rest copy-on-write copies of them.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn clone_aspace(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    source: ObjId<AddressSpace>,
) -> Result<ObjId<AddressSpace>, SysError> {
    let aspace = aspace::create(k, budget)?;
    let regions = k.objects.get(source).regions.clone();
    // Each object copied once, however many regions show it.
    let mut copies: [Option<(ObjId<MemoryObject>, ObjId<MemoryObject>)>; REGIONS] = [None; REGIONS];
    let mut result = Ok(());
    for (i, region) in regions.iter().enumerate() {
        match clone_region(k, budget, aspace, region, &mut copies, i) {
            Ok(()) => {}
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    if let Err(error) = result {
        lifetime::discard(k, ObjectRef::AddressSpace(aspace));
        return Err(error);
    }
    Ok(aspace)
}

/// Maps `region` of the source in the copy `aspace`. Every page starts
/// unmapped there: a fault maps it (a block of code or constants at
/// once, `vm::fault`), and a child that execs or exits at once touches
/// few.
fn clone_region(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    aspace: ObjId<AddressSpace>,
    region: &Region,
    copies: &mut [Option<(ObjId<MemoryObject>, ObjId<MemoryObject>)>; REGIONS],
    index: usize,
) -> Result<(), SysError> {
    let source = region.object;
    let shared =
        region.attrs & attrs::SHARE != 0 || k.objects.get(source).backing != Backing::Anonymous;
    let known = copies
        .iter()
        .flatten()
        .find(|(s, _)| *s == source)
        .map(|(_, c)| *c);
    let (object, fresh) = match (shared, known) {
        (true, _) => (source, false),
        (false, Some(copy)) => (copy, false),
        (false, None) => (clone_memory(k, budget, source)?, true),
    };
    let mapped = vm::mapping::map_region(k, aspace, Region { object, ..*region });
    match mapped {
        Ok(()) if fresh => copies[index] = Some((source, object)),
        Ok(()) => {}
        Err(error) => {
            if fresh {
                lifetime::discard(k, ObjectRef::Memory(object));
            }
            return Err(error);
        }
    }
    Ok(())
}

/// Captures the bytes `[addr, addr + len)` of `aspace` in a new
/// object paid for by `budget` (see `Syscall::MemoryLend`). Returns the
/// object (no references yet) and the offset of the first byte in it.
///
/// # Errors
/// [`SysError::InvalidArg`], [`SysError::BadAddress`],
/// [`SysError::OutOfMemory`]; nothing is lost from `aspace` then.
pub fn lend(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    aspace: ObjId<AddressSpace>,
    addr: u64,
    len: u64,
    mode: LendMode,
) -> Result<(ObjId<MemoryObject>, u64), SysError> {
    if len == 0 || !is_user_range(addr, len) || addr < abi::layout::USER_START {
        return Err(SysError::InvalidArg);
    }
    let first = addr & !(PAGE_BYTES - 1);
    // User values: `is_user_range` checked the sum already, and this
    // says so where it is computed.
    let end = addr.checked_add(len).ok_or(SysError::InvalidArg)?;
    // `first <= addr < end`.
    let pages = end.wrapping_sub(first).div_ceil(PAGE_BYTES);
    if pages > MEMORY_MAX_PAGES {
        return Err(SysError::InvalidArg);
    }
    // Page `page` (below `pages`) of the range: inside user space, as
    // `end <= USER_END`, so none of these sums wraps.
    let page_at = |page: u64| first.wrapping_add(page.wrapping_mul(PAGE_BYTES));
    // Every page in a region that allows the access, faulted in.
    let needed = match mode {
        LendMode::Lend => attrs::READ,
        LendMode::Move => attrs::READ | attrs::WRITE,
    };
    let space = k.objects.get(aspace);
    for page in 0..pages {
        let region = space
            .regions
            .find(page_at(page))
            .ok_or(SysError::BadAddress)?;
        if region.attrs & needed != needed {
            return Err(SysError::BadAddress);
        }
    }
    vm::fault::populate(
        k,
        aspace,
        first,
        pages.wrapping_mul(PAGE_BYTES),
        Access::Read,
    )?;

    let lent = lifetime::new_object(k, budget, MemoryObject::anonymous(pages, budget)?)?;
    for page in 0..pages {
        let virt = page_at(page);
        let from = addr.max(virt);
        let to = end.min(virt.wrapping_add(PAGE_BYTES));
        if let Err(error) = lend_page(k, lent, page, aspace, virt, from..to) {
            lifetime::discard(k, ObjectRef::Memory(lent));
            return Err(error);
        }
    }
    // Moving: the sender's objects let go of the whole pages (the lent
    // object holds them now), and see fresh zero pages there later.
    if mode == LendMode::Move {
        for page in 0..pages {
            let virt = page_at(page);
            if virt >= addr && virt.wrapping_add(PAGE_BYTES) <= end {
                drop_sender_page(k, aspace, virt);
            }
        }
    }
    Ok((lent, addr.wrapping_sub(first)))
}

/// Page `page` of `lent`: the sender's page at `virt` shared, or, when
/// only `bytes` of it are lent (or it is not an anonymous page), a
/// fresh page with just those bytes.
fn lend_page(
    k: &mut Kernel,
    lent: ObjId<MemoryObject>,
    page: u64,
    aspace: ObjId<AddressSpace>,
    virt: u64,
    bytes: core::ops::Range<u64>,
) -> Result<(), SysError> {
    let space = k.objects.get(aspace);
    let region = *space.regions.find(virt).ok_or(SysError::BadAddress)?;
    let index = region.object_page(virt);
    let source = k.objects.get(region.object);
    // `virt` is a user page and `bytes` lies inside it.
    debug_assert!(virt <= bytes.start && bytes.start <= bytes.end);
    let whole = bytes.start == virt && bytes.end == virt.wrapping_add(PAGE_BYTES);
    let shared = match source.backing {
        Backing::Anonymous if whole => source.tree.get(&Nodes::read_only(), index),
        Backing::Fixed {
            kind: FixedKind::Device,
            ..
        } => return Err(SysError::BadAddress),
        _ => None,
    };
    if let Some(phys) = shared {
        frame::page_share(FrameNumber::containing(phys));
        if let Err(error) = vm::pages::store_page(k, lent, page, phys) {
            vm::pages::release_page(k, FrameNumber::containing(phys));
            return Err(error);
        }
        // A page index of an object, below MEMORY_MAX_PAGES.
        let next = index.wrapping_add(1);
        vm::pages::unmap_pages_everywhere(k, region.object, index, next, Unmap::WriteProtect);
        return Ok(());
    }
    let root = space.root;
    let source_phys =
        user_tables::translate_ram(root, virt, Access::Read).ok_or(SysError::BadAddress)?;
    let budget = k.objects.get(lent).header.payer;
    let fresh = vm::pages::new_page(k, budget)?;
    // Offsets inside one page, added to page-aligned frames.
    let offset = bytes.start.wrapping_sub(virt);
    crate::mem::phys::copy_bytes(
        fresh.addr().wrapping_add(offset),
        source_phys.wrapping_add(offset),
        bytes.end.wrapping_sub(bytes.start),
    );
    if let Err(error) = vm::pages::store_page(k, lent, page, fresh.addr()) {
        vm::pages::release_page(k, fresh);
        return Err(error);
    }
    Ok(())
}

/// The sender's object at `virt` lets go of its page there (moved).
fn drop_sender_page(k: &mut Kernel, aspace: ObjId<AddressSpace>, virt: u64) {
    let Some(region) = k.objects.get(aspace).regions.find(virt).copied() else {
        return;
    };
    let index = region.object_page(virt);
    let memory = region.object;
    if k.objects.get(memory).backing != Backing::Anonymous {
        return;
    }
    let mut nodes = Nodes::read_only();
    let before = k.objects.get(memory).tree.nodes();
    let taken = k.objects.get_mut(memory).tree.take(&mut nodes, index);
    let after = k.objects.get(memory).tree.nodes();
    let budget = k.objects.get(memory).header.payer;
    // Taking a page only frees nodes.
    budget::refund(k, budget, before.wrapping_sub(after));
    if let Some(phys) = taken {
        vm::pages::unmap_page_everywhere(k, memory, index, Some(phys));
        vm::pages::release_page(k, FrameNumber::containing(phys));
    }
}
