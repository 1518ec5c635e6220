//! The 8254 programmable interval timer: the reference clock for
//! calibrating the TSC (channel 2), the tick on machines without a local
//! APIC (channel 0, periodic, on IRQ 0), and a one-shot interrupt source
//! for the I/O APIC self-test (channel 0).
//!
//! Ports (Intel 8254 datasheet, "Control Word Format"): 0x40 and 0x42 are
//! the data ports of channels 0 and 2, 0x43 the control word
//! `{channel:2, access:2, mode:3, bcd:1}`; port 0x61 bit 0 gates channel 2
//! and bit 1 drives the speaker. Every channel counts down at
//! [`PIT_HZ`], one tick per 838 ns.
//!
//! # Calibration
//!
//! [`measure`] counts channel 2 down from 0xFFFF in mode 0 and samples it
//! with the latch command, each sample bracketed by two TSC reads. The
//! moment the count changes to a new value is known to lie between the
//! first TSC read of the previous sample and the second TSC read of this
//! one: one loop iteration wide, instead of the ±1 PIT tick (838 ns) of
//! waiting for the output pin. The window ends at the first change after
//! the error bound `(width at start + width at end) / 2` drops to the
//! target fraction of the elapsed time, or at the tick cap. A disturbed
//! sample (the host preempting a virtual CPU, an SMI) makes one edge wide:
//! at the end it only delays the stop; at the start the window restarts
//! from the first edge less than half as wide (within the cap).

use x86_64::instructions::port::Port;

use super::tsc;

/// The PIT's input clock (QEMU's `PIT_FREQ`; the nominal 14.31818 MHz / 12
/// is 1,193,181.8 Hz, 0.15 ppm away).
pub const PIT_HZ: u64 = 1_193_182;

const CHANNEL_0: u16 = 0x40;
const CHANNEL_2: u16 = 0x42;
const CONTROL: u16 = 0x43;
const GATE_PORT: u16 = 0x61;
/// Port 0x61: channel 2 gate (bit 0) and speaker data (bit 1).
const GATE_2: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
/// Control words: channel in bits 7:6, access in 5:4 (11 = low then high
/// byte, 00 = latch), mode in 3:1.
const CH2_LOHI_MODE0: u8 = 0b1011_0000;
const CH2_LATCH: u8 = 0b1000_0000;
const CH0_LOHI_MODE0: u8 = 0b0011_0000;
const CH0_LOHI_MODE2: u8 = 0b0011_0100;
/// Samples without a change before the PIT counts as absent.
const MAX_SAMPLES_PER_TICK: u32 = 1_000_000;

