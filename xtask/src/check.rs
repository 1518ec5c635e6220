//! `cargo xtask check`: rustfmt, clippy with `-D warnings` on the host
//! crates and on the bare-metal crates, and the layering rules of
//! STYLE.md §1 and §5.

use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Result, bail};

use crate::build::{self, TARGET};

/// Files under servers/ allowed to opt out of `forbid(unsafe_code)`, and why.
const UNSAFE_ALLOWED: &[(&str, &str)] = &[
    (
        "servers/test-runner/src/cpu.rs",
        "deliberately faulting instructions and direct FPU/TLS register access for the kernel's tests",
    ),
    (
        "servers/test-runner/src/raw_thread.rs",
        "threads started by hand on pooled stacks, with no control block, for the kernel's tests",
    ),
    (
        "servers/test-runner/src/copy_spawn.rs",
        "children made from a byte copy of the test runner's own image, for the kernel's tests",
    ),
    (
        "servers/test-runner/src/timing.rs",
        "serialised TSC reads around the measured instructions of the benchmarks",
    ),
];

/// Kernel files outside `arch/` and `mem/` that may hold `unsafe`, and why
/// (STYLE.md §5).
const KERNEL_UNSAFE_ALLOWED: &[(&str, &str)] = &[
    ("kernel/src/main.rs", "the linker's image-boundary symbols"),
    (
        "kernel/src/boot_program.rs",
        "reading the initramfs through the direct map",
    ),
    ("kernel/src/usercopy.rs", "the one user-memory copy routine"),
    (
        "kernel/src/object/lifetime.rs",
        "freeing an object's frame once its last reference is gone",
    ),
    (
        "kernel/src/vm/pages.rs",
        "a page's payer, kept as a frame number in the page bookkeeping",
    ),
];

/// Modules the kernel state (`kernel/src/kernel.rs`, the bottom layer)
/// must not call into: they are built on it.
const KERNEL_STATE_MUST_NOT_USE: &[&str] = &[
    "crate::syscall",
    "crate::fastpath",
    "crate::ipc",
    "crate::entry",
    "crate::exception",
];

