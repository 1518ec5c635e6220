//! Unit tests of the line editor: each key's line, cursor and output.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::tests::screen::Screen;

/// An editor after `begin("> ")`, with a screen model fed its output.
struct Term {
    editor: Editor,
    screen: Screen,
    /// The output of the last `keys` call.
    out: Vec<u8>,
}

impl Term {
    fn new() -> Self {
        Self::with_history(&[])
    }

    /// With `lines` in the history, oldest first.
    fn with_history(lines: &[&str]) -> Self {
        let mut editor = Editor::new();
        for line in lines {
            editor.history_mut().add(line);
        }
        let mut out = Vec::new();
        editor.begin("> ", &mut out);
        let mut screen = Screen::new();
        screen.apply(&out);
        Self {
            editor,
            screen,
            out,
        }
    }

    /// Sends `keys`, returning the last event.
    fn keys(&mut self, keys: &[Key]) -> Event {
        self.out.clear();
        let mut event = Event::Editing;
        for &key in keys {
            event = self.editor.key(key, &mut self.out);
        }
        self.screen.apply(&self.out);
        event
    }

    fn type_text(&mut self, text: &str) {
        let keys: Vec<Key> = text.chars().map(Key::Char).collect();
        assert_eq!(self.keys(&keys), Event::Editing);
    }

    /// Asserts the line, the cursor (in characters) and that the screen
    /// shows them.
    fn assert_line(&self, line: &str, cursor_chars: usize) {
        assert_eq!(self.editor.line(), line);
        let cursor = line
            .char_indices()
            .nth(cursor_chars)
            .map_or(line.len(), |(at, _)| at);
        assert_eq!(self.editor.cursor(), cursor);
        assert_eq!(self.screen.current(), alloc::format!("> {line}"));
        assert_eq!(self.screen.col, 2 + cursor_chars);
    }
}

#[test]
fn begin_writes_the_prompt_cleaned() {
    let mut editor = Editor::new();
    let mut out = Vec::new();
    editor.begin("a\x1b[31mb$ ", &mut out);
    assert_eq!(out, b"a?[31mb$ ");
}

#[test]
fn typing_at_the_end_writes_just_the_characters() {
    let mut term = Term::new();
    term.type_text("hé😀");
    assert_eq!(term.out, "hé😀".as_bytes());
    term.assert_line("hé😀", 3);
}

#[test]
fn control_characters_are_not_inserted() {
    let mut term = Term::new();
    assert_eq!(
        term.keys(&[Key::Char('\u{85}'), Key::Char('\u{7}')]),
        Event::Editing
    );
    assert!(term.out.is_empty());
    term.assert_line("", 0);
}

#[test]
fn left_right_and_insert_in_the_middle() {
    let mut term = Term::new();
    term.type_text("ac");
    let _ = term.keys(&[Key::Left]);
    assert_eq!(term.out, b"\x1b[1D");
    term.type_text("b");
    assert_eq!(term.out, b"bc\x1b[1D");
    term.assert_line("abc", 2);
    let _ = term.keys(&[Key::Right, Key::Right, Key::Ctrl('b'), Key::Ctrl('f')]);
    term.assert_line("abc", 3);
    let _ = term.keys(&[Key::Right]);
    assert!(term.out.is_empty());
}

#[test]
fn home_end_and_ctrl_a_e() {
    let mut term = Term::new();
    term.type_text("héllo");
    let _ = term.keys(&[Key::Home]);
    assert_eq!(term.out, b"\x1b[5D");
    term.assert_line("héllo", 0);
    let _ = term.keys(&[Key::End]);
    assert_eq!(term.out, b"\x1b[5C");
    let _ = term.keys(&[Key::Ctrl('a')]);
    term.assert_line("héllo", 0);
    let _ = term.keys(&[Key::Ctrl('e')]);
    term.assert_line("héllo", 5);
    let _ = term.keys(&[Key::Home, Key::Home, Key::Left]);
    term.assert_line("héllo", 0);
}

#[test]
fn backspace_erases_before_the_cursor() {
    let mut term = Term::new();
    term.type_text("a€c");
    let _ = term.keys(&[Key::Left, Key::Backspace]);
    assert_eq!(term.out, b"\x1b[1D\x1b[1Dc\x1b[K\x1b[1D");
    term.assert_line("ac", 1);
    let _ = term.keys(&[Key::Backspace, Key::Backspace]);
    term.assert_line("c", 0);
}

