//! A program the tests load to look at the runtime from inside a process
//! of its own. Its first argument picks what it does; its exit status
//! says how it went:
//!
//! - `exit N`: exits with status N;
//! - `args`: exits with 100 * (arguments) + (environment strings), after
//!   checking that `KEY=value` strings look like that;
//! - `panic-thread`: a second thread panics while the first sleeps: the
//!   process must end with status 101;
//! - `heap-exhaust`: grows a vector until the budget runs out; exits 0 if
//!   that came back as an allocation error (a fault would end it otherwise);
//! - `threads`: threads with thread-local values and locks; exits 0 if all
//!   agree;
//! - `sleep`: sleeps for ever (for kill tests);
//! - `pipe-lock`: takes the lock of its `stdin` pipe's ring, says so on
//!   `stdout`, and sleeps for ever (a direct pipe end killed inside it);
//! - `hold`: receives one call on its `SERVICE` endpoint and never answers
//!   it (a server that dies mid-call, once the parent kills it);
//! - `serve-once N`: answers one call on its `SERVICE` endpoint (word 0
//!   plus one), then exits with status N (a server that a supervisor
//!   restarts, or not, after each call);
//! - `caps`: reports every capability it holds, one call each on its
//!   `CLIENT` endpoint named `report` (label [`CAP_LABEL`], words: slot,
//!   object type, rights, badge), then one call with label [`END_LABEL`]
//!   and the count; exits 0 once all were answered;
//! - `fork-caps KEEP DROP`: puts a notification in the slot of its
//!   service DROP and forks; the child exits 0 if it holds KEEP as an
//!   endpoint with `WRITE | GRANT` and nothing at DROP's slot (a fork
//!   passes on only the services that are still grantable endpoints), 20
//!   or 21 if not; the parent exits with the child's status;
//! - `open PATH`: opens PATH for reading through its namespace
//!   (`files`); exits 0 if that worked, else with the error's code
//!   (`fscore::FsError::code`);
//! - `cat`: copies its `stdin` file to its `stdout` file until the end
//!   of `stdin`; exits 0, or with the error's code (a broken pipe, say);
//! - `sink N`: reads N bytes of `stdin`, then writes one byte to
//!   `stdout`, again and again until the end of `stdin` (the other side
//!   of the `pipe_throughput_64k` benchmark);
//! - the process modes (`procs.rs`): `fault`, `nap MS N`, `spawn ARGS..`,
//!   `orphan`, `bomb`, `pwd DIR`, `ids`, `fork`, `exec PATH ARGS..`,
//!   `fork-exec ARGS..`, `bench-fork N exit|exec`, `spawn-hold` (starts
//!   `probe sleep` and sleeps itself, for ever);
//! - `write-at PATH START BYTE RUNS`: opens PATH read-write (made if
//!   missing) and writes RUNS runs of [`RUN_BYTES`] bytes of BYTE with
//!   `write_at`, at START, START + 2 * RUN_BYTES, ..., yielding after
//!   each (so that two such programs interleave); exits 0, or with the
//!   error's code;
//! - `write-out BYTE WRITES`: WRITES plain `write`s of [`WRITE_BYTES`]
//!   bytes of BYTE to its inherited file `out` (whose offset it may share
//!   with others), yielding after each; exits 0, or with the error's code;
//! - `fill PATH SEED LEN`: creates PATH holding LEN bytes of
//!   [`pattern`]`(SEED)`; exits 0, or with the error's code;
//! - `check PATH SEED LEN`: exits 0 if PATH holds exactly LEN bytes of
//!   [`pattern`]`(SEED)`, 1 if it holds anything else, or the error's
//!   code.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;

mod procs;

use rt::sync::Mutex;
use rt::thread::{self, Local};
use rt::time::Duration;

rt::entry!(main);

