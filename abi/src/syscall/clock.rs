//! Time (numbers 96..112): the arguments and results of
//! [`Syscall::ClockRead`] and the arguments of [`Syscall::TimerSet`].

use super::*;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

args!(
    /// Arguments of [`Syscall::ClockRead`].
    ClockReadArgs for ClockRead {}
);
results!(
    /// Results of [`Syscall::ClockRead`].
    ClockTime {
        /// Nanoseconds since boot.
        nanos: u64,
    }
);
args!(
    /// Arguments of [`Syscall::TimerSet`].
    TimerSetArgs for TimerSet {
        /// An [`ObjectType::Notification`] capability with [`Rights::WRITE`].
        notification: CapSlot,
        /// When, in nanoseconds since boot; 0 disarms.
        deadline: u64 as Deadline,
        /// Bits to signal.
        bits: u64,
    }
);
