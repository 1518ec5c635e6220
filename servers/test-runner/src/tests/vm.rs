//! Address spaces and memory objects: lazy pages, copy-on-write clones,
//! partial unmap and protect, resize, device memory, exec, and every
//! documented error of the mapping syscalls.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw as sys;
use abi::layout::PAGE_BYTES;
use abi::syscall::exit_kind;
use abi::{CapSlot, MapFlags, ObjectType, Rights, SysError};

use super::support::{Raw, budget, free_frames, must, raw_entry};
use super::{TestResult, aspace_cap, boot};
use crate::cpu::{peek, poke};
use crate::{ensure, ensure_eq};

const PAGE: u64 = PAGE_BYTES;
const RW: MapFlags = MapFlags::READ.union(MapFlags::WRITE);
const PAGE_FAULT: u64 = 14;

/// A 4 GiB window of this program's address space that test `n` may map
/// into (and must leave empty).
pub(super) const fn area(n: u64) -> u64 {
    0x0000_0060_0000_0000 + (n << 32)
}

/// A fresh anonymous object of `pages` pages, mapped `flags` at `vaddr`.
pub(super) fn map_new(pages: u64, vaddr: u64, flags: MapFlags) -> Result<CapSlot, super::Failure> {
    let memory = must(sys::memory_create(budget(), pages))?;
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        0,
        vaddr,
        pages,
        flags,
    ))?;
    Ok(memory)
}

/// Unmaps `pages` pages at `vaddr` and deletes `memory`.
pub(super) fn unmap_delete(memory: CapSlot, vaddr: u64, pages: u64) -> TestResult {
    must(sys::aspace_unmap(aspace_cap(), vaddr, pages))?;
    must(sys::cap_delete(memory))?;
    Ok(())
}

/// Runs `f(arg)` in a thread of its own and reports how it ended.
pub(super) fn run(
    f: fn(u64) -> u64,
    arg: u64,
) -> Result<abi::syscall::ThreadStatus, super::Failure> {
    must(crate::raw_thread::spawn(f, arg).and_then(|h| h.join()))
}

/// Whether a thread was killed by a page fault at `addr`.
pub(super) fn page_faulted(status: &abi::syscall::ThreadStatus, addr: u64) -> bool {
    status.kind == exit_kind::FAULTED && status.code == PAGE_FAULT && status.addr == addr
}

pub(super) fn read_word(addr: u64) -> u64 {
    peek(addr)
}

/// The value [`write_word`] leaves at `addr`.
pub(super) const fn written(addr: u64) -> u64 {
    addr ^ 0x5eed_0000_0000_5eed
}

pub(super) fn write_word(addr: u64) -> u64 {
    poke(addr, written(addr));
    0
}

/// Maps and touches one page at `vaddr` and takes it away again, and runs
/// a helper thread: the page tables there stay (until the address space
/// goes), and so do the pages of the thread's stack (this program's memory
/// is lazy too), so a frame count taken afterwards is not thrown off by
/// them.
pub(super) fn warm_up(vaddr: u64) -> TestResult {
    let memory = map_new(1, vaddr, RW)?;
    poke(vaddr, 1);
    unmap_delete(memory, vaddr, 1)?;
    run(|x| x, 0)?;
    Ok(())
}

