//! Bulk file I/O through a ring on ramfs (`File::attach_ring`,
//! docs/files.md "Bulk data through a ring"): 200 KiB each way compared
//! with the message path, the open mode honoured per submission, a
//! hostile ring refused while ramfs goes on serving, and every frame of
//! the runner's budget back after a round.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use files::{File, FsError, OpenFlags};
use protocols::file::FileClient;
use protocols::file::ring::OP_READ;
use ring::doorbell::CallWaker;
use ring::{Client, Error, Geometry, Layout, Memory, Sqe, Waker, offset};
use rt::Handle;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;
use rt::time::{Duration, deadline_after};

use super::support::free_frames;
use super::syscalls::fail;
use super::{Failure, TestResult};
use crate::{ensure, ensure_eq};

/// The size of the round trips.
const BULK_BYTES: usize = 200 << 10;
/// The data area of the rings `File::attach_ring` makes here: smaller
/// than a round trip, so a request takes several batches.
const DATA_BYTES: u32 = 64 << 10;
/// Where the hostile test maps its hand-made ring (away from the
/// `files` crate's and the ring tests' addresses).
const HOSTILE_AREA: u64 = 0x0000_3300_0000_0000;

/// An empty directory of its own under /tmp.
fn scratch(name: &str) -> Result<String, Failure> {
    let dir = format!("/tmp/{name}");
    if let Ok(entries) = files::read_dir(&dir) {
        for entry in entries {
            let _ = files::remove_file(&format!("{dir}/{}", entry.name));
        }
        let _ = files::remove_dir(&dir);
    }
    files::mkdir(&dir).map_err(|_| fail())?;
    Ok(dir)
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(seed) % 251) as u8)
        .collect()
}

fn read_write() -> OpenFlags {
    OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE
}

/// Reads all of `path` by messages (no ring).
fn read_by_messages(path: &str) -> Result<Vec<u8>, FsError> {
    let mut out = Vec::new();
    File::open_read(path)?.read_to_end(&mut out)?;
    Ok(out)
}

/// 200 KiB written through the ring read back by messages, and the other
/// way; the automatic switch of `read_at`, `write_at` and `read`.
pub fn round_trip() -> TestResult {
    let dir = scratch("ring-round-trip")?;
    round_trip_in(&dir)?;
    files::remove_dir(&dir).map_err(|_| fail())?;
    Ok(())
}

fn round_trip_in(dir: &str) -> TestResult {
    let path = format!("{dir}/bulk");
    let data = pattern(BULK_BYTES, 7);
    let mut file = File::open(&path, read_write()).map_err(|_| fail())?;
    ensure_eq!(file.attach_ring(DATA_BYTES), Ok(()));
    // Ring in, messages out.
    ensure_eq!(file.write_bulk_at(0, &data), Ok(BULK_BYTES));
    ensure_eq!(read_by_messages(&path), Ok(data.clone()));
    // Ring out, and the end of the file ends a read short.
    let mut back = vec![0u8; BULK_BYTES + 1000];
    ensure_eq!(file.read_bulk_at(0, &mut back), Ok(BULK_BYTES));
    ensure!(back[..BULK_BYTES] == data[..]);
    ensure_eq!(file.read_bulk_at(BULK_BYTES as u64 + 5, &mut back), Ok(0));
    // Messages in (a file of its own), ring out.
    let other = pattern(BULK_BYTES, 13);
    let other_path = format!("{dir}/by-messages");
    File::create(&other_path)
        .and_then(|mut f| f.write_all(&other))
        .map_err(|_| fail())?;
    let reader = File::open_read(&other_path).map_err(|_| fail())?;
    ensure_eq!(reader.attach_ring(DATA_BYTES), Ok(()));
    let mut back = vec![0u8; BULK_BYTES];
    ensure_eq!(reader.read_bulk_at(0, &mut back), Ok(BULK_BYTES));
    ensure!(back == other);
    // The automatic path: write_at and read_at past one message take
    // the ring, and read moves the offset.
    let middle = pattern(10_000, 3);
    ensure_eq!(file.write_at(1234, &middle), Ok(middle.len()));
    let mut some = vec![0u8; middle.len()];
    ensure_eq!(file.read_at(1234, &mut some), Ok(middle.len()));
    ensure!(some == middle);
    ensure_eq!(file.read(&mut some), Ok(middle.len()));
    // From offset 0: the first write's bytes, then the second's.
    ensure!(some[..1234] == data[..1234]);
    ensure!(some[1234..] == middle[..middle.len() - 1234]);
    ensure_eq!(
        file.seek(files::SeekFrom::Current(0)),
        Ok(middle.len() as u64)
    );
    ensure_eq!(file.close(), Ok(()));
    ensure_eq!(reader.close(), Ok(()));
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_file(&other_path).map_err(|_| fail())?;
    Ok(())
}

/// A write-only open completes a READ submission with `WrongMode` (and
/// goes on serving WRITEs); a read-only one refuses WRITEs.
pub fn open_mode() -> TestResult {
    let dir = scratch("ring-mode")?;
    let path = format!("{dir}/f");
    let writer = File::create(&path).map_err(|_| fail())?;
    ensure_eq!(writer.attach_ring(DATA_BYTES), Ok(()));
    let mut buf = vec![0u8; 8192];
    ensure_eq!(writer.read_bulk_at(0, &mut buf), Err(FsError::WrongMode));
    ensure_eq!(writer.write_bulk_at(0, &buf), Ok(buf.len()));
    let reader = File::open_read(&path).map_err(|_| fail())?;
    ensure_eq!(reader.attach_ring(DATA_BYTES), Ok(()));
    ensure_eq!(reader.write_bulk_at(0, &buf), Err(FsError::WrongMode));
    ensure_eq!(reader.read_bulk_at(0, &mut buf), Ok(8192));
    // Not on a directory.
    let directory = File::open(&dir, OpenFlags::READ).map_err(|_| fail())?;
    ensure_eq!(
        directory.attach_ring(DATA_BYTES),
        Err(FsError::IsADirectory)
    );
    drop((writer, reader, directory));
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_dir(&dir).map_err(|_| fail())?;
    Ok(())
}

