//! Property tests of the key decoder: any bytes decode without panic,
//! the same in one chunk, byte by byte or split anywhere, and valid text
//! comes back as its characters.

use proptest::prelude::*;
use std::string::String;
use std::vec;
use std::vec::Vec;

use crate::keys::{Key, KeyDecoder, SEQUENCE_MAX_BYTES};

fn decode_chunks(chunks: &[&[u8]]) -> Vec<Key> {
    let mut decoder = KeyDecoder::new();
    let mut keys = Vec::new();
    for chunk in chunks {
        decoder.decode(chunk, &mut keys);
    }
    keys.extend(decoder.flush());
    keys
}

/// Bytes rich in escape sequences and UTF-8 pieces, not just noise.
fn terminal_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        prop::sample::select(vec![
            &b"\x1b"[..],
            b"\x1b[",
            b"\x1bO",
            b"\x1b[3~",
            b"\x1b[1;5C",
            b"\x1b[A",
            b"\x1bOH",
            b"1",
            b";",
            b"~",
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            &[0xe2],
            &[0xf0, 0x9f],
        ])
        .prop_map(|s| s.to_vec()),
    ];
    prop::collection::vec(piece, 0..100).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn chunking_does_not_matter(bytes in terminal_bytes(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let whole = decode_chunks(&[&bytes]);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(&decode_chunks(&singles), &whole);
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for point in points {
            pieces.push(&bytes[start..point]);
            start = point;
        }
        pieces.push(&bytes[start..]);
        prop_assert_eq!(decode_chunks(&pieces), whole.clone());
        for key in whole {
            if let Key::Unknown(seq) | Key::Invalid(seq) = key {
                prop_assert!(!seq.as_slice().is_empty());
                prop_assert!(seq.as_slice().len() <= SEQUENCE_MAX_BYTES);
            }
        }
    }

    #[test]
    fn text_decodes_to_its_characters(text in "[^\\x00-\\x1f\\x7f]{0,50}") {
        let keys = decode_chunks(&[text.as_bytes()]);
        let expected: Vec<Key> = text.chars().map(Key::Char).collect();
        prop_assert_eq!(keys, expected);
    }

    #[test]
    fn invalid_bytes_are_reported_not_lost(bytes in prop::collection::vec(0x80u8..=0xff, 0..50)) {
        // High bytes only: every byte is in a Char or in an Invalid.
        let keys = decode_chunks(&[&bytes]);
        let mut seen = Vec::new();
        for key in keys {
            match key {
                Key::Char(c) => seen.extend_from_slice(String::from(c).as_bytes()),
                Key::Invalid(seq) => seen.extend_from_slice(seq.as_slice()),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(seen, bytes);
    }
}