pub fn lazy_zero_fill() -> TestResult {
    warm_up(area(1))?;
    let before = free_frames()?;
    let child = must(sys::budget_split(budget(), 64))?;
    let status = must(sys::budget_info(child))?;
    ensure_eq!((status.limit, status.used), (64, 0));
    // 1000 pages; nothing but the object is paid yet.
    let memory = must(sys::memory_create(child, 1000))?;
    ensure_eq!(must(sys::budget_info(child))?.used, 1);
    let base = area(1);
    must(sys::aspace_map(aspace_cap(), memory, 0, base, 1000, RW))?;
    ensure_eq!(must(sys::budget_info(child))?.used, 1);
    // Pages below 256 live in the object's own root: each touch pays the
    // page alone.
    ensure_eq!(peek(base + 8), 0);
    ensure_eq!(must(sys::budget_info(child))?.used, 2);
    for page in 1..10 {
        ensure_eq!(peek(base + page * PAGE + 16), 0);
    }
    ensure_eq!(must(sys::budget_info(child))?.used, 11);
    // Page 500 deepens the tree: one node takes the root's pages, and the
    // page lands in it.
    poke(base + 500 * PAGE, 7);
    ensure_eq!(peek(base + 500 * PAGE), 7);
    ensure_eq!(peek(base + 500 * PAGE + 8), 0);
    ensure_eq!(must(sys::budget_info(child))?.used, 13);
    unmap_delete(memory, base, 1000)?;
    ensure_eq!(must(sys::budget_info(child))?.used, 0);
    must(sys::cap_delete(child))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// The user page faults the kernel has resolved so far.
fn resolved_faults() -> Result<u64, super::Failure> {
    Ok(must(sys::debug_frame_count(debug()))?.resolved_faults)
}

/// A fault in a region that cannot be written maps the present pages of
/// its aligned 16-page block at once (fault-around); holes, pages outside
/// the region and the next block are left to faults of their own, and
/// what was mapped is no more writable than the region.
pub fn fault_around() -> TestResult {
    const BLOCK: u64 = 16;
    let base = area(30);
    // 40 pages, all present but page 5, written through a writable view.
    let memory = map_new(40, base, RW)?;
    let value = |page: u64| page + 1;
    for page in (0..40).filter(|&page| page != 5) {
        poke(base + page * PAGE, value(page));
    }
    // A read-only view of the whole object, on a block boundary.
    let view = base + (1 << 30);
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        0,
        view,
        40,
        MapFlags::READ,
    ))?;
    let before = resolved_faults()?;
    ensure_eq!(peek(view + 3 * PAGE), value(3));
    ensure_eq!(resolved_faults()?, before + 1);
    for page in (0..BLOCK).filter(|&page| page != 5) {
        ensure_eq!(peek(view + page * PAGE), value(page));
    }
    ensure_eq!(resolved_faults()?, before + 1);
    // The hole was not mapped: its read is a fault (a zero page).
    ensure_eq!(peek(view + 5 * PAGE), 0);
    ensure_eq!(resolved_faults()?, before + 2);
    // The next block is a fault of its own; the last stops at the end.
    ensure_eq!(peek(view + 20 * PAGE), value(20));
    ensure_eq!(peek(view + BLOCK * PAGE), value(BLOCK));
    ensure_eq!(peek(view + 39 * PAGE), value(39));
    ensure_eq!(peek(view + 32 * PAGE), value(32));
    ensure_eq!(resolved_faults()?, before + 4);
    // Pages mapped around a fault stay read-only.
    let status = run(write_word, view + 9 * PAGE)?;
    ensure!(page_faulted(&status, view + 9 * PAGE));
    // A view that starts inside a block maps none of the block's pages
    // before it: those addresses are outside every region. (Over 16
    // pages: a smaller region has its present pages mapped at once.)
    let inner = base + (2 << 30) + 14 * PAGE;
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        0,
        inner,
        20,
        MapFlags::READ,
    ))?;
    let before = resolved_faults()?;
    ensure_eq!(peek(inner), value(0));
    ensure_eq!(peek(inner + PAGE), value(1));
    ensure_eq!(resolved_faults()?, before + 1);
    ensure_eq!(peek(inner + 2 * PAGE), value(2));
    ensure_eq!(resolved_faults()?, before + 2);
    let status = run(read_word, inner - PAGE)?;
    ensure!(page_faulted(&status, inner - PAGE));
    must(sys::aspace_unmap(aspace_cap(), inner, 20))?;
    must(sys::aspace_unmap(aspace_cap(), view, 40))?;
    unmap_delete(memory, base, 40)
}

