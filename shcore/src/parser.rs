//! The parser: a recursive-descent parser over the lexer's tokens, for the
//! grammar of POSIX XCU 2.10 restricted to what [`crate::ast`] holds.
//!
//! ```text
//! program   := linebreak list EOF
//! list      := (and_or (';' | '&' | NEWLINE) linebreak)* [and_or]
//! and_or    := pipeline (('&&' | '||') linebreak pipeline)*
//! pipeline  := ['!'] command ('|' linebreak command)*
//! command   := simple | compound redirect* | NAME '(' ')' linebreak compound redirect*
//! simple    := (assignment | redirect)* (word | redirect)*
//! compound  := if | while | until | for | case | '{' list '}' | '(' list ')'
//! case      := 'case' word linebreak 'in' linebreak
//!              ( ['('] word ('|' word)* ')' list [';;' linebreak] )* 'esac'
//! ```
//!
//! `$(...)` in a word is parsed by a parser of its own over the same text,
//! started by the lexer ([`substitution`]); `` `...` `` likewise over the
//! text between the backquotes ([`parse_nested`]).
//!
//! Reserved words are recognized only as the first word of a command (and
//! `in`, `do` where the `for` syntax expects them), so `echo if` runs echo.
//! An end of input where more could follow gives
//! [`ParseError::Incomplete`]; compound commands nest at most
//! [`crate::error::MAX_DEPTH`] deep. The compound commands live in `compound.rs`.

mod compound;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::ast::{
    AndOr, Assignment, Command, Connector, FunctionDef, List, ListItem, LoopKind, Pipeline,
    Redirect, RedirectOp, SimpleCommand, Word, WordPart, is_name,
};
use crate::error::{Found, Missing, ParseError, SyntaxErrorKind};
use crate::lexer::Lexer;
use crate::token::{Keyword, Op, Token, TokenKind};

/// Parses a whole program.
///
/// # Errors
/// [`ParseError::Incomplete`] if the text stops inside a construct (an
/// interactive shell reads another line, appends it after a newline and
/// parses again); [`ParseError::Syntax`] if it cannot be a program.
pub fn parse(src: &str) -> Result<List, ParseError> {
    parse_nested(src, 0)
}

/// Parses a whole program that stands `depth` levels deep (the text of a
/// `` `...` `` command substitution).
pub(crate) fn parse_nested(src: &str, depth: usize) -> Result<List, ParseError> {
    let mut parser = Parser::new(Lexer::at(src, 0, depth));
    let list = parser.list()?;
    let token = parser.next()?;
    match token.kind {
        TokenKind::Eof => Ok(list),
        _ => Err(unexpected(&token, Missing::Command, token.offset)),
    }
}

/// Parses the commands of `$(...)`, from `pos` (after the `(`) to the
/// closing `)`, `depth` levels deep; `open` is where the `$` stands.
/// Answers the list and the offset after the `)`.
pub(crate) fn substitution(
    src: &str,
    pos: usize,
    depth: usize,
    open: usize,
) -> Result<(List, usize), ParseError> {
    let mut parser = Parser::new(Lexer::at(src, pos, depth));
    let list = parser.list()?;
    let token = parser.next()?;
    match token.kind {
        TokenKind::Op(Op::RParen) => Ok((list, token.offset + 1)),
        _ => Err(unexpected(&token, Missing::CloseParen, open)),
    }
}

/// The parser's state. Nesting (compound commands, `${...}`, `$(...)`)
/// is counted by the lexer, in one count.
struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The next token, once looked at.
    peeked: Option<Token>,
}

/// The error for `token` where something else was needed: incomplete if it
/// is the end of the input (`missing`, for the construct opened at
/// `open`), a syntax error otherwise.
fn unexpected(token: &Token, missing: Missing, open: usize) -> ParseError {
    let found = match &token.kind {
        TokenKind::Eof => return ParseError::incomplete(missing, open),
        TokenKind::Word(word) => match word.as_literal().and_then(Keyword::from_text) {
            Some(keyword) => Found::Keyword(keyword),
            None => Found::Word,
        },
        TokenKind::IoNumber(_) => Found::Word,
        TokenKind::Op(op) => Found::Operator(op.as_str()),
        TokenKind::Newline => Found::Newline,
    };
    ParseError::syntax(SyntaxErrorKind::Unexpected(found), token.offset)
}

