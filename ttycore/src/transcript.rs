//! What a user reads on the terminal, as lines of text: a tolerant
//! renderer of terminal output for tests and scripted sessions.
//!
//! The console tests (`servers/test-runner`) and `cargo xtask run
//! --script` (xtask) type keys into the shell and need what came back as
//! the user sees it, not as bytes: the editor redraws its row with CR,
//! cursor motions and erases (`crate::vt`), and the console echoes `^C`
//! and erases with `\b \b`. [`Transcript::feed`] applies output bytes in
//! any pieces (a sequence or a UTF-8 character may be split across two
//! calls) to a scrollback of finished rows and the cursor's row.
//!
//! The model is that of `crate::vt`, extended so that no input is an
//! error: printable characters overwrite at the cursor; CR goes to column
//! 0; LF finishes the row (the column stays, as on a VT100); BS moves one
//! left; tab moves to the next multiple of 8; `ESC [ n C` / `ESC [ n D`
//! move right / left; `ESC [ K` erases to the end of the row; `ESC [ H`
//! goes to column 0 and `ESC [ 2 J` blanks the cursor's row (the rows
//! above stay: this is a transcript, not a screen); any other sequence,
//! control character or the bell is ignored, invalid UTF-8 is U+FFFD.
//! The column is bounded ([`MAX_COLUMN`]), so no input allocates without
//! bound beyond the rows it finishes.

use alloc::string::String;
use alloc::vec::Vec;

/// The rightmost column a cursor motion can reach.
pub const MAX_COLUMN: usize = 4 * crate::LINE_MAX_BYTES;

/// Where the renderer is within a control sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Escape {
    /// Not in a sequence.
    #[default]
    None,
    /// After ESC.
    Started,
    /// After `ESC [`, with the numeric parameter so far (the last one of
    /// several, saturating).
    Csi(usize, bool),
}

/// Terminal output rendered as finished rows and the cursor's row.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    /// Rows finished by LF, trailing blanks removed.
    finished: Vec<String>,
    /// The cursor's row (short rows are blank to the right).
    row: Vec<char>,
    /// The cursor's column.
    column: usize,
    /// A control sequence in progress.
    escape: Escape,
    /// A UTF-8 character in progress: its bytes so far.
    partial: Vec<u8>,
}

