//! Wake-ups by IPC on Mica: the server's thread sleeps in a receive on an
//! endpoint of its ring (its [`Doorbell`]), and the client wakes it with
//! a `Call` when it is going to wait for completions anyway, or a
//! `Signal` of the notification bound to that thread when it is not.
//!
//! - [`DoorbellWaker`] is the server's [`Waker`]: `wait` is `Recv` on the
//!   endpoint, or `ReplyRecv` when the last thing received was a call (the
//!   reply is the client's wake-up: the server answers a call only when it
//!   goes back to sleep, that is once it has served what it found);
//!   `wake` does nothing, since the client never sleeps anywhere but in
//!   that call.
//! - [`CallWaker`] is the client's: `wait` is `Call` on the endpoint (it
//!   wakes the server, and returns once the server has served what it
//!   could and sleeps again); `wake` is `Signal`, for a server found
//!   sleeping by [`crate::Client::submit`] or [`crate::Client::release`].
//!   `wait_wakes_peer` is true, so [`crate::Client::submit_and_wait`] is
//!   one store and one `Call`: a round trip is the kernel's IPC fast path
//!   both ways.
//!
//! The protocol of `crate::queue` holds unchanged: a notification keeps
//! its bits until a receive takes them, and a call waits in the
//! endpoint's queue until the server receives, so a wake-up before the
//! server sleeps makes that sleep return at once, which is all
//! [`Waker`] asks. The client's capabilities have `WRITE` and `GRANT`
//! (a reply carries only capabilities with `GRANT`), so a call may carry
//! capabilities: the server deletes them as it receives, and ignores the
//! words. A client cannot make the server block: `ReplyRecv` never
//! waits for the caller. The server can make its client wait (it may
//! never answer a call it took), as any IPC server can; a deadline bounds
//! only the wait for the server to take the call.

use alloc::sync::Arc;
use core::cell::Cell;

use abi::ipc::MessageInfo;
use abi::syscall::{CallArgs, RecvArgs, RecvResult, ReplyRecvArgs, SyscallArgs, SyscallResult};
use abi::{CapSlot, Rights, SysError};
use rt::Handle;
use rt::ipc::{Endpoint, Message};
use rt::memory::Budget;
use rt::notify::Notification;

use crate::Waker;
use crate::wake::TimedOut;

/// A ring server thread's endpoint and bound notification.
#[derive(Debug)]
pub struct Doorbell {
    endpoint: Endpoint,
    notification: Notification,
}

impl Doorbell {
    /// An endpoint and a notification paid by `budget`.
    ///
    /// # Errors
    /// The kernel's (`OutOfMemory`).
    pub fn create(budget: &Budget) -> Result<Doorbell, SysError> {
        Ok(Doorbell {
            endpoint: Endpoint::create(budget)?,
            notification: Notification::create(budget)?,
        })
    }

    /// Copies for the client, with `WRITE` and `GRANT` (a reply carries
    /// only capabilities with `GRANT`): the endpoint to call and the
    /// notification to signal. The server keeps them until the reply that
    /// carries them has gone; [`revoke`](Doorbell::revoke) deletes them
    /// with the client's.
    ///
    /// # Errors
    /// The kernel's (`OutOfMemory`: no free slot).
    pub fn client_caps(&self) -> Result<(Endpoint, Notification), SysError> {
        let rights = Rights::WRITE | Rights::GRANT;
        let endpoint = rt::sys::cap_copy(self.endpoint.slot(), rights)?;
        let endpoint = Endpoint::from_raw(endpoint);
        let notification = rt::sys::cap_copy(self.notification.slot(), rights)?;
        Ok((endpoint, Notification::from_raw(notification)))
    }

    /// Binds the notification to the calling thread, whose receives on
    /// the endpoint it then ends. Called by the ring's thread first.
    ///
    /// # Errors
    /// The kernel's; `InvalidCap` when rt does not know the thread.
    pub fn bind_current(&self) -> Result<(), SysError> {
        let thread = rt::thread::current_slot().ok_or(SysError::InvalidCap)?;
        rt::sys::thread_bind(thread, self.notification.slot())
    }

    /// Wakes the ring's thread (to make it look at a stop flag): the bit
    /// stays until its next receive, so one is enough.
    pub fn ring(&self) {
        let _ = self.notification.signal(1);
    }

    /// Takes back every copy given to the client, so that a call it makes
    /// later fails instead of waiting for a thread that has gone.
    pub fn revoke(&self) {
        let _ = rt::sys::cap_revoke(self.endpoint.slot());
        let _ = rt::sys::cap_revoke(self.notification.slot());
    }

    /// The server's waker, for the thread the notification is bound to.
    pub fn waker(self: &Arc<Self>) -> DoorbellWaker {
        DoorbellWaker {
            bell: Arc::clone(self),
            owes_reply: Cell::new(false),
        }
    }
}

