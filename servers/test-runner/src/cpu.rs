//! Direct CPU instructions the tests need: deliberately forbidden acts that
//! must fault (each run in a thread of its own, which the kernel kills),
//! direct access to FPU and FS-base registers, and CPUID.
//!
//! This is the only unsafe code under `servers/` (xtask's layering check
//! allows exactly this file): the point of these functions is to do what
//! safe code cannot, to prove the kernel survives it.
#![allow(unsafe_code)]

use core::arch::asm;

/// Reads a byte at `addr` (expected to fault).
pub fn read_at(addr: u64) -> u64 {
    // SAFETY: deliberately unsound: the test expects this read to fault and
    // the kernel to kill this thread.
    u64::from(unsafe { core::ptr::read_volatile(addr as *const u8) })
}

/// Reads a whole word at `addr` (the clock page's words).
pub fn read_u64_at(addr: u64) -> u64 {
    // SAFETY: the callers read the clock page, mapped read-only in every
    // address space; a bad address faults and the kernel kills the thread.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes a byte at `addr` (to make it fault).
pub fn write_at(addr: u64) -> u64 {
    // SAFETY: deliberately unsound, as in `read_at`.
    unsafe { core::ptr::write_volatile(addr as *mut u8, 0x5a) };
    0
}

/// Calls code at `addr` (expected to fault).
pub fn jump_to(addr: u64) -> u64 {
    // SAFETY: deliberately unsound: `addr` is not code; the fetch faults.
    unsafe { asm!("call {}", in(reg) addr, clobber_abi("C")) };
    0
}

/// `hlt` in ring 3.
pub fn hlt(_: u64) -> u64 {
    // SAFETY: privileged; faults with #GP in ring 3.
    unsafe { asm!("hlt") };
    0
}

/// `cli` in ring 3.
pub fn cli(_: u64) -> u64 {
    // SAFETY: IOPL is 0, so this faults with #GP in ring 3.
    unsafe { asm!("cli") };
    0
}

/// `mov cr3, rax` in ring 3.
pub fn mov_cr3(_: u64) -> u64 {
    // SAFETY: privileged; faults with #GP in ring 3.
    unsafe { asm!("mov rax, 0x1000", "mov cr3, rax", out("rax") _) };
    0
}

/// `in al, 0x60` without I/O permission.
pub fn port_in(_: u64) -> u64 {
    // SAFETY: no I/O permission bitmap and IOPL 0: faults with #GP.
    unsafe { asm!("in al, 0x60", out("al") _) };
    0
}

/// `out 0x80, al` without I/O permission.
pub fn port_out(_: u64) -> u64 {
    // SAFETY: as in `port_in`.
    unsafe { asm!("out 0x80, al", in("al") 0u8) };
    0
}

/// Integer division by zero.
pub fn divide(_: u64) -> u64 {
    // SAFETY: `div` by zero raises #DE; no memory is touched.
    unsafe {
        asm!("xor edx, edx", "mov eax, 1", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
    };
    0
}

/// `int3`.
pub fn int3(_: u64) -> u64 {
    // SAFETY: raises #BP; no memory effect.
    unsafe { asm!("int3") };
    0
}

/// `ud2`.
pub fn ud2(_: u64) -> u64 {
    // SAFETY: raises #UD; no memory effect.
    unsafe { asm!("ud2") };
    0
}

/// `int 0x80` (its gate has DPL 0).
pub fn int80(_: u64) -> u64 {
    // SAFETY: raises #GP in ring 3; no memory effect.
    unsafe { asm!("int 0x80") };
    0
}

/// Loads `rsp` with `value` and pushes (expected to fault).
pub fn push_with_stack(value: u64) -> u64 {
    // SAFETY: deliberately unsound: the push through a bad stack pointer
    // faults and the kernel kills this thread before rsp is used again.
    unsafe { asm!("mov rsp, {}", "push rax", in(reg) value, options(noreturn)) }
}

/// Makes a `Null` syscall with `rsp` = `value`, then restores `rsp`;
/// returns the syscall status (the kernel must not touch the user stack).
pub fn syscall_with_stack(value: u64) -> u64 {
    let status: u64;
    // SAFETY: rsp is saved in r12 and restored before anything uses the
    // stack; the syscall itself does not use the user stack.
    unsafe {
        asm!(
            "mov r12, rsp",
            "mov rsp, {bad}",
            "syscall",
            "mov rsp, r12",
            bad = in(reg) value,
            inlateout("rax") 0u64 => status,
            out("r12") _, out("rcx") _, out("r11") _,
        );
    }
    status
}

/// `sgdt` into a local buffer; faults when UMIP is on.
pub fn sgdt(_: u64) -> u64 {
    let mut buffer = [0u8; 10];
    // SAFETY: `sgdt` writes 10 bytes into `buffer`; under UMIP it faults.
    unsafe { asm!("sgdt [{}]", in(reg) buffer.as_mut_ptr()) };
    u64::from(buffer[0])
}

/// Fills xmm0..xmm15 with `seed`-derived values.
pub fn xmm_fill(seed: u64) {
    let mut values = [0u64; 32];
    for (i, v) in values.iter_mut().enumerate() {
        *v = seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(i as u64);
    }
    // SAFETY: loads 16 x 16 bytes from `values`, which is 256 bytes; writes
    // only vector registers, which the kernel saves per thread.
    unsafe {
        asm!(
            "movdqu xmm0, [{p}]", "movdqu xmm1, [{p} + 16]", "movdqu xmm2, [{p} + 32]", "movdqu xmm3, [{p} + 48]",
            "movdqu xmm4, [{p} + 64]", "movdqu xmm5, [{p} + 80]", "movdqu xmm6, [{p} + 96]", "movdqu xmm7, [{p} + 112]",
            "movdqu xmm8, [{p} + 128]", "movdqu xmm9, [{p} + 144]", "movdqu xmm10, [{p} + 160]", "movdqu xmm11, [{p} + 176]",
            "movdqu xmm12, [{p} + 192]", "movdqu xmm13, [{p} + 208]", "movdqu xmm14, [{p} + 224]", "movdqu xmm15, [{p} + 240]",
            p = in(reg) values.as_ptr(),
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _, out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _, out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        );
    }
}

/// Whether xmm0..xmm15 still hold what `xmm_fill(seed)` put there.
pub fn xmm_check(seed: u64) -> bool {
    let mut values = [0u64; 32];
    // SAFETY: stores 16 x 16 bytes into `values` (256 bytes).
    unsafe {
        asm!(
            "movdqu [{p}], xmm0", "movdqu [{p} + 16], xmm1", "movdqu [{p} + 32], xmm2", "movdqu [{p} + 48], xmm3",
            "movdqu [{p} + 64], xmm4", "movdqu [{p} + 80], xmm5", "movdqu [{p} + 96], xmm6", "movdqu [{p} + 112], xmm7",
            "movdqu [{p} + 128], xmm8", "movdqu [{p} + 144], xmm9", "movdqu [{p} + 160], xmm10", "movdqu [{p} + 176], xmm11",
            "movdqu [{p} + 192], xmm12", "movdqu [{p} + 208], xmm13", "movdqu [{p} + 224], xmm14", "movdqu [{p} + 240], xmm15",
            p = in(reg) values.as_mut_ptr(),
        );
    }
    values.iter().enumerate().all(|(i, v)| {
        *v == seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(i as u64)
    })
}

/// CPUID leaf `leaf`, subleaf `subleaf`: `(eax, ebx, ecx, edx)`. User
/// mode may run it (the kernel does not fault it), so tests can compare
/// what the kernel reports with what the CPU says.
pub fn cpuid(leaf: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Sets the FS base (needs CR4.FSGSBASE).
pub fn write_fs_base(value: u64) {
    // SAFETY: changes only this thread's FS base, which Rust code here does
    // not use (no TLS in the runtime yet).
    unsafe { asm!("wrfsbase {}", in(reg) value) };
}

/// Reads the FS base (needs CR4.FSGSBASE).
pub fn read_fs_base() -> u64 {
    let value: u64;
    // SAFETY: reads a register.
    unsafe { asm!("rdfsbase {}", out(reg) value) };
    value
}

/// Sets the GS base from user mode (needs CR4.FSGSBASE).
pub fn write_gs_base(value: u64) {
    // SAFETY: changes only this thread's GS base, which Rust code here does
    // not use.
    unsafe { asm!("wrgsbase {}", in(reg) value) };
}

/// Reads the GS base (needs CR4.FSGSBASE).
pub fn read_gs_base() -> u64 {
    let value: u64;
    // SAFETY: reads a register.
    unsafe { asm!("rdgsbase {}", out(reg) value) };
    value
}

/// A thread body that ends at its first instruction, without touching
/// memory or its stack (for the thread life-cycle benchmark).
#[unsafe(naked)]
pub extern "C" fn exit_at_once() -> ! {
    core::arch::naked_asm!(
        "mov eax, {exit}",
        "xor edi, edi",
        "syscall",
        "ud2",
        exit = const abi::syscall::Syscall::ThreadExit as u64,
    )
}

/// Reads the word at `addr`, in memory a test mapped for itself (it may be
/// a lazy page the kernel fills on this access, or fault on purpose).
pub fn peek(addr: u64) -> u64 {
    // SAFETY: `addr` is 8-byte aligned in a region the test mapped, where
    // no Rust object lives; if it is not mapped the thread faults, which
    // is what such a test checks.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes `value` to the word at `addr` (as [`peek`]).
pub fn poke(addr: u64, value: u64) {
    // SAFETY: as in `peek`.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) }
}

/// Writes the byte `value` to `addr` (as [`peek`]).
pub fn poke_byte(addr: u64, value: u8) {
    // SAFETY: as in `peek`.
    unsafe { core::ptr::write_volatile(addr as *mut u8, value) }
}

/// Reads the byte at `addr` (as [`peek`]).
pub fn peek_byte(addr: u64) -> u8 {
    // SAFETY: as in `peek`.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

/// `out dx, al` then `in al, dx` on port `port` (allowed only to a thread
/// bound to an I/O port range holding it; else #GP). Returns 0.
pub fn port_out_in(port: u64) -> u64 {
    // SAFETY: port I/O has no memory effect; the tests use harmless ports
    // (0x80, the POST port, and 0x60 read); without permission it faults.
    unsafe {
        asm!("out dx, al", "in al, dx", in("dx") port as u16, inout("al") 0u8 => _);
    }
    0
}

/// One `out dx, al` on `port`, for the `ioport_out` benchmark.
#[inline(always)]
pub fn port_out_once(port: u16) {
    // SAFETY: as in `port_out_in`.
    unsafe { asm!("out dx, al", in("dx") port, in("al") 0u8, options(nomem, nostack)) };
}

/// `out port, value` (a thread bound to an I/O port range holding `port`).
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effect; callers use the RTC's index
    // and data ports (0x70-0x71), which only change the RTC's registers.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

/// `in port` (as for [`outb`]).
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as in `outb`.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack)) };
    value
}

/// The 32-bit word at `addr` (4-byte aligned, in memory a test or the
/// fuzzer mapped for itself and keeps mapped while it uses the reference),
/// as an atomic: futex words shared with other programs.
pub fn word_at(addr: u64) -> &'static core::sync::atomic::AtomicU32 {
    debug_assert!(addr.is_multiple_of(4));
    // SAFETY: `addr` is aligned and lies in a writable mapping the caller
    // made for this and does not remove while it uses the word; no Rust
    // object lives there, and every access to it (here and in other
    // programs) is atomic, so the shared reference aliases nothing.
    unsafe { &*(addr as *const core::sync::atomic::AtomicU32) }
}
