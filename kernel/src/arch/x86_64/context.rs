//! The saved user register state, and the per-CPU block the entry code reads
//! through `gs`.
//!
//! Entry from user mode saves registers straight into the current thread's
//! [`UserContext`] (the stackless design, as in seL4): `syscall_entry`
//! points `rsp` at the context's end and pushes; for interrupts and
//! exceptions the TSS's `rsp0` points there, so the CPU pushes its frame
//! into the context itself. Only then does the kernel switch to the per-CPU
//! kernel stack.

use core::mem::offset_of;

/// `vector` value that marks a context saved by `syscall` (return with `sysret`).
pub const SYSCALL_VECTOR: u64 = 0x100;

/// User registers, in the order the entry code pushes them (lowest address
/// first). The last five words are the hardware interrupt frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UserContext {
    /// General-purpose registers.
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception vector, or [`SYSCALL_VECTOR`].
    pub vector: u64,
    /// Exception error code (0 when the exception has none).
    pub error_code: u64,
    /// Hardware frame.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(core::mem::size_of::<UserContext>() == 22 * 8);
const _: () = assert!(offset_of!(UserContext, vector) == 15 * 8);

/// Interrupts enabled, plus the reserved always-one bit.
const USER_RFLAGS_SET: u64 = 0x202;

impl UserContext {
    /// A fresh context that starts at `entry` with stack `stack` and `arg`
    /// in `rdi`, interrupts on.
    pub fn new_user(entry: u64, stack: u64, arg: u64) -> UserContext {
        UserContext {
            rip: entry,
            rsp: stack,
            rdi: arg,
            rflags: USER_RFLAGS_SET,
            cs: u64::from(super::gdt::USER_CODE_SELECTOR),
            ss: u64::from(super::gdt::USER_DATA_SELECTOR),
            ..UserContext::default()
        }
    }

    /// The syscall number and arguments, in the order `abi::syscall` defines.
    pub fn syscall_args(&self) -> (u64, [u64; 6]) {
        (
            self.rax,
            [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9],
        )
    }

    /// Sets the status and result registers of a syscall.
    pub fn set_syscall_result(&mut self, status: u64, values: [u64; 6]) {
        self.rax = status;
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9] = values;
    }
}

/// Per-CPU data the assembly entry paths read at fixed offsets from `gs`.
#[repr(C)]
pub struct PerCpu {
    /// Top of this CPU's kernel stack.
    pub kernel_stack_top: u64,
    /// One past the end of the running thread's [`UserContext`].
    pub context_top: u64,
    /// Scratch slot for the user `rsp` during `syscall` entry.
    pub user_rsp: u64,
    /// Non-zero when SMAP is on (the entry code then runs `clac`).
    pub smap: u64,
}

/// Offsets used by the assembly.
pub const PERCPU_KERNEL_STACK_TOP: usize = offset_of!(PerCpu, kernel_stack_top);
/// See [`PerCpu::context_top`].
pub const PERCPU_CONTEXT_TOP: usize = offset_of!(PerCpu, context_top);
/// See [`PerCpu::user_rsp`].
pub const PERCPU_USER_RSP: usize = offset_of!(PerCpu, user_rsp);
/// See [`PerCpu::smap`].
pub const PERCPU_SMAP: usize = offset_of!(PerCpu, smap);
