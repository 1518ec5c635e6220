//! The timer interrupt: which hardware raises it, how fast its clocks run,
//! and when it fires next.
//!
//! # Hardware, best first
//!
//! 1. **TSC-deadline** (CPUID.01H:ECX[24]): the local APIC timer fires
//!    when the TSC reaches IA32_TSC_DEADLINE. Exact to the TSC tick; no
//!    conversion.
//! 2. **Local APIC one-shot**: a TSC delta is converted to APIC timer
//!    counts (divide by 1) with the calibrated ratio, shortened by twice
//!    the ratio's error bound (at least 1,000 ppm, at most 7,800 ppm), so
//!    that the interrupt comes early rather than late. An early interrupt
//!    re-arms for the remaining time, whose own error is again about a
//!    thousandth of it, so a deadline is met to within interrupt latency
//!    (microseconds) after at most a couple of extra interrupts. Ticks
//!    count as due up to 1/64 of a period early and never cost one.
//! 3. **PIT periodic** on IRQ 0 through the 8259, when there is no local
//!    APIC: a tick every 1/`TICK_HZ` s, and deadlines are noticed at the
//!    first tick at or after them (10 ms granularity).
//!
//! # Ticks and deadlines share one one-shot timer
//!
//! The timer is always armed for `min(next tick, deadline)`. `NEXT_TICK`
//! advances by one period at each tick (or restarts from now after a
//! stall, so missed ticks are not replayed); `DEADLINE` is what the
//! kernel last gave [`arm_deadline`] (one-shot: cleared when reached).
//! Each timer interrupt (the trap code calls [`interrupt`]) acknowledges,
//! notes which of the two were reached, re-arms, and returns whether
//! either was: then the trap reports `UserTrap::Timer` (from user mode) or
//! counts a tick (from kernel mode); otherwise the interrupt was early and
//! is reported as spurious. [`take_events`] tells the kernel which of the
//! two happened since it last asked, so that a deadline need not end the
//! current thread's time slice.
//!
//! # Calibration
//!
//! `tsc.rs` lists the CPUID sources and their accuracy. What CPUID does
//! not give is measured: the TSC against the PIT (`pit.rs`), and the APIC
//! timer (only for one-shot mode) against the TSC across the same window,
//! or alone when the TSC came from CPUID. Each stops once its error bound
//! is at most [`CALIBRATION_TARGET_PPM`] or its window reaches
//! [`CALIBRATION_MAX_US`]; the boot log prints frequency, window and
//! bound. Waiting for the PIT's output pin, as the kernel used to, is
//! ±1 PIT tick (838 ns) at the end of the window: 420 ppm over 2 ms, or
//! 14,000 ppm over 60 us. Bracketing each change of the PIT count between
//! two TSC reads narrows that to one sampling loop (~30 ns under TCG with
//! `-icount shift=0`), so 60 us suffice there for ±500 ppm.
//!
//! What QEMU 7.2 reports, booted and logged: under TCG, `-cpu max` and
//! `qemu64` have max basic leaf 0xd (no 0x15, no 0x16), the hypervisor
//! bit with a range ending at 0x40000001 (no 0x40000010), no TSC-deadline
//! and no invariant TSC, so both clocks are measured. With
//! `-icount shift=0` (TSC = 1 GHz exactly): TSC 999.969 MHz ±498 ppm over
//! 60 us, APIC timer 999.969 MHz ±595 ppm, and the self-test's 20 us
//! deadline fires 34 ns late. Without icount (TSC = the host's,
//! 2445.424 MHz here): about 1 ms for ±500 ppm, off by a few ppm in
//! practice; the deadline fires 0.1-5 ms late, as the host schedules
//! QEMU. Under KVM `-cpu host` adds TSC-deadline, and `+invtsc` adds the
//! invariant TSC and leaf 0x40000010 (2445424 kHz TSC, 1000000 kHz APIC
//! bus: ±1 ppm).

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use super::idt::TIMER_VECTOR;
use super::tsc::{self, CpuidTiming, Frequency, FrequencySource, Reference};
use super::{apic, pic, pit};
use crate::config::{CALIBRATION_MAX_US, CALIBRATION_TARGET_PPM, TICK_HZ};

