//! Processes through the process server (`servers/proc`, the `process`
//! crate): spawn, wait, kill, exit statuses and faults, orphans, what a
//! child inherits, budgets, a fork bomb, and frame counts.

use files::File;
use process::{Command, End, Pid, ProcError, Stdio};
use rt::Handle;
use rt::time::Duration;

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

const PROBE: &str = "/bin/probe";

/// Starts `probe ARGS..`.
fn probe(args: &[&str]) -> Result<process::Process, ProcError> {
    let mut argv = alloc::vec!["probe"];
    argv.extend_from_slice(args);
    Command::new(PROBE).args(&argv).spawn()
}

/// Runs `probe ARGS..` to its end.
fn run(args: &[&str]) -> Result<End, ProcError> {
    probe(args)?.wait()
}

/// Free frames after one spawn (whose first run may grow this program's
/// heap and caches for good).
fn warm_frames() -> Result<u64, super::Failure> {
    run(&["exit", "0"]).map_err(|_| fail())?;
    free_frames()
}

/// Uses a direct pipe once (docs/files.md "Direct pipes"), so that the
/// page tables of the first ring mappings (this program's and the pipe
/// server's, kept for later rings) are not counted against a test run
/// alone.
fn warm_pipes() -> TestResult {
    let mut read = File::open_read("pipe:").map_err(|_| fail())?;
    let mut write = read.dup("write").map_err(|_| fail())?;
    ensure_eq!(write.write(b"w"), Ok(1));
    let mut byte = [0u8; 1];
    ensure_eq!(read.read(&mut byte), Ok(1));
    Ok(())
}