#[test]
fn delete_and_ctrl_d_erase_under_the_cursor() {
    let mut term = Term::new();
    term.type_text("abc");
    let _ = term.keys(&[Key::Home, Key::Delete]);
    term.assert_line("bc", 0);
    assert_eq!(term.keys(&[Key::Ctrl('d')]), Event::Editing);
    term.assert_line("c", 0);
    let _ = term.keys(&[Key::End, Key::Delete]);
    term.assert_line("c", 1);
}

#[test]
fn ctrl_d_on_an_empty_line_is_end_of_file() {
    let mut term = Term::new();
    assert_eq!(term.keys(&[Key::Ctrl('d')]), Event::EndOfFile);
    assert_eq!(term.out, b"\r\n");
    // Not when the line has text, even with the cursor at its start.
    let mut term = Term::new();
    term.type_text("x");
    assert_eq!(term.keys(&[Key::Left, Key::Ctrl('d')]), Event::Editing);
    assert_eq!(term.keys(&[Key::Ctrl('d')]), Event::EndOfFile);
}

#[test]
fn enter_reports_the_line_and_keeps_it_in_history() {
    let mut term = Term::new();
    term.type_text("ls -l");
    let _ = term.keys(&[Key::Home]);
    assert_eq!(term.keys(&[Key::Enter]), Event::Line(String::from("ls -l")));
    assert_eq!(term.out, b"\r\n");
    assert_eq!(term.editor.line(), "");
    assert_eq!(term.editor.history().get(0), Some("ls -l"));
    // An empty line is reported but not kept.
    assert_eq!(term.keys(&[Key::Enter]), Event::Line(String::new()));
    assert_eq!(term.editor.history().len(), 1);
}

#[test]
fn ctrl_c_cancels_the_line() {
    let mut term = Term::new();
    term.type_text("oops");
    assert_eq!(term.keys(&[Key::Ctrl('c')]), Event::Cancelled);
    assert_eq!(term.out, b"^C\r\n");
    assert_eq!(term.editor.line(), "");
    assert!(term.editor.history().is_empty());
}

#[test]
fn ctrl_k_kills_to_the_end_and_ctrl_y_yanks() {
    let mut term = Term::new();
    term.type_text("echo hi");
    let _ = term.keys(&[Key::Left, Key::Left, Key::Ctrl('k')]);
    assert_eq!(term.out, b"\x1b[1D\x1b[1D\x1b[K");
    term.assert_line("echo ", 5);
    let _ = term.keys(&[Key::Home, Key::Ctrl('y')]);
    term.assert_line("hiecho ", 2);
}

#[test]
fn ctrl_u_kills_to_the_start() {
    let mut term = Term::new();
    term.type_text("abcdef");
    let _ = term.keys(&[Key::Left, Key::Left, Key::Ctrl('u')]);
    term.assert_line("ef", 0);
    let _ = term.keys(&[Key::End, Key::Ctrl('y')]);
    term.assert_line("efabcd", 6);
}

#[test]
fn ctrl_w_kills_the_word_before_the_cursor() {
    let mut term = Term::new();
    term.type_text("cat  foo bär  ");
    let _ = term.keys(&[Key::Ctrl('w')]);
    term.assert_line("cat  foo ", 9);
    let _ = term.keys(&[Key::Ctrl('w')]);
    term.assert_line("cat  ", 5);
    let _ = term.keys(&[Key::Ctrl('w'), Key::Ctrl('w')]);
    term.assert_line("", 0);
    // Nothing killed: the kill buffer keeps "cat  ".
    let _ = term.keys(&[Key::Ctrl('y')]);
    term.assert_line("cat  ", 5);
}

#[test]
fn ctrl_l_clears_and_redraws() {
    let mut term = Term::new();
    term.type_text("abc");
    let _ = term.keys(&[Key::Left]);
    let _ = term.keys(&[Key::Ctrl('l')]);
    assert_eq!(term.out, b"\x1b[H\x1b[2J\r> abc\x1b[K\x1b[1D");
    assert_eq!(term.screen.row, 0);
    term.assert_line("abc", 2);
}

