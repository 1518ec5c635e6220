//! Bulk reads and writes of open files through rings (`File::attach_ring`,
//! `protocols::file::ring`, docs/files.md "Bulk data through a ring").
//!
//! The client makes the memory object (from its own budget), creates the
//! ring in it and attaches it to an open file. ramfs maps the object,
//! checks the header, retains the file's node and starts one thread for
//! the ring. That thread sleeps in a receive on the ring's doorbell
//! (`ring::doorbell`: an endpoint, and a notification bound to the
//! thread, whose client copies `attach_ring` returns), and for
//! each submission locks the tree, copies between the file and the ring's
//! data area (a read straight from the file's pages; a write through a
//! buffer, since the tree takes a slice), and completes it with the bytes
//! done or an `FsError` code.
//!
//! A ring ends when the object that attached it is closed ([`Rings::close`]
//! sets its stop flag and signals its thread's notification) or when its
//! client breaks a ring rule (the thread logs one line and ends). Either
//! way the thread releases the node as it ends; the main thread joins it,
//! unmaps the region and deletes the memory capability the next time it
//! reaps ([`Rings::reap`], on every `attach_ring` and `close`).
//!
//! Invariant: the main thread never holds the tree's lock while it waits
//! for a ring thread, which takes that lock for every submission.

use alloc::sync::Arc;
use alloc::vec;
use core::sync::atomic::{AtomicBool, Ordering};

use abi::CapSlot;
use abi::layout::PAGE_BYTES;
use fscore::tree::{NodeId, Tree};
use fscore::{FsError, OpenFlags};
use protocols::Cap;
use protocols::file::ring::{OP_READ, OPCODES, status};
use ring::doorbell::{Doorbell, DoorbellWaker};
use ring::{Completion, Error, Geometry, Layout, Request, Server, SqeRules};
use rt::Handle;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;
use rt::sync::Mutex;
use rt::thread::JoinHandle;

/// Rings served at once, over all sessions: one thread each.
const MAX_RINGS: usize = 16;
/// Rings one session may have at once.
const RINGS_PER_SESSION: usize = 4;
/// The largest data area ramfs maps: the mapping's page tables are paid
/// by ramfs, so a client may not make it map gigabytes.
const MAX_DATA_BYTES: u32 = 4 << 20;
/// Where ring `i` is mapped: `RING_AREA + i * RING_SLOT_BYTES`, the same
/// addresses again for the next ring in the slot (its page tables stay).
const RING_AREA: u64 = 0x0000_3000_0000_0000;
/// Address space set aside for each ring (more than the largest allowed).
const RING_SLOT_BYTES: u64 = 1 << 32;
/// What a ring thread copies a write through at a time, under the
/// tree's lock.
const BOUNCE_BYTES: usize = 16 << 10;

/// The operations and flags a file's ring accepts.
const RULES: SqeRules = SqeRules {
    opcodes: OPCODES,
    flags: 0,
};

/// The tree, shared by the main thread and the ring threads.
pub type SharedTree = Arc<Mutex<Tree>>;

type RingServer = Server<Arc<SharedRegion>, DoorbellWaker>;

/// The open file a ring reads and writes.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Its node (retained by the ring while it is served).
    pub node: NodeId,
    /// The mode it was opened with.
    pub flags: OpenFlags,
    /// Who pays for the pages writes add: the session.
    pub owner: u64,
}

/// What a ring's thread shares with the main thread.
#[derive(Default)]
struct Flags {
    /// Set by the main thread: end at the next wake-up.
    stop: AtomicBool,
    /// Set by the thread as it ends, after releasing the node.
    done: AtomicBool,
}

/// One ring being served.
struct Ring {
    /// The badge of the capability that attached it: closing that object
    /// ends the ring.
    badge: u64,
    session: u32,
    flags: Arc<Flags>,
    bell: Arc<Doorbell>,
    thread: Option<JoinHandle<()>>,
    /// Unmapped once the thread has ended.
    _region: Arc<SharedRegion>,
    /// Kept so that the object lives while mapped; deleted with the ring.
    _memory: MemoryObject,
}

