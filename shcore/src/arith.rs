//! Arithmetic expansion (POSIX XCU 2.6.4): evaluates the text of
//! `$((...))`, after its parameters were expanded, as a C-like expression
//! over signed 64-bit integers.
//!
//! - Constants: decimal, octal (`0` first), hexadecimal (`0x`/`0X`).
//! - Variables by name: an unset or empty one is 0, one holding an integer
//!   constant (blanks and a sign allowed around it) is that number, any
//!   other value is [`ArithError::BadNumber`].
//! - Operators with C's precedence and associativity: unary `+ - ! ~`;
//!   `* / %`; `+ -`; `<< >>`; `< <= > >=`; `== !=`; `&`; `^`; `|`; `&&`;
//!   `||`; `?:`; the assignments `= += -= *= /= %= <<= >>= &= ^= |=`; `,`;
//!   and parentheses.
//! - `+ - *` and `<<` wrap on overflow (as dash and bash do); division or
//!   remainder by zero, `MIN / -1` and a shift count outside `0..64` are
//!   errors. `&&`, `||` and `?:` evaluate only the operands they need: an
//!   operand skipped is parsed, never evaluated (no assignment, no error).
//!
//! Nesting (parentheses, unary operators, `?:`, assignments) is bounded by
//! [`MAX_DEPTH`], so no input overflows the stack; time is linear in the
//! text. Every input gives a number or an error, never a panic.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// How deep parentheses and right-associative operators may nest.
pub const MAX_DEPTH: usize = 64;

/// The variables an expression reads and assigns.
pub trait Vars {
    /// A variable's value, if set.
    fn get(&self, name: &str) -> Option<String>;
    /// Sets a variable (to the decimal text of a number).
    fn set(&mut self, name: &str, value: &str);
}

impl Vars for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }

    fn set(&mut self, name: &str, value: &str) {
        self.insert(name.into(), value.into());
    }
}

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArithError {
    /// `/` or `%` by zero.
    DivisionByZero,
    /// `MIN / -1`, whose quotient does not fit.
    Overflow,
    /// A shift count below 0 or above 63.
    ShiftCount(i64),
    /// A variable whose value is not an integer (the name, the value).
    BadNumber(String, String),
    /// A constant that is not a number or does not fit in 64 bits.
    BadConstant(String),
    /// The text is not an expression (what was found instead, empty at
    /// the end).
    Syntax(String),
    /// An assignment to something that is not a variable.
    NotAssignable,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for ArithError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DivisionByZero => write!(f, "division by zero"),
            Self::Overflow => write!(f, "integer overflow"),
            Self::ShiftCount(n) => write!(f, "shift count out of range: {n}"),
            Self::BadNumber(name, value) => write!(f, "{name}: bad number: {value}"),
            Self::BadConstant(text) => write!(f, "bad number: {text}"),
            Self::Syntax(found) if found.is_empty() => write!(f, "syntax error: missing operand"),
            Self::Syntax(found) => write!(f, "syntax error: unexpected `{found}`"),
            Self::NotAssignable => write!(f, "assignment to a non-variable"),
            Self::TooDeep => write!(f, "nested deeper than {MAX_DEPTH}"),
        }
    }
}

/// Evaluates an expression; an empty (or blank) one is 0, as in dash and
/// bash.
///
/// # Errors
/// [`ArithError`] for a malformed expression, a bad number or a forbidden
/// operation.
pub fn eval(text: &str, vars: &mut dyn Vars) -> Result<i64, ArithError> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Ok(0);
    }
    let mut parser = Eval {
        tokens,
        pos: 0,
        vars,
        depth: 0,
    };
    let value = parser.comma(true)?;
    match parser.tokens.get(parser.pos) {
        None => Ok(value),
        Some(token) => Err(ArithError::Syntax(token.to_string())),
    }
}

/// A token of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Name(name) => f.write_str(name),
            Self::Op(op) => f.write_str(op),
        }
    }
}

