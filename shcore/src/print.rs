//! The printer: [`fmt::Display`] for the syntax tree, writing shell
//! text on one line that [`crate::parse`] turns back into the same tree
//! (for trees with the invariants of [`crate::ast`], which every parsed tree
//! has; the property tests check it).
//!
//! Layout is fixed: one space between words, `; ` between list items, a
//! `;` or ` &` after each item of a compound command's body, redirections
//! after the words, parameters braced only when the next character would
//! otherwise continue the name. Characters that would be special where they
//! stand are escaped with `\` (or written as `'\n'` for a newline), so even
//! a tree built by hand prints as valid shell text, though such a tree may
//! come back with its text split into different parts.

use core::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    AndOr, Assignment, Command, CompoundCommand, Connector, DqPart, List, ListItem, LoopKind,
    Param, ParamForm, ParamName, Pipeline, Redirect, SimpleCommand, Word, WordPart, is_name,
};
use crate::lexer::ends_word;
use crate::token::Keyword;

/// Where a word is printed, which decides its escapes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A shell word (argument, redirection target, `for` word).
    Word,
    /// The value of an assignment, after `NAME=`.
    Value,
    /// The word of `${name:-word}`.
    Brace,
    /// The expression of `$((...))`.
    Arith,
}

/// True if `c` must be escaped in unquoted text printed at `place`.
fn special(c: char, place: Place) -> bool {
    match place {
        Place::Word | Place::Value => ends_word(c) || matches!(c, '\'' | '"' | '\\' | '$' | '`'),
        Place::Brace => matches!(c, '}' | '\'' | '"' | '\\' | '$' | '`'),
        Place::Arith => matches!(c, '\'' | '"' | '\\' | '$' | '`'),
    }
}

/// True if a `$` followed by `next` would start a parameter or a
/// substitution.
fn dollar_expands(next: Option<char>) -> bool {
    next.is_some_and(|c| {
        c == '_'
            || c.is_ascii_alphanumeric()
            || matches!(c, '?' | '$' | '!' | '#' | '@' | '*' | '{' | '(')
    })
}

/// The first character a part prints.
fn first_char(part: &WordPart) -> Option<char> {
    match part {
        WordPart::Literal(text) => text.chars().next(),
        WordPart::SingleQuoted(_) => Some('\''),
        WordPart::Escaped(_) => Some('\\'),
        WordPart::DoubleQuoted(_) => Some('"'),
        WordPart::Param(_) | WordPart::Arith(_) | WordPart::Command(_) => Some('$'),
    }
}

fn is_name_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn write_literal(
    f: &mut Formatter<'_>,
    text: &str,
    place: Place,
    word_start: bool,
    next: Option<char>,
) -> fmt::Result {
    let mut chars = text.chars().peekable();
    let mut first = word_start;
    while let Some(c) = chars.next() {
        let following = chars.peek().copied().or(next);
        if c == '\n' && matches!(place, Place::Word | Place::Value) {
            f.write_str("'\n'")?;
        } else if c == '$' && !dollar_expands(following) {
            f.write_char('$')?;
        } else if special(c, place) || (first && c == '#') {
            f.write_char('\\')?;
            f.write_char(c)?;
        } else {
            f.write_char(c)?;
        }
        first = false;
    }
    Ok(())
}

fn write_single_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in text.chars() {
        if c == '\'' {
            f.write_str("'\\''")?;
        } else {
            f.write_char(c)?;
        }
    }
    f.write_char('\'')
}

fn write_double_quoted(f: &mut Formatter<'_>, parts: &[DqPart]) -> fmt::Result {
    f.write_char('"')?;
    for (i, part) in parts.iter().enumerate() {
        match part {
            DqPart::Text(text) => {
                for c in text.chars() {
                    if matches!(c, '$' | '`' | '"' | '\\') {
                        f.write_char('\\')?;
                    }
                    f.write_char(c)?;
                }
            }
            DqPart::Param(param) => {
                let next = match parts.get(i + 1) {
                    Some(DqPart::Text(text)) => text.chars().next(),
                    Some(DqPart::Param(_) | DqPart::Arith(_) | DqPart::Command(_)) => Some('$'),
                    None => Some('"'),
                };
                write_param(f, param, next)?;
            }
            DqPart::Arith(word) => write_arith(f, word)?,
            DqPart::Command(list) => write_command(f, list)?,
        }
    }
    f.write_char('"')
}

