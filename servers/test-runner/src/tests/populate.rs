//! `AspacePopulate`: pages made present ahead of use (anonymous holes,
//! read-only regions, copy-on-write pages, device memory), what it costs,
//! a budget that runs out part way, and every documented error.

use abi::layout::{PAGE_BYTES, USER_END};
use abi::syscall::{POPULATE_MAX_PAGES, Syscall};
use abi::{MapFlags, Rights, SysError};
use rt::sys;

use super::support::{EMPTY_SLOT, budget, free_frames, must};
use super::vm::{area, map_new, page_faulted, read_word, run, unmap_delete, warm_up, write_word};
use super::{TestResult, aspace_cap, debug_cap};
use crate::cpu::{peek, poke};
use crate::{ensure, ensure_eq};

const PAGE: u64 = PAGE_BYTES;
const RW: MapFlags = MapFlags::READ.union(MapFlags::WRITE);

/// Frames charged to `budget` now.
fn used(budget: abi::CapSlot) -> Result<u64, super::Failure> {
    must(sys::budget_info(budget)).map(|status| status.used)
}

pub fn ok() -> TestResult {
    let base = area(14);
    warm_up(base)?; // the page tables of the 2 MiB around `base`
    let aspace = aspace_cap();
    let start = free_frames()?;

    // Holes of a writable region: a zeroed page each, then nothing more.
    let memory = map_new(8, base, RW)?;
    let before = free_frames()?;
    must(sys::aspace_populate(aspace, base, 8))?;
    ensure_eq!(free_frames()?, before - 8);
    must(sys::aspace_populate(aspace, base, 8))?;
    ensure_eq!(free_frames()?, before - 8);
    for page in 0..8 {
        ensure_eq!(peek(base + page * PAGE), 0);
        poke(base + page * PAGE, page + 1);
    }
    ensure_eq!(free_frames()?, before - 8);

    // Holes of a read-only region: present, and still read-only.
    let read_only = base + 16 * PAGE;
    let other = map_new(4, read_only, MapFlags::READ)?;
    let before = free_frames()?;
    must(sys::aspace_populate(aspace, read_only, 4))?;
    ensure_eq!(free_frames()?, before - 4);
    ensure_eq!(peek(read_only + 3 * PAGE), 0);
    ensure!(page_faulted(&run(write_word, read_only)?, read_only));
    ensure_eq!(free_frames()?, before - 4);

    // A copy-on-write page: the object is also mapped in a scratch
    // space, whose clone shares its pages; populating copies ours once.
    let scratch = must(sys::aspace_create(budget()))?;
    must(sys::aspace_map(scratch, memory, 0, base, 8, RW))?;
    let clone = must(sys::aspace_clone(budget(), scratch))?;
    let before = free_frames()?;
    must(sys::aspace_populate(aspace, base, 2))?;
    ensure_eq!(free_frames()?, before - 2);
    must(sys::aspace_populate(aspace, base, 2))?;
    ensure_eq!(free_frames()?, before - 2);
    ensure_eq!((peek(base), peek(base + PAGE)), (1, 2));
    poke(base, 10);
    ensure_eq!(free_frames()?, before - 2);
    must(sys::cap_delete(clone))?;
    must(sys::cap_delete(scratch))?;

    unmap_delete(other, read_only, 4)?;
    unmap_delete(memory, base, 8)?;
    ensure_eq!(free_frames()?, start);
    Ok(())
}

pub fn device_memory_costs_nothing() -> TestResult {
    // Device memory where nothing answers on QEMU's `pc` (as the syscall
    // fuzzer uses it, `sysfuzz::layout::FUZZ_MMIO`): a fixed object, so
    // there is no page to allocate. More than 16 pages, so that the map
    // leaves every page to be faulted in.
    let device = abi::CapSlot(super::boot().device_cap);
    let pages = 32;
    let object = must(sys::memory_create_device(
        budget(),
        device,
        0xfe00_0000,
        pages,
    ))?;
    let base = area(18);
    warm_up(base)?;
    must(sys::aspace_map(aspace_cap(), object, 0, base, pages, RW))?;
    let before = free_frames()?;
    must(sys::aspace_populate(aspace_cap(), base, pages))?;
    must(sys::aspace_populate(aspace_cap(), base, pages))?;
    ensure_eq!(free_frames()?, before);
    unmap_delete(object, base, pages)
}

