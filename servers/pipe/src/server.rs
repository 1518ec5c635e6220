//! The pipe server's state: pipes, their ends, the data areas attached to
//! ends, and the calls waiting on them.
//!
//! Bulk data (`docs/files.md`, "Bulk data through a data area"): a client
//! attaches a data area to an open end (`attach_data`: a memory object
//! it pays for, mapped here at a slot address), then `write_shared` and
//! `read_shared` name ranges of it instead of carrying bytes. The server
//! copies between data areas and the pipe's buffer with one `rep movsb`
//! each (`rt::shared`), and when a reader already waits on an empty pipe,
//! straight from the writer's data area into the reader's. What a client
//! writes into its own data area while the server copies only changes its
//! own bytes; a range outside it is refused (`InvalidArgument`).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use abi::CapSlot;
use abi::layout::PAGE_BYTES;
use fscore::pipe::{DEFAULT_CAPACITY, Pipe};
use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{
    self, FileServer, Objects, READ_MAX_BYTES, This, WRITE_MAX_BYTES, Whence, wire,
};
use protocols::status::{self, OK};
use protocols::wire::{Put, put_bytes};
use protocols::{Cap, ErrorCode};
use rt::ipc::{Message, SavedReply};
use rt::memory::MemoryObject;
use rt::shared::SharedRegion;

use crate::direct::Ring;

/// Open ends one session may hold.
const OPEN_PER_SESSION: u32 = 256;
/// Pipes in all: each holds a buffer of `DEFAULT_CAPACITY` bytes (64 KiB)
/// and, once direct, a ring of 18 frames (`direct::Ring`), so they take
/// at most 13 MiB of the 20 MiB system.toml gives the server.
const PIPES_MAX: usize = 96;
/// The status a handler answers with to have its call wait: never sent.
const DEFER: ErrorCode = ErrorCode::new(0xffff);
/// The largest data area the server maps: it pays the mapping's page
/// tables, so a client may not make it map more.
const DATA_MAX_BYTES: u32 = 256 << 10;
/// Data areas mapped at once, over all sessions (one address slot each).
const AREAS_MAX: usize = 64;
/// Data areas one session may have mapped at once.
const AREAS_PER_SESSION: usize = 16;
/// Where data area slot `i` is mapped: `DATA_AREA + i * DATA_SLOT_BYTES`
/// (the next area in the slot reuses the page tables).
const DATA_AREA: u64 = 0x0000_3000_0000_0000;
/// Address space set aside for each slot (more than the largest area).
const DATA_SLOT_BYTES: u64 = 1 << 20;

/// Which side of a pipe an end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

/// An open end: what a capability's badge names.
#[derive(Clone, Copy, Debug)]
struct End {
    pipe: u64,
    side: Side,
}

/// A call that waits.
enum Waiting {
    /// A read of up to `max` bytes.
    Read { max: u32 },
    /// A write of these bytes.
    Write { data: Vec<u8> },
    /// A read of up to `max` bytes into the data area of the open end
    /// `area` (its badge) at `offset`.
    ReadShared { area: u64, offset: u32, max: u32 },
    /// A write of `len` bytes from the data area of `area` at `offset`:
    /// the bytes stay there (the client waits) until they go in.
    WriteShared { area: u64, offset: u32, len: u32 },
}

/// A data area a client attached to one of its open ends.
struct DataArea {
    /// The mapping (dropped first: unmapped before the capability goes).
    region: SharedRegion,
    /// The client's memory object.
    _memory: MemoryObject,
    /// Its address slot.
    slot: usize,
    /// The session it counts against.
    session: u32,
    /// The pipe of its end (no pipe with a data area goes direct).
    pipe: u64,
}

/// The data areas, by the badge of the open end they belong to.
#[derive(Default)]
struct Areas {
    by_end: BTreeMap<u64, DataArea>,
    /// Slot `i` is taken when bit `i` is set.
    taken: u64,
}

