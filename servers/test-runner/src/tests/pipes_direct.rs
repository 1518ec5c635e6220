//! Direct pipes (`fscore::pipe_ring`, `files::pipe_ring`; docs/files.md
//! "Direct pipes"): the bytes go through a ring every end maps, and the
//! server only counts ends. Every pipe rule holds there (end of file,
//! `BrokenPipe`, atomic writes from many writers, distinct bytes for many
//! readers); an end killed while it waits or while it holds the ring's
//! lock wedges nobody; an end that scribbles on the ring gets the other
//! ends of that pipe a typed error (`Io`), and the server and other pipes
//! go on. Frames come back (counted on a second round).

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::SeqCst;

use files::{File, FsError};
use fscore::pipe_ring::{DATA_BYTES, word};
use protocols::file::{self as proto, FileClient};
use rt::memory::MemoryObject;
use rt::shared::SharedRegion;
use rt::spawn::{Child, ExitStatus, Spawn};
use rt::time::Duration;

use super::TestResult;
use super::pipes::grant_of;
use super::spawn::program;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// Where the hostile end of these tests maps a ring's header.
const HOSTILE_HEADER: u64 = 0x0000_3600_0000_0000;

/// A new pipe: its read end and its write end.
fn pipe() -> Result<(File, File), super::Failure> {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let write = read.dup("write").map_err(|_| fail())?;
    Ok((read, write))
}

/// Starts `bin/probe` with `args` and the given ends as `stdin` and
/// `stdout` (new capabilities to them; ours stay ours).
fn probe(args: &[&str], stdin: &File, stdout: &File) -> Result<Child, super::Failure> {
    let (input, input_grant) = grant_of(stdin, "stdin")?;
    let (output, output_grant) = grant_of(stdout, "stdout")?;
    let child = Spawn::new(program("bin/probe").ok_or_else(fail)?)
        .args(args)
        .grants(&[input_grant, output_grant])
        .spawn()
        .map_err(|_| fail())?;
    drop((input, output));
    Ok(child)
}

