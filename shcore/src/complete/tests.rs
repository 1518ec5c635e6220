//! Unit tests of the completion helper.

use proptest::prelude::*;

use super::*;

/// Completes at the end of `line`.
fn at_end(line: &str) -> (usize, String, CompletionKind) {
    let c = completion_at(line, line.len());
    (c.start, c.prefix, c.kind)
}

#[test]
fn command_position() {
    use CompletionKind::{Command, Path};
    let cases = [
        ("", 0, "", Command),
        ("ec", 0, "ec", Command),
        ("  ec", 2, "ec", Command),
        ("echo ", 5, "", Path),
        ("echo fi", 5, "fi", Path),
        ("echo a; l", 8, "l", Command),
        ("a && b", 5, "b", Command),
        ("a || b", 5, "b", Command),
        ("a | b", 4, "b", Command),
        ("a & b", 4, "b", Command),
        ("(b", 1, "b", Command),
        ("a\nb", 2, "b", Command),
        ("if t", 3, "t", Command),
        ("if a; then b", 11, "b", Command),
        ("while x; do y", 12, "y", Command),
        ("{ x", 2, "x", Command),
        ("! x", 2, "x", Command),
        ("A=1 B=2 c", 8, "c", Command),
        ("A=1 ", 4, "", Command),
        ("cat <", 5, "", Path),
        ("<in c", 4, "c", Command),
        ("cat 2>f", 6, "f", Path),
        ("2>err c", 6, "c", Command),
        ("./scr", 0, "./scr", Path),
        ("(a) b", 4, "b", Path),
    ];
    for (line, start, prefix, kind) in cases {
        assert_eq!(at_end(line), (start, prefix.into(), kind), "{line:?}");
    }
}

#[test]
fn quotes_and_escapes() {
    let c = completion_at("cat \"my fi", 10);
    assert_eq!(
        (c.start, c.prefix.as_str(), c.open_quote),
        (4, "my fi", Some('"'))
    );
    let c = completion_at("cat 'a b", 8);
    assert_eq!((c.prefix.as_str(), c.open_quote), ("a b", Some('\'')));
    let c = completion_at("cat a\\ b", 8);
    assert_eq!((c.start, c.prefix.as_str(), c.open_quote), (4, "a b", None));
    let c = completion_at("cat \"a\\\"b\"c", 11);
    assert_eq!((c.prefix.as_str(), c.open_quote), ("a\"bc", None));
}

#[test]
fn variables_and_comments() {
    assert_eq!(
        at_end("echo $HO"),
        (5, "HO".into(), CompletionKind::Variable)
    );
    assert_eq!(
        at_end("echo $"),
        (5, String::new(), CompletionKind::Variable)
    );
    assert_eq!(at_end("echo a$HO").2, CompletionKind::Path);
    assert_eq!(at_end("echo # com").2, CompletionKind::Comment);
    assert_eq!(at_end("# x\nec"), (4, "ec".into(), CompletionKind::Command));
}

#[test]
fn cursor_in_the_middle() {
    // Only the text before the cursor counts.
    let c = completion_at("echo abc; ls", 7);
    assert_eq!(
        (c.start, c.prefix.as_str(), c.kind),
        (5, "ab", CompletionKind::Path)
    );
    // Out-of-range and mid-character cursors are clamped.
    assert_eq!(completion_at("ab", 99).prefix, "ab");
    assert_eq!(completion_at("é", 1).prefix, "");
}

proptest! {
    #[test]
    fn never_panics(line in "\\PC{0,40}", cursor in 0usize..50) {
        let c = completion_at(&line, cursor);
        prop_assert!(c.start <= line.len());
    }
}
