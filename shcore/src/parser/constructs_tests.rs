//! Unit tests of the constructs added after the first parser: `$((...))`,
//! `$(...)`, `` `...` ``, `case` and function definitions, their printing
//! and their errors.

use alloc::string::{String, ToString};
use alloc::vec;

use super::parse;
use crate::ast::*;
use crate::error::{Found, MAX_DEPTH, Missing, ParseError, SyntaxErrorKind};
use crate::token::Keyword;

fn ok(src: &str) -> List {
    let list = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    // Every tree prints to text that parses back to it.
    let text = list.to_string();
    assert_eq!(
        parse(&text).as_ref(),
        Ok(&list),
        "{src:?} printed as {text:?}"
    );
    list
}

fn first_command(src: &str) -> Command {
    ok(src).items[0].and_or.first.commands[0].clone()
}

/// The parts of the last word of the first simple command.
fn parts(src: &str) -> Vec<WordPart> {
    match first_command(src) {
        Command::Simple(simple) => simple.words.last().expect("a word").parts.clone(),
        other => panic!("{src:?}: {other:?}"),
    }
}

fn syntax(src: &str) -> (SyntaxErrorKind, usize) {
    match parse(src) {
        Err(ParseError::Syntax(e)) => (e.kind, e.offset),
        other => panic!("{src:?}: expected a syntax error, got {other:?}"),
    }
}

fn incomplete(src: &str) -> (Missing, usize) {
    match parse(src) {
        Err(ParseError::Incomplete(e)) => (e.missing, e.offset),
        other => panic!("{src:?}: expected incomplete, got {other:?}"),
    }
}

#[test]
fn arithmetic() {
    assert_eq!(
        parts("echo $((1 + (2*3) ))"),
        [WordPart::Arith(Word::literal("1 + (2*3) "))]
    );
    let [WordPart::Arith(word)] = &parts("echo $(($x+y))")[..] else {
        panic!("not arithmetic");
    };
    assert_eq!(word.parts.len(), 2);
    assert!(matches!(&word.parts[0], WordPart::Param(_)));
    let [WordPart::DoubleQuoted(inner)] = &parts("echo \"a$((1|2))\"")[..] else {
        panic!("not quoted");
    };
    assert!(matches!(&inner[1], DqPart::Arith(_)));
    ok("echo $(())");
    ok("i=$((i+1))");
    ok("echo $((a<b&&c>d;e))");
    ok("echo $(('1' + \"2\"))");
    assert_eq!(incomplete("echo $((1+2"), (Missing::ArithParens, 5));
    assert_eq!(incomplete("echo $((1+2)"), (Missing::ArithParens, 5));
    assert_eq!(incomplete("echo $((1+(2)"), (Missing::ArithParens, 5));
    assert_eq!(
        syntax("echo $((1) + 2)"),
        (SyntaxErrorKind::Unexpected(Found::Operator(")")), 9)
    );
}

#[test]
fn command_substitution() {
    let [WordPart::Command(list)] = &parts("echo $(echo a; echo b)")[..] else {
        panic!("not a substitution");
    };
    assert_eq!(list.items.len(), 2);
    let [WordPart::Command(list)] = &parts("echo `echo a`")[..] else {
        panic!("not a substitution");
    };
    assert_eq!(list.to_string(), "echo a");
    // Nesting, quotes and `)` inside.
    ok("echo $(echo $(echo x))");
    ok("echo \"$(echo \"a b\")\"");
    ok("echo $(echo ')'; case x in (a) b;; esac)");
    ok("echo $( (a) )");
    ok("echo $()");
    ok("x=$(cat f | wc -l)");
    // Backquotes: `\` escapes `$`, `` ` `` and `\` inside.
    let [WordPart::Command(list)] = &parts("echo `echo \\`echo x\\``")[..] else {
        panic!("not a substitution");
    };
    assert_eq!(list.to_string(), "echo $(echo x)");
    let [WordPart::DoubleQuoted(inner)] = &parts("echo \"`echo \\\"q\\\"`\"")[..] else {
        panic!("not quoted");
    };
    assert!(matches!(&inner[0], DqPart::Command(_)));
    assert_eq!(incomplete("echo $(ls"), (Missing::CloseParen, 5));
    assert_eq!(
        incomplete("echo $(if a"),
        (Missing::Keyword(Keyword::Then), 7)
    );
    assert_eq!(incomplete("echo `ls"), (Missing::Backquote, 5));
    assert_eq!(
        syntax("echo `echo 'a`"),
        (SyntaxErrorKind::InBackquotes(Missing::SingleQuote), 5)
    );
    assert_eq!(
        syntax("echo `fi`"),
        (SyntaxErrorKind::Unexpected(Found::Keyword(Keyword::Fi)), 5)
    );
    assert_eq!(
        syntax("echo $(a;;)"),
        (SyntaxErrorKind::Unexpected(Found::Operator(";;")), 8)
    );
    let deep = "$(".repeat(MAX_DEPTH + 1) + &")".repeat(MAX_DEPTH + 1);
    assert_eq!(syntax(&deep).0, SyntaxErrorKind::TooDeep);
    let deep = "`".repeat(2);
    ok(&deep);
}

