//! Saved replies (`ReplySave`, `ReplyWith`): a server keeps callers
//! waiting while it answers others; every error of both syscalls; who
//! gets `PeerClosed` when the Reply capability, the server's capability
//! space or the caller goes; Reply capabilities are neither copied nor
//! minted, move only within their space; and nothing leaks.
//!
//! The test thread is the server unless a test needs the server in a
//! capability space of its own; callers are helper threads above its
//! priority, so each runs as soon as its answer makes it ready.

use crate::raw::{self as sys, Message, Received};
use abi::ipc::{MSG_MAX_WORDS, MessageInfo, fault};
use abi::syscall::exit_kind;
use abi::{CapSlot, ObjectType, Rights, SysError};
use rt::handle::Handle;

use super::ipc::{record, recorded};
use super::support::*;
use super::{TestResult, debug_cap};
use crate::{ensure, ensure_eq};

// ---------------------------------------------------------------------------
// Thread bodies.

/// Calls `low(arg)` with label `high(arg)` (1 to 3) and words
/// `[label * 11]`, with `PAGES[label - 1]` as its IPC buffer. Records the
/// reply at `OUT[label * 6..]`, its word 5 at `OUT[30 + label]` and its
/// first capability's slot at `OUT[40 + label]`; returns the error's code.
pub(super) fn saved_caller(arg: u64) -> u64 {
    let label = high(arg);
    let page = &PAGES[(label as usize - 1) % PAGES.len()];
    match sys::call(low_slot(arg), &Message::new(label, &[label * 11])) {
        Ok(reply) => {
            record(label as usize * 6, &reply);
            if reply.message.info.words() > 5 {
                set_out(30 + label as usize, page.word(5));
            }
            if reply.message.info.caps() > 0 {
                set_out(40 + label as usize, page.cap(0));
            }
            0
        }
        Err(error) => error.code(),
    }
}

/// Calls `low(arg)` `high(arg)` times; counts answers at `OUT[0]` and
/// `PeerClosed`s at `OUT[1]`; returns the first other error's code.
fn call_many(arg: u64) -> u64 {
    for round in 0..high(arg) {
        match sys::call(low_slot(arg), &Message::new(round, &[round])) {
            Ok(reply) if reply.message.words[0] == round + 1 => {
                add_out(0, 1);
            }
            Ok(_) => return 1000,
            Err(SysError::PeerClosed) => {
                add_out(1, 1);
            }
            Err(error) => return error.code(),
        }
    }
    0
}

/// A server in a capability space of its own, with its endpoint in slot
/// 1: receives two calls and saves each reply (lowest free slot),
/// recording the slots at `OUT[50..52]`; then, if `arg` is 0, ends, else
/// flags `OUT[52]` and waits for a third message that never comes.
fn saving_server(arg: u64) -> u64 {
    let ep = CapSlot(1);
    for i in 0..2 {
        if let Err(error) = sys::recv(ep) {
            return 100 + error.code();
        }
        match sys::reply_save(CapSlot::NULL) {
            Ok(slot) => set_out(50 + i, u64::from(slot.0)),
            Err(error) => return 200 + error.code(),
        }
    }
    if arg == 0 {
        return 0;
    }
    set_out(52, 1);
    code(sys::recv(ep))
}

/// A server in a full capability space of 64 slots (endpoint in slot 1,
/// slots 2 to 63 full): receives one call and tries to save its reply in
/// no free slot, past the end, in a full slot; then frees slot 2 and saves
/// there, answers through it with label 7. Results at `OUT[44..50]`.
fn full_space_server(_: u64) -> u64 {
    let ep = CapSlot(1);
    if let Err(error) = sys::recv(ep) {
        return 100 + error.code();
    }
    set_out(44, code(sys::reply_save(CapSlot::NULL)));
    set_out(45, code(sys::reply_save(CapSlot(64))));
    set_out(46, code(sys::reply_save(CapSlot(2))));
    set_out(47, code(sys::cap_delete(CapSlot(2))));
    match sys::reply_save(CapSlot::NULL) {
        Ok(slot) => set_out(48, u64::from(slot.0)),
        Err(error) => return 200 + error.code(),
    }
    set_out(
        49,
        code(sys::reply_with(CapSlot(2), &Message::new(7, &[77]))),
    );
    0
}

