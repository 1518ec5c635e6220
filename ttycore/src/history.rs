//! The line editor's history: the last lines entered, newest first.
//!
//! Bounded ([`HISTORY_DEFAULT_ENTRIES`] by default): adding a line to a
//! full history drops the oldest. Empty lines and a line equal to the newest
//! entry are not added. Entries hold no control characters (each becomes
//! `?`) and at most [`LINE_MAX_BYTES`], so whatever the shell loads into the
//! history can be shown and edited.

use alloc::collections::VecDeque;
use alloc::string::String;

use crate::LINE_MAX_BYTES;

/// How many lines a history keeps by default.
pub const HISTORY_DEFAULT_ENTRIES: usize = 100;

/// A bounded list of lines; age 0 is the newest.
#[derive(Clone, Debug)]
pub struct History {
    /// Newest at the front.
    entries: VecDeque<String>,
    /// The most entries kept.
    capacity: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(HISTORY_DEFAULT_ENTRIES)
    }
}

impl History {
    /// An empty history of at most `capacity` entries (0 keeps none).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// Adds `line` as the newest entry, cleaned as the module docs say;
    /// false when it is empty or equal to the newest entry.
    pub fn add(&mut self, line: &str) -> bool {
        let line = clean(line);
        if self.capacity == 0 || line.is_empty() || self.entries.front() == Some(&line) {
            return false;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_back();
        }
        self.entries.push_front(line);
        true
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry `age` lines back (0 is the newest).
    pub fn get(&self, age: usize) -> Option<&str> {
        self.entries.get(age).map(String::as_str)
    }

    /// The entries, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }

    /// The age of the newest entry no newer than `from_age` that contains
    /// `query`.
    pub fn search(&self, query: &str, from_age: usize) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .skip(from_age)
            .find(|(_, entry)| entry.contains(query))
            .map(|(age, _)| age)
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// `text` with control characters as `?`, cut to [`LINE_MAX_BYTES`] at a
/// character boundary.
pub(crate) fn clean(text: &str) -> String {
    let mut cleaned = String::new();
    for c in text.chars() {
        let c = if c.is_control() { '?' } else { c };
        if cleaned.len().saturating_add(c.len_utf8()) > LINE_MAX_BYTES {
            break;
        }
        cleaned.push(c);
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn newest_first_and_bounded() {
        let mut history = History::new(3);
        for line in ["a", "b", "c", "d"] {
            assert!(history.add(line));
        }
        assert_eq!(history.iter().collect::<Vec<_>>(), ["d", "c", "b"]);
        assert_eq!(history.get(0), Some("d"));
        assert_eq!(history.get(3), None);
        assert_eq!(history.len(), 3);
    }

    #[test]
    fn no_empty_or_consecutive_duplicates() {
        let mut history = History::default();
        assert!(!history.add(""));
        assert!(history.add("ls"));
        assert!(!history.add("ls"));
        assert!(history.add("pwd"));
        assert!(history.add("ls"));
        assert_eq!(history.iter().collect::<Vec<_>>(), ["ls", "pwd", "ls"]);
    }

    #[test]
    fn default_keeps_a_hundred() {
        let mut history = History::default();
        for n in 0..150 {
            history.add(&alloc::format!("line {n}"));
        }
        assert_eq!(history.len(), HISTORY_DEFAULT_ENTRIES);
        assert_eq!(history.get(99), Some("line 50"));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut history = History::new(0);
        assert!(!history.add("x"));
        assert!(history.is_empty());
    }

    #[test]
    fn entries_are_cleaned() {
        let mut history = History::default();
        history.add("a\tb\x1b[Ac");
        assert_eq!(history.get(0), Some("a?b?[Ac"));
        let long: String = core::iter::repeat_n('é', LINE_MAX_BYTES).collect();
        history.add(&long);
        assert_eq!(history.get(0).map(str::len), Some(LINE_MAX_BYTES));
        history.clear();
        assert!(history.is_empty());
    }

    #[test]
    fn search_from_an_age() {
        let mut history = History::default();
        for line in ["cat a", "ls", "cat b"] {
            history.add(line);
        }
        assert_eq!(history.search("cat", 0), Some(0));
        assert_eq!(history.search("cat", 1), Some(2));
        assert_eq!(history.search("cat", 3), None);
        assert_eq!(history.search("zz", 0), None);
        assert_eq!(history.search("", 1), Some(1));
    }
}
