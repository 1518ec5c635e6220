//! The Linux side of `cargo xtask bench`: the same micro-benchmarks run on
//! Debian's Linux kernel, booted in the same QEMU configuration as Mica.
//!
//! Steps: find (or fetch) a kernel, compile `bench/linux/bench.c` and
//! `bench/linux/tinytrue.c` as static binaries, pack them as `/init` and
//! `/bin/tinytrue` of a newc initramfs, boot QEMU with a hard timeout, and
//! turn the `BENCH ...` lines the guest prints on its serial console into
//! [`Row`]s.

use std::cmp::Ordering;
use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cpio::{CpioEntry, write_newc};
use crate::debian::{self, apt_update, capture, command_exists, download_any};
use crate::report::Row;

/// The benchmark program, embedded so that the xtask binary is rebuilt (and
/// the guest program with it) whenever the C source changes.
const BENCH_C: &str = include_str!("../../bench/linux/bench.c");

/// The program the `spawn_exit` and `fork_exec_wait` rows start (`_start` ->
/// `exit_group(0)`, no libc), embedded for the same reason.
const TINYTRUE_C: &str = include_str!("../../bench/linux/tinytrue.c");

/// gcc flags for the benchmark, a static glibc program.
const BENCH_CFLAGS: &[&str] = &["-O2", "-Wall", "-Wextra", "-static"];

/// gcc flags for `tinytrue`: static, without libc or its start files, and
/// with nothing the compiler would otherwise call into.
const TINYTRUE_CFLAGS: &[&str] = &[
    "-O2",
    "-Wall",
    "-Wextra",
    "-static",
    "-nostdlib",
    "-fno-stack-protector",
];

/// A full run takes a few minutes under TCG with icount; anything past this
/// is a hung guest.
const TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How many lines of guest output an error message shows.
const TAIL_LINES: usize = 20;

/// How the Linux guest is run.
#[derive(Debug, Clone)]
pub struct LinuxBenchConfig {
    /// Accelerator arguments, e.g. `["-accel", "tcg", "-icount", "shift=0,sleep=off"]`.
    pub accel_args: Vec<String>,
    /// QEMU CPU model, e.g. `max`.
    pub cpu: String,
    /// Guest memory, e.g. `512M`.
    pub memory: String,
    /// Number of guest CPUs (the benchmark pins itself to CPU 0).
    pub smp: u32,
    /// Extra QEMU arguments, appended last so they can override the others.
    pub extra_qemu_args: Vec<String>,
    /// Unit of the samples: `instructions` (icount) or `cycles` (KVM).
    pub unit: String,
    /// Only the rows whose names contain this (passed as `only=NAME`).
    pub only: Option<String>,
    /// Scratch directory for the kernel, the binary and the initramfs
    /// (normally `target/linux`).
    pub workdir: PathBuf,
    /// Where the guest's serial console is saved, comment lines included
    /// (normally `target/bench/linux-serial.log`).
    pub serial_log: PathBuf,
}