impl Areas {
    /// `len` bytes at `offset` of the area of `badge`: its region and the
    /// offset as a `usize`, or `BadDescriptor` if the end has none (any
    /// more) and `InvalidArgument` if the range passes its end.
    fn range(&self, badge: u64, offset: u32, len: u32) -> Result<(&SharedRegion, usize), FsError> {
        let area = self.by_end.get(&badge).ok_or(FsError::BadDescriptor)?;
        let end = u64::from(offset) + u64::from(len);
        if end > area.region.len_bytes() as u64 {
            return Err(FsError::InvalidArgument);
        }
        Ok((&area.region, offset as usize))
    }
}

/// A waiting call and the right to answer it.
struct Parked {
    reply: SavedReply,
    request_id: u32,
    waiting: Waiting,
}

/// One pipe.
struct Channel {
    buffer: Pipe,
    /// Reads waiting for data, oldest first.
    readers: VecDeque<Parked>,
    /// Writes waiting for room, oldest first.
    writers: VecDeque<Parked>,
    /// The ring, once the pipe is direct (`attach_pipe`): its bytes are
    /// there, not in `buffer`, and no call waits here any more.
    ring: Option<Ring>,
}

/// What the handler of the current call decided to wait for.
struct Deferral {
    pipe: u64,
    request_id: u32,
    waiting: Waiting,
}

/// The server's state.
pub struct Server {
    objects: Objects<End>,
    pipes: BTreeMap<u64, Channel>,
    next_pipe: u64,
    /// Set by a handler that defers its call; taken by [`Server::park`].
    deferral: Option<Deferral>,
    /// The request id of the call being answered.
    request_id: u32,
    /// Pipes whose waiting calls may now be answered.
    dirty: Vec<u64>,
    buffer: [u8; READ_MAX_BYTES],
    /// The data areas attached to open ends.
    areas: Areas,
    /// The badge of the call being answered.
    badge: u64,
}

impl Server {
    /// No pipes yet, answering on `endpoint`.
    pub fn new(endpoint: CapSlot) -> Server {
        Server {
            objects: Objects::new(endpoint, OPEN_PER_SESSION),
            pipes: BTreeMap::new(),
            next_pipe: 1,
            deferral: None,
            request_id: 0,
            dirty: Vec::new(),
            buffer: [0; READ_MAX_BYTES],
            areas: Areas::default(),
            badge: 0,
        }
    }

    /// Handles one call into `reply`: `true` to answer it now, `false`
    /// when it waits ([`Server::park`] takes its reply right then).
    fn handle(&mut self, request: &Message, reply: &mut Message) -> bool {
        self.objects.begin(request.badge());
        self.badge = request.badge();
        self.request_id = status::split_label(request.label()).1;
        self.deferral = None;
        file::dispatch(self, request, reply);
        let deferred =
            status::split_label(reply.label()).0 == DEFER.get() && self.deferral.is_some();
        if !deferred {
            self.deferral = None;
            self.wake();
        }
        !deferred
    }

    /// Has the kernel report clients gone (`Objects::watch`).
    ///
    /// # Errors
    /// The kernel's.
    pub fn watch(&mut self) -> Result<(), abi::SysError> {
        self.objects.watch()
    }

    /// Closes the ends whose clients are gone, as `close` does, and
    /// answers what that unblocks.
    pub fn leases_ended(&mut self, bits: u64) {
        for (badge, end) in self.objects.ended(bits) {
            self.drop_area(badge);
            self.close_end(badge, end);
        }
        self.wake();
    }

    /// Keeps the deferred call's reply right with what it waits for.
    fn keep(&mut self, reply: SavedReply) {
        let Some(Deferral {
            pipe,
            request_id,
            waiting,
        }) = self.deferral.take()
        else {
            // Nothing was deferred: dropping the right answers PeerClosed.
            return;
        };
        let Some(channel) = self.pipes.get_mut(&pipe) else {
            return;
        };
        let parked = Parked {
            reply,
            request_id,
            waiting,
        };
        // Nothing changed since the handler found the call must wait, so
        // nothing waiting becomes answerable: the pipe is not dirtied.
        match parked.waiting {
            Waiting::Read { .. } | Waiting::ReadShared { .. } => channel.readers.push_back(parked),
            Waiting::Write { .. } | Waiting::WriteShared { .. } => {
                channel.writers.push_back(parked);
            }
        }
    }

