//! A worker's capability pool: the slots of its own capability space it
//! learned from syscalls that filled them, with what it believes they
//! hold. Random slot arguments are drawn from here, so they name live
//! capabilities of every type, and also revoked, deleted and moved-away
//! ones (the entries stay after the capability went).
//!
//! The beliefs are a model, not the truth: another worker may delete or
//! reuse a slot behind this one's back. The model only steers the choice
//! of arguments (and keeps blocking calls bounded); nothing depends on it
//! being right.

use abi::{ObjectType, Rights};

use super::rng::Rng;

/// Entries a pool holds.
pub const CAPACITY: usize = 48;

/// What the pool believes a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// A capability, as created, copied or received.
    Live,
    /// Its capability (or one it derived from) was revoked.
    Revoked,
    /// Deleted, or moved to another slot or space.
    Deleted,
}

/// One slot the worker knows.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The slot in the child's capability space.
    pub slot: u32,
    /// The object type, if known.
    pub kind: Option<ObjectType>,
    /// The rights, if known.
    pub rights: Option<Rights>,
    /// What the pool believes.
    pub state: State,
    /// The slot it was derived from (0: none known).
    pub parent: u32,
}

/// A worker's pool.
pub struct Pool {
    entries: [Entry; CAPACITY],
    len: usize,
}

impl Pool {
    /// An empty pool.
    pub const fn new() -> Pool {
        const EMPTY: Entry = Entry {
            slot: 0,
            kind: None,
            rights: None,
            state: State::Deleted,
            parent: 0,
        };
        Pool {
            entries: [EMPTY; CAPACITY],
            len: 0,
        }
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries[..self.len]
    }

