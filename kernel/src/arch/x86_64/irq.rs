//! Interrupt vectors: which vector means what, the allocation of device
//! vectors, what happens when one arrives, and the spurious-interrupt
//! counts.
//!
//! # Vector map
//!
//! | vectors | use |
//! |---|---|
//! | 0-31 | exceptions |
//! | 32 | the timer (local APIC timer, or the PIT on 8259 IRQ 0) |
//! | 33-47 | the other 8259 IRQs: masked, so only the 8259's spurious IRQ 7 (39) and IRQ 15 (47) are expected, except in PIC mode (no local APIC), where a device's line arrives here and is handed on as its device vector (`gsi.rs`) |
//! | 48-239 | device vectors ([`DEVICE_VECTOR_FIRST`]..=[`DEVICE_VECTOR_LAST`]) |
//! | 240-254 | reserved (inter-processor interrupts later) |
//! | 255 | the local APIC's spurious vector |
//!
//! # Allocation is separate from routing
//!
//! [`alloc_vector`] hands out a free device vector; a source is then bound
//! to it: `ioapic::route` binds a GSI (recording here whether it is
//! level-triggered), and an MSI will bind a device by writing the vector
//! into its message data, with nothing to record. [`free_vector`] returns
//! it once the source is gone (`ioapic::unroute`).
//!
//! # Arrival
//!
//! A level-triggered GSI is masked at its I/O APIC before the EOI, so the
//! line stays quiet until the kernel calls [`acknowledge`] (after the
//! user-space driver served the device and acknowledged the IRQ); an
//! edge-triggered or MSI vector is only acknowledged at the local APIC.
//! From user mode the trap then reports `UserTrap::Irq(vector)`; from
//! kernel mode (the idle loop's `hlt` or a preemption point) the vector
//! is marked pending and [`take_pending`] hands it over later. Spurious
//! interrupts (the local APIC's, SDM Vol. 3A §12.9, which get no EOI;
//! the 8259's, see `pic.rs`) and interrupts on vectors nothing owns are
//! counted, never fatal: [`counts`].

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use super::idt::SPURIOUS_VECTOR;
use super::{apic, ioapic, pic};

/// The first device vector.
pub const DEVICE_VECTOR_FIRST: u8 = 48;
/// The last device vector.
pub const DEVICE_VECTOR_LAST: u8 = 239;
const DEVICE_VECTORS: usize = (DEVICE_VECTOR_LAST - DEVICE_VECTOR_FIRST) as usize + 1;
/// The last 8259 vector.
const PIC_VECTOR_LAST: u8 = pic::PIC_VECTOR_BASE + 15;

/// `BINDINGS` states (low byte); a bound GSI number sits in bits 32-63.
const FREE: u64 = 0;
const ALLOCATED: u64 = 1;
const GSI_EDGE: u64 = 2;
const GSI_LEVEL: u64 = 3;
const GSI_SHIFT: u32 = 32;

/// What each device vector is bound to.
static BINDINGS: [AtomicU64; DEVICE_VECTORS] = [const { AtomicU64::new(FREE) }; DEVICE_VECTORS];
/// Device vectors that arrived in kernel mode, one bit per vector.
static PENDING: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// PIC mode (no local APIC): device lines are 8259 inputs (`gsi`).
static PIC_MODE: AtomicBool = AtomicBool::new(false);
/// In PIC mode, the device vector each 8259 input is bound to (0: none).
static PIC_LINES: [AtomicU8; 16] = [const { AtomicU8::new(0) }; 16];
static SPURIOUS_APIC: AtomicU64 = AtomicU64::new(0);
static SPURIOUS_PIC: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);
/// TSC when the last device vector arrived (for the `irq_to_user`
/// benchmark: the trap records it before anything else of the delivery).
static LAST_ARRIVAL_TSC: AtomicU64 = AtomicU64::new(0);

/// A device interrupt vector, allocated by [`alloc_vector`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IrqVector(u8);

impl IrqVector {
    /// The vector number (for an MSI's message data).
    pub fn number(self) -> u8 {
        self.0
    }

    fn index(self) -> usize {
        // An `IrqVector` is a device vector (see `from_number`).
        usize::from(self.0.wrapping_sub(DEVICE_VECTOR_FIRST))
    }

    fn from_number(vector: u64) -> Option<IrqVector> {
        let vector = u8::try_from(vector).ok()?;
        (DEVICE_VECTOR_FIRST..=DEVICE_VECTOR_LAST)
            .contains(&vector)
            .then_some(IrqVector(vector))
    }
}

/// Remaps and masks the 8259s, and enables the local APIC if there is
/// one. Boot CPU, once, after the IDT is loaded.
pub fn init(has_apic: bool) {
    PIC_MODE.store(!has_apic, Ordering::Relaxed);
    pic::init(0);
    if has_apic {
        apic::init(SPURIOUS_VECTOR);
    }
}

/// A free device vector, now allocated; `None` when all are taken.
pub fn alloc_vector() -> Option<IrqVector> {
    (0..DEVICE_VECTORS).find_map(|index| {
        BINDINGS[index]
            .compare_exchange(FREE, ALLOCATED, Ordering::Relaxed, Ordering::Relaxed)
            .ok()
            .map(|_| IrqVector(DEVICE_VECTOR_FIRST.wrapping_add(index as u8)))
    })
}

