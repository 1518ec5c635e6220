//! Capabilities through messages: transfer of one to three capabilities,
//! and every error a transfer can meet on the sender's and the receiver's
//! side, in calls and in replies.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw::{self as sys, Message};
use abi::ipc::{MSG_MAX_CAPS, MessageInfo};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::ipc::{record, recorded, recv_one};
use super::ipc_limits::fill_long;
use super::support::*;
use super::{TestResult, debug_cap};
use crate::{ensure, ensure_eq};

raw_entry! {
    recv_one_entry => recv_one;
    caps_sender_entry => caps_sender;
    caps_receiver_entry => caps_receiver;
    bad_caps_sender_entry => bad_caps_sender;
    one_cap_sender_entry => one_cap_sender;
    replier_entry => replier;
    buffered_caller_entry => buffered_caller;
}
// Capabilities through messages.

/// The capabilities [`caps_sender`] sends (slots in the program's space).
static TO_SEND: [AtomicU64; MSG_MAX_CAPS] = [const { AtomicU64::new(0) }; MSG_MAX_CAPS];

/// Sends 1, 2 and 3 of `TO_SEND` on `low(arg)`, each with two words.
fn caps_sender(arg: u64) -> u64 {
    let page = &PAGES[0];
    for count in 1..=MSG_MAX_CAPS {
        for (j, cap) in TO_SEND.iter().enumerate().take(count) {
            page.set_cap(j, cap.load(Ordering::SeqCst));
        }
        let message = Message {
            info: MessageInfo::new(count as u64, 2, count),
            words: [count as u64, 0xabc, 0, 0],
        };
        if let Err(error) = sys::send(low_slot(arg), &message) {
            return 100 * count as u64 + error.code();
        }
    }
    0
}

/// Receives three messages with capabilities on `low(arg)`. For round
/// `r`, records at `OUT[r * 12..]`: the info, then per capability its
/// slot, type and rights, and badge; signals a received notification with
/// bit `r`; deletes what it got except in the last round.
fn caps_receiver(arg: u64) -> u64 {
    let page = &PAGES[1];
    for round in 1..=MSG_MAX_CAPS {
        let got = match sys::recv(low_slot(arg)) {
            Ok(got) => got,
            Err(error) => return 100 + error.code(),
        };
        let base = round * 12;
        set_out(base, got.message.info.to_reg());
        set_out(base + 1, got.message.words[0]);
        for j in 0..got.message.info.caps() {
            let slot = CapSlot(page.cap(j) as u32);
            set_out(base + 2 + j * 3, u64::from(slot.0));
            match sys::cap_info(slot) {
                Ok(info) => {
                    set_out(
                        base + 3 + j * 3,
                        u64::from(info.object_type) | u64::from(info.rights) << 8,
                    );
                    set_out(base + 4 + j * 3, info.badge);
                    if info.object_type() == Some(ObjectType::Notification)
                        && sys::signal(slot, 1 << round).is_err()
                    {
                        return 200;
                    }
                }
                Err(error) => set_out(base + 3 + j * 3, 0xe000 + error.code()),
            }
            if round < MSG_MAX_CAPS && sys::cap_delete(slot).is_err() {
                return 300;
            }
        }
    }
    0
}

