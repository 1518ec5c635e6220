//! Endpoint syscalls: send, receive, call, reply and reply-receive; badges;
//! what a waiter sees when its endpoint or its partner is destroyed; the
//! order waiters are served in. (Lengths and errors are in `ipc_limits`,
//! capability transfer in `ipc_caps`.)

use crate::raw::{self as sys, Message, Received};
use crate::raw_thread::spawn;
use abi::ipc::{LABEL_MAX, MSG_MAX_WORDS, MessageInfo};
use abi::syscall::exit_kind;
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::TestResult;
use super::support::*;
use crate::{ensure, ensure_eq};

// ---------------------------------------------------------------------------
// Thread bodies.

/// Records a received message at `OUT[base..base + 6]`.
pub(super) fn record(base: usize, got: &Received) {
    set_out(base, got.badge);
    set_out(base + 1, got.message.info.to_reg());
    for (i, word) in got.message.words.iter().enumerate() {
        set_out(base + 2 + i, *word);
    }
}

/// What [`record`] left at `OUT[base..]`: badge, info and register words.
pub(super) fn recorded(base: usize) -> (u64, MessageInfo, [u64; 4]) {
    (
        out(base),
        MessageInfo::from_received(out(base + 1)),
        [out(base + 2), out(base + 3), out(base + 4), out(base + 5)],
    )
}

fn recv_three(ep: u64) -> u64 {
    for i in 0..3 {
        match sys::recv(low_slot(ep)) {
            Ok(got) => record(i * 6, &got),
            Err(error) => return 100 + error.code(),
        }
    }
    0
}

/// Receives once on `low(arg)`, records the message at `OUT[high(arg) * 6]`.
pub(super) fn recv_one(arg: u64) -> u64 {
    match sys::recv(low_slot(arg)) {
        Ok(got) => {
            record(high(arg) as usize * 6, &got);
            0
        }
        Err(error) => error.code(),
    }
}

/// Sends a message labelled `high(arg)` on `low(arg)`.
fn send_label(arg: u64) -> u64 {
    code(sys::send(
        low_slot(arg),
        &Message::new(high(arg), &[high(arg) * 11]),
    ))
}

/// Calls `low(arg)` with label `high(arg)`; records the reply at `OUT[high(arg) * 6]`.
fn call_label(arg: u64) -> u64 {
    match sys::call(low_slot(arg), &Message::new(high(arg), &[high(arg) * 11])) {
        Ok(reply) => {
            record(high(arg) as usize * 6, &reply);
            0
        }
        Err(error) => error.code(),
    }
}

/// Receives on `low(arg)` and ends without replying.
fn recv_and_exit(arg: u64) -> u64 {
    code(sys::recv(low_slot(arg)))
}

/// Receives on `low(arg)`, then waits on notification `high(arg)` forever.
fn recv_then_wait(arg: u64) -> u64 {
    if let Err(error) = sys::recv(low_slot(arg)) {
        return error.code();
    }
    set_out(40, 1);
    code(sys::wait(CapSlot(high(arg) as u32)))
}

/// Receives on `low(arg)` and records whether and how it returned at
/// `OUT[high(arg)]` (1 + error code, or 1 for success).
fn recv_flag(arg: u64) -> u64 {
    let result = sys::recv(low_slot(arg));
    set_out(high(arg) as usize, 1 + code(result));
    code(result)
}

/// Sends on `low(arg)` with label `high(arg)`, flagging the end at `OUT[high(arg)]`.
fn send_flag(arg: u64) -> u64 {
    let result = sys::send(low_slot(arg), &Message::new(high(arg), &[]));
    set_out(high(arg) as usize, 1 + code(result));
    code(result)
}

/// Calls `low(arg)`, flagging the end at `OUT[high(arg)]`.
fn call_flag(arg: u64) -> u64 {
    let result = sys::call(low_slot(arg), &Message::new(high(arg), &[]));
    set_out(high(arg) as usize, 1 + code(result));
    code(result)
}

raw_entry! {
    recv_one_entry => recv_one;
    send_label_entry => send_label;
    call_label_entry => call_label;
    recv_and_exit_entry => recv_and_exit;
    recv_then_wait_entry => recv_then_wait;
    recv_flag_entry => recv_flag;
    send_flag_entry => send_flag;
    call_flag_entry => call_flag;
    recv_then_fault_entry => recv_then_fault;
    send_long_entry => send_long;
    nb_send_long_entry => nb_send_long;
    recv_twice_reply_entry => recv_twice_reply;
    gated_reply_recv_entry => gated_reply_recv;
}

