//! Debian packages fetched for the Linux side of the benchmarks (its
//! kernel, a static busybox): `apt-get download` into a scratch directory
//! and `dpkg-deb -x`, so nothing is installed on the machine.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Tries `apt-get download` for each package in turn; returns the first
/// `.deb` obtained.
pub fn download_any(workdir: &Path, packages: &[String]) -> Result<Option<PathBuf>> {
    for package in packages {
        let status = Command::new("apt-get")
            .args(["download", package])
            .current_dir(workdir)
            .status()
            .context("running apt-get download")?;
        if !status.success() {
            continue;
        }
        let prefix = format!("{package}_");
        for entry in fs::read_dir(workdir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(".deb") {
                return Ok(Some(workdir.join(name)));
            }
        }
    }
    Ok(None)
}

pub fn apt_update() -> Result<()> {
    println!("linux bench: running apt-get update");
    let status = Command::new("apt-get")
        .arg("update")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("apt-get update failed: {status}");
    }
    Ok(())
}

/// True if `program` can be started.
pub fn command_exists(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs a command and returns its stdout; fails on a non-zero exit.
pub fn capture(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {} failed: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Unpacks `deb` into the directory `root` (made if missing).
pub fn extract(deb: &Path, root: &Path) -> Result<()> {
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(root)
        .status()
        .context("running dpkg-deb")?;
    if !status.success() {
        bail!(
            "dpkg-deb -x {} {} failed: {status}",
            deb.display(),
            root.display()
        );
    }
    Ok(())
}
