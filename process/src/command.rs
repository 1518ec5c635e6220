//! Starting a program as a child: [`Command`].
//!
//! What a child gets (`docs/processes.md`):
//!
//! - a budget split from the caller's: [`Command::budget`] frames, or by
//!   default half of what the caller's budget has left, at most
//!   [`DEFAULT_FRAMES`]; the caller pays for it until the child is gone;
//! - its own capability to the process server (its `proc` handle, which
//!   is also where its exit and faults go);
//! - the caller's other services (`CLIENT` handles: the file servers,
//!   so the same namespace), unless [`Command::null_namespace`];
//! - `stdin`, `stdout`, `stderr`: the caller's own, or what
//!   [`Command::stdin`] and the like say;
//! - its arguments, the caller's environment (or [`Command::env`]) with
//!   `PWD` set to the caller's current directory.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::startup::handle::{CLIENT, FILE};
use abi::{CapSlot, Rights};
use files::{File, FsError};
use protocols::proc::NAME_MAX_BYTES;
use rt::spawn::{ElfFile, Grant, Spawn, SpawnError};
use rt::spawn_file::MappedFile;
use rt::sync::OnceLock;

use crate::server::{SERVICE, own, with};
use crate::{ProcError, Process};

/// The largest default budget of a child, in frames (16 MiB).
pub const DEFAULT_FRAMES: u64 = 4096;
/// The smallest budget a child can start in, in frames.
pub const MIN_FRAMES: u64 = 256;

/// Where a child's standard stream comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// The caller's own stream of that name, if it has one.
    Inherit,
    /// None.
    Null,
    /// This open file (a capability the caller keeps).
    File(CapSlot),
}

/// A program to start.
#[derive(Clone, Debug)]
pub struct Command<'a> {
    path: &'a str,
    args: Vec<&'a str>,
    env: Option<Vec<&'a str>>,
    stdio: [Stdio; 3],
    namespace: bool,
    frames: Option<u64>,
}

/// Starts the program at `path` with `args` (`args[0]` is by convention
/// its name) as [`Command`] does by default.
///
/// # Errors
/// As [`Command::spawn`].
pub fn spawn(path: &str, args: &[&str]) -> Result<Process, ProcError> {
    Command::new(path).args(args).spawn()
}

