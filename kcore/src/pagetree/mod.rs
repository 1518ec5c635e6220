//! The sparse page array of a memory object: a radix tree from page index to
//! a non-zero `u64` value (in the kernel, a frame's physical address with
//! flag bits), with absent pages costing nothing.
//!
//! The kernel keeps one [`PageTree`] inside each memory object. Its root is
//! an inline array of [`ROOT_ENTRIES`] entries; the levels below are nodes of
//! [`NODE_ENTRIES`] entries, one 4 KiB frame each, which the kernel owns and
//! exposes through a [`NodeStore`]. The page-fault handler calls
//! [`PageTree::get`]; commit, decommit and protect call [`PageTree::set`],
//! [`PageTree::take`] and [`PageTree::update`]; resizing and destroying the
//! object call [`PageTree::resize`] and [`PageTree::clear`]. Only
//! [`PageTree::set`] allocates, and only what its store hands out: the
//! kernel's store hands out what the paying budget can afford, and the
//! budget is then charged the change in [`PageTree::nodes`], which is
//! exact.
//!
//! # Representation
//!
//! An entry at level 0 is a value; an entry at level `k >= 1` is the id of a
//! node whose entries are at level `k - 1`, and covers `NODE_ENTRIES^k`
//! pages. Zero means absent at every level. The root's entries are at level
//! `depth`: at depth 0 they are values (pages up to 256), at depth 1 leaf
//! ids (up to 2^17), at depth 2 ids of interior nodes (up to 2^26).
//!
//! The depth follows the pages that are present, not the size: a tree
//! starts at depth 0 whatever its size, and [`PageTree::set`] raises it
//! when a page lies past what it covers (each new level a node that takes
//! the old root's entries). So a large object that holds a few low pages
//! (a heap's reserve of 2^24 pages, of which a small program uses five)
//! keeps them in its root, and a lookup, a copy or a destroy of it touches
//! no node at all.
//!
//! # Invariants
//!
//! - `pages <= MAX_PAGES`; `depth` is at most the smallest depth covering
//!   `pages` (shrinking lowers it to that), and every present value lies
//!   below `capacity(depth)`.
//! - Every entry that covers only pages `>= pages` is zero, so a value is
//!   present only below `pages`.
//! - Every node reachable from the root holds at least one non-zero entry
//!   (so a node exists only above a present value) and is referenced by
//!   exactly one entry; `nodes` counts them.
//! - Every node handed to [`NodeStore::free`] is all zero.
//!
//! # Costs
//!
//! [`PageTree::get`] and [`PageTree::set`] do at most `depth` node reads.
//! Nodes keep no count of their entries (all 512 words are in use), so
//! [`PageTree::take`] learns that a node emptied by scanning it up to its
//! first non-zero entry: one word for a well-filled node, 512 only when the
//! node is about to be freed. Range walks skip an absent entry's whole span.

/// Entries in the inline root.
pub const ROOT_ENTRIES: usize = 256;
/// Entries in a node (one 4 KiB frame of `u64`).
pub const NODE_ENTRIES: usize = 512;
/// Deepest tree: root, interior node, leaf.
const MAX_DEPTH: u8 = 2;
/// Most nodes one [`PageTree::set`] takes: a level raised on top of a
/// tree of values, and a path below each.
const MAX_FRESH: usize = 2 * MAX_DEPTH as usize;
/// log2 of [`NODE_ENTRIES`]: page-index bits resolved by one node level.
const LEVEL_BITS: u32 = NODE_ENTRIES.trailing_zeros();
/// Most pages a tree holds: `ROOT_ENTRIES * NODE_ENTRIES^2` (depth 2) = 2^26.
pub const MAX_PAGES: u64 = capacity(MAX_DEPTH);

const _: () = {
    assert!(NODE_ENTRIES.is_power_of_two() && ROOT_ENTRIES.is_power_of_two());
    // Raising the depth moves the whole root into a node.
    assert!(ROOT_ENTRIES <= NODE_ENTRIES);
    assert!(MAX_PAGES == 1 << 26);
};

