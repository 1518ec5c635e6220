//! The deadline queue: every armed timer, earliest deadline first, so the
//! kernel can program the one-shot timer for the nearest deadline and fire
//! whatever is due when it expires.
//!
//! An entry is whatever the kernel attaches a deadline to: a thread blocked
//! with a timeout (`Recv`, `Call`, `Wait`, a futex wait) or a notification's
//! timer. The kernel cannot allocate queue nodes, so each entry carries its
//! own [`TimerLinks`] (its neighbours, its deadline and whether it is
//! queued) and exposes them through a [`TimerStore`]. A [`TimerQueue`] only
//! remembers its two ends, their count and the earliest deadline.
//!
//! The links are separate from [`crate::queue::Links`] on purpose: a thread
//! blocked with a timeout is on an endpoint's wait queue *and* on the timer
//! queue at once, so it needs a second pair of links, and a distinct trait
//! lets the kernel's object store implement both for the same id type.
//!
//! The queue is generic over the entry id `T: Copy + Eq`. The kernel may use
//! one queue over an enum of thread and notification ids (one earliest
//! deadline to program, one loop to fire them; the store matches on the
//! variant), or one queue per kind and program the smaller of the two
//! peeks. Both work; the first keeps the timer interrupt path to a single
//! queue.
//!
//! Times are `u64` nanoseconds on the monotonic clock. Every value is a
//! valid deadline: `0` is due at once, `u64::MAX` only at `now == u64::MAX`.
//! "No deadline" is expressed by not queueing the entry at all.
//!
//! # Structure and costs
//!
//! A doubly-linked list sorted by deadline, FIFO among equal deadlines.
//! Insertion walks from the *back*, so it costs O(1 + k) where k is the
//! number of entries with a later deadline: O(1) in the common case where
//! deadlines arrive in increasing order (timeouts of `now + constant`), O(n)
//! at worst. Peek, removal of any entry, popping a due entry and the
//! membership test are O(1). Nothing allocates.
//!
//! A pairing heap would make insertion O(1) and popping O(log n) amortised,
//! but needs a third link per entry, a sequence number to keep equal
//! deadlines FIFO, and gives no better worst case for a single operation.
//! The kernel expects tens of armed timers, and n is bounded by the objects
//! charged to user budgets; if a workload holds thousands, the structure can
//! be replaced behind this same interface.
//!
//! # Invariants
//!
//! For a [`TimerQueue`] with entries `e1 … en` (front to back):
//!
//! - `head == Some(e1)` and `tail == Some(en)`, or both are `None` and
//!   `len == 0` when the queue is empty; otherwise `len == n`;
//! - `links(ei).next == Some(ei+1)` and `links(ei+1).prev == Some(ei)`, and
//!   `links(e1).prev` and `links(en).next` are `None`;
//! - `deadline(ei) <= deadline(ei+1)`, and entries with equal deadlines are
//!   in the order they were inserted;
//! - `head_deadline == deadline(e1)` when the queue is not empty;
//! - `links(ei).queued` is true, and an entry in no queue has
//!   [`TimerLinks::unlinked`] links: every operation that takes an entry out
//!   resets them.
//!
//! An entry is in at most one timer queue at a time. The `queued` flag makes
//! membership testable and removal idempotent (a timeout that fired and a
//! wake-up that cancels it may both try to take the thread out), but it
//! cannot tell two timer queues apart: with several queues over the same
//! store, which one holds an entry is the caller's knowledge.

/// The timer links of one entry, kept inside the entry (the thread or
/// notification object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerLinks<T> {
    /// The entry before this one (an earlier or equal deadline), or `None`
    /// at the front or when not queued.
    pub prev: Option<T>,
    /// The entry after this one (a later or equal deadline), or `None` at
    /// the back or when not queued.
    pub next: Option<T>,
    /// When the entry is due, in nanoseconds; `0` when not queued.
    pub deadline: u64,
    /// Whether the entry is in a timer queue.
    pub queued: bool,
}

