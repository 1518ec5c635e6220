//! Notification syscalls: signal, wait, poll; badges as bits; the order
//! waiters are woken in; destruction; a bound notification ending an
//! endpoint receive; the timer; every documented error.

use crate::raw::{self as sys, Message};
use abi::ipc::MessageInfo;
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::support::{
    EMPTY_SLOT, Raw, RawThread, add_out, budget, clear_out, code, free_frames, high, low_slot,
    must, out, pack, pause, raw_entry, set_out,
};
use super::{TestResult, debug_cap};
use crate::{ensure, ensure_eq};

/// Waits on notification `low(arg)`; records the bits at `OUT[2 * high(arg)]`
/// and the order it woke in (1 = first) after them.
fn wait_rank(arg: u64) -> u64 {
    match sys::wait(low_slot(arg)) {
        Ok(bits) => {
            let index = 2 * high(arg) as usize;
            set_out(index, bits);
            set_out(index + 1, add_out(60, 1) + 1);
            0
        }
        Err(error) => error.code(),
    }
}

/// Flags `OUT[0]`, then signals `low(arg)` with 0x8.
fn flag_then_signal(arg: u64) -> u64 {
    set_out(0, 1);
    code(sys::signal(low_slot(arg), 0x8))
}

/// Spins until `OUT[63]` is set, so that timer ticks find a thread running.
fn tick_keeper(_: u64) -> u64 {
    while out(63) == 0 {
        core::hint::spin_loop();
    }
    0
}

/// Receives on endpoint `low(arg)` while bound; see [`bound`].
fn bound_receiver(arg: u64) -> u64 {
    let (ep, gate) = (low_slot(arg), CapSlot(high(arg) as u32));
    for round in 0..2 {
        match sys::recv(ep) {
            Ok(got) => record(round, got),
            Err(error) => return 100 + error.code(),
        }
    }
    if let Err(error) = sys::wait(gate) {
        return 200 + error.code();
    }
    match sys::recv(ep) {
        Ok(got) => record(2, got),
        Err(error) => return 300 + error.code(),
    }
    match sys::nb_recv(ep) {
        Ok(got) => record(3, got),
        Err(error) => return 400 + error.code(),
    }
    0
}

/// Records badge, info and word 0 of a received message at `OUT[round * 3..]`.
fn record(round: usize, got: sys::Received) {
    set_out(round * 3, got.badge);
    set_out(round * 3 + 1, got.message.info.to_reg());
    set_out(round * 3 + 2, got.message.words[0]);
}

/// Sends label `high(arg)` on `low(arg)`.
fn send_label(arg: u64) -> u64 {
    code(sys::send(low_slot(arg), &Message::new(high(arg), &[])))
}

raw_entry! {
    wait_rank_entry => wait_rank;
    flag_then_signal_entry => flag_then_signal;
    tick_keeper_entry => tick_keeper;
    bound_receiver_entry => bound_receiver;
    send_label_entry => send_label;
    bound_server_entry => bound_server;
    call_label_entry => call_label;
}

/// A server bound to a notification; see [`bound_reply_right`].
fn bound_server(arg: u64) -> u64 {
    let (ep, gate) = (low_slot(arg), CapSlot(high(arg) as u32));
    let first = match sys::recv(ep) {
        Ok(got) => got,
        Err(error) => return 100 + error.code(),
    };
    record(0, first);
    match sys::recv(ep) {
        Ok(got) => record(1, got),
        Err(error) => return 200 + error.code(),
    }
    if let Err(error) = sys::wait(gate) {
        return 300 + error.code();
    }
    match sys::reply_recv(ep, &Message::new(77, &[])) {
        Ok(got) => record(2, got),
        Err(error) => return 400 + error.code(),
    }
    // Empty-handed now: the notification carried no reply right.
    set_out(20, code(sys::reply(&Message::new(78, &[]))));
    // Nothing pending and nobody sending.
    set_out(21, code(sys::nb_recv(ep)));
    0
}

