//! The tick: the local APIC timer in periodic mode, calibrated against the
//! PIT; or the PIT itself on IRQ 0 when the CPU has no local APIC. Also
//! calibrates the TSC for the clock.
//!
//! The legacy 8259 PICs are remapped to vectors 32-47 and masked (all of
//! them with an APIC; all but IRQ 0 without). SDM Vol. 3A §12.5.4 (APIC
//! timer); Intel 8254 datasheet (PIT).

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;

use crate::config::{LAPIC_VIRT, TICK_HZ};

const PIT_HZ: u64 = 1_193_182;
const IA32_APIC_BASE: u32 = 0x1b;
const REG_EOI: u64 = 0xb0;
const REG_SPURIOUS: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;
const LVT_PERIODIC: u32 = 1 << 17;
const LVT_MASKED: u32 = 1 << 16;

static USING_APIC: AtomicBool = AtomicBool::new(false);

/// Which timer drives the tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickSource {
    /// The local APIC timer.
    Apic,
    /// The PIT on IRQ 0 (fallback).
    Pit,
}

/// The physical address of the local APIC's registers, if the CPU has one.
pub fn lapic_phys(has_apic: bool) -> Option<u64> {
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC.
    has_apic.then(|| unsafe { Msr::new(IA32_APIC_BASE).read() } & 0x000f_ffff_ffff_f000)
}

fn outb(port: u16, value: u8) {
    // SAFETY: the PIT (0x40-0x43, 0x61) and PIC (0x20/0x21, 0xa0/0xa1)
    // ports belong to the kernel; writes have no memory effect.
    unsafe { Port::<u8>::new(port).write(value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`; reads have no side effect on memory.
    unsafe { Port::<u8>::new(port).read() }
}

fn lapic_read(reg: u64) -> u32 {
    // SAFETY: LAPIC_VIRT maps the local APIC's 4 KiB register page
    // (uncached) when USING_APIC or during `init`; `reg` is a register offset.
    unsafe { core::ptr::read_volatile((LAPIC_VIRT + reg) as *const u32) }
}

fn lapic_write(reg: u64, value: u32) {
    // SAFETY: as for `lapic_read`.
    unsafe { core::ptr::write_volatile((LAPIC_VIRT + reg) as *mut u32, value) }
}

/// Remaps the PICs to 32-47 and masks them except the IRQs in `unmasked`.
fn init_pic(unmasked: u16) {
    for (port, value) in [
        (0x20, 0x11),
        (0xa0, 0x11), // ICW1: init, ICW4 follows
        (0x21, 32),
        (0xa1, 40), // ICW2: vector bases
        (0x21, 4),
        (0xa1, 2), // ICW3: cascade on IRQ 2
        (0x21, 1),
        (0xa1, 1), // ICW4: 8086 mode
    ] {
        outb(port, value);
    }
    outb(0x21, !(unmasked as u8));
    outb(0xa1, !((unmasked >> 8) as u8));
}

/// Runs PIT channel 2 for 1/500 s and returns the TSC ticks and APIC timer
/// counts that passed (SDM Vol. 3A §12.5.4 suggests this calibration).
fn calibrate(with_apic: bool) -> (u64, u64) {
    // 2 ms: long enough for 0.05% precision, short enough to keep boot fast.
    let count = PIT_HZ / 500;
    outb(0x61, (inb(0x61) & !0x02) & !0x01); // gate off, speaker off
    outb(0x43, 0b1011_0000); // channel 2, lo/hi byte, mode 0
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    if with_apic {
        lapic_write(REG_TIMER_DIVIDE, 0b0011); // divide by 16
        lapic_write(REG_LVT_TIMER, LVT_MASKED);
        lapic_write(REG_TIMER_INITIAL, u32::MAX);
    }
    let tsc0 = tsc();
    outb(0x61, inb(0x61) | 0x01); // gate on: count down
    let mut spins = 0u64;
    while inb(0x61) & 0x20 == 0 && spins < 100_000_000 {
        spins += 1;
    }
    let tsc1 = tsc();
    let apic = if with_apic {
        u64::from(u32::MAX - lapic_read(REG_TIMER_CURRENT))
    } else {
        0
    };
    ((tsc1 - tsc0) * 500, apic * 500)
}

/// Reads the time-stamp counter.
pub fn tsc() -> u64 {
    // SAFETY: RDTSC has no side effects (CR4.TSD is clear).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Starts the tick; returns its source and the TSC frequency in Hz.
/// Call after `paging::init_kernel_space` (which maps the APIC).
pub fn init(has_apic: bool) -> (TickSource, u64) {
    if has_apic {
        init_pic(0);
        lapic_write(REG_SPURIOUS, 0x100 | u32::from(super::idt::SPURIOUS_VECTOR));
        let (tsc_hz, apic_hz) = calibrate(true);
        let initial = (apic_hz / TICK_HZ).clamp(1, u64::from(u32::MAX)) as u32;
        lapic_write(REG_TIMER_DIVIDE, 0b0011);
        lapic_write(
            REG_LVT_TIMER,
            LVT_PERIODIC | u32::from(super::idt::TIMER_VECTOR),
        );
        lapic_write(REG_TIMER_INITIAL, initial);
        USING_APIC.store(true, Ordering::Relaxed);
        (TickSource::Apic, tsc_hz)
    } else {
        let (tsc_hz, _) = calibrate(false);
        let divisor = (PIT_HZ / TICK_HZ) as u16;
        outb(0x43, 0b0011_0100); // channel 0, lo/hi byte, mode 2 (rate generator)
        outb(0x40, divisor as u8);
        outb(0x40, (divisor >> 8) as u8);
        init_pic(1);
        (TickSource::Pit, tsc_hz)
    }
}

/// Acknowledges the interrupt being handled.
pub fn eoi() {
    if USING_APIC.load(Ordering::Relaxed) {
        lapic_write(REG_EOI, 0);
    } else {
        outb(0x20, 0x20);
    }
}
