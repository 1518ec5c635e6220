//! The console server (`bin/console`, docs/console.md) through its two
//! protocols, with the test playing the terminal: a fake `Serial` server
//! ([`Wire`]) on a thread of the test runner takes what the console
//! writes and answers its reads with keys the test types.
//!
//! Most tests start a console of their own (`bin/console` with a fresh
//! endpoint and the fake wire as its `serial`), so they can kill it and
//! count frames; `console_opens_through_the_namespace` uses the one init
//! runs (`system-test.toml`: its terminal is the `console-wire` endpoint
//! this program serves) through `/dev/console`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use abi::Rights;
use abi::startup::handle::{FILE, SERVICE};
use files::{FsError, Kind, OpenFlags};
use protocols::file::{self, DirEntries, FileClient, Whence};
use protocols::serial::flags;
use protocols::tty::{Mode, Signal, TtyClient};
use protocols::{Error, status};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message};
use rt::spawn::{Grant, Spawn};
use rt::thread::JoinHandle;
use rt::time::Duration;

use super::TestResult;
use super::spawn::program;
use super::support::free_frames;
use super::syscalls::fail;
use super::wire::{Rig, Wire};
use crate::{ensure, ensure_eq};

/// How long a test lets a call settle (be taken and parked).
const SETTLE: Duration = Duration::from_millis(40);

/// Reads once from an open console.
fn read(console: &Endpoint, max: u32) -> Result<Vec<u8>, FsError> {
    FileClient::new(console)
        .read(max)
        .map(<[u8]>::to_vec)
        .map_err(file::error_of)
}

/// Writes once to an open console.
fn write(console: &Endpoint, data: &[u8]) -> Result<u64, FsError> {
    FileClient::new(console).write(data).map_err(file::error_of)
}

/// A thread reading once from a copy of `console`.
fn reader(
    console: &Endpoint,
    max: u32,
) -> Result<JoinHandle<Result<Vec<u8>, FsError>>, super::Failure> {
    let copy = console
        .copy(Rights::WRITE | Rights::GRANT)
        .map_err(|_| fail())?;
    rt::thread::spawn(move || read(&copy, max)).map_err(|_| fail())
}

/// A thread waiting for a signal on a copy of `console`.
fn signal_waiter(console: &Endpoint) -> Result<JoinHandle<Result<Signal, Error>>, super::Failure> {
    let copy = console
        .copy(Rights::WRITE | Rights::GRANT)
        .map_err(|_| fail())?;
    rt::thread::spawn(move || TtyClient::new(&copy).wait_signal()).map_err(|_| fail())
}

fn fs_error(code: FsError) -> Error {
    Error::Remote(file::code(code))
}

// ---------------------------------------------------------------------------
// The tests.

/// `/dev/console` through the namespace, on the console init runs: open,
/// stat, write (LF becomes CR LF), a typed line read back, `/dev` listed,
/// the `dev:` scheme.
pub fn opens_through_the_namespace() -> TestResult {
    let wire = Wire::serve(super::supervision::granted(SERVICE, "console-wire")?)?;
    wire.until_reading()?;
    // The console owns output processing: the wire's CRLF is off.
    ensure_eq!(wire.flags() & flags::CRLF, 0);
    let mut console = files::File::open("/dev/console", OpenFlags::READ | OpenFlags::WRITE)
        .map_err(|_| fail())?;
    ensure_eq!(console.kind(), Kind::Device);
    ensure_eq!(console.metadata().map(|m| m.kind), Ok(Kind::Device));
    ensure_eq!(console.write(b"console-test: hello\n"), Ok(20));
    wire.expect_written(b"console-test: hello\r\n")?;
    wire.type_keys(b"typed\r");
    wire.expect_written(b"typed\r\n")?;
    let mut buf = [0u8; 64];
    ensure_eq!(console.read(&mut buf), Ok(6));
    ensure_eq!(&buf[..6], b"typed\n");
    let entries = files::read_dir("/dev").map_err(|_| fail())?;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    ensure_eq!(names, ["console", "null", "kmsg"]);
    ensure!(entries.iter().all(|e| e.kind == Kind::Device));
    ensure_eq!(files::metadata("/dev").map(|m| m.kind), Ok(Kind::Dir));
    ensure!(files::File::open("dev:console", OpenFlags::WRITE).is_ok());
    ensure_eq!(
        files::File::open("/dev/tty0", OpenFlags::READ).map(|_| ()),
        Err(FsError::NotFound)
    );
    drop(console);
    Ok(())
}

