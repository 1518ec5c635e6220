//! Endpoint syscalls: send, receive, call, reply and reply-receive; badges,
//! every message length through IPC buffers, capability transfer; every
//! documented error; what a waiter sees when its endpoint or its partner is
//! destroyed; the order waiters are served in.
//!
//! Also the helpers the `cspace_`, `notify_` and `sched_` tests share:
//! IPC buffer pages, threads started by hand on stacks of their own (so
//! they can be deleted while blocked, given a priority before they first
//! run, or put in another capability space), results passed back through
//! atomics, and free-frame counts.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use abi::ipc::{LABEL_MAX, MSG_MAX_CAPS, MSG_MAX_WORDS, MessageInfo};
use abi::layout::USER_END;
use abi::syscall::{Syscall, exit_kind};
use abi::{CapSlot, ObjectType, Rights, SysError};
use rt::sys::{self, Message, Received};
use rt::thread::{JoinHandle, spawn};

use super::{Failure, TestResult, debug_cap};
use crate::{ensure, ensure_eq};

// ---------------------------------------------------------------------------
// Shared helpers.

/// A setup step that must succeed; a failure names the caller's line.
#[track_caller]
pub(super) fn must<T>(result: Result<T, SysError>) -> Result<T, Failure> {
    let line = core::panic::Location::caller().line();
    result.map_err(|error| {
        rt::println!("    unexpected error: {:?}", error);
        Failure {
            what: "setup syscall failed",
            line,
        }
    })
}

/// A result as a thread exit code: 0 for success, else the error's code.
pub(super) fn code<T>(result: Result<T, SysError>) -> u64 {
    match result {
        Ok(_) => 0,
        Err(error) => error.code(),
    }
}

/// Free frames now.
pub(super) fn free_frames() -> Result<u64, Failure> {
    must(sys::debug_frame_count(debug_cap()).map(|count| count.free))
}

/// Two 32-bit values in one thread argument.
pub(super) const fn pack(low: u64, high: u64) -> u64 {
    (low & 0xffff_ffff) | (high << 32)
}

/// The low half of a packed argument, as a slot.
pub(super) const fn low_slot(arg: u64) -> CapSlot {
    CapSlot(arg as u32)
}

/// The high half of a packed argument.
pub(super) const fn high(arg: u64) -> u64 {
    arg >> 32
}

/// Results threads leave for the test (cleared by [`clear_out`]).
static OUT: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

/// Clears every result word.
pub(super) fn clear_out() {
    for word in &OUT {
        word.store(0, Ordering::SeqCst);
    }
}

/// Result word `index`.
pub(super) fn out(index: usize) -> u64 {
    OUT[index].load(Ordering::SeqCst)
}

/// Sets result word `index`.
pub(super) fn set_out(index: usize, value: u64) {
    OUT[index].store(value, Ordering::SeqCst);
}

/// Adds to result word `index`; returns the old value.
pub(super) fn add_out(index: usize, value: u64) -> u64 {
    OUT[index].fetch_add(value, Ordering::SeqCst)
}

/// Yields until the clock has advanced `nanos`.
pub(super) fn pause(nanos: u64) {
    let start = sys::clock_read();
    while sys::clock_read() - start < nanos {
        sys::thread_yield();
    }
}

/// Joins an `rt` thread and returns its exit code; a fault fails the test.
#[track_caller]
pub(super) fn join(handle: JoinHandle) -> Result<u64, Failure> {
    let status = must(handle.join())?;
    exit_code(status, core::panic::Location::caller().line())
}

fn exit_code(status: abi::syscall::ThreadStatus, line: u32) -> Result<u64, Failure> {
    if status.kind != exit_kind::EXITED {
        rt::println!(
            "    thread killed by vector {} at rip {:#x} (address {:#x})",
            status.code,
            status.rip,
            status.addr
        );
        return Err(Failure {
            what: "a helper thread faulted",
            line,
        });
    }
    Ok(status.code)
}

/// A page for an IPC buffer. The kernel writes it behind the program's
/// back, so every access is atomic. Word `i` of the message is at index
/// `i`, `caps[j]` at index `64 + j`; the rest of the page is the thread's.
#[repr(C, align(4096))]
pub(super) struct Page([AtomicU64; 512]);