    /// Forgets a deferral whose reply right could not be saved.
    fn forget(&mut self) {
        self.deferral = None;
    }

    /// Answers every waiting call that can be answered now.
    pub fn wake(&mut self) {
        while let Some(pipe) = self.dirty.pop() {
            let Some(channel) = self.pipes.get_mut(&pipe) else {
                continue;
            };
            loop {
                let progress = answer_readers(channel, &mut self.buffer, &self.areas)
                    | answer_writers(channel, &self.areas);
                if !progress {
                    break;
                }
            }
            if channel.buffer.readers() == 0 && channel.buffer.writers() == 0 {
                self.pipes.remove(&pipe);
            }
        }
    }

    /// The end the current call's capability names.
    fn end(&mut self) -> Result<(u32, End), FsError> {
        match self.objects.this()? {
            This::Object(session, end) => Ok((session, *end)),
            This::Root(_) => Err(FsError::IsADirectory),
        }
    }

    fn channel(&mut self, pipe: u64) -> Result<&mut Channel, FsError> {
        self.pipes.get_mut(&pipe).ok_or(FsError::BadDescriptor)
    }

    /// A new end of `pipe` for `session`, counted on the pipe.
    fn open_end(&mut self, session: u32, end: End) -> Result<CapSlot, FsError> {
        let channel = self.channel(end.pipe)?;
        match end.side {
            Side::Read => channel.buffer.open_reader()?,
            Side::Write => channel.buffer.open_writer()?,
        }
        channel.tell_ring();
        self.objects.mint(session, end).inspect_err(|_| {
            // Never attached: no lock of its to free.
            self.close_end(0, end);
        })
    }

    /// Counts one end of `end.pipe` closed (its capability had `badge`),
    /// and wakes what that ends: waiting calls, and in a direct pipe the
    /// ends waiting in the ring, after freeing the lock if the end held it.
    fn close_end(&mut self, badge: u64, end: End) {
        if let Some(channel) = self.pipes.get_mut(&end.pipe) {
            let _ = match end.side {
                Side::Read => channel.buffer.close_reader(),
                Side::Write => channel.buffer.close_writer(),
            };
            if let (Some(ring), Some(id)) = (&channel.ring, lock_id(badge)) {
                ring.release(id);
            }
            channel.tell_ring();
            self.dirty.push(end.pipe);
        }
    }

    /// `pipe` for the message path (`message_channel`).
    fn message_channel(&mut self, pipe: u64) -> Result<&mut Channel, FsError> {
        message_channel(&mut self.pipes, pipe)
    }

    /// Defers the current call on `pipe`.
    fn defer(&mut self, pipe: u64, waiting: Waiting) -> ErrorCode {
        self.deferral = Some(Deferral {
            pipe,
            request_id: self.request_id,
            waiting,
        });
        DEFER
    }
}

impl Channel {
    /// Tells a direct pipe's ring the counts of ends.
    fn tell_ring(&self) {
        if let Some(ring) = &self.ring {
            ring.set_ends(self.buffer.readers(), self.buffer.writers());
        }
    }
}

/// `pipe` for the message path: `NotSupported` once it is direct (its
/// bytes are in the ring: the end attaches).
fn message_channel(pipes: &mut BTreeMap<u64, Channel>, pipe: u64) -> Result<&mut Channel, FsError> {
    let channel = pipes.get_mut(&pipe).ok_or(FsError::BadDescriptor)?;
    if channel.ring.is_some() {
        return Err(FsError::NotSupported);
    }
    Ok(channel)
}

/// The lock id of the end whose capability has `badge` (`attach_pipe`
/// gives it): the object's id folded into `1..=ID_MAX`. An instance's ids
/// are consecutive from where it started them (`protocols::file::table`,
/// somewhere in 2^61), so no two ends share a lock id before 2^31 - 1
/// opens.
fn lock_id(badge: u64) -> Option<u32> {
    let file::Badge::Object(id) = file::Badge::of(badge) else {
        return None;
    };
    let max = u64::from(fscore::pipe_ring::ID_MAX);
    // Below `max` + 1, which is at most `ID_MAX`: it fits.
    Some((id % max) as u32 + 1)
}

