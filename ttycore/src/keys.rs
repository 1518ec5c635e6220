//! The key decoder: bytes from a VT100/xterm terminal to key events.
//!
//! [`KeyDecoder`] is incremental: it keeps a partial character or escape
//! sequence between calls, so a sequence split across reads decodes exactly
//! as in one read. It is what the shell runs over a raw console before its
//! line editor ([`crate::editor`]).
//!
//! - Printable characters, ASCII or UTF-8, give [`Key::Char`]. An invalid
//!   sequence (a stray continuation byte, a bad lead byte, an overlong form,
//!   a surrogate, a truncated character) gives one [`Key::Invalid`] per
//!   maximal invalid piece, with its bytes; the byte that ended a truncated
//!   character is then decoded afresh.
//! - CR and LF give [`Key::Enter`], tab [`Key::Tab`], DEL (0x7f) and ^H
//!   (0x08) [`Key::Backspace`], other control bytes [`Key::Ctrl`] with the
//!   letter or symbol (`'a'` for 0x01, `'@'` for 0x00, `'\\'` for 0x1c).
//! - Escape sequences: `ESC [ A`..`D` and `ESC O A`..`D` (arrows; also with
//!   the parameter 1), `ESC [ H`/`F`, `ESC O H`/`F`, `ESC [ 1 ~`/`7 ~`
//!   (Home), `4 ~`/`8 ~` (End), `2 ~` (Insert), `3 ~` (Delete), `5 ~`/`6 ~`
//!   (Page Up/Down). Any other complete CSI (`ESC [`, parameters,
//!   intermediates, a final byte 0x40..=0x7e) or SS3 (`ESC O` and one byte)
//!   gives [`Key::Unknown`] with its bytes, modified keys (`ESC [ 1 ; 5 C`)
//!   included. A CSI longer than [`SEQUENCE_MAX_BYTES`] is reported once
//!   with its first bytes, and the rest of it is skipped. A sequence cut by
//!   a byte that cannot continue it is reported as unknown and the byte
//!   decoded afresh.
//! - ESC followed by anything else is [`Key::Escape`], then that byte.
//!
//! A lone ESC cannot be told from the start of a sequence until more bytes
//! come: when [`KeyDecoder::is_pending`] stays true for a while (readline
//! waits about 50 ms), call [`KeyDecoder::flush`]. Every byte is accepted;
//! nothing panics and nothing is silently lost except the skipped tail of an
//! over-long sequence.

use alloc::vec::Vec;

use crate::utf8::{is_continuation, sequence_len, valid_second};

/// The most bytes of a sequence a [`Key::Unknown`] or [`Key::Invalid`] keeps.
pub const SEQUENCE_MAX_BYTES: usize = 16;

/// The bytes of an undecoded sequence, at most [`SEQUENCE_MAX_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SequenceBytes {
    /// Bytes used in `bytes`.
    len: u8,
    /// The sequence, from the first byte.
    bytes: [u8; SEQUENCE_MAX_BYTES],
}

impl SequenceBytes {
    /// The sequence's bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// A sequence of `bytes` (its first [`SEQUENCE_MAX_BYTES`] only).
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut sequence = Self::default();
        for &byte in bytes {
            if !sequence.push(byte) {
                break;
            }
        }
        sequence
    }

    /// Appends a byte; false (and no change) when full.
    fn push(&mut self, byte: u8) -> bool {
        match self.bytes.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = byte;
                self.len = self.len.saturating_add(1);
                true
            }
            None => false,
        }
    }

    fn is_full(&self) -> bool {
        usize::from(self.len) >= SEQUENCE_MAX_BYTES
    }

    fn first(&self) -> u8 {
        self.bytes[0]
    }
}

