//! Shared by the property tests: a generator of syntax trees in the
//! canonical shape `shcore::ast` describes (what parsing gives), a small
//! expansion environment, and a walk over every word of a tree.
#![allow(dead_code)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use shcore::ast::*;
use shcore::token::Keyword;

/// Where a generated word stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A shell word: non-empty, unquoted text without blanks or operators.
    Word,
    /// An assignment value: may be empty.
    Value,
    /// The word of `${name-word}`: may be empty, text may hold blanks and
    /// operators but no `}`.
    Brace,
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,3}"
}

fn literal_text(place: Place) -> BoxedStrategy<String> {
    match place {
        Place::Word | Place::Value => "[a-z0-9_.*?/~=#{}!,:%+@-]{1,4}".boxed(),
        Place::Brace => "[a-z0-9 \t\n;|&<>()#{=*~-]{1,4}".boxed(),
    }
}

fn param_name() -> impl Strategy<Value = ParamName> {
    prop_oneof![
        4 => name().prop_map(ParamName::Var),
        2 => (0u32..20).prop_map(ParamName::Positional),
        1 => Just(ParamName::Status),
        1 => Just(ParamName::Pid),
        1 => Just(ParamName::LastBackground),
        1 => Just(ParamName::Count),
        1 => Just(ParamName::All),
        1 => Just(ParamName::Star),
    ]
}

fn test_op() -> impl Strategy<Value = TestOp> {
    prop_oneof![
        Just(TestOp::Default),
        Just(TestOp::Assign),
        Just(TestOp::Alternative),
        Just(TestOp::Error),
    ]
}

/// A parameter; `depth` bounds the nesting of `${name-word}` words.
fn param(depth: u32) -> BoxedStrategy<Param> {
    let plain = param_name().prop_map(|name| Param {
        name,
        form: ParamForm::Plain,
    });
    let length = prop_oneof![
        name().prop_map(ParamName::Var),
        (0u32..20).prop_map(ParamName::Positional)
    ]
    .prop_map(|name| Param {
        name,
        form: ParamForm::Length,
    });
    if depth == 0 {
        return prop_oneof![3 => plain, 1 => length].boxed();
    }
    let test = (
        param_name(),
        test_op(),
        any::<bool>(),
        word(Place::Brace, depth - 1),
    )
        .prop_map(|(name, op, colon, word)| Param {
            name,
            form: ParamForm::Test { op, colon, word },
        });
    prop_oneof![3 => plain, 1 => length, 2 => test].boxed()
}

fn dq_part(depth: u32) -> impl Strategy<Value = DqPart> {
    prop_oneof![
        "[a-z $`\"\\\\}\n'{]{1,4}".prop_map(DqPart::Text),
        param(depth).prop_map(DqPart::Param),
    ]
}

fn part(place: Place, depth: u32) -> impl Strategy<Value = WordPart> {
    prop_oneof![
        3 => literal_text(place).prop_map(WordPart::Literal),
        1 => "[a-z \"$\\\\}\n]{0,4}".prop_map(WordPart::SingleQuoted),
        1 => "[a-z \\\\$'\"|;#}]".prop_map(|s: String| WordPart::Escaped(s.chars().next().unwrap_or('a'))),
        1 => prop::collection::vec(dq_part(depth), 0..3).prop_map(WordPart::DoubleQuoted),
        2 => param(depth).prop_map(WordPart::Param),
    ]
}

/// Brings parts into the canonical shape: adjacent texts merged, no empty
/// text, no word-starting `#`, no empty shell word.
fn canonical(parts: Vec<WordPart>, place: Place) -> Word {
    let mut out: Vec<WordPart> = Vec::new();
    for part in parts {
        match (part, out.last_mut()) {
            (WordPart::Literal(text), _) if text.is_empty() => {}
            (WordPart::Literal(text), Some(WordPart::Literal(last))) => last.push_str(&text),
            (WordPart::DoubleQuoted(inner), _) => {
                let mut merged: Vec<DqPart> = Vec::new();
                for p in inner {
                    match (p, merged.last_mut()) {
                        (DqPart::Text(t), _) if t.is_empty() => {}
                        (DqPart::Text(t), Some(DqPart::Text(last))) => last.push_str(&t),
                        (p, _) => merged.push(p),
                    }
                }
                out.push(WordPart::DoubleQuoted(merged));
            }
            (part, _) => out.push(part),
        }
    }
    if place == Place::Word {
        if let Some(WordPart::Literal(first)) = out.first_mut()
            && first.starts_with('#')
        {
            first.insert(0, 'x');
        }
        if out.is_empty() {
            out.push(WordPart::Literal("x".into()));
        }
    }
    Word { parts: out }
}

/// A word for `place`.
pub fn word(place: Place, depth: u32) -> BoxedStrategy<Word> {
    let max = if place == Place::Word { 4 } else { 3 };
    prop::collection::vec(part(place, depth), 0..max)
        .prop_map(move |parts| canonical(parts, place))
        .boxed()
}

