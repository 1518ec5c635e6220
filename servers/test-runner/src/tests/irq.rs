//! Interrupt lines as capabilities, with a real device: the RTC's periodic
//! interrupt (ISA IRQ 8, 1,024 Hz), programmed through its ports
//! (0x70-0x71) by a driver thread that holds them. Delivery to a
//! notification, the line masked until `IrqAck`, a line whose
//! notification is gone left masked (logged once, no storm), and every
//! documented error.

use crate::raw as sys;
use abi::syscall::{IrqSource, KernelCounters};
use abi::{CapSlot, Rights, SysError};

use super::support::{EMPTY_SLOT, Raw, budget, free_frames, must, raw_entry};
use super::{TestResult, boot, debug_cap};
use crate::{ensure, ensure_eq, rtc};

const RTC_IRQ: IrqSource = IrqSource::Isa(8);
const BITS: u64 = 1 << 4;

fn control() -> CapSlot {
    CapSlot(boot().irq_control_cap)
}

fn has_apic() -> bool {
    boot().cpu_features & abi::boot::cpu::APIC != 0
}

/// Busy-waits `nanos` on the clock page.
fn spin(nanos: u64) {
    let end = rt::time::now_ns() + nanos;
    while rt::time::now_ns() < end {}
}

fn counters() -> Result<KernelCounters, super::Failure> {
    must(sys::debug_counters(debug_cap()))
}

/// The driver: `arg` holds the line's slot (high half) and the
/// notification's (low half). Returns 0, or the line of the failed check.
fn rtc_driver(arg: u64) -> u64 {
    let (irq, notification) = (CapSlot((arg >> 32) as u32), CapSlot(arg as u32));
    rtc::periodic(true);
    // Three deliveries, each served and acknowledged.
    for _ in 0..3 {
        if sys::wait(notification) != Ok(BITS) {
            return u64::from(line!());
        }
        rtc::acknowledge();
        if sys::irq_ack(irq).is_err() {
            return u64::from(line!());
        }
    }
    // Served but not acknowledged: the line stays masked while the RTC
    // keeps interrupting.
    if sys::wait(notification) != Ok(BITS) {
        return u64::from(line!());
    }
    rtc::acknowledge();
    spin(5_000_000);
    if sys::poll(notification) != Ok(0) {
        return u64::from(line!());
    }
    // The RTC holds its line up until register C is read: read it, then
    // acknowledge, and the next period arrives.
    rtc::acknowledge();
    if sys::irq_ack(irq).is_err() || sys::wait(notification) != Ok(BITS) {
        return u64::from(line!());
    }
    rtc::periodic(false);
    0
}

raw_entry! {
    rtc_driver_entry => rtc_driver;
}

/// Runs [`rtc_driver`] in a thread holding the RTC's ports.
fn run_driver(irq: CapSlot, notification: CapSlot) -> Result<u64, super::Failure> {
    let ports = must(sys::io_ports_create(
        CapSlot(boot().io_space_cap),
        budget(),
        u64::from(rtc::INDEX),
        2,
    ))?;
    let arg = (u64::from(irq.0) << 32) | u64::from(notification.0);
    let driver = Raw::new(rtc_driver_entry, arg).suspended().start()?;
    must(sys::io_ports_bind(ports, driver.slot()))?;
    must(sys::thread_resume(driver.slot()))?;
    let code = driver.join();
    must(sys::cap_delete(ports))?;
    code
}