/// Where the nodes of a tree live. Node ids are non-zero (the kernel uses
/// the frame's physical address); zero means "no node" in every entry.
pub trait NodeStore {
    /// A new zero-filled node, or `None` when memory is out. A store that
    /// returns `Some(0)` is treated as out of memory.
    fn alloc(&mut self) -> Option<u64>;
    /// Takes back a node the tree no longer references. All its entries are
    /// zero.
    fn free(&mut self, node: u64);
    /// The entries of a live node.
    fn node(&self, node: u64) -> &[u64; NODE_ENTRIES];
    /// The entries of a live node, for writing.
    fn node_mut(&mut self, node: u64) -> &mut [u64; NODE_ENTRIES];
}

/// Why a [`PageTree`] operation failed; a failed operation changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// The requested size is more than [`MAX_PAGES`].
    TooLarge,
    /// The page is at or past the tree's size.
    OutOfRange,
    /// [`NodeStore::alloc`] failed; the nodes this call got are returned.
    NoMemory,
    /// Zero cannot be stored: it means "absent".
    ZeroValue,
}

/// The sparse page array of one memory object (see the module docs).
///
/// The tree does not own its store: before dropping it, the kernel calls
/// [`PageTree::clear`] to get back its values and nodes.
#[derive(Debug)]
pub struct PageTree {
    /// Level-`depth` entries.
    root: [u64; ROOT_ENTRIES],
    /// Size: pages `0..pages` exist; `pages <= MAX_PAGES`.
    pages: u64,
    /// Node levels below the root: covers every present value, at most
    /// the smallest depth that covers `pages`.
    depth: u8,
    /// Nodes reachable from the root.
    nodes: u64,
}

/// Nodes allocated by one call, first in the array (the rest is 0).
type Fresh = [u64; MAX_FRESH];

/// What [`PageTree::set`] at a page takes (`PageTree::plan`).
struct Plan {
    /// The depth that covers the page.
    depth: u8,
    /// Nodes for the levels raised to reach it.
    raised: u8,
    /// Nodes missing on the page's path below the root then.
    path: u8,
    /// Where the descent stopped (holder, index), when the depth stays.
    reached: Option<(Option<u64>, usize)>,
}

/// A run of value entries: holder (`None`: the root), page of entry 0, and
/// the entries to visit.
type Run = (Option<u64>, u64, core::ops::Range<usize>);

/// Pages covered by a tree of `depth`.
const fn capacity(depth: u8) -> u64 {
    (ROOT_ENTRIES as u64) << shift(depth)
}

/// The smallest depth whose capacity covers `pages` (`pages <= MAX_PAGES`).
const fn depth_for(pages: u64) -> u8 {
    if pages <= capacity(0) {
        0
    } else if pages <= capacity(1) {
        1
    } else {
        2
    }
}

/// Page-index bits below the entries of `level`.
const fn shift(level: u8) -> u32 {
    LEVEL_BITS * level as u32
}

/// Index of `page` in a node whose entries are at `level`.
fn node_index(page: u64, level: u8) -> usize {
    (page >> shift(level)) as usize % NODE_ENTRIES
}

impl PageTree {
    /// An empty tree of `pages` pages, at depth 0; nothing is allocated.
    ///
    /// # Errors
    ///
    /// [`TreeError::TooLarge`] if `pages > MAX_PAGES`.
    pub const fn new(pages: u64) -> Result<PageTree, TreeError> {
        if pages > MAX_PAGES {
            return Err(TreeError::TooLarge);
        }
        Ok(PageTree {
            root: [0; ROOT_ENTRIES],
            pages,
            depth: 0,
            nodes: 0,
        })
    }

