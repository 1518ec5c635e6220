//! ramfs's side of the `File` protocol: open objects, and the handlers.
//!
//! The tree is shared with the ring threads (`crate::rings`) behind a
//! mutex; each handler takes it for each call into the tree and never
//! holds it while it waits for a ring thread.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use abi::CapSlot;
use abi::ipc::{MSG_MAX_BYTES, MSG_MAX_PIECES};
use fscore::tree::account::Limits;
use fscore::tree::{NodeId, PageBytes, Span, Tree};
use fscore::{FsError, Kind, OpenFlags, Stat};
use protocols::file::{self, DirWriter, FileServer, Objects, READ_MAX_BYTES, This, Whence, wire};
use protocols::{Cap, ErrorCode};
use rt::ipc::Message;
use rt::sync::Mutex;

use crate::rings::{self, Rings, SharedTree, Target};

/// Open objects one session may hold.
const OPEN_PER_SESSION: u32 = 256;

/// Where a directory listing got to: the cookie handed out last and the
/// name it stands for, so a listing resumes after a name and stays right
/// while entries come and go.
#[derive(Debug, Default)]
struct Listing {
    cookie: u64,
    last: String,
}

/// One open file or directory; the capabilities `dup` made share it.
#[derive(Debug, Clone)]
struct Open {
    node: NodeId,
    flags: OpenFlags,
    offset: Rc<Cell<u64>>,
    listing: Rc<RefCell<Listing>>,
}

impl Open {
    fn new(node: NodeId, flags: OpenFlags) -> Open {
        Open {
            node,
            flags,
            offset: Rc::new(Cell::new(0)),
            listing: Rc::new(RefCell::new(Listing::default())),
        }
    }
}

/// The server's state.
pub struct Server {
    tree: SharedTree,
    /// The tree's root directory (it never changes).
    root: NodeId,
    objects: Objects<Open>,
    /// The rings attached to open files.
    rings: Rings,
    /// The badge of the request being answered.
    badge: u64,
    /// Where `read` copies to before the reply.
    buffer: [u8; READ_MAX_BYTES],
    dir: DirWriter,
    /// The spans the last `read_bytes` reply listed as its pieces, held
    /// until the next request (the kernel copies them during the reply,
    /// after the tree's lock is released: a ring thread may change or
    /// free the file meanwhile, and the spans keep the bytes as they were).
    held: Vec<Span>,
    /// Whether the reply being built carries bytes.
    bytes_reply: bool,
}

/// The bytes of a hole, for a `read_bytes` reply.
static ZEROS: PageBytes = PageBytes([0; fscore::tree::PAGE_BYTES as usize]);

impl Server {
    /// An empty file system answering on `endpoint`.
    pub fn new(endpoint: CapSlot, limits: Limits) -> Server {
        let tree = Tree::new(limits);
        Server {
            root: tree.root(),
            tree: Arc::new(Mutex::new(tree)),
            objects: Objects::new(endpoint, OPEN_PER_SESSION),
            rings: Rings::new(),
            badge: 0,
            buffer: [0; READ_MAX_BYTES],
            dir: DirWriter::default(),
            held: Vec::with_capacity(MSG_MAX_PIECES),
            bytes_reply: false,
        }
    }

    /// Has the kernel report clients gone (`Objects::watch`).
    ///
    /// # Errors
    /// The kernel's.
    pub fn watch(&mut self) -> Result<(), abi::SysError> {
        self.objects.watch()
    }

    /// Closes the objects whose clients are gone, as `close` does: their
    /// rings first, then the node.
    pub fn leases_ended(&mut self, bits: u64) {
        for (badge, open) in self.objects.ended(bits) {
            self.rings.close(badge);
            let _ = self.tree.lock().release(open.node);
        }
    }

    /// Answers one request into `reply`.
    pub fn dispatch(&mut self, request: &Message, reply: &mut Message) {
        self.badge = request.badge();
        self.objects.begin(self.badge);
        // The last reply's bytes went with it: its pages may go.
        self.held.clear();
        self.bytes_reply = false;
        file::dispatch(self, request, reply);
        if self.bytes_reply {
            reply.send_bytes();
        }
    }

    /// The session and the object the request's capability names (the
    /// root directory for a root capability).
    fn this(&mut self) -> Result<(u32, Open), FsError> {
        let root = self.root;
        Ok(match self.objects.this()? {
            This::Root(session) => (session, Open::new(root, OpenFlags::READ)),
            This::Object(session, open) => (session, open.clone()),
        })
    }