/// Calls `low(arg)` with label `high(arg)`; records the reply's label at `OUT[30]`.
fn call_label(arg: u64) -> u64 {
    match sys::call(low_slot(arg), &Message::new(high(arg), &[])) {
        Ok(reply) => {
            set_out(30, reply.message.info.label());
            0
        }
        Err(error) => error.code(),
    }
}

/// A thread below the test's priority that keeps the CPU busy while the
/// test waits: the kernel fires timers on ticks that interrupt a thread.
struct TickKeeper(RawThread);

impl TickKeeper {
    fn start() -> Result<TickKeeper, super::Failure> {
        set_out(63, 0);
        Ok(TickKeeper(
            Raw::new(tick_keeper_entry, 0).priority(31).start()?,
        ))
    }

    fn stop(self) -> Result<u64, super::Failure> {
        set_out(63, 1);
        self.0.join()
    }
}

pub fn signal_poll_wait() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    ensure_eq!(
        sys::cap_info(n).map(|i| (i.object_type(), i.rights, i.badge)),
        Ok((Some(ObjectType::Notification), Rights::all().bits(), 0))
    );
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::signal(n, 0b101), Ok(()));
    ensure_eq!(sys::poll(n), Ok(0b101));
    ensure_eq!(sys::poll(n), Ok(0));
    // Bits accumulate; a bit signalled twice is seen once; Wait with the
    // word set returns at once and clears it.
    ensure_eq!(sys::signal(n, 1), Ok(()));
    ensure_eq!(sys::signal(n, 4), Ok(()));
    ensure_eq!(sys::signal(n, 4), Ok(()));
    ensure_eq!(sys::wait(n), Ok(5));
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::signal(n, u64::MAX), Ok(()));
    ensure_eq!(sys::wait(n), Ok(u64::MAX));
    // Read and write rights suffice, each for its side.
    let reader = must(sys::cap_copy(n, Rights::READ))?;
    let writer = must(sys::cap_copy(n, Rights::WRITE))?;
    ensure_eq!(sys::signal(writer, 0x30), Ok(()));
    ensure_eq!(sys::poll(reader), Ok(0x30));
    ensure_eq!(sys::signal(writer, 0x40), Ok(()));
    ensure_eq!(sys::wait(reader), Ok(0x40));
    for slot in [reader, writer, n] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn badges_ored() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    let first = must(sys::cap_mint(n, Rights::WRITE, 0x10))?;
    let second = must(sys::cap_mint(n, Rights::WRITE, 0x100))?;
    let top = must(sys::cap_mint(n, Rights::READ | Rights::WRITE, 1 << 63))?;
    ensure_eq!(sys::signal(first, 0), Ok(()));
    ensure_eq!(sys::signal(second, 0), Ok(()));
    ensure_eq!(sys::signal(first, 0), Ok(()));
    ensure_eq!(sys::signal(n, 1), Ok(()));
    ensure_eq!(sys::poll(n), Ok(0x111));
    ensure_eq!(sys::poll(n), Ok(0));
    // A badged capability with READ waits on the same word.
    ensure_eq!(sys::signal(top, 0), Ok(()));
    ensure_eq!(sys::signal(second, 0), Ok(()));
    ensure_eq!(sys::wait(top), Ok(1 << 63 | 0x100));
    // Bits through a badged capability, none through an unbadged one.
    ensure_eq!(sys::signal(first, 5), Err(SysError::InvalidArg));
    ensure_eq!(sys::signal(top, 1 << 63), Err(SysError::InvalidArg));
    ensure_eq!(sys::signal(n, 0), Err(SysError::InvalidArg));
    ensure_eq!(sys::poll(n), Ok(0));
    for slot in [first, second, top, n] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn errors() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    let ep = must(sys::endpoint_create(budget()))?;
    let read_only = must(sys::cap_copy(n, Rights::READ))?;
    let write_only = must(sys::cap_copy(n, Rights::WRITE | Rights::GRANT))?;

    ensure_eq!(
        sys::notification_create(CapSlot::NULL),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::notification_create(EMPTY_SLOT),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::notification_create(debug_cap()),
        Err(SysError::WrongType)
    );
    let weak_budget = must(sys::cap_copy(budget(), Rights::READ))?;
    ensure_eq!(
        sys::notification_create(weak_budget),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(weak_budget), Ok(()));

    let deadline = sys::clock_read() + 1_000_000_000;
    for slot in [CapSlot::NULL, EMPTY_SLOT, CapSlot(u32::MAX)] {
        ensure_eq!(sys::signal(slot, 1), Err(SysError::InvalidCap));
        ensure_eq!(sys::wait(slot), Err(SysError::InvalidCap));
        ensure_eq!(sys::poll(slot), Err(SysError::InvalidCap));
        ensure_eq!(sys::timer_set(slot, deadline, 1), Err(SysError::InvalidCap));
    }
    ensure_eq!(sys::signal(ep, 1), Err(SysError::WrongType));
    ensure_eq!(sys::wait(ep), Err(SysError::WrongType));
    ensure_eq!(sys::poll(ep), Err(SysError::WrongType));
    ensure_eq!(sys::timer_set(ep, deadline, 1), Err(SysError::WrongType));
    ensure_eq!(sys::signal(read_only, 1), Err(SysError::MissingRights));
    ensure_eq!(
        sys::timer_set(read_only, deadline, 1),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::wait(write_only), Err(SysError::MissingRights));
    ensure_eq!(sys::poll(write_only), Err(SysError::MissingRights));
    // Rights are checked before the bits.
    ensure_eq!(sys::signal(read_only, 0), Err(SysError::MissingRights));
    // A timer needs bits.
    ensure_eq!(sys::timer_set(n, deadline, 0), Err(SysError::InvalidArg));
    ensure_eq!(sys::timer_set(n, 0, 0), Ok(()));
    ensure_eq!(sys::timer_set(n, 0, 7), Ok(()));
    ensure_eq!(sys::poll(n), Ok(0));

    for slot in [read_only, write_only, ep, n] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn wait_blocks() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    clear_out();
    // The signaller runs below our priority: it can run only while we
    // are blocked in Wait.
    let signaller = Raw::new(flag_then_signal_entry, u64::from(n.0))
        .priority(31)
        .start()?;
    ensure_eq!(out(0), 0);
    ensure_eq!(sys::wait(n), Ok(0x8));
    ensure_eq!(out(0), 1);
    ensure_eq!(signaller.join()?, 0);
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn waiters_priority_order() -> TestResult {
    let n = must(sys::notification_create(budget()))?;
    clear_out();
    let priorities = [33u64, 35, 34, 35, 33];
    let mut waiters = [const { None }; 5];
    for (i, waiter) in waiters.iter_mut().enumerate() {
        *waiter = Some(
            Raw::new(wait_rank_entry, pack(u64::from(n.0), i as u64))
                .priority(priorities[i])
                .start()?,
        );
    }
    // Each signal wakes one waiter, which takes the whole word and runs
    // at once (it is above our priority).
    for (round, bits) in [1u64, 2, 4, 8, 16].iter().enumerate() {
        ensure_eq!(sys::signal(n, *bits), Ok(()));
        ensure_eq!(out(60), round as u64 + 1);
    }
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, 0);
    }
    // Highest priority first, FIFO among equals.
    let got = [0, 1, 2, 3, 4].map(|i| (out(2 * i), out(2 * i + 1)));
    ensure_eq!(got, [(8, 4), (1, 1), (4, 3), (2, 2), (16, 5)]);
    ensure_eq!(sys::cap_delete(n), Ok(()));
    Ok(())
}

