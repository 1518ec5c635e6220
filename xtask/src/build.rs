//! Building Mica: the kernel, the user programs, their flat images and the
//! initramfs, with the right target, flags and target directory for each.

use std::path::{Path, PathBuf};
use std::process::Command;

use abi::boot::{FLAT_MAGIC, FLAT_VERSION, FlatImageHeader};
use abi::layout::{IMAGE_BASE, PAGE_BYTES};
use anyhow::{Context, Result, bail};
use object::Endianness;
use object::Object;
use object::read::elf::{ElfFile64, ProgramHeader};

use crate::initramfs::Initramfs;

/// The bare-metal target.
pub const TARGET: &str = "x86_64-unknown-none";
/// Stack the first program gets.
const BOOTSTRAP_STACK_BYTES: u64 = 256 * 1024;
/// A ustar member's data follows its 512-byte header (`crate::initramfs`).
const TAR_HEADER_BYTES: usize = 512;

/// Paths of a finished build.
pub struct Artifacts {
    /// The kernel ELF (with symbols, booted by QEMU through its PVH note).
    pub kernel: PathBuf,
    /// The initramfs tar file.
    pub initramfs: PathBuf,
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The workspace's member directories (root Cargo.toml `members`).
pub fn workspace_members() -> Result<Vec<String>> {
    workspace_list("members")
}

fn workspace_list(key: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(root().join("Cargo.toml"))?;
    let doc: toml::Table = toml::from_str(&text)?;
    let list = doc
        .get("workspace")
        .and_then(|w| w.get(key))
        .and_then(|m| m.as_array())
        .with_context(|| format!("Cargo.toml has no workspace.{key}"))?;
    Ok(list
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}

/// The package names of the host crates (`default-members`: built and
/// tested by plain `cargo test`) and of the crates built for [`TARGET`]
/// (every member but xtask: the pure crates are built for both).
pub fn crate_kinds() -> Result<(Vec<String>, Vec<String>)> {
    let host_dirs = workspace_list("default-members")?;
    let (mut host, mut bare) = (Vec::new(), Vec::new());
    for dir in workspace_members()? {
        let text = std::fs::read_to_string(root().join(&dir).join("Cargo.toml"))?;
        let doc: toml::Table = toml::from_str(&text)?;
        let name = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(&dir)
            .to_string();
        if host_dirs.contains(&dir) {
            host.push(name.clone());
        }
        if dir != "xtask" {
            bare.push(name);
        }
    }
    Ok((host, bare))
}

/// Runs a command, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{:?} failed ({status})", cmd.get_program());
    }
    Ok(())
}

/// Makes sure rustup has the bare-metal target and the lint components
/// (rust-toolchain.toml asks for them, but rustup adds them only when it
/// installs the toolchain itself).
pub fn ensure_toolchain() -> Result<()> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(TARGET).exists() {
        println!("xtask: installing the {TARGET} target with rustup");
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    Ok(())
}

