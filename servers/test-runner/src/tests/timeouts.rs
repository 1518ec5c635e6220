//! Deadlines on blocking calls: `Recv` and `Wait` (a register), `Send`,
//! `Call` and `ReplyRecv` (the deadline flag and the IPC buffer word).
//! Each fires when nothing comes, never before its deadline; does not fire
//! when the partner comes first, and leaves no timer behind that could
//! fire later on a thread that has moved on; fails at once when the
//! deadline has passed and nothing is there (and still takes what is
//! there). Deadlines fire in order; a thread destroyed, or whose endpoint
//! goes, while it waits with a deadline leaves nothing behind; a
//! suspended thread times out too; the IPC fast path declines a receiver
//! whose timeout is armed. (`FutexWait`'s deadline is in `futex`.)
//!
//! Threads pass deadlines and results through the `OUT` words: the
//! deadline a helper uses is at `OUT[DEADLINE + i]`, the time it returned
//! at `OUT[RETURNED + i]`.
//!
//! "At once" is checked with a marker thread below the test's priority:
//! it runs (and sets [`MARK`]) only if the test blocks.

use crate::raw::{self as sys, Message};
use abi::ipc::IPC_BUFFER_DEADLINE_WORD;
use abi::{CapSlot, SysError};

use super::TestResult;
use super::support::*;
use crate::{ensure, ensure_eq};

const MS: u64 = 1_000_000;
/// Where helpers find their deadlines.
const DEADLINE: usize = 10;
/// Where helpers leave the clock reading when their call returned.
const RETURNED: usize = 20;
/// Set by [`mark`] when it runs.
const MARK: usize = 40;
/// Where a server records whether the info it received had the deadline flag.
const SAW_FLAG: usize = 41;
/// The wake-up order counter.
const RANK: usize = 60;

fn now() -> u64 {
    sys::clock_read()
}

/// The IPC buffer page of helper `index` (for the deadline word).
fn page(index: u64) -> &'static Page {
    &PAGES[index as usize]
}

// ---------------------------------------------------------------------------
// Thread bodies. `arg` packs a slot (low half) and a small number (high).

/// Sets [`MARK`]: it runs only when the test is blocked.
fn mark(_: u64) -> u64 {
    set_out(MARK, 1);
    0
}

/// Sends label `high(arg)` on endpoint `low(arg)`.
fn send_label(arg: u64) -> u64 {
    code(sys::send(low_slot(arg), &Message::new(high(arg), &[])))
}

/// Pauses `high(arg)` milliseconds, then signals notification `low(arg)`.
fn signal_later(arg: u64) -> u64 {
    pause(high(arg) * MS);
    code(sys::signal(low_slot(arg), 1))
}

/// With IPC buffer `PAGES[high(arg)]`: `Send` with the deadline
/// `OUT[DEADLINE]` on endpoint `low(arg)`.
fn send_until(arg: u64) -> u64 {
    page(high(arg)).set_word(IPC_BUFFER_DEADLINE_WORD, out(DEADLINE));
    let result = sys::send(low_slot(arg), &Message::new(7, &[1]).with_deadline());
    set_out(RETURNED, now());
    code(result)
}

/// With IPC buffer `PAGES[high(arg)]`: `Call` with the deadline
/// `OUT[DEADLINE]` on endpoint `low(arg)`; the reply's label must be 9.
fn call_until(arg: u64) -> u64 {
    page(high(arg)).set_word(IPC_BUFFER_DEADLINE_WORD, out(DEADLINE));
    let result = sys::call(low_slot(arg), &Message::new(8, &[]).with_deadline());
    set_out(RETURNED, now());
    match result {
        Ok(reply) if reply.message.info.label() == 9 => 0,
        Ok(_) => 99,
        Err(error) => error.code(),
    }
}

/// Receives a call on `low(arg)`, notes whether its info had the deadline
/// flag, waits `high(arg)` milliseconds and replies with label 9.
fn slow_server(arg: u64) -> u64 {
    let Ok(call) = sys::recv(low_slot(arg)) else {
        return 1;
    };
    set_out(SAW_FLAG, u64::from(call.message.info.has_deadline()));
    pause(high(arg) * MS);
    code(sys::reply(&Message::new(9, &[])))
}

