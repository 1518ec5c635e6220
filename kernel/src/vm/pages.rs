//! The pages of memory objects: filling a hole, breaking copy-on-write,
//! dropping or write-protecting a page everywhere it is mapped, resizing
//! and destroying objects.

use abi::SysError;
use abi::layout::PAGE_BYTES;
use kcore::frame::FrameNumber;
use kcore::pagetree::PageTree;

use crate::arch::tlb::TlbFlush;
use crate::arch::user_tables;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::mem::nodes::Nodes;
use crate::mem::phys;
use crate::object::memory::{Backing, MemoryObject};

impl Kernel {
    /// Puts `page` (a user page held once, for the object) at `index` of
    /// anonymous `memory`, paying for tree nodes from its budget. Returns
    /// the page it replaced.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`]; the page is then still the caller's.
    pub fn store_page(
        &mut self,
        memory: ObjId<MemoryObject>,
        index: u64,
        page: u64,
    ) -> Result<Option<u64>, SysError> {
        let object = self.objects.get(memory);
        let budget = object.budget;
        let needed = object.tree.nodes_needed(&Nodes::read_only(), index);
        self.charge(budget, needed)?;
        let mut nodes = Nodes::new(needed);
        let tree = &mut self.objects.get_mut(memory).tree;
        let before = tree.nodes();
        let result = tree.set(&mut nodes, index, page);
        // What the tree holds now counts, not what the store handed out: a
        // failed call gives back the nodes it took.
        let added = tree.nodes() - before;
        self.refund(budget, needed - added);
        result.map_err(|_| SysError::OutOfMemory)
    }

    /// A zeroed page for the hole at `index` of anonymous `memory`, paid
    /// for by the object's budget.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn fill_page(&mut self, memory: ObjId<MemoryObject>, index: u64) -> Result<u64, SysError> {
        let budget = self.objects.get(memory).budget;
        let page = self.new_page(budget)?;
        if let Err(error) = self.store_page(memory, index, page.addr()) {
            self.release_page(page);
            return Err(error);
        }
        Ok(page.addr())
    }

    /// Gives `memory` its own copy of the shared page `old` at `index`
    /// (paid for by the object's budget), unmapping the old one wherever
    /// the object is mapped; the copy is returned.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing changes).
    pub fn copy_page(
        &mut self,
        memory: ObjId<MemoryObject>,
        index: u64,
        old: u64,
    ) -> Result<u64, SysError> {
        let budget = self.objects.get(memory).budget;
        let page = self.new_page(budget)?;
        phys::copy_page(page.addr(), old);
        self.store_page(memory, index, page.addr())
            .expect("a present page needs no new node");
        self.unmap_page_everywhere(memory, index, Some(old));
        self.release_page(FrameNumber::containing(old));
        Ok(page.addr())
    }

    /// Drops the leaves that show page `index` of `memory` (only those
    /// mapping `phys`, if given) in every address space that maps it: the
    /// one-page case of [`Kernel::unmap_pages_everywhere`], kept apart
    /// because copy-on-write runs it on every copy (a range walk costs
    /// about 100 instructions more).
    pub fn unmap_page_everywhere(
        &mut self,
        memory: ObjId<MemoryObject>,
        index: u64,
        phys: Option<u64>,
    ) {
        let object = self.objects.get(memory);
        for aspace in object.spaces() {
            let space = self.objects.get(aspace);
            for region in space.regions.regions_of(memory) {
                if (region.offset..region.offset + region.pages).contains(&index) {
                    let virt = region.start + (index - region.offset) * PAGE_BYTES;
                    user_tables::unmap_page(space.root, virt, phys).run();
                }
            }
        }
    }

    /// Drops or write-protects the leaves of `memory`'s pages `first..end`
    /// in every address space that maps it.
    pub fn unmap_pages_everywhere(
        &mut self,
        memory: ObjId<MemoryObject>,
        first: u64,
        end: u64,
        write_protect_only: bool,
    ) {
        let object = self.objects.get(memory);
        for aspace in object.spaces() {
            let space = self.objects.get(aspace);
            let mut flush = TlbFlush::none(space.root);
            for region in space.regions.regions_of(memory) {
                let lo = first.max(region.offset);
                let hi = end.min(region.offset + region.pages);
                if lo >= hi {
                    continue;
                }
                let start = region.start + (lo - region.offset) * PAGE_BYTES;
                let stop = region.start + (hi - region.offset) * PAGE_BYTES;
                flush.merge(if write_protect_only {
                    user_tables::write_protect_range(space.root, start, stop)
                } else {
                    user_tables::unmap_range(space.root, start, stop)
                });
            }
            flush.run();
        }
    }

    /// Resizes anonymous `memory` to `pages` pages. Shrinking unmaps and
    /// releases the cut pages; growing may need tree nodes.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] for a fixed object or a bad size;
    /// [`SysError::OutOfMemory`] (nothing changes).
    pub fn resize_memory(
        &mut self,
        memory: ObjId<MemoryObject>,
        pages: u64,
    ) -> Result<(), SysError> {
        let object = self.objects.get(memory);
        if object.backing != Backing::Anonymous {
            return Err(SysError::InvalidArg);
        }
        let (old, budget) = (object.size, object.budget);
        let needed = object.tree.resize_nodes_needed(pages);
        self.charge(budget, needed)?;
        if pages < old {
            self.unmap_pages_everywhere(memory, pages, old, false);
        }
        // The tree is taken out of the object while pages leave it, so
        // that releasing them can refund their budgets.
        let mut tree = self.take_tree(memory);
        let mut nodes = Nodes::new(needed);
        let before = tree.nodes();
        let result = tree.resize(&mut nodes, pages, |_, page| {
            self.release_page(FrameNumber::containing(page));
        });
        let after = tree.nodes();
        self.objects.get_mut(memory).tree = tree;
        // Charged `needed`; the tree now holds `after - before` more (or
        // fewer) nodes than it did.
        self.refund(budget, needed + before - after);
        result.map_err(|error| match error {
            kcore::pagetree::TreeError::NoMemory => SysError::OutOfMemory,
            _ => SysError::InvalidArg,
        })?;
        self.objects.get_mut(memory).size = pages;
        Ok(())
    }

    /// Frees an object whose last reference is gone: its pages (released
    /// to their last holder), its tree nodes and its frame.
    pub fn destroy_memory(&mut self, memory: ObjId<MemoryObject>) {
        let budget = self.objects.get(memory).budget;
        let mut tree = self.take_tree(memory);
        let tree_nodes = tree.nodes();
        let mut nodes = Nodes::read_only();
        tree.clear(&mut nodes, |_, page| {
            self.release_page(FrameNumber::containing(page));
        });
        debug_assert_eq!(nodes.freed(), tree_nodes);
        self.free_object(budget, memory);
        self.refund(budget, tree_nodes);
    }

    /// Moves `memory`'s page tree out (an empty one stays in its place).
    fn take_tree(&mut self, memory: ObjId<MemoryObject>) -> PageTree {
        let empty = PageTree::new(0).expect("an empty tree");
        core::mem::replace(&mut self.objects.get_mut(memory).tree, empty)
    }
}
