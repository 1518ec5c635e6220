//! The tokens the lexer (`lexer.rs`) hands to the parser: words,
//! descriptor numbers before a redirection, operators and newlines; and the
//! reserved words, which the parser recognizes among the words only in
//! command position (POSIX XCU 2.4).

use crate::ast::Word;

/// An operator token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `|`
    Pipe,
    /// `||`
    OrIf,
    /// `&`
    Amp,
    /// `&&`
    AndIf,
    /// `;`
    Semi,
    /// `;;` (only meaningful in `case`, which is not supported)
    DoubleSemi,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `<`
    Less,
    /// `>`
    Great,
    /// `>>`
    DoubleGreat,
    /// `<&`
    LessAnd,
    /// `>&`
    GreatAnd,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pipe => "|",
            Self::OrIf => "||",
            Self::Amp => "&",
            Self::AndIf => "&&",
            Self::Semi => ";",
            Self::DoubleSemi => ";;",
            Self::LParen => "(",
            Self::RParen => ")",
            Self::Less => "<",
            Self::Great => ">",
            Self::DoubleGreat => ">>",
            Self::LessAnd => "<&",
            Self::GreatAnd => ">&",
        }
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (possibly a reserved word or an assignment: the parser
    /// decides).
    Word(Word),
    /// Digits written right before `<` or `>`: the descriptor to redirect.
    IoNumber(u32),
    /// An operator.
    Op(Op),
    /// A newline (a command separator).
    Newline,
    /// The end of the input.
    Eof,
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset of its first character in the input.
    pub offset: usize,
}

/// The reserved words the parser knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// `if`
    If,
    /// `then`
    Then,
    /// `elif`
    Elif,
    /// `else`
    Else,
    /// `fi`
    Fi,
    /// `while`
    While,
    /// `until`
    Until,
    /// `do`
    Do,
    /// `done`
    Done,
    /// `for`
    For,
    /// `in` (reserved only after `for NAME`)
    In,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `!`
    Bang,
    /// `case` (not supported)
    Case,
    /// `esac` (not supported)
    Esac,
}

impl Keyword {
    /// All reserved words, for lookups and tests.
    pub const ALL: [Keyword; 16] = [
        Self::If,
        Self::Then,
        Self::Elif,
        Self::Else,
        Self::Fi,
        Self::While,
        Self::Until,
        Self::Do,
        Self::Done,
        Self::For,
        Self::In,
        Self::LBrace,
        Self::RBrace,
        Self::Bang,
        Self::Case,
        Self::Esac,
    ];

    /// The word as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::If => "if",
            Self::Then => "then",
            Self::Elif => "elif",
            Self::Else => "else",
            Self::Fi => "fi",
            Self::While => "while",
            Self::Until => "until",
            Self::Do => "do",
            Self::Done => "done",
            Self::For => "for",
            Self::In => "in",
            Self::LBrace => "{",
            Self::RBrace => "}",
            Self::Bang => "!",
            Self::Case => "case",
            Self::Esac => "esac",
        }
    }

    /// The keyword spelled `text`, if any (`in` included).
    pub fn from_text(text: &str) -> Option<Keyword> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The keyword a word is in command position: an unquoted literal
    /// spelling a reserved word other than `in`.
    pub fn of_command_word(word: &Word) -> Option<Keyword> {
        word.as_literal()
            .and_then(Self::from_text)
            .filter(|k| *k != Self::In)
    }

    /// True for the words that end a list (`then`, `elif`, `else`, `fi`,
    /// `do`, `done`, `}`, `esac`).
    pub fn ends_list(self) -> bool {
        matches!(
            self,
            Self::Then
                | Self::Elif
                | Self::Else
                | Self::Fi
                | Self::Do
                | Self::Done
                | Self::RBrace
                | Self::Esac
        )
    }
}