/// With IPC buffer `PAGES[1]`: receives a call on endpoint `arg`, then
/// answers it with `ReplyRecv` whose receive has the deadline
/// `OUT[DEADLINE]`.
fn reply_recv_until(arg: u64) -> u64 {
    let ep = CapSlot(arg as u32);
    if sys::recv(ep).is_err() {
        return 1;
    }
    page(1).set_word(IPC_BUFFER_DEADLINE_WORD, out(DEADLINE));
    let result = sys::reply_recv(ep, &Message::new(9, &[]).with_deadline());
    set_out(RETURNED, now());
    match result {
        Ok(got) => 1000 + got.message.info.label(),
        Err(error) => error.code(),
    }
}

/// `Wait` on notification `low(arg)` until `OUT[DEADLINE + high(arg)]`;
/// records its rank and the time.
fn wait_ranked(arg: u64) -> u64 {
    let index = high(arg) as usize;
    let result = sys::wait_until(low_slot(arg), out(DEADLINE + index));
    set_out(RETURNED + index, now());
    set_out(30 + index, add_out(RANK, 1));
    code(result)
}

/// `Recv` on `low(arg)` until `OUT[DEADLINE]`, recording the time.
fn recv_until(arg: u64) -> u64 {
    let result = sys::recv_until(low_slot(arg), out(DEADLINE));
    set_out(RETURNED, now());
    code(result)
}

/// `Recv` on `low(arg)` until `OUT[DEADLINE]` (the endpoint goes:
/// `PeerClosed`), then `Wait` without deadline on notification `high(arg)`.
fn recv_then_wait(arg: u64) -> u64 {
    let first = sys::recv_until(low_slot(arg), out(DEADLINE));
    if first.map(|_| ()) != Err(SysError::PeerClosed) {
        return 1;
    }
    match sys::wait(CapSlot(high(arg) as u32)) {
        Ok(1) => 0,
        Ok(_) => 2,
        Err(error) => 100 + error.code(),
    }
}

/// Receives a call on `low(arg)` until `OUT[DEADLINE]`, replies, then
/// receives again without deadline (a send that comes after that deadline
/// has passed).
fn serve_then_recv(arg: u64) -> u64 {
    let ep = low_slot(arg);
    match sys::recv_until(ep, out(DEADLINE)) {
        Ok(call) if call.message.info.is_call() => {}
        Ok(_) => return 1,
        Err(error) => return 100 + error.code(),
    }
    if sys::reply(&Message::new(5, &[])).is_err() {
        return 2;
    }
    match sys::recv(ep) {
        Ok(got) if got.message.info.label() == 6 => 0,
        Ok(_) => 3,
        Err(error) => 200 + error.code(),
    }
}

raw_entry! {
    mark_entry => mark;
    send_label_entry => send_label;
    signal_later_entry => signal_later;
    send_until_entry => send_until;
    call_until_entry => call_until;
    slow_server_entry => slow_server;
    reply_recv_until_entry => reply_recv_until;
    wait_ranked_entry => wait_ranked;
    recv_until_entry => recv_until;
    recv_then_wait_entry => recv_then_wait;
    serve_then_recv_entry => serve_then_recv;
}

/// A marker below the test's priority: [`Marker::check`] says whether the
/// test blocked since it started.
struct Marker(RawThread);

impl Marker {
    fn start() -> Result<Marker, super::Failure> {
        set_out(MARK, 0);
        Ok(Marker(Raw::new(mark_entry, 0).priority(31).start()?))
    }

    /// Joins the marker (so it runs now); returns whether it had run
    /// before, i.e. whether the test blocked in between.
    fn blocked_before(self) -> Result<bool, super::Failure> {
        let before = out(MARK) == 1;
        self.0.join()?;
        Ok(before)
    }
}

