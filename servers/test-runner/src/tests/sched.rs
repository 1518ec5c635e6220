//! Scheduling syscalls: priorities and their ceiling, preemption by a
//! thread made ready at a higher priority, strict priority, suspend and
//! resume, reading and writing another thread's registers.

use crate::raw::{self as sys, Message};
use crate::raw_thread::spawn;
use abi::layout::{IMAGE_BASE, USER_END};
use abi::syscall::{Syscall, ThreadRegs, USER_RFLAGS_MASK};
use abi::{CapSlot, Rights, SysError};

use super::support::{
    EMPTY_SLOT, Raw, UNMAPPED, add_out, budget, clear_out, code, free_frames, high, join, low_slot,
    must, out, pack, pause, raw_entry, set_out,
};
use super::{TestResult, debug_cap};
use crate::{cpu, ensure, ensure_eq};

const MS: u64 = 1_000_000;
/// rflags: the trap flag, interrupts enabled, I/O privilege level.
const TF: u64 = 1 << 8;
const IF: u64 = 1 << 9;
const IOPL: u64 = 3 << 12;

/// Counts one run at `OUT[0]`.
fn count(_: u64) -> u64 {
    add_out(0, 1);
    0
}

/// Waits on notification `low(arg)`, then counts at `OUT[0]`.
fn wait_then_count(arg: u64) -> u64 {
    let result = sys::wait(low_slot(arg));
    add_out(0, 1);
    code(result)
}

/// Spins, counting at `OUT[11]`, until `OUT[10]` is set; exits with 1.
fn spin(_: u64) -> u64 {
    while out(10) == 0 {
        add_out(11, 1);
        core::hint::spin_loop();
    }
    1
}

/// Tries priorities from a thread whose maximum is 40; see [`ceiling`].
fn try_priorities(arg: u64) -> u64 {
    let (me, other) = (low_slot(arg), CapSlot(high(arg) as u32));
    let attempts = [
        (other, 41, 10),
        (other, 10, 41),
        (other, 40, 40),
        (other, 64, 0),
        (me, 30, 35),
        (other, 36, 0),
        (other, 0, 36),
        (me, 36, 36),
        (other, 35, 35),
        (me, 35, 35),
    ];
    for (i, (thread, priority, max)) in attempts.iter().enumerate() {
        set_out(i, code(sys::thread_set_priority(*thread, *priority, *max)));
    }
    0
}

/// Receives on `low(arg)`, flags the end at `OUT[1]`.
fn recv_flag(arg: u64) -> u64 {
    let result = sys::recv(low_slot(arg));
    set_out(1, 1);
    if let Ok(got) = result {
        set_out(2, got.message.info.label());
    }
    code(result)
}

/// Suspends itself (its own slot is `low(arg)`), flagging before and after at `OUT[3]`.
fn suspend_self(arg: u64) -> u64 {
    set_out(3, 1);
    let result = sys::thread_suspend(low_slot(arg));
    set_out(3, 2);
    code(result)
}

/// Tries to read and write its own registers (its slot is `low(arg)`).
fn own_regs(arg: u64) -> u64 {
    let me = low_slot(arg);
    let regs = ThreadRegs::default();
    set_out(0, code(sys::thread_read_regs(me)));
    set_out(1, code(sys::thread_write_regs(me, &regs)));
    set_out(2, code(sys::thread_read_regs_raw(me, 0)));
    set_out(3, code(sys::thread_write_regs_raw(me, 0)));
    0
}

/// Where [`redirect`] sends a spinning thread: records its argument and
/// FS base, and exits with the argument plus one.
extern "C" fn landing(arg: u64) -> ! {
    set_out(20, arg);
    if super::boot().cpu_features & abi::boot::cpu::FSGSBASE != 0 {
        set_out(21, cpu::read_fs_base());
    }
    sys::thread_exit(arg + 1)
}

