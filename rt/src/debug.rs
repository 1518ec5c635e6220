//! Debug output through the debug capability (`DebugWrite`), before the
//! serial driver exists: [`print!`] and [`println!`]. Output is buffered per
//! call so one line reaches the console in one syscall.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

use abi::CapSlot;

static CONSOLE: AtomicU32 = AtomicU32::new(0);

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
            // Printing is best effort: a program without the capability
            // simply prints nothing.
            let _ = crate::sys::debug_write(console(), &self.bytes[..self.len]);
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

/// Prints to the debug console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::debug::print_args(format_args!($($arg)*)) };
}

/// Prints a line to the debug console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::debug::print_args(format_args!("{}\n", format_args!($($arg)*))) };
}
