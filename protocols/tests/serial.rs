//! The `Serial` protocol through a loopback, against a model of the
//! driver built from the same pieces (`RxRing`, `OutputChunks`,
//! `ReadWait::check`): every operation, the size limits, the error codes,
//! and malformed requests.
//!
//! The model cannot block (the loopback runs the handler in the caller's
//! thread), so a read that would wait answers as the driver does when its
//! deadline has passed: with what is there, possibly nothing; and a
//! waiting read beyond the model's thread count is `READERS_BUSY`.

mod common;

use common::message;
use protocols::Error;
use protocols::loopback::Loopback;
use protocols::rt::ipc::Message;
use protocols::serial::{
    self, OutputChunks, READ_MAX_BYTES, ReadWait, RxRing, Serial, SerialClient, SerialServer,
    WRITE_MAX_BYTES, Wait, flags,
};
use protocols::status::{self, MALFORMED, OK, UNKNOWN_OPERATION};
use protocols::{ErrorCode, status::split_label};

/// The driver without hardware: written bytes go to `wire` (or, in
/// loopback mode, into the receive ring), as 16-byte FIFO loads.
struct Model {
    rx: RxRing<64>,
    flags: u32,
    wire: Vec<u8>,
    /// Reads that may still wait (the driver's spare threads).
    spare_waiters: u32,
    read: [u8; READ_MAX_BYTES],
}

impl Model {
    fn new() -> Model {
        Model {
            rx: RxRing::new(),
            flags: flags::DEFAULT,
            wire: Vec::new(),
            spare_waiters: 1,
            read: [0; READ_MAX_BYTES],
        }
    }
}

impl SerialServer for Model {
    fn info(&mut self) -> Result<(u64, u64, u32), ErrorCode> {
        Ok((self.rx.len() as u64, self.rx.dropped(), self.flags))
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        let mut chunks = OutputChunks::new(data, self.flags & flags::CRLF != 0);
        let mut fifo = [0; 16];
        loop {
            let n = chunks.next_chunk(&mut fifo);
            if n == 0 {
                return Ok(data.len() as u64);
            }
            if self.flags & flags::LOOPBACK != 0 {
                fifo[..n].iter().for_each(|&b| self.rx.push(b));
            } else {
                self.wire.extend_from_slice(&fifo[..n]);
            }
        }
    }

    fn read(&mut self, max: u32, wait: Wait, deadline: u64) -> Result<&[u8], ErrorCode> {
        let (max, wait) = ReadWait::check(max, wait, deadline)?;
        // A read that may wait finds its deadline passed at once, if the
        // model has a thread to spare for it.
        if self.rx.is_empty() && wait != ReadWait::None && self.spare_waiters == 0 {
            return Err(serial::READERS_BUSY);
        }
        let n = self.rx.pop_into(&mut self.read[..max]);
        Ok(&self.read[..n])
    }

    fn configure(&mut self, flags: u32) -> Result<u32, ErrorCode> {
        if flags & !flags::ALL != 0 {
            return Err(serial::BAD_FLAGS);
        }
        Ok(core::mem::replace(&mut self.flags, flags))
    }
}

fn client() -> SerialClient<Loopback<Model>> {
    SerialClient::new(Loopback::new(Model::new(), serial::dispatch::<Model>))
}

fn model(client: &mut SerialClient<Loopback<Model>>) -> &mut Model {
    &mut client.client_mut().transport_mut().server
}

/// Runs a hand-made request through the dispatch: status, id, words.
fn raw(request: &Message) -> (u16, u32, Vec<u64>) {
    let mut server = Model::new();
    let mut reply = Message::new(0);
    serial::dispatch(&mut server, request, &mut reply);
    let (status, id) = split_label(reply.label());
    (status, id, reply.words().to_vec())
}

#[test]
fn operations_are_listed() {
    assert_eq!(Serial::ID, 0x5352);
    let ops: Vec<_> = Serial::OPERATIONS
        .iter()
        .map(|op| (op.name, op.opcode, op.idempotent))
        .collect();
    assert_eq!(
        ops,
        [
            ("info", 1, true),
            ("write", 2, false),
            ("read", 3, false),
            ("configure", 4, true)
        ]
    );
}

#[test]
fn info_starts_with_the_defaults() {
    assert_eq!(client().info(), Ok((0, 0, flags::CRLF)));
}

#[test]
fn write_counts_input_bytes_and_translates_newlines() {
    let mut client = client();
    assert_eq!(client.write(b"hi\n"), Ok(3));
    assert_eq!(client.configure(0), Ok(flags::CRLF));
    assert_eq!(client.write(b"raw\n"), Ok(4));
    assert_eq!(client.write(b""), Ok(0));
    assert_eq!(model(&mut client).wire, b"hi\r\nraw\n");
}

