//! The lexer: turns source text into [`Token`]s, one at a time, as the
//! parser asks for them (so errors come out in source order).
//!
//! Between tokens it skips blanks (space, tab), line continuations
//! (`\` + newline) and comments (`#` where a word would start, to the end of
//! the line). Digits right before `<` or `>` are an [`TokenKind::IoNumber`].
//! Words, with their quotes and parameters, are lexed by [`word`].
//!
//! It never looks back and each character is read a bounded number of times,
//! so lexing is linear in the input. `${...}` words nest, bounded by
//! [`MAX_DEPTH`].

mod word;

use crate::error::{Feature, MAX_DEPTH, ParseError, SyntaxErrorKind};
use crate::token::{Op, Token, TokenKind};

/// The lexer's state: the text and the position reached.
pub(crate) struct Lexer<'a> {
    /// The whole input.
    src: &'a str,
    /// Byte offset of the next character to read (always on a character
    /// boundary).
    pos: usize,
    /// How many constructs are open around the current position
    /// (compound commands, `${...}`, `$(...)`, `$((...))`), counted
    /// together against [`MAX_DEPTH`].
    depth: usize,
}

/// True for the characters that end an unquoted word: blanks, newline and
/// the operator characters.
pub(crate) fn ends_word(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '|' | '&' | ';' | '<' | '>' | '(' | ')'
    )
}

impl<'a> Lexer<'a> {
    /// A lexer at byte `pos` of `src`, `depth` levels deep.
    pub(crate) fn at(src: &'a str, pos: usize, depth: usize) -> Self {
        Self { src, pos, depth }
    }

    /// The next character, not consumed.
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    /// The character after the next one, not consumed.
    fn peek_second(&self) -> Option<char> {
        let mut chars = self.src[self.pos..].chars();
        chars.next();
        chars.next()
    }

    /// Consumes and returns the next character.
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Consumes the next character if it is `c`.
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Skips blanks, line continuations and a comment.
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => {
                    self.pos += 1;
                }
                Some('\\') if self.peek_second() == Some('\n') => {
                    self.pos += 2;
                }
                Some('#') => {
                    let rest = &self.src[self.pos..];
                    self.pos += rest.find('\n').unwrap_or(rest.len());
                }
                _ => return,
            }
        }
    }

    /// Reads the next token.
    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_blanks();
        let offset = self.pos;
        let kind = match self.peek() {
            None => TokenKind::Eof,
            Some('\n') => {
                self.pos += 1;
                TokenKind::Newline
            }
            Some(c) if ends_word(c) => TokenKind::Op(self.operator(offset)?),
            Some(c) if c.is_ascii_digit() => match self.io_number(offset)? {
                Some(fd) => TokenKind::IoNumber(fd),
                None => TokenKind::Word(self.word()?),
            },
            Some(_) => TokenKind::Word(self.word()?),
        };
        Ok(Token { kind, offset })
    }

    /// Reads an operator (the next character is one of `|&;<>()`).
    fn operator(&mut self, offset: usize) -> Result<Op, ParseError> {
        let unsupported =
            |feature| ParseError::syntax(SyntaxErrorKind::Unsupported(feature), offset);
        let first = self.bump();
        let op = match first {
            Some('|') if self.eat('|') => Op::OrIf,
            Some('|') => Op::Pipe,
            Some('&') if self.eat('&') => Op::AndIf,
            Some('&') => Op::Amp,
            Some(';') if self.eat(';') => Op::DoubleSemi,
            Some(';') => Op::Semi,
            Some('(') => Op::LParen,
            Some(')') => Op::RParen,
            Some('<') => match self.peek() {
                Some('<') => return Err(unsupported(Feature::HereDocument)),
                Some('>') => return Err(unsupported(Feature::RedirectOperator)),
                Some('&') => {
                    self.pos += 1;
                    Op::LessAnd
                }
                _ => Op::Less,
            },
            _ => match self.peek() {
                Some('>') => {
                    self.pos += 1;
                    Op::DoubleGreat
                }
                Some('&') => {
                    self.pos += 1;
                    Op::GreatAnd
                }
                Some('|') => return Err(unsupported(Feature::RedirectOperator)),
                _ => Op::Great,
            },
        };
        Ok(op)
    }

    /// Reads digits followed by `<` or `>` as a descriptor number; leaves
    /// the position unchanged and answers `None` if they are not followed
    /// by one.
    fn io_number(&mut self, offset: usize) -> Result<Option<u32>, ParseError> {
        let rest = &self.src[self.pos..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if !matches!(rest.as_bytes().get(digits), Some(b'<' | b'>')) {
            return Ok(None);
        }
        let fd = rest[..digits]
            .parse::<u32>()
            .map_err(|_| ParseError::syntax(SyntaxErrorKind::BadFd, offset))?;
        self.pos += digits;
        Ok(Some(fd))
    }

    /// Enters a nested construct (a compound command, `${...}`, `$(...)`,
    /// `$((...))`), failing past [`MAX_DEPTH`].
    pub(crate) fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::syntax(SyntaxErrorKind::TooDeep, offset));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a nested construct.
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}
