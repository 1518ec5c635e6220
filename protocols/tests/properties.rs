//! Property tests of the generated code against hostile input: any message
//! given to `dispatch`, any single-word change of a valid request, any
//! reply given to a client, and random well-formed calls.
//!
//! Decoding is strict, so it is also canonical: a message that decodes is
//! exactly the encoding of what it decoded to. The tests check that by
//! encoding again what the handler (or the client) received.

mod common;

use abi::ipc::{LABEL_MAX, MSG_MAX_WORDS};
use abi::{CapSlot, SysError};
use common::{Canned, echo_client, message};
use proptest::prelude::*;
use protocols::cap::host;
use protocols::echo::{self, Color, EchoClient, EchoServer, EchoService};
use protocols::rt::ipc::Message;
use protocols::status::{self, APPLICATION_MIN, MALFORMED, OK, UNKNOWN_OPERATION};
use protocols::wire::Put;
use protocols::{Bulk, Cap, Error, ErrorCode, ReceivedBulk, Transport};

/// The words and capabilities `value` encodes to.
fn encode(value: &impl Put) -> (Vec<u64>, Vec<CapSlot>) {
    let mut message = Message::new(0);
    value.put(&mut message).expect("fits");
    (message.words().to_vec(), message.caps().to_vec())
}

/// One call of each operation, with its arguments.
#[derive(Clone, Debug)]
enum Call {
    Ping(u64),
    Add(u64, u64),
    Divide(i64, i64),
    Scalars(u8, u16, u32, i8, i16, i32, bool, Color),
    Shout(String),
    Echo(Vec<u8>),
    Keep(u32),
    Give,
    Forget,
    Lend(u32, u64, u64),
}

fn color() -> impl Strategy<Value = Color> {
    prop_oneof![Just(Color::Red), Just(Color::Green), Just(Color::Blue)]
}

/// Integers with the edges more often than chance gives them.
fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..=3,
        Just(u64::MAX),
        Just(1 << 63),
        Just(0xff),
        Just(0x100)
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        word().prop_map(Call::Ping),
        (word(), word()).prop_map(|(a, b)| Call::Add(a, b)),
        (word(), word()).prop_map(|(a, b)| Call::Divide(a as i64, b as i64)),
        (any::<(u8, u16, u32, i8, i16, i32, bool)>(), color())
            .prop_map(|((a, b, c, d, e, f, g), h)| Call::Scalars(a, b, c, d, e, f, g, h)),
        "\\PC{0,124}".prop_map(Call::Shout),
        proptest::collection::vec(any::<u8>(), 0..=504).prop_map(Call::Echo),
        (1u32..100).prop_map(Call::Keep),
        Just(Call::Give),
        Just(Call::Forget),
        (1u32..100, word(), word()).prop_map(|(s, o, l)| Call::Lend(s, o, l)),
    ]
}

/// What a call returned: its reply values encoded again, or a capability,
/// or the error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(Vec<u64>),
    Cap(CapSlot),
    Failed(Error),
}

fn outcome<V: Put>(result: Result<V, Error>) -> Outcome {
    match result {
        Ok(values) => Outcome::Values(encode(&values).0),
        Err(error) => Outcome::Failed(error),
    }
}

/// Makes `call` through `client`.
fn issue<T: Transport>(client: &mut EchoClient<T>, call: &Call) -> Outcome {
    match *call {
        Call::Ping(value) => outcome(client.ping(value)),
        Call::Add(a, b) => outcome(client.add(a, b)),
        Call::Divide(a, b) => outcome(client.divide(a, b)),
        Call::Scalars(a, b, c, d, e, f, g, h) => outcome(client.scalars(a, b, c, d, e, f, g, h)),
        Call::Shout(ref text) => outcome(client.shout(text)),
        Call::Echo(ref data) => outcome(client.echo(data)),
        Call::Keep(slot) => outcome(client.keep(CapSlot(slot))),
        Call::Give => match client.give() {
            Ok(cap) => Outcome::Cap(cap.into_raw()),
            Err(error) => Outcome::Failed(error),
        },
        Call::Forget => outcome(client.forget()),
        Call::Lend(slot, offset_bytes, len_bytes) => outcome(client.lend(Bulk {
            memory: CapSlot(slot),
            offset_bytes,
            len_bytes,
        })),
    }
}

