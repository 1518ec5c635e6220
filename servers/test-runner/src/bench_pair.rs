//! The two programs of a cross-address-space benchmark: a client that
//! times round trips (or single legs), and its partner (an IPC server, a
//! notification ping-pong, a yielder, a waiter for signals, or a fault
//! handler).
//!
//! Figures count kernel instructions only, as sel4bench does: every
//! syscall runs inside `crate::timing::timed_syscall`, whose overhead (the same
//! block with a nop in place of `syscall`) is subtracted once per syscall
//! in the round trip, and the user code that runs between syscalls is
//! subtracted too: the client's exactly per sample, the partner's as the
//! median of what it measured on its side (its loop runs the same code
//! every iteration). The client sends `[median, p10, p90, samples]` to
//! [`RESULTS`] with label [`CLIENT_REPORT`]; the partner sends its median
//! user time with label [`PARTNER_REPORT`]; `bench::cross_space` subtracts
//! it.
//!
//! The signal and fault rows time what sel4bench's `signal` and `fault`
//! applications time, with the priorities they use (see [`BenchKind`]).
//! For them both programs first wait on [`GO`], and `bench::cross_space`
//! starts the partner first, so that it is blocked in its loop (waiting
//! for a signal or a fault message) before the client's first sample.

use crate::raw::{self as sys, Message};
use crate::timing::{Timed, summarize, timed_breakpoint, timed_overhead, timed_syscall};
use abi::CapSlot;
use abi::ipc::{MessageInfo, fault};
use abi::syscall::{RecvResult, Syscall, SyscallResult};

use crate::peer::{ENDPOINT, PING, PONG, RESULTS, SPARE};

/// What a benchmark pair measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum BenchKind {
    /// Call + reply_recv, no words.
    Call0 = 0,
    /// Call + reply_recv, 4 words.
    Call4 = 1,
    /// Call + reply_recv, 10 words (through the IPC buffers).
    Call10 = 2,
    /// Call + reply_recv, one capability.
    CallCap = 3,
    /// Signal the partner's notification and wait for its signal back.
    Notify = 4,
    /// Yield to the partner, which yields back.
    Yield = 5,
    /// One leg: signal a notification the partner, at a higher priority,
    /// waits on; from the client's `Signal` to the partner's return from
    /// `Wait` (sel4bench "Signal to high prio thread": the waiter at
    /// `seL4_MaxPrio`, the signaller one below).
    SignalHigher = 6,
    /// One `Signal` by the client to a notification the partner, at a
    /// lower priority, waits on; no switch (sel4bench "Signal to low prio
    /// thread"). As there, only the first signal finds the waiter blocked:
    /// woken, it stays ready behind the more urgent client until the loop
    /// ends, so the other signals set bits in the word.
    SignalLower = 7,
    /// A round trip: the client, at a higher priority, runs `int3`; the
    /// fault goes to the partner (its fault handler, one priority below)
    /// as a message, and the partner's `ReplyRecv` with `RESUME` lets it go
    /// on (sel4bench "fault round trip": the faulter at `seL4_MinPrio + 1`,
    /// the handler at `seL4_MinPrio`; there an undefined instruction whose
    /// reply moves the instruction pointer past it, here a breakpoint,
    /// which the CPU reports after the instruction).
    Fault = 8,
}

impl BenchKind {
    fn from_arg(arg: u64) -> BenchKind {
        match arg {
            1 => BenchKind::Call4,
            2 => BenchKind::Call10,
            3 => BenchKind::CallCap,
            4 => BenchKind::Notify,
            5 => BenchKind::Yield,
            6 => BenchKind::SignalHigher,
            7 => BenchKind::SignalLower,
            8 => BenchKind::Fault,
            _ => BenchKind::Call0,
        }
    }

    /// For the kinds that start on [`GO`]: the priorities of the client
    /// and of the partner (both below the benchmark runner's).
    pub fn priorities(self) -> Option<(u64, u64)> {
        match self {
            BenchKind::SignalHigher => Some((30, 31)),
            BenchKind::SignalLower | BenchKind::Fault => Some((31, 30)),
            _ => None,
        }
    }
}

/// The notification each program of a [`BenchKind::priorities`] kind
/// waits on before it starts (one per program).
pub const GO: CapSlot = CapSlot(7);

