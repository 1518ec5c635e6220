//! Futex wait queues: threads waiting for a 32-bit word of user memory to
//! change, found again by the word's key when another thread wakes them.
//!
//! A key is the physical address of the word (the kernel finds it through
//! the caller's page tables), so two address spaces that map the same page
//! share their futexes, and a copy-on-write copy, which is another page,
//! does not. The table does not look inside keys except to take the page
//! number (`key >> 12`): waiters are hashed by page, so that every waiter
//! on one page is in one bucket and the kernel can find them all when the
//! page is copied or freed ([`FutexTable::rekey_page`],
//! [`FutexTable::pop_page`]).
//!
//! The table is a fixed array of buckets (no allocation), each an intrusive
//! [`List`] linked through the waiters' own [`crate::queue::Links`] (the
//! same links as their other wait queues: a thread waits in one place at a
//! time). A bucket is kept in priority order, FIFO among equal priorities,
//! over all the keys it holds; so the waiters of one key, read front to
//! back, are in priority order too, and [`FutexTable::pop`] takes the most
//! urgent one that has waited longest.
//!
//! # Invariants
//!
//! - every waiter is in the bucket of its key's page, and its key is the
//!   one its [`FutexStore`] reports;
//! - each bucket is sorted by priority, highest first, and among equal
//!   priorities by the order of insertion (a waiter moved to another key
//!   counts as inserted when it moves), provided priorities do not change
//!   while threads wait;
//! - `waiters` is the number of threads in all buckets.
//!
//! Costs: enqueueing walks the bucket past the waiters of equal or higher
//! priority; popping, removing by page and rekeying walk the bucket. Buckets
//! are short when keys spread over pages; the kernel expects tens of waiters.

use crate::queue::{LinkStore, List};

/// Where the waiters' links, keys and priorities live (in the kernel: the
/// thread objects, whose state holds the key).
pub trait FutexStore<Id: Copy + Eq>: LinkStore<Id> {
    /// The key `id` waits on (valid while it is in the table).
    fn key(&self, id: Id) -> u64;
    /// Records that `id` now waits on `key`.
    fn set_key(&mut self, id: Id, key: u64);
    /// Its priority (higher is more urgent).
    fn priority(&self, id: Id) -> u8;
}

/// Bits of a key below the page number.
pub const PAGE_SHIFT: u32 = 12;

/// The page number a key lies in.
pub const fn page_of(key: u64) -> u64 {
    key >> PAGE_SHIFT
}

/// The key at the same offset as `key`, in page `page`.
pub const fn in_page(key: u64, page: u64) -> u64 {
    (page << PAGE_SHIFT) | (key & ((1 << PAGE_SHIFT) - 1))
}

/// Threads waiting on futex keys, in `BUCKETS` buckets hashed by page.
#[derive(Clone, Debug)]
pub struct FutexTable<Id, const BUCKETS: usize> {
    buckets: [List<Id>; BUCKETS],
    waiters: usize,
}

impl<Id: Copy + Eq, const BUCKETS: usize> Default for FutexTable<Id, BUCKETS> {
    /// [`FutexTable::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<Id: Copy + Eq, const BUCKETS: usize> FutexTable<Id, BUCKETS> {
    /// An empty table (`const`, for the kernel's static state).
    pub const fn new() -> Self {
        assert!(BUCKETS > 0, "a futex table needs a bucket");
        Self {
            buckets: [List::new(); BUCKETS],
            waiters: 0,
        }
    }

    /// The bucket of a page: a multiplicative hash (Fibonacci hashing) of
    /// the page number.
    fn bucket_of_page(page: u64) -> usize {
        let mixed = page.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        (mixed % BUCKETS as u64) as usize
    }

    fn bucket(key: u64) -> usize {
        Self::bucket_of_page(page_of(key))
    }

    /// Number of waiting threads.
    pub fn len(&self) -> usize {
        self.waiters
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.waiters == 0
    }

    /// Queues `id` (in no list) as a waiter on `key`: behind every waiter
    /// of its bucket with an equal or higher priority.
    pub fn enqueue<S: FutexStore<Id>>(&mut self, store: &mut S, id: Id, key: u64) {
        store.set_key(id, key);
        let priority = store.priority(id);
        self.buckets[Self::bucket(key)]
            .insert_by_priority(store, id, priority, |s, t| s.priority(t));
        self.waiters += 1;
    }

    /// Takes the waiter `id` out (it must be in the table).
    ///
    /// # Panics
    /// If `id` is visibly not in its key's bucket (a kernel bug).
    pub fn remove<S: FutexStore<Id>>(&mut self, store: &mut S, id: Id) {
        let key = store.key(id);
        self.buckets[Self::bucket(key)].remove(store, id);
        self.waiters -= 1;
    }

