//! A fuzzer worker thread: from its own generator ([`Rng`], seeded from
//! the run's seed and its index) it makes random syscalls with arguments
//! of the kinds `abi`'s table gives, and now and then runs a script
//! (`script/`), until it has made its share of the run's calls.
//!
//! Every syscall goes through [`Worker::raw`], which counts it (per
//! number and result, in the report), remembers it (the last few, for a
//! reproduction) and prints it first when the run traces.
//!
//! What a worker never does, and why (each would stop the fuzzer, not
//! test the kernel):
//! - `ThreadExit`: the worker would end. (Partner threads exercise it.)
//! - `ThreadExec` that succeeds: the worker would leave its address
//!   space. Its arguments always carry an entry or stack outside user
//!   space, so only the checks run. Partner threads exec for real; the
//!   `exec` script waits for its partner and counts the partner's
//!   `ThreadExec` (and `ThreadExit`) in the table from how it ended.
//! - `IrqCreate` that succeeds: the child never holds the IRQ control
//!   (one would let it take lines with devices behind them), and there is
//!   no other way to make an `Irq`. The runner makes one line for it
//!   (`layout::G_IRQ`), which `IrqBind` and `IrqAck` work on.
//! - Name its own thread, address space or capability space, or any of
//!   the child's own slots: random slot arguments come from the pool or
//!   lie at or above `layout::FIRST_RANDOM_SLOT`, so no random
//!   `ThreadSuspend`, `AspaceUnmap` or `CapDelete` hits the fuzzer.
//! - Block with nobody to wake it. A call that could wait on a live
//!   object (`Send`, `Call`, `Recv`, `ReplyRecv`, `Wait`, `ThreadWait`)
//!   is made only [`BLOCK_PERCENT`] of the time (else with an invalid
//!   slot, so it fails at once). A `FutexWait` always gets a deadline at
//!   most `args::NEAR_NS` away, and half the time the value its word
//!   holds, so that it really waits; a revoke cannot reach a futex waiter
//!   (it waits on memory, not on an object), so if it still waits after a
//!   few ticks (under `-icount` the clock hardly moves while the CPU
//!   idles), the supervisor wakes its word. A receive arms the worker's alarm, a
//!   notification bound to it whose timer ends the receive at the next
//!   tick; `Wait` first arms the timer of the notification it waits on;
//!   `Send`, `Call` and `ThreadWait` often find a partner thread that
//!   answers or ends. Whatever still blocks, the supervisor rescues by
//!   revoking the worker's budget, which destroys every object it made
//!   (it then starts again from a fresh pool).
//!
//! `DebugExit` and `DebugWrite` are made like any other call: the child
//! holds the debug object only with READ, so they stop at the rights check.
//! `report::NEVER_OK` lists the syscalls that cannot succeed here by design.
//!
//! This file holds the worker's state and [`run`], and the one way every
//! call is made ([`Worker::raw`] and its wrappers) and what it learns goes
//! into the pool ([`Worker::learn`]). What a step does is in `step.rs`
//! (the choice among reply, saved answer, script, unknown number and
//! random call, and how a drawn call is fixed up and issued), what it
//! learns from a result in `observe.rs`, and its periodic reset in
//! `reset.rs`.

mod observe;
mod reset;
mod step;

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw as sys;
use abi::syscall::{CapDeleteArgs, Syscall, SyscallArgs};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::args::Context;
use super::child;
use super::layout::CSPACE_SLOTS;
use super::pool::{Pool, State};
use super::recorder;
use super::report::{self, CALL_WORDS, MAX_WORKERS, stat};
use super::rng::Rng;

/// Percent of steps that run a script instead of one random call.
const SCRIPT_PERCENT: u64 = 3;
/// Percent of steps that answer through a saved reply, when the pool
/// holds one (callers wait on it meanwhile).
const SAVED_ANSWER_PERCENT: u64 = 20;
/// Percent of calls that go to an unknown syscall number.
const UNKNOWN_PERCENT: u64 = 2;
/// Percent of calls that may block (`Send`, `Call`, `Recv`, `ReplyRecv`,
/// `Wait`, `ThreadWait` on an object that may be live) that are made as
/// drawn; the rest get an invalid slot instead, and fail at once. Waiting
/// takes up to a timer tick (a receive's alarm) or a rescue, while the CPU
/// may have nothing else to do.
const BLOCK_PERCENT: u64 = 10;
/// Percent of `CapCopyMany` calls whose entries the worker writes (from
/// the pool) rather than leaving the drawn address as it is.
const COPY_MANY_BUILT_PERCENT: u64 = 70;

