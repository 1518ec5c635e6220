//! `sysfuzz`, the in-OS syscall fuzzer.
//!
//! From a seed, several worker threads (`worker/`) make random syscalls,
//! every number the kernel knows and some it does not, with arguments
//! drawn by kind from `abi::syscall::Syscall::arg_kinds` (`args.rs`), the
//! table the kernel's own argument decoding is generated from: slots from
//! a pool of live, revoked, deleted and wrong-type capabilities plus empty,
//! out-of-range and above-32-bit ones (`pool.rs`); addresses valid, null,
//! unmapped, in the kernel half, non-canonical, straddling a page or the
//! end of user space; lengths 0, 4095, 4096, 4097 and huge; and so on
//! (`CapCopyMany` mostly gets entries the worker writes from its pool:
//! sources live or not, destinations plausible or not, types and modes
//! right or wrong: `copy_many.rs`). Now
//! and then a worker runs a script instead (`script/`): create, derive,
//! map, touch, protect, unmap, revoke and delete; clone an address space;
//! lend and move; resize; split budgets; start partner threads in scratch
//! address spaces that answer, call, send, signal, wait, fault and exec
//! (`partner.rs`). A worker that received a call answers it, or saves
//! the reply (`ReplySave`) into the pool, whose Reply capabilities it
//! answers (`ReplyWith`), deletes or moves later like any other (a reset
//! deletes those it would forget). What the workers never do, and why, is
//! listed in `worker/mod.rs`.
//!
//! The fuzzer runs in a child program (`child.rs`) with an address space
//! and capability space of its own, holding only a small budget split from
//! the runner's (so `OutOfMemory` paths are hit everywhere), the debug
//! object read-only, a write-only console (never in the pool), an
//! endpoint for its report, and devices that are safe to touch
//! (`layout.rs`): an I/O port range of harmless ports (0x80-0x87) and one
//! interrupt line with no device behind it (ISA IRQ 5), both made by the
//! runner (never the I/O space or the IRQ control themselves), and the
//! device-memory capability, used only on pages where nothing answers.
//! Every worker keeps a copy of each, like the debug capability, so
//! sub-ranges are made, ranges bound and unbound, the line bound, acked
//! and unbound, and device memory made and mapped.
//!
//! Every run's summary names the syscalls that never succeeded. A few
//! cannot by design (`report::NEVER_OK`: `DebugWrite` and `DebugExit` with
//! the read-only debug capability, `IrqCreate` without the IRQ control);
//! a run of the suite's length or longer fails if any other is left
//! without a success. `ThreadExec` and `ThreadExit` succeed in partner
//! threads only (a worker would leave or end); the `exec` script waits for
//! its partner and counts them from how it ended.
//!
//! Checks, besides "the kernel does not panic" (a panic ends the QEMU run
//! without the suite's summary line, which `cargo xtask test` reports):
//! every worker exits cleanly (none faulted or got stuck); every status is
//! a known code; a few rules no other thread can disturb hold (a write to
//! a page just made read-only or unmapped fails; a create that fails with
//! `OutOfMemory` leaves its budget untouched); after the run the child's
//! fuzz budget, revoked, has nothing charged; and once the runner has
//! destroyed the child and revoked and deleted its budget, the free-frame
//! count and the runner's budget usage are back where they were.
//!
//! Reproducing: each worker's random choices come from the seed and its
//! index alone (`rng.rs`), so the sequence of choices a worker makes is
//! exact; what the calls return (and so the slots it learns and uses
//! later) also depends on how the workers interleave. Under `-icount`, as
//! `cargo xtask fuzz` runs by default, the interleaving is deterministic
//! too and a seed replays exactly; there `stop=N` ends the run after N
//! calls in all (the run is the same up to there, so a failure can be
//! bisected to the call that caused it), `trace=1` prints every call, and
//! a failing run prints its last calls from the flight recorder
//! (`recorder.rs`). `cargo xtask test` runs without `-icount`: a failing
//! fixed seed there shows its last calls, and usually fails again under
//! `cargo xtask fuzz` with the same seed or a nearby one.
//!
//! A seed replays exactly with the same build of the runner only. The
//! run also depends on the runner's image: its bytes (calls given an
//! address in the image read them: a `FutexWait` compares the word there)
//! and its file's size (the boot copies the file, so it sets the clock
//! the workers read, and so their deadlines). Any change to the runner,
//! even one that moves code and changes no logic, can change a seed's
//! run: to compare two builds' runs of a seed, make their images alike
//! (same code, same file and read-only data sizes), or compare the code.
//!
//! The runner side is here: [`run`] (one fuzz run and its checks), the
//! test entries (`cargo xtask test sysfuzz`) and [`fuzz_mode`] (`cargo
//! xtask fuzz`); `report.rs` holds the counters and prints them.

