//! The syntax tree of a shell program, as [`crate::parse`] builds it and
//! [`crate::print`] prints it.
//!
//! The tree keeps what expansion needs to know: each [`Word`] is a sequence
//! of [`WordPart`]s that say which text was quoted and where parameters are.
//! It does not keep layout (blanks, comments, `$x` against `${x}`, where the
//! redirections stood among the words).
//!
//! Invariants of a tree that [`crate::parse`] returns (the printer relies on
//! them for its round trip, and the property tests' generator keeps them):
//! - no two [`WordPart::Literal`] are adjacent and none is empty; likewise no
//!   two [`DqPart::Text`] are adjacent and none is empty;
//! - a `Literal` holds no character that is special where it stands (blanks,
//!   operators, quotes, `$`, `` ` ``, `\`; in the word of `${x:-word}` only
//!   `}`, quotes, `$`, `` ` `` and `\`), and the first part of a word is not a
//!   `Literal` starting with `#`;
//! - a [`WordPart::SingleQuoted`] holds no `'`, and a [`WordPart::Escaped`] is
//!   not a newline;
//! - a word has at least one part, except an assignment's value and the word
//!   of `${x:-word}`, which may be empty;
//! - a simple command's first word (when it has no assignments) is not an
//!   unquoted reserved word, and is not shaped like an assignment;
//! - lists inside compound commands are not empty (except a `case`
//!   item's body); a pipeline has at least
//!   one command; an `if` has at least one condition.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A whole program, or the body of a compound command: and-or lists run one
/// after the other (or in the background).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    /// The items in order; empty only for an empty program.
    pub items: Vec<ListItem>,
}

/// One and-or list with how it was ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// The commands to run.
    pub and_or: AndOr,
    /// Ended by `&`: run without waiting for it.
    pub background: bool,
}

/// Pipelines joined by `&&` and `||`, evaluated left to right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndOr {
    /// The first pipeline, always run.
    pub first: Pipeline,
    /// The following pipelines, each with the operator before it.
    pub rest: Vec<(Connector, Pipeline)>,
}

/// The operator between two pipelines of an [`AndOr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: run the next one if the last status was 0.
    And,
    /// `||`: run the next one if the last status was not 0.
    Or,
}

/// Commands joined by `|`, optionally negated with a leading `!`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    /// Led by `!`: the status is inverted.
    pub negated: bool,
    /// The commands, at least one; each one's output feeds the next.
    pub commands: Vec<Command>,
}

/// One command of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Assignments, words and redirections.
    Simple(SimpleCommand),
    /// A compound command and the redirections that follow it.
    Compound(Box<CompoundCommand>, Vec<Redirect>),
    /// `name() compound-command [redirections]`: defines a function.
    Function(FunctionDef),
}

/// A function definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDef {
    /// The function's name (a valid name).
    pub name: String,
    /// Its body: a compound command.
    pub body: Box<CompoundCommand>,
    /// Redirections applied each time it runs.
    pub redirects: Vec<Redirect>,
}

/// `A=1 B=2 cmd args >out`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The leading `NAME=value` words.
    pub assignments: Vec<Assignment>,
    /// The command name and its arguments (may be empty: a line of only
    /// assignments or redirections).
    pub words: Vec<Word>,
    /// The redirections, in the order written.
    pub redirects: Vec<Redirect>,
}

/// `NAME=value` before a command name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// A valid name (letters, digits and `_`, not starting with a digit).
    pub name: String,
    /// The value, expanded without field splitting; may have no parts.
    pub value: Word,
}

/// A redirection such as `2>>log` or `2>&1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The descriptor written before the operator, if any (otherwise 0 for
    /// `<` and `<&`, 1 for the others).
    pub fd: Option<u32>,
    /// What to do.
    pub op: RedirectOp,
    /// The file name, or for the `&` forms the descriptor number (or `-`).
    pub target: Word,
}

