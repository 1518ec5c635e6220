//! Time: the monotonic clock, read from the clock page without a syscall.
//!
//! The kernel maps a read-only page at `abi::layout::CLOCK_PAGE_ADDR` in
//! every address space, holding the parameters that turn the TSC into
//! nanoseconds since boot (`abi::clock`, whose sequence-lock reader this
//! uses). A read is a few loads, a serialised `rdtsc` and a
//! multiply: no kernel entry. When the page says its formula is not the
//! kernel's clock, [`now_ns`] asks the kernel (`ClockRead`) instead.

pub use core::time::Duration;

use abi::clock::ClockPage;
use abi::layout::CLOCK_PAGE_ADDR;

/// Loads the word at byte `offset` of the clock page.
#[inline(always)]
fn load(offset: usize) -> u64 {
    debug_assert!(offset < core::mem::size_of::<ClockPage>() && offset.is_multiple_of(8));
    // SAFETY: the kernel maps the clock page, read-only, at CLOCK_PAGE_ADDR
    // in every address space before any user code runs, and never unmaps
    // it; `offset` is an 8-byte-aligned offset inside its 64-byte header
    // (the callers are `ClockPage`'s reader, which passes field offsets).
    unsafe { core::ptr::read_volatile((CLOCK_PAGE_ADDR + offset as u64) as *const u64) }
}

/// Reads the TSC once every earlier instruction has completed.
#[inline(always)]
fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc only read the time-stamp counter.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi,
                         options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The time-stamp counter, read once every earlier instruction has
/// completed: a cycle count (under QEMU's `-icount`, exactly the guest's
/// instructions), for benchmarks that time themselves.
#[inline(always)]
pub fn counter() -> u64 {
    tsc()
}

/// Nanoseconds since boot on the monotonic clock (the kernel's own).
/// Inlined: a read is about 35 instructions, less than a call's overhead
/// would add to it.
#[inline(always)]
pub fn now_ns() -> u64 {
    ClockPage::read_ns(load, tsc).unwrap_or_else(crate::sys::clock_read)
}

/// A point on the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    ns: u64,
}

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant { ns: now_ns() }
    }

    /// The instant `ns` nanoseconds after boot (for deadlines the kernel
    /// takes as nanoseconds).
    pub const fn from_nanos(ns: u64) -> Instant {
        Instant { ns }
    }

    /// Nanoseconds since boot: what the kernel's deadline arguments take.
    pub const fn as_nanos(self) -> u64 {
        self.ns
    }

    /// Time since `earlier` (zero if `earlier` is later).
    pub fn duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.ns.saturating_sub(earlier.ns))
    }

    /// Time since this instant.
    pub fn elapsed(self) -> Duration {
        Instant::now().duration_since(self)
    }

    /// The instant `duration` later, saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> Instant {
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Instant {
            ns: self.ns.saturating_add(ns),
        }
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the end of time.
    fn add(self, duration: Duration) -> Instant {
        self.saturating_add(duration)
    }
}

impl core::ops::Sub for Instant {
    type Output = Duration;

    /// Zero if `other` is later.
    fn sub(self, other: Instant) -> Duration {
        self.duration_since(other)
    }
}

/// The deadline `duration` from now, in the kernel's form (nanoseconds on
/// the monotonic clock), for the `_until` calls.
pub fn deadline_after(duration: Duration) -> u64 {
    (Instant::now() + duration).as_nanos()
}

/// Sleeps until `instant` (returns at once if it has passed).
pub fn sleep_until(instant: Instant) {
    // A futex nobody else knows: only the deadline ends the wait.
    let word = core::sync::atomic::AtomicU32::new(0);
    let deadline = instant.as_nanos().max(1);
    while Instant::now() < instant {
        if crate::sys::futex_wait(&word, 0, deadline) == Err(abi::SysError::TimedOut) {
            break;
        }
    }
}

/// Sleeps for `duration`.
pub fn sleep(duration: Duration) {
    sleep_until(Instant::now() + duration);
}
