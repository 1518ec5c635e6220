//! Memory accounting of the tree: who pays for what, and the limits.
//!
//! Every node but the root costs its creator [`NODE_BYTES`] and one node;
//! every page of file data costs [`PAGE_BYTES`] to the owner whose write
//! made it (not the file's creator: appending to someone else's file is
//! paid by the appender). The charge goes back to the same owner when the
//! page or node is freed. An owner is a number the server chooses, a client
//! session id.
//!
//! A charge that would take an owner or the whole tree past a [`Limits`]
//! field fails with [`FsError::NoSpace`] and changes nothing. Lowering the
//! limits below the current use is allowed: nothing is taken back, new
//! charges fail until enough is freed.
//!
//! # Invariants
//!
//! - `total` is the sum of the `owners` entries.
//! - An owner with nothing charged has no entry, so the map only holds
//!   owners that hold memory.

use alloc::collections::BTreeMap;

use crate::FsError;

/// The bytes of one page of file data.
pub const PAGE_BYTES: u64 = 4096;

/// The bytes charged for a node besides its data: its slot, its directory
/// entry and a name of up to `NAME_MAX` bytes, rounded up.
pub const NODE_BYTES: u64 = 512;

/// How much memory the tree may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of all owners together (data pages and nodes).
    pub max_bytes_total: u64,
    /// Bytes of any one owner.
    pub max_bytes_per_owner: u64,
    /// Nodes in the tree, the root included.
    pub max_nodes: u64,
    /// Nodes any one owner made.
    pub max_nodes_per_owner: u64,
    /// The largest file size; writes stop there and truncating past it
    /// fails with [`FsError::FileTooLarge`].
    pub max_file_bytes: u64,
}

impl Limits {
    /// No limit but the largest file offset POSIX can express (`i64::MAX`).
    pub const UNLIMITED: Limits = Limits {
        max_bytes_total: u64::MAX,
        max_bytes_per_owner: u64::MAX,
        max_nodes: u64::MAX,
        max_nodes_per_owner: u64::MAX,
        max_file_bytes: i64::MAX as u64,
    };

    /// Limits for a server whose budget is `frames` pages: the tree may
    /// hold two thirds of it (the rest is the server's heap and page
    /// tables), one owner three quarters of that, a node per 1.5 pages
    /// (half of them one owner's), and a file half the total. 6,144 frames
    /// (24 MiB) give 16 MiB, 12 MiB, 16,384 nodes, 8,192 and 8 MiB.
    #[must_use]
    pub const fn for_budget(frames: u64) -> Limits {
        let total = frames.saturating_mul(PAGE_BYTES) / 3 * 2;
        let nodes = frames.saturating_mul(8) / 3;
        Limits {
            max_bytes_total: total,
            max_bytes_per_owner: total / 4 * 3,
            max_nodes: nodes,
            max_nodes_per_owner: nodes / 2,
            max_file_bytes: total / 2,
        }
    }
}

impl Default for Limits {
    /// [`Limits::UNLIMITED`].
    fn default() -> Limits {
        Limits::UNLIMITED
    }
}

/// What an owner (or everyone) holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes charged: pages of data and nodes.
    pub bytes: u64,
    /// Nodes made (the root is nobody's).
    pub nodes: u64,
}

/// The charges of every owner, and the limits.
#[derive(Debug)]
pub(crate) struct Accounts {
    pub(crate) limits: Limits,
    total: Usage,
    owners: BTreeMap<u64, Usage>,
}

impl Accounts {
    pub(crate) const fn new(limits: Limits) -> Accounts {
        Accounts {
            limits,
            total: Usage { bytes: 0, nodes: 0 },
            owners: BTreeMap::new(),
        }
    }

    /// What `owner` holds.
    pub(crate) fn usage(&self, owner: u64) -> Usage {
        self.owners.get(&owner).copied().unwrap_or_default()
    }

    /// What everyone holds.
    pub(crate) fn total(&self) -> Usage {
        self.total
    }

