//! Interrupt vectors: which vector means what, what happens when one
//! arrives that no driver owns, and the spurious-interrupt counts.
//!
//! # Vector map
//!
//! | vectors | use |
//! |---|---|
//! | 0-31 | exceptions |
//! | 32 | the timer (local APIC timer, or the PIT on 8259 IRQ 0) |
//! | 33-47 | the other 8259 IRQs: masked, so only the 8259's spurious IRQ 7 (39) and IRQ 15 (47) are expected |
//! | 48-239 | device vectors (none routed yet) |
//! | 240-254 | reserved (inter-processor interrupts later) |
//! | 255 | the local APIC's spurious vector |
//!
//! Spurious interrupts (the local APIC's, SDM Vol. 3A §12.9, which get no
//! EOI; the 8259's, see `pic.rs`) and interrupts on vectors nothing owns
//! are counted, never fatal: [`counts`].

use core::sync::atomic::{AtomicU64, Ordering};

use super::idt::SPURIOUS_VECTOR;
use super::{apic, pic};

/// The last 8259 vector.
const PIC_VECTOR_LAST: u8 = pic::PIC_VECTOR_BASE + 15;

static SPURIOUS_APIC: AtomicU64 = AtomicU64::new(0);
static SPURIOUS_PIC: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// Remaps and masks the 8259s, and enables the local APIC if there is
/// one. Boot CPU, once, after the IDT is loaded.
pub fn init(has_apic: bool) {
    pic::init(0);
    if has_apic {
        apic::init(SPURIOUS_VECTOR);
    }
}

/// Interrupts that were counted and dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqCounts {
    /// The local APIC's spurious vector.
    pub spurious_apic: u64,
    /// The 8259's spurious IRQ 7 and IRQ 15.
    pub spurious_pic: u64,
    /// Vectors nothing was bound to (a masked 8259 IRQ, a free or
    /// reserved vector).
    pub unexpected: u64,
}

/// The counts so far.
pub fn counts() -> IrqCounts {
    IrqCounts {
        spurious_apic: SPURIOUS_APIC.load(Ordering::Relaxed),
        spurious_pic: SPURIOUS_PIC.load(Ordering::Relaxed),
        unexpected: UNEXPECTED.load(Ordering::Relaxed),
    }
}

/// The local APIC's spurious vector arrived: counted, no EOI (§12.9).
pub(super) fn spurious() {
    SPURIOUS_APIC.fetch_add(1, Ordering::Relaxed);
}

/// Any vector from 33 up except the spurious one: nothing owns it yet, so
/// it is acknowledged where it came from and counted.
pub(super) fn interrupt(vector: u64) {
    match u8::try_from(vector) {
        Ok(v @ pic::PIC_VECTOR_BASE..=PIC_VECTOR_LAST) => {
            let line = v - pic::PIC_VECTOR_BASE;
            if pic::take_spurious(line) {
                SPURIOUS_PIC.fetch_add(1, Ordering::Relaxed);
            } else {
                UNEXPECTED.fetch_add(1, Ordering::Relaxed);
                pic::eoi(line);
            }
        }
        _ => {
            UNEXPECTED.fetch_add(1, Ordering::Relaxed);
            if apic::enabled() {
                apic::eoi();
            }
        }
    }
}
