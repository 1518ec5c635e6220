//! Finding and reading the ACPI MADT: where the interrupt controllers are
//! and how ISA interrupts reach them.
//!
//! The kernel hands this module byte slices of physical memory (through a
//! reader closure) and gets back an [`ApicLayout`]: the local APICs, the
//! I/O APICs with their first global system interrupt (GSI), and the route
//! of each ISA IRQ (GSI, polarity, trigger). Firmware tables are untrusted
//! input: every length is checked against the bytes actually present,
//! checksums are verified, offsets use checked arithmetic and slices are
//! taken with `get`, so no input panics, overflows or reads out of bounds.
//! Nothing allocates; the layout has fixed capacities and counts what did
//! not fit.
//!
//! # Formats (ACPI 6.5)
//!
//! RSDP (§5.2.5.3), found through the PVH start info or by scanning the
//! BIOS area on 16-byte boundaries:
//!
//! | field          | offset | bytes | notes                                   |
//! |----------------|--------|-------|-----------------------------------------|
//! | signature      | 0      | 8     | `"RSD PTR "`                            |
//! | checksum       | 8      | 1     | bytes 0..20 sum to 0                    |
//! | revision       | 15     | 1     | 0 = ACPI 1.0 (20 bytes), 2 = extended   |
//! | rsdt_address   | 16     | 4     | physical, 32-bit entries                |
//! | length         | 20     | 4     | revision >= 2: bytes of the whole RSDP  |
//! | xsdt_address   | 24     | 8     | revision >= 2: physical, 64-bit entries |
//! | ext. checksum  | 32     | 1     | revision >= 2: all `length` bytes sum to 0 |
//!
//! Every other table starts with the 36-byte system description header
//! (§5.2.6): signature (4 bytes at 0), length (u32 at 4, header included),
//! revision (8), checksum (9; the whole table sums to 0). The RSDT and XSDT
//! (§5.2.7, §5.2.8) are that header followed by 4- or 8-byte physical
//! addresses of the other tables (XSDT entries are not 8-byte aligned).
//!
//! MADT (§5.2.12), signature `"APIC"`: the header, the local APIC address
//! (u32 at 36), flags (u32 at 40; bit 0 = PC-AT dual 8259s present), then
//! entries of `{type u8, length u8, ...}` from offset 44:
//!
//! | type | entry                          | length | fields used                                   |
//! |------|--------------------------------|--------|-----------------------------------------------|
//! | 0    | processor local APIC           | 8      | uid u8 @2, APIC id u8 @3, flags u32 @4         |
//! | 1    | I/O APIC                       | 12     | id u8 @2, address u32 @4, GSI base u32 @8      |
//! | 2    | interrupt source override      | 10     | bus u8 @2, source u8 @3, GSI u32 @4, flags u16 @8 |
//! | 3    | NMI source                     | 8      | flags u16 @2, GSI u32 @4                       |
//! | 4    | local APIC NMI                 | 6      | uid u8 @2, flags u16 @3, LINT# u8 @5           |
//! | 5    | local APIC address override    | 12     | address u64 @4                                 |
//! | 9    | processor local x2APIC         | 16     | x2APIC id u32 @4, flags u32 @8, uid u32 @12    |
//!
//! Local APIC flags: bit 0 enabled, bit 1 online-capable. Interrupt flags
//! (MPS INTI flags, Table 5.50): bits 1:0 polarity (00 bus default,
//! 01 active high, 11 active low), bits 3:2 trigger (00 bus default,
//! 01 edge, 11 level). The ISA bus default is edge-triggered, active high.
//!
//! # Rules
//!
//! - An ISA IRQ with no override reaches the GSI of the same number,
//!   edge-triggered, active high. Overrides for a bus other than ISA (0) or
//!   a source above 15 are ignored.
//! - An entry shorter than its type requires is counted as malformed and
//!   skipped; an entry whose length is below 2 or runs past the table ends
//!   the walk (counted as malformed too). Unknown types are skipped.
//! - With no MADT at all, [`ApicLayout::mp_defaults`] gives the MP
//!   specification's default configuration: one I/O APIC at `0xFEC00000`
//!   with GSI base 0, identity ISA routing, and IRQ 0 (the PIT) on GSI 2,
//!   which is how QEMU's `pc` and `q35` wire it.