/// Boots Linux with the benchmark as `/init` and returns its rows.
pub fn run_linux_bench(cfg: &LinuxBenchConfig) -> Result<Vec<Row>> {
    if cfg.unit != "instructions" && cfg.unit != "cycles" {
        bail!(
            "unit must be `instructions` or `cycles`, not `{}`",
            cfg.unit
        );
    }
    fs::create_dir_all(&cfg.workdir)
        .with_context(|| format!("creating {}", cfg.workdir.display()))?;
    let workdir = cfg
        .workdir
        .canonicalize()
        .with_context(|| format!("resolving {}", cfg.workdir.display()))?;

    let kernel = find_kernel(&workdir)?;
    let bench = build_static(&workdir, "bench", BENCH_C, BENCH_CFLAGS)?;
    let tinytrue = build_static(&workdir, "tinytrue", TINYTRUE_C, TINYTRUE_CFLAGS)?;
    let busybox = find_busybox(&workdir);

    let read = |p: &Path| fs::read(p).with_context(|| format!("reading {}", p.display()));
    let busybox = busybox.as_deref().map(read).transpose()?;
    let initramfs = workdir.join("initramfs.cpio");
    let archive = write_newc(&initramfs_entries(read(&bench)?, read(&tinytrue)?, busybox));
    fs::write(&initramfs, archive).with_context(|| format!("writing {}", initramfs.display()))?;

    let run = run_qemu(cfg, &kernel, &initramfs)?;
    let mut log = run.lines.join("\n");
    log.push('\n');
    fs::write(&cfg.serial_log, log)
        .with_context(|| format!("writing {}", cfg.serial_log.display()))?;
    let rows = parse_bench_output(&run.lines).map_err(|e| {
        let status = run
            .status
            .map_or_else(|| "status unknown".to_owned(), |s| s.to_string());
        let stderr = run.stderr.trim();
        let stderr = if stderr.is_empty() {
            String::new()
        } else {
            format!("\nQEMU stderr:\n{stderr}")
        };
        e.context(format!(
            "Linux benchmark run failed (QEMU {status}); last lines of output:\n{}{stderr}",
            tail(&run.lines)
        ))
    })?;
    // Time rows count in the run's unit; a few rows have a unit of their
    // own that means the same under TCG and KVM.
    let own_unit = |unit: &str| unit == "us" || unit == "bytes";
    if let Some(row) = rows
        .iter()
        .find(|r| r.unit != cfg.unit && !own_unit(&r.unit))
    {
        bail!(
            "Linux row {} is in {}, expected {} (or us, bytes)",
            row.name,
            row.unit,
            cfg.unit
        );
    }
    Ok(rows)
}

// ---- kernel ------------------------------------------------------------------

/// `workdir/vmlinuz`, else the newest `/boot/vmlinuz-*`, else Debian's
/// kernel package unpacked into `workdir`.
fn find_kernel(workdir: &Path) -> Result<PathBuf> {
    let local = workdir.join("vmlinuz");
    if local.is_file() {
        return Ok(local);
    }
    if let Some(boot) = newest_vmlinuz(Path::new("/boot"))? {
        println!("linux bench: using kernel {}", boot.display());
        return Ok(boot);
    }
    fetch_debian_kernel(workdir)?;
    Ok(local)
}

/// The `vmlinuz-*` file in `dir` with the highest version, if any.
fn newest_vmlinuz(dir: &Path) -> Result<Option<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut best: Option<(String, PathBuf)> = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("vmlinuz-") || !entry.path().is_file() {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|(b, _)| version_cmp(&name, b) == Ordering::Greater)
        {
            best = Some((name, entry.path()));
        }
    }
    Ok(best.map(|(_, path)| path))
}

/// Compares names so that runs of digits compare as numbers
/// (`6.1.0-9` < `6.1.0-56`).
fn version_cmp(a: &str, b: &str) -> Ordering {
    /// A run of digits or a run of other characters.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Chunk<'a> {
        Num(u128),
        Text(&'a str),
    }
    fn chunks(s: &str) -> Vec<Chunk<'_>> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            out.push(match chunk.parse() {
                Ok(n) if digit => Chunk::Num(n),
                _ => Chunk::Text(chunk),
            });
            rest = tail;
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// Downloads Debian's kernel package (without installing it), unpacks it
/// and copies its kernel image to `workdir/vmlinuz`.
fn fetch_debian_kernel(workdir: &Path) -> Result<()> {
    let vmlinuz = workdir.join("vmlinuz");
    if !command_exists("apt-get") || !command_exists("dpkg-deb") {
        bail!(
            "no Linux kernel found (neither {} nor /boot/vmlinuz-*) and apt-get/dpkg-deb are not \
             available: install a kernel image package (Debian: linux-image-amd64) or copy a \
             bzImage to {}",
            vmlinuz.display(),
            vmlinuz.display()
        );
    }
    println!(
        "linux bench: no kernel found; downloading Debian's linux-image package into {} \
         (apt-get download + dpkg-deb -x, nothing is installed)",
        workdir.display()
    );

    // `linux-image-amd64` is a metapackage: ask which real image it pulls in.
    // Without package lists (or with stale ones) refresh them once and retry.
    let depends = || -> Result<Vec<String>> {
        let packages = kernel_packages(&capture("apt-cache", &["depends", "linux-image-amd64"])?);
        if packages.is_empty() {
            bail!("`apt-cache depends linux-image-amd64` names no linux-image-*-amd64 package");
        }
        Ok(packages)
    };
    let mut updated = false;
    let packages = match depends() {
        Ok(packages) => packages,
        Err(_) => {
            apt_update()?;
            updated = true;
            depends()?
        }
    };

    let deb = match download_any(workdir, &packages)? {
        Some(deb) => deb,
        None if !updated => {
            apt_update()?;
            download_any(workdir, &packages)?.with_context(|| {
                format!(
                    "apt-get download failed for every candidate: {}",
                    packages.join(", ")
                )
            })?
        }
        None => bail!(
            "apt-get download failed for every candidate: {}",
            packages.join(", ")
        ),
    };

    let root = workdir.join("root");
    debian::extract(&deb, &root)?;
    let image = newest_vmlinuz(&root.join("boot"))?
        .with_context(|| format!("{} contains no boot/vmlinuz-*", deb.display()))?;
    fs::copy(&image, &vmlinuz)
        .with_context(|| format!("copying {} to {}", image.display(), vmlinuz.display()))?;
    // Only the kernel image is needed; the unpacked modules are hundreds of MB.
    fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    println!(
        "linux bench: kernel {} -> {}",
        image.display(),
        vmlinuz.display()
    );
    Ok(())
}

