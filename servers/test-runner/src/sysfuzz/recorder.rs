//! The flight recorder: the last [`CAPACITY`] calls of all workers, in the
//! order they were made, kept in memory so that recording does not change
//! how the workers interleave (printing every call does). The child prints
//! it when its own checks fail (a frame left in the fuzz budget, a worker
//! that died, an anomaly), to show what led there.

use core::sync::atomic::{AtomicU64, Ordering};

use super::report::{CALL_WORDS, Call};

/// Calls kept.
pub const CAPACITY: usize = 2048;
/// Words per record: the sequence number and worker, then the call.
const WORDS: usize = 1 + CALL_WORDS;

static NEXT: AtomicU64 = AtomicU64::new(0);
static RECORDS: [[AtomicU64; WORDS]; CAPACITY] =
    [const { [const { AtomicU64::new(0) }; WORDS] }; CAPACITY];

/// Starts recording a call of `worker`; returns its place for [`finish`].
pub fn start(worker: usize, call: &[u64; CALL_WORDS]) -> usize {
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    let index = (sequence % CAPACITY as u64) as usize;
    let record = &RECORDS[index];
    record[0].store(sequence << 8 | worker as u64, Ordering::Relaxed);
    for (slot, word) in record[1..].iter().zip(call) {
        slot.store(*word, Ordering::Relaxed);
    }
    index
}

/// Records the status of the call at `index`.
pub fn finish(index: usize, status: u64) {
    RECORDS[index][WORDS - 1].store(status, Ordering::Relaxed);
}

/// Calls recorded so far (over all workers).
pub fn count() -> u64 {
    NEXT.load(Ordering::Relaxed)
}

/// Prints the last `count` calls, oldest first.
pub fn print(count: usize) {
    let next = NEXT.load(Ordering::Relaxed);
    let count = (count.min(CAPACITY) as u64).min(next);
    rt::println!("sysfuzz: the last {count} calls of all workers, oldest first:");
    for sequence in next - count..next {
        let record = &RECORDS[(sequence % CAPACITY as u64) as usize];
        let tag = record[0].load(Ordering::Relaxed);
        let call: [u64; CALL_WORDS] =
            core::array::from_fn(|i| record[1 + i].load(Ordering::Relaxed));
        rt::println!("sysfuzz   {} w{} {}", tag >> 8, tag & 0xff, Call(call));
    }
}
