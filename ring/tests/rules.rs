//! The rules of each side, one at a time, on a region in ordinary memory:
//! round trips, indices wrapping at `u32::MAX`, each kind of violation and
//! what a poisoned side does after, batching of wake-ups.

mod common;

use std::cell::Cell;
use std::time::Duration;

use common::{CondvarWaker, RULES};
use ring::{
    AtomicMemory, Client, Completion, Consumer, Cqe, Entry, Error, Geometry, Hostile, Layout,
    Memory, Producer, Reason, Server, Spin, Sqe, TimedOut, Waker, offset,
};

const GEOMETRY: Geometry = Geometry {
    sq_entries: 4,
    cq_entries: 4,
    data_bytes: 256,
};

/// Counts wakes; never sleeps.
#[derive(Default)]
struct Counting {
    wakes: Cell<u64>,
}

impl<M: ?Sized> Waker<M> for Counting {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        Ok(())
    }
    fn wake(&self, _: &M, _: usize) {
        self.wakes.set(self.wakes.get() + 1);
    }
}

/// Counts every access to the region.
struct Watched<'a> {
    inner: &'a AtomicMemory,
    accesses: Cell<u64>,
}

impl Memory for Watched<'_> {
    fn len_bytes(&self) -> usize {
        self.inner.len_bytes()
    }
    fn load_u32(&self, offset: usize) -> u32 {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.load_u32(offset)
    }
    fn store_u32(&self, offset: usize, value: u32) {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.store_u32(offset, value)
    }
    fn fence(&self) {}
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.read_words(offset, out)
    }
    fn write_words(&self, offset: usize, words: &[u32]) {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.write_words(offset, words)
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.read_bytes(offset, out)
    }
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        self.accesses.set(self.accesses.get() + 1);
        self.inner.write_bytes(offset, bytes)
    }
}

fn memory() -> AtomicMemory {
    AtomicMemory::new(Layout::new(GEOMETRY).unwrap().total_bytes)
}

fn sqe(user_data: u64) -> Sqe {
    Sqe {
        opcode: 1,
        user_data,
        offset: user_data % 200,
        len: 8,
        ..Sqe::default()
    }
}

/// The handler of these tests: value = the sum of the data bytes.
fn sum(request: &ring::Request<'_, &AtomicMemory>) -> Completion {
    let mut bytes = [0u8; 256];
    let n = request.read(0, &mut bytes);
    Completion {
        status: 0,
        value: bytes[..n].iter().map(|&b| u32::from(b)).sum(),
    }
}

fn hostile(reason: Reason) -> Error {
    Error::Hostile(Hostile { reason })
}

