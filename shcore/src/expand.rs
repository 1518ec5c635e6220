//! Word expansion (POSIX XCU 2.6): a [`Word`] becomes zero or more
//! [`Field`]s, after tilde expansion, parameter expansion, field splitting
//! and quote removal. The shell then globs each field that has a
//! [`Field::pattern`] (see [`crate::glob`]).
//!
//! - `~` or `~/...` at the start of an unquoted word becomes `$HOME` (left
//!   as it is when `HOME` is unset; `~user` is not expanded).
//! - Unquoted expansions are split into fields on blanks (space, tab,
//!   newline; `IFS` is fixed to them), and an unquoted expansion that is
//!   empty gives no field. Quoted text is never split, and `""` is one
//!   empty field.
//! - `"$@"` gives one field per positional argument (none when there are
//!   none); `"$*"` joins them with a space; unquoted, both are split.
//! - `${name-word}`, `=`, `+`, `?` (with or without `:`) expand `word` only
//!   when they use it, with the quoting of the place the `${...}` stands.
//!
//! The shell's state is reached through the [`Env`] trait.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::arith::{self, ArithError, Vars};
use crate::ast::{DqPart, List, Param, ParamForm, ParamName, TestOp, Word, WordPart};

/// The shell state expansion reads (and, for `${name=word}`, writes).
pub trait Env {
    /// The value of a variable, if set.
    fn var(&self, name: &str) -> Option<String>;
    /// Sets a variable (for `${name=word}`).
    fn set_var(&mut self, name: &str, value: &str);
    /// `$?`: the status of the last command.
    fn last_status(&self) -> i32;
    /// `$$`: the shell's process id.
    fn pid(&self) -> u64;
    /// `$!`: the process id of the last background command, if any.
    fn last_background(&self) -> Option<u64>;
    /// `$0`: the shell's or the script's name.
    fn arg0(&self) -> &str;
    /// `$1`, `$2`, ...: the positional arguments.
    fn args(&self) -> &[String];
    /// Runs the commands of `$(...)` or `` `...` `` and answers their
    /// output (trailing newlines are removed by the caller). The default
    /// runs nothing and answers nothing (for environments without
    /// commands, such as tests of the parameters).
    fn command_output(&mut self, program: &List) -> String {
        let _ = program;
        String::new()
    }
}

/// The shell's variables as arithmetic sees them.
struct ArithVars<'a, 'e>(&'a mut (dyn Env + 'e));

impl Vars for ArithVars<'_, '_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.0.set_var(name, value);
    }
}

/// One field of an expanded word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The text after quote removal.
    pub text: String,
    /// When the field has an unquoted `*`, `?` or `[`: the text as a glob
    /// pattern, with each quoted character that is special in patterns
    /// (`*?[]\`) escaped by `\`.
    pub pattern: Option<String>,
}

impl Field {
    /// The names among `names` (one directory's entries) this field
    /// matches, sorted; or the field's text alone when it is no pattern or
    /// matches none (POSIX keeps an unmatched pattern as it is).
    pub fn glob<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        match &self.pattern {
            Some(pattern) => crate::glob::expand_in(pattern, &self.text, names),
            None => alloc::vec![self.text.clone()],
        }
    }
}

/// Why a word could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// `${name?word}` (or `:?`) found the parameter unset (or empty).
    Unset {
        /// The parameter as written after `${`.
        name: String,
        /// The expanded word, empty for the default message.
        message: String,
    },
    /// `${name=word}` (or `:=`) on a positional or special parameter.
    CannotAssign {
        /// The parameter as written after `${`.
        name: String,
    },
    /// `$((...))` has no value.
    Arith(ArithError),
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unset { name, message } if message.is_empty() => {
                write!(f, "{name}: parameter not set")
            }
            Self::Unset { name, message } => write!(f, "{name}: {message}"),
            Self::CannotAssign { name } => write!(f, "{name}: cannot assign in this way"),
            Self::Arith(error) => write!(f, "arithmetic: {error}"),
        }
    }
}

