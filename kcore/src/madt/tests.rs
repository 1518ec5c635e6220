//! Host tests of the MADT decoder: RSDPs, tables and MADTs built by hand
//! (checksums fixed up), the layout they decode to, and proptest properties
//! that no input, however malformed, makes the decoder panic or read out of
//! bounds.

use super::*;
use proptest::prelude::*;

/// Sets the checksum byte at `at` so that `bytes` sums to zero.
fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    bytes[at] = 0u8.wrapping_sub(byte_sum(bytes));
}

fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = vec![0u8; SDT_HEADER_BYTES];
    t[..4].copy_from_slice(signature);
    t[8] = 1;
    t[10..16].copy_from_slice(b"MICATS");
    t.extend_from_slice(body);
    let length = t.len() as u32;
    t[4..8].copy_from_slice(&length.to_le_bytes());
    fix_checksum(&mut t, 9);
    t
}

fn rsdp_v1(rsdt: u32) -> Vec<u8> {
    let mut r = vec![0u8; RSDP_V1_BYTES];
    r[..8].copy_from_slice(RSDP_SIGNATURE);
    r[9..15].copy_from_slice(b"MICATS");
    r[16..20].copy_from_slice(&rsdt.to_le_bytes());
    fix_checksum(&mut r, 8);
    r
}

fn rsdp_v2(rsdt: u32, xsdt: u64) -> Vec<u8> {
    let mut r = vec![0u8; RSDP_V2_BYTES];
    r[..8].copy_from_slice(RSDP_SIGNATURE);
    r[15] = 2;
    r[16..20].copy_from_slice(&rsdt.to_le_bytes());
    r[20..24].copy_from_slice(&(RSDP_V2_BYTES as u32).to_le_bytes());
    r[24..32].copy_from_slice(&xsdt.to_le_bytes());
    fix_checksum(&mut r[..RSDP_V1_BYTES], 8);
    fix_checksum(&mut r, 32);
    r
}

fn lapic(uid: u8, id: u8, flags: u32) -> Vec<u8> {
    let mut e = vec![0, 8, uid, id];
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

fn ioapic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
    let mut e = vec![1, 12, id, 0];
    e.extend_from_slice(&address.to_le_bytes());
    e.extend_from_slice(&gsi_base.to_le_bytes());
    e
}

