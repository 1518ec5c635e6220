//! Lexing one word into [`WordPart`]s: unquoted text, `'...'`, `\c`,
//! `"..."` with its parameters and escapes, and parameters `$name`, `$1`,
//! `$?`, `${name}`, `${#name}`, `${name:-word}`.
//!
//! Rules (POSIX XCU 2.2, 2.6.2):
//! - inside `'...'` every character is literal; inside `"..."` a backslash
//!   escapes only `$`, `` ` ``, `"`, `\` and newline, and stays otherwise;
//! - `\` + newline is removed everywhere except inside `'...'`;
//! - a `$` not followed by a name, a digit, one of `?$!#@*`, or `{` is a
//!   literal `$`;
//! - the word of `${name:-word}` runs to the first unquoted `}`; blanks and
//!   operators are ordinary characters in it.
//!
//! Adjacent literal characters are merged into one part, so the parts come
//! out in the canonical shape [`crate::ast`] describes.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Lexer, ends_word};
use crate::ast::{DqPart, List, Param, ParamForm, ParamName, TestOp, Word, WordPart};
use crate::error::{Found, Missing, ParseError, SyntaxErrorKind};

/// Where a word stands, which decides what ends it.
#[derive(Clone, Copy)]
enum Mode {
    /// A shell word: ended by blanks, newline and operator characters.
    Normal,
    /// The word of `${name:-word}` whose `${` is at this offset: ended by
    /// `}`.
    Brace(usize),
    /// The expression of `$((...))` whose `$` is at this offset: ended by
    /// the `))` that closes it (parentheses inside must balance); blanks and
    /// operators are ordinary characters in it.
    Arith(usize),
}

/// Collects the parts of a word, merging adjacent literal text.
#[derive(Default)]
struct Parts {
    parts: Vec<WordPart>,
    literal: String,
}

impl Parts {
    fn push(&mut self, part: WordPart) {
        self.flush();
        self.parts.push(part);
    }

    fn flush(&mut self) {
        if !self.literal.is_empty() {
            let text = core::mem::take(&mut self.literal);
            self.parts.push(WordPart::Literal(text));
        }
    }

    fn finish(mut self) -> Word {
        self.flush();
        Word { parts: self.parts }
    }
}

/// Collects the parts of a double-quoted string, merging adjacent text.
#[derive(Default)]
struct DqParts {
    parts: Vec<DqPart>,
    text: String,
}

impl DqParts {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            let text = core::mem::take(&mut self.text);
            self.parts.push(DqPart::Text(text));
        }
    }
}

