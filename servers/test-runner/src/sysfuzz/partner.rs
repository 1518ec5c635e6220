//! Partner threads: small programs the fuzzer starts in scratch address
//! spaces (which map the child's image read-only and executable, lent
//! from its own address space, and a stack object), so that endpoints and
//! notifications have receivers, callers, senders and waiters in other
//! address spaces, threads exist that end by themselves (so `ThreadWait`
//! returns), stacks fault pages in against a small budget (and faults go
//! to a fault endpoint when the worker gave the partner one), and
//! `ThreadExec` and `ThreadExit` run in threads that are not the fuzzer's.
//!
//! A partner finds its capabilities at fixed slots of its own capability
//! space ([`OBJECT`], [`TARGET`]), put there by the worker that made it.
//! It writes no static (the image is mapped read-only where it runs), only
//! its stack, and every loop is bounded: it ends after its rounds, or at
//! its first error.

use crate::raw::{self as sys, Message};
use abi::CapSlot;
use abi::ipc::{MSG_REG_WORDS, MessageInfo};
use abi::syscall::{NoResult, ThreadExecArgs};

use super::layout::partner_stack_top;

/// Yields a few times, then ends.
pub const TINY: u64 = 0;
/// Answers calls on [`OBJECT`] (an endpoint).
pub const ECHO: u64 = 1;
/// Calls [`OBJECT`].
pub const CALLER: u64 = 2;
/// Sends on [`OBJECT`].
pub const SENDER: u64 = 3;
/// Signals [`OBJECT`] (a notification).
pub const SIGNALLER: u64 = 4;
/// Waits on [`OBJECT`].
pub const WAITER: u64 = 5;
/// Touches pages of its stack (faulting them in), then ends.
pub const TOUCHER: u64 = 6;
/// Moves itself into the address space at [`TARGET`] with `ThreadExec`
/// and goes on there as [`EXECED`].
pub const EXEC: u64 = 7;
/// What an [`EXEC`] partner runs as once it has moved: yields a few times,
/// then ends with [`EXECED_CODE`].
pub const EXECED: u64 = 8;
/// Sleeps [`WAKER_SLEEP_NS`] (a `FutexWait` on [`WAKER_IDLE_WORD`] that
/// times out), then wakes every waiter on [`WAKER_WORD`]: the word a
/// worker waits on through a memory object mapped in both address spaces.
pub const WAKER: u64 = 9;
/// Number of modes.
pub const MODES: u64 = 10;

/// Where a [`WAKER`] partner finds the word to wake, in its address space.
pub const WAKER_WORD: u64 = super::layout::WINDOW;
/// The word a [`WAKER`] partner sleeps on (it stays 0).
pub const WAKER_IDLE_WORD: u64 = super::layout::WINDOW + 64;
/// How long a [`WAKER`] partner sleeps before it wakes the worker.
pub const WAKER_SLEEP_NS: u64 = 1_000_000;

/// The exit code of a partner that moved with `ThreadExec` and ran on in
/// its new address space (no other mode ends with it). An [`EXEC`] partner
/// whose `ThreadExec` failed ends with [`EXEC_FAILED`] plus the error code.
pub const EXECED_CODE: u64 = 0xe8ec;
/// See [`EXECED_CODE`].
pub const EXEC_FAILED: u64 = 100;

/// The endpoint or notification a partner works with.
pub const OBJECT: CapSlot = CapSlot(1);
/// The address space an [`EXEC`] partner moves to.
pub const TARGET: CapSlot = CapSlot(2);

/// The argument of a partner: its mode, rounds and stack index.
pub const fn arg(mode: u64, rounds: u64, stack: u64) -> u64 {
    (mode % MODES) | (rounds & 0xff) << 8 | (stack & 0xff) << 16
}

/// Where partners start: `arg` says what they do ([`arg`]).
pub extern "C" fn entry(arg: u64) -> ! {
    let rounds = (arg >> 8 & 0xff) % 32 + 1;
    let code = match arg & 0xff {
        TINY => tiny(rounds),
        // A server waits most of its life: serve many.
        ECHO => echo((arg >> 8 & 0xff) * 4 + 1),
        CALLER => caller(rounds),
        SENDER => sender(rounds),
        SIGNALLER => signaller(rounds),
        WAITER => waiter(rounds),
        TOUCHER => touch(rounds % 3 + 1),
        EXEC => exec(arg),
        EXECED => {
            tiny(rounds);
            EXECED_CODE
        }
        WAKER => waker(),
        _ => u64::MAX,
    };
    sys::thread_exit(code)
}

fn tiny(rounds: u64) -> u64 {
    for _ in 0..rounds {
        sys::thread_yield();
    }
    TINY
}

fn echo(rounds: u64) -> u64 {
    for _ in 0..rounds {
        let Ok(received) = sys::recv(OBJECT) else {
            return 100;
        };
        let info = received.message.info;
        if info.is_call() {
            let reply = Message {
                info: MessageInfo::new(info.label(), info.words().min(MSG_REG_WORDS), 0),
                words: received.message.words,
            };
            let _ = sys::reply(&reply);
        }
    }
    ECHO
}

fn caller(rounds: u64) -> u64 {
    for round in 0..rounds {
        if sys::call(OBJECT, &Message::new(round, &[round, !round])).is_err() {
            return 100 + round;
        }
    }
    CALLER
}

fn sender(rounds: u64) -> u64 {
    for round in 0..rounds {
        if sys::send(OBJECT, &Message::new(round, &[round])).is_err() {
            return 100 + round;
        }
    }
    SENDER
}

fn signaller(rounds: u64) -> u64 {
    for round in 0..rounds {
        if sys::signal(OBJECT, 1 << (round % 64)).is_err() {
            return 100 + round;
        }
        sys::thread_yield();
    }
    SIGNALLER
}

fn waiter(rounds: u64) -> u64 {
    for round in 0..rounds {
        if sys::wait(OBJECT).is_err() {
            return 100 + round;
        }
    }
    WAITER
}

/// Writes one byte in each of `pages` pages of a buffer on the stack.
fn touch(pages: u64) -> u64 {
    let mut buffer = [0u8; 3 * 4096];
    for page in 0..pages.min(3) as usize {
        buffer[page * 4096] = page as u8 + 1;
    }
    core::hint::black_box(&mut buffer);
    u64::from(buffer[0])
}

fn waker() -> u64 {
    let deadline = sys::clock_read() + WAKER_SLEEP_NS;
    let _ = sys::futex_wait_raw(WAKER_IDLE_WORD, 0, deadline);
    match sys::futex_wake_raw(WAKER_WORD, abi::syscall::FUTEX_ALL) {
        Ok(woken) => WAKER + woken,
        Err(error) => 100 + error.code(),
    }
}

fn exec(arg: u64) -> u64 {
    let stack = partner_stack_top(arg >> 16 & 0xff);
    let entry_point = entry as extern "C" fn(u64) -> ! as usize as u64;
    let args = ThreadExecArgs {
        aspace: TARGET,
        entry: entry_point,
        stack,
        arg: self::arg(EXECED, arg >> 8, arg >> 16),
        // An FS base it never uses, to have `ThreadExec` set one.
        tls: stack,
    };
    // Returns only on an error.
    match sys::invoke::<_, NoResult>(&args) {
        Ok(_) => 99,
        Err(error) => EXEC_FAILED + error.code(),
    }
}
