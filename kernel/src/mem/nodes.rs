//! Frames that hold the nodes of memory objects' page trees
//! (`kcore::pagetree`), reached through the direct map.
//!
//! A store hands out at most `allowance` nodes: the caller sets it to what
//! the paying budget can afford, and settles with the budget afterwards by
//! the change in the tree's own node count (a failed tree operation gives
//! back the nodes it took, so the store may have handed out more than the
//! tree kept).

use kcore::frame::{FRAME_BYTES, FrameNumber};
use kcore::pagetree::{NODE_ENTRIES, NodeStore};

use super::frame;
use crate::config::DIRECT_MAP_BASE;

/// A node store over the frame allocator.
pub struct Nodes {
    allowance: u64,
    taken: u64,
    freed: u64,
}

impl Nodes {
    /// A store that allocates at most `allowance` nodes.
    pub fn new(allowance: u64) -> Nodes {
        Nodes {
            allowance,
            taken: 0,
            freed: 0,
        }
    }

    /// A store for reading and freeing only.
    pub fn read_only() -> Nodes {
        Nodes::new(0)
    }

    /// Nodes freed so far.
    pub fn freed(&self) -> u64 {
        self.freed
    }
}

fn entries(node: u64) -> *mut [u64; NODE_ENTRIES] {
    // A node is a RAM frame, below the direct map's size.
    DIRECT_MAP_BASE.wrapping_add(node) as *mut [u64; NODE_ENTRIES]
}

impl NodeStore for Nodes {
    fn alloc(&mut self) -> Option<u64> {
        if self.taken >= self.allowance {
            return None;
        }
        let frame = frame::alloc_zeroed()?;
        // Below `allowance` (checked above).
        self.taken = self.taken.wrapping_add(1);
        Some(frame.addr())
    }

    fn free(&mut self, node: u64) {
        // Each freed node was taken: a count of frames.
        self.freed = self.freed.wrapping_add(1);
        frame::free(FrameNumber(node / FRAME_BYTES));
    }

    fn node(&self, node: u64) -> &[u64; NODE_ENTRIES] {
        // SAFETY: `node` is a frame `alloc` returned to a tree and the tree
        // has not freed (the tree only passes ids of its live nodes); it is
        // in the direct map, page-aligned and 4 KiB long. Tree nodes are
        // touched only under the kernel lock through the tree that owns them.
        unsafe { &*entries(node) }
    }

    fn node_mut(&mut self, node: u64) -> &mut [u64; NODE_ENTRIES] {
        // SAFETY: as in `node`; `&mut self` and the tree's `&mut` make this
        // the only reference.
        unsafe { &mut *entries(node) }
    }
}
