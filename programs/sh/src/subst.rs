//! Command substitution, `$(...)` and `` `...` ``: the commands run in a
//! child `sh -c`, whose `stdout` is a pipe the shell reads while the child
//! runs (so a child that writes a lot never blocks on a full pipe), to its
//! end (which comes when the child, the pipe's only writer, exits).
//!
//! There is no `fork`, so the child cannot inherit the shell's memory:
//! it gets a prelude that recreates what the commands may read, the
//! variables that are not exported (as plain, unexported assignments) and
//! the functions (as definitions), and the shell's `$0` and positional
//! arguments as its own. What it does not get: `$$` is the child's own pid
//! (POSIX keeps the parent's), `$!`, `$?` before the first command, and
//! the options (`set -e`, `-x`); what the commands change (variables,
//! directory) stays in the child, as POSIX says.
//!
//! While the shell reads, the child is the foreground job: ^C ends it, and
//! the substitution gives what was read so far (status 130); the command
//! around it still runs.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use files::File;
use process::{Command as Spawn, End, Stdio};
use rt::Handle;
use shcore::ast::{Command, List};

use crate::jobs::Child;
use crate::shell::Shell;

/// How much of the output is kept at most (the rest is read and dropped,
/// so the child still ends).
const OUTPUT_MAX: usize = 16 << 20;

impl Shell {
    /// Runs `program` in a child shell and answers its output; the status
    /// is kept for a command of only assignments (`$?`).
    pub fn substitute(&mut self, program: &List) -> String {
        let text = self.substitution_script(program);
        let io = self.io.clone();
        let (read, write) = match File::open_read("pipe:").and_then(|read| {
            let write = read.dup("write")?;
            Ok((read, write))
        }) {
            Ok(pair) => pair,
            Err(error) => {
                self.error(
                    &io,
                    format_args!(
                        "command substitution: pipe: {}",
                        utilcore::errors::message(error)
                    ),
                );
                self.substitution_status = Some(1);
                return String::new();
            }
        };
        let sh = self
            .find_program("sh")
            .unwrap_or_else(|| "/bin/sh".to_string());
        let mut argv: Vec<&str> = alloc::vec!["sh", "-c", &text, &self.name];
        argv.extend(self.args.iter().map(String::as_str));
        let env = self.child_env(&[]);
        let env: Vec<&str> = env.iter().map(String::as_str).collect();
        let [stdin, _, stderr] = io.dup_for_child(&mut Vec::new());
        let spawned = Spawn::new(&sh)
            .args(&argv)
            .env(&env)
            .stdin(stdin)
            .stdout(Stdio::File(write.endpoint().slot()))
            .stderr(stderr)
            .budget(crate::exec::child_budget(1))
            .spawn();
        // The child holds its own object for the write end: once it exits,
        // the reader sees the end of the pipe.
        drop(write);
        let process = match spawned {
            Ok(process) => process,
            Err(error) => {
                self.error(
                    &io,
                    format_args!("command substitution: cannot start {sh}: {error:?}"),
                );
                self.substitution_status = Some(126);
                return String::new();
            }
        };
        let mut child = Child {
            process: Arc::new(process),
            name: "sh".to_string(),
            streams: Vec::new(),
            end: None,
        };
        // The child is the foreground job while the shell reads: ^C ends it
        // (the shell then goes on with what it read, status 130).
        {
            let mut processes = self.foreground.processes.lock();
            processes.clear();
            processes.push(Arc::clone(&child.process));
        }
        self.foreground.waiting.store(true, Ordering::Release);
        crate::interactive::cooked(self);
        let output = read_all(read);
        let end = child.wait();
        self.foreground.waiting.store(false, Ordering::Release);
        self.foreground.processes.lock().clear();
        let signal = self.foreground.take_signal();
        self.substitution_status = Some(match (end, signal) {
            (End::Killed, Some(number)) => 128 + i32::from(number),
            (End::Killed, None) => 137,
            (end, _) => end.shell_status() as i32,
        });
        String::from_utf8_lossy(&output).into_owned()
    }

    /// The text the child runs: the prelude, then the commands.
    fn substitution_script(&self, program: &List) -> String {
        let mut text = String::new();
        for (name, var) in &self.vars {
            if !var.exported {
                text.push_str(&format!("{name}={}\n", crate::builtins::quoted(&var.value)));
            }
        }
        for def in self.functions.values() {
            text.push_str(&format!("{}\n", Command::Function((**def).clone())));
        }
        text.push_str(&format!("{program}"));
        text
    }
}

/// Reads a pipe to its end.
fn read_all(mut read: File) -> Vec<u8> {
    let mut output = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match read.read(&mut buffer) {
            Ok(0) | Err(_) => return output,
            Ok(n) => {
                if output.len() < OUTPUT_MAX {
                    output.extend_from_slice(&buffer[..n]);
                }
            }
        }
    }
}