fn main() -> u64 {
    let args: Vec<&str> = rt::process::args().collect();
    match args.get(1).copied() {
        Some("exit") => args.get(2).and_then(|n| n.parse().ok()).unwrap_or(255),
        Some("args") => {
            let env: Vec<&str> = rt::process::env().collect();
            if env.iter().any(|e| !e.contains('=')) {
                return 254;
            }
            100 * args.len() as u64 + env.len() as u64
        }
        Some("panic-thread") => {
            let _worker = thread::spawn(|| -> u64 { panic!("on purpose") });
            loop {
                thread::sleep(Duration::from_secs(1));
            }
        }
        Some("heap-exhaust") => heap_exhaust(),
        Some("threads") => threads(),
        Some("hold") => hold(),
        Some("caps") => caps(),
        Some("fork-caps") => fork_caps(args.get(2).copied(), args.get(3).copied()),
        Some("cat") => cat(),
        Some("pipe-lock") => pipe_lock(),
        Some("sink") => sink(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1)),
        Some("open") => match files::File::open_read(args.get(2).copied().unwrap_or("")) {
            Ok(_) => 0,
            Err(error) => u64::from(error.code()),
        },
        Some("write-at") => write_runs(&args),
        Some("write-out") => write_out(&args),
        Some("fill") => fill(&args),
        Some("check") => check(&args),
        Some("serve-once") => serve_once(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(255)),
        Some("fault") => procs::fault(),
        Some("nap") => procs::nap(&args[2..]),
        Some("spawn") => procs::spawn(&args[2..]),
        Some("orphan") => procs::orphan(),
        Some("spawn-hold") => procs::spawn_hold(),
        Some("bomb") => procs::bomb(),
        Some("pwd") => procs::pwd(args.get(2).copied().unwrap_or("")),
        Some("ids") => procs::ids(),
        Some("fork") => procs::fork(),
        Some("exec") => procs::exec(&args[2..]),
        Some("fork-exec") => procs::fork_exec(&args[2..]),
        Some("bench-fork") => procs::bench_fork(&args[2..]),
        Some("sleep") => loop {
            thread::sleep(Duration::from_secs(1));
        },
        _ => 253,
    }
}

/// Grows the heap until the budget cannot pay; 0 if that was an error.
fn heap_exhaust() -> u64 {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..100_000 {
        let mut block: Vec<u8> = Vec::new();
        if block.try_reserve_exact(256 * 1024).is_err() {
            return if blocks.is_empty() { 2 } else { 0 };
        }
        block.resize(256 * 1024, 1);
        if blocks.try_reserve(1).is_err() {
            return 0;
        }
        blocks.push(block);
    }
    1
}

/// Thread-local values and a shared lock across a few threads.
fn threads() -> u64 {
    static MINE: Local<Cell<u64>> = Local::new(|| Cell::new(0));
    let total = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (1..=4u64)
        .map(|i| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                MINE.with(|m| m.set(i * 10));
                for _ in 0..100 {
                    *total.lock() += 1;
                }
                MINE.with(Cell::get)
            })
        })
        .collect();
    let mut seen = 0;
    for (i, worker) in workers.into_iter().enumerate() {
        match worker.map(|w| w.join()) {
            Ok(Ok(value)) if value == (i as u64 + 1) * 10 => seen += 1,
            _ => return 3,
        }
    }
    if seen == 4 && *total.lock() == 400 && MINE.with(Cell::get) == 0 {
        0
    } else {
        4
    }
}

/// Answers one call on the SERVICE endpoint, then ends with `status`.
fn serve_once(status: u64) -> u64 {
    use rt::Handle;
    let Some(slot) =
        rt::start::startup_info().and_then(|i| i.handle(abi::startup::handle::SERVICE))
    else {
        return 5;
    };
    let endpoint = rt::ipc::Endpoint::from_raw(slot);
    let mut message = rt::ipc::Message::new(0);
    if endpoint.recv(&mut message).is_err() {
        return 6;
    }
    let answer = rt::ipc::Message::with_words(0, &[message.word(0).wrapping_add(1)]);
    if rt::ipc::reply(&answer).is_err() {
        return 7;
    }
    status
}

/// Label of one capability's report in `caps` mode.
const CAP_LABEL: u64 = 1;
/// Label of the last report in `caps` mode.
const END_LABEL: u64 = 2;