/// The operators, longest first so the first match is the longest.
const OPS: [&str; 35] = [
    "<<=", ">>=", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=",
    "&=", "^=", "|=", "+", "-", "*", "/", "%", "<", ">", "&", "^", "|", "!", "~", "=", "?", ":",
    "(", ")",
];

/// Splits the text into tokens.
fn lex(text: &str) -> Result<Vec<Tok>, ArithError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n']);
        let Some(c) = rest.chars().next() else {
            return Ok(tokens);
        };
        if c.is_ascii_alphanumeric() || c == '_' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            rest = &rest[len..];
            if c.is_ascii_digit() {
                let n = constant(word).ok_or_else(|| ArithError::BadConstant(word.into()))?;
                tokens.push(Tok::Num(n));
            } else {
                tokens.push(Tok::Name(word.into()));
            }
        } else if c == ',' {
            tokens.push(Tok::Op(","));
            rest = &rest[1..];
        } else if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            tokens.push(Tok::Op(op));
            rest = &rest[op.len()..];
        } else {
            return Err(ArithError::Syntax(c.to_string()));
        }
    }
}

/// An unsigned integer constant: decimal, octal (`0...`) or hex (`0x...`).
fn constant(word: &str) -> Option<i64> {
    let (digits, radix) =
        if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
            (hex, 16)
        } else if word.len() > 1 && word.starts_with('0') {
            (&word[1..], 8)
        } else {
            (word, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(digits, radix).ok()
}

/// A variable's value as a number: empty is 0; otherwise blanks, an
/// optional sign and a constant. `-9223372036854775808` is allowed.
fn number(value: &str) -> Option<i64> {
    let text = value.trim_matches([' ', '\t', '\n']);
    if text.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if negative && digits == "9223372036854775808" {
        return Some(i64::MIN);
    }
    let n = constant(digits)?;
    Some(if negative { n.wrapping_neg() } else { n })
}

/// The assignment operators, and the binary operator each one applies.
fn assign_op(op: &str) -> Option<&'static str> {
    Some(match op {
        "=" => "",
        "+=" => "+",
        "-=" => "-",
        "*=" => "*",
        "/=" => "/",
        "%=" => "%",
        "<<=" => "<<",
        ">>=" => ">>",
        "&=" => "&",
        "^=" => "^",
        "|=" => "|",
        _ => return None,
    })
}

/// The precedence of a binary operator (higher binds tighter), for the
/// levels from `|` to `*`.
fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "|" => 1,
        "^" => 2,
        "&" => 3,
        "==" | "!=" => 4,
        "<" | "<=" | ">" | ">=" => 5,
        "<<" | ">>" => 6,
        "+" | "-" => 7,
        "*" | "/" | "%" => 8,
        _ => return None,
    })
}

/// Applies a binary operator (not `&&`, `||`).
fn binary(op: &str, a: i64, b: i64) -> Result<i64, ArithError> {
    Ok(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err(ArithError::DivisionByZero),
        "/" => a.checked_div(b).ok_or(ArithError::Overflow)?,
        // `MIN % -1` is 0, which fits.
        "%" => a.wrapping_rem(b),
        "<<" | ">>" => {
            let count = u32::try_from(b)
                .ok()
                .filter(|c| *c < 64)
                .ok_or(ArithError::ShiftCount(b))?;
            if op == "<<" { a << count } else { a >> count }
        }
        "<" => i64::from(a < b),
        "<=" => i64::from(a <= b),
        ">" => i64::from(a > b),
        ">=" => i64::from(a >= b),
        "==" => i64::from(a == b),
        "!=" => i64::from(a != b),
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        _ => return Err(ArithError::Syntax(op.into())),
    })
}

/// The evaluator: recursive descent over the tokens, evaluating as it
/// parses. `live` is false inside an operand that is skipped (`0 && x`):
/// it is parsed, but reads no variable and assigns none.
struct Eval<'v> {
    tokens: Vec<Tok>,
    pos: usize,
    vars: &'v mut dyn Vars,
    depth: usize,
}

impl Eval<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self) -> ArithError {
        ArithError::Syntax(
            self.tokens
                .get(self.pos)
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
    }

