use alloc::collections::BTreeMap;
use alloc::string::String;

use super::{ArithError, MAX_DEPTH, eval};

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

fn ok(text: &str) -> i64 {
    eval(text, &mut BTreeMap::new()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn err(text: &str) -> ArithError {
    eval(text, &mut BTreeMap::new()).expect_err(text)
}

#[test]
fn constants() {
    assert_eq!(ok("42"), 42);
    assert_eq!(ok("010"), 8);
    assert_eq!(ok("0x1F"), 31);
    assert_eq!(ok("0X10"), 16);
    assert_eq!(ok("0"), 0);
    assert_eq!(ok(""), 0);
    assert_eq!(ok("  \t"), 0);
    assert_eq!(ok("9223372036854775807"), i64::MAX);
    assert_eq!(ok("-9223372036854775807 - 1"), i64::MIN);
    assert_eq!(err("09"), ArithError::BadConstant("09".into()));
    assert_eq!(err("0x"), ArithError::BadConstant("0x".into()));
    assert_eq!(err("1a"), ArithError::BadConstant("1a".into()));
    assert_eq!(
        err("9223372036854775808"),
        ArithError::BadConstant("9223372036854775808".into())
    );
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("100 / 10 / 5", 2),
        ("7 % 4 * 2", 6),
        ("1 << 2 + 1", 8),
        ("1 < 2 == 1", 1),
        ("6 & 3 ^ 1 | 8", 11),
        ("-3 * -2", 6),
        ("!0 + !5", 1),
        ("~0", -1),
        ("- - 4", 4),
        ("+4", 4),
        ("1 || 0 && 0", 1),
        ("0 ? 1 : 2 ? 3 : 4", 3),
        ("1 ? 2 : 3", 2),
        ("1, 2, 3", 3),
        ("2 >= 2", 1),
        ("2 <= 1", 0),
        ("3 > 2", 1),
        ("3 != 3", 0),
        ("-7 / 2", -3),
        ("-7 % 2", -1),
        ("-8 >> 1", -4),
        ("5 && 7", 1),
        ("0 || 0", 0),
    ];
    for (text, value) in cases {
        assert_eq!(ok(text), value, "{text:?}");
    }
}

#[test]
fn variables() {
    let mut v = vars(&[
        ("x", "5"),
        ("e", ""),
        ("h", "0x10"),
        ("n", " -3 "),
        ("s", "abc"),
    ]);
    assert_eq!(eval("x + 1", &mut v), Ok(6));
    assert_eq!(eval("unset + e + 1", &mut v), Ok(1));
    assert_eq!(eval("h + n", &mut v), Ok(13));
    assert_eq!(
        eval("s + 1", &mut v),
        Err(ArithError::BadNumber("s".into(), "abc".into()))
    );
    assert_eq!(eval("i = x * 2", &mut v), Ok(10));
    assert_eq!(v["i"], "10");
    assert_eq!(eval("i += 1, i", &mut v), Ok(11));
    let ops = [
        ("y = 12", 12),
        ("y -= 2", 10),
        ("y *= 3", 30),
        ("y /= 4", 7),
        ("y %= 4", 3),
        ("y <<= 2", 12),
        ("y >>= 1", 6),
        ("y &= 3", 2),
        ("y ^= 7", 5),
        ("y |= 8", 13),
        ("a = b = 4", 4),
    ];
    for (text, value) in ops {
        assert_eq!(eval(text, &mut v), Ok(value), "{text:?}");
    }
    assert_eq!(v["y"], "13");
    assert_eq!(v["a"], "4");
    assert_eq!(v["b"], "4");
    // Minimum value round-trips through a variable.
    let mut v = vars(&[("m", "-9223372036854775808")]);
    assert_eq!(eval("m", &mut v), Ok(i64::MIN));
}

#[test]
fn short_circuit_skips_effects_and_errors() {
    let mut v = vars(&[("s", "abc")]);
    assert_eq!(eval("0 && (x = 1)", &mut v), Ok(0));
    assert_eq!(eval("1 || (x = 1)", &mut v), Ok(1));
    assert_eq!(eval("1 ? 2 : (x = 1)", &mut v), Ok(2));
    assert_eq!(eval("0 ? (x = 1) : 3", &mut v), Ok(3));
    assert!(!v.contains_key("x"));
    assert_eq!(eval("0 && 1 / 0", &mut v), Ok(0));
    assert_eq!(eval("1 || s", &mut v), Ok(1));
    assert_eq!(eval("0 ? 1 / 0 : 5", &mut v), Ok(5));
}

#[test]
fn wrapping_and_errors() {
    assert_eq!(ok("9223372036854775807 + 1"), i64::MIN);
    assert_eq!(ok("-9223372036854775807 - 2"), i64::MAX);
    assert_eq!(ok("4611686018427387904 * 2"), i64::MIN);
    assert_eq!(ok("1 << 63"), i64::MIN);
    assert_eq!(ok("(-9223372036854775807 - 1) % -1"), 0);
    assert_eq!(err("1 / 0"), ArithError::DivisionByZero);
    assert_eq!(err("1 % 0"), ArithError::DivisionByZero);
    assert_eq!(err("(-9223372036854775807 - 1) / -1"), ArithError::Overflow);
    assert_eq!(err("1 << 64"), ArithError::ShiftCount(64));
    assert_eq!(err("1 >> -1"), ArithError::ShiftCount(-1));
    let mut v = vars(&[("z", "0")]);
    assert_eq!(eval("z /= z", &mut v), Err(ArithError::DivisionByZero));
    assert_eq!(ArithError::DivisionByZero.to_string(), "division by zero");
}

#[test]
fn syntax_errors() {
    assert_eq!(err("1 +"), ArithError::Syntax(String::new()));
    assert_eq!(err("1 2"), ArithError::Syntax("2".into()));
    assert_eq!(err("(1"), ArithError::Syntax(String::new()));
    assert_eq!(err("1)"), ArithError::Syntax(")".into()));
    assert_eq!(err("1 ? 2"), ArithError::Syntax(String::new()));
    assert_eq!(err("1 = 2"), ArithError::Syntax("=".into()));
    assert_eq!(err("x++"), ArithError::Syntax(String::new()));
    assert_eq!(err("1 $ 2"), ArithError::Syntax("$".into()));
    assert_eq!(err("a b"), ArithError::Syntax("b".into()));
}

#[test]
fn nesting_is_bounded() {
    let depth = MAX_DEPTH / 2;
    let fine = alloc::format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(ok(&fine), 1);
    let deep = alloc::format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(err(&deep), ArithError::TooDeep);
    assert_eq!(err(&"-".repeat(10_000)), ArithError::TooDeep);
    assert_eq!(err(&"x=".repeat(10_000)), ArithError::TooDeep);
    // A long flat chain is no recursion.
    let flat = "1+".repeat(100_000) + "1";
    assert_eq!(ok(&flat), 100_001);
}