fn iso(source: u8, gsi: u32, flags: u16) -> Vec<u8> {
    let mut e = vec![2, 10, 0, source];
    e.extend_from_slice(&gsi.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

fn madt(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
    body.extend_from_slice(&MADT_PCAT_COMPAT.to_le_bytes());
    for e in entries {
        body.extend_from_slice(e);
    }
    table(b"APIC", &body)
}

/// The MADT QEMU's `pc` machine builds for one CPU: one local APIC,
/// the I/O APIC, IRQ 0 -> GSI 2 and the PCI-style level overrides, and
/// a local APIC NMI on LINT1.
fn qemu_pc_madt() -> Vec<u8> {
    madt(&[
        lapic(0, 0, 1),
        ioapic(0, 0xfec0_0000, 0),
        iso(0, 2, 0),
        iso(5, 5, 0xd),
        iso(9, 9, 0xd),
        iso(10, 10, 0xd),
        iso(11, 11, 0xd),
        vec![4, 6, 0xff, 0, 0, 1],
    ])
}

#[test]
fn rsdp_v1_and_v2_parse() {
    let r = Rsdp::parse(&rsdp_v1(0x1234)).unwrap();
    assert_eq!(
        r,
        Rsdp {
            revision: 0,
            rsdt_address: 0x1234,
            xsdt_address: None
        }
    );
    let r = Rsdp::parse(&rsdp_v2(0x1234, 0x5_0000_0000)).unwrap();
    assert_eq!(r.revision, 2);
    assert_eq!(r.xsdt_address, Some(0x5_0000_0000));
}

#[test]
fn rsdp_errors() {
    let good = rsdp_v2(0x1234, 0x5678);
    assert_eq!(Rsdp::parse(&good[..19]), Err(AcpiError::Truncated));
    assert_eq!(Rsdp::parse(&good[..30]), Err(AcpiError::Truncated));
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(Rsdp::parse(&bad), Err(AcpiError::BadSignature));
    let mut bad = good.clone();
    bad[17] ^= 1;
    assert_eq!(Rsdp::parse(&bad), Err(AcpiError::BadChecksum));
    let mut bad = good.clone();
    bad[25] ^= 1; // inside the extended part only
    assert_eq!(Rsdp::parse(&bad), Err(AcpiError::BadChecksum));
    let mut bad = good;
    bad[20..24].copy_from_slice(&10u32.to_le_bytes());
    assert_eq!(Rsdp::parse(&bad), Err(AcpiError::BadLength));
}

#[test]
fn rsdp_scan_finds_aligned_valid_pointer_only() {
    let mut area = vec![0u8; 4096];
    // A signature with a bad checksum first, then one off the 16-byte grid.
    area[64..72].copy_from_slice(RSDP_SIGNATURE);
    area[200..220].copy_from_slice(&rsdp_v1(0x42));
    area[1024..1044].copy_from_slice(&rsdp_v1(0x99));
    assert_eq!(
        Rsdp::scan(&area).map(|(o, r)| (o, r.rsdt_address)),
        Some((1024, 0x99))
    );
    assert_eq!(Rsdp::scan(&area[..1030]), None);
    assert_eq!(Rsdp::scan(&[]), None);
}

#[test]
fn table_checks() {
    let t = table(b"TEST", &[1, 2, 3]);
    assert_eq!(checked_table(&t, *b"TEST"), Ok(&t[..]));
    let mut longer = t.clone();
    longer.extend_from_slice(&[9; 10]);
    assert_eq!(checked_table(&longer, *b"TEST"), Ok(&t[..]));
    assert_eq!(checked_table(&t, *b"APIC"), Err(AcpiError::BadSignature));
    assert_eq!(checked_table(&t[..38], *b"TEST"), Err(AcpiError::Truncated));
    let mut bad = t.clone();
    bad[37] ^= 0x10;
    assert_eq!(checked_table(&bad, *b"TEST"), Err(AcpiError::BadChecksum));
    let mut bad = t;
    bad[4..8].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(checked_table(&bad, *b"TEST"), Err(AcpiError::BadLength));
}

/// A fake physical memory: tables at fixed addresses.
struct Memory(Vec<(u64, Vec<u8>)>);

impl Memory {
    fn read(&self, phys: u64, len: usize) -> Option<&[u8]> {
        self.0.iter().find_map(|(base, bytes)| {
            let offset = usize::try_from(phys.checked_sub(*base)?).ok()?;
            bytes.get(offset..offset.checked_add(len)?)
        })
    }
}

#[test]
fn finds_madt_through_rsdt_and_xsdt() {
    let madt = qemu_pc_madt();
    let other = table(b"FACP", &[0; 100]);
    let mut rsdt_body = Vec::new();
    rsdt_body.extend_from_slice(&0x3000u32.to_le_bytes());
    rsdt_body.extend_from_slice(&0x2000u32.to_le_bytes());
    let rsdt = table(b"RSDT", &rsdt_body);
    let mut xsdt_body = Vec::new();
    xsdt_body.extend_from_slice(&0x3000u64.to_le_bytes());
    xsdt_body.extend_from_slice(&0x2000u64.to_le_bytes());
    let xsdt = table(b"XSDT", &xsdt_body);
    let memory = Memory(vec![
        (0x1000, rsdt),
        (0x2000, madt.clone()),
        (0x3000, other),
        (0x4000, xsdt),
    ]);
    let read = |phys, len| memory.read(phys, len);
    let v1 = Rsdp::parse(&rsdp_v1(0x1000)).unwrap();
    assert_eq!(find_madt(&v1, read), Ok(&madt[..]));
    let v2 = Rsdp::parse(&rsdp_v2(0, 0x4000)).unwrap();
    assert_eq!(find_madt(&v2, read), Ok(&madt[..]));
    assert_eq!(find_table(&v2, *b"HPET", read), Err(AcpiError::NotFound));
    let nowhere = Rsdp::parse(&rsdp_v1(0x9000)).unwrap();
    assert_eq!(find_madt(&nowhere, read), Err(AcpiError::Truncated));
}

#[test]
fn a_listed_table_with_a_bad_checksum_is_skipped() {
    let mut broken = qemu_pc_madt();
    broken[50] ^= 1;
    let good = qemu_pc_madt();
    let mut rsdt_body = Vec::new();
    rsdt_body.extend_from_slice(&0x2000u32.to_le_bytes());
    rsdt_body.extend_from_slice(&0x3000u32.to_le_bytes());
    rsdt_body.extend_from_slice(&[1, 2]); // a partial entry
    let memory = Memory(vec![
        (0x1000, table(b"RSDT", &rsdt_body)),
        (0x2000, broken),
        (0x3000, good.clone()),
    ]);
    let rsdp = Rsdp::parse(&rsdp_v1(0x1000)).unwrap();
    assert_eq!(find_madt(&rsdp, |p, l| memory.read(p, l)), Ok(&good[..]));
}

#[test]
fn qemu_pc_layout() {
    let bytes = qemu_pc_madt();
    let madt = Madt::parse(&bytes).unwrap();
    let layout = ApicLayout::from_madt(&madt);
    assert_eq!(layout.local_apic_address, 0xfee0_0000);
    assert!(layout.pcat_compat);
    assert_eq!(layout.local_apics(), &[0]);
    assert_eq!(
        layout.io_apics(),
        &[IoApicEntry {
            id: 0,
            address: 0xfec0_0000,
            gsi_base: 0
        }]
    );
    assert_eq!(layout.overrides, 5);
    assert_eq!(layout.malformed, 0);
    assert_eq!(
        layout.isa_route(0),
        Some(IsaRoute {
            gsi: 2,
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Edge
        })
    );
    assert_eq!(
        layout.isa_route(9),
        Some(IsaRoute {
            gsi: 9,
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Level
        })
    );
    assert_eq!(layout.isa_route(4), Some(IsaRoute::identity(4)));
    assert_eq!(layout.isa_route(16), None);
}

#[test]
fn entry_kinds_decode() {
    let mut x2 = vec![9, 16, 0, 0];
    x2.extend_from_slice(&300u32.to_le_bytes());
    x2.extend_from_slice(&1u32.to_le_bytes());
    x2.extend_from_slice(&7u32.to_le_bytes());
    let mut addr = vec![5, 12, 0, 0];
    addr.extend_from_slice(&0x1_fee0_0000u64.to_le_bytes());
    let nmi = vec![3, 8, 0xf, 0, 4, 0, 0, 0];
    let bytes = madt(&[
        x2.clone(),
        addr,
        nmi,
        vec![0x7f, 3, 0],
        lapic(1, 1, 0),
        lapic(2, 2, LAPIC_ONLINE_CAPABLE),
        iso(3, 30, 0b1111),
    ]);
    let madt = Madt::parse(&bytes).unwrap();
    let entries: Vec<_> = madt.entries().collect();
    assert_eq!(
        entries[0],
        MadtEntry::LocalX2Apic {
            x2apic_id: 300,
            flags: 1,
            processor_uid: 7
        }
    );
    assert_eq!(
        entries[2],
        MadtEntry::NmiSource {
            flags: InterruptFlags(0xf),
            gsi: 4
        }
    );
    assert_eq!(entries[3], MadtEntry::Other { kind: 0x7f });
    let layout = ApicLayout::from_madt(&madt);
    assert_eq!(layout.local_apic_address, 0x1_fee0_0000);
    // Disabled CPUs are left out; online-capable ones are kept.
    assert_eq!(layout.local_apics(), &[300, 2]);
    assert_eq!(
        layout.isa_route(3),
        Some(IsaRoute {
            gsi: 30,
            polarity: Polarity::ActiveLow,
            trigger: Trigger::Level
        })
    );
}

#[test]
fn malformed_entries_are_counted_and_skipped() {
    // A short I/O APIC entry (length 8), then a valid one, then an
    // I/O APIC at address 0, then an entry running past the end.
    let bytes = madt(&[
        vec![1, 8, 0, 0, 0, 0, 0, 0],
        ioapic(1, 0xfec0_1000, 24),
        ioapic(2, 0, 48),
        vec![0, 40, 0],
    ]);
    let layout = ApicLayout::from_madt(&Madt::parse(&bytes).unwrap());
    assert_eq!(layout.io_apics().len(), 1);
    assert_eq!(layout.io_apics()[0].gsi_base, 24);
    assert_eq!(layout.malformed, 3);

    // A zero-length entry ends the walk instead of looping forever.
    let bytes = madt(&[vec![0, 0], lapic(0, 0, 1)]);
    let madt = Madt::parse(&bytes).unwrap();
    assert_eq!(madt.entries().count(), 1);
    assert_eq!(ApicLayout::from_madt(&madt).local_apics(), &[] as &[u32]);
}

#[test]
fn overrides_for_other_buses_or_high_sources_are_ignored() {
    let mut pci = iso(4, 40, 0);
    pci[2] = 1;
    let bytes = madt(&[pci, iso(20, 20, 0)]);
    let layout = ApicLayout::from_madt(&Madt::parse(&bytes).unwrap());
    assert_eq!(layout.overrides, 0);
    assert_eq!(layout.isa_route(4), Some(IsaRoute::identity(4)));
}

#[test]
fn capacities_are_respected() {
    let mut entries = Vec::new();
    for id in 0..(MAX_LOCAL_APICS + 3) {
        entries.push(lapic(id as u8, id as u8, 1));
    }
    for id in 0..(MAX_IO_APICS + 2) {
        entries.push(ioapic(
            id as u8,
            0xfec0_0000 + id as u32 * 0x1000,
            id as u32 * 24,
        ));
    }
    let bytes = madt(&entries);
    let layout = ApicLayout::from_madt(&Madt::parse(&bytes).unwrap());
    assert_eq!(layout.local_apics().len(), MAX_LOCAL_APICS);
    assert_eq!(layout.io_apics().len(), MAX_IO_APICS);
    assert_eq!(layout.dropped, 5);
}

#[test]
fn mp_defaults_put_the_pit_on_gsi_2() {
    let layout = ApicLayout::mp_defaults();
    assert_eq!(layout.io_apics()[0].address, 0xfec0_0000);
    assert_eq!(layout.isa_route(0).unwrap().gsi, 2);
    assert_eq!(layout.isa_route(1), Some(IsaRoute::identity(1)));
    assert_eq!(layout.isa_route(15), Some(IsaRoute::identity(15)));
}

#[test]
fn madt_errors() {
    let good = qemu_pc_madt();
    assert!(Madt::parse(&good[..40]).is_err());
    let short = table(b"APIC", &[0; 4]);
    assert_eq!(Madt::parse(&short).err(), Some(AcpiError::Truncated));
    let other = table(b"FACP", &[0; 8]);
    assert_eq!(Madt::parse(&other).err(), Some(AcpiError::BadSignature));
}

/// Everything a table can be fed to.
fn exercise(bytes: &[u8]) {
    let _ = Rsdp::parse(bytes);
    let _ = Rsdp::scan(bytes);
    let _ = SdtHeader::parse(bytes);
    let _ = checked_table(bytes, *b"APIC");
    for wide in [false, true] {
        let _ = root_entries(bytes, wide).count();
    }
    let madt = Madt {
        local_apic_address: 0,
        flags: 0,
        entries: bytes,
    };
    let _ = madt.entries().count();
    let _ = ApicLayout::from_madt(&madt);
    if let Ok(madt) = Madt::parse(bytes) {
        let _ = ApicLayout::from_madt(&madt);
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn random_madt_bodies_with_valid_checksums_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        cut in 0usize..450,
    ) {
        let mut bytes = table(b"APIC", &body);
        exercise(&bytes);
        bytes.truncate(cut);
        exercise(&bytes);
    }

    #[test]
    fn mutated_qemu_madt_never_panics(
        flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..8),
    ) {
        let mut bytes = qemu_pc_madt();
        for (at, value) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        fix_checksum(&mut bytes, 9);
        exercise(&bytes);
        if let Ok(madt) = Madt::parse(&bytes) {
            let layout = ApicLayout::from_madt(&madt);
            prop_assert!(layout.io_apics().len() <= MAX_IO_APICS);
            prop_assert!(layout.local_apics().len() <= MAX_LOCAL_APICS);
        }
    }

    #[test]
    fn find_table_never_panics_on_random_memory(
        memory in proptest::collection::vec(any::<u8>(), 0..2000),
        rsdt in 0u32..2100,
        xsdt in proptest::option::of(0u64..2100),
    ) {
        let read = |phys: u64, len: usize| {
            let start = usize::try_from(phys).ok()?;
            memory.get(start..start.checked_add(len)?)
        };
        let rsdp = Rsdp { revision: 2, rsdt_address: rsdt, xsdt_address: xsdt };
        let _ = find_madt(&rsdp, read);
    }
}
