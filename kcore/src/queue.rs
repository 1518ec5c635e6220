//! Intrusive doubly-linked lists and the scheduler's priority run queues.
//!
//! The kernel cannot allocate list nodes, so each element carries its own
//! [`Links`] (inside the thread object, for run queues and endpoint wait
//! queues) and the kernel exposes them through a [`LinkStore`]. A [`List`] only
//! remembers its two ends; everything else lives in the elements. Ids are
//! small `Copy` handles: a physical-address newtype in the kernel, an index
//! into a `Vec` in the tests.
//!
//! # Invariants
//!
//! For a [`List`] with elements `e1 … en` (front to back):
//!
//! - `head == Some(e1)` and `tail == Some(en)`, or both are `None` when the
//!   list is empty;
//! - `links(ei).next == Some(ei+1)` and `links(ei+1).prev == Some(ei)`, and
//!   `links(e1).prev` and `links(en).next` are `None`;
//! - an element that is in no list has [`Links::unlinked`] links: every
//!   operation that takes an element out resets them.
//!
//! An element is in at most one list at a time. The lists cannot check this
//! (an element alone in a list and an unlinked one look the same), so it is
//! the caller's rule: the kernel knows, from the thread's state, which queue a
//! thread is on.
//!
//! [`RunQueues`] keeps one FIFO per priority plus a bitmap in which bit `p` is
//! set exactly when queue `p` is non-empty, so the most urgent runnable thread
//! is found with one `leading_zeros`.

/// Links of one element of an intrusive doubly-linked list, kept inside the
/// element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Links<Id> {
    /// The element before this one, or `None` at the front (or when
    /// unlinked).
    pub prev: Option<Id>,
    /// The element after this one, or `None` at the back (or when unlinked).
    pub next: Option<Id>,
}

impl<Id> Links<Id> {
    /// The links of an element that is in no list: both `None`.
    pub const fn unlinked() -> Self {
        Self {
            prev: None,
            next: None,
        }
    }
}

impl<Id> Default for Links<Id> {
    /// [`Links::unlinked`].
    fn default() -> Self {
        Self::unlinked()
    }
}

/// Where the elements' links live (in the kernel: inside the thread objects).
pub trait LinkStore<Id: Copy + Eq> {
    /// The current links of `id`.
    fn links(&self, id: Id) -> Links<Id>;
    /// Overwrites the links of `id`.
    fn set_links(&mut self, id: Id, links: Links<Id>);
}

/// Updates only the `prev` link of `id`.
fn set_prev<Id: Copy + Eq, S: LinkStore<Id>>(store: &mut S, id: Id, prev: Option<Id>) {
    let links = store.links(id);
    store.set_links(id, Links { prev, ..links });
}

/// Updates only the `next` link of `id`.
fn set_next<Id: Copy + Eq, S: LinkStore<Id>>(store: &mut S, id: Id, next: Option<Id>) {
    let links = store.links(id);
    store.set_links(id, Links { next, ..links });
}

/// Intrusive doubly-linked FIFO list.
///
/// Holds only the two ends; the links are in the elements (see the module
/// documentation). An element is in at most one list at a time (the caller's
/// rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct List<Id> {
    /// The front element, `None` iff the list is empty.
    head: Option<Id>,
    /// The back element, `None` iff the list is empty.
    tail: Option<Id>,
}