/// The operator of a [`Redirect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectOp {
    /// `<`: open the file for reading.
    Read,
    /// `>`: create or truncate the file for writing.
    Write,
    /// `>>`: create the file or append to it.
    Append,
    /// `<&`: duplicate an input descriptor.
    DupRead,
    /// `>&`: duplicate an output descriptor.
    DupWrite,
}

impl RedirectOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "<",
            Self::Write => ">",
            Self::Append => ">>",
            Self::DupRead => "<&",
            Self::DupWrite => ">&",
        }
    }

    /// The descriptor redirected when none is written: 0 for input, 1 for
    /// output.
    pub fn default_fd(self) -> u32 {
        match self {
            Self::Read | Self::DupRead => 0,
            Self::Write | Self::Append | Self::DupWrite => 1,
        }
    }
}

/// The compound commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompoundCommand {
    /// `{ list; }`: run in the current shell.
    BraceGroup(List),
    /// `( list )`: run in a subshell.
    Subshell(List),
    /// `if ...; then ...; [elif ...; then ...;] [else ...;] fi`.
    If(If),
    /// `while`/`until ...; do ...; done`.
    Loop(Loop),
    /// `for NAME [in words]; do ...; done`.
    For(For),
    /// `case WORD in PATTERN) list;; ... esac`.
    Case(Case),
}

/// A `case` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The word matched.
    pub word: Word,
    /// The items, tried in order.
    pub items: Vec<CaseItem>,
}

/// One `PATTERN | PATTERN) list ;;` of a `case`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseItem {
    /// The patterns, at least one.
    pub patterns: Vec<Word>,
    /// The commands run when one matches (may be empty).
    pub body: List,
}

/// An `if` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct If {
    /// The `if` branch then each `elif` branch: (condition, body); at least
    /// one.
    pub branches: Vec<(List, List)>,
    /// The `else` body, if any.
    pub otherwise: Option<List>,
}

/// Which loop a [`Loop`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopKind {
    /// `while`: repeat while the condition succeeds.
    While,
    /// `until`: repeat until the condition succeeds.
    Until,
}

/// A `while` or `until` loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loop {
    /// `while` or `until`.
    pub kind: LoopKind,
    /// The condition list.
    pub condition: List,
    /// The body.
    pub body: List,
}

/// A `for` loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct For {
    /// The loop variable (a valid name).
    pub name: String,
    /// The words after `in`, or `None` without `in` (loop over `"$@"`).
    pub words: Option<Vec<Word>>,
    /// The body.
    pub body: List,
}

/// A word: parts written next to each other with no blank between.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word {
    /// The parts in order.
    pub parts: Vec<WordPart>,
}

impl Word {
    /// A word of one unquoted literal part (for building trees by hand).
    pub fn literal(text: &str) -> Self {
        Self {
            parts: alloc::vec![WordPart::Literal(text.into())],
        }
    }

    /// The text if the word is a single unquoted literal (how reserved words
    /// and names are recognized).
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [WordPart::Literal(text)] => Some(text),
            _ => None,
        }
    }
}

/// A piece of a [`Word`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordPart {
    /// Unquoted text: subject to tilde and pathname expansion.
    Literal(String),
    /// `'text'`: taken as it is.
    SingleQuoted(String),
    /// `\c` outside quotes: the character taken as it is.
    Escaped(char),
    /// `"..."`: text and parameters, expanded without field splitting.
    DoubleQuoted(Vec<DqPart>),
    /// An unquoted parameter: its value is split into fields.
    Param(Param),
    /// `$((expression))`: the expression's text (parameters in it are
    /// expanded first), evaluated by [`crate::arith`].
    Arith(Word),
    /// `$(list)` or `` `list` ``: the output of the commands.
    Command(List),
}

/// A piece of a double-quoted string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DqPart {
    /// Text, with the backslash escapes already removed.
    Text(String),
    /// A parameter.
    Param(Param),
    /// `$((expression))`.
    Arith(Word),
    /// `$(list)` or `` `list` ``.
    Command(List),
}