/// `/dev/null` and `/dev/kmsg` of the console init runs (it holds the
/// `kernel-log` authority): end of file and every write taken; the kernel
/// log from its first line to its end, a cursor per open, and each error.
pub fn devices() -> TestResult {
    use files::File;
    // /dev/null
    let rw = OpenFlags::READ | OpenFlags::WRITE;
    let mut null = File::open("/dev/null", rw).map_err(|_| fail())?;
    ensure_eq!(null.kind(), Kind::Device);
    let mut buf = [0u8; 600];
    ensure_eq!(null.read(&mut buf), Ok(0));
    ensure_eq!(null.write(&buf[..400]), Ok(400));
    ensure_eq!(
        null.metadata().map(|m| (m.kind, m.size)),
        Ok((Kind::Device, 0))
    );
    ensure_eq!(
        null.seek(files::SeekFrom::Start(0)).map(|_| ()),
        Err(FsError::NotSupported)
    );
    let mut read_only = File::open("/dev/null", OpenFlags::READ).map_err(|_| fail())?;
    ensure_eq!(read_only.write(b"x"), Err(FsError::WrongMode));
    let mut write_only = File::open("/dev/null", OpenFlags::WRITE).map_err(|_| fail())?;
    ensure_eq!(write_only.read(&mut buf), Err(FsError::WrongMode));
    let mut dup = null.dup("").map_err(|_| fail())?;
    ensure_eq!(dup.write(b"abc"), Ok(3));
    let truncate = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    ensure!(File::open("/dev/null", truncate).is_ok());
    let exclusive = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
    ensure_eq!(
        File::open("/dev/null", exclusive).map(|_| ()),
        Err(FsError::Exists)
    );
    let directory = OpenFlags::READ | OpenFlags::DIRECTORY;
    ensure_eq!(
        File::open("/dev/null", directory).map(|_| ()),
        Err(FsError::NotADirectory)
    );
    ensure_eq!(
        File::open("/dev/null/x", rw).map(|_| ()),
        Err(FsError::NotADirectory)
    );
    ensure_eq!(files::remove_file("/dev/null"), Err(FsError::ReadOnly));
    // /dev/kmsg: read to the end, in pieces, from the boot banner.
    let mut kmsg = File::open("/dev/kmsg", OpenFlags::READ).map_err(|_| fail())?;
    let mut log = Vec::new();
    loop {
        let n = kmsg.read(&mut buf).map_err(|_| fail())?;
        if n == 0 {
            break;
        }
        log.extend_from_slice(&buf[..n]);
    }
    ensure!(log.len() > 200 && log.len() as u64 <= abi::syscall::KERNEL_LOG_BYTES);
    // From the boot banner, or (once more than the ring was logged) from
    // the first whole line kept.
    ensure!(log.starts_with(b"[INFO ] kernel: Mica ") || log.len() as u64 > 12_000);
    ensure!(log.starts_with(b"["));
    ensure!(log.ends_with(b"\n"));
    // Another open starts from the beginning again; a dup keeps its cursor.
    // Once the ring has wrapped (or nearly), lines logged meanwhile (by any thread)
    // may have pushed the oldest out: the new open then starts at a later
    // whole line, and only the shape can be checked.
    let wrapped = !log.starts_with(b"[INFO ] kernel: Mica ")
        || log.len() as u64 + 4096 > abi::syscall::KERNEL_LOG_BYTES;
    let mut again = File::open("/dev/kmsg", OpenFlags::READ).map_err(|_| fail())?;
    let n = again.read(&mut buf[..100]).map_err(|_| fail())?;
    let first = buf[..n].to_vec();
    let mut twin = again.dup("").map_err(|_| fail())?;
    let m = twin.read(&mut buf[..50]).map_err(|_| fail())?;
    if wrapped {
        ensure!(n > 0 && m > 0);
    } else {
        ensure_eq!(&first[..], &log[..n]);
        ensure_eq!(&buf[..m], &log[n..n + m]);
    }
    ensure_eq!(kmsg.write(b"x"), Err(FsError::WrongMode));
    ensure_eq!(
        File::open("/dev/kmsg", rw).map(|_| ()),
        Err(FsError::ReadOnly)
    );
    ensure_eq!(
        files::metadata("/dev/kmsg").map(|m| m.kind),
        Ok(Kind::Device)
    );
    ensure_eq!(
        TtyClient::new(kmsg.endpoint()).size(),
        Err(fs_error(FsError::NotSupported))
    );
    drop((null, read_only, write_only, dup, kmsg, again, twin));
    Ok(())
}

