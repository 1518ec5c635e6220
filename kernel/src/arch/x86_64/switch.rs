//! Leaving the kernel for a user thread: point the entry paths at its saved
//! context, switch address space and return to ring 3. Also the per-thread
//! FS/GS base registers (TLS), which the kernel swaps on a thread switch.

use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{FsBase, KernelGsBase};

use super::context::UserContext;

/// What the CPU needs to run a user thread.
pub struct ResumeTarget {
    /// The thread's saved registers (inside its thread object).
    pub context: *const UserContext,
    /// Physical address of the root of its page tables.
    pub root: u64,
}

/// Runs the user thread described by `target`; never returns.
#[inline(always)]
pub fn resume(target: ResumeTarget) -> ! {
    // The context is inside a `Thread` in the direct map.
    let top = (target.context as u64).wrapping_add(core::mem::size_of::<UserContext>() as u64);
    super::cpu::set_context_top(top);
    super::paging::activate_phys(target.root);
    // SAFETY: the scheduler chose this thread under the kernel lock and
    // nothing can destroy it before it runs: this CPU is the only one in the
    // kernel and runs with interrupts off until the return to ring 3.
    let context = unsafe { &*target.context };
    super::syscall_entry::resume_user(context)
}

/// Whether the CPU has the FSGSBASE instructions (and CR4.FSGSBASE is on):
/// then the TLS bases are read and written without MSR accesses.
static FSGSBASE: AtomicBool = AtomicBool::new(false);

/// Called once by `cpu::init` after it set CR4.FSGSBASE.
pub(super) fn use_fsgsbase() {
    FSGSBASE.store(true, Ordering::Relaxed);
}

/// Returns to the thread that made the syscall being handled: its saved
/// context, address space and TLS bases are the live ones already.
#[inline(always)]
pub fn resume_caller(context: *const UserContext) -> ! {
    // SAFETY: as in `resume`: the context is the running thread's, inside
    // its thread object, which nothing can destroy before it runs.
    super::syscall_entry::resume_user(unsafe { &*context })
}

/// The user's FS and GS base of the thread that ran last (GS is in
/// KERNEL_GS_BASE while the kernel runs, after `swapgs`).
#[inline(always)]
pub fn read_tls_bases() -> (u64, u64) {
    if FSGSBASE.load(Ordering::Relaxed) {
        let (fs, gs): (u64, u64);
        // SAFETY: CR4.FSGSBASE is on (`use_fsgsbase`). The `swapgs` pair
        // makes the user's GS base current for one instruction; interrupts
        // are off and no exception handler uses `gs`, so nothing sees it.
        unsafe {
            core::arch::asm!("rdfsbase {fs}", "swapgs", "rdgsbase {gs}", "swapgs",
                             fs = out(reg) fs, gs = out(reg) gs,
                             options(nomem, nostack, preserves_flags))
        };
        (fs, gs)
    } else {
        // Raw MSR reads: the values are whatever user mode left (always
        // canonical, the CPU refuses others), so no VirtAddr check is needed.
        (read_msr(FS_BASE_MSR), read_msr(KERNEL_GS_BASE_MSR))
    }
}

const FS_BASE_MSR: u32 = 0xc000_0100;
const KERNEL_GS_BASE_MSR: u32 = 0xc000_0102;

#[inline(always)]
fn read_msr(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: FS_BASE and KERNEL_GS_BASE exist on every x86_64 CPU and
    // reading them has no side effect.
    unsafe {
        core::arch::asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high,
                         options(nomem, nostack, preserves_flags))
    };
    u64::from(high) << 32 | u64::from(low)
}

/// Loads a thread's FS base alone (canonical: `ThreadWriteRegs` checks),
/// when its GS base is the one live already: one instruction with
/// FSGSBASE, and inline, where `write_tls_bases` swaps GS twice in a call.
#[inline(always)]
pub fn write_fs_base(fs: u64) {
    if FSGSBASE.load(Ordering::Relaxed) {
        // SAFETY: CR4.FSGSBASE is on (`use_fsgsbase`); the value is
        // canonical, so the write cannot fault.
        unsafe {
            core::arch::asm!("wrfsbase {fs}", fs = in(reg) fs,
                             options(nomem, nostack, preserves_flags))
        };
    } else {
        FsBase::write(VirtAddr::new_truncate(fs));
    }
}

/// Loads a thread's FS and GS base (canonical: `ThreadWriteRegs` checks).
pub fn write_tls_bases(fs: u64, gs: u64) {
    if FSGSBASE.load(Ordering::Relaxed) {
        // SAFETY: as in `read_tls_bases`; the values are canonical, so the
        // writes cannot fault.
        unsafe {
            core::arch::asm!("wrfsbase {fs}", "swapgs", "wrgsbase {gs}", "swapgs",
                             fs = in(reg) fs, gs = in(reg) gs,
                             options(nomem, nostack, preserves_flags))
        };
    } else {
        FsBase::write(VirtAddr::new_truncate(fs));
        KernelGsBase::write(VirtAddr::new_truncate(gs));
    }
}

/// Halts until the next interrupt, with interrupts on only while halted.
pub fn wait_for_interrupt() {
    x86_64::instructions::interrupts::enable_and_hlt();
    x86_64::instructions::interrupts::disable();
}

/// A preemption point inside a long kernel operation: lets one pending
/// interrupt in (taken on this kernel stack by `trap_from_kernel`, which
/// touches no kernel state but the tick count), then masks them again.
pub fn allow_interrupts() {
    // SAFETY: `sti` takes effect after the next instruction, so a pending
    // interrupt is delivered at the `nop` and nowhere else; its kernel-mode
    // handler only counts the tick and sends EOI, so the state the caller
    // holds (the kernel lock and its objects) is not touched.
    unsafe { core::arch::asm!("sti", "nop", "cli", options(nomem, nostack)) };
}
