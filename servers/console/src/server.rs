//! The handlers: `File` for `/dev` and the devices in it, `Tty` on an
//! open console, dispatched by opcode.
//!
//! Objects (badges, `protocols::file::Objects`): the root capability and
//! [`Object::Dir`] are the directory `/dev`, which holds `console`,
//! `null` and (when init granted the `kernel-log` authority) `kmsg`;
//! [`Object::Console`] is an open console. Each open console has its own
//! number, so that closing it answers only the reads that came through
//! it. [`Object::Null`] reads end of file and takes every write;
//! [`Object::Kmsg`] reads the kernel log (`DebugLogRead`) from its own
//! cursor to the end, then end of file (`dmesg`).

use abi::CapSlot;
use fscore::{FsError, Kind, OpenFlags};
use protocols::file::{self, DirWriter, FileServer, Objects, READ_MAX_BYTES, This, Whence, wire};
use protocols::status;
use protocols::tty::{self, Mode, Signal, TtyServer};
use protocols::{Cap, ErrorCode};
use rt::ipc::{Message, SavedReply};
use ttycore::Settings;

use crate::state::{Shared, Waiter, deliver};

/// The terminal's name in `/dev`.
pub const NAME: &str = "console";
/// The empty device's name in `/dev`.
const NULL: &str = "null";
/// The kernel log's name in `/dev`.
const KMSG: &str = "kmsg";
/// Open objects one session may hold.
const OPEN_PER_SESSION: u32 = 64;
/// `stat` ids: the directory and the device.
const DIR_ID: u64 = 1;
const CONSOLE_ID: u64 = 2;
const NULL_ID: u64 = 3;
const KMSG_ID: u64 = 4;
/// The size `size` reports: the console cannot ask the terminal.
const COLUMNS: u16 = 80;
const ROWS: u16 = 24;
/// The status a handler answers with to have its call wait: never sent.
const DEFER: ErrorCode = ErrorCode::new(0xffff);

/// What a capability names.
#[derive(Clone, Copy, Debug)]
enum Object {
    /// `/dev` (opened with the empty path, or a `dup` of the root).
    Dir,
    /// The console, opened with `flags`; `number` tells opens apart.
    Console { flags: OpenFlags, number: u64 },
    /// `/dev/null`, opened with `flags`.
    Null { flags: OpenFlags },
    /// `/dev/kmsg`: the position in the kernel log of the next byte.
    Kmsg { cursor: u64 },
}

/// What the current call waits for.
#[derive(Clone, Copy, Debug)]
enum Deferral {
    /// Input: up to `max` bytes, through open console `number`.
    Read { max: usize, number: u64 },
    /// The next signal key.
    Signal,
}

/// The receive loop's state; the terminal is in [`Shared`].
pub struct Server {
    objects: Objects<Object>,
    shared: &'static Shared,
    /// Set by a handler that defers its call; taken by [`Server::park`].
    deferral: Option<Deferral>,
    /// The request id of the call being answered.
    request_id: u32,
    /// The number of the next open console.
    next_number: u64,
    buffer: [u8; READ_MAX_BYTES],
    listing: DirWriter,
    /// The read-only debug capability `DebugLogRead` takes, if granted.
    kernel_log: Option<CapSlot>,
}

impl Server {
    /// No objects open yet, answering on `endpoint`; `/dev/kmsg` reads
    /// through `kernel_log` (without it there is no such file).
    pub fn new(endpoint: CapSlot, shared: &'static Shared, kernel_log: Option<CapSlot>) -> Server {
        let mut listing = DirWriter::default();
        listing.push(Kind::Device, NAME);
        listing.push(Kind::Device, NULL);
        if kernel_log.is_some() {
            listing.push(Kind::Device, KMSG);
        }
        Server {
            objects: Objects::new(endpoint, OPEN_PER_SESSION),
            shared,
            deferral: None,
            request_id: 0,
            next_number: 1,
            buffer: [0; READ_MAX_BYTES],
            listing,
            kernel_log,
        }
    }

    /// Has the kernel report clients gone (`Objects::watch`).
    ///
    /// # Errors
    /// The kernel's.
    pub fn watch(&mut self) -> Result<(), abi::SysError> {
        self.objects.watch()
    }

