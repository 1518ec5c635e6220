//! Kernel objects, one type per file.

pub mod aspace;
pub mod budget;
pub mod cspace;
pub mod endpoint;
pub mod ioports;
pub mod irq;
pub mod lifetime;
pub mod memory;
pub mod notification;
pub mod reply;
pub mod thread;
