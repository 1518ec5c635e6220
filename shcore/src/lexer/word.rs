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
use crate::ast::{DqPart, Param, ParamForm, ParamName, TestOp, Word, WordPart};
use crate::error::{Feature, Missing, ParseError, SyntaxErrorKind};

/// Where a word stands, which decides what ends it.
#[derive(Clone, Copy)]
enum Mode {
    /// A shell word: ended by blanks, newline and operator characters.
    Normal,
    /// The word of `${name:-word}` whose `${` is at this offset: ended by
    /// `}`.
    Brace(usize),
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
        loop {
            let start = self.pos;
            let Some(c) = self.peek() else {
                return match mode {
                    Mode::Normal => Ok(parts.finish()),
                    Mode::Brace(open) => Err(ParseError::incomplete(Missing::ParamBrace, open)),
                };
            };
            match (mode, c) {
                (Mode::Normal, c) if ends_word(c) => return Ok(parts.finish()),
                (Mode::Brace(_), '}') => return Ok(parts.finish()),
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
                (_, '$') => match self.dollar()? {
                    Some(param) => parts.push(WordPart::Param(param)),
                    None => parts.literal.push('$'),
                },
                (_, '`') => return Err(unsupported(Feature::CommandSubstitution, start)),
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
            let start = self.pos;
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
                Some('$') => match self.dollar()? {
                    Some(param) => {
                        dq.flush();
                        dq.parts.push(DqPart::Param(param));
                    }
                    None => dq.text.push('$'),
                },
                Some('`') => return Err(unsupported(Feature::CommandSubstitution, start)),
                Some(c) => {
                    self.pos += c.len_utf8();
                    dq.text.push(c);
                }
            }
        }
    }

    /// Lexes what follows a `$` (at the `$`). Answers `None`, having
    /// consumed only the `$`, when it is a literal dollar sign.
    fn dollar(&mut self) -> Result<Option<Param>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let plain = |name| {
            Ok(Some(Param {
                name,
                form: ParamForm::Plain,
            }))
        };
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced(start).map(Some)
            }
            Some('(') => {
                let feature = if self.peek_second() == Some('(') {
                    Feature::Arithmetic
                } else {
                    Feature::CommandSubstitution
                };
                Err(unsupported(feature, start))
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

fn unsupported(feature: Feature, offset: usize) -> ParseError {
    ParseError::syntax(SyntaxErrorKind::Unsupported(feature), offset)
}
