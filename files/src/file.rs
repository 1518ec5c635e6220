//! [`File`]: an open file, directory or pipe end, which is a capability
//! to the server that holds it.

use alloc::vec::Vec;

use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{self, FileClient, READ_MAX_BYTES, WRITE_MAX_BYTES, Whence};
use rt::Handle;
use rt::ipc::Endpoint;

use crate::{Metadata, cwd, namespace};

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
        let target = namespace::resolve(&cwd::getcwd(), path)?;
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
        let file = File {
            endpoint: Endpoint::from_raw(cap.into_raw()),
            kind: kind.unwrap_or(Kind::File),
        };
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
            .position(|h| h.kind == abi::startup::handle::FILE && h.name() == name)?;
        let bit = 1u32.checked_shl(index as u32)?;
        if TAKEN.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return None;
        }
        let mut file = File {
            endpoint: Endpoint::from_raw(abi::CapSlot(info.handles[index].slot)),
            kind: Kind::File,
        };
        if let Ok(meta) = file.metadata() {
            file.kind = meta.kind;
        }
        Some(file)
    }

    /// Adopts a capability to an open object (passed by a parent, say).
    pub fn from_endpoint(endpoint: Endpoint, kind: Kind) -> File {
        File { endpoint, kind }
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
    /// most [`READ_MAX_BYTES`] in one call; 0 at the end of the file (of
    /// a pipe: once no writer is left).
    ///
    /// # Errors
    /// `BadDescriptor` (closed, or its server is gone), `WrongMode` (not
    /// open for reading), `IsADirectory`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, FsError> {
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
        let max = buf.len().min(READ_MAX_BYTES) as u32;
        let mut client = self.client();
        let data = client.read_at(offset, max).map_err(file::error_of)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
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
    /// most [`WRITE_MAX_BYTES`] in one call. Returns how many bytes were
    /// written.
    ///
    /// # Errors
    /// `BadDescriptor`, `WrongMode`, `IsADirectory`, `NoSpace`,
    /// `BrokenPipe` (a pipe nobody reads any more).
    pub fn write(&mut self, data: &[u8]) -> Result<usize, FsError> {
        let data = &data[..data.len().min(WRITE_MAX_BYTES)];
        let n = self.client().write(data).map_err(file::error_of)?;
        Ok(n as usize)
    }

    /// Writes at `offset` without moving the offset.
    ///
    /// # Errors
    /// As [`File::write`].
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize, FsError> {
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
        Ok(File {
            endpoint: Endpoint::from_raw(cap.into_raw()),
            kind,
        })
    }

    /// Closes it, reporting the server's answer (dropping it does the
    /// same and ignores the answer).
    ///
    /// # Errors
    /// `BadDescriptor`.
    pub fn close(self) -> Result<(), FsError> {
        let result = self.client().close().map_err(file::error_of);
        let endpoint = self.into_endpoint();
        drop(endpoint);
        result
    }

    /// Gives up the capability without closing the object (to hand it to
    /// another program, which then closes it).
    pub fn into_endpoint(self) -> Endpoint {
        let this = core::mem::ManuallyDrop::new(self);
        let slot = this.endpoint.slot();
        Endpoint::from_raw(slot)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // Nothing to do about an error: the object is gone either way.
        let _ = self.client().close();
    }
}
