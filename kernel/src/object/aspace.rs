//! Address spaces: a page-table root plus the references that keep it alive.
//!
//! For now an address space is built only at boot, for the first program,
//! and lives for the rest of the run (creating, mapping and destroying them
//! from user space is the next issue's work).

use x86_64::structures::paging::PhysFrame;

use crate::mem::kobj::KernelObject;

/// An address space.
pub struct AddressSpace {
    /// Root of its page tables (upper half shared with the kernel).
    pub root: PhysFrame,
    /// Capabilities and threads that refer to it.
    pub refs: u32,
}

impl KernelObject for AddressSpace {}