/// The special parameters written as one character after `$`.
fn special(c: char) -> Option<ParamName> {
    Some(match c {
        '?' => ParamName::Status,
        '$' => ParamName::Pid,
        '!' => ParamName::LastBackground,
        '#' => ParamName::Count,
        '@' => ParamName::All,
        '*' => ParamName::Star,
        _ => return None,
    })
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

impl Lexer<'_> {
    /// Lexes a shell word starting at the current position (which is not a
    /// blank, an operator, a newline or a comment).
    pub(super) fn word(&mut self) -> Result<Word, ParseError> {
        self.parts(Mode::Normal)
    }

    /// Lexes parts until the end of the word for `mode`.
    fn parts(&mut self, mode: Mode) -> Result<Word, ParseError> {
        let mut parts = Parts::default();
        // Parentheses open inside `$((...))`.
        let mut parens = 0usize;
        loop {
            let start = self.pos;
            let Some(c) = self.peek() else {
                return match mode {
                    Mode::Normal => Ok(parts.finish()),
                    Mode::Brace(open) => Err(ParseError::incomplete(Missing::ParamBrace, open)),
                    Mode::Arith(open) => Err(ParseError::incomplete(Missing::ArithParens, open)),
                };
            };
            match (mode, c) {
                (Mode::Normal, c) if ends_word(c) => return Ok(parts.finish()),
                (Mode::Brace(_), '}') => return Ok(parts.finish()),
                (Mode::Arith(_), '(') => {
                    self.pos += 1;
                    parens += 1;
                    parts.literal.push('(');
                }
                (Mode::Arith(open), ')') if parens == 0 => {
                    return match self.peek_second() {
                        Some(')') => {
                            self.pos += 2;
                            Ok(parts.finish())
                        }
                        None => Err(ParseError::incomplete(Missing::ArithParens, open)),
                        Some(_) => Err(ParseError::syntax(
                            SyntaxErrorKind::Unexpected(Found::Operator(")")),
                            start,
                        )),
                    };
                }
                (Mode::Arith(_), ')') => {
                    self.pos += 1;
                    parens -= 1;
                    parts.literal.push(')');
                }
                (_, '\'') => {
                    self.pos += 1;
                    let rest = &self.src[self.pos..];
                    let Some(len) = rest.find('\'') else {
                        return Err(ParseError::incomplete(Missing::SingleQuote, start));
                    };
                    parts.push(WordPart::SingleQuoted(rest[..len].into()));
                    self.pos += len + 1;
                }
                (_, '"') => {
                    let quoted = self.double_quoted()?;
                    parts.push(WordPart::DoubleQuoted(quoted));
                }
                (_, '\\') => {
                    self.pos += 1;
                    match self.bump() {
                        None => return Err(ParseError::incomplete(Missing::EscapedChar, start)),
                        Some('\n') => {}
                        Some(c) => parts.push(WordPart::Escaped(c)),
                    }
                }
                // A `$` right before `` ` `` stands for itself; kept as
                // `\$` (the same thing) so that the printer, which writes
                // the substitution as `$(...)`, reads back the same tree.
                (_, '$') if self.peek_second() == Some('`') => {
                    self.pos += 1;
                    parts.push(WordPart::Escaped('$'));
                }
                (_, '$') => match self.dollar()? {
                    Some(part) => parts.push(part),
                    // `$` then a line continuation: a literal `$` that the
                    // text after the continuation would turn into a
                    // parameter once printed on one line; kept as `\$`,
                    // the same thing.
                    None if self.src[self.pos..].starts_with("\\\n") => {
                        parts.push(WordPart::Escaped('$'));
                    }
                    None => parts.literal.push('$'),
                },
                (_, '`') => {
                    let list = self.backquoted(false)?;
                    parts.push(WordPart::Command(list));
                }
                (_, c) => {
                    self.pos += c.len_utf8();
                    parts.literal.push(c);
                }
            }
        }
    }

    /// Lexes `"..."` (at its opening quote) into its parts.
    fn double_quoted(&mut self) -> Result<Vec<DqPart>, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut dq = DqParts::default();
        loop {
            match self.peek() {
                None => return Err(ParseError::incomplete(Missing::DoubleQuote, open)),
                Some('"') => {
                    self.pos += 1;
                    dq.flush();
                    return Ok(dq.parts);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('\n') => self.pos += 1,
                        Some(c @ ('$' | '`' | '"' | '\\')) => {
                            self.pos += 1;
                            dq.text.push(c);
                        }
                        _ => dq.text.push('\\'),
                    }
                }
                Some('$') => {
                    let part = match self.dollar()? {
                        Some(WordPart::Param(param)) => DqPart::Param(param),
                        Some(WordPart::Arith(word)) => DqPart::Arith(word),
                        Some(WordPart::Command(list)) => DqPart::Command(list),
                        _ => {
                            dq.text.push('$');
                            continue;
                        }
                    };
                    dq.flush();
                    dq.parts.push(part);
                }
                Some('`') => {
                    let list = self.backquoted(true)?;
                    dq.flush();
                    dq.parts.push(DqPart::Command(list));
                }
                Some(c) => {
                    self.pos += c.len_utf8();
                    dq.text.push(c);
                }
            }
        }
    }

    /// Lexes what follows a `$` (at the `$`): a parameter, `$((...))` or
    /// `$(...)`. Answers `None`, having consumed only the `$`, when it is a
    /// literal dollar sign.
    fn dollar(&mut self) -> Result<Option<WordPart>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let plain = |name| {
            Ok(Some(WordPart::Param(Param {
                name,
                form: ParamForm::Plain,
            })))
        };
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced(start).map(|p| Some(WordPart::Param(p)))
            }
            Some('(') if self.peek_second() == Some('(') => {
                self.pos += 2;
                self.enter(start)?;
                let word = self.parts(Mode::Arith(start));
                self.leave();
                Ok(Some(WordPart::Arith(word?)))
            }
            Some('(') => {
                self.pos += 1;
                self.enter(start)?;
                let result = crate::parser::substitution(self.src, self.pos, self.depth, start);
                self.leave();
                let (list, end) = result?;
                self.pos = end;
                Ok(Some(WordPart::Command(list)))
            }
            Some(c) if is_name_start(c) => plain(ParamName::Var(self.name())),
            Some(c) if c.is_ascii_digit() => {
                self.pos += 1;
                plain(ParamName::Positional(u32::from(c as u8 - b'0')))
            }
            Some(c) => match special(c) {
                Some(name) => {
                    self.pos += 1;
                    plain(name)
                }
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Reads a name (the next character starts one).
    fn name(&mut self) -> String {
        let rest = &self.src[self.pos..];
        let len = rest.find(|c| !is_name_char(c)).unwrap_or(rest.len());
        self.pos += len;
        rest[..len].into()
    }

    /// Reads the name inside `${`: a variable, digits, or a special
    /// character. `None` if there is none here.
    fn braced_name(&mut self, start: usize) -> Result<Option<ParamName>, ParseError> {
        match self.peek() {
            Some(c) if is_name_start(c) => Ok(Some(ParamName::Var(self.name()))),
            Some(c) if c.is_ascii_digit() => {
                let rest = &self.src[self.pos..];
                let len = rest.bytes().take_while(u8::is_ascii_digit).count();
                let n = rest[..len]
                    .parse::<u32>()
                    .map_err(|_| ParseError::syntax(SyntaxErrorKind::BadSubstitution, start))?;
                self.pos += len;
                Ok(Some(ParamName::Positional(n)))
            }
            Some(c) => Ok(special(c).inspect(|_| self.pos += 1)),
            None => Ok(None),
        }
    }

    /// Lexes the rest of `${...}` (after the `{`; the `$` is at `start`).
    fn braced(&mut self, start: usize) -> Result<Param, ParseError> {
        let bad = || ParseError::syntax(SyntaxErrorKind::BadSubstitution, start);
        let open = || ParseError::incomplete(Missing::ParamBrace, start);
        // `${#}` is `$#`; `${#name}` is a length; otherwise `#` is a name.
        if self.peek() == Some('#') {
            match self.peek_second() {
                None => return Err(open()),
                Some('}') => {}
                Some(c) if is_name_start(c) || c.is_ascii_digit() => {
                    self.pos += 1;
                    let name = self.braced_name(start)?.ok_or_else(bad)?;
                    return match self.bump() {
                        Some('}') => Ok(Param {
                            name,
                            form: ParamForm::Length,
                        }),
                        Some(_) => Err(bad()),
                        None => Err(open()),
                    };
                }
                Some(_) => {}
            }
        }
        let name = match self.braced_name(start)? {
            Some(name) => name,
            None if self.peek().is_none() => return Err(open()),
            None => return Err(bad()),
        };
        let colon = self.eat(':');
        let op = match self.bump() {
            Some('}') if !colon => {
                return Ok(Param {
                    name,
                    form: ParamForm::Plain,
                });
            }
            Some('-') => TestOp::Default,
            Some('=') => TestOp::Assign,
            Some('+') => TestOp::Alternative,
            Some('?') => TestOp::Error,
            Some(_) => return Err(bad()),
            None => return Err(open()),
        };
        self.enter(start)?;
        let word = self.parts(Mode::Brace(start));
        self.leave();
        let word = word?;
        // `parts` in brace mode stops only at `}` (or fails).
        self.eat('}');
        Ok(Param {
            name,
            form: ParamForm::Test { op, colon, word },
        })
    }
}

impl Lexer<'_> {
    /// Lexes `` `...` `` (at the opening backquote) and parses the
    /// commands in it. Inside, `\` escapes `$`, `` ` `` and `\` (and `"`
    /// when the backquotes stand in double quotes); other backslashes stay.
    /// A syntax error inside is reported at the opening backquote.
    fn backquoted(&mut self, in_double_quotes: bool) -> Result<List, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(ParseError::incomplete(Missing::Backquote, open)),
                Some('`') => break,
                Some('\\') => match self.peek() {
                    Some(c @ ('$' | '`' | '\\')) => {
                        self.pos += 1;
                        text.push(c);
                    }
                    Some('"') if in_double_quotes => {
                        self.pos += 1;
                        text.push('"');
                    }
                    _ => text.push('\\'),
                },
                Some(c) => text.push(c),
            }
        }
        self.enter(open)?;
        let result = crate::parser::parse_nested(&text, self.depth);
        self.leave();
        result.map_err(|error| match error {
            ParseError::Incomplete(incomplete) => {
                ParseError::syntax(SyntaxErrorKind::InBackquotes(incomplete.missing), open)
            }
            ParseError::Syntax(syntax) => ParseError::syntax(syntax.kind, open),
        })
    }
}