/// The real kernel image packages among the dependencies printed by
/// `apt-cache depends linux-image-amd64`, in the order listed.
fn kernel_packages(apt_cache_depends: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in apt_cache_depends.lines() {
        // Alternatives are marked with a leading `|`, virtual packages with <>.
        let line = line.trim().trim_start_matches('|');
        let Some(name) = line.strip_prefix("Depends:") else {
            continue;
        };
        let name = name.trim().trim_start_matches('<').trim_end_matches('>');
        let Some(version) = name.strip_prefix("linux-image-") else {
            continue;
        };
        let is_image = version.starts_with(|c: char| c.is_ascii_digit())
            && (version.ends_with("-amd64") || version.ends_with("-amd64-unsigned"));
        if is_image && !out.iter().any(|p| p == name) {
            out.push(name.to_owned());
        }
    }
    out
}

// ---- busybox -----------------------------------------------------------------

/// A statically linked busybox for the shell rows: `workdir/busybox`, else
/// `/bin/busybox` if it is static, else Debian's `busybox-static` package
/// unpacked into `workdir`. None (the rows are then skipped, with a line
/// saying so) when there is none and it cannot be fetched.
fn find_busybox(workdir: &Path) -> Option<PathBuf> {
    let local = workdir.join("busybox");
    let is_static = |p: &Path| fs::read(p).is_ok_and(|elf| static_elf(&elf));
    if is_static(&local) {
        return Some(local);
    }
    let system = Path::new("/bin/busybox");
    if is_static(system) {
        return Some(system.to_owned());
    }
    match fetch_busybox(workdir, &local) {
        Ok(()) if is_static(&local) => Some(local),
        Ok(()) => {
            println!("linux bench: busybox-static's busybox is not a static ELF; no shell rows");
            None
        }
        Err(e) => {
            println!("linux bench: no static busybox ({e:#}); no shell rows");
            None
        }
    }
}

/// Downloads Debian's `busybox-static` and copies its `bin/busybox` to `to`.
fn fetch_busybox(workdir: &Path, to: &Path) -> Result<()> {
    if !command_exists("apt-get") || !command_exists("dpkg-deb") {
        bail!("apt-get and dpkg-deb are needed to fetch busybox-static");
    }
    println!(
        "linux bench: downloading Debian's busybox-static into {}",
        workdir.display()
    );
    let packages = ["busybox-static".to_owned()];
    let deb = match download_any(workdir, &packages)? {
        Some(deb) => deb,
        None => {
            apt_update()?;
            download_any(workdir, &packages)?.context("apt-get download busybox-static failed")?
        }
    };
    let root = workdir.join("busybox-root");
    debian::extract(&deb, &root)?;
    let from = root.join("bin/busybox");
    fs::copy(&from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    Ok(())
}

/// True if `elf` is a 64-bit little-endian ELF without a program
/// interpreter (a `PT_INTERP` header), that is, one that runs in an
/// initramfs holding nothing else.
fn static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    if elf.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    (0..usize::from(phnum)).all(|i| {
        let at = phoff.saturating_add(i.saturating_mul(usize::from(phentsize)));
        let whole = elf.len() >= at.saturating_add(usize::from(phentsize));
        whole && u32_at(at).is_some_and(|kind| kind != PT_INTERP)
    })
}

