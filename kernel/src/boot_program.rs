//! The first program: find the flat `bootstrap` image in the initramfs,
//! build its address space and capability space, and make its thread ready.
//!
//! The kernel has no ELF loader. `xtask` turns the program into a flat
//! image with an `abi::boot::FlatImageHeader` and places its data on a page
//! boundary of the initramfs; the kernel maps it at
//! `abi::layout::IMAGE_BASE` (code read+execute, the rest read+write) as an
//! anonymous memory object whose pages are the initramfs pages themselves,
//! pinned and shared copy-on-write, so nothing is copied until the
//! program writes a page (only a partial last page, or every page if the
//! data is not page-aligned in memory, is copied at boot). It maps the
//! boot information page, the initramfs (read-only) and a stack, and
//! hands the thread seven capabilities: the debug object,
//! its own address space, itself, its capability space, the root budget
//! (every frame free at this point; the first program's own objects are
//! paid from it), the initramfs pages and the device memory (the physical
//! ranges that are not RAM). That is all the authority it has. Its memory
//! is ordinary memory objects in regions, so it can be cloned and unmapped
//! like any other.

use abi::boot::{BOOT_INFO_MAGIC, BOOT_INFO_VERSION, BootInfo, FlatImageHeader};
use abi::layout::{BOOT_INFO_ADDR, INITRAMFS_ADDR, PAGE_BYTES, STACK_TOP};
use abi::syscall::PRIORITY_LEVELS;
use abi::{CapSlot, Rights};
use kcore::frame::FrameNumber;
use kcore::memmap::PhysRange;
use zerocopy::IntoBytes;

use kcore::budget::Account;

use crate::arch::UserContext;
use crate::cap::{Capability, ObjectRef, tree};
use crate::config::{BOOT_CSPACE_SLOTS, BOOT_PRIORITY, DIRECT_MAP_BASE};
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::object::aspace;
use crate::object::aspace::{AddressSpace, Region, attrs};
use crate::object::budget;
use crate::object::budget::Budget;
use crate::object::cspace;
use crate::object::lifetime;
use crate::object::memory::{FixedKind, MemoryObject};
use crate::object::thread;
use crate::object::thread::{THREAD_OBJECT_BYTES, Thread};
use crate::vm;

/// The first program's capability slots (reported in the boot information).
mod slots {
    pub const DEBUG: u32 = 1;
    pub const ASPACE: u32 = 2;
    pub const THREAD: u32 = 3;
    pub const CSPACE: u32 = 4;
    pub const BUDGET: u32 = 5;
    pub const INITRAMFS: u32 = 6;
    pub const DEVICE: u32 = 7;
    pub const IO_SPACE: u32 = 8;
    pub const IRQ_CONTROL: u32 = 9;
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
    /// Random words for the program (`BootInfo::entropy`).
    pub entropy: [u64; 4],
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
                "the initramfs does not start with `bootstrap`"
            }
            BootError::Initramfs(
                kcore::tar::TarError::NotAFile | kcore::tar::TarError::Unsupported,
            ) => "`bootstrap` in the initramfs is not a regular file",
            BootError::Initramfs(
                kcore::tar::TarError::Truncated | kcore::tar::TarError::BadHeader,
            ) => "the initramfs is not a valid tar file",
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
            DIRECT_MAP_BASE.wrapping_add(range.start) as *const u8,
            range.len() as usize,
        )
    }
}

