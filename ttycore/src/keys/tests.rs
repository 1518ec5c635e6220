//! Unit tests of the key decoder: each key, each sequence, split input.

use alloc::vec::Vec;

use super::*;

fn keys(bytes: &[u8]) -> Vec<Key> {
    let mut decoder = KeyDecoder::new();
    let mut keys = Vec::new();
    decoder.decode(bytes, &mut keys);
    keys.extend(decoder.flush());
    keys
}

fn unknown(bytes: &[u8]) -> Key {
    Key::Unknown(SequenceBytes::from_slice(bytes))
}

fn invalid(bytes: &[u8]) -> Key {
    Key::Invalid(SequenceBytes::from_slice(bytes))
}

#[test]
fn printable_ascii_and_utf8() {
    assert_eq!(
        keys("aZ ~é€😀".as_bytes()),
        ['a', 'Z', ' ', '~', 'é', '€', '😀'].map(Key::Char)
    );
}

#[test]
fn enter_tab_backspace() {
    assert_eq!(
        keys(b"\r\n\t\x7f\x08"),
        [
            Key::Enter,
            Key::Enter,
            Key::Tab,
            Key::Backspace,
            Key::Backspace
        ]
    );
}

#[test]
fn control_keys() {
    assert_eq!(
        keys(&[
            0x01, 0x03, 0x04, 0x0b, 0x12, 0x15, 0x17, 0x1a, 0x00, 0x1c, 0x1d, 0x1e, 0x1f
        ]),
        [
            'a', 'c', 'd', 'k', 'r', 'u', 'w', 'z', '@', '\\', ']', '^', '_'
        ]
        .map(Key::Ctrl)
    );
}

#[test]
fn csi_arrows() {
    assert_eq!(
        keys(b"\x1b[A\x1b[B\x1b[C\x1b[D\x1b[1A"),
        [Key::Up, Key::Down, Key::Right, Key::Left, Key::Up]
    );
}

#[test]
fn ss3_arrows_home_end() {
    assert_eq!(
        keys(b"\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF"),
        [
            Key::Up,
            Key::Down,
            Key::Right,
            Key::Left,
            Key::Home,
            Key::End
        ]
    );
}

#[test]
fn home_and_end_in_every_form() {
    assert_eq!(
        keys(b"\x1b[H\x1b[1~\x1b[7~\x1b[F\x1b[4~\x1b[8~"),
        [
            Key::Home,
            Key::Home,
            Key::Home,
            Key::End,
            Key::End,
            Key::End
        ]
    );
}

#[test]
fn insert_delete_page_keys() {
    assert_eq!(
        keys(b"\x1b[2~\x1b[3~\x1b[5~\x1b[6~"),
        [Key::Insert, Key::Delete, Key::PageUp, Key::PageDown]
    );
}

#[test]
fn unknown_sequences_keep_their_bytes() {
    assert_eq!(
        keys(b"\x1b[15~\x1b[1;5C\x1bOP\x1b[Z"),
        [
            unknown(b"\x1b[15~"),
            unknown(b"\x1b[1;5C"),
            unknown(b"\x1bOP"),
            unknown(b"\x1b[Z")
        ]
    );
}

#[test]
fn over_long_csi_is_reported_once_and_skipped() {
    let mut input = Vec::from(b"\x1b[".as_slice());
    input.extend_from_slice(&[b'1'; 40]);
    input.extend_from_slice(b"~x");
    let decoded = keys(&input);
    assert_eq!(decoded.len(), 2);
    assert_eq!(decoded[0], unknown(&input[..SEQUENCE_MAX_BYTES]));
    assert_eq!(decoded[1], Key::Char('x'));
}

#[test]
fn sequence_cut_by_a_control_byte() {
    assert_eq!(keys(b"\x1b[1\r"), [unknown(b"\x1b[1"), Key::Enter]);
    assert_eq!(keys(b"\x1bO\x7f"), [unknown(b"\x1bO"), Key::Backspace]);
    // A new ESC ends the old sequence and starts its own.
    assert_eq!(keys(b"\x1b[\x1b[A"), [unknown(b"\x1b["), Key::Up]);
}

#[test]
fn escape_then_other_byte() {
    assert_eq!(keys(b"\x1bx"), [Key::Escape, Key::Char('x')]);
    assert_eq!(keys(b"\x1b\x1b[A"), [Key::Escape, Key::Up]);
    assert_eq!(keys("\x1bé".as_bytes()), [Key::Escape, Key::Char('é')]);
}

#[test]
fn lone_escape_is_flushed() {
    let mut decoder = KeyDecoder::new();
    assert_eq!(decoder.push(0x1b).count(), 0);
    assert!(decoder.is_pending());
    assert_eq!(decoder.flush(), Some(Key::Escape));
    assert!(!decoder.is_pending());
    assert_eq!(decoder.flush(), None);
    // Partial sequences flush as unknown or invalid.
    let mut decoder = KeyDecoder::new();
    let _ = decoder.push(0x1b);
    let _ = decoder.push(b'[');
    assert_eq!(decoder.flush(), Some(unknown(b"\x1b[")));
    let _ = decoder.push(0xe2);
    assert_eq!(decoder.flush(), Some(invalid(&[0xe2])));
}

#[test]
fn split_sequences_decode_the_same() {
    let input = "a\x1b[3~é\x1bOH€\x1b[1;5C😀".as_bytes();
    let whole = keys(input);
    for split in 0..=input.len() {
        let mut decoder = KeyDecoder::new();
        let mut parts = Vec::new();
        decoder.decode(&input[..split], &mut parts);
        decoder.decode(&input[split..], &mut parts);
        parts.extend(decoder.flush());
        assert_eq!(parts, whole, "split at {split}");
    }
}

#[test]
fn invalid_utf8() {
    // A stray continuation byte, bytes that never start a character.
    assert_eq!(keys(&[0x80]), [invalid(&[0x80])]);
    assert_eq!(keys(&[0xc0, 0xff]), [invalid(&[0xc0]), invalid(&[0xff])]);
    // Overlong, surrogate, past U+10FFFF: the lead byte alone, then the rest.
    assert_eq!(
        keys(&[0xe0, 0x80, 0x80]),
        [invalid(&[0xe0]), invalid(&[0x80]), invalid(&[0x80])]
    );
    assert_eq!(keys(&[0xed, 0xa0, 0x80])[0], invalid(&[0xed]));
    assert_eq!(keys(&[0xf4, 0x90, 0x80, 0x80])[0], invalid(&[0xf4]));
    // A truncated character, then the byte that cut it.
    assert_eq!(
        keys(&[0xe2, 0x82, b'a']),
        [invalid(&[0xe2, 0x82]), Key::Char('a')]
    );
    assert_eq!(
        keys(&[0xe2, 0x82, 0x1b, b'[', b'A']),
        [invalid(&[0xe2, 0x82]), Key::Up]
    );
}

#[test]
fn sequence_bytes_are_bounded() {
    let long = SequenceBytes::from_slice(&[1; 40]);
    assert_eq!(long.as_slice(), &[1; SEQUENCE_MAX_BYTES]);
    assert_eq!(SequenceBytes::default().as_slice(), b"");
}