/// Returns a vector whose source is gone (`ioapic::unroute`). A pending
/// arrival is forgotten.
pub fn free_vector(vector: IrqVector) {
    BINDINGS[vector.index()].store(FREE, Ordering::Relaxed);
    PENDING[usize::from(vector.0 / 64)].fetch_and(!(1 << (vector.0 % 64)), Ordering::Relaxed);
}

/// Whether device lines are 8259 inputs (no local APIC).
pub fn pic_mode() -> bool {
    PIC_MODE.load(Ordering::Relaxed)
}

/// In PIC mode, records that 8259 input `line` (below 16) is `vector`'s
/// (by `gsi::route`).
pub(super) fn bind_pic(line: u8, vector: IrqVector) {
    PIC_LINES[usize::from(line & 15)].store(vector.0, Ordering::Relaxed);
}

/// Forgets that 8259 input `line` is `vector`'s (by `gsi::unroute`).
pub(super) fn unbind_pic(line: u8, vector: IrqVector) {
    let _ = PIC_LINES[usize::from(line & 15)].compare_exchange(
        vector.0,
        0,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
}

/// Records that `gsi` arrives on `vector` (by `ioapic::route`).
pub(super) fn bind_gsi(vector: IrqVector, gsi: u32, level: bool) {
    let state = if level { GSI_LEVEL } else { GSI_EDGE };
    BINDINGS[vector.index()].store(state | (u64::from(gsi) << GSI_SHIFT), Ordering::Relaxed);
}

/// Records that `vector` has no source any more (by `ioapic::unroute`).
pub(super) fn unbind(vector: IrqVector) {
    BINDINGS[vector.index()].store(ALLOCATED, Ordering::Relaxed);
}

/// The GSI bound to `vector` and whether it is level-triggered.
fn bound_gsi(vector: IrqVector) -> Option<(u32, bool)> {
    let binding = BINDINGS[vector.index()].load(Ordering::Relaxed);
    let gsi = (binding >> GSI_SHIFT) as u32;
    match binding & 0xff {
        GSI_EDGE => Some((gsi, false)),
        GSI_LEVEL => Some((gsi, true)),
        _ => None,
    }
}

/// The kernel is done with an arrival on `vector`: a level-triggered GSI
/// masked on arrival is unmasked (if the device still asserts it, it
/// arrives again).
pub fn acknowledge(vector: IrqVector) {
    if let Some((gsi, true)) = bound_gsi(vector) {
        // A GSI bound here was routed, so its I/O APIC exists.
        let _ = ioapic::unmask(ioapic::Gsi(gsi));
    }
}

/// One device vector that arrived while the kernel ran (and clears it),
/// lowest first; `None` if none did.
pub fn take_pending() -> Option<IrqVector> {
    PENDING.iter().enumerate().find_map(|(word_index, word)| {
        let bits = word.load(Ordering::Relaxed);
        if bits == 0 {
            return None;
        }
        let bit = bits.trailing_zeros();
        word.fetch_and(!(1 << bit), Ordering::Relaxed);
        // 256 vectors: four words of 64 bits.
        Some(IrqVector(((word_index << 6) | bit as usize) as u8))
    })
}

/// Marks `vector` pending for [`take_pending`].
pub(super) fn mark_pending(vector: IrqVector) {
    PENDING[usize::from(vector.0 / 64)].fetch_or(1 << (vector.0 % 64), Ordering::Relaxed);
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

/// TSC value when the last device vector arrived.
pub fn last_arrival_tsc() -> u64 {
    LAST_ARRIVAL_TSC.load(Ordering::Relaxed)
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

/// Any vector from 33 up except the spurious one: handles the hardware
/// side (mask, EOI) and returns the device vector to report, if it is one
/// that something is bound to.
pub(super) fn interrupt(vector: u64) -> Option<IrqVector> {
    if let Some(irq) = IrqVector::from_number(vector) {
        LAST_ARRIVAL_TSC.store(super::tsc::now(), Ordering::Relaxed);
        let binding = BINDINGS[irq.index()].load(Ordering::Relaxed);
        if let Some((gsi, true)) = bound_gsi(irq) {
            let _ = ioapic::mask(ioapic::Gsi(gsi));
        }
        apic::eoi();
        if binding == FREE {
            UNEXPECTED.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        return Some(irq);
    }
    match u8::try_from(vector) {
        Ok(v @ pic::PIC_VECTOR_BASE..=PIC_VECTOR_LAST) => {
            let line = v.wrapping_sub(pic::PIC_VECTOR_BASE);
            let owner = PIC_LINES[usize::from(line & 15)].load(Ordering::Relaxed);
            if pic::take_spurious(line) {
                SPURIOUS_PIC.fetch_add(1, Ordering::Relaxed);
            } else if let Some(irq) = IrqVector::from_number(u64::from(owner)) {
                // A device's line in PIC mode: masked until `IrqAck`.
                LAST_ARRIVAL_TSC.store(super::tsc::now(), Ordering::Relaxed);
                pic::mask(line);
                pic::eoi(line);
                return Some(irq);
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
    None
}