/// A parameter expansion: `$name`, `${name}`, `${#name}`, `${name:-word}`...
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Which parameter.
    pub name: ParamName,
    /// What to do with it.
    pub form: ParamForm,
}

/// The parameter named by a [`Param`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamName {
    /// A variable (a valid name).
    Var(String),
    /// `$0` (the script name) or a positional argument `$1`, `${10}`...
    Positional(u32),
    /// `$?`: the status of the last command.
    Status,
    /// `$$`: the shell's process id.
    Pid,
    /// `$!`: the process id of the last background command.
    LastBackground,
    /// `$#`: the number of positional arguments.
    Count,
    /// `$@`: the positional arguments, one field each when quoted.
    All,
    /// `$*`: the positional arguments joined by spaces when quoted.
    Star,
}

/// How a [`Param`] is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamForm {
    /// `$name` or `${name}`: its value.
    Plain,
    /// `${#name}`: the length of its value in characters (for a variable or
    /// a positional argument).
    Length,
    /// `${name-word}`, `${name:-word}` and the other tests.
    Test {
        /// Which test.
        op: TestOp,
        /// Written with `:`: an empty value counts as unset.
        colon: bool,
        /// The word to use (expanded only when needed); may be empty.
        word: Word,
    },
}

/// The operator of a [`ParamForm::Test`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestOp {
    /// `-`: use the word when unset.
    Default,
    /// `=`: assign the word when unset, then use it.
    Assign,
    /// `+`: use the word when set, otherwise nothing.
    Alternative,
    /// `?`: fail with the word as message when unset.
    Error,
}

impl TestOp {
    /// The operator character.
    pub fn as_char(self) -> char {
        match self {
            Self::Default => '-',
            Self::Assign => '=',
            Self::Alternative => '+',
            Self::Error => '?',
        }
    }
}

/// True if `name` is a valid variable name: an ASCII letter or `_`, then
/// letters, digits and `_`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Calls `f` on every word of a tree (words, assignment values,
/// redirection targets, `for` lists, `case` words and patterns), in
/// order: what a check of every word (tests, fuzz targets) walks.
pub fn for_each_word(list: &List, f: &mut dyn FnMut(&Word)) {
    for item in &list.items {
        let pipelines =
            core::iter::once(&item.and_or.first).chain(item.and_or.rest.iter().map(|(_, p)| p));
        for pipeline in pipelines {
            for command in &pipeline.commands {
                match command {
                    Command::Simple(simple) => {
                        simple.assignments.iter().for_each(|a| f(&a.value));
                        simple.words.iter().for_each(&mut *f);
                        simple.redirects.iter().for_each(|r| f(&r.target));
                    }
                    Command::Compound(compound, redirects) => {
                        redirects.iter().for_each(|r| f(&r.target));
                        compound_words(compound, f);
                    }
                    Command::Function(def) => {
                        def.redirects.iter().for_each(|r| f(&r.target));
                        compound_words(&def.body, f);
                    }
                }
            }
        }
    }
}

/// Calls `f` on every word of a compound command.
fn compound_words(compound: &CompoundCommand, f: &mut dyn FnMut(&Word)) {
    match compound {
        CompoundCommand::BraceGroup(l) | CompoundCommand::Subshell(l) => for_each_word(l, f),
        CompoundCommand::If(c) => {
            for (condition, body) in &c.branches {
                for_each_word(condition, f);
                for_each_word(body, f);
            }
            if let Some(otherwise) = &c.otherwise {
                for_each_word(otherwise, f);
            }
        }
        CompoundCommand::Loop(c) => {
            for_each_word(&c.condition, f);
            for_each_word(&c.body, f);
        }
        CompoundCommand::For(c) => {
            c.words.iter().flatten().for_each(&mut *f);
            for_each_word(&c.body, f);
        }
        CompoundCommand::Case(c) => {
            f(&c.word);
            for item in &c.items {
                item.patterns.iter().for_each(&mut *f);
                for_each_word(&item.body, f);
            }
        }
    }
}