/// The redirection a token starts, if it is a redirection operator.
fn redirect_op(kind: &TokenKind) -> Option<RedirectOp> {
    match kind {
        TokenKind::Op(Op::Less) => Some(RedirectOp::Read),
        TokenKind::Op(Op::Great) => Some(RedirectOp::Write),
        TokenKind::Op(Op::DoubleGreat) => Some(RedirectOp::Append),
        TokenKind::Op(Op::LessAnd) => Some(RedirectOp::DupRead),
        TokenKind::Op(Op::GreatAnd) => Some(RedirectOp::DupWrite),
        _ => None,
    }
}

/// True if a token starts a redirection.
fn starts_redirect(kind: &TokenKind) -> bool {
    matches!(kind, TokenKind::IoNumber(_)) || redirect_op(kind).is_some()
}

/// Splits `NAME=value` into an assignment if the word has that shape (an
/// unquoted valid name, then an unquoted `=`).
fn assignment(word: &Word) -> Option<Assignment> {
    let Some(WordPart::Literal(first)) = word.parts.first() else {
        return None;
    };
    let eq = first.find('=')?;
    if !is_name(&first[..eq]) {
        return None;
    }
    let rest = &first[eq + 1..];
    let mut parts = Vec::with_capacity(word.parts.len());
    if !rest.is_empty() {
        parts.push(WordPart::Literal(rest.into()));
    }
    parts.extend(word.parts[1..].iter().cloned());
    Some(Assignment {
        name: first[..eq].into(),
        value: Word { parts },
    })
}

impl<'a> Parser<'a> {
    fn new(lexer: Lexer<'a>) -> Self {
        Self {
            lexer,
            peeked: None,
        }
    }

    /// The next token, not consumed.
    fn peek(&mut self) -> Result<&Token, ParseError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    /// Consumes the next token.
    fn next(&mut self) -> Result<Token, ParseError> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    /// The reserved word the next token is in command position, if any.
    fn peek_keyword(&mut self) -> Result<Option<Keyword>, ParseError> {
        Ok(match &self.peek()?.kind {
            TokenKind::Word(word) => Keyword::of_command_word(word),
            _ => None,
        })
    }

    /// True if the next token is an end of input.
    fn at_eof(&mut self) -> Result<bool, ParseError> {
        Ok(self.peek()?.kind == TokenKind::Eof)
    }

    /// Skips newline tokens.
    fn skip_newlines(&mut self) -> Result<(), ParseError> {
        while self.peek()?.kind == TokenKind::Newline {
            self.next()?;
        }
        Ok(())
    }

