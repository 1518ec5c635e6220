//! Mica's user-space runtime: what every program links.
//!
//! - start and end: `_start`, [`entry!`], the panic policy (a panic in any
//!   thread ends the process with [`process::PANIC_STATUS`]), [`process`];
//! - typed capability handles that own their slots ([`handle::Handle`],
//!   [`ipc::Endpoint`], [`notify::Notification`], [`thread::Thread`],
//!   [`memory`], [`device`]), shared memory seen as atomic words
//!   ([`shared::SharedRegion`]), and the raw syscall stubs ([`sys`], the only
//!   user-space assembly with [`thread::block`]'s TCB reads);
//! - IPC with one [`ipc::Message`] type for every message;
//! - threads ([`thread::Builder`]: closures, names, priorities, stacks,
//!   join, detach, thread-local values), each with an IPC buffer;
//! - a heap ([`heap`], the `talc` allocator over memory the program
//!   commits itself), so `alloc` collections work;
//! - futex locks ([`sync`]), time ([`time`]), logging ([`log`]), and debug
//!   printing for programs holding the debug capability ([`println!`]).
//!
//! A program is `#![no_std] #![no_main]`, links `rt`, and names its entry
//! with [`entry!`]:
//! ```ignore
//! rt::entry!(main);
//! fn main() -> u64 { rt::log::info!("hi"); 0 }
//! ```
//! The value `main` returns is the process's exit status.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod atomic_bytes;
pub mod debug;
pub mod device;
#[cfg(target_os = "none")]
mod entry;
pub mod fork;
pub mod handle;
pub mod heap;
pub mod inherit;
pub mod ipc;
pub mod ipc_buffer;
pub mod ipc_bytes;
pub mod log;
pub mod memory;
pub mod notify;
pub mod process;
pub mod shared;
pub mod spawn;
pub mod spawn_file;
pub mod start;
pub mod sync;
pub mod sys;
pub mod thread;
pub mod time;

pub use abi;
pub use abi::SysError;
pub use handle::Handle;
