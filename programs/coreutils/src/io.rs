//! A utility's streams: buffered `stdout`, `stderr` messages in GNU's
//! form, input from files or `stdin`, and option errors.
//!
//! The streams are the program's own locals, closed when it ends, so a
//! reader of its output sees the end of the file at once.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use files::{File, FsError, Kind};
use utilcore::errors::message;
use utilcore::opts::{self, OptError, Parsed, Spec};

/// Why a utility stopped early.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// Its output is a pipe nobody reads.
    BrokenPipe,
    /// Writing its output failed.
    Write(FsError),
    /// A status to exit with, the message written already.
    Status(u64),
}

/// Bytes buffered before a write.
const BUFFER_BYTES: usize = 4096;

/// The streams.
pub struct Io {
    /// The utility's name, for messages.
    pub name: &'static str,
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
    buffer: Vec<u8>,
}

impl Io {
    /// The program's streams.
    pub fn new(name: &'static str) -> Io {
        Io {
            name,
            stdin: File::inherited("stdin"),
            stdout: File::inherited("stdout"),
            stderr: File::inherited("stderr"),
            buffer: Vec::with_capacity(BUFFER_BYTES),
        }
    }

    /// `stdout`'s capability, if any (to ask whether it is a terminal).
    pub fn stdout_file(&self) -> Option<&File> {
        self.stdout.as_ref()
    }

    /// Writes to `stdout` (buffered).
    ///
    /// # Errors
    /// [`Stop`] when the output cannot be written.
    pub fn out(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= BUFFER_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes a string to `stdout`.
    ///
    /// # Errors
    /// As [`Io::out`].
    pub fn print(&mut self, text: &str) -> Result<(), Stop> {
        self.out(text.as_bytes())
    }

    /// Writes the buffer out.
    ///
    /// # Errors
    /// As [`Io::out`].
    pub fn flush(&mut self) -> Result<(), Stop> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let result = match self.stdout.as_mut() {
            Some(file) => file.write_all(&self.buffer),
            None => Ok(()),
        };
        self.buffer.clear();
        match result {
            Ok(()) => Ok(()),
            Err(FsError::BrokenPipe) => Err(Stop::BrokenPipe),
            Err(error) => Err(Stop::Write(error)),
        }
    }

    /// Writes `NAME: message` to `stderr`.
    pub fn error(&mut self, text: fmt::Arguments<'_>) {
        // On a terminal, output comes out a line at a time as GNU's does,
        // so what was printed before the error shows before it.
        if self
            .stdout
            .as_ref()
            .is_some_and(|f| f.kind() == Kind::Device)
        {
            let _ = self.flush();
        }
        let line = format!("{}: {text}\n", self.name);
        if let Some(file) = self.stderr.as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// Reports a file error on `path` (`NAME: PATH: message`).
    pub fn file_error(&mut self, path: &str, error: FsError) {
        self.error(format_args!("{path}: {}", message(error)));
    }

    /// The status for a [`Stop`], with its message.
    pub fn stopped(&mut self, stop: Stop) -> u64 {
        match stop {
            Stop::BrokenPipe => 141,
            Stop::Write(error) => {
                self.buffer.clear();
                self.error(format_args!("write error: {}", message(error)));
                1
            }
            Stop::Status(status) => status,
        }
    }

    /// Flushes and closes the streams; the final status.
    pub fn finish(mut self, status: u64) -> u64 {
        let status = match self.flush() {
            Ok(()) => status,
            Err(stop) => self.stopped(stop),
        };
        drop(self.stdin.take());
        drop(self.stdout.take());
        drop(self.stderr.take());
        status
    }

    /// Parses options; prints `--help` or the GNU error and stops.
    ///
    /// # Errors
    /// `Stop::Status(0)` after `--help`, `Stop::Status(bad)` after an
    /// option error.
    pub fn options(
        &mut self,
        args: &[String],
        spec: &Spec,
        usage: &str,
        bad: u64,
    ) -> Result<Parsed, Stop> {
        match opts::parse(args, spec) {
            Ok(parsed) => Ok(parsed),
            Err(OptError::Help) => {
                let text = format!("Usage: {} {usage}", self.name);
                self.print(&text)?;
                Err(Stop::Status(0))
            }
            Err(error) => {
                self.error(format_args!("{error}"));
                let hint = format!("Try '{} --help' for more information.\n", self.name);
                if let Some(file) = self.stderr.as_mut() {
                    let _ = file.write_all(hint.as_bytes());
                }
                Err(Stop::Status(bad))
            }
        }
    }

    /// Reads all of `path` (`-`: `stdin`) through `each`, a piece at a
    /// time; `false` (after a message) if it could not be read.
    ///
    /// # Errors
    /// What `each` returns.
    pub fn read_each(
        &mut self,
        path: &str,
        mut each: impl FnMut(&mut Io, &[u8]) -> Result<bool, Stop>,
    ) -> Result<bool, Stop> {
        let mut own;
        let file = if path == "-" {
            match self.stdin.take() {
                Some(file) => {
                    own = file;
                    &mut own
                }
                None => return Ok(true),
            }
        } else {
            match File::open_read(path) {
                Ok(file) => {
                    own = file;
                    &mut own
                }
                Err(error) => {
                    self.file_error(path, error);
                    return Ok(false);
                }
            }
        };
        // A big ramfs file is read through a ring (docs/files.md).
        if path != "-"
            && let Ok(meta) = file.metadata()
            && meta.size > 64 * 1024
        {
            let _ = file.attach_ring(64 * 1024);
        }
        let mut buf = alloc::vec![0u8; 64 * 1024];
        let mut ok = true;
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if !each(self, &buf[..n])? {
                        break;
                    }
                }
                Err(error) => {
                    self.file_error(path, error);
                    ok = false;
                    break;
                }
            }
        }
        if path == "-" {
            self.stdin = Some(own);
        }
        Ok(ok)
    }

    /// Reads all of `path` into memory; `None` after a message.
    ///
    /// # Errors
    /// As [`Io::out`].
    pub fn read_all(&mut self, path: &str) -> Result<Option<Vec<u8>>, Stop> {
        let mut data = Vec::new();
        let ok = self.read_each(path, |_, piece| {
            data.extend_from_slice(piece);
            Ok(true)
        })?;
        Ok(ok.then_some(data))
    }
}

/// `operands`, or `-` when there are none.
pub fn inputs(operands: &[String]) -> Vec<String> {
    if operands.is_empty() {
        alloc::vec![String::from("-")]
    } else {
        operands.to_vec()
    }
}
