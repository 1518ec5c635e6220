//! What `stat` and `readdir` answer: [`Kind`], [`Stat`] and [`DirEntry`].
//!
//! They live here, not in a server, so that the protocol definitions and
//! the clients use the same types as the servers that fill them in.
//! [`Kind`] has a stable one-byte code for the wire.

use alloc::string::String;

/// The size of a block in [`Stat::blocks`]: one page of file data.
pub const BLOCK_BYTES: u64 = 4096;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    /// A regular file: bytes at offsets.
    File = 1,
    /// A directory: names of other nodes.
    Dir = 2,
    /// A pipe end.
    Pipe = 3,
    /// A device served by a driver (`/dev/serial`).
    Device = 4,
    /// A symbolic link (no server makes them yet).
    Symlink = 5,
}

impl Kind {
    /// Every kind, in code order.
    pub const ALL: [Kind; 5] = [
        Kind::File,
        Kind::Dir,
        Kind::Pipe,
        Kind::Device,
        Kind::Symlink,
    ];

    /// The stable wire code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The kind with wire code `code`, if any.
    pub const fn from_code(code: u8) -> Option<Kind> {
        match code {
            1 => Some(Kind::File),
            2 => Some(Kind::Dir),
            3 => Some(Kind::Pipe),
            4 => Some(Kind::Device),
            5 => Some(Kind::Symlink),
            _ => None,
        }
    }
}

/// The attributes of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stat {
    /// What the node is.
    pub kind: Kind,
    /// Its length in bytes (files); 0 for directories.
    pub size: u64,
    /// How many directory entries name it: 0 once removed (it lives on
    /// while open), 1 for a file, 2 plus the number of subdirectories for a
    /// directory (its own entry and `.`, as POSIX counts).
    pub nlink: u32,
    /// A number unique among the live nodes of this file system, and not
    /// reused soon after a node is freed (the slot's generation is in it).
    pub id: u64,
    /// Data blocks of [`BLOCK_BYTES`] actually held: less than
    /// `size / BLOCK_BYTES` for a sparse file.
    pub blocks: u64,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DirEntry {
    /// The entry's name (one component).
    pub name: String,
    /// What it names.
    pub kind: Kind,
    /// The node's [`Stat::id`].
    pub id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(Kind::from_code(0), None);
        assert_eq!(Kind::from_code(6), None);
        assert_eq!(Kind::from_code(u8::MAX), None);
    }
}
