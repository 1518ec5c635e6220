//! The pipe server's state: pipes, their ends, and the calls waiting on
//! them.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use abi::CapSlot;
use fscore::pipe::{DEFAULT_CAPACITY, Pipe};
use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{
    self, FileServer, Objects, READ_MAX_BYTES, This, WRITE_MAX_BYTES, Whence, wire,
};
use protocols::status::{self, OK};
use protocols::wire::{Put, put_bytes};
use protocols::{Cap, ErrorCode};
use rt::ipc::{Message, SavedReply};

/// Open ends one session may hold.
const OPEN_PER_SESSION: u32 = 256;
/// Pipes in all: each holds a buffer of `DEFAULT_CAPACITY` bytes (64 KiB),
/// so they take at most 6 MiB of the 12 MiB system.toml gives the server.
const PIPES_MAX: usize = 96;
/// The status a handler answers with to have its call wait: never sent.
const DEFER: ErrorCode = ErrorCode::new(0xffff);

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
        }
    }

    /// Handles one call into `reply`: `true` to answer it now, `false`
    /// when it waits ([`Server::park`] takes its reply right then).
    pub fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        self.objects.begin(request.badge());
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

    /// Keeps the deferred call's reply right with what it waits for.
    pub fn park(&mut self, reply: SavedReply) {
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
        match parked.waiting {
            Waiting::Read { .. } => channel.readers.push_back(parked),
            Waiting::Write { .. } => channel.writers.push_back(parked),
        }
        self.dirty.push(pipe);
    }

    /// Forgets a deferral whose reply right could not be saved.
    pub fn unpark(&mut self) {
        self.deferral = None;
    }

    /// Answers every waiting call that can be answered now.
    pub fn wake(&mut self) {
        while let Some(pipe) = self.dirty.pop() {
            let Some(channel) = self.pipes.get_mut(&pipe) else {
                continue;
            };
            loop {
                let progress = answer_readers(channel, &mut self.buffer) | answer_writers(channel);
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
        self.objects.mint(session, end).inspect_err(|_| {
            self.close_end(end);
        })
    }

    /// Counts one end of `end.pipe` closed, and wakes what that ends.
    fn close_end(&mut self, end: End) {
        if let Some(channel) = self.pipes.get_mut(&end.pipe) {
            let _ = match end.side {
                Side::Read => channel.buffer.close_reader(),
                Side::Write => channel.buffer.close_writer(),
            };
            self.dirty.push(end.pipe);
        }
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

/// Answers waiting reads while there is data or no writer is left;
/// whether any was answered.
fn answer_readers(channel: &mut Channel, buffer: &mut [u8; READ_MAX_BYTES]) -> bool {
    let mut progress = false;
    while let Some(parked) = channel.readers.front() {
        let Waiting::Read { max } = parked.waiting else {
            break;
        };
        let n = match channel
            .buffer
            .peek(&mut buffer[..(max as usize).min(READ_MAX_BYTES)])
        {
            Ok(n) => n,
            Err(FsError::WouldBlock) => break,
            Err(_) => 0,
        };
        let Some(parked) = channel.readers.pop_front() else {
            break;
        };
        let mut message = Message::new(status::reply_label(OK, parked.request_id));
        let _ = put_bytes(&buffer[..n], &mut message);
        // The bytes leave the pipe only if the reader took them: one that
        // has gone (killed during its read) leaves them to the next.
        if parked.reply.send(&message).is_ok() {
            channel.buffer.consume(n);
        }
        progress = true;
    }
    progress
}

/// Answers waiting writes while they fit or no reader is left; whether
/// any was answered.
fn answer_writers(channel: &mut Channel) -> bool {
    let mut progress = false;
    while let Some(parked) = channel.writers.front() {
        let Waiting::Write { data } = &parked.waiting else {
            break;
        };
        let result = channel.buffer.write(data);
        if result == Err(FsError::WouldBlock) {
            break;
        }
        let Some(parked) = channel.writers.pop_front() else {
            break;
        };
        let message = match result {
            Ok(n) => {
                let mut message = Message::new(status::reply_label(OK, parked.request_id));
                let _ = (n as u64).put(&mut message);
                message
            }
            Err(error) => Message::new(status::reply_label(error.code(), parked.request_id)),
        };
        let _ = parked.reply.send(&message);
        progress = true;
    }
    progress
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
        let channel = wire(self.pipes.get_mut(&end.pipe).ok_or(FsError::BadDescriptor))?;
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
        let channel = wire(self.channel(end.pipe))?;
        // Earlier writers first, so writes stay in order.
        let result = if channel.writers.is_empty() {
            channel.buffer.write(data)
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
        Ok((Kind::Pipe.code(), channel.buffer.len() as u64, end.pipe, 1))
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
        self.close_end(end);
        Ok(())
    }

    fn attach_ring(
        &mut self,
        _memory: Cap,
        _sq_entries: u32,
        _cq_entries: u32,
        _data_bytes: u32,
    ) -> Result<(), ErrorCode> {
        // No bulk path here: the memory capability is deleted as it drops.
        Err(file::code(FsError::WrongMode))
    }

    fn map(&mut self) -> Result<(CapSlot, u64, u64), ErrorCode> {
        wire(self.end())?;
        Err(file::code(FsError::NotSupported))
    }
}