/// Answers waiting reads while there is data or no writer is left;
/// whether any was answered.
fn answer_readers(channel: &mut Channel, buffer: &mut [u8; READ_MAX_BYTES], areas: &Areas) -> bool {
    let mut progress = false;
    while let Some(parked) = channel.readers.front() {
        // Peeked, not read: the bytes leave the pipe only once the reader
        // has been answered; one that has gone (killed during its read)
        // leaves them to the next.
        let result = match parked.waiting {
            Waiting::Read { max } => channel
                .buffer
                .peek(&mut buffer[..(max as usize).min(READ_MAX_BYTES)]),
            Waiting::ReadShared { area, offset, max } => {
                peek_into_area(&channel.buffer, areas, area, offset, max)
            }
            _ => break,
        };
        if result == Err(FsError::WouldBlock) {
            break;
        }
        let Some(parked) = channel.readers.pop_front() else {
            break;
        };
        // Each reply is built where it is sent: a `Message` is 560 bytes,
        // and moving one out of a `match` copies it.
        let id = parked.request_id;
        let taken = match (result, &parked.waiting) {
            (Ok(n), Waiting::Read { .. }) => {
                let mut message = Message::new(status::reply_label(OK, id));
                let _ = put_bytes(&buffer[..n], &mut message);
                parked.reply.send(&message).is_ok().then_some(n)
            }
            (Ok(n), _) => {
                let mut message = Message::new(status::reply_label(OK, id));
                let _ = (n as u64).put(&mut message);
                parked.reply.send(&message).is_ok().then_some(n)
            }
            (Err(error), _) => {
                let _ = parked
                    .reply
                    .send(&Message::new(status::reply_label(error.code(), id)));
                None
            }
        };
        if let Some(n) = taken {
            channel.buffer.consume(n);
        }
        progress = true;
    }
    progress
}

/// Hands the start of a write straight to the first waiting reader, when
/// the pipe is empty, no writer waits, some read end is open and that
/// reader reads by message: its reply is built from `data`, with no trip
/// through the pipe's buffer. Returns how many bytes went (0 when none
/// could, or the reader had gone: the bytes then go into the buffer, for
/// the next reader). The rest of an atomic write then fits the empty
/// buffer whole, so it is never split around another writer's bytes.
fn hand_off_message(channel: &mut Channel, data: &[u8]) -> usize {
    if data.is_empty()
        || !channel.buffer.is_empty()
        || !channel.writers.is_empty()
        || channel.buffer.readers() == 0
    {
        return 0;
    }
    let Some(Parked {
        waiting: Waiting::Read { max },
        ..
    }) = channel.readers.front()
    else {
        return 0;
    };
    let count = data.len().min(*max as usize).min(READ_MAX_BYTES);
    let Some(parked) = channel.readers.pop_front() else {
        return 0;
    };
    let mut message = Message::new(status::reply_label(OK, parked.request_id));
    let _ = put_bytes(&data[..count], &mut message);
    if parked.reply.send(&message).is_ok() {
        count
    } else {
        0
    }
}

/// A reply of `OK` and one count word.
fn count_reply(request_id: u32, n: usize) -> Message {
    let mut message = Message::new(status::reply_label(OK, request_id));
    let _ = (n as u64).put(&mut message);
    message
}

/// Copies up to `max` bytes of `pipe` into the data area of `area` at
/// `offset` (checked again: the area may have gone while the call waited),
/// leaving them in the pipe until [`Pipe::consume`].
fn peek_into_area(
    pipe: &Pipe,
    areas: &Areas,
    area: u64,
    offset: u32,
    max: u32,
) -> Result<usize, FsError> {
    let (region, offset) = areas.range(area, offset, max)?;
    pipe.peek_with(max as usize, |at, bytes| {
        // In range: `range` checked `offset + max`.
        let _ = region.copy_in(offset + at, bytes);
    })
}