/// Every `File` operation on the directory and the console, with each
/// documented error, and the `Tty` operations' answers off a console.
pub fn file_operations_and_errors() -> TestResult {
    let rig = Rig::start()?;
    let mut root = FileClient::new(&rig.root);
    // open
    let rw = (OpenFlags::READ | OpenFlags::WRITE).bits();
    ensure_eq!(
        root.open("", OpenFlags::READ.bits()).map(|(_, k)| k),
        Ok(Kind::Dir.code())
    );
    ensure_eq!(
        root.open("console", rw).map(|(_, k)| k),
        Ok(Kind::Device.code())
    );
    ensure_eq!(
        root.open("tty0", rw).map(|_| ()),
        Err(fs_error(FsError::NotFound))
    );
    let create = (OpenFlags::WRITE | OpenFlags::CREATE).bits();
    ensure_eq!(
        root.open("tty0", create).map(|_| ()),
        Err(fs_error(FsError::ReadOnly))
    );
    let exclusive = (OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE).bits();
    ensure_eq!(
        root.open("console", exclusive).map(|_| ()),
        Err(fs_error(FsError::Exists))
    );
    let directory = (OpenFlags::READ | OpenFlags::DIRECTORY).bits();
    ensure_eq!(
        root.open("console", directory).map(|_| ()),
        Err(fs_error(FsError::NotADirectory))
    );
    ensure_eq!(
        root.open("console/x", rw).map(|_| ()),
        Err(fs_error(FsError::NotADirectory))
    );
    ensure_eq!(
        root.open("", rw).map(|_| ()),
        Err(fs_error(FsError::IsADirectory))
    );
    ensure_eq!(
        root.open("../x", rw).map(|_| ()),
        Err(fs_error(FsError::InvalidPath))
    );
    ensure_eq!(
        root.open("console", 0).map(|_| ()),
        Err(fs_error(FsError::InvalidArgument))
    );
    ensure_eq!(
        root.open("console", 1 << 20).map(|_| ()),
        Err(fs_error(FsError::InvalidArgument))
    );
    // stat, stat_at, readdir
    let dir_stat = (Kind::Dir.code(), 1, 1, 2);
    let console_stat = (Kind::Device.code(), 0, 2, 1);
    ensure_eq!(root.stat(), Ok(dir_stat));
    ensure_eq!(root.stat_at(""), Ok(dir_stat));
    ensure_eq!(root.stat_at("console"), Ok(console_stat));
    ensure_eq!(root.stat_at("nope"), Err(fs_error(FsError::NotFound)));
    let (bytes, next) = root.readdir(0).map_err(|_| fail())?;
    let entries: Vec<_> = DirEntries::new(bytes).collect();
    // This console has no kernel-log grant: no kmsg.
    ensure_eq!(
        entries,
        [Ok((Kind::Device, "console")), Ok((Kind::Device, "null"))]
    );
    ensure_eq!(
        root.open("kmsg", OpenFlags::READ.bits()).map(|_| ()),
        Err(fs_error(FsError::NotFound))
    );
    ensure_eq!(next, 0);
    ensure_eq!(root.readdir(1).map(|(b, n)| (b.len(), n)), Ok((0, 0)));
    // The directory refuses file operations and changes.
    ensure_eq!(
        root.read(8).map(|_| ()),
        Err(fs_error(FsError::IsADirectory))
    );
    ensure_eq!(root.write(b"x"), Err(fs_error(FsError::IsADirectory)));
    ensure_eq!(
        root.seek(0, Whence::Start),
        Err(fs_error(FsError::IsADirectory))
    );
    ensure_eq!(root.mkdir("d"), Err(fs_error(FsError::ReadOnly)));
    ensure_eq!(root.rmdir("console"), Err(fs_error(FsError::ReadOnly)));
    ensure_eq!(root.unlink("console"), Err(fs_error(FsError::ReadOnly)));
    ensure_eq!(
        root.rename("console", "tty"),
        Err(fs_error(FsError::ReadOnly))
    );
    ensure_eq!(root.unlink(""), Err(fs_error(FsError::InvalidPath)));
    ensure_eq!(root.close(), Err(fs_error(FsError::BadDescriptor)));
    ensure_eq!(
        TtyClient::new(&rig.root).size(),
        Err(fs_error(FsError::IsADirectory))
    );
    ensure_eq!(
        TtyClient::new(&rig.root).set_mode(Mode::Raw),
        Err(fs_error(FsError::IsADirectory))
    );
    // The console: no offsets, no pages, no directory operations.
    let console = rig.console()?;
    let mut client = FileClient::new(&console);
    ensure_eq!(client.stat(), Ok(console_stat));
    ensure_eq!(
        client.read_at(0, 8).map(|_| ()),
        Err(fs_error(FsError::NotSupported))
    );
    ensure_eq!(
        client.write_at(0, b"x"),
        Err(fs_error(FsError::NotSupported))
    );
    ensure_eq!(
        client.seek(0, Whence::End),
        Err(fs_error(FsError::NotSupported))
    );
    ensure_eq!(client.truncate(0), Err(fs_error(FsError::NotSupported)));
    ensure_eq!(
        client.map().map(|_| ()),
        Err(fs_error(FsError::NotSupported))
    );
    ensure_eq!(
        client.readdir(0).map(|_| ()),
        Err(fs_error(FsError::NotADirectory))
    );
    ensure_eq!(
        client.open("x", rw).map(|_| ()),
        Err(fs_error(FsError::NotADirectory))
    );
    ensure_eq!(client.mkdir("x"), Err(fs_error(FsError::NotADirectory)));
    ensure_eq!(client.read(0), Ok(&b""[..]));
    ensure_eq!(client.write(b""), Ok(0));
    // The mode it was opened with.
    let read_only = rig.open("console", OpenFlags::READ).map_err(|_| fail())?;
    let write_only = rig.open("console", OpenFlags::WRITE).map_err(|_| fail())?;
    ensure_eq!(write(&read_only, b"x"), Err(FsError::WrongMode));
    ensure_eq!(read(&write_only, 8), Err(FsError::WrongMode));
    // dup and close.
    let dup = client.dup("").map_err(|_| fail())?;
    let dup = Endpoint::from_raw(dup.into_raw());
    ensure_eq!(
        client.dup("write").map(|_| ()),
        Err(fs_error(FsError::InvalidArgument))
    );
    ensure_eq!(write(&dup, b"d\n"), Ok(2));
    rig.wire.expect_written(b"d\r\n")?;
    ensure_eq!(FileClient::new(&dup).close(), Ok(()));
    ensure_eq!(write(&dup, b"x"), Err(FsError::BadDescriptor));
    ensure_eq!(
        FileClient::new(&dup).close(),
        Err(fs_error(FsError::BadDescriptor))
    );
    ensure_eq!(
        TtyClient::new(&dup).size(),
        Err(fs_error(FsError::BadDescriptor))
    );
    ensure_eq!(write(&console, b"still\n"), Ok(6));
    rig.wire.expect_written(b"still\r\n")?;
    // Tty on the console.
    let mut tty = TtyClient::new(&console);
    ensure_eq!(tty.size(), Ok((80, 24)));
    ensure_eq!(tty.set_mode(Mode::Cooked), Ok(Mode::Cooked));
    ensure_eq!(tty.set_mode(Mode::Raw), Ok(Mode::Cooked));
    ensure_eq!(tty.set_mode(Mode::Cooked), Ok(Mode::Raw));
    // Requests no stub sends.
    let cases: &[(u16, &[u64], u16)] = &[
        (99, &[], status::UNKNOWN_OPERATION),
        (70, &[], status::UNKNOWN_OPERATION),
        (64, &[7], status::MALFORMED),
        (64, &[], status::MALFORMED),
        (2, &[], status::MALFORMED),
        (4, &[600, 0], status::MALFORMED),
    ];
    for (i, &(opcode, words, want)) in cases.iter().enumerate() {
        let mut m = Message::with_words(status::request_label(opcode, i as u32 + 1), words);
        console.call(&mut m).map_err(|_| fail())?;
        ensure_eq!(status::split_label(m.label()), (want, i as u32 + 1));
    }
    ensure_eq!(write(&console, b"ok\n"), Ok(3));
    rig.wire.expect_written(b"ok\r\n")?;
    drop(rig);
    Ok(())
}

