//! What the receive loop and the input thread share, behind one lock: the
//! terminal (line discipline and waiting calls, `ttycore::terminal`) and
//! the client that writes to the wire.
//!
//! Every write to the terminal (program output and echo) is made with the
//! lock held, so output and echo never interleave inside a write, and the
//! echo of a line always goes out before the reader it wakes is answered.

use alloc::vec::Vec;

use protocols::serial::SerialClient;
use protocols::status::{self, OK};
use protocols::tty;
use protocols::wire::{Put, put_bytes};
use rt::ipc::{Endpoint, Message, SavedReply};
use rt::sync::Mutex;
use ttycore::terminal::{Delivery, Terminal};
use ttycore::{Settings, Signal};

use crate::port::{self, Port};

/// The state, as both threads hold it.
pub type Shared = Mutex<State>;

/// A call that waits, and the right to answer it.
#[derive(Debug)]
pub struct Waiter {
    /// Its saved reply right.
    pub reply: SavedReply,
    /// The request id its answer must carry.
    pub request_id: u32,
}

/// The console's shared state.
#[derive(Debug)]
pub struct State {
    /// The line discipline and the calls waiting on it.
    pub terminal: Terminal<Waiter>,
    /// Writes to the wire (the input thread reads with its own client).
    wire: SerialClient<&'static Endpoint>,
    /// Program output after the line discipline's processing.
    scratch: Vec<u8>,
    /// Bytes the wire did not take (the driver gone for longer than a
    /// write waits).
    pub dropped: u64,
}

impl State {
    /// Cooked mode, nothing typed, nobody waiting, writing to `port`.
    pub fn new(port: &'static Port) -> State {
        State {
            terminal: Terminal::new(Settings::COOKED),
            wire: port.client(),
            scratch: Vec::new(),
            dropped: 0,
        }
    }

    /// Shows program output: through the line discipline's output
    /// processing, then to the wire.
    pub fn write_output(&mut self, bytes: &[u8]) {
        let mut out = core::mem::take(&mut self.scratch);
        out.clear();
        self.terminal.output(bytes, &mut out);
        self.send_raw(&out);
        self.scratch = out;
    }

    /// Sends bytes to the wire as they are (the echo).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let lost = port::write(&mut self.wire, bytes);
        self.dropped = self.dropped.saturating_add(lost as u64);
    }
}

/// The protocol's signal for the line discipline's.
pub fn wire_signal(signal: Signal) -> tty::Signal {
    match signal {
        Signal::Interrupt => tty::Signal::Interrupt,
        Signal::Quit => tty::Signal::Quit,
    }
}

/// Answers a waiting call; whether its caller took the answer (false
/// when it has gone).
pub fn deliver(waiter: Waiter, delivery: Delivery<'_>) -> bool {
    let mut message = Message::new(status::reply_label(OK, waiter.request_id));
    let encoded = match delivery {
        Delivery::Data(bytes) => put_bytes(bytes, &mut message),
        Delivery::Signal(signal) => wire_signal(signal).put(&mut message),
        Delivery::Closed => {
            let code = fscore::FsError::BadDescriptor.code();
            message.clear(status::reply_label(code, waiter.request_id));
            Ok(())
        }
    };
    if encoded.is_err() {
        // Cannot happen (at most one message of bytes); answer something
        // rather than nothing.
        message.clear(status::reply_label(
            status::REPLY_TOO_LARGE,
            waiter.request_id,
        ));
    }
    waiter.reply.send(&message).is_ok()
}