use core::iter::FusedIterator;

/// Bytes of an ACPI 1.0 RSDP (the part covered by the first checksum).
pub const RSDP_V1_BYTES: usize = 20;
/// Bytes of an ACPI 2.0+ RSDP.
pub const RSDP_V2_BYTES: usize = 36;
/// Bytes of the system description header that starts every table.
pub const SDT_HEADER_BYTES: usize = 36;
/// Largest table this module reads; real MADTs and XSDTs are a few KiB.
pub const MAX_TABLE_BYTES: usize = 64 * 1024;
/// I/O APICs an [`ApicLayout`] holds.
pub const MAX_IO_APICS: usize = 8;
/// Local APICs an [`ApicLayout`] holds.
pub const MAX_LOCAL_APICS: usize = 64;
/// ISA IRQs (0-15) an [`ApicLayout`] routes.
pub const ISA_IRQS: usize = 16;

const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
const MADT_SIGNATURE: [u8; 4] = *b"APIC";
const RSDT_SIGNATURE: [u8; 4] = *b"RSDT";
const XSDT_SIGNATURE: [u8; 4] = *b"XSDT";
/// Offset of the first MADT entry.
const MADT_ENTRIES: usize = 44;
/// MADT flag: the PC-AT 8259 pair is present (and must be masked).
const MADT_PCAT_COMPAT: u32 = 1 << 0;
/// Local APIC flag: usable now.
const LAPIC_ENABLED: u32 = 1 << 0;
/// Local APIC flag: may be brought online later.
const LAPIC_ONLINE_CAPABLE: u32 = 1 << 1;
/// The MP specification's default I/O APIC and local APIC addresses.
const DEFAULT_IO_APIC_ADDRESS: u32 = 0xfec0_0000;
const DEFAULT_LOCAL_APIC_ADDRESS: u64 = 0xfee0_0000;
/// The ISA IRQ of the PIT, which QEMU and the MP defaults put on GSI 2.
const PIT_IRQ: usize = 0;
const PIT_DEFAULT_GSI: u32 = 2;

/// Why a table could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// Fewer bytes than the structure needs (or the reader had none).
    Truncated,
    /// The signature is not the expected one.
    BadSignature,
    /// The bytes do not sum to zero.
    BadChecksum,
    /// A length field is smaller than the header or larger than
    /// [`MAX_TABLE_BYTES`].
    BadLength,
    /// No table with that signature is listed.
    NotFound,
}

fn byte_sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let field = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes([field[0], field[1]]))
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let field: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(field))
}

fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    let field: [u8; 8] = bytes.get(offset..offset.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(field))
}

/// The root system description pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rsdp {
    /// 0 for ACPI 1.0, 2 or more for 2.0+.
    pub revision: u8,
    /// Physical address of the RSDT (32-bit entries); 0 if absent.
    pub rsdt_address: u32,
    /// Physical address of the XSDT (64-bit entries), revision 2+ only.
    pub xsdt_address: Option<u64>,
}

