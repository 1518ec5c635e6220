//! [`PipeRing`]: a pipe end in direct mode, moving bytes through the
//! pipe's ring (`fscore::pipe_ring`) without the pipe server.
//!
//! Every end of a direct pipe maps the same memory object: a header page
//! of 32-bit words, accessed only through atomics, and a data area of
//! 64 KiB, copied with `SharedRegion::copy_in` and `copy_out` (`rt::shared`). Ends take
//! the lock word (their id in it, so that the server can free it if they
//! go while holding it), look at the indices, copy, publish the index
//! they moved, and wake the other side's futex word only if someone
//! counted themselves as waiting. A read of an empty ring, or a write
//! that does not fit, counts itself as waiting under the lock, reads the
//! sequence word it then sleeps on, and sleeps with the lock free; the
//! writer that fills it (the reader that empties it, or the server when
//! the other side's last end goes) bumps that word and wakes it.
//!
//! Nothing read from the ring is trusted: indices that say the ring holds
//! more than it can are [`FsError::Io`] (the pipe is broken for this end;
//! nothing else is), and every copy stays inside the data area. A peer
//! that rewrites the lock or the sequence words can stall the pipe, as
//! any reader or writer of a pipe can; it cannot make this end panic or
//! touch memory outside the ring.
//!
//! One ring is used by one call at a time in a `File` (`read` and `write`
//! take it by `&mut`); several `File`s of one program may map the same
//! ring in different slots, each with its own id.

use core::sync::atomic::{AtomicU32, Ordering::SeqCst};

use abi::layout::PAGE_BYTES;
use abi::syscall::FUTEX_ALL;
use fscore::FsError;
use fscore::pipe_ring::{
    self, CONTENDED, ID_MAX, NO_READERS, NO_WRITERS, RING_PAGES, SERVER_GONE, word,
};
use protocols::file::{self, FileClient};
use rt::ipc::Endpoint;
use rt::memory::MemoryObject;
use rt::shared::SharedRegion;
use rt::sys;

use crate::slots::{Pool, Slot};

/// Rings a program may have mapped at once.
const SLOTS: u32 = 64;
/// Where slot `i` is mapped: `RING_BASE + i * SLOT_BYTES` (the header
/// page, then the data area).
const RING_BASE: u64 = 0x0000_3500_0000_0000;
/// Address space for each slot (more than a ring's 17 pages).
const SLOT_BYTES: u64 = 128 << 10;
/// The address slots.
static SLOTS_POOL: Pool = Pool::new(SLOTS);

/// A pipe end's mapping of its pipe's ring.
///
/// It keeps no capability to the ring's memory object: its mappings keep
/// the object alive, and a capability would be deleted from under it if
/// the server died (the server's budget paid for the object, and killing
/// a process revokes its budget), leaving a slot that a later capability
/// might take and a drop would then delete.
#[derive(Debug)]
pub struct PipeRing {
    // Dropped in this order: unmapped, the slot freed.
    header: SharedRegion,
    data: SharedRegion,
    _slot: Slot,
    /// This end's lock id (the server's).
    id: u32,
    /// Whether this is a write end (else a read end).
    writer: bool,
}

impl PipeRing {
    /// Puts the pipe of the open end `endpoint` names in direct mode (or
    /// finds it there) and maps its ring.
    ///
    /// The server pays for the ring; this program pays for its mapping's
    /// page tables.
    ///
    /// # Errors
    /// `NoSpace` when the budget, the address slots or the server's ring
    /// memory run out; the server's: `WouldBlock` while the pipe holds
    /// bytes or waiting calls of the message path, `NotSupported` while
    /// an end has a data area, `BadDescriptor`.
    pub fn attach(endpoint: &Endpoint) -> Result<PipeRing, FsError> {
        let slot = SLOTS_POOL.take().ok_or(FsError::NoSpace)?;
        let answer = FileClient::new(endpoint).attach_pipe();
        let (memory, id, side) = answer.map_err(file::error_of)?;
        let memory: MemoryObject = memory.into_handle();
        if id == 0 || id > ID_MAX || side > 1 {
            return Err(FsError::InvalidArgument);
        }
        let vaddr = RING_BASE + u64::from(slot.index()) * SLOT_BYTES;
        let header = SharedRegion::map(&memory, 0, vaddr, 1).map_err(|_| FsError::NoSpace)?;
        let data = SharedRegion::map(&memory, 1, vaddr + PAGE_BYTES, RING_PAGES - 1)
            .map_err(|_| FsError::NoSpace)?;
        // The mappings keep the object (see the type's documentation).
        drop(memory);
        if header.words().len() < word::COUNT || data.len_bytes() != pipe_ring::DATA_BYTES as usize
        {
            return Err(FsError::InvalidArgument);
        }
        Ok(PipeRing {
            header,
            data,
            _slot: slot,
            id,
            writer: side == 1,
        })
    }

    fn word(&self, index: usize) -> &AtomicU32 {
        // `attach` checked the header holds `word::COUNT` words.
        &self.header.words()[index]
    }

