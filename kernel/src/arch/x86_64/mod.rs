//! x86_64 support: one file per hardware concept.

/// Assembly that pushes the general-purpose registers so that, with the
/// vector and error code above them, they form a `context::UserContext`.
macro_rules! push_gprs {
    () => {
        "push rax\npush rbx\npush rcx\npush rdx\npush rsi\npush rdi\npush rbp\npush r8\n\
         push r9\npush r10\npush r11\npush r12\npush r13\npush r14\npush r15\n"
    };
}

/// Assembly that pops what `push_gprs!` pushed.
macro_rules! pop_gprs {
    () => {
        "pop r15\npop r14\npop r13\npop r12\npop r11\npop r10\npop r9\npop r8\n\
         pop rbp\npop rdi\npop rsi\npop rdx\npop rcx\npop rbx\npop rax\n"
    };
}

pub mod acpi;
pub mod apic;
pub mod boot;
pub mod context;
pub mod cpu;
pub mod debugcon;
pub mod fpu;
pub mod gdt;
pub mod gsi;
pub mod idt;
pub mod ioapic;
pub mod irq;
pub mod paging;
mod pic;
mod pit;
pub mod pvh;
pub mod qemu;
pub mod random;
pub mod switch;
pub mod syscall_entry;
pub mod timer;
pub mod tlb;
pub mod trap;
pub mod tsc;
pub mod user_tables;
pub mod usercopy;

pub use context::UserContext;
pub use fpu::FpuArea;
pub use switch::{
    ResumeTarget, allow_interrupts, read_tls_bases, resume, resume_caller, wait_for_interrupt,
    write_fs_base, write_tls_bases,
};
pub use trap::{Fault, UserTrap, exception_name};
