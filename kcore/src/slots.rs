//! Which slots of a capability space are in use: a fixed-size bitmap with a
//! free-slot hint.
//!
//! The kernel keeps one [`SlotBitmap`] per capability space, next to the
//! slots themselves, and asks it for a free slot when a syscall creates a
//! capability without naming the destination ([`SlotBitmap::alloc`]), or
//! marks a slot the caller named ([`SlotBitmap::claim`]). Deleting a
//! capability releases its slot ([`SlotBitmap::release`]).
//!
//! # Invariants
//!
//! - Slots `1..limit` are usable. Slot 0 is the null slot: never handed out,
//!   never claimable, never counted as used.
//! - Bit `s % 64` of word `s / 64` is set iff slot `s` is used, or `s == 0`,
//!   or `s >= limit`: the null slot and the slots past the limit look used,
//!   so the word scan in `alloc` can never return them.
//! - `used` is the number of used slots in `1..limit`.
//! - Every slot below `hint` is set (used, null or past the limit), so
//!   `alloc` starts its scan at `hint` and never rescans full words in front
//!   of it. `hint <= CAPACITY`.

/// Bits per storage word.
const WORD_BITS: u32 = u64::BITS;

/// A bitmap of the used slots `1..limit` of one capability space; slot 0 is
/// never handed out or claimable.
///
/// `WORDS` sets the storage: [`SlotBitmap::CAPACITY`] is `64 * WORDS` slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotBitmap<const WORDS: usize> {
    /// Bit per slot, set = used (also set for slot 0 and slots `>= limit`).
    words: [u64; WORDS],
    /// Slots `1..limit` are usable; `limit <= CAPACITY`.
    limit: u32,
    /// Number of used slots in `1..limit`.
    used: u32,
    /// Lowest slot that may be free: every slot below it is set.
    hint: u32,
}

impl<const WORDS: usize> SlotBitmap<WORDS> {
    /// Number of slots the storage covers, including slot 0.
    pub const CAPACITY: u32 = {
        assert!(
            WORDS <= (u32::MAX / WORD_BITS) as usize,
            "SlotBitmap: too many words for u32 slot numbers"
        );
        // Checked just above: the product fits in a `u32`.
        (WORDS * WORD_BITS as usize) as u32
    };

    /// An empty bitmap with slots `1..limit` usable; `limit` is clamped to
    /// [`SlotBitmap::CAPACITY`].
    pub const fn new(limit: u32) -> Self {
        let limit = if limit < Self::CAPACITY {
            limit
        } else {
            Self::CAPACITY
        };
        let mut words = [0u64; WORDS];
        // Mark every slot at or past the limit as used, a word at a time.
        let mut index = 0;
        while index < WORDS {
            // `index < WORDS`, and `WORDS * 64` fits in a `u32` (CAPACITY).
            let first = index as u32 * WORD_BITS;
            words[index] = if limit <= first {
                u64::MAX
            } else if limit - first >= WORD_BITS {
                0
            } else {
                // Bits `limit - first ..` of this word are past the limit.
                u64::MAX << (limit - first)
            };
            index += 1;
        }
        if WORDS > 0 {
            // The null slot.
            words[0] |= 1;
        }
        Self {
            words,
            limit,
            used: 0,
            hint: 0,
        }
    }

    /// Slots `1..limit` are usable.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Number of used slots (slot 0 does not count).
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Whether `slot` is used; `false` for slot 0 and for slots at or past
    /// the limit.
    pub fn is_used(&self, slot: u32) -> bool {
        match self.locate(slot) {
            Some((index, mask)) => self.words[index] & mask != 0,
            None => false,
        }
    }

    /// The lowest used slot at or above `from` in `1..limit`, if any
    /// (skips empty words, so a sparse space is walked in a few steps).
    pub fn next_used(&self, from: u32) -> Option<u32> {
        let from = from.max(1);
        if from >= self.limit {
            return None;
        }
        let mut index = (from / WORD_BITS) as usize;
        // Bits below `from` in its word do not count.
        let mut word = self.words[index] & (u64::MAX << (from % WORD_BITS));
        loop {
            // Slot 0's bit is set but `from >= 1` masked it; bits past the
            // limit are set, so check the slot against the limit.
            if word != 0 {
                // `index < WORDS`, so the slot is below CAPACITY.
                let slot = index as u32 * WORD_BITS + word.trailing_zeros();
                return (slot < self.limit).then_some(slot);
            }
            index += 1;
            if index >= WORDS {
                return None;
            }
            word = self.words[index];
        }
    }