impl Rsdp {
    /// Checks an RSDP at the start of `bytes`: signature, the 20-byte
    /// checksum and, for revision 2+, the length and extended checksum.
    ///
    /// # Errors
    /// [`AcpiError`] when the bytes are not a valid RSDP.
    pub fn parse(bytes: &[u8]) -> Result<Rsdp, AcpiError> {
        let v1 = bytes.get(..RSDP_V1_BYTES).ok_or(AcpiError::Truncated)?;
        if &v1[..8] != RSDP_SIGNATURE {
            return Err(AcpiError::BadSignature);
        }
        if byte_sum(v1) != 0 {
            return Err(AcpiError::BadChecksum);
        }
        let revision = v1[15];
        let rsdt_address = u32_at(v1, 16).ok_or(AcpiError::Truncated)?;
        if revision < 2 {
            return Ok(Rsdp {
                revision,
                rsdt_address,
                xsdt_address: None,
            });
        }
        let length = u32_at(bytes, 20).ok_or(AcpiError::Truncated)? as usize;
        if !(RSDP_V2_BYTES..=MAX_TABLE_BYTES).contains(&length) {
            return Err(AcpiError::BadLength);
        }
        let whole = bytes.get(..length).ok_or(AcpiError::Truncated)?;
        if byte_sum(whole) != 0 {
            return Err(AcpiError::BadChecksum);
        }
        let xsdt = u64_at(whole, 24).ok_or(AcpiError::Truncated)?;
        Ok(Rsdp {
            revision,
            rsdt_address,
            xsdt_address: (xsdt != 0).then_some(xsdt),
        })
    }

    /// Finds the first valid RSDP on a 16-byte boundary of `area` (the
    /// first KiB of the EBDA, or the BIOS area `0xE0000..0x100000`);
    /// returns its offset in `area` and the parsed pointer.
    pub fn scan(area: &[u8]) -> Option<(usize, Rsdp)> {
        (0..area.len()).step_by(16).find_map(|offset| {
            let candidate = area.get(offset..)?;
            if !candidate.starts_with(RSDP_SIGNATURE) {
                return None;
            }
            Rsdp::parse(candidate).ok().map(|rsdp| (offset, rsdp))
        })
    }
}

/// The common header of every ACPI table but the RSDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdtHeader {
    /// Four ASCII bytes naming the table.
    pub signature: [u8; 4],
    /// Bytes of the whole table, header included (checked to be at least
    /// [`SDT_HEADER_BYTES`] and at most [`MAX_TABLE_BYTES`]).
    pub length: usize,
    /// Table revision.
    pub revision: u8,
}

impl SdtHeader {
    /// Reads the header at the start of `bytes`; checks only the length
    /// field's range (the checksum needs the whole table: [`checked_table`]).
    ///
    /// # Errors
    /// [`AcpiError::Truncated`] or [`AcpiError::BadLength`].
    pub fn parse(bytes: &[u8]) -> Result<SdtHeader, AcpiError> {
        let header = bytes.get(..SDT_HEADER_BYTES).ok_or(AcpiError::Truncated)?;
        let signature = [header[0], header[1], header[2], header[3]];
        let length = u32_at(header, 4).ok_or(AcpiError::Truncated)? as usize;
        if !(SDT_HEADER_BYTES..=MAX_TABLE_BYTES).contains(&length) {
            return Err(AcpiError::BadLength);
        }
        Ok(SdtHeader {
            signature,
            length,
            revision: header[8],
        })
    }
}

/// Checks the table at the start of `bytes`: its signature, that all
/// `length` bytes are there, and its checksum. Returns exactly the table.
///
/// # Errors
/// [`AcpiError`] when any check fails.
pub fn checked_table(bytes: &[u8], signature: [u8; 4]) -> Result<&[u8], AcpiError> {
    let header = SdtHeader::parse(bytes)?;
    if header.signature != signature {
        return Err(AcpiError::BadSignature);
    }
    let table = bytes.get(..header.length).ok_or(AcpiError::Truncated)?;
    if byte_sum(table) != 0 {
        return Err(AcpiError::BadChecksum);
    }
    Ok(table)
}

/// The physical addresses listed in a checked RSDT (`wide == false`,
/// 4-byte entries) or XSDT (`wide == true`, 8-byte entries). A partial
/// last entry is ignored.
pub fn root_entries(table: &[u8], wide: bool) -> impl Iterator<Item = u64> + '_ {
    let entry_bytes = if wide { 8 } else { 4 };
    table
        .get(SDT_HEADER_BYTES..)
        .unwrap_or(&[])
        .chunks_exact(entry_bytes)
        .map(move |entry| {
            if wide {
                u64_at(entry, 0).unwrap_or(0)
            } else {
                u64::from(u32_at(entry, 0).unwrap_or(0))
            }
        })
}

