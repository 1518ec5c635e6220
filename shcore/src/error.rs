//! What [`crate::parse`] answers when the input is not a whole program.
//!
//! There are two cases, kept apart so an interactive shell can tell them
//! apart without looking at the message: [`ParseError::Incomplete`] means the
//! input stopped inside a construct (an open quote, a trailing `|`, an `if`
//! without `fi`...) and more lines could complete it, so the shell prompts
//! with PS2 and parses the joined text again; [`ParseError::Syntax`] means no
//! continuation can fix it.
//!
//! Offsets are byte offsets into the parsed text.

use core::fmt;

use crate::token::Keyword;

/// Why the input is not a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The input ended inside a construct; more input could complete it.
    Incomplete(Incomplete),
    /// The input is wrong whatever follows.
    Syntax(SyntaxError),
}

impl ParseError {
    /// True for [`ParseError::Incomplete`].
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete(_))
    }

    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Self::Incomplete(e) => e.offset,
            Self::Syntax(e) => e.offset,
        }
    }

    pub(crate) fn incomplete(missing: Missing, offset: usize) -> Self {
        Self::Incomplete(Incomplete { missing, offset })
    }

    pub(crate) fn syntax(kind: SyntaxErrorKind, offset: usize) -> Self {
        Self::Syntax(SyntaxError { kind, offset })
    }
}

/// The input ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// What is still expected.
    pub missing: Missing,
    /// Where the open construct starts (the quote, the operator, the
    /// keyword).
    pub offset: usize,
}

/// What an incomplete input still needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The closing `'`.
    SingleQuote,
    /// The closing `"`.
    DoubleQuote,
    /// The closing `}` of `${...}`.
    ParamBrace,
    /// The character after a trailing `\`.
    EscapedChar,
    /// A command after `|`, `&&`, `||` or `!`.
    Command,
    /// A reserved word (`then`, `fi`, `do`, `done`, `}`, ...).
    Keyword(Keyword),
    /// The `)` of a subshell.
    CloseParen,
    /// The variable name after `for`.
    Name,
    /// The word after `case`.
    Word,
    /// The `))` of `$((`.
    ArithParens,
    /// The closing `` ` `` of a command substitution.
    Backquote,
}

/// The input cannot become a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub kind: SyntaxErrorKind,
    /// Where.
    pub offset: usize,
}

/// What is wrong in a [`SyntaxError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// A token that cannot stand here.
    Unexpected(Found),
    /// A redirection operator with no word after it.
    MissingRedirectTarget,
    /// A descriptor number before `<` or `>` too large for a `u32`.
    BadFd,
    /// A malformed `${...}`: no name, or an operator this shell lacks.
    BadSubstitution,
    /// `for` followed by something that is not a valid name.
    BadForName,
    /// A compound command with an empty body (`{ }`, `if then`...).
    EmptyBody,
    /// Compound commands or `${...}` nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A function body that is not a compound command (`f() echo`).
    BadFunctionBody,
    /// The commands inside `` `...` `` end early (what they miss).
    InBackquotes(Missing),
    /// A feature of POSIX sh this shell does not have.
    Unsupported(Feature),
}

/// The kind of token found where it cannot stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// An operator, as written.
    Operator(&'static str),
    /// A reserved word in command position.
    Keyword(Keyword),
    /// A newline.
    Newline,
    /// A word.
    Word,
}

/// The POSIX sh features reported as [`SyntaxErrorKind::Unsupported`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `<<` and `<<-`.
    HereDocument,
    /// `<>` and `>|`.
    RedirectOperator,
}

/// How deep compound commands and `${...}` words may nest.
pub const MAX_DEPTH: usize = 64;

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete(e) => write!(f, "{e}"),
            Self::Syntax(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: unexpected end of input: ", self.offset)?;
        write_missing(f, self.missing)
    }
}

/// What an incomplete input misses, in words.
fn write_missing(f: &mut fmt::Formatter<'_>, missing: Missing) -> fmt::Result {
    match missing {
        Missing::SingleQuote => write!(f, "missing '"),
        Missing::DoubleQuote => write!(f, "missing \""),
        Missing::ParamBrace => write!(f, "missing }} of ${{"),
        Missing::EscapedChar => write!(f, "nothing after \\"),
        Missing::Command => write!(f, "missing a command"),
        Missing::Keyword(k) => write!(f, "missing `{}`", k.as_str()),
        Missing::CloseParen => write!(f, "missing )"),
        Missing::Name => write!(f, "missing a name after `for`"),
        Missing::Word => write!(f, "missing a word after `case`"),
        Missing::ArithParens => write!(f, "missing )) of $(("),
        Missing::Backquote => write!(f, "missing `"),
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: ", self.offset)?;
        match self.kind {
            SyntaxErrorKind::Unexpected(Found::Operator(op)) => write!(f, "unexpected `{op}`"),
            SyntaxErrorKind::Unexpected(Found::Keyword(k)) => {
                write!(f, "unexpected `{}`", k.as_str())
            }
            SyntaxErrorKind::Unexpected(Found::Newline) => write!(f, "unexpected newline"),
            SyntaxErrorKind::Unexpected(Found::Word) => write!(f, "unexpected word"),
            SyntaxErrorKind::MissingRedirectTarget => write!(f, "redirection without a target"),
            SyntaxErrorKind::BadFd => write!(f, "descriptor number too large"),
            SyntaxErrorKind::BadSubstitution => write!(f, "bad ${{...}} substitution"),
            SyntaxErrorKind::BadForName => write!(f, "`for` needs a valid name"),
            SyntaxErrorKind::EmptyBody => write!(f, "empty command list"),
            SyntaxErrorKind::TooDeep => write!(f, "nested deeper than {MAX_DEPTH}"),
            SyntaxErrorKind::BadFunctionBody => {
                write!(f, "a function body must be a compound command")
            }
            SyntaxErrorKind::InBackquotes(missing) => {
                write!(f, "unexpected end of input inside `...`: ")?;
                write_missing(f, missing)
            }
            SyntaxErrorKind::Unsupported(feature) => {
                let what = match feature {
                    Feature::HereDocument => "here-documents",
                    Feature::RedirectOperator => "the <> and >| redirections",
                };
                write!(f, "{what} not supported")
            }
        }
    }
}