/// What the reference server answers to `call` (the model).
fn expected(call: &Call) -> Outcome {
    let remote = |code: ErrorCode| Outcome::Failed(Error::Remote(code));
    match call {
        Call::Ping(value) => Outcome::Values(vec![*value]),
        Call::Add(a, b) => a
            .checked_add(*b)
            .map_or(remote(echo::OVERFLOW), |sum| Outcome::Values(vec![sum])),
        Call::Divide(_, 0) => remote(echo::DIVIDE_BY_ZERO),
        Call::Divide(i64::MIN, -1) => remote(echo::OVERFLOW),
        Call::Divide(a, b) => Outcome::Values(encode(&(a / b, a % b)).0),
        Call::Scalars(a, b, c, d, e, f, g, h) => Outcome::Values(
            encode(&(
                a.wrapping_add(1),
                b.wrapping_add(1),
                c.wrapping_add(1),
                d.wrapping_add(1),
                e.wrapping_add(1),
                f.wrapping_add(1),
                !g,
                h.next(),
            ))
            .0,
        ),
        Call::Shout(text) if text.len() > echo::SHOUT_MAX_BYTES => remote(echo::TOO_LONG),
        Call::Shout(text) => {
            Outcome::Values(encode(&(text.len() as u64, text.to_ascii_uppercase().as_str())).0)
        }
        Call::Echo(data) => Outcome::Values(encode(&data.as_slice()).0),
        Call::Keep(_) | Call::Give | Call::Forget => unreachable!("stateful: not modelled"),
        Call::Lend(_, offset, len) => match offset.checked_add(*len) {
            Some(end) if end <= protocols::BULK_MAX_BYTES => {
                let pages = if *len == 0 {
                    0
                } else {
                    end.div_ceil(4096) - offset / 4096
                };
                Outcome::Values(vec![pages, *len])
            }
            _ => Outcome::Failed(Error::Rejected),
        },
    }
}

/// A transport that keeps the request and fails the call.
#[derive(Default)]
struct Capture {
    request: Option<Message>,
}

impl Transport for Capture {
    fn call(&mut self, message: &mut Message, _deadline: u64) -> Result<(), SysError> {
        self.request = Some(message.clone());
        Err(SysError::InvalidCap)
    }
}

/// The request `call` sends.
fn request_of(call: &Call) -> Message {
    let mut client = EchoClient::new(Capture::default());
    assert_eq!(
        issue(&mut client, call),
        Outcome::Failed(Error::Kernel(SysError::InvalidCap))
    );
    client
        .client_mut()
        .transport_mut()
        .request
        .take()
        .expect("sent")
}

/// An `Echo` server that records, encoded again, the arguments each
/// handler got, and answers with harmless values.
#[derive(Default)]
struct Recorder {
    args: Option<(Vec<u64>, Vec<CapSlot>)>,
}

impl Recorder {
    fn record(&mut self, args: &impl Put) {
        self.args = Some(encode(args));
    }
}

impl EchoServer for Recorder {
    fn ping(&mut self, value: u64) -> Result<u64, ErrorCode> {
        self.record(&(value,));
        Ok(value)
    }

    fn add(&mut self, a: u64, b: u64) -> Result<u64, ErrorCode> {
        self.record(&(a, b));
        Ok(a)
    }

    fn divide(&mut self, dividend: i64, divisor: i64) -> Result<(i64, i64), ErrorCode> {
        self.record(&(dividend, divisor));
        Err(echo::DIVIDE_BY_ZERO)
    }

    fn scalars(
        &mut self,
        byte: u8,
        half: u16,
        word32: u32,
        small: i8,
        short: i16,
        signed32: i32,
        flag: bool,
        color: Color,
    ) -> Result<(u8, u16, u32, i8, i16, i32, bool, Color), ErrorCode> {
        let values = (byte, half, word32, small, short, signed32, flag, color);
        self.record(&values);
        Ok(values)
    }