impl<Id: Copy + Eq> Default for List<Id> {
    /// [`List::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<Id: Copy + Eq> List<Id> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            head: None,
            tail: None,
        }
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The front element, if any.
    pub fn front(&self) -> Option<Id> {
        self.head
    }

    /// Appends `id`, which must be in no list, at the back. O(1).
    pub fn push_back<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id) {
        store.set_links(
            id,
            Links {
                prev: self.tail,
                next: None,
            },
        );
        match self.tail {
            Some(tail) => set_next(store, tail, Some(id)),
            None => self.head = Some(id),
        }
        self.tail = Some(id);
    }

    /// Prepends `id`, which must be in no list, at the front. O(1).
    pub fn push_front<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id) {
        store.set_links(
            id,
            Links {
                prev: None,
                next: self.head,
            },
        );
        match self.head {
            Some(head) => set_prev(store, head, Some(id)),
            None => self.tail = Some(id),
        }
        self.head = Some(id);
    }

    /// Takes the front element out, resetting its links to
    /// [`Links::unlinked`]. O(1).
    #[inline(always)]
    pub fn pop_front<S: LinkStore<Id>>(&mut self, store: &mut S) -> Option<Id> {
        let head = self.head?;
        let next = store.links(head).next;
        match next {
            Some(next) => set_prev(store, next, None),
            None => self.tail = None,
        }
        self.head = next;
        store.set_links(head, Links::unlinked());
        Some(head)
    }

    /// Removes `id`, which must be in this list, and resets its links to
    /// [`Links::unlinked`]. O(1).
    ///
    /// # Panics
    ///
    /// If `id` is visibly not in this list: it has no predecessor but is not
    /// the front, or no successor but is not the back. (Removing an element
    /// of another list that has both neighbours cannot be detected.)
    pub fn remove<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id) {
        let links = store.links(id);
        // Check both ends before changing anything, so that a caller bug
        // panics without first corrupting the list.
        assert!(
            links.prev.is_some() || self.head == Some(id),
            "List::remove: element is not in this list"
        );
        assert!(
            links.next.is_some() || self.tail == Some(id),
            "List::remove: element is not in this list"
        );
        match links.prev {
            Some(prev) => set_next(store, prev, links.next),
            None => self.head = links.next,
        }
        match links.next {
            Some(next) => set_prev(store, next, links.prev),
            None => self.tail = links.prev,
        }
        store.set_links(id, Links::unlinked());
    }

    /// Inserts `id`, which must be in no list, in priority order: after every
    /// element whose priority is `>= priority`, before the first one with a
    /// lower priority. A higher number is more urgent; equal priorities stay
    /// in FIFO order. O(n).
    ///
    /// `priority_of` reads an element's priority; it is called once per
    /// element passed over, with the store.
    pub fn insert_by_priority<S: LinkStore<Id>>(
        &mut self,
        store: &mut S,
        id: Id,
        priority: u8,
        priority_of: impl Fn(&S, Id) -> u8,
    ) {
        let mut cursor = self.head;
        while let Some(current) = cursor {
            if priority_of(store, current) < priority {
                break;
            }
            cursor = store.links(current).next;
        }
        let Some(before) = cursor else {
            // Every element is at least as urgent: `id` goes last.
            self.push_back(store, id);
            return;
        };
        let prev = store.links(before).prev;
        store.set_links(
            id,
            Links {
                prev,
                next: Some(before),
            },
        );
        set_prev(store, before, Some(id));
        match prev {
            Some(prev) => set_next(store, prev, Some(id)),
            None => self.head = Some(id),
        }
    }

    /// The elements, front to back.
    ///
    /// The iterator reads the links as it goes, so the list must not change
    /// while it is in use (the shared borrow of the store ensures it).
    pub fn iter<'a, S: LinkStore<Id>>(
        &self,
        store: &'a S,
    ) -> impl Iterator<Item = Id> + use<'a, Id, S> {
        core::iter::successors(self.head, move |&id| store.links(id).next)
    }
}

/// Number of scheduling priorities: `0` (least urgent) to `63` (most urgent).
pub const PRIORITY_LEVELS: usize = 64;

/// The scheduler's ready threads: one FIFO per priority plus a bitmap of the
/// non-empty ones, so that the most urgent is chosen in O(1).
///
/// Invariant: bit `p` of `bitmap` is set iff `queues[p]` is non-empty.
#[derive(Clone, Debug)]
pub struct RunQueues<Id> {
    /// Bit `p` set iff `queues[p]` is non-empty.
    bitmap: u64,
    /// One FIFO per priority, indexed by priority.
    queues: [List<Id>; PRIORITY_LEVELS],
}