/// A worker resets every this many calls, give or take half.
const RESET_EVERY: u64 = 2000;
/// Endpoints with an echo partner (and address spaces with the image) a
/// worker remembers.
pub const SERVED: usize = 8;
/// The alarm's bit.
const ALARM_BIT: u64 = 1 << 63;

/// Syscall numbers the kernel does not know.
const UNKNOWN_NUMBERS: [u64; 10] = [
    Syscall::NUMBER_LIMIT,
    Syscall::NUMBER_LIMIT + 1,
    15,
    31,
    255,
    256,
    1 << 16,
    1 << 32,
    u64::MAX - 1,
    u64::MAX,
];

/// A page the kernel reads and writes behind the program's back (an IPC
/// buffer), so every access is atomic. Message word `i` is at index `i`,
/// capability slot `j` at index `64 + j`; `CapInfo` answers go at
/// [`INFO_INDEX`], past the IPC buffer.
#[repr(C, align(4096))]
pub struct Page([AtomicU64; 512]);

/// Where a worker has `CapInfo` write what it wants to read back.
const INFO_INDEX: usize = 256;

impl Page {
    /// Its address.
    pub fn addr(&self) -> u64 {
        self as *const Page as u64
    }

    pub(super) fn word(&self, index: usize) -> u64 {
        self.0[index].load(Ordering::SeqCst)
    }

    pub(super) fn set_word(&self, index: usize, value: u64) {
        self.0[index].store(value, Ordering::SeqCst);
    }
}

/// Each worker's IPC buffer page.
pub static IPC_PAGES: [Page; MAX_WORKERS] =
    [const { Page([const { AtomicU64::new(0) }; 512]) }; MAX_WORKERS];

/// Which counter a call adds to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// A random single call.
    Random,
    /// A script step.
    Script,
    /// Upkeep: resets, guards, pool room.
    Upkeep,
}

/// The worker's own slots: not in the pool (random calls may still hit
/// them through a reused slot number; the worker checks and remakes them).
pub struct Infra {
    /// Its budget, split from the fuzz budget: everything it makes
    /// derives from it, so revoking it resets the worker.
    pub budget: u64,
    /// Its copy of the read-only debug capability (the pool's derive from it).
    pub debug: u64,
    /// Its copy of the lent image (the pool's derive from it).
    pub text: u64,
    /// Its alarm (bound to it, made by the supervisor).
    pub alarm: u64,
    /// Its copy of the fuzzer's I/O port range (the pool's derive from it).
    pub ports: u64,
    /// Its copy of the fuzzer's interrupt line (the pool's derive from it).
    pub irq: u64,
    /// Its copy of the device-memory capability (the pool's derive from it).
    pub device: u64,
}

/// A worker.
pub struct Worker {
    /// Its index.
    pub index: usize,
    /// Its generator.
    pub rng: Rng,
    /// What it knows of its slots.
    pub pool: Pool,
    /// Syscalls made.
    pub calls: u64,
    /// Syscalls to make.
    quota: u64,
    /// What the current calls count as.
    pub tag: Tag,
    trace: bool,
    /// It received a call and holds the reply right.
    holding_reply: bool,
    /// The endpoint of the last call it received (a receive there has
    /// `READ`: what a `ReplySaveRecv` of that right mostly names).
    call_endpoint: u64,
    /// Endpoints it gave an echo partner (the last few).
    pub served: [u64; SERVED],
    /// Address spaces it mapped the image in (the last few).
    pub prepared: [u64; SERVED],
    /// What arguments draw on.
    pub cx: Context,
    /// Its own slots.
    pub infra: Infra,
    /// Frames of its budget.
    budget_frames: u64,
    /// It is the only worker (so what it made is used by nothing else).
    alone: bool,
    /// Scripts may give partners a fault endpoint.
    pub fault_endpoints: bool,
    next_reset: u64,
}

/// Thread body: worker `index`. Returns 0.
pub fn run(index: u64) -> u64 {
    while child::GO.load(Ordering::Acquire) == 0 {
        sys::thread_yield();
    }
    let config = super::Config::load();
    let workers = config.workers.max(1);
    let index = index as usize;
    let mut quota = config.count / workers;
    if index == 0 {
        quota += config.count % workers;
    }
    let (start, _, end) = crate::copy_spawn::image_bounds();
    let mut worker = Worker {
        index,
        rng: Rng::new(config.seed, index as u64),
        pool: Pool::new(),
        calls: 0,
        quota,
        tag: Tag::Upkeep,
        trace: config.trace,
        holding_reply: false,
        call_endpoint: 0,
        served: [0; SERVED],
        prepared: [0; SERVED],
        cx: Context {
            now: 0,
            partner_entry: super::partner::entry as extern "C" fn(u64) -> ! as usize as u64,
            image_pages: (end - start) / abi::layout::PAGE_BYTES,
        },
        infra: Infra {
            budget: 0,
            debug: 0,
            text: 0,
            alarm: u64::from(child::WORKER_ALARM[index].load(Ordering::Relaxed)),
            ports: 0,
            irq: 0,
            device: 0,
        },
        budget_frames: super::FUZZ_FRAMES / workers - 1,
        alone: workers == 1,
        fault_endpoints: config.fault_endpoints,
        next_reset: 0,
    };
    while worker.calls < worker.quota && recorder::count() < config.stop {
        let rescued = child::RESCUED[index].swap(0, Ordering::AcqRel) != 0;
        if rescued || worker.calls >= worker.next_reset {
            worker.reset();
        }
        worker.step();
    }
    child::FINISHED[index].store(1, Ordering::Release);
    child::DONE.fetch_add(1, Ordering::AcqRel);
    0
}

