//! The built-in commands: those that change the shell (`cd`, `exit`,
//! `export`, `unset`, `set`, `shift`, `read`, `source`, `break`,
//! `continue`), those about its jobs (`jobs`, `fg`, `wait`, `kill`), and a
//! few kept in the shell to save a program start (`echo`, `true`,
//! `false`, `test`, `[`, `pwd`, `:`), plus `help`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use files::Kind;
use utilcore::jobspec::{self, JobSpec};
use utilcore::test::{FileKind, Files};

use crate::io::Io;
use crate::shell::{Flow, Run, Shell};

/// The built-ins' names, sorted (also for completion and `help`).
pub const NAMES: [&str; 27] = [
    ".", ":", "[", "break", "cd", "command", "continue", "echo", "exec", "exit", "export", "false",
    "fg", "help", "jobs", "kill", "pwd", "read", "return", "set", "shift", "source", "test",
    "true", "type", "unset", "wait",
];

/// Whether `name` is a built-in.
pub fn is_builtin(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Runs the built-in `argv[0]` with `io`.
pub fn run(shell: &mut Shell, argv: &[String], io: &Io) -> Run {
    let args = &argv[1..];
    let name = argv[0].as_str();
    match name {
        ":" | "true" => Ok(0),
        "false" => Ok(1),
        "echo" => Ok(write_out(shell, io, name, &utilcore::echo::output(args))),
        "pwd" => {
            let cwd = files::getcwd();
            Ok(write_out(shell, io, name, format!("{cwd}\n").as_bytes()))
        }
        "cd" => Ok(cd(shell, args, io)),
        "exit" => exit(shell, args, io),
        "exec" => Ok(exec(shell, args, io)),
        "export" => Ok(export(shell, args, io)),
        "unset" => Ok(unset(shell, args, io)),
        "set" => Ok(set(shell, args, io)),
        "shift" => Ok(shift(shell, args, io)),
        "test" => Ok(test(shell, args, io, name)),
        "[" => match args.split_last() {
            Some((last, rest)) if last == "]" => Ok(test(shell, rest, io, name)),
            _ => {
                shell.error(io, format_args!("[: missing `]'"));
                Ok(2)
            }
        },
        "read" => Ok(read(shell, args, io)),
        "source" | "." => match args.first() {
            Some(path) => {
                let saved = (args.len() > 1)
                    .then(|| core::mem::replace(&mut shell.args, args[1..].to_vec()));
                let path = path.clone();
                let result = shell.source(&path, io);
                if let Some(saved) = saved {
                    shell.args = saved;
                }
                result
            }
            None => {
                shell.error(io, format_args!("{name}: filename argument required"));
                Ok(2)
            }
        },
        "break" | "continue" => loop_control(shell, name, args, io),
        "jobs" => Ok(jobs(shell, io)),
        "fg" => fg(shell, args, io),
        "wait" => wait(shell, args, io),
        "kill" => Ok(kill(shell, args, io)),
        "help" => Ok(write_out(shell, io, name, HELP.as_bytes())),
        "return" => crate::functions::return_builtin(shell, args, io),
        "type" => Ok(crate::functions::type_builtin(shell, args, io)),
        "command" => Ok(crate::functions::command_query(shell, args, io)),
        _ => Ok(127),
    }
}

/// The text of `help`.
const HELP: &str = "\
Mica sh: a small POSIX-like shell (docs/shell.md).
  Built-ins: cd [DIR|-], pwd, echo [-neE], exit [N], export [NAME[=V]],
    unset [-f] NAME, set [-ex] [-- ARGS], shift [N], read [-r] [-p P] NAME...,
    test/[ EXPR ], source/. FILE, jobs, fg [%N], wait [%N|PID], kill [%N|PID],
    break [N], continue [N], return [N], type NAME, command [-v] NAME,
    exec PROGRAM [ARGS],
    true, false, :, help
  Syntax: a | b, a && b, a || b, a; b, a &, > < >> 2> 2>&1, 'x' \"$v\",
    $((1 + 2)), $(cmd), `cmd`, if/then/elif/else/fi, while/until/do/done,
    for NAME in ...; do ...; done, case W in P|Q) ...;; esac, f() { ...; }
  Programs in /bin (ls /bin): ls cat grep sort wc head tail ps free ...
    each with --help.
  Keys: arrows, Home/End, ^A ^E ^K ^U ^W ^Y ^R, Tab completes, ^C interrupts,
    ^D on an empty line exits. In QEMU, Ctrl-A X quits.
";

