//! Endpoint limits: every message length from 0 to 64 words through the
//! IPC buffers, every documented error of the IPC syscalls, and
//! `ThreadConfigure`'s errors. (The IPC operations themselves are in
//! `ipc`, capability transfer in `ipc_caps`.)

use super::ipc::{recorded, recv_one};
use crate::raw::{self as sys, Message, Received};
use abi::ipc::{MSG_MAX_WORDS, MessageInfo};
use abi::layout::USER_END;
use abi::syscall::Syscall;
use abi::{CapSlot, Rights, SysError};

use super::support::*;
use super::{TestResult, debug_cap};
use crate::ensure_eq;

raw_entry! {
    recv_one_entry => recv_one;
    long_server_entry => long_server;
    long_client_entry => long_client;
    unmapped_sender_entry => unmapped_sender;
}

const STOP: u64 = 0xffff;
const SENTINEL: u64 = 0x5e47_1e1e_5e47_1e1e;

fn pattern(label: u64, index: usize) -> u64 {
    (label << 8 | index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xa5a5
}

/// Writes message `label` of `len` words: words 4.. into `page`, the
/// register words into the returned message.
pub(super) fn fill_long(page: &Page, label: u64, len: usize) -> Message {
    let mut words = [0; 4];
    for (i, word) in words.iter_mut().enumerate().take(len) {
        *word = pattern(label, i);
    }
    for i in 4..len {
        page.set_word(i, pattern(label, i));
    }
    Message {
        info: MessageInfo::new(label, len, 0),
        words,
    }
}

/// How many things about a received message differ from `fill_long(label, len)`.
fn check_long(got: &Received, page: &Page, label: u64, len: usize) -> u64 {
    let info = got.message.info;
    let mut errors = u64::from(info.label() != label || info.words() != len || info.caps() != 0);
    for i in 0..len {
        let word = if i < 4 {
            got.message.words[i]
        } else {
            page.word(i)
        };
        errors += u64::from(word != pattern(label, i));
    }
    errors
}

fn long_server(ep: u64) -> u64 {
    let ep = low_slot(ep);
    let page = &PAGES[1];
    let mut errors = 0;
    // Sends of every length; the words past the length are left alone.
    for len in 0..=MSG_MAX_WORDS {
        for i in 4..MSG_MAX_WORDS {
            page.set_word(i, SENTINEL);
        }
        let got = match sys::recv(ep) {
            Ok(got) => got,
            Err(error) => return 10_000 + error.code(),
        };
        errors += check_long(&got, page, len as u64, len) + u64::from(got.message.info.is_call());
        for i in len.max(4)..MSG_MAX_WORDS {
            errors += u64::from(page.word(i) != SENTINEL);
        }
    }
    // Calls of every length, answered with 64 - length words.
    let mut got = match sys::recv(ep) {
        Ok(got) => got,
        Err(error) => return 20_000 + error.code(),
    };
    loop {
        let info = got.message.info;
        if info.label() == STOP {
            return match sys::reply(&Message::new(STOP, &[])) {
                Ok(()) => errors,
                Err(error) => 30_000 + error.code(),
            };
        }
        let len = info.words();
        errors += check_long(&got, page, len as u64, len) + u64::from(!info.is_call());
        let answer = fill_long(page, 1000 + len as u64, MSG_MAX_WORDS - len);
        got = match sys::reply_recv(ep, &answer) {
            Ok(got) => got,
            Err(error) => return 40_000 + error.code(),
        };
    }
}

fn long_client(ep: u64) -> u64 {
    let ep = low_slot(ep);
    let page = &PAGES[0];
    let mut errors = 0;
    for len in 0..=MSG_MAX_WORDS {
        if let Err(error) = sys::send(ep, &fill_long(page, len as u64, len)) {
            return 10_000 + error.code();
        }
    }
    for len in 0..=MSG_MAX_WORDS {
        let reply = match sys::call(ep, &fill_long(page, len as u64, len)) {
            Ok(reply) => reply,
            Err(error) => return 20_000 + error.code(),
        };
        errors += check_long(&reply, page, 1000 + len as u64, MSG_MAX_WORDS - len)
            + u64::from(reply.badge != 0);
    }
    match sys::call(ep, &Message::new(STOP, &[])) {
        Ok(reply) if reply.message.info.label() == STOP => errors,
        Ok(_) => 50_000,
        Err(error) => 30_000 + error.code(),
    }
}

pub fn every_length() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let server = Raw::new(long_server_entry, u64::from(ep.0))
        .buffer(&PAGES[1])
        .start()?;
    let client = Raw::new(long_client_entry, u64::from(ep.0))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(client.join()?, 0);
    ensure_eq!(server.join()?, 0);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Sends a long message on `low(arg)` from a thread whose IPC buffer is
/// not mapped (`BadAddress` expected), then a short one.
fn unmapped_sender(arg: u64) -> u64 {
    let long = Message {
        info: MessageInfo::new(1, 5, 0),
        words: [0; 4],
    };
    let first = code(sys::send(low_slot(arg), &long));
    let second = code(sys::send(low_slot(arg), &Message::new(2, &[])));
    pack(first, second)
}

pub fn errors() -> TestResult {
    // Several cases need a thread without an IPC buffer.
    let _no_buffer = super::support::NoIpcBuffer::take()?;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let read_only = must(sys::cap_copy(ep, Rights::READ))?;
    let write_only = must(sys::cap_copy(ep, Rights::WRITE))?;
    let message = Message::new(1, &[]);

    // Creating.
    ensure_eq!(
        sys::endpoint_create(CapSlot::NULL),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::endpoint_create(debug_cap()), Err(SysError::WrongType));
    let weak_budget = must(sys::cap_copy(budget(), Rights::READ))?;
    ensure_eq!(
        sys::endpoint_create(weak_budget),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(weak_budget), Ok(()));

    // The endpoint capability: slot, type, rights.
    for slot in [CapSlot::NULL, EMPTY_SLOT, CapSlot(u32::MAX)] {
        ensure_eq!(sys::send(slot, &message), Err(SysError::InvalidCap));
        ensure_eq!(sys::nb_send(slot, &message), Err(SysError::InvalidCap));
        ensure_eq!(
            sys::call(slot, &message).map(|_| ()),
            Err(SysError::InvalidCap)
        );
        ensure_eq!(sys::recv(slot).map(|_| ()), Err(SysError::InvalidCap));
        ensure_eq!(sys::nb_recv(slot).map(|_| ()), Err(SysError::InvalidCap));
        ensure_eq!(
            sys::reply_recv(slot, &message).map(|_| ()),
            Err(SysError::InvalidCap)
        );
    }
    let (status, _) = sys::raw_syscall(Syscall::Send.number(), [1 << 32, 0, 0, 0, 0, 0]);
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    ensure_eq!(sys::send(n, &message), Err(SysError::WrongType));
    ensure_eq!(sys::nb_send(n, &message), Err(SysError::WrongType));
    ensure_eq!(sys::call(n, &message).map(|_| ()), Err(SysError::WrongType));
    ensure_eq!(sys::recv(n).map(|_| ()), Err(SysError::WrongType));
    ensure_eq!(sys::nb_recv(n).map(|_| ()), Err(SysError::WrongType));
    ensure_eq!(
        sys::reply_recv(n, &message).map(|_| ()),
        Err(SysError::WrongType)
    );
    ensure_eq!(sys::send(read_only, &message), Err(SysError::MissingRights));
    ensure_eq!(
        sys::nb_send(read_only, &message),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::call(read_only, &message).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::recv(write_only).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::nb_recv(write_only).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::reply_recv(write_only, &message).map(|_| ()),
        Err(SysError::MissingRights)
    );
    // The right ones suffice (nobody is there).
    ensure_eq!(
        sys::nb_send(write_only, &message),
        Err(SysError::WouldBlock)
    );
    ensure_eq!(
        sys::nb_recv(read_only).map(|_| ()),
        Err(SysError::WouldBlock)
    );

    // Capabilities need GRANT on the endpoint (checked before the buffer).
    let with_cap = message.with_caps(1);
    ensure_eq!(
        sys::send(write_only, &with_cap),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::call(write_only, &with_cap).map(|_| ()),
        Err(SysError::MissingRights)
    );

    // Bad info words.
    let too_long = Message {
        info: MessageInfo::new(0, MSG_MAX_WORDS + 1, 0),
        words: [0; 4],
    };
    ensure_eq!(sys::send(ep, &too_long), Err(SysError::InvalidArg));
    ensure_eq!(sys::nb_send(ep, &too_long), Err(SysError::InvalidArg));
    ensure_eq!(
        sys::call(ep, &too_long).map(|_| ()),
        Err(SysError::InvalidArg)
    );
    // Bit 10 (bytes) is allowed, but its pieces are in the IPC buffer,
    // which this thread lacks.
    for bits in [1 << 10, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 0xff] {
        for number in [Syscall::Send, Syscall::NbSend, Syscall::Call] {
            let (status, _) =
                sys::raw_syscall(number.number(), [u64::from(ep.0), bits, 0, 0, 0, 0]);
            ensure_eq!(SysError::from_code(status), Some(SysError::InvalidArg));
        }
    }
    // Bit 11 is the deadline flag: its deadline is in the IPC buffer, which
    // this thread lacks (`NbSend` never waits and ignores it).
    let deadline = MessageInfo::new(0, 0, 0).with_deadline().to_reg();
    for (number, error) in [
        (Syscall::Send, SysError::InvalidArg),
        (Syscall::NbSend, SysError::WouldBlock),
        (Syscall::Call, SysError::InvalidArg),
    ] {
        let (status, _) =
            sys::raw_syscall(number.number(), [u64::from(ep.0), deadline, 0, 0, 0, 0]);
        ensure_eq!(SysError::from_code(status), Some(error));
    }

    // Long messages and capabilities need an IPC buffer (this thread has none).
    for (words, caps) in [(5, 0), (MSG_MAX_WORDS, 0), (0, 1), (4, 3)] {
        let needs_buffer = Message {
            info: MessageInfo::new(0, words, caps),
            words: [0; 4],
        };
        ensure_eq!(sys::send(ep, &needs_buffer), Err(SysError::InvalidArg));
        ensure_eq!(sys::nb_send(ep, &needs_buffer), Err(SysError::InvalidArg));
        ensure_eq!(
            sys::call(ep, &needs_buffer).map(|_| ()),
            Err(SysError::InvalidArg)
        );
    }

    // An IPC buffer that is not mapped: the sender's BadAddress when a
    // receiver is there; the receiver keeps waiting and gets the next one.
    clear_out();
    let receiver = Raw::new(recv_one_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    let sender = Raw::new(unmapped_sender_entry, u64::from(ep.0))
        .buffer_at(UNMAPPED)
        .start()?;
    ensure_eq!(sender.join()?, pack(SysError::BadAddress.code(), 0));
    ensure_eq!(receiver.join()?, 0);
    ensure_eq!(recorded(0).1.label(), 2);

    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    ensure_eq!(sys::cap_delete(write_only), Ok(()));
    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn configure_errors() -> TestResult {
    let before = free_frames()?;
    let own = rt::process::own_caps();
    let thread = must(sys::thread_create(own.budget, own.aspace, own.cspace))?;
    for bad in [
        PAGES[0].addr() + 8,
        0x1234,
        0xfff,
        USER_END,
        0x0000_8000_0000_0000,
        0xffff_8000_0000_0000,
        0xffff_ffff_ffff_f000,
    ] {
        ensure_eq!(
            sys::thread_configure(thread, bad, CapSlot::NULL),
            Err(SysError::InvalidArg)
        );
    }
    for good in [0, 0x1000, PAGES[0].addr(), USER_END - 0x1000, 0] {
        ensure_eq!(sys::thread_configure(thread, good, CapSlot::NULL), Ok(()));
    }
    ensure_eq!(
        sys::thread_configure(CapSlot::NULL, 0, CapSlot::NULL),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_configure(EMPTY_SLOT, 0, CapSlot::NULL),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_configure(debug_cap(), 0, CapSlot::NULL),
        Err(SysError::WrongType)
    );
    let read_only = must(sys::cap_copy(thread, Rights::READ))?;
    ensure_eq!(
        sys::thread_configure(read_only, 0, CapSlot::NULL),
        Err(SysError::MissingRights)
    );
    let (status, _) = sys::raw_syscall(
        Syscall::ThreadConfigure.number(),
        [u64::from(thread.0), 0, 1 << 32, 0, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    ensure_eq!(sys::cap_delete(thread), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