#[test]
fn round_trip() {
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    client.write_data(10, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    for user_data in [10, 11, 12] {
        client.push(&sqe(user_data)).unwrap();
    }
    assert_eq!(server.serve(sum), Ok(0), "nothing published yet");
    client.submit().unwrap();
    assert_eq!(server.serve(sum), Ok(3));
    assert_eq!(client.poll(), Ok(3));
    let first = client.pop().unwrap().unwrap();
    assert_eq!(
        first,
        Cqe {
            user_data: 10,
            status: 0,
            flags: 0,
            value: 36
        }
    );
    assert_eq!(client.pop().unwrap().unwrap().user_data, 11);
    assert_eq!(client.pop().unwrap().unwrap().user_data, 12);
    assert_eq!(client.pop(), Ok(None));
    client.release().unwrap();
    assert_eq!(client.in_flight(), 0);
    assert_eq!(server.served(), 3);
}

#[test]
fn indices_wrap_at_u32_max() {
    for start in [u32::MAX - 6, u32::MAX, u32::MAX - 1, 0x8000_0000 - 3] {
        let memory = memory();
        let mut client = Client::create_at(&memory, Spin, GEOMETRY, start).unwrap();
        let mut server = Server::attach_at(&memory, Spin, GEOMETRY, RULES, start).unwrap();
        let mut next = 0u64;
        let mut expected = 0u64;
        for round in 0..40u32 {
            let batch = round % 4 + 1;
            for _ in 0..batch {
                client.push(&sqe(next)).unwrap();
                next += 1;
            }
            client.submit().unwrap();
            assert_eq!(server.serve(sum), Ok(batch));
            assert_eq!(client.poll(), Ok(batch));
            while let Some(cqe) = client.pop().unwrap() {
                assert_eq!(cqe.user_data, expected);
                expected += 1;
            }
            client.release().unwrap();
        }
        assert_eq!(expected, next);
        let tail = memory.load_u32(offset::SQ_TAIL);
        assert_eq!(tail, start.wrapping_add(next as u32));
        if start > u32::MAX - next as u32 {
            assert!(tail < start, "the indices wrapped");
        }
    }
}

#[test]
fn full_queues() {
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    for i in 0..4 {
        client.push(&sqe(i)).unwrap();
    }
    // The SQ is full, and as many are in flight as the CQ holds.
    assert_eq!(client.push(&sqe(4)), Err(Error::Full));
    client.submit().unwrap();
    let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    assert_eq!(server.serve(sum), Ok(4));
    // The SQ has room again but no completion was taken yet.
    assert_eq!(client.push(&sqe(4)), Err(Error::Full));
    client.poll().unwrap();
    client.pop().unwrap();
    client.push(&sqe(4)).unwrap();

    // A producer alone: full until the consumer releases.
    let layout = Layout::new(GEOMETRY).unwrap();
    let memory = self::memory();
    let mut producer = Producer::<Sqe>::new(layout.sq_queue(), 0);
    let mut consumer = Consumer::<Sqe>::new(layout.sq_queue(), 0);
    for i in 0..4 {
        producer.push(&memory, &sqe(i)).unwrap();
    }
    assert_eq!(producer.push(&memory, &sqe(4)), Err(Error::Full));
    producer.publish(&memory, &Spin).unwrap();
    assert_eq!(consumer.poll(&memory), Ok(4));
    consumer.pop(&memory, |_| Ok(())).unwrap();
    assert_eq!(
        producer.push(&memory, &sqe(4)),
        Err(Error::Full),
        "not released"
    );
    consumer.release(&memory, &Spin).unwrap();
    producer.push(&memory, &sqe(4)).unwrap();
}

/// A server whose client wrote `tail` into the SQ tail after publishing
/// two submissions that the server has seen.
fn server_after_tail(tail_from_start: u32) -> Result<u32, Error> {
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    client.push(&sqe(1)).unwrap();
    client.push(&sqe(2)).unwrap();
    client.submit().unwrap();
    server.serve(sum).unwrap();
    memory.store_u32(offset::SQ_TAIL, 2u32.wrapping_add(tail_from_start));
    server.serve(sum)
}

#[test]
fn sq_tail_too_far_or_back() {
    // A full queue is fine (two served: the CQ has room for two more).
    assert_eq!(server_after_tail(4), Ok(2));
    assert_eq!(server_after_tail(5), Err(hostile(Reason::IndexTooFar)));
    assert_eq!(
        server_after_tail(u32::MAX),
        Err(hostile(Reason::IndexTooFar))
    );
    assert_eq!(
        server_after_tail(0x8000_0000),
        Err(hostile(Reason::IndexTooFar))
    );
    // Back past what was consumed: a huge distance, so "too far".
    assert_eq!(
        server_after_tail(u32::MAX - 1),
        Err(hostile(Reason::IndexTooFar))
    );
}

#[test]
fn producer_index_retreats() {
    let layout = Layout::new(GEOMETRY).unwrap();
    let memory = memory();
    let mut producer = Producer::<Sqe>::new(layout.sq_queue(), 7);
    let mut consumer = Consumer::<Sqe>::new(layout.sq_queue(), 7);
    for i in 0..3 {
        producer.push(&memory, &sqe(i)).unwrap();
    }
    producer.publish(&memory, &Spin).unwrap();
    assert_eq!(consumer.poll(&memory), Ok(3));
    consumer.pop(&memory, |_| Ok(())).unwrap();
    // Two are still announced; the producer says one.
    memory.store_u32(offset::SQ_TAIL, 9);
    assert_eq!(consumer.poll(&memory), Err(hostile(Reason::IndexRetreated)));
    assert_eq!(consumer.poisoned(), Some(Reason::IndexRetreated));
}

/// The server's verdict on one submission.
fn verdict(bad: Sqe) -> Result<u32, Error> {
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    client.push(&sqe(1)).unwrap();
    client.push(&bad).unwrap();
    client.submit().unwrap();
    server.serve(sum)
}

#[test]
fn bad_submissions() {
    let good = Sqe {
        opcode: 2,
        len: 56,
        offset: 200,
        ..Sqe::default()
    };
    assert_eq!(verdict(good), Ok(2));
    let cases = [
        (Sqe { opcode: 3, ..good }, Reason::UnknownOpcode),
        (Sqe { opcode: 63, ..good }, Reason::UnknownOpcode),
        (Sqe { opcode: 64, ..good }, Reason::UnknownOpcode),
        (
            Sqe {
                flags: 0x8000,
                ..good
            },
            Reason::UnknownFlags,
        ),
        (Sqe { len: 57, ..good }, Reason::DataOutOfRange),
        (
            Sqe {
                offset: 201,
                ..good
            },
            Reason::DataOutOfRange,
        ),
        (
            Sqe {
                offset: u64::MAX - 10,
                len: 20,
                ..good
            },
            Reason::DataOutOfRange,
        ),
        (
            Sqe {
                offset: 0,
                len: u32::MAX,
                ..good
            },
            Reason::DataOutOfRange,
        ),
    ];
    for (bad, reason) in cases {
        assert_eq!(verdict(bad), Err(hostile(reason)), "{bad:?}");
    }
}

#[test]
fn a_poisoned_server_never_touches_the_region_again() {
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    client
        .push(&Sqe {
            opcode: 9,
            ..sqe(1)
        })
        .unwrap();
    client.submit().unwrap();
    let watched = Watched {
        inner: &memory,
        accesses: Cell::new(0),
    };
    let mut server = Server::attach(&watched, Spin, GEOMETRY, RULES).unwrap();
    assert_eq!(
        server.serve(|_| Completion::default()),
        Err(hostile(Reason::UnknownOpcode))
    );
    // Nothing of the batch was published.
    assert_eq!(memory.load_u32(offset::SQ_HEAD), 0);
    assert_eq!(memory.load_u32(offset::CQ_TAIL), 0);
    let before = watched.accesses.get();
    // Even a repaired ring stays refused.
    let mut fixed = [0u32; 8];
    sqe(1).encode(&mut fixed);
    memory.write_words(Layout::new(GEOMETRY).unwrap().sq, &fixed);
    for _ in 0..3 {
        assert_eq!(
            server.serve(|_| Completion::default()),
            Err(hostile(Reason::UnknownOpcode))
        );
        assert_eq!(
            server.step(None, |_| Completion::default()),
            Err(hostile(Reason::UnknownOpcode))
        );
    }
    assert_eq!(watched.accesses.get(), before);
    assert_eq!(server.poisoned(), Some(Reason::UnknownOpcode));
}

#[test]
fn consumer_index_ahead_or_back() {
    // The client's SQ producer, facing a server that moves the SQ head
    // (a CQ larger than the SQ, so that the SQ fills first).
    let geometry = Geometry {
        cq_entries: 8,
        ..GEOMETRY
    };
    for (head, reason) in [
        (3, Some(Reason::ConsumerAhead)), // past the two published
        (0, None),
        (u32::MAX, Some(Reason::ConsumerAhead)), // back
    ] {
        let memory = AtomicMemory::new(Layout::new(geometry).unwrap().total_bytes);
        let mut client = Client::create(&memory, Spin, geometry).unwrap();
        client.push(&sqe(1)).unwrap();
        client.push(&sqe(2)).unwrap();
        client.submit().unwrap();
        client.push(&sqe(3)).unwrap(); // pushed, not published
        client.push(&sqe(4)).unwrap();
        memory.store_u32(offset::SQ_HEAD, head);
        // The SQ is full now (as far as the client knows), so the next
        // push looks at the head.
        let result = client.push(&sqe(5));
        match reason {
            Some(reason) => {
                assert_eq!(result, Err(hostile(reason)), "head {head}");
                assert_eq!(client.submit(), Err(hostile(reason)));
                assert_eq!(client.poll(), Err(hostile(reason)));
            }
            None => assert_eq!(result, Err(Error::Full), "nothing taken"),
        }
    }
    // Taking two makes room for two.
    let memory = AtomicMemory::new(Layout::new(geometry).unwrap().total_bytes);
    let mut client = Client::create(&memory, Spin, geometry).unwrap();
    for i in 0..4 {
        client.push(&sqe(i)).unwrap();
    }
    client.submit().unwrap();
    memory.store_u32(offset::SQ_HEAD, 2);
    client.push(&sqe(4)).unwrap();
    client.push(&sqe(5)).unwrap();
    assert_eq!(client.push(&sqe(6)), Err(Error::Full));
    // The server's CQ producer, facing a client that moves the CQ head.
    let memory = self::memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    for i in 0..4 {
        client.push(&sqe(i)).unwrap();
    }
    client.submit().unwrap();
    assert_eq!(server.serve(sum), Ok(4));
    memory.store_u32(offset::CQ_HEAD, 5);
    // The client takes nothing but says it took five; the server finds
    // out when it next needs room.
    memory.store_u32(offset::SQ_TAIL, 5);
    let mut slot = [0u32; 8];
    sqe(5).encode(&mut slot);
    memory.write_words(Layout::new(GEOMETRY).unwrap().sq, &slot);
    assert_eq!(server.serve(sum), Err(hostile(Reason::ConsumerAhead)));
}

#[test]
fn bad_completions() {
    let layout = Layout::new(GEOMETRY).unwrap();
    // A completion with nothing in flight.
    let memory = memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    memory.store_u32(offset::CQ_TAIL, 1);
    assert_eq!(client.poll(), Err(hostile(Reason::UnexpectedCompletion)));
    assert_eq!(
        client.push(&sqe(1)),
        Err(hostile(Reason::UnexpectedCompletion))
    );
    // Two completions for one submission.
    let memory = self::memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    client.push(&sqe(1)).unwrap();
    client.submit().unwrap();
    memory.store_u32(offset::CQ_TAIL, 2);
    assert_eq!(client.poll(), Err(hostile(Reason::UnexpectedCompletion)));
    // Completions for a pushed but unpublished submission.
    let memory = self::memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    client.push(&sqe(1)).unwrap();
    memory.store_u32(offset::CQ_TAIL, 1);
    assert_eq!(client.poll(), Err(hostile(Reason::UnexpectedCompletion)));
    // A CQ tail far ahead.
    let memory = self::memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    memory.store_u32(offset::CQ_TAIL, 1000);
    assert_eq!(client.poll(), Err(hostile(Reason::IndexTooFar)));
    // A reserved field set.
    let memory = self::memory();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    client.push(&sqe(1)).unwrap();
    client.submit().unwrap();
    let mut words = [0u32; 4];
    Cqe {
        user_data: 1,
        flags: 4,
        ..Cqe::default()
    }
    .encode(&mut words);
    memory.write_words(layout.cq, &words);
    memory.store_u32(offset::CQ_TAIL, 1);
    assert_eq!(client.poll(), Ok(1));
    assert_eq!(client.pop(), Err(hostile(Reason::ReservedNotZero)));
    assert_eq!(client.release(), Err(hostile(Reason::ReservedNotZero)));
}

#[test]
fn a_batch_costs_one_wake() {
    let memory = memory();
    let waker = Counting::default();
    let mut client = Client::create(&memory, &waker, GEOMETRY).unwrap();
    // Nobody sleeps: no wake.
    client.push(&sqe(1)).unwrap();
    assert_eq!(client.submit(), Ok(false));
    // The server sleeps: one wake for a batch of three.
    memory.store_u32(offset::SQ_CONSUMER_SLEEPS, 1);
    for i in 2..5 {
        client.push(&sqe(i)).unwrap();
    }
    assert_eq!(client.submit(), Ok(true));
    assert_eq!(waker.wakes.get(), 1);
    // Nothing new: no wake even though the flag is still set.
    assert_eq!(client.submit(), Ok(false));
    assert_eq!(waker.wakes.get(), 1);
    assert_eq!(client.wakes(), 1);

    // The server's side: one wake for a batch of completions, only if
    // the client sleeps.
    let mut server = Server::attach(&memory, &waker, GEOMETRY, RULES).unwrap();
    memory.store_u32(offset::CQ_CONSUMER_SLEEPS, 1);
    assert_eq!(server.serve(sum), Ok(4));
    assert_eq!(server.wakes(), 1);
    assert_eq!(waker.wakes.get(), 2);
}

#[test]
fn sleeping_flags_are_set_and_cleared() {
    let memory = memory();
    let waker = CondvarWaker::default();
    let mut client = Client::create(&memory, &waker, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, &waker, GEOMETRY, RULES).unwrap();
    let deadline = waker.deadline_after(Duration::from_millis(20));
    assert_eq!(server.step(Some(deadline), sum), Err(Error::TimedOut));
    assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 0);
    let deadline = waker.deadline_after(Duration::from_millis(20));
    assert_eq!(client.wait(Some(deadline)), Err(Error::TimedOut));
    assert_eq!(memory.load_u32(offset::CQ_CONSUMER_SLEEPS), 0);
    // With something there, no sleep and no deadline needed.
    client.push(&sqe(1)).unwrap();
    client.submit().unwrap();
    assert_eq!(server.step(Some(0), sum), Ok(1));
    assert_eq!(client.wait(Some(0)), Ok(1));
}

