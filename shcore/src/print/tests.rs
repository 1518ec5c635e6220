//! Unit tests of the printer: the canonical text of each construct, and
//! the round trip through the parser for inputs written in other layouts.

use crate::ast::{
    Command, DqPart, List, Param, ParamForm, ParamName, SimpleCommand, Word, WordPart,
};
use crate::parse;

fn printed(src: &str) -> String {
    let list = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let text = list.to_string();
    assert_eq!(
        parse(&text).as_ref(),
        Ok(&list),
        "{src:?} printed as {text:?}"
    );
    text
}

#[test]
fn canonical_layout() {
    let cases = [
        ("echo   a\tb # c", "echo a b"),
        ("A=1  B= cmd >f x 2>&1", "A=1 B= cmd x >f 2>&1"),
        ("a|b  ;c&d&&e||f\ng", "a | b; c & d && e || f; g"),
        ("! a", "! a"),
        (
            "if a\nthen b\nelif c; then d; else e\nfi",
            "if a; then b; elif c; then d; else e; fi",
        ),
        ("while a; do b & done", "while a; do b & done"),
        ("until a; do b; done >out", "until a; do b; done >out"),
        (
            "for i in a 'b c'; do x; done",
            "for i in a 'b c'; do x; done",
        ),
        ("for i\ndo x; done", "for i; do x; done"),
        ("for i in; do x; done", "for i in; do x; done"),
        ("{ a; }", "{ a; }"),
        ("(a)", "( a; )"),
        ("a &", "a &"),
    ];
    for (src, text) in cases {
        assert_eq!(printed(src), text, "{src:?}");
    }
}

#[test]
fn words_and_parameters() {
    let cases = [
        ("echo \"a $x\" 'b' c\\ d", "echo \"a $x\" 'b' c\\ d"),
        ("echo ${x}y $x-y ${x}", "echo ${x}y $x-y $x"),
        ("echo \"${x}y\"", "echo \"${x}y\""),
        ("echo $1 ${1}0 ${10} $12", "echo $1 $10 ${10} $12"),
        ("echo $? $$ $! $# $@ $* ${#}", "echo $? $$ $! $# $@ $* $#"),
        (
            "echo ${#x} ${x:-a b} ${x=} ${x:+\"q\"}",
            "echo ${#x} ${x:-a b} ${x=} ${x:+\"q\"}",
        ),
        ("echo a$ $ \"$\" \\$", "echo a$ $ \"\\$\" \\$"),
        (
            "echo \"\\a \\\\ \\$ \\\" \\`\"",
            "echo \"\\\\a \\\\ \\$ \\\" \\`\"",
        ),
        ("echo '' \"\"", "echo '' \"\""),
        ("echo \\#a a#", "echo \\#a a#"),
        ("echo \"a\nb\"", "echo \"a\nb\""),
        (">f if", ">f if"),
    ];
    for (src, text) in cases {
        assert_eq!(printed(src), text, "{src:?}");
    }
}

/// Trees no parse gives still print as valid shell text.
#[test]
fn hand_built_trees_print_valid_text() {
    let command = |words: Vec<Word>| List {
        items: vec![crate::ast::ListItem {
            and_or: crate::ast::AndOr {
                first: crate::ast::Pipeline {
                    negated: false,
                    commands: vec![Command::Simple(SimpleCommand {
                        words,
                        ..SimpleCommand::default()
                    })],
                },
                rest: vec![],
            },
            background: false,
        }],
    };
    let odd = [
        Word::literal("if"),
        Word::literal("A=1"),
        Word::literal("a b;c|d$x\n#"),
        Word::literal("#x"),
        Word { parts: vec![] },
        Word {
            parts: vec![WordPart::SingleQuoted("it's".into())],
        },
        Word {
            parts: vec![WordPart::Escaped('\n')],
        },
        Word {
            parts: vec![WordPart::DoubleQuoted(vec![DqPart::Param(Param {
                name: ParamName::Var("x".into()),
                form: ParamForm::Plain,
            })])],
        },
    ];
    for word in odd {
        let text = command(vec![word.clone(), word.clone()]).to_string();
        assert!(parse(&text).is_ok(), "{word:?} printed as {text:?}");
    }
}