#[test]
fn write_limit_and_write_all() {
    let mut client = client();
    client.configure(0).unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(client.write(&data[..WRITE_MAX_BYTES]), Ok(504));
    // One byte more does not fit in a message: nothing is sent.
    let calls = client.client().transport().calls();
    assert_eq!(
        client.write(&data[..WRITE_MAX_BYTES + 1]),
        Err(Error::TooLarge)
    );
    assert_eq!(client.client().transport().calls(), calls);
    assert_eq!(serial::write_all(&mut client, &data), Ok(3000));
    let wire = &model(&mut client).wire;
    assert_eq!(&wire[..504], &data[..504]);
    assert_eq!(&wire[504..], &data[..]);
}

#[test]
fn loopback_reads_back_and_drops_past_the_ring() {
    let mut client = client();
    assert_eq!(client.configure(flags::LOOPBACK), Ok(flags::CRLF));
    assert_eq!(client.write(b"hello"), Ok(5));
    assert_eq!(client.info(), Ok((5, 0, flags::LOOPBACK)));
    assert_eq!(client.read(3, Wait::None, 0), Ok(&b"hel"[..]));
    assert_eq!(client.read(100, Wait::Until, 1), Ok(&b"lo"[..]));
    assert_eq!(client.read(100, Wait::None, 0), Ok(&b""[..]));
    // The model's ring holds 64 bytes.
    assert_eq!(client.write(&[b'x'; 70]), Ok(70));
    assert_eq!(client.info(), Ok((64, 6, flags::LOOPBACK)));
    let read = client.read(READ_MAX_BYTES as u32, Wait::Forever, 0);
    assert_eq!(read, Ok(&[b'x'; 64][..]));
}

#[test]
fn bad_requests_get_their_error_codes() {
    let mut client = client();
    let remote = |code| Err(Error::Remote(code));
    assert_eq!(client.read(0, Wait::None, 0), remote(serial::BAD_LENGTH));
    assert_eq!(
        client.read(READ_MAX_BYTES as u32 + 1, Wait::None, 0),
        remote(serial::BAD_LENGTH)
    );
    assert_eq!(client.read(1, Wait::Until, 0), remote(serial::BAD_WAIT));
    assert_eq!(client.read(1, Wait::None, 7), remote(serial::BAD_WAIT));
    assert_eq!(
        client.configure(1 << 2),
        Err(Error::Remote(serial::BAD_FLAGS))
    );
    model(&mut client).spare_waiters = 0;
    assert_eq!(
        client.read(1, Wait::Forever, 0),
        remote(serial::READERS_BUSY)
    );
    // Not waiting needs no thread.
    assert_eq!(client.read(1, Wait::None, 0), Ok(&b""[..]));
    // The flags were not changed by the bad configure.
    assert_eq!(client.info(), Ok((0, 0, flags::CRLF)));
}

#[test]
fn malformed_requests_are_refused() {
    let label = |opcode: u64, id: u64| opcode | id << 16;
    // Unknown opcodes.
    for opcode in [0, 5, 0xffff] {
        let (status, id, words) = raw(&message(label(opcode, 9), &[], &[]));
        assert_eq!((status, id, words.len()), (UNKNOWN_OPERATION, 9, 0));
    }
    let malformed: &[(u64, &[u64])] = &[
        // info with an extra word.
        (1, &[0]),
        // write without its length, with a length past the message, with
        // non-zero padding, and with a word too many.
        (2, &[]),
        (2, &[9, 0]),
        (2, &[1, 0x100]),
        (2, &[1, 0x41, 0]),
        // read: truncated, a max past u32, an unknown wait, too long.
        (3, &[1, 0]),
        (3, &[1 << 32, 0, 0]),
        (3, &[1, 3, 0]),
        (3, &[1, 0, 0, 0]),
        // configure: missing flags, flags past u32.
        (4, &[]),
        (4, &[1 << 32]),
    ];
    for (i, &(opcode, words)) in malformed.iter().enumerate() {
        let (status, id, reply) = raw(&message(label(opcode, i as u64), words, &[]));
        assert_eq!((status, id), (MALFORMED, i as u32), "case {i}");
        assert!(reply.is_empty());
    }
    // A capability nobody asked for is refused (and deleted).
    let (status, _, _) = raw(&message(label(1, 1), &[], &[77]));
    assert_eq!(status, MALFORMED);
    // Well-formed words go through.
    let (status, _, words) = raw(&message(label(2, 3), &[2, 0x0a41], &[]));
    assert_eq!((status, words), (OK, vec![2]));
    let (status, _, words) = raw(&message(label(3, 4), &[8, 0, 0], &[]));
    assert_eq!((status, words), (OK, vec![0]));
    assert_eq!(status::APPLICATION_MIN, serial::BAD_LENGTH.get());
}

#[test]
fn info_is_retried_after_a_restart_but_write_is_not() {
    let mut client = client();
    client.client_mut().transport_mut().fail_next(1);
    assert_eq!(client.info(), Ok((0, 0, flags::CRLF)));
    client.client_mut().transport_mut().fail_next(1);
    assert_eq!(client.write(b"x"), Err(Error::PeerClosed));
}
