//! [`OpenFlags`]: how a file is opened, as the `open` request carries it.
//!
//! A `u32` of independent bits. The client builds it with the constants and
//! `|`; whoever receives it from the wire (a server, the namespace) turns the
//! raw number back into flags with [`OpenFlags::from_bits`], which is the one
//! place that validates a combination. [`crate::tree::Tree::open`] validates
//! again, so a server cannot forget.
//!
//! # Valid combinations
//!
//! - No bit outside [`OpenFlags::ALL`].
//! - At least one of [`READ`](OpenFlags::READ) and
//!   [`WRITE`](OpenFlags::WRITE): an open that can do neither has no use
//!   (stat a path through the namespace instead).
//! - [`EXCLUSIVE`](OpenFlags::EXCLUSIVE) only with
//!   [`CREATE`](OpenFlags::CREATE) (it means "create, and fail if it
//!   exists").
//! - [`TRUNCATE`](OpenFlags::TRUNCATE) and [`APPEND`](OpenFlags::APPEND)
//!   only with `WRITE`: both change or aim writes, and POSIX leaves
//!   `O_TRUNC` on a read-only open unspecified. Mica refuses rather than
//!   guess.
//! - `CREATE` without `WRITE` is allowed, as in POSIX: `READ | CREATE`
//!   makes an empty file if there is none and opens it for reading.
//! - [`DIRECTORY`](OpenFlags::DIRECTORY) ("it must be a directory") not
//!   with `WRITE` or `CREATE`: a directory is never opened for writing and
//!   `open` does not make directories (`mkdir` does), so such an open could
//!   never succeed.
//!
//! Anything else gives [`FsError::InvalidArgument`].

use core::ops::BitOr;

use crate::FsError;

/// Open flags: a validated-on-receipt set of the bits below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenFlags(u32);

impl OpenFlags {
    /// Open for reading.
    pub const READ: OpenFlags = OpenFlags(1 << 0);
    /// Open for writing.
    pub const WRITE: OpenFlags = OpenFlags(1 << 1);
    /// Create the file (empty) if the name is free.
    pub const CREATE: OpenFlags = OpenFlags(1 << 2);
    /// With `CREATE`: fail with [`FsError::Exists`] if the name is taken.
    pub const EXCLUSIVE: OpenFlags = OpenFlags(1 << 3);
    /// Cut an existing file to length 0 on open (needs `WRITE`).
    pub const TRUNCATE: OpenFlags = OpenFlags(1 << 4);
    /// Every write goes to the end of the file (needs `WRITE`).
    pub const APPEND: OpenFlags = OpenFlags(1 << 5);
    /// The name must be a directory ([`FsError::NotADirectory`] otherwise).
    pub const DIRECTORY: OpenFlags = OpenFlags(1 << 6);
    /// Every defined bit.
    pub const ALL: OpenFlags = OpenFlags((1 << 7) - 1);

    /// No flag (not itself a valid open: it has neither `READ` nor `WRITE`).
    pub const fn empty() -> OpenFlags {
        OpenFlags(0)
    }

    /// The raw bits, as they travel.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The union of `self` and `other`, as `|` but usable in constants (not
    /// validated: see [`OpenFlags::from_bits`]).
    pub const fn union(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | other.0)
    }

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags with the raw bits `bits`, if they are a valid combination.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] for an unknown bit or a combination the
    /// module documentation rules out.
    pub const fn from_bits(bits: u32) -> Result<OpenFlags, FsError> {
        let flags = OpenFlags(bits);
        let write = flags.contains(Self::WRITE);
        if bits & !Self::ALL.0 != 0
            || !(write || flags.contains(Self::READ))
            || (flags.contains(Self::EXCLUSIVE) && !flags.contains(Self::CREATE))
            || (!write && (flags.contains(Self::TRUNCATE) || flags.contains(Self::APPEND)))
            || (flags.contains(Self::DIRECTORY) && (write || flags.contains(Self::CREATE)))
        {
            return Err(FsError::InvalidArgument);
        }
        Ok(flags)
    }

    /// Whether the open may read.
    pub const fn read(self) -> bool {
        self.contains(Self::READ)
    }

    /// Whether the open may write.
    pub const fn write(self) -> bool {
        self.contains(Self::WRITE)
    }
}

impl BitOr for OpenFlags {
    type Output = OpenFlags;

    /// The union of two sets of flags (not validated: see
    /// [`OpenFlags::from_bits`]).
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        self.union(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: OpenFlags = OpenFlags::READ;
    const W: OpenFlags = OpenFlags::WRITE;

    fn valid(flags: OpenFlags) -> bool {
        OpenFlags::from_bits(flags.bits()).is_ok()
    }

    #[test]
    fn plain_modes_are_valid() {
        assert!(valid(R));
        assert!(valid(W));
        assert!(valid(R | W));
        assert!(valid(R | W | OpenFlags::CREATE | OpenFlags::EXCLUSIVE));
        assert!(valid(W | OpenFlags::CREATE | OpenFlags::TRUNCATE));
        assert!(valid(W | OpenFlags::APPEND));
        assert!(valid(R | OpenFlags::DIRECTORY));
        assert!(valid(R | OpenFlags::CREATE));
    }

    #[test]
    fn bad_combinations_are_invalid_arguments() {
        let bad = [
            OpenFlags::empty(),
            OpenFlags::CREATE,
            R | OpenFlags::EXCLUSIVE,
            W | OpenFlags::EXCLUSIVE,
            R | OpenFlags::TRUNCATE,
            R | OpenFlags::APPEND,
            R | W | OpenFlags::DIRECTORY,
            R | OpenFlags::CREATE | OpenFlags::DIRECTORY,
        ];
        for flags in bad {
            assert_eq!(
                OpenFlags::from_bits(flags.bits()),
                Err(FsError::InvalidArgument),
                "{flags:?}"
            );
        }
    }

    #[test]
    fn unknown_bits_are_invalid() {
        for bit in 7..32 {
            assert_eq!(
                OpenFlags::from_bits(R.bits() | 1 << bit),
                Err(FsError::InvalidArgument)
            );
        }
    }

    #[test]
    fn every_valid_value_round_trips() {
        for bits in 0..=OpenFlags::ALL.bits() {
            if let Ok(flags) = OpenFlags::from_bits(bits) {
                assert_eq!(flags.bits(), bits);
                assert!(flags.read() || flags.write());
            }
        }
    }
}