    /// Closes the objects whose clients are gone, as `close` does.
    pub fn leases_ended(&mut self, bits: u64) {
        for (_, object) in self.objects.ended(bits) {
            if let Object::Console { number, .. } = object {
                self.shared.lock().terminal.close(number, deliver);
            }
        }
    }

    /// Handles one call into `reply`: `true` to answer it now, `false`
    /// when it waits ([`Server::park`] takes its reply right then).
    pub fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        self.objects.begin(request.badge());
        let (opcode, request_id) = status::split_label(request.label());
        self.request_id = request_id;
        self.deferral = None;
        if tty::is_tty_opcode(opcode) {
            tty::dispatch(self, request, reply);
        } else {
            file::dispatch(self, request, reply);
        }
        let deferred =
            status::split_label(reply.label()).0 == DEFER.get() && self.deferral.is_some();
        if !deferred {
            self.deferral = None;
        }
        !deferred
    }

    /// Keeps the deferred call's reply right with what it waits for, and
    /// answers it at once if input came meanwhile.
    pub fn park(&mut self, reply: SavedReply) {
        let Some(deferral) = self.deferral.take() else {
            // Nothing was deferred: dropping the right answers PeerClosed.
            return;
        };
        let waiter = Waiter {
            reply,
            request_id: self.request_id,
        };
        let mut state = self.shared.lock();
        // The handler checked there was room, and only this thread parks.
        let parked = match deferral {
            Deferral::Read { max, number } => state.terminal.park_read(waiter, max, number),
            Deferral::Signal => state.terminal.park_signal(waiter),
        };
        if let Err(waiter) = parked {
            let code = FsError::Busy.code();
            let _ = waiter
                .reply
                .send(&Message::new(status::reply_label(code, waiter.request_id)));
        }
        state.terminal.wake(deliver);
    }

    /// Forgets a deferral whose reply right could not be saved.
    pub fn unpark(&mut self) {
        self.deferral = None;
    }

    /// The open console the current call's capability names: its flags
    /// and number.
    fn console(&mut self) -> Result<(OpenFlags, u64), FsError> {
        match self.objects.this()? {
            This::Object(_, Object::Console { flags, number }) => Ok((*flags, *number)),
            This::Root(_) | This::Object(_, Object::Dir) => Err(FsError::IsADirectory),
            This::Object(_, Object::Null { .. } | Object::Kmsg { .. }) => {
                Err(FsError::NotSupported)
            }
        }
    }

    /// The session of a call on the directory.
    fn dir(&mut self) -> Result<u32, FsError> {
        match self.objects.this()? {
            This::Root(session) | This::Object(session, Object::Dir) => Ok(session),
            This::Object(_, Object::Console { .. } | Object::Null { .. } | Object::Kmsg { .. }) => {
                Err(FsError::NotADirectory)
            }
        }
    }

    /// The answer to an operation the console has no use for: on the
    /// directory `IsADirectory`, on the console `NotSupported` (a
    /// terminal has no offsets, size or pages).
    fn unsupported(&mut self) -> ErrorCode {
        match self.console() {
            Ok(_) => file::code(FsError::NotSupported),
            Err(error) => file::code(error),
        }
    }

    fn mint_console(&mut self, session: u32, flags: OpenFlags) -> Result<CapSlot, FsError> {
        let number = self.next_number;
        self.next_number += 1;
        self.objects
            .mint(session, Object::Console { flags, number })
    }

    /// Whether `path` names something inside a device (`console/x`):
    /// `NotADirectory`, not `NotFound`.
    fn device_child(&self, path: &str) -> bool {
        path.split_once('/').is_some_and(|(first, _)| {
            first == NAME || first == NULL || (first == KMSG && self.kernel_log.is_some())
        })
    }

    /// `read` on `/dev/null` (end of file) or `/dev/kmsg` (the kernel log
    /// from the object's cursor on; end of file at its end): how many
    /// bytes of `buffer` it filled. None for anything else.
    fn read_device(&mut self, max: u32) -> Option<Result<usize, ErrorCode>> {
        let max = (max as usize).min(READ_MAX_BYTES);
        let log = self.kernel_log;
        let buffer = &mut self.buffer;
        let object = match self.objects.this() {
            Ok(This::Object(_, object)) => object,
            _ => return None,
        };
        match object {
            Object::Null { flags } if flags.read() => Some(Ok(0)),
            Object::Null { .. } => Some(Err(file::code(FsError::WrongMode))),
            Object::Kmsg { cursor } => {
                let Some(log) = log else {
                    return Some(Err(file::code(FsError::NotSupported)));
                };
                Some(read_log(log, cursor, &mut buffer[..max]))
            }
            Object::Dir | Object::Console { .. } => None,
        }
    }

    fn defer(&mut self, deferral: Deferral) -> ErrorCode {
        self.deferral = Some(deferral);
        DEFER
    }
}

