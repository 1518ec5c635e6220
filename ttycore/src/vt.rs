//! The VT100 control sequences the line editor writes, and nothing else.
//!
//! Every VT100-compatible terminal (xterm, the Linux console, QEMU's serial
//! console in a terminal emulator) understands these ECMA-48 sequences:
//!
//! | bytes | effect |
//! |---|---|
//! | `\r` | cursor to column 1 |
//! | `ESC [ n D` | cursor left `n` columns (CUB), stopping at column 1 |
//! | `ESC [ n C` | cursor right `n` columns (CUF) |
//! | `ESC [ K` | erase from the cursor to the end of the line (EL 0) |
//! | `ESC [ H` `ESC [ 2 J` | cursor home, erase the whole screen (CUP, ED 2) |

use alloc::vec::Vec;

/// Erase from the cursor to the end of the line.
pub const ERASE_TO_END: &[u8] = b"\x1b[K";
/// Cursor to the top left corner, then erase the screen.
pub const CLEAR_SCREEN: &[u8] = b"\x1b[H\x1b[2J";
/// Carriage return and line feed: the start of the next line.
pub const NEWLINE: &[u8] = b"\r\n";

/// Moves the cursor `columns` left; writes nothing for 0.
pub fn cursor_left(out: &mut Vec<u8>, columns: usize) {
    cursor_move(out, columns, b'D');
}

/// Moves the cursor `columns` right; writes nothing for 0.
pub fn cursor_right(out: &mut Vec<u8>, columns: usize) {
    cursor_move(out, columns, b'C');
}

/// Writes `ESC [ columns final`, in decimal, unless `columns` is 0.
fn cursor_move(out: &mut Vec<u8>, columns: usize, final_byte: u8) {
    if columns == 0 {
        return;
    }
    out.extend_from_slice(b"\x1b[");
    push_decimal(out, columns);
    out.push(final_byte);
}

/// Writes `value` in decimal ASCII.
fn push_decimal(out: &mut Vec<u8>, value: usize) {
    let mut digits = [0u8; 20];
    let mut rest = value;
    let mut count = 0;
    for slot in digits.iter_mut() {
        *slot = b'0'.saturating_add((rest % 10) as u8);
        rest /= 10;
        count += 1;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits.iter().take(count).rev());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&mut Vec<u8>, usize), columns: usize) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out, columns);
        out
    }

    #[test]
    fn moves() {
        assert_eq!(run(cursor_left, 0), b"");
        assert_eq!(run(cursor_left, 1), b"\x1b[1D");
        assert_eq!(run(cursor_right, 42), b"\x1b[42C");
        assert_eq!(run(cursor_left, 4096), b"\x1b[4096D");
        let max = alloc::format!("\x1b[{}C", usize::MAX);
        assert_eq!(run(cursor_right, usize::MAX), max.as_bytes());
    }
}
