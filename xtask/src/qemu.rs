//! Starting QEMU: finding or installing it, choosing KVM or TCG, building
//! the command line, and running a boot with a hard timeout while
//! collecting the serial console.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::Artifacts;

/// `--accel` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Accel {
    /// Hardware virtualisation (only where the CPU has vmx/svm).
    Kvm,
    /// Software emulation.
    Tcg,
}

/// Makes sure `qemu-system-x86_64` exists: installs Debian's package when
/// root, else stops with one line saying what to install.
pub fn ensure_qemu() -> Result<()> {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok()
    {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !root || Command::new("apt-get").arg("--version").output().is_err() {
        bail!(
            "qemu-system-x86_64 is missing: install QEMU (Debian/Ubuntu: sudo apt-get install qemu-system-x86)"
        );
    }
    println!("xtask: installing qemu-system-x86 with apt-get");
    crate::build::run(Command::new("apt-get").args(["update", "-q"]))?;
    crate::build::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "qemu-system-x86"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Whether KVM can really run a guest here: the CPU reports vmx or svm
/// and /dev/kvm opens. (A paravirtual KVM without them cannot boot Mica.)
fn kvm_works() -> Result<(), &'static str> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or("");
    if !flags.split_whitespace().any(|f| f == "vmx" || f == "svm") {
        return Err("the CPU reports neither vmx nor svm");
    }
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return Err("/dev/kvm does not open");
    }
    Ok(())
}

/// The accelerator and CPU arguments, announcing the choice.
pub fn accel_args(requested: Option<Accel>, icount: bool) -> Vec<String> {
    let chosen = match requested {
        Some(accel) => accel,
        None => match kvm_works() {
            Ok(()) => Accel::Kvm,
            Err(why) => {
                println!("xtask: using TCG (software emulation): {why}");
                Accel::Tcg
            }
        },
    };
    let args: &[&str] = match (chosen, icount) {
        (Accel::Kvm, _) => {
            println!("xtask: using KVM");
            &["-accel", "kvm", "-cpu", "host"]
        }
        (Accel::Tcg, true) => &[
            "-accel",
            "tcg",
            "-icount",
            "shift=0,sleep=off",
            "-cpu",
            "max",
        ],
        (Accel::Tcg, false) => &["-accel", "tcg", "-cpu", "max"],
    };
    args.iter().map(|s| s.to_string()).collect()
}

/// `extra` QEMU arguments without any `-append` and its value: for a boot
/// of the normal system, whose command line the caller sets itself.
pub fn without_append(extra: &[String]) -> Vec<String> {
    let mut rest = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        if arg == "-append" {
            args.next();
        } else {
            rest.push(arg.clone());
        }
    }
    rest
}

/// The QEMU command for a Mica boot: defaults first, then `extra` (which
/// override them, QEMU taking the last of repeated options).
pub fn command(
    art: &Artifacts,
    accel: &[String],
    cmdline: &str,
    interactive: bool,
    extra: &[String],
) -> Command {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(accel)
        .args([
            "-m",
            "512M",
            "-smp",
            "1",
            "-nodefaults",
            "-display",
            "none",
            "-no-reboot",
        ])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        // One terminal for COM1 (the serial driver's) and the debug console
        // (the kernel log's): a multiplexed stdio character device. Input
        // goes to the front end attached last, so COM1 (`isa-serial`, ISA
        // IRQ 4 at 0x3f8) comes after the debug console, which would drop
        // it (`-serial` would attach it first, before every `-device`).
        // Interactively, Ctrl-A C switches to the monitor.
        .args(["-chardev", "stdio,id=con,mux=on,signal=off"])
        .args(["-device", "isa-debugcon,iobase=0xe9,chardev=con"])
        .args(["-device", "isa-serial,chardev=con"])
        .args(if interactive {
            &["-mon", "chardev=con,mode=readline"][..]
        } else {
            &[]
        })
        .arg("-kernel")
        .arg(&art.kernel)
        .arg("-initrd")
        .arg(&art.initramfs)
        .args(["-append", cmdline])
        .args(extra);
    cmd
}

/// How a non-interactive boot ended.
pub struct Run {
    /// Every console line.
    pub lines: Vec<String>,
    /// QEMU's exit status, or `None` if it was killed at the timeout.
    pub status: Option<ExitStatus>,
}