/// Runs `body` twice and checks that the second run gives back every
/// frame (the first warms up what this program keeps: its helpers' stack
/// pages, the IPC buffer pages).
fn twice(body: fn() -> TestResult) -> TestResult {
    body()?;
    let before = free_frames()?;
    body()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// The code a helper returns for `error`.
fn err(error: SysError) -> u64 {
    error.code()
}

// ---------------------------------------------------------------------------
// Tests.

pub fn recv() -> TestResult {
    twice(recv_once)
}

fn recv_once() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;

    // Nobody sends: TimedOut, not before the deadline.
    let deadline = now() + 20 * MS;
    ensure_eq!(
        sys::recv_until(ep, deadline).map(|_| ()),
        Err(SysError::TimedOut)
    );
    ensure!(now() >= deadline);

    // Already passed: TimedOut at once, without blocking.
    let marker = Marker::start()?;
    ensure_eq!(sys::recv_until(ep, 1).map(|_| ()), Err(SysError::TimedOut));
    ensure!(!marker.blocked_before()?);

    // Already passed, but a sender waits: the message is taken.
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 5))
        .priority(33)
        .start()?;
    let got = must(sys::recv_until(ep, 1))?;
    ensure_eq!(got.message.info.label(), 5);
    ensure_eq!(sender.join()?, 0);

    // A sender comes before the deadline; the deadline then passes while
    // the test waits elsewhere without one, and nothing fires.
    let sender = Raw::new(send_label_entry, pack(u64::from(ep.0), 6))
        .priority(31)
        .start()?;
    let deadline = now() + 30 * MS;
    let got = must(sys::recv_until(ep, deadline))?;
    ensure_eq!(got.message.info.label(), 6);
    ensure_eq!(sender.join()?, 0);
    let n = must(sys::notification_create(budget()))?;
    let signaller = Raw::new(signal_later_entry, pack(u64::from(n.0), 60))
        .priority(31)
        .start()?;
    ensure_eq!(sys::wait(n), Ok(1));
    ensure!(now() >= deadline);
    ensure_eq!(signaller.join()?, 0);

    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

pub fn wait() -> TestResult {
    twice(wait_once)
}

fn wait_once() -> TestResult {
    clear_out();
    let n = must(sys::notification_create(budget()))?;

    // No signal: TimedOut, not before the deadline.
    let deadline = now() + 20 * MS;
    ensure_eq!(sys::wait_until(n, deadline), Err(SysError::TimedOut));
    ensure!(now() >= deadline);

    // Already passed: at once; with bits there, the bits.
    let marker = Marker::start()?;
    ensure_eq!(sys::wait_until(n, 1), Err(SysError::TimedOut));
    ensure!(!marker.blocked_before()?);
    ensure_eq!(sys::signal(n, 0x30), Ok(()));
    ensure_eq!(sys::wait_until(n, 1), Ok(0x30));

    // A signal before the deadline; later, nothing stale fires.
    let signaller = Raw::new(signal_later_entry, pack(u64::from(n.0), 0))
        .priority(31)
        .start()?;
    let deadline = now() + 30 * MS;
    ensure_eq!(sys::wait_until(n, deadline), Ok(1));
    ensure_eq!(signaller.join()?, 0);
    let signaller = Raw::new(signal_later_entry, pack(u64::from(n.0), 60))
        .priority(31)
        .start()?;
    ensure_eq!(sys::wait(n), Ok(1));
    ensure!(now() >= deadline);
    ensure_eq!(signaller.join()?, 0);

    // The notification's own timer and the waiter's deadline: the earlier
    // one wins.
    ensure_eq!(sys::timer_set(n, now() + 10 * MS, 4), Ok(()));
    ensure_eq!(sys::wait_until(n, now() + 200 * MS), Ok(4));
    ensure_eq!(sys::timer_set(n, now() + 200 * MS, 4), Ok(()));
    let deadline = now() + 10 * MS;
    ensure_eq!(sys::wait_until(n, deadline), Err(SysError::TimedOut));
    ensure!(now() >= deadline);
    ensure_eq!(sys::timer_set(n, 0, 0), Ok(()));

    ensure_eq!(sys::cap_delete(n), Ok(()));
    Ok(())
}

pub fn send() -> TestResult {
    twice(send_once)
}