const NO_DEADLINE: u64 = u64::MAX;
/// One-shot counts are shortened by twice the APIC timer's calibration
/// error bound, at least this and at most the next (ppm), so that the
/// interrupt comes early (and re-arms), not late.
const MIN_EARLY_MARGIN_PPM: u64 = 1_000;
const MAX_EARLY_MARGIN_PPM: u64 = 7_800;
/// A tick is due once it is at most a period / 2^6 (15,625 ppm, more than
/// `MAX_EARLY_MARGIN_PPM`) away.
const TICK_SLACK_SHIFT: u32 = 6;
/// Event bits in `EVENTS`.
const EVENT_TICK: u8 = 1 << 0;
const EVENT_DEADLINE: u8 = 1 << 1;
/// APIC timer samples taken at each end of a window, keeping the narrowest.
const LAPIC_SAMPLES: u32 = 3;
/// How long the self-test's deadline is, and how long it waits for it.
const SELF_TEST_DELAY_NS: u64 = 20_000;
const SELF_TEST_TIMEOUT_NS: u64 = 50_000_000;

/// Which hardware raises the timer interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hardware {
    /// The PIT, periodic, through the 8259 (no local APIC).
    PitPeriodic,
    /// The local APIC timer in one-shot mode.
    ApicOneShot {
        /// How much shorter than computed each count is (ppm).
        early_margin_ppm: u64,
    },
    /// The local APIC timer in TSC-deadline mode.
    TscDeadline,
}

/// `HARDWARE` values.
const PIT_PERIODIC: u8 = 0;
const APIC_ONE_SHOT: u8 = 1;
const TSC_DEADLINE: u8 = 2;

/// What `init` found and chose.
#[derive(Clone, Copy, Debug)]
pub struct Clocks {
    /// The interrupt source.
    pub hardware: Hardware,
    /// The TSC's frequency and its source.
    pub tsc: Frequency,
    /// The local APIC timer's input frequency (divide by 1): measured for
    /// one-shot mode, or given by CPUID.
    pub lapic: Option<Frequency>,
    /// What CPUID reported (for the boot log).
    pub cpuid: CpuidTiming,
}

/// Which timer events happened (see [`take_events`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerEvents {
    /// A scheduler tick: the time slice ended.
    pub tick: bool,
    /// The deadline given to [`arm_deadline`] was reached.
    pub deadline: bool,
}

/// Which `Hardware` is in use (`PIT_PERIODIC`, ...).
static HARDWARE: AtomicU8 = AtomicU8::new(PIT_PERIODIC);
/// TSC ticks per scheduler tick.
static PERIOD: AtomicU64 = AtomicU64::new(u64::MAX);
/// TSC value of the next scheduler tick.
static NEXT_TICK: AtomicU64 = AtomicU64::new(u64::MAX);
/// TSC value of the kernel's deadline, or `NO_DEADLINE`.
static DEADLINE: AtomicU64 = AtomicU64::new(NO_DEADLINE);
/// APIC timer counts per TSC tick, 32.32 fixed point, shortened by the
/// early margin.
static COUNTS_PER_TSC: AtomicU64 = AtomicU64::new(0);
/// Events since the last `take_events`.
static EVENTS: AtomicU8 = AtomicU8::new(0);
/// Timer interrupts that came before anything was due (re-armed).
static EARLY: AtomicU64 = AtomicU64::new(0);
/// TSC ticks between the last deadline and the interrupt that saw it.
static LAST_DEADLINE_LATENESS: AtomicU64 = AtomicU64::new(0);

