//! The process rows, timed as `bench/linux/bench.c` times them on Linux:
//!
//! - `spawn_exit`: from the call that starts `bin/tiny` (a program that
//!   exits at once) through the process server until `wait` has seen its
//!   exit. The program file is mapped from the initramfs (initfs's `map`),
//!   so nothing of it is copied but its writable pages.

use process::{Command, End};

use crate::bench::{measure_after, report};

/// Samples of `spawn_exit`.
const SPAWN_SAMPLES: usize = 100;

/// The process rows, or a line saying why they cannot run.
pub fn rows(unit: &str, samples: &mut [u64], overhead: u64) {
    if spawn_exit(unit, &mut samples[..SPAWN_SAMPLES], overhead).is_none() {
        rt::println!("bench: spawn_exit could not run");
    }
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