// ---- guest programs ----------------------------------------------------------

/// The initramfs: the console node and `/dev/null`, the benchmark as
/// `/init`, the program `spawn_exit` and `fork_exec_wait` start as
/// `/bin/tinytrue`, and a static busybox as `/bin/busybox` for the shell
/// rows when there is one. The kernel's unpacker creates no parent
/// directories, so each comes before its contents. (`/init` makes `/tmp`
/// and `/proc` itself and mounts them.)
fn initramfs_entries(init: Vec<u8>, tinytrue: Vec<u8>, busybox: Option<Vec<u8>>) -> Vec<CpioEntry> {
    let mut entries = vec![
        CpioEntry::dir("dev", 0o755),
        CpioEntry::char_dev("dev/console", 0o600, 5, 1),
        CpioEntry::char_dev("dev/null", 0o666, 1, 3),
        CpioEntry::file("init", 0o755, init),
        CpioEntry::dir("bin", 0o755),
        CpioEntry::file("bin/tinytrue", 0o755, tinytrue),
    ];
    if let Some(busybox) = busybox {
        entries.push(CpioEntry::file("bin/busybox", 0o755, busybox));
    }
    entries
}

/// Writes `workdir/<name>.c` (only when it changed, so its mtime means
/// something) and compiles it with `gcc <cflags>` into `workdir/<name>` when
/// the binary is missing or older.
fn build_static(workdir: &Path, name: &str, source: &str, cflags: &[&str]) -> Result<PathBuf> {
    let src = workdir.join(format!("{name}.c"));
    let bin = workdir.join(name);
    if fs::read_to_string(&src).ok().as_deref() != Some(source) {
        fs::write(&src, source).with_context(|| format!("writing {}", src.display()))?;
    }
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&bin), modified(&src)), (Some(b), Some(s)) if b >= s);
    if fresh {
        return Ok(bin);
    }
    let tmp = workdir.join(format!("{name}.tmp"));
    let out = Command::new("gcc")
        .args(cflags)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("gcc not found: install gcc and a static C library (Debian: gcc libc6-dev)")
        }
        Err(e) => return Err(e).context("running gcc"),
    };
    if !out.status.success() {
        bail!(
            "gcc {} {} failed:\n{}",
            cflags.join(" "),
            src.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    fs::rename(&tmp, &bin).with_context(|| format!("renaming to {}", bin.display()))?;
    Ok(bin)
}

// ---- QEMU --------------------------------------------------------------------

/// What a QEMU run left behind.
struct QemuRun {
    /// Serial console output, one entry per line, without line endings.
    lines: Vec<String>,
    /// QEMU's exit status (None only if it could not be collected).
    status: Option<ExitStatus>,
    stderr: String,
}

/// Boots the kernel and initramfs, collecting the console output, and kills
/// QEMU if it runs past [`TIMEOUT`].
fn run_qemu(cfg: &LinuxBenchConfig, kernel: &Path, initramfs: &Path) -> Result<QemuRun> {
    let only = cfg
        .only
        .as_deref()
        .map_or_else(String::new, |name| format!(" only={name}"));
    let append = format!(
        "console=ttyS0 quiet panic=-1 mitigations=off -- unit={}{only}",
        cfg.unit
    );
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(&cfg.accel_args)
        .args([
            "-cpu",
            &cfg.cpu,
            "-smp",
            &cfg.smp.to_string(),
            "-m",
            &cfg.memory,
        ])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initramfs)
        .args([
            "-append",
            &append,
            "-nographic",
            "-no-reboot",
            "-monitor",
            "none",
        ])
        .args(&cfg.extra_qemu_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    println!(
        "linux bench: booting {} with the benchmark as /init (takes minutes; timeout {} min)",
        kernel.display(),
        TIMEOUT.as_secs() / 60
    );
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("qemu-system-x86_64 not found: install QEMU (Debian: qemu-system-x86)")
        }
        Err(e) => return Err(e).context("starting qemu-system-x86_64"),
    };

    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = child.stdout.take().context("QEMU stdout")?;
    let stdout_thread = {
        let lines = Arc::clone(&lines);
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            // Console output is not guaranteed to be UTF-8: read raw lines.
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = crate::qemu::console_line(&buf);
                if line.contains("BENCH") {
                    println!("linux bench: {line}");
                }
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                buf.clear();
            }
        })
    };
    let mut stderr_pipe = child.stderr.take().context("QEMU stderr")?;
    let stderr_thread = thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });

    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for QEMU")? {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            // Killing QEMU closes its pipes, which ends both reader threads.
            let _ = child.kill();
            let _ = child.wait();
            let _ = stdout_thread.join();
            let _ = stderr_thread.join();
            let lines = lines.lock().unwrap_or_else(|e| e.into_inner());
            bail!(
                "the Linux benchmark VM did not finish within {} minutes and was killed; last \
                 lines of output:\n{}",
                TIMEOUT.as_secs() / 60,
                tail(&lines)
            );
        }
        thread::sleep(Duration::from_millis(100));
    };
    let _ = stdout_thread.join();
    let stderr = stderr_thread.join().unwrap_or_default();
    let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner()));
    println!(
        "linux bench: VM finished after {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(QemuRun {
        lines,
        status,
        stderr,
    })
}

