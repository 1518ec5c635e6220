//! Host tests of the page tree: fixed cases at the depth and node
//! boundaries, and a property test against a map model.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Nodes as `(live, entries)` in a `Vec`, ids `(index + 1) << 12` like
/// frame addresses. Panics on a dead id, a double free or a non-zero free.
#[derive(Default)]
struct VecStore {
    nodes: Vec<(bool, Box<[u64; NODE_ENTRIES]>)>,
    free_list: Vec<usize>,
    live: u64,
    /// Allocations still allowed; `None`: unlimited.
    limit: Option<u64>,
}

impl VecStore {
    fn index(&self, node: u64) -> usize {
        let index = (node >> 12).wrapping_sub(1) as usize;
        assert!(node & 0xfff == 0 && self.nodes[index].0, "dead {node:#x}");
        index
    }
}

impl NodeStore for VecStore {
    fn alloc(&mut self) -> Option<u64> {
        if let Some(limit) = &mut self.limit {
            *limit = limit.checked_sub(1)?;
        }
        let index = self.free_list.pop().unwrap_or(self.nodes.len());
        if index == self.nodes.len() {
            self.nodes.push((false, Box::new([0; NODE_ENTRIES])));
        }
        self.nodes[index].0 = true;
        self.live += 1;
        Some((index as u64 + 1) << 12)
    }
    fn free(&mut self, node: u64) {
        let index = self.index(node);
        assert!(self.nodes[index].1.iter().all(|&e| e == 0), "non-zero free");
        self.nodes[index].0 = false;
        self.live -= 1;
        self.free_list.push(index);
    }
    fn node(&self, node: u64) -> &[u64; NODE_ENTRIES] {
        &self.nodes[self.index(node)].1
    }
    fn node_mut(&mut self, node: u64) -> &mut [u64; NODE_ENTRIES] {
        let index = self.index(node);
        &mut self.nodes[index].1
    }
}

type Pairs = Vec<(u64, u64)>;

/// Pushes the values below `holder` (entries at `level`, from page
/// `base`) to `out`; returns the nodes reached, none of them empty.
fn walk(tree: &PageTree, store: &VecStore, at: (Option<u64>, u8, u64), out: &mut Pairs) -> u64 {
    let (holder, level, base) = at;
    let entries = holder.map_or(&tree.root[..], |node| &store.node(node)[..]);
    assert!(holder.is_none() || entries.iter().any(|&e| e != 0));
    let mut nodes = 0;
    for (index, &entry) in entries.iter().enumerate().filter(|(_, e)| **e != 0) {
        let page = base + ((index as u64) << shift(level));
        match level {
            0 => out.push((page, entry)),
            _ => nodes += 1 + walk(tree, store, (Some(entry), level - 1, page), out),
        }
    }
    nodes
}

/// Checks the invariants and `for_each`; returns the contents.
fn check(tree: &PageTree, store: &VecStore) -> Pairs {
    let mut walked = Vec::new();
    let reachable = walk(tree, store, (None, tree.depth, 0), &mut walked);
    assert_eq!((tree.nodes(), store.live), (reachable, reachable));
    assert!(tree.depth <= depth_for(tree.pages));
    let covered = capacity(tree.depth).min(tree.pages);
    assert!(walked.iter().all(|&(page, _)| page < covered));
    let mut visited = Vec::new();
    tree.for_each(store, |page, value| visited.push((page, value)));
    assert_eq!(visited, walked);
    visited
}

/// A tree of `pages` holding `page + 1` at each of `set`.
fn filled(pages: u64, set: &[u64]) -> (PageTree, VecStore) {
    let (mut tree, mut store) = (PageTree::new(pages).unwrap(), VecStore::default());
    for &page in set {
        assert_eq!(tree.set(&mut store, page, page + 1), Ok(None));
    }
    (tree, store)
}

fn pairs(pages: &[u64]) -> Pairs {
    pages.iter().map(|&page| (page, page + 1)).collect()
}

const D1: u64 = 1 << 17;
const MAX: u64 = MAX_PAGES;