pub fn destroyed_while_waiting() -> TestResult {
    let before = free_frames()?;
    // The notification goes: every waiter gets PeerClosed.
    let n = must(sys::notification_create(budget()))?;
    let copy = must(sys::cap_copy(n, Rights::READ))?;
    clear_out();
    let first = Raw::new(wait_rank_entry, pack(u64::from(n.0), 0))
        .priority(33)
        .start()?;
    let second = Raw::new(wait_rank_entry, pack(u64::from(n.0), 1))
        .priority(34)
        .start()?;
    ensure_eq!(sys::cap_delete(n), Ok(()));
    // A copy keeps it alive.
    ensure_eq!(out(60), 0);
    ensure_eq!(sys::cap_delete(copy), Ok(()));
    ensure_eq!(first.join()?, SysError::PeerClosed.code());
    ensure_eq!(second.join()?, SysError::PeerClosed.code());
    ensure_eq!(out(60), 0);

    // A waiter goes: it leaves the waiters, and the bits stay.
    let n = must(sys::notification_create(budget()))?;
    let gone = Raw::new(wait_rank_entry, pack(u64::from(n.0), 0))
        .priority(33)
        .start()?;
    gone.kill()?;
    ensure_eq!(sys::signal(n, 2), Ok(()));
    ensure_eq!(sys::poll(n), Ok(2));
    // With two waiters, the one left gets the signal.
    let gone = Raw::new(wait_rank_entry, pack(u64::from(n.0), 0))
        .priority(33)
        .start()?;
    let kept = Raw::new(wait_rank_entry, pack(u64::from(n.0), 1))
        .priority(33)
        .start()?;
    gone.kill()?;
    ensure_eq!(sys::signal(n, 4), Ok(()));
    ensure_eq!(kept.join()?, 0);
    ensure_eq!((out(2), out(3)), (4, 1));
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn bound() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let gate = must(sys::notification_create(budget()))?;
    clear_out();
    let receiver = Raw::new(
        bound_receiver_entry,
        pack(u64::from(ep.0), u64::from(gate.0)),
    )
    .priority(33)
    .start()?;
    // Bound while it already waits in Recv.
    ensure_eq!(sys::thread_bind(receiver.slot(), n), Ok(()));

    // A thread in Wait on the notification comes before the bound one.
    let waiter = Raw::new(wait_rank_entry, pack(u64::from(n.0), 10))
        .priority(33)
        .start()?;
    ensure_eq!(sys::signal(n, 0x1), Ok(()));
    ensure_eq!(waiter.join()?, 0);
    ensure_eq!(out(20), 0x1);
    ensure_eq!(out(1), 0);

    // The signal ends the receive: notification info, the bits as badge.
    ensure_eq!(sys::signal(n, 0x40), Ok(()));
    let info = MessageInfo::from_received(out(1));
    ensure!(info.is_notification());
    ensure!(!info.is_call());
    ensure_eq!(
        (out(0), info.label(), info.words(), info.caps()),
        (0x40, 0, 0, 0)
    );
    ensure_eq!(sys::poll(n), Ok(0));

    // A message still arrives as usual.
    ensure_eq!(sys::send(ep, &Message::new(3, &[9])), Ok(()));
    let info = MessageInfo::from_received(out(4));
    ensure!(!info.is_notification());
    ensure_eq!((out(3), info.label(), out(5)), (0, 3, 9));

    // Bits pending when the receive starts come back at once, before a
    // waiting sender's message; the message comes next.
    ensure_eq!(sys::signal(n, 0x3), Ok(()));
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 5))
        .priority(33)
        .start()?;
    ensure_eq!(sys::signal(gate, 1), Ok(()));
    ensure_eq!(receiver.join()?, 0);
    ensure_eq!(sender.join()?, 0);
    let info = MessageInfo::from_received(out(7));
    ensure!(info.is_notification());
    ensure_eq!(out(6), 0x3);
    let info = MessageInfo::from_received(out(10));
    ensure!(!info.is_notification());
    ensure_eq!(info.label(), 5);
    ensure_eq!(sys::poll(n), Ok(0));

    for slot in [gate, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn bound_reply_right() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let gate = must(sys::notification_create(budget()))?;
    clear_out();
    let server = Raw::new(bound_server_entry, pack(u64::from(ep.0), u64::from(gate.0)))
        .priority(33)
        .start()?;
    ensure_eq!(sys::thread_bind(server.slot(), n), Ok(()));
    let caller = Raw::new(call_label_entry, pack(u64::from(ep.0), 1))
        .priority(34)
        .start()?;
    // The server holds the call and receives again; a signal ends that
    // receive and leaves the reply right alone.
    ensure_eq!(MessageInfo::from_received(out(1)).is_call(), true);
    ensure_eq!(sys::signal(n, 0x2), Ok(()));
    ensure!(MessageInfo::from_received(out(4)).is_notification());
    ensure_eq!(out(3), 0x2);
    // Bits pending when ReplyRecv starts: the reply goes, then the bits
    // come back at once.
    ensure_eq!(sys::signal(n, 0x5), Ok(()));
    ensure_eq!(sys::signal(gate, 1), Ok(()));
    ensure_eq!(server.join()?, 0);
    ensure_eq!(caller.join()?, 0);
    ensure_eq!(out(30), 77);
    ensure!(MessageInfo::from_received(out(7)).is_notification());
    ensure_eq!(out(6), 0x5);
    ensure_eq!(out(20), SysError::InvalidCap.code());
    ensure_eq!(out(21), SysError::WouldBlock.code());
    for slot in [gate, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn bind_errors() -> TestResult {
    let before = free_frames()?;
    let own = rt::process::own_caps();
    let thread = must(sys::thread_create(own.budget, own.aspace, own.cspace))?;
    let other = must(sys::thread_create(own.budget, own.aspace, own.cspace))?;
    let n = must(sys::notification_create(budget()))?;
    let n2 = must(sys::notification_create(budget()))?;
    let ep = must(sys::endpoint_create(budget()))?;

    // The thread capability.
    ensure_eq!(
        sys::thread_bind(CapSlot::NULL, n),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::thread_bind(EMPTY_SLOT, n), Err(SysError::InvalidCap));
    ensure_eq!(sys::thread_bind(n, n), Err(SysError::WrongType));
    let read_thread = must(sys::cap_copy(thread, Rights::READ))?;
    ensure_eq!(
        sys::thread_bind(read_thread, n),
        Err(SysError::MissingRights)
    );
    // The notification capability.
    ensure_eq!(
        sys::thread_bind(thread, EMPTY_SLOT),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::thread_bind(thread, ep), Err(SysError::WrongType));
    let write_n = must(sys::cap_copy(n, Rights::WRITE))?;
    ensure_eq!(
        sys::thread_bind(thread, write_n),
        Err(SysError::MissingRights)
    );
    let read_n = must(sys::cap_copy(n, Rights::READ))?;
    // Unbinding needs only the thread, bound or not.
    ensure_eq!(sys::thread_bind(thread, CapSlot::NULL), Ok(()));

    ensure_eq!(sys::thread_bind(thread, read_n), Ok(()));
    ensure_eq!(sys::thread_bind(thread, n), Err(SysError::InvalidArg));
    ensure_eq!(sys::thread_bind(thread, n2), Err(SysError::InvalidArg));
    ensure_eq!(sys::thread_bind(other, n), Err(SysError::InvalidArg));
    ensure_eq!(sys::thread_bind(other, n2), Ok(()));
    // Unbinding frees both sides.
    ensure_eq!(sys::thread_bind(thread, CapSlot::NULL), Ok(()));
    ensure_eq!(sys::thread_bind(thread, CapSlot::NULL), Ok(()));
    ensure_eq!(sys::thread_bind(other, n), Err(SysError::InvalidArg));
    ensure_eq!(sys::thread_bind(thread, n), Ok(()));

    // Destroying either side ends the binding.
    ensure_eq!(sys::cap_delete(n2), Ok(()));
    let n3 = must(sys::notification_create(budget()))?;
    ensure_eq!(sys::thread_bind(other, n3), Ok(()));
    ensure_eq!(sys::cap_delete(read_thread), Ok(()));
    ensure_eq!(sys::cap_delete(thread), Ok(()));
    ensure_eq!(sys::thread_bind(other, n), Err(SysError::InvalidArg));
    ensure_eq!(sys::cap_delete(n3), Ok(()));
    ensure_eq!(sys::thread_bind(other, n), Ok(()));

    // A thread that has ended cannot be bound (found by sysfuzz: the
    // binding outlived the thread object).
    let ended = must(crate::raw_thread::spawn(|x| x, 0))?;
    let n4 = must(sys::notification_create(budget()))?;
    must(sys::thread_wait(ended.slot()))?;
    ensure_eq!(
        sys::thread_bind(ended.slot(), n4),
        Err(SysError::InvalidArg)
    );
    must(ended.join())?;
    ensure_eq!(sys::cap_delete(n4), Ok(()));

    for slot in [other, write_n, read_n, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

const MS: u64 = 1_000_000;

pub fn timer() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    let keeper = TickKeeper::start()?;

    // Wait returns the timer's bits, not before the deadline.
    let deadline = sys::clock_read() + 20 * MS;
    ensure_eq!(sys::timer_set(n, deadline, 0x2), Ok(()));
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::wait(n), Ok(0x2));
    ensure!(sys::clock_read() >= deadline);
    // It is one-shot.
    pause(30 * MS);
    ensure_eq!(sys::poll(n), Ok(0));

    // A deadline in the past fires at the next tick.
    ensure_eq!(sys::timer_set(n, 1, 0x4), Ok(()));
    ensure_eq!(sys::wait(n), Ok(0x4));

    // Deadline 0 disarms.
    ensure_eq!(sys::timer_set(n, sys::clock_read() + 10 * MS, 0x1), Ok(()));
    ensure_eq!(sys::timer_set(n, 0, 0), Ok(()));
    pause(30 * MS);
    ensure_eq!(sys::poll(n), Ok(0));

    // Arming again replaces the deadline and the bits.
    let start = sys::clock_read();
    ensure_eq!(sys::timer_set(n, start + 10 * MS, 0x8), Ok(()));
    ensure_eq!(sys::timer_set(n, start + 50 * MS, 0x10), Ok(()));
    pause(30 * MS);
    ensure_eq!(sys::poll(n), Ok(0));
    ensure_eq!(sys::wait(n), Ok(0x10));
    ensure!(sys::clock_read() >= start + 50 * MS);

    // The timer's bits join signalled ones; a badge plays no part.
    let badged = must(sys::cap_mint(n, Rights::WRITE, 0x100))?;
    ensure_eq!(sys::signal(badged, 0), Ok(()));
    ensure_eq!(
        sys::timer_set(badged, sys::clock_read() + 5 * MS, 0x20),
        Ok(())
    );
    pause(20 * MS);
    ensure_eq!(sys::poll(n), Ok(0x120));

    // A notification destroyed with its timer armed.
    let doomed = must(sys::notification_create(budget()))?;
    ensure_eq!(
        sys::timer_set(doomed, sys::clock_read() + 5 * MS, 1),
        Ok(())
    );
    ensure_eq!(sys::cap_delete(doomed), Ok(()));
    pause(20 * MS);

    ensure_eq!(keeper.stop()?, 0);
    ensure_eq!(sys::cap_delete(badged), Ok(()));
    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
