//! The format of a `list` reply: one record per process, packed.
//!
//! A record is the pid (4 bytes, little-endian), the parent's pid (4),
//! the state (1: [`ProcState`]), the frames its budget is charged (4;
//! `u32::MAX` when the server does not hold its budget), the name's length
//! (1) and the name (UTF-8, at most [`ENTRY_NAME_MAX`] bytes).

use super::Pid;

/// The most bytes of records one reply holds: a reply of 64 words holds a
/// length word, these, and the next cursor.
pub const LIST_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 2) * 8;
/// The longest name in a record.
pub const ENTRY_NAME_MAX: usize = super::NAME_MAX_BYTES;
const FIXED: usize = 4 + 4 + 1 + 4 + 1;

crate::wire_enum! {
    /// A listed process's state.
    pub enum ProcState {
        /// Running.
        Running = 0,
        /// Ended, not yet waited for.
        Ended = 1,
    }
}

/// One listed process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcEntry<'a> {
    /// Its id.
    pub pid: Pid,
    /// Its parent's (1: init).
    pub parent: Pid,
    /// Running or ended.
    pub state: ProcState,
    /// Frames charged to its budget (`u32::MAX`: not known).
    pub frames: u32,
    /// Its name.
    pub name: &'a str,
}

/// Builds the bytes of one `list` reply.
#[derive(Clone, Debug)]
pub struct EntriesWriter {
    bytes: [u8; LIST_MAX_BYTES],
    len: usize,
}

impl Default for EntriesWriter {
    fn default() -> EntriesWriter {
        EntriesWriter {
            bytes: [0; LIST_MAX_BYTES],
            len: 0,
        }
    }
}

impl EntriesWriter {
    /// Appends one record if it fits (a longer name is cut at a character
    /// boundary); `false` if it does not.
    pub fn push(&mut self, entry: &ProcEntry<'_>) -> bool {
        let mut name_len = entry.name.len().min(ENTRY_NAME_MAX);
        while !entry.name.is_char_boundary(name_len) {
            name_len -= 1;
        }
        let end = self.len + FIXED + name_len;
        let Some(out) = self.bytes.get_mut(self.len..end) else {
            return false;
        };
        out[0..4].copy_from_slice(&entry.pid.0.to_le_bytes());
        out[4..8].copy_from_slice(&entry.parent.0.to_le_bytes());
        out[8] = entry.state as u8;
        out[9..13].copy_from_slice(&entry.frames.to_le_bytes());
        out[13] = name_len as u8;
        out[FIXED..].copy_from_slice(&entry.name.as_bytes()[..name_len]);
        self.len = end;
        true
    }

    /// The records so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Reads the records of one reply.
#[derive(Clone, Copy, Debug)]
pub struct Entries<'a> {
    bytes: &'a [u8],
}

impl<'a> Entries<'a> {
    /// The records in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Entries<'a> {
        Entries { bytes }
    }
}

impl<'a> Iterator for Entries<'a> {
    /// A record; `Err(())` ends a malformed reply.
    type Item = Result<ProcEntry<'a>, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.bytes.is_empty() {
            return None;
        }
        let parsed = (|| {
            let fixed = self.bytes.get(..FIXED)?;
            let word = |at: usize| {
                u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
            };
            let state = match fixed[8] {
                0 => ProcState::Running,
                1 => ProcState::Ended,
                _ => return None,
            };
            let len = usize::from(fixed[13]);
            let name = self.bytes.get(FIXED..FIXED + len)?;
            let name = core::str::from_utf8(name).ok()?;
            let entry = ProcEntry {
                pid: Pid(word(0)),
                parent: Pid(word(4)),
                state,
                frames: word(9),
                name,
            };
            Some((entry, FIXED + len))
        })();
        match parsed {
            Some((entry, used)) => {
                self.bytes = &self.bytes[used..];
                Some(Ok(entry))
            }
            None => {
                self.bytes = &[];
                Some(Err(()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_fill_a_reply() {
        let mut writer = EntriesWriter::default();
        let mut pushed = 0u32;
        let long = "a-name-that-is-longer-than-thirty-two-bytes";
        while writer.push(&ProcEntry {
            pid: Pid(pushed + 2),
            parent: Pid(1),
            state: if pushed.is_multiple_of(2) {
                ProcState::Running
            } else {
                ProcState::Ended
            },
            frames: pushed * 7,
            name: if pushed.is_multiple_of(3) { long } else { "sh" },
        }) {
            pushed += 1;
        }
        assert!(pushed > 5);
        let read: Vec<_> = Entries::new(writer.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read.len() as u32, pushed);
        for (i, entry) in read.iter().enumerate() {
            let i = i as u32;
            assert_eq!(entry.pid, Pid(i + 2));
            assert_eq!(entry.frames, i * 7);
            let name = if i.is_multiple_of(3) {
                &long[..ENTRY_NAME_MAX]
            } else {
                "sh"
            };
            assert_eq!(entry.name, name);
        }
    }

    proptest::proptest! {
        /// Any bytes: records or one error, never a panic, never more
        /// records than bytes allow.
        #[test]
        fn any_bytes_decode_or_stop(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut records = 0;
            for entry in Entries::new(&bytes) {
                match entry {
                    Ok(entry) => {
                        records += 1;
                        proptest::prop_assert!(entry.name.len() <= 255);
                    }
                    Err(()) => break,
                }
            }
            proptest::prop_assert!(records <= bytes.len() / FIXED);
        }

        /// Every end survives the wire.
        #[test]
        fn ends_round_trip(tag in 0u8..4, words in proptest::array::uniform4(proptest::num::u64::ANY)) {
            use super::super::End;
            match End::from_wire(tag, words) {
                Some(end) => {
                    let (tag2, words2) = end.to_wire();
                    proptest::prop_assert_eq!(End::from_wire(tag2, words2), Some(end));
                    proptest::prop_assert!(end.shell_status() <= 255);
                }
                None => proptest::prop_assert_eq!(tag, 3),
            }
        }
    }

    #[test]
    fn malformed_records_end_the_listing() {
        for bytes in [
            &[1u8, 2, 3][..],
            &[0; 13],
            &[2, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0],
        ] {
            let mut entries = Entries::new(bytes);
            assert_eq!(entries.next(), Some(Err(())));
            assert_eq!(entries.next(), None);
        }
        // A name that claims more bytes than there are, or is not UTF-8.
        let mut bad = [0u8; FIXED + 2];
        bad[13] = 3;
        assert_eq!(Entries::new(&bad).next(), Some(Err(())));
        bad[13] = 2;
        bad[FIXED] = 0xff;
        bad[FIXED + 1] = 0xff;
        assert_eq!(Entries::new(&bad).next(), Some(Err(())));
    }
}