/// Expands a word into fields (for command words and `for` lists; a
/// redirection target is this with a check that it gave exactly one).
///
/// # Errors
/// [`ExpandError`] from `${name?word}` and `${name=word}`.
pub fn expand_word(word: &Word, env: &mut dyn Env) -> Result<Vec<Field>, ExpandError> {
    let mut fields = Fields::new(env, Splitting::Fields);
    fields.word(&word.parts, Quoting::Unquoted, Level::Top)?;
    Ok(fields.finish())
}

/// Expands words one after the other into one list of fields.
///
/// # Errors
/// The first [`ExpandError`] of any word.
pub fn expand_words(words: &[Word], env: &mut dyn Env) -> Result<Vec<Field>, ExpandError> {
    let mut all = Vec::new();
    for word in words {
        all.extend(expand_word(word, env)?);
    }
    Ok(all)
}

/// Expands a word into one string, without field splitting or globbing
/// (for assignment values; `"$@"` joins its fields with spaces).
///
/// # Errors
/// [`ExpandError`] from `${name?word}` and `${name=word}`.
pub fn expand_string(word: &Word, env: &mut dyn Env) -> Result<String, ExpandError> {
    let mut fields = Fields::new(env, Splitting::Whole);
    fields.word(&word.parts, Quoting::Unquoted, Level::Top)?;
    let mut text = String::new();
    for (i, field) in fields.finish().into_iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&field.text);
    }
    Ok(text)
}

/// Expands a word into a pattern for `case`: one string, without field
/// splitting, whose quoted characters special in patterns are escaped by
/// `\\` (so `"*"` matches only a `*`).
///
/// # Errors
/// [`ExpandError`] from `${name?word}`, `${name=word}` and `$((...))`.
pub fn expand_pattern(word: &Word, env: &mut dyn Env) -> Result<String, ExpandError> {
    let mut fields = Fields::new(env, Splitting::Whole);
    fields.word(&word.parts, Quoting::Unquoted, Level::Top)?;
    let mut pattern = String::new();
    for (i, field) in fields.finish().into_iter().enumerate() {
        if i > 0 {
            pattern.push(' ');
        }
        match field.pattern {
            Some(escaped) => pattern.push_str(&escaped),
            None => {
                for c in field.text.chars() {
                    if is_glob_char(c) {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
            }
        }
    }
    Ok(pattern)
}

/// Removes the newlines at the end of a command's output.
fn trim_newlines(mut text: String) -> String {
    let len = text.trim_end_matches('\n').len();
    text.truncate(len);
    text
}

/// Whether text stands inside quotes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// In `"..."` (or the word of a `${...}` that is): never split.
    Quoted,
    /// Outside quotes: expansions are split.
    Unquoted,
}

/// What to do with the results of unquoted expansions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Splitting {
    /// Split them into fields ([`expand_word`]).
    Fields,
    /// Keep them whole ([`expand_string`]).
    Whole,
}

/// Which word is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The word itself.
    Top,
    /// The word of a `${name-word}` in it: its unquoted text is split like
    /// an expansion's result.
    Nested,
}

/// True for the characters that separate fields.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

/// True for the characters special in glob patterns.
fn is_glob_char(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | ']' | '\\')
}

/// The fields built so far and the one being built.
struct Fields<'e> {
    env: &'e mut dyn Env,
    /// Whether unquoted expansions are split on blanks.
    splitting: Splitting,
    done: Vec<Field>,
    text: String,
    pattern: String,
    /// The current field has an unquoted glob character.
    magic: bool,
    /// The current field exists (even if empty, as after `""`).
    started: bool,
}

impl<'e> Fields<'e> {
    fn new(env: &'e mut dyn Env, splitting: Splitting) -> Self {
        Self {
            env,
            splitting,
            done: Vec::new(),
            text: String::new(),
            pattern: String::new(),
            magic: false,
            started: false,
        }
    }

    fn finish(mut self) -> Vec<Field> {
        if self.started {
            self.end_field();
        }
        self.done
    }