mod args;
mod child;
mod copy_many;
mod layout;
mod partner;
mod pool;
mod recorder;
mod report;
mod rng;
mod script;
mod worker;

use core::sync::atomic::{AtomicU64, Ordering};

use crate::copy_spawn::{Grant, spawn_copy};
use crate::raw::{self as sys, Message};
use abi::boot::BootInfo;
use abi::ipc::MessageInfo;
use abi::syscall::{
    BudgetInfoArgs, BudgetSplitArgs, BudgetStatus, IrqSource, SlotResult, exit_kind,
};
use abi::{CapSlot, Rights};
use rt::println;

use crate::tests::{Failure, TestResult};

/// Frames of the fuzz budget the workers share (split among them).
pub const FUZZ_FRAMES: u64 = 800;
/// Frames the child needs besides: its alarms, worker threads, scratch
/// areas, the lent image and the fuzz budget object.
const INFRA_FRAMES: u64 = 64;
/// Workers' priority (below the child's supervisor).
pub const WORKER_PRIORITY: u64 = 20;
/// Workers' maximum priority: partners run at it, above the workers.
pub const WORKER_MAX_PRIORITY: u64 = 21;
/// Workers in a run.
pub const DEFAULT_WORKERS: u64 = 4;
/// Nanoseconds of a timer tick (the kernel ticks at 100 Hz): how far
/// ahead the supervisor's and the workers' alarms are armed.
pub const TICK_NS: u64 = 10_000_000;

/// Seeds `cargo xtask test` runs (`sysfuzz_seed_<S>`), besides
/// [`LONG_SEED`].
pub const TEST_SEEDS: [u64; 4] = [1, 2, 3, 2024];
/// Calls per fixed seed: four seeds make two million calls, about 45 s
/// under TCG.
pub const TEST_CALLS: u64 = 500_000;
/// The suite's long seed (`sysfuzz_seed_<S>_long`), of [`LONG_CALLS`].
pub const LONG_SEED: u64 = 7;
/// Calls of the long seed.
pub const LONG_CALLS: u64 = 2_000_000;

/// Calls of the flight recorder a failing test prints.
const TEST_DUMP: u64 = 64;

/// Badge of the child's report messages.
const CHILD_BADGE: u64 = 1;
/// Badge of the watcher's message (the child's main thread ended).
const WATCH_BADGE: u64 = 2;

/// One run's parameters.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The seed.
    pub seed: u64,
    /// Syscalls to make in all.
    pub count: u64,
    /// Worker threads.
    pub workers: u64,
    /// Print every call before making it.
    pub trace: bool,
    /// Calls of the flight recorder the child prints when its checks fail.
    pub dump: u64,
    /// Stop every worker once the workers together have made this many
    /// calls (for bisecting a replay: the run is the same up to there).
    pub stop: u64,
    /// Give some partners a fault endpoint (their faults become messages).
    pub fault_endpoints: bool,
}

/// The run's parameters: set by the runner before it starts the child,
/// which finds them in its copy of the image.
static CONFIG: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

impl Config {
    fn store(&self) {
        CONFIG[0].store(self.seed, Ordering::Relaxed);
        CONFIG[1].store(self.count, Ordering::Relaxed);
        CONFIG[2].store(self.workers, Ordering::Relaxed);
        CONFIG[3].store(u64::from(self.trace), Ordering::Relaxed);
        CONFIG[4].store(self.dump, Ordering::Relaxed);
        CONFIG[5].store(self.stop, Ordering::Relaxed);
        CONFIG[6].store(u64::from(self.fault_endpoints), Ordering::Relaxed);
    }