    /// Takes the lock, sleeping on it while another end holds it.
    fn lock(&self) {
        let lock = self.word(word::LOCK);
        if lock.compare_exchange(0, self.id, SeqCst, SeqCst).is_ok() {
            return;
        }
        loop {
            let value = lock.load(SeqCst);
            if value == 0 {
                // Others may still sleep on it: keep it marked.
                if lock
                    .compare_exchange(0, self.id | CONTENDED, SeqCst, SeqCst)
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            if value & CONTENDED == 0
                && lock
                    .compare_exchange(value, value | CONTENDED, SeqCst, SeqCst)
                    .is_err()
            {
                continue;
            }
            // A wake-up, a changed word or an error: look again.
            let _ = sys::futex_wait(lock, value | CONTENDED, 0);
        }
    }

    /// Frees the lock, waking one end that sleeps on it.
    fn unlock(&self) {
        let lock = self.word(word::LOCK);
        if lock.swap(0, SeqCst) & CONTENDED != 0 {
            let _ = sys::futex_wake(lock, 1);
        }
    }

    /// Under the lock: the head, the tail and the bytes held, or `Io`
    /// (the lock is then freed).
    fn indices(&self) -> Result<(u32, u32, u32), FsError> {
        let head = self.word(word::HEAD).load(SeqCst);
        let tail = self.word(word::TAIL).load(SeqCst);
        match pipe_ring::held(head, tail) {
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
    /// ([`PipeRing::server_gone`]).
    fn wait(&self, waiters: usize, seq: usize, value: u32) {
        self.word(waiters).fetch_add(1, SeqCst);
        self.unlock();
        let _ = sys::futex_wait(self.word(seq), value, 0);
        self.lock();
        self.word(waiters).fetch_sub(1, SeqCst);
    }

    /// Under the lock: the flags, or `BadDescriptor` (the lock then
    /// freed) once an end has found the server gone.
    fn flags(&self) -> Result<u32, FsError> {
        let flags = self.word(word::FLAGS).load(SeqCst);
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
        self.word(word::FLAGS).fetch_or(SERVER_GONE, SeqCst);
        for seq in [word::DATA_SEQ, word::SPACE_SEQ] {
            self.word(seq).fetch_add(1, SeqCst);
            let _ = sys::futex_wake(self.word(seq), FUTEX_ALL);
        }
    }

    /// Under the lock: if anyone counted themselves in `waiters`, bumps
    /// `seq`; frees the lock; then wakes who sleeps on `seq`.
    fn unlock_and_wake(&self, waiters: usize, seq: usize) {
        let wake = self.word(waiters).load(SeqCst) != 0;
        if wake {
            self.word(seq).fetch_add(1, SeqCst);
        }
        self.unlock();
        if wake {
            let _ = sys::futex_wake(self.word(seq), FUTEX_ALL);
        }
    }

    /// Reads what the pipe holds into `buf`, at most `buf.len()` and 64
    /// KiB; waits while it is empty and a writer is left; 0 is the end of
    /// the file.
    ///
    /// # Errors
    /// `WrongMode` on a write end; `Io` when the ring's indices are
    /// broken; `BadDescriptor` once the server is known to be gone.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, FsError> {
        if self.writer {
            return Err(FsError::WrongMode);
        }
        self.lock();
        loop {
            let seq = self.word(word::DATA_SEQ).load(SeqCst);
            let (head, _, held) = self.indices()?;
            let no_writers = self.flags()? & NO_WRITERS != 0;
            let Some(count) = pipe_ring::read_amount(buf.len(), held, no_writers) else {
                self.wait(word::READ_WAITERS, word::DATA_SEQ, seq);
                continue;
            };
            let mut done = 0;
            for (offset, len) in pipe_ring::spans(head, count) {
                if len > 0
                    && self
                        .data
                        .copy_out(offset, &mut buf[done..done + len])
                        .is_err()
                {
                    self.unlock();
                    return Err(FsError::Io);
                }
                done += len;
            }
            self.word(word::HEAD)
                .store(head.wrapping_add(count), SeqCst);
            if count > 0 {
                self.unlock_and_wake(word::WRITE_WAITERS, word::SPACE_SEQ);
            } else {
                self.unlock();
            }
            return Ok(done);
        }
    }

    /// Writes `data` into the pipe: all of it if it is at most
    /// `PIPE_BUF` bytes (waiting for room), else what fits, at least a
    /// byte. Returns how many went in.
    ///
    /// # Errors
    /// `WrongMode` on a read end; `BrokenPipe` when no reader is left;
    /// `Io` when the ring's indices are broken; `BadDescriptor` once the
    /// server is known to be gone.
    pub fn write(&self, data: &[u8]) -> Result<usize, FsError> {
        if !self.writer {
            return Err(FsError::WrongMode);
        }
        self.lock();
        loop {
            let seq = self.word(word::SPACE_SEQ).load(SeqCst);
            let (_, tail, held) = self.indices()?;
            let no_readers = self.flags()? & NO_READERS != 0;
            let free = pipe_ring::DATA_BYTES - held;
            let count = match pipe_ring::write_amount(data.len(), free, no_readers) {
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
            for (offset, len) in pipe_ring::spans(tail, count) {
                if len > 0 && self.data.copy_in(offset, &data[done..done + len]).is_err() {
                    self.unlock();
                    return Err(FsError::Io);
                }
                done += len;
            }
            self.word(word::TAIL)
                .store(tail.wrapping_add(count), SeqCst);
            if count > 0 {
                self.unlock_and_wake(word::READ_WAITERS, word::DATA_SEQ);
            } else {
                self.unlock();
            }
            return Ok(done);
        }
    }
}
