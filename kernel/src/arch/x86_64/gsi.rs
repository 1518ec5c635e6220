//! Global system interrupts as the kernel routes them for `object::irq`:
//! through the I/O APICs when the machine uses them; in PIC mode (no
//! local APIC, so no I/O APIC is used either) GSIs 0-15 are the inputs of
//! the two 8259s, as ACPI numbers them when a system runs in PIC mode.
//!
//! In PIC mode an input arrives on its fixed 8259 vector; `irq` maps it
//! to the device vector of the line's object, masks the input and
//! acknowledges the 8259 (`irq::interrupt`), so delivery and `IrqAck`
//! work as with an I/O APIC. Only edge-triggered, active-high inputs
//! (ISA devices) can be routed there; input 0 (the kernel's PIT tick)
//! and 2 (the cascade) never.

use kcore::madt::IsaRoute;

use super::ioapic::{self, Gsi, IoApicError, Polarity, Trigger};
use super::irq::{self, IrqVector};
use super::pic;

/// The 8259 inputs a device may have: all but 0 (the tick) and 2 (the
/// cascade).
fn pic_input(gsi: Gsi) -> Option<u8> {
    match u8::try_from(gsi.0) {
        Ok(line @ (1 | 3..=15)) => Some(line),
        _ => None,
    }
}

/// Where ISA IRQ `isa` (0-15) arrives: the MADT's route with I/O APICs,
/// the 8259 input of the same number in PIC mode; `None` above 15.
pub fn for_isa(isa: u8) -> Option<IsaRoute> {
    if irq::pic_mode() {
        return (isa < 16).then(|| IsaRoute::identity(isa));
    }
    ioapic::gsi_for_isa(isa)
}

/// `ioapic::route`, or in PIC mode the 8259 input `gsi` bound to
/// `vector` (masked).
///
/// # Errors
/// [`IoApicError::NoSuchGsi`] in PIC mode for input 0, 2, above 15, or a
/// level-triggered or active-low one; as `ioapic::route` otherwise.
pub fn route(
    gsi: Gsi,
    vector: IrqVector,
    polarity: Polarity,
    trigger: Trigger,
) -> Result<(), IoApicError> {
    if !irq::pic_mode() {
        return ioapic::route(gsi, vector, polarity, trigger);
    }
    let line = pic_input(gsi).ok_or(IoApicError::NoSuchGsi)?;
    if trigger != Trigger::Edge || polarity != Polarity::ActiveHigh {
        return Err(IoApicError::NoSuchGsi);
    }
    pic::mask(line);
    irq::bind_pic(line, vector);
    Ok(())
}

/// `ioapic::unroute`, or in PIC mode masks the input and unbinds it.
///
/// # Errors
/// As [`route`].
pub fn unroute(gsi: Gsi, vector: IrqVector) -> Result<(), IoApicError> {
    if !irq::pic_mode() {
        return ioapic::unroute(gsi, vector);
    }
    let line = pic_input(gsi).ok_or(IoApicError::NoSuchGsi)?;
    pic::mask(line);
    irq::unbind_pic(line, vector);
    Ok(())
}

/// Stops `gsi` from interrupting.
///
/// # Errors
/// As [`route`].
pub fn mask(gsi: Gsi) -> Result<(), IoApicError> {
    if !irq::pic_mode() {
        return ioapic::mask(gsi);
    }
    pic::mask(pic_input(gsi).ok_or(IoApicError::NoSuchGsi)?);
    Ok(())
}

/// Lets `gsi` interrupt again.
///
/// # Errors
/// As [`route`].
pub fn unmask(gsi: Gsi) -> Result<(), IoApicError> {
    if !irq::pic_mode() {
        return ioapic::unmask(gsi);
    }
    pic::unmask(pic_input(gsi).ok_or(IoApicError::NoSuchGsi)?);
    Ok(())
}
