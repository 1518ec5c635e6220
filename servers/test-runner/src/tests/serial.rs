//! The serial driver (`bin/serial`, COM1's 16550) through its protocol:
//! writes, reads that do not wait, wait for a deadline or for ever, the
//! UART's loopback mode through the receive interrupt, malformed requests,
//! readers blocked while others write, readers told `PeerClosed` when the
//! driver is killed, and a line typed on the console (fed by xtask).
//!
//! The driver is the system's own: init started it from
//! `system-test.toml` and restarts it when a test kills it ([`serial`]).

use alloc::vec::Vec;

use abi::Rights;
use abi::startup::handle::CLIENT;
use protocols::Error;
use protocols::serial::{self, READ_MAX_BYTES, SerialClient, Wait, flags};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message};
use rt::time::{Duration, Instant, deadline_after};

use super::support::must;
use super::{Failure, TestResult, debug_cap};
use crate::{ensure, ensure_eq};

/// What xtask types on the console when it sees [`FEED_MARKER`]
/// (`xtask/src/test.rs` has the same two strings).
const FED_LINE: &str = "mica serial ok";
/// The line that asks xtask for [`FED_LINE`].
const FEED_MARKER: &str = "serial-test: feed me a line";

/// The system's serial driver, which init started, and a way to kill it.
pub struct Driver {
    /// The test's copy of the endpoint it serves.
    pub endpoint: Endpoint,
}

impl Driver {
    /// A client on the test's copy of the endpoint.
    fn client(&self) -> SerialClient<&Endpoint> {
        SerialClient::new(&self.endpoint)
    }

    /// Has init kill the running instance (it restarts it at once: the
    /// test configuration's policy).
    fn kill(&self) -> TestResult {
        let mut supervisor = super::supervision::supervisor()?;
        ensure_eq!(supervisor.kill("serial"), Ok(()));
        Ok(())
    }
}

/// The serial driver init runs (`system-test.toml`), answering and with
/// its default flags (a failed test may have left loopback on).
pub fn serial() -> Result<Driver, Failure> {
    let endpoint = super::supervision::granted(CLIENT, "serial")?;
    let driver = Driver { endpoint };
    let mut client = driver.client();
    client
        .client_mut()
        .set_deadline(deadline_after(Duration::from_secs(5)));
    let _ = client.configure(flags::DEFAULT);
    // Nothing left over from an earlier test (looped-back output, a line
    // nobody read).
    while client
        .read(READ_MAX_BYTES as u32, Wait::None, 0)
        .is_ok_and(|bytes| !bytes.is_empty())
    {}
    let info = client.info();
    if info.map(|(_, _, f)| f) != Ok(flags::DEFAULT) {
        rt::println!("    info: {info:?}");
        return Err(fail("the driver answers info", line!()));
    }
    Ok(driver)
}

fn fail(what: &'static str, line: u32) -> Failure {
    Failure {
        what,
        file: file!(),
        line,
    }
}

/// Reads until `want` bytes came or `deadline` passed.
fn read_some(
    client: &mut SerialClient<&Endpoint>,
    want: usize,
    deadline: u64,
) -> Result<Vec<u8>, Failure> {
    let mut got = Vec::new();
    while got.len() < want && rt::time::now_ns() < deadline {
        let bytes = client
            .read(READ_MAX_BYTES as u32, Wait::Until, deadline)
            .map_err(|_| fail("read", line!()))?;
        got.extend_from_slice(bytes);
    }
    Ok(got)
}

/// `write` takes every byte and says so.
pub fn write_returns_count() -> TestResult {
    let driver = serial()?;
    let mut client = driver.client();
    ensure_eq!(
        client.write(b"serial-test: written by the driver\n"),
        Ok(35)
    );
    ensure_eq!(client.write(b""), Ok(0));
    ensure_eq!(
        serial::write_all(&mut client, &[b'.'; 600]).map(|n| n as usize),
        Ok(600)
    );
    ensure_eq!(client.write(b"\n"), Ok(1));
    ensure_eq!(
        client.write(&[0; serial::WRITE_MAX_BYTES + 1]),
        Err(Error::TooLarge)
    );
    Ok(())
}

/// A read that does not wait answers at once, with nothing.
pub fn read_nonblocking_empty() -> TestResult {
    let driver = serial()?;
    let mut client = driver.client();
    let start = Instant::now();
    ensure_eq!(client.read(64, Wait::None, 0), Ok(&b""[..]));
    ensure!(start.elapsed() < Duration::from_millis(100));
    Ok(())
}

