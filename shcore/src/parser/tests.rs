//! Unit tests of the parser (and the lexer under it): every construct, and
//! every error kind.

use super::parse;
use crate::ast::*;
use crate::error::{Feature, Found, Missing, ParseError, SyntaxErrorKind};
use crate::token::Keyword;

fn ok(src: &str) -> List {
    parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

/// The only command of a one-command program.
fn command(src: &str) -> Command {
    let list = ok(src);
    assert_eq!(list.items.len(), 1, "{src:?}");
    let and_or = &list.items[0].and_or;
    assert!(and_or.rest.is_empty(), "{src:?}");
    assert_eq!(and_or.first.commands.len(), 1, "{src:?}");
    and_or.first.commands[0].clone()
}

fn simple(src: &str) -> SimpleCommand {
    match command(src) {
        Command::Simple(simple) => simple,
        other => panic!("{src:?}: not simple: {other:?}"),
    }
}

fn compound(src: &str) -> (CompoundCommand, Vec<Redirect>) {
    match command(src) {
        Command::Compound(compound, redirects) => (*compound, redirects),
        other => panic!("{src:?}: not compound: {other:?}"),
    }
}

/// The words of a simple command, printed.
fn words(src: &str) -> Vec<String> {
    simple(src).words.iter().map(|w| w.to_string()).collect()
}

fn parts(src: &str) -> Vec<WordPart> {
    let simple = simple(src);
    assert_eq!(simple.words.len(), 1, "{src:?}");
    simple.words[0].parts.clone()
}

fn lit(text: &str) -> WordPart {
    WordPart::Literal(text.into())
}

fn var(name: &str) -> Param {
    Param {
        name: ParamName::Var(name.into()),
        form: ParamForm::Plain,
    }
}

fn plain(name: ParamName) -> WordPart {
    WordPart::Param(Param {
        name,
        form: ParamForm::Plain,
    })
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
fn empty_programs() {
    for src in ["", "\n\n", "   ", "# a comment", "# one\n  # two\n"] {
        assert_eq!(ok(src), List::default(), "{src:?}");
    }
}

#[test]
fn simple_words() {
    assert_eq!(words("echo a  b\tc"), ["echo", "a", "b", "c"]);
    assert_eq!(words("echo a # comment"), ["echo", "a"]);
    assert_eq!(words("echo a#b #c"), ["echo", "a#b"]);
    assert_eq!(words("ec\\\nho x"), ["echo", "x"]);
    assert_eq!(words("echo \\\n x"), ["echo", "x"]);
    assert_eq!(
        words("echo if then fi do done { } !"),
        ["echo", "if", "then", "fi", "do", "done", "{", "}", "!"]
    );
    assert_eq!(words("échø ünï"), ["échø", "ünï"]);
}

#[test]
fn assignments() {
    let cmd = simple("A=1 B= C=x=y cmd D=2");
    let names: Vec<_> = cmd.assignments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"]);
    assert_eq!(cmd.assignments[0].value, Word::literal("1"));
    assert_eq!(cmd.assignments[1].value, Word::default());
    assert_eq!(cmd.assignments[2].value, Word::literal("x=y"));
    assert_eq!(cmd.words, [Word::literal("cmd"), Word::literal("D=2")]);

    let only = simple("A=1 B=\"x y\"");
    assert_eq!(only.assignments.len(), 2);
    assert!(only.words.is_empty());
    assert_eq!(
        only.assignments[1].value.parts,
        [WordPart::DoubleQuoted(vec![DqPart::Text("x y".into())])]
    );

    // Not assignments: a bad name, a quoted `=`, a leading `=`.
    for src in ["1A=2", "A-B=1", "'A'=1", "A\\=1", "=1", "A'='1"] {
        let cmd = simple(src);
        assert!(cmd.assignments.is_empty(), "{src:?}");
        assert_eq!(cmd.words.len(), 1, "{src:?}");
    }
    // After an assignment a reserved word is a command name.
    let cmd = simple("A=1 if x");
    assert_eq!(cmd.words, [Word::literal("if"), Word::literal("x")]);
}

#[test]
fn quoting() {
    assert_eq!(
        parts("'a b $x \\'"),
        [WordPart::SingleQuoted("a b $x \\".into())]
    );
    assert_eq!(parts("a\\ b"), [lit("a"), WordPart::Escaped(' '), lit("b")]);
    assert_eq!(
        parts("\"a $x \\$ \\\" \\\\ \\a \\\nb\""),
        [WordPart::DoubleQuoted(vec![
            DqPart::Text("a ".into()),
            DqPart::Param(var("x")),
            DqPart::Text(" $ \" \\ \\a b".into()),
        ])]
    );
    assert_eq!(parts("''"), [WordPart::SingleQuoted(String::new())]);
    assert_eq!(parts("\"\""), [WordPart::DoubleQuoted(vec![])]);
    assert_eq!(
        parts("a'b'\"c\"d"),
        [
            lit("a"),
            WordPart::SingleQuoted("b".into()),
            WordPart::DoubleQuoted(vec![DqPart::Text("c".into())]),
            lit("d")
        ]
    );
    // Quotes keep newlines and operators.
    assert_eq!(parts("'a\n;|b'"), [WordPart::SingleQuoted("a\n;|b".into())]);
}

#[test]
fn parameters() {
    assert_eq!(parts("$HOME"), [WordPart::Param(var("HOME"))]);
    assert_eq!(parts("${HOME}x"), [WordPart::Param(var("HOME")), lit("x")]);
    assert_eq!(parts("$a_1-"), [WordPart::Param(var("a_1")), lit("-")]);
    let specials = [
        ("$?", ParamName::Status),
        ("$$", ParamName::Pid),
        ("$!", ParamName::LastBackground),
        ("$#", ParamName::Count),
        ("$@", ParamName::All),
        ("$*", ParamName::Star),
        ("$0", ParamName::Positional(0)),
        ("$9", ParamName::Positional(9)),
        ("${10}", ParamName::Positional(10)),
        ("${#}", ParamName::Count),
        ("${?}", ParamName::Status),
    ];
    for (src, name) in specials {
        assert_eq!(parts(src), [plain(name)], "{src:?}");
    }
    assert_eq!(parts("$12"), [plain(ParamName::Positional(1)), lit("2")]);
    // A lone `$` is literal.
    assert_eq!(parts("a$"), [lit("a$")]);
    assert_eq!(parts("$-x"), [lit("$-x")]);
    assert_eq!(
        parts("$'a'"),
        [lit("$"), WordPart::SingleQuoted("a".into())]
    );
    assert_eq!(
        parts("\"$\""),
        [WordPart::DoubleQuoted(vec![DqPart::Text("$".into())])]
    );
    assert_eq!(
        parts("${#name}"),
        [WordPart::Param(Param {
            name: ParamName::Var("name".into()),
            form: ParamForm::Length
        })]
    );
}

#[test]
fn parameter_tests() {
    let cases = [
        ("${x-a b}", TestOp::Default, false),
        ("${x:-a b}", TestOp::Default, true),
        ("${x=a b}", TestOp::Assign, false),
        ("${x:=a b}", TestOp::Assign, true),
        ("${x+a b}", TestOp::Alternative, false),
        ("${x:+a b}", TestOp::Alternative, true),
        ("${x?a b}", TestOp::Error, false),
        ("${x:?a b}", TestOp::Error, true),
    ];
    for (src, op, colon) in cases {
        let expected = WordPart::Param(Param {
            name: ParamName::Var("x".into()),
            form: ParamForm::Test {
                op,
                colon,
                word: Word::literal("a b"),
            },
        });
        assert_eq!(parts(src), [expected], "{src:?}");
    }
    // The word may be empty, quoted, hold `}` when quoted, and nest.
    let [
        WordPart::Param(Param {
            form: ParamForm::Test { word, .. },
            ..
        }),
    ] = &parts("${x:-}")[..]
    else {
        panic!("not a test");
    };
    assert!(word.parts.is_empty());
    let [
        WordPart::Param(Param {
            form: ParamForm::Test { word, .. },
            ..
        }),
    ] = &parts("${x:-'}'\\}${y:-;|}}")[..]
    else {
        panic!("not a test");
    };
    assert_eq!(word.parts.len(), 3);
    assert_eq!(word.parts[0], WordPart::SingleQuoted("}".into()));
    assert_eq!(word.parts[1], WordPart::Escaped('}'));
    // Inside double quotes too.
    let quoted = parts("\"${1:-a}\"");
    assert!(matches!(&quoted[..], [WordPart::DoubleQuoted(inner)] if inner.len() == 1));
}

#[test]
fn pipelines_and_lists() {
    let list = ok("a | b | c; ! d && e || f & g\nh");
    assert_eq!(list.items.len(), 4);
    assert_eq!(list.items[0].and_or.first.commands.len(), 3);
    assert!(!list.items[0].background);
    let second = &list.items[1];
    assert!(second.background);
    assert!(second.and_or.first.negated);
    let connectors: Vec<_> = second.and_or.rest.iter().map(|(c, _)| *c).collect();
    assert_eq!(connectors, [Connector::And, Connector::Or]);
    assert!(!list.items[2].background);
    // Newlines may follow `|`, `&&` and `||`, and separate items.
    assert_eq!(ok("a |\n\n b &&\n c ||\n d").items.len(), 1);
    assert_eq!(ok("a;\n\nb &\n").items.len(), 2);
    assert_eq!(ok("a&b").items.len(), 2);
}

#[test]
fn redirections() {
    let cmd = simple("cmd <in >out >>log 2>err 2>>elog 2>&1 >&2 <&0 3<x 4>&- a");
    let shown: Vec<_> = cmd.redirects.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        shown,
        [
            "<in", ">out", ">>log", "2>err", "2>>elog", "2>&1", ">&2", "<&0", "3<x", "4>&-"
        ]
    );
    assert_eq!(cmd.words, [Word::literal("cmd"), Word::literal("a")]);
    let ops: Vec<_> = cmd.redirects.iter().map(|r| r.op).collect();
    use RedirectOp::*;
    assert_eq!(
        ops,
        [
            Read, Write, Append, Write, Append, DupWrite, DupWrite, DupRead, Read, DupWrite
        ]
    );
    // Digits not touching the operator are a word; a target may be quoted.
    let cmd = simple("echo 2 > \"a b\"");
    assert_eq!(cmd.words.len(), 2);
    assert_eq!(cmd.redirects[0].fd, None);
    // Only redirections, and redirections before the command.
    assert!(simple(">f").words.is_empty());
    assert_eq!(simple("<in A=1 cmd").assignments.len(), 1);
    // A reserved word after a redirection is a plain word.
    assert_eq!(simple(">f if").words, [Word::literal("if")]);
}

#[test]
fn if_commands() {
    let (CompoundCommand::If(command), _) = compound("if a; then b; elif c\nthen d; e; else f; fi")
    else {
        panic!("not an if");
    };
    assert_eq!(command.branches.len(), 2);
    assert_eq!(command.branches[1].1.items.len(), 2);
    assert!(command.otherwise.is_some());
    let (CompoundCommand::If(command), _) = compound("if\na\nthen\nb\nfi") else {
        panic!("not an if");
    };
    assert_eq!(command.branches.len(), 1);
    assert!(command.otherwise.is_none());
}

#[test]
fn loops() {
    for (src, kind) in [
        ("while a; do b; done", LoopKind::While),
        ("until a\ndo b\ndone", LoopKind::Until),
    ] {
        let (CompoundCommand::Loop(command), _) = compound(src) else {
            panic!("{src:?}: not a loop");
        };
        assert_eq!(command.kind, kind);
        assert_eq!(command.condition.items.len(), 1);
    }
}

#[test]
fn for_loops() {
    let cases: [(&str, Option<usize>); 6] = [
        ("for i in a b c; do x; done", Some(3)),
        ("for i in\ndo x; done", Some(0)),
        ("for i\nin a\ndo x; done", Some(1)),
        ("for i; do x; done", None),
        ("for i do x; done", None),
        ("for i\n\ndo x; done", None),
    ];
    for (src, count) in cases {
        let (CompoundCommand::For(command), _) = compound(src) else {
            panic!("{src:?}: not a for");
        };
        assert_eq!(command.name, "i");
        assert_eq!(command.words.as_ref().map(Vec::len), count, "{src:?}");
    }
    // Reserved words are plain words in the list.
    let (CompoundCommand::For(command), _) = compound("for do in do done; do x; done") else {
        panic!("not a for");
    };
    assert_eq!(command.name, "do");
    assert_eq!(
        command.words,
        Some(vec![Word::literal("do"), Word::literal("done")])
    );
}

#[test]
fn groups_and_redirected_compounds() {
    let (group, redirects) = compound("{ a; b & } >out 2>&1");
    assert!(matches!(group, CompoundCommand::BraceGroup(list) if list.items.len() == 2));
    assert_eq!(redirects.len(), 2);
    let (subshell, _) = compound("(a; (b))");
    assert!(matches!(subshell, CompoundCommand::Subshell(list) if list.items.len() == 2));
    let (_, redirects) = compound("while a; do b; done <in");
    assert_eq!(redirects.len(), 1);
    // `}` not in command position is a word; `{x` is a word.
    assert_eq!(words("{x y}"), ["{x", "y}"]);
    let list = ok("{ echo }; }");
    assert_eq!(list.items.len(), 1);
    // Compounds in pipelines and and-or lists.
    let list = ok("if a; then b; fi | c && { d; }");
    assert_eq!(list.items[0].and_or.first.commands.len(), 2);
}

#[test]
fn nesting_up_to_the_limit() {
    let depth = crate::error::MAX_DEPTH;
    let deep = format!("{}a{}", "( ".repeat(depth), " )".repeat(depth));
    ok(&deep);
    let too_deep = format!("{}a{}", "( ".repeat(depth + 1), " )".repeat(depth + 1));
    assert_eq!(syntax(&too_deep).0, SyntaxErrorKind::TooDeep);
    let braces = format!("{}{}", "${x:-".repeat(depth + 1), "}".repeat(depth + 1));
    assert_eq!(
        syntax(&format!("echo {braces}")).0,
        SyntaxErrorKind::TooDeep
    );
    let ifs = "if a; then ".repeat(depth + 1);
    assert_eq!(syntax(&ifs).0, SyntaxErrorKind::TooDeep);
}

#[test]
fn unexpected_tokens() {
    let cases = [
        (";", Found::Operator(";"), 0),
        ("a;;", Found::Operator(";;"), 1),
        ("a; ;", Found::Operator(";"), 3),
        ("a && ;", Found::Operator(";"), 5),
        ("a | )", Found::Operator(")"), 4),
        (")", Found::Operator(")"), 0),
        ("fi", Found::Keyword(Keyword::Fi), 0),
        ("a; done", Found::Keyword(Keyword::Done), 3),
        ("a | ! b", Found::Keyword(Keyword::Bang), 4),
        ("! ! a", Found::Keyword(Keyword::Bang), 2),
        ("{ a; } b", Found::Word, 7),
        ("if a; then b; done", Found::Keyword(Keyword::Done), 14),
        ("for i in a | b; do c; done", Found::Operator("|"), 11),
        ("(a) (b)", Found::Operator("("), 4),
        ("a & &", Found::Operator("&"), 4),
    ];
    for (src, found, offset) in cases {
        assert_eq!(
            syntax(src),
            (SyntaxErrorKind::Unexpected(found), offset),
            "{src:?}"
        );
    }
}

#[test]
fn other_syntax_errors() {
    let cases = [
        ("echo >", SyntaxErrorKind::MissingRedirectTarget, 6),
        ("echo > ;", SyntaxErrorKind::MissingRedirectTarget, 7),
        ("echo 2>\n", SyntaxErrorKind::MissingRedirectTarget, 7),
        ("echo 99999999999>f", SyntaxErrorKind::BadFd, 5),
        ("echo ${}", SyntaxErrorKind::BadSubstitution, 5),
        ("echo ${ x}", SyntaxErrorKind::BadSubstitution, 5),
        ("echo ${x%y}", SyntaxErrorKind::BadSubstitution, 5),
        ("echo ${x:y}", SyntaxErrorKind::BadSubstitution, 5),
        ("echo ${#x:-y}", SyntaxErrorKind::BadSubstitution, 5),
        ("echo ${99999999999}", SyntaxErrorKind::BadSubstitution, 5),
        ("for 1 in a; do b; done", SyntaxErrorKind::BadForName, 4),
        ("for 'i' in a; do b; done", SyntaxErrorKind::BadForName, 4),
        ("for ; do b; done", SyntaxErrorKind::BadForName, 4),
        ("{ }", SyntaxErrorKind::EmptyBody, 2),
        ("if then a; fi", SyntaxErrorKind::EmptyBody, 3),
        ("if a; then fi", SyntaxErrorKind::EmptyBody, 11),
        ("while a; do done", SyntaxErrorKind::EmptyBody, 12),
        ("( )", SyntaxErrorKind::EmptyBody, 2),
    ];
    for (src, kind, offset) in cases {
        assert_eq!(syntax(src), (kind, offset), "{src:?}");
    }
}

#[test]
fn unsupported_features() {
    let cases = [
        ("cat <<EOF", Feature::HereDocument, 4),
        ("cat <<-EOF", Feature::HereDocument, 4),
        ("cat <>f", Feature::RedirectOperator, 4),
        ("echo >|f", Feature::RedirectOperator, 5),
    ];
    for (src, feature, offset) in cases {
        assert_eq!(
            syntax(src),
            (SyntaxErrorKind::Unsupported(feature), offset),
            "{src:?}"
        );
    }
}

#[test]
fn incomplete_inputs() {
    let cases = [
        ("echo 'abc", Missing::SingleQuote, 5),
        ("echo \"abc", Missing::DoubleQuote, 5),
        ("echo \"$x", Missing::DoubleQuote, 5),
        ("echo \"a\\", Missing::DoubleQuote, 5),
        ("echo ${x", Missing::ParamBrace, 5),
        ("echo ${", Missing::ParamBrace, 5),
        ("echo ${#", Missing::ParamBrace, 5),
        ("echo ${#x", Missing::ParamBrace, 5),
        ("echo ${x:", Missing::ParamBrace, 5),
        ("echo ${x:-a b", Missing::ParamBrace, 5),
        ("echo ${x:-'a", Missing::SingleQuote, 10),
        ("echo a\\", Missing::EscapedChar, 6),
        ("a |", Missing::Command, 2),
        ("a |\n\n", Missing::Command, 2),
        ("a &&", Missing::Command, 2),
        ("a ||", Missing::Command, 2),
        ("!", Missing::Command, 0),
        ("if", Missing::Keyword(Keyword::Then), 0),
        ("if a", Missing::Keyword(Keyword::Then), 0),
        ("if a; then", Missing::Keyword(Keyword::Fi), 0),
        ("if a; then b", Missing::Keyword(Keyword::Fi), 0),
        ("if a; then b; else", Missing::Keyword(Keyword::Fi), 0),
        ("if a; then b; elif c", Missing::Keyword(Keyword::Then), 0),
        ("x; while a", Missing::Keyword(Keyword::Do), 3),
        ("until a; do b", Missing::Keyword(Keyword::Done), 0),
        ("for", Missing::Name, 0),
        ("for i", Missing::Keyword(Keyword::Do), 0),
        ("for i in a b", Missing::Keyword(Keyword::Do), 0),
        ("for i in a b;", Missing::Keyword(Keyword::Do), 0),
        ("for i; do", Missing::Keyword(Keyword::Done), 0),
        ("{ a", Missing::Keyword(Keyword::RBrace), 0),
        ("{ a; { b; }", Missing::Keyword(Keyword::RBrace), 0),
        ("( a", Missing::CloseParen, 0),
        ("(", Missing::CloseParen, 0),
        ("if a; then ( b", Missing::CloseParen, 11),
    ];
    for (src, missing, offset) in cases {
        assert_eq!(incomplete(src), (missing, offset), "{src:?}");
        // Each one is finished by some continuation.
    }
    // A continuation completes them.
    let completions = [
        ("echo 'abc", "'"),
        ("a |", "b"),
        ("if a", "then b; fi"),
        ("for i in a b", "do c; done"),
        ("echo a\\", "b"),
    ];
    for (start, rest) in completions {
        ok(&format!("{start}\n{rest}"));
    }
}

#[test]
fn errors_display() {
    let err = parse("echo 'a").unwrap_err();
    assert!(err.is_incomplete());
    assert_eq!(err.offset(), 5);
    assert_eq!(
        err.to_string(),
        "offset 5: unexpected end of input: missing '"
    );
    let err = parse("a; fi").unwrap_err();
    assert!(!err.is_incomplete());
    assert_eq!(err.to_string(), "offset 3: unexpected `fi`");
}