#[test]
fn attach_checks_the_header() {
    let memory = memory();
    assert_eq!(
        Server::attach(&memory, Spin, GEOMETRY, RULES).err(),
        Some(ring::SetupError::BadHeader)
    );
    Client::create(&memory, Spin, GEOMETRY).unwrap();
    let other = Geometry {
        data_bytes: 128,
        ..GEOMETRY
    };
    assert_eq!(
        Server::attach(&memory, Spin, other, RULES).err(),
        Some(ring::SetupError::BadHeader)
    );
    let larger = Geometry {
        sq_entries: 64,
        ..GEOMETRY
    };
    assert_eq!(
        Server::attach(&memory, Spin, larger, RULES).err(),
        Some(ring::SetupError::TooSmall)
    );
    let bad = Geometry {
        sq_entries: 3,
        ..GEOMETRY
    };
    assert_eq!(
        Server::attach(&memory, Spin, bad, RULES).err(),
        Some(ring::SetupError::BadGeometry)
    );
    // The server resets its own indices, whatever the client left there.
    memory.store_u32(offset::SQ_HEAD, 77);
    memory.store_u32(offset::CQ_TAIL, 99);
    Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
    assert_eq!(memory.load_u32(offset::SQ_HEAD), 0);
    assert_eq!(memory.load_u32(offset::CQ_TAIL), 0);
}