/// `exec PROGRAM [ARGS]`: the shell's process runs PROGRAM in its place
/// (same pid and parent, this command's streams, the exported
/// variables; `process::Command::exec`). Returns only when it cannot,
/// with 127 (not found) or 126 and a message, as dash does; the shell
/// goes on. `exec` alone does nothing (redirections that outlive a
/// command are not supported).
fn exec(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let Some(name) = args.first() else {
        return 0;
    };
    let Some(path) = shell.find_program(name) else {
        shell.error(io, format_args!("exec: {name}: not found"));
        return 127;
    };
    let mut kept = Vec::new();
    let [stdin, stdout, stderr] = io.dup_for_child(&mut kept);
    let env = shell.child_env(&[]);
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = process::Command::new(&path)
        .args(&argv)
        .env(&env)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .exec();
    let (status, message) = match error {
        process::ProcError::NotFound => (127, String::from("not found")),
        other => (126, other.to_string()),
    };
    shell.error(io, format_args!("exec: {name}: {message}"));
    status
}

/// Writes to `stdout`; status 1 with a message if that fails.
fn write_out(shell: &Shell, io: &Io, name: &str, bytes: &[u8]) -> i32 {
    match io.out(bytes) {
        Ok(()) => 0,
        Err(error) => {
            shell.error(
                io,
                format_args!("{name}: write error: {}", utilcore::errors::message(error)),
            );
            1
        }
    }
}

fn cd(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let args: Vec<&String> = args.iter().filter(|a| *a != "--").collect();
    if args.len() > 1 {
        shell.error(io, format_args!("cd: too many arguments"));
        return 1;
    }
    let mut print = false;
    let target = match args.first().map(|a| a.as_str()) {
        None => shell
            .get("HOME")
            .filter(|h| !h.is_empty())
            .unwrap_or("/")
            .to_string(),
        Some("-") => match shell.get("OLDPWD") {
            Some(old) => {
                print = true;
                old.to_string()
            }
            None => {
                shell.error(io, format_args!("cd: OLDPWD not set"));
                return 1;
            }
        },
        Some(dir) => dir.to_string(),
    };
    let old = files::getcwd();
    if let Err(error) = files::chdir(&target) {
        shell.error(
            io,
            format_args!("cd: {target}: {}", utilcore::errors::message(error)),
        );
        return 1;
    }
    let new = files::getcwd();
    shell.set_exported("OLDPWD", &old);
    shell.set_exported("PWD", &new);
    if print {
        return write_out(shell, io, "cd", format!("{new}\n").as_bytes());
    }
    0
}

fn exit(shell: &mut Shell, args: &[String], io: &Io) -> Run {
    match args {
        [] => Err(Flow::Exit(shell.status)),
        [code] => match code.parse::<i64>() {
            Ok(code) => Err(Flow::Exit((code & 0xff) as i32)),
            Err(_) => {
                shell.error(io, format_args!("exit: {code}: numeric argument required"));
                Err(Flow::Exit(2))
            }
        },
        _ => {
            shell.error(io, format_args!("exit: too many arguments"));
            Ok(1)
        }
    }
}

/// `NAME='value'` with the value quoted so the shell reads it back.
/// A value in single quotes, as shell text.
pub fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

fn export(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let args: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
    if args.is_empty() {
        let mut text = String::new();
        for (name, var) in shell.vars.iter().filter(|(_, v)| v.exported) {
            text.push_str(&format!("export {name}={}\n", quoted(&var.value)));
        }
        return write_out(shell, io, "export", text.as_bytes());
    }
    let mut status = 0;
    for arg in args {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        if !shcore::ast::is_name(name) {
            shell.error(io, format_args!("export: `{arg}': not a valid identifier"));
            status = 1;
            continue;
        }
        let value = value
            .map(String::from)
            .or_else(|| shell.get(name).map(String::from))
            .unwrap_or_default();
        shell.set_exported(name, &value);
    }
    status
}

fn unset(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    if args.first().is_some_and(|a| a == "-f") {
        return crate::functions::unset_functions(shell, &args[1..]);
    }
    let mut status = 0;
    for arg in args.iter().filter(|a| *a != "-v") {
        if !shcore::ast::is_name(arg) {
            shell.error(io, format_args!("unset: `{arg}': not a valid identifier"));
            status = 1;
            continue;
        }
        shell.vars.remove(arg.as_str());
    }
    status
}

fn set(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    if args.is_empty() {
        let mut text = String::new();
        for (name, var) in &shell.vars {
            text.push_str(&format!("{name}={}\n", quoted(&var.value)));
        }
        return write_out(shell, io, "set", text.as_bytes());
    }
    let mut rest = args;
    while let Some(first) = rest.first() {
        if first == "--" {
            shell.args = rest[1..].to_vec();
            return 0;
        }
        let (on, letters) = match first.as_bytes().first() {
            Some(b'-') => (true, &first[1..]),
            Some(b'+') => (false, &first[1..]),
            _ => break,
        };
        if letters.is_empty() {
            rest = &rest[1..];
            break;
        }
        for letter in letters.chars() {
            match letter {
                'e' => shell.errexit = on,
                'x' => shell.xtrace = on,
                _ => {
                    shell.error(io, format_args!("set: -{letter}: invalid option"));
                    return 2;
                }
            }
        }
        rest = &rest[1..];
    }
    if !rest.is_empty() {
        shell.args = rest.to_vec();
    }
    0
}

