//! The shell's state (variables, positional arguments, the last status,
//! the jobs, the streams) and reading programs: text is fed line by line
//! and run a complete command at a time, as POSIX shells do, so a syntax
//! error stops a script only where it is.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use shcore::ast::FunctionDef;
use shcore::{Env, ParseError};

use crate::io::Io;
use crate::jobs::{Foreground, Jobs};

/// How a command ended other than with a status: the control flow that
/// unwinds through the commands around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// `exit N`.
    Exit(i32),
    /// `break N` (loops still to leave).
    Break(u32),
    /// `continue N`.
    Continue(u32),
    /// ^C: abandon the whole command line.
    Interrupted,
    /// `return N`: leave the function (or sourced file).
    Return(i32),
}

/// A command's status, or the flow that cuts it short.
pub type Run = Result<i32, Flow>;

/// One variable.
#[derive(Clone, Debug)]
pub struct Var {
    /// Its value.
    pub value: String,
    /// Passed to children (`export`).
    pub exported: bool,
}

/// Nesting of `source` (and `sh` inside `.`) allowed, so that a script
/// that sources itself ends with an error, not a stack overflow.
const SOURCE_DEPTH_MAX: u32 = 16;

/// The shell.
pub struct Shell {
    /// Variables by name.
    pub vars: BTreeMap<String, Var>,
    /// `$0`.
    pub name: String,
    /// `$1`... .
    pub args: Vec<String>,
    /// `$?`.
    pub status: i32,
    /// `$$`.
    pub pid: u64,
    /// `$!`.
    pub last_background: Option<u64>,
    /// The current streams.
    pub io: Io,
    /// Background jobs.
    pub jobs: Jobs,
    /// The foreground job, shared with the thread that waits for ^C.
    pub foreground: Arc<Foreground>,
    /// Whether a person types at a terminal (prompts, job messages).
    pub interactive: bool,
    /// `set -e`: exit when a command fails.
    pub errexit: bool,
    /// `set -x`: print each command before running it.
    pub xtrace: bool,
    /// Loops the running command is inside (for `break`, `continue`).
    pub loop_depth: u32,
    /// `source` nesting.
    pub source_depth: u32,
    /// The line being read (for syntax error messages).
    pub line_number: usize,
    /// Functions by name.
    pub functions: BTreeMap<String, Rc<FunctionDef>>,
    /// Function calls the running command is inside.
    pub function_depth: u32,
    /// The status of the last command substitution of the command being
    /// expanded (`$?` of a command of only assignments).
    pub substitution_status: Option<i32>,
}

impl Shell {
    /// A shell named `name` with `args`, over `io`, with the program's
    /// environment as exported variables.
    pub fn new(name: String, args: Vec<String>, io: Io) -> Shell {
        let mut vars = BTreeMap::new();
        for entry in rt::process::env() {
            if let Some((key, value)) = entry.split_once('=')
                && shcore::ast::is_name(key)
            {
                vars.insert(
                    key.to_string(),
                    Var {
                        value: value.to_string(),
                        exported: true,
                    },
                );
            }
        }
        let pid = process::ids().map_or(0, |(pid, _)| u64::from(pid.0));
        let mut shell = Shell {
            vars,
            name,
            args,
            status: 0,
            pid,
            last_background: None,
            io,
            jobs: Jobs::default(),
            foreground: Arc::new(Foreground::default()),
            interactive: false,
            errexit: false,
            xtrace: false,
            loop_depth: 0,
            source_depth: 0,
            line_number: 0,
            functions: BTreeMap::new(),
            function_depth: 0,
            substitution_status: None,
        };
        if !shell.vars.contains_key("PATH") {
            shell.set_exported("PATH", "/bin");
        }
        let cwd = files::getcwd();
        shell.set_exported("PWD", &cwd);
        shell
    }

