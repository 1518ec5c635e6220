//! Finding the ACPI MADT at boot and keeping what it says about the
//! interrupt controllers (`kcore::madt::ApicLayout`).
//!
//! The RSDP comes from the PVH start info (`rsdp_paddr`, which QEMU's PVH
//! option ROM fills in) or, when that is 0, from scanning the first KiB
//! of the EBDA and the BIOS area 0xE0000-0xFFFFF (ACPI 6.5 §5.2.5.1).
//! Firmware keeps its tables in reserved memory, which the kernel's
//! direct map does not cover, so [`discover`] reads them through the boot
//! code's map of the first 4 GiB and must run before
//! `paging::init_kernel_space` replaces it. All parsing is in
//! `kcore::madt`; anything missing or malformed falls back to the MP
//! specification's defaults, with a warning.

use core::fmt;
use kcore::madt::{
    AcpiError, ApicLayout, ISA_IRQS, IsaRoute, Madt, Polarity, Rsdp, Trigger, find_madt,
};

use super::pvh;

/// The real-mode pointer to the EBDA (a segment) in the BIOS data area.
const EBDA_POINTER: u64 = 0x40e;
const EBDA_SCAN_BYTES: u64 = 1024;
const BIOS_AREA_START: u64 = 0xe_0000;
const BIOS_AREA_END: u64 = 0x10_0000;
/// The EBDA lies in conventional memory, between these.
const EBDA_LOWEST: u64 = 0x8_0000;
const EBDA_END: u64 = 0xa_0000;

static LAYOUT: spin::Once<ApicLayout> = spin::Once::new();

/// Where the RSDP was found.
#[derive(Clone, Copy, Debug)]
enum RsdpOrigin {
    StartInfo,
    Ebda,
    BiosArea,
}

fn read(phys: u64, len: usize) -> Option<&'static [u8]> {
    pvh::early_phys_bytes(phys, len as u64).ok()
}

/// The RSDP: at `hint` if given and valid, else by scanning.
fn find_rsdp(hint: Option<u64>) -> Option<(u64, Rsdp, RsdpOrigin)> {
    if let Some(phys) = hint {
        // Read 36 bytes if they are there (revision 2+), else 20.
        let bytes = read(phys, kcore::madt::RSDP_V2_BYTES)
            .or_else(|| read(phys, kcore::madt::RSDP_V1_BYTES))?;
        match Rsdp::parse(bytes) {
            Ok(rsdp) => return Some((phys, rsdp, RsdpOrigin::StartInfo)),
            Err(e) => crate::klog!(Warn, "bad RSDP at {:#x} from PVH: {:?}", phys, e),
        }
    }
    let ebda = read(EBDA_POINTER, 2).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])) << 4);
    let areas = [
        (
            ebda.filter(|e| (EBDA_LOWEST..EBDA_END).contains(e)),
            EBDA_SCAN_BYTES,
            RsdpOrigin::Ebda,
        ),
        (
            Some(BIOS_AREA_START),
            BIOS_AREA_END - BIOS_AREA_START,
            RsdpOrigin::BiosArea,
        ),
    ];
    areas.into_iter().find_map(|(start, len, origin)| {
        let start = start?;
        let (offset, rsdp) = Rsdp::scan(read(start, len as usize)?)?;
        // The areas lie below 1 MiB and `offset` inside one of them.
        Some((start.wrapping_add(offset as u64), rsdp, origin))
    })
}

/// Reads the MADT (via `rsdp_hint`, the start info's `rsdp_paddr`, or a
/// scan) and records the interrupt controller layout for
/// [`layout`]. Boot CPU, once, while the boot code's 4 GiB map is live.
pub fn discover(rsdp_hint: Option<u64>) -> &'static ApicLayout {
    LAYOUT.call_once(|| {
        let Some((phys, rsdp, origin)) = find_rsdp(rsdp_hint) else {
            crate::klog!(Warn, "no RSDP; assuming the MP default interrupt layout");
            return ApicLayout::mp_defaults();
        };
        let madt = find_madt(&rsdp, read).and_then(Madt::parse);
        let layout = match madt {
            Ok(madt) => ApicLayout::from_madt(&madt),
            Err(e) => {
                let why = match e {
                    AcpiError::NotFound => "no MADT",
                    _ => "unusable RSDT/XSDT",
                };
                crate::klog!(Warn, "{} ({:?}); assuming the MP defaults", why, e);
                return ApicLayout::mp_defaults();
            }
        };
        crate::klog!(
            Info,
            "RSDP at {:#x} (revision {}, {:?}); MADT: {} CPUs, {} I/O APICs, \
             8259s {}, {} malformed entries; ISA overrides:{}",
            phys,
            rsdp.revision,
            origin,
            layout.local_apics().len(),
            layout.io_apics().len(),
            if layout.pcat_compat {
                "present"
            } else {
                "absent"
            },
            layout.malformed,
            Overrides(&layout)
        );
        layout
    })
}

/// Lists the ISA IRQs that do not reach the GSI of their number, or not
/// edge-triggered active-high: ` 0->2 9->9 level`.
struct Overrides<'a>(&'a ApicLayout);

impl fmt::Display for Overrides<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for irq in 0..ISA_IRQS as u8 {
            let Some(route) = self.0.isa_route(irq) else {
                continue;
            };
            if route == IsaRoute::identity(irq) {
                continue;
            }
            any = true;
            write!(f, " {}->{}", irq, route.gsi)?;
            if route.trigger == Trigger::Level {
                f.write_str(" level")?;
            }
            if route.polarity == Polarity::ActiveLow {
                f.write_str(" low")?;
            }
        }
        if !any {
            f.write_str(" none")?;
        }
        Ok(())
    }
}

/// The layout [`discover`] found (the MP defaults if it never ran).
pub fn layout() -> &'static ApicLayout {
    LAYOUT.call_once(ApicLayout::mp_defaults)
}

/// Whether `[start, end)` (physical) touches a register page the kernel
/// drives itself: the local APIC's or an I/O APIC's. Device memory
/// objects never cover them (a program mapping them could take the
/// interrupt system from the kernel).
pub fn touches_kernel_mmio(start: u64, end: u64) -> bool {
    let layout = layout();
    let page = |address: u64| {
        let first = address & !0xfff;
        // `start <= last byte of the page`, written so the last page of
        // the address space does not wrap.
        start <= (first | 0xfff) && first < end
    };
    page(layout.local_apic_address)
        || layout
            .io_apics()
            .iter()
            .any(|io_apic| page(u64::from(io_apic.address)))
}