/// A waker whose wait is a call (`ring::doorbell`'s `CallWaker`, or with
/// `server` its `DoorbellWaker`, as far as the rules see them): counts
/// wakes and waits; never sleeps.
#[derive(Default)]
struct Calling {
    server: bool,
    wakes: Cell<u64>,
    waits: Cell<u64>,
}

impl<M: ?Sized> Waker<M> for Calling {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        self.waits.set(self.waits.get() + 1);
        Ok(())
    }
    fn wake(&self, _: &M, _: usize) {
        self.wakes.set(self.wakes.get() + 1);
    }
    fn wait_wakes_peer(&self) -> bool {
        true
    }
    fn peer_may_sleep(&self) -> bool {
        !self.server
    }
}

#[test]
fn submit_and_wait_is_one_call() {
    let memory = memory();
    let waker = Calling::default();
    let server_waker = Calling {
        server: true,
        ..Calling::default()
    };
    let mut client = Client::create(&memory, &waker, GEOMETRY).unwrap();
    let mut server = Server::attach(&memory, &server_waker, GEOMETRY, RULES).unwrap();
    // The server sleeps, by its flag: the call wakes it, no signal.
    memory.store_u32(offset::SQ_CONSUMER_SLEEPS, 1);
    client.push(&sqe(1)).unwrap();
    client.push(&sqe(2)).unwrap();
    // The "call": nothing is served before it returns here, so 0 ready.
    assert_eq!(client.submit_and_wait(None), Ok(0));
    assert_eq!((waker.wakes.get(), waker.waits.get()), (0, 1));
    assert_eq!(memory.load_u32(offset::SQ_TAIL), 2);
    // The server serves the batch and publishes without waking anyone
    // (its client sleeps only in calls), even with the client's flag set.
    memory.store_u32(offset::CQ_CONSUMER_SLEEPS, 1);
    assert_eq!(server.serve(sum), Ok(2));
    assert_eq!(server.wakes(), 0);
    assert_eq!(server_waker.wakes.get(), 0);
    assert_eq!(client.poll(), Ok(2));
    assert_eq!(client.pop().unwrap().map(|c| c.user_data), Some(1));
    assert_eq!(client.pop().unwrap().map(|c| c.user_data), Some(2));
    // Without a call to make, `submit` still signals a sleeping server.
    client.release().unwrap();
    client.push(&sqe(3)).unwrap();
    assert_eq!(client.submit(), Ok(true));
    assert_eq!(waker.wakes.get(), 1);
}

