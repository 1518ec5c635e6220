//! CPU features, control registers and the per-CPU block.
//!
//! Turns on every protection the CPU offers (SMEP, SMAP, UMIP, WP; NX is
//! already on from the boot code) and
//! the FPU/SSE/XSAVE state the user may use, and reports what it found.

use core::ptr::addr_of_mut;
use raw_cpuid::CpuId;
use x86_64::VirtAddr;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{GsBase, KernelGsBase};

use super::context::PerCpu;
use crate::config::KERNEL_STACK_BYTES;

/// What the CPU offers and what the kernel turned on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Features {
    /// No-execute pages (EFER.NXE, set by the boot code).
    pub nx: bool,
    /// Supervisor-mode execution prevention.
    pub smep: bool,
    /// Supervisor-mode access prevention.
    pub smap: bool,
    /// User-mode instruction prevention.
    pub umip: bool,
    /// XSAVE (else FXSAVE) for FPU state.
    pub xsave: bool,
    /// User-mode `rdfsbase`/`wrfsbase`.
    pub fsgsbase: bool,
    /// Global pages.
    pub pge: bool,
    /// Local APIC present.
    pub apic: bool,
    /// RDRAND (CPUID.01H:ECX bit 30).
    pub rdrand: bool,
    /// RDSEED (CPUID.(EAX=07H,ECX=0):EBX bit 18).
    pub rdseed: bool,
}

impl Features {
    /// The `abi::boot::cpu` bits of what was turned on (not
    /// `cpu::RDRAND`, which says where the boot entropy came from).
    pub fn abi_bits(&self) -> u64 {
        use abi::boot::cpu;
        let mut bits = 0;
        for (on, bit) in [
            (self.smep, cpu::SMEP),
            (self.smap, cpu::SMAP),
            (self.umip, cpu::UMIP),
            (self.xsave, cpu::XSAVE),
            (self.nx, cpu::NX),
            (self.fsgsbase, cpu::FSGSBASE),
            (self.apic, cpu::APIC),
        ] {
            if on {
                bits |= bit;
            }
        }
        bits
    }
}

static mut PERCPU: PerCpu = PerCpu {
    kernel_stack_top: 0,
    context_top: 0,
    user_rsp: 0,
    smap: 0,
};

/// Reads CPUID and enables the protections and FPU modes it offers.
pub fn init() -> Features {
    let cpuid = CpuId::new();
    let basic = cpuid.get_feature_info();
    let extended = cpuid.get_extended_feature_info();
    let ext_fn = cpuid.get_extended_processor_and_feature_identifiers();
    let f = Features {
        nx: ext_fn.as_ref().is_some_and(|e| e.has_execute_disable()),
        smep: extended.as_ref().is_some_and(|e| e.has_smep()),
        smap: extended.as_ref().is_some_and(|e| e.has_smap()),
        umip: extended.as_ref().is_some_and(|e| e.has_umip()),
        xsave: basic.as_ref().is_some_and(|b| b.has_xsave()),
        fsgsbase: extended.as_ref().is_some_and(|e| e.has_fsgsbase()),
        pge: basic.as_ref().is_some_and(|b| b.has_pge()),
        apic: basic.as_ref().is_some_and(|b| b.has_apic()),
        rdrand: basic.as_ref().is_some_and(|b| b.has_rdrand()),
        rdseed: extended.as_ref().is_some_and(|e| e.has_rdseed()),
    };

    let mut cr4 = Cr4::read() | Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE;
    for (on, flag) in [
        (f.pge, Cr4Flags::PAGE_GLOBAL),
        (f.smep, Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
        (f.smap, Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION),
        (f.umip, Cr4Flags::USER_MODE_INSTRUCTION_PREVENTION),
        (f.fsgsbase, Cr4Flags::FSGSBASE),
        (f.xsave, Cr4Flags::OSXSAVE),
    ] {
        if on {
            cr4 |= flag;
        }
    }
    // SAFETY: every bit set is supported per CPUID; the kernel touches user
    // memory only inside the usercopy routine, which opens SMAP with `stac`;
    // it never executes user pages (SMEP); it does not use `sgdt`/`sidt` in
    // ring 3 (UMIP).
    unsafe { Cr4::write(cr4) };
    if f.fsgsbase {
        super::switch::use_fsgsbase();
    }

    let mut cr0 = Cr0::read();
    cr0.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
    cr0.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::NUMERIC_ERROR | Cr0Flags::WRITE_PROTECT);
    // SAFETY: enables the FPU natively (no #NM traps) and keeps
    // write-protection of read-only pages in ring 0; paging stays on.
    unsafe { Cr0::write(cr0) };
    f
}

/// Sets up this CPU's per-CPU block and points `gs` at it (and the user's
/// `gs` base, swapped in by `swapgs`, at 0).
pub fn init_percpu(kernel_stack_base: u64, smap: bool) {
    // SAFETY: boot CPU, once, interrupts off: no other reference to PERCPU
    // exists; afterwards only the entry assembly and `set_context_top` use it.
    let percpu = unsafe { &mut *addr_of_mut!(PERCPU) };
    // The base is a kernel stack's address, its end inside the image.
    percpu.kernel_stack_top = kernel_stack_base.wrapping_add(KERNEL_STACK_BYTES as u64);
    percpu.smap = u64::from(smap);
    GsBase::write(VirtAddr::new(percpu as *mut PerCpu as u64));
    KernelGsBase::write(VirtAddr::new(0));
}

/// Records where the next entry from ring 3 saves the user registers
/// (two stores: cheaper than comparing first).
#[inline(always)]
pub fn set_context_top(top: u64) {
    // SAFETY: only the running CPU uses its per-CPU block, with interrupts
    // off; the entry assembly reads the field only on a later entry.
    let percpu = unsafe { &mut *addr_of_mut!(PERCPU) };
    percpu.context_top = top;
    super::gdt::set_user_entry_stack(top);
}
