//! TLB flushes after a change to user page tables.
//!
//! Every function that removes or downgrades a user mapping returns a
//! [`TlbFlush`]: the address space and the span of pages whose entries may
//! be stale. It is `#[must_use]`, so a caller cannot forget it; it may
//! merge several into one and run it once. [`TlbFlush::run`] is the one
//! place that knows which CPUs may hold the entries: today one CPU runs
//! user code and there are no PCIDs, so only the loaded address space can
//! have TLB entries (loading CR3 drops the others). SMP shootdown goes
//! here.

use x86_64::VirtAddr;
use x86_64::instructions::tlb;

use super::paging;

/// Above this many pages a flush reloads CR3 instead of `invlpg` per page.
const INVLPG_LIMIT: u64 = 32;

const PAGE: u64 = 4096;

/// Pages of one address space whose TLB entries may be stale.
#[must_use = "stale TLB entries stay until the flush runs"]
#[derive(Debug)]
pub struct TlbFlush {
    root: u64,
    /// First stale page (inclusive) and last (exclusive); empty if equal.
    first: u64,
    end: u64,
}

impl TlbFlush {
    /// Nothing to flush in the address space rooted at `root`.
    pub fn none(root: u64) -> TlbFlush {
        TlbFlush {
            root,
            first: 0,
            end: 0,
        }
    }

    /// Adds the page at `virt`.
    pub fn add(&mut self, virt: u64) {
        let page = virt & !(PAGE - 1);
        // A mapped page is never the last of the address space, so its end
        // does not wrap.
        if self.first == self.end {
            self.first = page;
            self.end = page.wrapping_add(PAGE);
        } else {
            self.first = self.first.min(page);
            self.end = self.end.max(page.wrapping_add(PAGE));
        }
    }

    /// Takes in another flush of the same address space.
    pub fn merge(&mut self, other: TlbFlush) {
        debug_assert_eq!(self.root, other.root, "merging flushes of two spaces");
        if other.first != other.end {
            self.add(other.first);
            // Not empty: `end` is at least a page above `first`.
            self.add(other.end.wrapping_sub(PAGE));
        }
        other.skip();
    }

    /// Whether any page needs flushing.
    pub fn is_empty(&self) -> bool {
        self.first == self.end
    }

    /// Drops the stale entries from every TLB that may hold them.
    pub fn run(self) {
        if self.is_empty() || paging::active_root() != self.root {
            return;
        }
        // Not empty: `first < end`.
        let pages = self.end.wrapping_sub(self.first) / PAGE;
        if pages > INVLPG_LIMIT {
            tlb::flush_all();
            return;
        }
        let mut page = self.first;
        while page < self.end {
            tlb::flush(VirtAddr::new(page));
            page = page.wrapping_add(PAGE);
        }
    }

    /// Discards a flush known to be unneeded (the entries were never
    /// loaded, or nothing changed).
    pub fn skip(self) {}
}
