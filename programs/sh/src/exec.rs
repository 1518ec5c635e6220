//! Running the syntax tree: lists, and-or lists, pipelines, simple and
//! compound commands, redirections, and starting programs.
//!
//! A pipeline's stages that are programs are started first, all at once,
//! each with a `pipe:` end as its `stdin`/`stdout`; the stages that run in
//! the shell (built-ins, compound commands) then run one after the other
//! with their ends. There is no `fork`: a built-in or compound stage of a
//! pipeline runs in the shell itself (so `cmd | read x` sets `x`, as in
//! ksh), and two such stages next to each other pass at most the pipe's
//! 64 KiB between them (the first runs to its end before the second
//! starts).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use files::{File, FsError, OpenFlags};
use process::{Command as Spawn, End, ProcError};
use shcore::ast::{
    AndOr, Case, Command, CompoundCommand, Connector, For, If, List, Loop, LoopKind, Pipeline,
    Redirect, RedirectOp, SimpleCommand, Word,
};
use shcore::expand::{Field, expand_pattern, expand_string, expand_word};

use crate::builtins;
use crate::functions::is_special;
use crate::io::{Io, fd};
use crate::jobs::Child;
use crate::shell::{Flow, Run, Shell};

/// A simple command after expansion.
struct Prepared {
    /// `NAME=value` before the command.
    assignments: Vec<(String, String)>,
    /// The command and its arguments.
    argv: Vec<String>,
}

/// What running one pipeline stage gave.
enum Stage {
    /// A program started, not yet waited for.
    Started(Child),
    /// Finished in the shell with a status.
    Done(i32),
}

impl Shell {
    /// Runs a list; its status is the last item's.
    pub fn run_list(&mut self, list: &List) -> Run {
        let mut status = self.status;
        for item in &list.items {
            status = if item.background {
                self.run_background(&item.and_or)?
            } else {
                self.run_and_or(&item.and_or)?
            };
            self.status = status;
            if self.errexit && status != 0 {
                return Err(Flow::Exit(status));
            }
        }
        Ok(status)
    }

