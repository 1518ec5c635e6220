//! [`NodeId`] and the slab the tree keeps its nodes in.
//!
//! A slot's generation grows each time its node is freed, and an id names a
//! slot and a generation, so an id kept after its node was freed (a stale
//! open-file handle in a server) never reaches the slot's next node: it
//! gets `None`, which the tree turns into `BadDescriptor`.
//!
//! # Invariants
//!
//! - A slot's generation starts at 1, so no live id is 0.
//! - A free slot is on the free list unless its generation reached
//!   `u32::MAX`: such a slot is retired, never reused, so generations never
//!   wrap.
//! - `live` is the number of occupied slots.

use alloc::vec::Vec;

/// A node of a [`crate::tree::Tree`]: a slot index and the slot's
/// generation when the node was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    index: u32,
    generation: u32,
}

impl NodeId {
    /// The id as one number (generation in the high half), as
    /// [`crate::Stat::id`] and protocols carry it.
    pub const fn to_u64(self) -> u64 {
        (self.generation as u64) << 32 | self.index as u64
    }

    /// The id [`NodeId::to_u64`] made `raw` from. Any number gives an id;
    /// one that names no live node is refused by the tree.
    pub const fn from_u64(raw: u64) -> NodeId {
        NodeId {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

/// One slot: its current generation and its node, if any.
#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Values addressed by generation-checked [`NodeId`]s.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Indices of free, reusable slots.
    free: Vec<u32>,
    live: usize,
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Number of values held.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Stores `value` and returns its id, or gives it back if every index
    /// is taken.
    pub(crate) fn insert(&mut self, value: T) -> Result<NodeId, T> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let Ok(index) = u32::try_from(self.slots.len()) else {
                    return Err(value);
                };
                self.slots.push(Slot {
                    generation: 1,
                    value: None,
                });
                index
            }
        };
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return Err(value);
        };
        slot.value = Some(value);
        self.live += 1;
        Ok(NodeId {
            index,
            generation: slot.generation,
        })
    }

    /// The value `id` names, if it is still there.
    pub(crate) fn get(&self, id: NodeId) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_ref()
    }

    /// The value `id` names, if it is still there, for changing.
    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Takes out the value `id` names; `id` and its copies go stale.
    pub(crate) fn remove(&mut self, id: NodeId) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let value = slot.value.take()?;
        self.live -= 1;
        if slot.generation < u32::MAX {
            slot.generation += 1;
            self.free.push(id.index);
        }
        Some(value)
    }

    /// Every value with its id, in index order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (NodeId, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let value = slot.value.as_ref()?;
            Some((
                NodeId {
                    index: index as u32,
                    generation: slot.generation,
                },
                value,
            ))
        })
    }

    /// Sets a slot's generation, for the test of retirement.
    #[cfg(test)]
    pub(crate) fn set_generation(&mut self, index: u32, generation: u32) {
        if let Some(slot) = self.slots.get_mut(index as usize) {
            slot.generation = generation;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_miss() {
        let mut slab = Slab::new();
        let a = slab.insert('a').unwrap();
        assert_eq!(slab.get(a), Some(&'a'));
        assert_eq!(slab.remove(a), Some('a'));
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.remove(a), None);
        let b = slab.insert('b').unwrap();
        assert_ne!(a, b, "the slot is reused with a new generation");
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get_mut(b), Some(&mut 'b'));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn ids_round_trip_and_are_never_zero() {
        let mut slab = Slab::new();
        let id = slab.insert(()).unwrap();
        assert_ne!(id.to_u64(), 0);
        assert_eq!(NodeId::from_u64(id.to_u64()), id);
        assert_eq!(slab.get(NodeId::from_u64(0)), None);
        assert_eq!(slab.get(NodeId::from_u64(u64::MAX)), None);
    }

    #[test]
    fn exhausted_generations_retire_the_slot() {
        let mut slab = Slab::new();
        let first = slab.insert(1).unwrap();
        slab.set_generation(0, u32::MAX);
        let last = NodeId::from_u64(u64::from(u32::MAX) << 32);
        assert_eq!(slab.get(first), None);
        assert_eq!(slab.remove(last), Some(1));
        let next = slab.insert(2).unwrap();
        assert_ne!(next.to_u64() as u32, 0, "slot 0 is not reused");
        assert_eq!(slab.iter().count(), 1);
    }
}