    /// Enters a compound command starting at `offset`.
    fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        self.lexer.enter(offset)
    }

    /// Leaves a compound command.
    fn leave(&mut self) {
        self.lexer.leave();
    }

    /// True if the next token ends a list: the end of input, `)`, `;;`, or a
    /// reserved word such as `fi` or `done`.
    fn at_list_end(&mut self) -> Result<bool, ParseError> {
        if matches!(
            self.peek()?.kind,
            TokenKind::Eof | TokenKind::Op(Op::RParen | Op::DoubleSemi)
        ) {
            return Ok(true);
        }
        Ok(self.peek_keyword()?.is_some_and(Keyword::ends_list))
    }

    /// Parses and-or lists separated by `;`, `&` and newlines, up to a
    /// token that cannot continue the list (left for the caller).
    fn list(&mut self) -> Result<List, ParseError> {
        let mut items = Vec::new();
        self.skip_newlines()?;
        while !self.at_list_end()? {
            let and_or = self.and_or()?;
            let background = match self.peek()?.kind {
                TokenKind::Op(Op::Semi) => {
                    self.next()?;
                    false
                }
                TokenKind::Op(Op::Amp) => {
                    self.next()?;
                    true
                }
                TokenKind::Newline => false,
                _ => {
                    items.push(ListItem {
                        and_or,
                        background: false,
                    });
                    break;
                }
            };
            items.push(ListItem { and_or, background });
            self.skip_newlines()?;
        }
        Ok(List { items })
    }

    /// After an operator at `offset` that needs a command: skips newlines
    /// and reports an end of input as incomplete.
    fn command_after(&mut self, offset: usize) -> Result<(), ParseError> {
        self.skip_newlines()?;
        if self.at_eof()? {
            return Err(ParseError::incomplete(Missing::Command, offset));
        }
        Ok(())
    }

    /// Parses pipelines joined by `&&` and `||`.
    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let connector = match self.peek()?.kind {
                TokenKind::Op(Op::AndIf) => Connector::And,
                TokenKind::Op(Op::OrIf) => Connector::Or,
                _ => return Ok(AndOr { first, rest }),
            };
            let operator = self.next()?;
            self.command_after(operator.offset)?;
            rest.push((connector, self.pipeline()?));
        }
    }

    /// Parses `[!] command | command ...`.
    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let negated = self.peek_keyword()? == Some(Keyword::Bang);
        if negated {
            let bang = self.next()?;
            if self.at_eof()? {
                return Err(ParseError::incomplete(Missing::Command, bang.offset));
            }
        }
        let mut commands = Vec::new();
        commands.push(self.command()?);
        while self.peek()?.kind == TokenKind::Op(Op::Pipe) {
            let pipe = self.next()?;
            self.command_after(pipe.offset)?;
            commands.push(self.command()?);
        }
        Ok(Pipeline { negated, commands })
    }

    /// Parses one command of a pipeline.
    fn command(&mut self) -> Result<Command, ParseError> {
        let token = self.peek()?;
        let offset = token.offset;
        let compound = match &token.kind {
            TokenKind::Op(Op::LParen) => self.subshell()?,
            TokenKind::Word(word) => match Keyword::of_command_word(word) {
                Some(Keyword::If) => self.if_command()?,
                Some(Keyword::While) => self.loop_command(LoopKind::While)?,
                Some(Keyword::Until) => self.loop_command(LoopKind::Until)?,
                Some(Keyword::For) => self.for_command()?,
                Some(Keyword::LBrace) => self.brace_group()?,
                Some(Keyword::Case) => self.case_command()?,
                Some(keyword) => {
                    return Err(ParseError::syntax(
                        SyntaxErrorKind::Unexpected(Found::Keyword(keyword)),
                        offset,
                    ));
                }
                None => return self.simple(),
            },
            kind if starts_redirect(kind) => return self.simple(),
            _ => {
                let token = self.next()?;
                return Err(unexpected(&token, Missing::Command, offset));
            }
        };
        let mut redirects = Vec::new();
        while starts_redirect(&self.peek()?.kind) {
            redirects.push(self.redirect()?);
        }
        Ok(Command::Compound(Box::new(compound), redirects))
    }

    /// Parses a simple command (the next token is a word or starts a
    /// redirection), or a function definition (`name()` then a compound
    /// command).
    fn simple(&mut self) -> Result<Command, ParseError> {
        let mut command = SimpleCommand::default();
        loop {
            let token = self.next()?;
            match token.kind {
                TokenKind::Word(word) => {
                    if command.words.is_empty()
                        && let Some(assignment) = assignment(&word)
                    {
                        command.assignments.push(assignment);
                    } else {
                        command.words.push(word);
                    }
                }
                TokenKind::Op(Op::LParen)
                    if command.words.len() == 1
                        && command.assignments.is_empty()
                        && command.redirects.is_empty() =>
                {
                    return self.function(&command.words[0], token.offset);
                }
                _ => {
                    let is_redirect = starts_redirect(&token.kind);
                    self.peeked = Some(token);
                    if !is_redirect {
                        return Ok(Command::Simple(command));
                    }
                    command.redirects.push(self.redirect()?);
                }
            }
        }
    }

    /// The rest of `name() compound-command` (after the `(` at `open`).
    fn function(&mut self, name: &Word, open: usize) -> Result<Command, ParseError> {
        let Some(name) = name.as_literal().filter(|name| is_name(name)) else {
            return Err(ParseError::syntax(
                SyntaxErrorKind::Unexpected(Found::Operator("(")),
                open,
            ));
        };
        let token = self.next()?;
        if token.kind != TokenKind::Op(Op::RParen) {
            return Err(unexpected(&token, Missing::CloseParen, open));
        }
        self.command_after(open)?;
        let offset = self.peek()?.offset;
        match self.command()? {
            Command::Compound(body, redirects) => Ok(Command::Function(FunctionDef {
                name: name.into(),
                body,
                redirects,
            })),
            _ => Err(ParseError::syntax(SyntaxErrorKind::BadFunctionBody, offset)),
        }
    }

    /// Parses `[N]op target`.
    fn redirect(&mut self) -> Result<Redirect, ParseError> {
        let mut token = self.next()?;
        let fd = match token.kind {
            TokenKind::IoNumber(fd) => {
                token = self.next()?;
                Some(fd)
            }
            _ => None,
        };
        let Some(op) = redirect_op(&token.kind) else {
            return Err(unexpected(&token, Missing::Command, token.offset));
        };
        let target = self.next()?;
        match target.kind {
            TokenKind::Word(target) => Ok(Redirect { fd, op, target }),
            _ => Err(ParseError::syntax(
                SyntaxErrorKind::MissingRedirectTarget,
                target.offset,
            )),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod constructs_tests;
