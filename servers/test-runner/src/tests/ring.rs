//! Shared-memory rings between processes: the test runner is the client
//! (`ring::Client` over a memory object it maps), the `ring-peer` program
//! that init starts (system-test.toml) the server. Round trips, a batch
//! that costs one wake-up, attach errors, and hostile clients (the runner
//! scribbling on its own ring) refused while an honest ring on the same
//! peer goes on, with every frame back afterwards.

use alloc::vec::Vec;

use abi::startup::handle;
use protocols::Error as CallError;
use protocols::ring::{self as proto, OP_FILL, OP_NOP, OP_SUM, RingPeerClient, RingState};
use ring::doorbell::CallWaker;
use ring::{Client, Error, Geometry, Layout, Memory, Reason, Sqe, Waker, offset};
use rt::handle::Handle;
use rt::ipc::Endpoint;
use rt::memory::{Budget, MemoryObject};
use rt::notify::Notification;
use rt::shared::SharedRegion;
use rt::time::{Duration, deadline_after};

use super::support::free_frames;
use super::syscalls::fail;
use super::{Failure, TestResult};
use crate::{ensure, ensure_eq};

/// Where the runner maps its rings: ring `slot` at `CLIENT_AREA + slot *
/// CLIENT_SLOT_BYTES`, the same addresses every time, so that page tables
/// made for the first ring there serve the later ones.
const CLIENT_AREA: u64 = 0x0000_3100_0000_0000;
/// Address space for each of the runner's rings.
const CLIENT_SLOT_BYTES: u64 = 1 << 28;
/// Pages of a memory object are 4 KiB.
const PAGE: usize = abi::layout::PAGE_BYTES as usize;

/// The ring peer init runs.
pub fn peer() -> Result<RingPeerClient, Failure> {
    let endpoint = super::supervision::granted(handle::CLIENT, "ring")?;
    Ok(RingPeerClient::new(endpoint))
}

/// A ring the runner made and attached to a peer.
pub struct TestRing {
    /// The runner's side.
    pub client: Client<SharedRegion, CallWaker>,
    /// The ring's number at the peer.
    pub id: u32,
    /// The memory object (the runner's capability).
    memory: MemoryObject,
}

impl TestRing {
    /// Makes a ring of `geometry` in a fresh memory object mapped at the
    /// runner's slot `slot`, and attaches it to `peer`.
    pub fn open<T: protocols::Transport>(
        peer: &mut RingPeerClient<T>,
        slot: u64,
        geometry: Geometry,
    ) -> Result<TestRing, Failure> {
        let layout = Layout::new(geometry).map_err(|_| fail())?;
        let pages = layout.pages(PAGE) as u64;
        let memory = new_memory(pages)?;
        let region = SharedRegion::map(&memory, 0, CLIENT_AREA + slot * CLIENT_SLOT_BYTES, pages)
            .map_err(|_| fail())?;
        let client = Client::create(region, ring::Spin, geometry).map_err(|_| fail())?;
        let (id, endpoint, notification) = peer
            .attach(
                memory.slot(),
                geometry.sq_entries,
                geometry.cq_entries,
                geometry.data_bytes,
            )
            .map_err(|_| fail())?;
        let waker = CallWaker::new(
            endpoint.into_handle::<Endpoint>(),
            notification.into_handle::<Notification>(),
        );
        let client = client.with_waker(waker);
        Ok(TestRing { client, id, memory })
    }

    /// Submits what was pushed and takes `count` completions, sleeping
    /// while none are ready (at most 5 s in all).
    pub fn collect(&mut self, count: usize) -> Result<Vec<ring::Cqe>, Error> {
        self.client.submit()?;
        let deadline = deadline_after(Duration::from_secs(5));
        let mut done = Vec::new();
        while done.len() < count {
            self.client.wait(Some(deadline))?;
            while let Some(cqe) = self.client.pop()? {
                done.push(cqe);
            }
            self.client.release()?;
        }
        Ok(done)
    }

    /// Detaches from `peer` and unmaps; returns what the peer served.
    pub fn close<T: protocols::Transport>(
        self,
        peer: &mut RingPeerClient<T>,
    ) -> Result<u64, Failure> {
        let served = peer.detach(self.id).map_err(|_| fail())?;
        drop(self.client);
        drop(self.memory);
        Ok(served)
    }
}

/// A memory object of `pages` pages, paid by the runner's budget.
fn new_memory(pages: u64) -> Result<MemoryObject, Failure> {
    let budget = Budget::from_raw(rt::process::own_caps().budget);
    let memory = MemoryObject::create(&budget, pages);
    let _ = budget.into_raw();
    memory.map_err(|_| fail())
}

/// The peer's view of ring `id`, once it has left `Serving` or after 2 s.
fn settled<T: protocols::Transport>(
    peer: &mut RingPeerClient<T>,
    id: u32,
) -> Result<(RingState, u64, u32), Failure> {
    let deadline = deadline_after(Duration::from_secs(2));
    loop {
        let status = peer.status(id).map_err(|_| fail())?;
        if status.0 != RingState::Serving || rt::time::now_ns() > deadline {
            return Ok(status);
        }
        rt::time::sleep(Duration::from_millis(1));
    }
}

