//! Kernel objects, one type per file.

pub mod aspace;
pub mod thread;
