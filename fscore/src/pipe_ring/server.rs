//! The pipe server's side of a direct pipe's ring, over any
//! [`RingWords`] (the server's mapping in `servers/pipe/src/direct.rs`,
//! loom's in `fscore/tests/pipe_loom.rs`).
//!
//! The server touches only the header's words, with single atomic
//! operations that never wait: it sets the flags when the last reader or
//! writer goes (or one comes back) and wakes every sleeper
//! ([`set_ends`]), frees the lock of an end that went while holding it
//! ([`release`]), and reads the indices for `stat` ([`held_now`]). It
//! never reads an index to decide anything else, so whatever an end
//! writes there, the server neither blocks nor panics.

use super::memory::{RingWords, Wake};
use super::{NO_READERS, NO_WRITERS, holder, word};

/// Tells the ends how many of each side are open: sets `NO_WRITERS` and
/// `NO_READERS` as the counts say and, if the flags changed, wakes
/// everyone who waits (a reader then finds the end of the file, a writer
/// `BrokenPipe`).
pub fn set_ends<W: RingWords + ?Sized>(ring: &W, readers: u32, writers: u32) {
    let mut flags = 0;
    if readers == 0 {
        flags |= NO_READERS;
    }
    if writers == 0 {
        flags |= NO_WRITERS;
    }
    if ring.swap(word::FLAGS, flags) != flags {
        wake_sleepers(ring);
    }
}

/// Compare-and-swaps [`release`] tries: an end that waits for the lock
/// changes the word once (it sets `CONTENDED`) while the holder is gone,
/// so two always do; a hostile end rewriting the word faster than that
/// only leaves its own pipe's lock held, and never makes the server spin.
const RELEASE_TRIES: usize = 4;

/// Frees the lock if the end with lock id `id` holds it (it closed or
/// died inside the ring), and wakes who waits for it and every sleeper:
/// whatever the end was doing is abandoned, so they look again.
///
/// A waiter may set `CONTENDED` between the load and the
/// compare-and-swap; the swap then fails and is tried again with the
/// word it found (once it tried only once: that waiter, and every end
/// after it, slept forever on a lock nobody held; found by
/// `fscore/tests/pipe_loom.rs`, `the_server_frees_a_dead_holders_lock`).
pub fn release<W: RingWords + ?Sized>(ring: &W, id: u32) {
    let mut value = ring.load(word::LOCK);
    for _ in 0..RELEASE_TRIES {
        if value == 0 || holder(value) != id {
            return;
        }
        match ring.compare_exchange(word::LOCK, value, 0) {
            Ok(_) => {
                ring.futex_wake(word::LOCK, Wake::All);
                wake_sleepers(ring);
                return;
            }
            Err(now) => value = now,
        }
    }
}

/// Bumps both sequence words and wakes all their sleepers: every read
/// and write that waits looks at the ring again.
pub fn wake_sleepers<W: RingWords + ?Sized>(ring: &W) {
    for seq in [word::DATA_SEQ, word::SPACE_SEQ] {
        ring.fetch_add(seq, 1);
        ring.futex_wake(seq, Wake::All);
    }
}

/// The bytes the ring holds, for `stat` (0 if its indices are broken).
pub fn held_now<W: RingWords + ?Sized>(ring: &W) -> u32 {
    let head = ring.load(word::HEAD);
    let tail = ring.load(word::TAIL);
    super::held(head, tail).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe_ring::CONTENDED;
    use core::cell::Cell;

    /// Header words in cells; before its first compare-and-swap it runs
    /// `race` (what another end does in that moment), and it counts
    /// wakes.
    struct Words {
        words: [Cell<u32>; word::COUNT],
        race: Cell<Option<fn(&Words)>>,
        wakes: Cell<u32>,
    }

    impl Words {
        fn new(race: Option<fn(&Words)>) -> Words {
            Words {
                words: Default::default(),
                race: Cell::new(race),
                wakes: Cell::new(0),
            }
        }
    }

    impl RingWords for Words {
        fn load(&self, word: usize) -> u32 {
            self.words[word].get()
        }
        fn store(&self, word: usize, value: u32) {
            self.words[word].set(value);
        }
        fn swap(&self, word: usize, value: u32) -> u32 {
            self.words[word].replace(value)
        }
        fn compare_exchange(&self, word: usize, current: u32, new: u32) -> Result<u32, u32> {
            if let Some(race) = self.race.take() {
                race(self);
            }
            let now = self.words[word].get();
            if now == current {
                self.words[word].set(new);
                Ok(now)
            } else {
                Err(now)
            }
        }
        fn fetch_add(&self, word: usize, value: u32) -> u32 {
            let now = self.words[word].get();
            self.words[word].set(now.wrapping_add(value));
            now
        }
        fn fetch_sub(&self, word: usize, value: u32) -> u32 {
            let now = self.words[word].get();
            self.words[word].set(now.wrapping_sub(value));
            now
        }
        fn fetch_or(&self, word: usize, value: u32) -> u32 {
            let now = self.words[word].get();
            self.words[word].set(now | value);
            now
        }
        fn futex_wait(&self, _: usize, _: u32) {}
        fn futex_wake(&self, _: usize, _: Wake) {
            self.wakes.set(self.wakes.get() + 1);
        }
    }

    #[test]
    fn release_frees_only_the_holders_lock() {
        let ring = Words::new(None);
        ring.store(word::LOCK, 5 | CONTENDED);
        release(&ring, 6);
        assert_eq!(ring.load(word::LOCK), 5 | CONTENDED);
        assert_eq!(ring.wakes.get(), 0);
        release(&ring, 5);
        assert_eq!(ring.load(word::LOCK), 0);
        // The lock's sleepers and both sequence words'.
        assert_eq!(ring.wakes.get(), 3);
        assert_eq!(ring.load(word::DATA_SEQ), 1);
        assert_eq!(ring.load(word::SPACE_SEQ), 1);
    }

    /// The interleaving loom found: a waiter sets `CONTENDED` between the
    /// server's load and its compare-and-swap.
    #[test]
    fn release_survives_a_waiter_marking_the_lock() {
        let ring = Words::new(Some(|ring| {
            ring.fetch_or(word::LOCK, CONTENDED);
        }));
        ring.store(word::LOCK, 9);
        release(&ring, 9);
        assert_eq!(ring.load(word::LOCK), 0);
        assert_eq!(ring.wakes.get(), 3);
    }

    /// Another end taking the freed lock in that moment is left alone.
    #[test]
    fn release_leaves_a_new_holder_alone() {
        let ring = Words::new(Some(|ring| ring.store(word::LOCK, 4)));
        ring.store(word::LOCK, 9);
        release(&ring, 9);
        assert_eq!(ring.load(word::LOCK), 4);
        assert_eq!(ring.wakes.get(), 0);
    }

    #[test]
    fn set_ends_wakes_only_on_a_change() {
        let ring = Words::new(None);
        set_ends(&ring, 1, 1);
        assert_eq!(ring.wakes.get(), 0);
        set_ends(&ring, 1, 0);
        assert_eq!(ring.load(word::FLAGS), NO_WRITERS);
        assert_eq!(ring.wakes.get(), 2);
        set_ends(&ring, 0, 0);
        assert_eq!(ring.load(word::FLAGS), NO_WRITERS | NO_READERS);
        ring.store(word::TAIL, 3);
        assert_eq!(held_now(&ring), 3);
        ring.store(word::HEAD, 4);
        assert_eq!(held_now(&ring), 0, "broken indices");
    }
}