impl<T> TimerLinks<T> {
    /// The links of an entry that is in no queue.
    pub const fn unlinked() -> Self {
        Self {
            prev: None,
            next: None,
            deadline: 0,
            queued: false,
        }
    }
}

impl<T> Default for TimerLinks<T> {
    /// [`TimerLinks::unlinked`].
    fn default() -> Self {
        Self::unlinked()
    }
}

/// Where the entries' timer links live (in the kernel: inside the thread
/// and notification objects).
pub trait TimerStore<T: Copy + Eq> {
    /// The current timer links of `id`.
    fn timer_links(&self, id: T) -> TimerLinks<T>;
    /// Overwrites the timer links of `id`.
    fn set_timer_links(&mut self, id: T, links: TimerLinks<T>);
}

/// Updates only the `prev` link of `id`.
fn set_prev<T: Copy + Eq, S: TimerStore<T>>(store: &mut S, id: T, prev: Option<T>) {
    let links = store.timer_links(id);
    store.set_timer_links(id, TimerLinks { prev, ..links });
}

/// Updates only the `next` link of `id`.
fn set_next<T: Copy + Eq, S: TimerStore<T>>(store: &mut S, id: T, next: Option<T>) {
    let links = store.timer_links(id);
    store.set_timer_links(id, TimerLinks { next, ..links });
}

/// Intrusive queue of deadlines, earliest first (see the module
/// documentation for the invariants and costs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerQueue<T> {
    /// The entry with the earliest deadline, `None` iff the queue is empty.
    head: Option<T>,
    /// The entry with the latest deadline, `None` iff the queue is empty.
    tail: Option<T>,
    /// The deadline of `head`, cached so that peeking needs no store;
    /// meaningless when the queue is empty.
    head_deadline: u64,
    /// Number of queued entries.
    len: usize,
}

impl<T: Copy + Eq> Default for TimerQueue<T> {
    /// [`TimerQueue::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Eq> TimerQueue<T> {
    /// An empty queue (`const`, for use in a `static`).
    pub const fn new() -> Self {
        Self {
            head: None,
            tail: None,
            head_deadline: 0,
            len: 0,
        }
    }

    /// Whether no entry is queued.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Number of queued entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The entry with the earliest deadline and that deadline, if any: what
    /// the one-shot timer should be programmed for. O(1), without the store.
    pub fn peek(&self) -> Option<(T, u64)> {
        self.head.map(|id| (id, self.head_deadline))
    }

    /// The earliest deadline, if any entry is queued. O(1).
    pub fn next_deadline(&self) -> Option<u64> {
        self.peek().map(|(_, deadline)| deadline)
    }

    /// Whether `id` is queued (in this queue, given that an entry is in at
    /// most one). O(1).
    pub fn is_queued<S: TimerStore<T>>(&self, store: &S, id: T) -> bool {
        store.timer_links(id).queued
    }

    /// The deadline of `id` if it is queued. O(1).
    pub fn deadline_of<S: TimerStore<T>>(&self, store: &S, id: T) -> Option<u64> {
        let links = store.timer_links(id);
        links.queued.then_some(links.deadline)
    }

    /// Queues `id` to be due at `deadline` (nanoseconds): after every entry
    /// whose deadline is `<= deadline`, before the first later one.
    /// O(1 + entries with a later deadline).
    ///
    /// # Panics
    ///
    /// If `id` is already queued: re-arming is [`TimerQueue::remove`] then
    /// `insert`, so that a caller never moves a timer it forgot it had.
    pub fn insert<S: TimerStore<T>>(&mut self, store: &mut S, id: T, deadline: u64) {
        if store.timer_links(id).queued {
            already_queued();
        }
        // Walk from the back: new deadlines are usually the latest, and
        // stopping at the first entry that is not later keeps equal
        // deadlines in FIFO order.
        let mut after = self.tail;
        while let Some(current) = after {
            let links = store.timer_links(current);
            if links.deadline <= deadline {
                break;
            }
            after = links.prev;
        }
        let next = match after {
            Some(after) => store.timer_links(after).next,
            None => self.head,
        };
        store.set_timer_links(
            id,
            TimerLinks {
                prev: after,
                next,
                deadline,
                queued: true,
            },
        );
        match after {
            Some(after) => set_next(store, after, Some(id)),
            None => {
                self.head = Some(id);
                self.head_deadline = deadline;
            }
        }
        match next {
            Some(next) => set_prev(store, next, Some(id)),
            None => self.tail = Some(id),
        }
        self.len += 1;
    }

