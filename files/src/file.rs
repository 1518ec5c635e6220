//! [`File`]: an open file, directory or pipe end, which is a capability
//! to the server that holds it.
//!
//! Data travels in messages, or, once [`File::attach_ring`] has attached
//! a ring (`crate::bulk`), through memory shared with the server: reads
//! and writes at an offset larger than one message take the ring. A pipe
//! end attaches a data area (`crate::area`) at its first read or write
//! larger than one message, and such reads and writes then go through it.
//! Before that, a pipe end tries direct mode (`crate::pipe_ring`) at its
//! first read or write: the bytes then go through the pipe's ring, with
//! no call to the server at all.

use alloc::vec::Vec;
use core::cell::RefCell;

use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{self, FileClient, READ_MAX_BYTES, WRITE_MAX_BYTES, Whence};
use rt::Handle;
use rt::ipc::Endpoint;

use crate::area::PipeArea;
use crate::bulk::FileRing;
use crate::pipe_ring::PipeRing;
use crate::{Metadata, cwd};

/// The smallest pipe read that goes through the data area: one that
/// finds a byte or two costs about 180 instructions more that way than by
/// message (`pipe_pingpong`), one that finds a page saves several
/// messages.
const AREA_READ_MIN_BYTES: usize = 4096;

/// Where [`File::seek`] counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekFrom {
    /// This many bytes from the start.
    Start(u64),
    /// This many bytes from the current offset (may be negative).
    Current(i64),
    /// This many bytes from the end (may be negative).
    End(i64),
}

/// An open object of a file server. Dropping it closes it.
#[derive(Debug)]
pub struct File {
    endpoint: Endpoint,
    kind: Kind,
    /// The ring attached to it, if any.
    ring: RefCell<Option<FileRing>>,
    /// A pipe end's data area: none yet, attached, or refused (then
    /// messages carry everything).
    area: Area,
    /// The process's fork generation (`rt::fork::generation`) when this
    /// was made: in a forked child the ring and the data area belong to
    /// the parent (their memory is the child's private copy, their
    /// capabilities are not in its space), so they are never used or
    /// dropped there, and bulk data goes by message.
    generation: core::cell::Cell<u64>,
    /// Whether large reads try `read_bytes` (until the server answers
    /// `NotSupported`).
    bytes: core::cell::Cell<bool>,
}

/// The state of a pipe end's bulk path: direct mode, or a data area.
#[derive(Debug)]
enum Area {
    /// Nothing tried yet: direct mode is tried first.
    Untried,
    /// In a forked child: direct mode may be tried (with an end and a
    /// mapping of the child's own), a data area not.
    Forked,
    /// Direct mode: the bytes go through the pipe's ring.
    Direct(PipeRing),
    /// Direct mode was refused: messages, and a data area is tried.
    None,
    /// A data area is attached.
    Attached(PipeArea),
    /// The server or the budget refused one: messages only.
    Refused,
}

impl File {
    /// Opens `path` (absolute, relative to the current directory, or
    /// `scheme:path`) with `flags`.
    ///
    /// # Errors
    /// The resolution's (`InvalidPath`, `NameTooLong`, `NoNamespace`) and
    /// the server's: `NotFound`, `NotADirectory`, `IsADirectory`,
    /// `Exists`, `ReadOnly`, `NoSpace`, `TooManyOpen`, `InvalidArgument`.
    pub fn open(path: &str, flags: OpenFlags) -> Result<File, FsError> {
        let target = cwd::resolve(path)?;
        File::open_at(target.dir, &target.path, flags)
    }

    /// Opens `path` for reading.
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn open_read(path: &str) -> Result<File, FsError> {
        File::open(path, OpenFlags::READ)
    }

    /// Creates `path` (or truncates it) for writing.
    ///
    /// # Errors
    /// As [`File::open`].
    pub fn create(path: &str) -> Result<File, FsError> {
        File::open(
            path,
            OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        )
    }