/// A key the user pressed, as the terminal reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A printable character (or, from UTF-8, any non-ASCII scalar value).
    Char(char),
    /// Enter: CR or LF.
    Enter,
    /// Tab.
    Tab,
    /// Backspace: DEL (0x7f) or ^H (0x08).
    Backspace,
    /// A control key: `Ctrl('a')` for 0x01 to `Ctrl('z')` for 0x1a (except
    /// tab, CR, LF and ^H), `'@'`, `'\\'`, `']'`, `'^'`, `'_'` for 0x00 and
    /// 0x1c to 0x1f.
    Ctrl(char),
    /// The Escape key alone.
    Escape,
    /// Up arrow.
    Up,
    /// Down arrow.
    Down,
    /// Left arrow.
    Left,
    /// Right arrow.
    Right,
    /// Home.
    Home,
    /// End.
    End,
    /// Insert.
    Insert,
    /// Delete (forward).
    Delete,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// An escape sequence this decoder does not know, with its bytes.
    Unknown(SequenceBytes),
    /// Bytes that are not valid UTF-8.
    Invalid(SequenceBytes),
}

/// Up to two keys, what one byte can complete; iterate over it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The keys, in order; `None` after the last.
    keys: [Option<Key>; 2],
    /// The next to yield.
    next: usize,
}

impl Decoded {
    fn add(&mut self, key: Option<Key>) {
        if let Some(key) = key
            && let Some(slot) = self.keys.iter_mut().find(|slot| slot.is_none())
        {
            *slot = Some(key);
        }
    }
}

impl Iterator for Decoded {
    type Item = Key;

    fn next(&mut self) -> Option<Key> {
        let key = self.keys.get(self.next).copied().flatten();
        self.next = self.next.saturating_add(1);
        key
    }
}

/// Where the decoder is inside a sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Between keys.
    #[default]
    Ground,
    /// Inside a UTF-8 character of `len` bytes.
    Utf8 { len: usize },
    /// After ESC.
    Escape,
    /// After `ESC [`.
    Csi,
    /// After `ESC O`.
    Ss3,
    /// Skipping the rest of an over-long CSI already reported.
    SkipCsi,
}

/// The incremental decoder; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct KeyDecoder {
    state: State,
    /// The bytes of the sequence in progress.
    pending: SequenceBytes,
}

impl KeyDecoder {
    /// A decoder between keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a sequence is in progress: if no byte comes for a while,
    /// [`KeyDecoder::flush`] it (a lone ESC is the Escape key).
    pub fn is_pending(&self) -> bool {
        !matches!(self.state, State::Ground | State::SkipCsi)
    }

    /// Ends the sequence in progress: a lone ESC gives [`Key::Escape`], a
    /// partial escape sequence [`Key::Unknown`], a partial character
    /// [`Key::Invalid`].
    pub fn flush(&mut self) -> Option<Key> {
        let state = core::mem::take(&mut self.state);
        let pending = core::mem::take(&mut self.pending);
        match state {
            State::Ground | State::SkipCsi => None,
            State::Escape => Some(Key::Escape),
            State::Csi | State::Ss3 => Some(Key::Unknown(pending)),
            State::Utf8 { .. } => Some(Key::Invalid(pending)),
        }
    }

    /// Decodes every byte of `bytes`, appending the keys to `keys`.
    pub fn decode(&mut self, bytes: &[u8], keys: &mut Vec<Key>) {
        for &byte in bytes {
            keys.extend(self.push(byte));
        }
    }

    /// Decodes one byte: none, one or two keys.
    pub fn push(&mut self, byte: u8) -> Decoded {
        let mut decoded = Decoded::default();
        match self.state {
            State::Ground => decoded.add(self.ground(byte)),
            State::Utf8 { len } => {
                let fits = if self.pending.len == 1 {
                    valid_second(self.pending.first(), byte)
                } else {
                    is_continuation(byte)
                };
                if fits {
                    self.pending.push(byte);
                    if usize::from(self.pending.len) == len {
                        decoded.add(Some(self.finish_char()));
                    }
                } else {
                    decoded.add(self.abandon(Key::Invalid));
                    decoded.add(self.ground(byte));
                }
            }
            State::Escape => match byte {
                b'[' => self.enter(State::Csi, byte),
                b'O' => self.enter(State::Ss3, byte),
                _ => {
                    self.state = State::Ground;
                    decoded.add(Some(Key::Escape));
                    decoded.add(self.ground(byte));
                }
            },
            State::Csi => match byte {
                0x20..=0x3f if self.pending.is_full() => {
                    self.state = State::SkipCsi;
                    decoded.add(Some(Key::Unknown(self.pending)));
                }
                0x20..=0x3f => {
                    self.pending.push(byte);
                }
                0x40..=0x7e => {
                    self.state = State::Ground;
                    self.pending.push(byte);
                    decoded.add(Some(csi_key(self.pending)));
                }
                _ => {
                    decoded.add(self.abandon(Key::Unknown));
                    decoded.add(self.ground(byte));
                }
            },
            State::Ss3 => match byte {
                0x20..=0x7e => {
                    self.state = State::Ground;
                    self.pending.push(byte);
                    decoded.add(Some(ss3_key(self.pending)));
                }
                _ => {
                    decoded.add(self.abandon(Key::Unknown));
                    decoded.add(self.ground(byte));
                }
            },
            State::SkipCsi => match byte {
                0x20..=0x3f => {}
                0x40..=0x7e => self.state = State::Ground,
                _ => {
                    self.state = State::Ground;
                    decoded.add(self.ground(byte));
                }
            },
        }
        decoded
    }