/// Timed round trips per benchmark.
pub const SAMPLES: usize = 500;
/// Round trips before them (not timed).
const WARMUP: usize = 100;
const TOTAL: usize = WARMUP + SAMPLES;

/// Label of the client's report.
pub const CLIENT_REPORT: u64 = 1;
/// Label of the partner's report.
pub const PARTNER_REPORT: u64 = 2;
/// Label of the client's last call: the server reports and exits.
const FINISH: u64 = 0xf1;

fn raw(number: Syscall, args: [u64; 6]) -> Timed {
    timed_syscall(number.number(), args)
}

fn report(label: u64, words: &[u64]) -> ! {
    let _ = sys::send(RESULTS, &Message::new(label, words));
    sys::thread_exit(0)
}

/// Times [`TOTAL`] round trips of `kind` and reports the last
/// [`SAMPLES`] of them (kernel instructions, minus the partner's user
/// time, which the partner reports).
pub extern "C" fn client(kind: u64) -> ! {
    let kind = BenchKind::from_arg(kind);
    let overhead = timed_overhead();
    let buffer = crate::copy_spawn::child_ipc_buffer();
    buffer.set_cap(0, SPARE);
    let (words, caps) = match kind {
        BenchKind::Call4 => (4, 0),
        BenchKind::Call10 => (10, 0),
        BenchKind::CallCap => (0, 1),
        _ => (0, 0),
    };
    let info = MessageInfo::new(1, words, caps).to_reg();
    let endpoint = ENDPOINT.to_reg();
    let mut samples = [0u64; SAMPLES];
    // The yielding partner starts on this (so that it cannot run ahead
    // while this side measures its overhead).
    if kind == BenchKind::Yield {
        let _ = sys::signal(PING, 1);
    }
    if kind.priorities().is_some() {
        let _ = sys::wait(GO);
    }
    for round in 0..TOTAL {
        // Kernel instructions of this round trip, plus the partner's user time.
        let elapsed = match kind {
            BenchKind::Notify => {
                let signal = raw(Syscall::Signal, [PING.to_reg(), 1, 0, 0, 0, 0]);
                let wait = raw(Syscall::Wait, [PONG.to_reg(), 0, 0, 0, 0, 0]);
                // Minus this side's own user time between the two syscalls.
                (wait.after - signal.before) - (wait.before - signal.after) - 4 * overhead
            }
            BenchKind::Yield => {
                let t = raw(Syscall::ThreadYield, [0; 6]);
                t.after - t.before - 2 * overhead
            }
            BenchKind::SignalHigher => {
                let t = raw(Syscall::Signal, [PING.to_reg(), 1, 0, 0, 0, 0]);
                // The partner ran, and signalled the TSC after its `Wait`.
                let woken = sys::poll(PONG).unwrap_or(0);
                woken.wrapping_sub(t.before).wrapping_sub(overhead)
            }
            BenchKind::SignalLower => {
                let t = raw(Syscall::Signal, [PING.to_reg(), 1, 0, 0, 0, 0]);
                t.after - t.before - overhead
            }
            BenchKind::Fault => {
                let t = timed_breakpoint();
                t.after - t.before - 2 * overhead
            }
            _ => {
                let t = raw(Syscall::Call, [endpoint, info, 1, 2, 3, 4]);
                t.after - t.before - 2 * overhead
            }
        };
        if round >= WARMUP {
            samples[round - WARMUP] = elapsed;
        }
    }
    if matches!(
        kind,
        BenchKind::Call0 | BenchKind::Call4 | BenchKind::Call10 | BenchKind::CallCap
    ) {
        let finish = Message::new(FINISH, &[]);
        let _ = sys::call(ENDPOINT, &finish);
    }
    let (median, p10, p90) = summarize(&mut samples);
    report(CLIENT_REPORT, &[median, p10, p90, SAMPLES as u64])
}

/// The other side: serves [`client`]'s round trips, timing its own user
/// code between syscalls, and reports the median of that.
pub extern "C" fn partner(kind: u64) -> ! {
    let kind = BenchKind::from_arg(kind);
    let mut gaps = [0u64; TOTAL];
    if kind.priorities().is_some() {
        let _ = sys::wait(GO);
    }
    let gaps = match kind {
        BenchKind::Notify => notify_partner(&mut gaps),
        BenchKind::Yield => yield_partner(&mut gaps),
        BenchKind::SignalHigher => signalled_partner(),
        BenchKind::SignalLower => {
            // Woken by the first signal; runs again only when the client
            // has finished.
            let _ = sys::wait(PING);
            &mut []
        }
        BenchKind::Fault => fault_partner(&mut gaps),
        _ => call_partner(&mut gaps),
    };
    let (median, _, _) = summarize(gaps);
    report(PARTNER_REPORT, &[median])
}