/// The RTC's interrupt reaches a notification, once per acknowledgement.
/// Without a local APIC (PIC mode) the line is the 8259's input 8.
pub fn delivery() -> TestResult {
    // Twice: the first run also pays what stays made once made (the
    // helper thread's pages, kernel bookkeeping); the second must give
    // back every frame it takes.
    let mut before = 0;
    for round in 0..2 {
        if round == 1 {
            before = free_frames()?;
        }
        let delivered = counters()?.irq_deliveries;
        let irq = must(sys::irq_create(control(), budget(), RTC_IRQ))?;
        let notification = must(sys::notification_create(budget()))?;
        must(sys::irq_bind(irq, notification, BITS))?;
        ensure_eq!(run_driver(irq, notification)?, 0);
        ensure_eq!(counters()?.irq_deliveries - delivered, 5);
        must(sys::cap_delete(irq))?;
        must(sys::cap_delete(notification))?;
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A badged notification capability signals its badge.
pub fn badged_delivery() -> TestResult {
    let irq = must(sys::irq_create(control(), budget(), RTC_IRQ))?;
    let notification = must(sys::notification_create(budget()))?;
    let badged = must(sys::cap_mint(notification, Rights::WRITE, BITS))?;
    must(sys::irq_bind(irq, badged, 0))?;
    ensure_eq!(run_driver(irq, notification)?, 0);
    for slot in [irq, badged, notification] {
        must(sys::cap_delete(slot))?;
    }
    Ok(())
}

/// A line whose notification is destroyed while it is unmasked: its next
/// interrupt masks it (logged once), nothing storms, and a new binding
/// gets interrupts again only after `IrqAck`.
pub fn dead_handler() -> TestResult {
    let irq = must(sys::irq_create(control(), budget(), RTC_IRQ))?;
    let first = must(sys::notification_create(budget()))?;
    must(sys::irq_bind(irq, first, BITS))?;
    let ports = must(sys::io_ports_create(
        CapSlot(boot().io_space_cap),
        budget(),
        u64::from(rtc::INDEX),
        2,
    ))?;
    let driver = Raw::new(
        dead_handler_driver,
        (u64::from(irq.0) << 32) | u64::from(first.0),
    )
    .suspended()
    .start()?;
    must(sys::io_ports_bind(ports, driver.slot()))?;
    must(sys::thread_resume(driver.slot()))?;
    ensure_eq!(driver.join()?, 0);
    // Nothing delivered or counted as stray while it had no notification.
    must(sys::cap_delete(ports))?;
    must(sys::cap_delete(irq))?;
    Ok(())
}

fn dead_handler_steps(arg: u64) -> u64 {
    let (irq, first) = (CapSlot((arg >> 32) as u32), CapSlot(arg as u32));
    rtc::periodic(true);
    if sys::wait(first) != Ok(BITS) {
        return u64::from(line!());
    }
    rtc::acknowledge();
    let _ = sys::irq_ack(irq);
    // The notification goes while the line is unmasked.
    if sys::cap_delete(first).is_err() {
        return u64::from(line!());
    }
    let Ok(before) = sys::debug_counters(debug_cap()) else {
        return u64::from(line!());
    };
    spin(5_000_000);
    rtc::acknowledge();
    spin(5_000_000);
    let Ok(after) = sys::debug_counters(debug_cap()) else {
        return u64::from(line!());
    };
    if after.irq_deliveries != before.irq_deliveries
        || after.unexpected_interrupts != before.unexpected_interrupts
    {
        return u64::from(line!());
    }
    // A new notification: still masked until IrqAck.
    let Ok(second) = sys::notification_create(budget()) else {
        return u64::from(line!());
    };
    if sys::irq_bind(irq, second, BITS).is_err() {
        return u64::from(line!());
    }
    spin(3_000_000);
    if sys::poll(second) != Ok(0) {
        return u64::from(line!());
    }
    rtc::acknowledge();
    if sys::irq_ack(irq).is_err() || sys::wait(second) != Ok(BITS) {
        return u64::from(line!());
    }
    rtc::periodic(false);
    let _ = sys::cap_delete(second);
    0
}

raw_entry! {
    dead_handler_driver => dead_handler_steps;
}

/// Every documented error of `IrqCreate`, `IrqBind` and `IrqAck`.
pub fn errors() -> TestResult {
    let b = budget();
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(
        sys::irq_create(EMPTY_SLOT, b, RTC_IRQ),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::irq_create(b, b, RTC_IRQ), Err(SysError::WrongType));
    let read_only = must(sys::cap_copy(control(), Rights::READ))?;
    ensure_eq!(
        sys::irq_create(read_only, b, RTC_IRQ),
        Err(SysError::MissingRights)
    );
    must(sys::cap_delete(read_only))?;
    // Malformed sources never reach the kernel's checks through rt's
    // type; the raw register is refused too.
    let raw = abi::syscall::IrqCreateArgs {
        control: control(),
        budget: b,
        source: IrqSource::Isa(8),
    };
    let mut regs = abi::syscall::SyscallArgs::encode(&raw);
    for source in [16, 5 << 32, (1 << 32) | (1 << 45), u64::MAX] {
        regs[2] = source;
        let (status, _) = sys::raw_syscall(abi::syscall::Syscall::IrqCreate.number(), regs);
        ensure_eq!(SysError::from_code(status), Some(SysError::InvalidArg));
    }
    // The kernel's lines: the timer, the cascade, the timer's GSI.
    for source in [IrqSource::Isa(0), IrqSource::Isa(2)] {
        ensure_eq!(sys::irq_create(control(), b, source), bad);
    }
    let gsi = |gsi| IrqSource::Gsi {
        gsi,
        level: false,
        active_low: false,
    };
    ensure_eq!(sys::irq_create(control(), b, gsi(2)), bad);
    // No such input.
    ensure_eq!(sys::irq_create(control(), b, gsi(200)), bad);
    if !has_apic() {
        // PIC mode: the 8259's inputs are edge-triggered, active high.
        for (level, active_low) in [(true, false), (false, true)] {
            let source = IrqSource::Gsi {
                gsi: 8,
                level,
                active_low,
            };
            ensure_eq!(sys::irq_create(control(), b, source), bad);
        }
        ensure_eq!(sys::irq_create(control(), b, gsi(16)), bad);
        // Input 0 is the kernel's tick.
        ensure_eq!(sys::irq_create(control(), b, gsi(0)), bad);
    }
    // One object per line.
    let irq = must(sys::irq_create(control(), b, RTC_IRQ))?;
    ensure_eq!(sys::irq_create(control(), b, RTC_IRQ), bad);
    ensure_eq!(sys::irq_create(control(), b, gsi(8)), bad);
    // Bind: badge xor bits, types, rights.
    let notification = must(sys::notification_create(b))?;
    let badged = must(sys::cap_mint(notification, Rights::WRITE, 2))?;
    let refused: Result<(), SysError> = Err(SysError::InvalidArg);
    ensure_eq!(sys::irq_bind(irq, notification, 0), refused);
    ensure_eq!(sys::irq_bind(irq, badged, 4), refused);
    ensure_eq!(
        sys::irq_bind(notification, notification, 1),
        Err(SysError::WrongType)
    );
    ensure_eq!(sys::irq_bind(irq, irq, 1), Err(SysError::WrongType));
    let listen_only = must(sys::cap_copy(notification, Rights::READ))?;
    ensure_eq!(
        sys::irq_bind(irq, listen_only, 1),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::irq_bind(irq, notification, 1), Ok(()));
    ensure_eq!(sys::irq_bind(irq, CapSlot::NULL, 0), Ok(()));
    ensure_eq!(sys::irq_ack(notification), Err(SysError::WrongType));
    ensure_eq!(sys::irq_ack(EMPTY_SLOT), Err(SysError::InvalidCap));
    ensure_eq!(sys::irq_ack(irq), Ok(()));
    // The line is free again once its object is gone.
    must(sys::cap_delete(irq))?;
    let again = must(sys::irq_create(control(), b, RTC_IRQ))?;
    for slot in [again, listen_only, badged, notification] {
        must(sys::cap_delete(slot))?;
    }
    ensure!(counters()?.spurious_interrupts < 1000);
    Ok(())
}