/// Receives a call on `low(arg)`, notes the counter `OUT[0]` it sees at
/// `OUT[5]`, replies.
fn serve_once(arg: u64) -> u64 {
    if let Err(error) = sys::recv(low_slot(arg)) {
        return 100 + error.code();
    }
    set_out(5, add_out(0, 1) + 1);
    code(sys::reply(&Message::new(1, &[])))
}

/// Resumes thread `low(arg)`.
fn resume_other(arg: u64) -> u64 {
    code(sys::thread_resume(low_slot(arg)))
}

/// Calls `low(arg)`, then counts at `OUT[0]`, noting its rank at `OUT[6]`.
fn call_then_count(arg: u64) -> u64 {
    let result = sys::call(low_slot(arg), &Message::new(1, &[]));
    set_out(6, add_out(0, 1) + 1);
    code(result)
}

/// Waits on `low(arg)`, then counts at `OUT[0]`, noting its rank at `OUT[7]`.
fn wait_then_rank(arg: u64) -> u64 {
    let result = sys::wait(low_slot(arg));
    set_out(7, add_out(0, 1) + 1);
    code(result)
}

/// Signals notification `high(arg)`, then calls `low(arg)`.
fn signal_then_call(arg: u64) -> u64 {
    if let Err(error) = sys::signal(CapSlot(high(arg) as u32), 1) {
        return 100 + error.code();
    }
    code(sys::call(low_slot(arg), &Message::new(1, &[])))
}

/// Receives a call on `low(arg)`, signals notification `high(arg)`, and
/// answers with ReplyRecv (then waits for ever).
fn signal_then_reply_recv(arg: u64) -> u64 {
    let ep = low_slot(arg);
    if let Err(error) = sys::recv(ep) {
        return 100 + error.code();
    }
    if let Err(error) = sys::signal(CapSlot(high(arg) as u32), 1) {
        return 200 + error.code();
    }
    code(sys::reply_recv(ep, &Message::new(2, &[])))
}

raw_entry! {
    serve_once_entry => serve_once;
    resume_other_entry => resume_other;
    call_then_count_entry => call_then_count;
    wait_then_rank_entry => wait_then_rank;
    signal_then_call_entry => signal_then_call;
    signal_then_reply_recv_entry => signal_then_reply_recv;
    count_entry => count;
    wait_then_count_entry => wait_then_count;
    try_priorities_entry => try_priorities;
    recv_flag_entry => recv_flag;
    suspend_self_entry => suspend_self;
    own_regs_entry => own_regs;
}

/// Yields until `OUT[11]` passes `floor` (at most a second).
fn progress_past(floor: u64) -> bool {
    let start = sys::clock_read();
    while out(11) <= floor {
        if sys::clock_read() - start > 1_000 * MS {
            return false;
        }
        sys::thread_yield();
    }
    true
}

