//! Mica's IPC protocols, each written once.
//!
//! A protocol is defined with [`protocol!`]: its operations, their opcodes,
//! argument and reply types. From that one definition come the client
//! (`EchoClient`), the server trait (`EchoServer`, plain Rust handlers on
//! decoded, checked arguments, testable on the host) and `dispatch`, which
//! a server's receive loop calls for each request. `docs/protocols.md`
//! describes the wire format and the rules; in short:
//!
//! - a request's label is `opcode | request_id << 16`, a reply's is
//!   `status | request_id << 16` ([`status`]);
//! - the body is the values in order, integers one word each, strings and
//!   byte slices a length word and the bytes ([`wire`]); capabilities go in
//!   the message's capability slots ([`Cap`], [`Bulk`]);
//! - decoding checks everything (sizes, ranges, padding, UTF-8,
//!   capability counts) on both sides and never panics; a rejected message's
//!   capabilities are deleted;
//! - a call that fails with `PeerClosed` is retried once if the operation
//!   is `#[idempotent]` ([`Client::finish`]).
//!
//! Modules: [`wire`] (the codec), [`status`] (labels and statuses),
//! [`client`] (transport, errors, the protocol-independent client),
//! [`server`] (the receive loop), [`loopback`] (a transport that calls a
//! dispatch directly, for host tests), and the protocols: [`echo`],
//! [`serial`], [`supervisor`], [`ring`] (the ring peer's attach and
//! status), [`file`] (file servers), [`proc`] (the process server), [`tty`] (a terminal's mode and
//! signals).
//!
//! On Mica the crate links `rt`. On the host (tests, fuzzing) it builds
//! against the same `rt`; deleting a received capability is then only
//! recorded ([`cap::host`]), and no syscall is made unless a test calls an
//! `Endpoint`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub use abi;
pub use fscore;
pub use rt;

pub mod cap;
pub mod client;
pub mod loopback;
mod macros;
pub mod server;
pub mod status;
pub mod wire;

pub mod echo;
pub mod file;
pub mod proc;
pub mod ring;
pub mod serial;
pub mod supervisor;
pub mod tty;

pub use cap::{BULK_MAX_BYTES, Bulk, Cap, ReceivedBulk, discard_caps};
pub use client::{Client, Error, Transport};
pub use status::ErrorCode;

/// What [`protocol!`] records of one operation, in `OPERATIONS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The method name.
    pub name: &'static str,
    /// The opcode: the low 16 bits of a request's label.
    pub opcode: u16,
    /// Whether the client retries it once after `PeerClosed`.
    pub idempotent: bool,
}