/// Writes `len` bytes from the data area of `area` at `offset` into
/// `pipe`, as [`Pipe::write`].
fn write_from_area(
    pipe: &mut Pipe,
    areas: &Areas,
    area: u64,
    offset: u32,
    len: u32,
) -> Result<usize, FsError> {
    let (region, offset) = areas.range(area, offset, len)?;
    pipe.write_with(len as usize, |at, room| {
        // In range: `range` checked `offset + len`.
        let _ = region.copy_out(offset + at, room);
    })
}

/// Answers waiting writes while they fit or no reader is left; whether
/// any was answered.
fn answer_writers(channel: &mut Channel, areas: &Areas) -> bool {
    let mut progress = false;
    while let Some(parked) = channel.writers.front() {
        let result = match &parked.waiting {
            Waiting::Write { data } => channel.buffer.write(data),
            Waiting::WriteShared { area, offset, len } => {
                write_from_area(&mut channel.buffer, areas, *area, *offset, *len)
            }
            _ => break,
        };
        if result == Err(FsError::WouldBlock) {
            break;
        }
        let Some(parked) = channel.writers.pop_front() else {
            break;
        };
        let message = match result {
            Ok(n) => count_reply(parked.request_id, n),
            Err(error) => Message::new(status::reply_label(error.code(), parked.request_id)),
        };
        let _ = parked.reply.send(&message);
        progress = true;
    }
    progress
}

impl Server {
    /// The data area range of the current call's end, for an end of
    /// `side`: the end, and the range checked.
    fn shared_end(&mut self, side: Side, offset: u32, len: u32) -> Result<End, FsError> {
        let (_, end) = self.end()?;
        if end.side != side {
            return Err(FsError::WrongMode);
        }
        self.areas.range(self.badge, offset, len)?;
        Ok(end)
    }

    /// Hands bytes of a write from the current end's data area straight
    /// to the first waiting reader, when the pipe is empty and that reader
    /// reads into a data area too: one copy instead of two. Returns how
    /// many bytes went.
    fn hand_off(&mut self, pipe: u64, offset: u32, len: u32) -> usize {
        let Some(channel) = self.pipes.get_mut(&pipe) else {
            return 0;
        };
        if !channel.buffer.is_empty() || !channel.writers.is_empty() || len == 0 {
            return 0;
        }
        let Some(Waiting::ReadShared {
            area,
            offset: to,
            max,
        }) = channel.readers.front().map(|parked| &parked.waiting)
        else {
            return 0;
        };
        let (area, to, max) = (*area, *to, *max);
        let count = len.min(max);
        let Ok((source, from)) = self.areas.range(self.badge, offset, count) else {
            return 0;
        };
        let copied = match self.areas.range(area, to, count) {
            Ok((target, to)) => source.copy_to(from, target, to, count as usize).is_ok(),
            // The reader's area went while it waited: answered by `wake`.
            Err(_) => false,
        };
        if !copied {
            return 0;
        }
        let Some(parked) = channel.readers.pop_front() else {
            return 0;
        };
        let _ = parked
            .reply
            .send(&count_reply(parked.request_id, count as usize));
        count as usize
    }

    /// Unmaps the data area of the end with `badge`, if it has one.
    fn drop_area(&mut self, badge: u64) {
        if let Some(area) = self.areas.by_end.remove(&badge) {
            self.areas.taken &= !(1 << area.slot);
        }
    }
}

impl FileServer for Server {
    fn open(&mut self, path: &str, flags: u32) -> Result<(CapSlot, u8), ErrorCode> {
        wire((|| {
            let flags = OpenFlags::from_bits(flags)?;
            let This::Root(session) = self.objects.this()? else {
                return Err(FsError::NotADirectory);
            };
            fscore::path::check_server_path(path)?;
            if !path.is_empty() {
                return Err(FsError::NotFound);
            }
            if flags.write() || flags.contains(OpenFlags::DIRECTORY) {
                return Err(FsError::InvalidArgument);
            }
            if self.pipes.len() >= PIPES_MAX {
                return Err(FsError::NoSpace);
            }
            let pipe = self.next_pipe;
            self.next_pipe += 1;
            self.pipes.insert(
                pipe,
                Channel {
                    buffer: Pipe::new(DEFAULT_CAPACITY),
                    readers: VecDeque::new(),
                    writers: VecDeque::new(),
                    ring: None,
                },
            );
            let end = End {
                pipe,
                side: Side::Read,
            };
            let slot = self.open_end(session, end).inspect_err(|_| {
                self.pipes.remove(&pipe);
            })?;
            Ok((slot, Kind::Pipe.code()))
        })())
    }

