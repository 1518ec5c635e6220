//! Output processing: program output on its way to the terminal.
//!
//! A serial terminal moves down a row on LF but only returns to the first
//! column on CR, so Unix output (lines ending in LF) is sent with CR LF
//! (termios ONLCR). The console server applies it to what programs write
//! while [`crate::Settings::output_crlf`] is on, through
//! [`crate::LineDiscipline::output`]; the shell's editor writes its own
//! `\r\n` and needs none.

use alloc::vec::Vec;

/// Appends `bytes` to `out` with every LF turned into CR LF. Other bytes
/// are copied unchanged: a CR LF already there becomes CR CR LF, which a
/// terminal shows the same.
pub fn crlf(bytes: &[u8], out: &mut Vec<u8>) {
    for piece in bytes.split_inclusive(|&byte| byte == b'\n') {
        match piece.split_last() {
            Some((b'\n', text)) => {
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            _ => out.extend_from_slice(piece),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        crlf(bytes, &mut out);
        out
    }

    #[test]
    fn lf_becomes_crlf() {
        assert_eq!(run(b"a\nb\n"), b"a\r\nb\r\n");
        assert_eq!(run(b"\n\n"), b"\r\n\r\n");
        assert_eq!(run(b"no newline"), b"no newline");
        assert_eq!(run(b""), b"");
    }

    #[test]
    fn other_bytes_unchanged() {
        assert_eq!(run(b"a\rb"), b"a\rb");
        assert_eq!(run("é\n".as_bytes()), "é\r\n".as_bytes());
        assert_eq!(run(&[0xff, b'\n', 0x00]), &[0xff, b'\r', b'\n', 0x00]);
    }
}