#[test]
fn up_and_down_browse_history_keeping_the_edited_line() {
    let mut term = Term::with_history(&["one", "two", "three"]);
    term.type_text("dra");
    let _ = term.keys(&[Key::Up]);
    term.assert_line("three", 5);
    let _ = term.keys(&[Key::Up, Key::Ctrl('p')]);
    term.assert_line("one", 3);
    // Past the oldest: a bell, no change.
    let _ = term.keys(&[Key::Up]);
    assert_eq!(term.out, [BELL]);
    term.assert_line("one", 3);
    let _ = term.keys(&[Key::Down, Key::Ctrl('n')]);
    term.assert_line("three", 5);
    let _ = term.keys(&[Key::Down]);
    term.assert_line("dra", 3);
    let _ = term.keys(&[Key::Down]);
    assert_eq!(term.out, [BELL]);
}

#[test]
fn up_with_an_empty_history_rings() {
    let mut term = Term::new();
    let _ = term.keys(&[Key::Up]);
    assert_eq!(term.out, [BELL]);
}

#[test]
fn a_recalled_line_can_be_edited_and_entered() {
    let mut term = Term::with_history(&["ls"]);
    let _ = term.keys(&[Key::Up]);
    term.type_text(" /");
    assert_eq!(term.keys(&[Key::Enter]), Event::Line(String::from("ls /")));
    assert_eq!(
        term.editor.history().iter().collect::<Vec<_>>(),
        ["ls /", "ls"]
    );
    // Entering the newest again adds nothing.
    let _ = term.keys(&[Key::Up, Key::Enter]);
    assert_eq!(term.editor.history().len(), 2);
}

#[test]
fn reverse_search_finds_older_matches() {
    let mut term = Term::with_history(&["cat a", "ls", "cat b"]);
    term.type_text("x");
    let _ = term.keys(&[Key::Ctrl('r')]);
    assert_eq!(term.screen.current(), "(reverse-i-search)`': x");
    let _ = term.keys(&[Key::Char('c'), Key::Char('a')]);
    assert_eq!(term.screen.current(), "(reverse-i-search)`ca': cat b");
    let _ = term.keys(&[Key::Ctrl('r')]);
    assert_eq!(term.screen.current(), "(reverse-i-search)`ca': cat a");
    // No older match: a bell, the match stays.
    let _ = term.keys(&[Key::Ctrl('r')]);
    assert_eq!(term.out.first(), Some(&BELL));
    let _ = term.keys(&[Key::Char('z')]);
    assert_eq!(term.screen.current(), "(reverse-i-search)`ca': cat a");
    // Backspace shortens the query and searches again from the newest.
    let _ = term.keys(&[Key::Backspace]);
    assert_eq!(term.screen.current(), "(reverse-i-search)`c': cat b");
    assert_eq!(term.keys(&[Key::Enter]), Event::Line(String::from("cat b")));
    // The entered row shows the prompt and the line, not the search.
    assert_eq!(
        term.screen.rows[term.screen.row - 1],
        "> cat b".chars().collect::<Vec<_>>()
    );
}

#[test]
fn reverse_search_other_keys_take_the_match() {
    let mut term = Term::with_history(&["echo hi"]);
    let _ = term.keys(&[Key::Ctrl('r'), Key::Char('h'), Key::Home]);
    term.assert_line("echo hi", 0);
    let _ = term.keys(&[
        Key::Ctrl('r'),
        Key::Char('e'),
        Key::Char('c'),
        Key::Char('x'),
    ]);
    let _ = term.keys(&[Key::Left]);
    term.assert_line("echo hi", 6);
}

#[test]
fn reverse_search_ctrl_g_restores_the_line() {
    let mut term = Term::with_history(&["echo hi"]);
    term.type_text("draft");
    let _ = term.keys(&[Key::Left, Key::Ctrl('r'), Key::Char('e'), Key::Ctrl('g')]);
    term.assert_line("draft", 4);
    let _ = term.keys(&[Key::Ctrl('r'), Key::Escape]);
    term.assert_line("draft", 4);
}

#[test]
fn tab_requests_completion_with_line_and_cursor() {
    let mut term = Term::new();
    term.type_text("cat fo bar");
    let _ = term.keys(&[Key::Left, Key::Left, Key::Left, Key::Left]);
    let event = term.keys(&[Key::Tab]);
    assert_eq!(
        event,
        Event::Complete {
            line: String::from("cat fo bar"),
            cursor: 6
        }
    );
    assert_eq!(term.editor.word_start(), 4);
}

