//! Property tests of the printer: generated trees print to text that parses
//! back to the same tree, and any text that parses reparses the same after
//! printing.

mod common;

use proptest::prelude::*;
use shcore::parse;

/// Shell-like text: mostly syntax characters, words and reserved words, so
/// that a fair share of it parses.
fn shellish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => "[a-c0-2]{1,3}",
        3 => prop::sample::select(vec![
            " ", " ", "\n", ";", "|", "&&", "||", "&", "<", ">", ">>", "2>", "2>&1", ">&", "<&",
            "(", ")", "{ ", " }", "! ", "if ", "then ", "elif ", "else ", "fi", "while ", "until ",
            "do ", "done", "for ", " in ", "#", "'", "\"", "\\", "$", "${", "}", ":-", "=", "~",
            "*", "?", "[", "]", "$@", "$1", "$?", "$#", "${#", "A=",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
}

proptest! {
    // Generated trees are large: fewer cases keep the debug build's run
    // near ten seconds.
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn generated_trees_round_trip(tree in common::program(2)) {
        let text = tree.to_string();
        let parsed = parse(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&tree), "printed as {:?}", text);
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn parsed_text_reparses_the_same(src in shellish()) {
        if let Ok(tree) = parse(&src) {
            let text = tree.to_string();
            let reparsed = parse(&text);
            prop_assert_eq!(reparsed.as_ref(), Ok(&tree), "{:?} printed as {:?}", src, text);
        }
    }

    #[test]
    fn arbitrary_text_that_parses_reparses_the_same(src in "\\PC{0,40}") {
        if let Ok(tree) = parse(&src) {
            let text = tree.to_string();
            let reparsed = parse(&text);
            prop_assert_eq!(reparsed.as_ref(), Ok(&tree), "{:?} printed as {:?}", src, text);
        }
    }
}

/// How often the shell-like generator gives text that parses (so the
/// second property is not vacuous).
#[test]
fn shellish_text_often_parses() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = shellish();
    let parsed = (0..1000)
        .filter(|_| {
            let src = strategy
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_default();
            parse(&src).is_ok()
        })
        .count();
    assert!(parsed > 100, "only {parsed} of 1000 parsed");
}
