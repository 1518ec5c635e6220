//! Every interleaving of a few ends of a direct pipe and its server,
//! under loom (`fscore::pipe_ring`: `RingEnd` and `server`, the code Mica
//! runs):
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p fscore --release --test pipe_loom
//! ```
//!
//! The ring's header words are loom atomics; the data area is a loom cell
//! per byte, so loom also reports a copy that is not ordered after the
//! other side's (the lock failing to keep two ends apart, or an index
//! published before its bytes). The futex is a loom mutex and condition
//! variable per word: a wait compares the word under the mutex and sleeps
//! only if it still holds the expected value, and a wake takes the mutex
//! before it notifies, so a wake made after the word changed always
//! finds the sleeper or is seen by it, as the kernel's futex is. A
//! sleeper that nobody wakes is a deadlock, which loom reports: each
//! model thus also shows that no wake-up is lost.
//!
//! The ring is tiny (`TINY`: 4 bytes of data, atomic writes up to 2) so
//! that a few bytes fill it. Loom explores every interleaving with at
//! most the preemptions each model names (none: any number; the bounds
//! keep each model under about ten seconds in release mode, about 30 s
//! in all on one core, where one more preemption costs 5 to 12 times as
//! long), and it treats `SeqCst` as acquire/release, which can only find
//! more outcomes than the hardware allows, not fewer.
//!
//! What each model checks (a wake-up lost anywhere is a deadlock in it):
//! - `small_messages_arrive_in_order`: a writer's two atomic messages
//!   reach a reader in order, whoever runs first (8 preemptions);
//! - `a_write_larger_than_the_ring_waits_for_the_reader`: 6 bytes into a
//!   4-byte ring, then an atomic 2-byte write that must wait for both
//!   bytes of room; the reader gets all 8 in order (5);
//! - `no_writers_ends_a_waiting_read`: the server's `NO_WRITERS` gives a
//!   reader, sleeping or not, the bytes and then the end of the file (8);
//! - `no_readers_breaks_a_waiting_write`: `NO_READERS` wakes a writer
//!   waiting on a full ring with `BrokenPipe` (any number);
//! - `server_gone_wakes_a_waiting_read`: `SERVER_GONE` from another end
//!   wakes a sleeping reader with `BadDescriptor` (any number);
//! - `two_writers_contend_for_the_lock`: two writers and a reader, each
//!   2-byte message whole, the lock free at the end (4);
//! - `the_server_frees_a_dead_holders_lock`: the server frees the lock
//!   of an end that died holding it while a reader waits for it (any
//!   number). It found the one bug so far: `server::release` tried its
//!   compare-and-swap once, so a reader that set `CONTENDED` between the
//!   server's load and swap slept forever.
#![cfg(loom)]

use std::sync::Arc;

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicU32, Ordering::SeqCst};
use loom::sync::{Condvar, Mutex};

use fscore::FsError;
use fscore::pipe_ring::{
    CONTENDED, CopyFault, Geometry, RingEnd, RingMemory, RingWords, Side, Wake, server, word,
};

/// The models' geometry: a 4-byte data area, writes of up to 2 bytes
/// atomic.
const TINY: Geometry = Geometry {
    data_bytes: 4,
    atomic_bytes: 2,
};

/// A ring in loom: atomic header words, the data area in cells, a futex
/// (mutex and condition variable) per header word.
struct Inner {
    words: Vec<AtomicU32>,
    data: Vec<UnsafeCell<u8>>,
    futexes: Vec<(Mutex<()>, Condvar)>,
}

// SAFETY: the only field that is not `Sync` is the data area, whose
// cells ends reach only under the ring's lock (the protocol under test);
// loom checks every access of a cell against the others and fails the
// model on a race, which is the point of sharing them.
unsafe impl Sync for Inner {}

/// A handle on a loom ring, one per end (and one for the server).
#[derive(Clone)]
struct LoomRing(Arc<Inner>);

impl LoomRing {
    fn new() -> LoomRing {
        LoomRing(Arc::new(Inner {
            words: (0..word::COUNT).map(|_| AtomicU32::new(0)).collect(),
            data: (0..TINY.data_bytes).map(|_| UnsafeCell::new(0)).collect(),
            futexes: (0..word::COUNT)
                .map(|_| (Mutex::new(()), Condvar::new()))
                .collect(),
        }))
    }