fn shift(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let count = match args.first().map(|a| a.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            shell.error(
                io,
                format_args!("shift: {}: numeric argument required", args[0]),
            );
            return 1;
        }
    };
    if count > shell.args.len() {
        return 1;
    }
    shell.args.drain(..count);
    0
}

/// What `test` sees of the file system.
struct RealFiles;

impl Files for RealFiles {
    fn kind(&self, path: &str) -> Option<FileKind> {
        files::metadata(path).ok().map(|m| match m.kind {
            Kind::File => FileKind::File,
            Kind::Dir => FileKind::Directory,
            _ => FileKind::Other,
        })
    }

    fn size(&self, path: &str) -> u64 {
        files::metadata(path).map_or(0, |m| m.size)
    }

    fn writable(&self, path: &str) -> bool {
        // Only ramfs is writable.
        let cwd = files::getcwd();
        let absolute = if path.starts_with('/') {
            String::from(path)
        } else {
            format!("{cwd}/{path}")
        };
        absolute == "/tmp" || absolute.starts_with("/tmp/") || absolute.starts_with("tmp:")
    }
}

fn test(shell: &mut Shell, args: &[String], io: &Io, name: &str) -> i32 {
    match utilcore::test::evaluate(args, &RealFiles) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(message) => {
            shell.error(io, format_args!("{name}: {message}"));
            2
        }
    }
}

