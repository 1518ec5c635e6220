//! Every interleaving of one producer and one consumer, under loom:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p ring --release --test loom
//! ```
//!
//! The region's header words are loom atomics; the slots are loom cells,
//! so loom also reports a slot read that is not ordered after its write
//! (an index published too early). The waker is loom's mutex and
//! condition variable: a consumer that sleeps and is never woken is a
//! deadlock, which loom reports, so each test also shows that no wake-up
//! is lost. Preemptions are bounded at 3 to keep the runs short.
#![cfg(loom)]

use std::sync::Arc;

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicU32, Ordering, fence};
use loom::sync::{Condvar, Mutex};

use ring::layout::HEADER_BYTES;
use ring::{
    Client, Completion, Consumer, Error, Geometry, Layout, Memory, Producer, Server, Sqe, SqeRules,
    TimedOut, Waker,
};

/// A region for loom: atomic header words, slots in cells.
struct LoomMemory {
    header: Vec<AtomicU32>,
    body: Vec<UnsafeCell<u32>>,
}

impl LoomMemory {
    fn new(len_bytes: usize) -> LoomMemory {
        LoomMemory {
            header: (0..HEADER_BYTES / 4).map(|_| AtomicU32::new(0)).collect(),
            body: (0..(len_bytes - HEADER_BYTES) / 4)
                .map(|_| UnsafeCell::new(0))
                .collect(),
        }
    }

    fn header_word(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset.is_multiple_of(4) && offset < HEADER_BYTES,
            "index words are in the header"
        );
        &self.header[offset / 4]
    }

    fn read_word(&self, offset: usize) -> u32 {
        if offset < HEADER_BYTES {
            return self.header[offset / 4].load(Ordering::Relaxed);
        }
        // SAFETY: loom checks that this read is ordered after the last
        // write of the cell (it fails the test otherwise); the pointer is
        // the cell's own.
        self.body[(offset - HEADER_BYTES) / 4].with(|word| unsafe { *word })
    }

    fn write_word(&self, offset: usize, value: u32) {
        if offset < HEADER_BYTES {
            return self.header[offset / 4].store(value, Ordering::Relaxed);
        }
        // SAFETY: as in `read_word`, loom checks that no access of the
        // cell races with this write.
        self.body[(offset - HEADER_BYTES) / 4].with_mut(|word| unsafe { *word = value })
    }
}

impl Memory for LoomMemory {
    fn len_bytes(&self) -> usize {
        HEADER_BYTES + self.body.len() * 4
    }
    fn load_u32(&self, offset: usize) -> u32 {
        self.header_word(offset).load(Ordering::Acquire)
    }
    fn store_u32(&self, offset: usize, value: u32) {
        self.header_word(offset).store(value, Ordering::Release)
    }
    fn fence(&self) {
        fence(Ordering::SeqCst);
    }
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        for (i, word) in out.iter_mut().enumerate() {
            *word = self.read_word(offset + 4 * i);
        }
    }
    fn write_words(&self, offset: usize, words: &[u32]) {
        for (i, word) in words.iter().enumerate() {
            self.write_word(offset + 4 * i, *word);
        }
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        assert!(offset.is_multiple_of(4) && out.len().is_multiple_of(4));
        for (i, chunk) in out.chunks_mut(4).enumerate() {
            chunk.copy_from_slice(&self.read_word(offset + 4 * i).to_le_bytes());
        }
    }
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        assert!(offset.is_multiple_of(4) && bytes.len().is_multiple_of(4));
        for (i, chunk) in bytes.chunks(4).enumerate() {
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            self.write_word(offset + 4 * i, word);
        }
    }
}

/// Loom's futex: the word is compared under the mutex, and a wake takes
/// the mutex before it notifies.
struct LoomWaker {
    lock: Mutex<()>,
    wakes: Condvar,
}

impl LoomWaker {
    fn new() -> LoomWaker {
        LoomWaker {
            lock: Mutex::new(()),
            wakes: Condvar::new(),
        }
    }
}

