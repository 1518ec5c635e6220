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
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::object::aspace::{AddressSpace, REGIONS, Region, attrs};
use crate::object::budget::Budget;
use crate::object::memory::{Backing, MemoryObject};

impl Kernel {
    /// A new address space paid for by `budget`, with its root table.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn new_aspace(&mut self, budget: ObjId<Budget>) -> Result<ObjId<AddressSpace>, SysError> {
        self.charge(budget, 1)?;
        let Some(root) = user_tables::new_root() else {
            self.refund(budget, 1);
            return Err(SysError::OutOfMemory);
        };
        self.new_object(budget, AddressSpace::new(root, budget))
            .inspect_err(|_| {
                user_tables::free_root(root);
                self.refund(budget, 1);
            })
    }

    /// A copy-on-write copy of anonymous `memory`, paid for by `budget`:
    /// every present page is shared, and `memory`'s mappings lose write
    /// access to them. The copy has no references yet.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn clone_memory(
        &mut self,
        budget: ObjId<Budget>,
        memory: ObjId<MemoryObject>,
    ) -> Result<ObjId<MemoryObject>, SysError> {
        let size = self.objects.get(memory).size;
        let copy = self.new_object(budget, MemoryObject::anonymous(size, budget)?)?;
        let mut nodes = Nodes::new(self.available(budget));
        let mut tree = core::mem::replace(
            &mut self.objects.get_mut(copy).tree,
            kcore::pagetree::PageTree::new(0).expect("an empty tree"),
        );
        let mut complete = true;
        self.objects
            .get(memory)
            .tree
            .for_each(&Nodes::read_only(), |index, page| {
                if complete && tree.set(&mut nodes, index, page).is_ok() {
                    frame::page_share(FrameNumber::containing(page));
                } else {
                    complete = false;
                }
            });
        // The tree's count, not the store's: a failed set gives back the
        // nodes it took.
        self.charge(budget, tree.nodes())
            .expect("nodes were within the allowance");
        self.objects.get_mut(copy).tree = tree;
        if !complete {
            self.destroy_memory(copy);
            return Err(SysError::OutOfMemory);
        }
        self.unmap_pages_everywhere(memory, 0, size, true);
        Ok(copy)
    }

    /// A copy of `source` paid for by `budget`: regions mapped with
    /// [`attrs::SHARE`] (and fixed objects) show the same objects, the
    /// rest copy-on-write copies of them.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn clone_aspace(
        &mut self,
        budget: ObjId<Budget>,
        source: ObjId<AddressSpace>,
    ) -> Result<ObjId<AddressSpace>, SysError> {
        let aspace = self.new_aspace(budget)?;
        let regions = self.objects.get(source).regions.clone();
        // Each object copied once, however many regions show it.
        let mut copies: [Option<(ObjId<MemoryObject>, ObjId<MemoryObject>)>; REGIONS] =
            [None; REGIONS];
        let mut result = Ok(());
        for (i, region) in regions.iter().enumerate() {
            match self.clone_region(budget, aspace, region, &mut copies, i) {
                Ok(()) => {}
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        if let Err(error) = result {
            self.destroy_aspace(aspace);
            return Err(error);
        }
        Ok(aspace)
    }

    fn clone_region(
        &mut self,
        budget: ObjId<Budget>,
        aspace: ObjId<AddressSpace>,
        region: &Region,
        copies: &mut [Option<(ObjId<MemoryObject>, ObjId<MemoryObject>)>; REGIONS],
        index: usize,
    ) -> Result<(), SysError> {
        let source = region.object;
        let shared = region.attrs & attrs::SHARE != 0
            || self.objects.get(source).backing != Backing::Anonymous;
        let known = copies
            .iter()
            .flatten()
            .find(|(s, _)| *s == source)
            .map(|(_, c)| *c);
        let (object, fresh) = match (shared, known) {
            (true, _) => (source, false),
            (false, Some(copy)) => (copy, false),
            (false, None) => (self.clone_memory(budget, source)?, true),
        };
        let mapped = self.map_region(aspace, Region { object, ..*region });
        match mapped {
            Ok(()) if fresh => copies[index] = Some((source, object)),
            Ok(()) => {}
            Err(error) => {
                if fresh {
                    self.destroy_memory(object);
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
        &mut self,
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
        let end = addr + len;
        let pages = (end - first).div_ceil(PAGE_BYTES);
        if pages > MEMORY_MAX_PAGES {
            return Err(SysError::InvalidArg);
        }
        // Every page in a region that allows the access, faulted in.
        let needed = match mode {
            LendMode::Lend => attrs::READ,
            LendMode::Move => attrs::READ | attrs::WRITE,
        };
        let space = self.objects.get(aspace);
        for page in 0..pages {
            let region = space
                .regions
                .find(first + page * PAGE_BYTES)
                .ok_or(SysError::BadAddress)?;
            if region.attrs & needed != needed {
                return Err(SysError::BadAddress);
            }
        }
        self.populate(aspace, first, pages * PAGE_BYTES, false)?;

        let lent = self.new_object(budget, MemoryObject::anonymous(pages, budget)?)?;
        for page in 0..pages {
            let virt = first + page * PAGE_BYTES;
            let from = addr.max(virt);
            let to = end.min(virt + PAGE_BYTES);
            if let Err(error) = self.lend_page(lent, page, aspace, virt, from..to) {
                self.destroy_memory(lent);
                return Err(error);
            }
        }
        // Moving: the sender's objects let go of the whole pages (the lent
        // object holds them now), and see fresh zero pages there later.
        if mode == LendMode::Move {
            for page in 0..pages {
                let virt = first + page * PAGE_BYTES;
                if virt >= addr && virt + PAGE_BYTES <= end {
                    self.drop_sender_page(aspace, virt);
                }
            }
        }
        Ok((lent, addr - first))
    }

    /// Page `page` of `lent`: the sender's page at `virt` shared, or, when
    /// only `bytes` of it are lent (or it is not an anonymous page), a
    /// fresh page with just those bytes.
    fn lend_page(
        &mut self,
        lent: ObjId<MemoryObject>,
        page: u64,
        aspace: ObjId<AddressSpace>,
        virt: u64,
        bytes: core::ops::Range<u64>,
    ) -> Result<(), SysError> {
        let space = self.objects.get(aspace);
        let region = *space.regions.find(virt).ok_or(SysError::BadAddress)?;
        let index = region.object_page(virt);
        let source = self.objects.get(region.object);
        let whole = bytes.start == virt && bytes.end == virt + PAGE_BYTES;
        let shared = match source.backing {
            Backing::Anonymous if whole => source.tree.get(&Nodes::read_only(), index),
            Backing::Fixed { device: true, .. } => return Err(SysError::BadAddress),
            _ => None,
        };
        if let Some(phys) = shared {
            frame::page_share(FrameNumber::containing(phys));
            if let Err(error) = self.store_page(lent, page, phys) {
                self.release_page(FrameNumber::containing(phys));
                return Err(error);
            }
            self.unmap_pages_everywhere(region.object, index, index + 1, true);
            return Ok(());
        }
        let root = space.root;
        let source_phys = user_tables::translate(root, virt, false).ok_or(SysError::BadAddress)?;
        let budget = self.objects.get(lent).budget;
        let fresh = self.new_page(budget)?;
        let offset = bytes.start - virt;
        crate::mem::phys::copy_bytes(
            fresh.addr() + offset,
            source_phys + offset,
            bytes.end - bytes.start,
        );
        if let Err(error) = self.store_page(lent, page, fresh.addr()) {
            self.release_page(fresh);
            return Err(error);
        }
        Ok(())
    }

    /// The sender's object at `virt` lets go of its page there (moved).
    fn drop_sender_page(&mut self, aspace: ObjId<AddressSpace>, virt: u64) {
        let Some(region) = self.objects.get(aspace).regions.find(virt).copied() else {
            return;
        };
        let index = region.object_page(virt);
        let memory = region.object;
        if self.objects.get(memory).backing != Backing::Anonymous {
            return;
        }
        let mut nodes = Nodes::read_only();
        let before = self.objects.get(memory).tree.nodes();
        let taken = self.objects.get_mut(memory).tree.take(&mut nodes, index);
        let after = self.objects.get(memory).tree.nodes();
        let budget = self.objects.get(memory).budget;
        self.refund(budget, before - after);
        if let Some(phys) = taken {
            self.unmap_page_everywhere(memory, index, Some(phys));
            self.release_page(FrameNumber::containing(phys));
        }
    }
}