    /// Charges `bytes` and `nodes` to `owner`, all or nothing.
    pub(crate) fn charge(&mut self, owner: u64, bytes: u64, nodes: u64) -> Result<(), FsError> {
        let limits = self.limits;
        let mine = self.usage(owner);
        let within =
            |held: u64, more: u64, max: u64| held.checked_add(more).is_some_and(|sum| sum <= max);
        // The root is a node too, for `max_nodes`.
        let tree_nodes = self.total.nodes.saturating_add(1);
        if !(within(self.total.bytes, bytes, limits.max_bytes_total)
            && within(mine.bytes, bytes, limits.max_bytes_per_owner)
            && within(tree_nodes, nodes, limits.max_nodes)
            && within(mine.nodes, nodes, limits.max_nodes_per_owner))
        {
            return Err(FsError::NoSpace);
        }
        // Each sum is bounded by a limit just checked, so none overflows.
        self.total.bytes += bytes;
        self.total.nodes += nodes;
        self.owners.insert(
            owner,
            Usage {
                bytes: mine.bytes + bytes,
                nodes: mine.nodes + nodes,
            },
        );
        Ok(())
    }

    /// Gives back a charge `owner` paid.
    pub(crate) fn uncharge(&mut self, owner: u64, bytes: u64, nodes: u64) {
        let mine = self.usage(owner);
        // Never more than was charged (the invariant); saturate rather than
        // panic if a bug broke it.
        let left = Usage {
            bytes: mine.bytes.saturating_sub(bytes),
            nodes: mine.nodes.saturating_sub(nodes),
        };
        self.total.bytes = self.total.bytes.saturating_sub(bytes);
        self.total.nodes = self.total.nodes.saturating_sub(nodes);
        if left == Usage::default() {
            self.owners.remove(&owner);
        } else {
            self.owners.insert(owner, left);
        }
    }

    /// Every owner that holds something, with what it holds.
    #[cfg(test)]
    pub(crate) fn owners(&self) -> impl Iterator<Item = (u64, Usage)> + '_ {
        self.owners.iter().map(|(owner, usage)| (*owner, *usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_for_a_budget() {
        assert_eq!(
            Limits::for_budget(6144),
            Limits {
                max_bytes_total: 16 << 20,
                max_bytes_per_owner: 12 << 20,
                max_nodes: 16_384,
                max_nodes_per_owner: 8_192,
                max_file_bytes: 8 << 20,
            }
        );
        let small = Limits::for_budget(1024);
        assert!(small.max_bytes_total < 4 << 20 && small.max_bytes_total > 2 << 20);
        assert!(small.max_bytes_per_owner <= small.max_bytes_total);
        assert!(small.max_file_bytes <= small.max_bytes_total);
        assert_eq!(
            Limits::for_budget(u64::MAX).max_bytes_total,
            u64::MAX / 3 * 2
        );
    }

    #[test]
    fn charges_add_up_and_come_back() {
        let mut accounts = Accounts::new(Limits::UNLIMITED);
        accounts.charge(1, 100, 1).unwrap();
        accounts.charge(2, 50, 0).unwrap();
        accounts.charge(1, 10, 0).unwrap();
        assert_eq!(
            accounts.usage(1),
            Usage {
                bytes: 110,
                nodes: 1
            }
        );
        assert_eq!(
            accounts.total(),
            Usage {
                bytes: 160,
                nodes: 1
            }
        );
        accounts.uncharge(1, 110, 1);
        assert_eq!(accounts.usage(1), Usage::default());
        assert_eq!(accounts.owners().count(), 1);
    }

    #[test]
    fn each_limit_refuses_and_changes_nothing() {
        let limits = Limits {
            max_bytes_total: 1000,
            max_bytes_per_owner: 600,
            max_nodes: 4,
            max_nodes_per_owner: 2,
            max_file_bytes: 0,
        };
        let mut accounts = Accounts::new(limits);
        accounts.charge(1, 600, 2).unwrap();
        assert_eq!(accounts.charge(1, 1, 0), Err(FsError::NoSpace));
        assert_eq!(accounts.charge(1, 0, 1), Err(FsError::NoSpace));
        accounts.charge(2, 400, 1).unwrap();
        assert_eq!(
            accounts.charge(3, 1, 0),
            Err(FsError::NoSpace),
            "total bytes"
        );
        assert_eq!(
            accounts.charge(3, 0, 1),
            Err(FsError::NoSpace),
            "nodes with the root"
        );
        assert_eq!(accounts.charge(3, u64::MAX, 0), Err(FsError::NoSpace));
        assert_eq!(accounts.usage(3), Usage::default());
        assert_eq!(
            accounts.total(),
            Usage {
                bytes: 1000,
                nodes: 3
            }
        );
    }
}