/// The name of a parameter as written after `${` (or `$`).
fn write_name(f: &mut Formatter<'_>, name: &ParamName) -> fmt::Result {
    match name {
        ParamName::Var(name) => f.write_str(name),
        ParamName::Positional(n) => write!(f, "{n}"),
        ParamName::Status => f.write_char('?'),
        ParamName::Pid => f.write_char('$'),
        ParamName::LastBackground => f.write_char('!'),
        ParamName::Count => f.write_char('#'),
        ParamName::All => f.write_char('@'),
        ParamName::Star => f.write_char('*'),
    }
}

/// Writes a parameter; `next` is the character printed right after it.
fn write_param(f: &mut Formatter<'_>, param: &Param, next: Option<char>) -> fmt::Result {
    match &param.form {
        ParamForm::Plain => {
            let braced = match &param.name {
                ParamName::Var(_) => is_name_char(next),
                ParamName::Positional(n) => *n >= 10,
                _ => false,
            };
            if braced {
                f.write_str("${")?;
                write_name(f, &param.name)?;
                f.write_char('}')
            } else {
                f.write_char('$')?;
                write_name(f, &param.name)
            }
        }
        ParamForm::Length => {
            f.write_str("${#")?;
            write_name(f, &param.name)?;
            f.write_char('}')
        }
        ParamForm::Test { op, colon, word } => {
            f.write_str("${")?;
            write_name(f, &param.name)?;
            if *colon {
                f.write_char(':')?;
            }
            f.write_char(op.as_char())?;
            write_word(f, word, Place::Brace)?;
            f.write_char('}')
        }
    }
}

fn write_word(f: &mut Formatter<'_>, word: &Word, place: Place) -> fmt::Result {
    if word.parts.is_empty() && place == Place::Word {
        return f.write_str("''");
    }
    for (i, part) in word.parts.iter().enumerate() {
        let next = word.parts.get(i + 1).and_then(first_char);
        match part {
            WordPart::Literal(text) => {
                write_literal(f, text, place, i == 0 && place == Place::Word, next)?;
            }
            WordPart::SingleQuoted(text) => write_single_quoted(f, text)?,
            WordPart::Escaped('\n') => f.write_str("'\n'")?,
            WordPart::Escaped(c) => {
                f.write_char('\\')?;
                f.write_char(*c)?;
            }
            WordPart::DoubleQuoted(parts) => write_double_quoted(f, parts)?,
            WordPart::Param(param) => write_param(f, param, next)?,
            WordPart::Arith(word) => write_arith(f, word)?,
            WordPart::Command(list) => write_command(f, list)?,
        }
    }
    Ok(())
}

/// `$((expression))`.
fn write_arith(f: &mut Formatter<'_>, word: &Word) -> fmt::Result {
    f.write_str("$((")?;
    write_word(f, word, Place::Arith)?;
    f.write_str("))")
}

/// `$(list)`, with a blank after `$(` when the list starts with `(` (so it
/// does not read as `$((`).
fn write_command(f: &mut Formatter<'_>, list: &List) -> fmt::Result {
    let text = alloc::format!("{list}");
    let blank = if text.starts_with('(') { " " } else { "" };
    write!(f, "$({blank}{text})")
}

impl Display for Word {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_word(f, self, Place::Word)
    }
}

impl Display for Assignment {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_char('=')?;
        write_word(f, &self.value, Place::Value)
    }
}

impl Display for Redirect {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(fd) = self.fd {
            write!(f, "{fd}")?;
        }
        f.write_str(self.op.as_str())?;
        write_word(f, &self.target, Place::Word)
    }
}

/// True if `word` printed first in a command would not read back as a
/// command name: a reserved word or an assignment.
fn misread_as_command_name(word: &Word) -> bool {
    if Keyword::of_command_word(word).is_some() {
        return true;
    }
    match word.parts.first() {
        Some(WordPart::Literal(text)) => text.find('=').is_some_and(|eq| is_name(&text[..eq])),
        _ => false,
    }
}

