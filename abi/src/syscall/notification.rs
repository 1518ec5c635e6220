//! Notifications (numbers 64..80): the arguments of
//! [`Syscall::NotificationCreate`], [`Syscall::Signal`], [`Syscall::Wait`] and
//! [`Syscall::Poll`], and the bits a wait returns ([`Signals`]).

use super::*;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

args!(
    /// Arguments of [`Syscall::NotificationCreate`].
    NotificationCreateArgs for NotificationCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::Signal`].
    SignalArgs for Signal {
        /// An [`ObjectType::Notification`] capability with [`Rights::WRITE`].
        notification: CapSlot,
        /// Bits to signal (unbadged capabilities only).
        bits: u64,
    }
);
args!(
    /// Arguments of [`Syscall::Wait`].
    WaitArgs for Wait {
        /// An [`ObjectType::Notification`] capability with [`Rights::READ`].
        notification: CapSlot,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::Poll`].
    PollArgs for Poll {
        /// An [`ObjectType::Notification`] capability with [`Rights::READ`].
        notification: CapSlot,
    }
);
results!(
    /// Results of [`Syscall::Wait`] and [`Syscall::Poll`].
    Signals {
        /// The notification word (now cleared).
        bits: u64,
    }
);
