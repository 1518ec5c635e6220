//! `cargo xtask fuzz`: one long run of the in-OS syscall fuzzer
//! (`servers/test-runner/src/sysfuzz`), booted with `mode=fuzz`. The
//! console streams to this terminal; the run passes when it ends with the
//! fuzzer's `sysfuzz: PASSED` line and guest exit code 0.
//!
//! By default QEMU runs under TCG with `-icount shift=0,sleep=off`, so the
//! guest's clock follows its instruction count: the workers interleave the
//! same way every time and a seed replays exactly (`--trace` then prints
//! every call before it is made, for a kernel panic's reproduction).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::build;
use crate::qemu::{self, Accel};

/// What the fuzzer prints when a run passed.
const PASSED: &str = "sysfuzz: PASSED";

/// Options of one run.
pub struct Options {
    /// The seed.
    pub seed: u64,
    /// Syscalls to make.
    pub count: u64,
    /// Worker threads (1-8).
    pub workers: u64,
    /// Print every call.
    pub trace: bool,
    /// Stop the workers after this many calls in all (bisecting a replay).
    pub stop: Option<u64>,
    /// Never give partner threads a fault endpoint.
    pub no_fault_endpoints: bool,
    /// Accelerator (default TCG with -icount).
    pub accel: Option<Accel>,
    /// Kill QEMU after this many seconds.
    pub timeout_secs: u64,
    /// Arguments for QEMU after the defaults.
    pub qemu_args: Vec<String>,
}

/// The kernel command line of a fuzz run.
fn cmdline(options: &Options) -> String {
    let mut line = format!(
        "system=test mode=fuzz seed={} count={} workers={}",
        options.seed, options.count, options.workers
    );
    if options.trace {
        line.push_str(" trace=1");
    }
    if let Some(stop) = options.stop {
        line.push_str(&format!(" stop={stop}"));
    }
    if options.no_fault_endpoints {
        line.push_str(" faults=0");
    }
    line
}

/// Boots the fuzzer, streams its console and reports how it ended.
pub fn run(options: &Options) -> Result<ExitCode> {
    qemu::ensure_qemu()?;
    let art = build::build_all()?;
    let accel = options.accel.unwrap_or(Accel::Tcg);
    let accel_args = qemu::accel_args(Some(accel), accel == Accel::Tcg);
    let cmdline = cmdline(options);
    let cmd = qemu::command(&art, &accel_args, &cmdline, false, &options.qemu_args);
    let log = build::root().join("target/mica/fuzz-serial.log");
    println!(
        "xtask: fuzzing ({cmdline}; {}; timeout {} s, log {})",
        accel_args.join(" "),
        options.timeout_secs,
        log.display()
    );
    let started = Instant::now();
    let timeout = Duration::from_secs(options.timeout_secs);
    let run = qemu::run_captured(cmd, timeout, &log, &[], |line| println!("{line}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let passed = run.lines.iter().any(|l| l.starts_with(PASSED));
    let code = run.status.as_ref().and_then(qemu::guest_code);
    match (&run.status, passed, code) {
        (Some(_), true, Some(0)) => {
            println!("xtask: fuzz run passed in {elapsed:.1} s");
            Ok(ExitCode::SUCCESS)
        }
        (None, _, _) => {
            println!("xtask: the fuzz run hung and was killed after {elapsed:.1} s");
            Ok(ExitCode::FAILURE)
        }
        (Some(status), _, _) => {
            let why = if status.code() == Some(qemu::PANIC_STATUS) {
                "the kernel panicked"
            } else {
                "the fuzz run failed"
            };
            println!("xtask: {why} (QEMU {status}) after {elapsed:.1} s");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Options, cmdline};

    #[test]
    fn command_line_carries_the_options() {
        let mut options = Options {
            seed: 12345,
            count: 200_000,
            workers: 4,
            trace: false,
            stop: None,
            no_fault_endpoints: false,
            accel: None,
            timeout_secs: 60,
            qemu_args: Vec::new(),
        };
        assert_eq!(
            cmdline(&options),
            "system=test mode=fuzz seed=12345 count=200000 workers=4"
        );
        options.trace = true;
        assert!(cmdline(&options).ends_with(" trace=1"));
    }
}
