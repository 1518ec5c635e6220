//! A peer that rewrites the region between every load the other side
//! makes, from a script proptest writes: indices (near their values and
//! anywhere), descriptors, completions, data and flags. Whatever it does,
//! the side under attack must never panic, never read outside the
//! region, never hand out a descriptor that fails the checks, finish each
//! call in a bounded number of accesses, and, once it has found the peer
//! hostile, return only that verdict without touching the region again.

mod common;

use std::cell::{Cell, RefCell};

use common::RULES;
use proptest::prelude::*;
use ring::{
    AtomicMemory, Client, Completion, Cqe, Entry, Error, Geometry, Layout, Memory, Server, Spin,
    Sqe, offset,
};

const GEOMETRY: Geometry = Geometry {
    sq_entries: 4,
    cq_entries: 4,
    data_bytes: 256,
};

/// The most accesses one call may make: a batch is at most 4 entries.
const ACCESSES_PER_CALL: u64 = 48;

/// One rewrite by the adversary.
#[derive(Clone, Debug)]
enum Rewrite {
    /// Leave the region alone this time.
    Nothing,
    /// Move one of the header's index or flag words by a small amount.
    Nudge { word: usize, by: i32 },
    /// Write any value into one of them.
    Index { word: usize, value: u32 },
    /// Write a descriptor, nearly valid or not, into an SQ slot.
    Descriptor { slot: usize, sqe: Sqe },
    /// Write a completion into a CQ slot.
    Completion { slot: usize, cqe: Cqe },
    /// Write bytes anywhere in the region.
    Bytes { at: usize, bytes: Vec<u8> },
}

/// The index and flag words.
const WORDS: [usize; 8] = [
    offset::SQ_TAIL,
    offset::SQ_PRODUCER_WAITS,
    offset::SQ_HEAD,
    offset::SQ_CONSUMER_SLEEPS,
    offset::CQ_TAIL,
    offset::CQ_PRODUCER_WAITS,
    offset::CQ_HEAD,
    offset::CQ_CONSUMER_SLEEPS,
];

fn layout() -> Layout {
    Layout::new(GEOMETRY).unwrap()
}

fn sqe_strategy() -> impl Strategy<Value = Sqe> {
    (
        prop_oneof![0u16..4, any::<u16>()],
        prop_oneof![Just(0u16), any::<u16>()],
        prop_oneof![0u32..300, any::<u32>()],
        any::<u64>(),
        prop_oneof![0u64..300, any::<u64>()],
        any::<u64>(),
    )
        .prop_map(|(opcode, flags, len, user_data, offset, arg)| Sqe {
            opcode,
            flags,
            len,
            user_data,
            offset,
            arg,
        })
}

fn rewrite_strategy() -> impl Strategy<Value = Rewrite> {
    let len = layout().total_bytes;
    prop_oneof![
        4 => Just(Rewrite::Nothing),
        3 => (0..WORDS.len(), -3i32..8).prop_map(|(word, by)| Rewrite::Nudge { word, by }),
        1 => (0..WORDS.len(), any::<u32>()).prop_map(|(word, value)| Rewrite::Index { word, value }),
        2 => (0..4usize, sqe_strategy()).prop_map(|(slot, sqe)| Rewrite::Descriptor { slot, sqe }),
        1 => (0..4usize, any::<u64>(), any::<u16>(), prop_oneof![Just(0u16), any::<u16>()], any::<u32>())
            .prop_map(|(slot, user_data, status, flags, value)| Rewrite::Completion {
                slot,
                cqe: Cqe { user_data, status, flags, value },
            }),
        1 => (0..len, proptest::collection::vec(any::<u8>(), 1..40)).prop_map(move |(at, mut bytes)| {
            bytes.truncate(len - at);
            Rewrite::Bytes { at, bytes }
        }),
    ]
}

/// The region as the side under attack sees it.
struct Adversary<'a> {
    memory: &'a AtomicMemory,
    script: Vec<Rewrite>,
    next: Cell<usize>,
    accesses: Cell<u64>,
    /// Set by the wrapper when an access leaves the region.
    outside: RefCell<Option<(usize, usize)>>,
}