/// A ring the runner made by hand, attached to `file`.
struct HandRing {
    client: Client<SharedRegion, CallWaker>,
    _memory: MemoryObject,
}

fn hand_ring(file: &File, geometry: Geometry) -> Result<HandRing, Failure> {
    let layout = Layout::new(geometry).map_err(|_| fail())?;
    let pages = layout.pages(abi::layout::PAGE_BYTES as usize) as u64;
    let budget = Budget::from_raw(rt::process::own_caps().budget);
    let memory = MemoryObject::create(&budget, pages);
    let _ = budget.into_raw();
    let memory = memory.map_err(|_| fail())?;
    let region = SharedRegion::map(&memory, 0, HOSTILE_AREA, pages).map_err(|_| fail())?;
    let client = Client::create(region, ring::Spin, geometry).map_err(|_| fail())?;
    let (endpoint, notification) = FileClient::new(file.endpoint())
        .attach_ring(
            memory.slot(),
            geometry.sq_entries,
            geometry.cq_entries,
            geometry.data_bytes,
        )
        .map_err(|_| fail())?;
    let waker = CallWaker::new(
        endpoint.into_handle::<rt::ipc::Endpoint>(),
        notification.into_handle::<rt::notify::Notification>(),
    );
    Ok(HandRing {
        client: client.with_waker(waker),
        _memory: memory,
    })
}

/// A client that writes a far SQ tail into its ring gets the ring
/// refused (nothing more is completed), and ramfs still answers messages
/// for that file and others and serves an honest ring; every frame comes
/// back (counted on the second round).
pub fn hostile_refused() -> TestResult {
    let dir = scratch("ring-hostile")?;
    hostile_round(&dir)?;
    round_trip_in(&dir)?;
    let before = free_frames()?;
    hostile_round(&dir)?;
    round_trip_in(&dir)?;
    ensure_eq!(free_frames()?, before);
    files::remove_dir(&dir).map_err(|_| fail())?;
    Ok(())
}

fn hostile_round(dir: &str) -> TestResult {
    let path = format!("{dir}/target");
    let data = pattern(4096, 5);
    let mut file = File::open(&path, read_write()).map_err(|_| fail())?;
    file.write_all(&data).map_err(|_| fail())?;
    let geometry = Geometry {
        sq_entries: 8,
        cq_entries: 8,
        data_bytes: 4096,
    };
    let mut ring = hand_ring(&file, geometry)?;
    // One honest read first.
    let read = Sqe {
        opcode: OP_READ,
        len: 4096,
        user_data: 1,
        ..Sqe::default()
    };
    ensure!(ring.client.push(&read).is_ok());
    ensure!(ring.client.submit().is_ok());
    let deadline = deadline_after(Duration::from_secs(5));
    while ring.client.poll() == Ok(0) {
        ensure!(rt::time::now_ns() < deadline);
        let _ = ring.client.wait(Some(deadline));
    }
    let done = ring.client.pop().map_err(|_| fail())?.ok_or_else(fail)?;
    ensure_eq!((done.status, done.value), (0, 4096));
    let mut back = vec![0u8; 4096];
    ensure!(ring.client.read_data(0, &mut back).is_ok());
    ensure!(back == data);
    ensure!(ring.client.release().is_ok());
    // Once ramfs's ring thread sleeps: an SQ tail a thousand entries
    // ahead, and a wake; then let it wake and look (the honest push below
    // would overwrite the tail).
    let region = ring.client.memory();
    let deadline = deadline_after(Duration::from_secs(2));
    while region.load_u32(offset::SQ_CONSUMER_SLEEPS) == 0 {
        ensure!(rt::time::now_ns() < deadline);
        rt::time::sleep(Duration::from_millis(1));
    }
    region.store_u32(offset::SQ_TAIL, 1001);
    ring.client.waker().wake(region, offset::SQ_TAIL);
    while region.load_u32(offset::SQ_CONSUMER_SLEEPS) != 0 {
        ensure!(rt::time::now_ns() < deadline);
        rt::time::sleep(Duration::from_millis(1));
    }
    rt::time::sleep(Duration::from_millis(20));
    // ramfs answers messages on the same file and on another one.
    let mut some = [0u8; 100];
    ensure_eq!(file.read_at(0, &mut some), Ok(100));
    ensure!(some[..] == data[..100]);
    let other = format!("{dir}/other");
    File::create(&other)
        .and_then(|mut f| f.write_all(b"still here"))
        .map_err(|_| fail())?;
    ensure_eq!(read_by_messages(&other), Ok(b"still here".to_vec()));
    // The refused ring completes nothing more: a submission pushed by
    // this side's own (honest) indices waits in vain.
    ensure!(ring.client.push(&read).is_ok());
    ensure!(ring.client.submit().is_ok());
    let soon = deadline_after(Duration::from_millis(200));
    let mut answered = false;
    while rt::time::now_ns() < soon {
        match ring.client.wait(Some(soon)) {
            Ok(0) => {}
            Ok(_) => answered = true,
            Err(Error::TimedOut) => break,
            Err(_) => answered = true,
        }
        if answered {
            break;
        }
    }
    ensure!(!answered);
    // Closing the file ends the ring on ramfs's side; then ours goes.
    ensure_eq!(file.close(), Ok(()));
    drop(ring);
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_file(&other).map_err(|_| fail())?;
    Ok(())
}