impl Ring {
    /// Stops the thread (if it still runs) and waits for it to end.
    fn stop(&mut self) {
        self.flags.stop.store(true, Ordering::Release);
        // The thread sleeps, or is about to, in a receive on the doorbell
        // (for submissions, or for room in the completion queue): the
        // signal's bit stays until a receive takes it, so one wakes it.
        if let Some(thread) = self.thread.take() {
            self.bell.ring();
            let _ = thread.join();
        }
        // Every copy of the doorbell goes, ramfs's and the client's: a
        // call the client makes now fails at once.
        self.bell.revoke();
    }
}

/// The rings of all sessions, by slot (which fixes the mapping address).
pub struct Rings {
    slots: [Option<Ring>; MAX_RINGS],
}

impl Rings {
    /// No rings.
    pub fn new() -> Rings {
        Rings {
            slots: [const { None }; MAX_RINGS],
        }
    }

    /// Serves the ring in `memory` of `geometry` for `target`, from a new
    /// thread; the capability with `badge` attached it.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad geometry, a memory object too small or
    /// not writable, or a header that does not match; `TooManyOpen` when
    /// the session or ramfs has as many rings as it may; the tree's error
    /// retaining the node; `NoSpace` when the thread cannot start.
    pub fn attach(
        &mut self,
        tree: &SharedTree,
        badge: u64,
        session: u32,
        target: Target,
        memory: Cap,
        geometry: Geometry,
    ) -> Result<(CapSlot, CapSlot), FsError> {
        self.reap();
        let layout = Layout::new(geometry).map_err(|_| FsError::InvalidArgument)?;
        if geometry.data_bytes > MAX_DATA_BYTES {
            return Err(FsError::InvalidArgument);
        }
        let mine = self.slots.iter().flatten();
        if mine.filter(|ring| ring.session == session).count() >= RINGS_PER_SESSION {
            return Err(FsError::TooManyOpen);
        }
        let index = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(FsError::TooManyOpen)?;
        let memory = memory.into_handle::<MemoryObject>();
        let pages = layout.pages(PAGE_BYTES as usize) as u64;
        let vaddr = RING_AREA + index as u64 * RING_SLOT_BYTES;
        let region = SharedRegion::map(&memory, 0, vaddr, pages)
            .map(Arc::new)
            .map_err(|_| FsError::InvalidArgument)?;
        let budget = Budget::from_raw(rt::process::own_caps().budget);
        let bell = Doorbell::create(&budget).map(Arc::new);
        // The budget is ramfs's, not ours to delete.
        let _ = budget.into_raw();
        let bell = bell.map_err(|_| FsError::NoSpace)?;
        let server = Server::attach(Arc::clone(&region), bell.waker(), geometry, RULES)
            .map_err(|_| FsError::InvalidArgument)?;
        // The client's copies: the reply carries copies of these, and the
        // revoke in `Ring::stop` deletes them.
        let (endpoint, notification) = bell.client_caps().map_err(|_| FsError::NoSpace)?;
        let caps = (endpoint.into_raw(), notification.into_raw());
        if let Err(error) = tree.lock().retain(target.node) {
            bell.revoke();
            return Err(error);
        }
        let flags = Arc::new(Flags::default());
        let (theirs, their_tree) = (Arc::clone(&flags), Arc::clone(tree));
        let their_bell = Arc::clone(&bell);
        let thread = rt::thread::Builder::new()
            .name("ramfs-ring")
            .spawn(move || serve(server, &their_bell, &theirs, &their_tree, target));
        let thread = match thread {
            Ok(thread) => thread,
            Err(error) => {
                rt::log::error!("ramfs: cannot start a ring thread: {error}");
                let _ = tree.lock().release(target.node);
                bell.revoke();
                return Err(FsError::NoSpace);
            }
        };
        self.slots[index] = Some(Ring {
            badge,
            session,
            flags,
            bell,
            thread: Some(thread),
            _region: region,
            _memory: memory,
        });
        Ok(caps)
    }

    /// Ends the rings the capability with `badge` attached, and reaps.
    pub fn close(&mut self, badge: u64) {
        for slot in &mut self.slots {
            if let Some(ring) = slot.as_mut().filter(|ring| ring.badge == badge) {
                ring.stop();
                *slot = None;
            }
        }
        self.reap();
    }

