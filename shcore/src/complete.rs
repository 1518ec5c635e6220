//! The completion helper: given an input line and the cursor, which word is
//! being completed and what kind of name it should be.
//!
//! It scans the line up to the cursor with the lexer's rules for blanks,
//! operators, quotes, `\` and comments, but tolerates anything (an open
//! quote is normal while typing). A word is in command position at the
//! start of the line, after `;`, `&`, `|`, `&&`, `||`, `(`, a newline, a
//! reserved word that expects a command (`if`, `then`, `do`, `{`, `!`...)
//! and after leading assignments; the word after a redirection operator is
//! a path.

use alloc::string::String;

use crate::ast::is_name;
use crate::lexer::ends_word;

/// What kind of name to offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A command name (the word is in command position and has no `/`).
    Command,
    /// A path (an argument, a redirection target, or a command with `/`).
    Path,
    /// A variable name (the word is `$` and a partial name; the prefix is
    /// the name part).
    Variable,
    /// The cursor is in a comment: nothing to complete.
    Comment,
}

/// The word at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Byte offset where the word starts (the cursor itself for a new
    /// word): the completed text replaces `line[start..cursor]`.
    pub start: usize,
    /// The word's text before the cursor with quotes and escapes removed
    /// (for [`CompletionKind::Variable`], the name after `$`).
    pub prefix: String,
    /// The quote left open at the cursor (`'` or `"`), so the shell can
    /// close it after a unique match.
    pub open_quote: Option<char>,
    /// What to complete.
    pub kind: CompletionKind,
}

/// The reserved words after which a command is expected.
const LEADS_TO_COMMAND: [&str; 9] = [
    "if", "then", "elif", "else", "while", "until", "do", "{", "!",
];

/// The scanner's state.
struct Scan {
    /// The next word is a command name.
    command_position: bool,
    /// The next word is a redirection target.
    after_redirect: bool,
    /// The word being read: start, unquoted text, is a redirection target.
    word: Option<(usize, String, bool)>,
    /// Text of the current word as written (for `$name` detection).
    raw: String,
    quote: Option<char>,
}

impl Scan {
    /// Ends the current word, updating the command position.
    fn end_word(&mut self, before_redirect: bool) {
        let Some((_, text, target)) = self.word.take() else {
            return;
        };
        let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        if target || (before_redirect && digits_only) || !self.command_position {
            return;
        }
        let assignment = text.find('=').is_some_and(|eq| is_name(&text[..eq]));
        self.command_position = assignment || LEADS_TO_COMMAND.contains(&text.as_str());
    }
}

/// Finds the word at `cursor` (a byte offset into `line`, moved back to a
/// character boundary and clamped to the line's length).
pub fn completion_at(line: &str, cursor: usize) -> Completion {
    let mut cursor = cursor.min(line.len());
    while !line.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let mut scan = Scan {
        command_position: true,
        after_redirect: false,
        word: None,
        raw: String::new(),
        quote: None,
    };
    let mut chars = line[..cursor].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some((_, text, _)) = &mut scan.word {
            scan.raw.push(c);
            match (scan.quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') => scan.quote = None,
                (Some('"'), '\\') => match chars.peek() {
                    Some(&(_, next @ ('$' | '`' | '"' | '\\'))) => {
                        text.push(next);
                        chars.next();
                    }
                    _ => text.push('\\'),
                },
                (Some(_), c) => text.push(c),
                (None, '\'' | '"') => scan.quote = Some(c),
                (None, '\\') => {
                    if let Some((_, next)) = chars.next()
                        && next != '\n'
                    {
                        text.push(next);
                    }
                }
                (None, c) if ends_word(c) => {
                    scan.end_word(matches!(c, '<' | '>'));
                    operator(&mut scan, c);
                }
                (None, c) => text.push(c),
            }
            continue;
        }
        match c {
            '#' => {
                if !line[i..cursor].contains('\n') {
                    return Completion {
                        start: cursor,
                        prefix: String::new(),
                        open_quote: None,
                        kind: CompletionKind::Comment,
                    };
                }
                // Skip to the newline, which the loop then reads.
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
            }
            c if ends_word(c) => operator(&mut scan, c),
            c => {
                let target = core::mem::take(&mut scan.after_redirect);
                scan.raw.clear();
                scan.word = Some((i, String::new(), target));
                scan.raw.push(c);
                match c {
                    '\'' | '"' => scan.quote = Some(c),
                    '\\' => {
                        if let Some((_, next)) = chars.next()
                            && next != '\n'
                            && let Some((_, text, _)) = &mut scan.word
                        {
                            text.push(next);
                        }
                    }
                    c => {
                        if let Some((_, text, _)) = &mut scan.word {
                            text.push(c);
                        }
                    }
                }
            }
        }
    }
    let Some((start, prefix, target)) = scan.word.take() else {
        let kind = if scan.command_position && !scan.after_redirect {
            CompletionKind::Command
        } else {
            CompletionKind::Path
        };
        return Completion {
            start: cursor,
            prefix: String::new(),
            open_quote: None,
            kind,
        };
    };
    let variable = scan
        .raw
        .strip_prefix('$')
        .filter(|name| prefix == scan.raw && (name.is_empty() || is_name(name)));
    let (prefix, kind) = if let Some(name) = variable {
        (name.into(), CompletionKind::Variable)
    } else if scan.command_position && !target && !prefix.contains('/') {
        (prefix, CompletionKind::Command)
    } else {
        (prefix, CompletionKind::Path)
    };
    Completion {
        start,
        prefix,
        open_quote: scan.quote,
        kind,
    }
}

/// Applies an operator or separator character outside a word.
fn operator(scan: &mut Scan, c: char) {
    match c {
        ';' | '&' | '|' | '(' | '\n' => {
            scan.command_position = true;
            scan.after_redirect = false;
        }
        '<' | '>' => scan.after_redirect = true,
        ')' => scan.command_position = false,
        _ => {}
    }
}

#[cfg(test)]
mod tests;