/// Finds the table named `signature` through the RSDP: the XSDT when the
/// RSDP has one, else the RSDT. `read(phys, len)` returns the `len` bytes
/// of physical memory at `phys`, or `None` when they cannot be read; it is
/// called with lengths of at most [`MAX_TABLE_BYTES`].
///
/// # Errors
/// [`AcpiError::NotFound`] when no listed table has that signature and a
/// valid checksum; other [`AcpiError`]s when the root table is unusable.
pub fn find_table<'m>(
    rsdp: &Rsdp,
    signature: [u8; 4],
    mut read: impl FnMut(u64, usize) -> Option<&'m [u8]>,
) -> Result<&'m [u8], AcpiError> {
    let (root_address, root_signature, wide) = match rsdp.xsdt_address {
        Some(xsdt) => (xsdt, XSDT_SIGNATURE, true),
        None => (u64::from(rsdp.rsdt_address), RSDT_SIGNATURE, false),
    };
    let root = read_table(root_address, root_signature, &mut read)?;
    root_entries(root, wide)
        .find_map(|address| read_table(address, signature, &mut read).ok())
        .ok_or(AcpiError::NotFound)
}

/// Reads and checks the table at `address`: first its header, then the
/// whole length the header gives.
fn read_table<'m>(
    address: u64,
    signature: [u8; 4],
    read: &mut impl FnMut(u64, usize) -> Option<&'m [u8]>,
) -> Result<&'m [u8], AcpiError> {
    if address == 0 {
        return Err(AcpiError::Truncated);
    }
    let header = SdtHeader::parse(read(address, SDT_HEADER_BYTES).ok_or(AcpiError::Truncated)?)?;
    if header.signature != signature {
        return Err(AcpiError::BadSignature);
    }
    let table = read(address, header.length).ok_or(AcpiError::Truncated)?;
    checked_table(table, signature)
}

/// Finds the MADT through the RSDP: [`find_table`] for `"APIC"`.
///
/// # Errors
/// As [`find_table`].
pub fn find_madt<'m>(
    rsdp: &Rsdp,
    read: impl FnMut(u64, usize) -> Option<&'m [u8]>,
) -> Result<&'m [u8], AcpiError> {
    find_table(rsdp, MADT_SIGNATURE, read)
}

/// Interrupt input polarity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    /// Asserted when high (the ISA default).
    ActiveHigh,
    /// Asserted when low (the PCI default).
    ActiveLow,
}

/// Interrupt input trigger mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// One interrupt per rising (or falling) edge (the ISA default).
    Edge,
    /// Asserted as long as the level holds (the PCI default).
    Level,
}

/// MPS INTI flags as the MADT gives them (Table 5.50).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptFlags(pub u16);

impl InterruptFlags {
    /// The polarity, or `None` for "as the bus says" (and the reserved 10b).
    pub fn polarity(self) -> Option<Polarity> {
        match self.0 & 0b11 {
            0b01 => Some(Polarity::ActiveHigh),
            0b11 => Some(Polarity::ActiveLow),
            _ => None,
        }
    }

    /// The trigger mode, or `None` for "as the bus says" (and the reserved 10b).
    pub fn trigger(self) -> Option<Trigger> {
        match (self.0 >> 2) & 0b11 {
            0b01 => Some(Trigger::Edge),
            0b11 => Some(Trigger::Level),
            _ => None,
        }
    }
}

