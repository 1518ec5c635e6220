//! [`Pipe`]: the buffer of one pipe, with its reader and writer counts.
//!
//! The pipe server keeps one `Pipe` per pipe and calls it from its receive
//! loop; it never blocks here. [`Pipe::read`] and [`Pipe::write`] answer
//! [`FsError::WouldBlock`] where POSIX would block, and the server parks the
//! request and retries it when [`Pipe::readable`] or
//! [`Pipe::writable_for`] turn true (after the other side's read, write or
//! close). Who waits and whom to wake is the server's bookkeeping.
//!
//! # Semantics (POSIX pipes)
//!
//! - A write with no reader left fails with [`FsError::BrokenPipe`], whatever
//!   its length and the space left.
//! - A write of at most [`PIPE_BUF`] bytes is atomic: all of it goes in, or
//!   nothing and [`FsError::WouldBlock`]. So the chunks of several writers
//!   never interleave inside a small write.
//! - A longer write takes what fits, at least one byte, or `WouldBlock` when
//!   the pipe is full. The server writes the rest later; other writers'
//!   data may come in between.
//! - A read returns what is there, up to the buffer's length; on an empty
//!   pipe it is `WouldBlock` while a writer is left, and `Ok(0)` (end of
//!   file) once none is.
//! - Zero-length reads and writes return `Ok(0)` (after the broken-pipe
//!   check for writes).
//!
//! A new pipe has no reader and no writer; the server opens the ends it
//! hands out with [`Pipe::open_reader`] and [`Pipe::open_writer`].
//!
//! # Invariants
//!
//! - `len <= capacity`, `head < capacity`; the bytes are
//!   `buffer[head..head+len]`, wrapping at `capacity`.
//! - `capacity >= PIPE_BUF`, so every atomic write fits an empty pipe.

use alloc::boxed::Box;
use alloc::vec;

use crate::FsError;

/// Writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;

/// The capacity the pipe server gives a pipe unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// One pipe: a bounded ring of bytes, and how many read and write ends are
/// open.
#[derive(Debug)]
pub struct Pipe {
    /// The ring; its length is the capacity.
    buffer: Box<[u8]>,
    /// Index of the oldest byte.
    head: usize,
    /// Number of bytes held.
    len: usize,
    /// Open read ends.
    readers: u32,
    /// Open write ends.
    writers: u32,
}

impl Pipe {
    /// An empty pipe that holds up to `capacity_bytes` (at least
    /// [`PIPE_BUF`]: smaller values are raised to it), with no end open.
    pub fn new(capacity_bytes: usize) -> Pipe {
        Pipe {
            buffer: vec![0; capacity_bytes.max(PIPE_BUF)].into_boxed_slice(),
            head: 0,
            len: 0,
            readers: 0,
            writers: 0,
        }
    }

    /// How many bytes the pipe can hold.
    pub fn capacity(&self) -> usize {
        self.buffer.len()
    }

    /// How many bytes it holds now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many more bytes fit.
    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// Open read ends.
    pub fn readers(&self) -> u32 {
        self.readers
    }

    /// Open write ends.
    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Counts one more read end.
    ///
    /// # Errors
    /// [`FsError::TooManyOpen`] if the count is full.
    pub fn open_reader(&mut self) -> Result<(), FsError> {
        self.readers = self.readers.checked_add(1).ok_or(FsError::TooManyOpen)?;
        Ok(())
    }

    /// Counts one read end fewer. When the last goes, writers get
    /// [`FsError::BrokenPipe`]; the data left stays (nobody can read it).
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if no read end is open.
    pub fn close_reader(&mut self) -> Result<(), FsError> {
        self.readers = self.readers.checked_sub(1).ok_or(FsError::BadDescriptor)?;
        Ok(())
    }

    /// Counts one more write end.
    ///
    /// # Errors
    /// [`FsError::TooManyOpen`] if the count is full.
    pub fn open_writer(&mut self) -> Result<(), FsError> {
        self.writers = self.writers.checked_add(1).ok_or(FsError::TooManyOpen)?;
        Ok(())
    }

    /// Counts one write end fewer. When the last goes, readers get the data
    /// left and then end of file.
    ///
    /// # Errors
    /// [`FsError::BadDescriptor`] if no write end is open.
    pub fn close_writer(&mut self) -> Result<(), FsError> {
        self.writers = self.writers.checked_sub(1).ok_or(FsError::BadDescriptor)?;
        Ok(())
    }

    /// Whether a read would return now rather than [`FsError::WouldBlock`]:
    /// there are bytes, or no writer is left (end of file).
    pub fn readable(&self) -> bool {
        self.len > 0 || self.writers == 0
    }