    fn word(&self, index: usize) -> &AtomicU32 {
        &self.0.words[index]
    }
}

impl RingWords for LoomRing {
    fn load(&self, word: usize) -> u32 {
        self.word(word).load(SeqCst)
    }
    fn store(&self, word: usize, value: u32) {
        self.word(word).store(value, SeqCst)
    }
    fn swap(&self, word: usize, value: u32) -> u32 {
        self.word(word).swap(value, SeqCst)
    }
    fn compare_exchange(&self, word: usize, current: u32, new: u32) -> Result<u32, u32> {
        self.word(word)
            .compare_exchange(current, new, SeqCst, SeqCst)
    }
    fn fetch_add(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_add(value, SeqCst)
    }
    fn fetch_sub(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_sub(value, SeqCst)
    }
    fn fetch_or(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_or(value, SeqCst)
    }
    fn futex_wait(&self, word: usize, expected: u32) {
        let (lock, wakes) = &self.0.futexes[word];
        let guard = lock.lock().unwrap();
        if self.load(word) == expected {
            drop(wakes.wait(guard).unwrap());
        }
    }
    fn futex_wake(&self, word: usize, wake: Wake) {
        let (lock, wakes) = &self.0.futexes[word];
        let _guard = lock.lock().unwrap();
        match wake {
            Wake::One => wakes.notify_one(),
            Wake::All => wakes.notify_all(),
        }
    }
}

impl RingMemory for LoomRing {
    const GEOMETRY: Geometry = TINY;

    fn copy_in(&self, offset: usize, src: &[u8]) -> Result<(), CopyFault> {
        for (i, byte) in src.iter().enumerate() {
            // SAFETY: loom checks that no other access of the cell races
            // with this write (it fails the model otherwise); the pointer
            // is the cell's own.
            self.0.data[offset + i].with_mut(|cell| unsafe { *cell = *byte });
        }
        Ok(())
    }

    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Result<(), CopyFault> {
        for (i, byte) in dst.iter_mut().enumerate() {
            // SAFETY: as in `copy_in`: loom checks that this read is
            // ordered after the cell's last write.
            *byte = self.0.data[offset + i].with(|cell| unsafe { *cell });
        }
        Ok(())
    }
}

/// Runs `test` in every interleaving with at most `preemptions`
/// preemptions (`None`: any number).
fn model(preemptions: Option<usize>, test: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    builder.check(test);
}

/// Writes all of `data`, as a program's `write` loop does.
fn write_all(end: &RingEnd<LoomRing>, mut data: &[u8]) {
    while !data.is_empty() {
        let put = end.write(data).unwrap();
        assert!(put > 0, "a write puts at least a byte");
        data = &data[put..];
    }
}