    fn shout<'m>(&'m mut self, text: &'m str) -> Result<(u64, &'m str), ErrorCode> {
        self.record(&(text,));
        Ok((0, text))
    }

    fn echo<'m>(&'m mut self, data: &'m [u8]) -> Result<&'m [u8], ErrorCode> {
        self.record(&(data,));
        Ok(&data[..data.len().min(8)])
    }

    fn keep(&mut self, cap: Cap) -> Result<u64, ErrorCode> {
        self.record(&(cap.slot(),));
        Ok(1)
    }

    fn give(&mut self) -> Result<CapSlot, ErrorCode> {
        self.record(&());
        Ok(CapSlot(1))
    }

    fn forget(&mut self) -> Result<(), ErrorCode> {
        self.record(&());
        Ok(())
    }

    fn lend(&mut self, data: ReceivedBulk) -> Result<(u64, u64), ErrorCode> {
        self.record(&Bulk {
            memory: data.memory.slot(),
            offset_bytes: data.offset_bytes,
            len_bytes: data.len_bytes,
        });
        Ok((data.offset_bytes, data.len_bytes))
    }
}

/// Any message: a label whose low 16 bits are mostly an opcode of `Echo`,
/// 0 to 64 words (mostly small values), 0 to 3 capabilities.
fn any_message() -> impl Strategy<Value = Message> {
    let label = prop_oneof![
        (0u16..=12, any::<u32>()).prop_map(|(op, id)| status::request_label(op, id)),
        (0..=LABEL_MAX),
    ];
    let words = proptest::collection::vec(word(), 0..=MSG_MAX_WORDS);
    let caps = proptest::collection::vec(1u32..1000, 0..=3);
    (label, words, caps).prop_map(|(label, words, caps)| message(label, &words, &caps))
}

