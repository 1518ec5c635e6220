//! Helpers the IPC, capability-space, notification and scheduling tests
//! share: setup checks, free-frame counts, result words threads leave for
//! the test, IPC buffer pages, and threads started by hand on stacks of
//! their own (so they can be deleted while blocked, given a priority before
//! they first run, or put in another capability space).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::raw as sys;
use crate::raw_thread::JoinHandle;
use abi::ipc::MSG_MAX_WORDS;
use abi::syscall::exit_kind;
use abi::{CapSlot, SysError};
use rt::handle::Handle;

use super::Failure;

// ---------------------------------------------------------------------------
// Shared helpers.

/// A setup step that must succeed; a failure names the caller's line.
#[track_caller]
pub(super) fn must<T>(result: Result<T, SysError>) -> Result<T, Failure> {
    let (file, line) = caller();
    result.map_err(|error| {
        rt::println!("    unexpected error: {:?}", error);
        Failure {
            what: "setup syscall failed",
            file,
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

/// Frames the test runner may still spend (its budget's limit minus use).
pub(super) fn free_frames() -> Result<u64, Failure> {
    // The test runner's own budget, not the machine's free count: other
    // programs (the serial driver, init) run beside the tests and take
    // and return frames of their own whenever the runner blocks.
    // Everything a test makes is charged to this budget or to budgets
    // split from it, so a frame a test fails to give back shows here.
    let status = must(sys::budget_info(budget()))?;
    Ok(status.limit - status.used)
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
    exit_code(status, caller())
}

fn exit_code(
    status: abi::syscall::ThreadStatus,
    (file, line): (&'static str, u32),
) -> Result<u64, Failure> {
    if status.kind != exit_kind::EXITED {
        rt::println!(
            "    thread killed by vector {} at rip {:#x} (address {:#x})",
            status.code,
            status.rip,
            status.addr
        );
        return Err(Failure {
            what: "a helper thread faulted",
            file,
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
                crate::raw::thread_exit($body(arg))
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
    fault: CapSlot,
    aspace: CapSlot,
    budget: CapSlot,
    tls: u64,
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
            fault: CapSlot::NULL,
            aspace: CapSlot::NULL,
            budget: CapSlot::NULL,
            tls: 0,
        }
    }

    /// Runs it in another address space (its stack is the same address
    /// there: a copy-on-write clone of this program's has it).
    pub(super) fn aspace(mut self, aspace: CapSlot) -> Raw {
        self.aspace = aspace;
        self
    }

    /// Pays for its thread object from `budget`.
    pub(super) fn budget(mut self, budget: CapSlot) -> Raw {
        self.budget = budget;
        self
    }

    /// Starts it with FS base `tls` (`ThreadStart`'s last argument).
    pub(super) fn tls(mut self, tls: u64) -> Raw {
        self.tls = tls;
        self
    }

    /// Sends its faults to the endpoint in `slot` of its capability space.
    pub(super) fn fault_endpoint(mut self, slot: CapSlot) -> Raw {
        self.fault = slot;
        self
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
        let (file, line) = caller();
        let failure = |what| Failure { what, file, line };
        let stack = take_raw_stack().ok_or(failure("no free stack for a helper thread"))?;
        let own = rt::process::own_caps();
        let cspace = if self.cspace == CapSlot::NULL {
            own.cspace
        } else {
            self.cspace
        };
        let pick = |slot: CapSlot, own: CapSlot| if slot == CapSlot::NULL { own } else { slot };
        let (budget, aspace) = (pick(self.budget, own.budget), pick(self.aspace, own.aspace));
        let slot = match sys::thread_create(budget, aspace, cspace) {
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
            .and_then(|()| sys::thread_configure(slot, self.buffer, self.fault))
            .and_then(|()| {
                if self.suspended {
                    sys::thread_suspend(slot)
                } else {
                    Ok(())
                }
            })
            // As if called: rsp + 8 is 16-byte aligned at entry.
            .and_then(|()| {
                sys::thread_start(slot, self.entry as *const () as u64, top - 8, arg, self.tls)
            });
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
        let (file, line) = caller();
        if sys::cap_info(self.slot) != Err(SysError::InvalidCap) {
            return Err(Failure {
                what: "the thread's capability is still there",
                file,
                line,
            });
        }
        release_raw_stack(self.stack);
        Ok(())
    }

    /// Waits for it to end, deletes it and returns how it ended.
    #[track_caller]
    pub(super) fn wait(self) -> Result<abi::syscall::ThreadStatus, Failure> {
        let status = must(sys::thread_wait(self.slot))?;
        must(sys::cap_delete(self.slot))?;
        release_raw_stack(self.stack);
        Ok(status)
    }

    /// Waits for it to exit, deletes it and returns its exit code.
    #[track_caller]
    pub(super) fn join(self) -> Result<u64, Failure> {
        let at = caller();
        let status = must(sys::thread_wait(self.slot))?;
        must(sys::cap_delete(self.slot))?;
        release_raw_stack(self.stack);
        exit_code(status, at)
    }
}

/// Touches every page of the helper threads' stacks and of the IPC
/// buffer pages, so that the frames they take on first touch are taken
/// before any test counts free frames (a run of a few tests by name
/// would otherwise see them as a leak in whichever test touches them
/// first).
pub fn warm_up() {
    for stack in &RAW_STACKS {
        for word in stack.0.iter().step_by(512) {
            word.store(0, Ordering::Relaxed);
        }
    }
    for page in &PAGES {
        page.set_word(0, 0);
    }
    // Every page of the image's data and bss (result words, pooled
    // stacks, recorded messages): a test run alone must not see them
    // filled in as a leak.
    // The loader maps the image lazily: code and read-only pages (and the
    // page tables that map them) on first touch, .bss as the shared zero
    // page until written. Commit every page of it first.
    let (image, data, end) = crate::copy_spawn::image_bounds();
    let aspace = rt::process::own_caps().aspace;
    for start in (image..end).step_by(1024 * 4096) {
        let pages = ((end - start) / 4096).min(1024);
        let _ = sys::aspace_populate(aspace, start, pages);
    }
    for page in (data..end).step_by(4096) {
        core::hint::black_box(crate::cpu::read_u64_at(page));
    }
}

/// The file and line of the caller of a `#[track_caller]` function.
#[track_caller]
pub(super) fn caller() -> (&'static str, u32) {
    let location = core::panic::Location::caller();
    (location.file(), location.line())
}

/// The program's budget.
pub(super) fn budget() -> CapSlot {
    rt::process::own_caps().budget
}

/// A page-aligned user address where nothing is mapped.
pub(super) const UNMAPPED: u64 = 0x0000_5000_0000_0000;

/// A slot that is surely empty (the program's space has 4096 slots).
pub(super) const EMPTY_SLOT: CapSlot = CapSlot(4000);

/// Takes the calling thread's IPC buffer away until the guard drops (for
/// tests of what the kernel does with a thread that has none; every
/// thread the runtime makes has one).
pub(super) struct NoIpcBuffer {
    thread: CapSlot,
    buffer: u64,
}

impl NoIpcBuffer {
    pub(super) fn take() -> Result<NoIpcBuffer, Failure> {
        let me = rt::thread::current().ok_or(Failure {
            what: "the test runs on a thread rt made",
            file: file!(),
            line: line!(),
        })?;
        let thread = me.thread().slot();
        let buffer = rt::thread::block::ipc_buffer_addr();
        must(sys::thread_configure(thread, 0, CapSlot::NULL))?;
        Ok(NoIpcBuffer { thread, buffer })
    }
}

impl Drop for NoIpcBuffer {
    fn drop(&mut self) {
        let _ = sys::thread_configure(self.thread, self.buffer, CapSlot::NULL);
    }
}