/// Reads `chunk` bytes at a time until `want` bytes came, or the end of
/// the file; returns them.
fn read_until(end: &RingEnd<LoomRing>, chunk: usize, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        let mut buf = vec![0; chunk];
        let n = end.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// (a) One writer writes two small messages (each written whole), one
/// reader reads: the bytes arrive in order, whoever runs first.
#[test]
fn small_messages_arrive_in_order() {
    model(Some(8), || {
        let ring = LoomRing::new();
        let writer = RingEnd::new(ring.clone(), 1, Side::Writer);
        let reader = RingEnd::new(ring, 2, Side::Reader);
        let thread = loom::thread::spawn(move || {
            assert_eq!(writer.write(b"ab"), Ok(2));
            assert_eq!(writer.write(b"c"), Ok(1));
        });
        assert_eq!(read_until(&reader, 4, 3), b"abc");
        thread.join().unwrap();
    });
}

/// (b) A write of 6 bytes into a 4-byte ring: the writer puts what fits,
/// waits for the reader to make room, and goes on; then an atomic
/// 2-byte write waits until both bytes fit. The reader reads 3 bytes at
/// a time and gets all 8 in order.
#[test]
fn a_write_larger_than_the_ring_waits_for_the_reader() {
    model(Some(5), || {
        let ring = LoomRing::new();
        let writer = RingEnd::new(ring.clone(), 1, Side::Writer);
        let reader = RingEnd::new(ring, 2, Side::Reader);
        let thread = loom::thread::spawn(move || {
            write_all(&writer, b"abcdef");
            assert_eq!(writer.write(b"gh"), Ok(2), "atomic: whole");
        });
        assert_eq!(read_until(&reader, 3, 8), b"abcdefgh");
        thread.join().unwrap();
    });
}

/// (c) The writer writes and goes; the server then sets `NO_WRITERS`
/// (the last writer closed), whether or not the reader sleeps by then:
/// the reader gets the bytes, then the end of the file.
#[test]
fn no_writers_ends_a_waiting_read() {
    model(Some(8), || {
        let ring = LoomRing::new();
        let server_side = ring.clone();
        let writer = RingEnd::new(ring.clone(), 1, Side::Writer);
        let reader = RingEnd::new(ring, 2, Side::Reader);
        let thread = loom::thread::spawn(move || {
            assert_eq!(writer.write(b"ab"), Ok(2));
            drop(writer);
            server::set_ends(&server_side, 1, 0);
        });
        assert_eq!(read_until(&reader, 1, usize::MAX), b"ab");
        let mut buf = [0; 1];
        assert_eq!(reader.read(&mut buf), Ok(0), "still the end");
        thread.join().unwrap();
    });
}

/// (c') The server sets `NO_READERS` (the last reader closed) while the
/// writer waits for room in a full ring: the write is `BrokenPipe`.
#[test]
fn no_readers_breaks_a_waiting_write() {
    model(None, || {
        let ring = LoomRing::new();
        let server_side = ring.clone();
        let writer = RingEnd::new(ring, 1, Side::Writer);
        assert_eq!(writer.write(b"ab"), Ok(2));
        assert_eq!(writer.write(b"cd"), Ok(2));
        let thread = loom::thread::spawn(move || server::set_ends(&server_side, 0, 1));
        // Full: waits, unless the flag came first.
        assert_eq!(writer.write(b"e"), Err(FsError::BrokenPipe));
        thread.join().unwrap();
    });
}

/// An end finds the server gone while the other sleeps on an empty ring:
/// the sleeper wakes and answers `BadDescriptor`.
#[test]
fn server_gone_wakes_a_waiting_read() {
    model(None, || {
        let ring = LoomRing::new();
        let writer = RingEnd::new(ring.clone(), 1, Side::Writer);
        let reader = RingEnd::new(ring, 2, Side::Reader);
        let thread = loom::thread::spawn(move || writer.server_gone());
        let mut buf = [0; 2];
        assert_eq!(reader.read(&mut buf), Err(FsError::BadDescriptor));
        thread.join().unwrap();
    });
}

/// (d) Two writers contend for the lock, each writing one atomic 2-byte
/// message, while the reader reads: each message arrives whole, in
/// either order, and the lock ends free.
#[test]
fn two_writers_contend_for_the_lock() {
    model(Some(4), || {
        let ring = LoomRing::new();
        let first = RingEnd::new(ring.clone(), 1, Side::Writer);
        let second = RingEnd::new(ring.clone(), 3, Side::Writer);
        let reader = RingEnd::new(ring.clone(), 2, Side::Reader);
        let one = loom::thread::spawn(move || assert_eq!(first.write(b"ab"), Ok(2)));
        let two = loom::thread::spawn(move || assert_eq!(second.write(b"cd"), Ok(2)));
        let got = read_until(&reader, 4, 4);
        assert!(got == b"abcd" || got == b"cdab", "{got:?}");
        one.join().unwrap();
        two.join().unwrap();
        assert_eq!(ring.load(word::LOCK), 0);
    });
}

/// An end (id 9) died holding the lock, after writing a byte; the
/// server frees the lock while the reader sleeps on it (or before the
/// reader comes): the reader takes it and reads the byte.
#[test]
fn the_server_frees_a_dead_holders_lock() {
    model(None, || {
        let ring = LoomRing::new();
        assert_eq!(ring.compare_exchange(word::LOCK, 0, 9), Ok(0));
        ring.store(word::TAIL, 1);
        let server_side = ring.clone();
        let reader = RingEnd::new(ring.clone(), 2, Side::Reader);
        let thread = loom::thread::spawn(move || server::release(&server_side, 9));
        let mut buf = [7; 2];
        assert_eq!(reader.read(&mut buf), Ok(1));
        assert_eq!(buf[0], 0);
        thread.join().unwrap();
        assert_eq!(ring.load(word::LOCK) & !CONTENDED, 0);
    });
}
