//! Fuzzes the key decoder and the line editor together, as the shell runs
//! them: arbitrary bytes from a terminal go through `KeyDecoder`, every key
//! into an `Editor` with a small history.
//!
//! Input: the bytes, fed in chunks whose lengths come from the input itself
//! (the first byte of each chunk, modulo 16, is its length), so that
//! sequences split across reads are reached. A zero-length chunk stands for
//! the ESC timeout and flushes the decoder. A completion request is
//! answered with one of a few fixed candidate lists, in turn.
//!
//! Beyond "never panics", checks after every key: the cursor is a character
//! boundary within the line, the line has no control character and is at
//! most `LINE_MAX_BYTES`, the output is UTF-8, an entered line obeys the
//! same rules, and the decoder's undecoded sequences are 1 to
//! `SEQUENCE_MAX_BYTES` long.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttycore::keys::SEQUENCE_MAX_BYTES;
use ttycore::{Editor, Event, Key, KeyDecoder, LINE_MAX_BYTES};

/// Candidate lists for completion requests, used in turn.
const CANDIDATES: &[&[&str]] = &[
    &[],
    &["echo"],
    &["exit", "exec", "env"],
    &["dir/"],
    &["a\nb", "a\x1bc"],
];

fn check_line(line: &str) {
    assert!(line.len() <= LINE_MAX_BYTES);
    assert!(!line.chars().any(char::is_control));
}

fn feed(editor: &mut Editor, key: Key, out: &mut Vec<u8>, completions: &mut usize) {
    if let Key::Unknown(bytes) | Key::Invalid(bytes) = key {
        assert!((1..=SEQUENCE_MAX_BYTES).contains(&bytes.as_slice().len()));
    }
    match editor.key(key, out) {
        Event::Editing => {}
        Event::Complete { line, cursor } => {
            assert_eq!(line, editor.line());
            assert_eq!(cursor, editor.cursor());
            editor.complete(CANDIDATES[*completions % CANDIDATES.len()], out);
            *completions += 1;
        }
        Event::Line(line) => {
            check_line(&line);
            editor.begin("$ ", out);
        }
        Event::Cancelled | Event::EndOfFile => editor.begin("$ ", out),
    }
    let line = editor.line();
    check_line(line);
    assert!(editor.cursor() <= line.len());
    assert!(line.is_char_boundary(editor.cursor()));
    assert!(std::str::from_utf8(out).is_ok());
    out.clear();
}

fuzz_target!(|input: &[u8]| {
    let mut decoder = KeyDecoder::new();
    let mut editor = Editor::new();
    for line in ["echo hi", "ls /", "cat é"] {
        editor.history_mut().add(line);
    }
    let mut out = Vec::new();
    let mut completions = 0;
    editor.begin("$ ", &mut out);
    out.clear();
    let mut rest = input;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len % 16).min(tail.len());
        let (chunk, tail) = tail.split_at(len);
        rest = tail;
        if chunk.is_empty() {
            if let Some(key) = decoder.flush() {
                feed(&mut editor, key, &mut out, &mut completions);
            }
        }
        for &byte in chunk {
            for key in decoder.push(byte) {
                feed(&mut editor, key, &mut out, &mut completions);
            }
        }
    }
});