/// Reads the kernel log from `cursor` into `buffer` (advancing it): how
/// many bytes. When bytes were overwritten before they were read, the
/// read starts at the next whole line (the rest of a cut line is dropped).
/// 0 only at the log's end.
fn read_log(log: CapSlot, cursor: &mut u64, buffer: &mut [u8]) -> Result<usize, ErrorCode> {
    loop {
        let wanted = *cursor;
        // Only a revoked capability fails: the log is gone for us.
        let read = rt::sys::debug_log_read(log, wanted, buffer)
            .map_err(|_| file::code(FsError::NotSupported))?;
        *cursor = read.start + read.copied;
        let copied = read.copied as usize;
        if read.start == wanted || copied == 0 {
            return Ok(copied);
        }
        match buffer[..copied].iter().position(|&b| b == b'\n') {
            Some(at) if at + 1 < copied => {
                buffer.copy_within(at + 1..copied, 0);
                return Ok(copied - at - 1);
            }
            // The cut line ends this piece: on to the next one, which
            // starts where this one ended (nothing is lost in between).
            Some(_) => continue,
            // A piece of one long line: give it as it is.
            None => return Ok(copied),
        }
    }
}

/// `stat` of the directory.
const DIR_STAT: (u8, u64, u64, u64) = (Kind::Dir.code(), 1, DIR_ID, 2);
/// `stat` of the console.
const CONSOLE_STAT: (u8, u64, u64, u64) = (Kind::Device.code(), 0, CONSOLE_ID, 1);
/// `stat` of `/dev/null`.
const NULL_STAT: (u8, u64, u64, u64) = (Kind::Device.code(), 0, NULL_ID, 1);
/// `stat` of `/dev/kmsg` (its size is not known ahead: read to the end).
const KMSG_STAT: (u8, u64, u64, u64) = (Kind::Device.code(), 0, KMSG_ID, 1);

impl FileServer for Server {
    fn open(&mut self, path: &str, flags: u32) -> Result<(CapSlot, u8), ErrorCode> {
        wire((|| {
            let session = self.dir()?;
            let flags = OpenFlags::from_bits(flags)?;
            fscore::path::check_server_path(path)?;
            match path {
                "" => {
                    if flags.write() {
                        return Err(FsError::IsADirectory);
                    }
                    let slot = self.objects.mint(session, Object::Dir)?;
                    Ok((slot, Kind::Dir.code()))
                }
                NAME => {
                    if flags.contains(OpenFlags::DIRECTORY) {
                        return Err(FsError::NotADirectory);
                    }
                    if flags.contains(OpenFlags::EXCLUSIVE) {
                        return Err(FsError::Exists);
                    }
                    // TRUNCATE and APPEND mean nothing to a terminal.
                    let slot = self.mint_console(session, flags)?;
                    Ok((slot, Kind::Device.code()))
                }
                NULL | KMSG if path == NULL || self.kernel_log.is_some() => {
                    if flags.contains(OpenFlags::DIRECTORY) {
                        return Err(FsError::NotADirectory);
                    }
                    if flags.contains(OpenFlags::EXCLUSIVE) {
                        return Err(FsError::Exists);
                    }
                    let object = if path == NULL {
                        Object::Null { flags }
                    } else if flags.write() {
                        // The kernel log is written by the kernel alone.
                        return Err(FsError::ReadOnly);
                    } else {
                        Object::Kmsg { cursor: 0 }
                    };
                    let slot = self.objects.mint(session, object)?;
                    Ok((slot, Kind::Device.code()))
                }
                _ if self.device_child(path) => Err(FsError::NotADirectory),
                // /dev holds what the servers put there: nobody creates.
                _ if flags.contains(OpenFlags::CREATE) => Err(FsError::ReadOnly),
                _ => Err(FsError::NotFound),
            }
        })())
    }