#[test]
fn sizes_and_depths() {
    assert_eq!(MAX, 1 << 26);
    // A tree is as deep as its highest page needs, whatever its size.
    let depths = [
        (0, 0),
        (255, 0),
        (256, 1),
        (D1 - 1, 1),
        (D1, 2),
        (MAX - 1, 2),
    ];
    for (page, depth) in depths {
        let (tree, store) = filled(MAX, &[page]);
        assert_eq!(tree.depth(), depth);
        assert_eq!(check(&tree, &store), pairs(&[page]));
    }
    assert_eq!(PageTree::new(MAX).map(|tree| tree.depth()), Ok(0));
    assert_eq!(PageTree::new(MAX + 1).unwrap_err(), TreeError::TooLarge);
    const TREE: Result<PageTree, TreeError> = PageTree::new(10);
    assert!(matches!(TREE, Ok(ref tree) if tree.pages() == 10 && tree.nodes() == 0));
}

#[test]
fn boundary_pages_and_errors_at_each_depth() {
    let cases: [(u64, &[u64], u64); 3] = [
        (256, &[0, 255], 0),
        (D1, &[0, 255, 256, 511, 512, D1 - 1], 3),
        (MAX, &[0, 255, 256, D1 - 1, 1 << 18, MAX - 1], 7),
    ];
    for (pages, set, nodes) in cases {
        let (mut tree, mut store) = filled(pages, &set[1..]);
        // Setting page 0 last needs `depth` nodes: fail at each one.
        for limit in 0..tree.nodes_needed(&store, 0) {
            store.limit = Some(limit);
            assert_eq!(tree.set(&mut store, 0, 1), Err(TreeError::NoMemory));
            assert_eq!(check(&tree, &store), pairs(&set[1..]));
        }
        store.limit = None;
        assert_eq!(tree.set(&mut store, 0, 7), Ok(None));
        assert_eq!(tree.set(&mut store, 0, 1), Ok(Some(7)));
        assert_eq!((tree.nodes(), check(&tree, &store)), (nodes, pairs(set)));
        assert_eq!(tree.get(&store, pages - 1), Some(pages));
        assert_eq!((tree.get(&store, 1), tree.get(&store, pages)), (None, None));
        assert_eq!(tree.set(&mut store, pages, 1), Err(TreeError::OutOfRange));
        assert_eq!(tree.set(&mut store, 1, 0), Err(TreeError::ZeroValue));
        assert_eq!(tree.take(&mut store, pages), None);
        tree.clear(&mut store, |_, _| {});
        assert_eq!((tree.nodes(), store.live), (0, 0));
    }
}

#[test]
fn take_frees_nodes_that_empty() {
    let (mut tree, mut store) = filled(MAX, &[600, 601, 1 << 18]);
    assert_eq!(tree.nodes(), 4);
    assert_eq!(tree.take(&mut store, 600), Some(601));
    assert_eq!((tree.take(&mut store, 600), tree.nodes()), (None, 4));
    assert_eq!((tree.take(&mut store, 601), tree.nodes()), (Some(602), 2));
    assert_eq!(tree.take(&mut store, 1 << 18), Some((1 << 18) + 1));
    assert_eq!((check(&tree, &store), store.live), (vec![], 0));
}

