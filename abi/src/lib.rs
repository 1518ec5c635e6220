//! The one definition of Mica's kernel/user boundary.
//!
//! Everything that crosses the `syscall` instruction is defined here, once:
//! syscall numbers and the register encoding of their arguments and results
//! ([`syscall`]), errors ([`SysError`]), rights ([`Rights`]), object types
//! ([`ObjectType`]), capability slots ([`CapSlot`]), the user address-space
//! layout ([`layout`]) and the structures the kernel shares with the first
//! program ([`boot`]). Both the kernel and the runtime (`rt`) depend on this
//! crate, so the two sides cannot drift apart.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod boot;
pub mod cap;
pub mod error;
pub mod ipc;
pub mod layout;
pub mod syscall;

pub use cap::{CapSlot, MapFlags, ObjectType, Rights};
pub use error::SysError;