    fn load() -> Config {
        Config {
            seed: CONFIG[0].load(Ordering::Relaxed),
            count: CONFIG[1].load(Ordering::Relaxed),
            workers: CONFIG[2].load(Ordering::Relaxed),
            trace: CONFIG[3].load(Ordering::Relaxed) != 0,
            dump: CONFIG[4].load(Ordering::Relaxed),
            stop: CONFIG[5].load(Ordering::Relaxed),
            fault_endpoints: CONFIG[6].load(Ordering::Relaxed) != 0,
        }
    }
}

/// What a run found wrong.
#[derive(Clone, Copy, Debug)]
pub struct Problem {
    /// What.
    pub what: &'static str,
    /// Source line of the check.
    pub line: u32,
}

/// How a run went, besides the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// Free frames before the run.
    pub frames_before: u64,
    /// Free frames after it (and after the child and its budget are gone).
    pub frames_after: u64,
    /// Frames the runner's budget had charged before.
    pub used_before: u64,
    /// And after.
    pub used_after: u64,
    /// Nanoseconds the whole run took.
    pub elapsed_ns: u64,
    /// How the child's main thread ended: kind and code.
    pub child_exit: (u64, u64),
}

fn problem(what: &'static str, line: u32) -> Problem {
    Problem { what, line }
}

macro_rules! check {
    ($cond:expr, $what:expr) => {
        if !$cond {
            return Err(problem($what, line!()));
        }
    };
}

fn free_frames(debug: CapSlot) -> Result<u64, Problem> {
    sys::debug_frame_count(debug)
        .map(|c| c.free)
        .map_err(|_| problem("DebugFrameCount failed", line!()))
}

fn budget_used(budget: CapSlot) -> Result<u64, Problem> {
    sys::invoke::<_, BudgetStatus>(&BudgetInfoArgs { budget })
        .map(|s| s.used)
        .map_err(|_| problem("BudgetInfo failed", line!()))
}

/// Does nothing (the warm-up child).
extern "C" fn idle(_: u64) -> ! {
    sys::thread_exit(0)
}

/// Waits for the child's main thread to end, then tells the runner
/// through the endpoint (badge [`WATCH_BADGE`]). `arg` packs the thread's
/// slot (low half) and the endpoint's (high half).
fn watch(arg: u64) -> u64 {
    let thread = CapSlot(arg as u32);
    let endpoint = CapSlot((arg >> 32) as u32);
    let words = match sys::thread_wait(thread) {
        Ok(status) => [status.kind, status.code, status.rip, status.addr],
        Err(error) => [0, error.code(), 0, 0],
    };
    let _ = sys::send(endpoint, &Message::new(0, &words));
    0
}

/// Calls of the warm-up run before a boot's first measured run.
const WARM_UP_CALLS: u64 = 100_000;

/// Runs the fuzzer once: child, report, teardown, frame checks. The
/// report is left in `report` for printing. The first run of a boot is
/// preceded by a short one of the same seed whose result is dropped: the
/// kernel keeps some of what a first run makes (about 130 frames; a second
/// identical run gives back every frame it takes), which would otherwise
/// read as frames that did not come back when a seed runs alone (`cargo
/// xtask fuzz`, `cargo xtask test sysfuzz_seed_1`).
pub fn run(config: &Config) -> Result<Outcome, Problem> {
    static WARMED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !WARMED.swap(true, Ordering::Relaxed) {
        let warm = Config {
            count: WARM_UP_CALLS.min(config.count),
            trace: false,
            dump: 0,
            stop: u64::MAX,
            ..*config
        };
        let _ = run_once(&warm);
    }
    run_once(config)
}