fn outb(port: u16, value: u8) {
    // SAFETY: the PIT ports (0x40-0x43) and port 0x61 belong to the
    // kernel; writing them only programs the timer and speaker gate.
    unsafe { Port::<u8>::new(port).write(value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`; reading has no effect on memory.
    unsafe { Port::<u8>::new(port).read() }
}

/// Starts channel 0 as a rate generator (mode 2) at `hz` (the tick on
/// machines without a local APIC).
pub fn start_periodic(hz: u64) {
    let divisor = PIT_HZ.checked_div(hz).unwrap_or(PIT_HZ).clamp(1, 0xffff) as u16;
    outb(CONTROL, CH0_LOHI_MODE2);
    outb(CHANNEL_0, divisor as u8);
    outb(CHANNEL_0, (divisor >> 8) as u8);
}

/// Makes channel 0 raise IRQ 0 once, `ticks` PIT ticks from now (mode 0:
/// the output rises at terminal count and stays high).
pub fn one_shot(ticks: u16) {
    outb(CONTROL, CH0_LOHI_MODE0);
    outb(CHANNEL_0, ticks as u8);
    outb(CHANNEL_0, (ticks >> 8) as u8);
}

/// One latched read of channel 2, bracketed by TSC reads.
#[derive(Clone, Copy)]
struct Sample {
    count: u16,
    tsc_before: u64,
    tsc_after: u64,
}

impl Sample {
    /// Kept small: the loop's length is the measurement's resolution.
    #[inline(always)]
    fn take() -> Sample {
        let tsc_before = tsc::now();
        outb(CONTROL, CH2_LATCH);
        let tsc_after = tsc::now();
        let low = inb(CHANNEL_2);
        let high = inb(CHANNEL_2);
        Sample {
            count: u16::from_le_bytes([low, high]),
            tsc_before,
            tsc_after,
        }
    }
}

/// The moment channel 2 changed to `count`: between `earliest` and `latest`.
#[derive(Clone, Copy)]
struct Edge {
    count: u16,
    earliest: u64,
    latest: u64,
}

impl Edge {
    // `earliest` and `latest` are TSC reads on one CPU, in that order, so
    // `latest >= earliest` and the width does not wrap.
    fn middle(&self) -> u64 {
        self.earliest.wrapping_add(self.width() / 2)
    }

    fn width(&self) -> u64 {
        debug_assert!(self.latest >= self.earliest);
        self.latest.wrapping_sub(self.earliest)
    }
}

/// Result of [`measure`].
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// PIT ticks between the two edges.
    pub pit_ticks: u64,
    /// TSC ticks between the middles of the two edges.
    pub tsc_ticks: u64,
    /// Bound on the error of `tsc_ticks`.
    pub tsc_error: u64,
}

/// Waits for channel 2 to change from `previous` and returns that edge;
/// `None` if it never changes (no PIT).
fn next_edge(previous: &mut Sample) -> Option<Edge> {
    for _ in 0..MAX_SAMPLES_PER_TICK {
        let now = Sample::take();
        if now.count != previous.count {
            let edge = Edge {
                count: now.count,
                earliest: previous.tsc_before,
                latest: now.tsc_after,
            };
            *previous = now;
            return Some(edge);
        }
        *previous = now;
    }
    None
}

/// Measures the TSC against channel 2 (see the module header), stopping at
/// the first edge where the error bound is at most `target_ppm` of the
/// window or the window reaches `max_ticks` PIT ticks. Returns `None` when
/// the PIT does not count.
pub fn measure(target_ppm: u64, max_ticks: u16) -> Option<Measurement> {
    outb(GATE_PORT, inb(GATE_PORT) & !(GATE_2 | SPEAKER));
    outb(CONTROL, CH2_LOHI_MODE0);
    outb(CHANNEL_2, 0xff);
    outb(CHANNEL_2, 0xff);
    outb(GATE_PORT, (inb(GATE_PORT) & !SPEAKER) | GATE_2);

    let mut previous = Sample::take();
    // The first change may be the count being loaded; start at the second.
    next_edge(&mut previous)?;
    let first = next_edge(&mut previous)?;
    let mut start = first;
    let result = loop {
        let end = next_edge(&mut previous)?;
        let total_ticks = u64::from(first.count.wrapping_sub(end.count));
        if end.width() < start.width() / 2 && total_ticks < u64::from(max_ticks) {
            // The start was disturbed (the host preempted the CPU, an SMI):
            // start again from this narrower edge.
            start = end;
            continue;
        }
        let pit_ticks = u64::from(start.count.wrapping_sub(end.count));
        let tsc_ticks = end.middle().saturating_sub(start.middle());
        // Two brackets of a few TSC reads each: far from 2^64.
        let tsc_error = start.width().wrapping_add(end.width()).div_ceil(2);
        // 64-bit factors: the products fit in 128 bits.
        let precise = u128::from(tsc_error).wrapping_mul(1_000_000)
            <= u128::from(target_ppm).wrapping_mul(u128::from(tsc_ticks));
        if precise || pit_ticks >= u64::from(max_ticks) {
            break Measurement {
                pit_ticks,
                tsc_ticks,
                tsc_error,
            };
        }
    };
    outb(GATE_PORT, inb(GATE_PORT) & !GATE_2);
    Some(result)
}