#[test]
fn raising_the_depth_keeps_values_and_fails_whole() {
    // (values first, then the page that raises the depth, nodes it takes)
    let cases: [(&[u64], u64, u64); 6] = [
        (&[0, 255], 256, 1),
        (&[0, 255], 512, 2),
        (&[0, 255], D1, 3),
        (&[0, 255], 1 << 18, 4),
        (&[70_000], D1, 2),
        (&[], MAX - 1, 2),
    ];
    for (set, page, needed) in cases {
        let (mut tree, mut store) = filled(MAX, set);
        assert_eq!(tree.nodes_needed(&store, page), needed);
        let (depth, nodes) = (tree.depth(), tree.nodes());
        for limit in 0..needed {
            store.limit = Some(limit);
            assert_eq!(tree.set(&mut store, page, 9), Err(TreeError::NoMemory));
            assert_eq!((tree.depth(), tree.nodes()), (depth, nodes));
            assert_eq!(check(&tree, &store), pairs(set));
        }
        store.limit = None;
        assert_eq!(tree.set(&mut store, page, 9), Ok(None));
        assert_eq!(tree.nodes(), nodes + needed);
        assert_eq!(tree.depth(), depth_for(page + 1));
        let mut expected = pairs(set);
        expected.push((page, 9));
        assert_eq!(check(&tree, &store), expected);
    }
    // Growing the size takes nothing and keeps the depth.
    let (mut tree, mut store) = filled(256, &[0, 255]);
    store.limit = Some(0);
    tree.resize(&mut store, MAX, |_, _| unreachable!()).unwrap();
    assert_eq!((tree.depth(), tree.nodes(), tree.pages()), (0, 0, MAX));
    assert_eq!(check(&tree, &store), pairs(&[0, 255]));
    // A cleared tree starts again at depth 0.
    store.limit = None;
    let (mut tree, mut store) = filled(MAX, &[MAX - 1]);
    tree.clear(&mut store, |_, _| {});
    assert_eq!((tree.depth(), tree.nodes(), store.live), (0, 0, 0));
}

#[test]
fn shrink_removes_exactly_the_values_past_the_end() {
    let set = [0, 255, 256, 511, 512, D1 - 1, D1, 1 << 18, MAX - 1];
    let (mut tree, mut store) = filled(MAX, &set);
    let mut removed = Vec::new();
    tree.resize(&mut store, 512, |page, value| removed.push((page, value)))
        .unwrap();
    assert_eq!(removed, pairs(&set[4..]));
    assert_eq!((tree.depth(), tree.nodes()), (1, 1));
    assert_eq!(check(&tree, &store), pairs(&set[..4]));
    tree.resize(&mut store, 256, |page, _| assert!(page >= 256))
        .unwrap();
    assert_eq!((tree.depth(), tree.nodes()), (0, 0));
    assert_eq!(check(&tree, &store), pairs(&set[..2]));
    tree.resize(&mut store, 0, |_, _| {}).unwrap();
    assert!(check(&tree, &store).is_empty());
}

#[test]
fn ranges_clip_and_update_keeps_on_zero() {
    let (mut tree, mut store) = filled(D1, &[3, 600, 1000, D1 - 1]);
    let mut seen = Vec::new();
    tree.for_each_in(&store, 600, u64::MAX, |page, _| seen.push(page));
    assert_eq!(seen, [600, 1000, D1 - 1]);
    tree.for_each_in(&store, u64::MAX, u64::MAX, |_, _| unreachable!());
    tree.for_each_in(&store, 4, 596, |_, _| unreachable!());
    tree.update(
        &mut store,
        0,
        1000,
        |page, value| if page == 3 { 0 } else { value * 2 },
    );
    assert_eq!(
        check(&tree, &store),
        [(3, 4), (600, 1202), (1000, 1001), (D1 - 1, D1)]
    );
}

#[derive(Clone, Debug)]
enum Op {
    Set(u64, u64),
    Take(u64),
    Get(u64),
    Resize(u64),
    Update(u64, u64, u64),
    ForEachIn(u64, u64),
    Limit(Option<u64>),
}

/// Mostly pages near node and depth boundaries, so that trees stay small.
fn page() -> impl Strategy<Value = u64> {
    let near = prop::sample::select(vec![0u64, 256, 512, D1, 1 << 18, 300_000]);
    let near = (near, -3i64..3).prop_map(|(base, by)| base.saturating_add_signed(by));
    prop_oneof![4 => near, 1 => 0u64..300_000]
}