    /// Takes `id` out if it is queued, resetting its links to
    /// [`TimerLinks::unlinked`]; returns whether it was queued. Removing an
    /// entry that is not queued does nothing, so cancelling a timeout that
    /// already fired is harmless. O(1).
    ///
    /// # Panics
    ///
    /// If `id` is marked queued but is visibly not in this queue: it has no
    /// predecessor but is not the front, or no successor but is not the back.
    pub fn remove<S: TimerStore<T>>(&mut self, store: &mut S, id: T) -> bool {
        let links = store.timer_links(id);
        if !links.queued {
            return false;
        }
        // Check both ends before changing anything, so that a caller bug
        // panics without first corrupting the queue.
        if (links.prev.is_none() && self.head != Some(id))
            || (links.next.is_none() && self.tail != Some(id))
        {
            not_in_this_queue();
        }
        match links.prev {
            Some(prev) => set_next(store, prev, links.next),
            None => {
                self.head = links.next;
                if let Some(next) = links.next {
                    self.head_deadline = store.timer_links(next).deadline;
                }
            }
        }
        match links.next {
            Some(next) => set_prev(store, next, links.prev),
            None => self.tail = links.prev,
        }
        store.set_timer_links(id, TimerLinks::unlinked());
        self.len -= 1;
        true
    }

    /// Takes out the earliest entry if it is due at `now` (its deadline is
    /// `<= now`), with its deadline, resetting its links. O(1).
    ///
    /// Call it in a loop to fire everything due, earliest first:
    /// `while let Some((id, deadline)) = queue.pop_due(store, now) { … }`.
    /// The loop may use the store between calls; an entry re-inserted
    /// during the loop with a deadline `<= now` is popped again by the same
    /// loop, so a periodic timer must be re-armed for a deadline after
    /// `now`.
    pub fn pop_due<S: TimerStore<T>>(&mut self, store: &mut S, now: u64) -> Option<(T, u64)> {
        let (head, deadline) = self.peek()?;
        if deadline > now {
            return None;
        }
        self.remove(store, head);
        Some((head, deadline))
    }

    /// The entries and their deadlines, earliest first.
    ///
    /// The iterator reads the links as it goes, so the queue must not change
    /// while it is in use (the shared borrow of the store ensures it).
    pub fn iter<'a, S: TimerStore<T>>(
        &self,
        store: &'a S,
    ) -> impl Iterator<Item = (T, u64)> + use<'a, T, S> {
        core::iter::successors(self.head, move |&id| store.timer_links(id).next)
            .map(move |id| (id, store.timer_links(id).deadline))
    }
}

#[cold]
#[inline(never)]
fn already_queued() -> ! {
    panic!("TimerQueue::insert: entry is already queued")
}