    /// The lowest free slot, now marked used; `None` when all of
    /// `1..limit` are used.
    ///
    /// Starts at the hint and skips full words, so a run of allocations
    /// without releases scans each word once in total.
    pub fn alloc(&mut self) -> Option<u32> {
        let first_word = (self.hint / WORD_BITS) as usize;
        for index in first_word..WORDS {
            let word = self.words[index];
            if word == u64::MAX {
                continue;
            }
            // The lowest clear bit. Bits below the hint are set, so this is
            // the lowest free slot overall. Slots past the limit are set, so
            // it is below the limit.
            let bit = word.trailing_ones();
            self.words[index] = word | (1 << bit);
            self.used += 1;
            // `index < WORDS`: the slot is below CAPACITY, so no overflow.
            let slot = index as u32 * WORD_BITS + bit;
            self.hint = slot + 1;
            return Some(slot);
        }
        self.hint = Self::CAPACITY;
        None
    }

    /// Marks the named `slot` used; `false` (and no change) if it is 0, at
    /// or past the limit, or already used.
    pub fn claim(&mut self, slot: u32) -> bool {
        let Some((index, mask)) = self.locate(slot) else {
            return false;
        };
        if self.words[index] & mask != 0 {
            return false;
        }
        self.words[index] |= mask;
        self.used += 1;
        true
    }

    /// Frees `slot`; `false` (and no change) if it is 0, at or past the
    /// limit, or not used.
    pub fn release(&mut self, slot: u32) -> bool {
        let Some((index, mask)) = self.locate(slot) else {
            return false;
        };
        if self.words[index] & mask == 0 {
            return false;
        }
        self.words[index] &= !mask;
        self.used -= 1;
        self.hint = self.hint.min(slot);
        true
    }