/// Whether `status` is one `dispatch` may answer.
fn valid_status(status: u16) -> bool {
    matches!(status, OK | MALFORMED | UNKNOWN_OPERATION) || status >= APPLICATION_MIN
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any message given to `dispatch` is answered with a known status and
    /// the request's id, and leaves no capability behind.
    #[test]
    fn dispatch_answers_any_message(request in any_message()) {
        let mut server = EchoService::new();
        host::take_deleted();
        let mut reply = Message::new(0);
        echo::dispatch(&mut server, &request, &mut reply);
        let (status, id) = status::split_label(reply.label());
        let (_, request_id) = status::split_label(request.label());
        prop_assert!(valid_status(status), "status {status:#x}");
        prop_assert_eq!(id, request_id);
        if status != OK {
            prop_assert!(reply.words().is_empty() && reply.caps().is_empty());
        }
        // Every capability received is either kept or deleted, once.
        let mut accounted = host::take_deleted();
        accounted.extend(server.kept());
        accounted.sort();
        let mut received = request.caps().to_vec();
        received.sort();
        prop_assert_eq!(accounted, received);
    }

    /// Every well-formed call round-trips through a loopback and gets the
    /// reference server's answer.
    #[test]
    fn well_formed_calls_round_trip(call in call()) {
        let mut client = echo_client();
        if let Call::Keep(_) | Call::Give | Call::Forget = call {
            // Stateful: keep, then give, then forget.
            prop_assert_eq!(client.keep(CapSlot(1)), Ok(1));
            prop_assert!(matches!(issue(&mut client, &Call::Give), Outcome::Cap(_)));
            prop_assert_eq!(client.forget(), Ok(()));
            prop_assert_eq!(client.give(), Err(Error::Remote(echo::NOTHING_KEPT)));
        } else {
            prop_assert_eq!(issue(&mut client, &call), expected(&call));
        }
    }

    /// A valid request with one word changed either still decodes (and is
    /// then exactly the encoding of what the handler got) or is answered
    /// `MALFORMED`; its capabilities are never leaked.
    #[test]
    fn changed_requests_decode_exactly_or_are_malformed(
        call in call(),
        index in any::<prop::sample::Index>(),
        new_word in word(),
        flip in 0u32..64,
    ) {
        let request = request_of(&call);
        let mut words = request.words().to_vec();
        let caps: Vec<u32> = request.caps().iter().map(|slot| slot.0).collect();
        if words.is_empty() {
            words.push(new_word);
        } else {
            let at = index.index(words.len());
            words[at] = if new_word == words[at] { words[at] ^ 1 << flip } else { new_word };
        }
        let changed = message(request.label(), &words, &caps);
        let mut server = Recorder::default();
        host::take_deleted();
        let mut reply = Message::new(0);
        echo::dispatch(&mut server, &changed, &mut reply);
        let (status, _) = status::split_label(reply.label());
        prop_assert!(status == OK || status == MALFORMED || status >= APPLICATION_MIN);
        match server.args {
            Some((args, arg_caps)) => {
                prop_assert_ne!(status, MALFORMED);
                prop_assert_eq!(args, words);
                prop_assert_eq!(arg_caps.len(), caps.len());
            }
            None => {
                prop_assert_eq!(status, MALFORMED);
                prop_assert_eq!(host::take_deleted().len(), caps.len());
            }
        }
    }

    /// A changed opcode is answered `UNKNOWN_OPERATION`, or decodes as the
    /// operation it now names, or is `MALFORMED` for it.
    #[test]
    fn changed_opcodes_are_unknown_or_checked(call in call(), opcode in any::<u16>()) {
        let request = request_of(&call);
        let (_, id) = status::split_label(request.label());
        let caps: Vec<u32> = request.caps().iter().map(|slot| slot.0).collect();
        let changed = message(status::request_label(opcode, id), request.words(), &caps);
        let mut server = Recorder::default();
        host::take_deleted();
        let mut reply = Message::new(0);
        echo::dispatch(&mut server, &changed, &mut reply);
        let (status, _) = status::split_label(reply.label());
        let known = echo::Echo::OPERATIONS.iter().any(|op| op.opcode == opcode);
        if known {
            prop_assert_ne!(status, UNKNOWN_OPERATION);
            prop_assert_eq!(server.args.is_some(), status != MALFORMED);
        } else {
            prop_assert_eq!(status, UNKNOWN_OPERATION);
            prop_assert_eq!(host::take_deleted().len(), caps.len());
        }
    }

    /// A client given any reply never panics; a reply it accepts is
    /// exactly the encoding of what it returned; the capabilities of a
    /// reply it rejects are deleted.
    #[test]
    fn clients_check_any_reply(
        call in call(),
        status in prop_oneof![4 => Just(OK), 1 => any::<u16>()],
        words in proptest::collection::vec(word(), 0..=MSG_MAX_WORDS),
        caps in proptest::collection::vec(1u32..1000, 0..=3),
        same_id in prop_oneof![9 => Just(true), 1 => Just(false)],
    ) {
        let reply = message(status::reply_label(status, 0), &words, &caps);
        let mut client = EchoClient::new(Canned::new(reply));
        client.client_mut().transport_mut().same_id = same_id;
        host::take_deleted();
        match issue(&mut client, &call) {
            Outcome::Values(values) => {
                prop_assert_eq!(status, OK);
                prop_assert_eq!(values, words);
                prop_assert!(caps.is_empty());
            }
            Outcome::Cap(slot) => {
                prop_assert!(words.is_empty());
                prop_assert_eq!(caps, vec![slot.0]);
            }
            Outcome::Failed(Error::TooLarge) if status != status::REPLY_TOO_LARGE => {
                // The request did not fit; nothing was sent.
                prop_assert!(matches!(call, Call::Echo(ref data) if data.len() > 504));
            }
            Outcome::Failed(_) => {
                let mut deleted: Vec<u32> = host::take_deleted().iter().map(|s| s.0).collect();
                deleted.sort();
                let mut caps = caps;
                caps.sort();
                prop_assert_eq!(deleted, caps);
            }
        }
    }
}