/// Finds the clocks' frequencies and starts the tick. Boot CPU, once,
/// after `irq::init` (8259s remapped, local APIC enabled).
///
/// # Panics
/// If the TSC's frequency is neither in CPUID nor measurable (no PIT).
pub fn init(has_apic: bool) -> Clocks {
    let cpuid = CpuidTiming::read();
    let one_shot = has_apic && !cpuid.tsc_deadline;
    let (tsc_frequency, lapic) = calibrate(&cpuid, has_apic, one_shot);
    tsc::set_hz(tsc_frequency.hz, cpuid.invariant_tsc);
    let period = (tsc_frequency.hz / TICK_HZ).max(1);
    PERIOD.store(period, Ordering::Relaxed);
    let hardware = match (has_apic, lapic) {
        (false, _) => {
            pit::start_periodic(TICK_HZ);
            pic::unmask(0);
            HARDWARE.store(PIT_PERIODIC, Ordering::Relaxed);
            Hardware::PitPeriodic
        }
        (true, Some(lapic)) if one_shot => {
            let margin = lapic
                .error_ppm()
                .unwrap_or(0)
                .saturating_mul(2)
                .clamp(MIN_EARLY_MARGIN_PPM, MAX_EARLY_MARGIN_PPM);
            // The margin is below a million (the clamp); a 96-bit by a
            // 20-bit and a 64-bit by a 20-bit factor fit in 128 bits.
            let counts_per_tsc = (u128::from(lapic.hz) << 32)
                .wrapping_mul(u128::from(1_000_000_u64.wrapping_sub(margin)))
                .checked_div(u128::from(tsc_frequency.hz).wrapping_mul(1_000_000))
                .unwrap_or(0);
            COUNTS_PER_TSC.store(
                u64::try_from(counts_per_tsc).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            apic::timer_mode(apic::TimerMode::OneShot, TIMER_VECTOR, false);
            HARDWARE.store(APIC_ONE_SHOT, Ordering::Relaxed);
            Hardware::ApicOneShot {
                early_margin_ppm: margin,
            }
        }
        (true, _) => {
            apic::timer_start(0);
            apic::timer_mode(apic::TimerMode::TscDeadline, TIMER_VECTOR, false);
            HARDWARE.store(TSC_DEADLINE, Ordering::Relaxed);
            Hardware::TscDeadline
        }
    };
    // The TSC counts from boot and cannot reach 2^64 in centuries.
    NEXT_TICK.store(tsc::now().wrapping_add(period), Ordering::Relaxed);
    rearm();
    Clocks {
        hardware,
        tsc: tsc_frequency,
        lapic,
        cpuid,
    }
}

/// The TSC's and the local APIC timer's frequencies: from CPUID where it
/// has them, else measured (the APIC timer's only if `need_lapic`, for
/// one-shot mode).
fn calibrate(
    cpuid: &CpuidTiming,
    has_apic: bool,
    need_lapic: bool,
) -> (Frequency, Option<Frequency>) {
    let lapic_known = cpuid.lapic().filter(|_| has_apic);
    if let Some(tsc_frequency) = cpuid.tsc() {
        let lapic = match lapic_known {
            None if need_lapic => Some(measure_lapic(tsc_frequency)),
            known => known,
        };
        return (tsc_frequency, lapic);
    }

    // The TSC against the PIT; the APIC timer against the TSC across the
    // same window if needed.
    let sample_lapic = need_lapic && lapic_known.is_none();
    let lapic_start = sample_lapic.then(start_lapic);
    let max_pit_ticks = (CALIBRATION_MAX_US * pit::PIT_HZ / 1_000_000).min(0xfff0) as u16;
    let m = pit::measure(CALIBRATION_TARGET_PPM, max_pit_ticks)
        .unwrap_or_else(|| panic!("no TSC frequency in CPUID and the PIT does not count"));
    let tsc_hz = mul_div(m.tsc_ticks, pit::PIT_HZ, m.pit_ticks);
    let tsc_frequency = Frequency {
        hz: tsc_hz,
        source: FrequencySource::Measured {
            against: Reference::Pit,
            window_ns: mul_div(m.pit_ticks, 1_000_000_000, pit::PIT_HZ),
            error_ppm: ppm(m.tsc_error, m.tsc_ticks),
        },
    };
    let lapic = match lapic_start {
        Some(start) => Some(finish_lapic(start, LapicSample::take_best(), tsc_frequency)),
        None => lapic_known,
    };
    (tsc_frequency, lapic)
}

/// The APIC timer's current count, bracketed by TSC reads.
#[derive(Clone, Copy)]
struct LapicSample {
    count: u32,
    tsc_before: u64,
    tsc_after: u64,
}

impl LapicSample {
    fn take() -> LapicSample {
        let tsc_before = tsc::now();
        let count = apic::timer_current();
        let tsc_after = tsc::now();
        LapicSample {
            count,
            tsc_before,
            tsc_after,
        }
    }

    /// The narrowest of a few samples (one may be disturbed).
    fn take_best() -> LapicSample {
        (1..LAPIC_SAMPLES).fold(LapicSample::take(), |best, _| {
            let next = LapicSample::take();
            if next.width() < best.width() {
                next
            } else {
                best
            }
        })
    }

    // Two TSC reads on one CPU, in that order: the width does not wrap.
    fn middle(&self) -> u64 {
        self.tsc_before.wrapping_add(self.width() / 2)
    }

    fn width(&self) -> u64 {
        debug_assert!(self.tsc_after >= self.tsc_before);
        self.tsc_after.wrapping_sub(self.tsc_before)
    }
}

/// Starts the APIC timer counting down from `u32::MAX`, masked, and
/// samples it.
fn start_lapic() -> LapicSample {
    apic::timer_mode(apic::TimerMode::OneShot, TIMER_VECTOR, true);
    apic::timer_start(u32::MAX);
    LapicSample::take_best()
}

/// Stops the APIC timer and computes its frequency between two samples:
/// the brackets' half-widths and one count of quantisation bound the
/// error, on top of the TSC's own.
fn finish_lapic(start: LapicSample, end: LapicSample, tsc_frequency: Frequency) -> Frequency {
    apic::timer_start(0);
    let counts = u64::from(start.count.wrapping_sub(end.count));
    let tsc_ticks = end.middle().saturating_sub(start.middle());
    let error = lapic_error(&start, &end, tsc_ticks, counts);
    Frequency {
        hz: mul_div(counts, tsc_frequency.hz, tsc_ticks),
        source: FrequencySource::Measured {
            against: Reference::Tsc,
            window_ns: mul_div(tsc_ticks, 1_000_000_000, tsc_frequency.hz),
            error_ppm: ppm(error, tsc_ticks).saturating_add(tsc_frequency.error_ppm().unwrap_or(0)),
        },
    }
}

/// Bound on the error of a LAPIC measurement, in TSC ticks.
fn lapic_error(start: &LapicSample, end: &LapicSample, tsc_ticks: u64, counts: u64) -> u64 {
    // Bracket widths and a calibration window: TSC intervals of
    // milliseconds at most, far from 2^64.
    start
        .width()
        .wrapping_add(end.width())
        .div_ceil(2)
        .wrapping_add(tsc_ticks.div_ceil(counts.max(1)))
}

/// Measures the APIC timer against the TSC alone, until the bound is met
/// or the window cap is reached.
fn measure_lapic(tsc_frequency: Frequency) -> Frequency {
    let first = start_lapic();
    let mut start = first;
    let max_ticks = mul_div(CALIBRATION_MAX_US, tsc_frequency.hz, 1_000_000);
    loop {
        let end = LapicSample::take();
        if end.width() < start.width() / 2
            // `end` was taken after `first`, on the same CPU.
            && end.middle().wrapping_sub(first.middle()) < max_ticks
        {
            start = end; // as in `pit::measure`: the start was disturbed
            continue;
        }
        let tsc_ticks = end.middle().saturating_sub(start.middle());
        let counts = u64::from(start.count.wrapping_sub(end.count));
        let error = lapic_error(&start, &end, tsc_ticks, counts);
        // 64-bit factors: the products fit in 128 bits.
        if u128::from(error).wrapping_mul(1_000_000)
            <= u128::from(CALIBRATION_TARGET_PPM).wrapping_mul(u128::from(tsc_ticks))
            || tsc_ticks >= max_ticks
        {
            return finish_lapic(start, end, tsc_frequency);
        }
    }
}

/// `value * numerator / denominator` without overflow, saturating; 0 for
/// a zero denominator.
fn mul_div(value: u64, numerator: u64, denominator: u64) -> u64 {
    // Two 64-bit factors: the product fits in 128 bits.
    let Some(result) = u128::from(value)
        .wrapping_mul(u128::from(numerator))
        .checked_div(u128::from(denominator))
    else {
        return 0;
    };
    u64::try_from(result).unwrap_or(u64::MAX)
}

/// `error / total` in parts per million, rounded up.
fn ppm(error: u64, total: u64) -> u64 {
    let result = u128::from(error)
        .wrapping_mul(1_000_000)
        .div_ceil(u128::from(total.max(1)));
    u64::try_from(result).unwrap_or(u64::MAX)
}

/// Programs the hardware for the earlier of the next tick and the deadline.
fn rearm() {
    let target = NEXT_TICK
        .load(Ordering::Relaxed)
        .min(DEADLINE.load(Ordering::Relaxed));
    match HARDWARE.load(Ordering::Relaxed) {
        TSC_DEADLINE => apic::timer_deadline(target.max(1)),
        APIC_ONE_SHOT => {
            let delta = target.saturating_sub(tsc::now());
            // Two 64-bit factors: the product fits in 128 bits.
            let counts = u128::from(delta)
                .wrapping_mul(u128::from(COUNTS_PER_TSC.load(Ordering::Relaxed)))
                >> 32;
            apic::timer_start(counts.clamp(1, u128::from(u32::MAX)) as u32);
        }
        _ => {}
    }
}

/// Asks for a timer interrupt when the TSC reaches `tsc` (replacing any
/// earlier deadline; a deadline already past fires at once). With the PIT
/// the deadline is noticed at the next tick. Call with interrupts off.
pub fn arm_deadline(tsc: u64) {
    DEADLINE.store(tsc, Ordering::Relaxed);
    rearm();
}

/// Forgets the deadline; only ticks remain.
pub fn cancel_deadline() {
    DEADLINE.store(NO_DEADLINE, Ordering::Relaxed);
    rearm();
}

/// The events since the last call, and clears them.
pub fn take_events() -> TimerEvents {
    let bits = EVENTS.swap(0, Ordering::Relaxed);
    TimerEvents {
        tick: bits & EVENT_TICK != 0,
        deadline: bits & EVENT_DEADLINE != 0,
    }
}

/// Timer interrupts that arrived before anything was due (one-shot mode
/// firing early by design, or a deadline moved later after it was armed).
pub fn early_interrupts() -> u64 {
    EARLY.load(Ordering::Relaxed)
}

/// Handles the timer vector: acknowledges, records what was due, re-arms.
/// True if a tick or the deadline was due (then the kernel should look at
/// its timers and time slice).
pub(super) fn interrupt() -> bool {
    let now = tsc::now();
    let mut events = 0;
    let deadline = DEADLINE.load(Ordering::Relaxed);
    if deadline <= now {
        DEADLINE.store(NO_DEADLINE, Ordering::Relaxed);
        LAST_DEADLINE_LATENESS.store(now.wrapping_sub(deadline), Ordering::Relaxed);
        events |= EVENT_DEADLINE;
    }
    if HARDWARE.load(Ordering::Relaxed) == PIT_PERIODIC {
        pic::eoi(0);
        events |= EVENT_TICK;
    } else {
        apic::eoi();
        let period = PERIOD.load(Ordering::Relaxed);
        let next = NEXT_TICK.load(Ordering::Relaxed);
        if now.saturating_add(period >> TICK_SLACK_SHIFT) >= next {
            let mut following = next.saturating_add(period);
            if following <= now {
                following = now.saturating_add(period);
            }
            NEXT_TICK.store(following, Ordering::Relaxed);
            events |= EVENT_TICK;
        }
        rearm();
    }
    if events == 0 {
        EARLY.fetch_add(1, Ordering::Relaxed);
        return false;
    }
    EVENTS.fetch_or(events, Ordering::Relaxed);
    true
}

/// What [`self_test`] saw.
#[derive(Clone, Copy, Debug)]
pub struct DeadlineCheck {
    /// Nanoseconds between the deadline and the interrupt that saw it.
    pub late_ns: u64,
    /// Early (re-armed) interrupts on the way.
    pub early_interrupts: u64,
}

/// Arms a deadline 20 us ahead and waits for it with interrupts open:
/// checks that it fires, and how late. Boot only, before the first thread.
///
/// # Errors
/// A description when the deadline does not fire within 50 ms.
pub fn self_test() -> Result<DeadlineCheck, &'static str> {
    let early_before = early_interrupts();
    // The TSC counts from boot; these add milliseconds to it.
    let target = tsc::now().wrapping_add(tsc::ticks_from_ns(SELF_TEST_DELAY_NS));
    let give_up = target.wrapping_add(tsc::ticks_from_ns(SELF_TEST_TIMEOUT_NS));
    take_events();
    arm_deadline(target);
    while !take_events().deadline {
        if tsc::now() > give_up {
            cancel_deadline();
            return Err("the deadline never fired");
        }
        super::switch::wait_for_interrupt();
    }
    Ok(DeadlineCheck {
        late_ns: tsc::ns_from_ticks(LAST_DEADLINE_LATENESS.load(Ordering::Relaxed)),
        // A counter that only grows (and cannot reach 2^64).
        early_interrupts: early_interrupts().wrapping_sub(early_before),
    })
}