/// A read with a deadline returns nothing at the deadline, never before.
pub fn read_times_out() -> TestResult {
    let driver = serial()?;
    let mut client = driver.client();
    let start = Instant::now();
    let deadline = deadline_after(Duration::from_millis(50));
    ensure_eq!(client.read(64, Wait::Until, deadline), Ok(&b""[..]));
    ensure!(rt::time::now_ns() >= deadline);
    ensure!(start.elapsed() < Duration::from_secs(2));
    Ok(())
}

/// In loopback mode a write comes back through the receive interrupt.
pub fn loopback_through_interrupt() -> TestResult {
    let driver = serial()?;
    let mut client = driver.client();
    let before = must(crate::raw::debug_counters(debug_cap()))?.irq_deliveries;
    ensure_eq!(
        client.configure(flags::CRLF | flags::LOOPBACK),
        Ok(flags::CRLF)
    );
    ensure_eq!(client.write(b"loop\n"), Ok(5));
    let deadline = deadline_after(Duration::from_secs(2));
    let got = read_some(&mut client, 6, deadline)?;
    ensure_eq!(got.as_slice(), b"loop\r\n");
    let after = must(crate::raw::debug_counters(debug_cap()))?.irq_deliveries;
    ensure!(after > before);
    // More than the FIFO holds, in one write: the driver drains as it goes.
    let long: Vec<u8> = (0..200u32).map(|i| b'a' + (i % 26) as u8).collect();
    ensure_eq!(client.write(&long), Ok(200));
    let got = read_some(&mut client, 200, deadline_after(Duration::from_secs(2)))?;
    ensure_eq!(got, long);
    ensure_eq!(client.info(), Ok((0, 0, flags::CRLF | flags::LOOPBACK)));
    ensure_eq!(
        client.configure(flags::CRLF),
        Ok(flags::CRLF | flags::LOOPBACK)
    );
    Ok(())
}

/// Requests no client stub sends get the documented statuses, and the
/// driver keeps serving.
pub fn malformed_requests() -> TestResult {
    let driver = serial()?;
    let status = |message: &Message| (message.label() & 0xffff) as u16;
    let label = |opcode: u64, id: u64| opcode | (id << 16);
    let cases: &[(u64, &[u64], u16)] = &[
        // An unknown opcode.
        (77, &[], protocols::status::UNKNOWN_OPERATION),
        // `read` cut short, and with an unknown wait.
        (3, &[8], protocols::status::MALFORMED),
        (3, &[8, 9, 0], protocols::status::MALFORMED),
        // `write` claiming more bytes than the message holds.
        (2, &[600, 0], protocols::status::MALFORMED),
        // `info` with a word too many.
        (1, &[0], protocols::status::MALFORMED),
        // Application errors: read 0 bytes, past the limit, a deadline
        // with no wait; unknown flags.
        (3, &[0, 0, 0], serial::BAD_LENGTH.get()),
        (3, &[505, 0, 0], serial::BAD_LENGTH.get()),
        (3, &[8, 0, 5], serial::BAD_WAIT.get()),
        (3, &[8, 2, 0], serial::BAD_WAIT.get()),
        (4, &[1 << 7], serial::BAD_FLAGS.get()),
    ];
    for (i, &(opcode, words, want)) in cases.iter().enumerate() {
        let mut m = Message::with_words(label(opcode, i as u64 + 1), words);
        must(driver.endpoint.call(&mut m))?;
        if status(&m) != want {
            rt::println!("    case {i}: status {:#x}, want {want:#x}", status(&m));
            return Err(fail("the documented status", line!()));
        }
        ensure_eq!(m.label() >> 16, i as u64 + 1);
    }
    // The largest request: a write of 63 words whose length is one past
    // what they hold.
    let mut words = [0u64; 64];
    words[0] = (serial::WRITE_MAX_BYTES + 1) as u64;
    let mut m = Message::with_words(label(2, 99), &words);
    must(driver.endpoint.call(&mut m))?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    ensure_eq!(driver.client().info(), Ok((0, 0, flags::DEFAULT)));
    Ok(())
}

/// Readers blocked in the driver when it is killed get `PeerClosed`; a
/// read past the driver's spare threads is `READERS_BUSY`, and writes are
/// served meanwhile.
pub fn killed_reader_gets_peer_closed() -> TestResult {
    let driver = serial()?;
    let mut readers = Vec::new();
    for _ in 0..3 {
        let endpoint = must(driver.endpoint.copy(Rights::WRITE))?;
        let reader = rt::thread::spawn(move || {
            let mut client = SerialClient::new(&endpoint);
            client.read(16, Wait::Forever, 0).map(<[u8]>::len)
        });
        readers.push(must(reader)?);
    }
    rt::time::sleep(Duration::from_millis(30));
    let mut client = driver.client();
    ensure_eq!(
        client.read(16, Wait::Forever, 0),
        Err(Error::Remote(serial::READERS_BUSY))
    );
    ensure_eq!(client.read(16, Wait::None, 0), Ok(&b""[..]));
    ensure_eq!(client.write(b""), Ok(0));
    driver.kill()?;
    for reader in readers {
        let result = reader.join().map_err(|_| fail("reader ends", line!()))?;
        ensure_eq!(result, Err(Error::PeerClosed));
    }
    Ok(())
}