impl<M: Memory + ?Sized> Waker<M> for LoomWaker {
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        _: Option<u64>,
    ) -> Result<(), TimedOut> {
        let guard = self.lock.lock().unwrap();
        if memory.load_u32(offset) == expected {
            drop(self.wakes.wait(guard).unwrap());
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {
        let _guard = self.lock.lock().unwrap();
        self.wakes.notify_all();
    }
}

fn model(test: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(test);
}

fn sqe(user_data: u64) -> Sqe {
    Sqe {
        user_data,
        ..Sqe::default()
    }
}

/// Sends `items` through a 2-entry queue, publishing each `batch` pushes
/// (and whenever the queue is full), and checks that the consumer gets
/// each exactly once, in order.
fn one_queue(items: u64, batch: u64) {
    let layout = Layout::new(Geometry {
        sq_entries: 2,
        cq_entries: 1,
        data_bytes: 0,
    })
    .unwrap();
    let shared = Arc::new((LoomMemory::new(layout.total_bytes), LoomWaker::new()));
    let producer_side = Arc::clone(&shared);
    let producer = loom::thread::spawn(move || {
        let (memory, waker) = &*producer_side;
        let mut producer = Producer::<Sqe>::new(layout.sq_queue(), 0);
        for item in 0..items {
            loop {
                match producer.push(memory, &sqe(item)) {
                    Ok(()) => break,
                    Err(Error::Full) => {
                        producer.publish(memory, waker).unwrap();
                        producer.wait_room(memory, waker, None).unwrap();
                    }
                    Err(e) => panic!("producer: {e}"),
                }
            }
            if (item + 1) % batch == 0 {
                producer.publish(memory, waker).unwrap();
            }
        }
        producer.publish(memory, waker).unwrap();
    });
    let (memory, waker) = &*shared;
    let mut consumer = Consumer::<Sqe>::new(layout.sq_queue(), 0);
    let mut received = Vec::new();
    while (received.len() as u64) < items {
        consumer.wait(memory, waker, None).unwrap();
        while let Some(entry) = consumer.pop(memory, |_| Ok(())).unwrap() {
            received.push(entry.user_data);
        }
        consumer.release(memory, waker).unwrap();
    }
    producer.join().unwrap();
    assert_eq!(received, (0..items).collect::<Vec<_>>());
    assert_eq!(consumer.poll(memory), Ok(0), "nothing extra");
}

#[test]
fn one_queue_each_item_published_alone() {
    model(|| one_queue(3, 1));
}

#[test]
fn one_queue_items_published_in_pairs() {
    model(|| one_queue(3, 2));
}

/// A client and a server on a 2-entry ring: three requests, each
/// answered exactly once, in order, with both sides sleeping when idle.
#[test]
fn client_and_server() {
    model(|| {
        let geometry = Geometry {
            sq_entries: 2,
            cq_entries: 2,
            data_bytes: 0,
        };
        let layout = Layout::new(geometry).unwrap();
        let shared = Arc::new((LoomMemory::new(layout.total_bytes), LoomWaker::new()));
        let (memory, waker) = &*shared;
        let mut client = Client::create(memory, waker, geometry).unwrap();
        let server_side = Arc::clone(&shared);
        let server = loom::thread::spawn(move || {
            let (memory, waker) = &*server_side;
            let rules = SqeRules {
                opcodes: 1,
                flags: 0,
            };
            let mut server = Server::attach(memory, waker, geometry, rules).unwrap();
            while server.served() < 3 {
                server
                    .step(None, |request| Completion {
                        status: 0,
                        value: request.sqe.user_data as u32 * 10,
                    })
                    .unwrap();
            }
        });
        let (mut sent, mut answers) = (0, Vec::new());
        while answers.len() < 3 {
            while sent < 3 {
                match client.push(&sqe(sent)) {
                    Ok(()) => sent += 1,
                    Err(Error::Full) => break,
                    Err(e) => panic!("client: {e}"),
                }
            }
            client.submit().unwrap();
            client.wait(None).unwrap();
            while let Some(cqe) = client.pop().unwrap() {
                answers.push((cqe.user_data, cqe.value));
            }
            client.release().unwrap();
        }
        server.join().unwrap();
        assert_eq!(answers, [(0, 0), (1, 10), (2, 20)]);
    });
}

/// What `ring::doorbell` does with IPC, in loom: a pending signal (the
/// bound notification's bit) and calls waiting to be taken and answered.
#[derive(Default)]
struct BellState {
    signalled: bool,
    /// Calls made, taken by the server, and answered.
    calls: u64,
    taken: u64,
    answered: u64,
}

struct LoomDoorbell {
    state: Mutex<BellState>,
    changed: Condvar,
}

/// The server's side: `wait` answers the call it took last, then sleeps
/// until a signal or a call (the `ReplyRecv` of `DoorbellWaker`); `wake`
/// does nothing (the client sleeps only in a call).
struct ServerBell<'a> {
    bell: &'a LoomDoorbell,
    owes: std::cell::Cell<Option<u64>>,
}