fn redirect() -> impl Strategy<Value = Redirect> {
    let op = prop_oneof![
        Just(RedirectOp::Read),
        Just(RedirectOp::Write),
        Just(RedirectOp::Append),
        Just(RedirectOp::DupRead),
        Just(RedirectOp::DupWrite),
    ];
    (
        prop::option::of(prop_oneof![0u32..10, any::<u32>()]),
        op,
        word(Place::Word, 1),
    )
        .prop_map(|(fd, op, target)| Redirect { fd, op, target })
}

fn is_assignment_shaped(word: &Word) -> bool {
    match word.parts.first() {
        Some(WordPart::Literal(text)) => text.find('=').is_some_and(|eq| is_name(&text[..eq])),
        _ => false,
    }
}

fn simple() -> impl Strategy<Value = SimpleCommand> {
    let assignment =
        (name(), word(Place::Value, 1)).prop_map(|(name, value)| Assignment { name, value });
    (
        prop::collection::vec(assignment, 0..3),
        prop::collection::vec(word(Place::Word, 2), 0..4),
        prop::collection::vec(redirect(), 0..3),
    )
        .prop_map(|(assignments, mut words, redirects)| {
            if let Some(first) = words.first_mut() {
                if is_assignment_shaped(first) {
                    first.parts.insert(0, WordPart::SingleQuoted(String::new()));
                }
                let keyword = Keyword::of_command_word(first).is_some();
                if keyword && assignments.is_empty() && redirects.is_empty() {
                    *first = Word::literal("x");
                }
            }
            if assignments.is_empty() && words.is_empty() && redirects.is_empty() {
                words.push(Word::literal("true"));
            }
            SimpleCommand {
                assignments,
                words,
                redirects,
            }
        })
}

fn body(depth: u32) -> BoxedStrategy<List> {
    prop::collection::vec(item(depth), 1..3)
        .prop_map(|items| List { items })
        .boxed()
}

fn compound(depth: u32) -> BoxedStrategy<CompoundCommand> {
    let loop_kind = prop_oneof![Just(LoopKind::While), Just(LoopKind::Until)];
    prop_oneof![
        body(depth).prop_map(CompoundCommand::BraceGroup),
        body(depth).prop_map(CompoundCommand::Subshell),
        (
            prop::collection::vec((body(depth), body(depth)), 1..3),
            prop::option::of(body(depth))
        )
            .prop_map(|(branches, otherwise)| CompoundCommand::If(If {
                branches,
                otherwise
            })),
        (loop_kind, body(depth), body(depth)).prop_map(|(kind, condition, body)| {
            CompoundCommand::Loop(Loop {
                kind,
                condition,
                body,
            })
        }),
        (
            name(),
            prop::option::of(prop::collection::vec(word(Place::Word, 1), 0..3)),
            body(depth)
        )
            .prop_map(|(name, words, body)| CompoundCommand::For(For {
                name,
                words,
                body
            })),
    ]
    .boxed()
}

fn command(depth: u32) -> BoxedStrategy<Command> {
    if depth == 0 {
        return simple().prop_map(Command::Simple).boxed();
    }
    prop_oneof![
        3 => simple().prop_map(Command::Simple),
        1 => (compound(depth - 1), prop::collection::vec(redirect(), 0..2))
            .prop_map(|(c, r)| Command::Compound(Box::new(c), r)),
    ]
    .boxed()
}

fn item(depth: u32) -> BoxedStrategy<ListItem> {
    let connector = prop_oneof![Just(Connector::And), Just(Connector::Or)];
    let pipeline = move || {
        (any::<bool>(), prop::collection::vec(command(depth), 1..3))
            .prop_map(|(negated, commands)| Pipeline { negated, commands })
    };
    (
        pipeline(),
        prop::collection::vec((connector, pipeline()), 0..2),
        any::<bool>(),
    )
        .prop_map(|(first, rest, background)| ListItem {
            and_or: AndOr { first, rest },
            background,
        })
        .boxed()
}

/// A whole program, with compound commands nested up to `depth`.
pub fn program(depth: u32) -> BoxedStrategy<List> {
    prop::collection::vec(item(depth), 0..4)
        .prop_map(|items| List { items })
        .boxed()
}

/// A shell state for expansion.
pub struct TestEnv {
    pub vars: BTreeMap<String, String>,
    pub args: Vec<String>,
}

impl TestEnv {
    pub fn new() -> Self {
        let mut vars = BTreeMap::new();
        vars.insert("HOME".into(), "/home/me".into());
        vars.insert("a".into(), " x  y *".into());
        Self {
            vars,
            args: vec!["one".into(), "two words".into()],
        }
    }
}

impl shcore::Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn set_var(&mut self, name: &str, value: &str) {
        self.vars.insert(name.into(), value.into());
    }
    fn last_status(&self) -> i32 {
        1
    }
    fn pid(&self) -> u64 {
        7
    }
    fn last_background(&self) -> Option<u64> {
        Some(8)
    }
    fn arg0(&self) -> &str {
        "sh"
    }
    fn args(&self) -> &[String] {
        &self.args
    }
    fn command_output(&mut self, program: &List) -> String {
        format!("{program}\n\n")
    }
}
