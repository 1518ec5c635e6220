//! Property tests of the line discipline: any bytes in any mode never
//! panic and stay within the limits; in canonical mode readers get exactly
//! what a simple model of the editing keys says, and the echo keeps the
//! screen showing the pending line.

use proptest::prelude::*;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::screen::Screen;
use crate::LINE_MAX_BYTES;
use crate::ldisc::{Input, LineDiscipline, QUEUE_MAX_BYTES, ReadOutcome, Settings};

fn settings() -> impl Strategy<Value = Settings> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(canonical, echo, signals, output_crlf)| Settings {
            canonical,
            echo,
            signals,
            output_crlf,
        },
    )
}

/// One input character for the model test: ordinary characters (some
/// multibyte, some control) and every editing key.
fn typed() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec!['a', 'b', ' ', 'é', '€', '😀', '\t', '\x01', '\x1b']),
        1 => prop::sample::select(vec!['\r', '\n', '\x7f', '\x08', '\x15', '\x17', '\x04', '\x03', '\x1c']),
    ]
}

/// What readers should get from `input` in cooked mode: each read's bytes,
/// `None` for an end of file.
fn model(input: &[char]) -> Vec<Option<String>> {
    let mut line: Vec<char> = Vec::new();
    let mut reads = Vec::new();
    for &c in input {
        match c {
            '\r' | '\n' => {
                let mut text: String = line.drain(..).collect();
                text.push('\n');
                reads.push(Some(text));
            }
            '\x7f' | '\x08' => {
                line.pop();
            }
            '\x15' | '\x03' | '\x1c' => line.clear(),
            '\x17' => {
                while line.last().is_some_and(|c| *c == ' ' || *c == '\t') {
                    line.pop();
                }
                while line.last().is_some_and(|c| *c != ' ' && *c != '\t') {
                    line.pop();
                }
            }
            '\x04' if line.is_empty() => reads.push(None),
            '\x04' => reads.push(Some(line.drain(..).collect())),
            c => line.push(c),
        }
    }
    reads
}

/// What the screen shows of `line`: control characters as `^X`.
fn shown(line: &[u8]) -> String {
    let text = core::str::from_utf8(line).unwrap();
    let mut out = String::new();
    for c in text.chars() {
        if (c as u32) < 0x20 {
            out.push('^');
            out.push(char::from(c as u8 ^ 0x40));
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_bytes_any_mode_stay_bounded(
        chunks in prop::collection::vec(
            (settings(), prop::collection::vec(any::<u8>(), 0..300), 0usize..64),
            1..20,
        ),
    ) {
        let mut ldisc = LineDiscipline::default();
        let mut echo = Vec::new();
        let mut buf = [0u8; 64];
        for (settings, bytes, read_size) in chunks {
            let _ = ldisc.set_settings(settings);
            for byte in bytes {
                let result = ldisc.input(byte, &mut echo);
                if !settings.echo {
                    prop_assert!(echo.is_empty());
                }
                if result == Input::Refused && settings.echo {
                    prop_assert_eq!(echo.last(), Some(&crate::BELL));
                }
                echo.clear();
                prop_assert!(ldisc.pending_line().len() <= LINE_MAX_BYTES);
                prop_assert!(ldisc.readable_bytes() < QUEUE_MAX_BYTES);
            }
            let before = ldisc.readable_bytes();
            match ldisc.read(&mut buf[..read_size]) {
                ReadOutcome::Bytes(n) => {
                    prop_assert!(n <= read_size);
                    prop_assert_eq!(ldisc.readable_bytes(), before - n);
                }
                ReadOutcome::EndOfFile => prop_assert_eq!(ldisc.readable_bytes(), before),
                ReadOutcome::Empty => prop_assert_eq!(before, 0),
            }
        }
    }

    #[test]
    fn cooked_readers_see_only_what_the_model_says(
        input in prop::collection::vec(typed(), 0..200),
        read_size in 1usize..16,
    ) {
        let mut ldisc = LineDiscipline::new(Settings::COOKED);
        let mut screen = Screen::new();
        let mut base = 0;
        let mut echo = Vec::new();
        for &c in &input {
            for &byte in c.encode_utf8(&mut [0; 4]).as_bytes() {
                let _ = ldisc.input(byte, &mut echo);
            }
            let row_before = screen.row;
            screen.apply(&echo);
            echo.clear();
            if screen.row != row_before {
                // A line ended, or ^C or ^\ moved to a fresh row.
                base = 0;
            }
            if c == '\x04' {
                // ^D hands the line over, leaving it on the screen.
                base = screen.col;
            }
            // The echo never erases more than the line, and the row shows
            // the pending line from where it began.
            prop_assert!(screen.col >= base);
            let row = &screen.rows[screen.row];
            let line: String = row[base..screen.col].iter().collect();
            prop_assert_eq!(line, shown(ldisc.pending_line()));
            prop_assert!(row[screen.col.min(row.len())..].iter().all(|&c| c == ' '));
            if ldisc.pending_line().is_empty() {
                base = screen.col;
            }
        }
        // With a buffer larger than any line, one read per line.
        let mut small = ldisc.clone();
        let mut reads: Vec<Option<String>> = Vec::new();
        let mut buf = vec![0u8; LINE_MAX_BYTES + 1];
        loop {
            match ldisc.read(&mut buf) {
                ReadOutcome::Bytes(n) => reads.push(Some(String::from_utf8(buf[..n].to_vec()).unwrap())),
                ReadOutcome::EndOfFile => reads.push(None),
                ReadOutcome::Empty => break,
            }
        }
        let expected = model(&input);
        prop_assert_eq!(&reads, &expected);
        // With a small buffer, the same bytes and ends of file in parts.
        let mut parts: Vec<Option<Vec<u8>>> = Vec::new();
        let mut buf = vec![0u8; read_size];
        loop {
            match small.read(&mut buf) {
                ReadOutcome::Bytes(n) => {
                    prop_assert!(n > 0);
                    match parts.last_mut() {
                        Some(Some(bytes)) => bytes.extend_from_slice(&buf[..n]),
                        _ => parts.push(Some(buf[..n].to_vec())),
                    }
                }
                ReadOutcome::EndOfFile => parts.push(None),
                ReadOutcome::Empty => break,
            }
        }
        let mut flat: Vec<Option<Vec<u8>>> = Vec::new();
        for read in expected {
            match (read, flat.last_mut()) {
                (Some(text), Some(Some(bytes))) => bytes.extend_from_slice(text.as_bytes()),
                (Some(text), _) => flat.push(Some(text.into_bytes())),
                (None, _) => flat.push(None),
            }
        }
        flat.retain(|part| part.as_ref().is_none_or(|bytes| !bytes.is_empty()));
        prop_assert_eq!(parts, flat);
    }
}