    /// Mints a capability for `open`, or releases its node.
    fn mint(&mut self, session: u32, open: Open) -> Result<CapSlot, FsError> {
        let node = open.node;
        self.objects.mint(session, open).inspect_err(|_| {
            let _ = self.tree.lock().release(node);
        })
    }

    fn stat_of(&self, node: NodeId) -> Result<(u8, u64, u64, u64), FsError> {
        let Stat {
            kind,
            size,
            nlink,
            id,
            ..
        } = self.tree.lock().stat(node)?;
        let size = if kind == Kind::Dir {
            self.entries(node)
        } else {
            size
        };
        Ok((kind.code(), size, id, u64::from(nlink)))
    }

    /// The number of entries of directory `node`.
    fn entries(&self, node: NodeId) -> u64 {
        let mut count = 0;
        let mut after: Option<String> = None;
        while let Ok(Some(entry)) = self.tree.lock().readdir(node, after.as_deref()) {
            count += 1;
            after = Some(entry.name);
        }
        count
    }

    fn write_at_offset(&mut self, offset: Option<u64>, data: &[u8]) -> Result<u64, FsError> {
        let (session, open) = self.this()?;
        if !open.flags.write() {
            return Err(FsError::WrongMode);
        }
        let at = match offset {
            Some(at) => at,
            None if open.flags.contains(OpenFlags::APPEND) => {
                self.tree.lock().stat(open.node)?.size
            }
            None => open.offset.get(),
        };
        let n = self
            .tree
            .lock()
            .write(open.node, at, data, u64::from(session))?;
        if offset.is_none() {
            open.offset.set(at + n as u64);
        }
        Ok(n as u64)
    }

    /// `read_bytes`: the file's spans from `offset` (or the object's
    /// offset, which moves), held in `self.held` and listed as the pieces
    /// of the reply, which `dispatch` then marks as carrying bytes.
    fn read_spans(&mut self, offset: u64, max: u32) -> Result<u64, FsError> {
        // The object, read in place (no clone of its shared cells: this
        // is the bulk read path).
        let open = match self.objects.this()? {
            This::Object(_, open) => open,
            This::Root(_) => return Err(FsError::IsADirectory),
        };
        if !open.flags.read() {
            return Err(FsError::WrongMode);
        }
        let at = match offset {
            file::AT_OFFSET => open.offset.get(),
            at => at,
        };
        let max = (max as usize).min(MSG_MAX_BYTES as usize);
        // `dispatch` emptied `held` before this request.
        let held = &mut self.held;
        let n = self
            .tree
            .lock()
            .spans(open.node, at, max, MSG_MAX_PIECES, |span| held.push(span))?;
        if offset == file::AT_OFFSET {
            open.offset.set(at + n as u64);
        }
        let mut pieces = rt::ipc_bytes::Pieces::begin();
        for span in held.iter() {
            let page = span.page.as_ref().map_or(&ZEROS, |page| &**page);
            let bytes = &page.0[span.start..span.start + span.len];
            pieces.push(bytes.as_ptr() as u64, bytes.len() as u64);
        }
        pieces.end();
        self.bytes_reply = true;
        Ok(n as u64)
    }

    fn read_at_offset(&mut self, offset: Option<u64>, max: u32) -> Result<usize, FsError> {
        let (_, open) = self.this()?;
        if !open.flags.read() {
            return Err(FsError::WrongMode);
        }
        let at = offset.unwrap_or(open.offset.get());
        let len = (max as usize).min(READ_MAX_BYTES);
        let n = self
            .tree
            .lock()
            .read(open.node, at, &mut self.buffer[..len])?;
        if offset.is_none() {
            open.offset.set(at + n as u64);
        }
        Ok(n)
    }
}

impl FileServer for Server {
    fn open(&mut self, path: &str, flags: u32) -> Result<(CapSlot, u8), ErrorCode> {
        wire((|| {
            let flags = OpenFlags::from_bits(flags)?;
            let (session, dir) = self.this()?;
            let node = self
                .tree
                .lock()
                .open(dir.node, path, flags, u64::from(session))?;
            let stat = self.tree.lock().stat(node);
            let kind = match stat {
                Ok(stat) => stat.kind,
                Err(error) => {
                    let _ = self.tree.lock().release(node);
                    return Err(error);
                }
            };
            let slot = self.mint(session, Open::new(node, flags))?;
            Ok((slot, kind.code()))
        })())
    }

