//! Console output: [`print!`] and [`println!`]. Output is buffered per
//! call so one line goes out in one piece: through the output function a
//! program installs with [`set_output`] (the serial driver's client,
//! `protocols::serial::use_as_stdout`), and through the debug capability
//! (`DebugWrite`, the kernel's debug console) when there is none or it
//! fails.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use abi::CapSlot;

use crate::sync::OnceLock;

static CONSOLE: AtomicU32 = AtomicU32::new(0);
static OUTPUT: OnceLock<fn(&[u8]) -> bool> = OnceLock::new();
/// Set by [`console_only`]: the output function is not called any more.
static CONSOLE_ONLY: AtomicBool = AtomicBool::new(false);

/// From now on [`print!`] writes only through the debug capability, never
/// through the output function: for a copy of a program's image whose
/// threads lack the state the output needs (the fuzzer's child, made by
/// copying the test runner, whose output is its `stdout` file).
pub fn console_only() {
    CONSOLE_ONLY.store(true, Ordering::Relaxed);
}

/// Sends what [`print!`] prints to `output` (which says whether it took
/// the bytes) from now on; false if an output was set already.
pub fn set_output(output: fn(&[u8]) -> bool) -> bool {
    OUTPUT.set(output).is_ok()
}

/// Sets the debug capability used by [`print!`].
pub fn set_console(slot: CapSlot) {
    CONSOLE.store(slot.0, Ordering::Relaxed);
}

/// The debug capability's slot (0 when the program has none).
pub fn console() -> CapSlot {
    CapSlot(CONSOLE.load(Ordering::Relaxed))
}

/// A fixed buffer that flushes to the console when full and on drop.
struct LineBuffer {
    bytes: [u8; 256],
    len: usize,
}

impl LineBuffer {
    fn flush(&mut self) {
        if self.len > 0 {
            let bytes = &self.bytes[..self.len];
            // Printing is best effort: a program with neither an output
            // nor the capability simply prints nothing.
            let through_output = !CONSOLE_ONLY.load(Ordering::Relaxed)
                && OUTPUT.get().is_some_and(|output| output(bytes));
            if !through_output {
                let _ = crate::sys::debug_write(console(), bytes);
            }
            self.len = 0;
        }
    }
}

impl Write for LineBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.bytes.len() {
                self.flush();
            }
            self.bytes[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// Formats and prints; used by [`print!`].
pub fn print_args(args: fmt::Arguments<'_>) {
    let mut buffer = LineBuffer {
        bytes: [0; 256],
        len: 0,
    };
    let _ = buffer.write_fmt(args);
    buffer.flush();
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::debug::print_args(format_args!($($arg)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::debug::print_args(format_args!("{}\n", format_args!($($arg)*))) };
}