impl Display for SimpleCommand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        let mut item = |f: &mut Formatter<'_>, item: &dyn Display| {
            let result = write!(f, "{separator}{item}");
            separator = " ";
            result
        };
        for assignment in &self.assignments {
            item(f, assignment)?;
        }
        let mut redirects_written = false;
        if let Some(first) = self.words.first()
            && self.assignments.is_empty()
            && misread_as_command_name(first)
        {
            if self.redirects.is_empty() || Keyword::of_command_word(first).is_none() {
                // No way to keep the tree: escape the first character so
                // that it still reads as a command name.
                f.write_char('\\')?;
            } else {
                // A reserved word after a redirection is a plain word.
                for redirect in &self.redirects {
                    item(f, redirect)?;
                }
                redirects_written = true;
            }
        }
        for word in &self.words {
            item(f, word)?;
        }
        if !redirects_written {
            for redirect in &self.redirects {
                item(f, redirect)?;
            }
        }
        Ok(())
    }
}

/// Writes a list; in a `body`, every item ends with `;` or ` &` so that a
/// closing reserved word can follow.
fn write_list(f: &mut Formatter<'_>, list: &List, body: bool) -> fmt::Result {
    for (i, ListItem { and_or, background }) in list.items.iter().enumerate() {
        if i > 0 {
            f.write_char(' ')?;
        }
        write!(f, "{and_or}")?;
        if *background {
            f.write_str(" &")?;
        } else if body || i + 1 < list.items.len() {
            f.write_char(';')?;
        }
    }
    Ok(())
}

impl Display for List {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_list(f, self, false)
    }
}

impl Display for AndOr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for (connector, pipeline) in &self.rest {
            let op = match connector {
                Connector::And => "&&",
                Connector::Or => "||",
            };
            write!(f, " {op} {pipeline}")?;
        }
        Ok(())
    }
}

impl Display for Pipeline {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("! ")?;
        }
        for (i, command) in self.commands.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{command}")?;
        }
        Ok(())
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Simple(simple) => write!(f, "{simple}"),
            Self::Compound(compound, redirects) => {
                write!(f, "{compound}")?;
                for redirect in redirects {
                    write!(f, " {redirect}")?;
                }
                Ok(())
            }
            Self::Function(def) => {
                write!(f, "{}() {}", def.name, def.body)?;
                for redirect in &def.redirects {
                    write!(f, " {redirect}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for CompoundCommand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let body = |f: &mut Formatter<'_>, list: &List| write_list(f, list, true);
        match self {
            Self::BraceGroup(list) => {
                f.write_str("{ ")?;
                body(f, list)?;
                f.write_str(" }")
            }
            Self::Subshell(list) => {
                f.write_str("( ")?;
                body(f, list)?;
                f.write_str(" )")
            }
            Self::If(command) => {
                for (i, (condition, then)) in command.branches.iter().enumerate() {
                    f.write_str(if i == 0 { "if " } else { " elif " })?;
                    body(f, condition)?;
                    f.write_str(" then ")?;
                    body(f, then)?;
                }
                if let Some(otherwise) = &command.otherwise {
                    f.write_str(" else ")?;
                    body(f, otherwise)?;
                }
                f.write_str(" fi")
            }
            Self::Loop(command) => {
                f.write_str(match command.kind {
                    LoopKind::While => "while ",
                    LoopKind::Until => "until ",
                })?;
                body(f, &command.condition)?;
                f.write_str(" do ")?;
                body(f, &command.body)?;
                f.write_str(" done")
            }
            Self::For(command) => {
                write!(f, "for {}", command.name)?;
                if let Some(words) = &command.words {
                    f.write_str(" in")?;
                    for word in words {
                        write!(f, " {word}")?;
                    }
                }
                f.write_str("; do ")?;
                body(f, &command.body)?;
                f.write_str(" done")
            }
            Self::Case(command) => {
                write!(f, "case {} in", command.word)?;
                for item in &command.items {
                    // Always `(` first: a first pattern `esac` stays a
                    // pattern.
                    f.write_str(" (")?;
                    for (i, pattern) in item.patterns.iter().enumerate() {
                        if i > 0 {
                            f.write_str(" | ")?;
                        }
                        write!(f, "{pattern}")?;
                    }
                    f.write_str(") ")?;
                    write_list(f, &item.body, false)?;
                    f.write_str(";;")?;
                }
                f.write_str(" esac")
            }
        }
    }
}

#[cfg(test)]
mod tests;
