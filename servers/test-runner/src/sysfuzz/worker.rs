//! A fuzzer worker thread: from its own generator ([`Rng`], seeded from
//! the run's seed and its index) it makes random syscalls with arguments
//! of the kinds `abi`'s table gives, and now and then runs a script
//! (`script.rs`), until it has made its share of the run's calls.
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

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw as sys;
use abi::ipc::{
    IPC_BUFFER_CAPS_OFFSET, IPC_BUFFER_DEADLINE_WORD, IPC_BUFFER_PIECE_COUNT_OFFSET,
    IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_WINDOW_OFFSET, MSG_MAX_PIECES, MessageInfo,
};
use abi::layout::USER_END;
use abi::syscall::{
    BudgetInfoArgs, BudgetSplitArgs, CapCopyArgs, CapDeleteArgs, CapInfoArgs, CapRevokeArgs,
    ClockReadArgs, LendMode, MemoryLendArgs, PollArgs, Syscall, SyscallArgs, TimerSetArgs,
};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::args::{self, Context};
use super::child;
use super::copy_many;
use super::layout::{
    CSPACE_SLOTS, G_ASPACE, G_DEBUG, G_DEVICE, G_IO_PORTS, G_IRQ, OWN_SCRATCH, OWN_SCRATCH_PAGES,
};
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

    /// One step: a reply when holding a reply right (often; sometimes
    /// saved instead, as a Reply capability), an answer through a saved
    /// reply the pool holds (now and then), a script (rarely), else a
    /// random call.
    fn step(&mut self) {
        if self.holding_reply && self.rng.chance(50) {
            let call = match self.rng.below(100) {
                0..50 => Syscall::Reply,
                50..70 => Syscall::ReplyRecv,
                70..90 => Syscall::ReplySaveRecv,
                _ => Syscall::ReplySave,
            };
            if call == Syscall::ReplySaveRecv && self.rng.chance(50) {
                // Saved, then a receive where the call came from (the
                // alarm ends it).
                self.tag = Tag::Random;
                let mut args = args::generate(&mut self.rng, &self.pool, &self.cx, call);
                args[0] = self.call_endpoint;
                self.issue(call, args, true);
                return;
            }
            self.random_call(Some(call));
        } else if self.rng.chance(SAVED_ANSWER_PERCENT)
            && let Some(entry) =
                self.pool
                    .live_with(&mut self.rng, ObjectType::Reply, Rights::empty())
        {
            // Random arguments, mostly through that capability.
            self.tag = Tag::Random;
            let mut args = args::generate(&mut self.rng, &self.pool, &self.cx, Syscall::ReplyWith);
            if self.rng.chance(80) {
                args[0] = u64::from(entry.slot);
            }
            self.issue(Syscall::ReplyWith, args, true);
        } else if self.rng.chance(SCRIPT_PERCENT) {
            self.tag = Tag::Script;
            report::bump(stat::SCRIPTS, 1);
            self.script();
        } else if self.rng.chance(UNKNOWN_PERCENT) {
            self.tag = Tag::Random;
            let number = self.rng.pick(&UNKNOWN_NUMBERS);
            let args = args::unknown(&mut self.rng);
            self.raw(number, args);
        } else {
            self.random_call(None);
        }
    }

    /// Whether a call on `slot` might block, for an object of `kind`.
    fn might_block(&self, slot: u64, kind: ObjectType) -> bool {
        if slot == 0 || slot >= u64::from(CSPACE_SLOTS) {
            return false;
        }
        match self.pool.find(slot) {
            Some(entry) => entry.state == State::Live && entry.kind.is_none_or(|k| k == kind),
            None => true,
        }
    }

    /// One random call of `call` (or of a random known number).
    pub fn random_call(&mut self, call: Option<Syscall>) {
        self.tag = Tag::Random;
        let call = call.unwrap_or_else(|| {
            loop {
                let pick = Syscall::ALL[self.rng.below(Syscall::ALL.len() as u64) as usize];
                if pick != Syscall::ThreadExit {
                    break pick;
                }
            }
        });
        let args = args::generate(&mut self.rng, &self.pool, &self.cx, call);
        self.issue(call, args, true);
    }

    /// Makes `call` with `args` and learns from the result. `guarded`: a
    /// call that may block on a live object is usually given an invalid
    /// slot instead (see [`BLOCK_PERCENT`]); unguarded, only the
    /// receive's alarm bounds it (scripts that know a partner answers).
    pub fn issue(&mut self, call: Syscall, mut args: [u64; 6], guarded: bool) {
        let guarded = guarded
            && !(matches!(call, Syscall::ReplyRecv | Syscall::ReplySaveRecv) && self.holding_reply);
        let mut alarm = false;
        let kind = match call {
            Syscall::Recv
            | Syscall::ReplyRecv
            | Syscall::ReplySaveRecv
            | Syscall::Send
            | Syscall::Call => Some(ObjectType::Endpoint),
            Syscall::Wait => Some(ObjectType::Notification),
            Syscall::ThreadWait => Some(ObjectType::Thread),
            _ => None,
        };
        let live = kind.is_some_and(|kind| self.might_block(args[0], kind));
        // Guarded, most calls that could wait get a slot that fails at once.
        let spoil = live && guarded && !self.rng.chance(BLOCK_PERCENT);
        match call {
            Syscall::ThreadExec => self.spoil_exec(&mut args),
            _ if spoil => args[0] = args::invalid_slot(&mut self.rng),
            // The worker's alarm ends the receive at the next tick.
            Syscall::Recv | Syscall::ReplyRecv | Syscall::ReplySaveRecv => alarm = live,
            Syscall::Wait if live => {
                // Its own timer ends the wait at the next tick.
                self.tag = Tag::Upkeep;
                let deadline = self.tick_ahead();
                let armed = self.call(&TimerSetArgs {
                    notification: CapSlot(args[0] as u32),
                    deadline,
                    bits: 1,
                });
                self.tag = Tag::Random;
                if armed.is_err() {
                    args[0] = args::invalid_slot(&mut self.rng);
                }
            }
            _ => {}
        }
        if matches!(
            call,
            Syscall::Send
                | Syscall::NbSend
                | Syscall::Call
                | Syscall::Reply
                | Syscall::ReplyRecv
                | Syscall::ReplyWith
        ) {
            self.fill_buffer(args[1]);
        }
        if args::is_futex(call) {
            self.futex_args(call, &mut args);
        }
        if call == Syscall::CapCopyMany && self.rng.chance(COPY_MANY_BUILT_PERCENT) {
            let page = &IPC_PAGES[self.index];
            (args[1], args[2]) = copy_many::write_entries(&mut self.rng, &self.pool, page, args[0]);
        }
        if alarm {
            self.alarm(true);
        }
        // What may still block after the guards above (an invalid slot fails).
        let blocks = (matches!(
            call,
            Syscall::Send
                | Syscall::Call
                | Syscall::Recv
                | Syscall::ReplyRecv
                | Syscall::ReplySaveRecv
                | Syscall::Wait
                | Syscall::ThreadWait
        ) && args[0] != 0
            && args[0] < u64::from(CSPACE_SLOTS))
            || call == Syscall::FutexWait;
        let (status, results) = if blocks {
            self.blocking(call.number(), args)
        } else {
            self.raw(call.number(), args)
        };
        if alarm {
            self.alarm(false);
        }
        self.observe(call, &args, status, &results);
    }

    /// Learns the copies a `CapCopyMany` made in the worker's own space.
    fn copied_many(&mut self, args: &[u64; 6], copied: u64) {
        let page = &IPC_PAGES[self.index];
        for (dst, src, wanted) in copy_many::copies(page, args, copied) {
            let source = self.pool.find(src);
            let rights = Some(source.and_then(|s| s.rights).map_or(wanted, |s| s & wanted));
            self.learn(dst, source.and_then(|s| s.kind), rights, src);
        }
    }

    /// Makes a futex call's arguments bite: half the time the value its
    /// word holds (when the worker can read it: the scratch buffer), and a
    /// `FutexWait` always a deadline no further than `args::NEAR_NS`.
    fn futex_args(&mut self, call: Syscall, args: &mut [u64; 6]) {
        let expected = match call {
            Syscall::FutexWait => 1,
            Syscall::FutexRequeue => 4,
            _ => return,
        };
        // Mostly a value that fits the 32-bit word (wider ones stop at the
        // decoder with `InvalidArg`).
        if self.rng.chance(80) {
            args[expected] &= u64::from(u32::MAX);
        }
        let scratch = OWN_SCRATCH..OWN_SCRATCH + OWN_SCRATCH_PAGES * abi::layout::PAGE_BYTES;
        if scratch.contains(&args[0]) && args[0].is_multiple_of(4) && self.rng.chance(50) {
            args[expected] = u64::from(crate::cpu::word_at(args[0]).load(Ordering::SeqCst));
        }
        if call == Syscall::FutexWait {
            let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
            if let Ok(results) = self.call(&ClockReadArgs {}) {
                self.cx.now = results[0];
            }
            self.tag = tag;
            let latest = self.cx.now + args::NEAR_NS;
            if args[2] == 0 || args[2] > latest {
                args[2] = self.cx.now + 1 + self.rng.below(args::NEAR_NS);
            }
        }
    }

    /// A deadline a timer tick from now (read as upkeep). Deadlines are
    /// precise: one already past fires at once.
    fn tick_ahead(&mut self) -> u64 {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        if let Ok(results) = self.call(&ClockReadArgs {}) {
            self.cx.now = results[0];
        }
        self.tag = tag;
        self.cx.now + super::TICK_NS
    }

    /// Arms (`on`) or disarms and drains the worker's alarm.
    fn alarm(&mut self, on: bool) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let notification = CapSlot(self.infra.alarm as u32);
        if on {
            let deadline = self.tick_ahead();
            let _ = self.call(&TimerSetArgs {
                notification,
                deadline,
                bits: ALARM_BIT,
            });
        } else {
            let _ = self.call(&TimerSetArgs {
                notification,
                deadline: 0,
                bits: 0,
            });
            let _ = self.call(&PollArgs { notification });
        }
        self.tag = tag;
    }

    /// Makes `ThreadExec` arguments fail their check: an entry or a stack
    /// outside user space.
    fn spoil_exec(&mut self, args: &mut [u64; 6]) {
        // Entries must lie in USER_START..USER_END, stacks in
        // USER_START..=USER_END.
        let outside = [
            0,
            0xfff,
            USER_END + 8,
            0x0000_8000_0000_0000,
            0xffff_8000_0000_0000,
            u64::MAX,
        ];
        if self.rng.chance(50) {
            args[1] = self.rng.pick(&[USER_END, USER_END + 1]);
        } else {
            args[2] = self.rng.pick(&outside);
        }
        if self.rng.chance(30) {
            args[1] = self.rng.pick(&outside);
        }
    }

    /// Puts capabilities (and some words, and a deadline) to send in the
    /// IPC buffer.
    fn fill_buffer(&mut self, info: u64) {
        let page = &IPC_PAGES[self.index];
        let deadline = args::deadline(&mut self.rng, &self.cx);
        page.set_word(IPC_BUFFER_DEADLINE_WORD, deadline);
        let caps = MessageInfo::from_received(info).caps().min(3);
        for index in 0..caps {
            let slot = args::cap_to_send(&mut self.rng, &self.pool);
            page.set_word(IPC_BUFFER_CAPS_OFFSET / 8 + index, slot);
        }
        if self.rng.chance(30) {
            for index in 4..8 {
                page.set_word(index, self.rng.next());
            }
        }
        // The bytes of a message (docs/ipc.md, "Bytes"): pieces of any
        // address (the kernel only reads them), sometimes too many or too
        // long; and the window this worker takes bytes in when it
        // receives: none, or at most 256 bytes where `args::address` lets
        // the kernel write in this space (its scratch buffer; else
        // addresses the kernel must refuse).
        if MessageInfo::from_received(info).has_bytes() || self.rng.chance(10) {
            let count = self.rng.below(MSG_MAX_PIECES as u64 + 2);
            page.set_word(IPC_BUFFER_PIECE_COUNT_OFFSET / 8, count);
            for index in 0..count.min(MSG_MAX_PIECES as u64) as usize {
                let addr = args::address(&mut self.rng, &self.cx, false);
                let len = match self.rng.below(10) {
                    0 => 0,
                    1..5 => self.rng.below(512),
                    5..8 => self.rng.below(5000),
                    8 => self.rng.below(70_000),
                    _ => u64::MAX - self.rng.below(100),
                };
                page.set_word(IPC_BUFFER_PIECES_OFFSET / 8 + 2 * index, addr);
                page.set_word(IPC_BUFFER_PIECES_OFFSET / 8 + 2 * index + 1, len);
            }
        }
        if self.rng.chance(20) {
            let (addr, len) = match self.rng.below(3) {
                0 => (0, 0),
                _ => (
                    args::address(&mut self.rng, &self.cx, true),
                    self.rng.below(257),
                ),
            };
            page.set_word(IPC_BUFFER_WINDOW_OFFSET / 8, addr);
            page.set_word(IPC_BUFFER_WINDOW_OFFSET / 8 + 1, len);
        }
    }

    /// Learns from a call's result.
    fn observe(&mut self, call: Syscall, args: &[u64; 6], status: u64, results: &[u64; 6]) {
        use Syscall as S;
        if status != 0 {
            // A saved reply whose caller has gone is used up all the same.
            if call == S::ReplyWith && status == SysError::PeerClosed.code() {
                self.pool.deleted(args[0]);
            }
            if call == S::ReplySave && status == SysError::PeerClosed.code() {
                self.holding_reply = false;
            }
            // The receive's errors come after the save: the reply is in
            // the named slot.
            if call == S::ReplySaveRecv
                && [
                    SysError::TimedOut,
                    SysError::PeerClosed,
                    SysError::BadAddress,
                ]
                .iter()
                .any(|error| error.code() == status)
            {
                self.holding_reply = false;
                self.learn(args[1], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
            }
            if status == SysError::InvalidCap.code()
                && matches!(call, S::CapDelete | S::CapRevoke | S::CapInfo)
                && self
                    .pool
                    .find(args[0])
                    .is_some_and(|e| e.state == State::Live)
            {
                self.pool.deleted(args[0]);
            }
            return;
        }
        let created = match call {
            S::ThreadCreate => Some(ObjectType::Thread),
            S::CSpaceCreate => Some(ObjectType::CSpace),
            S::EndpointCreate => Some(ObjectType::Endpoint),
            S::NotificationCreate => Some(ObjectType::Notification),
            S::AspaceCreate | S::AspaceClone => Some(ObjectType::AddressSpace),
            S::MemoryCreate | S::MemoryCreateDevice => Some(ObjectType::MemoryObject),
            S::BudgetSplit => Some(ObjectType::Budget),
            S::IoPortsCreate => Some(ObjectType::IoPorts),
            S::IrqCreate => Some(ObjectType::Irq),
            _ => None,
        };
        if call == S::MemoryCreateDevice {
            self.forget_device(results[0]);
            return;
        }
        if let Some(kind) = created {
            self.learn(results[0], Some(kind), Some(Rights::all()), args[0]);
            return;
        }
        match call {
            S::MemoryLend => self.learn(
                results[0],
                Some(ObjectType::MemoryObject),
                Some(Rights::READ | Rights::GRANT),
                args[0],
            ),
            S::CapCopy | S::CapMint => {
                let space = if call == S::CapCopy { args[2] } else { args[3] };
                if space == 0 {
                    let source = self.pool.find(args[0]);
                    let rights = Rights::from_bits(args[1] as u32)
                        .map(|r| source.and_then(|s| s.rights).map_or(r, |s| s & r));
                    self.learn(results[0], source.and_then(|s| s.kind), rights, args[0]);
                }
            }
            S::CapMove => {
                let to = if args[1] == 0 { results[0] } else { 0 };
                self.pool.moved(args[0], to);
            }
            S::CapDelete => self.pool.deleted(args[0]),
            S::CapRevoke => self.pool.revoked(args[0]),
            S::CapDetach => self.pool.detached(args[0], args[1]),
            S::CapDeleteRange => self.pool.deleted_range(args[0], args[1]),
            S::CapCopyMany => self.copied_many(args, results[0]),
            S::ClockRead => self.cx.now = results[0],
            S::Reply => self.holding_reply = false,
            S::ReplySave => {
                self.holding_reply = false;
                self.learn(results[0], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
            }
            S::ReplyWith => self.pool.deleted(args[0]),
            S::ReplySaveRecv => {
                self.holding_reply = false;
                self.learn(args[1], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
                self.received(call, args[0], results);
            }
            S::Recv | S::NbRecv | S::ReplyRecv | S::Call => {
                if call == S::ReplyRecv {
                    self.holding_reply = false;
                }
                self.received(call, args[0], results);
            }
            _ => {}
        }
    }

    /// Deletes a device-memory object just made, so that it never joins
    /// the pool. The kernel copies IPC messages through its direct map of
    /// RAM, which has no device pages: a device page mapped where a thread
    /// has its IPC buffer (a random `AspaceMap` of a pool object at a
    /// partner's IPC address, say) panics it on the next message (a kernel
    /// bug, reported; `ipc::transfer`). Until it is fixed, device memory
    /// is mapped only by the `window` script, in the worker's own window,
    /// and unmapped and deleted there.
    pub fn forget_device(&mut self, slot: u64) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let _ = self.call(&CapDeleteArgs {
            slot: CapSlot(slot as u32),
        });
        self.pool.deleted(slot);
        self.tag = tag;
    }

    /// Learns from a received message: a reply right, capabilities.
    fn received(&mut self, call: Syscall, endpoint: u64, results: &[u64; 6]) {
        let info = MessageInfo::from_received(results[1]);
        if info.is_notification() {
            return;
        }
        if info.is_fault() {
            report::bump(stat::FAULT_MESSAGES, 1);
        }
        if call != Syscall::Call && info.is_call() {
            self.holding_reply = true;
            self.call_endpoint = endpoint;
        }
        let caps = info.caps().min(3);
        report::bump(stat::CAPS_RECEIVED, caps as u64);
        for index in 0..caps {
            let slot = IPC_PAGES[self.index].word(IPC_BUFFER_CAPS_OFFSET / 8 + index);
            let (kind, rights) = self.describe(slot);
            self.learn(slot, kind, rights, 0);
        }
    }

    /// What `slot` holds, asked of the kernel (`CapInfo` into the IPC page).
    pub fn describe(&mut self, slot: u64) -> (Option<ObjectType>, Option<Rights>) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let page = &IPC_PAGES[self.index];
        let out = page.addr() + (INFO_INDEX * 8) as u64;
        let result = self.call(&CapInfoArgs {
            slot: CapSlot(slot as u32),
            out,
        });
        self.tag = tag;
        if slot > u64::from(u32::MAX) || result.is_err() {
            return (None, None);
        }
        let word = page.word(INFO_INDEX);
        let kind = ObjectType::from_reg(word & 0xffff_ffff).ok();
        let rights = Rights::from_bits((word >> 32) as u32);
        (kind, rights)
    }

    /// Revokes everything the worker made and starts again from a fresh
    /// pool: its budget, debug and image capabilities (remade if they are
    /// gone), and one copy of each in the pool.
    pub fn reset(&mut self) {
        self.tag = Tag::Upkeep;
        report::bump(stat::RESETS, 1);
        let infra = &self.infra;
        let revoked = [
            infra.budget,
            infra.debug,
            infra.text,
            infra.ports,
            infra.irq,
            infra.device,
        ];
        for slot in revoked {
            if slot != 0 {
                let _ = self.call(&CapRevokeArgs {
                    slot: CapSlot(slot as u32),
                });
            }
        }
        // Saved replies derive from nothing the revokes reach: delete them
        // (their callers get PeerClosed, or are gone), or their slots
        // would stay full once the pool forgets them.
        let mut saved = [0u32; super::pool::CAPACITY];
        let mut count = 0;
        for entry in self.pool.entries() {
            if entry.kind == Some(ObjectType::Reply) && entry.state == State::Live {
                saved[count] = entry.slot;
                count += 1;
            }
        }
        for &slot in &saved[..count] {
            let _ = self.call(&CapDeleteArgs {
                slot: CapSlot(slot),
            });
        }
        self.pool.clear();
        self.holding_reply = false;
        self.served = [0; SERVED];
        self.prepared = [0; SERVED];
        if self.alone && self.infra.budget != 0 {
            // Alone, nothing outside the worker's budget can hold what it
            // paid for: once revoked, the budget must be empty.
            let args = BudgetInfoArgs {
                budget: CapSlot(self.infra.budget as u32),
            };
            if let Ok(results) = self.call(&args)
                && results[1] != 0
            {
                rt::println!(
                    "sysfuzz: worker {}: {} frames still charged to its budget after revoking it",
                    self.index,
                    results[1]
                );
                let budget = self.infra.budget;
                self.anomaly(line!(), Syscall::BudgetInfo.number(), args.encode(), 0);
                // Start from a fresh budget, so the leak is reported once.
                let _ = self.call(&CapDeleteArgs {
                    slot: CapSlot(budget as u32),
                });
                self.infra.budget = 0;
            }
        }
        self.ensure_infra();
        let seeds = [
            (self.infra.budget, ObjectType::Budget, Rights::all()),
            (self.infra.debug, ObjectType::Debug, Rights::READ),
            (
                self.infra.text,
                ObjectType::MemoryObject,
                Rights::READ | Rights::GRANT,
            ),
            (self.infra.ports, ObjectType::IoPorts, Rights::all()),
            (self.infra.irq, ObjectType::Irq, Rights::all()),
            (self.infra.device, ObjectType::DeviceMemory, Rights::all()),
        ];
        for (source, kind, rights) in seeds {
            if source == 0 {
                continue;
            }
            if let Ok(results) = self.call(&CapCopyArgs {
                src: CapSlot(source as u32),
                rights,
                cspace: CapSlot::NULL,
                dst: CapSlot::NULL,
            }) {
                self.learn(results[0], Some(kind), Some(rights), source);
            }
        }
        self.next_reset = self.calls + RESET_EVERY / 2 + self.rng.below(RESET_EVERY);
    }

    /// `slot` if it still holds a full copy of the child's `source` (of
    /// type `kind`), else a new copy of it (0 if that fails).
    fn ensure_copy(&mut self, slot: u64, source: CapSlot, kind: ObjectType) -> u64 {
        if slot != 0 && self.describe(slot) == (Some(kind), Some(Rights::all())) {
            return slot;
        }
        self.call(&CapCopyArgs {
            src: source,
            rights: Rights::all(),
            cspace: CapSlot::NULL,
            dst: CapSlot::NULL,
        })
        .map_or(0, |results| results[0])
    }

    /// Makes sure the worker's budget, debug, device and image
    /// capabilities are there (a random call may have deleted or moved
    /// them).
    fn ensure_infra(&mut self) {
        let budget_ok = self.infra.budget != 0
            && self
                .call(&BudgetInfoArgs {
                    budget: CapSlot(self.infra.budget as u32),
                })
                .is_ok();
        if !budget_ok {
            self.infra.budget = 0;
            let fuzz = CapSlot(child::FUZZ_BUDGET.load(Ordering::Relaxed));
            for attempt in 0..2 {
                match self.call(&BudgetSplitArgs {
                    budget: fuzz,
                    frames: self.budget_frames,
                }) {
                    Ok(results) => {
                        self.infra.budget = results[0];
                        break;
                    }
                    Err(SysError::OutOfMemory) if attempt == 0 => {
                        // Budgets of this worker's that were deleted but
                        // still pay for something hold the rest: start
                        // everyone again.
                        report::bump(stat::FUZZ_RESETS, 1);
                        let _ = self.call(&CapRevokeArgs { slot: fuzz });
                        for flag in &child::RESCUED {
                            flag.store(1, Ordering::Release);
                        }
                        child::RESCUED[self.index].store(0, Ordering::Release);
                    }
                    Err(_) => break,
                }
            }
            child::WORKER_BUDGET[self.index].store(self.infra.budget as u32, Ordering::Relaxed);
        }
        let debug_ok = self.infra.debug != 0
            && self.describe(self.infra.debug) == (Some(ObjectType::Debug), Some(Rights::READ));
        if !debug_ok {
            self.infra.debug = self
                .call(&CapCopyArgs {
                    src: G_DEBUG,
                    rights: Rights::READ,
                    cspace: CapSlot::NULL,
                    dst: CapSlot::NULL,
                })
                .map_or(0, |results| results[0]);
        }
        self.infra.ports = self.ensure_copy(self.infra.ports, G_IO_PORTS, ObjectType::IoPorts);
        self.infra.irq = self.ensure_copy(self.infra.irq, G_IRQ, ObjectType::Irq);
        self.infra.device = self.ensure_copy(self.infra.device, G_DEVICE, ObjectType::DeviceMemory);
        let lent = Some(ObjectType::MemoryObject);
        let text_ok = self.infra.text != 0
            && self.describe(self.infra.text) == (lent, Some(Rights::READ | Rights::GRANT));
        if !text_ok {
            // The worker's own copy of the image (a memory object is
            // mapped in at most `MAPPINGS` address spaces): lent from the
            // child's address space, paid by the worker's budget, so a
            // reset revokes it with the rest. If that fails, the child's.
            let (start, _, end) = crate::copy_spawn::image_bounds();
            let lend = MemoryLendArgs {
                budget: CapSlot(self.infra.budget as u32),
                aspace: G_ASPACE,
                addr: start,
                len: end - start,
                mode: LendMode::Lend,
            };
            self.infra.text = match self.call(&lend) {
                Ok(results) => results[0],
                Err(_) => self
                    .call(&CapCopyArgs {
                        src: CapSlot(child::TEXT.load(Ordering::Relaxed)),
                        rights: Rights::READ | Rights::GRANT,
                        cspace: CapSlot::NULL,
                        dst: CapSlot::NULL,
                    })
                    .map_or(0, |results| results[0]),
            };
        }
    }
}
