//! Tab completion: the editor reports [`Event::Complete`](super::Event)
//! and the caller (the shell, which knows commands and files) answers with
//! candidates for the word before the cursor, each a whole replacement of
//! that word.
//!
//! - No candidate: a bell.
//! - One: it replaces the word, followed by a space unless it ends in `/`
//!   (a directory, to go on typing).
//! - Several: they are listed on the rows under the prompt (two spaces
//!   apart; the first [`LIST_MAX_CANDIDATES`], then how many more), the
//!   prompt and line are drawn again below them, and the word is replaced
//!   by the candidates' longest common prefix when that extends it.
//!
//! Control characters in candidates are shown and inserted as `?`. A
//! replacement that would pass [`LINE_MAX_BYTES`] rings the bell instead.

use alloc::string::String;
use alloc::vec::Vec;

use super::Editor;
use crate::history::clean;
use crate::{BELL, LINE_MAX_BYTES, vt};

/// The most candidates listed.
pub const LIST_MAX_CANDIDATES: usize = 200;

impl Editor {
    /// Where the word before the cursor starts (a byte offset): after the
    /// last space before the cursor, or 0.
    pub fn word_start(&self) -> usize {
        self.before_cursor()
            .rfind(' ')
            .map_or(0, |space| space.saturating_add(1))
    }

    /// Answers a completion request with `candidates`; see the module docs.
    /// Ignored during a reverse search (Tab ends one before it is reported).
    pub fn complete<S: AsRef<str>>(&mut self, candidates: &[S], out: &mut Vec<u8>) {
        if self.search.is_some() {
            return;
        }
        match candidates {
            [] => out.push(BELL),
            [only] => {
                let mut text = clean(only.as_ref());
                if !text.ends_with('/') {
                    text.push(' ');
                }
                self.replace_word(&text, out);
            }
            many => {
                out.extend_from_slice(vt::NEWLINE);
                list(many, out);
                out.extend_from_slice(vt::NEWLINE);
                let prefix = common_prefix(many);
                let word = self
                    .before_cursor()
                    .get(self.word_start()..)
                    .unwrap_or_default();
                let extends = prefix.len() > word.len() && prefix.starts_with(word);
                if !(extends && self.replace_word(&prefix, out)) {
                    self.refresh(out);
                }
            }
        }
    }

    /// Replaces the word before the cursor with `text` and redraws; false
    /// (and a bell) if the line would pass [`LINE_MAX_BYTES`].
    fn replace_word(&mut self, text: &str, out: &mut Vec<u8>) -> bool {
        let start = self.word_start();
        let word_len = self.cursor.saturating_sub(start);
        let new_len = self
            .line
            .len()
            .saturating_sub(word_len)
            .saturating_add(text.len());
        if new_len > LINE_MAX_BYTES {
            out.push(BELL);
            return false;
        }
        self.line.replace_range(start..self.cursor, text);
        self.cursor = start.saturating_add(text.len());
        self.refresh(out);
        true
    }
}

/// Writes the candidates, cleaned, two spaces apart, at most
/// [`LIST_MAX_CANDIDATES`] of them.
fn list<S: AsRef<str>>(candidates: &[S], out: &mut Vec<u8>) {
    for (index, candidate) in candidates.iter().take(LIST_MAX_CANDIDATES).enumerate() {
        if index > 0 {
            out.extend_from_slice(b"  ");
        }
        out.extend_from_slice(clean(candidate.as_ref()).as_bytes());
    }
    let more = candidates.len().saturating_sub(LIST_MAX_CANDIDATES);
    if more > 0 {
        out.extend_from_slice(alloc::format!("  ({more} more)").as_bytes());
    }
}

/// The longest common prefix of the cleaned candidates, whole characters.
fn common_prefix<S: AsRef<str>>(candidates: &[S]) -> String {
    let mut cleaned = candidates.iter().map(|c| clean(c.as_ref()));
    let Some(mut prefix) = cleaned.next() else {
        return String::new();
    };
    for candidate in cleaned {
        let common: usize = prefix
            .chars()
            .zip(candidate.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        prefix.truncate(common);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefixes() {
        assert_eq!(common_prefix(&["echo", "exit", "env"]), "e");
        assert_eq!(common_prefix(&["ls", "lsblk"]), "ls");
        assert_eq!(common_prefix(&["é1", "é2"]), "é");
        // 'é' and 'è' share their first byte, not their first character.
        assert_eq!(common_prefix(&["é", "è"]), "");
        assert_eq!(common_prefix::<&str>(&[]), "");
    }
}
