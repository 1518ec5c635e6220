//! Interrupt lines as capabilities: an `Irq` object owns one line, routed
//! (I/O APIC) to a device vector of its own, and delivers it to a
//! notification.
//!
//! Delivery: when the vector arrives ([`fire`], from the trap or from the
//! idle loop's pending list), the kernel masks the line at its I/O APIC
//! and signals the bound notification with the binding's bits; the line
//! stays masked until the driver, having served the device, calls
//! `IrqAck` ([`acknowledge`]). So a device that keeps asserting its line
//! costs one delivery per acknowledgement, never a storm. A line that
//! fires with no notification (never bound, unbound, or the notification
//! destroyed) is masked, logged once, and left masked.
//!
//! Routing is the arch layer's (`arch::gsi::route`: an I/O APIC input,
//! or an 8259 input in PIC mode; vectors from `arch::irq::alloc_vector`);
//! a later MSI source would take a vector the same way and skip the I/O
//! APIC, with no change here but the source.
//!
//! Lifetime: `header.refs` counts capabilities; at zero the line is
//! masked and unrouted, its vector freed, and the notification's list of
//! lines forgets it. A notification keeps no reference on its lines; its
//! teardown unbinds them.

use abi::SysError;
use abi::syscall::IrqSource;

use crate::arch::gsi;
use crate::arch::ioapic::{self, Gsi};
use crate::arch::irq::{self as vectors, IrqVector};
use crate::kernel::Kernel;
use crate::klog;
use crate::mem::kobj::ObjId;
use crate::object::budget::Budget;
use crate::object::lifetime::{self, Header};
use crate::object::notification::{self, Notification};

/// Device vectors (`arch::irq`'s range).
const VECTORS: usize = (vectors::DEVICE_VECTOR_LAST - vectors::DEVICE_VECTOR_FIRST) as usize + 1;

/// An interrupt line.
#[repr(C)]
pub struct Irq {
    /// References (capabilities) and the budget that paid for it.
    pub header: Header,
    /// The I/O APIC input.
    gsi: u32,
    /// The vector it arrives on.
    vector: IrqVector,
    /// The notification it signals, and with what.
    notification: Option<ObjId<Notification>>,
    /// Bits signalled.
    bits: u64,
    /// Next line bound to the same notification.
    next_bound: Option<ObjId<Irq>>,
    /// Delivered and masked, awaiting `IrqAck`.
    pending: bool,
    /// Fired with nobody to tell (logged once).
    orphan_logged: bool,
}

crate::kernel_object!(Irq);

/// Which object each device vector belongs to.
pub struct IrqTable {
    by_vector: [Option<ObjId<Irq>>; VECTORS],
    /// Deliveries to notifications (for `DebugCounters`).
    pub deliveries: u64,
}

impl IrqTable {
    /// No lines.
    pub const fn new() -> IrqTable {
        IrqTable {
            by_vector: [None; VECTORS],
            deliveries: 0,
        }
    }

    fn slot(&mut self, vector: IrqVector) -> &mut Option<ObjId<Irq>> {
        // An `IrqVector` is a device vector.
        let index = usize::from(vector.number().wrapping_sub(vectors::DEVICE_VECTOR_FIRST));
        &mut self.by_vector[index]
    }
}

/// The I/O APIC input, trigger and polarity of `source`, if it is a line a
/// program may have.
fn resolve(source: IrqSource) -> Option<(u32, ioapic::Trigger, ioapic::Polarity)> {
    let timer_gsi = gsi::for_isa(0).map(|route| route.gsi);
    let (gsi, trigger, polarity) = match source {
        // The kernel's timer and the 8259 cascade.
        IrqSource::Isa(0 | 2) => return None,
        IrqSource::Isa(irq) => {
            let route = gsi::for_isa(irq)?;
            (route.gsi, route.trigger, route.polarity)
        }
        IrqSource::Gsi {
            gsi,
            level,
            active_low,
        } => (
            gsi,
            if level {
                ioapic::Trigger::Level
            } else {
                ioapic::Trigger::Edge
            },
            if active_low {
                ioapic::Polarity::ActiveLow
            } else {
                ioapic::Polarity::ActiveHigh
            },
        ),
    };
    (timer_gsi != Some(gsi)).then_some((gsi, trigger, polarity))
}

