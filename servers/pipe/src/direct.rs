//! Direct pipes: the server's side of a pipe whose bytes live in a ring
//! every end maps (`fscore::pipe_ring`, `docs/files.md` "Direct pipes").
//!
//! The server maps the ring (so that no end can shrink it under another)
//! but only ever touches the header's words, with single atomic
//! operations that never wait: it sets the flags when the last reader or
//! writer goes (or one comes back), bumps the sequence words and wakes
//! their futexes, and frees the lock of an end that went while holding
//! it. It never reads an index to decide anything but `stat`'s size, so
//! whatever an end writes there, the server neither blocks, nor panics,
//! nor touches another pipe. Those operations are
//! `fscore::pipe_ring::server` (checked under loom with the ends'
//! protocol, `fscore/tests/pipe_loom.rs`); this module gives them the
//! ring's words and the futex calls.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use abi::CapSlot;
use abi::syscall::FUTEX_ALL;
use fscore::pipe_ring::{RING_PAGES, RingWords, Wake, server};
use rt::Handle;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;
use rt::sys;

/// Where ring slot `i` is mapped: `RING_AREA + i * RING_SLOT_BYTES`
/// (16 slots share a page table).
const RING_AREA: u64 = 0x0000_3100_0000_0000;
/// Address space for each slot (more than a ring's 17 pages).
const RING_SLOT_BYTES: u64 = 128 << 10;
/// Ring slots: one per pipe at most.
pub const RINGS_MAX: usize = 128;

/// Taken ring slots, a bit each.
static TAKEN: [AtomicU64; RINGS_MAX / 64] = [const { AtomicU64::new(0) }; RINGS_MAX / 64];

/// A free ring slot, taken; `None` when all are.
fn take_slot() -> Option<usize> {
    for (i, word) in TAKEN.iter().enumerate() {
        let mut bits = word.load(Ordering::Acquire);
        while bits != u64::MAX {
            let bit = (!bits).trailing_zeros();
            match word.compare_exchange(bits, bits | 1 << bit, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(i * 64 + bit as usize),
                Err(now) => bits = now,
            }
        }
    }
    None
}

/// Frees slot `slot`.
fn free_slot(slot: usize) {
    if let Some(word) = TAKEN.get(slot / 64) {
        word.fetch_and(!(1 << (slot % 64)), Ordering::AcqRel);
    }
}

/// Frames of a ring's own budget: the object and its pages, no more.
const RING_FRAMES: u64 = 1 + RING_PAGES;

/// A pipe's ring as the server holds it.
///
/// **Who pays.** The server, from a budget split off its own for this
/// ring alone, exactly the object and its pages, every page made present
/// at once. Every end needs `WRITE` on the object to map it writable, and
/// `WRITE` also lets it resize the object: growing it would charge the
/// object's budget, which has nothing left, and shrinking it cuts pages
/// the server maps, which the kernel refuses. So no end can spend the
/// server's memory or take pages from under another end. A ring made by a
/// client instead would die with that client (killing a process revokes
/// its budget, and every capability to what it paid for with it).
pub struct Ring {
    /// The mapping (dropped first: unmapped before the object goes).
    region: SharedRegion,
    /// The memory object, a copy of which each attaching end gets.
    memory: MemoryObject,
    /// The ring's budget: refunded to the server once the last end has
    /// unmapped the ring.
    _budget: Budget,
    /// Its address slot.
    slot: usize,
}

impl Ring {
    /// A new ring, mapped and present: `None` when the server's budget or
    /// its ring slots run out.
    pub fn create() -> Option<Ring> {
        let own = Budget::from_raw(rt::process::own_caps().budget);
        let budget = own.split(RING_FRAMES);
        // The budget is the program's, not ours to delete.
        let _ = own.into_raw();
        let budget = budget.ok()?;
        let memory = MemoryObject::create(&budget, RING_PAGES).ok()?;
        let slot = take_slot()?;
        let vaddr = RING_AREA + slot as u64 * RING_SLOT_BYTES;
        let Ok(region) = SharedRegion::map(&memory, 0, vaddr, RING_PAGES) else {
            free_slot(slot);
            return None;
        };
        let ring = Ring {
            region,
            memory,
            _budget: budget,
            slot,
        };
        let aspace = rt::process::own_caps().aspace;
        sys::aspace_populate(aspace, vaddr, RING_PAGES).ok()?;
        Some(ring)
    }

    /// The ring's memory object, to hand an attaching end a copy of.
    pub fn memory(&self) -> CapSlot {
        self.memory.slot()
    }

    /// The ring's header words, for `fscore::pipe_ring::server`.
    fn words(&self) -> Words<'_> {
        Words(self.region.words())
    }

    /// Tells the ends how many of each side are open: sets `NO_WRITERS`
    /// and `NO_READERS` as the counts say and, if the flags changed, wakes
    /// everyone who waits (a reader then finds the end of the file, a
    /// writer `BrokenPipe`).
    pub fn set_ends(&self, readers: u32, writers: u32) {
        server::set_ends(&self.words(), readers, writers);
    }

    /// Frees the lock if the end with lock id `id` holds it (it closed or
    /// died inside the ring), and wakes who waits for it.
    pub fn release(&self, id: u32) {
        server::release(&self.words(), id);
    }

    /// The bytes the ring holds, for `stat` (0 if its indices are broken).
    pub fn held(&self) -> u32 {
        server::held_now(&self.words())
    }
}

/// The server's view of a ring's header: its words, every operation
/// `SeqCst`, and the futex calls (their errors ignored: the ends look
/// again after every wait).
struct Words<'a>(&'a [AtomicU32]);

impl Words<'_> {
    fn word(&self, index: usize) -> &AtomicU32 {
        // The mapping is the ring's 17 pages, far more than
        // `word::COUNT` words, and the protocol asks for no other.
        &self.0[index]
    }
}

impl RingWords for Words<'_> {
    fn load(&self, word: usize) -> u32 {
        self.word(word).load(Ordering::SeqCst)
    }
    fn store(&self, word: usize, value: u32) {
        self.word(word).store(value, Ordering::SeqCst)
    }
    fn swap(&self, word: usize, value: u32) -> u32 {
        self.word(word).swap(value, Ordering::SeqCst)
    }
    fn compare_exchange(&self, word: usize, current: u32, new: u32) -> Result<u32, u32> {
        self.word(word)
            .compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
    }
    fn fetch_add(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_add(value, Ordering::SeqCst)
    }
    fn fetch_sub(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_sub(value, Ordering::SeqCst)
    }
    fn fetch_or(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_or(value, Ordering::SeqCst)
    }
    fn futex_wait(&self, word: usize, expected: u32) {
        let _ = sys::futex_wait(self.word(word), expected, 0);
    }
    fn futex_wake(&self, word: usize, wake: Wake) {
        let count = match wake {
            Wake::One => 1,
            Wake::All => FUTEX_ALL,
        };
        let _ = sys::futex_wake(self.word(word), count);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // `region` unmaps as it drops, after this; the slot is only
        // reused by a later `map`, which the kernel refuses while the
        // range is still mapped, and this runs on the one server thread.
        free_slot(self.slot);
    }
}