raw_entry! {
    saved_caller_entry => saved_caller;
    call_many_entry => call_many;
    saving_server_entry => saving_server;
    full_space_server_entry => full_space_server;
    ud2_entry => crate::cpu::ud2;
    send_one_entry => send_one;
    recv_one_entry => super::ipc::recv_one;
}

/// Sends a plain message labelled 1 on `low(arg)`.
pub(super) fn send_one(arg: u64) -> u64 {
    code(sys::send(low_slot(arg), &Message::new(1, &[])))
}

/// Starts a [`saved_caller`] with label `label` on `ep`, which blocks in
/// its call at once (it runs above the test's priority).
#[track_caller]
fn caller(ep: CapSlot, label: u64) -> Result<RawThread, super::Failure> {
    Raw::new(saved_caller_entry, pack(u64::from(ep.0), label))
        .priority(33)
        .buffer(&PAGES[label as usize - 1])
        .start()
}

/// Receives the next message on `ep`, which must be a call labelled `label`.
#[track_caller]
pub(super) fn take_call(ep: CapSlot, label: u64) -> Result<Received, super::Failure> {
    let got = must(sys::recv(ep))?;
    ensure!(got.message.info.is_call());
    ensure_eq!(got.message.info.label(), label);
    Ok(got)
}

/// What `CapInfo` says of `slot`: type, rights, badge.
pub(super) fn described(slot: CapSlot) -> Result<(Option<ObjectType>, u32, u64), SysError> {
    sys::cap_info(slot).map(|info| (info.object_type(), info.rights, info.badge))
}

/// A Reply capability's description.
pub(super) const REPLY: (Option<ObjectType>, u32, u64) =
    (Some(ObjectType::Reply), Rights::WRITE.bits(), 0);

// ---------------------------------------------------------------------------
// Tests.

