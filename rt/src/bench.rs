//! Timing for benchmarks: serialised TSC reads and percentile summaries.
//!
//! Under QEMU with `-icount shift=0` the TSC advances once per guest
//! instruction, so these read exact instruction counts.

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

/// Median, 10th and 90th percentile of `samples` (sorted in place).
pub fn summarize(samples: &mut [u64]) -> (u64, u64, u64) {
    if samples.is_empty() {
        return (0, 0, 0);
    }
    samples.sort_unstable();
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    (at(50), at(10), at(90))
}
