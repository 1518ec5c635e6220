//! `echo` (the shell's built-in and `/bin/echo`), as GNU's: options `-n`
//! (no newline), `-e` (backslash escapes), `-E` (none, the default),
//! accepted only as leading words made of those letters; anything else is
//! printed.

use alloc::vec::Vec;

/// The bytes `echo ARGS` writes.
pub fn output<S: AsRef<str>>(args: &[S]) -> Vec<u8> {
    let mut newline = true;
    let mut escapes = false;
    let mut first = 0;
    for arg in args {
        let arg = arg.as_ref();
        let Some(letters) = arg.strip_prefix('-') else {
            break;
        };
        if letters.is_empty() || !letters.chars().all(|c| matches!(c, 'n' | 'e' | 'E')) {
            break;
        }
        for c in letters.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        first += 1;
    }
    let mut out = Vec::new();
    for (i, arg) in args[first..].iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if escapes {
            if unescape(arg.as_ref(), &mut out) {
                return out;
            }
        } else {
            out.extend_from_slice(arg.as_ref().as_bytes());
        }
    }
    if newline {
        out.push(b'\n');
    }
    out
}

/// Appends `text` with `-e` escapes done; `true` at `\c` (stop all output).
fn unescape(text: &str, out: &mut Vec<u8>) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        i += 1;
        if byte != b'\\' || i == bytes.len() {
            out.push(byte);
            continue;
        }
        let code = bytes[i];
        i += 1;
        let simple = match code {
            b'a' => Some(7),
            b'b' => Some(8),
            b'e' => Some(0x1b),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(value) = simple {
            out.push(value);
            continue;
        }
        match code {
            b'c' => return true,
            b'0' => {
                let (value, used) = digits(&bytes[i..], 3, 8);
                out.push(value as u8);
                i += used;
            }
            b'x' => {
                let (value, used) = digits(&bytes[i..], 2, 16);
                if used == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(value as u8);
                    i += used;
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}

/// Up to `max` digits of `radix` at the start of `bytes`: value, count.
fn digits(bytes: &[u8], max: usize, radix: u32) -> (u32, usize) {
    let mut value = 0u32;
    let mut used = 0;
    for &b in bytes.iter().take(max) {
        let Some(d) = char::from(b).to_digit(radix) else {
            break;
        };
        value = value * radix + d;
        used += 1;
    }
    (value & 0xff, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(args: &[&str]) -> Vec<u8> {
        output(args)
    }

    #[test]
    fn plain_and_options() {
        assert_eq!(echo(&["a", "b"]), b"a b\n");
        assert_eq!(echo(&[]), b"\n");
        assert_eq!(echo(&["-n", "a"]), b"a");
        assert_eq!(echo(&["-x", "a"]), b"-x a\n");
        assert_eq!(echo(&["-", "a"]), b"- a\n");
        assert_eq!(echo(&["-n", "-e", "a\\tb"]), b"a\tb");
        assert_eq!(echo(&["a\\tb"]), b"a\\tb\n");
        assert_eq!(echo(&["-ne", "x\\n"]), b"x\n");
        assert_eq!(echo(&["a", "-n"]), b"a -n\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(echo(&["-e", "a\\cb", "c"]), b"a");
        assert_eq!(echo(&["-e", "\\0101\\x41\\x\\q\\"]), b"AA\\x\\q\\\n");
    }
}