/// The status of a raw syscall as a `Result`.
#[inline(always)]
fn status(code: u64) -> Result<(), SysError> {
    match code {
        0 => Ok(()),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// The server's [`Waker`] (module docs).
#[derive(Debug)]
pub struct DoorbellWaker {
    bell: Arc<Doorbell>,
    /// The last receive took a call, not yet answered.
    owes_reply: Cell<bool>,
}

impl DoorbellWaker {
    /// Receives (answering the call taken last, if any): what woke it, as
    /// its `MessageInfo`. Capabilities a call carried are deleted: the
    /// client's copy of the endpoint has `GRANT` (it came in a reply,
    /// which needs it), so it could send some, and they must not pile up
    /// in the server's capability space. Words are ignored (and past the
    /// registers never read).
    #[inline]
    fn receive(&self, deadline: Option<u64>) -> Result<MessageInfo, SysError> {
        let endpoint = self.bell.endpoint.slot();
        let (code, regs) = match (self.owes_reply.replace(false), deadline) {
            (true, None) => {
                let args = ReplyRecvArgs {
                    endpoint,
                    info: MessageInfo::new(0, 0, 0),
                    mr0: 0,
                    mr1: 0,
                    mr2: 0,
                    mr3: 0,
                };
                rt::sys::raw_syscall(ReplyRecvArgs::SYSCALL.number(), args.encode())
            }
            (true, Some(deadline)) => {
                let mut message = Message::new(0);
                self.bell
                    .endpoint
                    .reply_recv_until(&mut message, deadline.max(1))?;
                let info = message.info();
                if info.caps() > 0 && !info.is_notification() {
                    for &slot in message.caps() {
                        let _ = rt::sys::cap_delete(slot);
                    }
                }
                return Ok(info);
            }
            (false, deadline) => {
                let args = RecvArgs {
                    endpoint,
                    // 0 is "no deadline" to the kernel; a deadline of 0
                    // has passed.
                    deadline: deadline.map_or(0, |d| d.max(1)),
                };
                rt::sys::raw_syscall(RecvArgs::SYSCALL.number(), args.encode())
            }
        };
        status(code)?;
        let info = MessageInfo::from_received(RecvResult::decode(&regs).info);
        if info.caps() > 0 {
            delete_caps(info);
        }
        Ok(info)
    }
}

/// Deletes the capabilities a message with `info` brought (none for a
/// notification's signal). Out of line: a client has no reason to send
/// any, so the receive path is one test.
#[cold]
#[inline(never)]
fn delete_caps(info: MessageInfo) {
    if info.is_notification() {
        return;
    }
    for index in 0..info.caps() {
        let _ = rt::sys::cap_delete(rt::ipc::received_cap(index));
    }
}

impl<M: ?Sized> Waker<M> for DoorbellWaker {
    #[inline]
    fn wait(&self, _: &M, _: usize, _: u32, deadline: Option<u64>) -> Result<(), TimedOut> {
        match self.receive(deadline) {
            Ok(info) => {
                // A call is answered at the next sleep; a signal needs no
                // answer.
                self.owes_reply
                    .set(info.is_call() && !info.is_notification());
                Ok(())
            }
            Err(SysError::TimedOut) => Err(TimedOut),
            // Nothing else can come from a receive on our own endpoint
            // with a buffer; the caller looks at the ring again.
            Err(_) => Ok(()),
        }
    }

    #[inline]
    fn wake(&self, _: &M, _: usize) {
        // The client sleeps only in a call, which the next sleep answers.
    }

    #[inline]
    fn peer_may_sleep(&self) -> bool {
        false
    }

    /// The last receive took a call: the client is blocked in it until
    /// the next wait answers.
    #[inline]
    fn answers_peer(&self) -> bool {
        self.owes_reply.get()
    }
}

/// The client's [`Waker`] (module docs): it owns its copies of the
/// server's endpoint and notification.
#[derive(Debug)]
pub struct CallWaker {
    endpoint: Endpoint,
    notification: Notification,
}

impl CallWaker {
    /// The waker for a ring whose server gave these (`Doorbell::client_caps`).
    pub fn new(endpoint: Endpoint, notification: Notification) -> CallWaker {
        CallWaker {
            endpoint,
            notification,
        }
    }

    /// The endpoint's slot.
    pub fn endpoint(&self) -> CapSlot {
        self.endpoint.slot()
    }
}

impl<M: ?Sized> Waker<M> for CallWaker {
    /// Calls the server; returns once it answers. A server gone (the call
    /// fails) counts as the deadline passed: the ring is no use any more.
    #[inline]
    fn wait(&self, _: &M, _: usize, _: u32, deadline: Option<u64>) -> Result<(), TimedOut> {
        let result = match deadline {
            None => {
                let args = CallArgs {
                    endpoint: self.endpoint.slot(),
                    info: MessageInfo::new(0, 0, 0),
                    mr0: 0,
                    mr1: 0,
                    mr2: 0,
                    mr3: 0,
                };
                status(rt::sys::raw_syscall(CallArgs::SYSCALL.number(), args.encode()).0)
            }
            Some(deadline) => {
                let mut message = Message::new(0);
                self.endpoint.call_until(&mut message, deadline.max(1))
            }
        };
        result.map_err(|_| TimedOut)
    }

    #[inline]
    fn wake(&self, _: &M, _: usize) {
        let _ = rt::sys::signal(self.notification.slot(), 1);
    }

    #[inline]
    fn wait_wakes_peer(&self) -> bool {
        true
    }
}
