//! The client side: the [`Transport`] a call goes through, the [`Error`]
//! a call returns, and [`Client`], the part of every generated client that
//! does not depend on the protocol (request ids, the retry of idempotent
//! operations, checking the reply's label).
//!
//! A generated method encodes its arguments into [`Client::start`]'s
//! message, makes the call with [`Client::finish`] and decodes the reply
//! values from the [`Reader`] it returns. The reply is checked as strictly
//! as a server checks a request: a hostile or buggy server can make a call
//! fail with [`Error::Malformed`], never make the client panic, and any
//! capability in a rejected reply is deleted.

use abi::SysError;
use rt::ipc::{Endpoint, Message};

use crate::status::{self, ErrorCode};
use crate::wire::Reader;

/// Why a protocol call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The server ended, or dropped the call, before answering
    /// (`SysError::PeerClosed`); an idempotent operation was retried once
    /// first.
    PeerClosed,
    /// The client's deadline passed before a server took the call.
    TimedOut,
    /// The reply could not be decoded: wrong request id, a body or
    /// capability count that does not match the operation, a value out of
    /// range, or an unknown protocol-level status.
    Malformed,
    /// The server could not decode the request (status
    /// [`MALFORMED`](status::MALFORMED)): client and server disagree on the
    /// protocol.
    Rejected,
    /// The server does not know the operation (status
    /// [`UNKNOWN_OPERATION`](status::UNKNOWN_OPERATION)).
    UnknownOperation,
    /// The request does not fit in one message, or the server's reply did
    /// not (status [`REPLY_TOO_LARGE`](status::REPLY_TOO_LARGE)); large data
    /// goes in a [`Bulk`](crate::Bulk) descriptor.
    TooLarge,
    /// The handler answered with an application error.
    Remote(ErrorCode),
    /// The kernel refused the call (a bad endpoint capability, missing
    /// rights, a capability argument that cannot be sent, ...).
    Kernel(SysError),
}

impl From<SysError> for Error {
    #[inline]
    fn from(error: SysError) -> Error {
        match error {
            SysError::PeerClosed => Error::PeerClosed,
            SysError::TimedOut => Error::TimedOut,
            other => Error::Kernel(other),
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::PeerClosed => f.write_str("the server is gone"),
            Error::TimedOut => f.write_str("no server took the call before the deadline"),
            Error::Malformed => f.write_str("malformed reply"),
            Error::Rejected => f.write_str("the server could not decode the request"),
            Error::UnknownOperation => f.write_str("the server does not know the operation"),
            Error::TooLarge => f.write_str("the request or reply does not fit in one message"),
            Error::Remote(code) => write!(f, "{code}"),
            Error::Kernel(error) => write!(f, "call failed: {error}"),
        }
    }
}

/// What a client calls through: an endpoint, or on the host a
/// [`Loopback`](crate::loopback::Loopback) that runs the dispatch directly.
pub trait Transport {
    /// Sends `message` as a call and waits for the reply, which replaces
    /// it. `deadline` (nanoseconds on the monotonic clock, 0 for none)
    /// bounds the wait for a server to take the call, not for its reply.
    ///
    /// # Errors
    /// The kernel's; on error `message` is left as it was, so that the
    /// call can be made again.
    fn call(&mut self, message: &mut Message, deadline: u64) -> Result<(), SysError>;
}

impl Transport for Endpoint {
    #[inline(always)]
    fn call(&mut self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        <&Endpoint as Transport>::call(&mut &*self, message, deadline)
    }
}

impl Transport for &Endpoint {
    #[inline(always)]
    fn call(&mut self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        if deadline == 0 {
            Endpoint::call(self, message)
        } else {
            Endpoint::call_until(self, message, deadline)
        }
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    #[inline(always)]
    fn call(&mut self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        (**self).call(message, deadline)
    }
}

/// The protocol-independent half of a generated client: the transport, the
/// one message every call uses (replies borrow from it), the next request
/// id and the deadline.
#[derive(Debug)]
pub struct Client<T> {
    transport: T,
    message: Message,
    request_id: u32,
    deadline: u64,
}

impl<T: Transport> Client<T> {
    /// A client calling through `transport`, with no deadline.
    pub fn new(transport: T) -> Client<T> {
        Client {
            transport,
            message: Message::new(0),
            request_id: 0,
            deadline: 0,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (say, a loopback's server).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sets the deadline of every call from now on: each call fails with
    /// [`Error::TimedOut`] if no server has taken it by then (nanoseconds
    /// on the monotonic clock, `rt::time`); 0 waits for ever.
    pub fn set_deadline(&mut self, deadline: u64) {
        self.deadline = deadline;
    }

    /// Starts request `opcode` with the next request id: an empty message
    /// for the caller to append the arguments to.
    #[inline(always)]
    pub fn start(&mut self, opcode: u16) -> &mut Message {
        self.request_id = self.request_id.wrapping_add(1);
        // Reset, not cleared: the register words past the request's length
        // still hold an earlier request or reply of this client and this
        // server (the transport never changes), so nothing travels that
        // the server has not seen. (A server clears its replies: its
        // buffers held other clients' requests.)
        self.message
            .reset(status::request_label(opcode, self.request_id));
        &mut self.message
    }

    /// Makes the call started with [`Client::start`] and checks the reply's
    /// label; returns a reader of its body. An `idempotent` operation
    /// whose call fails with `PeerClosed` is sent once more (a restarted
    /// server on the same endpoint answers it).
    ///
    /// # Errors
    /// [`Error`]: the kernel's, or the reply's status, or
    /// [`Error::Malformed`] when the reply names another request. Any
    /// capability of a failed reply is deleted.
    #[inline(always)]
    pub fn finish(&mut self, idempotent: bool) -> Result<Reader<'_>, Error> {
        let mut sent = self.transport.call(&mut self.message, self.deadline);
        if idempotent && sent == Err(SysError::PeerClosed) {
            sent = self.transport.call(&mut self.message, self.deadline);
        }
        sent?;
        // Success and the right request in one compare.
        if self.message.label() == status::reply_label(status::OK, self.request_id) {
            return Ok(Reader::new(&self.message));
        }
        let (status, request_id) = status::split_label(self.message.label());
        crate::cap::discard_caps(&self.message);
        Err(if request_id != self.request_id {
            Error::Malformed
        } else {
            status_error(status)
        })
    }
}

/// The error a reply's non-zero `status` means.
fn status_error(status: u16) -> Error {
    match status {
        status::MALFORMED => Error::Rejected,
        status::UNKNOWN_OPERATION => Error::UnknownOperation,
        status::REPLY_TOO_LARGE => Error::TooLarge,
        other => ErrorCode::from_status(other).map_or(Error::Malformed, Error::Remote),
    }
}