/// Echoes calls (same label and length, no capabilities) until
/// [`FINISH`]; returns the user time of each round.
fn call_partner(gaps: &mut [u64]) -> &mut [u64] {
    let endpoint = ENDPOINT.to_reg();
    let Ok(first) = sys::recv(ENDPOINT) else {
        return &mut gaps[..0];
    };
    let mut info = first.message.info;
    let mut words = first.message.words;
    let mut arrived = None;
    let mut count = 0;
    while info.label() != FINISH {
        let reply = MessageInfo::new(info.label(), info.words(), 0).to_reg();
        let t = raw(
            Syscall::ReplyRecv,
            [endpoint, reply, words[0], words[1], words[2], words[3]],
        );
        if let Some(arrived) = arrived
            && count < gaps.len()
        {
            gaps[count] = t.before - arrived;
            count += 1;
        }
        if t.status != 0 {
            return &mut gaps[..count];
        }
        arrived = Some(t.after);
        let received = RecvResult::decode(&t.regs);
        info = MessageInfo::from_received(received.info);
        words = [received.mr0, received.mr1, received.mr2, received.mr3];
    }
    let _ = sys::reply(&Message::default());
    &mut gaps[..count]
}

/// Waits for [`PING`] and signals [`PONG`], [`TOTAL`] times.
fn notify_partner(gaps: &mut [u64]) -> &mut [u64] {
    let mut previous_signal: Option<Timed> = None;
    for round in 0..TOTAL {
        let wait = raw(Syscall::Wait, [PING.to_reg(), 0, 0, 0, 0, 0]);
        if let Some(signal) = previous_signal {
            gaps[round - 1] += wait.before - signal.after;
        }
        let signal = raw(Syscall::Signal, [PONG.to_reg(), 1, 0, 0, 0, 0]);
        gaps[round] = signal.before - wait.after;
        previous_signal = Some(signal);
    }
    &mut gaps[..TOTAL - 1]
}

/// Waits for [`PING`] [`TOTAL`] times, each time signalling the TSC read
/// right after the `Wait` returned (the end of the client's leg) on
/// [`PONG`]. Its user time is outside the leg, so there is none to report.
fn signalled_partner() -> &'static mut [u64] {
    for _ in 0..TOTAL {
        let wait = raw(Syscall::Wait, [PING.to_reg(), 0, 0, 0, 0, 0]);
        let _ = sys::signal(PONG, wait.after);
    }
    &mut []
}

/// The client's fault handler: answers each of its [`TOTAL`] faults with
/// `RESUME`, through `ReplyRecv` but for the last; returns the user time of
/// each round.
fn fault_partner(gaps: &mut [u64]) -> &mut [u64] {
    let endpoint = ENDPOINT.to_reg();
    let resume = MessageInfo::new(fault::RESUME, 0, 0).to_reg();
    if sys::recv(ENDPOINT).is_err() {
        return &mut gaps[..0];
    }
    let mut arrived: Option<u64> = None;
    let mut count = 0;
    for _ in 1..TOTAL {
        let t = raw(Syscall::ReplyRecv, [endpoint, resume, 0, 0, 0, 0]);
        if let Some(arrived) = arrived {
            gaps[count] = t.before - arrived;
            count += 1;
        }
        if t.status != 0 {
            break;
        }
        arrived = Some(t.after);
    }
    let _ = sys::reply(&Message::new(fault::RESUME, &[]));
    &mut gaps[..count]
}

/// Yields [`TOTAL`] times.
fn yield_partner(gaps: &mut [u64]) -> &mut [u64] {
    let _ = sys::wait(PING);
    let mut previous: Option<Timed> = None;
    for round in 0..TOTAL {
        let t = raw(Syscall::ThreadYield, [0; 6]);
        if let Some(previous) = previous {
            gaps[round - 1] = t.before - previous.after;
        }
        previous = Some(t);
    }
    &mut gaps[..TOTAL - 1]
}