    fn run_and_or(&mut self, and_or: &AndOr) -> Run {
        let mut status = self.run_pipeline(&and_or.first, false)?;
        for (connector, pipeline) in &and_or.rest {
            self.status = status;
            let go = match connector {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if go {
                status = self.run_pipeline(pipeline, false)?;
            }
        }
        Ok(status)
    }

    /// `a | b &`: its programs run on as a job. An and-or list with `&&`
    /// or `||` runs in the foreground (there is no subshell to run it in).
    #[inline(never)]
    fn run_background(&mut self, and_or: &AndOr) -> Run {
        if and_or.rest.is_empty() {
            self.run_pipeline(&and_or.first, true)
        } else {
            self.run_and_or(and_or)
        }
    }

    /// Runs a pipeline; in the background when `background`.
    fn run_pipeline(&mut self, pipeline: &Pipeline, background: bool) -> Run {
        if pipeline.commands.len() > 1 || background {
            return self.run_stages(pipeline, background);
        }
        // One command in the foreground: its frame is small, which matters
        // as functions recurse through here.
        let status = match self.run_command(&pipeline.commands[0], self.io.clone())? {
            Stage::Done(status) => status,
            started => self.finish(&mut [Some(started)], true)?,
        };
        Ok(if pipeline.negated {
            i32::from(status == 0)
        } else {
            status
        })
    }

    /// Runs a pipeline of several commands, or one in the background.
    #[inline(never)]
    fn run_stages(&mut self, pipeline: &Pipeline, background: bool) -> Run {
        let count = pipeline.commands.len();
        let mut ios = vec![self.io.clone(); count];
        for i in 1..count {
            let read = match File::open_read("pipe:") {
                Ok(read) => read,
                Err(error) => return Ok(self.fs_error("pipe", error)),
            };
            let write = match read.dup("write") {
                Ok(write) => write,
                Err(error) => return Ok(self.fs_error("pipe", error)),
            };
            ios[i - 1].fds[1] = Some(fd(write));
            ios[i].fds[0] = Some(fd(read));
        }
        // Programs first, so that every reader runs before its writer
        // fills the pipe.
        let mut stages: Vec<Option<Stage>> = Vec::with_capacity(count);
        let mut deferred: Vec<(usize, Option<Prepared>)> = Vec::new();
        for (i, command) in pipeline.commands.iter().enumerate() {
            let remaining = count - i;
            stages.push(None);
            match command {
                Command::Simple(simple) if count > 1 || background => {
                    let prepared = match self.prepare(simple) {
                        Ok(prepared) => prepared,
                        Err(status) => {
                            stages[i] = Some(Stage::Done(status));
                            ios[i] = Io::default();
                            continue;
                        }
                    };
                    if prepared.argv.is_empty()
                        || builtins::is_builtin(&prepared.argv[0])
                        || self.functions.contains_key(&prepared.argv[0])
                    {
                        deferred.push((i, Some(prepared)));
                    } else {
                        let io = core::mem::take(&mut ios[i]);
                        stages[i] = Some(self.launch(simple, &prepared, io, remaining));
                    }
                }
                _ => deferred.push((i, None)),
            }
        }
        for (i, prepared) in deferred {
            let io = core::mem::take(&mut ios[i]);
            let status = match (&pipeline.commands[i], prepared) {
                (Command::Simple(simple), Some(prepared)) => {
                    self.run_prepared(simple, &prepared, io, 1)
                }
                (command, _) => self.run_command(command, io),
            };
            match status {
                Ok(Stage::Done(status)) => stages[i] = Some(Stage::Done(status)),
                Ok(started) => stages[i] = Some(started),
                Err(flow) => {
                    // Wait for what was started before unwinding.
                    let _ = self.finish(&mut stages, false);
                    return Err(flow);
                }
            }
        }
        drop(ios);
        if background {
            let children: Vec<Child> = stages
                .into_iter()
                .filter_map(|s| match s {
                    Some(Stage::Started(child)) => Some(child),
                    _ => None,
                })
                .collect();
            if let Some(last) = children.last() {
                let pid = last.process.pid().0;
                self.last_background = Some(u64::from(pid));
                let id = self.jobs.add(children, format!("{pipeline}"));
                if self.interactive {
                    self.io.err(format!("[{id}] {pid}\n").as_bytes());
                }
            }
            return Ok(0);
        }
        let status = self.finish(&mut stages, true)?;
        Ok(if pipeline.negated {
            i32::from(status == 0)
        } else {
            status
        })
    }

    /// Waits for a pipeline's programs; the last stage's status.
    // Kept out of line: its frame stays off the stack of nested calls
    // (functions recurse through here).
    #[inline(never)]
    fn finish(&mut self, stages: &mut [Option<Stage>], report: bool) -> Run {
        let mut children: Vec<&mut Child> = stages
            .iter_mut()
            .filter_map(|s| match s {
                Some(Stage::Started(child)) => Some(child),
                _ => None,
            })
            .collect();
        if !children.is_empty() {
            self.wait_foreground(&mut children);
        }
        let signal = self.foreground.take_signal();
        let mut status = 0;
        let io = self.io.clone();
        for stage in stages.iter() {
            status = match stage {
                Some(Stage::Done(status)) => *status,
                Some(Stage::Started(child)) => {
                    let end = child.end.unwrap_or(End::Killed);
                    if report && let End::Faulted { .. } = end {
                        self.error(&io, format_args!("{}: {end}", child.name));
                    }
                    match (end, signal) {
                        (End::Killed, Some(number)) => 128 + i32::from(number),
                        _ => end.shell_status() as i32,
                    }
                }
                None => status,
            };
        }
        if signal.is_some() {
            // No newline of the shell's own: the console echoed `^C` and
            // CR LF already (bash adds one because Linux echoes `^C` alone).
            self.status = status;
            return Err(Flow::Interrupted);
        }
        Ok(status)
    }

    /// Waits for `children` as the foreground job (^C ends them).
    pub fn wait_foreground(&mut self, children: &mut [&mut Child]) {
        {
            let mut processes = self.foreground.processes.lock();
            processes.clear();
            processes.extend(children.iter().map(|c| Arc::clone(&c.process)));
        }
        self.foreground.waiting.store(true, Ordering::Release);
        crate::interactive::cooked(self);
        for child in children.iter_mut() {
            child.wait();
        }
        self.foreground.waiting.store(false, Ordering::Release);
        self.foreground.processes.lock().clear();
    }

    /// Runs one command of a pipeline that runs alone (or in the shell).
    #[inline(never)]
    fn run_command(&mut self, command: &Command, io: Io) -> Result<Stage, Flow> {
        match command {
            Command::Simple(simple) => {
                let prepared = match self.prepare(simple) {
                    Ok(prepared) => prepared,
                    Err(status) => return Ok(Stage::Done(status)),
                };
                self.run_prepared(simple, &prepared, io, 1)
            }
            Command::Compound(compound, redirects) => {
                let Some(io) = self.redirect(redirects, io) else {
                    return Ok(Stage::Done(1));
                };
                let saved = core::mem::replace(&mut self.io, io);
                let result = self.run_compound(compound);
                self.io = saved;
                result.map(Stage::Done)
            }
            Command::Function(def) => {
                self.define(def);
                Ok(Stage::Done(0))
            }
        }
    }

    /// Runs an expanded simple command: a built-in in the shell, a
    /// program started and (alone in its pipeline) waited for.
    #[inline(never)]
    fn run_prepared(
        &mut self,
        simple: &SimpleCommand,
        prepared: &Prepared,
        io: Io,
        remaining: usize,
    ) -> Result<Stage, Flow> {
        let Some(name) = prepared.argv.first() else {
            // Only assignments and redirections.
            for (name, value) in &prepared.assignments {
                self.set(name, value);
            }
            // `$?` is the last command substitution's status, if any.
            let status = self.substitution_status.take().unwrap_or(0);
            return Ok(Stage::Done(match self.redirect(&simple.redirects, io) {
                Some(_) => status,
                None => 1,
            }));
        };
        // `command NAME ARGS` runs NAME skipping functions.
        let (argv, functions) = match prepared.argv.get(1) {
            Some(next) if name == "command" && !next.starts_with('-') => {
                (&prepared.argv[1..], false)
            }
            _ => (&prepared.argv[..], true),
        };
        let name = &argv[0];
        if functions
            && !is_special(name)
            && let Some(def) = self.function(name)
        {
            let Some(io) = self.redirect(&simple.redirects, io) else {
                return Ok(Stage::Done(1));
            };
            for (name, value) in &prepared.assignments {
                self.set(name, value);
            }
            return self.call(&def, argv, io).map(Stage::Done);
        }
        if argv.len() < prepared.argv.len() {
            let prepared = Prepared {
                assignments: prepared.assignments.clone(),
                argv: argv.to_vec(),
            };
            return self.run_prepared_found(simple, &prepared, io, remaining);
        }
        self.run_prepared_found(simple, prepared, io, remaining)
    }

    /// Runs an expanded simple command that is no function: a built-in or
    /// a program.
    fn run_prepared_found(
        &mut self,
        simple: &SimpleCommand,
        prepared: &Prepared,
        io: Io,
        remaining: usize,
    ) -> Result<Stage, Flow> {
        let name = &prepared.argv[0];
        if builtins::is_builtin(name) {
            let Some(io) = self.redirect(&simple.redirects, io) else {
                return Ok(Stage::Done(1));
            };
            for (name, value) in &prepared.assignments {
                self.set(name, value);
            }
            return builtins::run(self, &prepared.argv, &io).map(Stage::Done);
        }
        let stage = self.launch(simple, prepared, io, remaining);
        if let Stage::Started(_) = stage {
            let mut stages = [Some(stage)];
            return self.finish(&mut stages, true).map(Stage::Done);
        }
        Ok(stage)
    }

    /// Expands a simple command's assignments and words.
    // Kept out of line: its frame stays off the stack of nested calls
    // (functions recurse through here).
    #[inline(never)]
    fn prepare(&mut self, simple: &SimpleCommand) -> Result<Prepared, i32> {
        self.substitution_status = None;
        let mut assignments = Vec::new();
        for assignment in &simple.assignments {
            match expand_string(&assignment.value, self) {
                Ok(value) => assignments.push((assignment.name.clone(), value)),
                Err(error) => return Err(self.expand_error(error)),
            }
        }
        let mut argv = Vec::new();
        for word in &simple.words {
            match expand_word(word, self) {
                Ok(fields) => {
                    for field in fields {
                        argv.extend(glob_field(&field));
                    }
                }
                Err(error) => return Err(self.expand_error(error)),
            }
        }
        if self.xtrace {
            let mut line = String::from("+");
            for (name, value) in &assignments {
                line.push_str(&format!(" {name}={value}"));
            }
            for arg in &argv {
                line.push(' ');
                line.push_str(arg);
            }
            line.push('\n');
            self.io.err(line.as_bytes());
        }
        Ok(Prepared { assignments, argv })
    }

    fn expand_error(&mut self, error: shcore::ExpandError) -> i32 {
        let io = self.io.clone();
        self.error(&io, format_args!("{error}"));
        1
    }

    /// Starts a program with `io` redirected; `remaining` counts the
    /// programs of the pipeline still to start, this one included (they
    /// share what is left of the budget).
    // Kept out of line: its frame stays off the stack of nested calls
    // (functions recurse through here).
    #[inline(never)]
    fn launch(
        &mut self,
        simple: &SimpleCommand,
        prepared: &Prepared,
        io: Io,
        remaining: usize,
    ) -> Stage {
        let Some(io) = self.redirect(&simple.redirects, io) else {
            return Stage::Done(1);
        };
        let name = &prepared.argv[0];
        let Some(path) = self.find_program(name) else {
            self.error(&io, format_args!("{name}: command not found"));
            return Stage::Done(127);
        };
        let mut streams = Vec::new();
        let [stdin, stdout, stderr] = io.dup_for_child(&mut streams);
        let env = self.child_env(&prepared.assignments);
        let env: Vec<&str> = env.iter().map(String::as_str).collect();
        let argv: Vec<&str> = prepared.argv.iter().map(String::as_str).collect();
        let spawned = Spawn::new(&path)
            .args(&argv)
            .env(&env)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .budget(child_budget(remaining))
            .spawn();
        match spawned {
            Ok(process) => Stage::Started(Child {
                process: Arc::new(process),
                name: name.clone(),
                streams,
                end: None,
            }),
            Err(error) => {
                let (status, message) = match error {
                    ProcError::NotFound => (127, "No such file or directory"),
                    ProcError::NotExecutable => {
                        (126, "cannot execute: not a program for this machine")
                    }
                    ProcError::OutOfMemory => (126, "cannot start: out of memory"),
                    ProcError::TableFull | ProcError::SessionFull => {
                        (126, "cannot start: too many processes")
                    }
                    _ => (126, "cannot start: invalid argument"),
                };
                let message = match (error, files::metadata(&path)) {
                    (ProcError::NotExecutable, Ok(meta)) if meta.kind == files::Kind::Dir => {
                        "Is a directory"
                    }
                    _ => message,
                };
                self.error(&io, format_args!("{name}: {message}"));
                Stage::Done(status)
            }
        }
    }

    /// The file a command name runs: itself if it has a `/`, else the
    /// first `DIR/name` of `$PATH` that is a file.
    pub fn find_program(&self, name: &str) -> Option<String> {
        if name.contains('/') {
            return Some(name.to_string());
        }
        if name.is_empty() {
            return None;
        }
        let path = self.get("PATH").unwrap_or("/bin");
        path.split(':').find_map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir };
            let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
            match files::metadata(&candidate) {
                Ok(meta) if meta.kind == files::Kind::File => Some(candidate),
                _ => None,
            }
        })
    }

    /// Applies redirections to a copy of `io`; `None` (after a message)
    /// if one failed.
    pub(crate) fn redirect(&mut self, redirects: &[Redirect], mut io: Io) -> Option<Io> {
        for redirect in redirects {
            let fd = redirect.fd.unwrap_or_else(|| redirect.op.default_fd()) as usize;
            let target = match expand_word(&redirect.target, self) {
                Ok(fields) if fields.len() == 1 => fields[0].text.clone(),
                Ok(_) => {
                    self.error(
                        &io,
                        format_args!("{}: ambiguous redirect", word_text(&redirect.target)),
                    );
                    return None;
                }
                Err(error) => {
                    self.error(&io, format_args!("{error}"));
                    return None;
                }
            };
            if fd > 2 {
                self.error(
                    &io,
                    format_args!("{fd}: descriptors above 2 are not supported"),
                );
                return None;
            }
            // There is no device file system: `/dev/null` is the closed
            // descriptor (writes vanish, reads end at once).
            if target == "/dev/null" {
                io.fds[fd] = None;
                continue;
            }
            let flags = match redirect.op {
                RedirectOp::Read => OpenFlags::READ,
                RedirectOp::Write => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
                RedirectOp::Append => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::APPEND,
                RedirectOp::DupRead | RedirectOp::DupWrite => {
                    if target == "-" {
                        io.fds[fd] = None;
                        continue;
                    }
                    match target.parse::<usize>() {
                        Ok(from) if from <= 2 && io.fds[from].is_some() => {
                            io.fds[fd] = io.fds[from].clone();
                        }
                        _ => {
                            self.error(&io, format_args!("{target}: bad file descriptor"));
                            return None;
                        }
                    }
                    continue;
                }
            };
            match File::open(&target, flags) {
                Ok(file) => io.fds[fd] = Some(crate::io::fd(file)),
                Err(error) => {
                    self.error(
                        &io,
                        format_args!("{target}: {}", utilcore::errors::message(error)),
                    );
                    return None;
                }
            }
        }
        Some(io)
    }

    fn fs_error(&mut self, what: &str, error: FsError) -> i32 {
        let io = self.io.clone();
        self.error(
            &io,
            format_args!("{what}: {}", utilcore::errors::message(error)),
        );
        1
    }

    #[inline(never)]
    pub(crate) fn run_compound(&mut self, compound: &CompoundCommand) -> Run {
        match compound {
            CompoundCommand::BraceGroup(list) => self.run_list(list),
            // No fork: a subshell's variable changes and `cd` are undone
            // after it (but `exit` in it ends it alone).
            CompoundCommand::Subshell(list) => {
                let vars = self.vars.clone();
                let args = self.args.clone();
                let cwd = files::getcwd();
                let result = self.run_list(list);
                self.vars = vars;
                self.args = args;
                let _ = files::chdir(&cwd);
                match result {
                    Err(Flow::Exit(status)) => Ok(status),
                    other => other,
                }
            }
            CompoundCommand::If(branches) => self.run_if(branches),
            CompoundCommand::Loop(looped) => self.run_loop(looped),
            CompoundCommand::For(each) => self.run_for(each),
            CompoundCommand::Case(case) => self.run_case(case),
        }
    }

    /// `case`: the body of the first item with a pattern that matches the
    /// word (patterns expanded in order, up to the match); 0 if none does.
    // Kept out of line: its frame stays off the stack of nested calls
    // (functions recurse through here).
    #[inline(never)]
    fn run_case(&mut self, case: &Case) -> Run {
        let word = match expand_string(&case.word, self) {
            Ok(word) => word,
            Err(error) => return Ok(self.expand_error(error)),
        };
        for item in &case.items {
            for pattern in &item.patterns {
                let pattern = match expand_pattern(pattern, self) {
                    Ok(pattern) => pattern,
                    Err(error) => return Ok(self.expand_error(error)),
                };
                if shcore::glob::matches(&pattern, &word) {
                    return if item.body.items.is_empty() {
                        Ok(0)
                    } else {
                        self.run_list(&item.body)
                    };
                }
            }
        }
        Ok(0)
    }

    #[inline(never)]
    fn run_if(&mut self, command: &If) -> Run {
        for (condition, body) in &command.branches {
            if self.run_condition(condition)? == 0 {
                return self.run_list(body);
            }
        }
        match &command.otherwise {
            Some(body) => self.run_list(body),
            None => Ok(0),
        }
    }

    /// A condition runs with `set -e` off, as POSIX says.
    fn run_condition(&mut self, condition: &List) -> Run {
        let errexit = core::mem::replace(&mut self.errexit, false);
        let result = self.run_list(condition);
        self.errexit = errexit;
        result
    }

    #[inline(never)]
    fn run_loop(&mut self, looped: &Loop) -> Run {
        let mut status = 0;
        self.loop_depth += 1;
        let result = loop {
            let condition = match self.run_condition(&looped.condition) {
                Ok(condition) => condition,
                Err(flow) => break Err(flow),
            };
            let go = match looped.kind {
                LoopKind::While => condition == 0,
                LoopKind::Until => condition != 0,
            };
            if !go {
                break Ok(status);
            }
            match self.loop_body(&looped.body) {
                Ok(Some(s)) => status = s,
                Ok(None) => break Ok(status),
                Err(flow) => break Err(flow),
            }
        };
        self.loop_depth -= 1;
        result
    }

    /// One pass of a loop body: `Some(status)` to go on, `None` after
    /// `break`.
    fn loop_body(&mut self, body: &List) -> Result<Option<i32>, Flow> {
        match self.run_list(body) {
            Ok(status) => Ok(Some(status)),
            Err(Flow::Break(1)) => Ok(None),
            Err(Flow::Break(n)) => Err(Flow::Break(n - 1)),
            Err(Flow::Continue(1)) => Ok(Some(0)),
            Err(Flow::Continue(n)) => Err(Flow::Continue(n - 1)),
            Err(flow) => Err(flow),
        }
    }

    // Kept out of line: its frame stays off the stack of nested calls
    // (functions recurse through here).
    #[inline(never)]
    fn run_for(&mut self, each: &For) -> Run {
        let values: Vec<String> = match &each.words {
            Some(words) => {
                let mut values = Vec::new();
                for word in words {
                    match expand_word(word, self) {
                        Ok(fields) => {
                            for field in fields {
                                values.extend(glob_field(&field));
                            }
                        }
                        Err(error) => return Ok(self.expand_error(error)),
                    }
                }
                values
            }
            None => self.args.clone(),
        };
        let mut status = 0;
        self.loop_depth += 1;
        let mut result = Ok(0);
        for value in values {
            self.set(&each.name, &value);
            match self.loop_body(&each.body) {
                Ok(Some(s)) => status = s,
                Ok(None) => break,
                Err(flow) => {
                    result = Err(flow);
                    break;
                }
            }
        }
        self.loop_depth -= 1;
        result.map(|_| status)
    }
}