    /// Takes out the first waiter on `key` (the most urgent, and of those
    /// the one that has waited longest), if any.
    #[inline]
    pub fn pop<S: FutexStore<Id>>(&mut self, store: &mut S, key: u64) -> Option<Id> {
        let bucket = &mut self.buckets[Self::bucket(key)];
        let front = bucket.front()?;
        // Usually the bucket's first waiter is the one.
        let id = if store.key(front) == key {
            bucket.pop_front(store);
            front
        } else {
            let id = bucket.iter(store).find(|&id| store.key(id) == key)?;
            bucket.remove(store, id);
            id
        };
        self.waiters -= 1;
        Some(id)
    }

    /// Moves up to `count` waiters from `from` to `to`, first ones first;
    /// each goes behind the waiters of `to` of equal or higher priority.
    /// Returns how many moved. `from` and `to` must differ.
    pub fn requeue<S: FutexStore<Id>>(
        &mut self,
        store: &mut S,
        from: u64,
        to: u64,
        count: u64,
    ) -> u64 {
        debug_assert_ne!(from, to);
        let mut moved = 0;
        while moved < count {
            let Some(id) = self.pop(store, from) else {
                break;
            };
            self.enqueue(store, id, to);
            moved += 1;
        }
        moved
    }

    /// Takes out the first waiter whose key lies in page `page`, if any
    /// (the page is going: the kernel wakes them one by one).
    pub fn pop_page<S: FutexStore<Id>>(&mut self, store: &mut S, page: u64) -> Option<Id> {
        let bucket = &mut self.buckets[Self::bucket_of_page(page)];
        let id = bucket
            .iter(store)
            .find(|&id| page_of(store.key(id)) == page)?;
        bucket.remove(store, id);
        self.waiters -= 1;
        Some(id)
    }

    /// The waiters on page `old` for which `moves` says yes move to the
    /// same offsets in page `new` (`new != old`), in their order; returns
    /// how many moved. The kernel uses it when a copy-on-write copy gives
    /// a memory object a new page: the waiters that see the page through
    /// that object follow it.
    pub fn rekey_page<S: FutexStore<Id>>(
        &mut self,
        store: &mut S,
        old: u64,
        new: u64,
        mut moves: impl FnMut(&S, Id) -> bool,
    ) -> usize {
        debug_assert_ne!(old, new);
        let index = Self::bucket_of_page(old);
        let mut moved = 0;
        let mut cursor = self.buckets[index].front();
        while let Some(id) = cursor {
            // Read before `id` moves. A moved waiter may land further on in
            // this same bucket, but its key is then in `new`, not `old`, so
            // the walk passes over it.
            cursor = store.links(id).next;
            let key = store.key(id);
            if page_of(key) != old || !moves(store, id) {
                continue;
            }
            self.buckets[index].remove(store, id);
            self.waiters -= 1;
            self.enqueue(store, id, in_page(key, new));
            moved += 1;
        }
        moved
    }