fn read(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut raw = false;
    let mut names: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-r" => raw = true,
            "-p" => {
                i += 1;
                if let Some(prompt) = args.get(i) {
                    io.err(prompt.as_bytes());
                }
            }
            name => {
                if !shcore::ast::is_name(name) {
                    shell.error(io, format_args!("read: `{name}': not a valid identifier"));
                    return 2;
                }
                names.push(name);
            }
        }
        i += 1;
    }
    if names.is_empty() {
        names.push("REPLY");
    }
    // One byte at a time, so that what follows the line stays for the
    // next reader of the same input.
    let mut line = Vec::new();
    let mut ended = false;
    loop {
        match io.read_byte() {
            Ok(Some(b'\n')) => break,
            Ok(Some(b'\\')) if !raw => match io.read_byte() {
                Ok(Some(b'\n')) => {}
                Ok(Some(byte)) => line.push(byte),
                _ => {
                    ended = true;
                    break;
                }
            },
            Ok(Some(byte)) => line.push(byte),
            Ok(None) => {
                ended = true;
                break;
            }
            Err(error) => {
                shell.error(
                    io,
                    format_args!("read: read error: {}", utilcore::errors::message(error)),
                );
                return 1;
            }
        }
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let mut rest = line.trim_matches([' ', '\t']);
    for (i, name) in names.iter().enumerate() {
        if i + 1 == names.len() {
            shell.set(name, rest.trim_end_matches([' ', '\t']));
            break;
        }
        let (word, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        shell.set(name, word);
        rest = after.trim_start_matches([' ', '\t']);
    }
    if ended && line.is_empty() {
        1
    } else {
        i32::from(ended)
    }
}

fn loop_control(shell: &mut Shell, name: &str, args: &[String], io: &Io) -> Run {
    let count = match args.first().map(|a| a.parse::<u32>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        _ => {
            shell.error(
                io,
                format_args!("{name}: {}: loop count out of range", args[0]),
            );
            return Ok(1);
        }
    };
    if shell.loop_depth == 0 {
        return Ok(0);
    }
    let count = count.min(shell.loop_depth);
    Err(if name == "break" {
        Flow::Break(count)
    } else {
        Flow::Continue(count)
    })
}

/// `Running`/`Done`/`Exit N`/`Killed` for a job list.
fn job_state(job: &mut crate::jobs::Job) -> String {
    if !job.done() {
        return String::from("Running");
    }
    match job.children.last().and_then(|c| c.end) {
        Some(process::End::Exited(0)) | None => String::from("Done"),
        Some(process::End::Exited(n)) => format!("Exit {n}"),
        Some(process::End::Killed) => String::from("Killed"),
        Some(process::End::Faulted { .. }) => String::from("Segmentation fault"),
    }
}

fn jobs(shell: &mut Shell, io: &Io) -> i32 {
    let mut text = String::new();
    let count = shell.jobs.list.len();
    for (i, job) in shell.jobs.list.iter_mut().enumerate() {
        let mark = if i + 1 == count {
            '+'
        } else if i + 2 == count {
            '-'
        } else {
            ' '
        };
        let state = job_state(job);
        text.push_str(&format!("[{}]{mark}  {state:<24}{} &\n", job.id, job.text));
    }
    // Finished jobs are reported once.
    shell.jobs.list.retain_mut(|j| !j.done());
    write_out(shell, io, "jobs", text.as_bytes())
}

/// The job an argument names, or a message and status.
fn find_job(shell: &Shell, name: &str, arg: Option<&String>, io: &Io) -> Result<usize, i32> {
    let spec = match arg {
        None => JobSpec::Current,
        Some(arg) => match jobspec::parse(arg) {
            Ok(spec) => spec,
            Err(bad) => {
                shell.error(io, format_args!("{name}: {bad}: no such job"));
                return Err(1);
            }
        },
    };
    shell.jobs.find(spec).ok_or_else(|| {
        let what = arg.map_or("current", |a| a.as_str());
        shell.error(io, format_args!("{name}: {what}: no such job"));
        1
    })
}

fn fg(shell: &mut Shell, args: &[String], io: &Io) -> Run {
    let index = match find_job(shell, "fg", args.first(), io) {
        Ok(index) => index,
        Err(status) => return Ok(status),
    };
    let mut job = shell.jobs.list.remove(index);
    let _ = io.out(format!("{}\n", job.text).as_bytes());
    let mut children: Vec<&mut crate::jobs::Child> = job.children.iter_mut().collect();
    shell.wait_foreground(&mut children);
    let signal = shell.foreground.take_signal();
    let status = match (job.children.last().and_then(|c| c.end), signal) {
        (Some(process::End::Killed), Some(n)) => 128 + i32::from(n),
        _ => job.status(),
    };
    if signal.is_some() {
        shell.status = status;
        return Err(Flow::Interrupted);
    }
    Ok(status)
}

fn wait(shell: &mut Shell, args: &[String], io: &Io) -> Run {
    if args.is_empty() {
        let mut jobs = core::mem::take(&mut shell.jobs.list);
        for job in &mut jobs {
            let mut children: Vec<&mut crate::jobs::Child> = job.children.iter_mut().collect();
            shell.wait_foreground(&mut children);
            if shell.foreground.take_signal().is_some() {
                jobs.retain_mut(|j| !j.done());
                shell.jobs.list.extend(jobs);
                return Err(Flow::Interrupted);
            }
        }
        return Ok(0);
    }
    let mut status = 0;
    for arg in args {
        let index = match find_job(shell, "wait", Some(arg), io) {
            Ok(index) => index,
            Err(_) => {
                status = 127;
                continue;
            }
        };
        let mut job = shell.jobs.list.remove(index);
        let mut children: Vec<&mut crate::jobs::Child> = job.children.iter_mut().collect();
        shell.wait_foreground(&mut children);
        if shell.foreground.take_signal().is_some() {
            return Err(Flow::Interrupted);
        }
        status = job.status();
    }
    Ok(status)
}

fn kill(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut targets = args;
    // Every signal ends the process: `-9`, `-KILL`, `-s NAME` are accepted.
    if let Some(first) = targets.first() {
        if first == "-l" {
            return write_out(shell, io, "kill", b"KILL TERM INT (all end the process)\n");
        }
        if first == "-s" {
            targets = targets.get(2..).unwrap_or(&[]);
        } else if first == "--" || (first.starts_with('-') && first.len() > 1) {
            targets = &targets[1..];
        }
    }
    if targets.is_empty() {
        shell.error(
            io,
            format_args!("kill: usage: kill [-s SIGNAL | -SIGNAL] %JOB | PID..."),
        );
        return 2;
    }
    let mut status = 0;
    for target in targets {
        let spec = match jobspec::parse(target) {
            Ok(spec) => spec,
            Err(bad) => {
                shell.error(
                    io,
                    format_args!("kill: {bad}: arguments must be process or job IDs"),
                );
                status = 1;
                continue;
            }
        };
        let Some(index) = shell.jobs.find(spec) else {
            match spec {
                JobSpec::Pid(pid) => shell.error(
                    io,
                    format_args!("kill: ({pid}) - not a child of this shell (a process can be ended only through its capability, which its parent holds)"),
                ),
                _ => shell.error(io, format_args!("kill: {target}: no such job")),
            }
            status = 1;
            continue;
        };
        let job = &shell.jobs.list[index];
        for child in &job.children {
            let kill_it = match spec {
                JobSpec::Pid(pid) => child.process.pid().0 == pid,
                _ => true,
            };
            if kill_it && child.end.is_none() {
                let _ = child.process.kill();
            }
        }
    }
    status
}