const GEOMETRY: Geometry = Geometry {
    sq_entries: 8,
    cq_entries: 8,
    data_bytes: 4096,
};

/// Sums, fills and no-ops through the peer, the answers in order, data
/// written by the peer read back.
pub fn round_trip() -> TestResult {
    let mut peer = peer()?;
    let mut ring = TestRing::open(&mut peer, 0, GEOMETRY)?;
    let data: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
    ensure!(ring.client.write_data(100, &data).is_ok());
    let requests = [
        Sqe {
            opcode: OP_SUM,
            offset: 100,
            len: 200,
            user_data: 1,
            ..Sqe::default()
        },
        Sqe {
            opcode: OP_FILL,
            offset: 1000,
            len: 3000,
            arg: 0xab,
            user_data: 2,
            ..Sqe::default()
        },
        Sqe {
            opcode: OP_NOP,
            arg: 77,
            user_data: 3,
            ..Sqe::default()
        },
    ];
    for request in &requests {
        ensure!(ring.client.push(request).is_ok());
    }
    let done = ring.collect(3).map_err(|_| fail())?;
    let answers: Vec<(u64, u16, u32)> = done
        .iter()
        .map(|c| (c.user_data, c.status, c.value))
        .collect();
    let sum: u32 = data.iter().map(|&b| u32::from(b)).sum();
    ensure_eq!(answers, [(1, 0, sum), (2, 0, 3000), (3, 0, 77)]);
    let mut filled = [0u8; 3002];
    ensure!(ring.client.read_data(999, &mut filled).is_ok());
    ensure_eq!(filled[0], 0);
    ensure!(filled[1..3001].iter().all(|&b| b == 0xab));
    ensure_eq!(filled[3001], 0);
    // A second round on the same ring, past the first wrap of the slots.
    for round in 0..5u64 {
        for i in 0..8 {
            let sqe = Sqe {
                arg: round * 8 + i,
                user_data: round * 8 + i,
                ..Sqe::default()
            };
            ensure!(ring.client.push(&sqe).is_ok());
        }
        let done = ring.collect(8).map_err(|_| fail())?;
        ensure!(
            done.iter()
                .enumerate()
                .all(|(i, c)| c.user_data == round * 8 + i as u64 && c.value as u64 == c.user_data)
        );
    }
    ensure_eq!(peer.status(ring.id), Ok((RingState::Serving, 43, 0)));
    ensure_eq!(ring.close(&mut peer)?, 43);
    Ok(())
}

/// A batch of 64 submissions to a sleeping peer costs one wake-up, and
/// all 64 are answered.
pub fn batch_one_wake() -> TestResult {
    let mut peer = peer()?;
    let geometry = Geometry {
        sq_entries: 64,
        cq_entries: 64,
        data_bytes: 0,
    };
    let mut ring = TestRing::open(&mut peer, 1, geometry)?;
    // Wait until the peer's ring thread sleeps.
    let deadline = deadline_after(Duration::from_secs(2));
    while ring.client.memory().load_u32(offset::SQ_CONSUMER_SLEEPS) == 0 {
        ensure!(rt::time::now_ns() < deadline);
        rt::time::sleep(Duration::from_millis(1));
    }
    for i in 0..64 {
        let sqe = Sqe {
            arg: i,
            user_data: i,
            ..Sqe::default()
        };
        ensure!(ring.client.push(&sqe).is_ok());
    }
    ensure_eq!(ring.client.submit(), Ok(true));
    ensure_eq!(ring.client.wakes(), 1);
    let done = ring.collect(64).map_err(|_| fail())?;
    ensure_eq!(ring.client.wakes(), 1);
    ensure!(
        done.iter()
            .enumerate()
            .all(|(i, c)| c.user_data == i as u64 && c.value == i as u32)
    );
    ensure_eq!(ring.close(&mut peer)?, 64);
    Ok(())
}

/// Attaches the peer refuses, and calls about rings it does not have.
pub fn attach_errors() -> TestResult {
    let mut peer = peer()?;
    let memory = new_memory(1)?;
    let remote = |code| CallError::Remote(code);
    // Not a power of two; too large.
    ensure_eq!(
        peer.attach(memory.slot(), 3, 4, 0),
        Err(remote(proto::BAD_GEOMETRY))
    );
    ensure_eq!(
        peer.attach(memory.slot(), 1 << 16, 4, 0),
        Err(remote(proto::BAD_GEOMETRY))
    );
    // Larger than the object.
    ensure_eq!(
        peer.attach(memory.slot(), 256, 256, 0),
        Err(remote(proto::BAD_MEMORY))
    );
    // No ring was made in it: the header is zeroes.
    ensure_eq!(
        peer.attach(memory.slot(), 4, 4, 64),
        Err(remote(proto::BAD_HEADER))
    );
    // A ring of another geometry.
    let region = SharedRegion::map(&memory, 0, CLIENT_AREA + 2 * CLIENT_SLOT_BYTES, 1)
        .map_err(|_| fail())?;
    let geometry = Geometry {
        sq_entries: 4,
        cq_entries: 4,
        data_bytes: 64,
    };
    Client::create(&region, ring::Spin, geometry).map_err(|_| fail())?;
    ensure_eq!(
        peer.attach(memory.slot(), 4, 8, 64),
        Err(remote(proto::BAD_HEADER))
    );
    drop(region);
    ensure_eq!(peer.status(1000).err(), Some(remote(proto::NO_SUCH_RING)));
    ensure_eq!(
        peer.detach(u32::MAX).err(),
        Some(remote(proto::NO_SUCH_RING))
    );
    Ok(())
}

