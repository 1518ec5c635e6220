//! Time: the tick count and the monotonic clock (the TSC, calibrated at boot).

use core::sync::atomic::{AtomicU64, Ordering};

static TICKS: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(1);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);

/// Records the TSC frequency and the TSC value that counts as time zero.
pub fn init(tsc_hz: u64, tsc_at_boot: u64) {
    TSC_HZ.store(tsc_hz.max(1), Ordering::Relaxed);
    TSC_AT_BOOT.store(tsc_at_boot, Ordering::Relaxed);
}

/// Counts one timer interrupt.
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Timer interrupts so far.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Lets a pending interrupt in; true if a timer tick arrived (the long
/// operation that asks should then stop and be restarted).
pub fn preemption_point() -> bool {
    let before = ticks();
    crate::arch::allow_interrupts();
    ticks() != before
}

/// TSC ticks per second.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since boot; never goes backwards on one CPU.
pub fn now_ns() -> u64 {
    let elapsed = crate::arch::tsc::now().saturating_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    let ns = u128::from(elapsed) * 1_000_000_000 / u128::from(tsc_hz());
    u64::try_from(ns).unwrap_or(u64::MAX)
}
