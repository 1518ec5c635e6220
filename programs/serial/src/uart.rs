//! The 16550 UART's registers, and what the driver does with them.
//!
//! Register offsets from the base port (PC16550D data sheet, "Register
//! Addressing"); with the divisor latch bit of LCR set, offsets 0 and 1
//! are the divisor instead of RBR/THR and IER. Every method makes port
//! accesses, so the calling thread must be bound to the driver's
//! `IoPorts` range; the driver calls them only with its state's lock
//! held, so two threads never interleave register sequences.

use rt::device::{port_read_u8, port_write_u8};

/// Receive buffer (read) / transmit holding register (write).
const DATA: u16 = 0;
/// Interrupt enable.
const IER: u16 = 1;
/// FIFO control (write).
const FCR: u16 = 2;
/// Line control.
const LCR: u16 = 3;
/// Modem control.
const MCR: u16 = 4;
/// Line status.
const LSR: u16 = 5;

/// IER: interrupt when received data is available (or the FIFO's
/// character timeout passes).
const IER_RX_AVAILABLE: u8 = 1 << 0;
/// FCR: FIFOs on, both cleared, receive trigger at 1 byte (every byte
/// interrupts: a console sees keys at once).
const FCR_RESET: u8 = 0b0000_0111;
/// LCR: divisor latch access.
const LCR_DLAB: u8 = 1 << 7;
/// LCR: 8 data bits, no parity, 1 stop bit.
const LCR_8N1: u8 = 0b0000_0011;
/// MCR: DTR, RTS, and OUT2, which on a PC gates the UART's interrupt
/// onto the ISA line.
const MCR_NORMAL: u8 = 0b0000_1011;
/// MCR: loopback (transmitter wired to receiver inside the chip).
const MCR_LOOPBACK: u8 = 1 << 4;
/// LSR: a received byte is waiting.
const LSR_DATA_READY: u8 = 1 << 0;
/// LSR: a byte was lost because the receive FIFO was full.
const LSR_OVERRUN: u8 = 1 << 1;
/// LSR: the transmit holding register (and FIFO) is empty.
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Bytes the transmit FIFO holds.
pub const FIFO_BYTES: usize = 16;
/// Divisor of the 115,200 Hz base clock: 115,200 baud.
const DIVISOR: u16 = 1;
/// The most bytes one drain takes (a stuck "data ready" bit, as from a
/// missing device whose ports read 0xff, must not hang a thread).
const DRAIN_MAX: usize = 256;

/// A 16550 at `base`.
#[derive(Debug)]
pub struct Uart {
    base: u16,
}

impl Uart {
    /// The UART whose registers start at `base`.
    pub const fn new(base: u16) -> Uart {
        Uart { base }
    }

    fn read(&self, register: u16) -> u8 {
        port_read_u8(self.base + register)
    }

    fn write(&self, register: u16, value: u8) {
        port_write_u8(self.base + register, value);
    }

    /// Puts the UART in a known state, whatever an earlier instance left:
    /// interrupts off, 115,200 baud 8N1, FIFOs on and empty, loopback
    /// off, and any byte or status still latched read and thrown away.
    pub fn reset(&self) {
        self.write(IER, 0);
        self.write(LCR, LCR_DLAB);
        let [low, high] = DIVISOR.to_le_bytes();
        self.write(DATA, low);
        self.write(IER, high);
        self.write(LCR, LCR_8N1);
        self.write(FCR, FCR_RESET);
        self.write(MCR, MCR_NORMAL);
        for _ in 0..DRAIN_MAX {
            if self.read(LSR) & LSR_DATA_READY == 0 {
                break;
            }
            let _ = self.read(DATA);
        }
    }

    /// Turns the receive interrupt on.
    pub fn enable_rx_interrupt(&self) {
        self.write(IER, IER_RX_AVAILABLE);
    }

    /// Turns loopback mode on or off.
    pub fn set_loopback(&self, on: bool) {
        let mcr = if on {
            MCR_NORMAL | MCR_LOOPBACK
        } else {
            MCR_NORMAL
        };
        self.write(MCR, mcr);
    }

    /// Reads every received byte into `sink`; returns how many bytes came
    /// and how many overruns the line status reported.
    pub fn drain(&self, mut sink: impl FnMut(u8)) -> (usize, u64) {
        let (mut received, mut overruns) = (0, 0);
        for _ in 0..DRAIN_MAX {
            let status = self.read(LSR);
            if status & LSR_OVERRUN != 0 {
                overruns += 1;
            }
            if status & LSR_DATA_READY == 0 {
                break;
            }
            sink(self.read(DATA));
            received += 1;
        }
        (received, overruns)
    }

    /// Whether the transmit FIFO is empty (then [`FIFO_BYTES`] may be
    /// written).
    pub fn transmit_ready(&self) -> bool {
        self.read(LSR) & LSR_THR_EMPTY != 0
    }

    /// Writes `bytes` (at most [`FIFO_BYTES`]) into the transmit FIFO;
    /// call only when [`Uart::transmit_ready`].
    pub fn transmit(&self, bytes: &[u8]) {
        for &byte in bytes.iter().take(FIFO_BYTES) {
            self.write(DATA, byte);
        }
    }
}
