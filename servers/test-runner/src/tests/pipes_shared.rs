//! Pipe data through data areas (`attach_data`, `write_shared`,
//! `read_shared`; docs/files.md "Bulk data through a data area"): large
//! reads and writes keep every pipe rule (order, atomic writes of at most
//! PIPE_BUF from several writers, end of file, broken pipes, blocking both
//! ways), mixed with message reads and writes; and a hostile client (bad
//! ranges and sizes, a second area, an area that is not memory, bytes
//! rewritten while its write waits, its end closed under a waiting write)
//! gets typed errors while the other end and other pipes go on.

use alloc::vec;
use alloc::vec::Vec;

use files::{File, FsError};
use protocols::file::{self as proto, FileClient};
use rt::Handle;
use rt::memory::{Budget, MemoryObject};
use rt::shared::SharedRegion;

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// A new pipe: its read end and its write end.
fn pipe() -> Result<(File, File), super::Failure> {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let write = read.dup("write").map_err(|_| fail())?;
    Ok((read, write))
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(13).wrapping_add(seed) % 251) as u8)
        .collect()
}

/// Reads until the end of the file with `chunk`-byte reads.
fn drain(read: &mut File, chunk: usize) -> Result<Vec<u8>, FsError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match read.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// 200 KiB through data areas one way, messages mixed in, a reader that
/// waits for data and a writer that waits for room; the end of the file
/// and a broken pipe; every frame back on the second round.
pub fn round_trip() -> TestResult {
    round()?;
    let before = free_frames()?;
    round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn round() -> TestResult {
    let (mut read, mut write) = pipe()?;
    let big = pattern(1, 200 * 1024);
    let expected = {
        let mut all = big.clone();
        all.extend_from_slice(b"then a message");
        all.extend_from_slice(&big[..5000]);
        all
    };
    // The writer fills the pipe and waits for room; the reader (this
    // thread) waits for data now and then.
    let writer = rt::thread::spawn(move || -> u64 {
        let ok = write.write_all(&big).is_ok()
            && write.write(b"then a message") == Ok(14)
            && write.write_all(&big[..5000]).is_ok();
        u64::from(!ok)
    })
    .map_err(|_| fail())?;
    let got = drain(&mut read, 64 * 1024).map_err(|_| fail())?;
    ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    ensure!(got == expected);
    // Reads of several sizes through the area and by message.
    let (mut read, mut write) = pipe()?;
    let data = pattern(2, 30_000);
    ensure_eq!(write.write_all(&data), Ok(()));
    let mut buf = vec![0u8; 10_000];
    ensure_eq!(read.read(&mut buf), Ok(10_000));
    ensure!(buf[..] == data[..10_000]);
    let mut small = [0u8; 100];
    ensure_eq!(read.read(&mut small), Ok(100));
    ensure!(small[..] == data[10_000..10_100]);
    ensure_eq!(read.read(&mut buf), Ok(10_000));
    ensure!(buf[..] == data[10_100..20_100]);
    drop(write);
    ensure_eq!(drain(&mut read, 8192), Ok(data[20_100..].to_vec()));
    ensure_eq!(read.read(&mut buf), Ok(0));
    // Broken: no reader left, through the area too.
    let (read, mut write) = pipe()?;
    ensure_eq!(write.write(&data), Ok(30_000));
    drop(read);
    ensure_eq!(write.write(&data), Err(FsError::BrokenPipe));
    Ok(())
}

/// Three writers, each with its own end and data area, write 4,096-byte
/// chunks (PIPE_BUF): no chunk is ever split, each writer's come in order.
pub fn atomic_writes() -> TestResult {
    let (mut read, write) = pipe()?;
    let mut writers = Vec::new();
    for id in 1..=3u8 {
        let mut mine = write.dup("").map_err(|_| fail())?;
        writers.push(
            rt::thread::spawn(move || -> u64 {
                for n in 0..12u8 {
                    let mut chunk = [id; 4096];
                    chunk[4095] = n;
                    if mine.write(&chunk) != Ok(4096) {
                        return 1;
                    }
                }
                0
            })
            .map_err(|_| fail())?,
        );
    }
    drop(write);
    let all = drain(&mut read, 64 * 1024).map_err(|_| fail())?;
    for writer in writers {
        ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    }
    ensure_eq!(all.len(), 3 * 12 * 4096);
    let mut next = [0u8; 4];
    for chunk in all.chunks(4096) {
        let id = chunk[0];
        ensure!(chunk[..4095].iter().all(|&b| b == id));
        ensure_eq!(chunk[4095], next[usize::from(id)]);
        next[usize::from(id)] += 1;
    }
    Ok(())
}

/// A data area of `pages` pages this program maps itself, as a hostile
/// client would hold one.
fn own_area(pages: u64, slot: u64) -> Result<(MemoryObject, SharedRegion), super::Failure> {
    let budget = Budget::from_raw(rt::process::own_caps().budget);
    let memory = MemoryObject::create(&budget, pages);
    let _ = budget.into_raw();
    let memory = memory.map_err(|_| fail())?;
    let vaddr = 0x0000_3400_0000_0000 + slot * (1 << 20);
    let region = SharedRegion::map(&memory, 0, vaddr, pages).map_err(|_| fail())?;
    Ok((memory, region))
}

/// A hostile client on the raw protocol: every bad request gets its typed
/// error; bytes it rewrites while its write waits are its own bytes only;
/// closing its end under a waiting write answers that write; the honest
/// writer on the same pipe, its reader and another pipe are unharmed.
/// Frames come back (counted on the second round).
pub fn hostile_refused() -> TestResult {
    hostile_round()?;
    let before = free_frames()?;
    hostile_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn hostile_round() -> TestResult {
    use FsError::*;
    let code = |result: Result<u64, protocols::Error>| result.map_err(proto::error_of);
    let unit = |result: Result<(), protocols::Error>| result.map_err(proto::error_of);
    let (mut read, mut honest) = pipe()?;
    let hostile = read.dup("write").map_err(|_| fail())?;
    let mut client = FileClient::new(hostile.endpoint());
    // No area yet, then bad geometries and a capability that is not memory.
    ensure_eq!(code(client.write_shared(0, 10)), Err(BadDescriptor));
    let (memory, region) = own_area(4, 0)?;
    ensure_eq!(
        unit(client.attach_data(memory.slot(), 0)),
        Err(InvalidArgument)
    );
    ensure_eq!(
        unit(client.attach_data(memory.slot(), 100)),
        Err(InvalidArgument)
    );
    ensure_eq!(
        unit(client.attach_data(memory.slot(), 512 << 10)),
        Err(InvalidArgument)
    );
    // Larger than the object: the server's map fails.
    ensure_eq!(
        unit(client.attach_data(memory.slot(), 8 * 4096)),
        Err(InvalidArgument)
    );
    let not_memory = hostile.endpoint().slot();
    ensure_eq!(
        unit(client.attach_data(not_memory, 4096)),
        Err(InvalidArgument)
    );
    ensure_eq!(unit(client.attach_data(memory.slot(), 4 * 4096)), Ok(()));
    ensure_eq!(
        unit(client.attach_data(memory.slot(), 4 * 4096)),
        Err(InvalidArgument)
    );
    // Ranges outside the area, the wrong side.
    ensure_eq!(
        code(client.write_shared(0, 4 * 4096 + 1)),
        Err(InvalidArgument)
    );
    ensure_eq!(code(client.write_shared(u32::MAX, 2)), Err(InvalidArgument));
    ensure_eq!(code(client.read_shared(0, 10)), Err(WrongMode));
    let mut reader_client = FileClient::new(read.endpoint());
    ensure_eq!(code(reader_client.read_shared(0, 10)), Err(BadDescriptor));

    // Fill the pipe (64 KiB) honestly, then the hostile write waits for
    // room while a thread of its own rewrites its bytes.
    let first = pattern(3, 64 * 1024);
    ensure_eq!(honest.write_all(&first), Ok(()));
    region.copy_in(0, &[b'h'; 4096]).map_err(|_| fail())?;
    let region = alloc::sync::Arc::new(region);
    let scribbling = alloc::sync::Arc::new(core::sync::atomic::AtomicBool::new(true));
    let (theirs, flag) = (region.clone(), scribbling.clone());
    let scribbler = rt::thread::spawn(move || -> u64 {
        let mut byte = 0u8;
        while flag.load(core::sync::atomic::Ordering::Relaxed) {
            let _ = theirs.copy_in(0, &[byte; 4096]);
            byte = byte.wrapping_add(1);
            rt::thread::yield_now();
        }
        0
    })
    .map_err(|_| fail())?;
    let slot = hostile.endpoint().slot();
    let waiting = rt::thread::spawn(move || -> Result<u64, FsError> {
        let endpoint = rt::ipc::Endpoint::from_raw(slot);
        let result = FileClient::new(&endpoint).write_shared(0, 4096);
        let _ = endpoint.into_raw();
        result.map_err(proto::error_of)
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    // Another pipe is served meanwhile.
    let (mut other_read, mut other_write) = pipe()?;
    ensure_eq!(other_write.write(&pattern(4, 9000)), Ok(9000));
    ensure_eq!(drain_some(&mut other_read, 9000), Ok(pattern(4, 9000)));
    // The reader gets the honest bytes whole, then 4,096 hostile bytes
    // (whatever they were when they went in: the scribbler may be
    // preempted in the middle of a fill while the server copies, so they
    // need not be one value).
    let mut got = vec![0u8; 64 * 1024];
    ensure_eq!(read.read(&mut got), Ok(64 * 1024));
    ensure!(got == first);
    ensure_eq!(waiting.join().map_err(|_| fail())?, Ok(4096));
    scribbling.store(false, core::sync::atomic::Ordering::Relaxed);
    ensure_eq!(scribbler.join().map_err(|_| fail())?, 0);
    let mut run = vec![0u8; 4096];
    ensure_eq!(read.read(&mut run), Ok(4096));

    // Its end closed under a waiting write: that write is answered with
    // BadDescriptor, the pipe and its honest writer go on.
    ensure_eq!(honest.write_all(&first), Ok(()));
    let waiting = rt::thread::spawn(move || -> Result<u64, FsError> {
        let endpoint = rt::ipc::Endpoint::from_raw(slot);
        let result = FileClient::new(&endpoint).write_shared(0, 4096);
        let _ = endpoint.into_raw();
        result.map_err(proto::error_of)
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    ensure_eq!(hostile.close(), Ok(()));
    ensure_eq!(read.read(&mut got), Ok(64 * 1024));
    ensure!(got == first);
    ensure_eq!(waiting.join().map_err(|_| fail())?, Err(BadDescriptor));
    ensure_eq!(honest.write(b"still"), Ok(5));
    drop(honest);
    ensure_eq!(drain(&mut read, 8192), Ok(b"still".to_vec()));
    drop((memory, region, other_read, other_write));
    Ok(())
}

/// Reads exactly `len` bytes (or to the end of the file).
fn drain_some(read: &mut File, len: usize) -> Result<Vec<u8>, FsError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    while out.len() < len {
        match read.read(&mut buf[..(len - out.len()).min(8192)])? {
            0 => break,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
    Ok(out)
}
