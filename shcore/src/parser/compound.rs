//! The compound commands: `if`, `while`, `until`, `for`, `case`,
//! `{ ...; }` and `( ... )`. Each one is entered with the parser's next
//! token being its opening word, counts one level of nesting, and needs a
//! non-empty body (a `case` item's body may be empty).

use alloc::vec::Vec;

use super::{Parser, unexpected};
use crate::ast::{Case, CaseItem, CompoundCommand, For, If, List, Loop, LoopKind, Word, is_name};
use crate::error::{Missing, ParseError, SyntaxErrorKind};
use crate::token::{Keyword, Op, TokenKind};

impl Parser<'_> {
    /// Runs `body` inside one more level of nesting for the compound
    /// command whose opening token is next.
    fn nested(
        &mut self,
        body: impl FnOnce(&mut Self, usize) -> Result<CompoundCommand, ParseError>,
    ) -> Result<CompoundCommand, ParseError> {
        let open = self.next()?.offset;
        self.enter(open)?;
        let result = body(self, open);
        self.leave();
        result
    }

    /// Parses a list that must not be empty; `missing` is what an end of
    /// input right after it lacks, for the construct opened at `open`.
    fn body(&mut self, missing: Missing, open: usize) -> Result<List, ParseError> {
        let list = self.list()?;
        if list.items.is_empty() {
            let token = self.peek()?;
            if token.kind == TokenKind::Eof {
                return Err(ParseError::incomplete(missing, open));
            }
            return Err(ParseError::syntax(SyntaxErrorKind::EmptyBody, token.offset));
        }
        Ok(list)
    }

    /// Consumes the reserved word `keyword`, for the construct opened at
    /// `open`.
    fn expect(&mut self, keyword: Keyword, open: usize) -> Result<(), ParseError> {
        let token = self.next()?;
        match &token.kind {
            TokenKind::Word(word) if word.as_literal() == Some(keyword.as_str()) => Ok(()),
            _ => Err(unexpected(&token, Missing::Keyword(keyword), open)),
        }
    }

    /// A body followed by its closing reserved word.
    fn body_until(&mut self, keyword: Keyword, open: usize) -> Result<List, ParseError> {
        let list = self.body(Missing::Keyword(keyword), open)?;
        self.expect(keyword, open)?;
        Ok(list)
    }

    /// `if list; then list; [elif list; then list;]... [else list;] fi`
    pub(super) fn if_command(&mut self) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let mut branches = Vec::new();
            loop {
                let condition = parser.body_until(Keyword::Then, open)?;
                let body = parser.body(Missing::Keyword(Keyword::Fi), open)?;
                branches.push((condition, body));
                let token = parser.next()?;
                let keyword = match &token.kind {
                    TokenKind::Word(word) => Keyword::of_command_word(word),
                    _ => None,
                };
                match keyword {
                    Some(Keyword::Elif) => {}
                    Some(Keyword::Else) => {
                        let otherwise = Some(parser.body_until(Keyword::Fi, open)?);
                        return Ok(CompoundCommand::If(If {
                            branches,
                            otherwise,
                        }));
                    }
                    Some(Keyword::Fi) => {
                        return Ok(CompoundCommand::If(If {
                            branches,
                            otherwise: None,
                        }));
                    }
                    _ => return Err(unexpected(&token, Missing::Keyword(Keyword::Fi), open)),
                }
            }
        })
    }

    /// `while list; do list; done` and `until list; do list; done`
    pub(super) fn loop_command(&mut self, kind: LoopKind) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let condition = parser.body_until(Keyword::Do, open)?;
            let body = parser.body_until(Keyword::Done, open)?;
            Ok(CompoundCommand::Loop(Loop {
                kind,
                condition,
                body,
            }))
        })
    }

    /// `for NAME [in word...]; do list; done`, also `for NAME; do` and
    /// `for NAME do`.
    pub(super) fn for_command(&mut self) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let token = parser.next()?;
            let name = match &token.kind {
                TokenKind::Word(word) => word.as_literal().filter(|name| is_name(name)),
                TokenKind::Eof => return Err(ParseError::incomplete(Missing::Name, open)),
                _ => None,
            };
            let Some(name) = name.map(Into::into) else {
                return Err(ParseError::syntax(
                    SyntaxErrorKind::BadForName,
                    token.offset,
                ));
            };
            let mut words = None;
            if parser.peek()?.kind == TokenKind::Op(Op::Semi) {
                parser.next()?;
            } else {
                parser.skip_newlines()?;
                if let TokenKind::Word(word) = &parser.peek()?.kind
                    && word.as_literal() == Some("in")
                {
                    parser.next()?;
                    words = Some(parser.for_words(open)?);
                }
            }
            parser.skip_newlines()?;
            parser.expect(Keyword::Do, open)?;
            let body = parser.body_until(Keyword::Done, open)?;
            Ok(CompoundCommand::For(For { name, words, body }))
        })
    }

    /// The words after `for NAME in`, up to and including `;` or a newline.
    fn for_words(&mut self, open: usize) -> Result<Vec<Word>, ParseError> {
        let mut words = Vec::new();
        loop {
            let token = self.next()?;
            match token.kind {
                TokenKind::Word(word) => words.push(word),
                TokenKind::Op(Op::Semi) | TokenKind::Newline => return Ok(words),
                _ => return Err(unexpected(&token, Missing::Keyword(Keyword::Do), open)),
            }
        }
    }

    /// `case WORD in [(]PATTERN[|PATTERN]...) list;; ... esac`; the `;;`
    /// of the last item may be left out, and a body may be empty.
    pub(super) fn case_command(&mut self) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let token = parser.next()?;
            let word = match token.kind {
                TokenKind::Word(word) => word,
                TokenKind::Eof => return Err(ParseError::incomplete(Missing::Word, open)),
                _ => return Err(unexpected(&token, Missing::Word, open)),
            };
            parser.skip_newlines()?;
            parser.expect(Keyword::In, open)?;
            let mut items = Vec::new();
            loop {
                parser.skip_newlines()?;
                let token = parser.next()?;
                let mut first = match token.kind {
                    TokenKind::Word(end) if end.as_literal() == Some("esac") => {
                        return Ok(CompoundCommand::Case(Case { word, items }));
                    }
                    TokenKind::Op(Op::LParen) => None,
                    TokenKind::Word(pattern) => Some(pattern),
                    _ => return Err(unexpected(&token, Missing::Keyword(Keyword::Esac), open)),
                };
                let mut patterns = Vec::new();
                loop {
                    let pattern = match first.take() {
                        Some(pattern) => pattern,
                        None => {
                            let token = parser.next()?;
                            match token.kind {
                                TokenKind::Word(pattern) => pattern,
                                _ => {
                                    return Err(unexpected(
                                        &token,
                                        Missing::Keyword(Keyword::Esac),
                                        open,
                                    ));
                                }
                            }
                        }
                    };
                    patterns.push(pattern);
                    let token = parser.next()?;
                    match token.kind {
                        TokenKind::Op(Op::Pipe) => {}
                        TokenKind::Op(Op::RParen) => break,
                        _ => return Err(unexpected(&token, Missing::Keyword(Keyword::Esac), open)),
                    }
                }
                let body = parser.list()?;
                items.push(CaseItem { patterns, body });
                let token = parser.next()?;
                match &token.kind {
                    TokenKind::Op(Op::DoubleSemi) => {}
                    TokenKind::Word(end) if end.as_literal() == Some("esac") => {
                        return Ok(CompoundCommand::Case(Case { word, items }));
                    }
                    _ => return Err(unexpected(&token, Missing::Keyword(Keyword::Esac), open)),
                }
            }
        })
    }

    /// `{ list; }`
    pub(super) fn brace_group(&mut self) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let body = parser.body_until(Keyword::RBrace, open)?;
            Ok(CompoundCommand::BraceGroup(body))
        })
    }

    /// `( list )`
    pub(super) fn subshell(&mut self) -> Result<CompoundCommand, ParseError> {
        self.nested(|parser, open| {
            let body = parser.body(Missing::CloseParen, open)?;
            let token = parser.next()?;
            match token.kind {
                TokenKind::Op(Op::RParen) => Ok(CompoundCommand::Subshell(body)),
                _ => Err(unexpected(&token, Missing::CloseParen, open)),
            }
        })
    }
}
