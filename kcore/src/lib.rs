//! Pure kernel logic of Mica: everything the kernel decides that does not
//! touch hardware, so that it can be tested on the host with `cargo test`.
//!
//! The kernel (`kernel/`) calls into this crate; this crate depends on
//! nothing. It is `no_std` except under test.
#![cfg_attr(not(test), no_std)]

pub mod frame;
pub mod memmap;
pub mod tar;
