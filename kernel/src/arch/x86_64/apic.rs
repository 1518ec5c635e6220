//! The boot CPU's local APIC in xAPIC mode: enabling it, acknowledging
//! interrupts, and its timer's three modes. The policy (which mode, when
//! to fire) is `timer.rs`'s.
//!
//! The registers are a 4 KiB page of 32-bit registers at 16-byte strides
//! (SDM Vol. 3A §12.4.1, Table 12-1), mapped uncached at
//! [`LAPIC_VIRT`] by `paging::init_kernel_space`. Used here:
//!
//! | offset | register | use |
//! |---|---|---|
//! | 0x020 | local APIC ID | bits 31:24: the destination for I/O APIC routes |
//! | 0x080 | task priority | 0: accept every vector |
//! | 0x0b0 | EOI | write 0 to acknowledge |
//! | 0x0f0 | spurious vector | bit 8 software enable, bits 7:0 the spurious vector (§12.9) |
//! | 0x320 | LVT timer | vector, bit 16 mask, bits 18:17 mode: 00 one-shot, 01 periodic, 10 TSC-deadline (§12.5.1, §12.5.4) |
//! | 0x350 | LVT LINT0 | masked: the 8259s are not used through it |
//! | 0x380 / 0x390 | initial / current count | one-shot: counts down from the initial count, interrupts at 0 |
//! | 0x3e0 | divide configuration | 0b1011: divide by 1 |
//!
//! TSC-deadline mode (§12.5.4.1) fires when the TSC reaches the value in
//! IA32_TSC_DEADLINE (MSR 0x6E0); writing 0 disarms it, and it disarms
//! itself when it fires. The LVT write that selects the mode and a later
//! WRMSR are not ordered in xAPIC mode, so an MFENCE separates them.

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::registers::model_specific::Msr;

use crate::config::LAPIC_VIRT;

const IA32_APIC_BASE: u32 = 0x1b;
const IA32_TSC_DEADLINE: u32 = 0x6e0;
const REG_ID: u64 = 0x20;
const REG_TASK_PRIORITY: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SPURIOUS: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_LVT_LINT0: u64 = 0x350;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;
const SPURIOUS_SOFTWARE_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const DIVIDE_BY_1: u32 = 0b1011;

/// Set once the local APIC is enabled and mapped.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The physical address of the local APIC's registers, if the CPU has one.
pub fn lapic_phys(has_apic: bool) -> Option<u64> {
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC.
    has_apic.then(|| unsafe { Msr::new(IA32_APIC_BASE).read() } & 0x000f_ffff_ffff_f000)
}

fn read(reg: u64) -> u32 {
    // SAFETY: LAPIC_VIRT maps the local APIC's register page uncached
    // (callers run only after `init`, which needs the mapping); `reg` is
    // one of the register offsets above, 16-byte aligned, inside the page.
    unsafe { core::ptr::read_volatile(LAPIC_VIRT.wrapping_add(reg) as *const u32) }
}

fn write(reg: u64, value: u32) {
    // SAFETY: as for `read`.
    unsafe { core::ptr::write_volatile(LAPIC_VIRT.wrapping_add(reg) as *mut u32, value) }
}

/// Enables the local APIC with `spurious_vector`, accepts every priority,
/// masks LINT0 and the timer. Call after `paging::init_kernel_space`
/// mapped it.
pub fn init(spurious_vector: u8) {
    write(REG_TASK_PRIORITY, 0);
    write(
        REG_SPURIOUS,
        SPURIOUS_SOFTWARE_ENABLE | u32::from(spurious_vector),
    );
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_DIVIDE, DIVIDE_BY_1);
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether [`init`] ran (interrupts are then acknowledged here, not at the 8259).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// This CPU's local APIC ID (xAPIC: 8 bits).
pub fn id() -> u8 {
    (read(REG_ID) >> 24) as u8
}

/// Acknowledges the interrupt being handled.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// The timer modes the kernel uses (LVT timer bits 18:17; 0b01, periodic,
/// is not: ticks are one-shot too, see `timer.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerMode {
    /// Counts the initial count down once.
    OneShot = 0b00,
    /// Fires when the TSC reaches IA32_TSC_DEADLINE.
    TscDeadline = 0b10,
}

/// Sets the timer's mode and vector (which disarms it), masked or not.
pub fn timer_mode(mode: TimerMode, vector: u8, masked: bool) {
    let mask = if masked { LVT_MASKED } else { 0 };
    write(
        REG_LVT_TIMER,
        ((mode as u32) << 17) | mask | u32::from(vector),
    );
    if mode == TimerMode::TscDeadline {
        // SAFETY: MFENCE only orders memory accesses: the LVT write above
        // reaches the APIC before any later WRMSR to IA32_TSC_DEADLINE.
        unsafe { core::arch::asm!("mfence", options(nostack, preserves_flags)) };
    }
}

/// One-shot mode: starts counting down from `count` (0 stops).
pub fn timer_start(count: u32) {
    write(REG_TIMER_INITIAL, count);
}

/// One-shot mode: the current count.
pub fn timer_current() -> u32 {
    read(REG_TIMER_CURRENT)
}

/// TSC-deadline mode: fire when the TSC reaches `tsc` (0 disarms; a value
/// already past fires at once).
pub fn timer_deadline(tsc: u64) {
    // SAFETY: IA32_TSC_DEADLINE exists when CPUID.01H:ECX[24] is set,
    // which the caller checked before choosing TSC-deadline mode; writing
    // it only arms the timer.
    unsafe { Msr::new(IA32_TSC_DEADLINE).write(tsc) };
}
