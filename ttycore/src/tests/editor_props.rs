//! Property tests of the line editor: any keys (and any bytes through the
//! key decoder) keep the line valid and the cursor in it, the screen model
//! always shows the prompt and the line with the cursor in place, and for
//! plain editing keys the line equals a simple model's.

use proptest::prelude::*;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::screen::Screen;
use crate::LINE_MAX_BYTES;
use crate::editor::{Editor, Event};
use crate::keys::{Key, KeyDecoder};

const PROMPT: &str = "mica$ ";

/// Candidate lists the completion requests are answered with, in turn.
const CANDIDATES: &[&[&str]] = &[
    &[],
    &["echo"],
    &["echo", "exit", "env"],
    &["dir/"],
    &["a\tb", "a\nc"],
];

fn editing_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        3 => prop::sample::select(vec!['a', 'b', ' ', 'é', '€', '😀']).prop_map(Key::Char),
        1 => prop::sample::select(vec![
            Key::Left, Key::Right, Key::Home, Key::End, Key::Backspace, Key::Delete,
        ]),
    ]
}

fn any_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        3 => editing_key(),
        2 => prop::sample::select(vec![
            'a', 'b', 'c', 'd', 'e', 'f', 'g', 'k', 'l', 'n', 'p', 'r', 'u', 'w', 'y', 'z',
        ])
        .prop_map(Key::Ctrl),
        1 => prop::sample::select(vec![
            Key::Enter, Key::Tab, Key::Up, Key::Down, Key::Escape, Key::Insert, Key::PageUp,
            Key::Char('\u{85}'),
        ]),
    ]
}

/// Checks the editor's invariants and the screen after one key.
fn check(editor: &Editor, screen: &Screen, in_search: bool) -> Result<(), TestCaseError> {
    let line = editor.line();
    prop_assert!(editor.cursor() <= line.len());
    prop_assert!(line.is_char_boundary(editor.cursor()));
    prop_assert!(line.len() <= LINE_MAX_BYTES);
    prop_assert!(!line.chars().any(char::is_control));
    if in_search {
        prop_assert!(screen.current().starts_with("(reverse-i-search)`"));
        prop_assert_eq!(screen.col, screen.rows[screen.row].len());
    } else {
        prop_assert_eq!(screen.current(), format!("{PROMPT}{line}"));
        let cursor_col = PROMPT.chars().count() + line[..editor.cursor()].chars().count();
        prop_assert_eq!(screen.col, cursor_col);
    }
    Ok(())
}

/// Runs `keys` through an editor with a history, checking after each.
fn run(keys: &[Key]) -> Result<Editor, TestCaseError> {
    let mut editor = Editor::new();
    for line in ["echo hi", "ls", "cat é€"] {
        editor.history_mut().add(line);
    }
    let mut screen = Screen::new();
    let mut out = Vec::new();
    let mut completions = 0;
    editor.begin(PROMPT, &mut out);
    for &key in keys {
        let event = editor.key(key, &mut out);
        match event {
            Event::Editing => {}
            Event::Complete { line, cursor } => {
                prop_assert_eq!(line, editor.line());
                prop_assert_eq!(cursor, editor.cursor());
                let candidates = CANDIDATES[completions % CANDIDATES.len()];
                completions += 1;
                editor.complete(candidates, &mut out);
            }
            Event::Line(_) | Event::Cancelled | Event::EndOfFile => {
                screen.apply(&out);
                out.clear();
                prop_assert_eq!(screen.col, 0);
                prop_assert_eq!(editor.line(), "");
                editor.begin(PROMPT, &mut out);
            }
        }
        screen.apply(&out);
        out.clear();
        let in_search = screen.current().starts_with("(reverse-i-search)");
        check(&editor, &screen, in_search)?;
    }
    Ok(editor)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_keys_keep_screen_and_invariants(keys in prop::collection::vec(any_key(), 0..200)) {
        run(&keys)?;
    }

    #[test]
    fn any_bytes_through_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut decoder = KeyDecoder::new();
        let mut keys = Vec::new();
        decoder.decode(&bytes, &mut keys);
        keys.extend(decoder.flush());
        run(&keys)?;
    }

    #[test]
    fn editing_matches_a_model(keys in prop::collection::vec(editing_key(), 0..200)) {
        let editor = run(&keys)?;
        let mut model: Vec<char> = Vec::new();
        let mut cursor = 0;
        for key in keys {
            match key {
                Key::Char(c) => {
                    model.insert(cursor, c);
                    cursor += 1;
                }
                Key::Left => cursor = cursor.saturating_sub(1),
                Key::Right => cursor = (cursor + 1).min(model.len()),
                Key::Home => cursor = 0,
                Key::End => cursor = model.len(),
                Key::Backspace if cursor > 0 => {
                    cursor -= 1;
                    model.remove(cursor);
                }
                Key::Delete if cursor < model.len() => {
                    model.remove(cursor);
                }
                _ => {}
            }
        }
        let line: String = model.iter().collect();
        prop_assert_eq!(editor.line(), line.as_str());
        prop_assert_eq!(editor.line()[..editor.cursor()].chars().count(), cursor);
    }
}