    /// Whether a write of `len` bytes would return now rather than
    /// [`FsError::WouldBlock`]: no reader is left (it fails at once), the
    /// write is empty, or there is room for all of it (at most
    /// [`PIPE_BUF`] bytes) or for one byte (longer writes).
    pub fn writable_for(&self, len: usize) -> bool {
        let needed = if len <= PIPE_BUF { len } else { 1 };
        self.readers == 0 || self.free() >= needed
    }

    /// Appends bytes of `data` (see the module documentation) and returns
    /// how many.
    ///
    /// # Errors
    /// [`FsError::BrokenPipe`] with no reader open; [`FsError::WouldBlock`]
    /// when an atomic write does not fit whole or the pipe is full.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, FsError> {
        self.write_with(data.len(), |at, room| {
            room.copy_from_slice(&data[at..at + room.len()]);
        })
    }

    /// [`Pipe::write`] of `len` bytes that the caller copies in itself:
    /// `fill(at, room)` must fill `room` with bytes `at..at + room.len()`
    /// of the data. It is called once or twice (the free space may wrap),
    /// with `at` 0 and then the first piece's length, and only when the
    /// write goes in. Returns how many bytes went in.
    ///
    /// # Errors
    /// As [`Pipe::write`].
    pub fn write_with(
        &mut self,
        len: usize,
        mut fill: impl FnMut(usize, &mut [u8]),
    ) -> Result<usize, FsError> {
        if self.readers == 0 {
            return Err(FsError::BrokenPipe);
        }
        if len == 0 {
            return Ok(0);
        }
        if !self.writable_for(len) {
            return Err(FsError::WouldBlock);
        }
        let count = len.min(self.free());
        let capacity = self.capacity();
        // The free space starts after the last byte held and may wrap.
        let tail = (self.head + self.len) % capacity;
        let first = count.min(capacity - tail);
        fill(0, &mut self.buffer[tail..tail + first]);
        if count > first {
            fill(first, &mut self.buffer[..count - first]);
        }
        self.len += count;
        Ok(count)
    }

    /// Moves the oldest bytes into `out`, as many as are held and fit, and
    /// returns how many; `Ok(0)` is end of file (or an empty `out`).
    ///
    /// # Errors
    /// [`FsError::WouldBlock`] when the pipe is empty and a writer is left.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, FsError> {
        self.read_with(out.len(), |at, bytes| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
        })
    }

    /// [`Pipe::read`] of at most `max` bytes that the caller copies out
    /// itself: `drain(at, bytes)` gets bytes `at..at + bytes.len()` of
    /// what is read, once or twice (the held bytes may wrap). Returns how
    /// many bytes were read.
    ///
    /// # Errors
    /// As [`Pipe::read`].
    pub fn read_with(
        &mut self,
        max: usize,
        drain: impl FnMut(usize, &[u8]),
    ) -> Result<usize, FsError> {
        let count = self.peek_with(max, drain)?;
        self.consume(count);
        Ok(count)
    }

    /// As [`Pipe::read`], but the bytes stay in the pipe until
    /// [`Pipe::consume`] (a server hands them to a waiting reader first,
    /// and keeps them if that reader has gone).
    ///
    /// # Errors
    /// As [`Pipe::read`].
    pub fn peek(&self, out: &mut [u8]) -> Result<usize, FsError> {
        self.peek_with(out.len(), |at, bytes| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
        })
    }

    /// As [`Pipe::read_with`], but the bytes stay in the pipe until
    /// [`Pipe::consume`].
    ///
    /// # Errors
    /// As [`Pipe::read`].
    pub fn peek_with(
        &self,
        max: usize,
        mut drain: impl FnMut(usize, &[u8]),
    ) -> Result<usize, FsError> {
        if max == 0 {
            return Ok(0);
        }
        if self.len == 0 {
            return if self.writers == 0 {
                Ok(0)
            } else {
                Err(FsError::WouldBlock)
            };
        }
        let count = max.min(self.len);
        let first = count.min(self.capacity() - self.head);
        drain(0, &self.buffer[self.head..self.head + first]);
        if count > first {
            drain(first, &self.buffer[..count - first]);
        }
        Ok(count)
    }

    /// Drops the `count` oldest bytes (at most as many as are held).
    pub fn consume(&mut self, count: usize) {
        let count = count.min(self.len);
        self.head = (self.head + count) % self.capacity();
        self.len -= count;
        if self.len == 0 {
            // Start over at the front: later writes wrap less often.
            self.head = 0;
        }
    }
}

impl Default for Pipe {
    /// An empty pipe of [`DEFAULT_CAPACITY`].
    fn default() -> Pipe {
        Pipe::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests;
