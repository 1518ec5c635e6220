//! The process rows, timed as `bench/linux/bench.c` times them on Linux:
//!
//! - `spawn_exit`: from the call that starts `bin/tiny` (a program that
//!   exits at once) through the process server until `wait` has seen its
//!   exit. The program file is mapped from the initramfs (initfs's `map`),
//!   so nothing of it is copied but its writable pages;
//! - `fork_exit_wait` and `fork_exec_wait`: timed inside `probe
//!   bench-fork` (a small process, as Linux's row forks its small bench
//!   process): fork, the child exits at once (or execs `bin/tiny`), the
//!   parent waits; the counts come back through a pipe.

use files::File;
use process::{Command, End, Stdio};
use rt::Handle;

use crate::bench::{measure_after, report};

/// Samples of `spawn_exit`.
const SPAWN_SAMPLES: usize = 100;

/// The process rows, or a line saying why they cannot run.
pub fn rows(unit: &str, samples: &mut [u64], overhead: u64) {
    if spawn_exit(unit, &mut samples[..SPAWN_SAMPLES], overhead).is_none() {
        rt::println!("bench: spawn_exit could not run");
    }
    for (row, mode) in [("fork_exit_wait", "exit"), ("fork_exec_wait", "exec")] {
        if fork_rows(row, mode, unit, &mut samples[..FORK_SAMPLES]).is_none() {
            rt::println!("bench: {row} could not run");
        }
    }
}

/// Forks timed per row (after the probe's own warm-up rounds).
const FORK_SAMPLES: usize = 50;
/// Rounds the probe runs before the timed ones.
const FORK_WARM_UP: usize = 5;

fn fork_rows(row: &str, mode: &str, unit: &str, samples: &mut [u64]) -> Option<()> {
    let read = File::open_read("pipe:").ok()?;
    let write = read.dup("write").ok()?;
    let rounds = alloc::format!("{}", samples.len() + FORK_WARM_UP);
    let child = Command::new("/bin/probe")
        .args(&["probe", "bench-fork", &rounds, mode])
        .stdout(Stdio::File(write.endpoint().slot()))
        .budget(2048)
        .spawn()
        .ok()?;
    drop(write);
    let mut read = read;
    let mut bytes = alloc::vec::Vec::new();
    read.read_to_end(&mut bytes).ok()?;
    (child.wait() == Ok(End::Exited(0))).then_some(())?;
    let counts: alloc::vec::Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .skip(FORK_WARM_UP)
        .collect();
    (counts.len() == samples.len()).then_some(())?;
    samples.copy_from_slice(&counts);
    report(row, unit, samples);
    Some(())
}

fn spawn_exit(unit: &str, samples: &mut [u64], overhead: u64) -> Option<()> {
    let command = Command::new("/bin/tiny").budget(256);
    let mut ok = true;
    measure_after(5, samples, overhead, || {
        let ended = command.spawn().and_then(|child| child.wait());
        ok &= ended == Ok(End::Exited(0));
    });
    ok.then_some(())?;
    report("spawn_exit", unit, samples);
    Some(())
}