/// Cooked mode through the real server: erase, word erase, line kill and
/// UTF-8 as a user types them, with their echo; a line read in pieces;
/// ^D at the start of a line is one end of file.
pub fn cooked_line_editing() -> TestResult {
    let rig = Rig::start()?;
    let console = rig.console()?;
    rig.wire.type_keys(b"hell\x7f\x7fllo wrld\x17world");
    rig.wire.expect_written(
        b"hell\x08 \x08\x08 \x08llo wrld\x08 \x08\x08 \x08\x08 \x08\x08 \x08world",
    )?;
    // Nothing readable before the line ends.
    let waiting = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    rig.wire.type_keys(b" \xc3\xa9\x7f!\r");
    rig.wire.expect_written(b" \xc3\xa9\x08 \x08!\r\n")?;
    ensure_eq!(
        waiting.join().map_err(|_| fail())?,
        Ok(b"hello world !\n".to_vec())
    );
    // ^U kills the line; a line is read in pieces, never across lines.
    rig.wire.type_keys(b"junk\x15two\rthree\r");
    rig.wire
        .expect_written(b"junk\x08 \x08\x08 \x08\x08 \x08\x08 \x08two\r\nthree\r\n")?;
    ensure_eq!(read(&console, 2), Ok(b"tw".to_vec()));
    ensure_eq!(read(&console, 64), Ok(b"o\n".to_vec()));
    ensure_eq!(read(&console, 64), Ok(b"three\n".to_vec()));
    // ^D: end of file once, then reading goes on.
    rig.wire.type_keys(b"\x04again\r");
    rig.wire.expect_written(b"again\r\n")?;
    ensure_eq!(read(&console, 64), Ok(Vec::new()));
    ensure_eq!(read(&console, 64), Ok(b"again\n".to_vec()));
    // Output: LF becomes CR LF in cooked mode.
    ensure_eq!(write(&console, b"a\nb\n"), Ok(4));
    rig.wire.expect_written(b"a\r\nb\r\n")?;
    Ok(())
}

