//! The one definition of Mica's kernel/user boundary.
//!
//! Everything that crosses the `syscall` instruction is defined here, once:
//! syscall numbers and the register encoding of their arguments and results
//! ([`syscall`]), errors ([`SysError`]), rights ([`Rights`]), object types
//! ([`ObjectType`]), capability slots ([`CapSlot`]), the user address-space
//! layout ([`layout`]), the structures the kernel shares with the first
//! program ([`boot`]) and the clock page user space reads the time from
//! ([`clock`]). Both the kernel and the runtime (`rt`) depend on this
//! crate, so the two sides cannot drift apart.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod boot;
pub mod cap;
pub mod clock;
pub mod error;
pub mod ipc;
pub mod layout;
pub mod startup;
pub mod syscall;

pub use cap::{CapSlot, MapFlags, ObjectType, Rights};
pub use error::SysError;