impl Adversary<'_> {
    fn rewrite(&self) {
        let index = self.next.get();
        self.next.set(index + 1);
        let Some(rewrite) = self.script.get(index) else {
            return;
        };
        let layout = layout();
        match rewrite {
            Rewrite::Nothing => {}
            Rewrite::Nudge { word, by } => {
                let at = WORDS[*word];
                let value = self.memory.load_u32(at).wrapping_add_signed(*by);
                self.memory.store_u32(at, value);
            }
            Rewrite::Index { word, value } => self.memory.store_u32(WORDS[*word], *value),
            Rewrite::Descriptor { slot, sqe } => {
                let mut words = [0u32; 8];
                sqe.encode(&mut words);
                self.memory.write_words(layout.sq + 32 * slot, &words);
            }
            Rewrite::Completion { slot, cqe } => {
                let mut words = [0u32; 4];
                cqe.encode(&mut words);
                self.memory.write_words(layout.cq + 16 * slot, &words);
            }
            Rewrite::Bytes { at, bytes } => self.memory.write_bytes(*at, bytes),
        }
    }

    fn access(&self, offset: usize, len: usize) {
        self.accesses.set(self.accesses.get() + 1);
        if offset
            .checked_add(len)
            .is_none_or(|end| end > self.memory.len_bytes())
        {
            *self.outside.borrow_mut() = Some((offset, len));
        }
    }
}

impl Memory for Adversary<'_> {
    fn len_bytes(&self) -> usize {
        self.memory.len_bytes()
    }
    fn load_u32(&self, offset: usize) -> u32 {
        self.rewrite();
        self.access(offset, 4);
        self.memory.load_u32(offset)
    }
    fn store_u32(&self, offset: usize, value: u32) {
        self.access(offset, 4);
        self.memory.store_u32(offset, value)
    }
    fn fence(&self) {
        self.memory.fence()
    }
    fn read_words(&self, offset: usize, out: &mut [u32]) {
        self.rewrite();
        self.access(offset, 4 * out.len());
        self.memory.read_words(offset, out)
    }
    fn write_words(&self, offset: usize, words: &[u32]) {
        self.access(offset, 4 * words.len());
        self.memory.write_words(offset, words)
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        self.rewrite();
        self.access(offset, out.len());
        self.memory.read_bytes(offset, out)
    }
    fn write_bytes(&self, offset: usize, bytes: &[u8]) {
        self.access(offset, bytes.len());
        self.memory.write_bytes(offset, bytes)
    }
}

/// What the honest side does next.
#[derive(Clone, Debug)]
enum Step {
    /// The side under attack makes one call.
    Attacked(u8),
    /// The honest peer pushes and publishes up to this many requests.
    Submit(u8),
    /// The honest peer takes completions.
    Drain,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            3 => any::<u8>().prop_map(Step::Attacked),
            2 => (1u8..5).prop_map(Step::Submit),
            1 => Just(Step::Drain),
        ],
        1..40,
    )
}

fn valid_sqe(n: u64) -> Sqe {
    Sqe {
        opcode: (n % 3) as u16,
        len: (n % 64) as u32,
        offset: n % 192,
        user_data: n,
        ..Sqe::default()
    }
}

/// Runs `call` and checks what every call must do; returns the call's
/// result.
fn checked_call<T: std::fmt::Debug>(
    adversary: &Adversary<'_>,
    verdict: &mut Option<Error>,
    call: impl FnOnce() -> Result<T, Error>,
) -> Result<(), TestCaseError> {
    let before = adversary.accesses.get();
    let result = call();
    let accesses = adversary.accesses.get() - before;
    prop_assert!(
        accesses <= ACCESSES_PER_CALL,
        "{accesses} accesses in one call"
    );
    prop_assert_eq!(
        *adversary.outside.borrow(),
        None,
        "an access outside the region"
    );
    if let Some(earlier) = verdict {
        prop_assert_eq!(
            result.as_ref().err(),
            Some(&*earlier),
            "only the verdict after it"
        );
        prop_assert_eq!(accesses, 0, "no access after the verdict");
    } else if let Err(e @ Error::Hostile(_)) = result {
        *verdict = Some(e);
    }
    Ok(())
}

/// Never sleeps; every other wake-up counts as a call that the server's
/// next wait answers (`Waker::answers_peer`), so that both ways a server
/// sleeps meet the adversary.
#[derive(Default)]
struct AlternatingCalls {
    waits: Cell<u64>,
}

