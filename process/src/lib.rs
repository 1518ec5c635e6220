//! Processes for Mica programs.
//!
//! The kernel knows nothing of processes. The process server
//! (`servers/proc`) keeps the table of them; this crate is what a program
//! calls to start, watch and end others:
//!
//! - [`Command`] / [`spawn`]: load an ELF file from the namespace and run
//!   it as a child, on a budget split from the caller's;
//! - [`Process`]: a child: [`Process::wait`], [`Process::try_wait`],
//!   [`Process::kill`]; [`wait_any`] for whichever child ends first;
//! - [`fork`]: a copy of the caller, as its child; [`Command::exec`]: another
//!   program in place of the caller's;
//! - [`ids`], [`list`]: who the caller is, and every process.
//!
//! Every call returns `ProcError`, a small typed set (`docs/processes.md`
//! lists which call gives which). A program with no `proc` capability in
//! its startup page gets `NoSuchProcess` from all of them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod child;
mod command;
mod exec;
mod fork;
mod server;

pub use child::{Process, try_wait_any, wait_any};
pub use command::{Command, Stdio, spawn};
pub use fork::{Fork, fork};
pub use protocols::proc::{End, Pid, ProcError};
pub use server::{ProcInfo, ids, list};
