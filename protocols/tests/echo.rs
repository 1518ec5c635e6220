//! Round trips of every `Echo` operation through a loopback, the exact
//! words of a request and its reply, and what dispatch and the client do
//! with requests and replies that break the rules.

mod common;

use abi::CapSlot;
use common::{Canned, echo_client, message, serve};
use protocols::cap::host;
use protocols::echo::{self, Color, Echo, EchoClient, EchoService};
use protocols::loopback::Loopback;
use protocols::status::{self, MALFORMED, OK, UNKNOWN_OPERATION};
use protocols::{Bulk, Error, ErrorCode};

const PING: u16 = 1;
const ADD: u16 = 2;
const SCALARS: u16 = 4;
const SHOUT: u16 = 5;
const ECHO: u16 = 6;
const KEEP: u16 = 7;
const LEND: u16 = 10;

#[test]
fn operations_are_listed_with_their_opcodes() {
    assert_eq!(Echo::ID, 0x4543);
    assert_eq!(Echo::NAME, "Echo");
    let names: Vec<_> = Echo::OPERATIONS.iter().map(|op| op.name).collect();
    assert_eq!(
        names,
        [
            "ping", "add", "divide", "scalars", "shout", "echo", "keep", "give", "forget", "lend"
        ]
    );
    let ping = Echo::OPERATIONS[0];
    assert_eq!((ping.opcode, ping.idempotent), (PING, true));
    let keep = Echo::OPERATIONS[6];
    assert_eq!((keep.opcode, keep.idempotent), (KEEP, false));
}

#[test]
fn ping_and_add_round_trip() {
    let mut client = echo_client();
    assert_eq!(client.ping(0), Ok(0));
    assert_eq!(client.ping(u64::MAX), Ok(u64::MAX));
    assert_eq!(client.add(2, 3), Ok(5));
    assert_eq!(client.add(u64::MAX, 1), Err(Error::Remote(echo::OVERFLOW)));
    assert_eq!(client.client().transport().calls(), 4);
}

#[test]
fn divide_answers_application_errors() {
    let mut client = echo_client();
    assert_eq!(client.divide(-7, 2), Ok((-3, -1)));
    assert_eq!(client.divide(i64::MAX, -1), Ok((-i64::MAX, 0)));
    assert_eq!(
        client.divide(1, 0),
        Err(Error::Remote(echo::DIVIDE_BY_ZERO))
    );
    assert_eq!(
        client.divide(i64::MIN, -1),
        Err(Error::Remote(echo::OVERFLOW))
    );
    assert_eq!(
        Error::Remote(echo::DIVIDE_BY_ZERO).to_string(),
        "application error 0x101"
    );
}

#[test]
fn every_scalar_round_trips() {
    let mut client = echo_client();
    assert_eq!(
        client.scalars(255, 7, u32::MAX, -1, i16::MIN, i32::MIN, false, Color::Blue),
        Ok((0, 8, 0, 0, i16::MIN + 1, i32::MIN + 1, true, Color::Red))
    );
    assert_eq!(
        client.scalars(1, 2, 3, i8::MAX, -2, -3, true, Color::Red),
        Ok((2, 3, 4, i8::MIN, -1, -2, false, Color::Green))
    );
}

#[test]
fn strings_and_bytes_round_trip_at_every_length() {
    let mut client = echo_client();
    for len in 0..=echo::SHOUT_MAX_BYTES {
        let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        let (count, loud) = client.shout(&text).expect("fits");
        assert_eq!(count, len as u64);
        assert_eq!(loud, text.to_ascii_uppercase());
    }
    for len in 0..=504 {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        assert_eq!(client.echo(&data), Ok(&data[..]));
    }
}

#[test]
fn strings_keep_non_ascii_text() {
    let mut client = echo_client();
    assert_eq!(client.shout("héllo, wörld ✓"), Ok((18, "HéLLO, WöRLD ✓")));
}

#[test]
fn too_long_requests_and_replies_are_errors() {
    let mut client = echo_client();
    let long = "x".repeat(echo::SHOUT_MAX_BYTES + 1);
    assert_eq!(client.shout(&long), Err(Error::Remote(echo::TOO_LONG)));
    // 505 bytes need 64 words plus the length word: not one message.
    assert_eq!(client.echo(&[0; 505]), Err(Error::TooLarge));
    assert_eq!(client.client().transport().calls(), 1);
}