pub fn caps_transfer() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let target = must(sys::endpoint_create(budget()))?;
    let grant = Rights::READ | Rights::WRITE | Rights::GRANT;
    let send_n = must(sys::cap_copy(n, grant))?;
    let send_target = must(sys::cap_mint(target, Rights::WRITE | Rights::GRANT, 0x77))?;
    let send_debug = must(sys::cap_copy(debug_cap(), Rights::READ | Rights::GRANT))?;
    for (cap, slot) in TO_SEND.iter().zip([send_n, send_target, send_debug]) {
        cap.store(u64::from(slot.0), Ordering::SeqCst);
    }
    clear_out();
    let receiver = Raw::new(caps_receiver_entry, u64::from(ep.0))
        .buffer(&PAGES[1])
        .start()?;
    let sender = Raw::new(caps_sender_entry, u64::from(ep.0))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(receiver.join()?, 0);

    let expected = [
        (ObjectType::Notification, grant, 0),
        (ObjectType::Endpoint, Rights::WRITE | Rights::GRANT, 0x77),
        (ObjectType::Debug, Rights::READ | Rights::GRANT, 0),
    ];
    for round in 1..=MSG_MAX_CAPS {
        let base = round * 12;
        let info = MessageInfo::from_received(out(base));
        ensure_eq!(
            (info.label(), info.words(), info.caps(), out(base + 1)),
            (round as u64, 2, round, round as u64)
        );
        for (j, (kind, rights, badge)) in expected.iter().enumerate().take(round) {
            ensure!(out(base + 2 + j * 3) != 0);
            ensure_eq!(
                out(base + 3 + j * 3),
                kind.to_reg() | u64::from(rights.bits()) << 8
            );
            ensure_eq!(out(base + 4 + j * 3), *badge);
        }
    }
    // The received notification was usable: each round signalled its bit.
    ensure_eq!(sys::poll(n), Ok(0b1110));
    // The sender keeps its capabilities.
    ensure_eq!(sys::cap_info(send_target).map(|i| i.badge), Ok(0x77));
    // The last round's capabilities are still there, derived from the
    // sender's: revoking the sender's notification takes its copy only.
    let last = [0, 1, 2].map(|j| CapSlot(out(36 + 2 + j * 3) as u32));
    ensure_eq!(sys::cap_revoke(send_n), Ok(()));
    ensure_eq!(
        sys::cap_info(last[0]).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::cap_info(last[1]).map(|i| i.object_type()),
        Ok(Some(ObjectType::Endpoint))
    );
    ensure_eq!(sys::cap_revoke(send_target), Ok(()));
    ensure_eq!(
        sys::cap_info(last[1]).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::cap_delete(last[2]), Ok(()));

    for slot in [send_n, send_target, send_debug, target, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Tries bad capability transfers on `low(arg)` (a receiver waits), then a
/// good one. `TO_SEND` holds: a capability without GRANT, one with GRANT,
/// and the endpoint without GRANT. Records each result at `OUT[50..]`.
fn bad_caps_sender(arg: u64) -> u64 {
    let page = &PAGES[0];
    let ep = low_slot(arg);
    let no_grant = TO_SEND[0].load(Ordering::SeqCst);
    let good = TO_SEND[1].load(Ordering::SeqCst);
    let ep_no_grant = CapSlot(TO_SEND[2].load(Ordering::SeqCst) as u32);
    let one_cap = Message {
        info: MessageInfo::new(5, 1, 1),
        words: [5, 0, 0, 0],
    };
    let attempts = [
        (ep, no_grant),
        (ep, u64::from(EMPTY_SLOT.0)),
        (ep, 0),
        (ep, 1 << 40),
        (ep_no_grant, good),
    ];
    for (i, (endpoint, cap)) in attempts.iter().enumerate() {
        page.set_cap(0, *cap);
        set_out(50 + i, code(sys::send(*endpoint, &one_cap)));
    }
    page.set_cap(0, good);
    code(sys::send(ep, &Message::new(6, &[]).with_caps(1)))
}

/// Sends one capability (`TO_SEND[1]`) and label `high(arg)` on `low(arg)`.
fn one_cap_sender(arg: u64) -> u64 {
    PAGES[0].set_cap(0, TO_SEND[1].load(Ordering::SeqCst));
    PAGES[0].set_cap(1, TO_SEND[2].load(Ordering::SeqCst));
    let count = if high(arg) >= 100 { 2 } else { 1 };
    let message = Message {
        info: MessageInfo::new(high(arg), 0, count),
        words: [0; 4],
    };
    code(sys::send(low_slot(arg), &message))
}

pub fn caps_transfer_errors() -> TestResult {
    // These cases need a thread without an IPC buffer.
    let _no_buffer = super::support::NoIpcBuffer::take()?;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let no_grant = must(sys::cap_copy(n, Rights::READ | Rights::WRITE))?;
    let good = must(sys::cap_copy(n, Rights::READ | Rights::GRANT))?;
    let ep_no_grant = must(sys::cap_copy(ep, Rights::READ | Rights::WRITE))?;
    for (cap, slot) in TO_SEND.iter().zip([no_grant, good, ep_no_grant]) {
        cap.store(u64::from(slot.0), Ordering::SeqCst);
    }

    // Sender-side errors: the waiting receiver is not disturbed.
    clear_out();
    let receiver = Raw::new(recv_one_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    let sender = Raw::new(bad_caps_sender_entry, u64::from(ep.0))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(receiver.join()?, 0);
    ensure_eq!(
        [out(50), out(51), out(52), out(53), out(54)],
        [
            SysError::MissingRights.code(),
            SysError::InvalidCap.code(),
            SysError::InvalidCap.code(),
            SysError::InvalidCap.code(),
            SysError::MissingRights.code(),
        ]
    );
    let (_, info, _) = recorded(0);
    ensure_eq!((info.label(), info.caps()), (6, 1));
    let received = CapSlot(PAGES[1].cap(0) as u32);
    ensure_eq!(
        sys::cap_info(received).map(|i| (i.object_type(), i.rights)),
        Ok((
            Some(ObjectType::Notification),
            (Rights::READ | Rights::GRANT).bits()
        ))
    );
    ensure_eq!(sys::cap_delete(received), Ok(()));

    // A receiver without an IPC buffer: BadAddress, and the message stays
    // with its sender for the next receiver.
    clear_out();
    let sender = Raw::new(one_cap_sender_entry, pack(u64::from(ep.0), 7))
        .priority(33)
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(sys::recv(ep).map(|_| ()), Err(SysError::BadAddress));
    ensure_eq!(sys::nb_recv(ep).map(|_| ()), Err(SysError::BadAddress));
    let receiver = Raw::new(recv_one_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    ensure_eq!(receiver.join()?, 0);
    ensure_eq!(sender.join()?, 0);
    let (_, info, _) = recorded(0);
    ensure_eq!((info.label(), info.caps()), (7, 1));
    ensure_eq!(sys::cap_delete(CapSlot(PAGES[1].cap(0) as u32)), Ok(()));

    // A receiver whose capability space has one free slot: two
    // capabilities are the sender's OutOfMemory; one fits.
    let space = must(sys::cspace_create(budget(), 64))?;
    ensure_eq!(
        sys::cap_copy_to(ep, Rights::READ, space, CapSlot(1)),
        Ok(CapSlot(1))
    );
    for slot in 2..63 {
        must(sys::cap_copy_to(
            debug_cap(),
            Rights::READ,
            space,
            CapSlot(slot),
        ))?;
    }
    clear_out();
    let receiver = Raw::new(recv_one_entry, pack(1, 0))
        .cspace(space)
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    TO_SEND[2].store(u64::from(good.0), Ordering::SeqCst);
    let two = Raw::new(one_cap_sender_entry, pack(u64::from(ep.0), 100))
        .priority(33)
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(two.join()?, SysError::OutOfMemory.code());
    ensure_eq!(out(1), 0);
    let one = Raw::new(one_cap_sender_entry, pack(u64::from(ep.0), 8))
        .priority(33)
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(one.join()?, 0);
    ensure_eq!(receiver.join()?, 0);
    let (_, info, _) = recorded(0);
    ensure_eq!((info.label(), info.caps()), (8, 1));
    ensure_eq!(PAGES[1].cap(0), 63);
    ensure_eq!(sys::cap_delete(space), Ok(()));

    for slot in [no_grant, good, ep_no_grant, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A server with an IPC buffer (`PAGES[1]`) that tries bad replies; each
/// result goes to `OUT[20..]`. `TO_SEND`: [no GRANT, GRANT] capabilities.
fn replier(ep: u64) -> u64 {
    let ep = low_slot(ep);
    let page = &PAGES[1];
    let no_grant = TO_SEND[0].load(Ordering::SeqCst);
    let good = TO_SEND[1].load(Ordering::SeqCst);
    let with_cap = Message::new(10, &[]).with_caps(1);
    // First caller: called through a capability without GRANT.
    if let Err(error) = sys::recv(ep) {
        return 100 + error.code();
    }
    page.set_cap(0, good);
    set_out(20, code(sys::reply(&with_cap)));
    set_out(21, code(sys::reply(&Message::new(11, &[]))));
    // Second caller: with GRANT.
    if let Err(error) = sys::recv(ep) {
        return 200 + error.code();
    }
    page.set_cap(0, no_grant);
    set_out(22, code(sys::reply(&with_cap)));
    page.set_cap(0, u64::from(EMPTY_SLOT.0));
    set_out(23, code(sys::reply(&with_cap)));
    // ReplyRecv with a bad reply: nothing is received, the right is kept.
    page.set_cap(0, no_grant);
    set_out(26, code(sys::reply_recv(ep, &with_cap)));
    page.set_cap(0, good);
    set_out(24, code(sys::reply(&Message::new(12, &[]).with_caps(1))));
    // Third caller: has no IPC buffer for a long reply. Reply succeeds.
    if let Err(error) = sys::recv(ep) {
        return 300 + error.code();
    }
    let long = fill_long(page, 13, 10);
    set_out(25, code(sys::reply(&long)));
    // Fourth: the same through ReplyRecv, which then receives.
    if let Err(error) = sys::recv(ep) {
        return 400 + error.code();
    }
    match sys::reply_recv(ep, &long) {
        Ok(got) => set_out(27, got.message.info.label()),
        Err(error) => return 500 + error.code(),
    }
    0
}

/// Calls `low(arg)` with an IPC buffer (`PAGES[high(arg)]`); records the
/// reply at `OUT[30 + 6 * (high(arg) - 1)]` and the received slot after it.
fn buffered_caller(arg: u64) -> u64 {
    let index = high(arg) as usize;
    match sys::call(low_slot(arg), &Message::new(index as u64, &[])) {
        Ok(reply) => {
            let base = 30 + 6 * (index - 1);
            record(base, &reply);
            if reply.message.info.caps() > 0 {
                set_out(base + 5, PAGES[index].cap(0));
            }
            0
        }
        Err(error) => error.code(),
    }
}

pub fn reply_transfer_errors() -> TestResult {
    // These cases need a thread without an IPC buffer.
    let _no_buffer = super::support::NoIpcBuffer::take()?;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let ep_no_grant = must(sys::cap_copy(ep, Rights::WRITE))?;
    let n = must(sys::notification_create(budget()))?;
    let no_grant = must(sys::cap_copy(n, Rights::READ | Rights::WRITE))?;
    let good = must(sys::cap_copy(n, Rights::READ | Rights::GRANT))?;
    TO_SEND[0].store(u64::from(no_grant.0), Ordering::SeqCst);
    TO_SEND[1].store(u64::from(good.0), Ordering::SeqCst);
    clear_out();
    let server = Raw::new(replier_entry, u64::from(ep.0))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    // Without GRANT on the caller's capability, no capability in the reply;
    // the right is kept for a second try.
    let first = Raw::new(buffered_caller_entry, pack(u64::from(ep_no_grant.0), 1))
        .buffer(&PAGES[0])
        .start()?;
    ensure_eq!(first.join()?, 0);
    ensure_eq!(out(20), SysError::MissingRights.code());
    ensure_eq!(out(21), 0);
    let (_, info, _) = recorded(30);
    ensure_eq!((info.label(), info.caps()), (11, 0));
    // With GRANT: a capability without GRANT, or an empty slot, is refused.
    let second = Raw::new(buffered_caller_entry, pack(u64::from(ep.0), 2))
        .buffer(&PAGES[2])
        .start()?;
    ensure_eq!(second.join()?, 0);
    ensure_eq!(out(22), SysError::MissingRights.code());
    ensure_eq!(out(23), SysError::InvalidCap.code());
    ensure_eq!(out(24), 0);
    let (badge, info, _) = recorded(36);
    ensure_eq!((badge, info.label(), info.caps()), (0, 12, 1));
    let received = CapSlot(out(41) as u32);
    ensure_eq!(
        sys::cap_info(received).map(|i| i.object_type()),
        Ok(Some(ObjectType::Notification))
    );
    ensure_eq!(sys::cap_delete(received), Ok(()));
    // A long reply to a caller without an IPC buffer: the call fails with
    // BadAddress, the reply succeeds.
    ensure_eq!(
        sys::call(ep, &Message::new(3, &[])).map(|_| ()),
        Err(SysError::BadAddress)
    );
    ensure_eq!(out(25), 0);
    ensure_eq!(out(26), SysError::MissingRights.code());
    ensure_eq!(
        sys::call(ep, &Message::new(4, &[])).map(|_| ()),
        Err(SysError::BadAddress)
    );
    ensure_eq!(sys::send(ep, &Message::new(5, &[])), Ok(()));
    ensure_eq!(server.join()?, 0);
    ensure_eq!(out(27), 5);

    for slot in [good, no_grant, n, ep_no_grant, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
