//! User FPU/SSE/AVX state: saved with XSAVE where the CPU has it (else
//! FXSAVE) when the CPU switches between user threads.
//!
//! The kernel itself never touches FPU or vector registers (the
//! `x86_64-unknown-none` target is soft-float), so user state stays live in
//! the registers across syscalls and is saved only on a thread switch.
//! XCR0 enables x87, SSE, AVX and AVX-512 when present, but only as long as
//! the save area fits [`FpuArea`] (SDM Vol. 1 §13.2-13.3).

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

/// Bytes of the per-thread save area.
pub const FPU_AREA_BYTES: usize = 3072;

/// A thread's saved FPU state (XSAVE standard format or FXSAVE format).
#[repr(C, align(64))]
pub struct FpuArea(pub [u8; FPU_AREA_BYTES]);

static USE_XSAVE: AtomicBool = AtomicBool::new(false);

/// x87 | SSE | AVX.
const XCR0_AVX: u64 = 0b111;
/// AVX-512 opmask, ZMM_Hi256, Hi16_ZMM.
const XCR0_AVX512: u64 = 0b1110_0000;

impl FpuArea {
    /// The initial state: everything zero, FCW 0x37f and MXCSR 0x1f80 (all
    /// exceptions masked); an all-zero XSAVE header means "initial state"
    /// for every other component.
    pub fn init(&mut self) {
        self.0.fill(0);
        self.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        self.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    }
}

/// Programs XCR0 when XSAVE is on; returns the bytes of state saved per thread.
pub fn init(xsave: bool) -> usize {
    if !xsave {
        return 512;
    }
    // CPUID.(EAX=0DH,ECX=0): EDX:EAX = XCR0 bits the CPU supports.
    let leaf = core::arch::x86_64::__cpuid_count(0xd, 0);
    let supported = (u64::from(leaf.edx) << 32) | u64::from(leaf.eax);
    let mut xcr0 = supported & XCR0_AVX;
    if supported & XCR0_AVX512 == XCR0_AVX512 {
        xcr0 |= XCR0_AVX512;
    }
    let mut size = set_xcr0(xcr0);
    if size > FPU_AREA_BYTES {
        xcr0 &= XCR0_AVX;
        size = set_xcr0(xcr0);
    }
    USE_XSAVE.store(true, Ordering::Relaxed);
    size
}

fn set_xcr0(xcr0: u64) -> usize {
    // SAFETY: CR4.OSXSAVE is set (cpu::init), and `xcr0` holds only
    // components CPUID reports as supported, with x87 and SSE always set
    // and AVX-512 only as its complete group.
    unsafe {
        asm!("xsetbv", in("ecx") 0, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32,
             options(nomem, nostack));
    }
    // CPUID.(EAX=0DH,ECX=0).EBX: bytes XSAVE writes for the enabled XCR0.
    core::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize
}

/// Saves the live user FPU state into `area`.
pub fn save(area: &mut FpuArea) {
    let ptr = area.0.as_mut_ptr();
    // SAFETY: `area` is 64-byte aligned and large enough for the enabled
    // state (checked in `init`); XSAVE/FXSAVE write only inside it.
    unsafe {
        if USE_XSAVE.load(Ordering::Relaxed) {
            asm!("xsave64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX,
                 options(nostack));
        } else {
            asm!("fxsave64 [{}]", in(reg) ptr, options(nostack));
        }
    }
}

/// Loads user FPU state from `area`.
pub fn restore(area: &FpuArea) {
    let ptr = area.0.as_ptr();
    // SAFETY: `area` holds either the initial image from `FpuArea::init`
    // (valid: MXCSR reserved bits clear, zero XSAVE header) or what `save`
    // wrote; user code cannot write it, so XRSTOR/FXRSTOR cannot fault.
    unsafe {
        if USE_XSAVE.load(Ordering::Relaxed) {
            asm!("xrstor64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX,
                 options(nostack));
        } else {
            asm!("fxrstor64 [{}]", in(reg) ptr, options(nostack));
        }
    }
}

/// Makes the next FPU/SSE instruction in user mode trap with #NM (CR0.TS),
/// so the state is switched only for threads that use it (lazy switch).
pub fn trap_next_use() {
    // SAFETY: setting CR0.TS only makes FPU/SSE instructions raise #NM;
    // the kernel itself uses none (the target has no SSE) except
    // XSAVE/FXSAVE in `save`/`restore`, which run after `allow_use`.
    unsafe {
        x86_64::registers::control::Cr0::update(|flags| {
            flags.insert(x86_64::registers::control::Cr0Flags::TASK_SWITCHED)
        })
    };
}

/// Lets FPU/SSE instructions run again (`clts`).
pub fn allow_use() {
    // SAFETY: clearing CR0.TS has no effect beyond letting FPU
    // instructions execute without #NM.
    unsafe { core::arch::asm!("clts", options(nomem, nostack, preserves_flags)) };
}
