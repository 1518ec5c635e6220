//! The I/O APICs: routing global system interrupts (GSIs) to device
//! vectors on the boot CPU, masking and unmasking them.
//!
//! `acpi::discover` finds them in the MADT (or assumes the MP default, one
//! at 0xFEC00000); [`init`] maps each one's register page uncached at
//! `IOAPIC_VIRT + 4 KiB * index`, reads how many inputs it has and masks
//! them all. Nothing is routed until the kernel asks: [`route`] programs
//! an input (masked), [`unmask`] lets it through. Vector allocation is
//! `irq.rs`'s; `route` tells it which GSI a vector carries, so that a
//! level-triggered GSI can be masked when it arrives.
//!
//! # Registers (Intel 82093AA datasheet §3)
//!
//! Two memory-mapped registers select and access the rest: IOREGSEL
//! (offset 0x00, the index) and IOWIN (offset 0x10, the data). Index 0x01
//! (version) holds the highest input number in bits 23:16; indexes
//! `0x10 + 2n` and `0x11 + 2n` are the low and high halves of input n's
//! redirection entry:
//!
//! | bits | field |
//! |---|---|
//! | 7:0 | vector |
//! | 10:8 | delivery mode (000 fixed) |
//! | 11 | destination mode (0 physical: an APIC ID) |
//! | 13 | polarity (1 active low) |
//! | 14 | remote IRR (read-only: a level interrupt awaits EOI) |
//! | 15 | trigger (1 level) |
//! | 16 | mask |
//! | 63:56 | destination APIC ID |
//!
//! The select-then-access pair must not be interleaved, so every access
//! holds `CHIPS`' lock (interrupts are off whenever kernel code holds it).
//! On machines without a local APIC the I/O APICs are left alone (masked
//! since reset) and every operation fails with [`IoApicError::NoIoApic`].

use kcore::madt::{IsaRoute, MAX_IO_APICS};
pub use kcore::madt::{Polarity, Trigger};

use super::irq::{self, IrqVector};
use super::{acpi, apic, paging, pit, tsc};
use crate::config::IOAPIC_VIRT;

const REG_SELECT: u64 = 0x00;
const REG_WINDOW: u64 = 0x10;
const INDEX_VERSION: u32 = 0x01;
const INDEX_REDIRECTION: u32 = 0x10;

/// The register index of `input`'s redirection entry (its low half; the
/// high half is the next index). Inputs are below 256 (an 8-bit field of
/// the version register), so this cannot wrap.
fn redirection(input: u32) -> u32 {
    debug_assert!(input < 256);
    INDEX_REDIRECTION.wrapping_add(input.wrapping_mul(2))
}
const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
const ENTRY_LEVEL: u32 = 1 << 15;
const ENTRY_MASKED: u32 = 1 << 16;
const PAGE_BYTES: u64 = 4096;
/// How long the self-test waits for the PIT's interrupt.
const SELF_TEST_TIMEOUT_NS: u64 = 50_000_000;
/// PIT ticks until the self-test's interrupt (~8 us).
const SELF_TEST_PIT_TICKS: u16 = 10;

/// A global system interrupt number (ACPI's flat numbering of I/O APIC
/// inputs: an I/O APIC's input n is GSI `gsi_base + n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gsi(pub u32);

/// Why an I/O APIC operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoApicError {
    /// No I/O APIC is in use (none found, or no local APIC).
    NoIoApic,
    /// No I/O APIC has an input for this GSI.
    NoSuchGsi,
}

#[derive(Clone, Copy)]
struct Chip {
    /// Virtual address of the register window.
    registers: u64,
    gsi_base: u32,
    inputs: u32,
}

impl Chip {
    fn read(&self, index: u32) -> u32 {
        // SAFETY: `registers` is the window `init` mapped uncached for this
        // chip; IOREGSEL and IOWIN are 32-bit registers inside it, and the
        // caller holds CHIPS' lock, so no other select intervenes.
        unsafe {
            core::ptr::write_volatile(self.register(REG_SELECT) as *mut u32, index);
            core::ptr::read_volatile(self.register(REG_WINDOW) as *const u32)
        }
    }

