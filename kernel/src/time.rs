//! Time: the tick count and the monotonic clock.
//!
//! The clock is the TSC, calibrated at boot, turned into nanoseconds since
//! the kernel's first instruction by the fixed-point formula of
//! `abi::clock`. The kernel publishes the formula's parameters in the
//! clock page, mapped read-only at `abi::layout::CLOCK_PAGE_ADDR` in every
//! address space (through the shared root entry, `user_tables`), so user
//! space reads the same clock without a syscall; [`now_ns`] uses the very
//! same parameters, so a deadline a program computes from the page is
//! reached at the same instant in the kernel.
//!
//! The page is written once, at boot: on one CPU the TSC is monotonic, and
//! the parameters never change. `TSC_INVARIANT` in the page says whether
//! the CPU also promises a constant rate (see `abi::clock`).

use core::sync::atomic::{AtomicU64, Ordering};

use abi::clock::{ClockPage, ClockParams, flags};

use crate::mem::{frame, phys};

static TICKS: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(1);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
static MULT: AtomicU64 = AtomicU64::new(0);
static SHIFT: AtomicU64 = AtomicU64::new(0);

/// Records the TSC frequency and the TSC value that counts as time zero,
/// and publishes them in the clock page (mapped into every address space
/// made from now on).
///
/// # Panics
/// If no frame is free for the page (at boot).
pub fn init(tsc_hz: u64, tsc_at_boot: u64, tsc_invariant: bool) {
    let params = ClockParams::from_tsc_hz(tsc_hz.max(1));
    TSC_HZ.store(params.tsc_hz, Ordering::Relaxed);
    TSC_AT_BOOT.store(tsc_at_boot, Ordering::Relaxed);
    MULT.store(params.mult, Ordering::Relaxed);
    SHIFT.store(u64::from(params.shift), Ordering::Relaxed);

    let page = frame::alloc_zeroed()
        .expect("a frame for the clock page at boot")
        .addr();
    let mut master = ClockPage::default();
    master.publish(
        |clock| {
            clock.set_params(params);
            clock.tsc_base = tsc_at_boot;
            clock.ns_base = 0;
            clock.flags = flags::TSC_CLOCK;
            if tsc_invariant {
                clock.flags |= flags::TSC_INVARIANT;
            }
        },
        // `offset` is a field's offset inside the clock page.
        |offset, value| phys::write_u64(page.wrapping_add(offset as u64), value),
    );
    crate::arch::user_tables::map_shared_page(abi::layout::CLOCK_PAGE_ADDR, page);
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

/// The first TSC value at which [`now_ns`] reaches `ns` (what a deadline
/// timer is armed for, so that it never fires early).
pub fn tsc_at(ns: u64) -> u64 {
    let mut clock = ClockPage::default();
    clock.set_params(ClockParams {
        tsc_hz: tsc_hz(),
        mult: MULT.load(Ordering::Relaxed),
        shift: SHIFT.load(Ordering::Relaxed) as u32,
    });
    clock.tsc_base = TSC_AT_BOOT.load(Ordering::Relaxed);
    clock.ns_to_tsc(ns)
}

/// Nanoseconds since boot, by the clock page's formula; never goes
/// backwards on one CPU.
pub fn now_ns() -> u64 {
    let params = ClockParams {
        tsc_hz: tsc_hz(),
        mult: MULT.load(Ordering::Relaxed),
        shift: SHIFT.load(Ordering::Relaxed) as u32,
    };
    let elapsed = crate::arch::tsc::now().saturating_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    params.delta_to_ns(elapsed)
}
