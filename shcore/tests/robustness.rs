//! Property tests that no input makes the lexer, parser, printer or
//! expansion panic, recurse without bound, or take quadratic time.

mod common;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use shcore::error::MAX_DEPTH;
use shcore::{ParseError, SyntaxErrorKind, expand, parse};

/// Parses `src`; if it parses, prints it and expands every word.
fn exercise(src: &str) {
    if let Ok(tree) = parse(src) {
        let _ = tree.to_string();
        let mut env = common::TestEnv::new();
        shcore::ast::for_each_word(&tree, &mut |word| {
            let _ = expand::expand_word(word, &mut env);
            let _ = expand::expand_string(word, &mut env);
        });
    }
}

/// Bytes turned into text the way a shell reading a file would (invalid
/// UTF-8 replaced).
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,60}") {
        exercise(&src);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        exercise(&lossy(&bytes));
    }

    #[test]
    fn syntax_soup_never_panics(src in "[a-c0-9 \n;|&<>(){}#'\"\\\\$:=+?!*@~-]{0,80}") {
        exercise(&src);
    }

}

proptest! {
    // Generating trees is slow in a debug build: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_trees_expand(tree in common::program(2)) {
        let mut env = common::TestEnv::new();
        shcore::ast::for_each_word(&tree, &mut |word| {
            let _ = expand::expand_word(word, &mut env);
        });
    }
}

fn is_too_deep(result: Result<shcore::ast::List, ParseError>) -> bool {
    matches!(result, Err(ParseError::Syntax(e)) if e.kind == SyntaxErrorKind::TooDeep)
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let n = 100_000;
    let cases = [
        "(".repeat(n),
        "{ ".repeat(n),
        "if a; then ".repeat(n),
        "while ".repeat(n),
        "for i in a; do ".repeat(n),
        format!("echo {}", "${x:-".repeat(n)),
        format!("echo \"{}", "${x:-\"".repeat(n)),
    ];
    for src in &cases {
        assert!(is_too_deep(parse(src)), "{}", &src[..20]);
    }
    // Just under the limit parses.
    let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
}

/// Runs `f` and fails if it is far slower than linear would be.
fn quick(what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let spent = start.elapsed();
    assert!(spent < Duration::from_secs(10), "{what}: {spent:?}");
}

#[test]
fn long_inputs_are_linear() {
    // Quadratic work on these would take minutes; linear takes about a
    // second each in a debug build.
    let n = 100_000;
    let inputs = [
        ("long word", "a".repeat(n)),
        ("many words", "a ".repeat(n)),
        ("long pipeline", "a | ".repeat(n) + "a"),
        ("long and-or", "a && ".repeat(n) + "a"),
        ("long list", "a; ".repeat(n)),
        ("many newlines", "\n".repeat(n)),
        ("many comments", "# c\n".repeat(n)),
        ("long quote", format!("'{}'", "a".repeat(n))),
        ("long double quote", format!("\"{}\"", "$a b".repeat(n))),
        ("unterminated quote", format!("'{}", "a".repeat(n))),
        ("many params", "$a".repeat(n)),
        ("many redirections", "a >f ".repeat(n)),
        ("continuations", "\\\n".repeat(n) + "a"),
        ("dollars", "$".repeat(n)),
    ];
    for (what, src) in &inputs {
        quick(what, || exercise(src));
    }
    quick("glob", || {
        let name = "a".repeat(20_000);
        let pattern = "*a".repeat(200) + "b";
        assert!(!shcore::glob::matches(&pattern, &name));
    });
}