    /// Opens `path` relative to the directory capability `dir`.
    ///
    /// # Errors
    /// The server's, as [`File::open`].
    pub fn open_at(dir: abi::CapSlot, path: &str, flags: OpenFlags) -> Result<File, FsError> {
        if path.len() > file::PATH_MAX_BYTES {
            return Err(FsError::NameTooLong);
        }
        let endpoint = Endpoint::from_raw(dir);
        let result = FileClient::new(&endpoint).open(path, flags.bits());
        // The directory capability is the namespace's, not ours.
        let _ = endpoint.into_raw();
        let (cap, kind) = result.map_err(file::error_of)?;
        let kind = Kind::from_code(kind);
        let file = File::from_endpoint(
            Endpoint::from_raw(cap.into_raw()),
            kind.unwrap_or(Kind::File),
        );
        if kind.is_none() {
            return Err(FsError::InvalidArgument);
        }
        Ok(file)
    }

    /// The open object a parent passed in the startup page under `name`
    /// (`abi::startup::handle::FILE`: `stdin`, `stdout`, ...), once: a
    /// second call finds nothing. Its kind is asked of its server.
    pub fn inherited(name: &str) -> Option<File> {
        use core::sync::atomic::{AtomicU32, Ordering};
        static TAKEN: AtomicU32 = AtomicU32::new(0);
        let info = rt::start::startup_info()?;
        let index = info
            .handles
            .iter()
            .position(|h| h.kind == abi::startup::handle::FILE && h.name_is(name))?;
        let bit = 1u32.checked_shl(index as u32)?;
        if TAKEN.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return None;
        }
        let mut file = File::from_endpoint(
            Endpoint::from_raw(abi::CapSlot(info.handles[index].slot)),
            Kind::File,
        );
        if let Ok(meta) = file.metadata() {
            file.kind = meta.kind;
        }
        Some(file)
    }

    /// Adopts a capability to an open object (passed by a parent, say).
    pub fn from_endpoint(endpoint: Endpoint, kind: Kind) -> File {
        record_open(endpoint.slot());
        File {
            endpoint,
            kind,
            ring: RefCell::new(None),
            area: Area::Untried,
            generation: core::cell::Cell::new(rt::fork::generation()),
            bytes: core::cell::Cell::new(true),
        }
    }

    /// The capability.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// What it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn client(&self) -> FileClient<&Endpoint> {
        FileClient::new(&self.endpoint)
    }

    /// Reads at the offset into `buf`: at most `buf.len()` bytes and at
    /// most [`READ_MAX_BYTES`] in one call (a pipe end: 64 KiB through its
    /// data area when `buf` holds at least 4 KiB); 0 at the end of the
    /// file (of a pipe: once no writer is left).
    ///
    /// # Errors
    /// `BadDescriptor` (closed, or its server is gone), `WrongMode` (not
    /// open for reading), `IsADirectory`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, FsError> {
        if self.kind == Kind::Pipe {
            if let Some(ring) = self.pipe_ring() {
                return ring.read(buf);
            }
            return match self.read_message(buf) {
                // The pipe went direct meanwhile: so does this end.
                Err(FsError::NotSupported) => self.pipe_ring_now()?.read(buf),
                result => result,
            };
        }
        self.read_message(buf)
    }

    /// `read` without direct mode.
    fn read_message(&mut self, buf: &mut [u8]) -> Result<usize, FsError> {
        if buf.len() > READ_MAX_BYTES
            && let Some(result) = self.try_read_bytes(file::AT_OFFSET, buf)
        {
            return result;
        }
        if buf.len() > READ_MAX_BYTES && self.has_ring() {
            // The ring reads at an offset: this one, which then moves.
            let at = self.seek(SeekFrom::Current(0))?;
            let n = self.read_bulk_at(at, buf)?;
            self.seek(SeekFrom::Start(at + n as u64))?;
            return Ok(n);
        }
        if buf.len() >= AREA_READ_MIN_BYTES
            && let Some((area, endpoint)) = self.pipe_area()
        {
            return area.read(endpoint, buf);
        }
        let max = buf.len().min(READ_MAX_BYTES) as u32;
        let mut client = self.client();
        let data = client.read(max).map_err(file::error_of)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }

    /// Reads at `offset` without moving the offset.
    ///
    /// # Errors
    /// As [`File::read`].
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        if buf.len() > READ_MAX_BYTES
            && let Some(result) = self.try_read_bytes(offset, buf)
        {
            return result;
        }
        if buf.len() > READ_MAX_BYTES && self.has_ring() {
            // A ring that broke is dropped, and messages take over.
            match self.read_bulk_at(offset, buf) {
                Err(FsError::BadDescriptor) => {}
                result => return result,
            }
        }
        let max = buf.len().min(READ_MAX_BYTES) as u32;
        let mut client = self.client();
        let data = client.read_at(offset, max).map_err(file::error_of)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }

    /// Reads into `buf` from `offset` (`file::AT_OFFSET`: the object's
    /// offset, which moves) with `read_bytes`: the server's bytes land in
    /// `buf` with one copy by the kernel (docs/ipc.md, "Bytes"), up to
    /// 64 KiB a call. `None` for an object whose server answers
    /// `NotSupported` (remembered: its reads take the other ways).
    fn try_read_bytes(&self, offset: u64, buf: &mut [u8]) -> Option<Result<usize, FsError>> {
        if self.kind != Kind::File || !self.bytes.get() {
            return None;
        }
        let mut total = 0;
        while total < buf.len() {
            let rest = &mut buf[total..];
            let want = rest.len().min(abi::ipc::MSG_MAX_BYTES as usize);
            let at = match offset {
                file::AT_OFFSET => offset,
                // Offsets stop at `i64::MAX`: a sum past it is refused by
                // the server, never wraps here.
                _ => offset.saturating_add(total as u64),
            };
            let (result, got) = rt::ipc_bytes::receive_into(&mut rest[..want], || {
                self.client().read_bytes(at, want as u32)
            });
            let n = match result.map_err(file::error_of) {
                Ok(n) => (n as usize).min(got),
                Err(FsError::NotSupported) if total == 0 => {
                    self.bytes.set(false);
                    return None;
                }
                Err(_) if total > 0 => break,
                Err(error) => return Some(Err(error)),
            };
            total += n;
            if n < want {
                break;
            }
        }
        Some(Ok(total))
    }

    /// Attaches a ring with a data area of about `data_bytes` to this
    /// open file (replacing one attached before): from then on
    /// [`File::read_bulk_at`] and [`File::write_bulk_at`] work, and
    /// [`File::read`], [`File::read_at`] and [`File::write_at`] use it for
    /// more than one message's worth. The ring's memory comes from this
    /// program's budget.
    ///
    /// # Errors
    /// `InvalidArgument` for a size a ring cannot have, or a server or
    /// object without rings (a directory, initfs); `WrongMode` on a pipe;
    /// `NoSpace` when the budget runs out; `TooManyOpen` when the server
    /// serves as many of this program's rings as it allows.
    pub fn attach_ring(&self, data_bytes: u32) -> Result<(), FsError> {
        let ring = FileRing::create(data_bytes, |memory, geometry| {
            self.client()
                .attach_ring(
                    memory.slot(),
                    geometry.sq_entries,
                    geometry.cq_entries,
                    geometry.data_bytes,
                )
                .map_err(file::error_of)
        })?;
        self.forget_inherited_ring();
        *self.ring.borrow_mut() = Some(ring);
        Ok(())
    }

    fn has_ring(&self) -> bool {
        self.forget_inherited_ring();
        self.ring.borrow().is_some()
    }

    /// Whether this process made this `File` (not a forked copy of one).
    fn is_own(&self) -> bool {
        self.generation.get() == rt::fork::generation()
    }

    /// In a forked child: forgets the parent's ring and data area without
    /// dropping them (see `generation`).
    fn forget_inherited_bulk(&mut self) {
        if !self.is_own() {
            core::mem::forget(self.ring.take());
            core::mem::forget(core::mem::replace(&mut self.area, Area::Forked));
            self.generation.set(rt::fork::generation());
        }
    }

    /// As [`File::forget_inherited_bulk`], the ring only (through `&self`;
    /// the data area stays forgotten-to-be until a `&mut` call).
    fn forget_inherited_ring(&self) {
        if !self.is_own() {
            core::mem::forget(self.ring.take());
        }
    }

    /// Runs `f` on the ring; drops a ring that broke (the server is gone
    /// or refused it), so that later calls take messages.
    fn with_ring(
        &self,
        f: impl FnOnce(&mut FileRing) -> Result<usize, FsError>,
    ) -> Result<usize, FsError> {
        self.forget_inherited_ring();
        let mut slot = self.ring.borrow_mut();
        let ring = slot.as_mut().ok_or(FsError::InvalidArgument)?;
        let result = f(ring);
        if result == Err(FsError::BadDescriptor) {
            *slot = None;
        }
        result
    }

    /// Reads into `buf` from `offset` through the attached ring, all of
    /// it unless the file ends first; the offset does not move.
    ///
    /// # Errors
    /// `InvalidArgument` without a ring; the server's (`WrongMode`,
    /// ...); `BadDescriptor` when the ring broke (it is dropped).
    pub fn read_bulk_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        self.with_ring(|ring| ring.read_at(offset, buf))
    }

    /// Writes `data` at `offset` through the attached ring, all of it
    /// unless space runs out; the offset does not move.
    ///
    /// # Errors
    /// As [`File::read_bulk_at`]; `NoSpace`.
    pub fn write_bulk_at(&self, offset: u64, data: &[u8]) -> Result<usize, FsError> {
        self.with_ring(|ring| ring.write_at(offset, data))
    }

    /// The file as a read-only memory object (a capability the caller
    /// owns: delete it when done), the byte offset of its first byte in
    /// it, and its length: for mapping instead of reading.
    ///
    /// # Errors
    /// `NotSupported` from a server that cannot share its memory (ramfs,
    /// pipes); `IsADirectory`, `WrongMode`, `BadDescriptor`.
    pub fn map(&self) -> Result<(abi::CapSlot, u64, u64), FsError> {
        let (cap, offset, len) = self.client().map().map_err(file::error_of)?;
        Ok((cap.into_raw(), offset, len))
    }

    /// Reads until the end of the file, appending to `out`; returns the
    /// number of bytes read.
    ///
    /// # Errors
    /// As [`File::read`].
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize, FsError> {
        let mut total = 0;
        let mut chunk = [0u8; READ_MAX_BYTES];
        loop {
            let n = self.read(&mut chunk)?;
            if n == 0 {
                return Ok(total);
            }
            out.extend_from_slice(&chunk[..n]);
            total += n;
        }
    }

    /// Writes from `data` at the offset (at the end with `APPEND`): at
    /// most [`WRITE_MAX_BYTES`] in one call (a pipe end: 64 KiB through
    /// its data area). Returns how many bytes were written.
    ///
    /// # Errors
    /// `BadDescriptor`, `WrongMode`, `IsADirectory`, `NoSpace`,
    /// `BrokenPipe` (a pipe nobody reads any more).
    pub fn write(&mut self, data: &[u8]) -> Result<usize, FsError> {
        if self.kind == Kind::Pipe {
            if let Some(ring) = self.pipe_ring() {
                return ring.write(data);
            }
            return match self.write_message(data) {
                // The pipe went direct meanwhile: so does this end.
                Err(FsError::NotSupported) => self.pipe_ring_now()?.write(data),
                result => result,
            };
        }
        self.write_message(data)
    }

    /// `write` without direct mode.
    fn write_message(&mut self, data: &[u8]) -> Result<usize, FsError> {
        if data.len() > WRITE_MAX_BYTES
            && let Some((area, endpoint)) = self.pipe_area()
        {
            return area.write(endpoint, data);
        }
        let data = &data[..data.len().min(WRITE_MAX_BYTES)];
        let n = self.client().write(data).map_err(file::error_of)?;
        Ok(n as usize)
    }

    /// A pipe end's ring, attached at its first read or write; `None`
    /// when the pipe is not direct and cannot go direct now (the end
    /// then takes messages and data areas).
    fn pipe_ring(&mut self) -> Option<&PipeRing> {
        self.forget_inherited_bulk();
        match self.area {
            Area::Untried | Area::Forked => {
                let forked = matches!(self.area, Area::Forked);
                self.area = match PipeRing::attach(&self.endpoint) {
                    Ok(ring) => Area::Direct(ring),
                    Err(_) if forked => Area::Refused,
                    Err(_) => Area::None,
                };
            }
            Area::Direct(_) | Area::None | Area::Attached(_) | Area::Refused => {}
        }
        match &self.area {
            Area::Direct(ring) => Some(ring),
            _ => None,
        }
    }

    /// The ring of a pipe that went direct while this end took messages
    /// (the server answered `NotSupported`): attached now, or the reason
    /// it cannot be (this end then cannot move bytes: no data area
    /// stands in, the pipe's bytes are all in the ring).
    fn pipe_ring_now(&mut self) -> Result<&PipeRing, FsError> {
        let ring = PipeRing::attach(&self.endpoint)?;
        // No data area: the server refuses direct mode while one exists.
        self.area = Area::Direct(ring);
        match &self.area {
            Area::Direct(ring) => Ok(ring),
            _ => Err(FsError::NotSupported),
        }
    }

    /// A pipe end's data area, attached at the first call that wants it;
    /// `None` for anything but a pipe, or when one cannot be had.
    fn pipe_area(&mut self) -> Option<(&PipeArea, &Endpoint)> {
        if self.kind != Kind::Pipe {
            return None;
        }
        self.forget_inherited_bulk();
        if matches!(self.area, Area::None | Area::Untried) {
            self.area = match PipeArea::attach(&self.endpoint) {
                Ok(area) => Area::Attached(area),
                Err(_) => Area::Refused,
            };
        }
        match &self.area {
            Area::Attached(area) => Some((area, &self.endpoint)),
            _ => None,
        }
    }

    /// Writes at `offset` without moving the offset.
    ///
    /// # Errors
    /// As [`File::write`].
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize, FsError> {
        if data.len() > WRITE_MAX_BYTES && self.has_ring() {
            match self.write_bulk_at(offset, data) {
                Err(FsError::BadDescriptor) => {}
                result => return result,
            }
        }
        let data = &data[..data.len().min(WRITE_MAX_BYTES)];
        let n = self
            .client()
            .write_at(offset, data)
            .map_err(file::error_of)?;
        Ok(n as usize)
    }

    /// Writes all of `data`.
    ///
    /// # Errors
    /// As [`File::write`]; `NoSpace` also when the server took nothing.
    pub fn write_all(&mut self, mut data: &[u8]) -> Result<(), FsError> {
        while !data.is_empty() {
            let n = self.write(data)?;
            if n == 0 {
                return Err(FsError::NoSpace);
            }
            data = &data[n.min(data.len())..];
        }
        Ok(())
    }

    /// Moves the offset; returns the new one.
    ///
    /// # Errors
    /// `BadDescriptor`; `InvalidArgument` for an offset before 0 or past
    /// `i64::MAX`; `WrongMode` on a pipe.
    pub fn seek(&mut self, to: SeekFrom) -> Result<u64, FsError> {
        let (offset, whence) = match to {
            SeekFrom::Start(at) => (
                i64::try_from(at).map_err(|_| FsError::InvalidArgument)?,
                Whence::Start,
            ),
            SeekFrom::Current(by) => (by, Whence::Current),
            SeekFrom::End(by) => (by, Whence::End),
        };
        self.client().seek(offset, whence).map_err(file::error_of)
    }

    /// Its attributes.
    ///
    /// # Errors
    /// `BadDescriptor`.
    pub fn metadata(&self) -> Result<Metadata, FsError> {
        Metadata::from_reply(self.client().stat().map_err(file::error_of)?)
    }

    /// Cuts or extends the file to `len` bytes.
    ///
    /// # Errors
    /// `BadDescriptor`, `WrongMode`, `IsADirectory`, `NoSpace`, `ReadOnly`.
    pub fn set_len(&self, len: u64) -> Result<(), FsError> {
        self.client().truncate(len).map_err(file::error_of)
    }

    /// A second capability to the same open object (sharing the offset);
    /// with `mode` `"write"` on a pipe's read end, its write end.
    ///
    /// # Errors
    /// `BadDescriptor`, `InvalidArgument` (a mode the object does not
    /// have), `TooManyOpen`.
    pub fn dup(&self, mode: &str) -> Result<File, FsError> {
        let cap = self.client().dup(mode).map_err(file::error_of)?;
        let kind = self.kind;
        Ok(File::from_endpoint(
            Endpoint::from_raw(cap.into_raw()),
            kind,
        ))
    }

    /// Closes it, reporting the server's answer (dropping it does the
    /// same and ignores the answer).
    ///
    /// # Errors
    /// `BadDescriptor`.
    pub fn close(mut self) -> Result<(), FsError> {
        self.forget_inherited_bulk();
        let result = self.client().close().map_err(file::error_of);
        self.tell_ring(result);
        // Unmapped after the close, which stopped the server's side.
        let mut this = core::mem::ManuallyDrop::new(self);
        let ring = this.ring.take();
        let area = core::mem::replace(&mut this.area, Area::Refused);
        rt::inherit::unmark(this.endpoint.slot());
        drop(Endpoint::from_raw(this.endpoint.slot()));
        drop(ring);
        drop(area);
        result
    }

    /// After the close of a direct pipe end: a close that failed means
    /// the pipe server is gone (or a new one does not know the end), and
    /// nobody else will tell the other ends, which may wait in the ring.
    fn tell_ring(&self, closed: Result<(), FsError>) {
        if let (Area::Direct(ring), Err(_)) = (&self.area, closed) {
            ring.server_gone();
        }
    }

    /// Gives up the capability without closing the object (to hand it to
    /// another program, which then closes it).
    pub fn into_endpoint(mut self) -> Endpoint {
        self.forget_inherited_bulk();
        let mut this = core::mem::ManuallyDrop::new(self);
        // Our side of a ring or data area goes (the memory object with
        // it; the server's mapping stays until the object is closed).
        drop(this.ring.take());
        drop(core::mem::replace(&mut this.area, Area::Refused));
        let slot = this.endpoint.slot();
        rt::inherit::unmark(slot);
        Endpoint::from_raw(slot)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        self.forget_inherited_bulk();
        rt::inherit::unmark(self.endpoint.slot());
        // The object is gone either way; a direct pipe's ring learns of a
        // server that is gone.
        let result = self.client().close().map_err(file::error_of);
        self.tell_ring(result);
    }
}

