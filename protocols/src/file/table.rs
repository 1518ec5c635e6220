//! The open objects of a file server: ids (the badges of the capabilities
//! it mints), the session each belongs to, and a limit per session, so
//! that one client cannot fill the server's memory with open files.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Ids stay below this: bit 62 is `abi::ipc::WATCH_BADGE` and bit 63
/// `CLIENT_BADGE`, which a badge must not be mistaken for.
const ID_END: u64 = abi::ipc::WATCH_BADGE;

/// The largest first id: 2^61, so an instance has at least 2^61 ids.
pub const FIRST_ID_MAX: u64 = 1 << 61;

/// A first id from 64 bits of entropy: a multiple of 2^21 below 2^61, so
/// two instances' ids overlap only if they open 2^21 objects between
/// bases that random draws put that close (about one chance in 2^40).
pub fn first_id(entropy: u64) -> u64 {
    ((entropy % (1 << 40)) << 21).max(1)
}

/// Open objects of type `T`.
#[derive(Debug)]
pub struct Table<T> {
    objects: BTreeMap<u64, (u32, T)>,
    open_per_session: BTreeMap<u32, u32>,
    next: u64,
    limit: u32,
}

impl<T> Table<T> {
    /// A table allowing `limit` open objects per session, whose ids start
    /// at 1.
    pub fn new(limit: u32) -> Table<T> {
        Table::with_first_id(limit, 1)
    }

    /// As [`Table::new`], with ids from `first` (clamped to
    /// `1..=FIRST_ID_MAX`). A server that may be restarted starts each
    /// instance's ids somewhere else ([`first_id`]), so that a capability
    /// a client kept from an earlier instance names no object of this one
    /// (the badge of a stale capability would otherwise name whatever
    /// object now has its number, another client's perhaps).
    pub fn with_first_id(limit: u32, first: u64) -> Table<T> {
        Table {
            objects: BTreeMap::new(),
            open_per_session: BTreeMap::new(),
            next: first.clamp(1, FIRST_ID_MAX),
            limit,
        }
    }

    /// Adds `value` for `session`; returns its id, never used before and
    /// below `WATCH_BADGE` (bit 62).
    ///
    /// # Errors
    /// `value` back when the session holds `limit` objects (or ids ran
    /// out, after 2^63 opens): the caller answers `TooManyOpen`.
    pub fn insert(&mut self, session: u32, value: T) -> Result<u64, T> {
        let open = self.open_per_session.entry(session).or_insert(0);
        if *open >= self.limit || self.next >= ID_END {
            return Err(value);
        }
        *open += 1;
        let id = self.next;
        self.next += 1;
        self.objects.insert(id, (session, value));
        Ok(id)
    }

    /// The object `id` and its session.
    pub fn get_mut(&mut self, id: u64) -> Option<(u32, &mut T)> {
        self.objects
            .get_mut(&id)
            .map(|(session, value)| (*session, value))
    }

    /// The object `id` and its session.
    pub fn get(&self, id: u64) -> Option<(u32, &T)> {
        self.objects
            .get(&id)
            .map(|(session, value)| (*session, value))
    }

    /// Takes the object `id` out.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let (session, value) = self.objects.remove(&id)?;
        if let Some(open) = self.open_per_session.get_mut(&session) {
            *open -= 1;
            if *open == 0 {
                self.open_per_session.remove(&session);
            }
        }
        Some(value)
    }

    /// Takes out every object of `session` (a program that ended).
    pub fn remove_session(&mut self, session: u32) -> Vec<T> {
        let ids: Vec<u64> = self
            .objects
            .iter()
            .filter(|(_, (s, _))| *s == session)
            .map(|(&id, _)| id)
            .collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// How many objects are open.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether no object is open.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_start_their_ids_apart() {
        let mut one: Table<u8> = Table::with_first_id(4, first_id(0x1234_5678_9abc_def0));
        let mut two: Table<u8> = Table::with_first_id(4, first_id(0x0fed_cba9_8765_4321));
        let a = one.insert(1, 0).unwrap();
        let b = two.insert(1, 0).unwrap();
        assert_ne!(a, b);
        assert!(two.get(a).is_none() && one.get(b).is_none());
        for entropy in [0, 1, u64::MAX, 1 << 40, (1 << 40) - 1] {
            let first = first_id(entropy);
            assert!((1..=FIRST_ID_MAX).contains(&first));
            assert!(first < abi::ipc::WATCH_BADGE);
        }
        // Out of range firsts are clamped.
        let mut high: Table<u8> = Table::with_first_id(4, u64::MAX);
        assert_eq!(high.insert(1, 0), Ok(FIRST_ID_MAX));
        let mut zero: Table<u8> = Table::with_first_id(4, 0);
        assert_eq!(zero.insert(1, 0), Ok(1));
    }

    #[test]
    fn ids_are_never_reused_and_sessions_are_limited() {
        let mut table = Table::new(2);
        let a = table.insert(1, 'a').unwrap();
        let b = table.insert(1, 'b').unwrap();
        assert_eq!(table.insert(1, 'c'), Err('c'));
        let other = table.insert(2, 'x').unwrap();
        assert_eq!(table.remove(a), Some('a'));
        assert_eq!(table.remove(a), None);
        let c = table.insert(1, 'c').unwrap();
        assert!(c > other && c != a);
        assert_eq!(table.get(b), Some((1, &'b')));
        assert_eq!(table.remove_session(1), alloc::vec!['b', 'c']);
        assert_eq!(table.len(), 1);
        assert_eq!(table.get(other), Some((2, &'x')));
    }
}