/// The driver killed 100 times in a row, each time with a client in the
/// middle of a call (a read waiting for input): the client gets
/// `PeerClosed`, the next call is answered by the new instance, and init's
/// frame count after the last restart equals the count after the first.
pub fn killed_a_hundred_times() -> TestResult {
    let driver = serial()?;
    let mut supervisor = super::supervision::supervisor()?;
    let mut after_first = None;
    let mut cut = 0;
    for _ in 0..100 {
        let endpoint = must(driver.endpoint.copy(Rights::WRITE))?;
        // Bounded: a read that never reached the dead instance would be
        // served by the next one and end empty at the deadline instead.
        let deadline = deadline_after(Duration::from_millis(500));
        let reader = must(rt::thread::spawn(move || {
            let mut client = SerialClient::new(&endpoint);
            client.read(16, Wait::Until, deadline).map(<[u8]>::len)
        }))?;
        // The reader has the CPU until it blocks; the driver, lower, takes
        // the call while this thread sleeps.
        rt::time::sleep(Duration::from_millis(5));
        ensure_eq!(supervisor.kill("serial"), Ok(()));
        let result = reader.join().map_err(|_| fail("reader ends", line!()))?;
        // Under load the call may still wait in the endpoint's queue when
        // the instance dies (the driver had no CPU in the 5 ms); the next
        // instance then answers it, empty, at its deadline.
        match result {
            Err(Error::PeerClosed) => cut += 1,
            Ok(0) => {}
            other => ensure_eq!(other, Err(Error::PeerClosed)),
        }
        // Bounded too: with restarts broken this fails, it does not hang.
        let mut client = driver.client();
        client
            .client_mut()
            .set_deadline(deadline_after(Duration::from_secs(5)));
        ensure_eq!(client.info().map(|(_, _, f)| f), Ok(flags::DEFAULT));
        let (_, used) = supervisor.frames().map_err(|_| fail("frames", line!()))?;
        ensure_eq!(used, *after_first.get_or_insert(used));
    }
    // Most calls were cut by the kill (all of them on an idle machine).
    ensure!(cut >= 50);
    Ok(())
}

/// A reader waiting for input does not stop another client's writes.
pub fn blocked_reader_does_not_stop_writer() -> TestResult {
    let driver = serial()?;
    let endpoint = must(driver.endpoint.copy(Rights::WRITE))?;
    let reader = must(rt::thread::spawn(move || {
        let mut client = SerialClient::new(&endpoint);
        let deadline = deadline_after(Duration::from_secs(5));
        client.read(16, Wait::Until, deadline).map(<[u8]>::to_vec)
    }))?;
    rt::time::sleep(Duration::from_millis(30));
    let mut client = driver.client();
    let start = Instant::now();
    ensure_eq!(client.configure(flags::LOOPBACK), Ok(flags::CRLF));
    ensure_eq!(client.write(b"x"), Ok(1));
    let got = reader.join().map_err(|_| fail("reader ends", line!()))?;
    ensure_eq!(got.as_deref(), Ok(&b"x"[..]));
    ensure!(start.elapsed() < Duration::from_secs(2));
    ensure_eq!(client.configure(flags::DEFAULT), Ok(flags::LOOPBACK));
    Ok(())
}

/// A line typed on the console reaches a reader: xtask types [`FED_LINE`]
/// when it sees [`FEED_MARKER`].
pub fn echoes_a_fed_line() -> TestResult {
    let driver = serial()?;
    let mut client = driver.client();
    rt::println!("{FEED_MARKER}");
    let deadline = deadline_after(Duration::from_secs(5));
    let mut line = Vec::new();
    while !line.ends_with(b"\n") && !line.ends_with(b"\r") {
        if rt::time::now_ns() >= deadline {
            rt::println!("    got {:?} before the deadline", line);
            return Err(fail("a fed line within 5 s", line!()));
        }
        let bytes = client
            .read(READ_MAX_BYTES as u32, Wait::Until, deadline)
            .map_err(|_| fail("read", line!()))?;
        line.extend_from_slice(bytes);
    }
    let text = core::str::from_utf8(&line).map_err(|_| fail("UTF-8", line!()))?;
    ensure_eq!(text.trim_end(), FED_LINE);
    ensure_eq!(client.write(b"serial-test: echo: "), Ok(19));
    ensure_eq!(client.write(text.trim_end().as_bytes()), Ok(14));
    ensure_eq!(client.write(b"\n"), Ok(1));
    Ok(())
}
