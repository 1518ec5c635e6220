//! The fuzzer child: a program of its own (made by `crate::copy_spawn::spawn_copy`
//! from a copy of the runner's image) that sets up, starts the workers,
//! supervises them, takes down what they made, checks the fuzz budget is
//! empty again, and sends the report to the runner.
//!
//! Its main thread is the supervisor. It runs at the child's priority,
//! above the workers and their partners, and wakes every timer tick: a
//! worker that made no progress for [`RESCUE_TICKS`] inside a call that
//! may block gets its budget revoked (which destroys every object it made,
//! so whatever it waits on goes and it returns `PeerClosed`; a worker in
//! `FutexWait` waits on memory, not on an object, so it is woken by a wake
//! on its word instead); if the worker stays blocked, or no worker at all makes progress (say a
//! partner at a high priority spins), the whole fuzz budget is revoked.
//!
//! The child's own slots (below `layout::FIRST_RANDOM_SLOT`) are all
//! filled before the workers start and never emptied.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::raw::{self as sys, Message};
use crate::raw_thread::JoinHandle;
use abi::ipc::MessageInfo;
use abi::syscall::{BudgetInfoArgs, BudgetStatus, LendMode, Syscall};
use abi::{CapSlot, MapFlags, SysError};
use rt::process::OwnCaps;

use super::layout::{
    FIRST_RANDOM_SLOT, G_ASPACE, G_BUDGET, G_CONSOLE, G_CSPACE, G_GO, G_RESULTS, OWN_READ_ONLY,
    OWN_SCRATCH, OWN_SCRATCH_PAGES,
};
use super::report::{self, MAX_WORKERS, stat};
use super::worker::{self, IPC_PAGES};

/// Set once every worker may start.
pub static GO: AtomicU64 = AtomicU64::new(0);
/// Workers that have made all their calls.
pub static DONE: AtomicU64 = AtomicU64::new(0);
/// Per worker: set once it has made all its calls.
pub static FINISHED: [AtomicU64; MAX_WORKERS] = [const { AtomicU64::new(0) }; MAX_WORKERS];
/// Per worker: calls made so far.
pub static PROGRESS: [AtomicU64; MAX_WORKERS] = [const { AtomicU64::new(0) }; MAX_WORKERS];
/// Per worker: 1 while it is in a call that may block.
pub static BLOCKED: [AtomicU64; MAX_WORKERS] = [const { AtomicU64::new(0) }; MAX_WORKERS];
/// Per worker: set by a rescue (its objects are gone; it starts again).
pub static RESCUED: [AtomicU64; MAX_WORKERS] = [const { AtomicU64::new(0) }; MAX_WORKERS];
/// Per worker: the slot of its budget (for rescues).
pub static WORKER_BUDGET: [AtomicU32; MAX_WORKERS] = [const { AtomicU32::new(0) }; MAX_WORKERS];
/// Per worker: the slot of its alarm.
pub static WORKER_ALARM: [AtomicU32; MAX_WORKERS] = [const { AtomicU32::new(0) }; MAX_WORKERS];
/// The fuzz budget: every worker budget is split from it.
pub static FUZZ_BUDGET: AtomicU32 = AtomicU32::new(0);
/// The child's image, lent read-only: mapped in scratch address spaces.
pub static TEXT: AtomicU32 = AtomicU32::new(0);

/// Ticks a worker may sit in a blocking call without progress before
/// its budget is revoked.
const RESCUE_TICKS: u32 = 3;
/// Ticks of a blocked worker without progress before the whole fuzz
/// budget is revoked.
const RESCUE_ALL_TICKS: u32 = 12;
/// Ticks without progress of any worker before the whole fuzz budget
/// is revoked.
const STALL_TICKS: u32 = 6;
/// Ticks without progress of any worker after which the supervisor
/// gives up (a worker that died, or a kernel that stopped scheduling).
const GIVE_UP_TICKS: u32 = 3000;

/// Where the child starts.
pub extern "C" fn entry(_: u64) -> ! {
    // The runner fills the slots it could not grant and then says go.
    let _ = sys::wait(G_GO);
    rt::debug::set_console(G_CONSOLE);
    // Prints (and a panic message) go to the debug console, not through
    // the runner's `stdout`, whose client needs thread state the child's
    // threads lack.
    rt::debug::console_only();
    rt::process::set_own_caps(OwnCaps {
        budget: G_BUDGET,
        aspace: G_ASPACE,
        cspace: G_CSPACE,
    });
    let config = super::Config::load();
    let workers = (config.workers as usize).clamp(1, MAX_WORKERS);
    report::set_stat(stat::WORKERS, workers as u64);
    match setup(workers) {
        Ok((alarm, mut handles)) => {
            let start = sys::clock_read();
            supervise(alarm, workers);
            report::set_stat(stat::FUZZ_NS, sys::clock_read() - start);
            finish(&mut handles, workers);
        }
        Err((line, error)) => {
            rt::println!("sysfuzz: child setup failed at line {line}: {error:?}");
            report::set_stat(stat::SETUP_LINE, u64::from(line));
            report::set_stat(stat::SETUP_ERROR, error.code());
        }
    }
    let healthy = report::stat(stat::FUZZ_USED_AFTER) == 1
        && report::stat(stat::ANOMALIES) == 0
        && report::stat(stat::STUCK) == 0
        && (0..workers).all(|w| report::status(w)[..2] == [abi::syscall::exit_kind::EXITED, 0]);
    // A bisected run (stopped early) shows what led to where it stopped.
    if !healthy || config.stop != u64::MAX {
        super::recorder::print(config.dump as usize);
    }
    report::set_stat(stat::COMPLETE, 1);
    send_report();
    sys::thread_exit(0)
}

