//! The two legacy 8259A interrupt controllers, cascaded on IRQ 2.
//!
//! They are remapped to vectors [`PIC_VECTOR_BASE`]..+16 so that nothing
//! they raise looks like an exception, then masked: completely when the
//! local APIC and I/O APIC deliver interrupts, all but IRQ 0 (the PIT
//! tick) on machines without a local APIC.
//!
//! A masked 8259 can still raise IRQ 7 (master) or IRQ 15 (slave) when a
//! request goes away before the CPU acknowledges it; such a spurious
//! interrupt has no bit set in the in-service register and must not be
//! acknowledged, except that a spurious IRQ 15 still needs an EOI on the
//! master, which saw a real cascade request (8259A datasheet, "Interrupt
//! Sequence"; OCW3 selects the ISR for reading).

use x86_64::instructions::port::Port;

/// The vector of IRQ 0; IRQ n arrives on `PIC_VECTOR_BASE + n`.
pub const PIC_VECTOR_BASE: u8 = 32;

const MASTER_COMMAND: u16 = 0x20;
const MASTER_DATA: u16 = 0x21;
const SLAVE_COMMAND: u16 = 0xa0;
const SLAVE_DATA: u16 = 0xa1;
/// OCW2: non-specific end of interrupt.
const EOI: u8 = 0x20;
/// OCW3: the next read of the command port returns the in-service register.
const READ_ISR: u8 = 0x0b;
/// The IRQ on which each controller reports spurious interrupts.
const SPURIOUS_IRQ: u8 = 7;

fn outb(port: u16, value: u8) {
    // SAFETY: ports 0x20/0x21 and 0xa0/0xa1 are the 8259s, owned by the
    // kernel; writing them only programs the controllers.
    unsafe { Port::<u8>::new(port).write(value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`; reading has no effect on memory.
    unsafe { Port::<u8>::new(port).read() }
}

/// Remaps both controllers to `PIC_VECTOR_BASE`.. and masks every IRQ
/// whose bit is clear in `unmasked`.
pub fn init(unmasked: u16) {
    for (port, value) in [
        (MASTER_COMMAND, 0x11),
        (SLAVE_COMMAND, 0x11), // ICW1: initialise, ICW4 follows
        (MASTER_DATA, PIC_VECTOR_BASE),
        (SLAVE_DATA, PIC_VECTOR_BASE + 8), // ICW2: vector bases
        (MASTER_DATA, 1 << 2),
        (SLAVE_DATA, 2), // ICW3: slave on master's IRQ 2
        (MASTER_DATA, 1),
        (SLAVE_DATA, 1), // ICW4: 8086 mode
    ] {
        outb(port, value);
    }
    outb(MASTER_DATA, !(unmasked as u8));
    outb(SLAVE_DATA, !((unmasked >> 8) as u8));
}

/// The data port and bit of IRQ `irq` (0-15).
fn mask_bit(irq: u8) -> (u16, u8) {
    if irq < 8 {
        (MASTER_DATA, irq)
    } else {
        (SLAVE_DATA, irq.wrapping_sub(8) & 7)
    }
}

/// Lets IRQ `irq` (0-15) through: the PIT tick without a local APIC, and
/// in PIC mode a device's line (`gsi`). A slave's IRQ also opens the
/// cascade, IRQ 2, which stays open.
pub fn unmask(irq: u8) {
    let (port, bit) = mask_bit(irq);
    outb(port, inb(port) & !(1 << bit));
    if irq >= 8 {
        outb(MASTER_DATA, inb(MASTER_DATA) & !(1 << 2));
    }
}

/// Stops IRQ `irq` (0-15). An edge that comes while it is masked stays
/// requested and arrives when it is unmasked.
pub fn mask(irq: u8) {
    let (port, bit) = mask_bit(irq);
    outb(port, inb(port) | (1 << bit));
}

/// Acknowledges IRQ `irq` (0-15).
pub fn eoi(irq: u8) {
    if irq >= 8 {
        outb(SLAVE_COMMAND, EOI);
    }
    outb(MASTER_COMMAND, EOI);
}

/// For IRQ 7 or 15: whether it is spurious (not in service). A spurious
/// IRQ 15 is acknowledged on the master here; a spurious IRQ must not be
/// acknowledged otherwise. Always false for other IRQs.
pub fn take_spurious(irq: u8) -> bool {
    let command = match irq {
        7 => MASTER_COMMAND,
        15 => SLAVE_COMMAND,
        _ => return false,
    };
    outb(command, READ_ISR);
    let in_service = inb(command) & (1 << SPURIOUS_IRQ) != 0;
    if !in_service && irq == 15 {
        outb(MASTER_COMMAND, EOI);
    }
    !in_service
}