/// Reads with nothing to read wait without holding the server: several
/// readers wait at once, other calls are answered meanwhile, and each
/// line goes to the oldest reader.
pub fn blocking_reads_wait_in_order() -> TestResult {
    let rig = Rig::start()?;
    let console = rig.console()?;
    let first = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    let second = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    // The server answers others while both wait.
    ensure_eq!(write(&console, b"w\n"), Ok(2));
    rig.wire.expect_written(b"w\r\n")?;
    ensure_eq!(TtyClient::new(&console).size(), Ok((80, 24)));
    rig.wire.type_keys(b"one\rtwo\r");
    ensure_eq!(first.join().map_err(|_| fail())?, Ok(b"one\n".to_vec()));
    ensure_eq!(second.join().map_err(|_| fail())?, Ok(b"two\n".to_vec()));
    // A read waiting on an open console that is closed ends BadDescriptor.
    let other = rig.console()?;
    let doomed = reader(&other, 64)?;
    rt::time::sleep(SETTLE);
    ensure_eq!(FileClient::new(&other).close(), Ok(()));
    ensure_eq!(
        doomed.join().map_err(|_| fail())?,
        Err(FsError::BadDescriptor)
    );
    Ok(())
}

/// ^C and ^\ in cooked mode answer every `wait_signal` caller, discard the
/// pending line and echo; in raw mode ^C is a byte for readers and the
/// waiters keep waiting.
pub fn signals_answer_every_waiter() -> TestResult {
    let rig = Rig::start()?;
    let console = rig.console()?;
    let a = signal_waiter(&console)?;
    let b = signal_waiter(&console)?;
    let line_reader = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    rig.wire.type_keys(b"sleep 10\x03");
    rig.wire.expect_written(b"sleep 10^C\r\n")?;
    ensure_eq!(a.join().map_err(|_| fail())?, Ok(Signal::Interrupt));
    ensure_eq!(b.join().map_err(|_| fail())?, Ok(Signal::Interrupt));
    let quit = signal_waiter(&console)?;
    rt::time::sleep(SETTLE);
    rig.wire.type_keys(b"\x1c");
    rig.wire.expect_written(b"^\\\r\n")?;
    ensure_eq!(quit.join().map_err(|_| fail())?, Ok(Signal::Quit));
    // The discarded line never reached the reader; the next one does.
    rig.wire.type_keys(b"next\r");
    ensure_eq!(
        line_reader.join().map_err(|_| fail())?,
        Ok(b"next\n".to_vec())
    );
    // Raw: ^C is input, the waiter goes on waiting.
    let mut tty = TtyClient::new(&console);
    ensure_eq!(tty.set_mode(Mode::Raw), Ok(Mode::Cooked));
    let done = Arc::new(AtomicBool::new(false));
    let copy = console
        .copy(Rights::WRITE | Rights::GRANT)
        .map_err(|_| fail())?;
    let flag = done.clone();
    let waiter = rt::thread::spawn(move || {
        let got = TtyClient::new(&copy).wait_signal();
        flag.store(true, Ordering::SeqCst);
        got
    })
    .map_err(|_| fail())?;
    rt::time::sleep(SETTLE);
    rig.wire.type_keys(b"\x03");
    ensure_eq!(read(&console, 64), Ok(b"\x03".to_vec()));
    rt::time::sleep(SETTLE);
    ensure!(!done.load(Ordering::SeqCst));
    ensure_eq!(tty.set_mode(Mode::Cooked), Ok(Mode::Raw));
    rig.wire.type_keys(b"\x03");
    ensure_eq!(waiter.join().map_err(|_| fail())?, Ok(Signal::Interrupt));
    Ok(())
}