type Handles = [Option<JoinHandle>; MAX_WORKERS];

/// A setup step that must succeed.
#[track_caller]
fn must<T>(result: Result<T, SysError>) -> Result<T, (u32, SysError)> {
    let line = core::panic::Location::caller().line();
    result.map_err(|error| (line, error))
}

/// Checks that one of the child's own slots is out of reach of random calls.
#[track_caller]
fn own(slot: CapSlot) -> Result<CapSlot, (u32, SysError)> {
    if slot.0 >= FIRST_RANDOM_SLOT {
        return Err((
            core::panic::Location::caller().line(),
            SysError::OutOfMemory,
        ));
    }
    Ok(slot)
}

/// Makes the scratch areas, the lent image, the fuzz budget and the
/// workers (which wait for [`GO`]).
fn setup(workers: usize) -> Result<(CapSlot, Handles), (u32, SysError)> {
    let alarm = own(must(sys::notification_create(G_BUDGET))?)?;
    let read_write = MapFlags::READ | MapFlags::WRITE;
    let scratch = own(must(sys::memory_create(G_BUDGET, OWN_SCRATCH_PAGES))?)?;
    must(sys::aspace_map(
        G_ASPACE,
        scratch,
        0,
        OWN_SCRATCH,
        OWN_SCRATCH_PAGES,
        read_write,
    ))?;
    let read_only = own(must(sys::memory_create(G_BUDGET, 1))?)?;
    must(sys::aspace_map(
        G_ASPACE,
        read_only,
        0,
        OWN_READ_ONLY,
        1,
        MapFlags::READ,
    ))?;
    let (start, _, end) = crate::copy_spawn::image_bounds();
    let lend = abi::syscall::MemoryLendArgs {
        budget: G_BUDGET,
        aspace: G_ASPACE,
        addr: start,
        len: end - start,
        mode: LendMode::Lend,
    };
    let lent: abi::syscall::LendResult = must(sys::invoke(&lend))?;
    TEXT.store(own(CapSlot(lent.slot as u32))?.0, Ordering::Relaxed);
    let fuzz = abi::syscall::BudgetSplitArgs {
        budget: G_BUDGET,
        frames: super::FUZZ_FRAMES,
    };
    let fuzz: abi::syscall::SlotResult = must(sys::invoke(&fuzz))?;
    FUZZ_BUDGET.store(own(CapSlot(fuzz.slot as u32))?.0, Ordering::Relaxed);
    for alarm in WORKER_ALARM.iter().take(workers) {
        alarm.store(
            own(must(sys::notification_create(G_BUDGET))?)?.0,
            Ordering::Relaxed,
        );
    }
    let mut handles: Handles = [const { None }; MAX_WORKERS];
    for (index, handle) in handles.iter_mut().enumerate().take(workers) {
        let started = must(crate::raw_thread::spawn(worker::run, index as u64))?;
        let thread = own(started.slot())?;
        *handle = Some(started);
        must(sys::thread_set_priority(
            thread,
            super::WORKER_PRIORITY,
            super::WORKER_MAX_PRIORITY,
        ))?;
        must(sys::thread_configure(
            thread,
            IPC_PAGES[index].addr(),
            CapSlot::NULL,
        ))?;
        let alarm = CapSlot(WORKER_ALARM[index].load(Ordering::Relaxed));
        must(sys::thread_bind(thread, alarm))?;
    }
    GO.store(1, Ordering::Release);
    Ok((alarm, handles))
}

/// Sleeps a timer tick. (Deadlines are precise: one already past, such
/// as 1, fires at once, so the deadline is a tick ahead of now.)
fn tick(alarm: CapSlot) {
    if sys::timer_set(alarm, sys::clock_read() + super::TICK_NS, 1).is_ok() {
        let _ = sys::wait(alarm);
    } else {
        sys::thread_yield();
    }
}