    fn write(&self, index: u32, value: u32) {
        // SAFETY: as for `read`.
        unsafe {
            core::ptr::write_volatile(self.register(REG_SELECT) as *mut u32, index);
            core::ptr::write_volatile(self.register(REG_WINDOW) as *mut u32, value);
        }
    }

    /// The address of the register at `offset` (`REG_SELECT` or
    /// `REG_WINDOW`), inside the chip's mapped page.
    fn register(&self, offset: u64) -> u64 {
        self.registers.wrapping_add(offset)
    }

    fn covers(&self, gsi: Gsi) -> Option<u32> {
        let input = gsi.0.checked_sub(self.gsi_base)?;
        (input < self.inputs).then_some(input)
    }
}

struct Chips {
    chips: [Chip; MAX_IO_APICS],
    count: usize,
    /// APIC ID of the CPU every input is routed to.
    destination: u8,
}

static CHIPS: spin::Mutex<Chips> = spin::Mutex::new(Chips {
    chips: [Chip {
        registers: 0,
        gsi_base: 0,
        inputs: 0,
    }; MAX_IO_APICS],
    count: 0,
    destination: 0,
});

/// Runs `f` on the chip holding `gsi` and the input number there.
fn with_input<R>(gsi: Gsi, f: impl FnOnce(&Chip, u32, u8) -> R) -> Result<R, IoApicError> {
    let chips = CHIPS.lock();
    if chips.count == 0 {
        return Err(IoApicError::NoIoApic);
    }
    chips.chips[..chips.count]
        .iter()
        .find_map(|chip| chip.covers(gsi).map(|input| (chip, input)))
        .map(|(chip, input)| f(chip, input, chips.destination))
        .ok_or(IoApicError::NoSuchGsi)
}

/// Maps every I/O APIC of `acpi::layout()` and masks all its inputs;
/// returns how many there are. Does nothing without a local APIC. Boot
/// CPU, once, after `paging::init_kernel_space` and `irq::init`.
pub fn init(has_apic: bool) -> usize {
    if !has_apic {
        crate::klog!(Info, "not used (no local APIC)");
        return 0;
    }
    let mut chips = CHIPS.lock();
    chips.destination = apic::id();
    for (index, found) in acpi::layout().io_apics().iter().enumerate() {
        let phys = u64::from(found.address);
        // `acpi` keeps at most MAX_IO_APICS chips, one page each.
        debug_assert!(index < MAX_IO_APICS);
        let page = IOAPIC_VIRT.wrapping_add((index as u64).wrapping_mul(PAGE_BYTES));
        paging::map_device_page(page, phys & !(PAGE_BYTES - 1));
        let mut chip = Chip {
            // `page` is page-aligned, so `|` adds the offset in the page.
            registers: page | (phys & (PAGE_BYTES - 1)),
            gsi_base: found.gsi_base,
            inputs: 0,
        };
        let version = chip.read(INDEX_VERSION);
        if version == u32::MAX {
            // Nothing answers at that address (open bus reads all ones).
            crate::klog!(Warn, "no I/O APIC answers at {:#x}; ignored", phys);
            continue;
        }
        // The highest input's number, an 8-bit field.
        let last = (version >> 16) & 0xff;
        chip.inputs = last.wrapping_add(1);
        for input in 0..chip.inputs {
            chip.write(redirection(input), ENTRY_MASKED);
            chip.write(redirection(input).wrapping_add(1), 0);
        }
        crate::klog!(
            Info,
            "id {} at {:#x}: GSI {}-{}, all masked",
            found.id,
            phys,
            chip.gsi_base,
            chip.gsi_base.saturating_add(last)
        );
        let slot = chips.count;
        chips.chips[slot] = chip;
        // `slot` indexed the array just above, so this stays within it.
        chips.count = slot.wrapping_add(1);
    }
    chips.count
}

/// Where ISA IRQ `irq` (0-15) arrives: GSI, polarity and trigger, from the
/// MADT's overrides (or the MP defaults); `None` above 15.
pub fn gsi_for_isa(irq: u8) -> Option<IsaRoute> {
    acpi::layout().isa_route(irq)
}

