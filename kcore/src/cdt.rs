//! The capability derivation tree (CDT): which capability was derived from
//! which, so that revoking a capability can find and delete everything
//! derived from it.
//!
//! The kernel keeps the links inside its capability slots and exposes them
//! through a [`CdtStore`]; this module owns the shape of the tree and the
//! algorithms on it. The kernel's `cap` code calls it on copy
//! ([`insert_child`]), move ([`replace`]), delete ([`remove`]) and revoke
//! ([`Revoke`]), and when an object is created ([`insert_root`]).
//!
//! # Representation
//!
//! All capabilities derived (directly or not) from one original form one
//! doubly-linked list in **preorder**: every node comes before its
//! descendants, and a node's descendants come before its next sibling. Each
//! node carries its depth: an original (root) has depth 0 and a child has
//! exactly its parent's depth plus one. No parent pointers are kept. The
//! descendants of a node `X` are exactly the maximal run of nodes that
//! directly follow `X` and have a depth greater than `depth(X)`; in
//! particular `X` has children iff the node right after it is deeper.
//!
//! This is the same idea as seL4's MDB (a preorder list of capabilities),
//! with an explicit depth instead of seL4's per-object "is this derived from
//! that" test, so that the tree logic does not need to know about object
//! types.
//!
//! # Invariants
//!
//! - `next(a) == Some(b)` iff `prev(b) == Some(a)`.
//! - For consecutive nodes `a, b`: `depth(b) <= depth(a) + 1` (a node is at
//!   most one level deeper than the node before it), and if `prev(b)` is
//!   `None` then `depth(b) == 0`.
//! - A node in no list has [`CdtLinks::root`] links.
//!
//! One list may hold several trees one after another (after [`remove`]
//! promotes the children of a deleted original to originals): the run rule
//! still gives each node exactly its descendants, because a new tree starts
//! at depth 0, which is never deeper than anything.
//!
//! # Costs
//!
//! Insertion, [`replace`], [`has_children`] and removal of a leaf are O(1);
//! removal of an inner node and [`detach`] are O(descendants), since they
//! all move up; [`Revoke`] hands out every descendant in amortised O(1) each.

/// The CDT links of one capability, kept inside its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdtLinks<Id> {
    /// The node before this one in preorder, or `None` at the start of the
    /// list.
    pub prev: Option<Id>,
    /// The node after this one in preorder, or `None` at the end of the list.
    pub next: Option<Id>,
    /// Distance from the original (root) this capability derives from: 0 for
    /// an original, parent's depth + 1 otherwise.
    pub depth: u32,
}

impl<Id> CdtLinks<Id> {
    /// The links of an original that is alone in its tree (also those of a
    /// node in no tree): no neighbours, depth 0.
    pub const fn root() -> Self {
        Self {
            prev: None,
            next: None,
            depth: 0,
        }
    }
}

/// Where the nodes' CDT links live (in the kernel: inside the capability
/// slots).
pub trait CdtStore {
    /// A handle to one node (one capability slot).
    type Id: Copy + Eq;
    /// The current links of `id`.
    fn cdt(&self, id: Self::Id) -> CdtLinks<Self::Id>;
    /// Overwrites the links of `id`.
    fn set_cdt(&mut self, id: Self::Id, links: CdtLinks<Self::Id>);
}

/// Updates only the `prev` link of `id`.
fn set_prev<S: CdtStore>(store: &mut S, id: S::Id, prev: Option<S::Id>) {
    let links = store.cdt(id);
    store.set_cdt(id, CdtLinks { prev, ..links });
}

/// Updates only the `next` link of `id`.
fn set_next<S: CdtStore>(store: &mut S, id: S::Id, next: Option<S::Id>) {
    let links = store.cdt(id);
    store.set_cdt(id, CdtLinks { next, ..links });
}

/// Makes `id` an original: a tree of its own (links = [`CdtLinks::root`]).
///
/// `id` must be in no tree; its old links are overwritten, not unlinked.
pub fn insert_root<S: CdtStore>(store: &mut S, id: S::Id) {
    store.set_cdt(id, CdtLinks::root());
}

