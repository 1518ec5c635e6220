//! The first program: find the flat `bootstrap` image in the initramfs,
//! build its address space and capability space, and make its thread ready.
//!
//! The kernel has no ELF loader. `xtask` turns the program into a flat
//! image with an `abi::boot::FlatImageHeader`; the kernel copies it to
//! fresh frames at `abi::layout::IMAGE_BASE` (code read+execute, the rest
//! read+write), maps the boot information page, the initramfs (read-only)
//! and a stack, and hands the thread six capabilities: the debug object,
//! its own address space, itself, its capability space, the root budget
//! and the initramfs pages. That is all the authority it has.

use abi::boot::{BOOT_INFO_MAGIC, BOOT_INFO_VERSION, BootInfo, FlatImageHeader};
use abi::layout::{BOOT_INFO_ADDR, INITRAMFS_ADDR, PAGE_BYTES, STACK_TOP};
use abi::syscall::PRIORITY_LEVELS;
use abi::{CapSlot, Rights};
use kcore::memmap::PhysRange;
use zerocopy::IntoBytes;

use crate::arch::UserContext;
use crate::arch::paging::{self, PageAccess};
use crate::cap::{Capability, ObjectRef, tree};
use crate::config::{BOOT_CSPACE_SLOTS, BOOT_PRIORITY, DIRECT_MAP_BASE};
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::object::aspace::AddressSpace;
use crate::object::thread::{THREAD_OBJECT_BYTES, Thread};
use crate::object::{cspace, memory};

/// The first program's capability slots (reported in the boot information).
mod slots {
    pub const DEBUG: u32 = 1;
    pub const ASPACE: u32 = 2;
    pub const THREAD: u32 = 3;
    pub const CSPACE: u32 = 4;
    pub const BUDGET: u32 = 5;
    pub const INITRAMFS: u32 = 6;
}

/// Name of the first program in the initramfs.
pub const BOOTSTRAP_NAME: &str = "bootstrap";

/// Facts the boot information page reports.
pub struct BootFacts<'a> {
    /// Where the initramfs is in physical memory.
    pub initrd: PhysRange,
    /// The kernel command line.
    pub cmdline: &'a [u8],
    /// TSC at the kernel's first instruction.
    pub entry_tsc: u64,
    /// `abi::boot::cpu` bits.
    pub cpu_features: u64,
    /// Frames the allocator manages.
    pub total_frames: u64,
}

/// Why the first program could not be started. Boot stops with this.
#[derive(Debug)]
pub enum BootError {
    /// The initramfs is not a readable tar file or lacks `bootstrap`.
    Initramfs(kcore::tar::TarError),
    /// The image header is malformed.
    Image(abi::boot::ImageError),
    /// Not enough memory to build the first program.
    OutOfMemory,
}

impl BootError {
    /// A one-line explanation.
    pub fn describe(&self) -> &'static str {
        match self {
            BootError::Initramfs(kcore::tar::TarError::NotFound) => {
                "no `bootstrap` in the initramfs"
            }
            BootError::Initramfs(_) => "the initramfs is not a valid tar file",
            BootError::Image(abi::boot::ImageError::Truncated) => {
                "the bootstrap image is truncated"
            }
            BootError::Image(abi::boot::ImageError::BadMagic) => {
                "the bootstrap image has a bad magic or version"
            }
            BootError::Image(abi::boot::ImageError::BadField(field)) => field,
            BootError::OutOfMemory => "out of memory",
        }
    }
}

fn phys_slice(range: PhysRange) -> &'static [u8] {
    // SAFETY: `range` is the initramfs, RAM that the frame allocator never
    // hands out (reserved at boot) and that nothing writes; the direct map
    // covers all RAM.
    unsafe {
        core::slice::from_raw_parts(
            (DIRECT_MAP_BASE + range.start) as *const u8,
            range.len() as usize,
        )
    }
}

fn frame_bytes(frame: kcore::frame::FrameNumber) -> &'static mut [u8] {
    // SAFETY: callers pass a frame just taken from the allocator, which
    // nothing else refers to; the direct map covers it.
    unsafe {
        core::slice::from_raw_parts_mut(
            (DIRECT_MAP_BASE + frame.addr()) as *mut u8,
            PAGE_BYTES as usize,
        )
    }
}

fn map_fresh(
    root: x86_64::structures::paging::PhysFrame,
    virt: u64,
    access: PageAccess,
    contents: &[u8],
) -> Result<(), BootError> {
    let frame = frame::alloc_zeroed().ok_or(BootError::OutOfMemory)?;
    frame_bytes(frame)[..contents.len()].copy_from_slice(contents);
    paging::map_user_page(root, virt, frame.addr(), access).map_err(|_| BootError::OutOfMemory)
}

