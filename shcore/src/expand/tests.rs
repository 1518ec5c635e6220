//! Unit tests of word expansion against a small [`Env`].

use std::collections::BTreeMap;

use super::*;
use crate::ast::Command;
use crate::parse;

/// A shell state for the tests.
pub(crate) struct TestEnv {
    pub vars: BTreeMap<String, String>,
    pub args: Vec<String>,
}

impl TestEnv {
    pub(crate) fn new() -> Self {
        let vars = [
            ("HOME", "/home/me"),
            ("x", "a  b"),
            ("empty", ""),
            ("star", "*.rs"),
            ("spaced", "  lead trail  "),
        ];
        Self {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            args: vec!["one".into(), "two words".into(), String::new()],
        }
    }
}

impl Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn set_var(&mut self, name: &str, value: &str) {
        self.vars.insert(name.into(), value.into());
    }
    fn last_status(&self) -> i32 {
        3
    }
    fn pid(&self) -> u64 {
        42
    }
    fn last_background(&self) -> Option<u64> {
        None
    }
    fn arg0(&self) -> &str {
        "sh"
    }
    fn args(&self) -> &[String] {
        &self.args
    }
    /// The "output" of a program is its text twice, each on a line.
    fn command_output(&mut self, program: &List) -> String {
        format!("{program}\n{program}\n\n")
    }
}

/// The words of the one simple command in `src`.
fn words_of(src: &str) -> Vec<Word> {
    let list = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    match &list.items[0].and_or.first.commands[0] {
        Command::Simple(simple) => simple.words.clone(),
        other => panic!("not simple: {other:?}"),
    }
}

fn fields_in(env: &mut TestEnv, src: &str) -> Vec<String> {
    let fields = expand_words(&words_of(src), env).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    fields.into_iter().map(|f| f.text).collect()
}

fn fields(src: &str) -> Vec<String> {
    fields_in(&mut TestEnv::new(), src)
}

#[test]
fn literals_and_quote_removal() {
    assert_eq!(
        fields("a 'b c' \"d e\" f\\ g h'i'\"j\""),
        ["a", "b c", "d e", "f g", "hij"]
    );
    assert_eq!(fields("'' \"\" a''"), ["", "", "a"]);
}

#[test]
fn parameters_and_splitting() {
    assert_eq!(fields("$x"), ["a", "b"]);
    assert_eq!(fields("\"$x\""), ["a  b"]);
    assert_eq!(fields("[$x]"), ["[a", "b]"]);
    assert_eq!(fields("$spaced"), ["lead", "trail"]);
    assert_eq!(fields("-${spaced}-"), ["-", "lead", "trail", "-"]);
    assert_eq!(fields("$empty $unset"), Vec::<String>::new());
    assert_eq!(fields("\"$empty\" \"$unset\" x$empty"), ["", "", "x"]);
    assert_eq!(
        fields("$? $$ $# $0 $1 ${2} $9"),
        ["3", "42", "3", "sh", "one", "two", "words"]
    );
    assert_eq!(fields("\"$!\""), [""]);
    assert_eq!(fields("${#x} ${#1} ${#unset}"), ["4", "3", "0"]);
}

#[test]
fn positional_lists() {
    assert_eq!(fields("\"$@\""), ["one", "two words", ""]);
    assert_eq!(fields("\"<$@>\""), ["<one", "two words", ">"]);
    assert_eq!(fields("$@"), ["one", "two", "words"]);
    assert_eq!(fields("\"$*\""), ["one two words "]);
    assert_eq!(fields("$*"), ["one", "two", "words"]);
    let mut none = TestEnv::new();
    none.args.clear();
    assert_eq!(fields_in(&mut none, "\"$@\" $@ $*"), Vec::<String>::new());
    assert_eq!(fields_in(&mut none, "\"$*\" \"a$@\""), ["", "a"]);
}

#[test]
fn parameter_tests() {
    assert_eq!(fields("${unset-a b} \"${unset-a b}\""), ["a", "b", "a b"]);
    assert_eq!(fields("${empty-d} ${empty:-d}"), ["d"]);
    assert_eq!(fields("${x+alt} ${unset+alt} ${empty:+alt}"), ["alt"]);
    assert_eq!(fields("${unset:-\"q w\"}"), ["q w"]);
    assert_eq!(fields("${unset:-~}"), ["/home/me"]);
    assert_eq!(fields("${1:-no} ${5:-five}"), ["one", "five"]);
    let mut env = TestEnv::new();
    assert_eq!(
        fields_in(&mut env, "${new:=v w} $new"),
        ["v", "w", "v", "w"]
    );
    assert_eq!(env.vars["new"], "v w");
    assert_eq!(fields_in(&mut env, "${empty:=e} ${x=no}"), ["e", "a", "b"]);
    assert_eq!(env.vars["empty"], "e");
    assert_eq!(fields("${x?} ${empty?}"), ["a", "b"]);
}