/// IPC buffer pages; each thread that needs one gets its own.
pub(super) static PAGES: [Page; 3] = [const { Page([const { AtomicU64::new(0) }; 512]) }; 3];

impl Page {
    /// The page's address.
    pub(super) fn addr(&self) -> u64 {
        self as *const Page as u64
    }

    /// Message word `index`.
    pub(super) fn word(&self, index: usize) -> u64 {
        self.0[index].load(Ordering::SeqCst)
    }

    /// Sets message word `index`.
    pub(super) fn set_word(&self, index: usize, value: u64) {
        self.0[index].store(value, Ordering::SeqCst);
    }

    /// Capability slot `index` (received, or to send).
    pub(super) fn cap(&self, index: usize) -> u64 {
        self.word(MSG_MAX_WORDS + index)
    }

    /// Sets capability slot `index` to send (a raw register value).
    pub(super) fn set_cap(&self, index: usize, slot: u64) {
        self.set_word(MSG_MAX_WORDS + index, slot);
    }
}

/// The entry point of a thread started by [`Raw::start`]: `rdi` holds the
/// argument, and it must end with `ThreadExit`.
pub(super) type Entry = extern "C" fn(u64) -> !;

/// Defines `extern "C"` entry points that run `body(arg)` and exit with
/// its result, for [`Raw`].
macro_rules! raw_entry {
    ($($name:ident => $body:path;)*) => {
        $(
            extern "C" fn $name(arg: u64) -> ! {
                rt::sys::thread_exit($body(arg))
            }
        )*
    };
}
pub(super) use raw_entry;

const RAW_STACK_WORDS: usize = 2048;
const RAW_THREADS: usize = 8;

#[repr(C, align(16))]
struct RawStack([AtomicU64; RAW_STACK_WORDS]);

static RAW_STACKS: [RawStack; RAW_THREADS] =
    [const { RawStack([const { AtomicU64::new(0) }; RAW_STACK_WORDS]) }; RAW_THREADS];
static RAW_IN_USE: AtomicU32 = AtomicU32::new(0);

fn take_raw_stack() -> Option<usize> {
    loop {
        let used = RAW_IN_USE.load(Ordering::Acquire);
        let free = (!used).trailing_zeros() as usize;
        if free >= RAW_THREADS {
            return None;
        }
        if RAW_IN_USE
            .compare_exchange(used, used | 1 << free, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(free);
        }
    }
}

fn release_raw_stack(index: usize) {
    RAW_IN_USE.fetch_and(!(1 << index), Ordering::Release);
}

/// A thread made with `ThreadCreate` and set up before `ThreadStart`:
/// priority, IPC buffer, capability space, suspension.
pub(super) struct Raw {
    entry: Entry,
    arg: u64,
    priority: u64,
    max_priority: u64,
    cspace: CapSlot,
    buffer: u64,
    suspended: bool,
    own_slot: bool,
}

impl Raw {
    /// Runs `entry(arg)` at the test's priority (32, maximum 63), in the
    /// program's capability space, without an IPC buffer.
    pub(super) fn new(entry: Entry, arg: u64) -> Raw {
        Raw {
            entry,
            arg,
            priority: 32,
            max_priority: 63,
            cspace: CapSlot::NULL,
            buffer: 0,
            suspended: false,
            own_slot: false,
        }
    }

    /// Its priority from the start (above 32 it runs before `start` returns).
    pub(super) fn priority(mut self, priority: u64) -> Raw {
        self.priority = priority;
        self
    }

    /// Its maximum controlled priority.
    pub(super) fn max_priority(mut self, max_priority: u64) -> Raw {
        self.max_priority = max_priority;
        self
    }

    /// Runs it in another capability space (the argument's slots are there).
    pub(super) fn cspace(mut self, cspace: CapSlot) -> Raw {
        self.cspace = cspace;
        self
    }

    /// Gives it `page` as its IPC buffer.
    pub(super) fn buffer(self, page: &Page) -> Raw {
        self.buffer_at(page.addr())
    }

    /// Gives it the IPC buffer address `addr` (mapped or not).
    pub(super) fn buffer_at(mut self, addr: u64) -> Raw {
        self.buffer = addr;
        self
    }

    /// Suspends it before it starts.
    pub(super) fn suspended(mut self) -> Raw {
        self.suspended = true;
        self
    }

