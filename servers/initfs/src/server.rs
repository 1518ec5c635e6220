//! initfs's side of the `File` protocol: open objects, and the handlers.

use alloc::rc::Rc;
use core::cell::Cell;

use abi::CapSlot;
use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{self, DirWriter, FileServer, Objects, READ_MAX_BYTES, This, Whence, wire};
use protocols::{Cap, ErrorCode};
use rt::ipc::Message;

use fscore::index::{Contents, Index};

/// Open objects one session may hold.
const OPEN_PER_SESSION: u32 = 256;

/// One open file or directory.
#[derive(Debug, Clone)]
struct Open {
    node: usize,
    readable: bool,
    /// Shared by the capabilities `dup` made.
    offset: Rc<Cell<u64>>,
}

/// The server's state.
pub struct Server<'a> {
    index: Index<'a>,
    /// The initramfs object (its capability) and the address its page 0
    /// is mapped at here, for `map`.
    initramfs: Option<(CapSlot, u64)>,
    objects: Objects<Open>,
    dir: DirWriter,
    /// Whether the reply being built carries bytes (`read_bytes`).
    bytes_reply: bool,
}

/// Lists `archive` into an index; members it cannot take are logged
/// (`kcore::tar` says why it skips one: a sparse file, a name with `..`,
/// a type it does not know), and the rest are served.
pub fn index_archive(archive: &[u8]) -> Index<'_> {
    use kcore::tar::{EntryError, Kind as TarKind};
    let mut index = Index::new();
    for entry in kcore::tar::entries(archive) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(EntryError::Skipped(skipped)) => {
                rt::log::warn!("initfs: not served: {skipped}");
                continue;
            }
            Err(EntryError::Corrupt(error)) => {
                rt::log::warn!("initfs: {error}; members after this are not served");
                break;
            }
        };
        if entry.path.is_root() {
            continue;
        }
        let contents = match entry.kind {
            TarKind::File | TarKind::HardLink { .. } => Some(entry.data),
            TarKind::Directory => None,
            _ => {
                rt::log::warn!(
                    "initfs: {}: not served: initfs holds files and directories only",
                    entry.path
                );
                continue;
            }
        };
        let path = alloc::format!("{}", entry.path);
        if let Err(error) = index.add(&path, contents) {
            rt::log::warn!("initfs: {path}: not served: {error}");
        }
    }
    index
}

impl<'a> Server<'a> {
    /// Has the kernel report clients gone (`Objects::watch`).
    ///
    /// # Errors
    /// The kernel's.
    pub fn watch(&mut self) -> Result<(), abi::SysError> {
        self.objects.watch()
    }

    /// Closes the objects whose clients are gone.
    pub fn leases_ended(&mut self, bits: u64) {
        drop(self.objects.ended(bits));
    }

    /// A server answering on `endpoint` from `index`.
    pub fn new(endpoint: CapSlot, index: Index<'a>) -> Server<'a> {
        let initramfs = rt::start::boot_info().and_then(|boot| {
            let page = boot.initramfs_addr & !(abi::layout::PAGE_BYTES - 1);
            (boot.initramfs_cap != 0).then_some((CapSlot(boot.initramfs_cap), page))
        });
        Server {
            index,
            initramfs,
            objects: Objects::new(endpoint, OPEN_PER_SESSION),
            dir: DirWriter::default(),
            bytes_reply: false,
        }
    }

    /// Answers one request into `reply`.
    pub fn dispatch(&mut self, request: &Message, reply: &mut Message) {
        self.objects.begin(request.badge());
        self.bytes_reply = false;
        file::dispatch(self, request, reply);
        if self.bytes_reply {
            reply.send_bytes();
        }
    }

    /// The session and object the current request's capability names; a
    /// root capability is the root directory.
    fn this(&mut self) -> Result<(u32, Open), FsError> {
        Ok(match self.objects.this()? {
            This::Root(session) => (
                session,
                Open {
                    node: 0,
                    readable: true,
                    offset: Rc::new(Cell::new(0)),
                },
            ),
            This::Object(session, open) => (session, open.clone()),
        })
    }

    fn data(&self, open: &Open) -> Result<&'a [u8], FsError> {
        match self.index.get(open.node) {
            Some(Contents::File(data)) if open.readable => Ok(data),
            Some(Contents::File(_)) => Err(FsError::WrongMode),
            Some(Contents::Dir(_)) => Err(FsError::IsADirectory),
            None => Err(FsError::BadDescriptor),
        }
    }

