//! The terminal's wire: the serial driver (or whatever serves the
//! `Serial` protocol in its place), what the console writes to it, and the
//! input thread that reads it.
//!
//! The console owns the terminal's output processing: LF becomes CR LF in
//! the line discipline (cooked mode), not in the driver, so the console
//! turns the driver's own `CRLF` flag off each time it (re)connects; a raw
//! program's bytes then reach the terminal unchanged.
//!
//! Writes wait at most [`WRITE_DEADLINE`] for the driver to take each
//! call and are tried once more after `PeerClosed` (a driver being
//! restarted); what it still does not take is dropped and counted, so a
//! dead driver never blocks the console's clients.

use alloc::vec::Vec;

use protocols::Error;
use protocols::serial::{self, READ_MAX_BYTES, SerialClient, Wait, flags};
use rt::ipc::Endpoint;
use rt::time::{Duration, deadline_after};

use crate::state::{Shared, deliver};

/// How long a write waits for the driver to take it.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);
/// How long the input thread waits before reading again after the driver
/// went away (it is being restarted) or refused the read.
const RETRY_DELAY: Duration = Duration::from_millis(10);
/// How long it waits after any other failure (a revoked endpoint: the
/// driver was given up on).
const FAILED_DELAY: Duration = Duration::from_millis(500);

/// The terminal's endpoint.
#[derive(Debug)]
pub struct Port {
    endpoint: Endpoint,
}

impl Port {
    /// The terminal behind `endpoint`, a `Serial` server.
    pub fn new(endpoint: Endpoint) -> Port {
        Port { endpoint }
    }

    /// A client of the terminal (each thread has its own).
    pub fn client(&'static self) -> SerialClient<&'static Endpoint> {
        SerialClient::new(&self.endpoint)
    }
}

/// Writes `bytes` to the terminal through `client`; returns how many the
/// driver did not take (0 normally).
pub fn write(client: &mut SerialClient<&'static Endpoint>, bytes: &[u8]) -> usize {
    let mut left = bytes;
    while !left.is_empty() {
        let chunk = &left[..left.len().min(serial::WRITE_MAX_BYTES)];
        client
            .client_mut()
            .set_deadline(deadline_after(WRITE_DEADLINE));
        let mut result = client.write(chunk);
        if result == Err(Error::PeerClosed) {
            client
                .client_mut()
                .set_deadline(deadline_after(WRITE_DEADLINE));
            result = client.write(chunk);
        }
        if result.is_err() {
            return left.len();
        }
        left = &left[chunk.len()..];
    }
    0
}

/// Turns the driver's `\n` translation off (the line discipline does it),
/// keeping its other flags. Failures are left to the next read to notice.
fn connect(client: &mut SerialClient<&'static Endpoint>) {
    client.client_mut().set_deadline(0);
    if let Ok((_, _, now)) = client.info()
        && now & flags::CRLF != 0
    {
        let _ = client.configure(now & !flags::CRLF);
    }
}

/// The input thread: reads the terminal for ever and hands every byte to
/// the line discipline; writes the echo, then answers the reads and signal
/// calls the input made answerable.
pub fn input_loop(port: &'static Port, shared: &'static Shared) {
    let mut client = port.client();
    let mut bytes = [0u8; READ_MAX_BYTES];
    let mut echo = Vec::new();
    connect(&mut client);
    loop {
        let count = match client.read(READ_MAX_BYTES as u32, Wait::Forever, 0) {
            Ok(read) => {
                let count = read.len().min(bytes.len());
                bytes[..count].copy_from_slice(&read[..count]);
                count
            }
            // The driver ended (init restarts it on the same endpoint) or
            // has no thread to spare: read again soon.
            Err(Error::PeerClosed) => {
                rt::time::sleep(RETRY_DELAY);
                connect(&mut client);
                continue;
            }
            Err(Error::Remote(code)) if code == serial::READERS_BUSY => {
                rt::time::sleep(RETRY_DELAY);
                continue;
            }
            Err(_) => {
                rt::time::sleep(FAILED_DELAY);
                continue;
            }
        };
        let mut state = shared.lock();
        echo.clear();
        let effects = state.terminal.input(&bytes[..count], &mut echo);
        state.send_raw(&echo);
        state.terminal.wake(deliver);
        for signal in effects.signals {
            state.terminal.raise(signal, deliver);
        }
    }
}
