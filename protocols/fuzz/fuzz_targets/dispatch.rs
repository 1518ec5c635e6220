//! Fuzzes the generated `echo::dispatch` with arbitrary messages given to
//! one reference server (`EchoService`), so that the stateful operations
//! (`keep`, then `give`) are reached too.
//!
//! Input: a sequence of messages, each a header of 8 bytes (opcode: 2
//! bytes, request id: 4 bytes, word count: 1 byte taken modulo 65,
//! capability count: 1 byte modulo 4), then that many words of 8 bytes,
//! little-endian (fewer if the input ends). Each capability gets a slot
//! number never used before.
//!
//! Beyond "never panics", checks each reply: the request's id, a status
//! that is 0, MALFORMED, UNKNOWN_OPERATION or an application code, an
//! empty body with any error; and at the end, that every capability
//! received was deleted exactly once or is the one the server keeps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocols::abi::CapSlot;
use protocols::cap::host;
use protocols::echo::{self, EchoService};
use protocols::rt::ipc::Message;
use protocols::status::{self, APPLICATION_MIN, MALFORMED, OK, UNKNOWN_OPERATION};

/// Bytes of a message header in the input.
const HEADER_BYTES: usize = 8;

fuzz_target!(|input: &[u8]| {
    let mut server = EchoService::new();
    let mut reply = Message::new(0);
    let mut received = Vec::new();
    let mut next_slot = 1u32;
    host::take_deleted();
    let mut rest = input;
    while let Some((header, tail)) = rest.split_first_chunk::<HEADER_BYTES>() {
        let opcode = u16::from_le_bytes([header[0], header[1]]);
        let id = u32::from_le_bytes([header[2], header[3], header[4], header[5]]);
        let words = usize::from(header[6]) % 65;
        let caps = usize::from(header[7]) % 4;
        let mut request = Message::new(status::request_label(opcode, id));
        rest = tail;
        for _ in 0..words {
            let Some((word, tail)) = rest.split_first_chunk::<8>() else {
                break;
            };
            request
                .push(u64::from_le_bytes(*word))
                .expect("at most 64 words");
            rest = tail;
        }
        for _ in 0..caps {
            request
                .push_cap(CapSlot(next_slot))
                .expect("at most 3 caps");
            received.push(CapSlot(next_slot));
            next_slot += 1;
        }

        echo::dispatch(&mut server, &request, &mut reply);

        let (status, reply_id) = status::split_label(reply.label());
        assert_eq!(reply_id, id);
        assert!(
            matches!(status, OK | MALFORMED | UNKNOWN_OPERATION) || status >= APPLICATION_MIN,
            "status {status:#x}"
        );
        if status != OK {
            assert!(reply.words().is_empty() && reply.caps().is_empty());
        }
    }
    let mut accounted = host::take_deleted();
    accounted.extend(server.kept());
    accounted.sort();
    assert_eq!(
        accounted, received,
        "a capability leaked or was deleted twice"
    );
});
