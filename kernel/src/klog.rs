//! The kernel log: `klog!(level, ...)` writes one line to the debug console
//! (`arch::debugcon`, QEMU's port 0xe9), prefixed by
//! the calling module, without allocating. Lines below
//! [`crate::config::LOG_LEVEL`] compile to nothing.
//!
//! The lines are also kept, the newest [`KERNEL_LOG_BYTES`] of them, in a
//! ring that `DebugLogRead` copies out (`dmesg`). User programs' debug
//! output (`write_raw`) and panic messages go to the console only.

use core::fmt::{self, Write};

use abi::syscall::KERNEL_LOG_BYTES;
use kcore::logring::{LogRing, Read};

/// Severity of a log line, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The kernel cannot go on.
    Error = 0,
    /// Something went wrong but the kernel carries on (a user thread was killed).
    Warn = 1,
    /// Boot progress and configuration.
    Info = 2,
    /// User mistakes and details; off by default.
    Debug = 3,
}

impl Level {
    const fn tag(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
        }
    }
}

/// The kept log.
type Ring = LogRing<{ KERNEL_LOG_BYTES as usize }>;

/// Serialises log lines so that two never interleave, and holds the ring.
static LOG: spin::Mutex<Ring> = spin::Mutex::new(Ring::new());

/// The debug console alone (user output, panics).
struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::arch::debugcon::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// The debug console and the ring: where log lines go.
struct Logged<'a>(&'a mut Ring);

impl Write for Logged<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::arch::debugcon::write_bytes(s.as_bytes());
        self.0.push(s.as_bytes());
        Ok(())
    }
}

/// Writes one log line. Called by [`klog!`]; use that instead.
pub fn write_line(level: Level, module: &str, args: fmt::Arguments<'_>) {
    let mut ring = LOG.lock();
    let module = module.strip_prefix("kernel::").unwrap_or(module);
    // Console writes cannot fail.
    let _ = writeln!(Logged(&mut ring), "[{}] {}: {}", level.tag(), module, args);
}

/// Copies kept log bytes from position `cursor` of the log's history into
/// `out` (`DebugLogRead`).
pub fn read(cursor: u64, out: &mut [u8]) -> Read {
    LOG.lock().read(cursor, out)
}

/// Writes raw bytes to the console without a prefix (user debug output).
pub fn write_raw(bytes: &[u8]) {
    let _guard = LOG.lock();
    crate::arch::debugcon::write_bytes(bytes);
}

/// Writes a panic message without taking the log lock (it may be held by
/// the code that panicked).
pub fn write_panic(args: fmt::Arguments<'_>) {
    let _ = writeln!(Console, "{args}");
}

/// Logs one line at a level: `klog!(Info, "frames: {}", n)`.
#[macro_export]
macro_rules! klog {
    ($level:ident, $($arg:tt)*) => {
        if $crate::klog::Level::$level <= $crate::config::LOG_LEVEL {
            $crate::klog::write_line(
                $crate::klog::Level::$level,
                module_path!(),
                format_args!($($arg)*),
            );
        }
    };
}