/// [`run`] without the warm-up.
fn run_once(config: &Config) -> Result<Outcome, Problem> {
    let boot = rt::start::boot_info().ok_or(problem("no boot information", line!()))?;
    let debug = CapSlot(boot.debug_cap);
    let own = rt::process::own_caps();
    let mut outcome = Outcome::default();
    let started = sys::clock_read();

    // Warm up what the first run would leave behind: the page tables of
    // spawn_copy's scratch window, the watcher's stack pages.
    spawn_copy(idle, 0, &[])
        .map_err(|_| problem("spawn_copy failed", line!()))?
        .destroy();
    let warm = crate::raw_thread::spawn(watch, 0).map_err(|_| problem("spawn failed", line!()))?;
    let _ = warm.join();
    outcome.frames_before = free_frames(debug)?;
    outcome.used_before = budget_used(own.budget)?;

    let frames = INFRA_FRAMES + FUZZ_FRAMES + 1;
    let budget: SlotResult = sys::invoke(&BudgetSplitArgs {
        budget: own.budget,
        frames,
    })
    .map_err(|_| problem("BudgetSplit for the child failed", line!()))?;
    let budget = CapSlot(budget.slot as u32);
    let results =
        sys::endpoint_create(own.budget).map_err(|_| problem("EndpointCreate", line!()))?;
    // GRANT: copied into the child's space (its copy is write-only).
    let child_results = sys::cap_mint(results, Rights::WRITE | Rights::GRANT, CHILD_BADGE)
        .map_err(|_| problem("CapMint", line!()))?;
    let watch_results = sys::cap_mint(results, Rights::WRITE, WATCH_BADGE)
        .map_err(|_| problem("CapMint", line!()))?;
    let go =
        sys::notification_create(own.budget).map_err(|_| problem("NotificationCreate", line!()))?;
    // The devices the child may touch: harmless ports and a line with no
    // device (`layout::FUZZ_PORTS`, `layout::FUZZ_IRQ`), never the I/O
    // space or the IRQ control themselves.
    let (first, count) = layout::FUZZ_PORTS;
    let ports = sys::io_ports_create(
        CapSlot(boot.io_space_cap),
        own.budget,
        u64::from(first),
        u64::from(count),
    )
    .map_err(|_| problem("IoPortsCreate for the child failed", line!()))?;
    let irq = sys::irq_create(
        CapSlot(boot.irq_control_cap),
        own.budget,
        IrqSource::Isa(layout::FUZZ_IRQ),
    )
    .map_err(|_| problem("IrqCreate for the child failed", line!()))?;

    report::clear();
    config.store();
    let grant = |src, dst, rights| Grant { src, dst, rights };
    let grants = [
        grant(budget, layout::G_BUDGET, Rights::all()),
        grant(child_results, layout::G_RESULTS, Rights::WRITE),
        grant(debug, layout::G_DEBUG, Rights::READ),
        grant(debug, layout::G_CONSOLE, Rights::WRITE),
        grant(go, layout::G_GO, Rights::READ),
        grant(ports, layout::G_IO_PORTS, Rights::all()),
        grant(irq, layout::G_IRQ, Rights::all()),
        grant(CapSlot(boot.device_cap), layout::G_DEVICE, Rights::all()),
    ];
    let child = spawn_copy(child::entry, 0, &grants).map_err(|e| {
        println!("    spawn_copy: {e:?}");
        problem("spawn_copy failed", line!())
    })?;
    let ready = sys::cap_copy_to(
        child.aspace,
        Rights::READ | Rights::WRITE,
        child.cspace,
        layout::G_ASPACE,
    )
    .and_then(|_| {
        sys::cap_copy_to(
            child.cspace,
            Rights::READ | Rights::WRITE,
            child.cspace,
            layout::G_CSPACE,
        )
    })
    .and_then(|_| sys::signal(go, 1));
    let watcher = crate::raw_thread::spawn(
        watch,
        u64::from(child.thread.0) | u64::from(watch_results.0) << 32,
    );
    let watched = ready.is_ok() && watcher.is_ok();
    if !watched {
        child.destroy();
    } else {
        while let Ok(received) = sys::recv(results) {
            let words = received.message.words;
            match received.badge {
                CHILD_BADGE => {
                    let offset = received.message.info.label() as usize;
                    for (i, word) in words.iter().enumerate() {
                        report::set_word(offset + i, *word);
                    }
                    let _ = sys::reply(&Message {
                        info: MessageInfo::new(0, 0, 0),
                        words: [0; 4],
                    });
                }
                WATCH_BADGE => {
                    outcome.child_exit = (words[0], words[1]);
                    break;
                }
                _ => {}
            }
        }
        child.destroy();
    }
    if let Ok(watcher) = watcher {
        let _ = watcher.join();
    }
    let _ = sys::cap_revoke(budget);
    for slot in [
        budget,
        child_results,
        watch_results,
        results,
        go,
        ports,
        irq,
    ] {
        let _ = sys::cap_delete(slot);
    }
    outcome.elapsed_ns = sys::clock_read() - started;
    outcome.frames_after = free_frames(debug)?;
    outcome.used_after = budget_used(own.budget)?;
    check!(watched, "could not start the child");
    Ok(outcome)
}