/// Puts `child` (in no tree) directly after `parent`, one level deeper: it
/// becomes `parent`'s first child, before any existing children. O(1).
///
/// # Panics
///
/// If `parent`'s depth is `u32::MAX` (a derivation chain of 2^32
/// capabilities would need more slots than memory can hold).
pub fn insert_child<S: CdtStore>(store: &mut S, parent: S::Id, child: S::Id) {
    let parent_links = store.cdt(parent);
    let depth = parent_links
        .depth
        .checked_add(1)
        .expect("cdt: derivation depth overflow");
    store.set_cdt(
        child,
        CdtLinks {
            prev: Some(parent),
            next: parent_links.next,
            depth,
        },
    );
    if let Some(next) = parent_links.next {
        set_prev(store, next, Some(child));
    }
    set_next(store, parent, Some(child));
}

/// Whether `id` has descendants. O(1).
pub fn has_children<S: CdtStore>(store: &S, id: S::Id) -> bool {
    let links = store.cdt(id);
    links
        .next
        .is_some_and(|next| store.cdt(next).depth > links.depth)
}

/// Unlinks `id` and resets its links to [`CdtLinks::root`].
///
/// Its descendants stay in the tree, promoted one level: they become
/// children of `id`'s parent, or originals if `id` was one (every node in
/// `id`'s run gets depth - 1). O(1) for a leaf, O(descendants) otherwise.
///
/// Removing a node that is in no tree (alone, with root links) does nothing.
pub fn remove<S: CdtStore>(store: &mut S, id: S::Id) {
    let links = store.cdt(id);
    // Promote the descendants: the run right after `id` that is deeper.
    // Each has depth > links.depth >= 0, so the subtraction cannot wrap.
    let mut cursor = links.next;
    while let Some(node) = cursor {
        let node_links = store.cdt(node);
        if node_links.depth <= links.depth {
            break;
        }
        store.set_cdt(
            node,
            CdtLinks {
                depth: node_links.depth - 1,
                ..node_links
            },
        );
        cursor = node_links.next;
    }
    if let Some(prev) = links.prev {
        set_next(store, prev, links.next);
    }
    if let Some(next) = links.next {
        set_prev(store, next, links.prev);
    }
    store.set_cdt(id, CdtLinks::root());
}

/// `to` (in no tree) takes `from`'s place: same neighbours and depth, and
/// the neighbours now point at `to`. `from` is left in no tree
/// ([`CdtLinks::root`]). O(1). Used when a capability moves to another slot.
pub fn replace<S: CdtStore>(store: &mut S, from: S::Id, to: S::Id) {
    if from == to {
        return;
    }
    let links = store.cdt(from);
    store.set_cdt(to, links);
    if let Some(prev) = links.prev {
        set_next(store, prev, Some(to));
    }
    if let Some(next) = links.next {
        set_prev(store, next, Some(to));
    }
    store.set_cdt(from, CdtLinks::root());
}

/// Moves `node` and everything derived from it out from under `ancestor`
/// (of which it must be a strict descendant, see [`is_descendant`]): the
/// run becomes `ancestor`'s sibling, placed right before it, so `node`'s
/// parent is now `ancestor`'s parent (or `node` an original if `ancestor`
/// is one). Revoking `ancestor` no longer reaches it; revoking anything
/// above `ancestor` still does. O(descendants of `node`).
pub fn detach<S: CdtStore>(store: &mut S, ancestor: S::Id, node: S::Id) {
    let ancestor_links = store.cdt(ancestor);
    let links = store.cdt(node);
    debug_assert!(links.depth > ancestor_links.depth);
    let lift = links.depth - ancestor_links.depth;
    // The run: `node`, then every following node deeper than it. Lift
    // each by the same amount (so they keep their shape) and find its end.
    store.set_cdt(
        node,
        CdtLinks {
            depth: ancestor_links.depth,
            ..links
        },
    );
    let mut last = node;
    let mut cursor = links.next;
    while let Some(next) = cursor {
        let next_links = store.cdt(next);
        if next_links.depth <= links.depth {
            break;
        }
        store.set_cdt(
            next,
            CdtLinks {
                depth: next_links.depth - lift,
                ..next_links
            },
        );
        last = next;
        cursor = next_links.next;
    }
    // Unlink the run. `node` is below `ancestor`, so it has a predecessor.
    let before = store.cdt(node).prev;
    let after = store.cdt(last).next;
    if let Some(before) = before {
        set_next(store, before, after);
    }
    if let Some(after) = after {
        set_prev(store, after, before);
    }
    // Splice it in just before `ancestor` (the run came after it, so the
    // unlink left its predecessor as it was).
    let ancestor_prev = store.cdt(ancestor).prev;
    set_prev(store, node, ancestor_prev);
    if let Some(prev) = ancestor_prev {
        set_next(store, prev, Some(node));
    }
    set_next(store, last, Some(ancestor));
    set_prev(store, ancestor, Some(last));
}