/// The last [`TAIL_LINES`] lines, indented, for error messages.
fn tail(lines: &[String]) -> String {
    let from = lines.len().saturating_sub(TAIL_LINES);
    if from == lines.len() {
        return "  (no output)".to_owned();
    }
    lines[from..]
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- output parsing --------------------------------------------------------------

/// Turns the guest's console output into rows.
///
/// Rows are lines `BENCH <name> <unit> <median> <p10> <p90> <iterations>`;
/// the run must end with `BENCH-DONE`. A `BENCH-ERROR` line, a malformed row
/// or a missing `BENCH-DONE` is an error. Other lines (kernel messages,
/// comments) are ignored. A row may follow stray console output on the same
/// line, so the marker is searched for anywhere in the line.
pub(crate) fn parse_bench_output(lines: &[String]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut done = false;
    for line in lines {
        let Some(at) = line.find("BENCH") else {
            continue;
        };
        let text = line[at..].trim();
        if text == "BENCH-DONE" {
            done = true;
        } else if text.starts_with("BENCH-ERROR") {
            bail!("the benchmark reported an error: {text}");
        } else if text.starts_with("BENCH ") {
            rows.push(parse_row(text).with_context(|| format!("malformed line `{text}`"))?);
        }
    }
    if !done {
        bail!("the benchmark did not finish (no BENCH-DONE line)");
    }
    if rows.is_empty() {
        bail!("the benchmark printed no BENCH rows");
    }
    Ok(rows)
}

/// Parses one `BENCH <name> <unit> <median> <p10> <p90> <iterations>` line.
fn parse_row(text: &str) -> Result<Row> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [_, name, unit, median, p10, p90, iterations] = fields[..] else {
        bail!("expected 7 fields, found {}", fields.len());
    };
    let num = |what: &str, s: &str| -> Result<u64> {
        s.parse()
            .with_context(|| format!("{what} `{s}` is not a number"))
    };
    Ok(Row {
        name: name.to_owned(),
        unit: unit.to_owned(),
        median: num("median", median)?,
        p10: num("p10", p10)?,
        p90: num("p90", p90)?,
        iterations: num("iterations", iterations)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::CpioKind;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn parses_rows_and_ignores_other_output() {
        let out = lines(
            "[    0.000000] Linux version 6.1.0\n\
             # timer overhead 4 (subtracted from every sample)\n\
             BENCH null_syscall instructions 323 323 323 10000\r\n\
             garbage from the kernel BENCH yield_roundtrip instructions 4285 4285 4290 9998\n\
             BENCH aspace_clone_1000 cycles 526088 520000 530000 200\n\
             BENCH-DONE\r\n\
             [    9.9] reboot: Power down",
        );
        let rows = parse_bench_output(&out).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].name, "null_syscall");
        assert_eq!(rows[0].unit, "instructions");
        assert_eq!((rows[0].median, rows[0].p10, rows[0].p90), (323, 323, 323));
        assert_eq!(rows[0].iterations, 10000);
        assert_eq!(rows[1].name, "yield_roundtrip");
        assert_eq!(rows[1].iterations, 9998);
        assert_eq!(rows[2].unit, "cycles");
        assert_eq!(rows[2].median, 526_088);
    }

    #[test]
    fn missing_done_is_an_error() {
        let out = lines("BENCH null_syscall instructions 1 1 1 10\n");
        let err = parse_bench_output(&out).unwrap_err();
        assert!(err.to_string().contains("BENCH-DONE"), "{err:#}");
    }

    #[test]
    fn guest_errors_and_malformed_rows_are_errors() {
        let out = lines("BENCH-ERROR fork: Cannot allocate memory\n");
        assert!(
            parse_bench_output(&out)
                .unwrap_err()
                .to_string()
                .contains("fork")
        );
        let out = lines("BENCH null_syscall instructions 1 1\nBENCH-DONE\n");
        assert!(parse_bench_output(&out).is_err());
        let out = lines("BENCH null_syscall instructions 1 x 1 10\nBENCH-DONE\n");
        assert!(parse_bench_output(&out).is_err());
        assert!(parse_bench_output(&lines("BENCH-DONE\n")).is_err());
    }

    #[test]
    fn initramfs_has_bin_before_tinytrue() {
        let entries = initramfs_entries(b"init".to_vec(), b"true".to_vec(), None);
        let at = |path: &str| entries.iter().position(|e| e.path == path).unwrap();
        assert!(at("dev") < at("dev/console"));
        assert!(at("dev") < at("dev/null"));
        assert!(at("bin") < at("bin/tinytrue"));
        let tinytrue = &entries[at("bin/tinytrue")];
        assert_eq!(tinytrue.perm, 0o755);
        assert_eq!(tinytrue.kind, CpioKind::File(b"true".to_vec()));
        assert_eq!(entries[at("bin")].kind, CpioKind::Dir);
        assert_eq!(entries[at("init")].kind, CpioKind::File(b"init".to_vec()));
        assert!(!entries.iter().any(|e| e.path == "bin/busybox"));
        let entries = initramfs_entries(Vec::new(), Vec::new(), Some(b"bb".to_vec()));
        let at = |path: &str| entries.iter().position(|e| e.path == path).unwrap();
        assert!(at("bin") < at("bin/busybox"));
        assert_eq!(
            entries[at("bin/busybox")].kind,
            CpioKind::File(b"bb".to_vec())
        );
    }

    /// A minimal ELF64 header with one program header of type `kind`.
    fn elf_with_header(kind: u32) -> Vec<u8> {
        let mut elf = vec![0u8; 64 + 56];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&kind.to_le_bytes());
        elf
    }

    #[test]
    fn static_elf_has_no_interpreter() {
        assert!(static_elf(&elf_with_header(1)));
        assert!(!static_elf(&elf_with_header(3)));
        assert!(!static_elf(b"#!/bin/sh\n"));
        assert!(!static_elf(&elf_with_header(1)[..70]));
        let mut huge = elf_with_header(1);
        huge[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(!static_elf(&huge));
    }

    #[test]
    fn picks_the_real_kernel_package() {
        let depends = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(kernel_packages(depends), ["linux-image-6.1.0-56-amd64"]);
        let depends = "linux-image-amd64\n \
                       |Depends: linux-image-6.12.9-amd64\n  \
                       Depends: <linux-image-6.12.9-amd64-unsigned>\n  \
                       Depends: linux-base\n  Recommends: firmware-linux-free\n";
        assert_eq!(
            kernel_packages(depends),
            [
                "linux-image-6.12.9-amd64",
                "linux-image-6.12.9-amd64-unsigned"
            ]
        );
        assert!(kernel_packages("linux-image-amd64\n  Depends: linux-image-amd64\n").is_empty());
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(
            version_cmp("vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-56-amd64"),
            Ordering::Less
        );
        assert_eq!(
            version_cmp("vmlinuz-6.10.0-1-amd64", "vmlinuz-6.9.0-1-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            version_cmp("vmlinuz-6.1.0", "vmlinuz-6.1.0"),
            Ordering::Equal
        );
    }
}