/// Makes sure rustfmt and clippy are installed (for `cargo xtask check`).
pub fn ensure_lint_tools() -> Result<()> {
    for (probe, component) in [("fmt", "rustfmt"), ("clippy", "clippy")] {
        let present = Command::new("cargo")
            .args([probe, "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            println!("xtask: installing {component} with rustup");
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Builds one bare-metal package in release mode into its own target
/// directory (kernel and user programs link differently).
fn build_package(package: &str, dir: &str) -> Result<PathBuf> {
    run(cargo()
        .args([
            "build",
            "--release",
            "-p",
            package,
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(root().join(dir)))?;
    Ok(root().join(dir).join(TARGET).join("release").join(package))
}

/// The first program, which the kernel maps as a flat image.
const INIT: &str = "init";

/// The Rust programs loaded from the initramfs: every crate under
/// `programs/` and `servers/` but init (each links with `rt/elf.ld`), as
/// `bin/<name>`.
fn rust_programs() -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dir in ["programs", "servers"] {
        for entry in std::fs::read_dir(root().join(dir))? {
            let path = entry?.path();
            if path.join("Cargo.toml").exists()
                && let Some(name) = path.file_name().and_then(|n| n.to_str())
                && name != INIT
            {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// The utilities of the multi-call `programs/coreutils`: every
/// `name: "NAME",` line of its sources (each `Utility` has one), so the
/// list is the code's.
fn coreutils_names() -> Result<Vec<String>> {
    let dir = root().join("programs/coreutils/src");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("name: \"")
                && let Some(name) = rest.strip_suffix("\",")
            {
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase()) {
                    bail!("coreutils: utility name `{name}` is not lower-case letters");
                }
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        bail!("coreutils: no utility names found in {}", dir.display());
    }
    Ok(names)
}

/// The C programs: every `programs/*/*.c`, one program per directory,
/// built with gcc as static executables without libc, as `bin/<dir>`.
fn c_programs() -> Result<Vec<(String, PathBuf)>> {
    let out = root().join("target/user/c");
    std::fs::create_dir_all(&out)?;
    let mut built = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("programs"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let sources: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        if sources.is_empty() {
            continue;
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("program directory name")?
            .to_string();
        let binary = out.join(&name);
        run(Command::new("gcc")
            .args([
                "-static",
                "-nostdlib",
                "-ffreestanding",
                "-fno-pie",
                "-no-pie",
                "-O2",
                "-fno-stack-protector",
                "-fno-asynchronous-unwind-tables",
                "-Wl,--build-id=none",
                "-o",
            ])
            .arg(&binary)
            .args(&sources))
        .context("building a C program with gcc (install gcc)")?;
        built.push((name, binary));
    }
    Ok(built)
}

/// Builds everything and writes `target/mica/{kernel,initramfs.tar}`.
pub fn build_all() -> Result<Artifacts> {
    ensure_toolchain()?;
    let kernel = build_package("kernel", "target/kernel")?;
    let init = build_package(INIT, "target/user")?;
    let programs = rust_programs()?;
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(root().join("target/user"));
    for name in &programs {
        cmd.args(["-p", name]);
    }
    run(&mut cmd)?;
    let release = root().join("target/user").join(TARGET).join("release");
    let out = root().join("target/mica");
    std::fs::create_dir_all(&out)?;
    let elf = std::fs::read(&init).with_context(|| format!("reading {}", init.display()))?;
    // `bootstrap` first, its image data on a page boundary of the archive
    // (which the loader places on a page boundary), so that the kernel
    // maps the initramfs pages instead of copying them.
    let mut archive = Initramfs::new();
    let image = flatten(&elf, archive.len() + TAR_HEADER_BYTES)?;
    archive.append_file("bootstrap", 0o755, &image)?;
    let page = PAGE_BYTES as usize;
    // Directories have entries of their own, for a file server to list.
    archive.append_dir("bin")?;
    for name in &programs {
        let path = release.join(name);
        let elf = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        check_loadable(name, &elf)?;
        let elf = packed_program(name, &elf)?;
        archive.append_file_aligned(&format!("bin/{name}"), 0o755, &elf, page)?;
    }
    // The multi-call coreutils under each utility's name (docs/shell.md).
    for name in coreutils_names()? {
        archive.append_hard_link(&format!("bin/{name}"), "bin/coreutils")?;
    }
    for (name, path) in c_programs()? {
        let elf = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        check_loadable(&name, &elf)?;
        let elf = packed_program(&name, &elf)?;
        archive.append_file_aligned(&format!("bin/{name}"), 0o755, &elf, page)?;
    }
    // The system configurations, validated and packed (docs/system.md):
    // `system.toml` for a normal boot, `system-test.toml` for the in-OS
    // suite, the benchmarks and the fuzzer (init reads the one the kernel
    // command line names with `system=`).
    archive.append_dir("etc")?;
    for (source, packed) in [
        ("system.toml", "etc/system.bin"),
        ("system-test.toml", "etc/system-test.bin"),
    ] {
        let system = crate::system::pack_file(&root().join(source))?;
        archive.append_file(packed, 0o644, &system)?;
    }
    archive.append_file(
        "README",
        0o644,
        b"Mica initramfs: bootstrap is init, the first program; bin/ holds the programs it loads; etc/ the system configurations.\n",
    )?;
    let archive = archive.finish()?;
    let initramfs = out.join("initramfs.tar");
    std::fs::write(&initramfs, archive)?;
    let kernel_out = out.join("kernel");
    std::fs::copy(&kernel, &kernel_out)?;
    Ok(Artifacts {
        kernel: kernel_out,
        initramfs,
    })
}

/// Every program the build makes must pass the loader's checks (the same
/// `elfload::parse` that `rt::spawn` runs), so a linker-script change that
/// breaks loading fails the build, not a boot.
fn check_loadable(name: &str, elf: &[u8]) -> Result<()> {
    let options = elfload::Options {
        base: 0,
        file_page_offset: 0,
    };
    elfload::parse(elf, &options)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{name}: the ELF loader refuses it: {e}"))
}

/// The copy of program `name` that goes into the initramfs: without its
/// debug sections (`crate::strip`; the ELF in `target/user/` keeps them for
/// gdb), and checked again by the loader.
fn packed_program(name: &str, elf: &[u8]) -> Result<Vec<u8>> {
    let stripped = crate::strip::strip_debug(elf).with_context(|| format!("stripping {name}"))?;
    check_loadable(name, &stripped)?;
    Ok(stripped)
}

/// Turns a user ELF linked at IMAGE_BASE (rt/user.ld) into a flat image:
/// an `abi::boot::FlatImageHeader`, zeros up to `header_bytes`, then the
/// loaded bytes. The image will start at byte `archive_offset` of the
/// initramfs; `header_bytes` is chosen so that the loaded bytes start on
/// a page boundary there.
pub fn flatten(elf: &[u8], archive_offset: usize) -> Result<Vec<u8>> {
    let file = ElfFile64::<Endianness>::parse(elf).context("parsing the user ELF")?;
    let endian = file.endian();
    let mut file_end = IMAGE_BASE;
    let mut mem_end = IMAGE_BASE;
    let mut exec_end = IMAGE_BASE;
    let mut writable_start = u64::MAX;
    let mut data = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != object::elf::PT_LOAD || ph.p_memsz(endian) == 0 {
            continue;
        }
        let (addr, size) = (ph.p_vaddr(endian), ph.p_memsz(endian));
        let bytes = ph
            .data(endian, elf)
            .map_err(|()| anyhow::anyhow!("segment data out of range"))?;
        if addr < IMAGE_BASE {
            bail!("segment at {addr:#x} lies below the image base {IMAGE_BASE:#x}");
        }
        if ph.p_flags(endian).0 & object::elf::PF_X.0 != 0 {
            exec_end = exec_end.max(addr + size);
        } else {
            writable_start = writable_start.min(addr);
        }
        let offset = (addr - IMAGE_BASE) as usize;
        if data.len() < offset + bytes.len() {
            data.resize(offset + bytes.len(), 0);
        }
        data[offset..offset + bytes.len()].copy_from_slice(bytes);
        if !bytes.is_empty() {
            file_end = file_end.max(addr + bytes.len() as u64);
        }
        mem_end = mem_end.max(addr + size);
    }
    let exec_bytes = (exec_end - IMAGE_BASE).div_ceil(PAGE_BYTES) * PAGE_BYTES;
    if writable_start < IMAGE_BASE + exec_bytes {
        bail!(
            "non-executable data at {writable_start:#x} shares a page with code; link with rt/user.ld"
        );
    }
    data.truncate((file_end - IMAGE_BASE) as usize);
    let page = PAGE_BYTES as usize;
    let least = size_of::<FlatImageHeader>();
    let header_bytes = least + (page - (archive_offset + least) % page) % page;
    let header = FlatImageHeader {
        magic: FLAT_MAGIC,
        version: FLAT_VERSION,
        header_bytes: u32::try_from(header_bytes)?,
        load_addr: IMAGE_BASE,
        entry: file.entry(),
        file_bytes: data.len() as u64,
        mem_bytes: mem_end - IMAGE_BASE,
        stack_bytes: BOOTSTRAP_STACK_BYTES,
        exec_bytes,
    };
    let mut image = zerocopy::IntoBytes::as_bytes(&header).to_vec();
    image.resize(header_bytes, 0);
    image.extend_from_slice(&data);
    FlatImageHeader::parse(&image).map_err(|e| anyhow::anyhow!("flat image rejected: {e:?}"))?;
    Ok(image)
}