fn send_once() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    let arg = pack(u64::from(ep.0), 0);

    // No receiver: TimedOut, not before the deadline.
    let deadline = now() + 20 * MS;
    set_out(DEADLINE, deadline);
    let sender = Raw::new(send_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(sender.join()?, err(SysError::TimedOut));
    ensure!(out(RETURNED) >= deadline);

    // Already passed and no receiver: at once.
    set_out(DEADLINE, 1);
    let marker = Marker::start()?;
    let sender = Raw::new(send_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(sender.join()?, err(SysError::TimedOut));
    ensure!(!marker.blocked_before()?);

    // Already passed, a receiver waits: sent.
    set_out(DEADLINE, 0);
    let receiver = Raw::new(recv_until_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .start()?;
    set_out(DEADLINE, 1);
    let sender = Raw::new(send_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(receiver.join()?, 0);

    // A receiver comes before the deadline (the sender waits in the queue).
    let deadline = now() + 200 * MS;
    set_out(DEADLINE, deadline);
    let sender = Raw::new(send_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    let got = must(sys::recv(ep))?;
    ensure_eq!(got.message.info.label(), 7);
    // The receiver never sees the flag.
    ensure!(!got.message.info.has_deadline());
    ensure_eq!(sender.join()?, 0);
    ensure!(out(RETURNED) < deadline);

    // The deadline's word must be readable: a buffer nowhere is BadAddress.
    set_out(DEADLINE, now() + 200 * MS);
    let sender = Raw::new(send_until_entry, arg)
        .priority(33)
        .buffer_at(UNMAPPED)
        .start()?;
    ensure_eq!(sender.join()?, err(SysError::BadAddress));

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

pub fn call() -> TestResult {
    twice(call_once)
}

fn call_once() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    let arg = pack(u64::from(ep.0), 0);

    // No receiver: TimedOut, not before the deadline.
    let deadline = now() + 20 * MS;
    set_out(DEADLINE, deadline);
    let caller = Raw::new(call_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(caller.join()?, err(SysError::TimedOut));
    ensure!(out(RETURNED) >= deadline);

    // Already passed, no receiver: at once.
    set_out(DEADLINE, 1);
    let marker = Marker::start()?;
    let caller = Raw::new(call_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(caller.join()?, err(SysError::TimedOut));
    ensure!(!marker.blocked_before()?);

    // A server takes the call before the deadline and replies well after
    // it: the deadline covered only the wait for a receiver, so the reply
    // arrives. The server's info has no deadline flag.
    let server = Raw::new(slow_server_entry, pack(u64::from(ep.0), 50))
        .priority(33)
        .start()?;
    let deadline = now() + 20 * MS;
    set_out(DEADLINE, deadline);
    let caller = Raw::new(call_until_entry, arg)
        .priority(33)
        .buffer(page(0))
        .start()?;
    ensure_eq!(caller.join()?, 0);
    ensure!(out(RETURNED) >= deadline);
    ensure_eq!(out(SAW_FLAG), 0);
    ensure_eq!(server.join()?, 0);

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

pub fn reply_recv() -> TestResult {
    twice(reply_recv_once)
}

fn reply_recv_once() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;

    // The reply goes; the receive that follows times out.
    let deadline = now() + 30 * MS;
    set_out(DEADLINE, deadline);
    let server = Raw::new(reply_recv_until_entry, u64::from(ep.0))
        .priority(33)
        .buffer(page(1))
        .start()?;
    let reply = must(sys::call(ep, &Message::new(1, &[])))?;
    ensure_eq!(reply.message.info.label(), 9);
    ensure!(!reply.message.info.has_deadline());
    ensure_eq!(server.join()?, err(SysError::TimedOut));
    ensure!(out(RETURNED) >= deadline);

    // The reply goes; a message comes before the deadline.
    set_out(DEADLINE, now() + 200 * MS);
    let server = Raw::new(reply_recv_until_entry, u64::from(ep.0))
        .priority(33)
        .buffer(page(1))
        .start()?;
    let reply = must(sys::call(ep, &Message::new(1, &[])))?;
    ensure_eq!(reply.message.info.label(), 9);
    ensure_eq!(sys::send(ep, &Message::new(4, &[])), Ok(()));
    ensure_eq!(server.join()?, 1004);

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

/// Four waiters with deadlines 40, 20, 30 and 20 ms ahead (the two 20s
/// equal): they wake in deadline order, FIFO among equal deadlines, and
/// none before its deadline.
pub fn order() -> TestResult {
    twice(order_once)
}

fn order_once() -> TestResult {
    clear_out();
    let n = must(sys::notification_create(budget()))?;
    let base = now() + 20 * MS;
    let offsets = [20 * MS, 0, 10 * MS, 0];
    let mut waiters = [const { None }; 4];
    for (i, waiter) in waiters.iter_mut().enumerate() {
        set_out(DEADLINE + i, base + offsets[i]);
        *waiter = Some(
            Raw::new(wait_ranked_entry, pack(u64::from(n.0), i as u64))
                .priority(33)
                .start()?,
        );
    }
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, err(SysError::TimedOut));
    }
    let ranks = [0, 1, 2, 3].map(|i| out(30 + i));
    ensure_eq!(ranks, [3, 0, 2, 1]);
    for i in 0..4 {
        ensure!(out(RETURNED + i) >= out(DEADLINE + i));
    }
    ensure_eq!(sys::cap_delete(n), Ok(()));
    Ok(())
}

/// A thread destroyed while it waits with a deadline, and a thread whose
/// endpoint is destroyed while it does: nothing fires later, nothing leaks.
pub fn waiter_gone() -> TestResult {
    twice(waiter_gone_once)
}

fn waiter_gone_once() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    set_out(DEADLINE, now() + 20 * MS);
    let doomed = Raw::new(recv_until_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .start()?;
    doomed.kill()?;
    pause(40 * MS);
    ensure_eq!(sys::null(), Ok(()));

    let n = must(sys::notification_create(budget()))?;
    let deadline = now() + 20 * MS;
    set_out(DEADLINE, deadline);
    let waiter = Raw::new(recv_then_wait_entry, pack(u64::from(ep.0), u64::from(n.0)))
        .priority(33)
        .start()?;
    // Its receive ends with PeerClosed; then it waits on `n` past the
    // deadline, and only the signal ends that.
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    pause(40 * MS);
    ensure!(now() >= deadline);
    ensure_eq!(sys::signal(n, 1), Ok(()));
    ensure_eq!(waiter.join()?, 0);
    ensure_eq!(sys::cap_delete(n), Ok(()));
    Ok(())
}

/// A suspended thread's deadline passes: it is taken off the queue and
/// returns `TimedOut` once resumed.
pub fn suspended() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    let deadline = now() + 20 * MS;
    set_out(DEADLINE, deadline);
    let waiter = Raw::new(recv_until_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::thread_suspend(waiter.slot()), Ok(()));
    pause(40 * MS);
    ensure_eq!(out(RETURNED), 0);
    // Off the queue: a sender finds nobody.
    ensure_eq!(
        sys::nb_send(ep, &Message::new(1, &[])),
        Err(SysError::WouldBlock)
    );
    ensure_eq!(sys::thread_resume(waiter.slot()), Ok(()));
    ensure_eq!(waiter.join()?, err(SysError::TimedOut));
    ensure!(out(RETURNED) >= deadline);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}

/// A short call to a receiver waiting with a deadline goes by the general
/// path (the fast path would leave its timeout armed), and once the
/// deadline has passed the receiver, waiting again without one, is not
/// woken by it.
pub fn fast_path_declines() -> TestResult {
    clear_out();
    let ep = must(sys::endpoint_create(budget()))?;
    let deadline = now() + 30 * MS;
    set_out(DEADLINE, deadline);
    let server = Raw::new(serve_then_recv_entry, pack(u64::from(ep.0), 0))
        .priority(33)
        .start()?;
    let counters = || must(sys::debug_counters(super::debug_cap()));
    let hits = counters()?.fastpath_ipc;
    let reply = must(sys::call(ep, &Message::new(4, &[1])))?;
    ensure_eq!(reply.message.info.label(), 5);
    ensure_eq!(counters()?.fastpath_ipc, hits);
    pause(60 * MS);
    ensure!(now() >= deadline);
    ensure_eq!(sys::send(ep, &Message::new(6, &[])), Ok(()));
    ensure_eq!(server.join()?, 0);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    Ok(())
}
