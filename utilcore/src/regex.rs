//! grep's matcher: POSIX basic regular expressions without groups and
//! back-references: ordinary characters, `.` (any character), `*` (the
//! atom before, zero or more times; literal at the start), `^` at the
//! start and `$` at the end (anchors; ordinary elsewhere), bracket
//! expressions `[abc]`, `[a-z]`, `[^...]`, `[]...]` and the classes
//! `[[:alpha:]]` and the like, and `\c` for a literal `c`. `-F` patterns
//! are fixed strings. Case is folded (ASCII and simple Unicode lower
//! case) when asked.
//!
//! Matching backtracks; the recursion is at most one level per pattern
//! atom, so a long line cannot overflow the stack.

use alloc::string::String;
use alloc::vec::Vec;

/// One compiled atom.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Atom {
    /// A character.
    Char(char),
    /// `.`.
    Any,
    /// A bracket expression: items, negated.
    Set(Vec<SetItem>, bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SetItem {
    Char(char),
    Range(char, char),
    Class(Class),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

#[derive(Clone, Debug, PartialEq, Eq)]
struct Piece {
    atom: Atom,
    star: bool,
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Regex {
    pieces: Vec<Piece>,
    anchored_start: bool,
    anchored_end: bool,
    fold: bool,
    fixed: Option<Vec<char>>,
}

/// A pattern that does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexError {
    /// `[` without its `]`.
    UnmatchedBracket,
    /// A `\` at the very end.
    TrailingBackslash,
    /// `[[:name:]]` with an unknown name.
    BadClass,
}

impl core::fmt::Display for RegexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RegexError::UnmatchedBracket => "Unmatched [, [^, [:, [., or [=",
            RegexError::TrailingBackslash => "Trailing backslash",
            RegexError::BadClass => "Invalid character class name",
        })
    }
}