    /// Passes `pack(its own slot, arg)` as the argument.
    pub(super) fn own_slot(mut self) -> Raw {
        self.own_slot = true;
        self
    }

    /// Creates, sets up and starts the thread.
    #[track_caller]
    pub(super) fn start(self) -> Result<RawThread, Failure> {
        let line = core::panic::Location::caller().line();
        let failure = |what| Failure { what, line };
        let stack = take_raw_stack().ok_or(failure("no free stack for a helper thread"))?;
        let own = rt::thread::own_caps();
        let cspace = if self.cspace == CapSlot::NULL {
            own.cspace
        } else {
            self.cspace
        };
        let slot = match sys::thread_create(own.budget, own.aspace, cspace) {
            Ok(slot) => slot,
            Err(error) => {
                release_raw_stack(stack);
                rt::println!("    ThreadCreate: {:?}", error);
                return Err(failure("could not create a helper thread"));
            }
        };
        let thread = RawThread { slot, stack };
        let top = RAW_STACKS[stack].0.as_ptr() as u64 + (RAW_STACK_WORDS * 8) as u64;
        let arg = if self.own_slot {
            pack(u64::from(slot.0), self.arg)
        } else {
            self.arg
        };
        let setup = sys::thread_set_priority(slot, self.priority, self.max_priority)
            .and_then(|()| sys::thread_configure(slot, self.buffer, CapSlot::NULL))
            .and_then(|()| {
                if self.suspended {
                    sys::thread_suspend(slot)
                } else {
                    Ok(())
                }
            })
            // As if called: rsp + 8 is 16-byte aligned at entry.
            .and_then(|()| sys::thread_start(slot, self.entry as *const () as u64, top - 8, arg));
        if let Err(error) = setup {
            rt::println!("    setting up a helper thread: {:?}", error);
            let _ = thread.kill();
            return Err(failure("could not start a helper thread"));
        }
        Ok(thread)
    }
}

/// A thread started by [`Raw::start`]; its capability is the only one.
#[must_use = "a helper thread that is never joined or killed keeps its stack"]
pub(super) struct RawThread {
    slot: CapSlot,
    stack: usize,
}

impl RawThread {
    /// The slot of its capability.
    pub(super) fn slot(&self) -> CapSlot {
        self.slot
    }

    /// Deletes its capability, which destroys it wherever it is blocked.
    #[track_caller]
    pub(super) fn kill(self) -> Result<(), Failure> {
        let result = must(sys::cap_delete(self.slot));
        if result.is_ok() {
            release_raw_stack(self.stack);
        }
        result
    }

    /// For a thread that deleted its own capability: checks the slot is
    /// empty and takes its stack back.
    #[track_caller]
    pub(super) fn deleted_itself(self) -> Result<(), Failure> {
        let line = core::panic::Location::caller().line();
        if sys::cap_info(self.slot) != Err(SysError::InvalidCap) {
            return Err(Failure {
                what: "the thread's capability is still there",
                line,
            });
        }
        release_raw_stack(self.stack);
        Ok(())
    }

    /// Waits for it to exit, deletes it and returns its exit code.
    #[track_caller]
    pub(super) fn join(self) -> Result<u64, Failure> {
        let line = core::panic::Location::caller().line();
        let status = must(sys::thread_wait(self.slot))?;
        must(sys::cap_delete(self.slot))?;
        release_raw_stack(self.stack);
        exit_code(status, line)
    }
}

/// The program's budget.
pub(super) fn budget() -> CapSlot {
    rt::thread::own_caps().budget
}

/// A page-aligned user address where nothing is mapped.
pub(super) const UNMAPPED: u64 = 0x0000_5000_0000_0000;

/// A slot that is surely empty (the program's space has 4096 slots).
pub(super) const EMPTY_SLOT: CapSlot = CapSlot(4000);

// ---------------------------------------------------------------------------
// Thread bodies.

/// Records a received message at `OUT[base..base + 6]`.
fn record(base: usize, got: &Received) {
    set_out(base, got.badge);
    set_out(base + 1, got.message.info.to_reg());
    for (i, word) in got.message.words.iter().enumerate() {
        set_out(base + 2 + i, *word);
    }
}