#[test]
fn the_words_of_a_request_and_its_reply() {
    // The worked example of docs/protocols.md.
    let mut client = EchoClient::new(Canned::new(message(
        status::reply_label(OK, 0),
        &[2, 2, 0x4948],
        &[],
    )));
    assert_eq!(client.shout("hi"), Ok((2, "HI")));
    assert_eq!(client.client().transport().request, [2, 0x6968]);

    let mut server = EchoService::new();
    let request = message(0x0000_0001_0005, &[2, 0x6968], &[]);
    let (status, id, words, _) = serve(&mut server, &request);
    assert_eq!((status, id), (OK, 1));
    assert_eq!(words, [2, 2, 0x4948]);

    let request = message(0x0000_0007_0001, &[42], &[]);
    assert_eq!(serve(&mut server, &request), (OK, 7, vec![42], vec![]));
    let request = message(0x0000_0003_0002, &[u64::MAX, 1], &[]);
    assert_eq!(serve(&mut server, &request), (0x100, 3, vec![], vec![]));
}

#[test]
fn capabilities_travel_both_ways() {
    let mut client = echo_client();
    host::take_deleted();
    assert_eq!(client.give(), Err(Error::Remote(echo::NOTHING_KEPT)));
    // The loopback gives each transferred capability a new slot, as the
    // kernel would: the server's copy of the first is FIRST_SLOT.
    assert_eq!(client.keep(CapSlot(7)), Ok(1));
    let first = CapSlot(Loopback::<EchoService>::FIRST_SLOT);
    assert_eq!(client.client().transport().server.kept(), Some(first));
    assert_eq!(client.keep(CapSlot(8)), Ok(2));
    // Keeping a second capability deleted the first.
    assert_eq!(host::take_deleted(), [first]);
    let second = client.client().transport().server.kept().expect("kept");
    let given = client.give().expect("kept");
    assert_ne!(given.slot(), second);
    drop(given);
    assert_eq!(client.forget(), Ok(()));
    assert_eq!(host::take_deleted().len(), 2);
    assert_eq!(client.client().transport().server.kept(), None);
}

#[test]
fn bulk_descriptors_travel_with_their_capability() {
    let mut client = echo_client();
    host::take_deleted();
    let data = Bulk {
        memory: CapSlot(9),
        offset_bytes: 4000,
        len_bytes: 200,
    };
    assert_eq!(client.lend(data), Ok((2, 200)));
    // The server deleted its copy when the handler dropped it.
    assert_eq!(host::take_deleted().len(), 1);
    let empty = Bulk {
        len_bytes: 0,
        ..data
    };
    assert_eq!(client.lend(empty), Ok((0, 0)));
    let huge = Bulk {
        offset_bytes: protocols::BULK_MAX_BYTES,
        len_bytes: 1,
        ..data
    };
    assert_eq!(client.lend(huge), Err(Error::Rejected));
    assert_eq!(host::take_deleted().len(), 2);
}

#[test]
fn idempotent_operations_are_retried_once() {
    let mut client = echo_client();
    client.client_mut().transport_mut().fail_next(1);
    assert_eq!(client.ping(5), Ok(5));
    client.client_mut().transport_mut().fail_next(2);
    assert_eq!(client.ping(5), Err(Error::PeerClosed));
    // `keep` is not idempotent: one failure is the caller's to handle.
    client.client_mut().transport_mut().fail_next(1);
    assert_eq!(client.keep(CapSlot(3)), Err(Error::PeerClosed));
    assert_eq!(client.client().transport().calls(), 1);
}

#[test]
fn request_ids_count_up() {
    let mut client = EchoClient::new(Canned::new(message(0, &[1], &[])));
    client.client_mut().transport_mut().same_id = false;
    // The reply names request 0, the client sent request 1.
    assert_eq!(client.ping(1), Err(Error::Malformed));
    client.client_mut().transport_mut().same_id = true;
    assert_eq!(client.ping(1), Ok(1));
}

#[test]
fn dispatch_rejects_malformed_requests() {
    let mut server = EchoService::new();
    let label = |opcode: u16| status::request_label(opcode, 9);
    let malformed = (MALFORMED, 9, vec![], vec![]);
    let cases: &[(u16, &[u64])] = &[
        (PING, &[]),                                 // a word missing
        (PING, &[1, 2]),                             // a word too many
        (ADD, &[1]),                                 // a word missing
        (SCALARS, &[0x100, 0, 0, 0, 0, 0, 0, 0]),    // u8 out of range
        (SCALARS, &[0, 0x1_0000, 0, 0, 0, 0, 0, 0]), // u16 out of range
        (SCALARS, &[0, 0, 1 << 32, 0, 0, 0, 0, 0]),  // u32 out of range
        (SCALARS, &[0, 0, 0, 0x80, 0, 0, 0, 0]),     // i8 not sign-extended
        (SCALARS, &[0, 0, 0, 0, 0, 1 << 31, 0, 0]),  // i32 not sign-extended
        (SCALARS, &[0, 0, 0, 0, 0, 0, 2, 0]),        // bool 2
        (SCALARS, &[0, 0, 0, 0, 0, 0, 0, 3]),        // no colour 3
        (SHOUT, &[2, 0x6968 | 1 << 16]),             // padding not zero
        (SHOUT, &[9, 0x6968]),                       // longer than the words
        (SHOUT, &[u64::MAX, 0]),                     // absurd length
        (SHOUT, &[1, 0xff]),                         // not UTF-8
        (SHOUT, &[0, 0]),                            // a word too many
        (ECHO, &[]),                                 // no length
        (LEND, &[0, 1]),                             // no capability
    ];
    for &(opcode, words) in cases {
        let request = message(label(opcode), words, &[]);
        assert_eq!(
            serve(&mut server, &request),
            malformed,
            "{opcode} {words:x?}"
        );
    }
    let unknown = message(label(0x99), &[], &[]);
    assert_eq!(
        serve(&mut server, &unknown),
        (UNKNOWN_OPERATION, 9, vec![], vec![])
    );
}