    /// Ends the current field.
    fn end_field(&mut self) {
        let pattern = core::mem::take(&mut self.pattern);
        self.done.push(Field {
            text: core::mem::take(&mut self.text),
            pattern: self.magic.then_some(pattern),
        });
        self.magic = false;
        self.started = false;
    }

    /// Appends quoted text (never split, never a pattern).
    fn quoted(&mut self, text: &str) {
        self.started = true;
        self.text.push_str(text);
        for c in text.chars() {
            if is_glob_char(c) {
                self.pattern.push('\\');
            }
            self.pattern.push(c);
        }
    }

    /// Appends one unquoted character that is not a field separator.
    fn unquoted_char(&mut self, c: char) {
        self.started = true;
        self.text.push(c);
        if c == '\\' {
            self.pattern.push('\\');
        }
        self.magic |= matches!(c, '*' | '?' | '[');
        self.pattern.push(c);
    }

    /// Appends unquoted literal text (written in the word: not split).
    fn unquoted(&mut self, text: &str) {
        text.chars().for_each(|c| self.unquoted_char(c));
    }

    /// Appends the result of an expansion, split unless quoted.
    fn expanded(&mut self, value: &str, quoting: Quoting) {
        if quoting == Quoting::Quoted {
            self.quoted(value);
        } else if self.splitting == Splitting::Whole {
            self.unquoted(value);
        } else {
            for c in value.chars() {
                if !is_blank(c) {
                    self.unquoted_char(c);
                } else if self.started {
                    self.end_field();
                }
            }
        }
    }

    /// Expands the parts of a word; tilde expansion applies at its start
    /// when it is not quoted.
    fn word(
        &mut self,
        parts: &[WordPart],
        quoting: Quoting,
        level: Level,
    ) -> Result<(), ExpandError> {
        let mut parts = parts;
        if quoting == Quoting::Unquoted
            && let Some((WordPart::Literal(first), rest)) = parts.split_first()
        {
            let tail = first
                .strip_prefix('~')
                .map(|after| (after.find('/'), after));
            let home = match tail {
                Some((Some(0), _)) => self.env.var("HOME"),
                Some((None, "")) if rest.is_empty() => self.env.var("HOME"),
                _ => None,
            };
            if let Some(home) = home {
                self.quoted(&home);
                self.unquoted(&first[1..]);
                parts = rest;
            }
        }
        for part in parts {
            match part {
                WordPart::Literal(text) if quoting == Quoting::Quoted => self.quoted(text),
                WordPart::Literal(text) if level == Level::Nested => {
                    self.expanded(text, Quoting::Unquoted);
                }
                WordPart::Literal(text) => self.unquoted(text),
                WordPart::SingleQuoted(text) => self.quoted(text),
                WordPart::Escaped(c) => self.quoted(c.encode_utf8(&mut [0; 4])),
                WordPart::DoubleQuoted(inner) => self.double_quoted(inner)?,
                WordPart::Param(param) => self.param(param, quoting)?,
                WordPart::Arith(expression) => self.arith(expression, quoting)?,
                WordPart::Command(program) => self.command(program, quoting),
            }
        }
        Ok(())
    }

    fn double_quoted(&mut self, parts: &[DqPart]) -> Result<(), ExpandError> {
        let only_all = parts.iter().all(|part| {
            matches!(
                part,
                DqPart::Param(Param {
                    name: ParamName::All,
                    form: ParamForm::Plain
                })
            )
        });
        // `""` is an empty field, but `"$@"` with no arguments is none.
        if !only_all || parts.is_empty() {
            self.started = true;
        }
        for part in parts {
            match part {
                DqPart::Text(text) => self.quoted(text),
                DqPart::Param(param) => self.param(param, Quoting::Quoted)?,
                DqPart::Arith(expression) => self.arith(expression, Quoting::Quoted)?,
                DqPart::Command(program) => self.command(program, Quoting::Quoted),
            }
        }
        Ok(())
    }

