//! Fixed address slots for memory a program shares with a server (ring
//! areas, pipe data areas): one pool per use, each a bitmap of up to 64
//! slots, so that a mapping's address is the slot's and never collides.

use core::sync::atomic::{AtomicU64, Ordering};

/// A pool of `limit` (at most 64) slots; slot `i` is taken when bit `i`
/// is set.
#[derive(Debug)]
pub(crate) struct Pool {
    taken: AtomicU64,
    limit: u32,
}

/// A taken slot, given back to its pool as it drops.
#[derive(Debug)]
pub(crate) struct Slot {
    pool: &'static Pool,
    index: u32,
}

impl Pool {
    /// A pool of `limit` free slots.
    pub(crate) const fn new(limit: u32) -> Pool {
        Pool {
            taken: AtomicU64::new(0),
            limit: if limit > 64 { 64 } else { limit },
        }
    }

    /// The lowest free slot, if any.
    pub(crate) fn take(&'static self) -> Option<Slot> {
        let mut taken = self.taken.load(Ordering::Acquire);
        loop {
            let free = (!taken).trailing_zeros();
            if free >= self.limit {
                return None;
            }
            match self.taken.compare_exchange(
                taken,
                taken | 1 << free,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Slot {
                        pool: self,
                        index: free,
                    });
                }
                Err(now) => taken = now,
            }
        }
    }
}

impl Slot {
    /// Its index in the pool.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.pool
            .taken
            .fetch_and(!(1 << self.index), Ordering::AcqRel);
    }
}
