//! Text utilities' logic on bytes: `wc` counts and its column layout,
//! `sort` and `uniq` of lines, `seq`, and splitting into lines. Lines
//! compare as bytes (the C locale).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// The lines of `data`, without their newlines; a last line without one
/// counts too.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.is_empty() || data.ends_with(b"\n") {
        out.pop();
    }
    out
}

/// What `wc` counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Newlines.
    pub lines: u64,
    /// Words: runs of non-blank bytes.
    pub words: u64,
    /// Characters (UTF-8 sequences; an invalid byte counts one).
    pub chars: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Counts `data` in pieces: feed each with [`WcState::add`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WcState {
    /// The counts so far.
    pub counts: Counts,
    in_word: bool,
}

impl WcState {
    /// Counts the next piece of the input.
    pub fn add(&mut self, data: &[u8]) {
        for &b in data {
            self.counts.bytes += 1;
            if b & 0xc0 != 0x80 {
                self.counts.chars += 1;
            }
            if b == b'\n' {
                self.counts.lines += 1;
            }
            let blank = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !blank && !self.in_word {
                self.counts.words += 1;
            }
            self.in_word = !blank;
        }
    }
}

impl core::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.lines += other.lines;
        self.words += other.words;
        self.chars += other.chars;
        self.bytes += other.bytes;
    }
}

/// Which counts `wc` prints, in GNU's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WcShow {
    /// `-l`.
    pub lines: bool,
    /// `-w`.
    pub words: bool,
    /// `-m`.
    pub chars: bool,
    /// `-c`.
    pub bytes: bool,
}

impl WcShow {
    /// How many columns.
    pub fn count(&self) -> usize {
        [self.lines, self.words, self.chars, self.bytes]
            .iter()
            .filter(|&&b| b)
            .count()
    }
}

/// The width GNU `wc` gives each column: the digits of the largest
/// possible value (`size_hint`, the total bytes of the regular files),
/// at least 7 when an input's size is unknown (a pipe), 1 for a single
/// column of a single input.
pub fn wc_width(show: &WcShow, inputs: usize, size_hint: Option<u64>) -> usize {
    if show.count() == 1 && inputs == 1 {
        return 1;
    }
    match size_hint {
        Some(total) => digits(total),
        None => 7,
    }
}

/// The decimal digits of `n`.
pub fn digits(n: u64) -> usize {
    let mut d = 1;
    let mut n = n / 10;
    while n > 0 {
        d += 1;
        n /= 10;
    }
    d
}

/// One `wc` output line.
pub fn wc_line(counts: &Counts, show: &WcShow, width: usize, name: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (on, value) in [
        (show.lines, counts.lines),
        (show.words, counts.words),
        (show.chars, counts.chars),
        (show.bytes, counts.bytes),
    ] {
        if on {
            parts.push(format!("{value:>width$}"));
        }
    }
    let mut line = parts.join(" ");
    if let Some(name) = name {
        line.push(' ');
        line.push_str(name);
    }
    line.push('\n');
    line
}

/// How `sort` orders.
#[derive(Clone, Copy, Debug, Default)]
pub struct SortOptions {
    /// `-r`.
    pub reverse: bool,
    /// `-n`: by the leading number (lines without one are 0).
    pub numeric: bool,
    /// `-f`: fold lower case to upper case.
    pub fold: bool,
    /// `-u`: one of each run of equal lines.
    pub unique: bool,
}

/// The leading number of a line for `sort -n`: optional blanks, a sign,
/// digits, a fraction.
fn leading_number(line: &[u8]) -> f64 {
    let text = core::str::from_utf8(line).unwrap_or("");
    let text = text.trim_start_matches([' ', '\t']);
    let mut end = 0;
    let bytes = text.as_bytes();
    if end < bytes.len() && bytes[end] == b'-' {
        end += 1;
    }
    let mut seen_dot = false;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || (bytes[end] == b'.' && !seen_dot)) {
        seen_dot |= bytes[end] == b'.';
        end += 1;
    }
    text[..end].parse().unwrap_or(0.0)
}