/// Reports every capability in its capability space to `report`.
fn caps() -> u64 {
    use rt::Handle;
    let Some(slot) = rt::start::startup_info()
        .and_then(|i| i.handle_named(abi::startup::handle::CLIENT, "report"))
    else {
        return 7;
    };
    let report = rt::ipc::Endpoint::from_raw(slot);
    let mut count = 0;
    // The loader gives at most 4,096 slots; an empty one is an error.
    for index in 1..4096u32 {
        let Ok(info) = rt::sys::cap_info(abi::CapSlot(index)) else {
            continue;
        };
        let mut message = rt::ipc::Message::with_words(
            CAP_LABEL,
            &[
                u64::from(index),
                u64::from(info.object_type),
                u64::from(info.rights),
                info.badge,
            ],
        );
        if report.call(&mut message).is_err() {
            return 8;
        }
        count += 1;
    }
    let mut end = rt::ipc::Message::with_words(END_LABEL, &[count]);
    if report.call(&mut end).is_err() {
        return 9;
    }
    0
}

/// `fork-caps KEEP DROP` (see the module docs).
fn fork_caps(keep: Option<&str>, drop: Option<&str>) -> u64 {
    use abi::CapSlot;
    use abi::startup::handle::CLIENT;
    let named =
        |name: Option<&str>| rt::start::startup_info().and_then(|i| i.handle_named(CLIENT, name?));
    let (Some(keep), Some(drop)) = (named(keep), named(drop)) else {
        return 10;
    };
    let note = rt::sys::notification_create(rt::process::own_caps().budget);
    let placed = note.and_then(|note| {
        rt::sys::cap_delete(drop)?;
        rt::sys::cap_move(note, CapSlot::NULL, drop)
    });
    if placed != Ok(drop) {
        return 11;
    }
    match process::fork() {
        Ok(process::Fork::Child) => {
            let endpoint = abi::ObjectType::Endpoint.to_reg() as u32;
            let client = (abi::Rights::WRITE | abi::Rights::GRANT).bits();
            match (rt::sys::cap_info(keep), rt::sys::cap_info(drop)) {
                (Ok(info), Err(abi::SysError::InvalidCap))
                    if info.object_type == endpoint && info.rights == client =>
                {
                    0
                }
                (Ok(_), Err(_)) => 20,
                _ => 21,
            }
        }
        Ok(process::Fork::Parent(child)) => match child.wait() {
            Ok(process::End::Exited(status)) => status,
            _ => 12,
        },
        Err(_) => 13,
    }
}

/// Takes one call on the SERVICE endpoint and sits on it.
fn hold() -> u64 {
    use rt::Handle;
    let Some(slot) =
        rt::start::startup_info().and_then(|i| i.handle(abi::startup::handle::SERVICE))
    else {
        return 5;
    };
    let endpoint = rt::ipc::Endpoint::from_raw(slot);
    let mut message = rt::ipc::Message::new(0);
    if endpoint.recv(&mut message).is_err() {
        return 6;
    }
    loop {
        thread::sleep(Duration::from_secs(1));
    }
}

/// `cat`: `stdin` to `stdout` until the end of `stdin`.
fn cat() -> u64 {
    let (Some(mut input), Some(mut output)) = (
        files::File::inherited("stdin"),
        files::File::inherited("stdout"),
    ) else {
        return 250;
    };
    let mut buf = [0u8; 512];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return 0,
            Ok(n) => n,
            Err(error) => return u64::from(error.code()),
        };
        if let Err(error) = output.write_all(&buf[..n]) {
            return u64::from(error.code());
        }
    }
}

/// `pipe-lock`: puts its `stdin` pipe end in direct mode by hand (the
/// raw `attach_pipe`), takes the ring's lock and keeps it, writes `L` to
/// `stdout` and sleeps for ever: an end killed while holding the lock
/// (`pipes_direct` tests). Exits 3 to 5 when a step fails.
fn pipe_lock() -> u64 {
    use core::sync::atomic::Ordering::SeqCst;
    use fscore::pipe_ring::word;
    use rt::memory::MemoryObject;
    let (Some(end), Some(mut output)) = (
        files::File::inherited("stdin"),
        files::File::inherited("stdout"),
    ) else {
        return 250;
    };
    let answer = protocols::file::FileClient::new(end.endpoint()).attach_pipe();
    let Ok((memory, id, _)) = answer else {
        return 3;
    };
    let memory: MemoryObject = memory.into_handle();
    let Ok(header) = rt::shared::SharedRegion::map(&memory, 0, 0x0000_3600_0000_0000, 1) else {
        return 4;
    };
    if header.words()[word::LOCK]
        .compare_exchange(0, id, SeqCst, SeqCst)
        .is_err()
    {
        return 5;
    }
    let _ = output.write_all(b"L");
    loop {
        thread::sleep(Duration::from_secs(1));
    }
}