/// The smallest budget a child starts with, in frames (what the process
/// server needs at least).
const CHILD_FRAMES_MIN: u64 = 256;
/// The largest, in frames (16 MiB).
const CHILD_FRAMES_MAX: u64 = 4096;

/// The budget of a child, in frames: a share of what the shell has left,
/// so that every program of a pipeline gets one.
pub(crate) fn child_budget(remaining: usize) -> u64 {
    let own = rt::process::own_caps().budget;
    let free = rt::sys::budget_info(own)
        .map(|s| s.limit.saturating_sub(s.used))
        .unwrap_or(0);
    let share = free / (2 * remaining.max(1) as u64);
    share.clamp(CHILD_FRAMES_MIN, CHILD_FRAMES_MAX)
}

/// The text of a word for messages.
fn word_text(word: &Word) -> String {
    format!("{word}")
}

/// A field after pathname expansion: the matching paths, sorted, or the
/// field's text when it is no pattern or matches nothing.
pub fn glob_field(field: &Field) -> Vec<String> {
    let Some(pattern) = &field.pattern else {
        return vec![field.text.clone()];
    };
    let absolute = pattern.starts_with('/');
    let mut paths: Vec<String> = vec![String::new()];
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let mut next = Vec::new();
        for base in &paths {
            let prefix = if absolute {
                format!("{base}/")
            } else if base.is_empty() {
                String::new()
            } else {
                format!("{base}/")
            };
            if !shcore::glob::has_magic(component) {
                let name = unescape(component);
                let path = format!("{prefix}{name}");
                if last || files::metadata(&path).is_ok() {
                    next.push(path);
                }
                continue;
            }
            let dir = if prefix.is_empty() {
                "."
            } else {
                prefix.as_str()
            };
            let Ok(entries) = files::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<&str> = entries
                .iter()
                .filter(|e| last || e.kind == files::Kind::Dir)
                .map(|e| e.name.as_str())
                .filter(|name| shcore::glob::matches_name(component, name))
                .collect();
            names.sort_unstable();
            next.extend(names.into_iter().map(|name| format!("{prefix}{name}")));
        }
        paths = next;
    }
    if paths.is_empty() || (paths.len() == 1 && paths[0].is_empty()) {
        return vec![field.text.clone()];
    }
    // Every component was plain but the pattern had magic that failed to
    // match nothing: keep only paths that exist.
    paths.retain(|p| files::metadata(p).is_ok());
    if paths.is_empty() {
        return vec![field.text.clone()];
    }
    paths
}

/// A pattern component without its `\` escapes.
fn unescape(component: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in component.chars() {
        if c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}
