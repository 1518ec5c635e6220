//! The raw syscall layer the tests use: everything of `rt::sys`, plus the
//! register-level IPC stubs (a four-word [`Message`] in registers, the
//! IPC buffer handled by hand) and stubs that take raw addresses, so that
//! tests can pass what no typed wrapper would (bad pointers, reserved
//! bits, messages built word by word). Programs use `rt::ipc` instead.

pub use rt::sys::*;

use abi::ipc::MessageInfo;
use abi::syscall::*;
use abi::{CapSlot, SysError};

/// A unit result.
fn unit(result: Result<NoResult, SysError>) -> Result<(), SysError> {
    result.map(|_| ())
}

/// A message: label, length, capability count and the register words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Message {
    /// Label, length and capability count.
    pub info: MessageInfo,
    /// Words 0-3 (the rest are in the IPC buffer).
    pub words: [u64; 4],
}

impl Message {
    /// A message with `label` and up to four register words.
    pub fn new(label: u64, words: &[u64]) -> Message {
        let mut message = Message {
            info: MessageInfo::new(label, words.len(), 0),
            words: [0; 4],
        };
        for (slot, word) in message.words.iter_mut().zip(words) {
            *slot = *word;
        }
        message
    }

    /// The same message carrying `caps` capabilities (their slots go in
    /// the IPC buffer).
    pub fn with_caps(mut self, caps: usize) -> Message {
        self.info = self.info.with_caps(caps);
        self
    }

    /// The same message with the deadline flag: the kernel reads the
    /// deadline from the sender's IPC buffer (`rt::ipc_buffer::IpcBufferPtr::set_deadline`).
    pub fn with_deadline(mut self) -> Message {
        self.info = self.info.with_deadline();
        self
    }
}

/// What a receive returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The sender's badge (or signal bits for a notification).
    pub badge: u64,
    /// The message.
    pub message: Message,
}

fn received(result: Result<RecvResult, SysError>) -> Result<Received, SysError> {
    result.map(|r| Received {
        badge: r.badge,
        message: Message {
            info: MessageInfo::from_received(r.info),
            words: [r.mr0, r.mr1, r.mr2, r.mr3],
        },
    })
}