fn fold_char(c: char, fold: bool) -> char {
    if fold {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

impl Regex {
    /// A fixed string (`grep -F`).
    pub fn fixed(text: &str, fold: bool) -> Regex {
        Regex {
            pieces: Vec::new(),
            anchored_start: false,
            anchored_end: false,
            fold,
            fixed: Some(text.chars().map(|c| fold_char(c, fold)).collect()),
        }
    }

    /// Compiles a basic regular expression.
    ///
    /// # Errors
    /// [`RegexError`].
    pub fn new(pattern: &str, fold: bool) -> Result<Regex, RegexError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let anchored_start = chars.first() == Some(&'^');
        if anchored_start {
            i = 1;
        }
        let mut end = chars.len();
        let anchored_end = end > i && chars[end - 1] == '$' && (end < 2 || chars[end - 2] != '\\');
        if anchored_end {
            end -= 1;
        }
        let mut pieces: Vec<Piece> = Vec::new();
        while i < end {
            let c = chars[i];
            i += 1;
            let atom = match c {
                '.' => Atom::Any,
                '*' if !pieces.is_empty() && !pieces.last().is_some_and(|p| p.star) => {
                    if let Some(last) = pieces.last_mut() {
                        last.star = true;
                    }
                    continue;
                }
                '\\' => {
                    let Some(&next) = chars.get(i).filter(|_| i < end || anchored_end) else {
                        return Err(RegexError::TrailingBackslash);
                    };
                    i += 1;
                    Atom::Char(fold_char(next, fold))
                }
                '[' => {
                    let (atom, next) = bracket(&chars, i, fold)?;
                    i = next;
                    atom
                }
                c => Atom::Char(fold_char(c, fold)),
            };
            pieces.push(Piece { atom, star: false });
        }
        Ok(Regex {
            pieces,
            anchored_start,
            anchored_end,
            fold,
            fixed: None,
        })
    }

    /// Whether the pattern matches somewhere in `line`.
    pub fn is_match(&self, line: &str) -> bool {
        let text: Vec<char> = line.chars().map(|c| fold_char(c, self.fold)).collect();
        if let Some(fixed) = &self.fixed {
            return fixed.is_empty() || text.windows(fixed.len()).any(|w| w == fixed.as_slice());
        }
        if self.anchored_start {
            return self.match_here(0, &text, 0);
        }
        (0..=text.len()).any(|start| self.match_here(0, &text, start))
    }

    fn match_here(&self, piece: usize, text: &[char], at: usize) -> bool {
        let Some(p) = self.pieces.get(piece) else {
            return !self.anchored_end || at == text.len();
        };
        if p.star {
            // Longest first, then back off.
            let mut run = at;
            while run < text.len() && p.atom.matches(text[run], self.fold) {
                run += 1;
            }
            loop {
                if self.match_here(piece + 1, text, run) {
                    return true;
                }
                if run == at {
                    return false;
                }
                run -= 1;
            }
        }
        at < text.len()
            && p.atom.matches(text[at], self.fold)
            && self.match_here(piece + 1, text, at + 1)
    }
}

impl Atom {
    fn matches(&self, c: char, fold: bool) -> bool {
        match self {
            Atom::Char(want) => *want == c,
            Atom::Any => true,
            Atom::Set(items, negated) => {
                let found = items.iter().any(|item| match item {
                    SetItem::Char(x) => *x == c,
                    SetItem::Range(lo, hi) => {
                        (*lo..=*hi).contains(&c)
                            || (fold && c.to_uppercase().any(|u| (*lo..=*hi).contains(&u)))
                    }
                    SetItem::Class(class) => class.contains(c),
                });
                found != *negated
            }
        }
    }
}

impl Class {
    fn contains(self, c: char) -> bool {
        match self {
            Class::Alpha => c.is_alphabetic(),
            Class::Digit => c.is_ascii_digit(),
            Class::Alnum => c.is_alphanumeric(),
            Class::Upper => c.is_uppercase(),
            Class::Lower => c.is_lowercase(),
            Class::Space => c.is_whitespace(),
            Class::Blank => c == ' ' || c == '\t',
            Class::Punct => c.is_ascii_punctuation(),
            Class::Xdigit => c.is_ascii_hexdigit(),
        }
    }
}

/// A bracket expression starting after `[` at `i`: the atom and where
/// the pattern goes on.
fn bracket(chars: &[char], mut i: usize, fold: bool) -> Result<(Atom, usize), RegexError> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(RegexError::UnmatchedBracket);
        };
        if c == ']' && !first {
            return Ok((Atom::Set(items, negated), i + 1));
        }
        first = false;
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            let Some(close) = rest.find(":]") else {
                return Err(RegexError::UnmatchedBracket);
            };
            let class = match &rest[..close] {
                "alpha" => Class::Alpha,
                "digit" => Class::Digit,
                "alnum" => Class::Alnum,
                "upper" => Class::Upper,
                "lower" => Class::Lower,
                "space" => Class::Space,
                "blank" => Class::Blank,
                "punct" => Class::Punct,
                "xdigit" => Class::Xdigit,
                _ => return Err(RegexError::BadClass),
            };
            items.push(SetItem::Class(class));
            i += 2 + rest[..close].chars().count() + 2;
            continue;
        }
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = chars[i + 2];
            items.push(SetItem::Range(c, hi));
            i += 3;
            continue;
        }
        items.push(SetItem::Char(fold_char(c, fold)));
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, line: &str) -> bool {
        Regex::new(pattern, false).unwrap().is_match(line)
    }

    #[test]
    fn basics() {
        assert!(m("abc", "xxabcxx"));
        assert!(!m("abd", "xxabcxx"));
        assert!(m("^ab", "abc"));
        assert!(!m("^b", "abc"));
        assert!(m("bc$", "abc"));
        assert!(!m("b$", "abc"));
        assert!(m("a.c", "abc"));
        assert!(m("ab*c", "ac"));
        assert!(m("ab*c", "abbbc"));
        assert!(m("^a.*z$", "a to z"));
        assert!(m("", "anything"));
        assert!(m("^$", ""));
        assert!(!m("^$", "x"));
        assert!(m("*a", "x*a"));
        assert!(m("a\\.b", "a.b"));
        assert!(!m("a\\.b", "axb"));
    }

    #[test]
    fn brackets() {
        assert!(m("[0-9][0-9]*", "x42"));
        assert!(!m("^[0-9]*$", "4x2"));
        assert!(m("[^a-z]", "abC"));
        assert!(m("[]x]", "]"));
        assert!(m("[[:upper:]]", "abC"));
        assert!(!m("[[:digit:]]", "abc"));
        assert_eq!(
            Regex::new("[ab", false).err(),
            Some(RegexError::UnmatchedBracket)
        );
        assert_eq!(
            Regex::new("[[:foo:]]", false).err(),
            Some(RegexError::BadClass)
        );
        assert_eq!(
            Regex::new("a\\", false).err(),
            Some(RegexError::TrailingBackslash)
        );
    }

    #[test]
    fn folding_and_fixed() {
        assert!(Regex::new("HELLO", true).unwrap().is_match("say hello"));
        assert!(Regex::new("[a-c]x", true).unwrap().is_match("BX"));
        assert!(Regex::fixed("a.c", false).is_match("xa.cx"));
        assert!(!Regex::fixed("a.c", false).is_match("abc"));
        assert!(Regex::fixed("ABC", true).is_match("xabc"));
    }

    #[test]
    fn long_lines_do_not_recurse_deeply() {
        let line: String = core::iter::repeat_n('a', 100_000).collect();
        assert!(m("a*b*$", &line));
        assert!(!m("^a*b", &line));
    }
}