    /// Starts the sequence state `state` with `byte` after the ESC.
    fn enter(&mut self, state: State, byte: u8) {
        self.state = state;
        self.pending.push(byte);
    }

    /// Reports the sequence in progress as `kind` and returns to ground.
    fn abandon(&mut self, kind: fn(SequenceBytes) -> Key) -> Option<Key> {
        self.state = State::Ground;
        Some(kind(core::mem::take(&mut self.pending)))
    }

    /// A complete UTF-8 character.
    fn finish_char(&mut self) -> Key {
        self.state = State::Ground;
        let pending = core::mem::take(&mut self.pending);
        let decoded = core::str::from_utf8(pending.as_slice())
            .ok()
            .and_then(|text| text.chars().next());
        match decoded {
            Some(c) => Key::Char(c),
            None => Key::Invalid(pending),
        }
    }

    /// A byte between keys.
    fn ground(&mut self, byte: u8) -> Option<Key> {
        self.pending = SequenceBytes::default();
        match byte {
            0x1b => {
                self.enter(State::Escape, byte);
                None
            }
            b'\r' | b'\n' => Some(Key::Enter),
            b'\t' => Some(Key::Tab),
            0x08 | 0x7f => Some(Key::Backspace),
            0x00..=0x1f => Some(Key::Ctrl(char::from(byte ^ 0x40).to_ascii_lowercase())),
            0x20..=0x7e => Some(Key::Char(char::from(byte))),
            _ => match sequence_len(byte) {
                Some(len) if len > 1 => {
                    self.enter(State::Utf8 { len }, byte);
                    None
                }
                _ => Some(Key::Invalid(SequenceBytes::from_slice(&[byte]))),
            },
        }
    }
}

/// The key a complete CSI sequence (`ESC [ params final`) stands for.
fn csi_key(sequence: SequenceBytes) -> Key {
    let bytes = sequence.as_slice();
    let (params, last) = match bytes.get(2..).and_then(<[u8]>::split_last) {
        Some((&last, params)) => (params, last),
        None => return Key::Unknown(sequence),
    };
    match (params, last) {
        (b"" | b"1", b'A') => Key::Up,
        (b"" | b"1", b'B') => Key::Down,
        (b"" | b"1", b'C') => Key::Right,
        (b"" | b"1", b'D') => Key::Left,
        (b"" | b"1", b'H') | (b"1" | b"7", b'~') => Key::Home,
        (b"" | b"1", b'F') | (b"4" | b"8", b'~') => Key::End,
        (b"2", b'~') => Key::Insert,
        (b"3", b'~') => Key::Delete,
        (b"5", b'~') => Key::PageUp,
        (b"6", b'~') => Key::PageDown,
        _ => Key::Unknown(sequence),
    }
}

/// The key a complete SS3 sequence (`ESC O x`) stands for.
fn ss3_key(sequence: SequenceBytes) -> Key {
    match sequence.as_slice().get(2) {
        Some(b'A') => Key::Up,
        Some(b'B') => Key::Down,
        Some(b'C') => Key::Right,
        Some(b'D') => Key::Left,
        Some(b'H') => Key::Home,
        Some(b'F') => Key::End,
        _ => Key::Unknown(sequence),
    }
}

#[cfg(test)]
mod tests;
