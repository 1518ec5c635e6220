//! Pathname pattern matching (POSIX XCU 2.13) of one name at a time: `*`
//! (any string), `?` (any character), `[...]` (one character of a set, with
//! ranges `a-z`, classes `[:alpha:]`, and `!` or `^` first to negate), and
//! `\` to take the next character literally. A `[` without its `]` is an
//! ordinary character.
//!
//! Reading directories is the caller's job: the shell splits a pattern at
//! `/`, lists each directory, and keeps the names [`matches_name`] accepts
//! (which, unlike [`matches()`], wants a leading `.` written out). A pattern
//! that matches nothing stays as it is ([`expand_in`]).
//!
//! Matching is iterative: backtracking to the last `*` only, so it takes at
//! most (pattern length × name length) steps and never recurses.

use alloc::string::String;
use alloc::vec::Vec;

/// One element of a compiled pattern.
#[derive(Debug)]
enum Token {
    /// A character matched as it is.
    Char(char),
    /// `?`
    Any,
    /// `*`
    Star,
    /// `[...]`
    Set { negated: bool, items: Vec<Item> },
}

/// One member of a `[...]` set.
#[derive(Debug)]
enum Item {
    /// One character.
    Char(char),
    /// `a-z`, both ends included.
    Range(char, char),
    /// `[:name:]`
    Class(Class),
}

/// The character classes a set may name.
#[derive(Clone, Copy, Debug)]
enum Class {
    Alpha,
    Digit,
    Alnum,
    Upper,
    Lower,
    Space,
    Blank,
    Punct,
    Xdigit,
}

impl Class {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "alpha" => Self::Alpha,
            "digit" => Self::Digit,
            "alnum" => Self::Alnum,
            "upper" => Self::Upper,
            "lower" => Self::Lower,
            "space" => Self::Space,
            "blank" => Self::Blank,
            "punct" => Self::Punct,
            "xdigit" => Self::Xdigit,
            _ => return None,
        })
    }

    fn contains(self, c: char) -> bool {
        match self {
            Self::Alpha => c.is_alphabetic(),
            Self::Digit => c.is_ascii_digit(),
            Self::Alnum => c.is_alphanumeric(),
            Self::Upper => c.is_uppercase(),
            Self::Lower => c.is_lowercase(),
            Self::Space => c.is_whitespace(),
            Self::Blank => c == ' ' || c == '\t',
            Self::Punct => c.is_ascii_punctuation(),
            Self::Xdigit => c.is_ascii_hexdigit(),
        }
    }
}

impl Item {
    fn contains(&self, c: char) -> bool {
        match *self {
            Self::Char(d) => c == d,
            Self::Range(low, high) => low <= c && c <= high,
            Self::Class(class) => class.contains(c),
        }
    }
}

impl Token {
    /// True if this token (not `*`) matches the character `c`.
    fn matches(&self, c: char) -> bool {
        match self {
            Self::Char(d) => c == *d,
            Self::Any => true,
            Self::Star => false,
            Self::Set { negated, items } => items.iter().any(|item| item.contains(c)) != *negated,
        }
    }
}

/// Parses a `[...]` set from `chars` (after the `[`); `None` if it has no
/// closing `]`.
fn parse_set(chars: &[char]) -> Option<(Token, usize)> {
    let mut i = 0;
    let negated = matches!(chars.first(), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Set { negated, items }, i + 1));
        }
        first = false;
        // `[:name:]`
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest = &chars[i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                let name: String = rest[..end].iter().collect();
                if let Some(class) = Class::from_name(&name) {
                    items.push(Item::Class(class));
                    i += 2 + end + 2;
                    continue;
                }
            }
        }
        let (low, width) = match c {
            '\\' => (*chars.get(i + 1)?, 2),
            c => (c, 1),
        };
        i += width;
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&c| c != ']') {
            let (high, width) = match chars[i + 1] {
                '\\' => (*chars.get(i + 2)?, 3),
                c => (c, 2),
            };
            i += width;
            items.push(Item::Range(low, high));
        } else {
            items.push(Item::Char(low));
        }
    }
}

/// Compiles a pattern into tokens.
fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        let token = match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    Token::Char(next)
                }
                None => Token::Char('\\'),
            },
            '[' => match parse_set(&chars[i..]) {
                Some((set, used)) => {
                    i += used;
                    set
                }
                None => Token::Char('['),
            },
            c => Token::Char(c),
        };
        // Runs of `*` match what one does.
        if !(matches!(token, Token::Star) && matches!(tokens.last(), Some(Token::Star))) {
            tokens.push(token);
        }
    }
    tokens
}

/// Matches compiled tokens against a whole name.
fn match_tokens(tokens: &[Token], name: &[char]) -> bool {
    let (mut t, mut n) = (0, 0);
    // The last `*` seen and the name position it is tried from.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(t) {
            Some(Token::Star) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            Some(token) if token.matches(name[n]) => {
                t += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((star_t, star_n)) => {
                t = star_t + 1;
                n = star_n + 1;
                star = Some((star_t, star_n + 1));
            }
            None => return false,
        }
    }
    tokens[t..].iter().all(|token| matches!(token, Token::Star))
}

/// True if `pattern` has an unescaped `*`, `?` or `[`: it is a pattern
/// rather than a plain name.
pub fn has_magic(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// True if the whole of `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    match_tokens(&compile(pattern), &name)
}

/// True if the directory entry `name` matches `pattern`, where a leading
/// `.` in `name` must be matched by a `.` written in the pattern (so `*`
/// skips hidden files).
pub fn matches_name(pattern: &str, name: &str) -> bool {
    let tokens = compile(pattern);
    if name.starts_with('.') && !matches!(tokens.first(), Some(Token::Char('.'))) {
        return false;
    }
    let name: Vec<char> = name.chars().collect();
    match_tokens(&tokens, &name)
}

/// The names among `names` that match `pattern` (by [`matches_name`]),
/// sorted; or `unmatched` alone if none does.
pub fn expand_in<'a>(
    pattern: &str,
    unmatched: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let tokens = compile(pattern);
    let literal_dot = matches!(tokens.first(), Some(Token::Char('.')));
    let mut chars = Vec::new();
    let mut found: Vec<String> = names
        .into_iter()
        .filter(|name| {
            chars.clear();
            chars.extend(name.chars());
            (literal_dot || !name.starts_with('.')) && match_tokens(&tokens, &chars)
        })
        .map(String::from)
        .collect();
    if found.is_empty() {
        found.push(unmatched.into());
    }
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests;
