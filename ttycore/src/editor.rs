//! The line editor the shell runs over a raw console (echo off): it turns
//! key events ([`crate::keys`]) into an edited line and into the exact
//! bytes that keep the terminal's screen showing the prompt and the line
//! with the cursor in the right place.
//!
//! Use: [`Editor::begin`] writes the prompt; then for every key,
//! [`Editor::key`] appends terminal output to a buffer and returns an
//! [`Event`]: keep editing, a line entered, a line cancelled (^C), end of
//! file (^D on an empty line), or a completion request (Tab), which the
//! caller answers with [`Editor::complete`]. After a line, a cancel or an
//! end of file the cursor is at the start of a fresh row; call `begin`
//! again for the next line.
//!
//! Keys (readline's, emacs mode):
//!
//! | key | effect |
//! |---|---|
//! | printable character | insert at the cursor |
//! | Left, ^B / Right, ^F | cursor one character left / right |
//! | Home, ^A / End, ^E | cursor to the start / end of the line |
//! | Backspace (DEL, ^H) | erase the character before the cursor |
//! | Delete | erase the character under the cursor |
//! | ^D | on an empty line, end of file; else as Delete |
//! | ^K / ^U | kill (cut) to the end / from the start of the line |
//! | ^W | kill the word before the cursor (spaces, then non-spaces) |
//! | ^Y | yank (paste) the last killed text |
//! | ^L | clear the screen and redraw the prompt and line |
//! | Up, ^P / Down, ^N | older / newer history entry; past the newest, the line being edited comes back |
//! | ^R | incremental reverse search in the history (below) |
//! | ^C | cancel the line (echo `^C`) |
//! | Enter | enter the line (added to the history) |
//! | Tab | completion request |
//!
//! Other keys are ignored. In reverse search, printable characters extend
//! the query (a bell if nothing older matches), Backspace shortens it, ^R
//! finds the next older match, ^G or Escape restore the line from before
//! the search, Enter enters the match, and any other key takes the match
//! into the line and then acts as usual.
//!
//! Screen assumptions: the prompt and the line are plain text of one column
//! per character (control characters in a prompt or a completion are shown
//! as `?`; typed ones are never inserted), and the prompt plus the line fit
//! on one terminal row (no wrapping). Output uses only the sequences of
//! [`crate::vt`]. Refused keys (the line is [`LINE_MAX_BYTES`] long, no
//! older history) ring the bell (0x07).
//!
//! Invariants, whatever the keys: the line is valid UTF-8 without control
//! characters and at most [`LINE_MAX_BYTES`]; the cursor is a character
//! boundary within it.

mod complete;
mod search;

use alloc::string::String;
use alloc::vec::Vec;

use crate::history::{History, clean};
use crate::keys::Key;
use crate::vt::{self, cursor_left, cursor_right};
use crate::{BELL, LINE_MAX_BYTES};

use self::search::Search;

/// What a key did.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Still editing.
    Editing,
    /// Enter: the line entered (also added to the history).
    Line(String),
    /// ^C: the line was abandoned.
    Cancelled,
    /// ^D on an empty line: the user is done.
    EndOfFile,
    /// Tab: complete the word before `cursor` (a byte offset in `line`;
    /// [`Editor::word_start`] says where the word starts), then answer with
    /// [`Editor::complete`].
    Complete {
        /// The line being edited.
        line: String,
        /// The cursor, a byte offset in `line`.
        cursor: usize,
    },
}

/// The line editor; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Editor {
    /// The prompt, cleaned of control characters.
    prompt: String,
    /// The line being edited.
    line: String,
    /// The cursor: a byte offset in `line`, on a character boundary.
    cursor: usize,
    /// Lines entered before.
    history: History,
    /// The history entry shown (its age), while browsing with Up/Down.
    browsing: Option<usize>,
    /// The line being edited before browsing started.
    stash: String,
    /// The reverse search in progress.
    search: Option<Search>,
    /// The text ^K, ^U or ^W killed last, for ^Y.
    killed: String,
}

impl Editor {
    /// An editor with an empty history of the default size.
    pub fn new() -> Self {
        Self::default()
    }

