//! Programs the tests and benchmarks start in address spaces of their own
//! (`crate::copy_spawn::spawn_copy`): an echo server, a client that checks every
//! message length, and the benchmark clients.
//!
//! Each gets its capabilities at the fixed slots below and its IPC buffer
//! at `crate::copy_spawn::CHILD_IPC_BUFFER`. A client reports through its exit
//! code (0 = all checks passed, else the line that failed) or, for a
//! benchmark, by sending its figures to [`RESULTS`].

use crate::copy_spawn::Grant;
use crate::raw::{self as sys, Message};
use abi::CapSlot;
use abi::ipc::{MSG_MAX_CAPS, MSG_MAX_WORDS, MessageInfo};
use rt::ipc_buffer::IpcBufferPtr;

/// The debug capability (same slot as in the first program, so printing works).
pub const DEBUG: CapSlot = CapSlot(1);
/// The endpoint the pair talks through.
pub const ENDPOINT: CapSlot = CapSlot(2);
/// Where a benchmark client sends its figures.
pub const RESULTS: CapSlot = CapSlot(3);
/// A capability a client sends (GRANT right).
pub const SPARE: CapSlot = CapSlot(4);
/// Notifications for the signal round trip: client to server, and back.
pub const PING: CapSlot = CapSlot(5);
/// See [`PING`].
pub const PONG: CapSlot = CapSlot(6);

/// A small xorshift generator: reproducible from its seed, no memory.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is made odd).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Label the echo server adds per capability it received and checked.
pub const CAP_LABEL_STEP: u64 = 1000;

fn buffer() -> IpcBufferPtr {
    crate::copy_spawn::child_ipc_buffer()
}

/// The grants a child of the tests gets: debug, the endpoint (with the
/// given rights) and optionally more.
pub fn grant(src: CapSlot, dst: CapSlot, rights: abi::Rights) -> Grant {
    Grant { src, dst, rights }
}

/// Echoes every message: same label (plus [`CAP_LABEL_STEP`] per received
/// capability that names an endpoint or notification), same words. Serves
/// forever; the test deletes it.
pub extern "C" fn echo_server(_: u64) -> ! {
    let buffer = buffer();
    let mut received = sys::recv(ENDPOINT);
    loop {
        let Ok(r) = received else {
            received = sys::recv(ENDPOINT);
            continue;
        };
        let info = r.message.info;
        let mut label = info.label();
        for index in 0..info.caps() {
            let slot = buffer.cap(index);
            let kind = sys::cap_info(slot).ok().and_then(|i| i.object_type());
            if matches!(
                kind,
                Some(abi::ObjectType::Endpoint | abi::ObjectType::Notification)
            ) {
                label += CAP_LABEL_STEP;
            }
        }
        let reply = Message {
            info: MessageInfo::new(label, info.words(), 0),
            words: r.message.words,
        };
        received = sys::reply_recv(ENDPOINT, &reply);
    }
}

fn pattern(length: usize, index: usize) -> u64 {
    (length as u64) << 32 | index as u64 ^ 0x5a5a_0000
}

/// Calls the echo server with every length from 0 to the maximum, each
/// with 0 to [`MSG_MAX_CAPS`] capabilities ([`SPARE`]), and checks what
/// comes back. Exits 0, or with the failing line.
pub extern "C" fn lengths_client(_: u64) -> ! {
    sys::thread_exit(check_lengths().err().unwrap_or(0))
}

fn check_lengths() -> Result<(), u64> {
    let buffer = buffer();
    for length in 0..=MSG_MAX_WORDS {
        for caps in 0..=MSG_MAX_CAPS {
            let mut message = Message {
                info: MessageInfo::new(length as u64, length, caps),
                words: [0; 4],
            };
            for index in 0..length {
                if index < 4 {
                    message.words[index] = pattern(length, index);
                } else {
                    buffer.set_word(index, pattern(length, index));
                }
            }
            for index in 0..caps {
                buffer.set_cap(index, SPARE);
            }
            let reply = sys::call(ENDPOINT, &message).map_err(|_| u64::from(line!()))?;
            let info = reply.message.info;
            let expected_label = length as u64 + caps as u64 * CAP_LABEL_STEP;
            if info.label() != expected_label || info.words() != length || info.caps() != 0 {
                return Err(u64::from(line!()));
            }
            for index in 0..length {
                let got = if index < 4 {
                    reply.message.words[index]
                } else {
                    buffer.word(index)
                };
                if got != pattern(length, index) {
                    return Err(u64::from(line!()));
                }
            }
        }
        // The server's copies of SPARE go with a revoke.
        sys::cap_revoke(SPARE).map_err(|_| u64::from(line!()))?;
    }
    Ok(())
}

/// A client for the stress test: calls [`ENDPOINT`] with varying short
/// and long messages and signals [`PING`], forever (the test deletes it).
pub extern "C" fn stress_client(seed: u64) -> ! {
    let buffer = buffer();
    let mut rng = Rng::new(seed);
    loop {
        let state = rng.next();
        let words = (state % 12) as usize;
        for index in 4..words {
            buffer.set_word(index, state.wrapping_add(index as u64));
        }
        let message = Message {
            info: MessageInfo::new(state >> 40, words, 0),
            words: [state, 1, 2, 3],
        };
        match sys::call(ENDPOINT, &message) {
            Ok(reply) if reply.message.info.label() != state >> 40 => sys::thread_exit(2),
            _ => {}
        }
        if state.is_multiple_of(3) {
            let _ = sys::signal(PING, 1 << (state % 64));
        }
    }
}

/// A server for the stress test: echoes calls, and takes signals of a
/// bound notification ([`PING`]) in the same receive.
pub extern "C" fn stress_server(thread_slot: u64) -> ! {
    let _ = sys::thread_bind(CapSlot(thread_slot as u32), PING);
    let mut received = sys::recv(ENDPOINT);
    loop {
        received = match received {
            Ok(r) if r.message.info.is_call() => {
                let info = r.message.info;
                let reply = Message {
                    info: MessageInfo::new(info.label(), info.words(), 0),
                    words: r.message.words,
                };
                sys::reply_recv(ENDPOINT, &reply)
            }
            _ => sys::recv(ENDPOINT),
        };
    }
}