    /// Frees the slots of rings whose thread has ended (found hostile):
    /// joins it, unmaps the region and deletes the memory capability.
    pub fn reap(&mut self) {
        for slot in &mut self.slots {
            if let Some(ring) = slot
                .as_mut()
                .filter(|ring| ring.flags.done.load(Ordering::Acquire))
            {
                ring.stop();
                *slot = None;
            }
        }
    }
}

/// A ring's thread: serves until stopped or the client turns hostile,
/// then releases the node.
fn serve(
    mut server: RingServer,
    bell: &Doorbell,
    flags: &Flags,
    tree: &Mutex<Tree>,
    target: Target,
) {
    let mut bounce = vec![0u8; BOUNCE_BYTES];
    if let Err(error) = bell.bind_current() {
        rt::log::error!("ramfs: cannot bind a ring's notification: {error}");
        flags.stop.store(true, Ordering::Release);
    }
    while !flags.stop.load(Ordering::Acquire) {
        let handler = |request: &Request<'_, Arc<SharedRegion>>| {
            let result = match request.sqe.opcode {
                OP_READ => read(tree, &target, request),
                // OP_WRITE; the rules admit nothing else.
                _ => write(tree, &target, &mut bounce, request),
            };
            match result {
                Ok(done) => Completion {
                    status: 0,
                    value: done,
                },
                Err(error) => Completion {
                    status: status(error),
                    value: 0,
                },
            }
        };
        match server.step(None, handler) {
            Ok(_) | Err(Error::TimedOut) | Err(Error::Full) => {}
            Err(Error::Hostile(hostile)) => {
                rt::log::info!("ramfs: refusing a file's ring: {hostile}");
                break;
            }
        }
    }
    let _ = tree.lock().release(target.node);
    // The client's copies of the doorbell go now (its calls fail at
    // once), not when the ring is reaped.
    bell.revoke();
    flags.done.store(true, Ordering::Release);
}

/// The file offset `done` bytes into a submission at `arg`.
fn file_offset(arg: u64, done: u32) -> Result<u64, FsError> {
    arg.checked_add(u64::from(done))
        .ok_or(FsError::InvalidArgument)
}

/// `OP_READ`: the file from offset `arg` into the data range, straight
/// from the file's pages (one copy); stops at the end of the file.
fn read(
    tree: &Mutex<Tree>,
    target: &Target,
    request: &Request<'_, Arc<SharedRegion>>,
) -> Result<u32, FsError> {
    if !target.flags.read() {
        return Err(FsError::WrongMode);
    }
    let mut done = 0u32;
    tree.lock().read_with(
        target.node,
        request.sqe.arg,
        request.sqe.len as usize,
        |piece| {
            // At most `len` bytes in all, so `done` stays below it.
            done += request.write(done, piece) as u32;
        },
    )?;
    Ok(done)
}

/// `OP_WRITE`: the data range into the file from offset `arg`; stops
/// short when space runs out.
fn write(
    tree: &Mutex<Tree>,
    target: &Target,
    bounce: &mut [u8],
    request: &Request<'_, Arc<SharedRegion>>,
) -> Result<u32, FsError> {
    if !target.flags.write() {
        return Err(FsError::WrongMode);
    }
    let len = request.sqe.len;
    let mut tree = tree.lock();
    let mut done = 0u32;
    while done < len {
        let want = ((len - done) as usize).min(bounce.len());
        // Each byte of the client's range is read once.
        let got = request.read(done, &mut bounce[..want]);
        let chunk = &bounce[..got];
        let wrote = match file_offset(request.sqe.arg, done)
            .and_then(|at| tree.write(target.node, at, chunk, target.owner))
        {
            Ok(wrote) => wrote,
            Err(error) if done == 0 => return Err(error),
            Err(_) => break,
        };
        done += wrote as u32;
        if wrote < want {
            break;
        }
    }
    Ok(done)
}

/// The geometry of an `attach_ring` request.
pub fn geometry(sq_entries: u32, cq_entries: u32, data_bytes: u32) -> Geometry {
    Geometry {
        sq_entries,
        cq_entries,
        data_bytes,
    }
}