fn case(src: &str) -> Case {
    match first_command(src) {
        Command::Compound(compound, _) => match *compound {
            CompoundCommand::Case(case) => case,
            other => panic!("{src:?}: {other:?}"),
        },
        other => panic!("{src:?}: {other:?}"),
    }
}

#[test]
fn case_commands() {
    let c = case("case $x in a*) echo m;; b|c) echo n; echo o;; (d) ;; *) echo p; esac");
    assert_eq!(c.items.len(), 4);
    assert_eq!(c.items[1].patterns.len(), 2);
    assert_eq!(c.items[1].body.items.len(), 2);
    assert!(c.items[2].body.items.is_empty());
    assert_eq!(c.items[3].patterns, vec![Word::literal("*")]);
    assert!(case("case x in esac").items.is_empty());
    assert_eq!(
        case("case x\nin\na)\necho a\n;;\nb) echo b\nesac")
            .items
            .len(),
        2
    );
    assert_eq!(
        case("case x in (esac) a;; esac").items[0].patterns[0],
        Word::literal("esac")
    );
    // Reserved words are patterns and arguments inside.
    assert_eq!(case("case if in if) fi=1;; esac").items.len(), 1);
    ok("case a in a) case b in b) echo;; esac;; esac | cat");
    let cases = [
        ("case", Missing::Word, 0),
        ("case x", Missing::Keyword(Keyword::In), 0),
        ("case x in", Missing::Keyword(Keyword::Esac), 0),
        ("case x in a", Missing::Keyword(Keyword::Esac), 0),
        ("case x in a)", Missing::Keyword(Keyword::Esac), 0),
        ("case x in a) b;;", Missing::Keyword(Keyword::Esac), 0),
        ("case x in a|", Missing::Keyword(Keyword::Esac), 0),
    ];
    for (src, missing, offset) in cases {
        assert_eq!(incomplete(src), (missing, offset), "{src:?}");
    }
    let errors = [
        ("case x y", Found::Word, 7),
        ("case x in a b) c;; esac", Found::Word, 12),
        ("case x in a) b; esac c", Found::Word, 21),
        ("case x in ;; esac", Found::Operator(";;"), 10),
        ("case ; in", Found::Operator(";"), 5),
    ];
    for (src, found, offset) in errors {
        assert_eq!(
            syntax(src),
            (SyntaxErrorKind::Unexpected(found), offset),
            "{src:?}"
        );
    }
}

#[test]
fn function_definitions() {
    let Command::Function(def) = first_command("f() { echo fn $1; }") else {
        panic!("not a function");
    };
    assert_eq!(def.name, "f");
    assert!(matches!(*def.body, CompoundCommand::BraceGroup(_)));
    let Command::Function(def) = first_command("g ()\n( echo sub ) >out") else {
        panic!("not a function");
    };
    assert_eq!(def.redirects.len(), 1);
    assert!(matches!(*def.body, CompoundCommand::Subshell(_)));
    ok("f() if a; then b; fi; f");
    ok("f() for i; do echo $i; done");
    ok("f() { g() { :; }; }");
    assert_eq!(ok("f() { a; }; f arg").items.len(), 2);
    assert_eq!(incomplete("f()"), (Missing::Command, 1));
    assert_eq!(incomplete("f() {"), (Missing::Keyword(Keyword::RBrace), 4));
    assert_eq!(incomplete("f("), (Missing::CloseParen, 1));
    assert_eq!(syntax("f() echo"), (SyntaxErrorKind::BadFunctionBody, 4));
    assert_eq!(
        syntax("1f() { a; }"),
        (SyntaxErrorKind::Unexpected(Found::Operator("(")), 2)
    );
    assert_eq!(
        syntax("f(x) { a; }"),
        (SyntaxErrorKind::Unexpected(Found::Word), 2)
    );
    assert_eq!(
        syntax("a b() { c; }"),
        (SyntaxErrorKind::Unexpected(Found::Operator("(")), 3)
    );
}

#[test]
fn dollar_before_a_line_continuation() {
    // Found by the `parse` fuzz target: `$` + `\` newline + `h` was a
    // literal `$h`, which printed as `\$h`, another tree.
    assert_eq!(
        parts("l$\\\n\\\nh"),
        [
            WordPart::Literal("l".into()),
            WordPart::Escaped('$'),
            WordPart::Literal("h".into())
        ]
    );
}

#[test]
fn errors_display() {
    let show = |src: &str| parse(src).unwrap_err().to_string();
    assert_eq!(
        show("echo `echo 'a`"),
        "offset 5: unexpected end of input inside `...`: missing '"
    );
    assert_eq!(
        show("f() echo"),
        "offset 4: a function body must be a compound command"
    );
    assert_eq!(
        show("echo $((1"),
        "offset 5: unexpected end of input: missing )) of $(("
    );
    let _ = String::new().to_string();
}