impl<'a> Command<'a> {
    /// The program in the ELF file at `path`, with no arguments.
    pub fn new(path: &'a str) -> Command<'a> {
        Command {
            path,
            args: Vec::new(),
            env: None,
            stdio: [Stdio::Inherit; 3],
            namespace: true,
            frames: None,
        }
    }

    /// Its arguments.
    pub fn args(mut self, args: &[&'a str]) -> Self {
        self.args = args.to_vec();
        self
    }

    /// Its environment (`KEY=value`), instead of the caller's.
    pub fn env(mut self, env: &[&'a str]) -> Self {
        self.env = Some(env.to_vec());
        self
    }

    /// Its standard input.
    pub fn stdin(mut self, stdio: Stdio) -> Self {
        self.stdio[0] = stdio;
        self
    }

    /// Its standard output.
    pub fn stdout(mut self, stdio: Stdio) -> Self {
        self.stdio[1] = stdio;
        self
    }

    /// Its standard error.
    pub fn stderr(mut self, stdio: Stdio) -> Self {
        self.stdio[2] = stdio;
        self
    }

    /// Gives it no file service: every open fails with `NoNamespace`.
    pub fn null_namespace(mut self) -> Self {
        self.namespace = false;
        self
    }

    /// Its budget, in frames.
    pub fn budget(mut self, frames: u64) -> Self {
        self.frames = Some(frames);
        self
    }

    /// Loads the program and starts it.
    ///
    /// # Errors
    /// `NotFound` (no such file, or no namespace), `NotExecutable` (a
    /// directory, or not a valid ELF program for this machine),
    /// `OutOfMemory` (the caller's budget cannot pay for the child, or the
    /// server is out of slots), `TableFull`/`SessionFull`, `NoSuchProcess`
    /// without a `proc` capability, `InvalidArgument` for arguments that
    /// do not fit.
    pub fn spawn(&self) -> Result<Process, ProcError> {
        let proc = own()?;
        let program = Program::open(self.path)?;
        let budget = self.split_budget()?;
        let name = program_name(self.path);
        let created = with(proc, |c| c.create(budget, name));
        // The server holds the budget now; the work copy it sent is what
        // the child is built with.
        let _ = rt::sys::cap_delete(budget);
        let (pid, child, own_cap, work) = created?;
        let process = Process::new(crate::Pid(pid), child.into_raw());
        let (own_cap, work) = (own_cap.into_raw(), work.into_raw());
        let started = self.start(&program, work, own_cap);
        let _ = rt::sys::cap_delete(work);
        let _ = rt::sys::cap_delete(own_cap);
        if started.is_ok() {
            program.keep(self.path);
        }
        if let Err(error) = started {
            // Take down what was built, and reap it.
            let _ = process.kill();
            let _ = process.wait();
            return Err(error);
        }
        Ok(process)
    }

    fn split_budget(&self) -> Result<CapSlot, ProcError> {
        split_budget(self.frames)
    }
    fn start(&self, program: &Program, budget: CapSlot, own: CapSlot) -> Result<(), ProcError> {
        let info = rt::start::startup_info();
        let mut grants: Vec<Grant<'_>> = Vec::new();
        let mut dups = Dups(Vec::new());
        for (stdio, name) in self.stdio.iter().zip(["stdin", "stdout", "stderr"]) {
            let slot = match *stdio {
                Stdio::Null => None,
                Stdio::File(slot) => Some(slot),
                Stdio::Inherit => info.and_then(|i| i.handle_named(FILE, name)),
            };
            // The child gets an object of its own sharing the stream (its
            // offset, its pipe end), so that its close is not the
            // caller's; a stream the caller has closed is not passed on.
            let Some(own) = slot.and_then(|slot| files::dup_slot(slot).ok()) else {
                continue;
            };
            dups.push(own);
            grants.push(Grant {
                slot: own,
                rights: Rights::WRITE | Rights::GRANT,
                kind: FILE,
                name,
            });
        }
        let pwd = {
            let mut pwd = String::from("PWD=");
            pwd.push_str(&files::getcwd());
            pwd
        };
        let mut env: Vec<&str> = match &self.env {
            Some(env) => env.clone(),
            None => rt::process::env().collect(),
        };
        env.retain(|e| !e.starts_with("PWD="));
        env.push(&pwd);
        let entropy = entropy();
        let aslr = info.is_some_and(|i| i.flags & abi::startup::flags::ASLR != 0);
        program
            .loader()
            .args(&self.args)
            .env(&env)
            .services(service_grants(self.namespace))
            .grants(&grants)
            .aslr(aslr)
            .entropy(entropy)
            .start(budget, own, SERVICE)
            .map_err(spawn_error)
    }

    /// The path, arguments, environment and streams, for `exec`.
    pub(crate) fn parts(&self) -> (&'a str, &[&'a str], Option<&[&'a str]>, [Stdio; 3]) {
        (self.path, &self.args, self.env.as_deref(), self.stdio)
    }
}

/// The services the caller's startup page lists (`CLIENT` handles) but
/// the process server's: slot, name, and whether it is a file service.
/// Read once: the startup page never changes.
fn services() -> &'static [(CapSlot, &'static str, bool)] {
    static SERVICES: OnceLock<Vec<(CapSlot, &'static str, bool)>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let Some(info) = rt::start::startup_info() else {
            return Vec::new();
        };
        info.handles
            .iter()
            .filter(|h| h.kind == CLIENT && !h.name_is(SERVICE))
            .map(|h| {
                let name = h.name();
                (
                    CapSlot(h.slot),
                    name,
                    files::namespace::is_file_service(name),
                )
            })
            .collect()
    })
}

/// The services passed on to a child (all of them, or with `namespace`
/// false those that are not file services), as the loader's grants:
/// passed with the rights they have now among `WRITE` and `GRANT`, by a
/// `CapCopyMany` that skips a slot that no longer holds a service
/// endpoint the caller may hand on. Made once per choice.
fn service_grants(namespace: bool) -> &'static [Grant<'static>] {
    static ALL: OnceLock<Vec<Grant<'static>>> = OnceLock::new();
    static NO_FILES: OnceLock<Vec<Grant<'static>>> = OnceLock::new();
    let make = |namespace: bool| {
        services()
            .iter()
            .filter(|&&(_, _, file_service)| !file_service || namespace)
            .map(|&(slot, name, _)| Grant {
                slot,
                rights: Rights::WRITE | Rights::GRANT,
                kind: CLIENT,
                name,
            })
            .collect()
    };
    if namespace {
        ALL.get_or_init(|| make(true))
    } else {
        NO_FILES.get_or_init(|| make(false))
    }
}

