//! The pure logic of Mica's process server (`servers/proc`): the process
//! table. No IPC and no capabilities here, so it is tested on the host
//! against a model (`tests/model.rs`).
//!
//! A process is a [`Pid`] with a parent, a session and a state. The table
//! knows nothing of how a process runs or ends; the server tells it
//! ([`Table::end`]) and asks it who may wait for whom ([`Table::wait`]).
//! [`INIT`] is no entry: it stands for init, which adopts every orphan
//! and reaps it at once (POSIX's init does the same by waiting in a loop).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod error;
mod table;

pub use error::ProcError;
pub use table::{Ended, Entry, Limits, State, Table, Which};

/// A process id: never reused while the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(pub u32);

/// The parent of roots and orphans: init, which reaps them.
pub const INIT: Pid = Pid(1);

impl core::fmt::Display for Pid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}