/// The guest's exit code for a QEMU status (isa-debug-exit: 2 * code + 1).
pub fn guest_code(status: &ExitStatus) -> Option<i32> {
    status.code().filter(|c| c % 2 == 1).map(|c| c / 2)
}

/// QEMU exit status of a kernel panic.
pub const PANIC_STATUS: i32 = 99;

/// Input to type on the guest's console (COM1) when a console line
/// contains `marker`: a test prints the marker, then reads the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    /// Text a console line must contain.
    pub marker: String,
    /// Bytes written to QEMU's stdin then, each time.
    pub input: Vec<u8>,
}

/// The inputs a console `line` calls for, in `feeds` order.
pub fn inputs_for<'a>(feeds: &'a [Feed], line: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    feeds
        .iter()
        .filter(move |feed| !feed.marker.is_empty() && line.contains(feed.marker.as_str()))
        .map(|feed| feed.input.as_slice())
}

/// Boots and collects the console, calling `on_line` for each line and
/// typing the input of each [`Feed`] whose marker a line contains; kills
/// QEMU after `timeout` or when a line says the kernel is idle for good.
/// QEMU's stdin is a pipe only when there is something to feed.
pub fn run_captured(
    cmd: Command,
    timeout: Duration,
    log: &Path,
    feeds: &[Feed],
    on_line: impl Fn(&str) + Send + 'static,
) -> Result<Run> {
    run_until(cmd, timeout, log, feeds, None, on_line)
}

/// [`run_captured`] that also kills QEMU once a line contains `stop` (a
/// system that keeps running after what was wanted, such as the normal
/// system at its prompt).
pub fn run_until(
    mut cmd: Command,
    timeout: Duration,
    log: &Path,
    feeds: &[Feed],
    stop: Option<&str>,
    on_line: impl Fn(&str) + Send + 'static,
) -> Result<Run> {
    let stop = stop.map(str::to_owned);
    cmd.stdin(if feeds.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut child = cmd.spawn().context("starting qemu-system-x86_64")?;
    let mut stdin = child.stdin.take();
    let feeds = feeds.to_vec();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let idle = Arc::new(Mutex::new(false));
    let stdout = child.stdout.take().context("QEMU stdout")?;
    let reader = {
        let (lines, idle) = (Arc::clone(&lines), Arc::clone(&idle));
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = console_line(&buf);
                on_line(&line);
                if let Some(stdin) = stdin.as_mut() {
                    for input in inputs_for(&feeds, &line) {
                        // A QEMU that is gone cannot be fed; its end is
                        // reported by the main loop.
                        let _ = stdin.write_all(input).and_then(|()| stdin.flush());
                    }
                }
                if line.contains("no user threads left; idle")
                    || stop.as_deref().is_some_and(|m| line.contains(m))
                {
                    *idle.lock().unwrap_or_else(|e| e.into_inner()) = true;
                }
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                buf.clear();
            }
        })
    };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        let idle_now = *idle.lock().unwrap_or_else(|e| e.into_inner());
        if start.elapsed() > timeout || idle_now {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = reader.join();
    let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner()));
    std::fs::write(log, lines.join("\n") + "\n").ok();
    Ok(Run { lines, status })
}

/// One console line as text: lossy UTF-8 (console output need not be
/// UTF-8), without control characters (CR, terminal escapes) or trailing
/// blanks.
pub fn console_line(raw: &[u8]) -> String {
    let line: String = String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect();
    line.trim_end().to_owned()
}

/// The last `n` lines, indented.
pub fn tail(lines: &[String], n: usize) -> String {
    let from = lines.len().saturating_sub(n);
    lines[from..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_fire_on_lines_containing_their_marker() {
        let feeds = [
            Feed {
                marker: "feed me".into(),
                input: b"one\n".to_vec(),
            },
            Feed {
                marker: "me a line".into(),
                input: b"two\n".to_vec(),
            },
            Feed {
                marker: String::new(),
                input: b"never".to_vec(),
            },
        ];
        let all: Vec<&[u8]> = inputs_for(&feeds, "test: feed me a line").collect();
        assert_eq!(all, [&b"one\n"[..], &b"two\n"[..]]);
        let first: Vec<&[u8]> = inputs_for(&feeds, "x feed me").collect();
        assert_eq!(first, [&b"one\n"[..]]);
        assert_eq!(inputs_for(&feeds, "nothing here").count(), 0);
        assert_eq!(inputs_for(&[], "feed me").count(), 0);
    }
}
