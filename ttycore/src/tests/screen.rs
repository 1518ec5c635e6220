//! A tiny model of a VT100 screen, enough to check what the editor and the
//! line discipline write: printable characters, CR, LF, BS, BEL, and the
//! sequences of `crate::vt`. Anything else fails the test, so the output
//! may use nothing more.

use std::string::String;
use std::vec;
use std::vec::Vec;

/// Rows of characters (short rows are blank to the right) and a cursor.
#[derive(Debug, Default)]
pub struct Screen {
    pub rows: Vec<Vec<char>>,
    pub row: usize,
    pub col: usize,
}

impl Screen {
    pub fn new() -> Self {
        Self {
            rows: vec![Vec::new()],
            ..Self::default()
        }
    }

    /// Applies `bytes`, which must be UTF-8 and use only the known controls.
    pub fn apply(&mut self, bytes: &[u8]) {
        let text = core::str::from_utf8(bytes).expect("terminal output is UTF-8");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => self.col = 0,
                '\n' => {
                    self.row += 1;
                    if self.rows.len() <= self.row {
                        self.rows.push(Vec::new());
                    }
                }
                '\x08' => self.col = self.col.saturating_sub(1),
                '\x07' => {}
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "only CSI sequences");
                    let mut count = String::new();
                    while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        count.push(d);
                        chars.next();
                    }
                    let n: usize = if count.is_empty() {
                        1
                    } else {
                        count.parse().unwrap()
                    };
                    match chars.next() {
                        Some('D') => self.col = self.col.saturating_sub(n),
                        Some('C') => self.col += n,
                        Some('K') => {
                            assert!(count.is_empty());
                            self.rows[self.row].truncate(self.col);
                        }
                        Some('H') => {
                            assert!(count.is_empty());
                            (self.row, self.col) = (0, 0);
                        }
                        Some('J') => {
                            assert_eq!(count, "2");
                            self.rows = vec![Vec::new(); self.row + 1];
                        }
                        other => panic!("unexpected sequence final {other:?}"),
                    }
                }
                c if c.is_control() => panic!("unexpected control {c:?}"),
                c => {
                    let row = &mut self.rows[self.row];
                    if row.len() <= self.col {
                        row.resize(self.col + 1, ' ');
                    }
                    row[self.col] = c;
                    self.col += 1;
                }
            }
        }
    }

    /// The cursor's row as text.
    pub fn current(&self) -> String {
        self.rows[self.row].iter().collect()
    }
}

#[test]
fn model_basics() {
    let mut screen = Screen::new();
    screen.apply(b"abc\x1b[2Dx\x1b[K\r\n\x07d\x08e\x1b[3C!");
    assert_eq!(screen.rows[0], ['a', 'x']);
    assert_eq!(screen.current(), "e   !");
    assert_eq!(screen.col, 5);
}