impl<Id: Copy + Eq> Default for RunQueues<Id> {
    /// [`RunQueues::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<Id: Copy + Eq> RunQueues<Id> {
    /// Empty queues at every priority (`const`, for use in a `static`).
    pub const fn new() -> Self {
        Self {
            bitmap: 0,
            queues: [const { List::new() }; PRIORITY_LEVELS],
        }
    }

    /// Whether no element is queued at any priority.
    pub fn is_empty(&self) -> bool {
        self.bitmap == 0
    }

    /// The most urgent priority with a queued element, if any.
    pub fn highest(&self) -> Option<u8> {
        if self.bitmap == 0 {
            return None;
        }
        // The bitmap is non-zero, so `leading_zeros <= 63`; the result fits
        // in a `u8`.
        Some((63 - self.bitmap.leading_zeros()) as u8)
    }

    /// Queues `id` (in no list) at the back of its priority's FIFO: it runs
    /// after the elements already queued at that priority.
    ///
    /// # Panics
    ///
    /// If `priority >= PRIORITY_LEVELS`.
    pub fn push_back<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id, priority: u8) {
        let level = level(priority);
        self.queues[level].push_back(store, id);
        self.bitmap |= 1 << level;
    }

    /// Queues `id` (in no list) at the front of its priority's FIFO: it runs
    /// next among the elements of that priority (a preempted thread keeps
    /// its turn).
    ///
    /// # Panics
    ///
    /// If `priority >= PRIORITY_LEVELS`.
    pub fn push_front<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id, priority: u8) {
        let level = level(priority);
        self.queues[level].push_front(store, id);
        self.bitmap |= 1 << level;
    }

    /// Takes out the front element of the most urgent non-empty priority,
    /// with that priority, resetting its links. O(1).
    pub fn pop_highest<S: LinkStore<Id>>(&mut self, store: &mut S) -> Option<(Id, u8)> {
        let priority = self.highest()?;
        let level = level(priority);
        let id = self.queues[level].pop_front(store)?;
        if self.queues[level].is_empty() {
            self.bitmap &= !(1 << level);
        }
        Some((id, priority))
    }

    /// Removes `id`, which must be queued at `priority`, and resets its
    /// links. O(1).
    ///
    /// # Panics
    ///
    /// If `priority >= PRIORITY_LEVELS`, or as [`List::remove`] does if `id`
    /// is visibly not queued at `priority`.
    pub fn remove<S: LinkStore<Id>>(&mut self, store: &mut S, id: Id, priority: u8) {
        let level = level(priority);
        self.queues[level].remove(store, id);
        if self.queues[level].is_empty() {
            self.bitmap &= !(1 << level);
        }
    }
}

/// The queue index of `priority`.
///
/// # Panics
///
/// If `priority >= PRIORITY_LEVELS`: a priority is checked when it enters the
/// kernel, so a larger one here is a kernel bug.
#[inline(always)]
fn level(priority: u8) -> usize {
    let level = usize::from(priority);
    if level >= PRIORITY_LEVELS {
        out_of_range(priority);
    }
    level
}