/// Runs `round` twice, the second time counting frames.
fn twice(round: fn() -> TestResult) -> TestResult {
    round()?;
    let before = free_frames()?;
    round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// One byte each way with a `probe cat`, as `pipe_pingpong` does; the
/// pipes are direct (a message read is refused); the end of the file
/// travels through `cat`; `BrokenPipe` for a write with no reader, and
/// for a write waiting for room when the last reader goes.
pub fn pingpong_eof_broken() -> TestResult {
    twice(pingpong_round)
}

fn pingpong_round() -> TestResult {
    let (to_read, mut to_write) = pipe()?;
    let (mut from_read, from_write) = pipe()?;
    let mut cat = probe(&["probe", "cat"], &to_read, &from_write)?;
    drop((to_read, from_write));
    let mut byte = [0u8; 1];
    for i in 0..100u8 {
        ensure_eq!(to_write.write(&[i]), Ok(1));
        ensure_eq!(from_read.read(&mut byte), Ok(1));
        ensure_eq!(byte[0], i);
    }
    let by_message = FileClient::new(from_read.endpoint()).read(1).map(|_| ());
    ensure_eq!(
        by_message.map_err(proto::error_of),
        Err(FsError::NotSupported)
    );
    drop(to_write);
    ensure_eq!(cat.wait(), Ok(ExitStatus::Exited(0)));
    ensure_eq!(from_read.read(&mut byte), Ok(0));

    let (read, mut write) = pipe()?;
    ensure_eq!(write.write(b"a"), Ok(1));
    drop(read);
    ensure_eq!(write.write(b"b"), Err(FsError::BrokenPipe));

    let (read, mut write) = pipe()?;
    ensure_eq!(write.write_all(&vec![1u8; DATA_BYTES as usize]), Ok(()));
    let waiting = rt::thread::spawn(move || -> Result<usize, FsError> { write.write(b"more") })
        .map_err(|_| fail())?;
    rt::thread::sleep(Duration::from_millis(20));
    drop(read);
    ensure_eq!(
        waiting.join().map_err(|_| fail())?,
        Err(FsError::BrokenPipe)
    );
    Ok(())
}

/// Records of one `PIPE_BUF`: 1,024 words, all `writer << 16 | seq`.
const RECORDS: u32 = 48;

/// Two writers write whole records, three readers read whole records
/// until the end of the file: every record arrives once, whole.
pub fn many_writers_and_readers() -> TestResult {
    twice(many_round)
}

fn many_round() -> TestResult {
    let (read, write) = pipe()?;
    let mut writers = Vec::new();
    for id in 1..=2u32 {
        let mut mine = write.dup("").map_err(|_| fail())?;
        writers.push(
            rt::thread::spawn(move || -> u64 {
                for seq in 0..RECORDS {
                    let value = id << 16 | seq;
                    let record: Vec<u8> = (0..1024).flat_map(|_| value.to_le_bytes()).collect();
                    if mine.write(&record) != Ok(4096) {
                        return 1;
                    }
                }
                0
            })
            .map_err(|_| fail())?,
        );
    }
    drop(write);
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut mine = read.dup("").map_err(|_| fail())?;
        readers.push(
            rt::thread::spawn(move || -> Option<Vec<u32>> {
                let mut got = Vec::new();
                let mut buf = vec![0u8; 4096];
                loop {
                    match mine.read(&mut buf) {
                        Ok(0) => return Some(got),
                        Ok(4096) => {}
                        _ => return None,
                    }
                    let first = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
                    let whole = buf
                        .chunks_exact(4)
                        .all(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) == first);
                    if !whole {
                        return None;
                    }
                    got.push(first);
                }
            })
            .map_err(|_| fail())?,
        );
    }
    drop(read);
    for writer in writers {
        ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    }
    let mut all = Vec::new();
    for reader in readers {
        let got = reader.join().map_err(|_| fail())?;
        ensure!(got.is_some());
        all.extend(got.unwrap_or_default());
    }
    all.sort_unstable();
    let mut expected: Vec<u32> = (1..=2u32)
        .flat_map(|id| (0..RECORDS).map(move |seq| id << 16 | seq))
        .collect();
    expected.sort_unstable();
    ensure!(all == expected);
    Ok(())
}

/// A `cat` killed while it waits to read: the writer gets `BrokenPipe`
/// and the reader of its output the end of the file. A `cat` killed
/// while it waits to write (its output full): its output's reader gets
/// the 64 KiB, then the end of the file.
pub fn killed_while_blocked() -> TestResult {
    twice(killed_blocked_round)
}

fn killed_blocked_round() -> TestResult {
    let (a_read, mut a_write) = pipe()?;
    let (mut b_read, b_write) = pipe()?;
    let cat = probe(&["probe", "cat"], &a_read, &b_write)?;
    drop((a_read, b_write));
    ensure_eq!(a_write.write(b"x"), Ok(1));
    let mut byte = [0u8; 1];
    ensure_eq!(b_read.read(&mut byte), Ok(1));
    rt::thread::sleep(Duration::from_millis(20));
    cat.kill();
    ensure_eq!(b_read.read(&mut byte), Ok(0));
    let mut broken = false;
    for _ in 0..200 {
        if a_write.write(b"y") == Err(FsError::BrokenPipe) {
            broken = true;
            break;
        }
        rt::thread::sleep(Duration::from_millis(5));
    }
    ensure!(broken);

    let (a_read, mut a_write) = pipe()?;
    let (mut b_read, b_write) = pipe()?;
    let cat = probe(&["probe", "cat"], &a_read, &b_write)?;
    drop((a_read, b_write));
    let size = DATA_BYTES as usize;
    ensure_eq!(a_write.write_all(&vec![5u8; size]), Ok(()));
    ensure_eq!(a_write.write_all(&vec![6u8; 8192]), Ok(()));
    // cat has filled its output and waits to write the rest.
    let mut full = false;
    for _ in 0..400 {
        if b_read.metadata().map(|m| m.size) == Ok(size as u64) {
            full = true;
            break;
        }
        rt::thread::sleep(Duration::from_millis(5));
    }
    ensure!(full);
    rt::thread::sleep(Duration::from_millis(20));
    cat.kill();
    let mut got = Vec::new();
    ensure!(b_read.read_to_end(&mut got).is_ok());
    ensure_eq!(got.len(), size);
    ensure!(got.iter().all(|&b| b == 5));
    drop(a_write);
    Ok(())
}