    fn stat_of(&self, node: usize) -> Result<(u8, u64, u64, u64), FsError> {
        let (kind, size) = self
            .index
            .kind_and_size(node)
            .ok_or(FsError::BadDescriptor)?;
        Ok((kind.code(), size, node as u64 + 1, 1))
    }
}

/// A slice of `data` at `offset`, at most `max` bytes.
fn window(data: &[u8], offset: u64, max: u32) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let len = (max as usize).min(READ_MAX_BYTES);
    &data[start..data.len().min(start.saturating_add(len))]
}

impl FileServer for Server<'_> {
    fn open(&mut self, path: &str, flags: u32) -> Result<(CapSlot, u8), ErrorCode> {
        wire((|| {
            let flags = OpenFlags::from_bits(flags)?;
            let (session, dir) = self.this()?;
            if !matches!(self.index.get(dir.node), Some(Contents::Dir(_))) {
                return Err(FsError::NotADirectory);
            }
            let node = match self.index.lookup(dir.node, path) {
                Ok(node) => node,
                Err(FsError::NotFound) if flags.contains(OpenFlags::CREATE) => {
                    return Err(FsError::ReadOnly);
                }
                Err(error) => return Err(error),
            };
            if flags.contains(OpenFlags::CREATE) && flags.contains(OpenFlags::EXCLUSIVE) {
                return Err(FsError::Exists);
            }
            if flags.write() {
                return Err(FsError::ReadOnly);
            }
            let (kind, _) = self.index.kind_and_size(node).ok_or(FsError::NotFound)?;
            if flags.contains(OpenFlags::DIRECTORY) && kind != Kind::Dir {
                return Err(FsError::NotADirectory);
            }
            let open = Open {
                node,
                readable: flags.read(),
                offset: Rc::new(Cell::new(0)),
            };
            Ok((self.objects.mint(session, open)?, kind.code()))
        })())
    }

    fn read(&mut self, max: u32) -> Result<&[u8], ErrorCode> {
        let (_, open) = wire(self.this())?;
        let data = wire(self.data(&open))?;
        let bytes = window(data, open.offset.get(), max);
        open.offset.set(open.offset.get() + bytes.len() as u64);
        Ok(bytes)
    }

    fn read_at(&mut self, offset: u64, max: u32) -> Result<&[u8], ErrorCode> {
        let (_, open) = wire(self.this())?;
        let data = wire(self.data(&open))?;
        Ok(window(data, offset, max))
    }

    fn write(&mut self, _data: &[u8]) -> Result<u64, ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn write_at(&mut self, _offset: u64, _data: &[u8]) -> Result<u64, ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn seek(&mut self, offset: i64, whence: Whence) -> Result<u64, ErrorCode> {
        let (_, open) = wire(self.this())?;
        let size = self
            .index
            .kind_and_size(open.node)
            .map_or(0, |(_, size)| size);
        let base = match whence {
            Whence::Start => 0,
            Whence::Current => open.offset.get(),
            Whence::End => size,
        };
        let to = wire(file::seek_target(base, offset))?;
        open.offset.set(to);
        Ok(to)
    }

    fn stat(&mut self) -> Result<(u8, u64, u64, u64), ErrorCode> {
        let (_, open) = wire(self.this())?;
        wire(self.stat_of(open.node))
    }

    fn stat_at(&mut self, path: &str) -> Result<(u8, u64, u64, u64), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        let node = wire(self.index.lookup(dir.node, path))?;
        wire(self.stat_of(node))
    }

    fn truncate(&mut self, _len: u64) -> Result<(), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn readdir(&mut self, cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
        let mut writer = DirWriter::default();
        let mut taken = 0usize;
        let mut more = false;
        for (name, kind) in wire(self.index.entries(dir.node, skip))? {
            if !writer.push(kind, name) {
                more = true;
                break;
            }
            taken += 1;
        }
        self.dir = writer;
        let next = if more { (skip + taken) as u64 } else { 0 };
        Ok((self.dir.as_bytes(), next))
    }

    fn mkdir(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn rmdir(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn unlink(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn rename(&mut self, _from: &str, _to: &str) -> Result<(), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::ReadOnly))
    }

    fn dup(&mut self, mode: &str) -> Result<CapSlot, ErrorCode> {
        let (session, open) = wire(self.this())?;
        if !mode.is_empty() {
            return Err(file::code(FsError::InvalidArgument));
        }
        wire(self.objects.mint(session, open))
    }

    fn close(&mut self) -> Result<(), ErrorCode> {
        wire(self.objects.close().map(drop))
    }

    fn attach_ring(
        &mut self,
        _memory: Cap,
        _sq_entries: u32,
        _cq_entries: u32,
        _data_bytes: u32,
    ) -> Result<(CapSlot, CapSlot), ErrorCode> {
        // No bulk path here: the memory capability is deleted as it drops.
        Err(file::code(FsError::InvalidArgument))
    }

    fn map_at(&mut self, path: &str) -> Result<(CapSlot, u64, u64), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        let node = wire(self.index.lookup(dir.node, path))?;
        let open = Open {
            node,
            readable: true,
            offset: Rc::new(Cell::new(0)),
        };
        let data = wire(self.data(&open))?;
        let (memory, base) = self.initramfs.ok_or(file::code(FsError::NotSupported))?;
        let offset = (data.as_ptr() as u64).wrapping_sub(base);
        Ok((memory, offset, data.len() as u64))
    }

    fn map(&mut self) -> Result<(CapSlot, u64, u64), ErrorCode> {
        let (_, open) = wire(self.this())?;
        let data = wire(self.data(&open))?;
        let (memory, base) = self.initramfs.ok_or(file::code(FsError::NotSupported))?;
        let offset = (data.as_ptr() as u64).wrapping_sub(base);
        Ok((memory, offset, data.len() as u64))
    }

    fn attach_data(&mut self, _memory: Cap, _data_bytes: u32) -> Result<(), ErrorCode> {
        // Data areas are for pipes: the memory capability is deleted as it drops.
        Err(file::code(FsError::WrongMode))
    }

    fn write_shared(&mut self, _offset: u32, _len: u32) -> Result<u64, ErrorCode> {
        Err(file::code(FsError::WrongMode))
    }

    fn read_shared(&mut self, _offset: u32, _max: u32) -> Result<u64, ErrorCode> {
        Err(file::code(FsError::WrongMode))
    }

    fn attach_pipe(&mut self) -> Result<(CapSlot, u32, u8), ErrorCode> {
        Err(file::code(FsError::WrongMode))
    }

    fn read_bytes(&mut self, offset: u64, max: u32) -> Result<u64, ErrorCode> {
        let (_, open) = wire(self.this())?;
        let data = wire(self.data(&open))?;
        let at = match offset {
            file::AT_OFFSET => open.offset.get(),
            at => at,
        };
        let start = usize::try_from(at).unwrap_or(usize::MAX).min(data.len());
        let len = (max as usize)
            .min(abi::ipc::MSG_MAX_BYTES as usize)
            .min(data.len() - start);
        // The archive stays mapped as long as the server runs: the piece
        // is there when the reply copies it.
        let mut pieces = rt::ipc_bytes::Pieces::begin();
        pieces.push(data[start..].as_ptr() as u64, len as u64);
        pieces.end();
        self.bytes_reply = true;
        if offset == file::AT_OFFSET {
            open.offset.set(at + len as u64);
        }
        Ok(len as u64)
    }
}