pub fn map_errors() -> TestResult {
    let base = area(2);
    let memory = map_new(4, base, RW)?;
    let aspace = aspace_cap();
    let map = |memory, offset, vaddr, pages, flags| {
        sys::aspace_map(aspace, memory, offset, vaddr, pages, flags)
    };
    let bad = Err(SysError::InvalidArg);
    // Over an existing mapping, outside user space, unaligned, empty,
    // past the object's end, overflowing.
    ensure_eq!(map(memory, 0, base + PAGE, 1, RW), bad);
    ensure_eq!(map(memory, 0, base - PAGE, 2, RW), bad);
    ensure_eq!(map(memory, 0, 0xffff_8000_0000_0000, 1, RW), bad);
    ensure_eq!(map(memory, 0, 0x0000_8000_0000_0000, 1, RW), bad);
    ensure_eq!(map(memory, 0, 0x0000_7fff_ffff_f000, 1, RW), bad);
    ensure_eq!(map(memory, 0, 0, 1, RW), bad);
    ensure_eq!(map(memory, 0, base + (8 << 20) + 1, 1, RW), bad);
    ensure_eq!(map(memory, 0, base + (8 << 20), 0, RW), bad);
    ensure_eq!(map(memory, 3, base + (8 << 20), 2, RW), bad);
    ensure_eq!(map(memory, u64::MAX, base + (8 << 20), 2, RW), bad);
    ensure_eq!(map(memory, 0, base + (8 << 20), u64::MAX / 4096, RW), bad);
    // Rights: writing needs WRITE, writable code WRITE and CONTROL.
    let read_only = must(sys::cap_copy(memory, Rights::READ))?;
    let no_control = must(sys::cap_copy(memory, Rights::READ | Rights::WRITE))?;
    let no_read = must(sys::cap_copy(memory, Rights::WRITE))?;
    let spare = base + (16 << 20);
    ensure_eq!(
        map(read_only, 0, spare, 1, RW),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        map(no_read, 0, spare, 1, MapFlags::READ),
        Err(SysError::MissingRights)
    );
    let wx = RW | MapFlags::EXEC;
    ensure_eq!(
        map(no_control, 0, spare, 1, wx),
        Err(SysError::MissingRights)
    );
    ensure_eq!(map(memory, 0, spare, 1, wx), Ok(()));
    ensure_eq!(map(read_only, 1, spare + PAGE, 1, MapFlags::READ), Ok(()));
    ensure_eq!(
        map(
            memory,
            0,
            spare + 2 * PAGE,
            1,
            MapFlags::from_bits_retain(2)
        ),
        bad
    );
    ensure_eq!(
        map(debug(), 0, spare + 3 * PAGE, 1, RW),
        Err(SysError::WrongType)
    );
    ensure_eq!(sys::memory_create(budget(), 0), Err(SysError::InvalidArg));
    ensure_eq!(
        sys::memory_create(budget(), abi::syscall::MEMORY_MAX_PAGES + 1),
        Err(SysError::InvalidArg)
    );
    must(sys::aspace_unmap(aspace, spare, 2))?;
    for slot in [read_only, no_control, no_read] {
        must(sys::cap_delete(slot))?;
    }
    unmap_delete(memory, base, 4)
}

fn debug() -> CapSlot {
    super::debug_cap()
}