/// A client that submits more than the CQ holds (by writing the SQ tail
/// itself: legal, the entries are there) and never takes a completion
/// leaves the peer's thread waiting for room; `detach` still ends it.
pub fn detach_while_waiting_for_room() -> TestResult {
    let mut peer = peer()?;
    let geometry = Geometry {
        sq_entries: 8,
        cq_entries: 1,
        data_bytes: 0,
    };
    let ring = TestRing::open(&mut peer, 4, geometry)?;
    // Four no-ops (zeroed slots) with room for one completion.
    let region = ring.client.memory();
    region.store_u32(offset::SQ_TAIL, 4);
    ring.client.waker().wake(region, offset::SQ_TAIL);
    let deadline = deadline_after(Duration::from_secs(2));
    while region.load_u32(offset::CQ_PRODUCER_WAITS) == 0 {
        ensure!(rt::time::now_ns() < deadline);
        rt::time::sleep(Duration::from_millis(1));
    }
    ensure_eq!(peer.status(ring.id), Ok((RingState::Serving, 1, 0)));
    ensure_eq!(ring.close(&mut peer)?, 1);
    Ok(())
}

/// Three hostile rings (an SQ tail far ahead, a descriptor pointing past
/// the data area, an unknown opcode) are refused with their reasons,
/// while an honest ring on the same peer keeps working; every frame comes
/// back (counted on the second round, after the first made the page
/// tables of the runner's ring addresses).
pub fn hostile_refused() -> TestResult {
    hostile_round()?;
    let before = free_frames()?;
    hostile_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn hostile_round() -> TestResult {
    let mut peer = peer()?;
    let mut honest = TestRing::open(&mut peer, 0, GEOMETRY)?;
    let mut far = TestRing::open(&mut peer, 1, GEOMETRY)?;
    let mut outside = TestRing::open(&mut peer, 2, GEOMETRY)?;
    let mut unknown = TestRing::open(&mut peer, 3, GEOMETRY)?;
    // One honest round trip on each first.
    for ring in [&mut honest, &mut far, &mut outside, &mut unknown] {
        ensure!(ring.client.push(&Sqe::default()).is_ok());
        ensure!(ring.collect(1).is_ok());
    }
    // An SQ tail a thousand entries ahead, and a wake.
    let region = far.client.memory();
    region.store_u32(offset::SQ_TAIL, 1001);
    far.client.waker().wake(region, offset::SQ_TAIL);
    // A descriptor whose data ends one byte past the data area.
    let past = Sqe {
        opcode: OP_SUM,
        offset: u64::from(GEOMETRY.data_bytes) - 10,
        len: 11,
        ..Sqe::default()
    };
    ensure!(outside.client.push(&past).is_ok());
    ensure!(outside.client.submit().is_ok());
    // An opcode the peer does not have.
    ensure!(
        unknown
            .client
            .push(&Sqe {
                opcode: 9,
                ..Sqe::default()
            })
            .is_ok()
    );
    ensure!(unknown.client.submit().is_ok());
    for (ring, reason) in [
        (&far, Reason::IndexTooFar),
        (&outside, Reason::DataOutOfRange),
        (&unknown, Reason::UnknownOpcode),
    ] {
        ensure_eq!(
            settled(&mut peer, ring.id)?,
            (RingState::Hostile, 1, reason.code())
        );
    }
    // The honest ring goes on.
    for i in 0..20 {
        let sqe = Sqe {
            arg: i,
            user_data: i,
            ..Sqe::default()
        };
        ensure!(honest.client.push(&sqe).is_ok());
        let done = honest.collect(1).map_err(|_| fail())?;
        ensure_eq!(done[0].value, i as u32);
    }
    ensure_eq!(peer.status(honest.id), Ok((RingState::Serving, 21, 0)));
    for ring in [far, outside, unknown] {
        ensure_eq!(ring.close(&mut peer)?, 1);
    }
    ensure_eq!(honest.close(&mut peer)?, 21);
    Ok(())
}

/// Starts a `ring-peer` of the runner's own at `priority`, for the
/// benchmark; returns it and a client of it.
pub fn start_peer(
    priority: u64,
) -> Result<(rt::spawn::Child, RingPeerClient<Endpoint>), rt::SysError> {
    let (child, endpoint) =
        super::protocol::start_server_at("bin/ring-peer", &["ring-peer"], Some(priority))?;
    Ok((child, RingPeerClient::new(endpoint)))
}
