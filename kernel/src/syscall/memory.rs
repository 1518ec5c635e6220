//! Address-space, memory-object and budget syscalls: the checks. The
//! work is in `crate::vm`.

use abi::syscall::{
    AspaceCloneArgs, AspaceCreateArgs, AspaceMapArgs, AspacePopulateArgs, AspaceProtectArgs,
    AspaceUnmapArgs, BudgetInfoArgs, BudgetSplitArgs, BudgetStatus, LendMode, LendResult,
    MEMORY_MAX_PAGES, MemoryCreateArgs, MemoryCreateDeviceArgs, MemoryLendArgs, MemoryResizeArgs,
    POPULATE_MAX_PAGES, SyscallResult, ThreadExecArgs,
};
use abi::{MapFlags, Rights, SysError};
use kcore::budget::Account;

use super::{check_new_slot, install_new, install_new_with, lookup, payer};
use crate::arch::UserContext;
use crate::cap::{DeviceObject, ObjectRef};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::aspace;
use crate::object::aspace::{AddressSpace, Region, attrs};
use crate::object::budget::{self, Budget};
use crate::object::lifetime;
use crate::object::memory::{FixedKind, MemoryObject};
use crate::object::thread::Thread;
use crate::switch;
use crate::vm;

/// `AspaceCreate`.
pub fn aspace_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceCreateArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    check_new_slot(k, caller)?;
    let id = aspace::create(k, budget)?;
    Ok(install_new(k, caller, ObjectRef::AddressSpace(id), parent))
}

/// `MemoryCreate`: an anonymous object; no page exists until touched.
pub fn memory_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: MemoryCreateArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    if !(1..=MEMORY_MAX_PAGES).contains(&args.pages) {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    let id = lifetime::new_object(k, budget, MemoryObject::anonymous(args.pages, budget)?)?;
    Ok(install_new(k, caller, ObjectRef::Memory(id), parent))
}

/// The region attributes for `flags` mapped through a memory capability
/// with `rights`.
///
/// # Errors
/// [`SysError::MissingRights`] for access the rights do not allow.
fn region_attrs(flags: MapFlags, rights: Rights) -> Result<u32, SysError> {
    let mut bits = attrs::READ;
    if rights.contains(Rights::WRITE) {
        bits |= attrs::MAY_WRITE;
    }
    if rights.contains(Rights::WRITE | Rights::CONTROL) {
        bits |= attrs::MAY_WRITE_EXEC;
    }
    if flags.contains(MapFlags::SHARE) {
        bits |= attrs::SHARE;
    }
    Ok(bits | access_bits(flags, bits)?)
}

/// The access bits of `flags`, if a region with attributes `region`
/// allows them.
fn access_bits(flags: MapFlags, region: u32) -> Result<u32, SysError> {
    let write = flags.contains(MapFlags::WRITE);
    let exec = flags.contains(MapFlags::EXEC);
    if (write && region & attrs::MAY_WRITE == 0)
        || (write && exec && region & attrs::MAY_WRITE_EXEC == 0)
    {
        return Err(SysError::MissingRights);
    }
    let mut bits = attrs::READ;
    if write {
        bits |= attrs::WRITE;
    }
    if exec {
        bits |= attrs::EXEC;
    }
    Ok(bits)
}

/// `AspaceMap`: adds a region; pages are mapped as they are touched.
pub fn aspace_map(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceMapArgs,
) -> Result<Next, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    let (memory, cap) = lookup::<ObjId<MemoryObject>>(k, caller, args.memory, Rights::READ)?;
    let bits = region_attrs(args.flags, cap.rights)?;
    let end = args
        .offset
        .checked_add(args.pages)
        .ok_or(SysError::InvalidArg)?;
    if end > k.objects.get(memory).size {
        return Err(SysError::InvalidArg);
    }
    let region = Region {
        start: args.vaddr,
        pages: args.pages,
        offset: args.offset,
        attrs: bits,
        object: memory,
    };
    vm::mapping::map_region(k, aspace, region)?;
    Ok(Next::Success)
}

/// `AspaceUnmap`.
pub fn aspace_unmap(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceUnmapArgs,
) -> Result<Next, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    match vm::mapping::unmap_range(k, aspace, args.vaddr, args.pages)? {
        0 => Err(SysError::InvalidArg),
        _ => Ok(Next::Success),
    }
}

/// `AspaceProtect`.
pub fn aspace_protect(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceProtectArgs,
) -> Result<Next, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    if args.flags.contains(MapFlags::SHARE) {
        return Err(SysError::InvalidArg);
    }
    let end = k
        .objects
        .get(aspace)
        .regions
        .check(args.vaddr, args.pages)
        .map_err(crate::vm::mapping::region_error)?;
    if vm::mapping::any_region_refuses(k, aspace, args.vaddr, end, |a| {
        access_bits(args.flags, a).is_ok()
    }) {
        return Err(SysError::MissingRights);
    }
    let access = access_bits(args.flags, attrs::MAY_WRITE | attrs::MAY_WRITE_EXEC)?;
    vm::mapping::protect_range(k, aspace, args.vaddr, args.pages, access)?;
    Ok(Next::Success)
}

/// `AspaceClone`.
pub fn aspace_clone(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceCloneArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    let (source, _) =
        lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::READ | Rights::WRITE)?;
    check_new_slot(k, caller)?;
    let id = vm::clone::clone_aspace(k, budget, source)?;
    Ok(install_new(k, caller, ObjectRef::AddressSpace(id), parent))
}