pub fn unmap_protect_split() -> TestResult {
    let base = area(3);
    warm_up(base)?;
    warm_up(base + (64 << 20))?;
    let before = free_frames()?;
    let memory = map_new(8, base, RW)?;
    for page in 0..8 {
        poke(base + page * PAGE, page + 1);
    }
    let aspace = aspace_cap();
    // Unmapping the middle splits the region; the pages stay with the object.
    must(sys::aspace_unmap(aspace, base + 2 * PAGE, 2))?;
    ensure_eq!(peek(base + PAGE), 2);
    ensure_eq!(peek(base + 4 * PAGE), 5);
    ensure!(page_faulted(
        &run(read_word, base + 2 * PAGE)?,
        base + 2 * PAGE
    ));
    let again = base + (64 << 20);
    let read_only = must(sys::cap_copy(memory, Rights::READ))?;
    must(sys::aspace_map(
        aspace,
        read_only,
        2,
        again,
        2,
        MapFlags::READ,
    ))?;
    ensure_eq!(peek(again + PAGE), 4);
    // Protecting the middle of [4, 8) splits it in three.
    must(sys::aspace_protect(
        aspace,
        base + 5 * PAGE,
        2,
        MapFlags::READ,
    ))?;
    ensure_eq!(peek(base + 5 * PAGE), 6);
    ensure!(page_faulted(
        &run(write_word, base + 6 * PAGE)?,
        base + 6 * PAGE
    ));
    poke(base + 4 * PAGE, 50);
    poke(base + 7 * PAGE, 80);
    must(sys::aspace_protect(aspace, base + 4 * PAGE, 4, RW))?;
    poke(base + 5 * PAGE, 60);
    ensure_eq!(peek(base + 5 * PAGE), 60);
    // Errors: a hole, SHARE, bad ranges, rights the mapping lacks.
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(sys::aspace_protect(aspace, base, 8, MapFlags::READ), bad);
    ensure_eq!(
        sys::aspace_protect(aspace, base, 1, RW | MapFlags::SHARE),
        bad
    );
    ensure_eq!(sys::aspace_protect(aspace, base + 1, 1, RW), bad);
    ensure_eq!(sys::aspace_protect(aspace, base, 0, RW), bad);
    ensure_eq!(
        sys::aspace_protect(aspace, 0xffff_8000_0000_0000, 1, RW),
        bad
    );
    ensure_eq!(
        sys::aspace_protect(aspace, again, 1, RW),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::aspace_unmap(aspace, base + 2 * PAGE, 2), bad);
    ensure_eq!(sys::aspace_unmap(aspace, base + 1, 1), bad);
    ensure_eq!(sys::aspace_unmap(aspace, base, 0), bad);
    ensure_eq!(sys::aspace_unmap(aspace, !4095, 2), bad);
    // One unmap over the pieces and the hole between them.
    must(sys::aspace_unmap(aspace, base, 8))?;
    ensure_eq!(sys::aspace_unmap(aspace, base, 8), bad);
    must(sys::cap_delete(memory))?;
    unmap_delete(read_only, again, 2)?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn cow_child(base: u64) -> u64 {
    if peek(base) != 0x1111 {
        return 1;
    }
    if peek(base + PAGE) != 0x2222 {
        return 2;
    }
    poke(base + PAGE, 0xbbbb);
    poke(base, 0xcccc);
    if peek(base + PAGE) != 0xbbbb || peek(base) != 0xcccc {
        return 3;
    }
    0
}

raw_entry! {
    cow_child_entry => cow_child;
}

pub fn cow_clone() -> TestResult {
    // The first round warms up whatever this program touches on the way.
    for round in 0..3 {
        cow_round(round)?;
    }
    Ok(())
}

fn cow_round(round: u32) -> TestResult {
    let base = area(4);
    let memory = map_new(3, base, RW)?;
    poke(base, 0x1111);
    poke(base + PAGE, 0x2222);
    poke(base + 2 * PAGE, 0x3333);
    let before = free_frames()?;
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    // The parent writes first (it gets a copy), then the child reads the
    // old value and writes pages of its own.
    poke(base, 0xaaaa);
    let child = Raw::new(cow_child_entry, base).aspace(clone).start()?;
    ensure_eq!(child.join()?, 0);
    ensure_eq!(peek(base), 0xaaaa);
    ensure_eq!(peek(base + PAGE), 0x2222);
    must(sys::cap_delete(clone))?;
    if round > 0 {
        ensure_eq!(free_frames()?, before);
    }
    // The clone is gone: the last holder of a shared page takes it over
    // on its next write, without a copy.
    let after = free_frames()?;
    poke(base + 2 * PAGE, 0x4444);
    ensure_eq!(free_frames()?, after);
    ensure_eq!(peek(base + 2 * PAGE), 0x4444);
    unmap_delete(memory, base, 3)
}

pub fn shared_clone() -> TestResult {
    let base = area(5);
    let memory = must(sys::memory_create(budget(), 1))?;
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        0,
        base,
        1,
        RW | MapFlags::SHARE,
    ))?;
    poke(base, 1);
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    let child = Raw::new(write_entry, base).aspace(clone).start()?;
    ensure_eq!(child.join()?, 0);
    // A shared region is the same object in both: the child's write shows.
    ensure_eq!(peek(base), written(base));
    must(sys::cap_delete(clone))?;
    unmap_delete(memory, base, 1)
}

