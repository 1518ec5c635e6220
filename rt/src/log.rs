//! Logging: the `log` crate's facade (`log::info!`, `log::warn!`, ...,
//! re-exported here), with a sink that sends each record to the log
//! endpoint when the program has one (the console server, once it runs)
//! and otherwise prints it through the debug capability when the program
//! holds that. A program with neither logs nothing.
//!
//! A record becomes one line, `LEVEL target: message`. On the endpoint it
//! is one message: label [`LOG_LABEL`], word 0 the level (1 = error ... 5 =
//! trace), word 1 the length in bytes, then the UTF-8 bytes packed
//! little-endian into words; a line longer than the message is cut.
//!
//! The level filter starts at `Info`; [`set_level`] changes it.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

use abi::CapSlot;
use abi::ipc::MSG_MAX_WORDS;

pub use log::{Level, LevelFilter, debug, error, info, trace, warn};

use crate::handle::Handle;
use crate::ipc::{Endpoint, Message};

/// Label of a log message on the log endpoint ("LOG").
pub const LOG_LABEL: u64 = 0x4c_4f47;
/// Bytes of text one log message carries.
pub const LOG_MAX_BYTES: usize = (MSG_MAX_WORDS - 2) * 8;

static ENDPOINT: AtomicU32 = AtomicU32::new(0);

/// Sets the log endpoint (`rt` does it at start from the startup page).
pub fn set_endpoint(slot: CapSlot) {
    ENDPOINT.store(slot.0, Ordering::Relaxed);
    init();
}

/// Sets the most verbose level that is logged.
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

struct Logger;

static LOGGER: Logger = Logger;

/// Installs the logger (idempotent).
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Info);
    }
}

/// A line being formatted, cut at [`LOG_MAX_BYTES`].
struct Line {
    bytes: [u8; LOG_MAX_BYTES],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LOG_MAX_BYTES - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

fn level_number(level: Level) -> u64 {
    level as u64
}

/// Sends or prints one line.
fn emit(level: Level, args: fmt::Arguments<'_>) {
    let mut line = Line {
        bytes: [0; LOG_MAX_BYTES],
        len: 0,
    };
    let _ = line.write_fmt(args);
    let endpoint = ENDPOINT.load(Ordering::Relaxed);
    if endpoint != 0 && crate::thread::has_tcb() {
        let mut message = Message::new(LOG_LABEL);
        let _ = message.push(level_number(level));
        let _ = message.push(line.len as u64);
        for chunk in line.bytes[..line.len].chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            let _ = message.push(u64::from_le_bytes(word));
        }
        let endpoint = Endpoint::from_raw(CapSlot(endpoint));
        let sent = endpoint.send(&message);
        let _ = endpoint.into_raw();
        if sent.is_ok() {
            return;
        }
    }
    if let Ok(text) = core::str::from_utf8(&line.bytes[..line.len]) {
        crate::println!("{text}");
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            emit(
                record.level(),
                format_args!(
                    "{:5} {}: {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
            );
        }
    }

    fn flush(&self) {}
}

/// The panic handler's last words (no allocation, no lock but the
/// console's).
pub(crate) fn panic_message(thread: &str, info: &core::panic::PanicInfo<'_>) {
    emit(
        Level::Error,
        format_args!("panic in thread {thread}: {info}"),
    );
}