    fn read(&mut self, max: u32) -> Result<&[u8], ErrorCode> {
        if let Some(read) = self.read_device(max) {
            return read.map(|n| &self.buffer[..n]);
        }
        let (flags, number) = wire(self.console())?;
        if !flags.read() {
            return Err(file::code(FsError::WrongMode));
        }
        let max = (max as usize).min(READ_MAX_BYTES);
        let mut state = self.shared.lock();
        match state.terminal.read_now(&mut self.buffer[..max]) {
            Some(n) => Ok(&self.buffer[..n]),
            None if state.terminal.can_park_read() => {
                drop(state);
                Err(self.defer(Deferral::Read { max, number }))
            }
            None => Err(file::code(FsError::Busy)),
        }
    }

    fn read_at(&mut self, _offset: u64, _max: u32) -> Result<&[u8], ErrorCode> {
        Err(self.unsupported())
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        match wire(self.objects.this())? {
            This::Object(_, Object::Null { flags }) if flags.write() => {
                return Ok(data.len() as u64);
            }
            This::Object(_, Object::Null { .. } | Object::Kmsg { .. }) => {
                return Err(file::code(FsError::WrongMode));
            }
            _ => {}
        }
        let (flags, _) = wire(self.console())?;
        if !flags.write() {
            return Err(file::code(FsError::WrongMode));
        }
        self.shared.lock().write_output(data);
        Ok(data.len() as u64)
    }

    fn write_at(&mut self, _offset: u64, _data: &[u8]) -> Result<u64, ErrorCode> {
        Err(self.unsupported())
    }

    fn seek(&mut self, _offset: i64, _whence: Whence) -> Result<u64, ErrorCode> {
        Err(self.unsupported())
    }

    fn stat(&mut self) -> Result<(u8, u64, u64, u64), ErrorCode> {
        match wire(self.objects.this())? {
            This::Root(_) | This::Object(_, Object::Dir) => Ok(DIR_STAT),
            This::Object(_, Object::Console { .. }) => Ok(CONSOLE_STAT),
            This::Object(_, Object::Null { .. }) => Ok(NULL_STAT),
            This::Object(_, Object::Kmsg { .. }) => Ok(KMSG_STAT),
        }
    }

    fn stat_at(&mut self, path: &str) -> Result<(u8, u64, u64, u64), ErrorCode> {
        wire(self.dir())?;
        wire(fscore::path::check_server_path(path))?;
        match path {
            "" => Ok(DIR_STAT),
            NAME => Ok(CONSOLE_STAT),
            NULL => Ok(NULL_STAT),
            KMSG if self.kernel_log.is_some() => Ok(KMSG_STAT),
            _ if self.device_child(path) => Err(file::code(FsError::NotADirectory)),
            _ => Err(file::code(FsError::NotFound)),
        }
    }

    fn truncate(&mut self, _len: u64) -> Result<(), ErrorCode> {
        Err(self.unsupported())
    }

    fn readdir(&mut self, cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        wire(self.dir())?;
        // One entry: all of it from cookie 0, nothing after.
        if cookie == 0 {
            Ok((self.listing.as_bytes(), 0))
        } else {
            Ok((&[], 0))
        }
    }

