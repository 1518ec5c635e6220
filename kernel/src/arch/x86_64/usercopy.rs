//! The one routine that touches user memory, and its exception-table entry.
//!
//! `usercopy_raw` copies with `rep movsb` between `stac` and `clac` (when SMAP
//! is on: user pages are otherwise off-limits to ring 0). If the copy faults,
//! the page-fault or general-protection handler sees a kernel-mode fault at
//! `usercopy_fault_ip` and resumes at `usercopy_fixup` instead of panicking,
//! which returns 1. Callers (`crate::usercopy`) have already checked that the
//! range lies inside user space.

use super::context::PERCPU_SMAP;

core::arch::global_asm!(
    r#"
    .section .text.usercopy, "ax"
    .global usercopy_raw
    .balign 16
usercopy_raw:
    mov rcx, rdx
    cmp qword ptr gs:[{smap}], 0
    je 1f
    stac
1:
    .global usercopy_fault_ip
usercopy_fault_ip:
    rep movsb
    cmp qword ptr gs:[{smap}], 0
    je 2f
    clac
2:
    xor eax, eax
    ret

    .global usercopy_fixup
usercopy_fixup:
    cmp qword ptr gs:[{smap}], 0
    je 3f
    clac
3:
    mov eax, 1
    ret
    "#,
    smap = const PERCPU_SMAP,
);

unsafe extern "C" {
    fn usercopy_raw(dst: *mut u8, src: *const u8, len: usize) -> u64;
    static usercopy_fault_ip: u8;
    static usercopy_fixup: u8;
}

/// Copies `len` bytes from `src` to `dst`, where one side is user memory.
/// Returns `false` if a page fault or protection fault stopped the copy.
///
/// # Safety
/// 1. The user-side range lies entirely inside user space
///    (`abi::layout::is_user_range`), so a fault there cannot corrupt the kernel.
/// 2. The kernel-side range is valid for `len` bytes of reads (`src`) or
///    writes (`dst`) and not aliased by a live Rust reference.
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> bool {
    // SAFETY: forwarded from the caller's obligations; the asm touches only
    // the two ranges and recovers from faults on the user side.
    unsafe { usercopy_raw(dst, src, len) == 0 }
}

/// If a kernel-mode fault at `rip` is inside the copy, where to resume.
pub fn fixup_for(rip: u64) -> Option<u64> {
    (rip == &raw const usercopy_fault_ip as u64).then_some(&raw const usercopy_fixup as u64)
}

/// Copies `len` bytes from `src` to `dst` with `rep movsb`, the idiom of
/// `usercopy_raw` (and of Linux's copies on this CPU), for kernel ranges
/// that cannot fault: both in the direct map (the bytes of a message,
/// `crate::ipc_bytes`).
///
/// # Safety
/// Both ranges must be valid for `len` bytes and `dst` writable, and
/// neither may be a Rust object the kernel holds a reference to. They may
/// overlap: `rep movsb` copies forward a byte at a time.
pub unsafe fn copy_direct(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller's contract; `rep movsb` touches exactly the two
    // ranges, with the direction flag clear as the ABI keeps it.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}