fn op() -> impl Strategy<Value = Op> {
    let count = prop_oneof![Just(u64::MAX), 0u64..1000, 0u64..300_000];
    let value = prop_oneof![1 => Just(0u64), 9 => 1..u64::MAX];
    let size = prop_oneof![page(), Just(MAX), Just(MAX + 1)];
    prop_oneof![
        6 => (page(), value).prop_map(|(page, value)| Op::Set(page, value)),
        3 => page().prop_map(Op::Take),
        2 => page().prop_map(Op::Get),
        2 => size.prop_map(Op::Resize),
        1 => (page(), count.clone(), any::<u64>()).prop_map(|(p, c, x)| Op::Update(p, c, x)),
        1 => (page(), count).prop_map(|(first, count)| Op::ForEachIn(first, count)),
        1 => prop::option::weighted(0.7, 0u64..3).prop_map(Op::Limit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn first_nonzero_matches_a_scan(
        entries in prop::collection::vec(prop_oneof![3 => Just(0u64), 1 => 1u64..9], 0..70),
        from in 0usize..75,
        to in 0usize..75,
    ) {
        let naive = entries
            .get(from..to)
            .and_then(|range| range.iter().position(|&e| e != 0).map(|i| i + from));
        prop_assert_eq!(first_nonzero(&entries, from, to), naive);
    }

    #[test]
    fn matches_a_map_model(
        pages in prop_oneof![page(), Just(MAX)],
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let (mut tree, mut store) = filled(pages, &[]);
        let mut model: BTreeMap<u64, u64> = BTreeMap::new();
        for op in ops {
            let (budget, size) = (store.limit.unwrap_or(u64::MAX), tree.pages());
            match op {
                Op::Set(page, value) => {
                    let (nodes, needed) = (tree.nodes(), tree.nodes_needed(&store, page));
                    let expected = match () {
                        _ if page >= size => Err(TreeError::OutOfRange),
                        _ if value == 0 => Err(TreeError::ZeroValue),
                        _ if needed > budget => Err(TreeError::NoMemory),
                        _ => Ok(model.insert(page, value)),
                    };
                    prop_assert_eq!(tree.set(&mut store, page, value), expected);
                    let added = if expected.is_ok() { needed } else { 0 };
                    prop_assert_eq!(tree.nodes(), nodes + added);
                }
                Op::Take(page) => {
                    prop_assert_eq!(tree.take(&mut store, page), model.remove(&page));
                }
                Op::Get(page) => {
                    prop_assert_eq!(tree.get(&store, page), model.get(&page).copied());
                }
                Op::Resize(new) => {
                    let mut removed = Vec::new();
                    let result = tree.resize(&mut store, new, |p, v| removed.push((p, v)));
                    let expected = if new > MAX { Err(TreeError::TooLarge) } else { Ok(()) };
                    prop_assert_eq!(result, expected);
                    let (size, gone) = match result {
                        Ok(()) => (new, model.split_off(&new).into_iter().collect()),
                        Err(_) => (size, Vec::new()),
                    };
                    prop_assert_eq!((tree.pages(), removed), (size, gone));
                }
                Op::Update(first, count, mask) => {
                    // Leaves every fifth page alone by returning 0.
                    let f = |page: u64, value| {
                        if page.is_multiple_of(5) { 0 } else { value ^ mask }
                    };
                    let mut expected = Vec::new();
                    for (&page, value) in model.range_mut(first..first.saturating_add(count)) {
                        expected.push(page);
                        if f(page, *value) != 0 {
                            *value = f(page, *value);
                        }
                    }
                    let mut calls = Vec::new();
                    tree.update(&mut store, first, count, |page, value| {
                        calls.push(page);
                        f(page, value)
                    });
                    prop_assert_eq!(calls, expected);
                }
                Op::ForEachIn(first, count) => {
                    let mut seen = Vec::new();
                    tree.for_each_in(&store, first, count, |p, v| seen.push((p, v)));
                    let expected = model.range(first..first.saturating_add(count));
                    prop_assert_eq!(seen, expected.map(|(&p, &v)| (p, v)).collect::<Pairs>());
                }
                Op::Limit(limit) => store.limit = limit,
            }
            prop_assert_eq!(tree.nodes(), store.live);
        }
        let contents = check(&tree, &store);
        prop_assert_eq!(&contents, &model.into_iter().collect::<Pairs>());
        let mut cleared = Vec::new();
        tree.clear(&mut store, |p, v| cleared.push((p, v)));
        prop_assert_eq!((cleared, store.live), (contents, 0));
        prop_assert!(check(&tree, &store).is_empty());
    }
}
