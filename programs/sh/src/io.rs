//! The shell's standard streams: three optional open files, shared
//! (`Rc`) so that `2>&1` makes two descriptors one file, and cloned for
//! each command so that its redirections do not outlive it.
//!
//! A child never gets one of these capabilities itself: the process
//! crate gives it an object of its own sharing each stream (a `dup`),
//! which it closes at exit and which its server closes if it is killed
//! (leases). So a pipe's reader sees the end of the file when its
//! writers end, however they end, and a child closing its `stdin` never
//! closes the shell's.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use files::{File, FsError};
use process::Stdio;
use rt::Handle;

/// One open file, as descriptors share it.
pub type Fd = Rc<RefCell<File>>;

/// Descriptors 0, 1 and 2.
#[derive(Clone, Default)]
pub struct Io {
    /// `stdin`, `stdout`, `stderr`; `None` when closed or `/dev/null`
    /// (writes vanish, reads find the end of the file).
    pub fds: [Option<Fd>; 3],
}

/// Wraps a file as a descriptor.
pub fn fd(file: File) -> Fd {
    Rc::new(RefCell::new(file))
}

impl Io {
    /// Writes all of `bytes` to descriptor `index`.
    ///
    /// # Errors
    /// The server's.
    pub fn write(&self, index: usize, bytes: &[u8]) -> Result<(), FsError> {
        match &self.fds[index] {
            Some(file) => file.borrow_mut().write_all(bytes),
            None => Ok(()),
        }
    }

    /// Writes to `stdout`.
    pub fn out(&self, bytes: &[u8]) -> Result<(), FsError> {
        self.write(1, bytes)
    }

    /// Writes to `stderr` (errors are dropped: nowhere to report them).
    pub fn err(&self, bytes: &[u8]) {
        let _ = self.write(2, bytes);
    }

    /// Reads one byte of `stdin`; `None` at the end of the input.
    ///
    /// # Errors
    /// The server's.
    pub fn read_byte(&self) -> Result<Option<u8>, FsError> {
        let Some(file) = &self.fds[0] else {
            return Ok(None);
        };
        let mut byte = [0u8; 1];
        match file.borrow_mut().read(&mut byte)? {
            0 => Ok(None),
            _ => Ok(Some(byte[0])),
        }
    }

    /// A child's three streams: a new capability to each open file
    /// (`dup`), which the caller keeps in `kept` until the child is
    /// reaped.
    pub fn dup_for_child(&self, _kept: &mut Vec<File>) -> [Stdio; 3] {
        // The process crate gives the child an object of its own for each
        // stream (a `dup`), which the child closes at exit and its server
        // closes if the child is killed: the shell keeps nothing.
        let mut stdio = [Stdio::Null; 3];
        for (slot, fd) in stdio.iter_mut().zip(self.fds.iter()) {
            if let Some(file) = fd {
                *slot = Stdio::File(file.borrow().endpoint().slot());
            }
        }
        stdio
    }
}