fn compare(a: &[u8], b: &[u8], options: &SortOptions) -> Ordering {
    if options.numeric {
        let (x, y) = (leading_number(a), leading_number(b));
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    if options.fold {
        return a
            .iter()
            .map(u8::to_ascii_uppercase)
            .cmp(b.iter().map(u8::to_ascii_uppercase));
    }
    a.cmp(b)
}

/// Sorts lines as GNU `sort` in the C locale: equal keys fall back to
/// comparing whole lines (the last resort), except with `-u`.
pub fn sort_lines(lines: &mut Vec<&[u8]>, options: &SortOptions) {
    lines.sort_by(|a, b| {
        let mut order = compare(a, b, options);
        if order == Ordering::Equal && !options.unique {
            order = a.cmp(b);
        }
        if options.reverse {
            order.reverse()
        } else {
            order
        }
    });
    if options.unique {
        lines.dedup_by(|a, b| compare(a, b, options) == Ordering::Equal);
    }
}

/// What `uniq` prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct UniqOptions {
    /// `-c`: prefix each line with its count.
    pub count: bool,
    /// `-d`: only lines that repeat.
    pub repeated: bool,
    /// `-u`: only lines that do not.
    pub unique: bool,
    /// `-i`: compare ignoring case.
    pub ignore_case: bool,
}

/// `uniq` of `lines`: the output, newline-terminated.
pub fn uniq(lines: &[&[u8]], options: &UniqOptions) -> Vec<u8> {
    let same = |a: &[u8], b: &[u8]| {
        if options.ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i + 1;
        while j < lines.len() && same(lines[i], lines[j]) {
            j += 1;
        }
        let count = j - i;
        let show = (!options.repeated || count > 1) && (!options.unique || count == 1);
        if show {
            if options.count {
                out.extend_from_slice(format!("{count:>7} ").as_bytes());
            }
            out.extend_from_slice(lines[i]);
            out.push(b'\n');
        }
        i = j;
    }
    out
}

/// Why `seq` cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqError {
    /// An argument that is not a number (as written).
    NotANumber(String),
    /// An increment of 0.
    ZeroIncrement,
}

impl core::fmt::Display for SeqError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SeqError::NotANumber(text) => write!(f, "invalid floating point argument: '{text}'"),
            SeqError::ZeroIncrement => f.write_str("invalid Zero increment value: '0'"),
        }
    }
}

/// A `seq` run: integers from `first` by `step` to `last`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seq {
    /// The first number.
    pub first: i64,
    /// The increment.
    pub step: i64,
    /// The limit.
    pub last: i64,
}

impl Seq {
    /// Reads `seq`'s operands: LAST, FIRST LAST, or FIRST INCREMENT LAST.
    ///
    /// # Errors
    /// [`SeqError`].
    pub fn new<S: AsRef<str>>(operands: &[S]) -> Result<Seq, SeqError> {
        let mut numbers = Vec::new();
        for text in operands {
            let text = text.as_ref();
            let value = text
                .trim_start_matches('+')
                .parse::<i64>()
                .map_err(|_| SeqError::NotANumber(String::from(text)))?;
            numbers.push(value);
        }
        let (first, step, last) = match numbers.as_slice() {
            [last] => (1, 1, *last),
            [first, last] => (*first, 1, *last),
            [first, step, last] => (*first, *step, *last),
            _ => return Err(SeqError::NotANumber(String::new())),
        };
        if step == 0 {
            return Err(SeqError::ZeroIncrement);
        }
        Ok(Seq { first, step, last })
    }

    /// The next number after `current`, if still within the limit.
    pub fn next(&self, current: i64) -> Option<i64> {
        let next = current.checked_add(self.step)?;
        self.within(next).then_some(next)
    }

    /// Whether `value` is within the limit.
    pub fn within(&self, value: i64) -> bool {
        if self.step > 0 {
            value <= self.last
        } else {
            value >= self.last
        }
    }

    /// The width of the widest number (`-w`).
    pub fn width(&self) -> usize {
        let w = |n: i64| digits(n.unsigned_abs()) + usize::from(n < 0);
        w(self.first).max(w(self.last))
    }
}

