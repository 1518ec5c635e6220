//! [`RingEnd`]: one end of a direct pipe, moving bytes through the ring
//! without the pipe server, over any [`RingMemory`] (Mica's mappings in
//! `files::pipe_ring`, loom's in `fscore/tests/pipe_loom.rs`).
//!
//! The protocol: an end takes the lock word (its id in it, so that the
//! server can free it if the end goes while holding it), looks at the
//! indices, copies, publishes the index it moved, and wakes the other
//! side's sequence word only if someone counted themselves as waiting. A
//! read of an empty ring, or a write that does not fit, counts itself as
//! waiting under the lock, reads the sequence word it then sleeps on
//! (before anything it decides on), and sleeps with the lock free; the
//! writer that fills it (the reader that empties it, or the server when
//! the other side's last end goes: [`super::server`]) bumps that word and
//! wakes it.
//!
//! The lock: a compare-and-swap of 0 to the end's id; a waiter sets
//! [`CONTENDED`] and sleeps on the lock word, and takes the lock with
//! `CONTENDED` set once it was free (others may still sleep); the holder
//! swaps in 0 and wakes one sleeper if `CONTENDED` was set.
//!
//! Nothing read from the ring is trusted: indices that say the ring holds
//! more than it can are [`FsError::Io`] (the pipe is broken for this end;
//! nothing else is), and every copy stays inside the data area. A peer
//! that rewrites the lock or the sequence words can stall the pipe, as
//! any reader or writer of a pipe can; it cannot make this end panic or
//! reach outside the ring.

use super::memory::{RingMemory, Wake};
use super::server::wake_sleepers;
use super::{CONTENDED, NO_READERS, NO_WRITERS, SERVER_GONE, word};
use crate::FsError;

/// Which side of the pipe an end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A read end.
    Reader,
    /// A write end.
    Writer,
}

/// One end of a direct pipe over the ring `M`.
///
/// One call at a time per `RingEnd` (on Mica a `File` takes its ring by
/// `&mut` for each call); any number of ends, in any number of programs,
/// may share a ring, each with its own id.
#[derive(Debug)]
pub struct RingEnd<M> {
    /// The ring.
    memory: M,
    /// This end's lock id (the server's): 1 to `ID_MAX`.
    id: u32,
    /// Its side.
    side: Side,
}

impl<M: RingMemory> RingEnd<M> {
    /// The end with lock id `id` (from the server, 1 to
    /// [`super::ID_MAX`]; another value only breaks this pipe's lock) on
    /// `side` of the ring `memory`.
    pub fn new(memory: M, id: u32, side: Side) -> RingEnd<M> {
        RingEnd { memory, id, side }
    }

