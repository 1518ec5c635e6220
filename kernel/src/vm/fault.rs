//! Page faults: resolved from the regions when the kernel can, reported
//! (to the fault endpoint, or by killing the thread) when it cannot.
//!
//! A fault in a region that allows the access maps the page: a zeroed
//! page for a hole, the object's page when it is exclusive or the access
//! only reads (a shared page is mapped read-only), a copy when a write
//! finds a shared page (copy-on-write; the last holder takes it over
//! instead), or the device page of a fixed object. Anything else is an
//! [`FaultError`].
//!
//! Syscalls fault pages in the same way before they touch user memory
//! ([`populate`]), and `AspacePopulate` does it for a whole range
//! ([`populate_range`]).

use abi::SysError;
use abi::ipc::fault::kind;
use abi::layout::PAGE_BYTES;
use kcore::frame::FrameNumber;

use crate::arch::user_tables::{self, Access, PageRights};
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::object::aspace::{AddressSpace, Region, attrs};
use crate::object::memory::{Backing, FixedKind};
use crate::vm;

/// Why the kernel could not resolve a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No region covers the address (or it lies past its object's end).
    Unmapped,
    /// The region does not allow the access.
    Protection,
    /// The page, a page table or a tree node could not be paid for.
    OutOfMemory,
}

impl FaultError {
    /// The [`kind`] bit of a fault message.
    pub fn kind(self) -> u64 {
        match self {
            FaultError::Unmapped => kind::UNMAPPED,
            FaultError::Protection => kind::PROTECTION,
            FaultError::OutOfMemory => kind::OUT_OF_MEMORY,
        }
    }
}

/// Resolves a fault at `addr` in `aspace`.
///
/// # Errors
/// [`FaultError`] when the kernel cannot.
pub fn resolve(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    addr: u64,
    access: Access,
) -> Result<(), FaultError> {
    let space = k.objects.get(aspace);
    let region = *space.regions.find(addr).ok_or(FaultError::Unmapped)?;
    let allowed = match access {
        Access::Read => true,
        Access::Write => region.attrs & attrs::WRITE != 0,
        Access::Exec => region.attrs & attrs::EXEC != 0,
    };
    if !allowed {
        return Err(FaultError::Protection);
    }
    let virt = addr & !(PAGE_BYTES - 1);
    let index = region.object_page(virt);
    let memory = region.object;
    let object = k.objects.get(memory);
    if index >= object.size {
        return Err(FaultError::Unmapped);
    }
    let oom = |_| FaultError::OutOfMemory;
    let (phys, exclusive, device) = match object.backing {
        Backing::Fixed { base, kind } => {
            // `index < size`, and a fixed object's pages are a physical
            // range checked when it was made: no wrap.
            let phys = base.wrapping_add(index.wrapping_mul(PAGE_BYTES));
            (phys, true, kind == FixedKind::Device)
        }
        Backing::Anonymous => match object.tree.get(&Nodes::read_only(), index) {
            None => (
                vm::pages::fill_page(k, memory, index).map_err(oom)?,
                true,
                false,
            ),
            Some(page) if frame::page_refs(FrameNumber::containing(page)) == 1 => {
                (page, true, false)
            }
            Some(page) if access == Access::Write => (
                vm::pages::copy_page(k, memory, index, page).map_err(oom)?,
                true,
                false,
            ),
            Some(page) => (page, false, false),
        },
    };
    let rights = PageRights {
        write: region.attrs & attrs::WRITE != 0 && exclusive,
        exec: region.attrs & attrs::EXEC != 0,
        uncached: device,
    };
    vm::mapping::map_leaf(k, aspace, virt, phys, rights).map_err(oom)?;
    if region.attrs & attrs::WRITE == 0 && !device {
        map_around(k, aspace, &region, virt, rights);
    }
    Ok(())
}

/// The pages a fault in a region that cannot be written maps at once:
/// the aligned block of this many around the faulting page.
const AROUND_PAGES: u64 = 16;

