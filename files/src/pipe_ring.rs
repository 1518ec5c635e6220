//! [`PipeRing`]: a pipe end in direct mode, moving bytes through the
//! pipe's ring (`fscore::pipe_ring`) without the pipe server.
//!
//! Every end of a direct pipe maps the same memory object: a header page
//! of 32-bit words, accessed only through atomics, and a data area of
//! 64 KiB, copied with `SharedRegion::copy_in` and `copy_out`
//! (`rt::shared`). The protocol (the lock, the waits and wake-ups, the
//! flags, what is trusted) is `fscore::pipe_ring::RingEnd`, generic over
//! the ring's memory so that loom checks it (`fscore/tests/pipe_loom.rs`);
//! this module implements that memory with its two mappings, `SeqCst`
//! atomics and the futex system calls.
//!
//! One ring is used by one call at a time in a `File` (`read` and `write`
//! take it by `&mut`); several `File`s of one program may map the same
//! ring in different slots, each with its own id.

use core::sync::atomic::{AtomicU32, Ordering::SeqCst};

use abi::layout::PAGE_BYTES;
use abi::syscall::FUTEX_ALL;
use fscore::FsError;
use fscore::pipe_ring::{
    self, CopyFault, ID_MAX, RING_PAGES, RingEnd, RingMemory, RingWords, Side, Wake, word,
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
    /// The protocol (`fscore::pipe_ring::end`) over this program's
    /// mapping of the ring, with this end's lock id and side.
    end: RingEnd<Mapping>,
    _slot: Slot,
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
        let side = if side == 1 {
            Side::Writer
        } else {
            Side::Reader
        };
        Ok(PipeRing {
            end: RingEnd::new(Mapping { header, data }, id, side),
            _slot: slot,
        })
    }

    /// Reads what the pipe holds into `buf`, at most `buf.len()` and 64
    /// KiB; waits while it is empty and a writer is left; 0 is the end of
    /// the file.
    ///
    /// # Errors
    /// `WrongMode` on a write end; `Io` when the ring's indices are
    /// broken; `BadDescriptor` once the server is known to be gone.
    #[inline]
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, FsError> {
        self.end.read(buf)
    }

    /// Writes `data` into the pipe: all of it if it is at most
    /// `PIPE_BUF` bytes (waiting for room), else what fits, at least a
    /// byte. Returns how many went in.
    ///
    /// # Errors
    /// `WrongMode` on a read end; `BrokenPipe` when no reader is left;
    /// `Io` when the ring's indices are broken; `BadDescriptor` once the
    /// server is known to be gone.
    #[inline]
    pub fn write(&self, data: &[u8]) -> Result<usize, FsError> {
        self.end.write(data)
    }

    /// Tells every end that the pipe server is gone (a call to it
    /// failed): their reads and writes answer `BadDescriptor`, waiting
    /// ones too.
    pub fn server_gone(&self) {
        self.end.server_gone();
    }
}

/// The ring as this program maps it: the header page and the data area.
#[derive(Debug)]
struct Mapping {
    // Dropped in this order, before the slot (see `PipeRing`).
    header: SharedRegion,
    data: SharedRegion,
}

impl Mapping {
    #[inline]
    fn word(&self, index: usize) -> &AtomicU32 {
        // `attach` checked the header holds `word::COUNT` words, and the
        // protocol asks for no other.
        &self.header.words()[index]
    }
}

/// Every word operation `SeqCst`, the futex calls' errors ignored (the
/// protocol looks again after every wait).
impl RingWords for Mapping {
    #[inline]
    fn load(&self, word: usize) -> u32 {
        self.word(word).load(SeqCst)
    }
    #[inline]
    fn store(&self, word: usize, value: u32) {
        self.word(word).store(value, SeqCst)
    }
    #[inline]
    fn swap(&self, word: usize, value: u32) -> u32 {
        self.word(word).swap(value, SeqCst)
    }
    #[inline]
    fn compare_exchange(&self, word: usize, current: u32, new: u32) -> Result<u32, u32> {
        self.word(word)
            .compare_exchange(current, new, SeqCst, SeqCst)
    }
    #[inline]
    fn fetch_add(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_add(value, SeqCst)
    }
    #[inline]
    fn fetch_sub(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_sub(value, SeqCst)
    }
    #[inline]
    fn fetch_or(&self, word: usize, value: u32) -> u32 {
        self.word(word).fetch_or(value, SeqCst)
    }
    #[inline]
    fn futex_wait(&self, word: usize, expected: u32) {
        let _ = sys::futex_wait(self.word(word), expected, 0);
    }
    #[inline]
    fn futex_wake(&self, word: usize, wake: Wake) {
        let count = match wake {
            Wake::One => 1,
            Wake::All => FUTEX_ALL,
        };
        let _ = sys::futex_wake(self.word(word), count);
    }
}

/// The data area: `SharedRegion::copy_in` and `copy_out`.
impl RingMemory for Mapping {
    #[inline]
    fn copy_in(&self, offset: usize, src: &[u8]) -> Result<(), CopyFault> {
        self.data.copy_in(offset, src).map_err(|_| CopyFault)
    }
    #[inline]
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Result<(), CopyFault> {
        self.data.copy_out(offset, dst).map_err(|_| CopyFault)
    }
}
