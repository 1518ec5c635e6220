//! `Supervisor`: init's protocol for the programs it grants the
//! `supervisor` authority (the test runner): what each supervised program
//! is doing, its history of starts, ends and restarts, a kill, and init's
//! frame count (to see that a restart gives every frame back).
//!
//! Programs are named by their `system.toml` name. History comes as
//! packed [`Event`] records, oldest first.

use crate::ErrorCode;

crate::wire_enum! {
    /// Where a supervised program stands.
    pub enum State {
        /// Not started yet, or waiting out a restart delay.
        Waiting = 0,
        /// An instance runs.
        Running = 1,
        /// Ended, and its policy does not restart it.
        Stopped = 2,
        /// Ended too often within its window: init gave up on it.
        GaveUp = 3,
        /// Never started: its entry, file or manifest was refused.
        Refused = 4,
    }
}

crate::protocol! {
    /// init's supervisor protocol.
    pub protocol Supervisor = 0x5355 {
        client SupervisorClient;
        server SupervisorServer;

        /// The program's state, its instance number (1 for the first
        /// start), and its failures so far.
        #[idempotent]
        fn status(name: &str) -> (State, u64, u64) = 1;

        /// The last thing init logged about the program (why it was
        /// refused, how it last ended).
        #[idempotent]
        fn note(name: &str) -> &str = 2;

        /// Ends the running instance now (its budget is revoked); its
        /// restart policy then applies, a kill counting as a failure.
        /// [`NOT_RUNNING`] if no instance runs.
        fn kill(name: &str) = 3;

        /// The program's most recent events ([`Event`] records, oldest
        /// first, at most [`HISTORY_EVENTS`]).
        #[idempotent]
        fn history(name: &str) -> &[u8] = 4;

        /// init's budget: its limit and the frames charged to it now.
        #[idempotent]
        fn frames() -> (u64, u64) = 5;
    }
}

/// No supervised program has this name.
pub const UNKNOWN_PROGRAM: ErrorCode = ErrorCode::new(0x100);
/// `kill` of a program with no running instance.
pub const NOT_RUNNING: ErrorCode = ErrorCode::new(0x101);
/// `frames`: the kernel would not report init's budget.
pub const NO_FRAME_COUNT: ErrorCode = ErrorCode::new(0x102);

/// Events [`SupervisorClient::history`] returns at most.
pub const HISTORY_EVENTS: usize = 24;
/// Bytes of one packed [`Event`].
pub const EVENT_BYTES: usize = 16;

/// What happened to a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    /// An instance started (`value`: the instance number).
    Started = 1,
    /// It exited (`value`: the status).
    Exited = 2,
    /// It faulted (`value`: the exception vector).
    Faulted = 3,
    /// init killed it (`value`: 0).
    Killed = 4,
    /// A restart is due after a delay (`value`: the delay, ms).
    RestartIn = 5,
    /// init gave up on it (`value`: failures in the window).
    GaveUp = 6,
    /// It could not be started (`value`: 0).
    Refused = 7,
}

impl EventKind {
    fn from_u32(value: u32) -> Option<EventKind> {
        Some(match value {
            1 => EventKind::Started,
            2 => EventKind::Exited,
            3 => EventKind::Faulted,
            4 => EventKind::Killed,
            5 => EventKind::RestartIn,
            6 => EventKind::GaveUp,
            7 => EventKind::Refused,
            _ => return None,
        })
    }
}

/// One history record: 16 bytes, little-endian: kind (u32), value (u32),
/// time (u64, nanoseconds on the monotonic clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Its number (see [`EventKind`]).
    pub value: u32,
    /// When, in nanoseconds on the monotonic clock.
    pub time_ns: u64,
}

impl Event {
    /// The packed form.
    pub fn to_bytes(&self) -> [u8; EVENT_BYTES] {
        let mut bytes = [0; EVENT_BYTES];
        bytes[..4].copy_from_slice(&(self.kind as u32).to_le_bytes());
        bytes[4..8].copy_from_slice(&self.value.to_le_bytes());
        bytes[8..].copy_from_slice(&self.time_ns.to_le_bytes());
        bytes
    }

    /// The events packed in `bytes`; a record with an unknown kind, or a
    /// cut-off last record, is skipped.
    pub fn parse_all(bytes: &[u8]) -> impl Iterator<Item = Event> + '_ {
        bytes.chunks_exact(EVENT_BYTES).filter_map(|record| {
            let word = |range: core::ops::Range<usize>| record.get(range);
            let kind = u32::from_le_bytes(word(0..4)?.try_into().ok()?);
            let value = u32::from_le_bytes(word(4..8)?.try_into().ok()?);
            let time_ns = u64::from_le_bytes(word(8..16)?.try_into().ok()?);
            Some(Event {
                kind: EventKind::from_u32(kind)?,
                value,
                time_ns,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_junk_is_skipped() {
        let events = [
            Event {
                kind: EventKind::Started,
                value: 1,
                time_ns: 5,
            },
            Event {
                kind: EventKind::RestartIn,
                value: 20,
                time_ns: u64::MAX,
            },
        ];
        let mut bytes: Vec<u8> = events.iter().flat_map(|e| e.to_bytes()).collect();
        assert_eq!(Event::parse_all(&bytes).collect::<Vec<_>>(), events);
        bytes[16] = 99; // an unknown kind
        bytes.push(1); // a cut-off record
        assert_eq!(Event::parse_all(&bytes).count(), 1);
    }
}