/// The kernel's own layering: the state at the bottom calls nothing
/// above it, and unsafe code stays where STYLE.md §5 puts it.
fn kernel_rules(root: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let state = std::fs::read_to_string(root.join("kernel/src/kernel.rs"))?;
    let code: Vec<&str> = state
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    for module in KERNEL_STATE_MUST_NOT_USE {
        if code.iter().any(|line| line.contains(module)) {
            problems.push(format!(
                "kernel/src/kernel.rs: the kernel state must not use `{module}`"
            ));
        }
    }
    for file in walk(&root.join("kernel/src")) {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let lower_layer = rel.starts_with("kernel/src/arch/") || rel.starts_with("kernel/src/mem/");
        let listed = KERNEL_UNSAFE_ALLOWED.iter().any(|(f, _)| *f == rel);
        if lower_layer || listed {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let has_unsafe = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .any(|line| line.contains("unsafe"));
        if has_unsafe {
            problems.push(format!(
                "{rel}: unsafe code outside arch/, mem/ and xtask's KERNEL_UNSAFE_ALLOWED list"
            ));
        }
    }
    Ok(problems)
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(build::root());
    cmd
}

/// The allowed dependency edges between workspace crates, by the
/// depending crate's directory and the dependency's package name
/// (STYLE.md §1: `abi` and `fscore` <- everything; `kcore` <- kernel; `rt`
/// <- protocols <- files <- servers and programs; `rt` <- ring <- servers and
/// programs and files).
fn allowed(from_dir: &str, to: &str) -> bool {
    let user = from_dir.starts_with("servers/") || from_dir.starts_with("programs/");
    match to {
        "abi" => true,
        // The file API's pure logic (errors, paths, the ramfs tree, the pipe
        // buffer): no IPC, so any crate may use it.
        "fscore" => true,
        // The process table's pure logic (no IPC): any crate may use it.
        "procore" => true,
        // Pure terminal logic (line discipline, keys, line editor): any crate may use it.
        "ttycore" => true,
        // The shell language's pure logic (parser, expansion, globbing): any crate may use it.
        "shcore" => true,
        // The built-ins' and coreutils' pure logic: any crate may use it.
        "utilcore" => true,
        // init, initfs and the test runner read the initramfs with kcore's
        // tar reader (init before initfs runs; the tests to compare).
        "kcore" => matches!(
            from_dir,
            "kernel" | "servers/test-runner" | "servers/init" | "servers/initfs"
        ),
        // init reads manifests out of ELF files.
        "elfload" => matches!(
            from_dir,
            "rt" | "servers/test-runner" | "servers/init" | "xtask"
        ),
        // The packed system.toml: xtask writes it, init reads it; programs
        // declare their manifests with its macro.
        "sysconf" => from_dir == "xtask" || user,
        "rt" => user || matches!(from_dir, "protocols" | "files" | "ring" | "process"),
        "protocols" => user || matches!(from_dir, "files" | "process"),
        // The file API every program may use (and the process API, which
        // reads programs through it).
        "files" => user || from_dir == "process",
        // The process API every program may use.
        "process" => user,
        // Shared-memory rings: programs use them; the crate itself needs
        // only rt (its Mica memory and futexes).
        "ring" => user || from_dir == "files",
        _ => false,
    }
}

fn layering(root: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let members = build::workspace_members()?;
    let mut names = Vec::new();
    for dir in &members {
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml"))?;
        let doc: toml::Table = toml::from_str(&manifest)?;
        let name = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(dir)
            .to_string();
        names.push((dir.clone(), name, doc));
    }
    let internal: Vec<String> = names.iter().map(|(_, name, _)| name.clone()).collect();
    for (dir, _, doc) in &names {
        for section in ["dependencies", "build-dependencies"] {
            let Some(deps) = doc.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for dep in deps.keys() {
                if internal.contains(dep) && !allowed(dir, dep) {
                    problems.push(format!("{dir}: may not depend on `{dep}` (STYLE.md §1)"));
                }
            }
        }
    }
    // The user-space library crates other than rt forbid unsafe code.
    for krate in ["protocols", "ring", "files", "process", "fscore", "procore"] {
        let lib = root.join(krate).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib)?;
        if !text.contains("#![forbid(unsafe_code)]") {
            problems.push(format!(
                "{krate}/src/lib.rs: must start with #![forbid(unsafe_code)] (STYLE.md §5)"
            ));
        }
    }
    // servers/, programs/ and protocols/ forbid unsafe code, except listed
    // files.
    for top in ["servers", "programs", "protocols"] {
        let Ok(entries) = std::fs::read_dir(root.join(top)) else {
            continue;
        };
        for entry in entries.flatten() {
            let main = ["src/main.rs", "src/lib.rs"]
                .iter()
                .map(|f| entry.path().join(f))
                .find(|p| p.exists());
            let Some(main) = main else { continue };
            let text = std::fs::read_to_string(&main)?;
            let rel = main
                .strip_prefix(root)
                .unwrap_or(&main)
                .display()
                .to_string();
            let has_allowance = UNSAFE_ALLOWED.iter().any(|(f, _)| {
                f.starts_with(&format!("{top}/{}", entry.file_name().to_string_lossy()))
            });
            let forbids = text.contains("#![forbid(unsafe_code)]");
            let denies = text.contains("#![deny(unsafe_code)]");
            if !(forbids || (denies && has_allowance)) {
                problems.push(format!(
                    "{rel}: must start with #![forbid(unsafe_code)] (STYLE.md §5)"
                ));
            }
            for file in walk(&entry.path().join("src")) {
                let text = std::fs::read_to_string(&file)?;
                let rel = file
                    .strip_prefix(root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                let listed = UNSAFE_ALLOWED.iter().any(|(f, _)| *f == rel);
                if text.contains("allow(unsafe_code)") && !listed {
                    problems.push(format!(
                        "{rel}: allows unsafe code but is not in xtask's UNSAFE_ALLOWED list"
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// Syscalls without a `## N. Name` section in docs/syscalls.md.
fn undocumented_syscalls(root: &Path) -> Result<Vec<String>> {
    let doc = std::fs::read_to_string(root.join("docs/syscalls.md")).unwrap_or_default();
    Ok(abi::syscall::Syscall::ALL
        .iter()
        .map(|s| (s.number(), format!("{s:?}")))
        .filter(|(number, name)| !doc.contains(&format!("## {number}. {name}")))
        .map(|(_, name)| name)
        .collect())
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// Runs every check; non-zero exit if any fails.
pub fn run() -> Result<ExitCode> {
    build::ensure_toolchain()?;
    build::ensure_lint_tools()?;
    let mut failed = Vec::new();
    println!("xtask check: cargo fmt --check");
    if !cargo()
        .args(["fmt", "--all", "--check"])
        .status()?
        .success()
    {
        failed.push("rustfmt");
    }
    println!("xtask check: clippy (host crates)");
    let (host_crates, bare_crates) = build::crate_kinds()?;
    let mut host = cargo();
    host.args(["clippy", "--all-targets"]);
    for c in &host_crates {
        host.args(["-p", c]);
    }
    if !host.args(["--", "-D", "warnings"]).status()?.success() {
        failed.push("clippy (host)");
    }
    println!("xtask check: clippy ({TARGET} crates)");
    let mut bare = cargo();
    bare.args(["clippy", "--release", "--target", TARGET, "--target-dir"])
        .arg(build::root().join("target/clippy"));
    for c in &bare_crates {
        bare.args(["-p", c]);
    }
    if !bare.args(["--", "-D", "warnings"]).status()?.success() {
        failed.push("clippy (bare metal)");
    }
    println!("xtask check: layering rules");
    let mut problems = layering(&build::root())?;
    problems.extend(kernel_rules(&build::root())?);
    for p in &problems {
        println!("  {p}");
    }
    if !problems.is_empty() {
        failed.push("layering");
    }
    println!("xtask check: docs/syscalls.md covers every syscall");
    let missing = undocumented_syscalls(&build::root())?;
    for name in &missing {
        println!("  docs/syscalls.md has no section for {name}");
    }
    if !missing.is_empty() {
        failed.push("docs");
    }
    if failed.is_empty() {
        println!("xtask check: all clean");
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("failed: {}", failed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn dependency_rules() {
        assert!(allowed("kernel", "abi"));
        assert!(allowed("kernel", "kcore"));
        assert!(!allowed("rt", "kernel"));
        assert!(!allowed("rt", "kcore"));
        assert!(allowed("rt", "elfload"));
        assert!(allowed("servers/test-runner", "rt"));
        assert!(!allowed("servers/test-runner", "kernel"));
        assert!(allowed("programs/tiny", "rt"));
        assert!(allowed("protocols", "rt"));
        assert!(!allowed("protocols", "kcore"));
        assert!(!allowed("elfload", "rt"));
        assert!(allowed("rt", "fscore"));
        assert!(allowed("servers/init", "fscore"));
        assert!(allowed("protocols", "fscore"));
        assert!(allowed("programs/serial", "ttycore"));
        assert!(allowed("servers/init", "shcore"));
        assert!(allowed("ring", "rt"));
        assert!(allowed("programs/ring-peer", "ring"));
        assert!(!allowed("rt", "ring"));
        assert!(!allowed("protocols", "ring"));
    }
}