/// Routes `gsi` to `vector` on the boot CPU (fixed delivery, physical
/// destination), masked: [`unmask`] lets it through. Replaces any earlier
/// route of that GSI (whose vector the caller still owns).
///
/// # Errors
/// [`IoApicError`] when no I/O APIC has that input.
pub fn route(
    gsi: Gsi,
    vector: IrqVector,
    polarity: Polarity,
    trigger: Trigger,
) -> Result<(), IoApicError> {
    let level = trigger == Trigger::Level;
    with_input(gsi, |chip, input, destination| {
        let mut low = u32::from(vector.number()) | ENTRY_MASKED;
        if polarity == Polarity::ActiveLow {
            low |= ENTRY_ACTIVE_LOW;
        }
        if level {
            low |= ENTRY_LEVEL;
        }
        chip.write(redirection(input), ENTRY_MASKED);
        chip.write(
            redirection(input).wrapping_add(1),
            u32::from(destination) << 24,
        );
        chip.write(redirection(input), low);
    })?;
    irq::bind_gsi(vector, gsi.0, level);
    Ok(())
}

/// Masks `gsi` and forgets its route (its vector is unbound; the caller
/// may then `irq::free_vector` it).
///
/// # Errors
/// [`IoApicError`] when no I/O APIC has that input.
pub fn unroute(gsi: Gsi, vector: IrqVector) -> Result<(), IoApicError> {
    with_input(gsi, |chip, input, _| {
        chip.write(redirection(input), ENTRY_MASKED);
    })?;
    irq::unbind(vector);
    Ok(())
}

fn set_masked(gsi: Gsi, masked: bool) -> Result<(), IoApicError> {
    with_input(gsi, |chip, input, _| {
        let index = redirection(input);
        let low = chip.read(index);
        let low = if masked {
            low | ENTRY_MASKED
        } else {
            low & !ENTRY_MASKED
        };
        chip.write(index, low);
    })
}

/// Stops `gsi` from interrupting.
///
/// # Errors
/// [`IoApicError`] when no I/O APIC has that input.
pub fn mask(gsi: Gsi) -> Result<(), IoApicError> {
    set_masked(gsi, true)
}

/// Lets `gsi` interrupt again.
///
/// # Errors
/// [`IoApicError`] when no I/O APIC has that input.
pub fn unmask(gsi: Gsi) -> Result<(), IoApicError> {
    set_masked(gsi, false)
}

/// Why [`self_test`] did not see the interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTestError {
    /// No I/O APIC is in use: nothing to check.
    NoIoApic,
    /// The step that failed.
    Failed(&'static str),
}

/// Routes the PIT (ISA IRQ 0) through its I/O APIC input to a fresh
/// device vector, fires it once and waits for it with interrupts open;
/// then undoes everything. Returns the GSI it arrived on. Boot only,
/// before the first thread (nothing else may take pending vectors).
///
/// # Errors
/// [`SelfTestError`].
pub fn self_test() -> Result<Gsi, SelfTestError> {
    use SelfTestError::Failed;
    if CHIPS.lock().count == 0 {
        return Err(SelfTestError::NoIoApic);
    }
    let route_of_pit = gsi_for_isa(0).ok_or(Failed("no route for ISA IRQ 0"))?;
    let gsi = Gsi(route_of_pit.gsi);
    let vector = irq::alloc_vector().ok_or(Failed("no free device vector"))?;
    let result = (|| {
        route(gsi, vector, route_of_pit.polarity, route_of_pit.trigger)
            .map_err(|_| Failed("no I/O APIC input for the PIT's GSI"))?;
        unmask(gsi).map_err(|_| Failed("cannot unmask"))?;
        pit::one_shot(SELF_TEST_PIT_TICKS);
        // The TSC counts from boot and cannot reach 2^64 in centuries.
        let give_up = tsc::now().wrapping_add(tsc::ticks_from_ns(SELF_TEST_TIMEOUT_NS));
        loop {
            super::switch::wait_for_interrupt();
            match irq::take_pending() {
                Some(arrived) if arrived == vector => {
                    irq::acknowledge(arrived);
                    return Ok(gsi);
                }
                Some(_) => return Err(Failed("an interrupt arrived on another vector")),
                None if tsc::now() > give_up => {
                    return Err(Failed("the PIT's interrupt never arrived"));
                }
                None => {}
            }
        }
    })();
    let _ = unroute(gsi, vector);
    irq::free_vector(vector);
    result
}