/// Raw mode: escape sequences, UTF-8 and control bytes reach the reader
/// exactly as typed, with no echo; output is not translated; the line
/// pending when raw mode starts becomes readable.
pub fn raw_mode_passes_bytes_intact() -> TestResult {
    let rig = Rig::start()?;
    let console = rig.console()?;
    rig.wire.type_keys(b"pend");
    rig.wire.expect_written(b"pend")?;
    let mut tty = TtyClient::new(&console);
    ensure_eq!(tty.set_mode(Mode::Raw), Ok(Mode::Cooked));
    ensure_eq!(read(&console, 64), Ok(b"pend".to_vec()));
    let keys = "\x1b[A\x1b[1;5C\x1bOH\u{e9}\u{20ac}\r\x7f\x04\x15".as_bytes();
    let waiting = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    rig.wire.type_keys(keys);
    let mut got = waiting.join().map_err(|_| fail())?.map_err(|_| fail())?;
    // Bytes typed in one go may come in more than one read.
    while got.len() < keys.len() {
        got.extend(read(&console, 64).map_err(|_| fail())?);
    }
    ensure_eq!(got.as_slice(), keys);
    ensure_eq!(write(&console, b"a\nb\r\n"), Ok(5));
    rig.wire.expect_written(b"a\nb\r\n")?;
    ensure_eq!(tty.set_mode(Mode::Cooked), Ok(Mode::Raw));
    Ok(())
}