/// The `ProcError` of a loader error.
pub(crate) fn spawn_error(error: SpawnError) -> ProcError {
    match error {
        SpawnError::Elf(_) | SpawnError::Setup(_) => ProcError::NotExecutable,
        SpawnError::TooManyHandles | SpawnError::BadHandleName => ProcError::InvalidArgument,
        SpawnError::Kernel(abi::SysError::OutOfMemory) => ProcError::OutOfMemory,
        SpawnError::Kernel(_) => ProcError::InvalidArgument,
    }
}

/// A program's ELF file: one kept mapped ([`cache`]), a memory object a
/// file server shared (initfs: the loader maps it, nothing is copied), or
/// the bytes read into the heap (ramfs).
pub(crate) enum Program {
    Cached(Arc<MappedFile>),
    Mapped {
        memory: CapSlot,
        offset: u64,
        len: u64,
        /// Where the namespace found it, to keep it by once it has
        /// started ([`Program::keep`]).
        key: Option<(CapSlot, String)>,
    },
    Read(Vec<u8>),
}

impl Program {
    /// The loader for this file.
    pub(crate) fn loader(&self) -> Spawn<'_> {
        match self {
            Program::Cached(file) => file.loader(),
            Program::Mapped {
                memory,
                offset,
                len,
                ..
            } => Spawn::from_object(*memory, *offset, *len),
            Program::Read(bytes) => Spawn::new(ElfFile {
                bytes,
                backing: None,
            }),
        }
    }

    pub(crate) fn open(path: &str) -> Result<Program, ProcError> {
        // A path that does not depend on the current directory names what
        // it named when it was kept: no need to resolve it again.
        if let Some(file) = cache::find_given(path) {
            return Ok(Program::Cached(file));
        }
        let key = files::namespace::resolve(&files::getcwd(), path)
            .ok()
            .map(|target| (target.dir, target.path));
        if let Some(file) = key.as_ref().and_then(cache::find) {
            return Ok(Program::Cached(file));
        }
        // The path resolved once (above), when it could be.
        let mapped = match &key {
            Some((dir, resolved)) => files::map_file_at(*dir, resolved),
            None => files::map_file(path),
        };
        match mapped {
            Ok((memory, offset, len)) => {
                return Ok(Program::Mapped {
                    memory,
                    offset,
                    len,
                    key,
                });
            }
            Err(FsError::NotFound | FsError::NoNamespace | FsError::NotADirectory) => {
                return Err(ProcError::NotFound);
            }
            Err(FsError::IsADirectory) => return Err(ProcError::NotExecutable),
            // Not shared (ramfs): read it below.
            Err(_) => {}
        }
        let mut file = File::open_read(path).map_err(|error| match error {
            FsError::NotFound | FsError::NoNamespace | FsError::NotADirectory => {
                ProcError::NotFound
            }
            FsError::IsADirectory => ProcError::NotExecutable,
            _ => ProcError::InvalidArgument,
        })?;
        match file.map() {
            Ok((memory, offset, len)) => {
                return Ok(Program::Mapped {
                    memory,
                    offset,
                    len,
                    key: None,
                });
            }
            Err(FsError::NotSupported) => {}
            Err(FsError::IsADirectory) => return Err(ProcError::NotExecutable),
            Err(_) => return Err(ProcError::InvalidArgument),
        }
        let size = file
            .metadata()
            .map_err(|_| ProcError::InvalidArgument)?
            .size;
        if file.kind() != files::Kind::File {
            return Err(ProcError::NotExecutable);
        }
        // Read into the heap; an allocation that fails is `OutOfMemory`,
        // not a panic.
        let size = usize::try_from(size).map_err(|_| ProcError::OutOfMemory)?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(size)
            .map_err(|_| ProcError::OutOfMemory)?;
        bytes.resize(size, 0);
        let mut done = 0;
        while done < size {
            match file.read(&mut bytes[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => return Err(ProcError::InvalidArgument),
            }
        }
        bytes.truncate(done);
        Ok(Program::Read(bytes))
    }
}

impl Program {
    /// Keeps a file a server shared once the program started from it
    /// (a file that fails to start is not kept), found again by `path`
    /// as given if that does not depend on the current directory.
    pub(crate) fn keep(mut self, path: &str) {
        if let Program::Mapped {
            memory,
            offset,
            len,
            key,
        } = &mut self
            && let Some(key) = key.take()
            && cache::add(key, path, *memory, *offset, *len)
        {
            // The cache owns the capability now.
            core::mem::forget(self);
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Program::Mapped { memory, .. } = self {
            let _ = rt::sys::cap_delete(*memory);
        }
    }
}

/// Program files kept mapped, so that starting one again neither asks its
/// file server again nor maps and unmaps the file (`rt::spawn_file`): only
/// files a server shares by `map`, which are read-only memory nobody
/// writes (initfs's initramfs), so what a path names never changes.
/// Keyed by the directory capability the namespace resolves the path to
/// and the path below it. At most `rt::spawn_file::WINDOWS` files; an
/// entry whose object has gone (its server restarted) is dropped, and
/// after a `fork` the copy starts with none.
mod cache {
    use super::{Arc, MappedFile, String, Vec};
    use abi::CapSlot;
    use rt::sync::Mutex;

