//! [`PipeArea`]: the client's side of a data area attached to a pipe end
//! (`File::read` and `File::write` of more than one message;
//! `protocols::file` `attach_data`, `write_shared`, `read_shared`).
//!
//! The program pays: the memory object comes from its own budget and is
//! mapped here at one of [`SLOTS`] fixed addresses (the next area in a
//! slot reuses its page tables) and in the pipe server. A write copies the
//! caller's bytes into the area and names the range; a read names a range
//! the server fills and copies it out. Each copy moves 8 bytes a load
//! and a store (`rt::shared`, `rt::atomic_bytes`). The area is used by one call at a time (`read` and
//! `write` take the file by `&mut`), and its bytes are nobody's secret:
//! the server sees them anyway.

use fscore::FsError;

use crate::slots::{Pool, Slot};
use protocols::file::{self, FileClient};
use rt::Handle;
use rt::ipc::Endpoint;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;

/// Bytes of a pipe end's data area: a whole pipe's worth.
pub const AREA_BYTES: usize = 64 * 1024;
/// Data areas a program may have mapped at once.
const SLOTS: u32 = 64;
/// Where slot `i` is mapped: `AREA_BASE + i * SLOT_BYTES`.
const AREA_BASE: u64 = 0x0000_3300_0000_0000;
/// Address space for each slot.
const SLOT_BYTES: u64 = 1 << 20;

/// The address slots.
static SLOTS_POOL: Pool = Pool::new(SLOTS);

/// A data area attached to a pipe end.
#[derive(Debug)]
pub struct PipeArea {
    // Dropped in this order: unmapped, the slot freed, the object deleted.
    region: SharedRegion,
    _slot: Slot,
    _memory: MemoryObject,
}

impl PipeArea {
    /// Makes an area of [`AREA_BYTES`], maps it, and attaches it to the
    /// open end `endpoint` names.
    ///
    /// # Errors
    /// `NoSpace` when the budget or the address slots run out; the
    /// server's (`WrongMode` on anything but a pipe, `TooManyOpen`,
    /// `InvalidArgument`).
    pub fn attach(endpoint: &Endpoint) -> Result<PipeArea, FsError> {
        let slot = SLOTS_POOL.take().ok_or(FsError::NoSpace)?;
        let pages = (AREA_BYTES as u64).div_ceil(abi::layout::PAGE_BYTES);
        let budget = Budget::from_raw(rt::process::own_caps().budget);
        let memory = MemoryObject::create(&budget, pages);
        // The budget is the program's, not ours to delete.
        let _ = budget.into_raw();
        let memory = memory.map_err(|_| FsError::NoSpace)?;
        let vaddr = AREA_BASE + u64::from(slot.index()) * SLOT_BYTES;
        let region = SharedRegion::map(&memory, 0, vaddr, pages).map_err(|_| FsError::NoSpace)?;
        // The server gets a copy of the capability; ours stays ours.
        FileClient::new(endpoint)
            .attach_data(memory.slot(), AREA_BYTES as u32)
            .map_err(file::error_of)?;
        Ok(PipeArea {
            region,
            _slot: slot,
            _memory: memory,
        })
    }

    /// Writes up to [`AREA_BYTES`] of `data` into the pipe; how many
    /// went in.
    ///
    /// # Errors
    /// The server's, as `File::write`.
    pub fn write(&self, endpoint: &Endpoint, data: &[u8]) -> Result<usize, FsError> {
        let data = &data[..data.len().min(AREA_BYTES)];
        self.region
            .copy_in(0, data)
            .map_err(|_| FsError::InvalidArgument)?;
        let n = FileClient::new(endpoint)
            .write_shared(0, data.len() as u32)
            .map_err(file::error_of)?;
        Ok((n as usize).min(data.len()))
    }

    /// Reads up to [`AREA_BYTES`] into `buf`; 0 is the end of the file.
    ///
    /// # Errors
    /// The server's, as `File::read`.
    pub fn read(&self, endpoint: &Endpoint, buf: &mut [u8]) -> Result<usize, FsError> {
        let max = buf.len().min(AREA_BYTES);
        let n = FileClient::new(endpoint)
            .read_shared(0, max as u32)
            .map_err(file::error_of)?;
        // A server that answers more than asked gets what was asked.
        let n = (n as usize).min(max);
        self.region
            .copy_out(0, &mut buf[..n])
            .map_err(|_| FsError::InvalidArgument)?;
        Ok(n)
    }
}