    fn read(&mut self, max: u32) -> Result<&[u8], ErrorCode> {
        let n = wire(self.read_at_offset(None, max))?;
        Ok(&self.buffer[..n])
    }

    fn read_at(&mut self, offset: u64, max: u32) -> Result<&[u8], ErrorCode> {
        let n = wire(self.read_at_offset(Some(offset), max))?;
        Ok(&self.buffer[..n])
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        wire(self.write_at_offset(None, data))
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<u64, ErrorCode> {
        wire(self.write_at_offset(Some(offset), data))
    }

    fn seek(&mut self, offset: i64, whence: Whence) -> Result<u64, ErrorCode> {
        let (_, open) = wire(self.this())?;
        let base = match whence {
            Whence::Start => 0,
            Whence::Current => open.offset.get(),
            Whence::End => wire(self.tree.lock().stat(open.node))?.size,
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
        let node = wire(self.tree.lock().lookup(dir.node, path))?;
        wire(self.stat_of(node))
    }

    fn truncate(&mut self, len: u64) -> Result<(), ErrorCode> {
        let (_, open) = wire(self.this())?;
        if !open.flags.write() {
            return Err(file::code(FsError::WrongMode));
        }
        wire(self.tree.lock().truncate(open.node, len))
    }

    fn readdir(&mut self, cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        let mut listing = dir.listing.borrow_mut();
        let mut after = match cookie {
            0 => None,
            c if c == listing.cookie => Some(core::mem::take(&mut listing.last)),
            _ => return Err(file::code(FsError::InvalidArgument)),
        };
        let mut writer = DirWriter::default();
        let mut more = false;
        while let Some(entry) = wire(self.tree.lock().readdir(dir.node, after.as_deref()))? {
            if !writer.push(entry.kind, &entry.name) {
                more = true;
                break;
            }
            after = Some(entry.name);
        }
        let next = if more {
            listing.cookie = listing.cookie.wrapping_add(1).max(1);
            listing.last = after.unwrap_or_default();
            listing.cookie
        } else {
            0
        };
        drop(listing);
        self.dir = writer;
        Ok((self.dir.as_bytes(), next))
    }

    fn mkdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        let (session, dir) = wire(self.this())?;
        wire(
            self.tree
                .lock()
                .mkdir(dir.node, path, u64::from(session))
                .map(drop),
        )
    }

    fn rmdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        wire(self.tree.lock().rmdir(dir.node, path))
    }

    fn unlink(&mut self, path: &str) -> Result<(), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        wire(self.tree.lock().unlink(dir.node, path))
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), ErrorCode> {
        let (_, dir) = wire(self.this())?;
        wire(self.tree.lock().rename(dir.node, from, dir.node, to))
    }

    fn dup(&mut self, mode: &str) -> Result<CapSlot, ErrorCode> {
        let (session, open) = wire(self.this())?;
        if !mode.is_empty() {
            return Err(file::code(FsError::InvalidArgument));
        }
        wire(self.tree.lock().retain(open.node))?;
        wire(self.mint(session, open))
    }

    fn close(&mut self) -> Result<(), ErrorCode> {
        let open = wire(self.objects.close())?;
        // Its rings first: their threads take the tree's lock to end.
        self.rings.close(self.badge);
        wire(self.tree.lock().release(open.node))
    }

    fn attach_ring(
        &mut self,
        memory: Cap,
        sq_entries: u32,
        cq_entries: u32,
        data_bytes: u32,
    ) -> Result<(CapSlot, CapSlot), ErrorCode> {
        let (session, open) = wire(self.this())?;
        // The root capability is a directory too.
        let kind = wire(self.tree.lock().stat(open.node))?.kind;
        if kind != Kind::File {
            return Err(file::code(FsError::IsADirectory));
        }
        let target = Target {
            node: open.node,
            flags: open.flags,
            owner: u64::from(session),
        };
        let geometry = rings::geometry(sq_entries, cq_entries, data_bytes);
        wire(
            self.rings
                .attach(&self.tree, self.badge, session, target, memory, geometry),
        )
    }

    fn map(&mut self) -> Result<(CapSlot, u64, u64), ErrorCode> {
        // Its pages are its own budget's and change under writers: no
        // sharing; a client reads instead.
        wire(self.this())?;
        Err(file::code(FsError::NotSupported))
    }

    fn map_at(&mut self, _path: &str) -> Result<(CapSlot, u64, u64), ErrorCode> {
        wire(self.this())?;
        Err(file::code(FsError::NotSupported))
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
        wire(self.read_spans(offset, max))
    }
}