raw_entry! {
    write_entry => write_word;
}

pub fn resize() -> TestResult {
    let base = area(6);
    let memory = map_new(8, base, RW)?;
    for page in 0..8 {
        poke(base + page * PAGE, page + 1);
    }
    let free = free_frames()?;
    must(sys::memory_resize(memory, 4))?;
    ensure_eq!(free_frames()?, free + 4);
    ensure_eq!(peek(base + 3 * PAGE), 4);
    ensure!(page_faulted(
        &run(read_word, base + 5 * PAGE)?,
        base + 5 * PAGE
    ));
    // Growing again brings zero pages, not the old data.
    must(sys::memory_resize(memory, 8))?;
    ensure_eq!(peek(base + 5 * PAGE), 0);
    // Across a change of tree depth.
    must(sys::memory_resize(memory, 300))?;
    let far = base + (16 << 20);
    must(sys::aspace_map(aspace_cap(), memory, 256, far, 44, RW))?;
    poke(far + 43 * PAGE, 9);
    ensure_eq!(peek(base + 3 * PAGE), 4);
    must(sys::memory_resize(memory, 8))?;
    ensure!(page_faulted(
        &run(read_word, far + 43 * PAGE)?,
        far + 43 * PAGE
    ));
    must(sys::aspace_unmap(aspace_cap(), far, 44))?;
    // Pages another address space maps cannot be cut from under it: only
    // what no other space shows may go.
    let other = must(sys::aspace_create(budget()))?;
    must(sys::aspace_map(other, memory, 2, 0x4000_0000, 4, RW))?;
    ensure_eq!(sys::memory_resize(memory, 5), Err(SysError::InvalidArg));
    ensure_eq!(sys::memory_resize(memory, 3), Err(SysError::InvalidArg));
    ensure_eq!(sys::memory_resize(memory, 6), Ok(()));
    must(sys::aspace_unmap(other, 0x4000_0000, 4))?;
    ensure_eq!(sys::memory_resize(memory, 4), Ok(()));
    must(sys::memory_resize(memory, 8))?;
    must(sys::cap_delete(other))?;
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(sys::memory_resize(memory, 0), bad);
    ensure_eq!(
        sys::memory_resize(memory, abi::syscall::MEMORY_MAX_PAGES + 1),
        bad
    );
    let read_only = must(sys::cap_copy(memory, Rights::READ))?;
    ensure_eq!(
        sys::memory_resize(read_only, 2),
        Err(SysError::MissingRights)
    );
    must(sys::cap_delete(read_only))?;
    ensure_eq!(
        sys::memory_resize(aspace_cap(), 2),
        Err(SysError::WrongType)
    );
    unmap_delete(memory, base, 8)
}

