//! What can go wrong on a ring: the peer broke a rule ([`Hostile`], with
//! its [`Reason`]), or an ordinary condition ([`Error::Full`],
//! [`Error::TimedOut`]).

use core::fmt;

/// Which rule the peer broke. Each has a stable code, for reports over
/// IPC ([`Reason::code`], [`Reason::from_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Reason {
    /// The producer's index is more than the queue's size ahead of the
    /// consumer's: it claims entries that cannot be there.
    IndexTooFar = 1,
    /// The producer's index went back: it took back entries it had
    /// published.
    IndexRetreated = 2,
    /// The consumer's index is past what the producer published, or went
    /// back.
    ConsumerAhead = 3,
    /// A submission's opcode is not one the protocol has.
    UnknownOpcode = 4,
    /// A submission has flag bits the protocol does not allow.
    UnknownFlags = 5,
    /// A submission's data range leaves the data area (or overflows).
    DataOutOfRange = 6,
    /// A reserved field is not 0.
    ReservedNotZero = 7,
    /// More completions than submissions in flight.
    UnexpectedCompletion = 8,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 8] = [
        Reason::IndexTooFar,
        Reason::IndexRetreated,
        Reason::ConsumerAhead,
        Reason::UnknownOpcode,
        Reason::UnknownFlags,
        Reason::DataOutOfRange,
        Reason::ReservedNotZero,
        Reason::UnexpectedCompletion,
    ];

    /// The reason's code, 1 and up (0 means none).
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The reason with `code`, if any.
    pub fn from_code(code: u32) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// A short description.
    pub const fn describe(self) -> &'static str {
        match self {
            Reason::IndexTooFar => "producer index more than a queue ahead",
            Reason::IndexRetreated => "producer index went back",
            Reason::ConsumerAhead => "consumer index past what was published, or went back",
            Reason::UnknownOpcode => "unknown opcode",
            Reason::UnknownFlags => "unknown flags",
            Reason::DataOutOfRange => "data range outside the data area",
            Reason::ReservedNotZero => "reserved field not zero",
            Reason::UnexpectedCompletion => "more completions than submissions in flight",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The verdict on a peer that broke a rule: the ring is poisoned and
/// every later call returns this again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hostile {
    /// The first rule broken.
    pub reason: Reason,
}

impl fmt::Display for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hostile peer: {}", self.reason)
    }
}

/// What a ring operation can fail with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The peer broke a rule; the ring is poisoned for good.
    Hostile(Hostile),
    /// No room: the queue is full, or (a client) as many submissions are
    /// in flight as the completion queue holds.
    Full,
    /// The deadline passed before anything arrived.
    TimedOut,
}

impl Error {
    /// The reason, if the peer was found hostile.
    pub const fn hostile(&self) -> Option<Reason> {
        match self {
            Error::Hostile(h) => Some(h.reason),
            _ => None,
        }
    }
}

impl From<Hostile> for Error {
    fn from(hostile: Hostile) -> Error {
        Error::Hostile(hostile)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Hostile(h) => h.fmt(f),
            Error::Full => f.write_str("ring full"),
            Error::TimedOut => f.write_str("timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (i, reason) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(reason.code(), i as u32 + 1);
            assert_eq!(Reason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(Reason::from_code(0), None);
        assert_eq!(Reason::from_code(9), None);
    }
}
