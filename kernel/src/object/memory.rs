//! Memory objects: pages that address spaces map.
//!
//! Two kinds: anonymous (frames allocated and zeroed at creation, freed
//! with the object) and fixed (a physical range the kernel does not own,
//! such as the boot image: never freed). Lazy allocation, resizing and
//! page lending come with the memory issue.
//!
//! Lifetime: `refs` counts capabilities plus address-space regions that
//! map the object; its frames stay until both are gone.

use abi::syscall::MEMORY_MAX_PAGES;
use kcore::frame::{FRAME_BYTES, FrameNumber};

use crate::cap::ObjectRef;
use crate::mem::frame;
use crate::mem::kobj::{KernelObject, ObjId, Objects};

/// Where a memory object's pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Frames listed in `frames`, owned by the object.
    Anonymous,
    /// A contiguous physical range from this address, not owned.
    Fixed(u64),
}

/// A memory object.
pub struct MemoryObject {
    /// Number of pages.
    pub pages: u64,
    /// Where they are.
    pub backing: Backing,
    /// Physical addresses of the pages (anonymous objects).
    frames: [u64; MEMORY_MAX_PAGES as usize],
    /// Capabilities and mappings that keep it alive.
    pub refs: u32,
    /// Next object on the kernel's destroy list.
    pub reap_next: Option<ObjectRef>,
}

impl KernelObject for MemoryObject {}

/// Creates an anonymous object of `pages` zeroed pages.
///
/// # Errors
/// `Err(())` when memory runs out (nothing is kept).
pub fn create_anonymous(objects: &mut Objects, pages: u64) -> Result<ObjId<MemoryObject>, ()> {
    let object = MemoryObject {
        pages,
        backing: Backing::Anonymous,
        frames: [0; MEMORY_MAX_PAGES as usize],
        refs: 0,
        reap_next: None,
    };
    let id = objects.alloc(object).map_err(|_| ())?;
    for page in 0..pages as usize {
        let Some(frame) = frame::alloc_zeroed() else {
            free_frames(objects, id);
            objects.free(id);
            return Err(());
        };
        objects.get_mut(id).frames[page] = frame.addr();
    }
    Ok(id)
}

/// Creates an object for a fixed physical range the kernel does not own.
///
/// # Errors
/// `Err(())` when memory runs out.
pub fn create_fixed(
    objects: &mut Objects,
    base: u64,
    pages: u64,
) -> Result<ObjId<MemoryObject>, ()> {
    let object = MemoryObject {
        pages,
        backing: Backing::Fixed(base),
        frames: [0; MEMORY_MAX_PAGES as usize],
        refs: 0,
        reap_next: None,
    };
    objects.alloc(object).map_err(|_| ())
}

/// Frees an anonymous object's frames (the object is unreachable).
pub fn free_frames(objects: &mut Objects, id: ObjId<MemoryObject>) {
    let object = objects.get_mut(id);
    if object.backing != Backing::Anonymous {
        return;
    }
    for phys in object.frames.iter_mut().filter(|phys| **phys != 0) {
        frame::free(FrameNumber(*phys / FRAME_BYTES));
        *phys = 0;
    }
}

impl MemoryObject {
    /// Physical address of page `page` (below `pages`).
    pub fn page_phys(&self, page: u64) -> u64 {
        match self.backing {
            Backing::Anonymous => self.frames[page as usize],
            Backing::Fixed(base) => base + page * FRAME_BYTES,
        }
    }
}