    /// The waiters on `key`, in the order [`FutexTable::pop`] takes them.
    ///
    /// The iterator reads the links as it goes, so the table must not
    /// change while it is in use (the shared borrow of the store ensures
    /// it).
    pub fn waiters_on<'a, S: FutexStore<Id>>(
        &self,
        store: &'a S,
        key: u64,
    ) -> impl Iterator<Item = Id> + use<'a, Id, S, BUCKETS> {
        self.buckets[Self::bucket(key)]
            .iter(store)
            .filter(move |&id| store.key(id) == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Links;
    use proptest::prelude::*;

    /// Links, keys and priorities per entry; ids are indices.
    #[derive(Debug)]
    struct Store {
        links: Vec<Links<usize>>,
        keys: Vec<u64>,
        priorities: Vec<u8>,
    }

    impl Store {
        fn new(priorities: &[u8]) -> Self {
            Self {
                links: vec![Links::unlinked(); priorities.len()],
                keys: vec![0; priorities.len()],
                priorities: priorities.to_vec(),
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

    impl FutexStore<usize> for Store {
        fn key(&self, id: usize) -> u64 {
            self.keys[id]
        }
        fn set_key(&mut self, id: usize, key: u64) {
            self.keys[id] = key;
        }
        fn priority(&self, id: usize) -> u8 {
            self.priorities[id]
        }
    }

    /// Two buckets only: keys of different pages share them.
    type Table = FutexTable<usize, 2>;

    const A: u64 = 0x1000;
    const B: u64 = 0x1004;
    const C: u64 = 0x2000;

    fn waiters(table: &Table, store: &Store, key: u64) -> Vec<usize> {
        table.waiters_on(store, key).collect()
    }

    #[test]
    fn pop_takes_priority_order_then_fifo() {
        let mut store = Store::new(&[1, 5, 1, 5, 3]);
        let mut table = Table::new();
        for id in 0..5 {
            table.enqueue(&mut store, id, A);
        }
        assert_eq!(table.len(), 5);
        assert_eq!(waiters(&table, &store, A), [1, 3, 4, 0, 2]);
        let popped: Vec<usize> = core::iter::from_fn(|| table.pop(&mut store, A)).collect();
        assert_eq!(popped, [1, 3, 4, 0, 2]);
        assert!(table.is_empty());
        assert!(store.links.iter().all(|l| *l == Links::unlinked()));
    }

    #[test]
    fn keys_in_one_bucket_stay_apart() {
        let mut store = Store::new(&[1, 2, 3, 4]);
        let mut table = Table::new();
        table.enqueue(&mut store, 0, A);
        table.enqueue(&mut store, 1, B);
        table.enqueue(&mut store, 2, C);
        table.enqueue(&mut store, 3, A);
        assert_eq!(table.pop(&mut store, B), Some(1));
        assert_eq!(table.pop(&mut store, B), None);
        assert_eq!(table.pop(&mut store, 0x3000), None);
        assert_eq!(waiters(&table, &store, A), [3, 0]);
        table.remove(&mut store, 3);
        assert_eq!(waiters(&table, &store, A), [0]);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn requeue_moves_first_waiters_behind_equals() {
        let mut store = Store::new(&[2, 2, 2, 2, 2]);
        let mut table = Table::new();
        for id in 0..3 {
            table.enqueue(&mut store, id, A);
        }
        table.enqueue(&mut store, 3, C);
        assert_eq!(table.requeue(&mut store, A, C, 2), 2);
        assert_eq!(waiters(&table, &store, A), [2]);
        assert_eq!(waiters(&table, &store, C), [3, 0, 1]);
        assert_eq!(table.requeue(&mut store, A, C, 5), 1);
        assert_eq!(table.requeue(&mut store, A, C, 5), 0);
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn pop_page_finds_every_offset() {
        let mut store = Store::new(&[1, 1, 1]);
        let mut table = Table::new();
        table.enqueue(&mut store, 0, A);
        table.enqueue(&mut store, 1, C);
        table.enqueue(&mut store, 2, B);
        let mut gone: Vec<usize> =
            core::iter::from_fn(|| table.pop_page(&mut store, page_of(A))).collect();
        gone.sort_unstable();
        assert_eq!(gone, [0, 2]);
        assert_eq!(table.len(), 1);
        assert_eq!(waiters(&table, &store, C), [1]);
    }

    #[test]
    fn rekey_moves_the_chosen_waiters_to_the_new_page() {
        let mut store = Store::new(&[1, 1, 1, 1]);
        let mut table = Table::new();
        table.enqueue(&mut store, 0, A);
        table.enqueue(&mut store, 1, B);
        table.enqueue(&mut store, 2, A);
        table.enqueue(&mut store, 3, C);
        // Every page maps to one of two buckets: pages 1 and 3 may share one.
        let moved = table.rekey_page(&mut store, 1, 3, |_, id| id != 2);
        assert_eq!(moved, 2);
        assert_eq!(waiters(&table, &store, A), [2]);
        assert_eq!(waiters(&table, &store, 0x3000), [0]);
        assert_eq!(waiters(&table, &store, 0x3004), [1]);
        assert_eq!(waiters(&table, &store, C), [3]);
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn key_helpers() {
        assert_eq!(page_of(0x1234_5678), 0x12345);
        assert_eq!(in_page(0x1234_5678, 7), 0x7678);
    }

    /// One step of the model test; indices pick among all entries, so that
    /// operations on waiting and idle entries both come up.
    #[derive(Clone, Debug)]
    enum Op {
        Enqueue(prop::sample::Index, u64),
        Remove(prop::sample::Index),
        Pop(u64),
        Requeue(u64, u64, u64),
        PopPage(u64),
        Rekey(u64, u64, u64),
    }

    /// Keys on a few pages (several share a bucket), at a few offsets.
    fn key() -> impl Strategy<Value = u64> {
        (0u64..5, 0u64..3).prop_map(|(page, word)| (page << PAGE_SHIFT) | (word * 4))
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (any::<prop::sample::Index>(), key()).prop_map(|(i, k)| Op::Enqueue(i, k)),
            1 => any::<prop::sample::Index>().prop_map(Op::Remove),
            2 => key().prop_map(Op::Pop),
            1 => (key(), key(), 0u64..4).prop_map(|(f, t, c)| Op::Requeue(f, t, c)),
            1 => (0u64..5).prop_map(Op::PopPage),
            1 => (0u64..5, 0u64..5, any::<u64>()).prop_map(|(o, n, m)| Op::Rekey(o, n, m)),
        ]
    }

    const ENTRIES: usize = 12;

    /// A waiter in the model: (key, priority, sequence, id).
    type Entry = (u64, u8, u64, usize);

    /// The model's waiters on `key` in pop order.
    fn model_waiters(model: &[Entry], key: u64) -> Vec<usize> {
        let mut on: Vec<&Entry> = model.iter().filter(|e| e.0 == key).collect();
        on.sort_by_key(|e| (core::cmp::Reverse(e.1), e.2));
        on.into_iter().map(|e| e.3).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The table against a list of (key, priority, sequence, id): per
        /// key, waiters come out by priority and then sequence.
        #[test]
        fn matches_a_model(
            priorities in proptest::collection::vec(0u8..4, ENTRIES),
            ops in proptest::collection::vec(op(), 0..150),
        ) {
            let mut store = Store::new(&priorities);
            let mut table: FutexTable<usize, 3> = FutexTable::new();
            let mut model: Vec<Entry> = Vec::new();
            let mut sequence = 0u64;
            let all: Vec<usize> = (0..ENTRIES).collect();
            for op in ops {
                match op {
                    Op::Enqueue(index, key) => {
                        let id = *index.get(&all);
                        if model.iter().any(|e| e.3 == id) {
                            continue;
                        }
                        table.enqueue(&mut store, id, key);
                        model.push((key, priorities[id], sequence, id));
                        sequence += 1;
                    }
                    Op::Remove(index) => {
                        let id = *index.get(&all);
                        if let Some(at) = model.iter().position(|e| e.3 == id) {
                            model.remove(at);
                            table.remove(&mut store, id);
                        }
                    }
                    Op::Pop(key) => {
                        let expected = model_waiters(&model, key).first().copied();
                        model.retain(|e| Some(e.3) != expected);
                        prop_assert_eq!(table.pop(&mut store, key), expected);
                    }
                    Op::Requeue(from, to, count) => {
                        if from == to {
                            continue;
                        }
                        let order = model_waiters(&model, from);
                        let moving = &order[..order.len().min(count as usize)];
                        for &id in moving {
                            let entry = model.iter_mut().find(|e| e.3 == id).unwrap();
                            entry.0 = to;
                            entry.2 = sequence;
                            sequence += 1;
                        }
                        prop_assert_eq!(
                            table.requeue(&mut store, from, to, count),
                            moving.len() as u64
                        );
                    }
                    Op::PopPage(page) => {
                        let mut expected: Vec<usize> = model
                            .iter()
                            .filter(|e| page_of(e.0) == page)
                            .map(|e| e.3)
                            .collect();
                        let mut got: Vec<usize> =
                            core::iter::from_fn(|| table.pop_page(&mut store, page)).collect();
                        expected.sort_unstable();
                        got.sort_unstable();
                        model.retain(|e| page_of(e.0) != page);
                        prop_assert_eq!(got, expected);
                    }
                    Op::Rekey(old, new, mask) => {
                        if old == new {
                            continue;
                        }
                        let chosen = |id: usize| mask >> id & 1 == 1;
                        // They move in bucket order: priority, then sequence.
                        let mut moving: Vec<Entry> = model
                            .iter()
                            .filter(|e| page_of(e.0) == old && chosen(e.3))
                            .copied()
                            .collect();
                        moving.sort_by_key(|e| (core::cmp::Reverse(e.1), e.2));
                        for moved in &moving {
                            let entry = model.iter_mut().find(|e| e.3 == moved.3).unwrap();
                            entry.0 = in_page(entry.0, new);
                            entry.2 = sequence;
                            sequence += 1;
                        }
                        let count = table.rekey_page(&mut store, old, new, |_, id| chosen(id));
                        prop_assert_eq!(count, moving.len());
                    }
                }
                prop_assert_eq!(table.len(), model.len());
                for page in 0..5u64 {
                    for word in 0..3u64 {
                        let key = (page << PAGE_SHIFT) | (word * 4);
                        let got: Vec<usize> = table.waiters_on(&store, key).collect();
                        prop_assert_eq!(got, model_waiters(&model, key));
                    }
                }
                for id in 0..ENTRIES {
                    if !model.iter().any(|e| e.3 == id) {
                        prop_assert_eq!(store.links[id], Links::unlinked());
                    }
                }
            }
        }
    }
}