/// What [`record`] left at `OUT[base..]`: badge, info and register words.
fn recorded(base: usize) -> (u64, MessageInfo, [u64; 4]) {
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
fn recv_one(arg: u64) -> u64 {
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
    match sys::call_endpoint(low_slot(arg), &Message::new(high(arg), &[high(arg) * 11])) {
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
    let result = sys::call_endpoint(low_slot(arg), &Message::new(high(arg), &[]));
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
    long_server_entry => long_server;
    long_client_entry => long_client;
    caps_sender_entry => caps_sender;
    caps_receiver_entry => caps_receiver;
    bad_caps_sender_entry => bad_caps_sender;
    one_cap_sender_entry => one_cap_sender;
    replier_entry => replier;
    buffered_caller_entry => buffered_caller;
    unmapped_sender_entry => unmapped_sender;
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
        let reply = must(sys::call_endpoint(client, &Message::new(i, &[i, 10])))?;
        ensure_eq!(reply.badge, 0);
        let info = reply.message.info;
        ensure_eq!(
            (info.label(), info.words(), info.caps(), info.is_call()),
            (i + 1, 3, 0, false)
        );
        ensure_eq!(reply.message.words[..3], [i + 10, i * 10, 0x42]);
    }
    let last = must(sys::call_endpoint(ep, &Message::new(0, &[])))?;
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
        sys::call_endpoint(ep, &Message::new(1, &[])).map(|_| ()),
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
        sys::call_endpoint(ep, &Message::new(4, &[])).map(|_| ()),
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

const STOP: u64 = 0xffff;
const SENTINEL: u64 = 0x5e47_1e1e_5e47_1e1e;

fn pattern(label: u64, index: usize) -> u64 {
    (label << 8 | index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xa5a5
}

/// Writes message `label` of `len` words: words 4.. into `page`, the
/// register words into the returned message.
fn fill_long(page: &Page, label: u64, len: usize) -> Message {
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
        let reply = match sys::call_endpoint(ep, &fill_long(page, len as u64, len)) {
            Ok(reply) => reply,
            Err(error) => return 20_000 + error.code(),
        };
        errors += check_long(&reply, page, 1000 + len as u64, MSG_MAX_WORDS - len)
            + u64::from(reply.badge != 0);
    }
    match sys::call_endpoint(ep, &Message::new(STOP, &[])) {
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
    code(sys::send(ep, &Message::new(6, &[]).with_cap_count(1)))
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

/// Helpers for a message with capabilities.
trait WithCaps {
    fn with_cap_count(self, caps: usize) -> Message;
}

impl WithCaps for Message {
    fn with_cap_count(mut self, caps: usize) -> Message {
        self.info = MessageInfo::new(self.info.label(), self.info.words(), caps);
        self
    }
}

pub fn caps_transfer_errors() -> TestResult {
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
    let with_cap = Message::new(10, &[]).with_cap_count(1);
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
    set_out(
        24,
        code(sys::reply(&Message::new(12, &[]).with_cap_count(1))),
    );
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
    match sys::call_endpoint(low_slot(arg), &Message::new(index as u64, &[])) {
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
        sys::call_endpoint(ep, &Message::new(3, &[])).map(|_| ()),
        Err(SysError::BadAddress)
    );
    ensure_eq!(out(25), 0);
    ensure_eq!(out(26), SysError::MissingRights.code());
    ensure_eq!(
        sys::call_endpoint(ep, &Message::new(4, &[])).map(|_| ()),
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
            sys::call_endpoint(slot, &message).map(|_| ()),
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
    ensure_eq!(
        sys::call_endpoint(n, &message).map(|_| ()),
        Err(SysError::WrongType)
    );
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
        sys::call_endpoint(read_only, &message).map(|_| ()),
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
    let with_cap = message.with_cap_count(1);
    ensure_eq!(
        sys::send(write_only, &with_cap),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::call_endpoint(write_only, &with_cap).map(|_| ()),
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
        sys::call_endpoint(ep, &too_long).map(|_| ()),
        Err(SysError::InvalidArg)
    );
    for bits in [1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 0xff] {
        for number in [Syscall::Send, Syscall::NbSend, Syscall::Call] {
            let (status, _) =
                sys::raw_syscall(number.number(), [u64::from(ep.0), bits, 0, 0, 0, 0]);
            ensure_eq!(SysError::from_code(status), Some(SysError::InvalidArg));
        }
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
            sys::call_endpoint(ep, &needs_buffer).map(|_| ()),
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
    let own = rt::thread::own_caps();
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