/// The node `id` derives from directly, if any: walks backwards to the
/// first node one level shallower. O(list distance to it).
pub fn parent<S: CdtStore>(store: &S, id: S::Id) -> Option<S::Id> {
    let depth = store.cdt(id).depth;
    let want = depth.checked_sub(1)?;
    let mut cursor = store.cdt(id).prev;
    while let Some(node) = cursor {
        let links = store.cdt(node);
        if links.depth == want {
            return Some(node);
        }
        cursor = links.prev;
    }
    None
}

/// Whether `node` is a strict descendant of `ancestor` (derived from it,
/// directly or not). `false` when they are the same node.
///
/// Walks backwards from `node` and stops at `ancestor` or at the first node
/// not deeper than `ancestor`: O(list distance between them).
pub fn is_descendant<S: CdtStore>(store: &S, ancestor: S::Id, node: S::Id) -> bool {
    let ancestor_depth = store.cdt(ancestor).depth;
    let mut links = store.cdt(node);
    if links.depth <= ancestor_depth {
        return false;
    }
    // Every node between `ancestor` and `node` must be deeper than
    // `ancestor`, or `node` lies outside its run.
    while let Some(prev) = links.prev {
        if prev == ancestor {
            return true;
        }
        links = store.cdt(prev);
        if links.depth <= ancestor_depth {
            return false;
        }
    }
    false
}

/// A revoke in progress: yields the descendants of a root one leaf at a
/// time, deepest first (post-order), so that removing each is O(1).
///
/// The caller removes each returned leaf (with [`remove`]) before calling
/// [`Revoke::next_leaf`] again, and changes nothing else in the root's
/// subtree meanwhile. It may stop at any time (to be preempted) and later
/// start a new `Revoke` on the same root, which carries on where the last one
/// stopped: the state is only a cursor, and the tree itself records what is
/// left.
///
/// Cost: amortised O(1) per leaf. The cursor always sits on the root or on a
/// descendant whose first-child chain leads to the next leaf, so no node is
/// walked over twice by one `Revoke`; a fresh `Revoke` may walk one
/// root-to-leaf path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revoke<Id> {
    /// The node whose descendants are being revoked; it survives.
    root: Id,
    /// Where the next search starts: the root, or the parent of the last
    /// leaf handed out (which survives that leaf's removal). Always the root
    /// or one of its descendants.
    cursor: Id,
}

impl<Id: Copy + Eq> Revoke<Id> {
    /// Starts (or resumes) revoking the descendants of `root`.
    pub fn new(root: Id) -> Self {
        Self { root, cursor: root }
    }