/// One MADT entry, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MadtEntry {
    /// Type 0: a processor's local APIC.
    LocalApic {
        /// ACPI processor UID.
        processor_uid: u8,
        /// The local APIC's ID.
        apic_id: u8,
        /// Bit 0 enabled, bit 1 online-capable.
        flags: u32,
    },
    /// Type 1: an I/O APIC.
    IoApic {
        /// Its I/O APIC ID.
        id: u8,
        /// Physical address of its register window.
        address: u32,
        /// The GSI of its input 0.
        gsi_base: u32,
    },
    /// Type 2: an ISA interrupt that does not reach the GSI of its number,
    /// or not with the bus's default polarity and trigger.
    SourceOverride {
        /// 0 = ISA.
        bus: u8,
        /// The bus-relative IRQ.
        source: u8,
        /// Where it arrives.
        gsi: u32,
        /// Polarity and trigger.
        flags: InterruptFlags,
    },
    /// Type 3: a GSI wired to NMI.
    NmiSource {
        /// Polarity and trigger.
        flags: InterruptFlags,
        /// The GSI.
        gsi: u32,
    },
    /// Type 4: a local APIC LINT input wired to NMI.
    LocalApicNmi {
        /// ACPI processor UID (0xFF: all processors).
        processor_uid: u8,
        /// Polarity and trigger.
        flags: InterruptFlags,
        /// LINT0 or LINT1.
        lint: u8,
    },
    /// Type 5: the 64-bit local APIC address, replacing the header's.
    LocalApicAddressOverride {
        /// Physical address of the local APIC registers.
        address: u64,
    },
    /// Type 9: a processor's local x2APIC.
    LocalX2Apic {
        /// The x2APIC ID.
        x2apic_id: u32,
        /// Bit 0 enabled, bit 1 online-capable.
        flags: u32,
        /// ACPI processor UID.
        processor_uid: u32,
    },
    /// Any other type (skipped).
    Other {
        /// The entry type.
        kind: u8,
    },
    /// A known type shorter than that type needs, or an entry whose length
    /// is below 2 or runs past the table (the walk ends after it).
    Malformed {
        /// The entry type (0 when even the type byte was missing).
        kind: u8,
    },
}

impl MadtEntry {
    /// Decodes one entry whose two-byte prefix and length are already checked.
    fn decode(kind: u8, entry: &[u8]) -> MadtEntry {
        let decoded = match kind {
            0 => entry.get(..8).and_then(|e| {
                Some(MadtEntry::LocalApic {
                    processor_uid: e[2],
                    apic_id: e[3],
                    flags: u32_at(e, 4)?,
                })
            }),
            1 => entry.get(..12).and_then(|e| {
                Some(MadtEntry::IoApic {
                    id: e[2],
                    address: u32_at(e, 4)?,
                    gsi_base: u32_at(e, 8)?,
                })
            }),
            2 => entry.get(..10).and_then(|e| {
                Some(MadtEntry::SourceOverride {
                    bus: e[2],
                    source: e[3],
                    gsi: u32_at(e, 4)?,
                    flags: InterruptFlags(u16_at(e, 8)?),
                })
            }),
            3 => entry.get(..8).and_then(|e| {
                Some(MadtEntry::NmiSource {
                    flags: InterruptFlags(u16_at(e, 2)?),
                    gsi: u32_at(e, 4)?,
                })
            }),
            4 => entry.get(..6).and_then(|e| {
                Some(MadtEntry::LocalApicNmi {
                    processor_uid: e[2],
                    flags: InterruptFlags(u16_at(e, 3)?),
                    lint: e[5],
                })
            }),
            5 => entry.get(..12).and_then(|e| {
                Some(MadtEntry::LocalApicAddressOverride {
                    address: u64_at(e, 4)?,
                })
            }),
            9 => entry.get(..16).and_then(|e| {
                Some(MadtEntry::LocalX2Apic {
                    x2apic_id: u32_at(e, 4)?,
                    flags: u32_at(e, 8)?,
                    processor_uid: u32_at(e, 12)?,
                })
            }),
            _ => Some(MadtEntry::Other { kind }),
        };
        decoded.unwrap_or(MadtEntry::Malformed { kind })
    }
}