#[cold]
#[inline(never)]
fn out_of_range(priority: u8) -> ! {
    panic!("priority {priority} out of range (must be below {PRIORITY_LEVELS})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// Links and a priority per element; element ids are indices.
    #[derive(Debug)]
    struct Store {
        links: Vec<Links<usize>>,
        priorities: Vec<u8>,
    }

    impl Store {
        fn new(count: usize) -> Self {
            Self {
                links: vec![Links::unlinked(); count],
                priorities: vec![0; count],
            }
        }
    }

    impl LinkStore<usize> for Store {
        fn links(&self, id: usize) -> Links<usize> {
            self.links[id]
        }
        fn set_links(&mut self, id: usize, links: Links<usize>) {
            self.links[id] = links;
        }
    }

    fn priority_of(store: &Store, id: usize) -> u8 {
        store.priorities[id]
    }

    /// Checks that `list` holds exactly `expected`, front to back, with
    /// consistent links in both directions.
    fn check_list(list: &List<usize>, store: &Store, expected: &[usize]) {
        let forward: Vec<usize> = list.iter(store).collect();
        assert_eq!(forward, expected);
        assert_eq!(list.is_empty(), expected.is_empty());
        assert_eq!(list.front(), expected.first().copied());
        assert_eq!(list.tail, expected.last().copied());
        for (index, &id) in expected.iter().enumerate() {
            let links = store.links(id);
            let prev = index.checked_sub(1).map(|i| expected[i]);
            assert_eq!(links.prev, prev, "prev of {id}");
            assert_eq!(links.next, expected.get(index + 1).copied(), "next of {id}");
        }
    }

    #[test]
    fn links_default_is_unlinked() {
        let links: Links<usize> = Links::default();
        assert_eq!(links, Links::unlinked());
        assert_eq!(links.prev, None);
        assert_eq!(links.next, None);
    }

    #[test]
    fn empty_list() {
        let mut store = Store::new(1);
        let mut list: List<usize> = List::default();
        check_list(&list, &store, &[]);
        assert_eq!(list.pop_front(&mut store), None);
    }

    #[test]
    fn push_back_and_pop_front_are_fifo() {
        let mut store = Store::new(4);
        let mut list = List::new();
        for id in 0..4 {
            list.push_back(&mut store, id);
        }
        check_list(&list, &store, &[0, 1, 2, 3]);
        assert_eq!(list.pop_front(&mut store), Some(0));
        assert_eq!(store.links(0), Links::unlinked());
        check_list(&list, &store, &[1, 2, 3]);
    }

    #[test]
    fn push_front_prepends() {
        let mut store = Store::new(3);
        let mut list = List::new();
        list.push_front(&mut store, 0);
        list.push_front(&mut store, 1);
        list.push_back(&mut store, 2);
        check_list(&list, &store, &[1, 0, 2]);
    }

    #[test]
    fn remove_front_middle_back_and_only() {
        let mut store = Store::new(4);
        let mut list = List::new();
        for id in 0..4 {
            list.push_back(&mut store, id);
        }
        list.remove(&mut store, 2);
        check_list(&list, &store, &[0, 1, 3]);
        list.remove(&mut store, 0);
        check_list(&list, &store, &[1, 3]);
        list.remove(&mut store, 3);
        check_list(&list, &store, &[1]);
        list.remove(&mut store, 1);
        check_list(&list, &store, &[]);
        assert!(store.links.iter().all(|links| *links == Links::unlinked()));
    }

    #[test]
    #[should_panic(expected = "not in this list")]
    fn remove_of_unlinked_element_panics() {
        let mut store = Store::new(2);
        let mut list = List::new();
        list.push_back(&mut store, 0);
        list.remove(&mut store, 1);
    }

    #[test]
    fn insert_by_priority_orders_and_keeps_fifo_among_equals() {
        let mut store = Store::new(6);
        store.priorities = vec![5, 3, 5, 7, 3, 0];
        let mut list = List::new();
        for id in 0..6 {
            let priority = store.priorities[id];
            list.insert_by_priority(&mut store, id, priority, priority_of);
        }
        check_list(&list, &store, &[3, 0, 2, 1, 4, 5]);
    }

    #[test]
    fn run_queues_pick_most_urgent_then_fifo() {
        let mut store = Store::new(5);
        let mut queues = RunQueues::new();
        assert!(queues.is_empty());
        assert_eq!(queues.highest(), None);
        queues.push_back(&mut store, 0, 3);
        queues.push_back(&mut store, 1, 10);
        queues.push_back(&mut store, 2, 3);
        queues.push_front(&mut store, 3, 10);
        queues.push_back(&mut store, 4, 63);
        assert_eq!(queues.highest(), Some(63));
        let order: Vec<(usize, u8)> =
            core::iter::from_fn(|| queues.pop_highest(&mut store)).collect();
        assert_eq!(order, [(4, 63), (3, 10), (1, 10), (0, 3), (2, 3)]);
        assert!(queues.is_empty());
        assert_eq!(queues.bitmap, 0);
    }

    #[test]
    fn run_queues_remove_clears_the_bit() {
        let mut store = Store::new(3);
        let mut queues = RunQueues::default();
        queues.push_back(&mut store, 0, 0);
        queues.push_back(&mut store, 1, 7);
        queues.push_back(&mut store, 2, 7);
        queues.remove(&mut store, 1, 7);
        assert_eq!(queues.highest(), Some(7));
        queues.remove(&mut store, 2, 7);
        assert_eq!(queues.highest(), Some(0));
        assert_eq!(queues.bitmap, 1);
        assert_eq!(store.links(1), Links::unlinked());
        assert_eq!(store.links(2), Links::unlinked());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn run_queues_reject_priority_64() {
        let mut store = Store::new(1);
        let mut queues = RunQueues::new();
        queues.push_back(&mut store, 0, 64);
    }

    #[test]
    fn run_queues_new_is_const() {
        static QUEUES: RunQueues<usize> = RunQueues::new();
        assert!(QUEUES.is_empty());
    }

    /// One step of the run-queue scenario. Indices pick among the elements
    /// that are (or are not) queued at the time.
    #[derive(Clone, Debug)]
    enum RunOp {
        PushBack(prop::sample::Index, u8),
        PushFront(prop::sample::Index, u8),
        Pop,
        Remove(prop::sample::Index),
    }

    fn run_op() -> impl Strategy<Value = RunOp> {
        // Few distinct priorities often, so that FIFO order within a level
        // is exercised, and occasionally any of them.
        let priority = prop_oneof![
            3 => prop::sample::select(vec![0u8, 1, 31, 62, 63]),
            1 => 0u8..64,
        ];
        prop_oneof![
            3 => (any::<prop::sample::Index>(), priority.clone()).prop_map(|(i, p)| RunOp::PushBack(i, p)),
            2 => (any::<prop::sample::Index>(), priority).prop_map(|(i, p)| RunOp::PushFront(i, p)),
            2 => Just(RunOp::Pop),
            2 => any::<prop::sample::Index>().prop_map(RunOp::Remove),
        ]
    }

    /// Checks the run queues against the model: bitmap, `highest`, and the
    /// contents and links of every level.
    fn check_run_queues(
        queues: &RunQueues<usize>,
        store: &Store,
        model: &[VecDeque<usize>],
    ) -> Result<(), TestCaseError> {
        let mut bitmap = 0u64;
        for (level, expected) in model.iter().enumerate() {
            if !expected.is_empty() {
                bitmap |= 1 << level;
            }
            let expected: Vec<usize> = expected.iter().copied().collect();
            check_list(&queues.queues[level], store, &expected);
        }
        prop_assert_eq!(queues.bitmap, bitmap);
        let highest = model.iter().rposition(|queue| !queue.is_empty());
        prop_assert_eq!(queues.highest().map(usize::from), highest);
        prop_assert_eq!(queues.is_empty(), highest.is_none());
        Ok(())
    }

    const ELEMENTS: usize = 24;

    /// Insertion into a priority-ordered list, for the model: after every
    /// element of priority `>= priority`.
    fn model_insert(model: &mut Vec<usize>, store: &Store, id: usize, priority: u8) {
        let at = model
            .iter()
            .position(|&other| store.priorities[other] < priority)
            .unwrap_or(model.len());
        model.insert(at, id);
    }

    #[derive(Clone, Debug)]
    enum ListOp {
        Insert(prop::sample::Index, u8),
        Remove(prop::sample::Index),
        PopFront,
    }

    fn list_op() -> impl Strategy<Value = ListOp> {
        prop_oneof![
            4 => (any::<prop::sample::Index>(), 0u8..6).prop_map(|(i, p)| ListOp::Insert(i, p)),
            2 => any::<prop::sample::Index>().prop_map(ListOp::Remove),
            1 => Just(ListOp::PopFront),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn run_queues_match_a_model(ops in proptest::collection::vec(run_op(), 0..150)) {
            let mut store = Store::new(ELEMENTS);
            let mut queues = RunQueues::new();
            let mut model: Vec<VecDeque<usize>> = vec![VecDeque::new(); PRIORITY_LEVELS];
            // Priority at which each element is queued, if it is.
            let mut queued_at: Vec<Option<u8>> = vec![None; ELEMENTS];
            for op in ops {
                let idle: Vec<usize> = (0..ELEMENTS).filter(|&id| queued_at[id].is_none()).collect();
                let busy: Vec<usize> = (0..ELEMENTS).filter(|&id| queued_at[id].is_some()).collect();
                match op {
                    RunOp::PushBack(index, priority) if !idle.is_empty() => {
                        let id = *index.get(&idle);
                        queues.push_back(&mut store, id, priority);
                        model[usize::from(priority)].push_back(id);
                        queued_at[id] = Some(priority);
                    }
                    RunOp::PushFront(index, priority) if !idle.is_empty() => {
                        let id = *index.get(&idle);
                        queues.push_front(&mut store, id, priority);
                        model[usize::from(priority)].push_front(id);
                        queued_at[id] = Some(priority);
                    }
                    RunOp::Pop => {
                        let expected = model.iter_mut().enumerate().rev().find_map(|(level, queue)| {
                            queue.pop_front().map(|id| (id, level as u8))
                        });
                        let got = queues.pop_highest(&mut store);
                        prop_assert_eq!(got, expected);
                        if let Some((id, _)) = got {
                            queued_at[id] = None;
                            prop_assert_eq!(store.links(id), Links::unlinked());
                        }
                    }
                    RunOp::Remove(index) if !busy.is_empty() => {
                        let id = *index.get(&busy);
                        let priority = queued_at[id].unwrap();
                        queues.remove(&mut store, id, priority);
                        model[usize::from(priority)].retain(|&other| other != id);
                        queued_at[id] = None;
                        prop_assert_eq!(store.links(id), Links::unlinked());
                    }
                    _ => {}
                }
                check_run_queues(&queues, &store, &model)?;
            }
            for id in (0..ELEMENTS).filter(|&id| queued_at[id].is_none()) {
                prop_assert_eq!(store.links(id), Links::unlinked());
            }
        }

        #[test]
        fn insert_by_priority_matches_a_model(ops in proptest::collection::vec(list_op(), 0..120)) {
            let mut store = Store::new(ELEMENTS);
            let mut list = List::new();
            let mut model: Vec<usize> = Vec::new();
            for op in ops {
                let idle: Vec<usize> = (0..ELEMENTS).filter(|id| !model.contains(id)).collect();
                match op {
                    ListOp::Insert(index, priority) if !idle.is_empty() => {
                        let id = *index.get(&idle);
                        store.priorities[id] = priority;
                        model_insert(&mut model, &store, id, priority);
                        list.insert_by_priority(&mut store, id, priority, priority_of);
                    }
                    ListOp::Remove(index) if !model.is_empty() => {
                        let id = *index.get(&model);
                        model.retain(|&other| other != id);
                        list.remove(&mut store, id);
                        prop_assert_eq!(store.links(id), Links::unlinked());
                    }
                    ListOp::PopFront => {
                        let expected = (!model.is_empty()).then(|| model.remove(0));
                        let got = list.pop_front(&mut store);
                        prop_assert_eq!(got, expected);
                        if let Some(id) = got {
                            prop_assert_eq!(store.links(id), Links::unlinked());
                        }
                    }
                    _ => {}
                }
                check_list(&list, &store, &model);
                // Priority order, and FIFO among equals is what the model's
                // stable insertion gives.
                let priorities: Vec<u8> = model.iter().map(|&id| store.priorities[id]).collect();
                prop_assert!(priorities.windows(2).all(|pair| pair[0] >= pair[1]));
            }
        }
    }
}
