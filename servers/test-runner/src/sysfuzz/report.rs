//! What a run covered and how it ended: one array of counters, written by
//! the child's threads while they fuzz and sent word by word to the runner
//! at the end, which prints it.
//!
//! The array is a static of the program: the child works on its copy (a
//! snapshot of the runner's, which the runner clears before starting the
//! child) and the runner fills its own copy from the child's messages.
//! Layout: the outcome table (a row per syscall number plus one for
//! unknown numbers, a column for success and one per [`SysError`]), then
//! the [`stat`] counters, then per worker its exit status, then the first
//! anomalies, then per worker its last calls.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::SysError;
use abi::syscall::Syscall;
use rt::println;

/// Rows of the outcome table: every syscall, then unknown numbers.
pub const ROWS: usize = Syscall::ALL.len() + 1;
/// Columns: success, each error, then a status the kernel should never
/// return.
pub const OUTCOMES: usize = 1 + SysError::ALL.len() + 1;
const TABLE_WORDS: usize = ROWS * OUTCOMES;

/// Most workers a run has.
pub const MAX_WORKERS: usize = 8;
/// Calls each worker remembers (the last ones, for a reproduction).
pub const RING: usize = 8;
/// Words per remembered call: number, six arguments, status.
pub const CALL_WORDS: usize = 8;
/// The status of a remembered call that has not returned.
pub const PENDING: u64 = u64::MAX;
/// Anomalies kept in detail.
pub const ANOMALIES_KEPT: usize = 4;
/// Words per anomaly: worker, source line, then a call's words.
pub const ANOMALY_WORDS: usize = 2 + CALL_WORDS;
/// Words per worker status: kind, code, rip, address, calls.
pub const STATUS_WORDS: usize = 5;

/// The counters after the table.
pub mod stat {
    /// Syscalls made by random single calls.
    pub const RANDOM_CALLS: usize = 0;
    /// Syscalls made by scripts.
    pub const SCRIPT_CALLS: usize = 1;
    /// Syscalls made to keep the fuzzer going (resets, guards, pool upkeep).
    pub const INFRA_CALLS: usize = 2;
    /// Scripts run.
    pub const SCRIPTS: usize = 3;
    /// Worker resets (its budget and derived capabilities revoked).
    pub const RESETS: usize = 4;
    /// Revokes of the whole fuzz budget by a worker that found it spent.
    pub const FUZZ_RESETS: usize = 5;
    /// A worker blocked too long, rescued by revoking its budget.
    pub const RESCUES: usize = 6;
    /// Everything stalled (or a worker stayed blocked), rescued by
    /// revoking the whole fuzz budget.
    pub const RESCUES_ALL: usize = 7;
    /// Partner threads started in scratch address spaces.
    pub const PARTNERS: usize = 8;
    /// Pool entries dropped to make room.
    pub const EVICTIONS: usize = 9;
    /// Calls made that could block (a live endpoint, notification or thread).
    pub const BLOCKING: usize = 10;
    /// Capabilities received in messages.
    pub const CAPS_RECEIVED: usize = 11;
    /// Fault messages received (from partners with a fault endpoint).
    pub const FAULT_MESSAGES: usize = 12;
    /// Results that break a documented rule (see `anomaly`).
    pub const ANOMALIES: usize = 13;
    /// Source line of the child's setup step that failed (0: none).
    pub const SETUP_LINE: usize = 14;
    /// Its error code.
    pub const SETUP_ERROR: usize = 15;
    /// Frames still charged to the fuzz budget after the final revoke
    /// (must be 0), plus one (0: not measured).
    pub const FUZZ_USED_AFTER: usize = 16;
    /// The fuzz budget's limit.
    pub const FUZZ_LIMIT: usize = 17;
    /// Workers that ran.
    pub const WORKERS: usize = 18;
    /// Nanoseconds the workers ran (clock).
    pub const FUZZ_NS: usize = 19;
    /// 1 once the child has sent everything.
    pub const COMPLETE: usize = 20;
    /// Workers the supervisor gave up on (no progress at all).
    pub const STUCK: usize = 21;
    /// Rescues of a worker blocked in `Send`.
    pub const RESCUED_SEND: usize = 22;
    /// ... in `Call`.
    pub const RESCUED_CALL: usize = 23;
    /// ... in `Recv` or `ReplyRecv`.
    pub const RESCUED_RECV: usize = 24;
    /// ... in `Wait`.
    pub const RESCUED_WAIT: usize = 25;
    /// ... in `ThreadWait`.
    pub const RESCUED_THREAD_WAIT: usize = 26;
    /// ... in `FutexWait` (woken by a wake on its word).
    pub const RESCUED_FUTEX: usize = 27;
    /// Calls made by partner threads and counted in the table from how
    /// the partner ended (`ThreadExec` and `ThreadExit` of `exec` scripts).
    pub const PARTNER_CALLS: usize = 28;
    /// Number of counters.
    pub const COUNT: usize = 29;
}