#[test]
fn one_candidate_is_inserted_with_a_space() {
    let mut term = Term::new();
    term.type_text("cat fo bar");
    let _ = term.keys(&[Key::Left, Key::Left, Key::Left, Key::Left, Key::Tab]);
    term.out.clear();
    term.editor.complete(&["foo.txt"], &mut term.out);
    term.screen.apply(&term.out);
    term.assert_line("cat foo.txt  bar", 12);
}

#[test]
fn a_directory_candidate_gets_no_space() {
    let mut term = Term::new();
    term.type_text("ls sr");
    let _ = term.keys(&[Key::Tab]);
    term.out.clear();
    term.editor.complete(&["src/"], &mut term.out);
    term.screen.apply(&term.out);
    term.assert_line("ls src/", 7);
}

#[test]
fn no_candidate_rings() {
    let mut term = Term::new();
    term.type_text("zz");
    term.out.clear();
    term.editor.complete::<&str>(&[], &mut term.out);
    assert_eq!(term.out, [BELL]);
    term.assert_line("zz", 2);
}

#[test]
fn several_candidates_are_listed_and_the_common_prefix_inserted() {
    let mut term = Term::new();
    term.type_text("e");
    term.out.clear();
    term.editor
        .complete(&["exit", "exec", "ex\tra"], &mut term.out);
    term.screen.apply(&term.out);
    assert_eq!(
        term.screen.rows[1].iter().collect::<String>(),
        "exit  exec  ex?ra"
    );
    assert_eq!(term.screen.row, 2);
    term.assert_line("ex", 2);
    // No longer common prefix: listed again, the line unchanged.
    term.out.clear();
    term.editor.complete(&["exit", "exec"], &mut term.out);
    term.screen.apply(&term.out);
    term.assert_line("ex", 2);
}

#[test]
fn many_candidates_are_listed_up_to_a_limit() {
    let mut term = Term::new();
    let names: Vec<String> = (0..250).map(|n| alloc::format!("f{n}")).collect();
    term.out.clear();
    term.editor.complete(&names, &mut term.out);
    term.screen.apply(&term.out);
    let listed: String = term.screen.rows[1].iter().collect();
    assert!(listed.ends_with("f199  (50 more)"));
    term.assert_line("f", 1);
}

#[test]
fn the_line_limit_rings() {
    let mut term = Term::new();
    let long: String = core::iter::repeat_n('x', LINE_MAX_BYTES - 1).collect();
    term.type_text(&long);
    let _ = term.keys(&[Key::Char('é')]);
    assert_eq!(term.out, [BELL]);
    let _ = term.keys(&[Key::Char('y')]);
    assert_eq!(term.editor.line().len(), LINE_MAX_BYTES);
    // Yank and completion refuse too.
    let _ = term.keys(&[Key::Ctrl('w'), Key::Char('a'), Key::Ctrl('y')]);
    assert_eq!(term.out.last(), Some(&BELL));
    assert_eq!(term.editor.line(), "a");
    let mut term = Term::new();
    let long: String = core::iter::repeat_n('x', LINE_MAX_BYTES - 2).collect();
    term.type_text(&long);
    term.type_text(" a");
    term.out.clear();
    term.editor.complete(&["abc"], &mut term.out);
    assert_eq!(term.out, [BELL]);
    assert!(term.editor.line().ends_with(" a"));
}

#[test]
fn ignored_keys_write_nothing() {
    let mut term = Term::new();
    term.type_text("a");
    let ignored = [
        Key::Escape,
        Key::Insert,
        Key::PageUp,
        Key::PageDown,
        Key::Ctrl('z'),
        Key::Unknown(crate::keys::SequenceBytes::from_slice(b"\x1b[15~")),
        Key::Invalid(crate::keys::SequenceBytes::from_slice(&[0xff])),
    ];
    assert_eq!(term.keys(&ignored), Event::Editing);
    assert!(term.out.is_empty());
    term.assert_line("a", 1);
}

#[test]
fn redraw_draws_the_row_again() {
    let mut term = Term::new();
    term.type_text("abc");
    let _ = term.keys(&[Key::Left]);
    let mut out = Vec::new();
    term.editor.redraw(&mut out);
    assert_eq!(out, b"\r> abc\x1b[K\x1b[1D");
}
