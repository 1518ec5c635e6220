//! The server side's receive loop.
//!
//! A server's `main` reads its startup capabilities, builds its state and
//! runs [`serve`] with the protocol's `dispatch`: receive a call, dispatch
//! it, answer it and receive the next in one `ReplyRecv`, for ever. A server
//! that also waits for notifications or timers writes its own loop the
//! same way.
//!
//! The loop keeps two messages and swaps which one receives: the request
//! just received stays intact while `dispatch` writes the reply into the
//! other, and no message is ever copied. A server that needs the caller's
//! badge reads it from the request (`Message::badge`) before dispatching.

use abi::SysError;
use rt::ipc::{Endpoint, Message};

/// Answers calls on `endpoint` for ever with `dispatch`, which turns a
/// request into its reply (a protocol's generated `dispatch` with the
/// server state bound).
///
/// A message that is not a call (a `Send`, a notification) has nobody to
/// answer, and a fault message (this endpoint should not be a fault
/// endpoint) must not be resumed by a protocol reply: their capabilities
/// are deleted and the loop receives again. If a
/// reply cannot be delivered, the loop receives afresh (the caller, if it
/// still waits, gets `PeerClosed` when the next call arrives).
///
/// # Errors
/// Returns only when receiving fails (the endpoint capability is wrong or
/// gone): the kernel's error.
pub fn serve(endpoint: &Endpoint, mut dispatch: impl FnMut(&Message, &mut Message)) -> SysError {
    serve_notified(
        endpoint,
        &mut (),
        |_, request, reply| dispatch(request, reply),
        |_, _| {},
    )
}

/// As [`serve`], and hands the bits of each notification signal the
/// thread receives (a bound notification: `EndpointWatch`, timers) to
/// `notified`.
///
/// # Errors
/// As [`serve`].
pub fn serve_notified<S>(
    endpoint: &Endpoint,
    state: &mut S,
    mut dispatch: impl FnMut(&mut S, &Message, &mut Message),
    mut notified: impl FnMut(&mut S, u64),
) -> SysError {
    let mut first = Message::new(0);
    let mut second = Message::new(0);
    let (mut request, mut reply) = (&mut first, &mut second);
    let mut received = endpoint.recv(request);
    loop {
        match received {
            Ok(()) if request.info().is_call() && !request.info().is_fault() => {
                dispatch(state, request, reply);
                received = endpoint.reply_recv(reply);
                // The next request is in `reply`'s message now.
                core::mem::swap(&mut request, &mut reply);
                if received.is_err() {
                    // The reply or the receive failed; start over with a
                    // plain receive, which reports a dead endpoint.
                    received = endpoint.recv(request);
                }
            }
            Ok(()) if request.info().is_notification() => {
                notified(state, request.badge());
                received = endpoint.recv(request);
            }
            Ok(()) => {
                crate::cap::discard_caps(request);
                received = endpoint.recv(request);
            }
            Err(error) => return error,
        }
    }
}

/// A server that may answer a call later: it saves the caller's reply
/// right (`rt::ipc::SavedReply`) and answers from its own state when what
/// the call waits for comes (a pipe's data, a console's line, a child's
/// end), so no server thread is ever held by a waiting client.
pub trait Deferring {
    /// Handles one call into `reply`: `true` to answer it now, `false`
    /// when it waits ([`Deferring::park`] then takes its reply right).
    fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool;
    /// Keeps the reply right of the call [`Deferring::dispatch`] deferred.
    fn park(&mut self, reply: rt::ipc::SavedReply);
    /// Forgets a deferral whose reply right could not be saved (the caller
    /// has gone, or no slot is left: it gets `PeerClosed` either way).
    fn unpark(&mut self);
    /// Anything received that is not a call: a notification's signal, a
    /// fault message, a plain send. By default its capabilities go.
    fn other(&mut self, message: &Message) {
        crate::cap::discard_caps(message);
    }
    /// Runs before each received message is handled (the last reply has
    /// been sent by then).
    fn before(&mut self) {}
    /// Whether [`Deferring::park`] may wait until the next message has
    /// been received, so that the reply right is saved and the next
    /// message received in one syscall (`ReplySaveRecv`). Only for a
    /// server in which nothing but this thread's handling of a later
    /// message answers a parked call: another thread that answers parked
    /// calls (a console's input thread) would not find it meanwhile.
    const PARK_AFTER_RECEIVE: bool = false;
}

/// The receive loop of a [`Deferring`] server: a call is answered at once
/// (with `ReplyRecv`) or parked; anything else goes to
/// [`Deferring::other`].
///
/// # Errors
/// As [`serve`].
pub fn serve_deferring<S: Deferring>(endpoint: &Endpoint, server: &mut S) -> SysError {
    // Two messages, and the roles swapped by swapping the references (a
    // `Message` is 560 bytes: swapping the values costs 70 loads and
    // stores of each).
    let mut first = Message::new(0);
    let mut second = Message::new(0);
    let (mut request, mut reply) = (&mut first, &mut second);
    let mut received = endpoint.recv(request);
    loop {
        server.before();
        match received {
            Ok(()) if request.info().is_call() && !request.info().is_fault() => {
                if server.dispatch(request, reply) {
                    received = endpoint.reply_recv(reply);
                    core::mem::swap(&mut request, &mut reply);
                    if received.is_err() {
                        received = endpoint.recv(request);
                    }
                } else {
                    // Kept and the next message received in one syscall,
                    // into the slot of the last saved reply answered;
                    // when there is none, or it has been taken since, in
                    // two (`ReplySave` into the lowest free slot).
                    let spare = match S::PARK_AFTER_RECEIVE {
                        true => rt::ipc::SavedReply::spare_slot(),
                        false => None,
                    };
                    let fused = spare.and_then(|slot| endpoint.reply_save_recv(slot, request).ok());
                    if let Some((saved, result)) = fused {
                        server.park(saved);
                        received = result;
                        continue;
                    }
                    match rt::ipc::SavedReply::save() {
                        Ok(saved) => server.park(saved),
                        Err(_) => server.unpark(),
                    }
                    received = endpoint.recv(request);
                }
            }
            Ok(()) => {
                server.other(request);
                received = endpoint.recv(request);
            }
            Err(error) => return error,
        }
    }
}