/// Calls from which on a run must leave no syscall without a success
/// (besides those of `report::NEVER_OK`): the suite's seeds and longer.
const COVERAGE_CALLS: u64 = TEST_CALLS;

/// What is wrong with a finished run, if anything.
fn verdict(config: &Config, outcome: &Outcome) -> Result<(), Problem> {
    check!(
        report::stat(report::stat::COMPLETE) == 1,
        "the child's report is incomplete"
    );
    check!(
        outcome.child_exit == (exit_kind::EXITED, 0),
        "the child's main thread did not exit cleanly"
    );
    check!(
        report::stat(report::stat::SETUP_LINE) == 0,
        "the child's setup failed"
    );
    check!(
        report::stat(report::stat::STUCK) == 0,
        "the workers stopped making progress"
    );
    let workers = report::stat(report::stat::WORKERS) as usize;
    for worker in 0..workers.min(report::MAX_WORKERS) {
        let [kind, code, ..] = report::status(worker);
        check!(
            kind == exit_kind::EXITED && code == 0,
            "a worker did not exit cleanly"
        );
    }
    check!(
        report::unknown_statuses() == 0,
        "the kernel returned an unknown status"
    );
    check!(
        report::stat(report::stat::ANOMALIES) == 0,
        "a call broke a documented rule"
    );
    check!(
        report::stat(report::stat::FUZZ_USED_AFTER) == 1,
        "frames still charged to the fuzz budget after revoking it"
    );
    check!(sys::null() == Ok(()), "the kernel stopped answering");
    check!(
        config.count < COVERAGE_CALLS
            || config.stop != u64::MAX
            || report::unexpected_never_succeeded() == 0,
        "a syscall never succeeded (see \"never succeeded\")"
    );
    check!(
        outcome.frames_after == outcome.frames_before,
        "free frames did not come back"
    );
    check!(
        outcome.used_after == outcome.used_before,
        "the runner's budget did not come back"
    );
    Ok(())
}

fn print_outcome(config: &Config, outcome: &Outcome) {
    println!(
        "sysfuzz seed {:#x}: {} calls ({} ok) by {} workers in {} ms; {} of {} syscall numbers reached",
        config.seed,
        report::total_calls(),
        report::total_ok(),
        report::stat(report::stat::WORKERS),
        outcome.elapsed_ns / 1_000_000,
        report::syscalls_covered(),
        abi::syscall::Syscall::ALL.len(),
    );
    report::print_counters();
    report::print_never_succeeded();
    println!(
        "  frames free before {} after {}; runner budget used before {} after {}; fuzz budget used after revoke {}",
        outcome.frames_before,
        outcome.frames_after,
        outcome.used_before,
        outcome.used_after,
        report::stat(report::stat::FUZZ_USED_AFTER).wrapping_sub(1) as i64,
    );
}

fn print_problem(config: &Config, outcome: Option<&Outcome>, problem: Problem) {
    println!(
        "sysfuzz seed {:#x} count {}: {} (sysfuzz line {})",
        config.seed, config.count, problem.what, problem.line
    );
    if let Some(outcome) = outcome {
        println!(
            "  child main thread: exit kind {} code {}; setup line {} error {}",
            outcome.child_exit.0,
            outcome.child_exit.1,
            report::stat(report::stat::SETUP_LINE),
            report::stat(report::stat::SETUP_ERROR)
        );
    }
    report::print_details();
    println!(
        "  replay: cargo xtask fuzz --seed {} --count {} (--trace prints every call, --stop N bisects)",
        config.seed, config.count
    );
}

