//! In-OS benchmarks: each prints `BENCH <name> <unit> <median> <p10> <p90>
//! <iterations>`, then `BENCH-DONE`, then the run ends. Every sample has
//! the measured overhead of an empty measurement subtracted.

use abi::CapSlot;
use abi::boot::BootInfo;
use rt::bench::{summarize, tsc_end, tsc_start};
use rt::println;

const ITERATIONS: usize = 10_000;
const WARMUP: usize = 1_000;

fn report(name: &str, unit: &str, samples: &mut [u64]) {
    let (median, p10, p90) = summarize(samples);
    println!("BENCH {name} {unit} {median} {p10} {p90} {}", samples.len());
}

fn measure(samples: &mut [u64], overhead: u64, mut op: impl FnMut()) {
    for _ in 0..WARMUP {
        op();
    }
    for s in samples.iter_mut() {
        let start = tsc_start();
        op();
        let end = tsc_end();
        *s = (end - start).saturating_sub(overhead);
    }
}

/// Runs every benchmark and ends the run.
pub fn run(boot: &BootInfo) -> u64 {
    let unit = core::str::from_utf8(boot.cmdline())
        .ok()
        .and_then(|c| c.split_whitespace().find_map(|w| w.strip_prefix("unit=")))
        .unwrap_or("instructions");
    let mut samples = [0u64; ITERATIONS];
    let samples = &mut samples[..];

    // The empty measurement.
    measure(samples, 0, || {});
    let (overhead, _, _) = summarize(samples);

    let boot_to_user = rt::start::start_tsc().saturating_sub(boot.kernel_entry_tsc);
    println!("BENCH boot_to_user {unit} {boot_to_user} {boot_to_user} {boot_to_user} 1");

    measure(samples, overhead, || {
        let _ = rt::sys::null();
    });
    report("null_syscall", unit, samples);

    println!("BENCH-DONE");
    let _ = rt::sys::debug_exit(CapSlot(boot.debug_cap), 0);
    0
}
