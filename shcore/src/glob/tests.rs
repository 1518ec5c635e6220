//! Unit tests of pattern matching, and a property test against a simple
//! recursive model.

use proptest::prelude::*;

use super::*;

#[test]
fn wildcards() {
    let cases = [
        ("*", "", true),
        ("*", "abc", true),
        ("a*", "abc", true),
        ("*c", "abc", true),
        ("a*c", "ac", true),
        ("a*c", "abxc", true),
        ("a*c", "abxd", false),
        ("*a*b*", "xaybz", true),
        ("*a*b*", "xbya", false),
        ("?", "a", true),
        ("?", "", false),
        ("?", "é", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("abc", "abc", true),
        ("abc", "abd", false),
        ("", "", true),
        ("", "a", false),
        ("***a", "ba", true),
    ];
    for (pattern, name, expected) in cases {
        assert_eq!(matches(pattern, name), expected, "{pattern:?} {name:?}");
    }
}

#[test]
fn sets() {
    let cases = [
        ("[abc]", "b", true),
        ("[abc]", "d", false),
        ("[a-c]x", "bx", true),
        ("[a-c]x", "dx", false),
        ("[!a-c]", "d", true),
        ("[!a-c]", "a", false),
        ("[^a]", "b", true),
        ("[]]", "]", true),
        ("[!]]", "]", false),
        ("[a-]", "-", true),
        ("[\\]]", "]", true),
        ("[[:digit:]]*", "7up", true),
        ("[[:alpha:][:digit:]]", "_", false),
        ("[[:upper:]]", "A", true),
        ("[[:nope:]]", "n]", true),
        ("[z-a]", "m", false),
        // No closing bracket: a literal `[`.
        ("[ab", "[ab", true),
        ("[", "[", true),
        ("a[", "a[", true),
    ];
    for (pattern, name, expected) in cases {
        assert_eq!(matches(pattern, name), expected, "{pattern:?} {name:?}");
    }
}

#[test]
fn escapes_and_magic() {
    assert!(matches("\\*", "*"));
    assert!(!matches("\\*", "a"));
    assert!(matches("a\\", "a\\"));
    assert!(has_magic("a*"));
    assert!(has_magic("[a]"));
    assert!(!has_magic("a\\*b"));
    assert!(!has_magic("plain"));
}

#[test]
fn hidden_names_and_expansion() {
    assert!(!matches_name("*", ".profile"));
    assert!(!matches_name("?profile", ".profile"));
    assert!(matches_name(".*", ".profile"));
    assert!(matches("*", ".profile"));
    let names = ["b.c", "a.c", ".x.c", "d.h"];
    assert_eq!(expand_in("*.c", "*.c", names), ["a.c", "b.c"]);
    assert_eq!(expand_in(".*", ".*", names), [".x.c"]);
    assert_eq!(expand_in("*.z", "*.z", names), ["*.z"]);
}

#[test]
fn long_inputs_are_fast() {
    let name = "a".repeat(5_000);
    let pattern = "*a".repeat(100) + "b";
    assert!(!matches(&pattern, &name));
}

/// The obvious recursive matcher, for `*`, `?` and plain characters.
fn model(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| model(rest, &name[i..])),
        Some(('?', rest)) => !name.is_empty() && model(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && model(rest, &name[1..]),
    }
}

proptest! {
    #[test]
    fn matches_the_model(pattern in "[ab*?]{0,8}", name in "[ab]{0,10}") {
        let p: Vec<char> = pattern.chars().collect();
        let n: Vec<char> = name.chars().collect();
        prop_assert_eq!(matches(&pattern, &name), model(&p, &n));
    }

    #[test]
    fn never_panics(pattern in "\\PC{0,20}", name in "\\PC{0,20}") {
        let _ = matches(&pattern, &name);
        let _ = matches_name(&pattern, &name);
        let _ = has_magic(&pattern);
    }
}
