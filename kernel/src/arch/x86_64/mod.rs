//! x86_64 support: one file per hardware concept.

pub mod apic;
pub mod boot;
pub mod context;
pub mod cpu;
pub mod fpu;
pub mod gdt;
pub mod idt;
pub mod paging;
pub mod pvh;
pub mod qemu;
pub mod serial;
pub mod switch;
pub mod syscall_entry;
pub mod trap;
pub mod usercopy;

pub use context::UserContext;
pub use fpu::FpuArea;
pub use switch::{ResumeTarget, read_tls_bases, resume, wait_for_interrupt, write_tls_bases};
pub use trap::{Fault, UserTrap, exception_name};