    /// Runs `f` one level deeper.
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<i64, ArithError>,
    ) -> Result<i64, ArithError> {
        if self.depth >= MAX_DEPTH {
            return Err(ArithError::TooDeep);
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// `expr , expr ...`: the last one's value.
    fn comma(&mut self, live: bool) -> Result<i64, ArithError> {
        let mut value = self.assign(live)?;
        while self.eat(",") {
            value = self.assign(live)?;
        }
        Ok(value)
    }

    /// `NAME op= expr`, or a conditional expression.
    fn assign(&mut self, live: bool) -> Result<i64, ArithError> {
        let op = match (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)) {
            (Some(Tok::Name(_)), Some(Tok::Op(op))) => assign_op(op),
            _ => None,
        };
        let Some(op) = op else {
            return self.conditional(live);
        };
        let Some(Tok::Name(name)) = self.tokens.get(self.pos).cloned() else {
            return Err(self.unexpected());
        };
        self.pos += 2;
        let rhs = self.nested(|p| p.assign(live))?;
        if !live {
            return Ok(0);
        }
        let value = if op.is_empty() {
            rhs
        } else {
            binary(op, self.var(&name)?, rhs)?
        };
        self.vars.set(&name, &value.to_string());
        Ok(value)
    }

    /// `cond ? a : b`.
    fn conditional(&mut self, live: bool) -> Result<i64, ArithError> {
        let cond = self.logical(live, "||")?;
        if !self.eat("?") {
            return Ok(cond);
        }
        let yes = self.nested(|p| p.comma(live && cond != 0))?;
        if !self.eat(":") {
            return Err(self.unexpected());
        }
        let no = self.nested(|p| p.assign(live && cond == 0))?;
        Ok(if cond != 0 { yes } else { no })
    }

    /// `a || b` (when `op` is `||`) or `a && b`, short-circuited.
    fn logical(&mut self, live: bool, op: &str) -> Result<i64, ArithError> {
        let operand = |p: &mut Self, live| {
            if op == "||" {
                p.logical(live, "&&")
            } else {
                p.binary(live, 1)
            }
        };
        let mut value = operand(self, live)?;
        while self.eat(op) {
            let decided = if op == "||" { value != 0 } else { value == 0 };
            let rhs = operand(self, live && !decided)?;
            value = if decided {
                i64::from(op == "||")
            } else {
                i64::from(rhs != 0)
            };
        }
        Ok(value)
    }

    /// Left-associative binary operators of precedence `min` and above.
    fn binary(&mut self, live: bool, min: u8) -> Result<i64, ArithError> {
        let mut value = self.unary(live)?;
        while let Some(op) = self.peek_op() {
            let Some(prec) = precedence(op).filter(|p| *p >= min) else {
                break;
            };
            self.pos += 1;
            let rhs = self.nested(|p| p.binary(live, prec + 1))?;
            if live {
                value = binary(op, value, rhs)?;
            }
        }
        Ok(value)
    }

    /// `+x -x !x ~x`, or a primary.
    fn unary(&mut self, live: bool) -> Result<i64, ArithError> {
        let op = match self.peek_op() {
            Some(op @ ("+" | "-" | "!" | "~")) => op,
            _ => return self.primary(live),
        };
        self.pos += 1;
        let value = self.nested(|p| p.unary(live))?;
        Ok(match op {
            "-" => value.wrapping_neg(),
            "!" => i64::from(value == 0),
            "~" => !value,
            _ => value,
        })
    }

    /// A number, a variable or `( expr )`.
    fn primary(&mut self, live: bool) -> Result<i64, ArithError> {
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                if live { self.var(&name) } else { Ok(0) }
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let value = self.nested(|p| p.comma(live))?;
                if !self.eat(")") {
                    return Err(self.unexpected());
                }
                Ok(value)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A variable's value as a number.
    fn var(&self, name: &str) -> Result<i64, ArithError> {
        let value = self.vars.get(name).unwrap_or_default();
        number(&value).ok_or_else(|| ArithError::BadNumber(name.into(), value))
    }
}

#[cfg(test)]
mod tests;