/// A program killed while its read waits in the console: the server is
/// not harmed, the line typed next goes to the next reader (the dead one
/// took nothing), and every frame comes back.
pub fn reader_killed_while_waiting() -> TestResult {
    killed_round()?;
    let before = free_frames()?;
    killed_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn killed_round() -> TestResult {
    let rig = Rig::start()?;
    let console = rig.console()?;
    // `probe cat` with the console as stdin and stdout.
    let given = FileClient::new(&console).dup("").map_err(|_| fail())?;
    let given = Endpoint::from_raw(given.into_raw());
    let out = FileClient::new(&console).dup("").map_err(|_| fail())?;
    let out = Endpoint::from_raw(out.into_raw());
    let grants = [
        Grant {
            slot: given.slot(),
            rights: Rights::WRITE | Rights::GRANT,
            kind: FILE,
            name: "stdin",
        },
        Grant {
            slot: out.slot(),
            rights: Rights::WRITE | Rights::GRANT,
            kind: FILE,
            name: "stdout",
        },
    ];
    let child = Spawn::new(program("bin/probe").ok_or_else(fail)?)
        .args(&["probe", "cat"])
        .grants(&grants)
        .spawn()
        .map_err(|_| fail())?;
    drop((given, out));
    // cat echoes a line, then waits for the next.
    rig.wire.type_keys(b"first\r");
    rig.wire.expect_written(b"first\r\nfirst\r\n")?;
    rt::time::sleep(SETTLE);
    child.kill();
    rig.wire.type_keys(b"second\r");
    rig.wire.expect_written(b"second\r\n")?;
    ensure_eq!(read(&console, 64), Ok(b"second\n".to_vec()));
    ensure_eq!(write(&console, b"alive\n"), Ok(6));
    rig.wire.expect_written(b"alive\r\n")?;
    drop(console);
    drop(rig);
    Ok(())
}

/// The terminal's driver restarted under the console (the wire's waiting
/// read ends with `PeerClosed`): the console reads again from the next
/// instance, a read waiting in the console meanwhile is answered from it,
/// and the console turns the new driver's CRLF off again.
pub fn survives_a_terminal_restart() -> TestResult {
    let mut rig = Rig::start()?;
    let console = rig.console()?;
    let waiting = reader(&console, 64)?;
    rt::time::sleep(SETTLE);
    for round in 0..3u8 {
        rig.restart_wire()?;
        rig.wire.until_reading()?;
        ensure_eq!(rig.wire.flags() & flags::CRLF, 0);
        ensure_eq!(write(&console, &[b'0' + round, b'\n']), Ok(2));
        rig.wire.expect_written(&[b'0' + round, b'\r', b'\n'])?;
    }
    rig.wire.type_keys(b"back\r");
    rig.wire.expect_written(b"back\r\n")?;
    ensure_eq!(waiting.join().map_err(|_| fail())?, Ok(b"back\n".to_vec()));
    Ok(())
}

/// The console killed while reads and signal calls wait in it: each ends
/// with `BadDescriptor` / `PeerClosed`, and every frame comes back.
pub fn killed_under_waiting_callers() -> TestResult {
    let before = free_frames()?;
    let mut rig = Rig::start()?;
    let console = rig.console()?;
    let waiting = reader(&console, 64)?;
    let signal = signal_waiter(&console)?;
    rt::time::sleep(SETTLE);
    if let Some(child) = rig.child.take() {
        child.kill();
    }
    ensure_eq!(
        waiting.join().map_err(|_| fail())?,
        Err(FsError::BadDescriptor)
    );
    ensure_eq!(signal.join().map_err(|_| fail())?, Err(Error::PeerClosed));
    drop(console);
    drop(rig);
    ensure_eq!(free_frames()?, before);
    Ok(())
}