/// Records an open file (`rt::inherit`), and has `exit` close every file
/// still open then.
fn record_open(slot: abi::CapSlot) {
    static HOOKED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !HOOKED.swap(true, core::sync::atomic::Ordering::AcqRel) {
        rt::inherit::set_at_exit(close_all_at_exit);
    }
    rt::inherit::mark(slot);
}

/// `exit`'s hook: closes every file still open, so that servers see the
/// end (a pipe's last writer, a session's open count). No lock is taken:
/// another thread may hold any.
fn close_all_at_exit() {
    rt::inherit::for_each(|slot| {
        let endpoint = Endpoint::from_raw(slot);
        let _ = FileClient::new(&endpoint).close();
        let _ = endpoint.into_raw();
    });
}

/// Closes the open object `slot` names and deletes the capability (for
/// `exec`, which drops the files it does not pass on).
pub fn close_slot(slot: abi::CapSlot) {
    rt::inherit::unmark(slot);
    let endpoint = Endpoint::from_raw(slot);
    let _ = FileClient::new(&endpoint).close();
    drop(endpoint);
}

/// A new open object sharing the one `slot` names (its offset, its pipe
/// end): `dup("")` through a capability the caller keeps. The new
/// capability is returned raw, not recorded: it is for handing to another
/// process, which then owns the object.
///
/// # Errors
/// The server's; `BadDescriptor` for a capability no server answers.
pub fn dup_slot(slot: abi::CapSlot) -> Result<abi::CapSlot, FsError> {
    let endpoint = Endpoint::from_raw(slot);
    let result = FileClient::new(&endpoint).dup("");
    let _ = endpoint.into_raw();
    result.map(|cap| cap.into_raw()).map_err(file::error_of)
}