impl Transcript {
    /// An empty transcript, the cursor at column 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies output `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.byte(byte);
        }
    }

    /// The rows finished so far, oldest first, without trailing blanks.
    pub fn finished(&self) -> &[String] {
        &self.finished
    }

    /// The cursor's row as it shows, trailing blanks kept (a prompt ends
    /// with one).
    pub fn current(&self) -> String {
        self.row.iter().collect()
    }

    /// Every row, the cursor's last (trailing blanks removed), joined
    /// with LF.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for row in &self.finished {
            text.push_str(row);
            text.push('\n');
        }
        text.push_str(self.current().trim_end());
        text
    }

    fn byte(&mut self, byte: u8) {
        match self.escape {
            Escape::Started => {
                self.escape = if byte == b'[' {
                    Escape::Csi(0, false)
                } else {
                    // A two-byte sequence, or `ESC O x` whose last byte
                    // then prints: either way nothing a test relies on.
                    Escape::None
                };
                return;
            }
            Escape::Csi(value, seen) => {
                match byte {
                    b'0'..=b'9' => {
                        let digit = usize::from(byte - b'0');
                        let value = value.saturating_mul(10).saturating_add(digit);
                        self.escape = Escape::Csi(value, true);
                    }
                    // Parameters and intermediates: keep the last number.
                    0x20..=0x3f => self.escape = Escape::Csi(0, false),
                    0x40..=0x7e => {
                        self.escape = Escape::None;
                        self.sequence(byte, if seen { value } else { 1 }, seen.then_some(value));
                    }
                    // A control character inside a sequence ends it.
                    _ => self.escape = Escape::None,
                }
                return;
            }
            Escape::None => {}
        }
        if !self.partial.is_empty() || byte >= 0x80 {
            self.utf8(byte);
            return;
        }
        match byte {
            b'\r' => self.column = 0,
            b'\n' => {
                let row: String = self.row.drain(..).collect();
                self.finished.push(String::from(row.trim_end()));
                // The column stays, as on a VT100: the next row is blank
                // up to it.
            }
            0x08 => self.column = self.column.saturating_sub(1),
            b'\t' => self.column = ((self.column / 8 + 1) * 8).min(MAX_COLUMN),
            0x1b => self.escape = Escape::Started,
            0x00..=0x1f | 0x7f => {}
            _ => self.put(char::from(byte)),
        }
    }

    /// A CSI sequence's final byte with its count (1 when none was given)
    /// and its parameter as written.
    fn sequence(&mut self, final_byte: u8, count: usize, parameter: Option<usize>) {
        match final_byte {
            b'C' => self.column = self.column.saturating_add(count).min(MAX_COLUMN),
            b'D' => self.column = self.column.saturating_sub(count),
            b'K' if parameter.unwrap_or(0) == 0 => self.row.truncate(self.column),
            b'H' => self.column = 0,
            b'J' if parameter == Some(2) => self.row.clear(),
            _ => {}
        }
    }

    /// A byte of a multi-byte character (or an invalid one).
    fn utf8(&mut self, byte: u8) {
        let continuation = byte & 0xc0 == 0x80;
        if !self.partial.is_empty() && !continuation {
            // Cut short: the piece so far is invalid, the byte starts afresh.
            self.partial.clear();
            self.put(char::REPLACEMENT_CHARACTER);
            self.byte(byte);
            return;
        }
        self.partial.push(byte);
        let want = match self.partial[0] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => {
                self.partial.clear();
                self.put(char::REPLACEMENT_CHARACTER);
                return;
            }
        };
        if self.partial.len() < want {
            return;
        }
        let c = core::str::from_utf8(&self.partial)
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        self.partial.clear();
        self.put(c);
    }

    /// Writes `c` at the cursor and moves right.
    fn put(&mut self, c: char) {
        if self.column >= MAX_COLUMN {
            return;
        }
        if self.row.len() <= self.column {
            self.row.resize(self.column + 1, ' ');
        }
        self.row[self.column] = c;
        self.column += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    fn render(pieces: &[&[u8]]) -> Transcript {
        let mut t = Transcript::new();
        for piece in pieces {
            t.feed(piece);
        }
        t
    }

    #[test]
    fn the_editor_redrawing_its_row() {
        // A prompt, `abx`, backspace as the editor draws it, then `c`.
        let t = render(&[b"/ $ ", b"abx", b"\r/ $ ab\x1b[K", b"c"]);
        assert_eq!(t.current(), "/ $ abc");
        // Cursor motions, an insert in the middle, then Enter.
        let t = render(&[b"/ $ ac\x1b[1Db\x1b[Kc\r\n", b"out\r\n/ $ "]);
        assert_eq!(t.finished(), ["/ $ abc", "out"]);
        assert_eq!(t.current(), "/ $ ");
        assert_eq!(t.text(), "/ $ abc\nout\n/ $");
    }

    #[test]
    fn echo_erases_and_control_echo() {
        let t = render(&[b"hellx\x08 \x08o wrld\x08 \x08\x08 \x08ld^C\r\n"]);
        assert_eq!(t.finished(), ["hello wrld^C"]);
    }

    #[test]
    fn split_sequences_and_characters() {
        let t = render(&[
            b"x\x1b",
            b"[",
            b"2",
            b"0C|",
            b"\xc3",
            b"\xa9\xe2\x82",
            b"\xac",
        ]);
        assert_eq!(t.current(), format!("x{}|\u{e9}\u{20ac}", " ".repeat(20)));
    }

    #[test]
    fn odd_input_is_tolerated() {
        // Invalid UTF-8, unknown sequences, ESC O, huge counts, bells.
        let t = render(&[b"\xff\xc3(\x1b[?25l\x1bOA\x07\x1b[99999999999999999999999C!"]);
        // The `!` past the last column is dropped.
        assert_eq!(t.current(), "\u{fffd}\u{fffd}(A");
        let t = render(&[b"abc\r\x1b[H\x1b[2Jnew\tx\n  y"]);
        assert_eq!(t.finished(), ["new     x"]);
        assert_eq!(t.current(), format!("{}  y", " ".repeat(9)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any bytes render without a panic, in bounded rows, and the
        /// same whatever pieces they come in.
        #[test]
        fn any_bytes_in_any_pieces(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cut in 0usize..300,
        ) {
            let whole = render(&[&bytes]);
            let cut = cut.min(bytes.len());
            let split = render(&[&bytes[..cut], &bytes[cut..]]);
            proptest::prop_assert_eq!(whole.text(), split.text());
            proptest::prop_assert_eq!(whole.current(), split.current());
            proptest::prop_assert!(whole.current().chars().count() <= MAX_COLUMN);
        }
    }

    #[test]
    fn lf_keeps_the_column() {
        let t = render(&[b"ab\ncd\r\n"]);
        assert_eq!(t.finished(), vec!["ab", "  cd"]);
    }
}
