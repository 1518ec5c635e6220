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
        .stdin(
            in_dup
                .as_ref()
                .map_or(Stdio::Null, |f| Stdio::File(f.endpoint().slot())),
        )
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
pub fn check(script: &str, out: &str, status: u64) -> TestResult {
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
pub fn check_err(script: &str, out: &str, err: &str, status: u64) -> TestResult {
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
    check(
        "true && echo a || echo b; false && echo c || echo d",
        "a\nd\n",
        0,
    )?;
    check("echo a; # comment\necho b", "a\nb\n", 0)?;
    check("exit 7", "", 7)?;
    check("false", "", 1)?;
    check("! false", "", 0)?;
    check_err("nosuch", "", "sh: nosuch: command not found\n", 127)?;
    check_err(
        "echo 'open",
        "",
        "sh: -c: line 1: syntax error: unexpected end of input: missing '\n",
        2,
    )?;
    Ok(())
}

/// Pipelines through `pipe:`.
pub fn pipelines() -> TestResult {
    check("echo abc | /bin/probe cat", "abc\n", 0)?;
    check(
        "echo abc | /bin/probe cat | /bin/probe cat | /bin/probe cat",
        "abc\n",
        0,
    )?;
    Ok(())
}

/// Redirections: `>`, `>>`, `<`, `2>`, `2>&1`, into /tmp and back.
pub fn redirections() -> TestResult {
    check(
        "mkdir -p /tmp/shr && cd /tmp/shr && echo one > f && echo two >> f && cat < f && cat f | wc -l",
        "one\ntwo\n2\n",
        0,
    )?;
    check(
        "cd /tmp/shr; ls /nope 2> err; cat err",
        "ls: cannot access '/nope': No such file or directory\n",
        0,
    )?;
    check(
        "cd /tmp/shr; ls /nope > out 2>&1; cat out; rm out err f",
        "ls: cannot access '/nope': No such file or directory\n",
        0,
    )?;
    check(
        "cd /tmp/shr && { echo a; echo b; } > g && cat g && rm g",
        "a\nb\n",
        0,
    )?;
    check_err(
        "cat < /tmp/shr/none",
        "",
        "sh: /tmp/shr/none: No such file or directory\n",
        1,
    )?;
    check_err(
        "echo x > /bin/x",
        "",
        "sh: /bin/x: Read-only file system\n",
        1,
    )?;
    check("rmdir /tmp/shr && echo gone", "gone\n", 0)?;
    Ok(())
}

/// `if`, `while`, `until`, `for`, `break`, `continue`, groups, subshells.
pub fn compound() -> TestResult {
    check("if true; then echo y; else echo n; fi", "y\n", 0)?;
    check(
        "if false; then echo y; elif true; then echo e; fi",
        "e\n",
        0,
    )?;
    check("for i in a b c; do echo $i; done", "a\nb\nc\n", 0)?;
    check_err(
        "echo a; cat <<EOF",
        "",
        "sh: -c: line 1: syntax error: here-documents not supported\n",
        2,
    )?;
    check(
        "n=x; while [ $n != xxxx ]; do n=${n}x; echo $n; done",
        "xx\nxxx\nxxxx\n",
        0,
    )?;
    check(
        "n=; until [ \"$n\" = aa ]; do n=a$n; done; echo $n",
        "aa\n",
        0,
    )?;
    check(
        "for i in 1 2 3 4; do if [ $i = 2 ]; then continue; fi; if [ $i = 4 ]; then break; fi; echo $i; done",
        "1\n3\n",
        0,
    )?;
    check("x=1; (x=2; echo $x); echo $x", "2\n1\n", 0)?;
    check(
        "for f in /bin/ca* /bin/s?; do echo $f; done",
        "/bin/cat\n/bin/sh\n",
        0,
    )?;
    check(
        "set -- a 'b c'; for x; do echo \"<$x>\"; done; echo $#",
        "<a>\n<b c>\n2\n",
        0,
    )?;
    Ok(())
}

/// Built-ins: cd, pwd, export, unset, set, test, read, source, exit.
pub fn builtins() -> TestResult {
    check("cd /tmp; pwd; cd /bin; cd -; cd; pwd", "/tmp\n/tmp\n/\n", 0)?;
    check_err(
        "cd /nope",
        "",
        "sh: cd: /nope: No such file or directory\n",
        1,
    )?;
    check("HOME=/tmp; cd; pwd", "/tmp\n", 0)?;
    check(
        "export A=1; env | grep '^A='; B=2 env | grep '^B='; env | grep -c '^B='",
        "A=1\nB=2\n0\n",
        1,
    )?;
    check(
        "A=1; env | grep -c '^A='; export A; env | grep '^A='",
        "0\nA=1\n",
        0,
    )?;
    check("A=1; unset A; echo \"[$A]\"", "[]\n", 0)?;
    check(
        "[ 1 -lt 2 ] && test -d /bin && ! test -f /bin && echo ok",
        "ok\n",
        0,
    )?;
    check_err(
        "test 1 -eq x",
        "",
        "sh: test: x: integer expression expected\n",
        2,
    )?;
    check("echo 'a b c' | { read x y; echo \"$y/$x\"; }", "b c/a\n", 0)?;
    check(
        "echo 'echo sourced $1; V=set' > /tmp/src.sh; . /tmp/src.sh arg; echo $V; rm /tmp/src.sh",
        "sourced arg\nset\n",
        0,
    )?;
    check("echo $$ | grep -c '^[0-9][0-9]*$'", "1\n", 0)?;
    check("set -e; true; false; echo not", "", 1)?;
    check("exit 300", "", 44)?;
    check("echo -n a; echo -e 'b\\tc'", "ab\tc\n", 0)?;
    let help = sh("help")?;
    ensure!(help.out.contains("Built-ins") && help.end == End::Exited(0));
    Ok(())
}

/// Jobs: `&`, `$!`, `jobs`, `wait`, `fg`, `kill`.
pub fn jobs() -> TestResult {
    check("sleep 0.05 & wait; echo done", "done\n", 0)?;
    check("sleep 10 & kill %1; wait %1; echo $?", "137\n", 0)?;
    check(
        "sleep 1 & jobs; kill %1; wait",
        "[1]+  Running                 sleep 1 &\n",
        0,
    )?;
    check("sleep 0.02 & fg %1; echo $?", "sleep 0.02\n0\n", 0)?;
    check_err(
        "kill 1",
        "",
        "sh: kill: (1) - not a child of this shell (a process can be ended only through its capability, which its parent holds)\n",
        1,
    )?;
    check_err("fg", "", "sh: fg: current: no such job\n", 1)?;
    Ok(())
}

/// Exit statuses: not found, not executable, a crash and its message.
pub fn statuses() -> TestResult {
    check_err(
        "/bin/nope",
        "",
        "sh: /bin/nope: No such file or directory\n",
        127,
    )?;
    check_err(
        "/etc/system.bin",
        "",
        "sh: /etc/system.bin: cannot execute: not a program for this machine\n",
        126,
    )?;
    check_err("/bin", "", "sh: /bin: Is a directory\n", 126)?;
    let crash = sh("/bin/probe fault; echo status $?")?;
    ensure_eq!(crash.out.as_str(), "status 139\n");
    ensure!(
        crash
            .err
            .starts_with("sh: /bin/probe: page fault (vector 14) at 0x")
    );
    Ok(())
}

/// Pipelines of the coreutils: `yes | head`, five programs.
pub fn coreutils_pipelines() -> TestResult {
    check("yes | head -n 3", "y\ny\ny\n", 0)?;
    check("seq 10 | sort -r | head -n 4 | tail -n 2 | wc -l", "2\n", 0)?;
    check(
        "seq 5 | grep -v 3 | sort -n -r | uniq | tr 2>/dev/null; echo $?",
        "127\n",
        0,
    )?;
    check(
        "seq 3 | tee /tmp/tee.out | wc -l; cat /tmp/tee.out; rm /tmp/tee.out",
        "3\n1\n2\n3\n",
        0,
    )?;
    Ok(())
}

/// A hundred external `true`s in a loop: every frame comes back.
pub fn hundred_trues_frames() -> TestResult {
    let script = "for i in 1 2 3 4 5 6 7 8 9 10; do for j in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done; done; echo $?";
    check(script, "0\n", 0)?;
    let before = free_frames()?;
    check(script, "0\n", 0)?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A fork bomb typed as a script: shells start shells in the background
/// until budgets run out; every start that cannot be paid for fails
/// with a message, and afterwards the shell and the system work.
pub fn fork_bomb() -> TestResult {
    // Warm up first (the frame count after a first shell, pipeline and
    // file would count what this program's heap and the servers keep),
    // so that the test stands alone as in the suite.
    check(
        "echo warm > /tmp/warm; seq 2 | wc -l; rm /tmp/warm",
        "2
",
        0,
    )?;
    let before = free_frames()?;
    let bomb = "echo 'sh /tmp/bomb.sh & sh /tmp/bomb.sh & wait' > /tmp/bomb.sh; sh /tmp/bomb.sh 2>/dev/null; rm /tmp/bomb.sh; echo survived";
    let got = sh(bomb)?;
    ensure_eq!(got.out.as_str(), "survived\n");
    check("echo still; seq 2 | wc -l", "still\n2\n", 0)?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Each utility's output and error cases, as GNU's.
/// `/dev/null` and `dmesg` (`/dev/kmsg`) as scripts use them.
pub fn devices() -> TestResult {
    check("echo hi > /dev/null; echo $?", "0\n", 0)?;
    check("nosuch 2> /dev/null; echo $?", "127\n", 0)?;
    check("cat /dev/null | wc -c", "0\n", 0)?;
    check("ls /dev", "console\nkmsg\nnull\n", 0)?;
    // The whole log, or (after 16 KiB of it) from a whole line on.
    check("dmesg | head -n 1 | grep -c '^\\[[A-Z ]*\\] '", "1\n", 0)?;
    check_err(
        "dmesg -x",
        "",
        "dmesg: invalid option -- 'x'\nTry 'dmesg --help' for more information.\n",
        1,
    )?;
    Ok(())
}

pub fn utilities() -> TestResult {
    check(
        "mkdir -p /tmp/u/a/b && touch /tmp/u/z /tmp/u/.h && ls /tmp/u",
        "a\nz\n",
        0,
    )?;
    check("ls -a /tmp/u", ".\n..\n.h\na\nz\n", 0)?;
    check(
        "echo hello > /tmp/u/z; ls -l /tmp/u/z",
        "-rw-r--r-- 1 root root 6 Jan  1  1970 /tmp/u/z\n",
        0,
    )?;
    check_err(
        "ls /tmp/u/nope",
        "",
        "ls: cannot access '/tmp/u/nope': No such file or directory\n",
        2,
    )?;
    check_err(
        "ls -z",
        "",
        "ls: invalid option -- 'z'\nTry 'ls --help' for more information.\n",
        2,
    )?;
    check_err(
        "cat /tmp/u/nope",
        "",
        "cat: /tmp/u/nope: No such file or directory\n",
        1,
    )?;
    check(
        "cp /tmp/u/z /tmp/u/y && mv /tmp/u/y /tmp/u/x && cat /tmp/u/x && ls /tmp/u",
        "hello\na\nx\nz\n",
        0,
    )?;
    check_err(
        "rmdir /tmp/u/a",
        "",
        "rmdir: failed to remove '/tmp/u/a': Directory not empty\n",
        1,
    )?;
    check_err(
        "rm /tmp/u/a",
        "",
        "rm: cannot remove '/tmp/u/a': Is a directory\n",
        1,
    )?;
    check(
        "rm -f /tmp/u/nope; rm -r /tmp/u && ls /tmp | grep -c '^u$'",
        "0\n",
        1,
    )?;
    check(
        "printf=x; echo 'b\na\nb\nc' | sort | uniq -c",
        "      1 a\n      2 b\n      1 c\n",
        0,
    )?;
    check("echo 'a b\nc' | wc", "      2       3       6\n", 0)?;
    check(
        "seq -w 8 10; seq -s , 3; seq 5 -2 1",
        "08\n09\n10\n1,2,3\n5\n3\n1\n",
        0,
    )?;
    check(
        "seq 20 | tail -n 3; seq 5 | head -2; seq 5 | tail -n +4",
        "18\n19\n20\n1\n2\n4\n5\n",
        0,
    )?;
    check(
        "echo 'Abc\nxyz\nabd' | grep -i ab; echo 'a\nb' | grep -v a; echo x | grep -c y",
        "Abc\nabd\nb\n0\n",
        1,
    )?;
    check(
        "echo 'a.c\nabc' | grep -F a.c; echo 'ab12' | grep '^[a-z]*[0-9][0-9]$'",
        "a.c\nab12\n",
        0,
    )?;
    check_err(
        "grep 'a[' /dev/null",
        "",
        "grep: Unmatched [, [^, [:, [., or [=\n",
        2,
    )?;
    check_err("head -n x", "", "head: invalid number of lines: 'x'\n", 1)?;
    check_err(
        "seq x",
        "",
        "seq: invalid floating point argument: 'x'\nTry 'seq --help' for more information.\n",
        1,
    )?;
    check(
        "uname; uname -sm; /bin/true --help | head -n 1",
        "Mica\nMica x86_64\nUsage: true\n",
        0,
    )?;
    // The process crate gives every child PWD.
    check("env -i A=1 /bin/env", "A=1\nPWD=/\n", 0)?;
    check(
        "ps | head -n 1; ps | grep -c ' ps$'",
        "  PID  PPID S    MEM(K) NAME\n1\n",
        0,
    )?;
    check(
        "free | head -n 1",
        "KiB                total        used        free\n",
        0,
    )?;
    check(
        "uptime | grep -c '^up '; sleep 0.01; stat /bin | grep -c directory",
        "1\n1\n",
        0,
    )?;
    for name in [
        "ls", "cat", "wc", "grep", "sort", "uniq", "head", "tail", "seq", "rm", "cp", "mv",
        "mkdir", "ps", "free",
    ] {
        let got = sh(&alloc::format!("{name} --help"))?;
        ensure!(got.out.starts_with(&alloc::format!("Usage: {name}")) && got.end == End::Exited(0));
    }
    check("/bin/help | grep -c '  ls '", "1\n", 0)?;
    Ok(())
}

/// Runs `sh` with `script` as its `stdin`, through a pipe.
fn sh_stdin(script: &str) -> Result<Output, super::Failure> {
    let (read, mut write) = pipe()?;
    ensure_eq!(write.write(script.as_bytes()), Ok(script.len()));
    drop(write);
    run_sh(&[], Some(&read))
}

/// Commands from `stdin` (not a terminal) run a complete command at a
/// time: `read` and programs read the lines after theirs, from a pipe and
/// from a file; `while read` loops over a pipeline's lines.
pub fn reads_stdin_a_command_at_a_time() -> TestResult {
    check(
        "echo 'a\nb c' | while read x; do echo \"[$x]\"; done",
        "[a]\n[b c]\n",
        0,
    )?;
    let got = sh_stdin("read x\nhello there\necho got $x\n")?;
    ensure_eq!(got.out.as_str(), "got hello there\n");
    let got = sh_stdin("echo start\ncat\nrest 1\nrest 2\n")?;
    ensure_eq!(got.out.as_str(), "start\nrest 1\nrest 2\n");
    ensure_eq!(got.end, End::Exited(0));
    // A command over several lines, a syntax error's line, the end.
    let got =
        sh_stdin("for i in 1 2\ndo echo $i\ndone\nread y; echo \"<$y>\"\nline\nfi\necho never\n")?;
    ensure_eq!(got.out.as_str(), "1\n2\n<line>\n");
    ensure_eq!(
        got.err.as_str(),
        "sh: stdin: line 5: syntax error: unexpected `fi`\n"
    );
    ensure_eq!(got.end, End::Exited(2));
    // From a file: the shell and `read` share its offset.
    let mut file = File::create("/tmp/sh-stdin.sh").map_err(|_| fail())?;
    let script = b"read a\nfirst\nread b\nsecond\necho $b $a\n";
    ensure_eq!(file.write(script), Ok(script.len()));
    drop(file);
    let input = File::open_read("/tmp/sh-stdin.sh").map_err(|_| fail())?;
    let got = run_sh(&[], Some(&input))?;
    ensure_eq!(got.out.as_str(), "second first\n");
    drop(input);
    ensure!(files::remove_file("/tmp/sh-stdin.sh").is_ok());
    Ok(())
}