/// A `probe pipe-lock` holds the ring's lock through an end of either
/// side; a write of ours waits for the lock; killing the probe frees it
/// (the server sees the end go and releases its lock), and the write and
/// a read go through.
pub fn killed_holding_the_lock() -> TestResult {
    twice(lock_round)
}

fn lock_round() -> TestResult {
    for side in ["read", "write"] {
        let (mut read, write) = pipe()?;
        let (mut said, said_write) = pipe()?;
        let given = read.dup(side).map_err(|_| fail())?;
        let holder = probe(&["probe", "pipe-lock"], &given, &said_write)?;
        drop((given, said_write));
        let mut byte = [0u8; 1];
        ensure_eq!(said.read(&mut byte), Ok(1));
        ensure_eq!(&byte, b"L");
        let mut write = write;
        let waiting = rt::thread::spawn(move || -> Result<usize, FsError> {
            let result = write.write(b"after");
            drop(write);
            result
        })
        .map_err(|_| fail())?;
        rt::thread::sleep(Duration::from_millis(20));
        holder.kill();
        ensure_eq!(waiting.join().map_err(|_| fail())?, Ok(5));
        let mut got = Vec::new();
        ensure!(read.read_to_end(&mut got).is_ok());
        ensure_eq!(&got[..], b"after");
    }
    Ok(())
}

/// A hostile end of a direct pipe (the raw `attach_pipe`, its own
/// mapping) moves the tail a ring and more past the head: the honest
/// reader and writer of that pipe get `Io`, the server answers for it and
/// serves other pipes; put back, the pipe works again.
pub fn hostile_scribbles() -> TestResult {
    twice(hostile_round)
}

fn hostile_round() -> TestResult {
    let (mut read, mut write) = pipe()?;
    ensure_eq!(write.write(b"ok"), Ok(2));
    let mut buf = [0u8; 8];
    ensure_eq!(read.read(&mut buf), Ok(2));
    let hostile = read.dup("write").map_err(|_| fail())?;
    let answer = FileClient::new(hostile.endpoint()).attach_pipe();
    let (memory, id, side) = answer.map_err(|_| fail())?;
    ensure!(id != 0);
    ensure_eq!(side, 1);
    let memory: MemoryObject = memory.into_handle();
    let header = SharedRegion::map(&memory, 0, HOSTILE_HEADER, 1).map_err(|_| fail())?;
    let words = header.words();
    let head = words[word::HEAD].load(SeqCst);
    let tail = words[word::TAIL].load(SeqCst);
    words[word::TAIL].store(head.wrapping_add(3 * DATA_BYTES), SeqCst);
    ensure_eq!(read.read(&mut buf), Err(FsError::Io));
    ensure_eq!(write.write(b"x"), Err(FsError::Io));
    ensure!(read.metadata().is_ok());
    let (mut other_read, mut other_write) = pipe()?;
    ensure_eq!(other_write.write(b"fine"), Ok(4));
    ensure_eq!(other_read.read(&mut buf), Ok(4));
    ensure_eq!(&buf[..4], b"fine");
    words[word::TAIL].store(tail, SeqCst);
    ensure_eq!(write.write(b"again"), Ok(5));
    ensure_eq!(read.read(&mut buf), Ok(5));
    ensure_eq!(&buf[..5], b"again");
    drop((header, memory, hostile));
    Ok(())
}
