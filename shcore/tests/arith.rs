//! Property tests of arithmetic expansion against a model: random trees of
//! `+ - *`, comparisons and unary minus are printed fully parenthesized and
//! evaluated; the model computes each node in `i128` and wraps it to 64
//! bits, as dash and bash do. Arbitrary text never panics.

use std::collections::BTreeMap;

use proptest::prelude::*;
use shcore::arith::eval;

#[derive(Clone, Debug)]
enum Expr {
    Num(i64),
    Neg(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
}

fn wrap(x: i128) -> i64 {
    x as i64
}

fn model(expr: &Expr) -> i64 {
    match expr {
        Expr::Num(n) => *n,
        Expr::Neg(e) => wrap(-i128::from(model(e))),
        Expr::Bin(op, a, b) => {
            let (a, b) = (i128::from(model(a)), i128::from(model(b)));
            match *op {
                "+" => wrap(a + b),
                "-" => wrap(a - b),
                "*" => wrap(a * b),
                "<" => i64::from(a < b),
                "<=" => i64::from(a <= b),
                ">" => i64::from(a > b),
                ">=" => i64::from(a >= b),
                "==" => i64::from(a == b),
                "!=" => i64::from(a != b),
                _ => unreachable!(),
            }
        }
    }
}

fn print(expr: &Expr) -> String {
    match expr {
        // A negative constant is written as a negation of its magnitude.
        Expr::Num(n) if *n < 0 => format!("(-{})", n.unsigned_abs())
            .replace("-9223372036854775808", "-9223372036854775807 - 1"),
        Expr::Num(n) => n.to_string(),
        Expr::Neg(e) => format!("-({})", print(e)),
        Expr::Bin(op, a, b) => format!("({} {op} {})", print(a), print(b)),
    }
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Expr::Num),
        (-100i64..100).prop_map(Expr::Num),
        Just(Expr::Num(i64::MIN)),
        Just(Expr::Num(i64::MAX)),
    ];
    leaf.prop_recursive(6, 40, 2, |inner| {
        let ops = prop::sample::select(vec!["+", "-", "*", "<", "<=", ">", ">=", "==", "!="]);
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
            (ops, inner.clone(), inner).prop_map(|(op, a, b)| Expr::Bin(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_the_i128_model(e in expr()) {
        let text = print(&e);
        prop_assert_eq!(eval(&text, &mut BTreeMap::new()), Ok(model(&e)), "{}", text);
    }

    #[test]
    fn variables_hold_numbers(a in any::<i64>(), b in any::<i64>()) {
        let mut vars = BTreeMap::new();
        vars.insert("a".to_string(), a.to_string());
        vars.insert("b".to_string(), b.to_string());
        prop_assert_eq!(eval("c = a + b", &mut vars), Ok(a.wrapping_add(b)));
        prop_assert_eq!(vars["c"].clone(), a.wrapping_add(b).to_string());
        prop_assert_eq!(eval("$a", &mut vars).is_err(), true);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-c0-9xX ()+*/%<>=!~&|^?:,-]{0,60}") {
        let mut vars = BTreeMap::new();
        vars.insert("a".to_string(), "3".to_string());
        vars.insert("b".to_string(), "x".to_string());
        let _ = eval(&text, &mut vars);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,40}") {
        let _ = eval(&text, &mut BTreeMap::new());
    }
}