    /// The ring.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// Takes the lock, sleeping on it while another end holds it.
    #[inline]
    fn lock(&self) {
        let memory = &self.memory;
        if memory.compare_exchange(word::LOCK, 0, self.id).is_ok() {
            return;
        }
        loop {
            let value = memory.load(word::LOCK);
            if value == 0 {
                // Others may still sleep on it: keep it marked.
                if memory
                    .compare_exchange(word::LOCK, 0, self.id | CONTENDED)
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            if value & CONTENDED == 0
                && memory
                    .compare_exchange(word::LOCK, value, value | CONTENDED)
                    .is_err()
            {
                continue;
            }
            // A wake-up, a changed word or an error: look again.
            memory.futex_wait(word::LOCK, value | CONTENDED);
        }
    }

    /// Frees the lock, waking one end that sleeps on it.
    #[inline]
    fn unlock(&self) {
        if self.memory.swap(word::LOCK, 0) & CONTENDED != 0 {
            self.memory.futex_wake(word::LOCK, Wake::One);
        }
    }

    /// Under the lock: the head, the tail and the bytes held, or `Io`
    /// (the lock is then freed).
    #[inline]
    fn indices(&self) -> Result<(u32, u32, u32), FsError> {
        let head = self.memory.load(word::HEAD);
        let tail = self.memory.load(word::TAIL);
        match M::GEOMETRY.held(head, tail) {
            Ok(held) => Ok((head, tail, held)),
            Err(error) => {
                self.unlock();
                Err(error)
            }
        }
    }

    /// Under the lock: counts this end as waiting on the sequence word
    /// `seq`, which held `value` when the ring was looked at, frees the
    /// lock, sleeps until the word changes, and takes the lock again.
    ///
    /// No deadline: a futex wait with one costs the kernel a timer armed
    /// and disarmed, about 450 instructions a wait (`pipe_pingpong` 3,549
    /// instead of 2,463). So a server that dies is learnt only through
    /// the flags: the first end whose call to it fails sets `SERVER_GONE`
    /// ([`RingEnd::server_gone`]).
    #[inline]
    fn wait(&self, waiters: usize, seq: usize, value: u32) {
        self.memory.fetch_add(waiters, 1);
        self.unlock();
        self.memory.futex_wait(seq, value);
        self.lock();
        self.memory.fetch_sub(waiters, 1);
    }

    /// Under the lock: the flags, or `BadDescriptor` (the lock then
    /// freed) once an end has found the server gone.
    #[inline]
    fn flags(&self) -> Result<u32, FsError> {
        let flags = self.memory.load(word::FLAGS);
        if flags & SERVER_GONE != 0 {
            self.unlock();
            return Err(FsError::BadDescriptor);
        }
        Ok(flags)
    }

    /// Tells every end that the pipe server is gone (a call to it
    /// failed): their reads and writes answer `BadDescriptor`, waiting
    /// ones too.
    pub fn server_gone(&self) {
        self.memory.fetch_or(word::FLAGS, SERVER_GONE);
        wake_sleepers(&self.memory);
    }

    /// Under the lock: if anyone counted themselves in `waiters`, bumps
    /// `seq`; frees the lock; then wakes who sleeps on `seq`.
    #[inline]
    fn unlock_and_wake(&self, waiters: usize, seq: usize) {
        let wake = self.memory.load(waiters) != 0;
        if wake {
            self.memory.fetch_add(seq, 1);
        }
        self.unlock();
        if wake {
            self.memory.futex_wake(seq, Wake::All);
        }
    }

    /// Reads what the pipe holds into `buf`, at most `buf.len()` and the
    /// data area's size; waits while it is empty and a writer is left; 0
    /// is the end of the file.
    ///
    /// # Errors
    /// `WrongMode` on a write end; `Io` when the ring's indices are
    /// broken or a copy fails; `BadDescriptor` once the server is known
    /// to be gone.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, FsError> {
        if self.side != Side::Reader {
            return Err(FsError::WrongMode);
        }
        self.lock();
        loop {
            let seq = self.memory.load(word::DATA_SEQ);
            let (head, _, held) = self.indices()?;
            let no_writers = self.flags()? & NO_WRITERS != 0;
            let Some(count) = M::GEOMETRY.read_amount(buf.len(), held, no_writers) else {
                self.wait(word::READ_WAITERS, word::DATA_SEQ, seq);
                continue;
            };
            let mut done = 0;
            for (offset, len) in M::GEOMETRY.spans(head, count) {
                if len > 0
                    && self
                        .memory
                        .copy_out(offset, &mut buf[done..done + len])
                        .is_err()
                {
                    self.unlock();
                    return Err(FsError::Io);
                }
                done += len;
            }
            self.memory.store(word::HEAD, head.wrapping_add(count));
            if count > 0 {
                self.unlock_and_wake(word::WRITE_WAITERS, word::SPACE_SEQ);
            } else {
                self.unlock();
            }
            return Ok(done);
        }
    }

    /// Writes `data` into the pipe: all of it if it is at most the
    /// geometry's atomic size (`PIPE_BUF` on Mica; waiting for room),
    /// else what fits, at least a byte. Returns how many went in.
    ///
    /// # Errors
    /// `WrongMode` on a read end; `BrokenPipe` when no reader is left;
    /// `Io` when the ring's indices are broken or a copy fails;
    /// `BadDescriptor` once the server is known to be gone.
    pub fn write(&self, data: &[u8]) -> Result<usize, FsError> {
        if self.side != Side::Writer {
            return Err(FsError::WrongMode);
        }
        self.lock();
        loop {
            let seq = self.memory.load(word::SPACE_SEQ);
            let (_, tail, held) = self.indices()?;
            let no_readers = self.flags()? & NO_READERS != 0;
            let free = M::GEOMETRY.data_bytes - held;
            let count = match M::GEOMETRY.write_amount(data.len(), free, no_readers) {
                Ok(Some(count)) => count,
                Ok(None) => {
                    self.wait(word::WRITE_WAITERS, word::SPACE_SEQ, seq);
                    continue;
                }
                Err(error) => {
                    self.unlock();
                    return Err(error);
                }
            };
            let mut done = 0;
            for (offset, len) in M::GEOMETRY.spans(tail, count) {
                if len > 0
                    && self
                        .memory
                        .copy_in(offset, &data[done..done + len])
                        .is_err()
                {
                    self.unlock();
                    return Err(FsError::Io);
                }
                done += len;
            }
            self.memory.store(word::TAIL, tail.wrapping_add(count));
            if count > 0 {
                self.unlock_and_wake(word::READ_WAITERS, word::DATA_SEQ);
            } else {
                self.unlock();
            }
            return Ok(done);
        }
    }
}