/// An anonymous object of `pages` pages paid for by `budget`, holding
/// `contents` in its first pages (the rest stay holes, zero on first
/// touch). If `contents` lies at physical `contents_phys` (RAM the
/// allocator never hands out: the initramfs) and that is page-aligned,
/// each whole page of it is that page itself, pinned and shared
/// copy-on-write (`frame::page_init_pinned`); every other page is a
/// fresh copy.
fn filled_object(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    pages: u64,
    contents: &[u8],
    contents_phys: Option<u64>,
) -> Result<ObjId<MemoryObject>, BootError> {
    let oom = |_| BootError::OutOfMemory;
    let object = MemoryObject::anonymous(pages, budget).map_err(oom)?;
    let id = lifetime::new_object(k, budget, object).map_err(oom)?;
    let shared_from = contents_phys.filter(|phys| phys.is_multiple_of(PAGE_BYTES));
    for (index, chunk) in contents.chunks(PAGE_BYTES as usize).enumerate() {
        // Offsets inside the image, which lies in RAM: no wrap.
        let offset = (index as u64).wrapping_mul(PAGE_BYTES);
        let pinned = shared_from
            .map(|phys| FrameNumber::containing(phys.wrapping_add(offset)))
            .filter(|frame| chunk.len() as u64 == PAGE_BYTES && frame::page_init_pinned(*frame));
        let page = match pinned {
            Some(frame) => frame,
            None => {
                let page = vm::pages::new_page(k, budget).map_err(oom)?;
                crate::mem::phys::copy_in(page.addr(), chunk);
                page
            }
        };
        vm::pages::store_page(k, id, index as u64, page.addr()).map_err(oom)?;
    }
    Ok(id)
}

/// Maps `pages` pages of `object` from page `offset` at `start`.
fn map(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    object: ObjId<MemoryObject>,
    (start, pages, offset): (u64, u64, u64),
    access: u32,
) -> Result<(), BootError> {
    let region = Region {
        start,
        pages,
        offset,
        attrs: access | attrs::READ,
        object,
    };
    vm::mapping::map_region(k, aspace, region).map_err(|_| BootError::OutOfMemory)
}

