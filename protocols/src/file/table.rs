//! The open objects of a file server: ids (the badges of the capabilities
//! it mints), the session each belongs to, and a limit per session, so
//! that one client cannot fill the server's memory with open files.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use abi::startup::CLIENT_BADGE;

/// Open objects of type `T`.
#[derive(Debug)]
pub struct Table<T> {
    objects: BTreeMap<u64, (u32, T)>,
    open_per_session: BTreeMap<u32, u32>,
    next: u64,
    limit: u32,
}

impl<T> Table<T> {
    /// A table allowing `limit` open objects per session.
    pub fn new(limit: u32) -> Table<T> {
        Table {
            objects: BTreeMap::new(),
            open_per_session: BTreeMap::new(),
            next: 1,
            limit,
        }
    }

    /// Adds `value` for `session`; returns its id, never used before and
    /// below `CLIENT_BADGE`.
    ///
    /// # Errors
    /// `value` back when the session holds `limit` objects (or ids ran
    /// out, after 2^63 opens): the caller answers `TooManyOpen`.
    pub fn insert(&mut self, session: u32, value: T) -> Result<u64, T> {
        let open = self.open_per_session.entry(session).or_insert(0);
        if *open >= self.limit || self.next >= CLIENT_BADGE {
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
