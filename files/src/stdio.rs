//! Standard input, output and error: the `FILE` handles named `stdin`,
//! `stdout` and `stderr` a parent passes in the startup page (a console,
//! a pipe, a file in /tmp).
//!
//! [`print!`](crate::print) and [`println!`](crate::println) write to
//! `stdout`; [`install`] makes `rt::print!`/`rt::println!` write there too
//! (without it they go to the kernel's debug console, as they do in a
//! program without a `stdout`).
//! [`eprint!`](crate::eprint) and [`eprintln!`](crate::eprintln) write to
//! `stderr` (or `stdout`, or the debug console, whichever exists first).
//! [`stdin`] reads. Each stream is opened once and shared by the
//! program's threads behind a lock.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use fscore::FsError;
use rt::sync::{Mutex, OnceLock};

use crate::File;

/// One standard stream: the file, if the parent passed one.
struct Stream {
    file: Mutex<Option<File>>,
}

fn stream(index: usize) -> &'static Stream {
    static STREAMS: [OnceLock<Stream>; 3] = [const { OnceLock::new() }; 3];
    const NAMES: [&str; 3] = ["stdin", "stdout", "stderr"];
    STREAMS[index].get_or_init(|| Stream {
        file: Mutex::new(File::inherited(NAMES[index])),
    })
}

/// Writes all of `bytes` to stream `index`; `false` if it has no file or
/// the write failed.
fn write_to(index: usize, bytes: &[u8]) -> bool {
    let mut file = stream(index).file.lock();
    match file.as_mut() {
        Some(file) => file.write_all(bytes).is_ok(),
        None => false,
    }
}

/// Makes `rt::print!` write to `stdout` when the program has one.
pub fn install() {
    fn output(bytes: &[u8]) -> bool {
        write_to(1, bytes)
    }
    rt::debug::set_output(output);
}

/// Whether the program has a standard stream (0 stdin, 1 stdout, 2
/// stderr).
pub fn has(index: usize) -> bool {
    index < 3 && stream(index).file.lock().is_some()
}

/// Writes `bytes` to `stdout` (or the debug console without one).
pub fn write_out(bytes: &[u8]) {
    if !write_to(1, bytes) {
        let _ = rt::sys::debug_write(rt::debug::console(), bytes);
    }
}

/// Writes `bytes` to `stderr`, or `stdout`, or the debug console.
pub fn write_err(bytes: &[u8]) {
    if !write_to(2, bytes) && !write_to(1, bytes) {
        let _ = rt::sys::debug_write(rt::debug::console(), bytes);
    }
}

/// Formats to `stdout`; used by [`print!`](crate::print).
pub fn print_args(args: fmt::Arguments<'_>) {
    let mut text = String::new();
    let _ = fmt::Write::write_fmt(&mut text, args);
    write_out(text.as_bytes());
}

/// Formats to `stderr`; used by [`eprint!`](crate::eprint).
pub fn eprint_args(args: fmt::Arguments<'_>) {
    let mut text = String::new();
    let _ = fmt::Write::write_fmt(&mut text, args);
    write_err(text.as_bytes());
}

/// Standard input.
#[derive(Clone, Copy, Debug)]
pub struct Stdin;

/// The program's standard input.
pub fn stdin() -> Stdin {
    Stdin
}

impl Stdin {
    /// Reads up to `buf.len()` bytes; 0 at the end of the input.
    ///
    /// # Errors
    /// `BadDescriptor` without a `stdin`; the server's otherwise.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut file = stream(0).file.lock();
        file.as_mut().ok_or(FsError::BadDescriptor)?.read(buf)
    }

    /// Reads to the end of the input.
    ///
    /// # Errors
    /// As [`Stdin::read`].
    pub fn read_to_end(&self, out: &mut Vec<u8>) -> Result<usize, FsError> {
        let mut file = stream(0).file.lock();
        file.as_mut()
            .ok_or(FsError::BadDescriptor)?
            .read_to_end(out)
    }

    /// The capability of the `stdin` file, to pass to a child.
    pub fn slot(&self) -> Option<abi::CapSlot> {
        use rt::Handle;
        stream(0).file.lock().as_ref().map(|f| f.endpoint().slot())
    }
}

/// Prints to standard output (the debug console without one). `rt::print!`
/// writes there too once [`install`] ran.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::stdio::print_args(format_args!($($arg)*)) };
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::stdio::print_args(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints to standard error.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::stdio::eprint_args(format_args!($($arg)*)) };
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => { $crate::stdio::eprint_args(format_args!("{}\n", format_args!($($arg)*))) };
}