#[test]
fn submit_and_wait_with_a_plain_waker_submits_then_waits() {
    let memory = memory();
    let waker = Counting::default();
    let mut client = Client::create(&memory, &waker, GEOMETRY).unwrap();
    memory.store_u32(offset::SQ_CONSUMER_SLEEPS, 1);
    client.push(&sqe(1)).unwrap();
    // The flag is looked at and the server woken; the wait (which never
    // sleeps here) finds nothing.
    assert_eq!(client.submit_and_wait(None), Ok(0));
    assert_eq!(waker.wakes.get(), 1);
}

/// A server's waker whose wake-ups are calls (the client blocked until
/// the next wait answers) or not, as the test says; never sleeps.
#[derive(Default)]
struct Answering {
    /// The last wake-up was a call.
    call: Cell<bool>,
    /// What the next wake-up is.
    next_is_call: Cell<bool>,
}

impl<M: ?Sized> Waker<M> for Answering {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        self.call.set(self.next_is_call.get());
        Ok(())
    }
    fn wake(&self, _: &M, _: usize) {}
    fn peer_may_sleep(&self) -> bool {
        false
    }
    fn answers_peer(&self) -> bool {
        self.call.get()
    }
}

#[test]
fn a_server_answering_calls_keeps_its_flag_up_and_looks_once() {
    let memory = memory();
    let watched = Watched {
        inner: &memory,
        accesses: Cell::new(0),
    };
    let waker = Answering::default();
    let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
    let mut server = Server::attach(&watched, &waker, GEOMETRY, RULES).unwrap();
    let nop = |_: &ring::Request<'_, &Watched<'_>>| Completion::default();
    // Asleep the usual way, woken by a call with nothing yet: flag down.
    waker.next_is_call.set(true);
    assert_eq!(server.step(None, nop), Ok(0));
    assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 0);
    // The client publishes and calls again: the server's wait answers
    // the first call with its flag raised, and serves what the second
    // announced.
    client.push(&sqe(1)).unwrap();
    client.submit().unwrap();
    assert_eq!(server.step(None, nop), Ok(1));
    assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 1);
    // Round trips by calls from then on: the flag stays up, and a step
    // is the SQ tail's one load, the entry, the completion and the two
    // indices: no flag store, no second look at the tail (while the room
    // for completions last seen lasts: 4 slots, 1 used so far).
    for user_data in 2..5 {
        assert_eq!(client.poll(), Ok(1));
        assert!(client.pop().unwrap().is_some());
        client.release().unwrap();
        client.push(&sqe(user_data)).unwrap();
        client.submit().unwrap();
        watched.accesses.set(0);
        assert_eq!(server.step(None, nop), Ok(1));
        assert_eq!(watched.accesses.get(), 5);
        assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 1);
    }
    // A wake-up that is no call (a signal): the flag comes down before
    // the look, and the next sleep is the usual one.
    waker.next_is_call.set(false);
    assert_eq!(server.step(None, nop), Ok(0));
    assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 0);
    assert_eq!(client.poll(), Ok(1));
    assert!(client.pop().unwrap().is_some());
    client.release().unwrap();
    client.push(&sqe(9)).unwrap();
    client.submit().unwrap();
    assert_eq!(server.step(None, nop), Ok(1));
    assert_eq!(memory.load_u32(offset::SQ_CONSUMER_SLEEPS), 0);
}