pub fn device_memory() -> TestResult {
    let device = CapSlot(boot().device_cap);
    let info = must(sys::cap_info(device))?;
    ensure_eq!(info.object_type(), Some(ObjectType::DeviceMemory));
    let create = |phys, pages| sys::memory_create_device(budget(), device, phys, pages);
    let bad = Err(SysError::InvalidArg);
    // RAM is never device memory: low memory, the kernel's load address,
    // a range that ends in RAM.
    ensure_eq!(create(0, 1), bad);
    ensure_eq!(create(0x10_0000, 1), bad);
    ensure_eq!(create(0x9_0000, 0x100), bad);
    ensure_eq!(create(0xfee0_0001, 1), bad);
    ensure_eq!(create(0xfee0_0000, 0), bad);
    ensure_eq!(create(!4095, 2), bad);
    ensure_eq!(create(1 << 50, 1), bad);
    ensure_eq!(
        sys::memory_create_device(budget(), budget(), 0xfee0_0000, 1),
        Err(SysError::WrongType)
    );
    // The local APIC's and the I/O APIC's registers are the kernel's.
    ensure_eq!(create(0xfee0_0000, 1), bad);
    ensure_eq!(create(0xfec0_0000, 1), bad);
    ensure_eq!(create(0xfeb0_0000, 0x200), bad);
    // The HPET's registers: not RAM, so an object can show them.
    let hpet = must(create(0xfed0_0000, 1))?;
    ensure_eq!(sys::memory_resize(hpet, 2), Err(SysError::InvalidArg));
    let base = area(7);
    must(sys::aspace_map(
        aspace_cap(),
        hpet,
        0,
        base,
        1,
        MapFlags::READ,
    ))?;
    let _capabilities = peek(base);
    ensure_eq!(
        sys::memory_lend(
            budget(),
            aspace_cap(),
            base,
            8,
            abi::syscall::LendMode::Lend
        ),
        Err(SysError::BadAddress)
    );
    unmap_delete(hpet, base, 1)
}

static EXEC_MARK: AtomicU64 = AtomicU64::new(0);

#[repr(C, align(16))]
struct ExecStack([AtomicU64; 512]);
static EXEC_STACK: ExecStack = ExecStack([const { AtomicU64::new(0) }; 512]);

extern "C" fn exec_target(arg: u64) -> ! {
    EXEC_MARK.store(arg, Ordering::SeqCst);
    sys::thread_exit(arg + 1)
}

fn exec_into(aspace: u64) -> u64 {
    let aspace = CapSlot(aspace as u32);
    let top = EXEC_STACK.0.as_ptr() as u64 + 512 * 8 - 8;
    let entry = exec_target as *const () as u64;
    if sys::thread_exec(aspace, 0, top, 0, 0) != SysError::InvalidArg
        || sys::thread_exec(aspace, entry, 1 << 63, 0, 0) != SysError::InvalidArg
        || sys::thread_exec(debug(), entry, top, 0, 0) != SysError::WrongType
    {
        return 1;
    }
    sys::thread_exec(aspace, entry, top, 41, 0).code()
}

/// Runs a helper thread and writes the exec tests' mark, so that the
/// frames their first use takes (a helper stack's page and page table,
/// the mark's page) are taken before the tests count frames, even when
/// one of them runs first.
fn exec_warm_up() -> TestResult {
    run(|x| x, 0)?;
    EXEC_MARK.store(0, Ordering::SeqCst);
    Ok(())
}

