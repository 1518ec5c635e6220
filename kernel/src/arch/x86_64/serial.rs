//! COM1 (16550 UART at I/O port 0x3f8), polled, for the kernel log.

use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;

/// Programs COM1 for 115200 baud, 8 data bits, no parity, one stop bit.
pub fn init() {
    let regs: [(u16, u8); 7] = [
        (1, 0x00), // interrupts off
        (3, 0x80), // DLAB on: next two writes set the divisor
        (0, 0x01), // divisor 1 = 115200 baud
        (1, 0x00),
        (3, 0x03), // 8N1, DLAB off
        (2, 0xc7), // FIFOs on and cleared
        (4, 0x03), // DTR and RTS
    ];
    for (offset, value) in regs {
        let mut port = Port::<u8>::new(COM1.wrapping_add(offset));
        // SAFETY: COM1's registers are I/O ports owned by the kernel log
        // until the serial driver takes over; writing them has no memory effect.
        unsafe { port.write(value) };
    }
}

/// Writes bytes, turning `\n` into `\r\n`, waiting for the transmitter.
pub fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            write_byte(b'\r');
        }
        write_byte(b);
    }
}

fn write_byte(b: u8) {
    let mut status = Port::<u8>::new(COM1 + 5);
    let mut data = Port::<u8>::new(COM1);
    // SAFETY: reading the line status and writing the data register of COM1
    // only affect the UART.
    unsafe {
        // Bounded wait: a missing UART must not hang the kernel.
        for _ in 0..100_000 {
            if status.read() & 0x20 != 0 {
                break;
            }
        }
        data.write(b);
    }
}
