//! UTF-8 helpers shared by the line discipline and the key decoder: the
//! length a lead byte announces, the valid range of a sequence's second
//! byte (Unicode 15, table 3-7), and where the last character of a byte
//! string starts.

/// The length in bytes of the sequence `lead` starts: 1 for ASCII, 2 to 4
/// for a valid lead byte, `None` for a continuation byte or a byte that
/// never starts a valid sequence (0xc0, 0xc1, 0xf5 to 0xff).
pub(crate) fn sequence_len(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7f => Some(1),
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// Whether `byte` is a continuation byte (`10xxxxxx`).
pub(crate) fn is_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// Whether `byte` may follow `lead` as the second byte of a sequence:
/// narrower than 0x80..=0xbf after 0xe0, 0xed, 0xf0 and 0xf4, which rules
/// out overlong forms, surrogates and code points past U+10FFFF.
pub(crate) fn valid_second(lead: u8, byte: u8) -> bool {
    let range = match lead {
        0xe0 => 0xa0..=0xbf,
        0xed => 0x80..=0x9f,
        0xf0 => 0x90..=0xbf,
        0xf4 => 0x80..=0x8f,
        _ => 0x80..=0xbf,
    };
    range.contains(&byte)
}

/// The length of the last unit of `bytes`: the whole last character when
/// `bytes` ends with a valid UTF-8 sequence, else 1 (one invalid byte);
/// 0 when `bytes` is empty.
pub(crate) fn last_unit_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for start in (len.saturating_sub(4)..len).rev() {
        let Some(&byte) = bytes.get(start) else {
            break;
        };
        if is_continuation(byte) {
            continue;
        }
        let tail = bytes.get(start..).unwrap_or_default();
        let whole = sequence_len(byte) == Some(tail.len()) && core::str::from_utf8(tail).is_ok();
        return if whole { tail.len() } else { 1 };
    }
    usize::from(len > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_unit_of_ascii_and_multibyte() {
        assert_eq!(last_unit_len(b""), 0);
        assert_eq!(last_unit_len(b"ab"), 1);
        assert_eq!(last_unit_len("aé".as_bytes()), 2);
        assert_eq!(last_unit_len("a€".as_bytes()), 3);
        assert_eq!(last_unit_len("a😀".as_bytes()), 4);
    }

    #[test]
    fn last_unit_of_invalid_tails() {
        // A lone continuation byte, a truncated sequence, five continuation bytes.
        assert_eq!(last_unit_len(&[b'a', 0x80]), 1);
        assert_eq!(last_unit_len(&[0xe2, 0x82]), 1);
        assert_eq!(last_unit_len(&[0x80; 5]), 1);
        // An overlong encoding of '/' is one invalid byte at a time.
        assert_eq!(last_unit_len(&[0xc0, 0xaf]), 1);
    }

    #[test]
    fn lead_bytes() {
        assert_eq!(sequence_len(b'a'), Some(1));
        assert_eq!(sequence_len(0xc3), Some(2));
        assert_eq!(sequence_len(0xe2), Some(3));
        assert_eq!(sequence_len(0xf0), Some(4));
        assert_eq!(sequence_len(0x80), None);
        assert_eq!(sequence_len(0xc1), None);
        assert_eq!(sequence_len(0xf5), None);
        assert!(valid_second(0xe2, 0x82));
        assert!(!valid_second(0xe0, 0x80));
        assert!(!valid_second(0xed, 0xa0));
        assert!(!valid_second(0xf4, 0x90));
    }
}
