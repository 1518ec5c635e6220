//! Endpoints, the IPC syscalls (numbers 48..64): the arguments of
//! [`Syscall::EndpointCreate`], of every send, receive and reply, of
//! [`Syscall::EndpointWatch`], and what a receive returns ([`RecvResult`]).

use super::*;
use crate::ipc::MessageInfo;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

args!(
    /// Arguments of [`Syscall::EndpointCreate`].
    EndpointCreateArgs for EndpointCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);

/// Defines the arguments of a syscall that sends a message: a slot, the
/// info word and the four register words.
macro_rules! message_args {
    ($(#[$meta:meta])* $name:ident for $call:ident, $(#[$smeta:meta])* $slot:ident : $slot_ty:ty) => {
        args!(
            $(#[$meta])*
            $name for $call {
                $(#[$smeta])*
                $slot: $slot_ty,
                /// Label, length and capability count.
                info: MessageInfo,
                /// Message word 0.
                mr0: u64,
                /// Message word 1.
                mr1: u64,
                /// Message word 2.
                mr2: u64,
                /// Message word 3.
                mr3: u64,
            }
        );
    };
}

message_args!(
    /// Arguments of [`Syscall::Send`].
    SendArgs for Send,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::NbSend`].
    NbSendArgs for NbSend,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::Call`].
    CallArgs for Call,
    /// An [`ObjectType::Endpoint`] capability with [`Rights::WRITE`].
    endpoint: CapSlot
);
message_args!(
    /// Arguments of [`Syscall::Reply`].
    ReplyArgs for Reply,
    /// Ignored (the reply right is implicit).
    reserved: u64
);
message_args!(
    /// Arguments of [`Syscall::ReplyRecv`].
    ReplyRecvArgs for ReplyRecv,
    /// The [`ObjectType::Endpoint`] (with [`Rights::READ`]) to receive on.
    endpoint: CapSlot
);
args!(
    /// Arguments of [`Syscall::ReplySave`].
    ReplySaveArgs for ReplySave {
        /// Slot for the [`ObjectType::Reply`] capability, or
        /// [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
message_args!(
    /// Arguments of [`Syscall::ReplyWith`].
    ReplyWithArgs for ReplyWith,
    /// The [`ObjectType::Reply`] capability to answer through.
    reply: CapSlot
);
args!(
    /// Arguments of [`Syscall::ReplySaveRecv`].
    ReplySaveRecvArgs for ReplySaveRecv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
        /// The empty slot for the [`ObjectType::Reply`] capability (not
        /// [`CapSlot::NULL`]: the results are the receive's, so the slot
        /// must be known beforehand).
        dst: CapSlot,
        /// When the receive gives up ([`SysError::TimedOut`]), in
        /// nanoseconds on the [`Syscall::ClockRead`] clock; 0 waits for
        /// ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::Recv`].
    RecvArgs for Recv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
        /// When to give up ([`SysError::TimedOut`]), in nanoseconds on the
        /// [`Syscall::ClockRead`] clock; 0 waits for ever.
        deadline: u64 as Deadline,
    }
);
args!(
    /// Arguments of [`Syscall::NbRecv`].
    NbRecvArgs for NbRecv {
        /// An [`ObjectType::Endpoint`] capability with [`Rights::READ`].
        endpoint: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::EndpointWatch`].
    EndpointWatchArgs for EndpointWatch {
        /// An unbadged capability to the server's endpoint.
        endpoint: CapSlot,
        /// The notification to signal, or [`CapSlot::NULL`] to stop.
        notification: CapSlot,
    }
);
results!(
    /// Results of a receive ([`Syscall::Recv`], [`Syscall::Call`]'s reply, ...).
    RecvResult {
        /// The badge of the sender's capability (0 if unbadged or a reply),
        /// or the signal bits when `info` is [`MessageInfo::NOTIFICATION`].
        badge: u64,
        /// The received [`MessageInfo`] register.
        info: u64,
        /// Message word 0.
        mr0: u64,
        /// Message word 1.
        mr1: u64,
        /// Message word 2.
        mr2: u64,
        /// Message word 3.
        mr3: u64,
    }
);