pub fn reverse_order() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    clear_out();
    let callers = [caller(ep, 1)?, caller(ep, 2)?, caller(ep, 3)?];

    // Two calls saved; the thread holds no reply right after each.
    take_call(ep, 1)?;
    let first = must(sys::reply_save(CapSlot::NULL))?;
    ensure_eq!(described(first), Ok(REPLY));
    ensure_eq!(sys::reply(&Message::new(0, &[])), Err(SysError::InvalidCap));
    take_call(ep, 2)?;
    let second = must(sys::reply_save(CapSlot::NULL))?;
    ensure!(second != first);
    // The third is answered at once.
    let got = take_call(ep, 3)?;
    ensure_eq!(got.message.words[0], 33);
    ensure_eq!(sys::reply(&Message::new(30, &[3])), Ok(()));
    let [one, two, three] = callers;
    ensure_eq!(three.join()?, 0);
    ensure_eq!(recorded(18).1.label(), 30);
    // The saved callers still wait.
    ensure_eq!((out(7), out(13)), (0, 0));

    // The second: long, with a capability (the message goes through this
    // thread's IPC buffer, as for `Reply`).
    let mut long = rt::ipc::Message::with_words(20, &[2, 22, 222, 2222, 4, 0x5555]);
    ensure!(long.push_cap(n).is_ok());
    ensure_eq!(rt::sys::reply_with(second, &long), Ok(()));
    ensure_eq!(two.join()?, 0);
    let (badge, info, words) = recorded(12);
    ensure_eq!(
        (badge, info.label(), info.words(), info.caps()),
        (0, 20, 6, 1)
    );
    ensure_eq!(words, [2, 22, 222, 2222]);
    ensure_eq!(out(32), 0x5555);
    let received = CapSlot(out(42) as u32);
    ensure_eq!(
        described(received),
        Ok((Some(ObjectType::Notification), Rights::all().bits(), 0))
    );
    ensure_eq!(sys::cap_delete(received), Ok(()));
    // Used up: the slot is empty.
    ensure_eq!(described(second), Err(SysError::InvalidCap));
    ensure_eq!(out(7), 0);

    // The first.
    ensure_eq!(sys::reply_with(first, &Message::new(10, &[1, 2])), Ok(()));
    ensure_eq!(one.join()?, 0);
    let (_, info, words) = recorded(6);
    ensure_eq!(
        (info.label(), info.words(), [words[0], words[1]]),
        (10, 2, [1, 2])
    );
    ensure_eq!(described(first), Err(SysError::InvalidCap));
    ensure_eq!(
        sys::reply_with(first, &Message::new(10, &[])),
        Err(SysError::InvalidCap)
    );

    for slot in [n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn save_errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();

    // Decoding: a slot that does not fit in 32 bits.
    ensure_eq!(sys::reply_save_raw(1 << 32), Err(SysError::InvalidCap));
    ensure_eq!(sys::reply_save_raw(u64::MAX), Err(SysError::InvalidCap));
    // No reply right: none received, or a plain send received.
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::InvalidCap));
    let sender = Raw::new(send_one_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure!(!must(sys::recv(ep))?.message.info.is_call());
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::InvalidCap));
    ensure_eq!(sender.join()?, 0);

    // A fault message's right is not saved, and is kept.
    let faulting = Raw::new(ud2_entry, 0).fault_endpoint(ep).start()?;
    let got = must(sys::recv(ep))?;
    ensure!(got.message.info.is_fault());
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::InvalidArg));
    ensure_eq!(sys::reply(&Message::new(fault::KILL, &[])), Ok(()));
    let status = faulting.wait()?;
    ensure_eq!((status.kind, status.code), (exit_kind::FAULTED, 6));

    // A named destination out of range or full: the right is kept.
    let one = caller(ep, 1)?;
    take_call(ep, 1)?;
    ensure_eq!(sys::reply_save(CapSlot(5000)), Err(SysError::InvalidCap));
    ensure_eq!(
        sys::reply_save(CapSlot(u32::MAX)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::reply_save(ep), Err(SysError::InvalidCap));
    // A named free slot.
    ensure_eq!(sys::reply_save(EMPTY_SLOT), Ok(EMPTY_SLOT));
    ensure_eq!(described(EMPTY_SLOT), Ok(REPLY));
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::InvalidCap));
    ensure_eq!(sys::reply_with(EMPTY_SLOT, &Message::new(5, &[])), Ok(()));
    ensure_eq!(one.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 5);

    // The caller gone: PeerClosed, and the right is used up.
    let two = caller(ep, 2)?;
    take_call(ep, 2)?;
    two.kill()?;
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::PeerClosed));
    ensure_eq!(sys::reply_save(CapSlot::NULL), Err(SysError::InvalidCap));
    ensure_eq!(sys::reply(&Message::new(0, &[])), Err(SysError::InvalidCap));

    // No free slot (a server in a full space of its own).
    let space = must(sys::cspace_create(budget(), 64))?;
    must(sys::cap_copy_to(ep, Rights::READ, space, CapSlot(1)))?;
    for slot in 2..64 {
        must(sys::cap_copy_to(
            debug_cap(),
            Rights::READ,
            space,
            CapSlot(slot),
        ))?;
    }
    let server = Raw::new(full_space_server_entry, 0)
        .cspace(space)
        .priority(33)
        .start()?;
    let three = caller(ep, 3)?;
    ensure_eq!(server.join()?, 0);
    ensure_eq!(out(44), SysError::OutOfMemory.code());
    ensure_eq!(out(45), SysError::InvalidCap.code());
    ensure_eq!(out(46), SysError::InvalidCap.code());
    ensure_eq!((out(47), out(48), out(49)), (0, 2, 0));
    ensure_eq!(three.join()?, 0);
    let (_, info, words) = recorded(18);
    ensure_eq!((info.label(), words[0]), (7, 77));
    ensure_eq!(sys::cap_delete(space), Ok(()));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn with_errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let no_grant = must(sys::cap_copy(n, Rights::READ | Rights::WRITE))?;
    clear_out();
    let one = caller(ep, 1)?;
    take_call(ep, 1)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    let answer = Message::new(8, &[88]);

    // Decoding: the slot, then the info word.
    ensure_eq!(
        sys::reply_with_raw(1 << 32, &answer),
        Err(SysError::InvalidCap)
    );
    let reserved = Message {
        info: MessageInfo::from_received(1 << 15),
        words: [0; 4],
    };
    ensure_eq!(
        sys::reply_with_raw(u64::from(saved.0), &reserved),
        Err(SysError::InvalidArg)
    );
    let too_long = Message {
        info: MessageInfo::new(8, MSG_MAX_WORDS + 1, 0),
        words: [0; 4],
    };
    ensure_eq!(sys::reply_with(saved, &too_long), Err(SysError::InvalidArg));
    // The slot: 0, out of range, empty, another type.
    ensure_eq!(
        sys::reply_with(CapSlot::NULL, &answer),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::reply_with(CapSlot(5000), &answer),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::reply_with(EMPTY_SLOT, &answer),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::reply_with(ep, &answer), Err(SysError::WrongType));
    // `Reply` and `ReplyRecv` do not reach a saved caller.
    ensure_eq!(sys::reply(&answer), Err(SysError::InvalidCap));
    ensure_eq!(
        sys::reply_recv(ep, &answer).map(|_| ()),
        Err(SysError::InvalidCap)
    );

    // A message that needs an IPC buffer, from a thread without one: the
    // capability is kept.
    {
        let _no_buffer = NoIpcBuffer::take()?;
        let long = Message {
            info: MessageInfo::new(8, 5, 0),
            words: [0; 4],
        };
        ensure_eq!(sys::reply_with(saved, &long), Err(SysError::InvalidArg));
    }
    ensure_eq!(described(saved), Ok(REPLY));

    // Sender-side transfer errors keep the capability, and the caller
    // still waits: a bad slot to send, a capability without GRANT.
    let mut with_cap = rt::ipc::Message::with_words(9, &[1]);
    ensure!(with_cap.push_cap(EMPTY_SLOT).is_ok());
    ensure_eq!(
        rt::sys::reply_with(saved, &with_cap),
        Err(SysError::InvalidCap)
    );
    with_cap.clear_caps();
    ensure!(with_cap.push_cap(no_grant).is_ok());
    ensure_eq!(
        rt::sys::reply_with(saved, &with_cap),
        Err(SysError::MissingRights)
    );
    ensure_eq!(described(saved), Ok(REPLY));
    ensure_eq!(out(7), 0);
    // Then the answer goes.
    ensure_eq!(sys::reply_with(saved, &answer), Ok(()));
    ensure_eq!(one.join()?, 0);
    let (_, info, words) = recorded(6);
    ensure_eq!((info.label(), words[0]), (8, 88));
    ensure_eq!(described(saved), Err(SysError::InvalidCap));

    // The caller-side error: a long answer to a caller without an IPC
    // buffer fails its call with BadAddress; `ReplyWith` succeeds and the
    // capability is used up.
    let two = Raw::new(saved_caller_entry, pack(u64::from(ep.0), 2))
        .priority(33)
        .start()?;
    take_call(ep, 2)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    let long = rt::ipc::Message::with_words(9, &[1, 2, 3, 4, 5]);
    ensure_eq!(rt::sys::reply_with(saved, &long), Ok(()));
    ensure_eq!(two.join()?, SysError::BadAddress.code());
    ensure_eq!(described(saved), Err(SysError::InvalidCap));

    for slot in [no_grant, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn delete_answers_peer_closed() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    let one = caller(ep, 1)?;
    take_call(ep, 1)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    // Revoking it reaches nothing (nothing derives from it); it stays.
    ensure_eq!(sys::cap_revoke(saved), Ok(()));
    ensure_eq!(described(saved), Ok(REPLY));
    ensure_eq!(out(7), 0);
    ensure_eq!(sys::cap_delete(saved), Ok(()));
    ensure_eq!(one.join()?, SysError::PeerClosed.code());
    ensure_eq!(described(saved), Err(SysError::InvalidCap));

    // Through the runtime's handle: dropping it is the same.
    let two = caller(ep, 2)?;
    take_call(ep, 2)?;
    let handle = must(rt::ipc::SavedReply::save())?;
    ensure_eq!(
        handle.info().map(|info| info.object_type()),
        Ok(Some(ObjectType::Reply))
    );
    drop(handle);
    ensure_eq!(two.join()?, SysError::PeerClosed.code());
    // And sending through it answers.
    let three = caller(ep, 3)?;
    take_call(ep, 3)?;
    let handle = must(rt::ipc::SavedReply::save())?;
    let slot = handle.slot();
    let long = rt::ipc::Message::with_words(4, &[1, 2, 3, 4, 5, 0x66]);
    ensure_eq!(handle.send(&long), Ok(()));
    ensure_eq!(three.join()?, 0);
    ensure_eq!(recorded(18).1.label(), 4);
    ensure_eq!(out(33), 0x66);
    ensure_eq!(described(slot), Err(SysError::InvalidCap));
    ensure_eq!(
        rt::ipc::SavedReply::save().map(Handle::into_raw),
        Err(SysError::InvalidCap)
    );

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn server_space_destroyed() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    for (round, arg) in [(0, 0), (1, 1)] {
        let space = must(sys::cspace_create(budget(), 64))?;
        must(sys::cap_copy_to(ep, Rights::READ, space, CapSlot(1)))?;
        let server = Raw::new(saving_server_entry, arg)
            .cspace(space)
            .priority(33)
            .start()?;
        let one = caller(ep, 1)?;
        let two = caller(ep, 2)?;
        ensure_eq!((out(50), out(51)), (2, 3));
        // The space holds the saved replies, whatever its thread does:
        // the callers wait while it lives.
        if round == 0 {
            // The server has ended.
            let status = must(sys::thread_wait(server.slot()))?;
            ensure_eq!((status.kind, status.code), (exit_kind::EXITED, 0));
        } else {
            // The server waits in a receive.
            ensure_eq!(out(52), 1);
        }
        ensure_eq!((out(7), out(13)), (0, 0));
        ensure_eq!(sys::cap_delete(space), Ok(()));
        ensure_eq!((out(7), out(13)), (0, 0));
        // Destroying the server releases the last reference to its
        // space, which deletes the Reply capabilities.
        server.kill()?;
        ensure_eq!(one.join()?, SysError::PeerClosed.code());
        ensure_eq!(two.join()?, SysError::PeerClosed.code());
        clear_out();
    }
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn caller_killed() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    // Killed while saved: the capability stays, naming nobody; ReplyWith
    // answers PeerClosed and empties the slot.
    let one = caller(ep, 1)?;
    take_call(ep, 1)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    one.kill()?;
    ensure_eq!(described(saved), Ok(REPLY));
    ensure_eq!(
        sys::reply_with(saved, &Message::new(1, &[])),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(described(saved), Err(SysError::InvalidCap));
    // The slot is free: the next save takes it.
    let two = caller(ep, 2)?;
    take_call(ep, 2)?;
    ensure_eq!(sys::reply_save(CapSlot::NULL), Ok(saved));
    two.kill()?;
    // Deleting a dead one answers nobody.
    ensure_eq!(sys::cap_delete(saved), Ok(()));

    // Killed after its capability moved: the moved one is dead.
    let three = caller(ep, 3)?;
    take_call(ep, 3)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    let moved = must(sys::cap_move(saved, CapSlot::NULL, EMPTY_SLOT))?;
    three.kill()?;
    ensure_eq!(
        sys::reply_with(moved, &Message::new(1, &[])),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(described(moved), Err(SysError::InvalidCap));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn no_copy_or_mint() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    clear_out();
    let one = caller(ep, 1)?;
    take_call(ep, 1)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    ensure_eq!(described(saved), Ok(REPLY));

    // Not copied or minted, whatever the rights or the destination.
    ensure_eq!(
        sys::cap_copy(saved, Rights::WRITE),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_copy(saved, Rights::empty()),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_copy_to(saved, Rights::WRITE, space, CapSlot(5)),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        sys::cap_mint(saved, Rights::WRITE, 5),
        Err(SysError::InvalidArg)
    );
    // Not moved or sent to another space: it has no GRANT.
    ensure_eq!(
        sys::cap_move(saved, space, CapSlot(5)),
        Err(SysError::MissingRights)
    );
    // Sending it: a sender-side error, the receiver keeps waiting.
    let receiver = Raw::new(recv_one_entry, pack(u64::from(ep.0), 9))
        .priority(33)
        .buffer(&PAGES[1])
        .start()?;
    let mut message = rt::ipc::Message::new(1);
    ensure!(message.push_cap(saved).is_ok());
    ensure_eq!(rt::sys::nb_send(ep, &message), Err(SysError::MissingRights));
    ensure_eq!(sys::send(ep, &Message::new(9, &[])), Ok(()));
    ensure_eq!(receiver.join()?, 0);
    ensure_eq!(recorded(54).1.label(), 9);
    ensure_eq!(described(saved), Ok(REPLY));

    // Moved within its space (named through a capability too), it still
    // answers its caller.
    let own = rt::process::own_caps().cspace;
    let moved = must(sys::cap_move(saved, own, EMPTY_SLOT))?;
    ensure_eq!(moved, EMPTY_SLOT);
    ensure_eq!(described(saved), Err(SysError::InvalidCap));
    ensure_eq!(described(moved), Ok(REPLY));
    ensure_eq!(sys::reply_with(moved, &Message::new(3, &[33])), Ok(()));
    ensure_eq!(one.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 3);

    // And its deletion after a move answers PeerClosed.
    let two = caller(ep, 2)?;
    take_call(ep, 2)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    let moved = must(sys::cap_move(saved, CapSlot::NULL, CapSlot::NULL))?;
    ensure_eq!(sys::cap_delete(moved), Ok(()));
    ensure_eq!(two.join()?, SysError::PeerClosed.code());

    for slot in [space, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn many_cycles() -> TestResult {
    const ROUNDS: u64 = 300;
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    let client = Raw::new(call_many_entry, pack(u64::from(ep.0), ROUNDS))
        .priority(33)
        .start()?;
    let mut slot = None;
    for round in 0..ROUNDS {
        let got = take_call(ep, round)?;
        let saved = must(sys::reply_save(CapSlot::NULL))?;
        // Always the same slot: none leaks.
        ensure_eq!(*slot.get_or_insert(saved), saved);
        if round % 3 == 2 {
            ensure_eq!(sys::cap_delete(saved), Ok(()));
        } else {
            let answer = Message::new(0, &[got.message.words[0] + 1]);
            ensure_eq!(sys::reply_with(saved, &answer), Ok(()));
        }
    }
    ensure_eq!(client.join()?, 0);
    ensure_eq!((out(0), out(1)), (ROUNDS - ROUNDS / 3, ROUNDS / 3));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
