//! Address-space and memory-object syscalls (the minimal set IPC between
//! programs needs): create an address space, create an anonymous memory
//! object, map pages of one into the other.

use abi::layout::{PAGE_BYTES, USER_END, USER_START};
use abi::syscall::{
    AspaceCreateArgs, AspaceMapArgs, AspaceUnmapArgs, MEMORY_MAX_PAGES, MemoryCreateArgs,
};
use abi::{MapFlags, Rights, SysError};

use super::{check_new_slot, install_new, lookup};
use crate::arch::paging::{self, PageAccess};
use crate::cap::{BudgetObject, ObjectRef};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::aspace::{AddressSpace, Region};
use crate::object::memory::{self, MemoryObject};
use crate::object::thread::Thread;

/// `AspaceCreate`.
pub fn aspace_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceCreateArgs,
) -> Result<Next, SysError> {
    lookup::<BudgetObject>(k, caller, args.budget, Rights::WRITE)?;
    check_new_slot(k, caller)?;
    let root = paging::new_user_root().ok_or(SysError::OutOfMemory)?;
    let Ok(id) = k.objects.alloc(AddressSpace::new(root, false)) else {
        paging::free_user_root(root);
        return Err(SysError::OutOfMemory);
    };
    Ok(install_new(k, caller, ObjectRef::AddressSpace(id)))
}

/// `MemoryCreate`.
pub fn memory_create(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: MemoryCreateArgs,
) -> Result<Next, SysError> {
    lookup::<BudgetObject>(k, caller, args.budget, Rights::WRITE)?;
    if !(1..=MEMORY_MAX_PAGES).contains(&args.pages) {
        return Err(SysError::InvalidArg);
    }
    check_new_slot(k, caller)?;
    let id =
        memory::create_anonymous(&mut k.objects, args.pages).map_err(|()| SysError::OutOfMemory)?;
    Ok(install_new(k, caller, ObjectRef::Memory(id)))
}

/// A checked `AspaceMap`.
struct MapOp {
    aspace: ObjId<AddressSpace>,
    memory: ObjId<MemoryObject>,
    region: usize,
    access: PageAccess,
}

fn decode_map(k: &Kernel, caller: ObjId<Thread>, args: &AspaceMapArgs) -> Result<MapOp, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    let needed = if args.flags.contains(MapFlags::WRITE) {
        Rights::READ | Rights::WRITE
    } else {
        Rights::READ
    };
    let (memory, _) = lookup::<ObjId<MemoryObject>>(k, caller, args.memory, needed)?;
    let bytes = args
        .pages
        .checked_mul(PAGE_BYTES)
        .ok_or(SysError::InvalidArg)?;
    let end = args.vaddr.checked_add(bytes).ok_or(SysError::InvalidArg)?;
    let object_end = args
        .offset
        .checked_add(args.pages)
        .ok_or(SysError::InvalidArg)?;
    if args.pages == 0
        || !args.vaddr.is_multiple_of(PAGE_BYTES)
        || args.vaddr < USER_START
        || end > USER_END
        || object_end > k.objects.get(memory).pages
    {
        return Err(SysError::InvalidArg);
    }
    let space = k.objects.get(aspace);
    if (0..args.pages).any(|page| paging::is_mapped(space.root, args.vaddr + page * PAGE_BYTES)) {
        return Err(SysError::InvalidArg);
    }
    let region = space.free_region().ok_or(SysError::OutOfMemory)?;
    let access = if args.flags.contains(MapFlags::WRITE) {
        PageAccess::ReadWrite
    } else if args.flags.contains(MapFlags::EXEC) {
        PageAccess::ReadExecute
    } else {
        PageAccess::Read
    };
    Ok(MapOp {
        aspace,
        memory,
        region,
        access,
    })
}

/// `AspaceMap`. Page tables may run out of memory part way; the pages
/// mapped so far are then unmapped again (tables already made stay, and
/// go with the address space).
pub fn aspace_map(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceMapArgs,
) -> Result<Next, SysError> {
    let op = decode_map(k, caller, &args)?;
    let root = k.objects.get(op.aspace).root;
    for page in 0..args.pages {
        let phys = k.objects.get(op.memory).page_phys(args.offset + page);
        let vaddr = args.vaddr + page * PAGE_BYTES;
        if paging::map_user_page(root, vaddr, phys, op.access).is_err() {
            for done in 0..page {
                paging::unmap_user_page(root, args.vaddr + done * PAGE_BYTES);
            }
            return Err(SysError::OutOfMemory);
        }
    }
    k.objects.get_mut(op.aspace).regions[op.region] = Some(Region {
        vaddr: args.vaddr,
        pages: args.pages,
        memory: op.memory,
    });
    k.add_ref(ObjectRef::Memory(op.memory));
    Ok(Next::Success)
}

/// `AspaceUnmap`: a whole region.
pub fn aspace_unmap(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: AspaceUnmapArgs,
) -> Result<Next, SysError> {
    let (aspace, _) = lookup::<ObjId<AddressSpace>>(k, caller, args.aspace, Rights::WRITE)?;
    let space = k.objects.get(aspace);
    let index = space
        .regions
        .iter()
        .position(|region| region.is_some_and(|r| r.vaddr == args.vaddr && r.pages == args.pages))
        .ok_or(SysError::InvalidArg)?;
    let root = space.root;
    let region = k.objects.get_mut(aspace).regions[index]
        .take()
        .expect("position found a region");
    for page in 0..region.pages {
        paging::unmap_user_page(root, region.vaddr + page * PAGE_BYTES);
    }
    k.release(ObjectRef::Memory(region.memory));
    Ok(Next::Success)
}