/// Builds the first program and queues its thread.
///
/// # Errors
/// [`BootError`] when the initramfs or image is unusable or memory is short.
pub fn start(k: &mut Kernel, facts: &BootFacts<'_>) -> Result<(), BootError> {
    let archive = phys_slice(facts.initrd);
    // `bootstrap` is the archive's first member (docs/initramfs.md), so
    // only its headers are read, not every header of the archive; init
    // checks that no later member replaces it.
    let image = kcore::tar::find_leading(archive, BOOTSTRAP_NAME).map_err(BootError::Initramfs)?;
    let (header, data) = FlatImageHeader::parse(image).map_err(BootError::Image)?;
    // `data` borrows the archive, which lies at `facts.initrd.start`.
    let data_phys = facts
        .initrd
        .start
        .wrapping_add((data.as_ptr() as u64).wrapping_sub(archive.as_ptr() as u64));

    // The root budget: every free frame, from here on.
    let oom = |_| BootError::OutOfMemory;
    let root_budget = budget::create_root(&mut k.objects).map_err(oom)?;
    let (free, _) = frame::counts();
    k.objects.get_mut(root_budget).account = Account::new(free);
    let aspace = aspace::create(k, root_budget).map_err(oom)?;

    // The image: the initramfs pages, shared copy-on-write, so the
    // initramfs stays read-only and unchanged; code read+execute, the rest
    // read+write.
    let pages = header.mem_bytes.div_ceil(PAGE_BYTES);
    let exec_pages = header.exec_bytes / PAGE_BYTES;
    let image = filled_object(k, root_budget, pages, data, Some(data_phys))?;
    let code = attrs::EXEC | attrs::MAY_WRITE;
    let writable = attrs::WRITE | attrs::MAY_WRITE;
    map(k, aspace, image, (header.load_addr, exec_pages, 0), code)?;
    // `FlatImageHeader::parse` bounds the image: `load_addr` is
    // IMAGE_BASE, `exec_bytes <= mem_bytes <= FLAT_MAX_MEM_BYTES` and
    // `stack_bytes <= FLAT_MAX_STACK_BYTES`, so none of this wraps.
    if pages > exec_pages {
        let data_start = header.load_addr.wrapping_add(header.exec_bytes);
        map(
            k,
            aspace,
            image,
            (data_start, pages.wrapping_sub(exec_pages), exec_pages),
            writable,
        )?;
    }

    // The stack, with an unmapped guard page below it (touched lazily).
    let stack_pages = header.stack_bytes / PAGE_BYTES;
    let stack = filled_object(k, root_budget, stack_pages, &[], None)?;
    // `FlatImageHeader::parse` bounds the stack size.
    let stack_start = STACK_TOP.wrapping_sub(header.stack_bytes);
    map(k, aspace, stack, (stack_start, stack_pages, 0), writable)?;

    // The initramfs, read-only, in place.
    let first = facts.initrd.start & !(PAGE_BYTES - 1);
    // `pvh` made the initramfs range non-empty: `end > start >= first`.
    let initramfs_pages = facts.initrd.end.wrapping_sub(first).div_ceil(PAGE_BYTES);
    let object = MemoryObject::fixed(first, initramfs_pages, FixedKind::Ram, root_budget);
    let initramfs = lifetime::new_object(k, root_budget, object).map_err(oom)?;
    map(
        k,
        aspace,
        initramfs,
        (INITRAMFS_ADDR, initramfs_pages, 0),
        0,
    )?;

    // Capability space and thread.
    let cspace = cspace::create(k, BOOT_CSPACE_SLOTS, root_budget).map_err(oom)?;
    let number = thread::new_id(k);
    let mut thread = Thread::new(
        number,
        aspace,
        cspace,
        root_budget,
        BOOT_PRIORITY,
        (PRIORITY_LEVELS - 1) as u8,
    );
    thread.context = UserContext::new_user(header.entry, STACK_TOP, BOOT_INFO_ADDR);
    let thread = lifetime::new_object(k, root_budget, thread).map_err(oom)?;
    let all = Rights::all();
    let read_only = Rights::READ | Rights::GRANT;
    let caps = [
        (slots::DEBUG, ObjectRef::Debug, all),
        (slots::ASPACE, ObjectRef::AddressSpace(aspace), all),
        (slots::THREAD, ObjectRef::Thread(thread), all),
        (slots::CSPACE, ObjectRef::CSpace(cspace), all),
        (slots::BUDGET, ObjectRef::Budget(root_budget), all),
        (slots::INITRAMFS, ObjectRef::Memory(initramfs), read_only),
        (slots::DEVICE, ObjectRef::DeviceMemory, all),
        (slots::IO_SPACE, ObjectRef::IoSpace, all),
        (slots::IRQ_CONTROL, ObjectRef::IrqControl, all),
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
    lifetime::add_ref(k, ObjectRef::AddressSpace(aspace)); // the thread's
    lifetime::add_ref(k, ObjectRef::CSpace(cspace));

    // The boot information page.
    let mut info = BootInfo {
        magic: BOOT_INFO_MAGIC,
        version: BOOT_INFO_VERSION,
        cmdline_len: 0,
        // The initramfs' offset in its first page.
        initramfs_addr: INITRAMFS_ADDR.wrapping_add(facts.initrd.start & (PAGE_BYTES - 1)),
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
        device_cap: slots::DEVICE,
        io_space_cap: slots::IO_SPACE,
        irq_control_cap: slots::IRQ_CONTROL,
        reserved: 0,
        entropy: facts.entropy,
        cmdline: [0; abi::boot::CMDLINE_BYTES],
    };
    let len = facts.cmdline.len().min(info.cmdline.len());
    info.cmdline[..len].copy_from_slice(&facts.cmdline[..len]);
    info.cmdline_len = len as u32;
    let info_page = filled_object(k, root_budget, 1, info.as_bytes(), None)?;
    map(k, aspace, info_page, (BOOT_INFO_ADDR, 1, 0), 0)?;

    // Threads live in frames: the count is far below its type's range.
    k.live_threads = k.live_threads.wrapping_add(1);
    k.sched.make_ready(&mut k.objects, thread);
    crate::klog!(
        Info,
        "bootstrap: {} KiB image, entry {:#x}",
        header.mem_bytes / 1024,
        header.entry
    );
    Ok(())
}