    /// An editor with `history` (for example loaded by the shell).
    pub fn with_history(history: History) -> Self {
        Self {
            history,
            ..Self::default()
        }
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The history, to add or clear entries.
    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    /// The line being edited.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The cursor, a byte offset in [`Editor::line`] on a character boundary.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Starts a new line: writes `prompt` (control characters as `?`) at
    /// the cursor, which should be at the start of a row.
    pub fn begin(&mut self, prompt: &str, out: &mut Vec<u8>) {
        self.prompt = clean(prompt);
        self.reset();
        out.extend_from_slice(self.prompt.as_bytes());
    }

    /// Draws the prompt and the line again on the cursor's row, for example
    /// after the shell printed something over them.
    pub fn redraw(&self, out: &mut Vec<u8>) {
        match &self.search {
            Some(search) => search.render(&self.history, out),
            None => self.refresh(out),
        }
    }

    /// Handles one key: updates the line and appends to `out` what the
    /// terminal needs to show it.
    pub fn key(&mut self, key: Key, out: &mut Vec<u8>) -> Event {
        if self.search.is_some() {
            return self.search_key(key, out);
        }
        self.edit_key(key, out)
    }

    /// A key outside reverse search.
    fn edit_key(&mut self, key: Key, out: &mut Vec<u8>) -> Event {
        match key {
            Key::Char(c) if !c.is_control() => {
                self.insert(c.encode_utf8(&mut [0; 4]), out);
            }
            Key::Enter => return self.submit(out),
            Key::Tab => {
                return Event::Complete {
                    line: self.line.clone(),
                    cursor: self.cursor,
                };
            }
            Key::Backspace | Key::Ctrl('h') => self.backspace(out),
            Key::Delete => self.delete(out),
            Key::Ctrl('d') if self.line.is_empty() => {
                out.extend_from_slice(vt::NEWLINE);
                self.reset();
                return Event::EndOfFile;
            }
            Key::Ctrl('d') => self.delete(out),
            Key::Left | Key::Ctrl('b') => self.left(out),
            Key::Right | Key::Ctrl('f') => self.right(out),
            Key::Home | Key::Ctrl('a') => self.home(out),
            Key::End | Key::Ctrl('e') => self.end(out),
            Key::Ctrl('k') => self.kill_to_end(out),
            Key::Ctrl('u') => self.kill_to_start(out),
            Key::Ctrl('w') => self.kill_word(out),
            Key::Ctrl('y') => self.yank(out),
            Key::Ctrl('l') => {
                out.extend_from_slice(vt::CLEAR_SCREEN);
                self.refresh(out);
            }
            Key::Up | Key::Ctrl('p') => self.older(out),
            Key::Down | Key::Ctrl('n') => self.newer(out),
            Key::Ctrl('r') => self.start_search(out),
            Key::Ctrl('c') => {
                out.extend_from_slice(b"^C\r\n");
                self.reset();
                return Event::Cancelled;
            }
            _ => {}
        }
        Event::Editing
    }

    /// Clears the line and every mode, keeping the prompt and history.
    fn reset(&mut self) {
        self.line.clear();
        self.cursor = 0;
        self.browsing = None;
        self.stash.clear();
        self.search = None;
    }

    /// Enter: the line goes to the history and to the caller.
    fn submit(&mut self, out: &mut Vec<u8>) -> Event {
        out.extend_from_slice(vt::NEWLINE);
        let line = core::mem::take(&mut self.line);
        self.history.add(&line);
        self.reset();
        Event::Line(line)
    }

    /// Redraws the whole row: prompt, line, cursor.
    fn refresh(&self, out: &mut Vec<u8>) {
        out.push(b'\r');
        out.extend_from_slice(self.prompt.as_bytes());
        out.extend_from_slice(self.line.as_bytes());
        out.extend_from_slice(vt::ERASE_TO_END);
        cursor_left(out, columns(self.after_cursor()));
    }

    /// Redraws from the cursor to the end of the row, the cursor staying.
    fn refresh_tail(&self, out: &mut Vec<u8>) {
        let tail = self.after_cursor();
        out.extend_from_slice(tail.as_bytes());
        out.extend_from_slice(vt::ERASE_TO_END);
        cursor_left(out, columns(tail));
    }

    fn before_cursor(&self) -> &str {
        self.line.get(..self.cursor).unwrap_or_default()
    }

    fn after_cursor(&self) -> &str {
        self.line.get(self.cursor..).unwrap_or_default()
    }

    /// Inserts `text` (no control characters) at the cursor; a bell and
    /// false if the line would pass [`LINE_MAX_BYTES`].
    fn insert(&mut self, text: &str, out: &mut Vec<u8>) -> bool {
        if self.line.len().saturating_add(text.len()) > LINE_MAX_BYTES {
            out.push(BELL);
            return false;
        }
        self.line.insert_str(self.cursor, text);
        self.cursor = self.cursor.saturating_add(text.len());
        out.extend_from_slice(text.as_bytes());
        let tail = self.after_cursor();
        if !tail.is_empty() {
            out.extend_from_slice(tail.as_bytes());
            cursor_left(out, columns(tail));
        }
        true
    }

    /// Replaces the line with `text` (no control characters), cursor at the end.
    fn set_line(&mut self, text: String, out: &mut Vec<u8>) {
        self.line = text;
        self.cursor = self.line.len();
        self.refresh(out);
    }

    fn backspace(&mut self, out: &mut Vec<u8>) {
        if let Some(c) = self.before_cursor().chars().next_back() {
            self.cursor = self.cursor.saturating_sub(c.len_utf8());
            self.line.remove(self.cursor);
            cursor_left(out, 1);
            self.refresh_tail(out);
        }
    }

    fn delete(&mut self, out: &mut Vec<u8>) {
        if self.cursor < self.line.len() {
            self.line.remove(self.cursor);
            self.refresh_tail(out);
        }
    }

    fn left(&mut self, out: &mut Vec<u8>) {
        if let Some(c) = self.before_cursor().chars().next_back() {
            self.cursor = self.cursor.saturating_sub(c.len_utf8());
            cursor_left(out, 1);
        }
    }

    fn right(&mut self, out: &mut Vec<u8>) {
        if let Some(c) = self.after_cursor().chars().next() {
            self.cursor = self.cursor.saturating_add(c.len_utf8());
            cursor_right(out, 1);
        }
    }

    fn home(&mut self, out: &mut Vec<u8>) {
        cursor_left(out, columns(self.before_cursor()));
        self.cursor = 0;
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        cursor_right(out, columns(self.after_cursor()));
        self.cursor = self.line.len();
    }

    /// Keeps `text` for ^Y, unless it is empty.
    fn keep_killed(&mut self, text: String) {
        if !text.is_empty() {
            self.killed = text;
        }
    }

    fn kill_to_end(&mut self, out: &mut Vec<u8>) {
        let killed = self.line.split_off(self.cursor);
        self.keep_killed(killed);
        out.extend_from_slice(vt::ERASE_TO_END);
    }

    fn kill_to_start(&mut self, out: &mut Vec<u8>) {
        self.kill_back_to(0, out);
    }

    /// ^W: back over spaces, then over non-spaces.
    fn kill_word(&mut self, out: &mut Vec<u8>) {
        let before = self.before_cursor();
        let word_end = before.trim_end_matches(' ').len();
        let start = before
            .get(..word_end)
            .and_then(|text| text.rfind(' '))
            .map_or(0, |space| space.saturating_add(1));
        self.kill_back_to(start, out);
    }

    /// Kills the text from `start` (a boundary before the cursor) to the cursor.
    fn kill_back_to(&mut self, start: usize, out: &mut Vec<u8>) {
        let Some(killed) = self.line.get(start..self.cursor) else {
            return;
        };
        let killed = String::from(killed);
        self.line.replace_range(start..self.cursor, "");
        self.cursor = start;
        cursor_left(out, columns(&killed));
        self.refresh_tail(out);
        self.keep_killed(killed);
    }

    fn yank(&mut self, out: &mut Vec<u8>) {
        let text = self.killed.clone();
        self.insert(&text, out);
    }

    /// Up: the next older history entry; the line edited so far is kept.
    fn older(&mut self, out: &mut Vec<u8>) {
        let age = self.browsing.map_or(0, |age| age.saturating_add(1));
        let Some(entry) = self.history.get(age).map(String::from) else {
            out.push(BELL);
            return;
        };
        if self.browsing.is_none() {
            self.stash = self.line.clone();
        }
        self.browsing = Some(age);
        self.set_line(entry, out);
    }

    /// Down: the next newer history entry, then the line kept by Up.
    fn newer(&mut self, out: &mut Vec<u8>) {
        match self.browsing {
            None => out.push(BELL),
            Some(0) => {
                self.browsing = None;
                let stash = core::mem::take(&mut self.stash);
                self.set_line(stash, out);
            }
            Some(age) => {
                let newer = age.saturating_sub(1);
                let entry = self.history.get(newer).map(String::from);
                self.browsing = Some(newer);
                self.set_line(entry.unwrap_or_default(), out);
            }
        }
    }
}

/// The columns `text` takes: one per character.
fn columns(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests;