impl Worker {
    /// Makes syscall `number`, counting and remembering it.
    pub fn raw(&mut self, number: u64, args: [u64; 6]) -> (u64, [u64; 6]) {
        if self.trace {
            rt::println!(
                "sysfuzz w{} #{} {} [{}]({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x})",
                self.index,
                self.calls,
                report::name(number),
                number,
                args[0],
                args[1],
                args[2],
                args[3],
                args[4],
                args[5]
            );
        }
        let [a0, a1, a2, a3, a4, a5] = args;
        // Remembered before it is made, so a call that never returns shows.
        let mut call = [number, a0, a1, a2, a3, a4, a5, report::PENDING];
        report::remember(self.index, self.calls, call);
        let record = recorder::start(self.index, &call);
        let (status, results) = sys::raw_syscall(number, args);
        recorder::finish(record, status);
        if self.trace {
            rt::println!(
                "sysfuzz w{} #{} -> {}",
                self.index,
                self.calls,
                report::Status(status)
            );
        }
        report::record(number, status);
        call[CALL_WORDS - 1] = status;
        report::remember(self.index, self.calls, call);
        report::bump(
            match self.tag {
                Tag::Random => stat::RANDOM_CALLS,
                Tag::Script => stat::SCRIPT_CALLS,
                Tag::Upkeep => stat::INFRA_CALLS,
            },
            1,
        );
        self.calls += 1;
        child::PROGRESS[self.index].store(self.calls, Ordering::Relaxed);
        (status, results)
    }

    /// [`Worker::raw`] for a call that may block: the supervisor watches it.
    pub fn blocking(&mut self, number: u64, args: [u64; 6]) -> (u64, [u64; 6]) {
        report::bump(stat::BLOCKING, 1);
        child::BLOCKED[self.index].store(1, Ordering::Release);
        let result = self.raw(number, args);
        child::BLOCKED[self.index].store(0, Ordering::Release);
        result
    }

    /// Makes the syscall `args` describes.
    pub fn call<A: SyscallArgs>(&mut self, args: &A) -> Result<[u64; 6], SysError> {
        let (status, results) = self.raw(A::SYSCALL.number(), args.encode());
        match status {
            0 => Ok(results),
            code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
        }
    }

    /// Records an anomaly: the last call broke the rule at `line`.
    pub fn anomaly(&mut self, line: u32, number: u64, args: [u64; 6], status: u64) {
        let [a0, a1, a2, a3, a4, a5] = args;
        let call: [u64; CALL_WORDS] = [number, a0, a1, a2, a3, a4, a5, status];
        rt::println!(
            "sysfuzz: worker {} anomaly (line {}): {}",
            self.index,
            line,
            report::Call(call)
        );
        report::anomaly(self.index, line, call);
    }

    /// Makes room in the pool: drops an entry, deleting its capability
    /// if it is believed live.
    fn room(&mut self) {
        while self.pool.is_full() {
            let index = self.pool.victim(&mut self.rng);
            let entry = self.pool.get(index);
            self.pool.remove(index);
            report::bump(stat::EVICTIONS, 1);
            if entry.state == State::Live {
                let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
                let _ = self.call(&CapDeleteArgs {
                    slot: CapSlot(entry.slot),
                });
                self.tag = tag;
                self.pool.deleted(u64::from(entry.slot));
            }
        }
    }

    /// Adds what a syscall put in `slot` of the child's space to the pool.
    pub fn learn(
        &mut self,
        slot: u64,
        kind: Option<ObjectType>,
        rights: Option<Rights>,
        parent: u64,
    ) {
        if slot == 0 || slot >= u64::from(CSPACE_SLOTS) {
            return;
        }
        if self.pool.find(slot).is_none() {
            self.room();
        }
        self.pool.add(slot as u32, kind, rights, parent as u32);
    }
}
