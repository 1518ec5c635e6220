//! [`FileRing`]: the client's side of a ring attached to an open file
//! (`File::attach_ring`; the operations are `protocols::file::ring`).
//!
//! The program pays for the ring: its memory object comes from the
//! program's own budget, and it is mapped here at one of [`SLOTS`] fixed
//! addresses (a slot is reused by the next ring, with its page tables).
//! A bulk request is cut into batches of at most the data area, each
//! batch into up to [`ENTRIES`] submissions published together (one
//! wake-up of the server), and the completions are waited for before the
//! next batch.

use fscore::FsError;

use crate::slots::{Pool, Slot};
use protocols::Cap;
use protocols::file::ring::{OP_READ, OP_WRITE, error_of};
use ring::doorbell::CallWaker;
use ring::{Client, Geometry, Layout, Sqe};
use rt::Handle;
use rt::ipc::Endpoint;
use rt::memory::{Budget, MemoryObject};
use rt::notify::Notification;
use rt::shared::SharedRegion;
use rt::time::{Duration, deadline_after};

/// Submissions in one batch, and the queues' sizes.
pub const ENTRIES: u32 = 16;
/// Rings a program may have mapped at once.
const SLOTS: u32 = 64;
/// Where slot `i` is mapped: `RING_AREA + i * SLOT_BYTES`.
const RING_AREA: u64 = 0x0000_3200_0000_0000;
/// Address space for each slot: more than the largest data area a
/// server maps.
const SLOT_BYTES: u64 = 1 << 32;
/// How long a batch may take, counted only when the server answers a
/// call with nothing done, before the ring is given up. The calls
/// themselves have no deadline (a deadline takes the kernel's general
/// path, about 1,200 instructions more): a server that has gone fails
/// them at once (its doorbell goes with its ring, by revoke, and with the
/// server's budget), and one that is there answers each once it has
/// served what it found.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The address slots.
static SLOTS_POOL: Pool = Pool::new(SLOTS);

/// Which way a bulk request copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// A ring attached to an open file.
#[derive(Debug)]
pub struct FileRing {
    // Dropped in this order: unmapped, then the slot freed, then the
    // object deleted.
    client: Client<SharedRegion, CallWaker>,
    _slot: Slot,
    _memory: MemoryObject,
    /// The most bytes one submission carries.
    chunk_bytes: u32,
}

impl FileRing {
    /// Makes a ring with a data area of `data_bytes` (rounded up to a
    /// whole number of submissions) in a memory object of the program's
    /// budget, mapped here.
    ///
    /// `attach` sends the object and the geometry to the server and
    /// returns the ring's doorbell: the endpoint to call and the
    /// notification to signal (`ring::doorbell`).
    ///
    /// # Errors
    /// `InvalidArgument` for a size the ring cannot have; `NoSpace` when
    /// the budget or the address slots run out; `attach`'s.
    pub fn create(
        data_bytes: u32,
        attach: impl FnOnce(&MemoryObject, Geometry) -> Result<(Cap, Cap), FsError>,
    ) -> Result<FileRing, FsError> {
        let chunk_bytes = data_bytes.div_ceil(ENTRIES).max(1);
        let geometry = Geometry {
            sq_entries: ENTRIES,
            cq_entries: ENTRIES,
            data_bytes: chunk_bytes
                .checked_mul(ENTRIES)
                .ok_or(FsError::InvalidArgument)?,
        };
        let layout = Layout::new(geometry).map_err(|_| FsError::InvalidArgument)?;
        let pages = layout.pages(abi::layout::PAGE_BYTES as usize) as u64;
        let budget = Budget::from_raw(rt::process::own_caps().budget);
        let memory = MemoryObject::create(&budget, pages);
        // The budget is the program's, not ours to delete.
        let _ = budget.into_raw();
        let memory = memory.map_err(|_| FsError::NoSpace)?;
        let slot = SLOTS_POOL.take().ok_or(FsError::NoSpace)?;
        let vaddr = RING_AREA + u64::from(slot.index()) * SLOT_BYTES;
        let region = SharedRegion::map(&memory, 0, vaddr, pages).map_err(|_| FsError::NoSpace)?;
        let client =
            Client::create(region, ring::Spin, geometry).map_err(|_| FsError::InvalidArgument)?;
        let (endpoint, notification) = attach(&memory, geometry)?;
        let waker = CallWaker::new(
            endpoint.into_handle::<Endpoint>(),
            notification.into_handle::<Notification>(),
        );
        let client = client.with_waker(waker);
        Ok(FileRing {
            client,
            _slot: slot,
            _memory: memory,
            chunk_bytes,
        })
    }