    /// Whether a new entry needs room first.
    pub fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Records that `slot` now holds a capability (replacing what the pool
    /// believed of that slot). The caller makes room first.
    pub fn add(
        &mut self,
        slot: u32,
        kind: Option<ObjectType>,
        rights: Option<Rights>,
        parent: u32,
    ) {
        let entry = Entry {
            slot,
            kind,
            rights,
            state: State::Live,
            parent,
        };
        if let Some(existing) = self.entries[..self.len].iter_mut().find(|e| e.slot == slot) {
            *existing = entry;
        } else if self.len < CAPACITY {
            self.entries[self.len] = entry;
            self.len += 1;
        }
    }

    /// An entry to drop for room: a dead one if three tries find one.
    pub fn victim(&self, rng: &mut Rng) -> usize {
        let mut index = rng.below(self.len as u64) as usize;
        for _ in 0..3 {
            if self.entries[index].state != State::Live {
                break;
            }
            index = rng.below(self.len as u64) as usize;
        }
        index
    }

    /// Drops entry `index`.
    pub fn remove(&mut self, index: usize) {
        if index < self.len {
            self.len -= 1;
            self.entries[index] = self.entries[self.len];
        }
    }

    /// Entry `index`.
    pub fn get(&self, index: usize) -> Entry {
        self.entries[index]
    }

    /// The entry for `slot`.
    pub fn find(&self, slot: u64) -> Option<Entry> {
        self.entries()
            .iter()
            .find(|e| u64::from(e.slot) == slot)
            .copied()
    }

    /// Any entry.
    pub fn pick_any(&self, rng: &mut Rng) -> Option<Entry> {
        if self.len == 0 {
            return None;
        }
        Some(self.entries[rng.below(self.len as u64) as usize])
    }

    /// An entry believed to be of `kind`: a live one 85 times in a
    /// hundred when there is one.
    pub fn pick_kind(&self, rng: &mut Rng, kind: ObjectType) -> Option<Entry> {
        let live = rng.chance(85);
        let matches = |e: &&Entry| e.kind == Some(kind) && (!live || e.state == State::Live);
        let count = self.entries().iter().filter(matches).count();
        if count == 0 {
            return if live {
                self.pick_kind_any_state(rng, kind)
            } else {
                None
            };
        }
        let chosen = rng.below(count as u64) as usize;
        self.entries().iter().filter(matches).nth(chosen).copied()
    }

    fn pick_kind_any_state(&self, rng: &mut Rng, kind: ObjectType) -> Option<Entry> {
        let count = self
            .entries()
            .iter()
            .filter(|e| e.kind == Some(kind))
            .count();
        if count == 0 {
            return None;
        }
        let chosen = rng.below(count as u64) as usize;
        self.entries()
            .iter()
            .filter(|e| e.kind == Some(kind))
            .nth(chosen)
            .copied()
    }

    /// A live entry of `kind` with at least `rights` (as far as known).
    pub fn live_with(&self, rng: &mut Rng, kind: ObjectType, rights: Rights) -> Option<Entry> {
        let ok = |e: &&Entry| {
            e.kind == Some(kind)
                && e.state == State::Live
                && e.rights.is_none_or(|r| r.contains(rights))
        };
        let count = self.entries().iter().filter(ok).count();
        if count == 0 {
            return None;
        }
        let chosen = rng.below(count as u64) as usize;
        self.entries().iter().filter(ok).nth(chosen).copied()
    }

    /// `slot` was emptied: its entry is dead, and what derived from it
    /// now derives from its parent (as in the kernel).
    pub fn deleted(&mut self, slot: u64) {
        let mut parent = 0;
        for e in self.entries[..self.len].iter_mut() {
            if u64::from(e.slot) == slot {
                e.state = State::Deleted;
                parent = e.parent;
            }
        }
        for e in self.entries[..self.len].iter_mut() {
            if u64::from(e.parent) == slot && slot != 0 {
                e.parent = parent;
            }
        }
    }

    /// Every capability in the `count` slots from `first` was deleted
    /// (`CapDeleteRange`).
    pub fn deleted_range(&mut self, first: u64, count: u64) {
        let end = first.saturating_add(count);
        for i in 0..self.len {
            let slot = u64::from(self.entries[i].slot);
            if (first..end).contains(&slot) && self.entries[i].state == State::Live {
                self.deleted(slot);
            }
        }
    }

    /// The capability in `slot` moved to `to` (0: to another space).
    pub fn moved(&mut self, slot: u64, to: u64) {
        if to == 0 {
            for e in self.entries[..self.len].iter_mut() {
                if u64::from(e.slot) == slot {
                    e.state = State::Deleted;
                }
            }
            return;
        }
        let Some(mut entry) = self.find(slot) else {
            return;
        };
        self.deleted(slot);
        entry.slot = to as u32;
        entry.state = State::Live;
        self.add(entry.slot, entry.kind, entry.rights, entry.parent);
        for e in self.entries[..self.len].iter_mut() {
            if u64::from(e.parent) == slot {
                e.parent = to as u32;
            }
        }
    }

    /// `slot` (and what derives from it) no longer derives from
    /// `ancestor`: it now hangs where `ancestor` does.
    pub fn detached(&mut self, slot: u64, ancestor: u64) {
        let parent = self.find(ancestor).map_or(0, |e| e.parent);
        for e in self.entries[..self.len].iter_mut() {
            if u64::from(e.slot) == slot && e.state == State::Live {
                e.parent = parent;
            }
        }
    }

    /// Everything derived from `slot` was deleted.
    pub fn revoked(&mut self, slot: u64) {
        let mut changed = true;
        let mut roots = [0u32; CAPACITY];
        let mut count = 0;
        roots[0] = slot as u32;
        count += 1;
        while changed {
            changed = false;
            for i in 0..self.len {
                let e = self.entries[i];
                if e.state == State::Live && e.parent != 0 && roots[..count].contains(&e.parent) {
                    self.entries[i].state = State::Revoked;
                    if count < CAPACITY {
                        roots[count] = e.slot;
                        count += 1;
                    }
                    changed = true;
                }
            }
        }
    }
}