/// Maps the present pages of the [`AROUND_PAGES`] block around `virt`
/// in `region` (not writable, no device memory) that are not mapped yet,
/// as a read fault on each would: code and constants are read in runs,
/// and a leaf written now costs a few instructions where a fault costs
/// hundreds (Linux's fault-around does the same for file pages). Holes
/// stay holes, and no page table is added: the block lies in the leaf
/// table the fault just used. Kept out of line: inlined, it makes every
/// other fault dearer (about 15 instructions, measured).
#[inline(never)]
fn map_around(
    k: &Kernel,
    aspace: ObjId<AddressSpace>,
    region: &Region,
    virt: u64,
    rights: PageRights,
) {
    let span = AROUND_PAGES * PAGE_BYTES;
    let start = (virt & !(span - 1)).max(region.start);
    // `virt` is a user address, far below 2^64.
    let end = (virt | (span - 1)).wrapping_add(1).min(region.end());
    let object = k.objects.get(region.object);
    let root = k.objects.get(aspace).root;
    user_tables::map_absent(root, start, end, rights, |page| {
        let index = region.object_page(page);
        if index >= object.size {
            return None;
        }
        match object.backing {
            // Below the size of a range checked when the object was made.
            Backing::Fixed { base, .. } => Some(base.wrapping_add(index.wrapping_mul(PAGE_BYTES))),
            Backing::Anonymous => object.tree.get(&Nodes::read_only(), index),
        }
    });
}

/// Faults in every page of `[addr, addr + len)` of `aspace` that is
/// not yet mapped for the access, as a syscall's user copy needs. The
/// range is a user range (`abi::layout::is_user_range`): every caller
/// checked it.
///
/// # Errors
/// [`SysError::BadAddress`] for a page the kernel cannot make
/// accessible (outside every region, or not allowed);
/// [`SysError::OutOfMemory`] if a page cannot be paid for.
pub fn populate(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    addr: u64,
    len: u64,
    access: Access,
) -> Result<(), SysError> {
    if len == 0 {
        return Ok(());
    }
    debug_assert!(abi::layout::is_user_range(addr, len));
    let end = addr.checked_add(len).ok_or(SysError::BadAddress)?;
    let mut page = addr & !(PAGE_BYTES - 1);
    while page < end {
        let root = k.objects.get(aspace).root;
        if user_tables::translate(root, page, access).is_none() {
            resolve(k, aspace, page, access).map_err(|error| match error {
                FaultError::OutOfMemory => SysError::OutOfMemory,
                FaultError::Unmapped | FaultError::Protection => SysError::BadAddress,
            })?;
        }
        // Callers pass user ranges (`end <= USER_END`), so the next page
        // does not wrap.
        page = page.wrapping_add(PAGE_BYTES);
    }
    Ok(())
}

/// Makes every page of `[start, end)` of `aspace` present as a touch
/// would (`AspacePopulate`): a page of a writable region as a write
/// makes it (a hole gets a zeroed page, a shared page is copied), any
/// other as a read does. Pages already present for that access cost
/// nothing. The caller checked that the range is page-aligned, inside
/// user space, and that every page of it is in a region and inside its
/// memory object (`vm::mapping::inside_objects`).
///
/// # Errors
/// [`SysError::OutOfMemory`] if a page or a page table cannot be paid
/// for; the pages before it stay present.
pub fn populate_range(
    k: &mut Kernel,
    aspace: ObjId<AddressSpace>,
    start: u64,
    end: u64,
) -> Result<(), SysError> {
    let mut page = start;
    while page < end {
        let region = k.objects.get(aspace).regions.find(page);
        // Checked by the caller; a miss would be a kernel bug, reported
        // rather than acted on.
        let region_attrs = region.ok_or(SysError::InvalidArg)?.attrs;
        let access = if region_attrs & attrs::WRITE != 0 {
            Access::Write
        } else {
            Access::Read
        };
        populate(k, aspace, page, PAGE_BYTES, access)?;
        // `page < end <= USER_END`: no wrap.
        page = page.wrapping_add(PAGE_BYTES);
    }
    Ok(())
}