/// Revokes worker `worker`'s budget, or the whole fuzz budget (`None`),
/// and tells the workers concerned.
fn rescue(worker: Option<usize>, workers: usize) {
    let slot = match worker {
        Some(worker) => {
            report::bump(stat::RESCUES, 1);
            let calls = PROGRESS[worker].load(Ordering::Relaxed);
            let blocked_in = report::remembered_number(worker, calls);
            if blocked_in == Syscall::FutexWait.number() {
                // Its deadline may lie far ahead on the clock (under
                // `-icount` the TSC hardly moves while the CPU idles).
                report::bump(stat::RESCUED_FUTEX, 1);
                let word = report::remembered_arg(worker, calls, 0);
                let _ = sys::futex_wake_raw(word, abi::syscall::FUTEX_ALL);
                return;
            }
            let which = match Syscall::from_number(blocked_in) {
                Some(Syscall::Send) => Some(stat::RESCUED_SEND),
                Some(Syscall::Call) => Some(stat::RESCUED_CALL),
                Some(Syscall::Recv | Syscall::ReplyRecv | Syscall::ReplySaveRecv) => {
                    Some(stat::RESCUED_RECV)
                }
                Some(Syscall::Wait) => Some(stat::RESCUED_WAIT),
                Some(Syscall::ThreadWait) => Some(stat::RESCUED_THREAD_WAIT),
                _ => None,
            };
            if let Some(which) = which {
                report::bump(which, 1);
            }
            RESCUED[worker].store(1, Ordering::Release);
            WORKER_BUDGET[worker].load(Ordering::Relaxed)
        }
        None => {
            report::bump(stat::RESCUES_ALL, 1);
            for flag in RESCUED.iter().take(workers) {
                flag.store(1, Ordering::Release);
            }
            FUZZ_BUDGET.load(Ordering::Relaxed)
        }
    };
    if slot != 0 {
        let _ = sys::cap_revoke(CapSlot(slot));
    }
}

/// Watches the workers until all are done, rescuing blocked ones.
fn supervise(alarm: CapSlot, workers: usize) {
    let mut last = [0u64; MAX_WORKERS];
    let mut stalled = [0u32; MAX_WORKERS];
    let (mut total_last, mut total_stalled) = (0u64, 0u32);
    while DONE.load(Ordering::Acquire) < workers as u64 {
        tick(alarm);
        let mut total = 0;
        for worker in 0..workers {
            let progress = PROGRESS[worker].load(Ordering::Relaxed);
            total += progress;
            if progress != last[worker] || FINISHED[worker].load(Ordering::Acquire) != 0 {
                last[worker] = progress;
                stalled[worker] = 0;
                continue;
            }
            stalled[worker] += 1;
            if BLOCKED[worker].load(Ordering::Acquire) == 0 {
                continue;
            }
            if stalled[worker] == RESCUE_TICKS {
                rescue(Some(worker), workers);
            } else if stalled[worker] % RESCUE_ALL_TICKS == 0 {
                rescue(None, workers);
            }
        }
        if total != total_last {
            total_last = total;
            total_stalled = 0;
            continue;
        }
        total_stalled += 1;
        if total_stalled % STALL_TICKS == 0 {
            rescue(None, workers);
        }
        if total_stalled >= GIVE_UP_TICKS {
            rt::println!("sysfuzz: no worker made progress for {GIVE_UP_TICKS} ticks; giving up");
            for worker in 0..workers {
                rt::println!(
                    "sysfuzz:   worker {worker}: {} calls, finished {}, in a blocking call {}",
                    PROGRESS[worker].load(Ordering::Relaxed),
                    FINISHED[worker].load(Ordering::Relaxed),
                    BLOCKED[worker].load(Ordering::Relaxed)
                );
            }
            report::set_stat(stat::STUCK, 1);
            return;
        }
    }
}

/// Joins the workers, revokes the fuzz budget and checks it is empty.
fn finish(handles: &mut Handles, workers: usize) {
    for (index, handle) in handles.iter_mut().enumerate().take(workers) {
        let calls = PROGRESS[index].load(Ordering::Relaxed);
        let Some(handle) = handle.take() else {
            continue;
        };
        if FINISHED[index].load(Ordering::Acquire) == 0 && report::stat(stat::STUCK) != 0 {
            // It may be blocked for good: a join would wait forever.
            let _ = sys::cap_delete(handle.slot());
            report::set_status(index, [0, u64::MAX, 0, 0, calls]);
            continue;
        }
        match handle.join() {
            Ok(status) => {
                report::set_status(
                    index,
                    [status.kind, status.code, status.rip, status.addr, calls],
                );
            }
            Err(error) => report::set_status(index, [0, error.code(), 0, 0, calls]),
        }
    }
    let fuzz = CapSlot(FUZZ_BUDGET.load(Ordering::Relaxed));
    let _ = sys::cap_revoke(fuzz);
    if let Ok(info) = sys::invoke::<_, BudgetStatus>(&BudgetInfoArgs { budget: fuzz }) {
        report::set_stat(stat::FUZZ_USED_AFTER, info.used + 1);
        report::set_stat(stat::FUZZ_LIMIT, info.limit);
    }
}

/// Sends the report, four words a message (the label is the offset).
fn send_report() {
    for offset in (0..report::WORDS).step_by(4) {
        let words: [u64; 4] = core::array::from_fn(|i| report::word(offset + i));
        let message = Message {
            info: MessageInfo::new(offset as u64, 4, 0),
            words,
        };
        if sys::call(G_RESULTS, &message).is_err() {
            return;
        }
    }
}