const STATS: usize = TABLE_WORDS;
const STATUS: usize = STATS + stat::COUNT;
const ANOMALY: usize = STATUS + MAX_WORKERS * STATUS_WORDS;
const LAST: usize = ANOMALY + ANOMALIES_KEPT * ANOMALY_WORDS;
/// Words in the report (a multiple of 4: it travels 4 words a message).
pub const WORDS: usize = (LAST + MAX_WORKERS * RING * CALL_WORDS).div_ceil(4) * 4;

static REPORT: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];

/// Word `index`.
pub fn word(index: usize) -> u64 {
    REPORT.get(index).map_or(0, |w| w.load(Ordering::Relaxed))
}

/// Sets word `index`.
pub fn set_word(index: usize, value: u64) {
    if let Some(w) = REPORT.get(index) {
        w.store(value, Ordering::Relaxed);
    }
}

/// Clears the whole report.
pub fn clear() {
    for w in &REPORT {
        w.store(0, Ordering::Relaxed);
    }
}

/// Counts one call of `number` that returned `status`.
pub fn record(number: u64, status: u64) {
    let row = Syscall::from_number(number).map_or(ROWS - 1, Syscall::index);
    let column = match status {
        0 => 0,
        code if SysError::from_code(code).is_some() => code as usize,
        _ => OUTCOMES - 1,
    };
    REPORT[row * OUTCOMES + column].fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` to counter `which` ([`stat`]).
pub fn bump(which: usize, n: u64) {
    REPORT[STATS + which].fetch_add(n, Ordering::Relaxed);
}

/// Counter `which`.
pub fn stat(which: usize) -> u64 {
    word(STATS + which)
}

/// Sets counter `which`.
pub fn set_stat(which: usize, value: u64) {
    set_word(STATS + which, value);
}

/// Records worker `worker`'s exit status and call count.
pub fn set_status(worker: usize, words: [u64; STATUS_WORDS]) {
    for (i, value) in words.into_iter().enumerate() {
        set_word(STATUS + worker * STATUS_WORDS + i, value);
    }
}

/// Worker `worker`'s exit status and call count.
pub fn status(worker: usize) -> [u64; STATUS_WORDS] {
    core::array::from_fn(|i| word(STATUS + worker * STATUS_WORDS + i))
}

/// Remembers call number `sequence` of worker `worker`.
pub fn remember(worker: usize, sequence: u64, call: [u64; CALL_WORDS]) {
    let base = LAST + (worker * RING + (sequence as usize % RING)) * CALL_WORDS;
    for (i, value) in call.into_iter().enumerate() {
        set_word(base + i, value);
    }
}

/// The syscall number of worker `worker`'s call number `sequence`.
pub fn remembered_number(worker: usize, sequence: u64) -> u64 {
    word(LAST + (worker * RING + (sequence as usize % RING)) * CALL_WORDS)
}

/// Argument register `index` of worker `worker`'s call number `sequence`.
pub fn remembered_arg(worker: usize, sequence: u64, index: usize) -> u64 {
    word(LAST + (worker * RING + (sequence as usize % RING)) * CALL_WORDS + 1 + index)
}

/// Records an anomaly: worker `worker` saw `call` break the rule checked
/// at source line `line`.
pub fn anomaly(worker: usize, line: u32, call: [u64; CALL_WORDS]) {
    let index = REPORT[STATS + stat::ANOMALIES].fetch_add(1, Ordering::Relaxed) as usize;
    if index < ANOMALIES_KEPT {
        let base = ANOMALY + index * ANOMALY_WORDS;
        set_word(base, worker as u64);
        set_word(base + 1, u64::from(line));
        for (i, value) in call.into_iter().enumerate() {
            set_word(base + 2 + i, value);
        }
    }
}

/// Calls of row `row`, and of those the ones with outcome `column`.
fn cell(row: usize, column: usize) -> u64 {
    word(row * OUTCOMES + column)
}

fn row_total(row: usize) -> u64 {
    (0..OUTCOMES).map(|c| cell(row, c)).sum()
}

/// Every call counted in the table.
pub fn total_calls() -> u64 {
    (0..ROWS).map(row_total).sum()
}

/// Calls that succeeded.
pub fn total_ok() -> u64 {
    (0..ROWS).map(|r| cell(r, 0)).sum()
}

/// Syscalls that cannot succeed under the fuzzer by design, and why. Every
/// other syscall must succeed at least once in a run of the suite's seeds.
pub const NEVER_OK: [(Syscall, &str); 3] = [
    (
        Syscall::DebugExit,
        "would end the QEMU run (the child's debug capability is read only)",
    ),
    (
        Syscall::DebugWrite,
        "would write random bytes to the run's console (the child's debug capability is read only)",
    ),
    (
        Syscall::IrqCreate,
        "needs the IRQ control, which the child never holds (it could take lines with devices behind them); no other capability makes an Irq",
    ),
];

/// Whether `call` is in [`NEVER_OK`].
pub fn never_ok_by_design(call: Syscall) -> bool {
    NEVER_OK.iter().any(|&(never, _)| never == call)
}

/// The syscalls that did not succeed once in the run, those of
/// [`NEVER_OK`] included.
///
/// A `ReplyRecv` or `ReplySaveRecv` whose receive failed (timed out, a
/// dead endpoint, its buffer) counts: its
/// reply or save succeeded (the receive's errors come only after it,
/// docs/syscalls.md), and a whole success needs a partner's call to
/// arrive within the receive's alarm, which a run without `-icount` may
/// never see (the receive half is `Recv`'s own path).
pub fn never_succeeded() -> impl Iterator<Item = Syscall> {
    Syscall::ALL.iter().copied().filter(|&call| {
        let saved = matches!(call, Syscall::ReplyRecv | Syscall::ReplySaveRecv)
            && [
                SysError::TimedOut,
                SysError::PeerClosed,
                SysError::BadAddress,
            ]
            .iter()
            .any(|error| cell(call.index(), error.code() as usize) > 0);
        cell(call.index(), 0) == 0 && !saved
    })
}

/// Syscalls that did not succeed once although they could (not in
/// [`NEVER_OK`]).
pub fn unexpected_never_succeeded() -> usize {
    never_succeeded()
        .filter(|&call| !never_ok_by_design(call))
        .count()
}

/// Prints the syscalls that never succeeded: those that could, then those
/// of [`NEVER_OK`].
pub fn print_never_succeeded() {
    rt::print!("  never succeeded:");
    let mut any = false;
    for call in never_succeeded().filter(|&call| !never_ok_by_design(call)) {
        rt::print!(" {}", call.name());
        any = true;
    }
    if !any {
        rt::print!(" none");
    }
    rt::print!("; by design:");
    for call in never_succeeded().filter(|&call| never_ok_by_design(call)) {
        rt::print!(" {}", call.name());
    }
    println!();
}

/// Prints why each syscall of [`NEVER_OK`] cannot succeed.
pub fn print_never_ok_reasons() {
    for (call, why) in NEVER_OK {
        println!("    {}: {why}", call.name());
    }
}

/// Rows with at least one call, out of the syscall numbers.
pub fn syscalls_covered() -> usize {
    (0..ROWS - 1).filter(|&r| row_total(r) > 0).count()
}

/// Calls whose status was not a known code (a kernel bug).
pub fn unknown_statuses() -> u64 {
    (0..ROWS).map(|r| cell(r, OUTCOMES - 1)).sum()
}

const HEADINGS: [&str; OUTCOMES] = [
    "ok", "cap", "type", "rights", "arg", "oom", "block", "closed", "addr", "nosys", "timeout",
    "other",
];

fn row_name(row: usize) -> &'static str {
    Syscall::ALL
        .get(row)
        .map_or("(unknown number)", |call| call.name())
}

/// The name of syscall `number`, for traces.
pub fn name(number: u64) -> &'static str {
    Syscall::from_number(number).map_or("(unknown number)", Syscall::name)
}

/// Prints the outcome table (calls per syscall number and per result),
/// the errors per kind, and the counters.
pub fn print_table() {
    println!("sysfuzz coverage: calls per syscall number, by result");
    rt::print!("  {:>3} {:<19} {:>9}", "#", "syscall", "calls");
    for heading in HEADINGS {
        rt::print!(" {heading:>8}");
    }
    println!();
    for row in 0..ROWS {
        if row + 1 == ROWS {
            rt::print!("  {:>3} {:<19} {:>9}", "-", row_name(row), row_total(row));
        } else {
            let number = Syscall::ALL[row].number();
            rt::print!(
                "  {:>3} {:<19} {:>9}",
                number,
                row_name(row),
                row_total(row)
            );
        }
        for column in 0..OUTCOMES {
            rt::print!(" {:>8}", cell(row, column));
        }
        println!();
    }
    rt::print!("  errors per kind:");
    for (column, heading) in HEADINGS.iter().enumerate().skip(1) {
        let count: u64 = (0..ROWS).map(|r| cell(r, column)).sum();
        rt::print!(" {heading}={count}");
    }
    println!();
    println!(
        "  calls: {} ({} ok) = random {} + scripts {} + upkeep {} + partners' {}; {} of {} syscall numbers reached",
        total_calls(),
        total_ok(),
        stat(stat::RANDOM_CALLS),
        stat(stat::SCRIPT_CALLS),
        stat(stat::INFRA_CALLS),
        stat(stat::PARTNER_CALLS),
        syscalls_covered(),
        Syscall::ALL.len()
    );
    print_counters();
    println!("  syscalls that cannot succeed under the fuzzer, by design:");
    print_never_ok_reasons();
}

/// Prints the counters on one line.
pub fn print_counters() {
    println!(
        "  scripts {}, resets {} (+{} of the whole budget), rescues {} (+{} of all), partners {}, evictions {}, blocking calls {}, caps received {}, fault messages {}, anomalies {}",
        stat(stat::SCRIPTS),
        stat(stat::RESETS),
        stat(stat::FUZZ_RESETS),
        stat(stat::RESCUES),
        stat(stat::RESCUES_ALL),
        stat(stat::PARTNERS),
        stat(stat::EVICTIONS),
        stat(stat::BLOCKING),
        stat(stat::CAPS_RECEIVED),
        stat(stat::FAULT_MESSAGES),
        stat(stat::ANOMALIES),
    );
    println!(
        "  rescued while blocked in: Send {}, Call {}, Recv/ReplyRecv {}, Wait {}, ThreadWait {}, FutexWait {}",
        stat(stat::RESCUED_SEND),
        stat(stat::RESCUED_CALL),
        stat(stat::RESCUED_RECV),
        stat(stat::RESCUED_WAIT),
        stat(stat::RESCUED_THREAD_WAIT),
        stat(stat::RESCUED_FUTEX),
    );
}

/// Prints the anomalies kept and every worker's last calls.
pub fn print_details() {
    let kept = (stat(stat::ANOMALIES) as usize).min(ANOMALIES_KEPT);
    for index in 0..kept {
        let base = ANOMALY + index * ANOMALY_WORDS;
        let call: [u64; CALL_WORDS] = core::array::from_fn(|i| word(base + 2 + i));
        println!(
            "    anomaly: worker {} (sysfuzz line {}): {}",
            word(base),
            word(base + 1),
            Call(call)
        );
    }
    let workers = (stat(stat::WORKERS) as usize).min(MAX_WORKERS);
    for worker in 0..workers {
        let [kind, code, rip, addr, calls] = status(worker);
        println!(
            "    worker {worker}: {calls} calls, exit kind {kind} code {code} (rip {rip:#x}, address {addr:#x}); last calls, oldest first:"
        );
        // The last RING calls: numbers calls - RING + 1 ..= calls (the
        // last one is the call in progress, if any).
        for sequence in (calls + 1).saturating_sub(RING as u64)..=calls {
            let base = LAST + (worker * RING + (sequence as usize % RING)) * CALL_WORDS;
            let call: [u64; CALL_WORDS] = core::array::from_fn(|i| word(base + i));
            if sequence == calls && call[CALL_WORDS - 1] != PENDING {
                continue;
            }
            println!("      #{sequence} {}", Call(call));
        }
    }
}

/// A syscall status, printed as `ok`, the error's name, or the number.
pub struct Status(pub u64);

impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            0 => f.write_str("ok"),
            PENDING => f.write_str("(has not returned)"),
            code => match SysError::from_code(code) {
                Some(error) => write!(f, "{error:?}"),
                None => write!(f, "status {code}"),
            },
        }
    }
}

/// A remembered call, printed as `Name(args) -> status`.
pub struct Call(pub [u64; CALL_WORDS]);

impl core::fmt::Display for Call {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [number, a0, a1, a2, a3, a4, a5, status] = self.0;
        write!(
            f,
            "{} [{number}]({a0:#x}, {a1:#x}, {a2:#x}, {a3:#x}, {a4:#x}, {a5:#x}) -> {}",
            name(number),
            Status(status)
        )
    }
}