    /// The word index and bit mask of a usable `slot` (`1..limit`), or
    /// `None` for slot 0 and slots at or past the limit.
    fn locate(&self, slot: u32) -> Option<(usize, u64)> {
        if slot == 0 || slot >= self.limit {
            return None;
        }
        Some(((slot / WORD_BITS) as usize, 1 << (slot % WORD_BITS)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn capacity_and_clamping() {
        assert_eq!(SlotBitmap::<0>::CAPACITY, 0);
        assert_eq!(SlotBitmap::<4>::CAPACITY, 256);
        assert_eq!(SlotBitmap::<4>::new(1000).limit(), 256);
        assert_eq!(SlotBitmap::<4>::new(100).limit(), 100);
    }

    #[test]
    fn zero_words_has_no_slots() {
        let mut slots = SlotBitmap::<0>::new(10);
        assert_eq!(slots.alloc(), None);
        assert!(!slots.claim(0));
        assert!(!slots.is_used(0));
        assert_eq!(slots.used(), 0);
    }

    #[test]
    fn limits_zero_and_one_have_no_slots() {
        for limit in [0, 1] {
            let mut slots = SlotBitmap::<2>::new(limit);
            assert_eq!(slots.alloc(), None);
            assert!(!slots.claim(1));
            assert!(!slots.release(1));
        }
    }

    #[test]
    fn alloc_skips_slot_zero_and_counts() {
        let mut slots = SlotBitmap::<2>::new(128);
        assert!(!slots.is_used(0));
        assert_eq!(slots.alloc(), Some(1));
        assert_eq!(slots.alloc(), Some(2));
        assert_eq!(slots.used(), 2);
        assert!(slots.is_used(1));
        assert!(!slots.is_used(3));
        assert!(!slots.is_used(0));
    }

    #[test]
    fn alloc_fills_up_to_the_limit() {
        let mut slots = SlotBitmap::<2>::new(70);
        let got: Vec<u32> = core::iter::from_fn(|| slots.alloc()).collect();
        assert_eq!(got, (1..70).collect::<Vec<u32>>());
        assert_eq!(slots.used(), 69);
        assert_eq!(slots.alloc(), None);
        assert!(!slots.is_used(70));
        assert!(!slots.claim(70));
    }

    #[test]
    fn claim_and_release() {
        let mut slots = SlotBitmap::<1>::new(64);
        assert!(!slots.claim(0));
        assert!(slots.claim(5));
        assert!(!slots.claim(5));
        assert!(!slots.claim(64));
        assert_eq!(slots.used(), 1);
        assert_eq!(slots.alloc(), Some(1));
        assert!(slots.release(5));
        assert!(!slots.release(5));
        assert!(!slots.release(0));
        assert!(!slots.release(64));
        assert_eq!(slots.used(), 1);
    }

    #[test]
    fn release_lowers_the_hint() {
        let mut slots = SlotBitmap::<4>::new(256);
        for _ in 1..200 {
            slots.alloc();
        }
        assert!(slots.release(3));
        assert!(slots.release(150));
        assert_eq!(slots.alloc(), Some(3));
        assert_eq!(slots.alloc(), Some(150));
        assert_eq!(slots.alloc(), Some(200));
    }

    #[test]
    fn alloc_after_claims_below_the_hint() {
        let mut slots = SlotBitmap::<2>::new(128);
        for slot in 1..64 {
            assert!(slots.claim(slot));
        }
        assert_eq!(slots.alloc(), Some(64));
    }

    #[test]
    fn next_used_walks_the_used_slots_only() {
        let mut slots = SlotBitmap::<4>::new(200);
        assert_eq!(slots.next_used(0), None);
        for slot in [1, 63, 64, 130, 199] {
            assert!(slots.claim(slot));
        }
        let mut seen = Vec::new();
        let mut at = slots.next_used(0);
        while let Some(slot) = at {
            seen.push(slot);
            at = slots.next_used(slot + 1);
        }
        assert_eq!(seen, [1, 63, 64, 130, 199]);
        assert_eq!(slots.next_used(200), None);
        assert_eq!(slots.next_used(u32::MAX), None);
    }

    #[test]
    fn new_is_const() {
        static SLOTS: SlotBitmap<2> = SlotBitmap::new(100);
        assert_eq!(SLOTS.limit(), 100);
        assert_eq!(SLOTS.used(), 0);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Alloc,
        Claim(u32),
        Release(u32),
    }

    fn op(limit: u32) -> impl Strategy<Value = Op> {
        // Slots around and past the limit, and 0.
        let slot = 0..limit + 70;
        prop_oneof![
            4 => Just(Op::Alloc),
            2 => slot.clone().prop_map(Op::Claim),
            3 => slot.prop_map(Op::Release),
        ]
    }

    fn scenario() -> impl Strategy<Value = (u32, Vec<Op>)> {
        prop_oneof![
            (0u32..300),
            prop::sample::select(vec![0u32, 1, 63, 64, 65, 128, 192, 256, 1000]),
        ]
        .prop_flat_map(|limit| (Just(limit), proptest::collection::vec(op(limit), 0..400)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn matches_a_set_model((limit, ops) in scenario()) {
            let mut slots = SlotBitmap::<4>::new(limit);
            let limit = limit.min(SlotBitmap::<4>::CAPACITY);
            prop_assert_eq!(slots.limit(), limit);
            let mut model: BTreeSet<u32> = BTreeSet::new();
            let usable = |slot: u32| slot != 0 && slot < limit;
            for op in ops {
                match op {
                    Op::Alloc => {
                        let expected = (1..limit).find(|slot| !model.contains(slot));
                        prop_assert_eq!(slots.alloc(), expected);
                        if let Some(slot) = expected {
                            model.insert(slot);
                        }
                    }
                    Op::Claim(slot) => {
                        let expected = usable(slot) && model.insert(slot);
                        prop_assert_eq!(slots.claim(slot), expected);
                    }
                    Op::Release(slot) => {
                        let expected = usable(slot) && model.remove(&slot);
                        prop_assert_eq!(slots.release(slot), expected);
                    }
                }
                prop_assert_eq!(slots.used() as usize, model.len());
                prop_assert!(slots.hint <= SlotBitmap::<4>::CAPACITY);
            }
            for slot in 0..SlotBitmap::<4>::CAPACITY + 10 {
                prop_assert_eq!(slots.is_used(slot), model.contains(&slot));
                let next = model.range(slot.max(1)..).next().copied();
                prop_assert_eq!(slots.next_used(slot), next);
            }
        }
    }
}