    /// Sets a variable, keeping whether it is exported.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.vars.get_mut(name) {
            Some(var) => var.value = value.to_string(),
            None => {
                self.vars.insert(
                    name.to_string(),
                    Var {
                        value: value.to_string(),
                        exported: false,
                    },
                );
            }
        }
    }

    /// Sets and exports a variable.
    pub fn set_exported(&mut self, name: &str, value: &str) {
        self.vars.insert(
            name.to_string(),
            Var {
                value: value.to_string(),
                exported: true,
            },
        );
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// Writes `sh: MESSAGE` and a newline to the current `stderr`.
    pub fn error(&self, io: &Io, message: core::fmt::Arguments<'_>) {
        io.err(format!("sh: {message}\n").as_bytes());
    }

    /// Runs `text` (a whole script or `-c` string) line by line. `source`
    /// names it in error messages.
    pub fn run_text(&mut self, text: &str, source: &str) -> Run {
        let mut reader = Reader::default();
        let mut status = self.status;
        self.line_number = 0;
        for line in text.split_inclusive('\n') {
            self.line_number += 1;
            match reader.feed(line) {
                Parsed::More => {}
                Parsed::Program(program) => status = self.run_program(&program)?,
                Parsed::Error(error) => return Err(self.syntax_error(&error, source)),
            }
        }
        match reader.finish() {
            Some(error) => Err(self.syntax_error(&error, source)),
            None => Ok(status),
        }
    }

    /// Runs commands from `stdin` (not a terminal) a complete command at
    /// a time, reading it a byte at a time as `read` does, so that what a
    /// command reads from `stdin` (`read`, `cat`) is the input after it,
    /// as in other shells.
    pub fn run_input(&mut self, source: &str) -> Run {
        let mut reader = Reader::default();
        let mut status = self.status;
        self.line_number = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            let io = self.io.clone();
            let ended = loop {
                match io.read_byte() {
                    Ok(Some(byte)) => {
                        line.push(byte);
                        if byte == b'\n' {
                            break false;
                        }
                    }
                    Ok(None) => break true,
                    Err(_) if line.is_empty() && self.line_number == 0 => {
                        io.err(b"sh: cannot read commands from standard input\n");
                        return Err(Flow::Exit(2));
                    }
                    // A read error later ends the input like its end.
                    Err(_) => break true,
                }
            };
            if !line.is_empty() {
                self.line_number += 1;
                let text = String::from_utf8_lossy(&line);
                match reader.feed(&text) {
                    Parsed::More => {}
                    Parsed::Program(program) => status = self.run_program(&program)?,
                    Parsed::Error(error) => return Err(self.syntax_error(&error, source)),
                }
            }
            if ended {
                break;
            }
        }
        match reader.finish() {
            Some(error) => Err(self.syntax_error(&error, source)),
            None => Ok(status),
        }
    }

    /// Runs one parsed program at the top of a script or prompt.
    pub fn run_program(&mut self, program: &shcore::ast::List) -> Run {
        let status = self.run_list(program)?;
        self.status = status;
        Ok(status)
    }

    /// Reports a syntax error; the flow that ends a script (status 2).
    pub fn syntax_error(&mut self, error: &ParseError, source: &str) -> Flow {
        let io = self.io.clone();
        let message = syntax_message(error);
        self.error(
            &io,
            format_args!(
                "{source}: line {}: syntax error: {message}",
                self.line_number
            ),
        );
        self.status = 2;
        Flow::Exit(2)
    }

    /// Runs the file at `path` in this shell (`source`, `.`).
    pub fn source(&mut self, path: &str, io: &Io) -> Run {
        if self.source_depth >= SOURCE_DEPTH_MAX {
            self.error(io, format_args!("{path}: sourced too deeply"));
            return Ok(1);
        }
        let text = match read_text(path) {
            Ok(text) => text,
            Err(message) => {
                self.error(io, format_args!("{path}: {message}"));
                return Ok(1);
            }
        };
        self.source_depth += 1;
        let saved_line = self.line_number;
        let result = self.run_text(&text, path);
        self.line_number = saved_line;
        self.source_depth -= 1;
        match result {
            Err(Flow::Return(status)) => Ok(status),
            // A syntax error ends the sourced file, not the shell.
            Err(Flow::Exit(2)) if self.status == 2 && self.source_depth > 0 => Ok(2),
            other => other,
        }
    }

    /// The environment for a child: exported variables, then `extra`.
    pub fn child_env(&self, extra: &[(String, String)]) -> Vec<String> {
        let mut env: Vec<String> = self
            .vars
            .iter()
            .filter(|(name, var)| var.exported && !extra.iter().any(|(n, _)| n == *name))
            .map(|(name, var)| format!("{name}={}", var.value))
            .collect();
        env.extend(extra.iter().map(|(n, v)| format!("{n}={v}")));
        env
    }
}

/// A syntax error's message without its byte offset.
pub fn syntax_message(error: &ParseError) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((offset, message)) if offset.starts_with("offset ") => message.to_string(),
        _ => text,
    }
}

/// Reads a whole text file.
///
/// # Errors
/// The GNU wording of what went wrong.
pub fn read_text(path: &str) -> Result<String, &'static str> {
    let mut file = files::File::open_read(path).map_err(utilcore::errors::message)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(utilcore::errors::message)?;
    String::from_utf8(bytes).map_err(|_| "not a text file (invalid UTF-8)")
}

/// What feeding a line gave.
pub enum Parsed {
    /// The command is not complete: read another line (PS2).
    More,
    /// A complete program.
    Program(shcore::ast::List),
    /// A syntax error (the text so far is dropped).
    Error(ParseError),
}

/// Collects lines until they parse.
#[derive(Default)]
pub struct Reader {
    text: String,
}

impl Reader {
    /// Adds a line (with its newline, if it had one).
    pub fn feed(&mut self, line: &str) -> Parsed {
        self.text.push_str(line);
        match shcore::parse(&self.text) {
            Ok(program) => {
                self.text.clear();
                Parsed::Program(program)
            }
            Err(error) if error.is_incomplete() => Parsed::More,
            Err(error) => {
                self.text.clear();
                Parsed::Error(error)
            }
        }
    }

    /// Whether a command is waiting for more lines.
    pub fn pending(&self) -> bool {
        !self.text.is_empty()
    }

    /// Drops what was collected (^C at the PS2 prompt).
    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// The input ended: an error if a command was left open.
    pub fn finish(&mut self) -> Option<ParseError> {
        if self.text.trim().is_empty() {
            return None;
        }
        let error = shcore::parse(&self.text).err();
        self.text.clear();
        error
    }
}

impl Env for Shell {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(String::from)
    }

    fn set_var(&mut self, name: &str, value: &str) {
        self.set(name, value);
    }

    fn last_status(&self) -> i32 {
        self.status
    }

    fn pid(&self) -> u64 {
        self.pid
    }

    fn last_background(&self) -> Option<u64> {
        self.last_background
    }

    fn arg0(&self) -> &str {
        &self.name
    }

    fn args(&self) -> &[String] {
        &self.args
    }

    fn command_output(&mut self, program: &shcore::ast::List) -> String {
        self.substitute(program)
    }
}