    /// The geometry, to tell the server.
    pub fn geometry(&self) -> Geometry {
        self.client.layout().geometry
    }

    /// Reads into `buf` from file offset `offset`; returns the bytes read
    /// (fewer at the end of the file).
    ///
    /// # Errors
    /// The server's, from a completion's status, when nothing was read;
    /// `BadDescriptor` when the ring broke or the server stopped
    /// answering it (the caller drops the ring).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut total = 0;
        while total < buf.len() {
            let rest = &mut buf[total..];
            let at = offset
                .checked_add(total as u64)
                .ok_or(FsError::InvalidArgument)?;
            let (done, full) = self.batch(Direction::Read, at, rest.len(), total == 0)?;
            self.client
                .read_data(0, &mut rest[..done])
                .map_err(|_| FsError::BadDescriptor)?;
            total += done;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    /// Writes `data` at file offset `offset`; returns the bytes written
    /// (fewer when space runs out).
    ///
    /// # Errors
    /// As [`FileRing::read_at`].
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<usize, FsError> {
        let mut total = 0;
        while total < data.len() {
            let rest = &data[total..];
            let area = self.geometry().data_bytes as usize;
            let len = rest.len().min(area);
            self.client
                .write_data(0, &rest[..len])
                .map_err(|_| FsError::BadDescriptor)?;
            let at = offset
                .checked_add(total as u64)
                .ok_or(FsError::InvalidArgument)?;
            let (done, full) = self.batch(Direction::Write, at, len, total == 0)?;
            total += done;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    /// Runs one batch over the first `len` bytes of the data area (at
    /// most all of it) at file offset `at`. Returns the bytes done from
    /// the start of the area without a gap, and whether all were.
    /// An error of the first submission is returned when `first`.
    fn batch(
        &mut self,
        direction: Direction,
        at: u64,
        len: usize,
        first: bool,
    ) -> Result<(usize, bool), FsError> {
        let area = self.geometry().data_bytes as usize;
        let len = len.min(area) as u32;
        let opcode = match direction {
            Direction::Read => OP_READ,
            Direction::Write => OP_WRITE,
        };
        let pieces = len.div_ceil(self.chunk_bytes);
        for piece in 0..pieces {
            let start = piece * self.chunk_bytes;
            let sqe = Sqe {
                opcode,
                len: self.chunk_bytes.min(len - start),
                user_data: u64::from(piece),
                offset: u64::from(start),
                arg: at + u64::from(start),
                ..Sqe::default()
            };
            self.client.push(&sqe).map_err(|_| FsError::BadDescriptor)?;
        }
        let broken = |_| FsError::BadDescriptor;
        // Each piece's bytes done, or its error.
        let mut done = [Ok(0u32); ENTRIES as usize];
        // Published, and the server called: its answer comes once it has
        // served what it found.
        let mut ready = self.client.submit_and_wait(None).map_err(broken)?;
        let mut deadline = None;
        let mut waiting = pieces;
        while waiting > 0 {
            if ready == 0 {
                // A server that answers with nothing done, again and
                // again, is given up after BATCH_TIMEOUT.
                let until = *deadline.get_or_insert_with(|| deadline_after(BATCH_TIMEOUT));
                if rt::time::now_ns() > until {
                    return Err(FsError::BadDescriptor);
                }
                self.client.wait(None).map_err(broken)?;
            }
            ready = 0;
            while let Some(cqe) = self.client.pop().map_err(broken)? {
                let slot = done
                    .get_mut(cqe.user_data as usize)
                    .ok_or(FsError::BadDescriptor)?;
                *slot = match error_of(cqe.status) {
                    Some(error) => Err(error),
                    None => Ok(cqe.value),
                };
                waiting = waiting.saturating_sub(1);
            }
            self.client.release().map_err(broken)?;
        }
        let mut total = 0u32;
        for piece in 0..pieces {
            let want = self.chunk_bytes.min(len - piece * self.chunk_bytes);
            match done[piece as usize] {
                Ok(got) => {
                    total += got.min(want);
                    if got < want {
                        return Ok((total as usize, false));
                    }
                }
                Err(error) if first && total == 0 => return Err(error),
                Err(_) => return Ok((total as usize, false)),
            }
        }
        Ok((total as usize, true))
    }
}
