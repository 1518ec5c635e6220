//! Pure kernel logic of Mica: everything the kernel decides that does not
//! touch hardware, so that it can be tested on the host with `cargo test`.
//!
//! The kernel (`kernel/`) calls into this crate; this crate depends on
//! nothing. It is `no_std` except under test. Data structures that live
//! inside kernel objects (run queues, the capability derivation tree) are
//! intrusive: the kernel keeps the links in its objects and hands this crate
//! a store trait to read and write them.
#![cfg_attr(not(test), no_std)]

pub mod budget;
pub mod cdt;
pub mod entropy;
pub mod frame;
pub mod futex;
pub mod logring;
pub mod madt;
pub mod memmap;
pub mod pagetree;
pub mod queue;
pub mod region;
pub mod slots;
pub mod tar;
pub mod timerq;
