//! `sh`: Mica's shell (docs/shell.md).
//!
//! - `sh -c 'COMMANDS' [NAME [ARGS...]]`: runs the string;
//! - `sh FILE [ARGS...]`: runs the script;
//! - `sh` with a terminal as `stdin`: the interactive shell;
//! - `sh` with other input: reads commands from `stdin`.
//!
//! Started with no arguments and no standard stream at all (by init, at
//! boot), it opens `/dev/console` as `stdin`, `stdout` and `stderr`: a
//! getty of one line. `sh -c` or a script without streams runs without
//! them (as with closed descriptors on Unix): it never takes the console.
//! The exit status is the last command's (2 for a syntax error or a bad
//! option, 127 for a script that is not there).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod builtins;
mod exec;
mod functions;
mod interactive;
mod io;
mod jobs;
mod shell;
mod subst;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use files::{File, OpenFlags};
use rt::Handle;

use crate::io::{Io, fd};
use crate::shell::{Flow, Run, Shell};

rt::entry!(main);

/// The greeting the console shell prints first.
const GREETING: &str =
    "Mica sh: type `help` for help, `ls /bin` for the programs; Ctrl-A X quits QEMU.\n";

fn main() -> u64 {
    let args: Vec<String> = rt::process::args().map(String::from).collect();
    let (io, console) = startup_io(args.len() <= 1);
    let arg0 = args.first().cloned().unwrap_or_else(|| "sh".to_string());
    let status = match args.get(1).map(String::as_str) {
        Some("-c") => {
            let Some(text) = args.get(2) else {
                io.err(b"sh: -c: option requires an argument\n");
                return 2;
            };
            let name = args.get(3).cloned().unwrap_or(arg0);
            let rest = args.get(4..).map(<[String]>::to_vec).unwrap_or_default();
            let mut shell = Shell::new(name, rest, io);
            finish(shell.run_text(text, "-c"))
        }
        Some("--help") => {
            let _ = io.out(b"Usage: sh [-c COMMANDS [NAME [ARGS...]] | FILE [ARGS...]]\nRuns commands; with neither, reads them from standard input (a terminal: interactively).\n");
            0
        }
        Some(option) if option.starts_with('-') && option != "-" => {
            io.err(alloc::format!("sh: {option}: invalid option\nUsage: sh [-c COMMANDS [NAME [ARGS...]] | FILE [ARGS...]]\n").as_bytes());
            2
        }
        Some(script) if script != "-" => {
            let script = script.to_string();
            let rest = args[2..].to_vec();
            let mut shell = Shell::new(script.clone(), rest, io);
            match shell::read_text(&script) {
                Ok(text) => finish(shell.run_text(&text, &script)),
                Err(message) => {
                    let io = shell.io.clone();
                    shell.error(&io, format_args!("{script}: {message}"));
                    127
                }
            }
        }
        _ => {
            let mut shell = Shell::new(arg0, Vec::new(), io);
            let terminal = shell.io.fds[0]
                .as_ref()
                .map(|f| f.borrow().endpoint().slot())
                .filter(|&slot| interactive::is_terminal(slot));
            match terminal {
                Some(slot) => {
                    if console {
                        let _ = shell.io.out(GREETING.as_bytes());
                    }
                    interactive::run(&mut shell, slot)
                }
                None => finish(shell.run_input("stdin")),
            }
        }
    };
    status as u64 & 0xff
}

/// A script's end: its status, or `exit`'s.
fn finish(result: Run) -> i32 {
    match result {
        Ok(status) => status,
        Err(Flow::Exit(status)) => status,
        Err(Flow::Interrupted) => 130,
        Err(Flow::Return(status)) => status,
        Err(Flow::Break(_) | Flow::Continue(_)) => 0,
    }
}

/// The standard streams from the startup page; with none at all and
/// `getty` (no arguments: started by init), the console for all three (and
/// `true` says so).
fn startup_io(getty: bool) -> (Io, bool) {
    let mut io = Io::default();
    let names = ["stdin", "stdout", "stderr"];
    for (slot, name) in io.fds.iter_mut().zip(names) {
        *slot = File::inherited(name).map(fd);
    }
    if !getty || io.fds.iter().any(Option::is_some) {
        return (io, false);
    }
    match File::open("/dev/console", OpenFlags::READ | OpenFlags::WRITE) {
        Ok(console) => {
            let out = console.dup("").ok().map(fd);
            let err = console.dup("").ok().map(fd);
            io.fds = [Some(fd(console)), out, err];
            (io, true)
        }
        Err(error) => {
            rt::println!("sh: no stdin and no /dev/console");
            let _ = error;
            (io, false)
        }
    }
}
