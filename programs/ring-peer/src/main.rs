//! Serves shared-memory rings (the `ring` crate, docs/ring.md) for the
//! in-OS ring tests and the `ring_roundtrip` benchmark.
//!
//! The main thread answers the `RingPeer` protocol
//! (`protocols::ring`) on the endpoint its startup page names `SERVICE`:
//! `attach` maps the client's memory object, checks the ring's header and
//! starts one thread for the ring; `status` and `detach` look at and stop
//! it. Each ring thread sleeps in a receive on the ring's doorbell
//! (`ring::doorbell`: an endpoint, and a notification bound to the
//! thread), serves each batch (the operations of `protocols::ring`), and
//! wakes the client by answering its call when it goes back to sleep. A ring whose client breaks a rule is found hostile: its
//! thread records the reason and ends, and the other rings go on.
//!
//! Exit status 1: no `SERVICE` handle; 2: receiving failed otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use abi::layout::PAGE_BYTES;
use abi::startup::handle::SERVICE;
use abi::{CapSlot, SysError};
use protocols::ring::{self as proto, RingPeerServer, RingState};
use protocols::{Cap, ErrorCode};
use ring::doorbell::{Doorbell, DoorbellWaker};
use ring::{Completion, Error, Geometry, Layout, Request, Server, SetupError, SqeRules};
use rt::Handle;
use rt::ipc::Endpoint;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;
use rt::thread::JoinHandle;

sysconf::manifest! {
    serves: ["ring"],
}

rt::entry!(main);

/// Rings served at once.
const MAX_RINGS: usize = 8;
/// Where ring `i` is mapped: `RING_AREA + i * RING_SLOT_BYTES`. A slot
/// holds the largest ring (just over 1 GiB), and reusing the same
/// addresses reuses the page tables of the last ring there.
const RING_AREA: u64 = 0x0000_3000_0000_0000;
/// Address space set aside for each ring.
const RING_SLOT_BYTES: u64 = 1 << 32;

/// The operations and flags the peer accepts.
const RULES: SqeRules = SqeRules {
    opcodes: proto::OPCODES,
    flags: 0,
};

/// What a ring's thread shares with the main thread.
struct Shared {
    /// A [`RingState`] discriminant.
    state: AtomicU32,
    /// The hostile verdict's `ring::Reason` code, 0 if none.
    reason: AtomicU32,
    /// Submissions completed.
    served: AtomicU64,
    /// Set by `detach`: the thread ends at its next wake-up.
    stop: AtomicBool,
    /// Set by the thread as it ends.
    done: AtomicBool,
}

/// One ring being served.
struct Ring {
    shared: Arc<Shared>,
    _region: Arc<SharedRegion>,
    bell: Arc<Doorbell>,
    thread: Option<JoinHandle<()>>,
    /// Kept so that the object lives while mapped; deleted on detach.
    _memory: MemoryObject,
}

/// The peer's state: the rings, by number.
struct Peer {
    rings: [Option<Ring>; MAX_RINGS],
}

type RingServer = Server<Arc<SharedRegion>, DoorbellWaker>;

/// Answers one submission.
fn complete(request: &Request<'_, Arc<SharedRegion>>) -> Completion {
    let sqe = request.sqe;
    let value = match sqe.opcode {
        proto::OP_SUM => {
            let (mut sum, mut at) = (0u32, 0u32);
            let mut chunk = [0u8; 256];
            loop {
                let n = request.read(at, &mut chunk);
                if n == 0 {
                    break sum;
                }
                sum = chunk[..n]
                    .iter()
                    .fold(sum, |s, &b| s.wrapping_add(u32::from(b)));
                at += n as u32;
            }
        }
        proto::OP_FILL => {
            let chunk = [sqe.arg as u8; 256];
            let mut at = 0u32;
            loop {
                let n = request.write(at, &chunk);
                if n == 0 {
                    break at;
                }
                at += n as u32;
            }
        }
        // OP_NOP; the rules admit nothing else.
        _ => sqe.arg as u32,
    };
    Completion { status: 0, value }
}

/// A ring's thread: serves until stopped or the client turns hostile.
fn serve(mut server: RingServer, bell: &Doorbell, shared: Arc<Shared>) {
    if let Err(error) = bell.bind_current() {
        rt::log::error!("ring-peer: cannot bind a ring's notification: {error}");
        shared
            .state
            .store(RingState::Stopped as u32, Ordering::Release);
        bell.revoke();
        shared.done.store(true, Ordering::Release);
        return;
    }
    // Counted before each completion is published, so a client that
    // has its completions sees them counted in `status`.
    let handler = |request: &Request<'_, Arc<SharedRegion>>| {
        shared.served.fetch_add(1, Ordering::Release);
        complete(request)
    };
    while !shared.stop.load(Ordering::Acquire) {
        match server.step(None, handler) {
            Ok(_) | Err(Error::TimedOut) | Err(Error::Full) => {}
            Err(Error::Hostile(hostile)) => {
                rt::log::info!("ring-peer: refusing a ring: {hostile}");
                shared
                    .reason
                    .store(hostile.reason.code(), Ordering::Release);
                shared
                    .state
                    .store(RingState::Hostile as u32, Ordering::Release);
                break;
            }
        }
    }
    // The client's copies of the doorbell go now: its calls fail at once.
    bell.revoke();
    shared.done.store(true, Ordering::Release);
}