    /// The next descendant of the root to remove, a leaf; `None` when the
    /// root has no descendants left.
    pub fn next_leaf<S: CdtStore<Id = Id>>(&mut self, store: &S) -> Option<Id> {
        // Descend along first children: `next` is a child of the current
        // node iff it is deeper. From a descendant of the root, a deeper node
        // is necessarily inside the root's run; from the root itself the same
        // test is exactly "the root has children".
        let mut links = store.cdt(self.cursor);
        while let Some(next) = links.next {
            let next_links = store.cdt(next);
            if next_links.depth <= links.depth {
                break;
            }
            self.cursor = next;
            links = next_links;
        }
        if self.cursor == self.root {
            // The root's next node is not deeper: nothing left to revoke.
            return None;
        }
        let leaf = self.cursor;
        // `leaf` was reached from its parent through `next`, so `prev` is its
        // parent (the root or a descendant), which survives the leaf's
        // removal. A leaf always has a predecessor; fall back to the root if
        // the caller broke that.
        self.cursor = links.prev.unwrap_or(self.root);
        Some(leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::Cell;
    use std::collections::{BTreeSet, HashMap};

    /// Links per node, indexed by id, and a count of reads (to measure
    /// walks).
    #[derive(Debug, Default)]
    struct Store {
        nodes: Vec<CdtLinks<usize>>,
        reads: Cell<usize>,
    }

    impl Store {
        fn with_nodes(count: usize) -> Self {
            Self {
                nodes: vec![CdtLinks::root(); count],
                reads: Cell::new(0),
            }
        }

        /// A new id, in no tree.
        fn fresh(&mut self) -> usize {
            self.nodes.push(CdtLinks::root());
            self.nodes.len() - 1
        }
    }

    impl CdtStore for Store {
        type Id = usize;
        fn cdt(&self, id: usize) -> CdtLinks<usize> {
            self.reads.set(self.reads.get() + 1);
            self.nodes[id]
        }
        fn set_cdt(&mut self, id: usize, links: CdtLinks<usize>) {
            self.nodes[id] = links;
        }
    }

    /// Descendants of `id` by the run rule.
    fn run_of(store: &Store, id: usize) -> BTreeSet<usize> {
        let depth = store.nodes[id].depth;
        let mut out = BTreeSet::new();
        let mut cursor = store.nodes[id].next;
        while let Some(node) = cursor {
            if store.nodes[node].depth <= depth {
                break;
            }
            out.insert(node);
            cursor = store.nodes[node].next;
        }
        out
    }

    /// Revokes `root` completely, returning the leaves in order.
    fn revoke_all(store: &mut Store, root: usize) -> Vec<usize> {
        let mut revoke = Revoke::new(root);
        let mut leaves = Vec::new();
        while let Some(leaf) = revoke.next_leaf(store) {
            assert!(!has_children(store, leaf), "{leaf} is not a leaf");
            remove(store, leaf);
            leaves.push(leaf);
        }
        leaves
    }

    #[test]
    fn root_links() {
        assert_eq!(
            CdtLinks::<usize>::root(),
            CdtLinks {
                prev: None,
                next: None,
                depth: 0
            }
        );
        let mut store = Store::with_nodes(1);
        store.nodes[0].depth = 9;
        insert_root(&mut store, 0);
        assert_eq!(store.nodes[0], CdtLinks::root());
        assert!(!has_children(&store, 0));
    }

    #[test]
    fn insert_child_becomes_first_child() {
        let mut store = Store::with_nodes(4);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 0, 2);
        insert_child(&mut store, 1, 3);
        // Preorder: 0, 2, 1, 3.
        assert_eq!(store.nodes[0].next, Some(2));
        assert_eq!(store.nodes[2].prev, Some(0));
        assert_eq!(store.nodes[2].next, Some(1));
        assert_eq!(store.nodes[1].prev, Some(2));
        assert_eq!(store.nodes[1].next, Some(3));
        assert_eq!(store.nodes[3].prev, Some(1));
        assert_eq!(store.nodes[3].next, None);
        let depths: Vec<u32> = store.nodes.iter().map(|links| links.depth).collect();
        assert_eq!(depths, [0, 1, 1, 2]);
        assert!(has_children(&store, 0));
        assert!(has_children(&store, 1));
        assert!(!has_children(&store, 2));
        assert!(!has_children(&store, 3));
        assert_eq!(run_of(&store, 0), BTreeSet::from([1, 2, 3]));
        assert_eq!(run_of(&store, 1), BTreeSet::from([3]));
    }

    #[test]
    fn remove_leaf_and_promote_children() {
        let mut store = Store::with_nodes(5);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 1, 2);
        insert_child(&mut store, 2, 3);
        insert_child(&mut store, 0, 4);
        // 0, 4, 1, 2, 3 with depths 0, 1, 1, 2, 3.
        remove(&mut store, 4);
        assert_eq!(store.nodes[4], CdtLinks::root());
        assert_eq!(store.nodes[0].next, Some(1));
        assert_eq!(store.nodes[1].prev, Some(0));
        // Removing 1 promotes 2 and 3 one level, under 0.
        remove(&mut store, 1);
        assert_eq!(store.nodes[0].next, Some(2));
        assert_eq!(store.nodes[2].prev, Some(0));
        assert_eq!(store.nodes[2].depth, 1);
        assert_eq!(store.nodes[3].depth, 2);
        assert_eq!(run_of(&store, 0), BTreeSet::from([2, 3]));
        // Removing the original makes its child an original.
        remove(&mut store, 0);
        assert_eq!(store.nodes[2].prev, None);
        assert_eq!(store.nodes[2].depth, 0);
        assert_eq!(store.nodes[3].depth, 1);
        // Removing a lone node changes nothing else.
        remove(&mut store, 0);
        assert_eq!(store.nodes[0], CdtLinks::root());
    }