/// Builds the first program and queues its thread.
///
/// # Errors
/// [`BootError`] when the initramfs or image is unusable or memory is short.
pub fn start(k: &mut Kernel, facts: &BootFacts<'_>) -> Result<(), BootError> {
    let archive = phys_slice(facts.initrd);
    let image = kcore::tar::find(archive, BOOTSTRAP_NAME).map_err(BootError::Initramfs)?;
    let (header, data) = FlatImageHeader::parse(image).map_err(BootError::Image)?;
    let root = paging::new_user_root().ok_or(BootError::OutOfMemory)?;

    // The image: copied, so the initramfs stays read-only and shared.
    let pages = header.mem_bytes.div_ceil(PAGE_BYTES);
    for page in 0..pages {
        let offset = page * PAGE_BYTES;
        let start = (offset as usize).min(data.len());
        let end = ((offset + PAGE_BYTES) as usize).min(data.len());
        let access = if offset < header.exec_bytes {
            PageAccess::ReadExecute
        } else {
            PageAccess::ReadWrite
        };
        map_fresh(root, header.load_addr + offset, access, &data[start..end])?;
    }

    // The stack, with an unmapped guard page below it.
    let stack_pages = header.stack_bytes / PAGE_BYTES;
    for page in 1..=stack_pages {
        map_fresh(
            root,
            STACK_TOP - page * PAGE_BYTES,
            PageAccess::ReadWrite,
            &[],
        )?;
    }

    // The initramfs, read-only, in place.
    let first = facts.initrd.start / PAGE_BYTES * PAGE_BYTES;
    let mut phys = first;
    while phys < facts.initrd.end {
        paging::map_user_page(
            root,
            INITRAMFS_ADDR + (phys - first),
            phys,
            PageAccess::Read,
        )
        .map_err(|_| BootError::OutOfMemory)?;
        phys += PAGE_BYTES;
    }

    // Objects: address space, capability space, thread, boot image.
    let aspace = k
        .objects
        .alloc(AddressSpace::new(root, true))
        .map_err(|_| BootError::OutOfMemory)?;
    let cspace =
        cspace::create(&mut k.objects, BOOT_CSPACE_SLOTS).map_err(|_| BootError::OutOfMemory)?;
    let number = k.new_thread_id();
    let mut thread = Thread::new(
        number,
        aspace,
        cspace,
        BOOT_PRIORITY,
        (PRIORITY_LEVELS - 1) as u8,
    );
    thread.context = UserContext::new_user(header.entry, STACK_TOP, BOOT_INFO_ADDR);
    let thread = k
        .objects
        .alloc(thread)
        .map_err(|_| BootError::OutOfMemory)?;
    let initramfs_pages = (facts.initrd.end - first).div_ceil(PAGE_BYTES);
    let initramfs = memory::create_fixed(&mut k.objects, first, initramfs_pages)
        .map_err(|()| BootError::OutOfMemory)?;
    let all = Rights::all();
    let read_only = Rights::READ | Rights::GRANT;
    let caps = [
        (slots::DEBUG, ObjectRef::Debug, all),
        (slots::ASPACE, ObjectRef::AddressSpace(aspace), all),
        (slots::THREAD, ObjectRef::Thread(thread), all),
        (slots::CSPACE, ObjectRef::CSpace(cspace), all),
        (slots::BUDGET, ObjectRef::Budget, all),
        (slots::INITRAMFS, ObjectRef::Memory(initramfs), read_only),
    ];
    for (slot, object, rights) in caps {
        let index = k
            .objects
            .get_mut(cspace)
            .reserve(CapSlot(slot))
            .map_err(|_| BootError::OutOfMemory)?;
        let cap = Capability {
            object,
            rights,
            badge: 0,
        };
        tree::install(k, cspace, index, cap, None);
    }
    k.add_ref(ObjectRef::AddressSpace(aspace)); // the thread's
    k.add_ref(ObjectRef::CSpace(cspace));

    // The boot information page.
    let mut info = BootInfo {
        magic: BOOT_INFO_MAGIC,
        version: BOOT_INFO_VERSION,
        cmdline_len: 0,
        initramfs_addr: INITRAMFS_ADDR + (facts.initrd.start - first),
        initramfs_bytes: facts.initrd.len(),
        debug_cap: slots::DEBUG,
        aspace_cap: slots::ASPACE,
        thread_cap: slots::THREAD,
        cspace_cap: slots::CSPACE,
        kernel_entry_tsc: facts.entry_tsc,
        tsc_hz: crate::time::tsc_hz(),
        total_frames: facts.total_frames,
        cpu_features: facts.cpu_features,
        budget_cap: slots::BUDGET,
        initramfs_cap: slots::INITRAMFS,
        thread_object_bytes: THREAD_OBJECT_BYTES as u32,
        fpu_area_bytes: crate::arch::fpu::FPU_AREA_BYTES as u32,
        cmdline: [0; abi::boot::CMDLINE_BYTES],
    };
    let len = facts.cmdline.len().min(info.cmdline.len());
    info.cmdline[..len].copy_from_slice(&facts.cmdline[..len]);
    info.cmdline_len = len as u32;
    map_fresh(root, BOOT_INFO_ADDR, PageAccess::Read, info.as_bytes())?;

    k.live_threads += 1;
    k.sched.make_ready(&mut k.objects, thread);
    crate::klog!(
        Info,
        "bootstrap: {} KiB image, entry {:#x}",
        header.mem_bytes / 1024,
        header.entry
    );
    Ok(())
}