    type Key = (CapSlot, String);

    /// A kept file: where the namespace found it, the path it was asked
    /// by if that does not depend on the current directory, and the file.
    struct Entry {
        key: Key,
        given: Option<String>,
        file: Arc<MappedFile>,
    }

    static FILES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

    /// The file kept for `key`, if any (and still good).
    pub(super) fn find(key: &Key) -> Option<Arc<MappedFile>> {
        find_by(|entry| entry.key == *key)
    }

    /// The file kept for the cwd-independent `path` as given, if any.
    pub(super) fn find_given(path: &str) -> Option<Arc<MappedFile>> {
        if !independent(path) {
            return None;
        }
        find_by(|entry| entry.given.as_deref() == Some(path))
    }

    fn find_by(matches: impl Fn(&Entry) -> bool) -> Option<Arc<MappedFile>> {
        let mut files = FILES.lock();
        forget_stale(&mut files);
        let at = files.iter().position(matches)?;
        if files[at].file.is_valid() {
            return Some(Arc::clone(&files[at].file));
        }
        files.swap_remove(at);
        None
    }

    /// Whether `path` names the same file from any current directory
    /// (an absolute path: the mounts never change).
    fn independent(path: &str) -> bool {
        path.starts_with('/')
    }

    /// Keeps the file `memory` (a capability it takes on success) shares
    /// for `key` (asked for by `path`); false if no window is free (the
    /// caller keeps `memory`).
    pub(super) fn add(key: Key, path: &str, memory: CapSlot, offset: u64, len: u64) -> bool {
        let mut files = FILES.lock();
        forget_stale(&mut files);
        if files.try_reserve(1).is_err() || files.iter().any(|entry| entry.key == key) {
            return false;
        }
        let Ok(file) = MappedFile::map(memory, offset, len) else {
            return false;
        };
        let given = independent(path).then(|| String::from(path));
        files.push(Entry {
            key,
            given,
            file: Arc::new(file),
        });
        true
    }

    /// Drops what a `fork` copied (the windows are unmapped, the
    /// capabilities were never this process's).
    fn forget_stale(files: &mut Vec<Entry>) {
        files.retain(|entry| !entry.file.is_stale());
    }
}

/// The process's name: the file name, cut to what the table keeps.
pub(crate) fn program_name(path: &str) -> &str {
    let name = path.rsplit(['/', ':']).next().unwrap_or(path);
    &name[..name_len(name)]
}

/// How many bytes of `name` the process table keeps (a character
/// boundary).
pub(crate) fn name_len(name: &str) -> usize {
    let mut end = name.len().min(NAME_MAX_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// Random words for the child's layout: the caller's, stirred with a
/// counter so no two children share them.
pub(crate) fn entropy() -> [u64; 4] {
    use core::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(1);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    let base = rt::start::startup_info().map_or([0; 4], |i| i.entropy);
    base.map(|word| {
        let mut x = word ^ count.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    })
}

/// Capabilities made for a child, deleted once it has its copies.
struct Dups(Vec<CapSlot>);

impl Dups {
    fn push(&mut self, slot: CapSlot) {
        self.0.push(slot);
    }
}

impl Drop for Dups {
    fn drop(&mut self) {
        for &slot in &self.0 {
            let _ = rt::sys::cap_delete(slot);
        }
    }
}

/// A budget for a child: `frames`, or by default half of what the caller's
/// budget has left, at most [`DEFAULT_FRAMES`].
pub(crate) fn split_budget(frames: Option<u64>) -> Result<CapSlot, ProcError> {
    let own = rt::process::own_caps().budget;
    let frames = match frames {
        Some(frames) => frames,
        None => {
            let status = rt::sys::budget_info(own).map_err(|_| ProcError::OutOfMemory)?;
            let free = status.limit.saturating_sub(status.used);
            (free / 2).min(DEFAULT_FRAMES)
        }
    };
    if frames < MIN_FRAMES {
        return Err(ProcError::OutOfMemory);
    }
    rt::sys::budget_split(own, frames).map_err(|_| ProcError::OutOfMemory)
}
