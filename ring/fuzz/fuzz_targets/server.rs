//! A ring server on memory the fuzzer writes, before it starts and
//! between every load it makes.
//!
//! The input is a byte stream read front to back:
//!
//! - the first 512 bytes (fewer if the input is shorter) are copied over
//!   the region from byte 64 on (the header stays valid, so the server
//!   attaches; indices, flags, slots and data are the fuzzer's);
//! - then, at every load the server makes (an index or a slot), one
//!   control byte: below 0x80 nothing happens; otherwise the next byte
//!   picks a word of the region and the next four are stored there;
//! - between calls, one byte picks the call: even `serve`, odd `step`.
//!
//! Checks: no panic; no access outside the region; every descriptor the
//! handler sees passes the rules; each call makes a bounded number of
//! accesses; after a hostile verdict every call returns it again without
//! touching the region. The run ends when the input does, or after 64
//! calls.
#![no_main]

use std::cell::Cell;

use libfuzzer_sys::fuzz_target;
use ring::{
    AtomicMemory, Client, Completion, Error, Geometry, Layout, Memory, Server, Spin, SqeRules,
};

const GEOMETRY: Geometry = Geometry {
    sq_entries: 4,
    cq_entries: 4,
    data_bytes: 64,
};

const RULES: SqeRules = SqeRules {
    opcodes: 0b111,
    flags: 0b1,
};

/// The most accesses one call may make.
const ACCESSES_PER_CALL: u64 = 48;

struct Fuzzed<'a> {
    memory: &'a AtomicMemory,
    input: &'a [u8],
    at: Cell<usize>,
    accesses: Cell<u64>,
}

impl Fuzzed<'_> {
    fn byte(&self) -> Option<u8> {
        let byte = self.input.get(self.at.get()).copied();
        self.at.set(self.at.get() + 1);
        byte
    }

    fn rewrite(&self) {
        if self.byte().is_none_or(|c| c < 0x80) {
            return;
        }
        let (Some(word), Some(a), Some(b), Some(c), Some(d)) =
            (self.byte(), self.byte(), self.byte(), self.byte(), self.byte())
        else {
            return;
        };
        let words = self.memory.len_bytes() / 4;
        let offset = 4 * (usize::from(word) % words);
        self.memory.store_u32(offset, u32::from_le_bytes([a, b, c, d]));
    }

    fn access(&self, offset: usize, len: usize) {
        self.accesses.set(self.accesses.get() + 1);
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.memory.len_bytes()),
            "an access outside the region: {offset}+{len}"
        );
    }
}

impl Memory for Fuzzed<'_> {
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
    fn fence(&self) {}
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

fuzz_target!(|input: &[u8]| {
    let layout = Layout::new(GEOMETRY).unwrap();
    let memory = AtomicMemory::new(layout.total_bytes);
    Client::create(&memory, Spin, GEOMETRY).unwrap();
    let image = &input[..input.len().min(layout.total_bytes - 64)];
    memory.write_bytes(64, image);
    let fuzzed = Fuzzed {
        memory: &memory,
        input,
        at: Cell::new(image.len()),
        accesses: Cell::new(0),
    };
    // A rewrite of the header while the server checks it refuses the
    // ring at once, which is fine.
    let Ok(mut server) = Server::attach(&fuzzed, Spin, GEOMETRY, RULES) else {
        return;
    };
    let mut verdict: Option<Error> = None;
    for _ in 0..64 {
        let Some(call) = fuzzed.byte() else { break };
        let before = fuzzed.accesses.get();
        let handler = |request: &ring::Request<'_, &Fuzzed<'_>>| {
            assert_eq!(RULES.check(&request.sqe, GEOMETRY.data_bytes), Ok(()));
            let mut data = [0u8; 64];
            let n = request.read(0, &mut data);
            assert!(n as u32 <= request.sqe.len);
            request.write(0, &data[..n]);
            Completion {
                status: 0,
                value: n as u32,
            }
        };
        let result = if call % 2 == 0 {
            server.serve(handler)
        } else {
            server.step(None, handler)
        };
        let accesses = fuzzed.accesses.get() - before;
        assert!(accesses <= ACCESSES_PER_CALL, "{accesses} accesses in one call");
        match (verdict, result) {
            (Some(earlier), result) => {
                assert_eq!(result, Err(earlier));
                assert_eq!(accesses, 0);
            }
            (None, Err(e @ Error::Hostile(_))) => verdict = Some(e),
            (None, Err(e)) => panic!("a server without a deadline returned {e}"),
            (None, Ok(_)) => {}
        }
    }
});