    fn read(&mut self, max: u32) -> Result<&[u8], ErrorCode> {
        let (_, end) = wire(self.end())?;
        if end.side != Side::Read {
            return Err(file::code(FsError::WrongMode));
        }
        let len = (max as usize).min(READ_MAX_BYTES);
        let channel = wire(message_channel(&mut self.pipes, end.pipe))?;
        if len == 0 {
            return Ok(&[]);
        }
        // Earlier readers first.
        let result = if channel.readers.is_empty() {
            channel.buffer.read(&mut self.buffer[..len])
        } else {
            Err(FsError::WouldBlock)
        };
        match result {
            Ok(n) => {
                self.dirty.push(end.pipe);
                Ok(&self.buffer[..n])
            }
            Err(FsError::WouldBlock) => Err(self.defer(end.pipe, Waiting::Read { max })),
            Err(error) => Err(file::code(error)),
        }
    }

    fn read_at(&mut self, _offset: u64, _max: u32) -> Result<&[u8], ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::WrongMode))
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        let (_, end) = wire(self.end())?;
        if end.side != Side::Write {
            return Err(file::code(FsError::WrongMode));
        }
        let data = &data[..data.len().min(WRITE_MAX_BYTES)];
        let channel = wire(self.message_channel(end.pipe))?;
        // Earlier writers first, so writes stay in order.
        let result = if channel.writers.is_empty() {
            let handed = hand_off_message(channel, data);
            if handed == data.len() {
                // All of it went to a reader: nothing else can move.
                return Ok(handed as u64);
            }
            channel.buffer.write(&data[handed..]).map(|n| handed + n)
        } else if channel.buffer.readers() == 0 {
            Err(FsError::BrokenPipe)
        } else {
            Err(FsError::WouldBlock)
        };
        match result {
            Ok(n) => {
                self.dirty.push(end.pipe);
                Ok(n as u64)
            }
            Err(FsError::WouldBlock) => {
                let data = data.to_vec();
                Err(self.defer(end.pipe, Waiting::Write { data }))
            }
            Err(error) => Err(file::code(error)),
        }
    }

    fn write_at(&mut self, _offset: u64, _data: &[u8]) -> Result<u64, ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::WrongMode))
    }

    fn seek(&mut self, _offset: i64, _whence: Whence) -> Result<u64, ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::WrongMode))
    }

    fn stat(&mut self) -> Result<(u8, u64, u64, u64), ErrorCode> {
        let (_, end) = match self.objects.this() {
            Ok(This::Root(_)) => return Ok((Kind::Dir.code(), 0, 0, 1)),
            _ => wire(self.end())?,
        };
        let channel = wire(self.channel(end.pipe))?;
        let held = match &channel.ring {
            Some(ring) => ring.held() as u64,
            None => channel.buffer.len() as u64,
        };
        Ok((Kind::Pipe.code(), held, end.pipe, 1))
    }

    fn stat_at(&mut self, path: &str) -> Result<(u8, u64, u64, u64), ErrorCode> {
        wire(self.objects.this())?;
        wire(fscore::path::check_server_path(path))?;
        if path.is_empty() {
            return Ok((Kind::Dir.code(), 0, 0, 1));
        }
        Err(file::code(FsError::NotFound))
    }

    fn truncate(&mut self, _len: u64) -> Result<(), ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::WrongMode))
    }

    fn readdir(&mut self, _cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        // The root lists nothing: pipes have no names.
        match wire(self.objects.this())? {
            This::Root(_) => Ok((&[], 0)),
            This::Object(..) => Err(file::code(FsError::NotADirectory)),
        }
    }

    fn mkdir(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.objects.this())?;
        Err(file::code(FsError::InvalidArgument))
    }

    fn rmdir(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.objects.this())?;
        Err(file::code(FsError::NotFound))
    }

    fn unlink(&mut self, _path: &str) -> Result<(), ErrorCode> {
        wire(self.objects.this())?;
        Err(file::code(FsError::NotFound))
    }

    fn rename(&mut self, _from: &str, _to: &str) -> Result<(), ErrorCode> {
        wire(self.objects.this())?;
        Err(file::code(FsError::NotFound))
    }

    fn dup(&mut self, mode: &str) -> Result<CapSlot, ErrorCode> {
        let (session, end) = wire(self.end())?;
        let side = match mode {
            "" => end.side,
            "read" => Side::Read,
            "write" => Side::Write,
            _ => return Err(file::code(FsError::InvalidArgument)),
        };
        wire(self.open_end(session, End { side, ..end }))
    }

    fn close(&mut self) -> Result<(), ErrorCode> {
        let end = wire(self.objects.close())?;
        self.drop_area(self.badge);
        self.close_end(self.badge, end);
        Ok(())
    }

    fn attach_ring(
        &mut self,
        _memory: Cap,
        _sq_entries: u32,
        _cq_entries: u32,
        _data_bytes: u32,
    ) -> Result<(CapSlot, CapSlot), ErrorCode> {
        // Pipes take data areas instead (`attach_data`): the memory
        // capability is deleted as it drops.
        Err(file::code(FsError::WrongMode))
    }

    fn map(&mut self) -> Result<(CapSlot, u64, u64), ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::NotSupported))
    }

    fn map_at(&mut self, _path: &str) -> Result<(CapSlot, u64, u64), ErrorCode> {
        Err(file::code(FsError::NotSupported))
    }

    fn attach_data(&mut self, memory: Cap, data_bytes: u32) -> Result<(), ErrorCode> {
        wire((|| {
            let (session, end) = self.end()?;
            self.message_channel(end.pipe)?;
            if data_bytes == 0
                || data_bytes > DATA_MAX_BYTES
                || u64::from(data_bytes) % PAGE_BYTES != 0
            {
                return Err(FsError::InvalidArgument);
            }
            if self.areas.by_end.contains_key(&self.badge) {
                return Err(FsError::InvalidArgument);
            }
            let mine = self.areas.by_end.values();
            if mine.filter(|area| area.session == session).count() >= AREAS_PER_SESSION {
                return Err(FsError::TooManyOpen);
            }
            let slot = (!self.areas.taken).trailing_zeros() as usize;
            if slot >= AREAS_MAX {
                return Err(FsError::TooManyOpen);
            }
            let memory = memory.into_handle::<MemoryObject>();
            let vaddr = DATA_AREA + slot as u64 * DATA_SLOT_BYTES;
            let pages = u64::from(data_bytes) / PAGE_BYTES;
            // Not a memory object, too small, not writable: refused here.
            let region = SharedRegion::map(&memory, 0, vaddr, pages)
                .map_err(|_| FsError::InvalidArgument)?;
            self.areas.taken |= 1 << slot;
            self.areas.by_end.insert(
                self.badge,
                DataArea {
                    region,
                    _memory: memory,
                    slot,
                    session,
                    pipe: end.pipe,
                },
            );
            Ok(())
        })())
    }

    fn write_shared(&mut self, offset: u32, len: u32) -> Result<u64, ErrorCode> {
        let end = wire(self.shared_end(Side::Write, offset, len))?;
        let channel = wire(self.message_channel(end.pipe))?;
        if channel.buffer.readers() == 0 {
            return Err(file::code(FsError::BrokenPipe));
        }
        // Earlier writers first, so writes stay in order.
        if !channel.writers.is_empty() {
            let waiting = Waiting::WriteShared {
                area: self.badge,
                offset,
                len,
            };
            return Err(self.defer(end.pipe, waiting));
        }
        // An atomic write (at most PIPE_BUF bytes) goes whole: after a
        // hand-off the rest fits the empty buffer, so it never waits half
        // done.
        let handed = self.hand_off(end.pipe, offset, len);
        let rest = len - handed as u32;
        let from = offset + handed as u32;
        let channel = wire(self.pipes.get_mut(&end.pipe).ok_or(FsError::BadDescriptor))?;
        let result = if rest == 0 {
            Ok(0)
        } else {
            write_from_area(&mut channel.buffer, &self.areas, self.badge, from, rest)
        };
        match result {
            Ok(n) => {
                self.dirty.push(end.pipe);
                Ok((handed + n) as u64)
            }
            Err(FsError::WouldBlock) if handed > 0 => Ok(handed as u64),
            Err(FsError::WouldBlock) => {
                let waiting = Waiting::WriteShared {
                    area: self.badge,
                    offset,
                    len,
                };
                Err(self.defer(end.pipe, waiting))
            }
            Err(error) => Err(file::code(error)),
        }
    }

    fn attach_pipe(&mut self) -> Result<(CapSlot, u32, u8), ErrorCode> {
        wire(self.attach_direct())
    }

    fn read_bytes(&mut self, _offset: u64, _max: u32) -> Result<u64, ErrorCode> {
        // A pipe has no offsets; its bulk path is direct mode.
        Err(file::code(FsError::NotSupported))
    }

    fn read_shared(&mut self, offset: u32, max: u32) -> Result<u64, ErrorCode> {
        let end = wire(self.shared_end(Side::Read, offset, max))?;
        let channel = wire(message_channel(&mut self.pipes, end.pipe))?;
        if max == 0 {
            return Ok(0);
        }
        // Earlier readers first.
        let result = if channel.readers.is_empty() {
            peek_into_area(&channel.buffer, &self.areas, self.badge, offset, max)
                .inspect(|&n| channel.buffer.consume(n))
        } else {
            Err(FsError::WouldBlock)
        };
        match result {
            Ok(n) => {
                self.dirty.push(end.pipe);
                Ok(n as u64)
            }
            Err(FsError::WouldBlock) => {
                let waiting = Waiting::ReadShared {
                    area: self.badge,
                    offset,
                    max,
                };
                Err(self.defer(end.pipe, waiting))
            }
            Err(error) => Err(file::code(error)),
        }
    }
}