impl Peer {
    fn ring(&self, ring: u32) -> Result<&Ring, ErrorCode> {
        self.rings
            .get(ring as usize)
            .and_then(Option::as_ref)
            .ok_or(proto::NO_SUCH_RING)
    }
}

impl RingPeerServer for Peer {
    fn attach(
        &mut self,
        memory: Cap,
        sq_entries: u32,
        cq_entries: u32,
        data_bytes: u32,
    ) -> Result<(u32, CapSlot, CapSlot), ErrorCode> {
        let geometry = Geometry {
            sq_entries,
            cq_entries,
            data_bytes,
        };
        let layout = Layout::new(geometry).map_err(|_| proto::BAD_GEOMETRY)?;
        let index = self
            .rings
            .iter()
            .position(Option::is_none)
            .ok_or(proto::TOO_MANY_RINGS)?;
        let memory = memory.into_handle::<MemoryObject>();
        let pages = layout.pages(PAGE_BYTES as usize) as u64;
        let vaddr = RING_AREA + index as u64 * RING_SLOT_BYTES;
        let region = SharedRegion::map(&memory, 0, vaddr, pages).map_err(|_| proto::BAD_MEMORY)?;
        let region = Arc::new(region);
        let budget = Budget::from_raw(rt::process::own_caps().budget);
        let bell = Doorbell::create(&budget).map(Arc::new);
        // The budget is the program's, not ours to delete.
        let _ = budget.into_raw();
        let bell = bell.map_err(|_| proto::TOO_MANY_RINGS)?;
        let server = Server::attach(Arc::clone(&region), bell.waker(), geometry, RULES).map_err(
            |error| match error {
                SetupError::BadGeometry => proto::BAD_GEOMETRY,
                SetupError::TooSmall => proto::BAD_MEMORY,
                SetupError::BadHeader => proto::BAD_HEADER,
            },
        )?;
        let shared = Arc::new(Shared {
            state: AtomicU32::new(RingState::Serving as u32),
            reason: AtomicU32::new(0),
            served: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            done: AtomicBool::new(false),
        });
        // The client's copies: the reply carries copies of these, and
        // `detach` deletes them with its revoke.
        let (endpoint, notification) = bell.client_caps().map_err(|_| proto::TOO_MANY_RINGS)?;
        let caps = (endpoint.into_raw(), notification.into_raw());
        let (theirs, their_bell) = (Arc::clone(&shared), Arc::clone(&bell));
        let thread = rt::thread::Builder::new()
            .name("ring")
            .spawn(move || serve(server, &their_bell, theirs));
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(error) => {
                rt::log::error!("ring-peer: cannot start a ring thread: {error}");
                shared
                    .state
                    .store(RingState::Stopped as u32, Ordering::Release);
                None
            }
        };
        self.rings[index] = Some(Ring {
            shared,
            _region: region,
            bell,
            thread,
            _memory: memory,
        });
        Ok((index as u32, caps.0, caps.1))
    }

    fn status(&mut self, ring: u32) -> Result<(RingState, u64, u32), ErrorCode> {
        let shared = &self.ring(ring)?.shared;
        let state = match shared.state.load(Ordering::Acquire) {
            0 => RingState::Serving,
            1 => RingState::Hostile,
            _ => RingState::Stopped,
        };
        Ok((
            state,
            shared.served.load(Ordering::Acquire),
            shared.reason.load(Ordering::Acquire),
        ))
    }

    fn detach(&mut self, ring: u32) -> Result<u64, ErrorCode> {
        self.ring(ring)?;
        let Some(mut ring) = self.rings[ring as usize].take() else {
            return Err(proto::NO_SUCH_RING);
        };
        ring.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = ring.thread.take() {
            // The thread sleeps, or is about to, in a receive on the
            // doorbell (for submissions, or for room in the completion
            // queue, which a client that never takes its completions
            // would make it wait for for ever): the signal's bit stays
            // until a receive takes it, so one wakes it.
            ring.bell.ring();
            let _ = thread.join();
        }
        // Every copy of the doorbell goes, ours and the client's: a call
        // it makes now fails at once.
        ring.bell.revoke();
        ring.shared
            .state
            .store(RingState::Stopped as u32, Ordering::Release);
        // Dropping the ring unmaps the region (the thread's reference went
        // with it) and deletes the memory capability.
        Ok(ring.shared.served.load(Ordering::Acquire))
    }
}

fn main() -> u64 {
    let Some(slot) = rt::start::startup_info().and_then(|info| info.handle(SERVICE)) else {
        rt::log::error!("ring-peer: no SERVICE endpoint in the startup page");
        return 1;
    };
    let endpoint = Endpoint::from_raw(slot);
    let mut peer = Peer {
        rings: [const { None }; MAX_RINGS],
    };
    match protocols::server::serve(&endpoint, |request, reply| {
        proto::dispatch(&mut peer, request, reply)
    }) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("ring-peer: receiving failed: {error}");
            2
        }
    }
}
