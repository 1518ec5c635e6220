//! Mica's user-space runtime: `_start`, the syscall stubs (the only
//! user-space assembly), a panic handler that prints and exits, debug
//! printing through the debug capability, threads, and timing helpers.
//!
//! A program is `#![no_std] #![no_main]`, links `rt`, and names its entry
//! with [`entry!`]:
//! ```ignore
//! rt::entry!(main);
//! fn main(boot: &'static abi::boot::BootInfo) -> u64 { rt::println!("hi"); 0 }
//! ```
//! The value `main` returns becomes the thread's exit code.
#![no_std]
#![warn(missing_docs)]

pub mod bench;
pub mod debug;
pub mod ipc_buffer;
pub mod process;
pub mod start;
pub mod sys;
pub mod thread;
pub mod time;

pub use abi;
pub use abi::SysError;
