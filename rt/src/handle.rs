//! Typed capability handles that own their slot.
//!
//! Each kernel object type has a handle type ([`Endpoint`](crate::ipc::Endpoint),
//! [`Notification`](crate::notify::Notification),
//! [`Thread`](crate::thread::Thread), ...). A handle names one slot of the
//! program's own capability space and owns it: dropping the handle deletes
//! the capability (`CapDelete`), so a slot is never leaked nor freed twice.
//! The methods of a handle are named after the syscalls they make; the
//! type makes `signal(endpoint, 1)` a compile error.
//!
//! The raw layer stays available: [`Handle::from_raw`] adopts a slot,
//! [`Handle::into_raw`] gives it up, [`Handle::slot`] lends it to
//! `rt::sys`. Nothing checks that an adopted slot holds the right type;
//! a wrong one makes the kernel answer [`SysError::WrongType`].

use abi::syscall::CapInfo;
use abi::{CapSlot, Rights, SysError};

use crate::sys;

/// What every typed handle can do.
pub trait Handle: Sized {
    /// Adopts `slot`: the handle owns it from now on and deletes it when
    /// dropped.
    fn from_raw(slot: CapSlot) -> Self;

    /// The slot, still owned by the handle.
    fn slot(&self) -> CapSlot;

    /// Gives up ownership: the slot is no longer deleted on drop.
    fn into_raw(self) -> CapSlot;

    /// `CapCopy`: a new capability to the same object with at most
    /// `rights`, in the lowest free slot.
    ///
    /// # Errors
    /// The kernel's (`OutOfMemory` when no slot is free).
    fn copy(&self, rights: Rights) -> Result<Self, SysError> {
        sys::cap_copy(self.slot(), rights).map(Self::from_raw)
    }

    /// `CapMint`: a copy with at most `rights` and `badge` (endpoints and
    /// notifications).
    ///
    /// # Errors
    /// The kernel's.
    fn mint(&self, rights: Rights, badge: u64) -> Result<Self, SysError> {
        sys::cap_mint(self.slot(), rights, badge).map(Self::from_raw)
    }

    /// `CapRevoke`: deletes every capability derived from this one.
    ///
    /// # Errors
    /// The kernel's.
    fn revoke(&self) -> Result<(), SysError> {
        sys::cap_revoke(self.slot())
    }

    /// `CapInfo`: type, rights and badge.
    ///
    /// # Errors
    /// The kernel's.
    fn info(&self) -> Result<CapInfo, SysError> {
        sys::cap_info(self.slot())
    }

    /// `CapDelete` now, reporting the kernel's answer (dropping the handle
    /// does the same and ignores it).
    ///
    /// # Errors
    /// The kernel's.
    fn delete(self) -> Result<(), SysError> {
        sys::cap_delete(self.into_raw())
    }
}

/// Declares a handle type for one kernel object type.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq)]
        #[must_use = "dropping a handle deletes its capability"]
        pub struct $name {
            slot: abi::CapSlot,
        }

        impl $crate::handle::Handle for $name {
            fn from_raw(slot: abi::CapSlot) -> Self {
                $name { slot }
            }

            fn slot(&self) -> abi::CapSlot {
                self.slot
            }

            fn into_raw(self) -> abi::CapSlot {
                let slot = self.slot;
                core::mem::forget(self);
                slot
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                if self.slot != abi::CapSlot::NULL {
                    // A slot that is already empty (deleted behind the
                    // handle's back, or revoked) answers InvalidCap: there
                    // is nothing left to free.
                    let _ = $crate::sys::cap_delete(self.slot);
                }
            }
        }
    };
}
pub(crate) use handle;