impl<M: ?Sized> ring::Waker<M> for AlternatingCalls {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), ring::TimedOut> {
        self.waits.set(self.waits.get() + 1);
        Ok(())
    }
    fn wake(&self, _: &M, _: usize) {}
    fn answers_peer(&self) -> bool {
        self.waits.get() % 2 == 1
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

    /// A server whose client is hostile.
    #[test]
    fn server_against_a_hostile_client(
        script in proptest::collection::vec(rewrite_strategy(), 0..200),
        steps in steps(),
    ) {
        let memory = AtomicMemory::new(layout().total_bytes);
        let mut client = Client::create(&memory, Spin, GEOMETRY).unwrap();
        let adversary = Adversary {
            memory: &memory,
            script,
            next: Cell::new(0),
            accesses: Cell::new(0),
            outside: RefCell::new(None),
        };
        // The adversary may spoil the header while the server checks it:
        // then the ring is refused at once, which is fine.
        let waker = AlternatingCalls::default();
        let Ok(mut server) = Server::attach(&adversary, &waker, GEOMETRY, RULES) else {
            return Ok(());
        };
        let mut verdict = None;
        let mut next = 0u64;
        for step in steps {
            match step {
                Step::Attacked(kind) => {
                    let mut seen = Vec::new();
                    let handler = |request: &ring::Request<'_, &Adversary<'_>>| {
                        seen.push(request.sqe);
                        let mut data = [0u8; 300];
                        let n = request.read(0, &mut data);
                        request.write(0, &data[..n]);
                        Completion { status: 0, value: n as u32 }
                    };
                    if kind % 2 == 0 {
                        checked_call(&adversary, &mut verdict, || server.serve(handler))?;
                    } else {
                        checked_call(&adversary, &mut verdict, || server.step(None, handler))?;
                    }
                    for sqe in seen {
                        prop_assert_eq!(RULES.check(&sqe, GEOMETRY.data_bytes), Ok(()));
                    }
                }
                // The honest client's own errors (the adversary writes
                // over its indices too) do not matter here.
                Step::Submit(n) => {
                    for _ in 0..n {
                        if client.push(&valid_sqe(next)).is_ok() {
                            next += 1;
                        }
                    }
                    let _ = client.submit();
                }
                Step::Drain => {
                    if client.poll().is_ok() {
                        while let Ok(Some(_)) = client.pop() {}
                        let _ = client.release();
                    }
                }
            }
        }
        prop_assert_eq!(server.poisoned(), verdict.and_then(|e| e.hostile()));
    }

    /// A client whose server is hostile.
    #[test]
    fn client_against_a_hostile_server(
        script in proptest::collection::vec(rewrite_strategy(), 0..200),
        steps in steps(),
    ) {
        let memory = AtomicMemory::new(layout().total_bytes);
        let adversary = Adversary {
            memory: &memory,
            script,
            next: Cell::new(0),
            accesses: Cell::new(0),
            outside: RefCell::new(None),
        };
        let mut client = Client::create(&adversary, Spin, GEOMETRY).unwrap();
        let mut server = Server::attach(&memory, Spin, GEOMETRY, RULES).unwrap();
        let mut verdict = None;
        let mut next = 0u64;
        let mut taken = 0u64;
        for step in steps {
            match step {
                Step::Attacked(kind) => match kind % 4 {
                    0 => {
                        let mut pushed = 0;
                        checked_call(&adversary, &mut verdict, || {
                            let result = client.push(&valid_sqe(next));
                            pushed = u64::from(result.is_ok());
                            result
                        })?;
                        next += pushed;
                    }
                    1 => checked_call(&adversary, &mut verdict, || client.submit())?,
                    2 => {
                        checked_call(&adversary, &mut verdict, || client.wait(None))?;
                        loop {
                            let mut cqe = None;
                            checked_call(&adversary, &mut verdict, || {
                                let result = client.pop();
                                cqe = result.ok().flatten();
                                result
                            })?;
                            let Some(cqe) = cqe else { break };
                            prop_assert_eq!(cqe.flags, 0);
                            taken += 1;
                        }
                        checked_call(&adversary, &mut verdict, || client.release())?;
                    }
                    _ => checked_call(&adversary, &mut verdict, || client.poll())?,
                },
                // The honest server's errors do not matter here.
                Step::Submit(_) | Step::Drain => {
                    let _ = server.serve(|_| Completion::default());
                }
            }
            // Never more completions taken than requests pushed.
            prop_assert!(taken <= next);
            prop_assert!(u64::from(client.in_flight()) == next - taken);
        }
        prop_assert_eq!(client.poisoned(), verdict.and_then(|e| e.hostile()));
    }
}
