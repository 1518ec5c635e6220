//! Fuzzes the shell parser and printer.
//!
//! Input: any bytes, read as UTF-8 with invalid sequences replaced (as the
//! shell reads a script).
//!
//! Checks, beyond "never panics": a program that parses prints to text
//! that parses to the same tree (the printer's round trip), and printing
//! that tree again gives the same text; an error's offset lies within the
//! input. Every word of a parsed program is also expanded (against a fixed
//! environment) and, when it is a pattern, matched against a few names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shcore::ast::{List, for_each_word};
use shcore::{Env, expand, parse};

/// A fixed shell state.
struct FuzzEnv {
    vars: Vec<(String, String)>,
    args: Vec<String>,
}

impl Env for FuzzEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    fn set_var(&mut self, name: &str, value: &str) {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.into(), value.into()));
    }
    fn last_status(&self) -> i32 {
        1
    }
    fn pid(&self) -> u64 {
        2
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
    fn command_output(&mut self, program: &List) -> String {
        format!("{program}\n\n")
    }
}


fuzz_target!(|input: &[u8]| {
    let src = String::from_utf8_lossy(input);
    let tree = match parse(&src) {
        Ok(tree) => tree,
        Err(error) => {
            assert!(
                error.offset() <= src.len(),
                "offset {} past the end",
                error.offset()
            );
            return;
        }
    };
    let text = tree.to_string();
    match parse(&text) {
        Ok(again) => {
            assert_eq!(again, tree, "{src:?} printed as {text:?}");
            assert_eq!(again.to_string(), text, "printing is not stable");
        }
        Err(error) => panic!("{src:?} printed as {text:?}, which fails: {error}"),
    }
    let mut env = FuzzEnv {
        vars: vec![("HOME".into(), "/h".into()), ("x".into(), " a *b ".into())],
        args: vec!["1".into(), "two 2".into()],
    };
    let names = ["a", "b.rs", ".hidden", "[x]"];
    for_each_word(&tree, &mut |word| {
        if let Ok(pattern) = expand::expand_pattern(word, &mut env) {
            let _ = shcore::glob::matches(&pattern, "a b");
        }
        if let Ok(fields) = expand::expand_word(word, &mut env) {
            for field in fields {
                let _ = field.glob(names);
            }
        }
        let _ = expand::expand_string(word, &mut env);
    });
});
