//! Mica's ELF loading planner: it checks an ELF64 x86_64 executable held in
//! a byte slice and says how to load it, but maps nothing itself.
//!
//! The runtime (`rt`: `exec`, `spawn`) reads a program's file into memory,
//! calls [`parse`] and carries out the returned [`Image`] with syscalls. It
//! then writes the first thread's stack with [`InitialStack::write`] and its
//! TLS block with [`TlsLayout::write_block`], and may pick a load address for
//! a position-independent program with [`random_offset`]. Everything here is
//! pure: no allocation, no `unsafe`, no I/O, so every rule is tested on the
//! host (`cargo test -p elfload`) and fuzzed (`elfload/fuzz`, see
//! `FUZZING.md`).
//!
//! # What is accepted
//!
//! A little-endian ELF64 file for x86_64 (`e_machine` 62), of type
//! `ET_EXEC` (linked at fixed addresses) or `ET_DYN` without `PT_INTERP` (a
//! static-pie, loaded at [`Options::base`]). Dynamically linked programs
//! (`PT_INTERP`) are refused: Mica has no dynamic linker. A static-pie
//! relocates itself in its startup code, as it does on Linux; this crate
//! applies no relocation and ignores `PT_DYNAMIC`. [`parse`] never reads
//! section headers. Each rejection has its own [`ElfError`] variant;
//! `docs/elf.md` lists them.
//!
//! The file is untrusted. Every field is read with bounds-checked slice
//! access, every sum and product is checked, no division uses a value from
//! the file, and `p_align` 0 and 1 mean "no alignment", as the ELF
//! specification says. Nothing in the crate can panic: the lints below deny
//! indexing, unchecked arithmetic, `unwrap` and `panic!`.
//!
//! # The plan
//!
//! Each non-empty `PT_LOAD` becomes one [`Segment`]: the pages
//! `start .. start + pages * PAGE_BYTES` covering `[p_vaddr, p_vaddr +
//! p_memsz)` (plus the load bias), with one [`Access`]. Segments are sorted
//! and no two share a page (a page has one set of rights), they lie within
//! `[USER_START, USER_END)`, and none is both writable and executable.
//!
//! Inside a segment, every byte of `[p_vaddr, p_vaddr + p_filesz)` comes
//! from the file and every other byte of its pages is zero. The plan says
//! how each file byte gets there:
//!
//! - **Direct pages** ([`DirectMap`]): when the segment is *not writable*,
//!   the file starts on a page boundary in its container
//!   ([`Options::file_page_offset`] is 0) and `p_offset` and `p_vaddr` have
//!   the same offset within a page, every page of `[p_vaddr, p_vaddr +
//!   p_filesz)` is one file page, mapped straight from the container
//!   (read-only memory, shared, never copied): the whole pages, and the
//!   partial first and last pages too when the file's page there lies
//!   wholly inside the file and holds none of the segment's `.bss`. Those
//!   show the file's bytes around the segment, as Linux does; nothing past
//!   the file's end ever shows.
//! - **Copies** ([`FileCopy`]): all other file bytes are copied into fresh
//!   memory: a partial first or last page of a read-only segment that could
//!   not be mapped, all of a writable segment (the container is read-only
//!   and the kernel has no copy-on-write mapping of it), or all of any
//!   segment that cannot be mapped directly.
//! - **Zero**: every page of the segment outside the direct pages is fresh
//!   anonymous memory, which the kernel fills with zeros when first touched;
//!   copies land in those pages, and what they do not write stays zero
//!   (the rest of a head or tail page, and `.bss` up to `p_memsz`).
//!
//! So to carry out a segment the runtime maps the direct pages (if any) from
//! the file's memory object, maps [`Segment::fresh_ranges`] as new
//! anonymous memory, copies each [`FileCopy`] into it, and then gives every
//! page the segment's [`Access`]. A copy never touches a direct page.
//!
//! # Also here
//!
//! - [`InitialStack`]: the System V x86_64 initial stack (argc, argv, envp,
//!   the auxiliary vector, strings and the `AT_RANDOM` bytes).
//! - [`TlsTemplate`], [`tls_layout`], [`TlsLayout`]: the x86_64 "variant
//!   II" thread-local storage block and its thread pointer.
//! - [`random_offset`]: a page-aligned random offset for a load base.
//! - [`section`]: the bytes of a named section (init reads a driver's
//!   `.mica.manifest` with it), after checking the whole section header
//!   table.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod aslr;
mod error;
mod format;
mod image;
mod parse;
mod section;
mod stack;
mod tls;

pub use aslr::random_offset;
pub use error::{ElfError, SetupError};
pub use format::{
    AT_ENTRY, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_RANDOM, MAX_PHNUM, PHDR_BYTES,
    SHDR_BYTES,
};
pub use image::{
    Access, DirectMap, FileCopy, Image, Kind, MAX_SEGMENTS, Options, PageRange, Segment,
};
pub use parse::parse;
pub use section::section;
pub use stack::{AuxEntry, InitialStack, RANDOM_BYTES};
pub use tls::{TCB_ALIGN, TCB_MAX_BYTES, TCB_MIN_BYTES, TlsLayout, TlsTemplate, tls_layout};