    fn mkdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        changes(self, &[path])
    }

    fn rmdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        changes(self, &[path])
    }

    fn unlink(&mut self, path: &str) -> Result<(), ErrorCode> {
        changes(self, &[path])
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), ErrorCode> {
        changes(self, &[from, to])
    }

    fn dup(&mut self, mode: &str) -> Result<CapSlot, ErrorCode> {
        let this = wire(self.objects.this())?;
        let session = this.session();
        let object = match this {
            This::Root(_) => Object::Dir,
            This::Object(_, object) => *object,
        };
        if !mode.is_empty() {
            return Err(file::code(FsError::InvalidArgument));
        }
        wire(match object {
            Object::Console { flags, .. } => self.mint_console(session, flags),
            Object::Dir | Object::Null { .. } | Object::Kmsg { .. } => {
                self.objects.mint(session, object)
            }
        })
    }

    fn close(&mut self) -> Result<(), ErrorCode> {
        let object = wire(self.objects.close())?;
        if let Object::Console { number, .. } = object {
            self.shared.lock().terminal.close(number, deliver);
        }
        Ok(())
    }

    fn attach_ring(
        &mut self,
        _memory: Cap,
        _sq_entries: u32,
        _cq_entries: u32,
        _data_bytes: u32,
    ) -> Result<(CapSlot, CapSlot), ErrorCode> {
        // The memory capability is deleted as it drops.
        Err(self.unsupported())
    }

    fn map(&mut self) -> Result<(CapSlot, u64, u64), ErrorCode> {
        Err(self.unsupported())
    }

    fn map_at(&mut self, _path: &str) -> Result<(CapSlot, u64, u64), ErrorCode> {
        Err(self.unsupported())
    }

    fn attach_data(&mut self, _memory: Cap, _data_bytes: u32) -> Result<(), ErrorCode> {
        Err(self.unsupported())
    }

    fn write_shared(&mut self, _offset: u32, _len: u32) -> Result<u64, ErrorCode> {
        Err(self.unsupported())
    }

    fn read_shared(&mut self, _offset: u32, _max: u32) -> Result<u64, ErrorCode> {
        Err(self.unsupported())
    }

    fn attach_pipe(&mut self) -> Result<(CapSlot, u32, u8), ErrorCode> {
        Err(self.unsupported())
    }

    fn read_bytes(&mut self, _offset: u64, _max: u32) -> Result<u64, ErrorCode> {
        Err(self.unsupported())
    }
}

/// `mkdir`, `rmdir`, `unlink`, `rename`: `/dev` is not changed by its
/// clients. `NotADirectory` on the console, `InvalidPath` for a bad path,
/// `ReadOnly` otherwise.
fn changes(server: &mut Server, paths: &[&str]) -> Result<(), ErrorCode> {
    wire(server.dir())?;
    for path in paths {
        if path.is_empty() {
            return Err(file::code(FsError::InvalidPath));
        }
        wire(fscore::path::check_server_path(path))?;
    }
    Err(file::code(FsError::ReadOnly))
}

impl TtyServer for Server {
    fn set_mode(&mut self, mode: Mode) -> Result<Mode, ErrorCode> {
        wire(self.console())?;
        let settings = match mode {
            Mode::Cooked => Settings::COOKED,
            Mode::Raw => Settings::RAW,
        };
        let mut state = self.shared.lock();
        let old = state.terminal.set_settings(settings);
        // Leaving cooked mode makes the pending line readable.
        state.terminal.wake(deliver);
        Ok(if old.canonical {
            Mode::Cooked
        } else {
            Mode::Raw
        })
    }

    fn wait_signal(&mut self) -> Result<Signal, ErrorCode> {
        wire(self.console())?;
        if !self.shared.lock().terminal.can_park_signal() {
            return Err(file::code(FsError::Busy));
        }
        Err(self.defer(Deferral::Signal))
    }

    fn size(&mut self) -> Result<(u16, u16), ErrorCode> {
        wire(self.console())?;
        Ok((COLUMNS, ROWS))
    }
}

impl protocols::server::Deferring for Server {
    fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        Server::dispatch(self, request, reply)
    }

    fn park(&mut self, reply: SavedReply) {
        Server::park(self, reply);
    }

    fn unpark(&mut self) {
        Server::unpark(self);
    }

    fn other(&mut self, message: &Message) {
        if message.info().is_notification() {
            // Clients gone: their objects close as on `close`.
            self.leases_ended(message.badge());
        } else {
            protocols::discard_caps(message);
        }
    }
}