pub fn set_priority_errors() -> TestResult {
    let before = free_frames()?;
    let own = rt::process::own_caps();
    let other = must(sys::thread_create(own.budget, own.aspace, own.cspace))?;
    // The test thread's own maximum is 63.
    for (priority, max) in [(0, 0), (63, 63), (10, 63), (63, 0), (32, 32)] {
        ensure_eq!(sys::thread_set_priority(other, priority, max), Ok(()));
    }
    for (priority, max) in [(64, 0), (0, 64), (64, 64), (u64::MAX, 0), (0, 1 << 32)] {
        ensure_eq!(
            sys::thread_set_priority(other, priority, max),
            Err(SysError::InvalidArg)
        );
    }
    ensure_eq!(
        sys::thread_set_priority(CapSlot::NULL, 1, 1),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_set_priority(EMPTY_SLOT, 1, 1),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_set_priority(debug_cap(), 1, 1),
        Err(SysError::WrongType)
    );
    let read_only = must(sys::cap_copy(other, Rights::READ))?;
    ensure_eq!(
        sys::thread_set_priority(read_only, 1, 1),
        Err(SysError::MissingRights)
    );
    // Rights come before the values.
    ensure_eq!(
        sys::thread_set_priority(read_only, 64, 1),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(read_only), Ok(()));

    // The ceiling: a thread with maximum 40 (then 35) tries.
    clear_out();
    let limited = Raw::new(try_priorities_entry, u64::from(other.0))
        .max_priority(40)
        .own_slot()
        .start()?;
    ensure_eq!(limited.join()?, 0);
    let missing = SysError::MissingRights.code();
    let invalid = SysError::InvalidArg.code();
    let results = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(out);
    ensure_eq!(
        results,
        [
            missing, missing, 0, invalid, 0, missing, missing, missing, 0, 0
        ]
    );
    ensure_eq!(sys::cap_delete(other), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn preemption_on_wake() -> TestResult {
    let before = free_frames()?;
    let n = must(sys::notification_create(budget()))?;
    clear_out();

    // Above us: it runs before Signal returns.
    let high_thread = Raw::new(wait_then_count_entry, u64::from(n.0))
        .priority(40)
        .start()?;
    ensure_eq!(out(0), 0);
    ensure_eq!(sys::signal(n, 1), Ok(()));
    ensure_eq!(out(0), 1);
    ensure_eq!(high_thread.join()?, 0);

    // Below us (lowered while it waits): it runs only when we block.
    let low_thread = Raw::new(wait_then_count_entry, u64::from(n.0))
        .priority(40)
        .start()?;
    ensure_eq!(sys::thread_set_priority(low_thread.slot(), 31, 31), Ok(()));
    ensure_eq!(sys::signal(n, 1), Ok(()));
    for _ in 0..5 {
        sys::thread_yield();
    }
    ensure_eq!(out(0), 1);
    ensure_eq!(low_thread.join()?, 0);
    ensure_eq!(out(0), 2);

    // Equal to us: it waits for its turn.
    let equal_thread = Raw::new(wait_then_count_entry, u64::from(n.0))
        .priority(40)
        .start()?;
    ensure_eq!(
        sys::thread_set_priority(equal_thread.slot(), 32, 32),
        Ok(())
    );
    ensure_eq!(sys::signal(n, 1), Ok(()));
    ensure_eq!(out(0), 2);
    ensure_eq!(equal_thread.join()?, 0);
    ensure_eq!(out(0), 3);

    // Resumed above us: it runs before Resume returns.
    let suspended = Raw::new(count_entry, 0).priority(40).suspended().start()?;
    for _ in 0..3 {
        sys::thread_yield();
    }
    ensure_eq!(out(0), 3);
    ensure_eq!(sys::thread_resume(suspended.slot()), Ok(()));
    ensure_eq!(out(0), 4);
    ensure_eq!(suspended.join()?, 0);

    // A ready thread raised above us runs before SetPriority returns.
    let raised = Raw::new(count_entry, 0).priority(31).start()?;
    sys::thread_yield();
    ensure_eq!(out(0), 4);
    ensure_eq!(sys::thread_set_priority(raised.slot(), 33, 33), Ok(()));
    ensure_eq!(out(0), 5);
    ensure_eq!(raised.join()?, 0);

    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn strict_priority() -> TestResult {
    clear_out();
    // Below us: it never runs while we are runnable, even across ticks.
    let low_thread = Raw::new(count_entry, 0).priority(31).start()?;
    pause(30 * MS);
    ensure_eq!(out(0), 0);
    ensure_eq!(low_thread.join()?, 0);
    ensure_eq!(out(0), 1);
    // A spawned thread inherits our priority: it does not run before we
    // yield, and does after.
    let spawned = must(spawn(count, 0))?;
    sys::thread_yield();
    ensure_eq!(out(0), 2);
    ensure_eq!(join(spawned)?, 0);
    Ok(())
}

pub fn call_suspended_receiver() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    // A suspended receiver takes the call but runs only when resumed (by a
    // thread below us, which runs once our Call blocks).
    let server = Raw::new(serve_once_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::thread_suspend(server.slot()), Ok(()));
    let resumer = Raw::new(resume_other_entry, u64::from(server.slot().0))
        .priority(31)
        .start()?;
    let reply = must(sys::call(ep, &Message::new(1, &[])))?;
    ensure_eq!(reply.message.info.label(), 1);
    ensure_eq!(out(5), 1);
    ensure_eq!(resumer.join()?, 0);
    ensure_eq!(server.join()?, 0);
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn ipc_wakes_respect_priority() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let arg = pack(u64::from(ep.0), u64::from(n.0));

    // Call: the caller (40) makes a thread at 35 ready, then calls a
    // receiver at 33: the thread at 35 runs before the receiver.
    clear_out();
    let urgent = Raw::new(wait_then_rank_entry, u64::from(n.0))
        .priority(40)
        .start()?;
    ensure_eq!(sys::thread_set_priority(urgent.slot(), 35, 35), Ok(()));
    let server = Raw::new(serve_once_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    let caller = Raw::new(signal_then_call_entry, arg).priority(40).start()?;
    ensure_eq!(caller.join()?, 0);
    ensure_eq!(urgent.join()?, 0);
    ensure_eq!(server.join()?, 0);
    ensure_eq!((out(7), out(5)), (1, 2));

    // ReplyRecv: the server (40) makes a thread at 32 ready, then answers
    // a caller at 31: the thread at 32 runs before the caller.
    clear_out();
    let urgent = Raw::new(wait_then_rank_entry, u64::from(n.0))
        .priority(40)
        .start()?;
    ensure_eq!(sys::thread_set_priority(urgent.slot(), 32, 32), Ok(()));
    let server = Raw::new(signal_then_reply_recv_entry, arg)
        .priority(40)
        .start()?;
    let caller = Raw::new(call_then_count_entry, u64::from(ep.0))
        .priority(31)
        .start()?;
    ensure_eq!(caller.join()?, 0);
    ensure_eq!(urgent.join()?, 0);
    ensure_eq!((out(7), out(6)), (1, 2));
    server.kill()?;

    ensure_eq!(sys::cap_delete(n), Ok(()));
    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn suspend_resume() -> TestResult {
    clear_out();
    let spinner = must(spawn(spin, 0))?;
    ensure!(progress_past(0));
    ensure_eq!(sys::thread_suspend(spinner.slot()), Ok(()));
    let stopped = out(11);
    pause(30 * MS);
    ensure_eq!(out(11), stopped);
    // Twice is once; resuming twice too.
    ensure_eq!(sys::thread_suspend(spinner.slot()), Ok(()));
    ensure_eq!(sys::thread_resume(spinner.slot()), Ok(()));
    ensure_eq!(sys::thread_resume(spinner.slot()), Ok(()));
    ensure!(progress_past(stopped));

    // Errors.
    for call in [sys::thread_suspend, sys::thread_resume] {
        ensure_eq!(call(CapSlot::NULL), Err(SysError::InvalidCap));
        ensure_eq!(call(EMPTY_SLOT), Err(SysError::InvalidCap));
        ensure_eq!(call(debug_cap()), Err(SysError::WrongType));
    }
    let read_only = must(sys::cap_copy(spinner.slot(), Rights::READ))?;
    ensure_eq!(sys::thread_suspend(read_only), Err(SysError::MissingRights));
    ensure_eq!(sys::thread_resume(read_only), Err(SysError::MissingRights));
    ensure_eq!(sys::cap_delete(read_only), Ok(()));

    set_out(10, 1);
    ensure_eq!(join(spinner)?, 1);
    Ok(())
}

pub fn suspend_blocked_and_self() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();
    // A blocked thread, suspended, still takes a message, and returns
    // from Recv only once resumed.
    let receiver = Raw::new(recv_flag_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::thread_suspend(receiver.slot()), Ok(()));
    ensure_eq!(sys::nb_send(ep, &Message::new(4, &[])), Ok(()));
    for _ in 0..3 {
        sys::thread_yield();
    }
    ensure_eq!(out(1), 0);
    ensure_eq!(
        sys::nb_send(ep, &Message::new(5, &[])),
        Err(SysError::WouldBlock)
    );
    ensure_eq!(sys::thread_resume(receiver.slot()), Ok(()));
    ensure_eq!((out(1), out(2)), (1, 4));
    ensure_eq!(receiver.join()?, 0);

    // Resumed while still blocked, it stays blocked until the message.
    clear_out();
    let receiver = Raw::new(recv_flag_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(sys::thread_suspend(receiver.slot()), Ok(()));
    ensure_eq!(sys::thread_resume(receiver.slot()), Ok(()));
    sys::thread_yield();
    ensure_eq!(out(1), 0);
    ensure_eq!(sys::nb_send(ep, &Message::new(6, &[])), Ok(()));
    ensure_eq!((out(1), out(2)), (1, 6));
    ensure_eq!(receiver.join()?, 0);

    // A thread that suspends itself stops at once; its Suspend returns
    // success when it is resumed.
    let itself = Raw::new(suspend_self_entry, 0)
        .priority(33)
        .own_slot()
        .start()?;
    ensure_eq!(out(3), 1);
    for _ in 0..3 {
        sys::thread_yield();
    }
    ensure_eq!(out(3), 1);
    ensure_eq!(sys::thread_resume(itself.slot()), Ok(()));
    ensure_eq!(out(3), 2);
    ensure_eq!(itself.join()?, 0);

    ensure_eq!(sys::cap_delete(ep), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn regs_read_write() -> TestResult {
    clear_out();
    let spinner = must(spawn(spin, 0))?;
    ensure!(progress_past(0));
    ensure_eq!(sys::thread_suspend(spinner.slot()), Ok(()));
    let regs = must(sys::thread_read_regs(spinner.slot()))?;
    ensure!((IMAGE_BASE..USER_END).contains(&regs.rip));
    ensure!(regs.rsp > IMAGE_BASE && regs.rsp < USER_END);
    ensure!(regs.rflags & IF != 0);
    // Stable while it is suspended.
    ensure_eq!(sys::thread_read_regs(spinner.slot()), Ok(regs));

    // Of rflags only the arithmetic flags and DF are taken.
    let mut all_flags = regs;
    all_flags.rflags = u64::MAX;
    ensure_eq!(sys::thread_write_regs(spinner.slot(), &all_flags), Ok(()));
    let back = must(sys::thread_read_regs(spinner.slot()))?;
    ensure_eq!(back.rflags & USER_RFLAGS_MASK, USER_RFLAGS_MASK);
    ensure_eq!(back.rflags & (TF | IOPL), 0);
    ensure!(back.rflags & IF != 0);

    // Send it somewhere else with an argument, a stack and an FS base.
    let mut redirect = regs;
    redirect.rip = landing as *const () as u64;
    redirect.rdi = 0x1234_5678;
    redirect.rsp = (regs.rsp & !15) - 256 - 8;
    redirect.rflags = 0;
    redirect.fs_base = 0x7777_0000;
    redirect.gs_base = 0x7777_1000;
    redirect.rcx = 0xc0c0;
    redirect.r11 = 0x1111;
    ensure_eq!(sys::thread_write_regs(spinner.slot(), &redirect), Ok(()));
    let back = must(sys::thread_read_regs(spinner.slot()))?;
    ensure_eq!(
        (back.rip, back.rdi, back.rsp, back.rcx, back.r11),
        (redirect.rip, redirect.rdi, redirect.rsp, 0xc0c0, 0x1111)
    );
    ensure_eq!((back.fs_base, back.gs_base), (0x7777_0000, 0x7777_1000));
    ensure_eq!(back.rflags & (USER_RFLAGS_MASK | TF), 0);
    ensure_eq!(sys::thread_resume(spinner.slot()), Ok(()));
    ensure_eq!(join(spinner)?, 0x1234_5679);
    ensure_eq!(out(20), 0x1234_5678);
    if super::boot().cpu_features & abi::boot::cpu::FSGSBASE != 0 {
        ensure_eq!(out(21), 0x7777_0000);
    }
    Ok(())
}

pub fn regs_errors() -> TestResult {
    clear_out();
    // A thread's own registers: InvalidArg (before the pointer is looked at).
    let itself = Raw::new(own_regs_entry, 0).own_slot().start()?;
    ensure_eq!(itself.join()?, 0);
    let invalid = SysError::InvalidArg.code();
    ensure_eq!([out(0), out(1), out(2), out(3)], [invalid; 4]);

    clear_out();
    let spinner = must(spawn(spin, 0))?;
    ensure_eq!(sys::thread_suspend(spinner.slot()), Ok(()));
    let slot = spinner.slot();
    let regs = must(sys::thread_read_regs(slot))?;

    // Capability errors.
    for bad in [CapSlot::NULL, EMPTY_SLOT] {
        ensure_eq!(
            sys::thread_read_regs(bad).map(|_| ()),
            Err(SysError::InvalidCap)
        );
        ensure_eq!(
            sys::thread_write_regs(bad, &regs),
            Err(SysError::InvalidCap)
        );
    }
    ensure_eq!(
        sys::thread_read_regs(debug_cap()).map(|_| ()),
        Err(SysError::WrongType)
    );
    ensure_eq!(
        sys::thread_write_regs(debug_cap(), &regs),
        Err(SysError::WrongType)
    );
    let read_only = must(sys::cap_copy(slot, Rights::READ))?;
    let write_only = must(sys::cap_copy(slot, Rights::WRITE))?;
    ensure_eq!(
        sys::thread_read_regs(write_only).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(
        sys::thread_write_regs(read_only, &regs),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::thread_read_regs(read_only), Ok(regs));
    ensure_eq!(sys::thread_write_regs(write_only, &regs), Ok(()));
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    ensure_eq!(sys::cap_delete(write_only), Ok(()));

    // Bad pointers.
    for bad in [
        0,
        8,
        UNMAPPED,
        USER_END - 8,
        0x0000_8000_0000_0000,
        0xffff_8000_0000_0000,
        u64::MAX - 8,
    ] {
        ensure_eq!(
            sys::thread_read_regs_raw(slot, bad),
            Err(SysError::BadAddress)
        );
        ensure_eq!(
            sys::thread_write_regs_raw(slot, bad),
            Err(SysError::BadAddress)
        );
    }
    // Addresses that are not canonical user addresses; nothing changes.
    let bad_values: [fn(&mut ThreadRegs); 6] = [
        |r| r.rip = 0x0000_8000_0000_0000,
        |r| r.rip = 0xffff_ffff_8000_0000,
        |r| r.rip = u64::MAX,
        |r| r.fs_base = 0xffff_8000_0000_0000,
        |r| r.fs_base = 1 << 47,
        |r| r.gs_base = 0xffff_ffff_ffff_f000,
    ];
    for set in bad_values {
        let mut bad = regs;
        bad.rax = 0xbad;
        set(&mut bad);
        ensure_eq!(
            sys::thread_write_regs(slot, &bad),
            Err(SysError::InvalidArg)
        );
    }
    ensure_eq!(sys::thread_read_regs(slot), Ok(regs));
    // The decoder's slot check.
    let (status, _) = sys::raw_syscall(
        Syscall::ThreadReadRegs.number(),
        [1 << 32, &regs as *const ThreadRegs as u64, 0, 0, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));

    set_out(10, 1);
    ensure_eq!(sys::thread_resume(slot), Ok(()));
    ensure_eq!(join(spinner)?, 1);
    Ok(())
}