#[test]
fn expansion_errors() {
    let mut env = TestEnv::new();
    let cases = [
        (
            "${unset?}",
            ExpandError::Unset {
                name: "unset".into(),
                message: String::new(),
            },
        ),
        (
            "${empty:?is $x}",
            ExpandError::Unset {
                name: "empty".into(),
                message: "is a  b".into(),
            },
        ),
        ("${7:=x}", ExpandError::CannotAssign { name: "7".into() }),
        (
            "${!:?}",
            ExpandError::Unset {
                name: "!".into(),
                message: String::new(),
            },
        ),
    ];
    for (src, error) in cases {
        assert_eq!(
            expand_words(&words_of(src), &mut env),
            Err(error.clone()),
            "{src:?}"
        );
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn tilde() {
    assert_eq!(
        fields("~ ~/bin a~ '~' \\~ ~user ~\"/x\" \"~\""),
        [
            "/home/me",
            "/home/me/bin",
            "a~",
            "~",
            "~",
            "~user",
            "~/x",
            "~"
        ]
    );
    let mut homeless = TestEnv::new();
    homeless.vars.remove("HOME");
    assert_eq!(fields_in(&mut homeless, "~/x"), ["~/x"]);
    // The home directory is not split or globbed.
    let mut odd = TestEnv::new();
    odd.vars.insert("HOME".into(), "/a b/*".into());
    let fields = expand_words(&words_of("~/c"), &mut odd).unwrap();
    assert_eq!(
        fields,
        [Field {
            text: "/a b/*/c".into(),
            pattern: None
        }]
    );
}

#[test]
fn glob_patterns() {
    let expand = |src: &str| expand_words(&words_of(src), &mut TestEnv::new()).unwrap();
    let fields = expand("*.rs '*'.rs \\*x \"[a]\"? $star");
    let patterns: Vec<_> = fields.iter().map(|f| f.pattern.as_deref()).collect();
    assert_eq!(
        patterns,
        [Some("*.rs"), None, None, Some("\\[a\\]?"), Some("*.rs")]
    );
    assert_eq!(fields[1].text, "*.rs");
    let names = ["a.rs", "b.rs", ".hidden.rs", "c.txt"];
    assert_eq!(fields[0].glob(names), ["a.rs", "b.rs"]);
    assert_eq!(fields[1].glob(names), ["*.rs"]);
    assert_eq!(expand("*.none")[0].glob(names), ["*.none"]);
}

#[test]
fn assignment_values() {
    let mut env = TestEnv::new();
    let list = parse("A=~/x$x\"$@\"").unwrap();
    let Command::Simple(simple) = &list.items[0].and_or.first.commands[0] else {
        panic!("not simple");
    };
    let value = expand_string(&simple.assignments[0].value, &mut env).unwrap();
    assert_eq!(value, "/home/me/xa  bone two words ");
    assert_eq!(expand_string(&Word::default(), &mut env).unwrap(), "");
}

#[test]
fn arithmetic_expansion() {
    let mut env = TestEnv::new();
    env.vars.insert("n".into(), "4".into());
    assert_eq!(
        fields_in(&mut env, "echo $((n * 2)) $(($n+1))x \"$((1<<3))\""),
        ["echo", "8", "5x", "8"]
    );
    assert_eq!(
        fields_in(&mut env, "echo $((i = n + 1)) $i"),
        ["echo", "5", "5"]
    );
    let words = words_of("echo $((1 / 0))");
    assert_eq!(
        expand_word(&words[1], &mut env),
        Err(ExpandError::Arith(ArithError::DivisionByZero))
    );
    assert_eq!(
        ExpandError::Arith(ArithError::DivisionByZero).to_string(),
        "arithmetic: division by zero"
    );
    let words = words_of("echo $((x + 1))");
    assert_eq!(
        expand_word(&words[1], &mut env),
        Err(ExpandError::Arith(ArithError::BadNumber(
            "x".into(),
            "a  b".into()
        )))
    );
}

#[test]
fn command_substitution_output() {
    let mut env = TestEnv::new();
    // Trailing newlines go; unquoted output is split, quoted is not.
    assert_eq!(
        fields_in(&mut env, "echo $(a b)"),
        ["echo", "a", "b", "a", "b"]
    );
    assert_eq!(
        fields_in(&mut env, "echo \"$(a  b)\""),
        ["echo", "a b\na b"]
    );
    assert_eq!(fields_in(&mut env, "echo x`c`y"), ["echo", "xc", "cy"]);
    let words = words_of("x $(a)");
    assert_eq!(expand_string(&words[1], &mut env), Ok("a\na".into()));
}

#[test]
fn case_patterns() {
    let mut env = TestEnv::new();
    let pattern = |env: &mut TestEnv, src: &str| {
        let words = words_of(&format!("x {src}"));
        expand_pattern(&words[1], env).unwrap_or_else(|e| panic!("{src:?}: {e}"))
    };
    assert_eq!(pattern(&mut env, "a*"), "a*");
    assert_eq!(pattern(&mut env, "'a*'"), "a\\*");
    assert_eq!(pattern(&mut env, "\"[x]\"?"), "\\[x\\]?");
    assert_eq!(pattern(&mut env, "$star"), "*.rs");
    assert_eq!(pattern(&mut env, "\"$star\""), "\\*.rs");
    assert_eq!(pattern(&mut env, "$x"), "a  b");
    assert!(crate::glob::matches(&pattern(&mut env, "$star"), "main.rs"));
    assert!(!crate::glob::matches(&pattern(&mut env, "'*'"), "main.rs"));
}
