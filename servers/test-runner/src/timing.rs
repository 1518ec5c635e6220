//! Timing for benchmarks: serialised TSC reads and percentile summaries.
//!
//! Under QEMU with `-icount shift=0` the TSC advances once per guest
//! instruction, so these read exact instruction counts.
#![allow(unsafe_code)]

use abi::syscall::{ArgRegs, RetRegs};

/// Reads the TSC after all earlier instructions complete (`lfence; rdtsc; lfence`).
#[inline(always)]
pub fn tsc_start() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc only read the time-stamp counter.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi,
                         options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Reads the TSC at the end of a measured interval (`lfence; rdtsc`).
#[inline(always)]
pub fn tsc_end() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: as in `tsc_start`.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi,
                         options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// One syscall between two TSC reads, for measuring kernel paths the way
/// sel4bench does. Returns the TSC before and after, the status word and
/// the result registers.
///
/// The instructions between the two reads are fixed (they are all inside
/// one `asm!` block); [`timed_nop`] runs the same block with the `syscall`
/// replaced by a two-byte nop, so `after - before - overhead` counts the
/// kernel path alone. When the syscall switches threads, the "after" of
/// the thread that runs next ends the interval (a leg).
#[inline(always)]
pub fn timed_syscall(number: u64, args: ArgRegs) -> Timed {
    timed::<SYSCALL>(number, args)
}

/// [`timed_syscall`] with the `syscall` replaced by a two-byte nop: the
/// measurement overhead.
#[inline(always)]
pub fn timed_nop(number: u64, args: ArgRegs) -> Timed {
    timed::<NOP>(number, args)
}

/// The same block as [`timed_syscall`] with `int3` in place of `syscall`:
/// a breakpoint exception (a trap, so the thread goes on after it when its
/// fault handler answers `RESUME`). Its overhead is [`timed_overhead`]'s,
/// one instruction for another. The result registers are whatever the
/// thread held (the kernel restores them all).
#[inline(always)]
pub fn timed_breakpoint() -> Timed {
    timed::<BREAKPOINT>(0, [0; 6])
}

/// What the timed block runs between its two TSC reads.
const NOP: u8 = 0;
const SYSCALL: u8 = 1;
const BREAKPOINT: u8 = 2;

/// The median overhead of one [`timed_syscall`] (from [`timed_nop`]).
pub fn timed_overhead() -> u64 {
    let mut samples = [0u64; 256];
    for sample in samples.iter_mut() {
        let t = timed_nop(0, [0; 6]);
        *sample = t.after - t.before;
    }
    summarize(&mut samples).0
}

/// What [`timed_syscall`] returns.
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    /// TSC just before the syscall.
    pub before: u64,
    /// TSC just after it returned.
    pub after: u64,
    /// The status word (0 = success).
    pub status: u64,
    /// The result registers.
    pub regs: RetRegs,
}

#[inline(always)]
fn timed<const OP: u8>(number: u64, args: ArgRegs) -> Timed {
    let (before, after, status, r2): (u64, u64, u64, u64);
    let (r0, r1, r3, r4, r5): (u64, u64, u64, u64, u64);
    macro_rules! block {
        ($op:literal) => {
            // SAFETY: as `sys::raw_syscall` (the kernel preserves every
            // register but rax, the result registers, rcx and r11; after
            // `int3` it restores every register), plus two TSC reads; the
            // block names every register it changes.
            unsafe {
                core::arch::asm!(
                    "lfence",
                    "rdtsc",
                    "shl rdx, 32",
                    "or rax, rdx",
                    "mov r12, rax",
                    "mov rax, r13",
                    "mov rdx, r14",
                    $op,
                    "mov r13, rax",
                    "mov r14, rdx",
                    "lfence",
                    "rdtsc",
                    "shl rdx, 32",
                    "or rax, rdx",
                    out("rax") after,
                    out("rdx") _,
                    out("r12") before,
                    inlateout("r13") number => status,
                    inlateout("r14") args[2] => r2,
                    inlateout("rdi") args[0] => r0,
                    inlateout("rsi") args[1] => r1,
                    inlateout("r10") args[3] => r3,
                    inlateout("r8") args[4] => r4,
                    inlateout("r9") args[5] => r5,
                    out("rcx") _,
                    out("r11") _,
                    options(nostack),
                )
            }
        };
    }
    match OP {
        SYSCALL => block!("syscall"),
        BREAKPOINT => block!("int3"),
        _ => block!(".byte 0x66, 0x90"),
    }
    Timed {
        before,
        after,
        status,
        regs: [r0, r1, r2, r3, r4, r5],
    }
}

/// Median, 10th and 90th percentile of `samples` (sorted in place).
pub fn summarize(samples: &mut [u64]) -> (u64, u64, u64) {
    if samples.is_empty() {
        return (0, 0, 0);
    }
    samples.sort_unstable();
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    (at(50), at(10), at(90))
}