#[cold]
#[inline(never)]
fn not_in_this_queue() -> ! {
    panic!("TimerQueue::remove: entry is not in this queue")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Timer links per entry; entry ids are indices.
    #[derive(Debug)]
    struct Store {
        links: Vec<TimerLinks<usize>>,
    }

    impl Store {
        fn new(count: usize) -> Self {
            Self {
                links: vec![TimerLinks::unlinked(); count],
            }
        }
    }

    impl TimerStore<usize> for Store {
        fn timer_links(&self, id: usize) -> TimerLinks<usize> {
            self.links[id]
        }
        fn set_timer_links(&mut self, id: usize, links: TimerLinks<usize>) {
            self.links[id] = links;
        }
    }

    /// Checks every invariant of the module header: `queue` holds exactly
    /// `expected` (id, deadline) front to back, with consistent links both
    /// ways, the cached head deadline and count, and unlinked links on every
    /// entry that is not queued.
    fn check(queue: &TimerQueue<usize>, store: &Store, expected: &[(usize, u64)]) {
        let forward: Vec<(usize, u64)> = queue.iter(store).collect();
        assert_eq!(forward, expected);
        assert_eq!(queue.len(), expected.len());
        assert_eq!(queue.is_empty(), expected.is_empty());
        assert_eq!(queue.peek(), expected.first().copied());
        assert_eq!(queue.next_deadline(), expected.first().map(|&(_, d)| d));
        assert_eq!(queue.tail, expected.last().map(|&(id, _)| id));
        for (index, &(id, deadline)) in expected.iter().enumerate() {
            let links = store.timer_links(id);
            let prev = index.checked_sub(1).map(|i| expected[i].0);
            let next = expected.get(index + 1).map(|&(id, _)| id);
            assert_eq!(
                links,
                TimerLinks {
                    prev,
                    next,
                    deadline,
                    queued: true
                },
                "links of {id}"
            );
            assert!(queue.is_queued(store, id));
            assert_eq!(queue.deadline_of(store, id), Some(deadline));
        }
        assert!(expected.windows(2).all(|pair| pair[0].1 <= pair[1].1));
        for id in 0..store.links.len() {
            if !expected.iter().any(|&(queued, _)| queued == id) {
                assert_eq!(store.links[id], TimerLinks::unlinked(), "links of {id}");
                assert!(!queue.is_queued(store, id));
                assert_eq!(queue.deadline_of(store, id), None);
            }
        }
    }

    #[test]
    fn links_default_is_unlinked() {
        let links: TimerLinks<usize> = TimerLinks::default();
        assert_eq!(links, TimerLinks::unlinked());
        assert!(!links.queued);
    }

    #[test]
    fn empty_queue() {
        let mut store = Store::new(1);
        let mut queue: TimerQueue<usize> = TimerQueue::default();
        check(&queue, &store, &[]);
        assert_eq!(queue.pop_due(&mut store, u64::MAX), None);
        assert!(!queue.remove(&mut store, 0));
        check(&queue, &store, &[]);
    }

    #[test]
    fn new_is_const() {
        static QUEUE: TimerQueue<usize> = TimerQueue::new();
        assert!(QUEUE.is_empty());
        assert_eq!(QUEUE.peek(), None);
    }

    #[test]
    fn inserts_sort_by_deadline_from_any_direction() {
        let mut store = Store::new(5);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 30);
        queue.insert(&mut store, 1, 10);
        queue.insert(&mut store, 2, 50);
        queue.insert(&mut store, 3, 20);
        queue.insert(&mut store, 4, 40);
        check(
            &queue,
            &store,
            &[(1, 10), (3, 20), (0, 30), (4, 40), (2, 50)],
        );
    }

    #[test]
    fn equal_deadlines_stay_fifo() {
        let mut store = Store::new(6);
        let mut queue = TimerQueue::new();
        for (id, deadline) in [(0, 7), (1, 3), (2, 7), (3, 3), (4, 7), (5, 3)] {
            queue.insert(&mut store, id, deadline);
        }
        check(
            &queue,
            &store,
            &[(1, 3), (3, 3), (5, 3), (0, 7), (2, 7), (4, 7)],
        );
        let fired: Vec<(usize, u64)> =
            core::iter::from_fn(|| queue.pop_due(&mut store, 7)).collect();
        assert_eq!(fired, [(1, 3), (3, 3), (5, 3), (0, 7), (2, 7), (4, 7)]);
        check(&queue, &store, &[]);
    }

    #[test]
    fn deadline_zero_is_due_at_once_and_goes_first() {
        let mut store = Store::new(3);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 5);
        queue.insert(&mut store, 1, 0);
        queue.insert(&mut store, 2, 0);
        check(&queue, &store, &[(1, 0), (2, 0), (0, 5)]);
        assert_eq!(queue.pop_due(&mut store, 0), Some((1, 0)));
        assert_eq!(queue.pop_due(&mut store, 0), Some((2, 0)));
        assert_eq!(queue.pop_due(&mut store, 0), None);
        check(&queue, &store, &[(0, 5)]);
    }

    #[test]
    fn deadline_max_is_due_only_at_max() {
        let mut store = Store::new(3);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, u64::MAX);
        queue.insert(&mut store, 1, u64::MAX - 1);
        queue.insert(&mut store, 2, u64::MAX);
        check(
            &queue,
            &store,
            &[(1, u64::MAX - 1), (0, u64::MAX), (2, u64::MAX)],
        );
        assert_eq!(queue.pop_due(&mut store, u64::MAX - 2), None);
        assert_eq!(
            queue.pop_due(&mut store, u64::MAX - 1),
            Some((1, u64::MAX - 1))
        );
        assert_eq!(queue.pop_due(&mut store, u64::MAX - 1), None);
        assert_eq!(queue.pop_due(&mut store, u64::MAX), Some((0, u64::MAX)));
        assert_eq!(queue.pop_due(&mut store, u64::MAX), Some((2, u64::MAX)));
        check(&queue, &store, &[]);
    }

    #[test]
    fn removing_the_head_updates_the_earliest_deadline() {
        let mut store = Store::new(3);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 10);
        queue.insert(&mut store, 1, 20);
        queue.insert(&mut store, 2, 30);
        assert!(queue.remove(&mut store, 0));
        check(&queue, &store, &[(1, 20), (2, 30)]);
        assert_eq!(queue.next_deadline(), Some(20));
        assert!(queue.remove(&mut store, 2));
        check(&queue, &store, &[(1, 20)]);
        assert!(queue.remove(&mut store, 1));
        check(&queue, &store, &[]);
        assert_eq!(queue.next_deadline(), None);
    }

    #[test]
    fn removing_twice_is_harmless() {
        let mut store = Store::new(2);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 1);
        queue.insert(&mut store, 1, 2);
        assert!(queue.remove(&mut store, 1));
        assert!(!queue.remove(&mut store, 1));
        check(&queue, &store, &[(0, 1)]);
    }

    #[test]
    fn removing_a_due_entry_keeps_it_from_firing() {
        let mut store = Store::new(4);
        let mut queue = TimerQueue::new();
        for id in 0..4 {
            queue.insert(&mut store, id, 10 * id as u64);
        }
        // All of 0, 1 and 2 are due at 25; cancel 1 (a woken thread) and
        // then 0 (the head) before the interrupt handler gets to them.
        assert!(queue.remove(&mut store, 1));
        assert!(queue.remove(&mut store, 0));
        assert_eq!(queue.pop_due(&mut store, 25), Some((2, 20)));
        assert_eq!(queue.pop_due(&mut store, 25), None);
        check(&queue, &store, &[(3, 30)]);
    }

    #[test]
    fn pop_due_leaves_later_entries_and_allows_re_arming() {
        let mut store = Store::new(3);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 100);
        queue.insert(&mut store, 1, 200);
        queue.insert(&mut store, 2, 300);
        let now = 250;
        let mut fired = Vec::new();
        while let Some((id, deadline)) = queue.pop_due(&mut store, now) {
            fired.push(id);
            // A periodic timer re-armed one period on, after `now`.
            if id == 0 {
                queue.insert(&mut store, id, deadline + 1000);
            }
        }
        assert_eq!(fired, [0, 1]);
        check(&queue, &store, &[(2, 300), (0, 1100)]);
    }

    #[test]
    fn re_inserting_after_removal_goes_behind_equals() {
        let mut store = Store::new(3);
        let mut queue = TimerQueue::new();
        for id in 0..3 {
            queue.insert(&mut store, id, 5);
        }
        assert!(queue.remove(&mut store, 0));
        queue.insert(&mut store, 0, 5);
        check(&queue, &store, &[(1, 5), (2, 5), (0, 5)]);
    }

    #[test]
    #[should_panic(expected = "already queued")]
    fn inserting_a_queued_entry_panics() {
        let mut store = Store::new(1);
        let mut queue = TimerQueue::new();
        queue.insert(&mut store, 0, 1);
        queue.insert(&mut store, 0, 2);
    }

    #[test]
    #[should_panic(expected = "not in this queue")]
    fn removing_an_entry_of_another_queue_panics() {
        let mut store = Store::new(2);
        let mut mine = TimerQueue::new();
        let mut other = TimerQueue::new();
        mine.insert(&mut store, 0, 1);
        other.insert(&mut store, 1, 1);
        mine.remove(&mut store, 1);
    }

    /// One step of the model test. Indices pick among all entries, queued or
    /// not, so that inserting a queued entry (skipped: it would panic) and
    /// removing an unqueued one (a no-op) are both generated.
    #[derive(Clone, Debug)]
    enum Op {
        Insert(prop::sample::Index, u64),
        Remove(prop::sample::Index),
        PopDue(u64),
    }

    /// A time: mostly from a small set, so that equal deadlines and the
    /// extremes come up often, and sometimes anything.
    fn time() -> impl Strategy<Value = u64> {
        prop_oneof![
            3 => prop::sample::select(vec![0u64, 1, 2, 5, 9, u64::MAX - 1, u64::MAX]),
            2 => 0u64..12,
            1 => any::<u64>(),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<prop::sample::Index>(), time()).prop_map(|(i, d)| Op::Insert(i, d)),
            2 => any::<prop::sample::Index>().prop_map(Op::Remove),
            2 => time().prop_map(Op::PopDue),
        ]
    }

    const ENTRIES: usize = 16;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The queue against a vector of (deadline, insertion sequence, id)
        /// kept sorted: the order the header promises.
        #[test]
        fn matches_a_sorted_vec_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut store = Store::new(ENTRIES);
            let mut queue = TimerQueue::new();
            let mut model: Vec<(u64, u64, usize)> = Vec::new();
            let mut sequence = 0u64;
            let all: Vec<usize> = (0..ENTRIES).collect();
            for op in ops {
                match op {
                    Op::Insert(index, deadline) => {
                        let id = *index.get(&all);
                        if model.iter().any(|&(_, _, queued)| queued == id) {
                            continue;
                        }
                        queue.insert(&mut store, id, deadline);
                        model.push((deadline, sequence, id));
                        model.sort_unstable();
                        sequence += 1;
                    }
                    Op::Remove(index) => {
                        let id = *index.get(&all);
                        let was_queued = model.iter().any(|&(_, _, queued)| queued == id);
                        model.retain(|&(_, _, queued)| queued != id);
                        prop_assert_eq!(queue.remove(&mut store, id), was_queued);
                    }
                    Op::PopDue(now) => {
                        let mut expected = Vec::new();
                        while model.first().is_some_and(|&(deadline, _, _)| deadline <= now) {
                            let (deadline, _, id) = model.remove(0);
                            expected.push((id, deadline));
                        }
                        let got: Vec<(usize, u64)> =
                            core::iter::from_fn(|| queue.pop_due(&mut store, now)).collect();
                        prop_assert_eq!(got, expected);
                    }
                }
                let expected: Vec<(usize, u64)> =
                    model.iter().map(|&(deadline, _, id)| (id, deadline)).collect();
                check(&queue, &store, &expected);
            }
        }
    }
}
