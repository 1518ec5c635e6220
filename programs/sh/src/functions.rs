//! Functions (`name() compound-command`): defining, calling with their own
//! positional arguments, `return`; and the built-ins that look a name up
//! the way the shell runs it, `type` and `command`.
//!
//! A command name is looked up as POSIX says: special built-ins first
//! (`break : continue . exit export return set shift unset`), then
//! functions, then the other built-ins, then programs in `$PATH`.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use shcore::ast::FunctionDef;
use shcore::token::Keyword;

use crate::builtins;
use crate::io::Io;
use crate::shell::{Flow, Run, Shell};

/// How deep function calls may nest (a recursion that goes deeper ends
/// with an error, not a stack overflow).
pub const FUNCTION_DEPTH_MAX: u32 = 100;

/// The special built-ins, found before functions.
const SPECIAL: [&str; 11] = [
    ".", ":", "break", "continue", "exec", "exit", "export", "return", "set", "shift", "unset",
];

/// Whether `name` is a special built-in.
pub fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
}

/// What a command name runs.
pub enum Found {
    /// A reserved word (for `type` alone: it is no command when quoted).
    Keyword,
    /// A built-in.
    Builtin,
    /// A function.
    Function,
    /// A program at this path.
    Program(String),
}

impl Shell {
    /// Defines a function.
    pub fn define(&mut self, def: &FunctionDef) {
        self.functions
            .insert(def.name.clone(), Rc::new(def.clone()));
    }

    /// The function `name`, if one is defined.
    pub fn function(&self, name: &str) -> Option<Rc<FunctionDef>> {
        self.functions.get(name).cloned()
    }

    /// Calls a function with `argv[1..]` as its positional arguments,
    /// restored afterwards; `return N` ends it with N.
    pub fn call(&mut self, def: &FunctionDef, argv: &[String], io: Io) -> Run {
        if self.function_depth >= FUNCTION_DEPTH_MAX {
            self.error(
                &io,
                format_args!(
                    "{}: maximum function nesting level exceeded ({FUNCTION_DEPTH_MAX})",
                    def.name
                ),
            );
            return Ok(2);
        }
        let Some(io) = self.redirect(&def.redirects, io) else {
            return Ok(1);
        };
        let saved_args = core::mem::replace(&mut self.args, argv[1..].to_vec());
        let saved_io = core::mem::replace(&mut self.io, io);
        // `break` in a function does not leave the caller's loops.
        let saved_loops = core::mem::replace(&mut self.loop_depth, 0);
        self.function_depth += 1;
        let result = self.run_compound(&def.body);
        self.function_depth -= 1;
        self.loop_depth = saved_loops;
        self.io = saved_io;
        self.args = saved_args;
        match result {
            Err(Flow::Return(status)) => Ok(status),
            other => other,
        }
    }

    /// What `name` runs, if anything.
    pub fn lookup(&self, name: &str, functions: bool) -> Option<Found> {
        if is_special(name) {
            return Some(Found::Builtin);
        }
        if functions && self.functions.contains_key(name) {
            return Some(Found::Function);
        }
        if builtins::is_builtin(name) {
            return Some(Found::Builtin);
        }
        self.find_program(name)
            .filter(|path| files::metadata(path).is_ok_and(|m| m.kind == files::Kind::File))
            .map(Found::Program)
    }
}

/// `return [N]`: leaves the function or sourced file with N (default the
/// last status).
pub fn return_builtin(shell: &mut Shell, args: &[String], io: &Io) -> Run {
    if shell.function_depth == 0 && shell.source_depth == 0 {
        shell.error(
            io,
            format_args!("return: can only `return' from a function or sourced script"),
        );
        return Ok(1);
    }
    match args {
        [] => Err(Flow::Return(shell.status)),
        [n] => match n.parse::<i64>() {
            Ok(n) => Err(Flow::Return((n & 0xff) as i32)),
            Err(_) => {
                shell.error(io, format_args!("return: {n}: numeric argument required"));
                Err(Flow::Return(2))
            }
        },
        _ => {
            shell.error(io, format_args!("return: too many arguments"));
            Ok(2)
        }
    }
}

/// `type NAME...`: what each name runs; status 1 if one is not found.
pub fn type_builtin(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut status = 0;
    let mut out = String::new();
    for name in args {
        let found = if Keyword::from_text(name).is_some_and(|k| k != Keyword::In) {
            Some(Found::Keyword)
        } else {
            shell.lookup(name, true)
        };
        match found {
            Some(Found::Keyword) => out.push_str(&format!("{name} is a shell keyword\n")),
            Some(Found::Builtin) if is_special(name) => {
                out.push_str(&format!("{name} is a special shell builtin\n"));
            }
            Some(Found::Builtin) => out.push_str(&format!("{name} is a shell builtin\n")),
            Some(Found::Function) => out.push_str(&format!("{name} is a function\n")),
            Some(Found::Program(path)) => out.push_str(&format!("{name} is {path}\n")),
            None => {
                let _ = io.out(out.as_bytes());
                out.clear();
                shell.error(io, format_args!("type: {name}: not found"));
                status = 1;
            }
        }
    }
    let _ = io.out(out.as_bytes());
    status
}

/// `command -v NAME...` (or `-V`, as `type`): how each name would run,
/// skipping nothing; status 1 if one is not found. Without an option,
/// `command NAME ARGS` is run by the caller, skipping functions.
pub fn command_query(shell: &mut Shell, args: &[String], io: &Io) -> i32 {
    let (verbose, names) = match args.split_first() {
        Some((option, names)) if option == "-v" => (false, names),
        Some((option, names)) if option == "-V" => (true, names),
        _ => {
            shell.error(io, format_args!("command: usage: command [-v|-V] NAME..."));
            return 2;
        }
    };
    if verbose {
        return type_builtin(shell, names, io);
    }
    let mut status = 0;
    let mut out = Vec::new();
    for name in names {
        match shell.lookup(name, true) {
            Some(Found::Program(path)) => out.push(path),
            Some(_) => out.push(name.clone()),
            None if Keyword::from_text(name).is_some_and(|k| k != Keyword::In) => {
                out.push(name.clone());
            }
            None => status = 1,
        }
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let _ = io.out(text.as_bytes());
    status
}

/// `unset -f NAME...`: removes functions.
pub fn unset_functions(shell: &mut Shell, names: &[String]) -> i32 {
    for name in names {
        shell.functions.remove(name.as_str());
    }
    0
}