/// `n` padded with zeros to `width` (after a minus sign).
pub fn zero_pad(n: i64, width: usize) -> String {
    if n < 0 {
        let width = width.saturating_sub(1);
        format!("-{:0>width$}", n.unsigned_abs())
    } else {
        format!("{n:0>width$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(lines(b"a\nb\n"), [b"a" as &[u8], b"b"]);
        assert_eq!(lines(b"a\nb"), [b"a" as &[u8], b"b"]);
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"\n"), [b"" as &[u8]]);
    }

    #[test]
    fn wc() {
        let mut state = WcState::default();
        state.add(b"hello world\n  two ");
        state.add(b"lines\n\xc3\xa9\n");
        assert_eq!(
            state.counts,
            Counts {
                lines: 3,
                words: 5,
                chars: 26,
                bytes: 27
            }
        );
        let all = WcShow {
            lines: true,
            words: true,
            chars: false,
            bytes: true,
        };
        assert_eq!(wc_width(&all, 1, None), 7);
        assert_eq!(
            wc_line(&state.counts, &all, 7, None),
            "      3       5      27\n"
        );
        let lines_only = WcShow {
            lines: true,
            words: false,
            chars: false,
            bytes: false,
        };
        assert_eq!(wc_width(&lines_only, 1, None), 1);
        assert_eq!(wc_line(&state.counts, &lines_only, 1, Some("f")), "3 f\n");
        assert_eq!(wc_width(&all, 2, Some(123)), 3);
    }

    #[test]
    fn sorting() {
        let mut v: Vec<&[u8]> = alloc::vec![b"b", b"B", b"a", b"10", b"9", b"b"];
        sort_lines(&mut v, &SortOptions::default());
        assert_eq!(v, [b"10" as &[u8], b"9", b"B", b"a", b"b", b"b"]);
        let mut v: Vec<&[u8]> = alloc::vec![b"10", b"9", b"-1", b"x"];
        sort_lines(
            &mut v,
            &SortOptions {
                numeric: true,
                ..Default::default()
            },
        );
        assert_eq!(v, [b"-1" as &[u8], b"x", b"9", b"10"]);
        let mut v: Vec<&[u8]> = alloc::vec![b"a", b"c", b"b", b"c"];
        sort_lines(
            &mut v,
            &SortOptions {
                reverse: true,
                unique: true,
                ..Default::default()
            },
        );
        assert_eq!(v, [b"c" as &[u8], b"b", b"a"]);
    }

    #[test]
    fn uniq_modes() {
        let v: Vec<&[u8]> = alloc::vec![b"a", b"a", b"b", b"A", b"c", b"c"];
        assert_eq!(uniq(&v, &UniqOptions::default()), b"a\nb\nA\nc\n");
        let counted = UniqOptions {
            count: true,
            ..Default::default()
        };
        assert_eq!(
            uniq(&v, &counted),
            b"      2 a\n      1 b\n      1 A\n      2 c\n"
        );
        let repeated = UniqOptions {
            repeated: true,
            ..Default::default()
        };
        assert_eq!(uniq(&v, &repeated), b"a\nc\n");
        let unique = UniqOptions {
            unique: true,
            ..Default::default()
        };
        assert_eq!(uniq(&v, &unique), b"b\nA\n");
        let folded = UniqOptions {
            ignore_case: true,
            ..Default::default()
        };
        assert_eq!(uniq(&v, &folded), b"a\nb\nA\nc\n");
        let w: Vec<&[u8]> = alloc::vec![b"a", b"A", b"b"];
        assert_eq!(uniq(&w, &folded), b"a\nb\n");
    }

    #[test]
    fn seq() {
        let s = Seq::new(&["3"]).unwrap();
        assert_eq!((s.first, s.step, s.last), (1, 1, 3));
        let s = Seq::new(&["5", "-2", "1"]).unwrap();
        assert_eq!(s.next(5), Some(3));
        assert_eq!(s.next(1), None);
        assert_eq!(Seq::new(&["1", "0", "3"]), Err(SeqError::ZeroIncrement));
        assert_eq!(
            Seq::new(&["x"]).unwrap_err().to_string(),
            "invalid floating point argument: 'x'"
        );
        assert_eq!(Seq::new(&["-5", "10"]).unwrap().width(), 2);
        assert_eq!(zero_pad(-3, 3), "-03");
        assert_eq!(zero_pad(7, 3), "007");
    }
}