pub fn max_pages() -> TestResult {
    let base = area(15);
    let pages = POPULATE_MAX_PAGES + 64;
    let child = must(sys::budget_split(budget(), pages + 16))?;
    let memory = must(sys::memory_create(child, pages))?;
    must(sys::aspace_map(aspace_cap(), memory, 0, base, pages, RW))?;
    // One page too many: refused before any page is touched.
    ensure_eq!(
        sys::aspace_populate(aspace_cap(), base, POPULATE_MAX_PAGES + 1),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(used(child)?, 1);
    must(sys::aspace_populate(aspace_cap(), base, POPULATE_MAX_PAGES))?;
    // The object, every page, and a few page-tree nodes.
    let charged = used(child)?;
    ensure!((POPULATE_MAX_PAGES + 1..=POPULATE_MAX_PAGES + 5).contains(&charged));
    ensure_eq!(peek(base + (POPULATE_MAX_PAGES - 1) * PAGE), 0);
    ensure_eq!(used(child)?, charged);
    unmap_delete(memory, base, pages)?;
    ensure_eq!(used(child)?, 0);
    must(sys::cap_delete(child))?;
    Ok(())
}

pub fn errors() -> TestResult {
    let base = area(16);
    warm_up(base)?;
    let start = free_frames()?;
    let memory = map_new(4, base, RW)?;
    let aspace = aspace_cap();
    let before = free_frames()?;
    let populate = |vaddr, pages| sys::aspace_populate(aspace, vaddr, pages);

    // Decoding: a slot register above 32 bits.
    let (status, _) = sys::raw_syscall(
        Syscall::AspacePopulate.number(),
        [1 << 32, base, 1, 0, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    // The capability.
    for bad in [abi::CapSlot::NULL, EMPTY_SLOT] {
        ensure_eq!(
            sys::aspace_populate(bad, base, 1),
            Err(SysError::InvalidCap)
        );
    }
    ensure_eq!(
        sys::aspace_populate(debug_cap(), base, 1),
        Err(SysError::WrongType)
    );
    let read_only = must(sys::cap_copy(aspace, Rights::READ))?;
    ensure_eq!(
        sys::aspace_populate(read_only, base, 1),
        Err(SysError::MissingRights)
    );
    must(sys::cap_delete(read_only))?;

    // The range: unaligned, empty, too long, overflowing, outside user space.
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(populate(base + 8, 1), bad);
    ensure_eq!(populate(base, 0), bad);
    ensure_eq!(populate(base, POPULATE_MAX_PAGES + 1), bad);
    ensure_eq!(populate(base, u64::MAX), bad);
    ensure_eq!(populate(0xffff_ffff_ffff_f000, 2), bad);
    ensure_eq!(populate(0, 1), bad);
    ensure_eq!(populate(USER_END - PAGE, 2), bad);
    ensure_eq!(populate(USER_END, 1), bad);
    ensure_eq!(populate(0x0000_8000_0000_0000, 1), bad);
    ensure_eq!(populate(0xffff_8000_0000_0000, 1), bad);
    // A page in no region, at either end or alone: nothing is done.
    ensure_eq!(populate(base, 5), bad);
    ensure_eq!(populate(base - PAGE, 2), bad);
    ensure_eq!(populate(base + 64 * PAGE, 1), bad);
    ensure_eq!(free_frames()?, before);
    // A page past its object's end (the object shrank under its region).
    must(sys::memory_resize(memory, 2))?;
    ensure_eq!(populate(base, 4), bad);
    ensure_eq!(populate(base + 2 * PAGE, 1), bad);
    ensure_eq!(free_frames()?, before);
    must(populate(base, 2))?;
    ensure_eq!(free_frames()?, before - 2);

    unmap_delete(memory, base, 4)?;
    ensure_eq!(free_frames()?, start);
    Ok(())
}

pub fn out_of_memory() -> TestResult {
    let base = area(17);
    warm_up(base)?;
    let before = free_frames()?;
    let child = must(sys::budget_split(budget(), 8))?;
    let memory = must(sys::memory_create(child, 16))?;
    must(sys::aspace_map(aspace_cap(), memory, 0, base, 16, RW))?;
    ensure_eq!(used(child)?, 1);
    // The object and 7 pages fill the budget; the eighth page fails, and
    // the seven stay present.
    ensure_eq!(
        sys::aspace_populate(aspace_cap(), base, 16),
        Err(SysError::OutOfMemory)
    );
    ensure_eq!(used(child)?, 8);
    for page in 0..7 {
        poke(base + page * PAGE, page);
    }
    ensure_eq!(used(child)?, 8);
    ensure!(page_faulted(
        &run(read_word, base + 7 * PAGE)?,
        base + 7 * PAGE
    ));
    // What is present costs nothing again.
    must(sys::aspace_populate(aspace_cap(), base, 7))?;
    ensure_eq!(
        sys::aspace_populate(aspace_cap(), base + 7 * PAGE, 1),
        Err(SysError::OutOfMemory)
    );
    ensure_eq!(used(child)?, 8);
    // Giving pages back makes room.
    must(sys::memory_resize(memory, 4))?;
    must(sys::memory_resize(memory, 16))?;
    must(sys::aspace_populate(aspace_cap(), base + 7 * PAGE, 1))?;
    ensure_eq!(used(child)?, 6);
    unmap_delete(memory, base, 16)?;
    ensure_eq!(used(child)?, 0);
    must(sys::cap_delete(child))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}
