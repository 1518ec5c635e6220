//! Pipes (`servers/pipe`) through the file API: `open("pipe:")` and
//! `dup(end, "write")`, blocking reads and writes answered later by the
//! server, end of file, broken pipes, atomic writes from many writers,
//! and a pipeline of three programs.

use alloc::vec::Vec;

use abi::Rights;
use abi::startup::handle::FILE;
use files::{File, FsError, Kind, OpenFlags};
use rt::Handle;
use rt::spawn::{ExitStatus, Grant, Spawn};

use super::TestResult;
use super::spawn::program;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// A new pipe: its read end and its write end.
fn pipe() -> Result<(File, File), super::Failure> {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let write = read.dup("write").map_err(|_| fail())?;
    Ok((read, write))
}

/// Reads until the end of the file.
fn read_to_end(file: &mut File) -> Result<Vec<u8>, FsError> {
    let mut out = Vec::new();
    file.read_to_end(&mut out)?;
    Ok(out)
}

/// Bytes go through; the end of the file once the last writer closed;
/// `BrokenPipe` once the last reader closed; each end refuses the other's
/// operations.
pub fn round_trip_eof_and_broken() -> TestResult {
    let (mut read, mut write) = pipe()?;
    ensure_eq!(read.kind(), Kind::Pipe);
    ensure_eq!(write.write(b"hello"), Ok(5));
    let mut buf = [0u8; 16];
    ensure_eq!(read.read(&mut buf), Ok(5));
    ensure_eq!(&buf[..5], b"hello");
    ensure_eq!(read.write(b"x"), Err(FsError::WrongMode));
    ensure_eq!(write.read(&mut buf), Err(FsError::WrongMode));
    ensure_eq!(
        read.seek(files::SeekFrom::Start(0)),
        Err(FsError::WrongMode)
    );
    // A second writer: the end of the file waits for both.
    let mut second = write.dup("").map_err(|_| fail())?;
    ensure_eq!(write.close(), Ok(()));
    ensure_eq!(second.write(b"more"), Ok(4));
    drop(second);
    ensure_eq!(read_to_end(&mut read), Ok(b"more".to_vec()));
    ensure_eq!(read.read(&mut buf), Ok(0));
    // Broken: no reader left.
    let (read, mut write) = pipe()?;
    drop(read);
    ensure_eq!(write.write(b"x"), Err(FsError::BrokenPipe));
    // Bad modes and names.
    ensure_eq!(
        write.dup("sideways").map(|_| ()),
        Err(FsError::InvalidArgument)
    );
    ensure_eq!(
        File::open("pipe:", OpenFlags::WRITE).map(|_| ()),
        Err(FsError::InvalidArgument)
    );
    ensure_eq!(
        File::open_read("pipe:name").map(|_| ()),
        Err(FsError::NotFound)
    );
    Ok(())
}

