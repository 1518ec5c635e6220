//! A [`Transport`] that calls a protocol's dispatch directly, without the
//! kernel: host tests run a generated client against a server in the same
//! thread through it.
//!
//! It models what the kernel does to a call: the server gets a copy of the
//! request, and each capability sent arrives in a fresh slot of the
//! receiver (numbered from [`Loopback::FIRST_SLOT`] up), the same for the
//! reply. It can also fail calls with `PeerClosed` (a server that died),
//! to test the retry of idempotent operations.

use abi::{CapSlot, SysError};
use rt::ipc::Message;

use crate::client::Transport;

/// A transport to `server` through `dispatch`, in the same thread.
#[derive(Debug)]
pub struct Loopback<S> {
    /// The server state the dispatch runs on.
    pub server: S,
    dispatch: fn(&mut S, &Message, &mut Message),
    request: Message,
    reply: Message,
    next_slot: u32,
    fail_next: u32,
    calls: u64,
}

impl<S> Loopback<S> {
    /// The first slot number given to a transferred capability.
    pub const FIRST_SLOT: u32 = 0x1000;

    /// A loopback to `server`, answering with `dispatch` (a protocol's
    /// generated `dispatch::<S>`).
    pub fn new(server: S, dispatch: fn(&mut S, &Message, &mut Message)) -> Loopback<S> {
        Loopback {
            server,
            dispatch,
            request: Message::new(0),
            reply: Message::new(0),
            next_slot: Self::FIRST_SLOT,
            fail_next: 0,
            calls: 0,
        }
    }

    /// Makes the next `count` calls fail with `PeerClosed` before the
    /// server sees them (as a server that died and is being restarted).
    pub fn fail_next(&mut self, count: u32) {
        self.fail_next = count;
    }

    /// How many calls reached the server.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The reply the server gave to the last call, as it left the server
    /// (before its capabilities moved to new slots).
    pub fn last_reply(&self) -> &Message {
        &self.reply
    }

    /// Copies `from` into `to` as the kernel delivers a message: label and
    /// words, and each capability into a new slot.
    fn transfer(from: &Message, to: &mut Message, next_slot: &mut u32) {
        *to = Message::new(from.label());
        for &word in from.words() {
            // Both messages have the same capacity.
            let _ = to.push(word);
        }
        for _ in from.caps() {
            let _ = to.push_cap(CapSlot(*next_slot));
            *next_slot = next_slot.wrapping_add(1);
        }
    }
}

impl<S> Transport for Loopback<S> {
    fn call(&mut self, message: &mut Message, _deadline: u64) -> Result<(), SysError> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(SysError::PeerClosed);
        }
        self.calls += 1;
        Self::transfer(message, &mut self.request, &mut self.next_slot);
        (self.dispatch)(&mut self.server, &self.request, &mut self.reply);
        Self::transfer(&self.reply, message, &mut self.next_slot);
        Ok(())
    }
}
