//! The kernel log: `klog!(level, ...)` writes one line to the debug console
//! (`arch::debugcon`, QEMU's port 0xe9), prefixed by
//! the calling module, without allocating. Lines below
//! [`crate::config::LOG_LEVEL`] compile to nothing.

use core::fmt::{self, Write};

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

/// Serialises log lines so that two never interleave.
static LOG_LOCK: spin::Mutex<()> = spin::Mutex::new(());

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::arch::debugcon::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes one log line. Called by [`klog!`]; use that instead.
pub fn write_line(level: Level, module: &str, args: fmt::Arguments<'_>) {
    let _guard = LOG_LOCK.lock();
    let module = module.strip_prefix("kernel::").unwrap_or(module);
    // Console writes cannot fail.
    let _ = writeln!(Console, "[{}] {}: {}", level.tag(), module, args);
}

/// Writes raw bytes to the console without a prefix (user debug output).
pub fn write_raw(bytes: &[u8]) {
    let _guard = LOG_LOCK.lock();
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