/// Runs one seed as an in-OS test, printing a summary (and the details
/// of a failure).
fn test_seed(seed: u64, count: u64) -> TestResult {
    let config = Config {
        seed,
        count,
        workers: DEFAULT_WORKERS,
        trace: false,
        dump: TEST_DUMP,
        stop: u64::MAX,
        fault_endpoints: true,
    };
    // Said first: a kernel panic ends the run before anything else is.
    println!(
        "    sysfuzz seed {seed}: {count} calls (replay: cargo xtask fuzz --seed {seed} --count {count})"
    );
    let result = match run(&config) {
        Ok(outcome) => {
            print_outcome(&config, &outcome);
            verdict(&config, &outcome).map_err(|p| (p, Some(outcome)))
        }
        Err(p) => Err((p, None)),
    };
    result.map_err(|(p, outcome)| {
        print_problem(&config, outcome.as_ref(), p);
        Failure {
            what: p.what,
            file: file!(),
            line: p.line,
        }
    })
}

/// Test entry: the first fixed seed.
pub fn seed_1() -> TestResult {
    test_seed(TEST_SEEDS[0], TEST_CALLS)
}

/// Test entry: the second fixed seed.
pub fn seed_2() -> TestResult {
    test_seed(TEST_SEEDS[1], TEST_CALLS)
}

/// Test entry: the third fixed seed.
pub fn seed_3() -> TestResult {
    test_seed(TEST_SEEDS[2], TEST_CALLS)
}

/// Test entry: the fourth fixed seed.
pub fn seed_2024() -> TestResult {
    test_seed(TEST_SEEDS[3], TEST_CALLS)
}

/// Test entry: the long seed.
pub fn seed_7_long() -> TestResult {
    test_seed(LONG_SEED, LONG_CALLS)
}

/// The value of `key=value` on the kernel command line, as a number
/// (decimal or `0x` hex).
fn number(cmdline: &[u8], key: &str) -> Option<u64> {
    let text = core::str::from_utf8(cmdline).ok()?;
    let value = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))?;
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

/// `mode=fuzz seed=S count=N [workers=W] [trace=1] [dump=N] [stop=N]
/// [faults=0]`: one run, the whole coverage table, then the run ends with
/// code 0 (passed) or 1. `dump`: recorded calls printed on a failure;
/// `faults=0`: no partner gets a fault endpoint.
pub fn fuzz_mode(boot: &BootInfo) -> u64 {
    let cmdline = boot.cmdline();
    let config = Config {
        seed: number(cmdline, "seed").unwrap_or(1),
        count: number(cmdline, "count").unwrap_or(100_000),
        workers: number(cmdline, "workers")
            .unwrap_or(DEFAULT_WORKERS)
            .clamp(1, report::MAX_WORKERS as u64),
        trace: number(cmdline, "trace").is_some_and(|t| t != 0),
        dump: number(cmdline, "dump").unwrap_or(recorder::CAPACITY as u64),
        stop: number(cmdline, "stop").unwrap_or(u64::MAX),
        fault_endpoints: number(cmdline, "faults").is_none_or(|f| f != 0),
    };
    println!(
        "sysfuzz: seed {} ({:#x}), {} calls, {} workers{}",
        config.seed,
        config.seed,
        config.count,
        config.workers,
        if config.trace { ", tracing" } else { "" }
    );
    config.store();
    // The run goes on an rt thread, as every test does (it prints, which
    // a raw thread, without a control block, cannot).
    let code = rt::thread::Builder::new()
        .name("sysfuzz")
        .stack_size(crate::tests::TEST_STACK)
        .spawn(|| fuzz_thread(0))
        .map_err(|_| ())
        .and_then(|handle| handle.join().map_err(|_| ()))
        .unwrap_or(1);
    let _ = sys::debug_exit(CapSlot(boot.debug_cap), code);
    code
}

fn fuzz_thread(_: u64) -> u64 {
    let config = Config::load();
    let outcome = run(&config);
    report::print_table();
    let verdict = match &outcome {
        Ok(outcome) => {
            print_outcome(&config, outcome);
            verdict(&config, outcome).map_err(|p| (p, Some(*outcome)))
        }
        Err(p) => Err((*p, None)),
    };
    match verdict {
        Ok(()) => {
            println!(
                "sysfuzz: PASSED seed {} count {} ({} calls made)",
                config.seed,
                config.count,
                report::total_calls()
            );
            0
        }
        Err((p, outcome)) => {
            print_problem(&config, outcome.as_ref(), p);
            println!(
                "sysfuzz: FAILED seed {} count {}",
                config.seed, config.count
            );
            1
        }
    }
}