impl<M: Memory + ?Sized> Waker<M> for ServerBell<'_> {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        let mut state = self.bell.state.lock().unwrap();
        if let Some(call) = self.owes.take() {
            state.answered = call;
            self.bell.changed.notify_all();
        }
        while !state.signalled && state.calls == state.taken {
            state = self.bell.changed.wait(state).unwrap();
        }
        if state.signalled {
            state.signalled = false;
        } else {
            state.taken += 1;
            self.owes.set(Some(state.taken));
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {}

    fn peer_may_sleep(&self) -> bool {
        false
    }

    // It took a call it has not answered: the client is blocked in it.
    fn answers_peer(&self) -> bool {
        self.owes.get().is_some()
    }
}

/// The client's side: `wait` is a call (rings, then sleeps until the
/// server answers it), `wake` a signal (`CallWaker`).
struct ClientBell<'a>(&'a LoomDoorbell);

impl<M: Memory + ?Sized> Waker<M> for ClientBell<'_> {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        let mut state = self.0.state.lock().unwrap();
        state.calls += 1;
        let me = state.calls;
        self.0.changed.notify_all();
        while state.answered < me {
            state = self.0.changed.wait(state).unwrap();
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {
        let mut state = self.0.state.lock().unwrap();
        state.signalled = true;
        self.0.changed.notify_all();
    }

    fn wait_wakes_peer(&self) -> bool {
        true
    }
}

/// A client and a server on a 2-entry ring woken the doorbell's way:
/// three requests, the first submitted on its own (a signal if the server
/// sleeps) and waited for, the others with `submit_and_wait` (one call);
/// each answered exactly once, in order, and the server stopped by a
/// flag and a signal at the end. A lost wake-up is a deadlock loom
/// reports.
#[test]
fn client_and_server_by_calls() {
    model(|| {
        let geometry = Geometry {
            sq_entries: 2,
            cq_entries: 2,
            data_bytes: 0,
        };
        let layout = Layout::new(geometry).unwrap();
        let bell = LoomDoorbell {
            state: Mutex::new(BellState::default()),
            changed: Condvar::new(),
        };
        let shared = Arc::new((
            LoomMemory::new(layout.total_bytes),
            bell,
            loom::sync::atomic::AtomicBool::new(false),
        ));
        let (memory, bell, _) = &*shared;
        let mut client = Client::create(memory, ClientBell(bell), geometry).unwrap();
        let server_side = Arc::clone(&shared);
        let server = loom::thread::spawn(move || {
            let (memory, bell, stop) = &*server_side;
            let waker = ServerBell {
                bell,
                owes: std::cell::Cell::new(None),
            };
            let rules = SqeRules {
                opcodes: 1,
                flags: 0,
            };
            let mut server = Server::attach(memory, waker, geometry, rules).unwrap();
            while !stop.load(Ordering::Acquire) {
                server
                    .step(None, |request| Completion {
                        status: 0,
                        value: request.sqe.user_data as u32 * 10,
                    })
                    .unwrap();
            }
            server.served()
        });
        let mut answers = Vec::new();
        for sent in 0..3u64 {
            client.push(&sqe(sent)).unwrap();
            let mut ready = if sent == 0 {
                client.submit().unwrap();
                client.wait(None).unwrap()
            } else {
                client.submit_and_wait(None).unwrap()
            };
            while ready == 0 {
                ready = client.wait(None).unwrap();
            }
            while let Some(cqe) = client.pop().unwrap() {
                answers.push((cqe.user_data, cqe.value));
            }
            client.release().unwrap();
        }
        let (_, bell, stop) = &*shared;
        stop.store(true, Ordering::Release);
        ClientBell(bell).wake(memory, 0);
        assert_eq!(server.join().unwrap(), 3);
        assert_eq!(answers, [(0, 0), (1, 10), (2, 20)]);
    });
}
