//! The RTC (MC146818) as a source of real interrupts for the IRQ tests and
//! the `irq_to_user` benchmark: its periodic interrupt, ISA IRQ 8, at
//! 1,024 Hz. Only a thread bound to an I/O port range holding ports
//! 0x70-0x71 may call these.

use crate::cpu;

/// The index port (bit 7 of the index keeps NMIs off) and the data port.
pub const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;
/// Register A (rate), B (interrupt enables), C (flags; reading it
/// acknowledges the RTC's interrupt), with NMIs kept off.
const REG_A: u8 = 0x8a;
const REG_B: u8 = 0x8b;
const REG_C: u8 = 0x8c;
/// Register B: periodic interrupt enable.
const PERIODIC: u8 = 1 << 6;
/// Register A rate 6: 1,024 Hz.
const RATE_1024_HZ: u8 = 6;

fn read(register: u8) -> u8 {
    cpu::outb(INDEX, register);
    cpu::inb(DATA)
}

fn write(register: u8, value: u8) {
    cpu::outb(INDEX, register);
    cpu::outb(DATA, value);
}

/// Starts or stops the periodic interrupt (and clears pending flags).
pub fn periodic(on: bool) {
    let rate = read(REG_A);
    write(REG_A, (rate & 0xf0) | RATE_1024_HZ);
    let enables = read(REG_B);
    write(
        REG_B,
        if on {
            enables | PERIODIC
        } else {
            enables & !PERIODIC
        },
    );
    acknowledge();
}

/// Acknowledges the RTC's interrupt at the device (its line drops, so the
/// next period is a new edge).
pub fn acknowledge() {
    read(REG_C);
}
