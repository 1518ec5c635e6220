//! Virtual memory: what address spaces and memory objects do together.
//!
//! - [`mapping`]: map, unmap and protect regions, and tear an address
//!   space down, keeping each object's record of where it is mapped and
//!   the page tables in step.
//! - [`fault`]: resolve a page fault from the regions (a zero page, a
//!   copy-on-write copy, a shared or device page), or say why not; and
//!   fault in the pages a syscall's user buffer needs.
//! - [`pages`]: a memory object's pages: fill, copy-on-write, write-protect
//!   and drop them everywhere they are mapped, resize and destroy objects.
//! - [`clone`]: copy an address space copy-on-write, and capture a buffer
//!   as a read-only object (lend or move pages).
//!
//! Page tables only cache what the regions say: any leaf may be dropped
//! and faults back in. So a change that might leave a leaf wrong
//! (protect, a page replaced) just drops it.

pub mod clone;
pub mod fault;
pub mod mapping;
pub mod pages;

pub use crate::arch::user_tables::Access;
