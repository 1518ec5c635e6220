//! The shell (`programs/sh`) and the coreutils (`programs/coreutils`):
//! `sh -c` strings and scripts run with their output captured through
//! pipes and compared exactly.

use alloc::string::String;
use alloc::vec::Vec;

use files::File;
use process::{Command, End, Stdio};
use rt::Handle;

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// What a shell run gave: standard output, standard error, status.
#[derive(Debug, PartialEq, Eq)]
pub struct Output {
    /// Everything written to `stdout`.
    pub out: String,
    /// Everything written to `stderr`.
    pub err: String,
    /// How it ended.
    pub end: End,
}

/// A pipe: its read end and a write end.
fn pipe() -> Result<(File, File), super::Failure> {
    let read = File::open_read("pipe:").map_err(|_| fail())?;
    let write = read.dup("write").map_err(|_| fail())?;
    Ok((read, write))
}

/// Runs `/bin/sh ARGS..` with `stdin` (or none) and captures its output.
pub fn run_sh(args: &[&str], stdin: Option<&File>) -> Result<Output, super::Failure> {
    let (mut out_read, out_write) = pipe()?;
    let (mut err_read, err_write) = pipe()?;
    let mut argv = alloc::vec!["sh"];
    argv.extend_from_slice(args);
    // The child gets its own capabilities (dups), so that its closing
    // them at exit is the end of the file for us.
    let out_dup = out_write.dup("").map_err(|_| fail())?;
    let err_dup = err_write.dup("").map_err(|_| fail())?;
    let in_dup = match stdin {
        Some(file) => Some(file.dup("").map_err(|_| fail())?),
        None => None,
    };
    let child = Command::new("/bin/sh")
        .args(&argv)
        .stdin(in_dup.as_ref().map_or(Stdio::Null, |f| Stdio::File(f.endpoint().slot())))
        .stdout(Stdio::File(out_dup.endpoint().slot()))
        .stderr(Stdio::File(err_dup.endpoint().slot()))
        .budget(8192)
        .spawn();
    drop((out_write, err_write));
    let child = child.map_err(|e| {
        rt::println!("    spawn sh: {e:?}");
        fail()
    })?;
    // The shell closes its streams at exit; ours are given up without
    // closing (they are the same objects).
    let _ = out_dup.into_endpoint();
    let _ = err_dup.into_endpoint();
    if let Some(file) = in_dup {
        let _ = file.into_endpoint();
    }
    let mut out = Vec::new();
    out_read.read_to_end(&mut out).map_err(|_| fail())?;
    let mut err = Vec::new();
    err_read.read_to_end(&mut err).map_err(|_| fail())?;
    let end = child.wait().map_err(|_| fail())?;
    Ok(Output {
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
        end,
    })
}

/// Runs `sh -c SCRIPT`.
pub fn sh(script: &str) -> Result<Output, super::Failure> {
    run_sh(&["-c", script], None)
}

/// Checks `sh -c SCRIPT` prints `out` on stdout, nothing on stderr, and
/// exits with `status`.
fn check(script: &str, out: &str, status: u64) -> TestResult {
    let got = sh(script)?;
    let want = Output {
        out: String::from(out),
        err: String::new(),
        end: End::Exited(status),
    };
    if got != want {
        rt::println!("    script: {script}");
    }
    ensure_eq!(got, want);
    Ok(())
}

/// Checks stdout, stderr and status.
fn check_err(script: &str, out: &str, err: &str, status: u64) -> TestResult {
    let got = sh(script)?;
    let want = Output {
        out: String::from(out),
        err: String::from(err),
        end: End::Exited(status),
    };
    if got != want {
        rt::println!("    script: {script}");
    }
    ensure_eq!(got, want);
    Ok(())
}

/// Simple commands, quoting, variables, `$?`, lists.
pub fn basics() -> TestResult {
    check("echo hello world", "hello world\n", 0)?;
    check("echo 'a  b' \"c  d\" e\\ f", "a  b c  d e f\n", 0)?;
    check("x=1; y=\"$x 2\"; echo $x ${y} \"$y\"", "1 1 2 1 2\n", 0)?;
    check("false; echo $?; true; echo $?", "1\n0\n", 0)?;
    check("true && echo a || echo b; false && echo c || echo d", "a\nd\n", 0)?;
    check("echo a; # comment\necho b", "a\nb\n", 0)?;
    check("exit 7", "", 7)?;
    check("false", "", 1)?;
    check("! false", "", 0)?;
    check_err("nosuch", "", "sh: nosuch: command not found\n", 127)?;
    check_err("echo 'open", "", "sh: -c: line 1: syntax error: unexpected end of input: missing '\n", 2)?;
    Ok(())
}

/// Pipelines through `pipe:`.
pub fn pipelines() -> TestResult {
    check("echo abc | /bin/probe cat", "abc\n", 0)?;
    check("echo abc | /bin/probe cat | /bin/probe cat | /bin/probe cat", "abc\n", 0)?;
    Ok(())
}
