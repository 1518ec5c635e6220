//! x86_64 support: one file per hardware concept.

pub mod boot;
pub mod serial;