    /// `$((expression))`: its parameters expanded, then evaluated.
    fn arith(&mut self, expression: &Word, quoting: Quoting) -> Result<(), ExpandError> {
        let text = expand_string(expression, self.env)?;
        let value = arith::eval(&text, &mut ArithVars(self.env)).map_err(ExpandError::Arith)?;
        self.expanded(&value.to_string(), quoting);
        Ok(())
    }

    /// `$(program)`: its output without trailing newlines, split unless
    /// quoted.
    fn command(&mut self, program: &List, quoting: Quoting) {
        let output = trim_newlines(self.env.command_output(program));
        self.expanded(&output, quoting);
    }

    /// The value of a parameter as one string, `None` if unset.
    fn value(&self, name: &ParamName) -> Option<String> {
        let args = self.env.args();
        match name {
            ParamName::Var(name) => self.env.var(name),
            ParamName::Positional(0) => Some(self.env.arg0().into()),
            ParamName::Positional(n) => {
                let index = usize::try_from(*n).ok()?.checked_sub(1)?;
                args.get(index).cloned()
            }
            ParamName::Status => Some(self.env.last_status().to_string()),
            ParamName::Pid => Some(self.env.pid().to_string()),
            ParamName::LastBackground => self.env.last_background().map(|pid| pid.to_string()),
            ParamName::Count => Some(args.len().to_string()),
            ParamName::All | ParamName::Star => (!args.is_empty()).then(|| args.join(" ")),
        }
    }

    /// Expands the value of a parameter (`$@` as several fields when
    /// quoted).
    fn plain(&mut self, name: &ParamName, quoting: Quoting) {
        if *name == ParamName::All
            && quoting == Quoting::Quoted
            && self.splitting == Splitting::Fields
        {
            let args = self.env.args().to_vec();
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    self.end_field();
                }
                self.quoted(arg);
            }
        } else if let Some(value) = self.value(name) {
            self.expanded(&value, quoting);
        }
    }

    fn param(&mut self, param: &Param, quoting: Quoting) -> Result<(), ExpandError> {
        let (op, colon, word) = match &param.form {
            ParamForm::Plain => {
                self.plain(&param.name, quoting);
                return Ok(());
            }
            ParamForm::Length => {
                let length = self.value(&param.name).map_or(0, |v| v.chars().count());
                self.expanded(&length.to_string(), quoting);
                return Ok(());
            }
            ParamForm::Test { op, colon, word } => (*op, *colon, word),
        };
        let value = self.value(&param.name);
        let set = value.is_some_and(|v| !(colon && v.is_empty()));
        match (op, set) {
            (TestOp::Default | TestOp::Assign | TestOp::Error, true) => {
                self.plain(&param.name, quoting);
            }
            (TestOp::Default, false) | (TestOp::Alternative, true) => {
                self.word(&word.parts, quoting, Level::Nested)?;
            }
            (TestOp::Alternative, false) => {}
            (TestOp::Assign, false) => {
                let ParamName::Var(name) = &param.name else {
                    return Err(ExpandError::CannotAssign {
                        name: name_text(&param.name),
                    });
                };
                let value = expand_string(word, self.env)?;
                self.env.set_var(name, &value);
                self.expanded(&value, quoting);
            }
            (TestOp::Error, false) => {
                return Err(ExpandError::Unset {
                    name: name_text(&param.name),
                    message: expand_string(word, self.env)?,
                });
            }
        }
        Ok(())
    }
}

/// A parameter's name as written after `${`.
fn name_text(name: &ParamName) -> String {
    match name {
        ParamName::Var(name) => name.clone(),
        ParamName::Positional(n) => n.to_string(),
        ParamName::Status => "?".into(),
        ParamName::Pid => "$".into(),
        ParamName::LastBackground => "!".into(),
        ParamName::Count => "#".into(),
        ParamName::All => "@".into(),
        ParamName::Star => "*".into(),
    }
}

#[cfg(test)]
mod tests;