#[test]
fn dispatch_deletes_the_capabilities_of_rejected_requests() {
    let mut server = EchoService::new();
    host::take_deleted();
    // A capability where none is expected.
    let request = message(status::request_label(PING, 1), &[1], &[40]);
    assert_eq!(serve(&mut server, &request).0, MALFORMED);
    assert_eq!(host::take_deleted(), [CapSlot(40)]);
    // Two where one is expected: both go.
    let request = message(status::request_label(KEEP, 2), &[], &[41, 42]);
    assert_eq!(serve(&mut server, &request).0, MALFORMED);
    assert_eq!(host::take_deleted(), [CapSlot(41), CapSlot(42)]);
    // The capability decodes but a word is bad: it goes too.
    let request = message(status::request_label(LEND, 3), &[0, 1, 5], &[43]);
    assert_eq!(serve(&mut server, &request).0, MALFORMED);
    assert_eq!(host::take_deleted(), [CapSlot(43)]);
    // An unknown operation's.
    let request = message(status::request_label(0x77, 4), &[], &[44, 45, 46]);
    assert_eq!(serve(&mut server, &request).0, UNKNOWN_OPERATION);
    assert_eq!(
        host::take_deleted(),
        [CapSlot(44), CapSlot(45), CapSlot(46)]
    );
    // An accepted one keeps it.
    let request = message(status::request_label(KEEP, 5), &[], &[47]);
    assert_eq!(serve(&mut server, &request), (OK, 5, vec![1], vec![]));
    assert_eq!(host::take_deleted(), []);
    assert_eq!(server.kept(), Some(CapSlot(47)));
}

#[test]
fn the_client_checks_replies() {
    let reply = |status: u16, words: &[u64], caps: &[u32]| {
        EchoClient::new(Canned::new(message(
            status::reply_label(status, 0),
            words,
            caps,
        )))
    };
    host::take_deleted();
    assert_eq!(reply(OK, &[], &[]).ping(1), Err(Error::Malformed));
    assert_eq!(reply(OK, &[1, 2], &[]).ping(1), Err(Error::Malformed));
    assert_eq!(reply(MALFORMED, &[], &[]).ping(1), Err(Error::Rejected));
    assert_eq!(
        reply(UNKNOWN_OPERATION, &[], &[]).ping(1),
        Err(Error::UnknownOperation)
    );
    assert_eq!(
        reply(status::REPLY_TOO_LARGE, &[], &[]).ping(1),
        Err(Error::TooLarge)
    );
    assert_eq!(reply(0x42, &[], &[]).ping(1), Err(Error::Malformed));
    assert_eq!(
        reply(0x1234, &[], &[]).ping(1),
        Err(Error::Remote(ErrorCode::new(0x1234)))
    );
    assert_eq!(
        reply(OK, &[2, 0x4948], &[]).shout("hi"),
        Err(Error::Malformed)
    );
    assert_eq!(
        reply(OK, &[2, 2, 0x4948 | 1 << 63], &[]).shout("hi"),
        Err(Error::Malformed)
    );
    // Capabilities of a rejected reply are deleted; so is one too many.
    assert_eq!(
        reply(0x100, &[], &[50]).ping(1),
        Err(Error::Remote(echo::OVERFLOW))
    );
    assert_eq!(host::take_deleted(), [CapSlot(50)]);
    assert_eq!(reply(OK, &[], &[51, 52]).give(), Err(Error::Malformed));
    assert_eq!(host::take_deleted(), [CapSlot(51), CapSlot(52)]);
    assert_eq!(reply(OK, &[], &[]).give(), Err(Error::Malformed));
    let cap = reply(OK, &[], &[53]).give().expect("one capability");
    assert_eq!(cap.into_raw(), CapSlot(53));
    assert_eq!(host::take_deleted(), []);
}

#[test]
fn errors_display() {
    assert_eq!(Error::PeerClosed.to_string(), "the server is gone");
    assert_eq!(
        Error::Kernel(abi::SysError::MissingRights).to_string(),
        "call failed: missing rights"
    );
    assert_eq!(Error::from(abi::SysError::PeerClosed), Error::PeerClosed);
    assert_eq!(Error::from(abi::SysError::TimedOut), Error::TimedOut);
}
