//! The only place that selects an architecture. Portable kernel code uses
//! the names re-exported here and nothing else from `arch::x86_64`.

#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;