/// `AspacePopulate`: every check before the first page, then page by
/// page (not preemptible: at most `POPULATE_MAX_PAGES`).
pub fn aspace_populate(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspacePopulateArgs,
) -> Result<Next, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    if args.pages > POPULATE_MAX_PAGES {
        return Err(SysError::InvalidArg);
    }
    // Unaligned, empty, overflowing, outside user space; then a hole.
    let end = k
        .objects
        .get(aspace)
        .regions
        .check_mapped(args.vaddr, args.pages)
        .map_err(vm::mapping::region_error)?;
    if !vm::mapping::inside_objects(k, aspace, args.vaddr, end) {
        return Err(SysError::InvalidArg);
    }
    vm::fault::populate_range(k, aspace, args.vaddr, end)?;
    Ok(Next::Success)
}

/// `ThreadExec`: the caller goes on in another address space, with FS
/// base `tls` (GS base 0).
pub fn thread_exec(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: ThreadExecArgs,
) -> Result<Next, SysError> {
    use abi::layout::{USER_END, USER_START, is_user_canonical};
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    if !(USER_START..USER_END).contains(&args.entry)
        || !(USER_START..=USER_END).contains(&args.stack)
        || !is_user_canonical(args.tls)
    {
        return Err(SysError::InvalidArg);
    }
    let old = k.objects.get(caller).aspace;
    lifetime::add_ref(k, ObjectRef::AddressSpace(aspace));
    let thread = k.objects.get_mut(caller);
    thread.aspace = aspace;
    thread.buffer_tlb = crate::object::thread::BufferTlb::EMPTY;
    thread.context = UserContext::new_user(args.entry, args.stack, args.arg);
    let root = k.objects.get(aspace).root;
    crate::arch::paging::activate_phys(root);
    switch::set_tls_bases(k, caller, args.tls, 0);
    lifetime::release(k, ObjectRef::AddressSpace(old));
    Ok(Next::Done)
}

/// `MemoryResize`.
pub fn memory_resize(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: MemoryResizeArgs,
) -> Result<Next, SysError> {
    let (memory, _) = lookup::<ObjId<MemoryObject>>(k, caller, args.memory, Rights::WRITE)?;
    if !(1..=MEMORY_MAX_PAGES).contains(&args.pages) {
        return Err(SysError::InvalidArg);
    }
    // Pages another address space maps cannot be cut from under it: a
    // server that maps a client's object must not fault because the
    // client shrank it.
    let own = k.objects.get(caller).aspace;
    if vm::pages::mapped_past(k, memory, args.pages, own) {
        return Err(SysError::InvalidArg);
    }
    vm::pages::resize_memory(k, memory, args.pages)?;
    Ok(Next::Success)
}

/// `MemoryCreateDevice`.
pub fn memory_create_device(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: MemoryCreateDeviceArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    lookup::<DeviceObject>(k, caller, args.device, Rights::WRITE)?;
    let bytes = args
        .pages
        .checked_mul(abi::layout::PAGE_BYTES)
        .ok_or(SysError::InvalidArg)?;
    let end = args.phys.checked_add(bytes).ok_or(SysError::InvalidArg)?;
    if args.pages == 0
        || args.pages > MEMORY_MAX_PAGES
        || !args.phys.is_multiple_of(abi::layout::PAGE_BYTES)
        || end > crate::config::PHYS_LIMIT
        || crate::mem::frame::touches_ram(args.phys, end)
        || crate::arch::acpi::touches_kernel_mmio(args.phys, end)
    {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    let object = MemoryObject::fixed(args.phys, args.pages, FixedKind::Device, budget);
    let id = lifetime::new_object(k, budget, object)?;
    Ok(install_new(k, caller, ObjectRef::Memory(id), parent))
}

/// `MemoryLend`.
pub fn memory_lend(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: MemoryLendArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    let rights = match args.mode {
        LendMode::Lend => Rights::READ,
        LendMode::Move => Rights::READ | Rights::WRITE,
    };
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, rights)?;
    check_new_slot(k, caller)?;
    let (id, offset) = vm::clone::lend(k, budget, aspace, args.addr, args.len, args.mode)?;
    let read_only = Rights::READ | Rights::GRANT;
    let slot = install_new_with(k, caller, ObjectRef::Memory(id), read_only, parent);
    Ok(Next::Reply(
        LendResult {
            slot: u64::from(slot),
            offset,
        }
        .encode(),
    ))
}

/// `BudgetSplit`.
pub fn budget_split(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: BudgetSplitArgs,
) -> Result<Next, SysError> {
    let (budget, parent) = payer(k, caller, args.budget)?;
    if args.frames == 0 {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    let id = budget::split(k, budget, args.frames)?;
    Ok(install_new(k, caller, ObjectRef::Budget(id), parent))
}

/// `BudgetInfo`.
pub fn budget_info(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: BudgetInfoArgs,
) -> Result<Next, SysError> {
    let (budget, _) = lookup::<ObjId<Budget>>(k, caller, args.budget, Rights::READ)?;
    let account: &Account = &k.objects.get(budget).account;
    Ok(Next::Reply(
        BudgetStatus {
            limit: account.limit(),
            used: account.used(),
        }
        .encode(),
    ))
}
