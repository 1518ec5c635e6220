//! The probe's process modes: what the process tests need a child (or a
//! grandchild) to do.

use process::{Command, End, ProcError};
use rt::thread;
use rt::time::Duration;

/// `fault`: recurses until the stack runs into the unmapped page below
/// it: a page fault (vector 14) that nobody handles, so its parent learns
/// the fault (this crate has no unsafe code to fault more directly).
pub fn fault() -> u64 {
    deeper(core::hint::black_box(1))
}

fn deeper(n: u64) -> u64 {
    if n == u64::MAX {
        return 0;
    }
    let frame = core::hint::black_box([n; 64]);
    deeper(frame[0].wrapping_add(1)).wrapping_add(frame[63])
}

/// `nap MS N`: sleeps MS milliseconds, then exits with N.
pub fn nap(args: &[&str]) -> u64 {
    let ms = args.first().and_then(|n| n.parse().ok()).unwrap_or(10);
    thread::sleep(Duration::from_millis(ms));
    args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// `spawn ARGS..`: starts `bin/probe ARGS..` as a child, waits for it and
/// exits with its shell status (200 + the error code's low byte if the
/// spawn or the wait failed).
pub fn spawn(args: &[&str]) -> u64 {
    let mut argv = alloc::vec![("probe")];
    argv.extend_from_slice(args);
    match Command::new("/bin/probe").args(&argv).spawn() {
        Ok(child) => match child.wait() {
            Ok(end) => end.shell_status(),
            Err(error) => failed(error),
        },
        Err(error) => failed(error),
    }
}

/// `spawn-hold`: starts `probe sleep` through the process server, then
/// sleeps for ever (init's `session` program: the process tests end it
/// through init and look for what the table keeps of it).
pub fn spawn_hold() -> u64 {
    let child = match Command::new("/bin/probe")
        .args(&["probe", "sleep"])
        .budget(256)
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return failed(error),
    };
    loop {
        rt::thread::sleep(rt::time::Duration::from_secs(1));
        if child.try_wait().is_err() {
            return 1;
        }
    }
}

/// `orphan`: starts `probe nap 200 7` and exits at once with 0, leaving
/// it to init.
pub fn orphan() -> u64 {
    match Command::new("/bin/probe")
        .args(&["probe", "nap", "200", "7"])
        .spawn()
    {
        Ok(_) => 0,
        Err(error) => failed(error),
    }
}

/// `bomb`: starts copies of itself until refused, each of which does the
/// same, then waits for them all; 0 once every refusal was a clean error.
pub fn bomb() -> u64 {
    let mut children = alloc::vec::Vec::new();
    loop {
        match Command::new("/bin/probe").args(&["probe", "bomb"]).spawn() {
            Ok(child) => children.push(child),
            Err(ProcError::OutOfMemory | ProcError::SessionFull | ProcError::TableFull) => break,
            Err(error) => return failed(error),
        }
    }
    let mut status = 0;
    for child in children {
        match child.wait() {
            Ok(End::Exited(0)) => {}
            Ok(end) => {
                rt::println!("probe bomb: a copy {end}");
                status = 1;
            }
            Err(error) => return failed(error),
        }
    }
    status
}

/// `pwd DIR`: 0 if the current directory is DIR, else 1.
pub fn pwd(expected: &str) -> u64 {
    u64::from(files::getcwd() != expected)
}

/// `ids`: 0 if the process server knows it, as a child of a process
/// (not of init), else 1.
pub fn ids() -> u64 {
    match process::ids() {
        Ok((pid, parent)) if pid.0 > 1 && parent.0 > 1 && parent != pid => 0,
        _ => 1,
    }
}

fn failed(error: ProcError) -> u64 {
    200 + u64::from(error.code() & 0x3f)
}

/// `fork`: forks; the child changes its copy of a heap value, writes `b`
/// to a file opened before the fork (its own object sharing the offset)
/// and exits with 41 if it could also open a file; the parent waits, then
/// writes `c`. Exits 0 if the child ended with 41, the parent's value is
/// unchanged and the file reads `abc`; else 1 to 6 saying what was wrong.
pub fn fork() -> u64 {
    use alloc::boxed::Box;
    use files::File;
    use process::Fork;
    let mut value = Box::new(7u64);
    let Ok(mut file) = File::create("/tmp/fork-probe") else {
        return 1;
    };
    if file.write(b"a") != Ok(1) {
        return 2;
    }
    match process::fork() {
        Ok(Fork::Child) => {
            *value = 99;
            let wrote = file.write(b"b") == Ok(1);
            let opened = File::open_read("/bin/probe").is_ok();
            if wrote && opened && *value == 99 {
                41
            } else {
                40
            }
        }
        Ok(Fork::Parent(child)) => {
            if child.wait() != Ok(End::Exited(41)) {
                return 3;
            }
            if *value != 7 {
                return 4;
            }
            if file.write(b"c") != Ok(1) {
                return 5;
            }
            let mut back = alloc::vec::Vec::new();
            let read =
                File::open_read("/tmp/fork-probe").and_then(|mut f| f.read_to_end(&mut back));
            let _ = files::remove_file("/tmp/fork-probe");
            if read.is_err() || back != b"abc" {
                6
            } else {
                0
            }
        }
        Err(error) => failed(error),
    }
}

/// `exec PATH ARGS..`: runs PATH with ARGS in place of this program (its
/// streams passed on); 200 + the error's code if it cannot.
pub fn exec(args: &[&str]) -> u64 {
    let Some((path, argv)) = args.split_first() else {
        return 253;
    };
    failed(Command::new(path).args(argv).exec())
}

/// `fork-exec ARGS..`: forks; the child execs `probe ARGS..`; the parent
/// waits and exits with the child's shell status.
pub fn fork_exec(args: &[&str]) -> u64 {
    match process::fork() {
        Ok(process::Fork::Child) => {
            let mut argv = alloc::vec!["probe"];
            argv.extend_from_slice(args);
            failed(Command::new("/bin/probe").args(&argv).exec())
        }
        Ok(process::Fork::Parent(child)) => match child.wait() {
            Ok(end) => end.shell_status(),
            Err(error) => failed(error),
        },
        Err(error) => failed(error),
    }
}

/// `bench-fork N exit|exec`: N times, fork and wait until the child has
/// ended (`exit`: the child exits at once; `exec`: it execs `/bin/tiny`),
/// timing each round with the time-stamp counter; writes the N counts
/// (8 bytes each, little-endian) to `stdout`. The `fork_exit_wait` and
/// `fork_exec_wait` benchmark rows.
pub fn bench_fork(args: &[&str]) -> u64 {
    let rounds: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(10);
    let exec = args.get(1) == Some(&"exec");
    let mut samples = alloc::vec::Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = rt::time::counter();
        match process::fork() {
            Ok(process::Fork::Child) => {
                if exec {
                    return failed(Command::new("/bin/tiny").exec());
                }
                rt::process::exit(0);
            }
            Ok(process::Fork::Parent(child)) => {
                if child.wait() != Ok(End::Exited(0)) {
                    return 1;
                }
            }
            Err(error) => return failed(error),
        }
        samples.push(rt::time::counter() - start);
    }
    let bytes: alloc::vec::Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    files::stdio::write_out(&bytes);
    0
}