/// A checked MADT.
#[derive(Clone, Copy, Debug)]
pub struct Madt<'a> {
    /// The local APIC address from the header (32 bits).
    pub local_apic_address: u32,
    /// Header flags (bit 0: PC-AT 8259s present).
    pub flags: u32,
    entries: &'a [u8],
}

impl<'a> Madt<'a> {
    /// Checks `table` as a MADT (signature, length, checksum, fixed fields).
    ///
    /// # Errors
    /// [`AcpiError`] when it is not a valid MADT.
    pub fn parse(table: &'a [u8]) -> Result<Madt<'a>, AcpiError> {
        let table = checked_table(table, MADT_SIGNATURE)?;
        let local_apic_address = u32_at(table, 36).ok_or(AcpiError::Truncated)?;
        let flags = u32_at(table, 40).ok_or(AcpiError::Truncated)?;
        let entries = table.get(MADT_ENTRIES..).ok_or(AcpiError::Truncated)?;
        Ok(Madt {
            local_apic_address,
            flags,
            entries,
        })
    }

    /// The entries, in table order.
    pub fn entries(&self) -> Entries<'a> {
        Entries { rest: self.entries }
    }
}

/// Iterator over the entries of a [`Madt`].
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    rest: &'a [u8],
}

impl Iterator for Entries<'_> {
    type Item = MadtEntry;

    fn next(&mut self) -> Option<MadtEntry> {
        let (&kind, after_kind) = self.rest.split_first()?;
        let length = after_kind.first().map_or(0, |&l| usize::from(l));
        match self.rest.split_at_checked(length) {
            Some((entry, rest)) if length >= 2 => {
                self.rest = rest;
                Some(MadtEntry::decode(kind, entry))
            }
            _ => {
                self.rest = &[];
                Some(MadtEntry::Malformed { kind })
            }
        }
    }
}

impl FusedIterator for Entries<'_> {}

/// An I/O APIC from the MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApicEntry {
    /// Its I/O APIC ID.
    pub id: u8,
    /// Physical address of its register window.
    pub address: u32,
    /// The GSI of its input 0.
    pub gsi_base: u32,
}

/// Where an ISA IRQ arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaRoute {
    /// The global system interrupt.
    pub gsi: u32,
    /// Input polarity.
    pub polarity: Polarity,
    /// Trigger mode.
    pub trigger: Trigger,
}

impl IsaRoute {
    /// The route of an ISA IRQ with no override: same number, edge, high.
    pub const fn identity(irq: u8) -> IsaRoute {
        IsaRoute {
            gsi: irq as u32,
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Edge,
        }
    }
}

/// What the kernel needs from the MADT, in fixed-size arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApicLayout {
    /// Physical address of the local APIC registers (after any override).
    pub local_apic_address: u64,
    /// The PC-AT 8259 pair is present.
    pub pcat_compat: bool,
    local_apics: [u32; MAX_LOCAL_APICS],
    local_apic_count: usize,
    io_apics: [IoApicEntry; MAX_IO_APICS],
    io_apic_count: usize,
    isa: [IsaRoute; ISA_IRQS],
    /// Source overrides applied to ISA IRQs.
    pub overrides: usize,
    /// Enabled local APICs or I/O APICs beyond the arrays' capacity.
    pub dropped: usize,
    /// Entries skipped as malformed (short, zero-length, past the end, or
    /// an I/O APIC at address 0).
    pub malformed: usize,
}

impl ApicLayout {
    fn empty(local_apic_address: u64, pcat_compat: bool) -> ApicLayout {
        ApicLayout {
            local_apic_address,
            pcat_compat,
            local_apics: [0; MAX_LOCAL_APICS],
            local_apic_count: 0,
            io_apics: [IoApicEntry {
                id: 0,
                address: 0,
                gsi_base: 0,
            }; MAX_IO_APICS],
            io_apic_count: 0,
            isa: core::array::from_fn(|irq| IsaRoute::identity(irq as u8)),
            overrides: 0,
            dropped: 0,
            malformed: 0,
        }
    }