    #[test]
    fn detach_lifts_a_subtree_out_of_a_revoke() {
        // 0 -> 1 -> 2 -> 3, and 1 -> 4: detach 2 (with 3) from 1.
        let mut store = Store::with_nodes(5);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 1, 4);
        insert_child(&mut store, 1, 2);
        insert_child(&mut store, 2, 3);
        detach(&mut store, 1, 2);
        assert!(!is_descendant(&store, 1, 2));
        assert!(!is_descendant(&store, 1, 3));
        assert!(is_descendant(&store, 0, 2));
        assert!(is_descendant(&store, 2, 3));
        assert_eq!((store.nodes[2].depth, store.nodes[3].depth), (1, 2));
        assert_eq!(revoke_all(&mut store, 1), [4]);
        assert_eq!(run_of(&store, 0), BTreeSet::from([1, 2, 3]));
        // From an original: the run becomes an original of its own.
        detach(&mut store, 0, 2);
        assert_eq!(store.nodes[2].depth, 0);
        assert_eq!(run_of(&store, 0), BTreeSet::from([1]));
        assert_eq!(run_of(&store, 2), BTreeSet::from([3]));
    }

    #[test]
    fn removing_an_original_splits_its_list_into_trees() {
        let mut store = Store::with_nodes(4);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 0, 2);
        insert_child(&mut store, 2, 3);
        // 0, 2, 3, 1 -> remove 0 -> 2(0), 3(1), 1(0): two trees in one list.
        remove(&mut store, 0);
        assert_eq!(run_of(&store, 2), BTreeSet::from([3]));
        assert_eq!(run_of(&store, 1), BTreeSet::new());
        assert!(!is_descendant(&store, 2, 1));
        assert!(is_descendant(&store, 2, 3));
    }

    #[test]
    fn replace_takes_the_place() {
        let mut store = Store::with_nodes(5);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 1, 2);
        replace(&mut store, 1, 3);
        assert_eq!(store.nodes[1], CdtLinks::root());
        assert_eq!(
            store.nodes[3],
            CdtLinks {
                prev: Some(0),
                next: Some(2),
                depth: 1
            }
        );
        assert_eq!(store.nodes[0].next, Some(3));
        assert_eq!(store.nodes[2].prev, Some(3));
        // Moving an original and a lone node.
        replace(&mut store, 0, 4);
        assert_eq!(store.nodes[4].next, Some(3));
        assert_eq!(store.nodes[3].prev, Some(4));
        replace(&mut store, 1, 0);
        assert_eq!(store.nodes[0], CdtLinks::root());
        // Replacing a node by itself changes nothing.
        replace(&mut store, 3, 3);
        assert_eq!(store.nodes[3].prev, Some(4));
    }

    #[test]
    fn is_descendant_follows_the_run() {
        let mut store = Store::with_nodes(6);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 0, 2);
        insert_child(&mut store, 2, 3);
        insert_root(&mut store, 4);
        insert_child(&mut store, 4, 5);
        // 0, 2, 3, 1.
        assert!(is_descendant(&store, 0, 1));
        assert!(is_descendant(&store, 0, 3));
        assert!(is_descendant(&store, 2, 3));
        assert!(!is_descendant(&store, 2, 1));
        assert!(!is_descendant(&store, 1, 3));
        assert!(!is_descendant(&store, 3, 2));
        assert!(!is_descendant(&store, 0, 0));
        assert!(!is_descendant(&store, 1, 0));
        assert!(!is_descendant(&store, 0, 5));
        assert!(is_descendant(&store, 4, 5));
    }

    #[test]
    fn revoke_is_post_order_and_keeps_the_root() {
        let mut store = Store::with_nodes(7);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 1, 2);
        insert_child(&mut store, 1, 3);
        insert_child(&mut store, 0, 4);
        insert_child(&mut store, 4, 5);
        insert_child(&mut store, 1, 6);
        // Preorder: 0, 4, 5, 1, 6, 3, 2; revoke 4's subtree first.
        assert_eq!(revoke_all(&mut store, 4), [5]);
        assert_eq!(store.nodes[4].next, Some(1));
        // Children in list order, each after its own descendants.
        assert_eq!(revoke_all(&mut store, 0), [4, 6, 3, 2, 1]);
        assert_eq!(store.nodes[0], CdtLinks::root());
        assert_eq!(Revoke::new(0).next_leaf(&store), None);
    }

    #[test]
    fn revoke_stops_at_the_end_of_the_run() {
        let mut store = Store::with_nodes(4);
        insert_root(&mut store, 0);
        insert_child(&mut store, 0, 1);
        insert_child(&mut store, 0, 2);
        insert_child(&mut store, 2, 3);
        // 0, 2, 3, 1: revoking 2 must not touch its sibling 1.
        assert_eq!(revoke_all(&mut store, 2), [3]);
        assert_eq!(run_of(&store, 0), BTreeSet::from([1, 2]));
        // A leaf has nothing to revoke.
        assert_eq!(Revoke::new(1).next_leaf(&store), None);
        assert_eq!(Revoke::new(2).next_leaf(&store), None);
    }

    #[test]
    fn revoke_resumes_after_an_early_stop() {
        let mut store = Store::with_nodes(6);
        insert_root(&mut store, 0);
        for child in 1..6 {
            let parent = if child % 2 == 0 { child - 1 } else { 0 };
            insert_child(&mut store, parent, child);
        }
        let mut revoked = Vec::new();
        while has_children(&store, 0) {
            // One leaf per `Revoke`, as if preempted after each.
            let leaf = Revoke::new(0).next_leaf(&store).unwrap();
            remove(&mut store, leaf);
            revoked.push(leaf);
        }
        revoked.sort_unstable();
        assert_eq!(revoked, [1, 2, 3, 4, 5]);
    }

    /// Revokes `root` in one go and returns the number of store reads made
    /// by `next_leaf` (not by `remove`).
    fn revoke_counting_reads(store: &mut Store, root: usize) -> (usize, usize) {
        let mut revoke = Revoke::new(root);
        let mut reads = 0;
        let mut leaves = 0;
        loop {
            store.reads.set(0);
            let next = revoke.next_leaf(store);
            reads += store.reads.get();
            let Some(leaf) = next else { break };
            remove(store, leaf);
            leaves += 1;
        }
        (leaves, reads)
    }

    #[test]
    fn revoke_of_a_deep_chain_is_linear() {
        const N: usize = 10_000;
        let mut store = Store::with_nodes(N + 2);
        insert_root(&mut store, 0);
        for node in 1..=N {
            insert_child(&mut store, node - 1, node);
        }
        // A following original, which must survive.
        insert_root(&mut store, N + 1);
        store.nodes[N].next = Some(N + 1);
        store.nodes[N + 1].prev = Some(N);
        let (leaves, reads) = revoke_counting_reads(&mut store, 0);
        assert_eq!(leaves, N);
        assert!(reads < 4 * N, "{reads} reads for {N} nodes");
        assert_eq!(store.nodes[0].next, Some(N + 1));
    }

    #[test]
    fn revoke_of_a_wide_fan_is_linear() {
        const N: usize = 10_000;
        let mut store = Store::with_nodes(N + 1);
        insert_root(&mut store, 0);
        for node in 1..=N {
            insert_child(&mut store, 0, node);
        }
        let (leaves, reads) = revoke_counting_reads(&mut store, 0);
        assert_eq!(leaves, N);
        assert!(reads < 4 * N, "{reads} reads for {N} nodes");
        assert_eq!(store.nodes[0], CdtLinks::root());
    }

    #[test]
    fn removing_the_top_of_a_deep_chain_promotes_everything() {
        const N: usize = 10_000;
        let mut store = Store::with_nodes(N + 1);
        insert_root(&mut store, 0);
        for node in 1..=N {
            insert_child(&mut store, node - 1, node);
        }
        remove(&mut store, 0);
        assert!((1..=N).all(|node| store.nodes[node].depth == node as u32 - 1));
    }

    /// The model: an explicit parent for every live node.
    #[derive(Debug, Default)]
    struct Model {
        parent: HashMap<usize, Option<usize>>,
    }

    impl Model {
        fn descendants(&self, ancestor: usize) -> BTreeSet<usize> {
            self.parent
                .keys()
                .copied()
                .filter(|&node| self.is_descendant(ancestor, node))
                .collect()
        }

        fn is_descendant(&self, ancestor: usize, node: usize) -> bool {
            let mut cursor = self.parent[&node];
            while let Some(parent) = cursor {
                if parent == ancestor {
                    return true;
                }
                cursor = self.parent[&parent];
            }
            false
        }

        fn depth(&self, node: usize) -> u32 {
            let mut depth = 0;
            let mut cursor = self.parent[&node];
            while let Some(parent) = cursor {
                depth += 1;
                cursor = self.parent[&parent];
            }
            depth
        }

        /// Deletes `node`, giving its children to its parent.
        fn delete(&mut self, node: usize) {
            let parent = self.parent.remove(&node).flatten();
            for value in self.parent.values_mut() {
                if *value == Some(node) {
                    *value = parent;
                }
            }
        }

        fn live(&self) -> Vec<usize> {
            let mut live: Vec<usize> = self.parent.keys().copied().collect();
            live.sort_unstable();
            live
        }
    }

    /// Checks the lists against the model.
    fn check(store: &Store, model: &Model) -> Result<(), TestCaseError> {
        let live = model.live();
        // Links mirror each other, and the linked nodes are the live ones.
        for (id, links) in store.nodes.iter().enumerate() {
            if let Some(next) = links.next {
                prop_assert_eq!(store.nodes[next].prev, Some(id), "prev of next of {}", id);
            }
            if let Some(prev) = links.prev {
                prop_assert_eq!(store.nodes[prev].next, Some(id), "next of prev of {}", id);
            }
            let linked = links.prev.is_some() || links.next.is_some();
            if !model.parent.contains_key(&id) {
                prop_assert!(!linked, "freed node {} is still linked", id);
                prop_assert_eq!(*links, CdtLinks::root(), "freed node {}", id);
            }
        }
        for &node in &live {
            let links = store.nodes[node];
            prop_assert_eq!(links.depth, model.depth(node), "depth of {}", node);
            if links.prev.is_none() {
                prop_assert_eq!(links.depth, 0);
            }
            if let Some(parent) = model.parent[&node] {
                prop_assert_eq!(links.depth, store.nodes[parent].depth + 1);
            }
            prop_assert_eq!(
                run_of(store, node),
                model.descendants(node),
                "descendants of {}",
                node
            );
            prop_assert_eq!(
                has_children(store, node),
                !model.descendants(node).is_empty()
            );
        }
        Ok(())
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// A new original.
        Root,
        /// A copy of a live node into a fresh one.
        Copy(prop::sample::Index),
        /// A live node moves to a fresh id.
        Move(prop::sample::Index),
        /// A live node is deleted.
        Delete(prop::sample::Index),
        /// The descendants of a live node are revoked, stopping after at
        /// most the given number of leaves per `Revoke` (`None`: never).
        Revoke(prop::sample::Index, Option<u8>),
        /// `is_descendant` on two live nodes.
        Query(prop::sample::Index, prop::sample::Index),
        /// A live node is detached from a live ancestor (skipped unless it
        /// is one).
        Detach(prop::sample::Index, prop::sample::Index),
    }

    fn op() -> impl Strategy<Value = Op> {
        let index = any::<prop::sample::Index>;
        prop_oneof![
            2 => Just(Op::Root),
            8 => index().prop_map(Op::Copy),
            2 => index().prop_map(Op::Move),
            3 => index().prop_map(Op::Delete),
            1 => (index(), proptest::option::of(1u8..4)).prop_map(|(i, stop)| Op::Revoke(i, stop)),
            2 => (index(), index()).prop_map(|(a, b)| Op::Query(a, b)),
            2 => (index(), index()).prop_map(|(a, b)| Op::Detach(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn matches_a_parent_map_model(ops in proptest::collection::vec(op(), 1..80)) {
            let mut store = Store::default();
            let mut model = Model::default();
            for op in ops {
                let live = model.live();
                match op {
                    Op::Root => {
                        let id = store.fresh();
                        insert_root(&mut store, id);
                        model.parent.insert(id, None);
                    }
                    Op::Copy(index) if !live.is_empty() => {
                        let parent = *index.get(&live);
                        let child = store.fresh();
                        insert_child(&mut store, parent, child);
                        model.parent.insert(child, Some(parent));
                    }
                    Op::Move(index) if !live.is_empty() => {
                        let from = *index.get(&live);
                        let to = store.fresh();
                        replace(&mut store, from, to);
                        let parent = model.parent.remove(&from).flatten();
                        model.parent.insert(to, parent);
                        for value in model.parent.values_mut() {
                            if *value == Some(from) {
                                *value = Some(to);
                            }
                        }
                    }
                    Op::Delete(index) if !live.is_empty() => {
                        let node = *index.get(&live);
                        remove(&mut store, node);
                        model.delete(node);
                    }
                    Op::Revoke(index, stop) if !live.is_empty() => {
                        let root = *index.get(&live);
                        let doomed = model.descendants(root);
                        let mut revoked = BTreeSet::new();
                        'outer: loop {
                            let mut revoke = Revoke::new(root);
                            let mut budget = stop;
                            loop {
                                if budget == Some(0) {
                                    // Preempted: carry on with a fresh Revoke.
                                    break;
                                }
                                let Some(leaf) = revoke.next_leaf(&store) else { break 'outer };
                                prop_assert!(doomed.contains(&leaf), "{} not below {}", leaf, root);
                                prop_assert!(model.descendants(leaf).is_empty(), "{} is not a leaf", leaf);
                                remove(&mut store, leaf);
                                model.delete(leaf);
                                revoked.insert(leaf);
                                budget = budget.map(|b| b - 1);
                            }
                        }
                        prop_assert_eq!(&revoked, &doomed);
                        prop_assert!(model.parent.contains_key(&root));
                        prop_assert!(model.descendants(root).is_empty());
                        prop_assert!(!has_children(&store, root));
                    }
                    Op::Detach(a, b) if !live.is_empty() => {
                        let (ancestor, node) = (*a.get(&live), *b.get(&live));
                        if model.is_descendant(ancestor, node) {
                            detach(&mut store, ancestor, node);
                            let parent = model.parent[&ancestor];
                            model.parent.insert(node, parent);
                            prop_assert!(!is_descendant(&store, ancestor, node));
                        }
                    }
                    Op::Query(a, b) if !live.is_empty() => {
                        let (a, b) = (*a.get(&live), *b.get(&live));
                        prop_assert_eq!(parent(&store, b), model.parent[&b]);
                        prop_assert_eq!(is_descendant(&store, a, b), model.is_descendant(a, b));
                    }
                    _ => {}
                }
                check(&store, &model)?;
            }
        }
    }
}
