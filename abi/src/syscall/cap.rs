//! Capabilities and capability spaces (numbers 16..32): the arguments of
//! the `Cap*` syscalls and [`Syscall::CSpaceCreate`], the entries and
//! results of [`Syscall::CapCopyMany`], what [`Syscall::CapInfo`] writes,
//! and the limits they name.

use super::*;
use crate::{CapSlot, ObjectType, Rights, SysError};

args!(
    /// Arguments of [`Syscall::CapCopy`].
    CapCopyArgs for CapCopy {
        /// The capability to copy.
        src: CapSlot,
        /// Rights of the copy; a subset of the source's.
        rights: Rights,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapDelete`].
    CapDeleteArgs for CapDelete {
        /// The slot to empty.
        slot: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapInfo`].
    CapInfoArgs for CapInfo {
        /// The slot to describe.
        slot: CapSlot,
        /// User address of a writable [`CapInfo`].
        out: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::CapMint`].
    CapMintArgs for CapMint {
        /// The capability to copy (unbadged endpoint or notification).
        src: CapSlot,
        /// Rights of the copy; a subset of the source's.
        rights: Rights,
        /// The badge (not 0).
        badge: u64,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapMove`].
    CapMoveArgs for CapMove {
        /// The capability to move.
        src: CapSlot,
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// Destination slot, or [`CapSlot::NULL`] for the lowest free one.
        dst: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapRevoke`].
    CapRevokeArgs for CapRevoke {
        /// The capability whose derived capabilities go.
        slot: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapDetach`].
    CapDetachArgs for CapDetach {
        /// The capability to take out, with what derives from it.
        slot: CapSlot,
        /// The capability it is derived from, which stays.
        ancestor: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapDeleteRange`].
    CapDeleteRangeArgs for CapDeleteRange {
        /// The first slot of the range (not 0).
        first: CapSlot,
        /// How many slots (at least 1, not past the space's end).
        count: u64 as Count,
    }
);

/// Most slots one capability space has ([`Syscall::CSpaceCreate`]).
pub const CSPACE_MAX_SLOTS: u64 = 8192;

args!(
    /// Arguments of [`Syscall::CSpaceCreate`].
    CSpaceCreateArgs for CSpaceCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// Number of slots, `2..=CSPACE_MAX_SLOTS` (rounded up to 64).
        slots: u64 as Count,
    }
);

/// Most entries one [`Syscall::CapCopyMany`] takes.
pub const CAP_COPY_MANY_MAX: u64 = 64;
/// [`CapCopyEntry::object_type`] for a source of any type.
pub const CAP_COPY_ANY_TYPE: u16 = u16::MAX;

/// How a [`CapCopyEntry`]'s `rights` are read.
pub mod cap_copy_mode {
    /// The copy has exactly these rights, which the source must have.
    pub const EXACT: u16 = 0;
    /// The copy has the source's rights among these.
    pub const MASK: u16 = 1;
    /// Nothing is copied: the entry only checks that the source holds
    /// the type asked and these rights (its destination must be 0). A
    /// program checks many of its own capabilities with one call so.
    pub const CHECK: u16 = 2;
}

/// One capability for [`Syscall::CapCopyMany`] (16 bytes, in the caller's
/// memory).
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
pub struct CapCopyEntry {
    /// The caller's slot to copy.
    pub src: u32,
    /// The destination slot (not 0: the call names every slot; 0 for a
    /// [`cap_copy_mode::CHECK`]).
    pub dst: u32,
    /// Rights ([`Rights::bits`]), read as `mode` says.
    pub rights: u32,
    /// The type the source must hold ([`ObjectType::to_reg`]), or
    /// [`CAP_COPY_ANY_TYPE`].
    pub object_type: u16,
    /// [`cap_copy_mode::EXACT`], [`cap_copy_mode::MASK`] or
    /// [`cap_copy_mode::CHECK`].
    pub mode: u16,
}

const _: () = assert!(core::mem::size_of::<CapCopyEntry>() == 16);

args!(
    /// Arguments of [`Syscall::CapCopyMany`].
    CapCopyManyArgs for CapCopyMany {
        /// Destination capability space, or [`CapSlot::NULL`] for the caller's.
        cspace: CapSlot,
        /// User address of `count` [`CapCopyEntry`]s.
        addr: u64 as Address,
        /// Number of entries, `1..=CAP_COPY_MANY_MAX`.
        count: u64 as Count,
    }
);
results!(
    /// Results of [`Syscall::CapCopyMany`].
    CapCopyManyResult {
        /// Bit `i` set: entry `i` was copied (or, a check, passed).
        copied: u64,
        /// The error code ([`SysError::code`]) of the first entry not
        /// copied; 0 if every one was.
        first_error: u64,
    }
);

/// What [`Syscall::CapInfo`] writes to user memory.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
pub struct CapInfo {
    /// The object type's code ([`ObjectType::to_reg`]).
    pub object_type: u32,
    /// The capability's rights ([`Rights::bits`]).
    pub rights: u32,
    /// The badge (0 when unbadged).
    pub badge: u64,
}

impl CapInfo {
    /// The object type, if the code is known.
    pub fn object_type(&self) -> Option<ObjectType> {
        ObjectType::from_reg(u64::from(self.object_type)).ok()
    }
}