    /// The MP specification's default configuration, for machines without
    /// a MADT: one I/O APIC at `0xFEC00000` (ID 0, GSI base 0), the local
    /// APIC at `0xFEE00000`, ISA IRQ n on GSI n except IRQ 0 on GSI 2. The
    /// local APIC list stays empty (the boot CPU knows its own).
    pub fn mp_defaults() -> ApicLayout {
        let mut layout = ApicLayout::empty(DEFAULT_LOCAL_APIC_ADDRESS, true);
        layout.io_apics[0] = IoApicEntry {
            id: 0,
            address: DEFAULT_IO_APIC_ADDRESS,
            gsi_base: 0,
        };
        layout.io_apic_count = 1;
        layout.isa[PIT_IRQ].gsi = PIT_DEFAULT_GSI;
        layout
    }

    /// Summarises a MADT. Never fails: malformed entries are counted in
    /// [`malformed`](Self::malformed) and skipped.
    pub fn from_madt(madt: &Madt<'_>) -> ApicLayout {
        let mut layout = ApicLayout::empty(
            u64::from(madt.local_apic_address),
            madt.flags & MADT_PCAT_COMPAT != 0,
        );
        for entry in madt.entries() {
            match entry {
                MadtEntry::LocalApic { apic_id, flags, .. } => {
                    layout.add_local_apic(u32::from(apic_id), flags);
                }
                MadtEntry::LocalX2Apic {
                    x2apic_id, flags, ..
                } => layout.add_local_apic(x2apic_id, flags),
                MadtEntry::IoApic { address: 0, .. } => layout.malformed += 1,
                MadtEntry::IoApic {
                    id,
                    address,
                    gsi_base,
                } => {
                    if let Some(slot) = layout.io_apics.get_mut(layout.io_apic_count) {
                        *slot = IoApicEntry {
                            id,
                            address,
                            gsi_base,
                        };
                        layout.io_apic_count += 1;
                    } else {
                        layout.dropped += 1;
                    }
                }
                MadtEntry::SourceOverride {
                    bus: 0,
                    source,
                    gsi,
                    flags,
                } => {
                    if let Some(route) = layout.isa.get_mut(usize::from(source)) {
                        *route = IsaRoute {
                            gsi,
                            polarity: flags.polarity().unwrap_or(Polarity::ActiveHigh),
                            trigger: flags.trigger().unwrap_or(Trigger::Edge),
                        };
                        layout.overrides += 1;
                    }
                }
                MadtEntry::LocalApicAddressOverride { address } => {
                    layout.local_apic_address = address;
                }
                MadtEntry::Malformed { .. } => layout.malformed += 1,
                MadtEntry::SourceOverride { .. }
                | MadtEntry::NmiSource { .. }
                | MadtEntry::LocalApicNmi { .. }
                | MadtEntry::Other { .. } => {}
            }
        }
        layout
    }

    fn add_local_apic(&mut self, apic_id: u32, flags: u32) {
        if flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE) == 0 {
            return;
        }
        if let Some(slot) = self.local_apics.get_mut(self.local_apic_count) {
            *slot = apic_id;
            self.local_apic_count += 1;
        } else {
            self.dropped += 1;
        }
    }

    /// IDs of the enabled or online-capable local APICs, in table order.
    pub fn local_apics(&self) -> &[u32] {
        &self.local_apics[..self.local_apic_count]
    }

    /// The I/O APICs, in table order.
    pub fn io_apics(&self) -> &[IoApicEntry] {
        &self.io_apics[..self.io_apic_count]
    }

    /// Where ISA IRQ `irq` arrives; `None` above 15.
    pub fn isa_route(&self, irq: u8) -> Option<IsaRoute> {
        self.isa.get(usize::from(irq)).copied()
    }
}

#[cfg(test)]
mod tests;
