//! `cargo xtask`: the single entry point to build, run, test, benchmark,
//! fuzz, debug and check Mica. See README.md.

mod bench;
mod build;
mod chart;
mod check;
mod cpio;
mod debian;
mod fuzz;
mod initramfs;
mod linux;
mod qemu;
mod report;
mod script;
mod session;
mod strip;
mod system;
mod test;

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

use qemu::Accel;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, run, test, benchmark and check Mica"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the kernel, the user programs and the initramfs.
    Build,
    /// Build and boot Mica in QEMU with the serial console on this terminal (Ctrl-A X quits).
    Run {
        /// Accelerator (default: KVM where it really works, else TCG).
        #[arg(long, value_enum)]
        accel: Option<Accel>,
        /// Type this file's lines at the shell's prompt (`-`: standard
        /// input), print the session, then quit (README.md, "Driving the
        /// shell from a script").
        #[arg(long, value_name = "FILE")]
        script: Option<String>,
        /// With --script: give up waiting for a prompt after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Arguments after `--` go to QEMU after the defaults.
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Run the host tests, then the in-OS test suite under QEMU.
    Test {
        /// Run only tests whose names contain this.
        filter: Option<String>,
        /// Accelerator (default: KVM where it really works, else TCG).
        #[arg(long, value_enum)]
        accel: Option<Accel>,
        /// Skip the host tests.
        #[arg(long)]
        no_host: bool,
        /// Echo the whole serial console.
        #[arg(long, short)]
        verbose: bool,
        /// Turn the kernel's IPC fast path off (`fastpath=off`), so every
        /// call takes the general path.
        #[arg(long)]
        slow_path: bool,
        /// Arguments after `--` go to QEMU after the defaults.
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Run the benchmarks on Mica and on Linux in the same QEMU configuration.
    Bench {
        /// Accelerator (default TCG with -icount, which counts instructions).
        #[arg(long, value_enum)]
        accel: Option<Accel>,
        /// Skip the Linux side.
        #[arg(long)]
        no_linux: bool,
        /// Skip the Mica side (to iterate on the Linux benchmark alone).
        #[arg(long)]
        no_mica: bool,
        /// Run only the rows whose names contain this (on both sides; a
        /// few rows run in groups, so a group's neighbours may come too).
        #[arg(long)]
        only: Option<String>,
        /// Arguments after `--` go to QEMU after the defaults.
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Run the in-OS syscall fuzzer once, for longer, and print what it covered.
    Fuzz {
        /// The seed (the same seed replays the same calls).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Syscalls to make, over all workers.
        #[arg(long, default_value_t = 200_000)]
        count: u64,
        /// Worker threads (1-8).
        #[arg(long, default_value_t = 4)]
        workers: u64,
        /// Print every call before it is made (for reproducing a panic).
        #[arg(long)]
        trace: bool,
        /// Stop the workers once they have made this many calls in all: the
        /// run is the same up to there, so a failure can be bisected.
        #[arg(long)]
        stop: Option<u64>,
        /// Never give partner threads a fault endpoint (to fuzz past a known
        /// bug in fault delivery).
        #[arg(long)]
        no_fault_endpoints: bool,
        /// Accelerator (default TCG with -icount, which makes runs repeat exactly).
        #[arg(long, value_enum)]
        accel: Option<Accel>,
        /// Kill QEMU after this many seconds.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Arguments after `--` go to QEMU after the defaults.
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Boot paused with QEMU's gdb stub and print the gdb command to attach.
    Gdb {
        /// Arguments after `--` go to QEMU after the defaults.
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Formatting, clippy (host and bare-metal) and the layering rules.
    Check,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Build => {
            let art = build::build_all()?;
            println!(
                "kernel:    {}\ninitramfs: {}",
                art.kernel.display(),
                art.initramfs.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run {
            accel,
            script: Some(script),
            timeout,
            qemu_args,
        } => run_script(&script, accel, Duration::from_secs(timeout), &qemu_args),
        Cmd::Run {
            accel,
            script: None,
            qemu_args,
            ..
        } => {
            qemu::ensure_qemu()?;
            let art = build::build_all()?;
            let accel = qemu::accel_args(accel, false);
            println!("xtask: booting Mica (Ctrl-A X quits QEMU)");
            let mut cmd = qemu::command(&art, &accel, "mode=run", true, &qemu_args);
            let status = cmd.status()?;
            Ok(
                if status.success() || qemu::guest_code(&status) == Some(0) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                },
            )
        }
        Cmd::Test {
            filter,
            accel,
            no_host,
            verbose,
            slow_path,
            qemu_args,
        } => test::run(
            filter.as_deref(),
            accel,
            no_host,
            verbose,
            slow_path,
            &qemu_args,
        ),
        Cmd::Bench {
            accel,
            no_linux,
            no_mica,
            only,
            qemu_args,
        } => bench::run(
            accel,
            &bench::Sides {
                mica: !no_mica,
                linux: !no_linux,
                only,
            },
            &qemu_args,
        ),
        Cmd::Fuzz {
            seed,
            count,
            workers,
            trace,
            stop,
            no_fault_endpoints,
            accel,
            timeout,
            qemu_args,
        } => fuzz::run(&fuzz::Options {
            seed,
            count,
            workers,
            trace,
            stop,
            no_fault_endpoints,
            accel,
            timeout_secs: timeout,
            qemu_args,
        }),
        Cmd::Gdb { qemu_args } => {
            qemu::ensure_qemu()?;
            let art = build::build_all()?;
            let accel = qemu::accel_args(Some(Accel::Tcg), false);
            let mut cmd = qemu::command(&art, &accel, "mode=run", true, &qemu_args);
            cmd.args(["-s", "-S"]);
            println!("xtask: QEMU waits for gdb on localhost:1234. In another terminal run:");
            println!(
                "    gdb {} -ex 'target remote localhost:1234' -ex 'break kmain' -ex continue",
                art.kernel.display()
            );
            println!(
                "  (user program symbols: add-symbol-file {})",
                build::root()
                    .join("target/user")
                    .join(build::TARGET)
                    .join("release/test-runner")
                    .display()
            );
            cmd.status()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check => check::run(),
    }
}

/// `cargo xtask run --script FILE`.
fn run_script(
    path: &str,
    accel: Option<Accel>,
    timeout: Duration,
    qemu_args: &[String],
) -> Result<ExitCode> {
    let text = if path == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?
    };
    let lines = script::parse(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    qemu::ensure_qemu()?;
    let art = build::build_all()?;
    let accel = qemu::accel_args(accel, false);
    println!("xtask: booting Mica and typing {path} at the prompt");
    let cmd = qemu::command(&art, &accel, "mode=run", false, qemu_args);
    let session = session::run(cmd, &lines, timeout, true)?;
    let log = build::root().join("target/mica/script-session.log");
    std::fs::write(&log, session.text + "\n")?;
    println!(
        "xtask: script done{}; session in {}",
        if session.shell_ended {
            " (the shell ended)"
        } else {
            ""
        },
        log.display()
    );
    Ok(ExitCode::SUCCESS)
}