impl Server {
    /// `attach_pipe`: the pipe's ring (made now if it has none yet), the
    /// current end's lock id and its side.
    fn attach_direct(&mut self) -> Result<(CapSlot, u32, u8), FsError> {
        let (_, end) = self.end()?;
        let id = lock_id(self.badge).ok_or(FsError::NotSupported)?;
        let has_area = self.areas.by_end.values().any(|area| area.pipe == end.pipe);
        let channel = self.channel(end.pipe)?;
        if channel.ring.is_none() {
            // Only an idle pipe changes mode: nothing in the buffer,
            // nobody waiting, no data area, so no byte is ever in both
            // places and none is left behind.
            if has_area {
                return Err(FsError::NotSupported);
            }
            if !channel.buffer.is_empty()
                || !channel.readers.is_empty()
                || !channel.writers.is_empty()
            {
                return Err(FsError::WouldBlock);
            }
            let ring = Ring::create().ok_or(FsError::NoSpace)?;
            channel.ring = Some(ring);
            channel.tell_ring();
        }
        let ring = channel.ring.as_ref().ok_or(FsError::BadDescriptor)?;
        let side = match end.side {
            Side::Read => 0,
            Side::Write => 1,
        };
        Ok((ring.memory(), id, side))
    }
}

impl protocols::server::Deferring for Server {
    /// One thread serves everything: a parked call can only be answered
    /// while handling a later message.
    const PARK_AFTER_RECEIVE: bool = true;

    fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        self.handle(request, reply)
    }

    /// Parks the call, then answers what the call made possible.
    fn park(&mut self, reply: SavedReply) {
        self.keep(reply);
        self.wake();
    }

    fn unpark(&mut self) {
        self.forget();
        self.wake();
    }

    fn other(&mut self, message: &Message) {
        if message.info().is_notification() {
            // Clients gone: their ends close (a reader may see the end of
            // the file, a writer BrokenPipe).
            self.leases_ended(message.badge());
        } else {
            protocols::discard_caps(message);
        }
    }
}
