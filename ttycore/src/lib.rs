//! Terminal logic of Mica's console server and shell: plain Rust with no IPC
//! and no system calls, deterministic, tested on the host with
//! `cargo test -p ttycore`.
//!
//! - [`ldisc`]: the line discipline, a state machine the console server
//!   feeds every byte from the serial port into: canonical (cooked) or raw
//!   input, echo, signals (^C, ^\), and the queue programs read from.
//! - [`output`]: output processing for program output (LF to CR LF).
//! - [`keys`]: an incremental decoder from terminal bytes to key events
//!   (UTF-8 characters, control keys, VT100/xterm escape sequences).
//! - [`editor`]: the interactive line editor the shell runs over a raw
//!   console: cursor motion, kills, history, reverse search, completion,
//!   and the exact VT100 bytes that keep the screen right.
//! - [`history`]: the editor's bounded history of lines.
//! - [`vt`]: the few VT100 control sequences the editor writes.
//! - [`transcript`]: terminal output rendered as the lines a user reads,
//!   for tests and scripted sessions.
//! - [`terminal`]: a terminal as its server keeps it: the line discipline
//!   plus the reads and signal calls waiting on it, and who to answer when
//!   input comes.
//!
//! Screen model, everywhere: one column per character (wide and combining
//! characters are out of scope) and no line wrapping (a line longer than
//! the terminal is drawn wrong, never unsafely).
//!
//! Nothing here panics on any input: every byte stream and every key
//! sequence is accepted, buffers are bounded ([`LINE_MAX_BYTES`]), and the
//! property tests and the fuzz target (`ttycore/fuzz`, FUZZING.md) check it.
//! The crate depends only on `alloc`, has no unsafe code, and builds for the
//! host and for `x86_64-unknown-none`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod editor;
pub mod history;
pub mod keys;
pub mod ldisc;
pub mod output;
pub mod terminal;
pub mod transcript;
mod utf8;
pub mod vt;

#[cfg(test)]
mod tests;

pub use editor::{Editor, Event};
pub use history::History;
pub use keys::{Key, KeyDecoder};
pub use ldisc::{Input, LineDiscipline, ReadOutcome, Settings, Signal};

/// The longest line, in bytes, that the line discipline holds before its
/// reader takes it and that the editor lets the user type (the newline not
/// included). Input beyond it is refused with a bell, as POSIX `MAX_CANON`.
pub const LINE_MAX_BYTES: usize = 4096;

/// The bell character, written to the terminal when input is refused.
pub const BELL: u8 = 0x07;