/// Exit statuses come back; the child is a process of its own under the
/// caller; a second wait finds nothing; every frame comes back.
pub fn spawn_and_exit_codes() -> TestResult {
    ensure_eq!(run(&["exit", "0"]), Ok(End::Exited(0)));
    let before = warm_frames()?;
    for code in [0u64, 1, 7, 255] {
        let text = alloc::format!("{code}");
        ensure_eq!(run(&["exit", &text]), Ok(End::Exited(code)));
    }
    let child = probe(&["ids"]).map_err(|_| fail())?;
    ensure!(child.pid().0 > 1);
    ensure_eq!(child.wait(), Ok(End::Exited(0)));
    ensure_eq!(child.wait(), Err(ProcError::NoSuchProcess));
    ensure_eq!(child.kill(), Err(ProcError::NoSuchProcess));
    // A panic is status 101.
    ensure_eq!(run(&["panic-thread"]), Ok(End::Exited(101)));
    drop(child);
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A program file in ramfs (which cannot share its memory) is read and
/// loaded all the same; initfs shares the initramfs, read-only, and
/// neither a directory nor ramfs maps.
pub fn spawn_from_ramfs_and_map() -> TestResult {
    // The first round grows this program's heap (the copy is read into
    // it) for good; the second must give back all it takes.
    map_and_copy()?;
    let before = free_frames()?;
    map_and_copy()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// One round of [`spawn_from_ramfs_and_map`].
fn map_and_copy() -> TestResult {
    let probe_file = File::open_read(PROBE).map_err(|_| fail())?;
    let (memory, offset, len) = probe_file.map().map_err(|_| fail())?;
    let info = rt::sys::cap_info(memory).map_err(|_| fail())?;
    ensure_eq!(
        info.object_type,
        abi::ObjectType::MemoryObject.to_reg() as u32
    );
    ensure_eq!(info.rights & abi::Rights::WRITE.bits(), 0);
    ensure_eq!(offset % 4096, 0);
    ensure_eq!(len, probe_file.metadata().map_err(|_| fail())?.size);
    ensure_eq!(rt::sys::cap_delete(memory), Ok(()));
    let dir = File::open("/bin", files::OpenFlags::READ | files::OpenFlags::DIRECTORY);
    ensure_eq!(
        dir.map_err(|_| fail())?.map().map(|_| ()),
        Err(files::FsError::IsADirectory)
    );
    // Copy the program into /tmp and run it from there.
    let mut bytes = alloc::vec::Vec::new();
    let mut source = File::open_read(PROBE).map_err(|_| fail())?;
    source.read_to_end(&mut bytes).map_err(|_| fail())?;
    let mut copy = File::create("/tmp/probe-copy").map_err(|_| fail())?;
    copy.write_all(&bytes).map_err(|_| fail())?;
    ensure_eq!(copy.map().map(|_| ()), Err(files::FsError::NotSupported));
    drop((copy, source, bytes, probe_file));
    let child = Command::new("/tmp/probe-copy")
        .args(&["probe", "exit", "6"])
        .spawn()
        .map_err(|_| fail())?;
    ensure_eq!(child.wait(), Ok(End::Exited(6)));
    ensure_eq!(files::remove_file("/tmp/probe-copy"), Ok(()));
    // A file that is no ELF program, in ramfs.
    File::create("/tmp/not-elf")
        .map_err(|_| fail())?
        .write_all(b"#!/bin/sh\n")
        .map_err(|_| fail())?;
    ensure_eq!(
        Command::new("/tmp/not-elf").spawn().map(|_| ()),
        Err(ProcError::NotExecutable)
    );
    ensure_eq!(files::remove_file("/tmp/not-elf"), Ok(()));
    Ok(())
}

/// Each documented error of spawn.
pub fn spawn_errors() -> TestResult {
    let before = warm_frames()?;
    let spawn = |path: &str| Command::new(path).spawn().map(|_| ());
    ensure_eq!(spawn("/bin/no-such-program"), Err(ProcError::NotFound));
    ensure_eq!(spawn("/bin"), Err(ProcError::NotExecutable));
    ensure_eq!(spawn("/etc/system.bin"), Err(ProcError::NotExecutable));
    ensure_eq!(spawn("nowhere:x"), Err(ProcError::NotFound));
    let tiny = Command::new(PROBE).budget(8).spawn().map(|_| ());
    ensure_eq!(tiny, Err(ProcError::OutOfMemory));
    let huge = Command::new(PROBE).budget(1 << 40).spawn().map(|_| ());
    ensure_eq!(huge, Err(ProcError::OutOfMemory));
    // A budget too small to load the program in: refused cleanly.
    let small = Command::new(PROBE)
        .args(&["probe", "exit", "3"])
        .budget(100)
        .spawn();
    match small {
        Ok(child) => ensure!(child.wait().is_ok()),
        Err(error) => ensure_eq!(error, ProcError::OutOfMemory),
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// wait, try_wait and kill: each result and each error.
pub fn wait_and_kill() -> TestResult {
    let before = warm_frames()?;
    ensure_eq!(process::wait_any(), Err(ProcError::NoChildren));
    ensure_eq!(process::try_wait_any(), Err(ProcError::NoChildren));
    let sleeper = probe(&["sleep"]).map_err(|_| fail())?;
    ensure_eq!(sleeper.try_wait(), Ok(None));
    ensure_eq!(process::try_wait_any(), Ok(None));
    ensure_eq!(sleeper.kill(), Ok(()));
    ensure_eq!(sleeper.kill(), Err(ProcError::NotRunning));
    ensure_eq!(sleeper.try_wait(), Ok(Some(End::Killed)));
    // wait_any picks whichever ended.
    let a = probe(&["exit", "5"]).map_err(|_| fail())?;
    let b = probe(&["sleep"]).map_err(|_| fail())?;
    ensure_eq!(process::wait_any(), Ok((a.pid(), End::Exited(5))));
    ensure_eq!(b.kill(), Ok(()));
    ensure_eq!(process::wait_any(), Ok((b.pid(), End::Killed)));
    ensure_eq!(process::wait_any(), Err(ProcError::NoChildren));
    // A blocked wait is answered when the child ends later.
    let napper = probe(&["nap", "30", "9"]).map_err(|_| fail())?;
    ensure_eq!(napper.wait(), Ok(End::Exited(9)));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// fork: the child runs on a copy of the memory (its changes are its
/// own), shares the files open before (its own objects, the same offset)
/// and reports its exit to its parent; every frame comes back.
pub fn fork_basics() -> TestResult {
    let before = warm_frames()?;
    ensure_eq!(run(&["fork"]), Ok(End::Exited(0)));
    ensure_eq!(run(&["fork"]), Ok(End::Exited(0)));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// exec: the process runs another program in place (same pid, its parent
/// learns the new program's status), keeping the streams it passes; an
/// exec that cannot happen returns its error and changes nothing; fork
/// then exec then wait; every frame comes back.
pub fn exec_basics() -> TestResult {
    warm_pipes()?;
    let before = warm_frames()?;
    let execs = probe(&["exec", "/bin/probe", "probe", "exit", "33"]).map_err(|_| fail())?;
    ensure_eq!(execs.wait(), Ok(End::Exited(33)));
    let not_found = 200 + u64::from(ProcError::NotFound.code() & 0x3f);
    ensure_eq!(run(&["exec", "/bin/nothing"]), Ok(End::Exited(not_found)));
    let not_elf = 200 + u64::from(ProcError::NotExecutable.code() & 0x3f);
    ensure_eq!(run(&["exec", "/etc/system.bin"]), Ok(End::Exited(not_elf)));
    ensure_eq!(run(&["fork-exec", "exit", "44"]), Ok(End::Exited(44)));
    // A crashing program after fork and exec: its parent learns the fault.
    ensure_eq!(run(&["fork-exec", "fault"]), Ok(End::Exited(139)));
    // The streams go on: an exec'd cat copies stdin to stdout.
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let mut write = read.dup("write").map_err(|_| fail())?;
    let mut out_read = File::open_read("pipe:").map_err(|_| fail())?;
    let out_write = out_read.dup("write").map_err(|_| fail())?;
    let cat = Command::new(PROBE)
        .args(&["probe", "exec", "/bin/probe", "probe", "cat"])
        .stdin(Stdio::File(read.endpoint().slot()))
        .stdout(Stdio::File(out_write.endpoint().slot()))
        .spawn()
        .map_err(|_| fail())?;
    drop((read, out_write));
    ensure_eq!(write.write(b"through exec"), Ok(12));
    drop(write);
    let mut back = alloc::vec::Vec::new();
    ensure!(out_read.read_to_end(&mut back).is_ok());
    ensure_eq!(&back[..], b"through exec");
    ensure_eq!(cat.wait(), Ok(End::Exited(0)));
    drop(out_read);
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A crash: the parent learns the fault (a page fault past the stack).
pub fn fault_reported() -> TestResult {
    let before = warm_frames()?;
    match run(&["fault"]) {
        Ok(End::Faulted { vector, .. }) => ensure_eq!(vector, 14),
        other => {
            rt::println!("    fault: {other:?}");
            return Err(fail());
        }
    }
    ensure_eq!(
        End::Faulted {
            vector: 14,
            kind: 0,
            rip: 0,
            addr: 0
        }
        .shell_status(),
        139
    );
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A child killed in the middle of a call to a server (a read of an
/// empty pipe): the server is not harmed, the pipe still works.
pub fn kill_mid_call() -> TestResult {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let mut write = read.dup("write").map_err(|_| fail())?;
    let (out_read, out_write) = {
        let r = File::open_read("pipe:").map_err(|_| fail())?;
        let w = r.dup("write").map_err(|_| fail())?;
        (r, w)
    };
    let before = warm_frames()?;
    let cat = Command::new(PROBE)
        .args(&["probe", "cat"])
        .stdin(Stdio::File(read.endpoint().slot()))
        .stdout(Stdio::File(out_write.endpoint().slot()))
        .spawn()
        .map_err(|_| fail())?;
    rt::thread::sleep(Duration::from_millis(20));
    ensure_eq!(cat.try_wait(), Ok(None));
    ensure_eq!(cat.kill(), Ok(()));
    ensure_eq!(cat.wait(), Ok(End::Killed));
    // The pipe server goes on: bytes still travel.
    ensure_eq!(write.write(b"abc"), Ok(3));
    let mut read = read;
    let mut buf = [0u8; 8];
    ensure_eq!(read.read(&mut buf), Ok(3));
    drop((out_read, out_write));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A child gets its own objects for the streams it is given (sharing the
/// offset, or the pipe end): its close at exit is not the caller's; a
/// pipe's reader sees the end of the file once the child's end closes
/// with the caller's.
pub fn stdio_is_the_childs_own() -> TestResult {
    stdio_round()?;
    let before = free_frames()?;
    stdio_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// One round of [`stdio_is_the_childs_own`].
fn stdio_round() -> TestResult {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let mut write = read.dup("write").map_err(|_| fail())?;
    let mut out = File::create("/tmp/stdio-test").map_err(|_| fail())?;
    let cat = Command::new(PROBE)
        .args(&["probe", "cat"])
        .stdin(Stdio::File(read.endpoint().slot()))
        .stdout(Stdio::File(out.endpoint().slot()))
        .spawn()
        .map_err(|_| fail())?;
    drop(read);
    ensure_eq!(write.write(b"hello"), Ok(5));
    drop(write);
    ensure_eq!(cat.wait(), Ok(End::Exited(0)));
    // Ours still works, at the offset the child's writes moved.
    ensure_eq!(out.write(b"!"), Ok(1));
    let mut back = alloc::vec::Vec::new();
    File::open_read("/tmp/stdio-test")
        .map_err(|_| fail())?
        .read_to_end(&mut back)
        .map_err(|_| fail())?;
    ensure_eq!(&back[..], b"hello!");
    drop(out);
    ensure_eq!(files::remove_file("/tmp/stdio-test"), Ok(()));
    Ok(())
}

/// A writer killed while a reader waits: the pipe server learns that the
/// killed process's end is gone (its lease ended) and the reader sees the
/// end of the file.
pub fn killed_writer_ends_the_pipe() -> TestResult {
    let mut read = File::open_read("pipe:").map_err(|_| fail())?;
    let write = read.dup("write").map_err(|_| fail())?;
    let writer = Command::new(PROBE)
        .args(&["probe", "sleep"])
        .stdout(Stdio::File(write.endpoint().slot()))
        .spawn()
        .map_err(|_| fail())?;
    drop(write);
    let reader = rt::thread::spawn(move || -> u64 {
        let mut buf = [0u8; 8];
        match read.read(&mut buf) {
            Ok(0) => 0,
            _ => 1,
        }
    })
    .map_err(|_| fail())?;
    rt::thread::sleep(Duration::from_millis(20));
    ensure_eq!(writer.kill(), Ok(()));
    ensure_eq!(writer.wait(), Ok(End::Killed));
    ensure_eq!(reader.join().map_err(|_| fail())?, 0);
    Ok(())
}

/// A process whose parent ends becomes init's and is reaped when it ends;
/// its memory (charged to the dead parent's budget) comes back then.
pub fn orphans_reaped() -> TestResult {
    let before = warm_frames()?;
    ensure_eq!(run(&["orphan"]), Ok(End::Exited(0)));
    let orphan = process::list()
        .map_err(|_| fail())?
        .into_iter()
        .find(|p| p.name == "probe" && p.parent == process::Pid(1) && !p.ended);
    ensure!(orphan.is_some());
    let orphan = orphan.map_or(Pid(0), |p| p.pid);
    // It naps 200 ms, then exits; init reaps it.
    let mut gone = false;
    for _ in 0..100 {
        rt::thread::sleep(Duration::from_millis(10));
        if !process::list()
            .map_err(|_| fail())?
            .iter()
            .any(|p| p.pid == orphan)
        {
            gone = true;
            break;
        }
    }
    ensure!(gone);
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// What a child gets: the namespace (or none), the current directory, the
/// process server (as a child, not a root), a grandchild's status back.
pub fn inheritance() -> TestResult {
    let before = warm_frames()?;
    ensure_eq!(run(&["ids"]), Ok(End::Exited(0)));
    ensure_eq!(run(&["open", "/bin/probe"]), Ok(End::Exited(0)));
    let sandboxed = Command::new(PROBE)
        .args(&["probe", "open", "/bin/probe"])
        .null_namespace()
        .spawn()
        .map_err(|_| fail())?;
    let no_namespace = u64::from(files::FsError::NoNamespace.code());
    ensure_eq!(sandboxed.wait(), Ok(End::Exited(no_namespace)));
    ensure_eq!(run(&["pwd", "/"]), Ok(End::Exited(0)));
    files::chdir("/tmp").map_err(|_| fail())?;
    let in_tmp = run(&["pwd", "/tmp"]);
    // Through exec and fork too.
    let exec_in_tmp = run(&["exec", "/bin/probe", "probe", "pwd", "/tmp"]);
    let fork_in_tmp = run(&["fork-exec", "pwd", "/tmp"]);
    files::chdir("/").map_err(|_| fail())?;
    ensure_eq!(in_tmp, Ok(End::Exited(0)));
    ensure_eq!(exec_in_tmp, Ok(End::Exited(0)));
    ensure_eq!(fork_in_tmp, Ok(End::Exited(0)));
    // A grandchild: the child spawns and waits, and passes the status up.
    ensure_eq!(run(&["spawn", "exit", "42"]), Ok(End::Exited(42)));
    ensure_eq!(run(&["spawn", "fault"]), Ok(End::Exited(139)));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A child that exhausts its budget gets an allocation error (and here
/// exits 0 having seen it); nobody else is affected.
pub fn budget_exhausted() -> TestResult {
    let before = warm_frames()?;
    let hog = Command::new(PROBE)
        .args(&["probe", "heap-exhaust"])
        .budget(512)
        .spawn()
        .map_err(|_| fail())?;
    ensure_eq!(hog.wait(), Ok(End::Exited(0)));
    ensure_eq!(run(&["exit", "3"]), Ok(End::Exited(3)));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A fork bomb: every copy is refused sooner or later with a clean error,
/// the system keeps working, and every frame comes back.
pub fn fork_bomb_contained() -> TestResult {
    let before = warm_frames()?;
    let bomb = Command::new(PROBE)
        .args(&["probe", "bomb"])
        .budget(2048)
        .spawn()
        .map_err(|_| fail())?;
    ensure_eq!(bomb.wait(), Ok(End::Exited(0)));
    ensure_eq!(run(&["exit", "4"]), Ok(End::Exited(4)));
    ensure!(File::open_read("/bin/probe").is_ok());
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// The process list shows children with their names and memory.
pub fn listed() -> TestResult {
    let child = probe(&["sleep"]).map_err(|_| fail())?;
    let list = process::list().map_err(|_| fail())?;
    let (me, _) = process::ids().map_err(|_| fail())?;
    let entry = list.iter().find(|p| p.pid == child.pid());
    ensure!(
        entry.is_some_and(|p| p.name == "probe"
            && p.parent == me
            && p.frames.is_some_and(|f| f > 0))
    );
    ensure!(list.iter().any(|p| p.pid == me));
    ensure_eq!(child.kill(), Ok(()));
    ensure_eq!(child.wait(), Ok(End::Killed));
    Ok(())
}

/// When init ends a session root (here: the `session` program of
/// system-test.toml, killed through the supervisor protocol), the table
/// keeps nothing of the session: neither the root nor what it started
/// (taken down with the root's budget, seen by the server through its
/// leases).
pub fn session_ended() -> TestResult {
    let (me, _) = process::ids().map_err(|_| fail())?;
    // The root and its child, once it has started it.
    let mut found = None;
    for _ in 0..200 {
        let list = process::list().map_err(|_| fail())?;
        found = list.iter().find_map(|child| {
            let root = list.iter().find(|root| {
                root.pid == child.parent
                    && root.pid != me
                    && root.name == "session"
                    && root.parent == Pid(1)
            })?;
            (child.name == "probe" && !child.ended).then_some((root.pid, child.pid))
        });
        if found.is_some() {
            break;
        }
        rt::thread::sleep(Duration::from_millis(10));
    }
    let (root, child) = found.ok_or_else(fail)?;
    let mut supervisor = super::supervision::supervisor()?;
    ensure_eq!(supervisor.kill("session"), Ok(()));
    let mut gone = false;
    for _ in 0..200 {
        let list = process::list().map_err(|_| fail())?;
        if !list.iter().any(|p| p.pid == root || p.pid == child) {
            gone = true;
            break;
        }
        rt::thread::sleep(Duration::from_millis(10));
    }
    ensure!(gone);
    // This session is untouched.
    ensure_eq!(run(&["exit", "3"]), Ok(End::Exited(3)));
    ensure_eq!(process::ids().map(|(pid, _)| pid), Ok(me));
    Ok(())
}

/// Spawn and kill a thousand times: frame counts equal after.
pub fn spawn_kill_cycles() -> TestResult {
    let cycle = || -> TestResult {
        let child = probe(&["sleep"]).map_err(|_| fail())?;
        ensure_eq!(child.kill(), Ok(()));
        ensure_eq!(child.wait(), Ok(End::Killed));
        Ok(())
    };
    cycle()?;
    let before = warm_frames()?;
    for _ in 0..1000 {
        cycle()?;
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