// ---------------------------------------------------------------------------
// Tests.

pub fn send_recv_badge() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    ensure_eq!(
        sys::cap_info(ep).map(|i| (i.object_type(), i.rights, i.badge)),
        Ok((Some(ObjectType::Endpoint), Rights::all().bits(), 0))
    );
    let first = must(sys::cap_mint(ep, Rights::WRITE, 0x11))?;
    let second = must(sys::cap_mint(ep, Rights::WRITE, u64::MAX))?;
    ensure_eq!(sys::cap_info(second).map(|i| i.badge), Ok(u64::MAX));
    clear_out();
    let receiver = must(spawn(recv_three, u64::from(ep.0)))?;
    ensure_eq!(sys::send(first, &Message::new(7, &[1, 2, 3, 4])), Ok(()));
    ensure_eq!(sys::send(second, &Message::new(8, &[5])), Ok(()));
    ensure_eq!(sys::send(ep, &Message::new(LABEL_MAX, &[])), Ok(()));
    ensure_eq!(join(receiver)?, 0);

    let (badge, info, words) = recorded(0);
    ensure_eq!(badge, 0x11);
    ensure_eq!(
        (info.label(), info.words(), info.caps(), info.is_call()),
        (7, 4, 0, false)
    );
    ensure!(!info.is_notification());
    ensure_eq!(words, [1, 2, 3, 4]);
    let (badge, info, words) = recorded(6);
    ensure_eq!(badge, u64::MAX);
    ensure_eq!((info.label(), info.words()), (8, 1));
    ensure_eq!(words[0], 5);
    let (badge, info, _) = recorded(12);
    ensure_eq!(badge, 0);
    ensure_eq!((info.label(), info.words()), (LABEL_MAX, 0));

    for slot in [first, second, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn adder_server(ep: u64) -> u64 {
    let ep = low_slot(ep);
    let mut got = match sys::recv(ep) {
        Ok(got) => got,
        Err(error) => return 1000 + error.code(),
    };
    let mut served = 0;
    loop {
        let info = got.message.info;
        if !info.is_call() {
            return 2000;
        }
        if info.label() == 0 {
            return match sys::reply(&Message::new(0, &[served])) {
                Ok(()) => served,
                Err(error) => 3000 + error.code(),
            };
        }
        let [a, b, ..] = got.message.words;
        let answer = Message::new(info.label() + 1, &[a + b, a * b, got.badge]);
        served += 1;
        got = match sys::reply_recv(ep, &answer) {
            Ok(got) => got,
            Err(error) => return 4000 + error.code(),
        };
    }
}

pub fn call_reply() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let client = must(sys::cap_mint(ep, Rights::WRITE, 0x42))?;
    let server = must(spawn(adder_server, u64::from(ep.0)))?;
    for i in 1..=5u64 {
        let reply = must(sys::call(client, &Message::new(i, &[i, 10])))?;
        ensure_eq!(reply.badge, 0);
        let info = reply.message.info;
        ensure_eq!(
            (info.label(), info.words(), info.caps(), info.is_call()),
            (i + 1, 3, 0, false)
        );
        ensure_eq!(reply.message.words[..3], [i + 10, i * 10, 0x42]);
    }
    let last = must(sys::call(ep, &Message::new(0, &[])))?;
    ensure_eq!(last.message.words[0], 5);
    ensure_eq!(join(server)?, 5);
    ensure_eq!(sys::cap_delete(client), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn nonblocking() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let message = Message::new(1, &[2]);
    ensure_eq!(sys::nb_send(ep, &message), Err(SysError::WouldBlock));
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::WouldBlock));
    clear_out();

    // A receiver waiting (above our priority, it blocked before start returned).
    let receiver = Raw::new(recv_one_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::nb_send(ep, &Message::new(3, &[33, 34])), Ok(()));
    ensure_eq!(receiver.join()?, 0);
    let (_, info, words) = recorded(0);
    ensure_eq!(
        (info.label(), info.words(), [words[0], words[1]]),
        (3, 2, [33, 34])
    );
    ensure_eq!(sys::nb_send(ep, &message), Err(SysError::WouldBlock));

    // A sender waiting.
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 4))
        .priority(33)
        .start()?;
    let got = must(sys::nb_recv(ep))?;
    ensure_eq!(
        (got.message.info.label(), got.message.info.is_call()),
        (4, false)
    );
    ensure_eq!(got.message.words[0], 44);
    ensure_eq!(sender.join()?, 0);

    // A caller waiting: nb_recv takes the call and its reply right.
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 5))
        .priority(33)
        .start()?;
    let got = must(sys::nb_recv(ep))?;
    ensure_eq!(
        (got.message.info.label(), got.message.info.is_call()),
        (5, true)
    );
    ensure_eq!(sys::reply(&Message::new(6, &[66])), Ok(()));
    ensure_eq!(caller.join()?, 0);
    let (badge, info, words) = recorded(30);
    ensure_eq!((badge, info.label(), words[0]), (0, 6, 66));
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::WouldBlock));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn reply_rules() -> TestResult {
    // These cases need a thread without an IPC buffer.
    let _no_buffer = super::support::NoIpcBuffer::take()?;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let answer = Message::new(6, &[43]);
    // No reply right yet.
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));
    ensure_eq!(
        sys::reply_recv(ep, &answer).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    clear_out();

    // A plain send gives no reply right.
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 1))
        .priority(33)
        .start()?;
    let got = must(sys::recv(ep))?;
    ensure!(!got.message.info.is_call());
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));
    ensure_eq!(sender.join()?, 0);

    // A call does, once; a plain send received in between does not take it.
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 2))
        .priority(33)
        .start()?;
    let got = must(sys::recv(ep))?;
    ensure_eq!(
        (got.message.info.label(), got.message.info.is_call()),
        (2, true)
    );
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 3))
        .priority(33)
        .start()?;
    let got = must(sys::recv(ep))?;
    ensure_eq!(
        (got.message.info.label(), got.message.info.is_call()),
        (3, false)
    );
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(out(13), 0);
    ensure_eq!(sys::reply(&answer), Ok(()));
    // The caller (priority 33) ran as soon as the reply made it ready.
    ensure_eq!(MessageInfo::from_received(out(13)).label(), 6);
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));
    ensure_eq!(caller.join()?, 0);
    let (badge, info, words) = recorded(12);
    ensure_eq!((badge, info.label(), info.words(), words[0]), (0, 6, 1, 43));

    // The reply's message is checked before the right.
    let long = Message {
        info: MessageInfo::new(0, 5, 0),
        words: [0; 4],
    };
    ensure_eq!(sys::reply(&long), Err(SysError::InvalidArg));
    let too_long = Message {
        info: MessageInfo::new(0, MSG_MAX_WORDS + 1, 0),
        words: [0; 4],
    };
    ensure_eq!(sys::reply(&too_long), Err(SysError::InvalidArg));
    ensure_eq!(
        sys::reply_recv(ep, &too_long).map(|_| ()),
        Err(SysError::InvalidArg)
    );

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn reply_to_deleted_caller() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let answer = Message::new(1, &[]);

    // Reply: PeerClosed, and the right is used up.
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 1))
        .priority(33)
        .start()?;
    ensure!(must(sys::recv(ep))?.message.info.is_call());
    caller.kill()?;
    ensure_eq!(sys::reply(&answer), Err(SysError::PeerClosed));
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));

    // ReplyRecv: the reply is dropped and the receive goes ahead.
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 2))
        .priority(33)
        .start()?;
    ensure!(must(sys::recv(ep))?.message.info.is_call());
    caller.kill()?;
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 9))
        .priority(33)
        .start()?;
    let got = must(sys::reply_recv(ep, &answer))?;
    ensure_eq!((got.message.info.label(), got.message.words[0]), (9, 99));
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn call_peer_closed() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    clear_out();

    // The server ends without replying.
    let server = Raw::new(recv_and_exit_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(
        sys::call(ep, &Message::new(1, &[])).map(|_| ()),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(server.join()?, 0);

    // The server takes another call before replying to the first.
    let first = Raw::new(call_label_entry, pack(u64::from(ep.0), 1))
        .priority(33)
        .start()?;
    let second = Raw::new(call_label_entry, pack(u64::from(ep.0), 2))
        .priority(33)
        .start()?;
    ensure_eq!(must(sys::recv(ep))?.message.info.label(), 1);
    ensure_eq!(must(sys::recv(ep))?.message.info.label(), 2);
    ensure_eq!(first.join()?, SysError::PeerClosed.code());
    ensure_eq!(sys::reply(&Message::new(22, &[])), Ok(()));
    ensure_eq!(second.join()?, 0);
    ensure_eq!(recorded(12).1.label(), 22);

    // The server is destroyed while it holds the reply right.
    let server = Raw::new(recv_then_wait_entry, pack(u64::from(ep.0), u64::from(n.0)))
        .priority(33)
        .start()?;
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 3))
        .priority(33)
        .start()?;
    ensure_eq!(out(40), 1);
    server.kill()?;
    ensure_eq!(caller.join()?, SysError::PeerClosed.code());

    // The server faults while it holds the reply right.
    let server = Raw::new(recv_then_fault_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(
        sys::call(ep, &Message::new(4, &[])).map(|_| ()),
        Err(SysError::PeerClosed)
    );
    let status = must(sys::thread_wait(server.slot()))?;
    // Killed by #UD (vector 6).
    ensure_eq!((status.kind, status.code), (exit_kind::FAULTED, 6));
    server.kill()?;

    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Receives on `low(arg)`, then executes `ud2`.
fn recv_then_fault(arg: u64) -> u64 {
    match sys::recv(low_slot(arg)) {
        Ok(_) => crate::cpu::ud2(0),
        Err(error) => error.code(),
    }
}

/// Receives a call on `low(arg)`, then another (the first caller loses its
/// reply), then answers the second with label 21.
fn recv_twice_reply(arg: u64) -> u64 {
    for _ in 0..2 {
        if let Err(error) = sys::recv(low_slot(arg)) {
            return 100 + error.code();
        }
    }
    code(sys::reply(&Message::new(21, &[])))
}

/// Receives a call on `low(arg)`, waits on notification `high(arg)`, then
/// answers with ReplyRecv (label 31) and records what it receives at `OUT[0..6]`.
fn gated_reply_recv(arg: u64) -> u64 {
    let ep = low_slot(arg);
    if let Err(error) = sys::recv(ep) {
        return 100 + error.code();
    }
    if let Err(error) = sys::wait(CapSlot(high(arg) as u32)) {
        return 200 + error.code();
    }
    match sys::reply_recv(ep, &Message::new(31, &[])) {
        Ok(got) => {
            record(0, &got);
            0
        }
        Err(error) => 300 + error.code(),
    }
}

pub fn second_call_while_holding_reply() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    // The server waits in Recv while it still owes the first caller a
    // reply; the second call replaces the right.
    let server = Raw::new(recv_twice_reply_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    let first = Raw::new(call_label_entry, pack(u64::from(ep.0), 1))
        .priority(34)
        .start()?;
    let second = Raw::new(call_label_entry, pack(u64::from(ep.0), 2))
        .priority(34)
        .start()?;
    ensure_eq!(first.join()?, SysError::PeerClosed.code());
    ensure_eq!(second.join()?, 0);
    ensure_eq!(server.join()?, 0);
    ensure_eq!(recorded(12).1.label(), 21);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn reply_recv_with_sender_queued() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let gate = must(sys::notification_create(budget()))?;
    clear_out();
    let server = Raw::new(
        gated_reply_recv_entry,
        pack(u64::from(ep.0), u64::from(gate.0)),
    )
    .priority(33)
    .start()?;
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 2))
        .priority(34)
        .start()?;
    // The server has the call and waits at the gate; a sender queues.
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 9))
        .priority(34)
        .start()?;
    ensure_eq!(sys::signal(gate, 1), Ok(()));
    // ReplyRecv answered the caller and took the queued message at once.
    ensure_eq!(server.join()?, 0);
    ensure_eq!(caller.join()?, 0);
    ensure_eq!(sender.join()?, 0);
    let (_, info, words) = recorded(0);
    ensure_eq!((info.label(), info.is_call(), words[0]), (9, false, 99));
    ensure_eq!(recorded(12).1.label(), 31);
    ensure_eq!(sys::cap_delete(gate), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Sends a 5-word message on `low(arg)` (label `high(arg)`).
fn send_long(arg: u64) -> u64 {
    let long = Message {
        info: MessageInfo::new(high(arg), 5, 0),
        words: [0; 4],
    };
    code(sys::send(low_slot(arg), &long))
}

/// NbSends a 5-word message on `low(arg)` (label `high(arg)`).
fn nb_send_long(arg: u64) -> u64 {
    let long = Message {
        info: MessageInfo::new(high(arg), 5, 0),
        words: [0; 4],
    };
    code(sys::nb_send(low_slot(arg), &long))
}

/// IPC buffers on device memory: the kernel copies message words through
/// its direct map, which holds RAM only, so a buffer page that is device
/// memory (here the HPET's registers, mapped read-write) counts as
/// unmapped: the side it belongs to gets `BadAddress`, the other side's
/// operation goes on, and the kernel is unharmed.
pub fn device_memory_buffers() -> TestResult {
    let device = CapSlot(super::boot().device_cap);
    let hpet = must(sys::memory_create_device(budget(), device, 0xfed0_0000, 1))?;
    let base = super::vm::area(29);
    let rw = abi::MapFlags::READ | abi::MapFlags::WRITE;
    must(sys::aspace_map(super::aspace_cap(), hpet, 0, base, 1, rw))?;
    let ep = must(sys::endpoint_create(budget()))?;
    let arg = |label: u64| pack(u64::from(ep.0), label);

    // A sender whose buffer is the device page.
    let bad = Raw::new(send_long_entry, arg(1))
        .priority(33)
        .buffer_at(base)
        .start()?;
    let good = Raw::new(send_label_entry, arg(2)).priority(33).start()?;
    ensure_eq!(must(sys::recv(ep))?.message.info.label(), 2);
    ensure_eq!(bad.join()?, SysError::BadAddress.code());
    ensure_eq!(good.join()?, 0);

    // A receiver whose buffer is the device page.
    clear_out();
    let unfit = Raw::new(recv_one_entry, arg(0))
        .priority(33)
        .buffer_at(base)
        .start()?;
    let fit = Raw::new(recv_one_entry, arg(1))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    let sender = Raw::new(send_long_entry, arg(3))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(unfit.join()?, SysError::BadAddress.code());
    ensure_eq!(fit.join()?, 0);

    must(sys::cap_delete(ep))?;
    super::vm::unmap_delete(hpet, base, 1)
}

pub fn transfer_error_sides() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let arg = |label: u64| pack(u64::from(ep.0), label);

    // A receiver meets a waiting sender whose message is bad: that sender
    // fails and leaves; the receiver takes the next message.
    let bad = Raw::new(send_long_entry, arg(1))
        .priority(33)
        .buffer_at(UNMAPPED)
        .start()?;
    let good = Raw::new(send_label_entry, arg(2)).priority(33).start()?;
    ensure_eq!(must(sys::recv(ep))?.message.info.label(), 2);
    ensure_eq!(bad.join()?, SysError::BadAddress.code());
    ensure_eq!(good.join()?, 0);

    // A sender meets waiting receivers: one that cannot take the message
    // fails and leaves, the next one gets it.
    clear_out();
    let unfit = Raw::new(recv_one_entry, arg(0)).priority(33).start()?;
    let fit = Raw::new(recv_one_entry, arg(1))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    let sender = Raw::new(send_long_entry, arg(3))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(unfit.join()?, SysError::BadAddress.code());
    ensure_eq!(fit.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 3);

    // NbSend when no waiting receiver can take it: each fails, then
    // WouldBlock.
    let unfit = Raw::new(recv_one_entry, arg(0)).priority(33).start()?;
    let sender = Raw::new(nb_send_long_entry, arg(4))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sender.join()?, SysError::WouldBlock.code());
    ensure_eq!(unfit.join()?, SysError::BadAddress.code());

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn endpoint_deleted_wakes_waiters() -> TestResult {
    let before = free_frames()?;
    let entries: [Entry; 3] = [recv_flag_entry, send_flag_entry, call_flag_entry];
    for entry in entries {
        clear_out();
        let ep = must(sys::endpoint_create(budget()))?;
        let waiter = Raw::new(entry, pack(u64::from(ep.0), 1))
            .priority(33)
            .start()?;
        ensure_eq!(out(1), 0);
        ensure_eq!(sys::cap_delete(ep), Ok(()));
        // Woken at priority 33, it ran before CapDelete returned.
        ensure_eq!(out(1), 1 + SysError::PeerClosed.code());
        ensure_eq!(waiter.join()?, SysError::PeerClosed.code());
    }

    // Several receivers, and a copy that keeps the endpoint alive.
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    let copy = must(sys::cap_copy(ep, Rights::READ))?;
    let mut waiters = [const { None }; 3];
    for (i, waiter) in waiters.iter_mut().enumerate() {
        *waiter = Some(
            Raw::new(recv_flag_entry, pack(u64::from(ep.0), i as u64 + 1))
                .priority(33)
                .start()?,
        );
    }
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!([out(1), out(2), out(3)], [0, 0, 0]);
    ensure_eq!(sys::cap_delete(copy), Ok(()));
    let closed = 1 + SysError::PeerClosed.code();
    ensure_eq!([out(1), out(2), out(3)], [closed, closed, closed]);
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, SysError::PeerClosed.code());
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn deleted_thread_leaves_queue() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let arg = |label: u64| pack(u64::from(ep.0), label);
    let message = Message::new(7, &[]);

    let sender = Raw::new(send_label_entry, arg(1)).priority(33).start()?;
    sender.kill()?;
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::WouldBlock));

    let receiver = Raw::new(recv_one_entry, arg(0)).priority(33).start()?;
    receiver.kill()?;
    ensure_eq!(sys::nb_send(ep, &message), Err(SysError::WouldBlock));

    let caller = Raw::new(call_label_entry, arg(2)).priority(33).start()?;
    caller.kill()?;
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::WouldBlock));

    // With two senders queued, the one left is served.
    let gone = Raw::new(send_label_entry, arg(3)).priority(33).start()?;
    let kept = Raw::new(send_label_entry, arg(4)).priority(33).start()?;
    gone.kill()?;
    ensure_eq!(must(sys::recv(ep))?.message.info.label(), 4);
    ensure_eq!(kept.join()?, 0);
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::WouldBlock));

    // With two receivers queued, the one left is served.
    clear_out();
    let gone = Raw::new(recv_one_entry, arg(0)).priority(33).start()?;
    let kept = Raw::new(recv_one_entry, arg(1)).priority(33).start()?;
    gone.kill()?;
    ensure_eq!(sys::nb_send(ep, &message), Ok(()));
    ensure_eq!(kept.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 7);
    ensure_eq!(sys::nb_send(ep, &message), Err(SysError::WouldBlock));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn priority_order() -> TestResult {
    let ep = must(sys::endpoint_create(budget()))?;
    // Senders: label i + 1 at priority PRIORITIES[i]; each blocks at once.
    let priorities = [33u64, 34, 35, 34, 33];
    let mut senders = [const { None }; 5];
    for (i, sender) in senders.iter_mut().enumerate() {
        *sender = Some(
            Raw::new(send_label_entry, pack(u64::from(ep.0), i as u64 + 1))
                .priority(priorities[i])
                .start()?,
        );
    }
    // A queued thread keeps its place when its priority changes.
    if let Some(sender) = &senders[4] {
        ensure_eq!(sys::thread_set_priority(sender.slot(), 40, 40), Ok(()));
    }
    // Highest priority first, FIFO among equals.
    for expected in [3, 2, 4, 1, 5] {
        ensure_eq!(must(sys::recv(ep))?.message.info.label(), expected);
    }
    for sender in senders.into_iter().flatten() {
        ensure_eq!(sender.join()?, 0);
    }

    // Receivers: receiver i records at OUT[i * 6].
    clear_out();
    let priorities = [33u64, 35, 34, 35];
    let mut receivers = [const { None }; 4];
    for (i, receiver) in receivers.iter_mut().enumerate() {
        *receiver = Some(
            Raw::new(recv_one_entry, pack(u64::from(ep.0), i as u64))
                .priority(priorities[i])
                .start()?,
        );
    }
    for label in 1..=4 {
        ensure_eq!(sys::send(ep, &Message::new(label, &[])), Ok(()));
    }
    for receiver in receivers.into_iter().flatten() {
        ensure_eq!(receiver.join()?, 0);
    }
    let labels = [0, 1, 2, 3].map(|i| recorded(i * 6).1.label());
    ensure_eq!(labels, [4, 1, 3, 2]);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

// Long messages: a client and a server, each with an IPC buffer.