/// Raw IPC: syscall `number` with the endpoint slot and a message.
#[inline(always)]
fn ipc(number: Syscall, endpoint: u64, message: &Message) -> Result<Received, SysError> {
    let args = [
        endpoint,
        message.info.to_reg(),
        message.words[0],
        message.words[1],
        message.words[2],
        message.words[3],
    ];
    let (status, regs) = raw_syscall(number.number(), args);
    if status == 0 {
        received(Ok(RecvResult::decode(&regs)))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `Send`.
pub fn send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    ipc(Syscall::Send, endpoint.to_reg(), message).map(|_| ())
}

/// `NbSend`.
pub fn nb_send(endpoint: CapSlot, message: &Message) -> Result<(), SysError> {
    ipc(Syscall::NbSend, endpoint.to_reg(), message).map(|_| ())
}

/// `Call`: returns the reply.
#[inline(always)]
pub fn call(endpoint: CapSlot, message: &Message) -> Result<Received, SysError> {
    ipc(Syscall::Call, endpoint.to_reg(), message)
}

/// `Recv`.
pub fn recv(endpoint: CapSlot) -> Result<Received, SysError> {
    recv_until(endpoint, 0)
}

/// `Recv` that gives up with [`SysError::TimedOut`] at `deadline` (0:
/// never).
pub fn recv_until(endpoint: CapSlot, deadline: u64) -> Result<Received, SysError> {
    let (status, regs) = raw_syscall(
        Syscall::Recv.number(),
        RecvArgs { endpoint, deadline }.encode(),
    );
    if status == 0 {
        received(Ok(RecvResult::decode(&regs)))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `NbRecv`.
pub fn nb_recv(endpoint: CapSlot) -> Result<Received, SysError> {
    ipc(Syscall::NbRecv, endpoint.to_reg(), &Message::default())
}

/// `Reply`.
pub fn reply(message: &Message) -> Result<(), SysError> {
    ipc(Syscall::Reply, 0, message).map(|_| ())
}

/// `ReplyRecv`: answer the last call, then wait on `endpoint`.
#[inline(always)]
pub fn reply_recv(endpoint: CapSlot, message: &Message) -> Result<Received, SysError> {
    ipc(Syscall::ReplyRecv, endpoint.to_reg(), message)
}

/// `ReplyWith`: answer the caller saved in the Reply capability `reply`
/// (`rt::sys::reply_with` with this module's [`Message`]).
pub fn reply_with(reply: CapSlot, message: &Message) -> Result<(), SysError> {
    reply_with_raw(reply.to_reg(), message)
}

/// `ReplyWith` with a raw slot register (tests pass ones above 32 bits).
pub fn reply_with_raw(reply: u64, message: &Message) -> Result<(), SysError> {
    ipc(Syscall::ReplyWith, reply, message).map(|_| ())
}

/// `ReplySave` with a raw destination register.
pub fn reply_save_raw(dst: u64) -> Result<CapSlot, SysError> {
    let (status, regs) = raw_syscall(Syscall::ReplySave.number(), [dst, 0, 0, 0, 0, 0]);
    match status {
        0 => Ok(CapSlot(regs[0] as u32)),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// `ReplySaveRecv` with raw registers: the endpoint, the destination slot
/// and the receive's deadline.
pub fn reply_save_recv_raw(endpoint: u64, dst: u64, deadline: u64) -> Result<Received, SysError> {
    let (status, regs) = raw_syscall(
        Syscall::ReplySaveRecv.number(),
        [endpoint, dst, deadline, 0, 0, 0],
    );
    if status == 0 {
        received(Ok(RecvResult::decode(&regs)))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `DebugWrite` with a raw address (tests pass bad ones on purpose).
pub fn debug_write_raw(console: CapSlot, addr: u64, len: u64) -> Result<(), SysError> {
    invoke::<_, NoResult>(&DebugWriteArgs { console, addr, len }).map(|_| ())
}

/// `ThreadReadRegs` with a raw destination address.
pub fn thread_read_regs_raw(thread: CapSlot, out: u64) -> Result<(), SysError> {
    unit(invoke(&ThreadReadRegsArgs { thread, out }))
}

/// `ThreadWriteRegs` with a raw source address.
pub fn thread_write_regs_raw(thread: CapSlot, regs: u64) -> Result<(), SysError> {
    unit(invoke(&ThreadWriteRegsArgs { thread, regs }))
}

/// `CapInfo` with a raw destination address (tests pass bad ones on purpose).
pub fn cap_info_raw(slot: CapSlot, out: u64) -> Result<(), SysError> {
    invoke::<_, NoResult>(&CapInfoArgs { slot, out }).map(|_| ())
}

/// `FutexWait` with raw registers (tests pass bad addresses and values).
pub fn futex_wait_raw(addr: u64, expected: u64, deadline: u64) -> Result<(), SysError> {
    let (status, _) = raw_syscall(
        Syscall::FutexWait.number(),
        [addr, expected, deadline, 0, 0, 0],
    );
    match status {
        0 => Ok(()),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// `FutexWake` with a raw address.
pub fn futex_wake_raw(addr: u64, count: u64) -> Result<u64, SysError> {
    invoke::<_, FutexWoken>(&FutexWakeArgs { addr, count }).map(|r| r.woken)
}

/// `FutexRequeue` with raw addresses.
pub fn futex_requeue_raw(
    addr: u64,
    wake_count: u64,
    addr2: u64,
    requeue_count: u64,
    expected: u32,
) -> Result<(u64, u64), SysError> {
    invoke::<_, FutexRequeued>(&FutexRequeueArgs {
        addr,
        wake_count,
        addr2,
        requeue_count,
        expected,
    })
    .map(|r| (r.woken, r.requeued))
}