/// Makes the object for `source`, paid for by `budget`, routed and masked.
///
/// # Errors
/// [`SysError::InvalidArg`] for a line the kernel keeps, one no I/O APIC
/// has, or one already taken; [`SysError::OutOfMemory`] when the budget
/// cannot pay or no vector is free.
pub fn create(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    source: IrqSource,
) -> Result<ObjId<Irq>, SysError> {
    let (gsi, trigger, polarity) = resolve(source).ok_or(SysError::InvalidArg)?;
    let taken = k
        .irqs
        .by_vector
        .iter()
        .flatten()
        .any(|&irq| k.objects.get(irq).gsi == gsi);
    if taken {
        return Err(SysError::InvalidArg);
    }
    let vector = vectors::alloc_vector().ok_or(SysError::OutOfMemory)?;
    if gsi::route(Gsi(gsi), vector, polarity, trigger).is_err() {
        vectors::free_vector(vector);
        return Err(SysError::InvalidArg);
    }
    let line = Irq {
        header: Header::new(budget),
        gsi,
        vector,
        notification: None,
        bits: 0,
        next_bound: None,
        pending: false,
        orphan_logged: false,
    };
    let id = lifetime::new_object(k, budget, line).inspect_err(|_| {
        let _ = gsi::unroute(Gsi(gsi), vector);
        vectors::free_vector(vector);
    })?;
    *k.irqs.slot(vector) = Some(id);
    Ok(id)
}

/// Binds the line to `notification` with `bits` (replacing any earlier
/// binding), or unbinds it for `None`; the line is unmasked when bound and
/// not awaiting an acknowledgement, and masked when unbound.
pub fn bind(k: &mut Kernel, irq: ObjId<Irq>, target: Option<(ObjId<Notification>, u64)>) {
    unlink(k, irq);
    let gsi = Gsi(k.objects.get(irq).gsi);
    match target {
        Some((notification, bits)) => {
            let head = k.objects.get(notification).irqs;
            let line = k.objects.get_mut(irq);
            line.notification = Some(notification);
            line.bits = bits;
            line.next_bound = head;
            line.orphan_logged = false;
            let pending = line.pending;
            k.objects.get_mut(notification).irqs = Some(irq);
            if !pending {
                let _ = gsi::unmask(gsi);
            }
        }
        None => {
            let _ = gsi::mask(gsi);
        }
    }
}

/// Takes the line off its notification's list.
fn unlink(k: &mut Kernel, irq: ObjId<Irq>) {
    let Some(notification) = k.objects.get_mut(irq).notification.take() else {
        return;
    };
    let next = k.objects.get_mut(irq).next_bound.take();
    let mut cursor = k.objects.get(notification).irqs;
    if cursor == Some(irq) {
        k.objects.get_mut(notification).irqs = next;
        return;
    }
    while let Some(line) = cursor {
        let after = k.objects.get(line).next_bound;
        if after == Some(irq) {
            k.objects.get_mut(line).next_bound = next;
            return;
        }
        cursor = after;
    }
}

/// The driver served the device: unmask the line if a delivery masked it.
pub fn acknowledge(k: &mut Kernel, irq: ObjId<Irq>) {
    let line = k.objects.get_mut(irq);
    if line.pending && line.notification.is_some() {
        line.pending = false;
        let _ = gsi::unmask(Gsi(line.gsi));
    }
}

/// `vector` arrived: mask the line and signal its notification. A line
/// already delivered and masked, awaiting `IrqAck`, is not signalled
/// again: that is an interrupt the local APIC or the 8259 had latched
/// before the mask took effect (an edge that came while the first was
/// being taken), and the driver hears of the device once per
/// acknowledgement, as documented. (Seen under load: the RTC's second
/// edge of a pair reached the test's driver while its line was masked.)
pub fn fire(k: &mut Kernel, vector: IrqVector) {
    let Some(irq) = *k.irqs.slot(vector) else {
        return;
    };
    let line = k.objects.get_mut(irq);
    if line.pending {
        return;
    }
    let _ = gsi::mask(Gsi(line.gsi));
    line.pending = true;
    match line.notification {
        Some(notification) => {
            let bits = line.bits;
            // A statistics counter; one per interrupt, it cannot reach 2^64.
            k.irqs.deliveries = k.irqs.deliveries.wrapping_add(1);
            notification::signal(k, notification, bits);
        }
        None if !line.orphan_logged => {
            line.orphan_logged = true;
            klog!(
                Warn,
                "irq on gsi {} fired with no notification bound; left masked",
                line.gsi
            );
        }
        None => {}
    }
}

/// Before the line is freed: masked, unrouted, its vector returned and
/// its notification's list without it.
pub fn teardown(k: &mut Kernel, irq: ObjId<Irq>) {
    unlink(k, irq);
    let line = k.objects.get(irq);
    let (gsi, vector) = (line.gsi, line.vector);
    let _ = gsi::unroute(Gsi(gsi), vector);
    vectors::free_vector(vector);
    *k.irqs.slot(vector) = None;
}

/// A notification is being destroyed: its lines lose it (each is masked
/// when it next fires, and logged once).
pub fn forget_notification(k: &mut Kernel, notification: ObjId<Notification>) {
    let mut cursor = k.objects.get_mut(notification).irqs.take();
    while let Some(irq) = cursor {
        let line = k.objects.get_mut(irq);
        cursor = line.next_bound.take();
        line.notification = None;
    }
}