/// A read of an empty pipe waits (the server keeps its reply and serves
/// others) until a write comes; a write to a full pipe waits until a read
/// makes room; a waiting reader gets the end of the file when the last
/// writer closes.
pub fn blocking_reads_and_writes() -> TestResult {
    let (mut read, write) = pipe()?;
    let reader = rt::thread::spawn(move || -> u64 {
        let mut buf = [0u8; 8];
        let first = read.read(&mut buf);
        let second = read.read(&mut buf);
        match (first, second) {
            (Ok(3), Ok(0)) if &buf[..3] == b"abc" => 0,
            _ => 1,
        }
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    let mut write = write;
    ensure_eq!(write.write(b"abc"), Ok(3));
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    drop(write);
    ensure_eq!(reader.join().map_err(|_| fail())?, 0);

    // Fill it: 64 KiB in 496-byte writes, then one more waits.
    let (mut read, mut write) = pipe()?;
    let chunk = [7u8; 496];
    let mut written = 0;
    while written + chunk.len() <= 64 * 1024 {
        ensure_eq!(write.write(&chunk), Ok(chunk.len()));
        written += chunk.len();
    }
    let writer = rt::thread::spawn(move || -> u64 {
        let result = write.write(&[9u8; 496]);
        u64::from(result != Ok(496))
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    let mut total = 0;
    let mut buf = [0u8; 504];
    let mut last = 0;
    loop {
        match read.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                last = buf[n - 1];
            }
            Err(_) => return Err(fail()),
        }
    }
    ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    ensure_eq!(total, written + 496);
    ensure_eq!(last, 9);
    Ok(())
}

/// Writers of at most PIPE_BUF bytes are never interleaved.
pub fn atomic_writes() -> TestResult {
    let (mut read, write) = pipe()?;
    let mut writers = Vec::new();
    for id in 1..=3u8 {
        let mut mine = write.dup("").map_err(|_| fail())?;
        writers.push(
            rt::thread::spawn(move || -> u64 {
                for _ in 0..40 {
                    if mine.write(&[id; 400]) != Ok(400) {
                        return 1;
                    }
                }
                0
            })
            .map_err(|_| fail())?,
        );
    }
    drop(write);
    let all = read_to_end(&mut read).map_err(|_| fail())?;
    for writer in writers {
        ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    }
    ensure_eq!(all.len(), 3 * 40 * 400);
    for chunk in all.chunks(400) {
        ensure!(chunk.iter().all(|&b| b == chunk[0]));
    }
    Ok(())
}

/// Gives `file` to a child as `name`: a new capability to the same end
/// (counted by the server), which the child owns; ours is deleted
/// without closing the object.
pub(super) fn grant_of<'a>(
    file: &File,
    name: &'a str,
) -> Result<(rt::ipc::Endpoint, Grant<'a>), super::Failure> {
    let given = file.dup("").map_err(|_| fail())?.into_endpoint();
    let grant = Grant {
        slot: given.slot(),
        rights: Rights::WRITE | Rights::GRANT,
        kind: FILE,
        name,
    };
    Ok((given, grant))
}

/// Starts `probe cat` with `stdin` and `stdout`.
fn cat(stdin: &File, stdout: &File) -> Result<rt::spawn::Child, super::Failure> {
    let (input, input_grant) = grant_of(stdin, "stdin")?;
    let (output, output_grant) = grant_of(stdout, "stdout")?;
    let child = Spawn::new(program("bin/probe").ok_or_else(fail)?)
        .args(&["probe", "cat"])
        .grants(&[input_grant, output_grant])
        .spawn()
        .map_err(|_| fail())?;
    drop((input, output));
    Ok(child)
}

/// This program writes into a pipe, two `cat` programs pass it on, and
/// this program reads it back: the end of the file travels down the
/// pipeline. Then the last reader goes, and the writer upstream gets
/// `BrokenPipe`. Every frame comes back (the first round grows the heap
/// and the thread cache; the second must give back all it takes).
pub fn three_programs() -> TestResult {
    pipeline()?;
    let before = free_frames()?;
    pipeline()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// One round of [`three_programs`].
fn pipeline() -> TestResult {
    let (a_read, mut a_write) = pipe()?;
    let (b_read, b_write) = pipe()?;
    let (mut c_read, c_write) = pipe()?;
    let mut first = cat(&a_read, &b_write)?;
    let mut second = cat(&b_read, &c_write)?;
    drop((a_read, b_write, b_read, c_write));
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    let writer = rt::thread::spawn(move || -> u64 { u64::from(a_write.write_all(&data).is_err()) })
        .map_err(|_| fail())?;
    let got = read_to_end(&mut c_read).map_err(|_| fail())?;
    ensure_eq!(writer.join().map_err(|_| fail())?, 0);
    let expected: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    ensure!(got == expected);
    ensure_eq!(first.wait(), Ok(ExitStatus::Exited(0)));
    ensure_eq!(second.wait(), Ok(ExitStatus::Exited(0)));
    drop(c_read);

    // Nobody reads the end of the pipeline: the cat writing to it fails.
    let (a_read, mut a_write) = pipe()?;
    let (b_read, b_write) = pipe()?;
    let mut child = cat(&a_read, &b_write)?;
    drop((a_read, b_write, b_read));
    ensure_eq!(a_write.write(b"into nothing"), Ok(12));
    ensure_eq!(
        child.wait(),
        Ok(ExitStatus::Exited(u64::from(FsError::BrokenPipe.code())))
    );
    // Its reader has gone with it.
    ensure_eq!(a_write.write(b"x"), Err(FsError::BrokenPipe));
    drop((a_write, first, second, child));
    Ok(())
}

/// The pipe server killed while a reader waits: the waiting read ends
/// with `BadDescriptor` once the writer closes (the pipe is direct, so
/// the reader waits in the ring; the writer's close fails, and the
/// writer tells the ring the server is gone; a reader waiting by message
/// would have had `PeerClosed` at once, its saved reply deleted with the
/// server), and once init has restarted it, new pipes work.
pub fn server_killed_under_a_waiting_reader() -> TestResult {
    let (mut read, mut write) = pipe()?;
    ensure_eq!(write.write(b"x"), Ok(1));
    let reader = rt::thread::spawn(move || -> Result<usize, FsError> {
        let mut buf = [0u8; 8];
        match read.read(&mut buf) {
            Ok(1) => read.read(&mut buf),
            _ => Err(FsError::InvalidArgument),
        }
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(rt::time::Duration::from_millis(20));
    let mut supervisor = super::supervision::supervisor()?;
    ensure_eq!(supervisor.kill("pipe"), Ok(()));
    drop(write);
    ensure_eq!(
        reader.join().map_err(|_| fail())?,
        Err(FsError::BadDescriptor)
    );
    let (mut read, mut write) = pipe()?;
    ensure_eq!(write.write(b"again"), Ok(5));
    let mut buf = [0u8; 8];
    ensure_eq!(read.read(&mut buf), Ok(5));
    Ok(())
}