pub fn exec_switch() -> TestResult {
    exec_warm_up()?;
    let before = free_frames()?;
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    let status = run(exec_into, u64::from(clone.0))?;
    ensure_eq!((status.kind, status.code), (exit_kind::EXITED, 42));
    // It ran in the clone: this program's mark is untouched.
    ensure_eq!(EXEC_MARK.load(Ordering::SeqCst), 0);
    must(sys::cap_delete(clone))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// The FS base [`exec_tls`] gives the thread it moves.
const EXEC_TLS: u64 = 0x0000_7000_0000_1000;

fn fsgsbase() -> bool {
    boot().cpu_features & abi::boot::cpu::FSGSBASE != 0
}

/// Runs in the clone after `ThreadExec`: ends with its FS base as the CPU
/// has it, if its GS base is 0 (with FSGSBASE; else with 0).
extern "C" fn exec_tls_target(_: u64) -> ! {
    let code = if !fsgsbase() {
        0
    } else if crate::cpu::read_gs_base() != 0 {
        1
    } else {
        crate::cpu::read_fs_base()
    };
    sys::thread_exit(code)
}

/// Sets its own FS and GS bases (with FSGSBASE), checks the bad FS bases
/// `ThreadExec` refuses (and that a refused one changes nothing), then
/// moves into the address space `aspace` with [`EXEC_TLS`].
fn exec_with_tls(aspace: u64) -> u64 {
    let aspace = CapSlot(aspace as u32);
    let top = EXEC_STACK.0.as_ptr() as u64 + 512 * 8 - 8;
    let entry = exec_tls_target as *const () as u64;
    if fsgsbase() {
        crate::cpu::write_fs_base(0x1111_0000);
        crate::cpu::write_gs_base(0x2222_0000);
    }
    for bad in [1 << 47, 1 << 63, 0xffff_8000_0000_0000, u64::MAX] {
        if sys::thread_exec(aspace, entry, top, 0, bad) != SysError::InvalidArg {
            return 2;
        }
    }
    if fsgsbase() && crate::cpu::read_fs_base() != 0x1111_0000 {
        return 3;
    }
    sys::thread_exec(aspace, entry, top, 0, EXEC_TLS).code()
}

pub fn exec_tls() -> TestResult {
    // Frames are `exec_switch`'s to count.
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    let handle = must(crate::raw_thread::spawn(exec_with_tls, u64::from(clone.0)))?;
    let status = must(sys::thread_wait(handle.slot()))?;
    // Ended but not deleted: the bases it ran with are still there.
    let regs = must(sys::thread_read_regs(handle.slot()))?;
    ensure_eq!((regs.fs_base, regs.gs_base), (EXEC_TLS, 0));
    must(handle.join())?;
    let code = if fsgsbase() { EXEC_TLS } else { 0 };
    ensure_eq!((status.kind, status.code), (exit_kind::EXITED, code));
    must(sys::cap_delete(clone))?;
    Ok(())
}

pub fn usercopy_lazy_and_cow() -> TestResult {
    let base = area(12);
    let memory = map_new(3, base, RW)?;
    let debug = debug();
    // A syscall writes into a page nobody has touched: it is faulted in.
    must(sys::cap_info_raw(debug, base + 8))?;
    ensure_eq!(peek(base + 8) as u32, ObjectType::Debug as u32);
    // ... and reads from one (zero bytes, printed as nothing visible).
    must(sys::debug_write_raw(debug, base + PAGE, 0))?;
    must(sys::debug_write_raw(debug, base + PAGE + 64, 1))?;
    // Into a page shared copy-on-write with a clone: this side gets a copy.
    poke(base + 2 * PAGE, 0x77);
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    must(sys::cap_info_raw(debug, base + 2 * PAGE))?;
    ensure_eq!(peek(base + 2 * PAGE) as u32, ObjectType::Debug as u32);
    let child = Raw::new(read_entry, base + 2 * PAGE)
        .aspace(clone)
        .start()?;
    ensure_eq!(child.join()?, 0x77);
    must(sys::cap_delete(clone))?;
    // Outside every region, or a read-only one: BadAddress.
    ensure_eq!(
        sys::cap_info_raw(debug, base + (32 << 20)),
        Err(SysError::BadAddress)
    );
    must(sys::aspace_protect(aspace_cap(), base, 1, MapFlags::READ))?;
    ensure_eq!(sys::cap_info_raw(debug, base), Err(SysError::BadAddress));
    unmap_delete(memory, base, 3)
}

raw_entry! {
    read_entry => read_word;
}
