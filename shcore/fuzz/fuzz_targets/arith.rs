//! Fuzzes arithmetic expansion's evaluator (`shcore::arith::eval`).
//!
//! Input: any bytes, read as UTF-8 with invalid sequences replaced. Checks,
//! beyond "never panics" (no overflow trap, no unbounded recursion): an
//! expression that evaluates gives the same value again on a fresh copy of
//! the variables, and every variable it assigned holds a decimal number
//! that reads back as a number.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use shcore::arith::eval;

fn vars() -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    vars.insert("a".to_string(), "7".to_string());
    vars.insert("b".to_string(), "-9223372036854775808".to_string());
    vars.insert("h".to_string(), "0x7fffffffffffffff".to_string());
    vars.insert("s".to_string(), "text".to_string());
    vars.insert("e".to_string(), String::new());
    vars
}

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let mut first = vars();
    let Ok(value) = eval(&text, &mut first) else {
        return;
    };
    let mut second = vars();
    assert_eq!(eval(&text, &mut second), Ok(value), "{text:?}");
    for (name, held) in &first {
        if vars().get(name) != Some(held) {
            let number: i64 = held.parse().expect("an assigned value is decimal");
            assert_eq!(eval(name, &mut first.clone()), Ok(number));
        }
    }
});