/// `sink N`: N bytes in, one byte out, until the end of `stdin`.
fn sink(chunk: usize) -> u64 {
    let (Some(mut input), Some(mut output)) = (
        files::File::inherited("stdin"),
        files::File::inherited("stdout"),
    ) else {
        return 250;
    };
    // As large as the pipe, so that a pipe's worth is one read (through
    // the end's data area), as the Linux side reads it.
    let mut buf = alloc::vec![0u8; 64 * 1024];
    loop {
        let mut got = 0;
        while got < chunk {
            match input.read(&mut buf) {
                Ok(0) => return 0,
                Ok(n) => got += n,
                Err(error) => return u64::from(error.code()),
            }
        }
        if let Err(error) = output.write_all(b"!") {
            return u64::from(error.code());
        }
    }
}

/// Bytes in one run of `write-at`.
pub const RUN_BYTES: usize = 256;
/// Bytes in one write of `write-out`.
pub const WRITE_BYTES: usize = 100;

/// Argument `index` as a number, or `None`.
fn number(args: &[&str], index: usize) -> Option<u64> {
    args.get(index).and_then(|n| n.parse().ok())
}

/// Byte `index` of the pattern `seed` (the test runner makes the same).
fn pattern(seed: u64, index: usize) -> u8 {
    ((index as u64).wrapping_mul(31).wrapping_add(seed) % 251) as u8
}

/// `write-at PATH START BYTE RUNS`.
fn write_runs(args: &[&str]) -> u64 {
    let (Some(path), Some(start), Some(byte), Some(runs)) = (
        args.get(2),
        number(args, 3),
        number(args, 4),
        number(args, 5),
    ) else {
        return 249;
    };
    let flags = files::OpenFlags::READ | files::OpenFlags::WRITE | files::OpenFlags::CREATE;
    let file = match files::File::open(path, flags) {
        Ok(file) => file,
        Err(error) => return u64::from(error.code()),
    };
    let run = [byte as u8; RUN_BYTES];
    for index in 0..runs {
        let offset = start + index * 2 * RUN_BYTES as u64;
        match file.write_at(offset, &run) {
            Ok(RUN_BYTES) => {}
            Ok(_) => return 248,
            Err(error) => return u64::from(error.code()),
        }
        thread::yield_now();
    }
    0
}

/// `write-out BYTE WRITES`.
fn write_out(args: &[&str]) -> u64 {
    let (Some(byte), Some(writes)) = (number(args, 2), number(args, 3)) else {
        return 249;
    };
    let Some(mut out) = files::File::inherited("out") else {
        return 250;
    };
    let chunk = [byte as u8; WRITE_BYTES];
    for _ in 0..writes {
        match out.write(&chunk) {
            Ok(WRITE_BYTES) => {}
            Ok(_) => return 248,
            Err(error) => return u64::from(error.code()),
        }
        thread::yield_now();
    }
    0
}

/// `fill PATH SEED LEN`.
fn fill(args: &[&str]) -> u64 {
    let (Some(path), Some(seed), Some(len)) = (args.get(2), number(args, 3), number(args, 4))
    else {
        return 249;
    };
    let data: Vec<u8> = (0..len as usize).map(|i| pattern(seed, i)).collect();
    match files::File::create(path).and_then(|mut file| file.write_all(&data)) {
        Ok(()) => 0,
        Err(error) => u64::from(error.code()),
    }
}

/// `check PATH SEED LEN`.
fn check(args: &[&str]) -> u64 {
    let (Some(path), Some(seed), Some(len)) = (args.get(2), number(args, 3), number(args, 4))
    else {
        return 249;
    };
    let mut data = Vec::new();
    if let Err(error) =
        files::File::open_read(path).and_then(|mut file| file.read_to_end(&mut data))
    {
        return u64::from(error.code());
    }
    let expected = (0..len as usize).map(|i| pattern(seed, i));
    u64::from(data.len() != len as usize || !data.iter().copied().eq(expected))
}
