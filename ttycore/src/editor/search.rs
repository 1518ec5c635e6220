//! The editor's incremental reverse search (^R), as in readline: the row
//! shows ``(reverse-i-search)`query': match`` with the cursor at its end.
//! The match is the newest history entry containing the query, no newer
//! than the previous match; before any match the row shows the line being
//! edited.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Editor, Event};
use crate::history::History;
use crate::keys::Key;
use crate::{BELL, LINE_MAX_BYTES, vt};

/// A reverse search in progress.
#[derive(Clone, Debug)]
pub(super) struct Search {
    /// What to look for.
    query: String,
    /// The age of the history entry matched.
    found: Option<usize>,
    /// The line and cursor before the search, for ^G.
    saved_line: String,
    saved_cursor: usize,
}

impl Search {
    /// The text the search shows and Enter would enter.
    fn shown<'a>(&'a self, history: &'a History) -> &'a str {
        self.found
            .and_then(|age| history.get(age))
            .unwrap_or(&self.saved_line)
    }

    /// Draws the search row.
    pub(super) fn render(&self, history: &History, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r(reverse-i-search)`");
        out.extend_from_slice(self.query.as_bytes());
        out.extend_from_slice(b"': ");
        out.extend_from_slice(self.shown(history).as_bytes());
        out.extend_from_slice(vt::ERASE_TO_END);
    }
}

impl Editor {
    /// ^R: starts a search from the newest entry.
    pub(super) fn start_search(&mut self, out: &mut Vec<u8>) {
        let search = Search {
            query: String::new(),
            found: None,
            saved_line: self.line.clone(),
            saved_cursor: self.cursor,
        };
        search.render(&self.history, out);
        self.search = Some(search);
    }

    /// A key during a search; see the editor's module docs.
    pub(super) fn search_key(&mut self, key: Key, out: &mut Vec<u8>) -> Event {
        let Some(search) = self.search.as_mut() else {
            return self.edit_key(key, out);
        };
        match key {
            Key::Char(c) if !c.is_control() => {
                let mut query = search.query.clone();
                query.push(c);
                let from = search.found.unwrap_or(0);
                match self.history.search(&query, from) {
                    Some(age) if query.len() <= LINE_MAX_BYTES => {
                        search.query = query;
                        search.found = Some(age);
                    }
                    _ => out.push(BELL),
                }
            }
            Key::Backspace => {
                search.query.pop();
                search.found = match search.query.is_empty() {
                    true => None,
                    false => self.history.search(&search.query, 0),
                };
            }
            Key::Ctrl('r') => {
                let from = search.found.map_or(0, |age| age.saturating_add(1));
                match self.history.search(&search.query, from) {
                    Some(age) => search.found = Some(age),
                    None => out.push(BELL),
                }
            }
            Key::Ctrl('g') | Key::Escape => {
                self.line = core::mem::take(&mut search.saved_line);
                self.cursor = search.saved_cursor;
                self.search = None;
                self.refresh(out);
                return Event::Editing;
            }
            Key::Enter => {
                // The row shows the prompt and the line entered, as
                // readline leaves it, not the search.
                self.accept_search();
                self.refresh(out);
                return self.submit(out);
            }
            _ => {
                self.accept_search();
                self.refresh(out);
                return self.edit_key(key, out);
            }
        }
        search.render(&self.history, out);
        Event::Editing
    }

    /// Ends the search with its match as the line, the cursor at the end.
    fn accept_search(&mut self) {
        if let Some(search) = self.search.take() {
            self.line = String::from(search.shown(&self.history));
            self.cursor = self.line.len();
            self.browsing = None;
        }
    }
}
