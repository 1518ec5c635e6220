//! The process: its own capabilities, its parent, and how it ends.
//!
//! A process is what `rt` makes of an address space: the threads it
//! started there, its heap and its thread area. It ends as a whole:
//! [`exit`] (also what returning from `main` does, and what a panic in
//! any thread does with status [`PANIC_STATUS`]) suspends every other
//! thread, reports the status to the parent, and ends the calling thread.
//!
//! The parent learns the end through the endpoint it gave the program
//! (`abi::startup::StartupInfo::parent`): an exit message
//! ([`abi::startup::EXIT_LABEL`], word 0 the status), or, for a thread
//! that takes an exception nobody handles, the kernel's fault message
//! through the same endpoint (it is every thread's fault endpoint). The
//! parent then destroys what is left. The first program has no parent:
//! its first thread plays the part (see `start`), receiving the exit
//! message and the main thread's faults, and ends the run.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use abi::CapSlot;
use abi::ipc::MessageInfo;
use abi::syscall::SendArgs;

use crate::sys;
use crate::thread::TlsTemplate;

/// The status of a process that panicked.
pub const PANIC_STATUS: u64 = 101;

/// The slots of the program's own budget, address space and capability
/// space, which new threads and memory are made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnCaps {
    /// Kernel memory for new objects.
    pub budget: CapSlot,
    /// The program's address space.
    pub aspace: CapSlot,
    /// The program's capability space.
    pub cspace: CapSlot,
}

static OWN: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];
static PARENT: AtomicU32 = AtomicU32::new(0);
static FAULTS: AtomicU32 = AtomicU32::new(0);
static TLS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static EXITING: AtomicBool = AtomicBool::new(false);

/// Records the program's own capabilities (`rt` does this at start; a
/// program that builds its own threads by hand may too).
pub fn set_own_caps(caps: OwnCaps) {
    OWN[0].store(caps.budget.0, Ordering::Relaxed);
    OWN[1].store(caps.aspace.0, Ordering::Relaxed);
    OWN[2].store(caps.cspace.0, Ordering::Relaxed);
}

/// The program's own capabilities.
pub fn own_caps() -> OwnCaps {
    OwnCaps {
        budget: CapSlot(OWN[0].load(Ordering::Relaxed)),
        aspace: CapSlot(OWN[1].load(Ordering::Relaxed)),
        cspace: CapSlot(OWN[2].load(Ordering::Relaxed)),
    }
}

/// Sets the fault endpoint of threads started from now on: by default a
/// loaded program's threads report faults to the parent, so a fault in
/// any thread ends the process; with [`CapSlot::NULL`] a fault ends just
/// the faulting thread and `JoinHandle::join` reports it (a test runner
/// wants that). Threads already running keep theirs.
pub fn set_fault_endpoint(slot: CapSlot) {
    FAULTS.store(slot.0, Ordering::Relaxed);
}

/// Records where the exit status goes and the fault endpoint new threads
/// get (the parent's endpoint for a loaded program, both).
#[cfg(target_os = "none")]
pub(crate) fn set_parent(exit: CapSlot, faults: CapSlot) {
    PARENT.store(exit.0, Ordering::Relaxed);
    FAULTS.store(faults.0, Ordering::Relaxed);
}

/// The fault endpoint new threads get: the parent's endpoint, or none.
pub fn fault_endpoint() -> CapSlot {
    CapSlot(FAULTS.load(Ordering::Relaxed))
}

/// Records the program's TLS template (from its PT_TLS).
#[cfg(target_os = "none")]
pub(crate) fn set_tls_template(tls: &TlsTemplate) {
    TLS[0].store(tls.image, Ordering::Relaxed);
    TLS[1].store(tls.filesz, Ordering::Relaxed);
    TLS[2].store(tls.memsz, Ordering::Relaxed);
    TLS[3].store(tls.align, Ordering::Relaxed);
}

/// The program's TLS template (empty for a program without PT_TLS).
pub fn tls_template() -> TlsTemplate {
    TlsTemplate {
        image: TLS[0].load(Ordering::Relaxed),
        filesz: TLS[1].load(Ordering::Relaxed),
        memsz: TLS[2].load(Ordering::Relaxed),
        align: TLS[3].load(Ordering::Relaxed),
    }
}

/// Ends the process with `status`: the other threads stop, the parent
/// gets the status, and this thread ends. A second exit racing the first
/// just ends its own thread.
pub fn exit(status: u64) -> ! {
    if EXITING.swap(true, Ordering::AcqRel) {
        sys::thread_exit(status);
    }
    crate::thread::registry_suspend_others();
    crate::inherit::run_at_exit();
    let parent = PARENT.load(Ordering::Relaxed);
    if parent != 0 {
        let args = SendArgs {
            endpoint: CapSlot(parent),
            info: MessageInfo::new(abi::startup::EXIT_LABEL, 1, 0),
            mr0: status,
            mr1: 0,
            mr2: 0,
            mr3: 0,
        };
        // The parent receives it and destroys the process; if it has gone,
        // there is no one left to tell.
        let _ = sys::invoke::<_, abi::syscall::NoResult>(&args);
    }
    sys::thread_exit(status)
}

/// The program's arguments (from its startup page; none for the first
/// program, whose parameters are the kernel command line). An argument
/// that is not UTF-8 reads as "".
pub fn args() -> Strings {
    match crate::start::startup_info() {
        Some(info) => Strings::new(info.argv, info.argc),
        None => Strings::new(0, 0),
    }
}

/// The program's environment strings (`KEY=value`).
pub fn env() -> Strings {
    match crate::start::startup_info() {
        Some(info) => Strings::new(info.envp, info.envc),
        None => Strings::new(0, 0),
    }
}

/// The value of environment variable `key`.
pub fn env_var(key: &str) -> Option<&'static str> {
    env().find_map(|entry| entry.strip_prefix(key)?.strip_prefix('='))
}

/// Strings from a NUL-terminated array of C strings the loader wrote.
#[derive(Clone, Debug)]
pub struct Strings {
    array: u64,
    index: u64,
    count: u64,
}

impl Strings {
    fn new(array: u64, count: u64) -> Strings {
        // The loader puts at most this many on a stack.
        let count = if array == 0 { 0 } else { count.min(4096) };
        Strings {
            array,
            index: 0,
            count,
        }
    }
}

impl Iterator for Strings {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        if self.index >= self.count {
            return None;
        }
        // SAFETY: the loader wrote `count` pointers at `array` and the
        // strings they point at on the first thread's stack, which stays
        // mapped and is never written again above the initial stack
        // pointer; `index < count`.
        let ptr = unsafe { (self.array as *const u64).add(self.index as usize).read() };
        self.index += 1;
        if ptr == 0 {
            return Some("");
        }
        let mut len = 0usize;
        // SAFETY: as above: each string is NUL-terminated within the stack
        // block the loader filled (it bounds them when it writes them).
        while unsafe { (ptr as *const u8).add(len).read() } != 0 && len < 1 << 16 {
            len += 1;
        }
        // SAFETY: `len` bytes from `ptr` were just read one by one.
        let bytes = unsafe { core::slice::from_raw_parts(ptr as *const u8, len) };
        Some(core::str::from_utf8(bytes).unwrap_or(""))
    }
}