    /// Size in pages: pages `0..pages()` can hold values.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Node levels below the root (0, 1 or 2): enough for every present
    /// value (see the module docs).
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Nodes the tree holds right now (exact: the kernel charges and refunds
    /// them).
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// The value at `page`, or `None` if absent or out of range.
    pub fn get<S: NodeStore>(&self, store: &S, page: u64) -> Option<u64> {
        if page >= self.pages || page >= capacity(self.depth) {
            return None;
        }
        // Where the walk stops early, the entry reached is a missing node: 0.
        let (holder, index, _) = self.descend(store, page, 0);
        let value = self.entry(store, holder, index);
        (value != 0).then_some(value)
    }

    /// How many nodes [`PageTree::set`] at `page` would allocate (at
    /// most 4: levels raised and the path below them); 0 for a page out
    /// of range. The tests' oracle for what `set` takes.
    #[cfg(test)]
    pub(crate) fn nodes_needed<S: NodeStore>(&self, store: &S, page: u64) -> u64 {
        if page >= self.pages {
            return 0;
        }
        let plan = self.plan(store, page);
        u64::from(plan.raised + plan.path)
    }

    /// What a store at `page` (in range) takes: the depth that covers it,
    /// the nodes of the levels raised to get there, and the nodes missing
    /// on its path below the root then.
    fn plan<S: NodeStore>(&self, store: &S, page: u64) -> Plan {
        if page < capacity(self.depth) {
            // The entry at `level` is missing: one node for it and each below.
            let (holder, index, path) = self.descend(store, page, 0);
            return Plan {
                depth: self.depth,
                raised: 0,
                path,
                reached: Some((holder, index)),
            };
        }
        // `page < pages <= MAX_PAGES`: the sum does not wrap.
        let depth = depth_for(page + 1);
        if self.is_empty() {
            // Every level of the path is missing.
            return Plan {
                depth,
                raised: 0,
                path: depth,
                reached: None,
            };
        }
        // Each raised level is a node holding the one above at entry 0: the
        // path follows them while the page's index at their level is 0, and
        // at the old depth its index is at least ROOT_ENTRIES (the page is
        // past what the old root covered). So the first missing entry is at
        // the highest level where the page's index is not 0.
        let path = (self.depth..=depth)
            .rev()
            .find(|&level| page >> shift(level) != 0)
            .unwrap_or(self.depth);
        Plan {
            depth,
            raised: depth - self.depth,
            path,
            reached: None,
        }
    }

    /// Whether the tree holds no value.
    fn is_empty(&self) -> bool {
        // At depth >= 1 nodes exist exactly when values do.
        match self.depth {
            0 => self.root.iter().all(|&value| value == 0),
            _ => self.nodes == 0,
        }
    }

    /// Raises the depth to `depth`, each new level a node from `fresh`
    /// (none when the tree is empty) that takes the root's entries and
    /// becomes root entry 0.
    fn raise<S: NodeStore>(&mut self, store: &mut S, depth: u8, fresh: &[u64]) {
        for &node in fresh {
            store.node_mut(node)[..ROOT_ENTRIES].copy_from_slice(&self.root);
            self.root = [0; ROOT_ENTRIES];
            self.root[0] = node;
            self.nodes += 1;
        }
        self.depth = depth;
    }

    /// Stores `value` at `page`, allocating missing nodes; returns the value
    /// it replaces.
    ///
    /// # Errors
    ///
    /// [`TreeError::OutOfRange`] if `page >= pages()`, then
    /// [`TreeError::ZeroValue`] if `value == 0`, then [`TreeError::NoMemory`]
    /// if a node could not be allocated. On error the tree is unchanged and
    /// the store holds no node this call allocated.
    pub fn set<S: NodeStore>(
        &mut self,
        store: &mut S,
        page: u64,
        value: u64,
    ) -> Result<Option<u64>, TreeError> {
        if page >= self.pages {
            return Err(TreeError::OutOfRange);
        }
        if value == 0 {
            return Err(TreeError::ZeroValue);
        }
        let plan = self.plan(store, page);
        let fresh = alloc_nodes(store, plan.raised + plan.path)?;
        let (raised, path) = fresh.split_at(usize::from(plan.raised));
        let (mut holder, mut index) = match plan.reached {
            Some(reached) => reached,
            None => {
                self.raise(store, plan.depth, raised);
                let (holder, index, missing) = self.descend(store, page, 0);
                debug_assert_eq!(missing, plan.path);
                (holder, index)
            }
        };
        let missing = plan.path;
        // New nodes are zero-filled: chain them from the missing entry down.
        for (&node, level) in path.iter().zip((0..missing).rev()) {
            self.swap(store, holder, index, node);
            self.nodes += 1;
            holder = Some(node);
            index = node_index(page, level);
        }
        let old = self.swap(store, holder, index, value);
        Ok((old != 0).then_some(old))
    }

    /// Removes and returns the value at `page` (`None` if absent or out of
    /// range), freeing the nodes this leaves empty.
    pub fn take<S: NodeStore>(&mut self, store: &mut S, page: u64) -> Option<u64> {
        if page >= self.pages || page >= capacity(self.depth) {
            return None;
        }
        let (holder, index, level) = self.descend(store, page, 0);
        if level != 0 {
            return None;
        }
        let old = self.swap(store, holder, index, 0);
        if old == 0 {
            return None;
        }
        // Bottom up: free the node at `level` on the path while it is empty.
        for level in 1..=self.depth {
            let (holder, index, reached) = self.descend(store, page, level);
            let node = self.entry(store, holder, index);
            if reached != level || node == 0 || store.node(node).iter().any(|&e| e != 0) {
                break;
            }
            self.swap(store, holder, index, 0);
            store.free(node);
            self.nodes -= 1;
        }
        Some(old)
    }

    /// Calls `f(page, value)` for every present value, in page order.
    pub fn for_each<S: NodeStore>(&self, store: &S, f: impl FnMut(u64, u64)) {
        self.for_each_in(store, 0, self.pages, f);
    }

    /// Calls `f(page, value)` for every present value in pages
    /// `first..first + count` (clipped to the size; no overflow), in page
    /// order.
    pub fn for_each_in<S: NodeStore>(
        &self,
        store: &S,
        first: u64,
        count: u64,
        mut f: impl FnMut(u64, u64),
    ) {
        let end = self.end(first, count);
        let mut page = first;
        while let Some((holder, base, run)) = self.next_run(store, page, end) {
            let entries: &[u64] = match holder {
                None => &self.root,
                Some(node) => store.node(node),
            };
            let mut from = run.start;
            while let Some(index) = first_nonzero(entries, from, run.end) {
                f(base + index as u64, entries[index]);
                from = index + 1;
            }
            page = base + run.end as u64;
        }
    }

    /// Replaces every present value in pages `first..first + count` (clipped
    /// as in [`PageTree::for_each_in`]) with `f(page, value)`, in page order.
    ///
    /// `f` must return a non-zero value; a zero is ignored and the old value
    /// kept (use [`PageTree::take`] to remove). Allocates nothing.
    pub fn update<S: NodeStore>(
        &mut self,
        store: &mut S,
        first: u64,
        count: u64,
        mut f: impl FnMut(u64, u64) -> u64,
    ) {
        let end = self.end(first, count);
        let mut page = first;
        while let Some((holder, base, run)) = self.next_run(store, page, end) {
            let entries: &mut [u64] = match holder {
                None => &mut self.root,
                Some(node) => store.node_mut(node),
            };
            let mut from = run.start;
            while let Some(index) = first_nonzero(entries, from, run.end) {
                match f(base + index as u64, entries[index]) {
                    0 => {}
                    new => entries[index] = new,
                }
                from = index + 1;
            }
            page = base + run.end as u64;
        }
    }

    /// Where a walk of `first..first + count` stops: clipped to the size
    /// and to what the depth covers (nothing is present past it).
    fn end(&self, first: u64, count: u64) -> u64 {
        first
            .saturating_add(count)
            .min(self.pages)
            .min(capacity(self.depth))
    }

    /// Changes the size to `pages`. Growing allocates nothing (the depth
    /// follows the values). Shrinking removes every value at or past
    /// `pages`, calling `removed(page, value)` for each in page order,
    /// frees the nodes this empties and lowers the depth to at most the
    /// smallest that covers `pages`.
    ///
    /// # Errors
    ///
    /// [`TreeError::TooLarge`] if `pages > MAX_PAGES`; the tree is then
    /// unchanged.
    pub fn resize<S: NodeStore>(
        &mut self,
        store: &mut S,
        pages: u64,
        mut removed: impl FnMut(u64, u64),
    ) -> Result<(), TreeError> {
        if pages > MAX_PAGES {
            return Err(TreeError::TooLarge);
        }
        if pages < self.pages {
            self.truncate(store, None, self.depth, 0, pages, &mut removed);
            // Only root entry 0 can be left, and only its node's first
            // ROOT_ENTRIES entries: they become the root.
            while self.depth > depth_for(pages) {
                let child = core::mem::replace(&mut self.root, [0; ROOT_ENTRIES])[0];
                if child != 0 {
                    let head = &mut store.node_mut(child)[..ROOT_ENTRIES];
                    self.root.copy_from_slice(head);
                    head.fill(0);
                    store.free(child);
                    self.nodes -= 1;
                }
                self.depth -= 1;
            }
        }
        self.pages = pages;
        Ok(())
    }

    /// Removes every value, calling `removed(page, value)` for each in page
    /// order, and frees every node: afterwards `nodes() == 0`. The size is
    /// kept.
    pub fn clear<S: NodeStore>(&mut self, store: &mut S, mut removed: impl FnMut(u64, u64)) {
        self.truncate(store, None, self.depth, 0, 0, &mut removed);
        self.depth = 0;
    }

    /// Entry `index` of `holder` (`None`: the root).
    fn entry<S: NodeStore>(&self, store: &S, holder: Option<u64>, index: usize) -> u64 {
        match holder {
            None => self.root[index % ROOT_ENTRIES],
            Some(node) => store.node(node)[index % NODE_ENTRIES],
        }
    }

    /// The index of the first non-zero entry of `holder` (`None`: the
    /// root) in `from..to`, if any.
    fn next_entry<S: NodeStore>(
        &self,
        store: &S,
        holder: Option<u64>,
        from: usize,
        to: usize,
    ) -> Option<usize> {
        let entries: &[u64] = match holder {
            None => &self.root,
            Some(node) => store.node(node),
        };
        first_nonzero(entries, from, to)
    }

    /// Sets entry `index` of `holder` (`None`: the root) to `new`; returns
    /// the old entry.
    fn swap<S: NodeStore>(
        &mut self,
        store: &mut S,
        holder: Option<u64>,
        index: usize,
        new: u64,
    ) -> u64 {
        let entry = match holder {
            None => &mut self.root[index % ROOT_ENTRIES],
            Some(node) => &mut store.node_mut(node)[index % NODE_ENTRIES],
        };
        core::mem::replace(entry, new)
    }

    /// Follows `page` (below the size and `capacity(depth)`) from the root down to its entry at `level`,
    /// stopping early at a missing node. Returns the holder of the entry
    /// reached (`None`: the root), its index there and its level, which is
    /// above `level` only if that entry is a missing node.
    fn descend<S: NodeStore>(&self, store: &S, page: u64, level: u8) -> (Option<u64>, usize, u8) {
        let mut holder = None;
        let mut at = self.depth;
        let mut index = (page >> shift(at)) as usize % ROOT_ENTRIES;
        while at > level {
            let node = self.entry(store, holder, index);
            if node == 0 {
                break;
            }
            holder = Some(node);
            at -= 1;
            index = node_index(page, at);
        }
        (holder, index, at)
    }

    /// The values to visit in the first present leaf holding pages in
    /// `from..end`: its holder (`None`: the root, at depth 0), the page of
    /// its entry 0 and the entries in `from..end`. Skips each absent
    /// entry's whole span.
    fn next_run<S: NodeStore>(&self, store: &S, mut page: u64, end: u64) -> Option<Run> {
        while page < end {
            let base = page & !(NODE_ENTRIES as u64 - 1);
            let run = (page - base) as usize..(end.min(base + NODE_ENTRIES as u64) - base) as usize;
            if self.depth == 0 {
                return Some((None, base, run));
            }
            let (holder, index, level) = self.descend(store, page, 1);
            let leaf = self.entry(store, holder, index);
            if level == 1 && leaf != 0 {
                return Some((Some(leaf), base, run));
            }
            // The entry at `level` is absent: go to the next present entry
            // of the same holder (a tight scan of its array, rather than a
            // descent from the root per absent entry: a large sparse
            // object has hundreds in a row), or past the holder.
            let len = holder.map_or(ROOT_ENTRIES, |_| NODE_ENTRIES);
            let holder_base = match holder {
                None => 0,
                Some(_) => page & !((1u64 << (shift(level) + LEVEL_BITS)) - 1),
            };
            let next = self
                .next_entry(store, holder, index + 1, len)
                .unwrap_or(len);
            page = holder_base + ((next as u64) << shift(level));
        }
        None
    }

    /// Removes the values at pages `>= first` below `holder` (`None`: the
    /// root), whose entries are at `level` and start at page `base`,
    /// reporting each to `removed` in page order and freeing the nodes that
    /// empty. Returns whether `holder` is now empty.
    fn truncate<S: NodeStore>(
        &mut self,
        store: &mut S,
        holder: Option<u64>,
        level: u8,
        base: u64,
        first: u64,
        removed: &mut impl FnMut(u64, u64),
    ) -> bool {
        let len = holder.map_or(ROOT_ENTRIES, |_| NODE_ENTRIES);
        // Entry `lo` may straddle `first`; the entries after it are past it.
        let lo = ((first.saturating_sub(base) >> shift(level)) as usize).min(len);
        let mut empty = self.next_entry(store, holder, 0, lo).is_none();
        let mut from = lo;
        // Skipping the empty entries is a tight scan of the holder's array;
        // only the entries that are there cost more (a tree of a few pages
        // in a large object has a few among hundreds).
        while let Some(index) = self.next_entry(store, holder, from, len) {
            from = index + 1;
            let entry = self.entry(store, holder, index);
            let page = base + ((index as u64) << shift(level));
            if level == 0 {
                removed(page, entry);
            } else if self.truncate(store, Some(entry), level - 1, page, first, removed) {
                store.free(entry);
                self.nodes -= 1;
            } else {
                empty = false;
                continue;
            }
            self.swap(store, holder, index, 0);
        }
        empty
    }
}

/// Entries [`first_nonzero`] tests at once.
const SCAN_CHUNK: usize = 8;

/// The index of the first non-zero entry of `entries[from..to]`, if any
/// (`None` too for a range out of bounds). Runs of zeroes are passed
/// [`SCAN_CHUNK`] entries at a time (one OR of them), as a sparse node
/// has hundreds in a row.
fn first_nonzero(entries: &[u64], from: usize, to: usize) -> Option<usize> {
    let range = entries.get(from..to)?;
    let mut chunks = range.chunks_exact(SCAN_CHUNK);
    let mut at = from;
    for chunk in &mut chunks {
        if chunk.iter().fold(0, |any, &entry| any | entry) != 0 {
            return chunk.iter().position(|&entry| entry != 0).map(|i| at + i);
        }
        at += SCAN_CHUNK;
    }
    chunks
        .remainder()
        .iter()
        .position(|&entry| entry != 0)
        .map(|i| at + i)
}

/// Allocates `count` (at most [`MAX_FRESH`]) zero-filled nodes. All or
/// nothing: on failure the ones got are freed.
fn alloc_nodes<S: NodeStore>(store: &mut S, count: u8) -> Result<Fresh, TreeError> {
    let mut fresh = [0; MAX_FRESH];
    for slot in fresh.iter_mut().take(usize::from(count)) {
        match store.alloc() {
            Some(node) if node != 0 => *slot = node,
            _ => {
                for &node in fresh.iter().take_while(|&&node| node != 0) {
                    store.free(node);
                }
                return Err(TreeError::NoMemory);
            }
        }
    }
    Ok(fresh)
}

#[cfg(test)]
mod tests;
