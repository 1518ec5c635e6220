//! Driver manifests (`sysconf::manifest`): examples, each decoder and
//! encoder error with its message, the check against a program's grants
//! with its refusal lines, and property tests (round trips; no panic on
//! arbitrary, mutated or truncated bytes; `check` agrees with a model that
//! enumerates ports and pages).

use proptest::prelude::*;
use sysconf::manifest::{
    self, HEADER_BYTES, Manifest, ManifestError, Need, NeedError, PackError, RECORD_BYTES, Refusal,
    check, pack, pack_into, packed_len,
};
use sysconf::{
    Authority, Config, GrantSpec, ProgramSpec, RestartKind, RestartPolicy, System, encode,
};

mod invariants;

/// Every kind of need once.
const EVERY_KIND: [Need<'static>; 9] = [
    Need::IoPorts {
        base: 0x2f8,
        count: 8,
    },
    Need::IrqIsa(3),
    Need::IrqGsi {
        gsi: 20,
        level: true,
        active_low: false,
    },
    Need::DeviceMemory {
        phys: 0xfeb0_0000,
        pages: 2,
    },
    Need::Serves("serial"),
    Need::ClientOf("log"),
    Need::Authority(Authority::BootInfo),
    Need::Authority(Authority::IoSpace),
    Need::Debug,
];

/// `needs`, packed.
fn packed(needs: &[Need<'_>]) -> Vec<u8> {
    let mut bytes = vec![0; packed_len(needs)];
    assert_eq!(pack_into(needs, &mut bytes), Ok(bytes.len()));
    bytes
}

/// Byte offset of record `i`.
fn record(i: usize) -> usize {
    HEADER_BYTES + i * RECORD_BYTES
}

/// The error of parsing [`EVERY_KIND`] after `edit`.
fn error_after(edit: impl FnOnce(&mut Vec<u8>)) -> ManifestError {
    let mut bytes = packed(&EVERY_KIND);
    edit(&mut bytes);
    Manifest::parse(&bytes).unwrap_err()
}

/// Writes `value` little-endian at `at`.
fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

#[test]
fn every_kind_round_trips() {
    let bytes = packed(&EVERY_KIND);
    // 16 + 9 records + "serial" + "log".
    assert_eq!(bytes.len(), 16 + 9 * 16 + 9);
    assert_eq!(bytes[..4], *b"MMAN");
    let manifest = Manifest::parse(&bytes).unwrap();
    assert_eq!(manifest.len(), 9);
    assert!(!manifest.is_empty());
    assert!(manifest.needs().eq(EVERY_KIND));
    assert_eq!(manifest.needs().size_hint(), (9, Some(9)));
}

#[test]
fn the_layout_is_the_documented_one() {
    let bytes = packed(&[
        Need::IoPorts {
            base: 0x60,
            count: 5,
        },
        Need::ClientOf("kbd"),
        Need::Authority(Authority::Supervisor),
    ]);
    let mut expected = Vec::new();
    expected.extend_from_slice(b"MMAN");
    expected.extend_from_slice(&1u16.to_le_bytes());
    expected.extend_from_slice(&3u16.to_le_bytes());
    expected.extend_from_slice(&3u32.to_le_bytes());
    expected.extend_from_slice(&(16u32 + 48 + 3).to_le_bytes());
    for (kind, a, b) in [(1u8, 0x60u32, 5u64), (6, 0, 3), (7, 6, 0)] {
        expected.extend_from_slice(&[kind, 0, 0, 0]);
        expected.extend_from_slice(&a.to_le_bytes());
        expected.extend_from_slice(&b.to_le_bytes());
    }
    expected.extend_from_slice(b"kbd");
    assert_eq!(bytes, expected);
}

#[test]
fn an_empty_manifest() {
    let bytes = packed(&[]);
    assert_eq!(bytes.len(), HEADER_BYTES);
    let manifest = Manifest::parse(&bytes).unwrap();
    assert!(manifest.is_empty());
    assert_eq!(manifest.needs().next(), None);
}

#[test]
fn header_errors() {
    let bytes = packed(&EVERY_KIND);
    assert_eq!(Manifest::parse(&[]).unwrap_err(), ManifestError::TooShort);
    assert_eq!(
        Manifest::parse(&bytes[..15]).unwrap_err(),
        ManifestError::TooShort
    );
    assert_eq!(error_after(|b| b[3] = b'X'), ManifestError::BadMagic);
    assert_eq!(
        error_after(|b| b[4] = 2),
        ManifestError::UnsupportedVersion(2)
    );
    assert_eq!(
        error_after(|b| b[5] = 1),
        ManifestError::UnsupportedVersion(0x101)
    );
    // The count, the string size or the total changed alone.
    assert_eq!(error_after(|b| b[6] = 8), ManifestError::SizeMismatch);
    assert_eq!(error_after(|b| b[6] = 0xff), ManifestError::SizeMismatch);
    assert_eq!(error_after(|b| b[8] = 10), ManifestError::SizeMismatch);
    assert_eq!(error_after(|b| b[11] = 0xff), ManifestError::SizeMismatch);
    assert_eq!(error_after(|b| b[12] += 1), ManifestError::SizeMismatch);
    assert_eq!(
        error_after(|b| b[12..16].fill(0xff)),
        ManifestError::SizeMismatch
    );
    let total = bytes.len() as u32;
    assert_eq!(
        Manifest::parse(&bytes[..bytes.len() - 1]).unwrap_err(),
        ManifestError::Truncated {
            expected: total,
            found: bytes.len() - 1
        }
    );
    assert_eq!(
        Manifest::parse(&bytes[..16]).unwrap_err(),
        ManifestError::Truncated {
            expected: total,
            found: 16
        }
    );
    assert_eq!(
        error_after(|b| b.push(0)),
        ManifestError::TrailingBytes {
            expected: total,
            found: bytes.len() + 1
        }
    );
    // Two manifests back to back, as two declarations in one section.
    assert_eq!(
        error_after(|b| b.extend(packed(&[Need::Debug]))),
        ManifestError::TrailingBytes {
            expected: total,
            found: bytes.len() + 32
        }
    );
}

#[test]
fn record_errors() {
    let (ports, isa, gsi, memory, serves, client, boot_info, _, debug) = (
        record(0),
        record(1),
        record(2),
        record(3),
        record(4),
        record(5),
        record(6),
        record(7),
        record(8),
    );
    let bad = |index, error| ManifestError::BadNeed { index, error };
    // Kinds and reserved bytes.
    assert_eq!(
        error_after(|b| b[isa] = 9),
        ManifestError::BadKind { index: 1, kind: 9 }
    );
    assert_eq!(
        error_after(|b| b[debug] = 0),
        ManifestError::BadKind { index: 8, kind: 0 }
    );
    for at in 1..4 {
        assert_eq!(
            error_after(|b| b[gsi + at] = 1),
            ManifestError::ReservedBits { index: 2 }
        );
    }
    assert_eq!(
        error_after(|b| b[isa + 8] = 1),
        ManifestError::ReservedBits { index: 1 }
    );
    assert_eq!(
        error_after(|b| b[gsi + 8] = 4),
        ManifestError::ReservedBits { index: 2 }
    );
    assert_eq!(
        error_after(|b| b[boot_info + 15] = 1),
        ManifestError::ReservedBits { index: 6 }
    );
    assert_eq!(
        error_after(|b| b[debug + 4] = 1),
        ManifestError::ReservedBits { index: 8 }
    );
    assert_eq!(
        error_after(|b| b[debug + 8] = 1),
        ManifestError::ReservedBits { index: 8 }
    );
    // I/O ports: empty, past 0xffff, a base or count that does not fit.
    assert_eq!(
        error_after(|b| b[ports + 8] = 0),
        bad(0, NeedError::BadIoPorts)
    );
    assert_eq!(
        error_after(|b| put(b, ports + 4, &0xfff9u32.to_le_bytes())),
        bad(0, NeedError::BadIoPorts)
    );
    assert_eq!(
        error_after(|b| put(b, ports + 4, &0x1_0000u32.to_le_bytes())),
        bad(0, NeedError::BadIoPorts)
    );
    assert_eq!(
        error_after(|b| put(b, ports + 8, &(1u64 << 32 | 8).to_le_bytes())),
        bad(0, NeedError::BadIoPorts)
    );
    // IRQs.
    assert_eq!(
        error_after(|b| b[isa + 4] = 16),
        bad(1, NeedError::BadIsaIrq)
    );
    assert_eq!(
        error_after(|b| b[isa + 5] = 1),
        bad(1, NeedError::BadIsaIrq)
    );
    assert_eq!(error_after(|b| b[gsi + 5] = 1), bad(2, NeedError::BadGsi));
    // Device memory: no pages, misaligned, past 2^64.
    assert_eq!(
        error_after(|b| b[memory + 4] = 0),
        bad(3, NeedError::BadDeviceMemory)
    );
    assert_eq!(
        error_after(|b| b[memory + 8] = 1),
        bad(3, NeedError::BadDeviceMemory)
    );
    assert_eq!(
        error_after(|b| put(b, memory + 8, &(u64::MAX - 4095).to_le_bytes())),
        bad(3, NeedError::BadDeviceMemory)
    );
    // Endpoint names: out of the table, not UTF-8, not a name.
    assert_eq!(
        error_after(|b| b[serves + 4] = 4),
        ManifestError::StringOutOfBounds { index: 4 }
    );
    assert_eq!(
        error_after(|b| b[client + 8] = 0xff),
        ManifestError::StringOutOfBounds { index: 5 }
    );
    assert_eq!(
        error_after(|b| put(b, client + 4, &u32::MAX.to_le_bytes())),
        ManifestError::StringOutOfBounds { index: 5 }
    );
    assert_eq!(
        error_after(|b| put(b, client + 8, &u64::MAX.to_le_bytes())),
        ManifestError::StringOutOfBounds { index: 5 }
    );
    let strings = record(9);
    assert_eq!(
        error_after(|b| b[strings] = 0xc3),
        ManifestError::StringNotUtf8 { index: 4 }
    );
    assert_eq!(
        error_after(|b| b[strings] = b'S'),
        bad(4, NeedError::BadEndpointName)
    );
    assert_eq!(
        error_after(|b| b[strings + 1] = b' '),
        bad(4, NeedError::BadEndpointName)
    );
    assert_eq!(
        error_after(|b| b[serves + 8] = 0),
        bad(4, NeedError::BadEndpointName)
    );
    // Authorities.
    for id in [0u32, 8, u32::MAX] {
        assert_eq!(
            error_after(|b| put(b, boot_info + 4, &id.to_le_bytes())),
            ManifestError::BadAuthority { index: 6, id }
        );
    }
}

#[test]
fn errors_print_one_clear_line() {
    let cases = [
        (
            ManifestError::TooShort,
            "shorter than a manifest header (16 bytes)",
        ),
        (ManifestError::BadMagic, "not a manifest (bad magic)"),
        (
            ManifestError::UnsupportedVersion(2),
            "manifest version 2 (this reader reads 1)",
        ),
        (
            ManifestError::SizeMismatch,
            "the header's need count and string table size do not add up to its total size",
        ),
        (
            ManifestError::Truncated {
                expected: 40,
                found: 30,
            },
            "the manifest is cut short: its header says 40 bytes, there are 30",
        ),
        (
            ManifestError::TrailingBytes {
                expected: 40,
                found: 72,
            },
            "72 bytes where the manifest's header says 40 (two manifests?)",
        ),
        (
            ManifestError::BadKind { index: 3, kind: 9 },
            "need 3: unknown kind 9",
        ),
        (
            ManifestError::ReservedBits { index: 0 },
            "need 0: nonzero reserved bits",
        ),
        (
            ManifestError::StringOutOfBounds { index: 1 },
            "need 1: the endpoint name lies outside the string table",
        ),
        (
            ManifestError::StringNotUtf8 { index: 1 },
            "need 1: the endpoint name is not UTF-8",
        ),
        (
            ManifestError::BadAuthority { index: 2, id: 8 },
            "need 2: unknown authority id 8",
        ),
        (
            ManifestError::BadNeed {
                index: 4,
                error: NeedError::BadIoPorts,
            },
            "need 4: an I/O port range is empty or goes past 0xffff",
        ),
        (
            ManifestError::BadNeed {
                index: 4,
                error: NeedError::BadIsaIrq,
            },
            "need 4: an ISA IRQ line is above 15",
        ),
        (
            ManifestError::BadNeed {
                index: 4,
                error: NeedError::BadGsi,
            },
            "need 4: a GSI is above 255",
        ),
        (
            ManifestError::BadNeed {
                index: 4,
                error: NeedError::BadDeviceMemory,
            },
            "need 4: device memory is empty, not page-aligned or ends past 2^64",
        ),
        (
            ManifestError::BadNeed {
                index: 4,
                error: NeedError::BadEndpointName,
            },
            "need 4: an endpoint name is not lowercase letters, digits and '-', starting with a letter",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn pack_errors() {
    let mut out = [0u8; 64];
    let bad = [
        (
            Need::IoPorts {
                base: 0xfff8,
                count: 9,
            },
            NeedError::BadIoPorts,
        ),
        (
            Need::IoPorts {
                base: 0,
                count: u32::MAX,
            },
            NeedError::BadIoPorts,
        ),
        (Need::IoPorts { base: 1, count: 0 }, NeedError::BadIoPorts),
        (Need::IrqIsa(16), NeedError::BadIsaIrq),
        (
            Need::IrqGsi {
                gsi: 256,
                level: false,
                active_low: false,
            },
            NeedError::BadGsi,
        ),
        (
            Need::DeviceMemory {
                phys: 0x1000,
                pages: 0,
            },
            NeedError::BadDeviceMemory,
        ),
        (
            Need::DeviceMemory {
                phys: 0x1001,
                pages: 1,
            },
            NeedError::BadDeviceMemory,
        ),
        (
            Need::DeviceMemory {
                phys: u64::MAX - 0xfff,
                pages: 1,
            },
            NeedError::BadDeviceMemory,
        ),
        (Need::Serves(""), NeedError::BadEndpointName),
        (Need::Serves("1st"), NeedError::BadEndpointName),
        (Need::ClientOf("log/x"), NeedError::BadEndpointName),
    ];
    for (need, error) in bad {
        assert_eq!(need.validate(), Err(error), "{need:?}");
        assert_eq!(
            pack_into(&[Need::Debug, need], &mut out),
            Err(PackError::BadNeed { index: 1, error }),
            "{need:?}"
        );
    }
    assert_eq!(
        PackError::BadNeed {
            index: 1,
            error: NeedError::BadIsaIrq
        }
        .to_string(),
        "need 1: an ISA IRQ line is above 15"
    );
    // Exactly the room it needs, and no less; `out` is untouched on failure.
    let needs = [Need::Serves("serial")];
    assert_eq!(packed_len(&needs), 38);
    let mut small = [0xaa; 37];
    assert_eq!(pack_into(&needs, &mut small), Err(PackError::WrongLength));
    assert!(small.iter().all(|&b| b == 0xaa));
    assert_eq!(pack_into(&needs, &mut out), Ok(38));
    assert_eq!(pack::<38>(&needs).unwrap()[..], out[..38]);
    assert_eq!(pack::<39>(&needs), Err(PackError::WrongLength));
    assert_eq!(pack::<37>(&needs), Err(PackError::WrongLength));
    let many = vec![Need::Debug; 0x1_0000];
    let mut big = vec![0; packed_len(&many)];
    assert_eq!(pack_into(&many, &mut big), Err(PackError::TooManyNeeds));
    assert_eq!(pack_into(&many[1..], &mut big), Ok(big.len() - 16));
}

fn policy() -> RestartPolicy {
    RestartPolicy {
        kind: RestartKind::Never,
        backoff_initial_ms: 0,
        backoff_max_ms: 0,
        min_run_ms: 0,
        give_up_failures: 0,
        give_up_window_ms: 0,
    }
}

fn program(name: &str, grants: Vec<GrantSpec>, debug: bool) -> ProgramSpec {
    ProgramSpec {
        name: name.into(),
        path: format!("bin/{name}"),
        priority: 10,
        max_priority: 0,
        budget_frames: 64,
        least_budget_frames: 64,
        restart: policy(),
        debug,
        args: Vec::new(),
        grants,
        depends_on: Vec::new(),
    }
}

/// A configuration whose first program, "driver", has `grants` (and
/// `debug`); a second program serves every endpoint the driver is a client
/// of.
fn config_with(grants: Vec<GrantSpec>, debug: bool) -> Vec<u8> {
    let served: Vec<GrantSpec> = grants
        .iter()
        .filter_map(|g| match g {
            GrantSpec::ClientOf(name) => Some(GrantSpec::Serves(name.clone())),
            _ => None,
        })
        .collect();
    encode(&System {
        aslr: true,
        programs: vec![
            program("driver", grants, debug),
            program("other", served, false),
        ],
    })
    .unwrap()
}

/// What `check` says about `needs` for the driver with `grants`.
fn check_result(needs: &[Need<'_>], grants: Vec<GrantSpec>, debug: bool) -> Result<(), String> {
    let bytes = packed(needs);
    let manifest = Manifest::parse(&bytes).unwrap();
    let config_bytes = config_with(grants, debug);
    let config = Config::parse(&config_bytes).unwrap();
    let driver = config.program(0).unwrap();
    invariants::check_manifest(&manifest, &driver);
    check(&manifest, &driver).map_err(|refusal| refusal.to_string())
}

/// The grants that cover [`EVERY_KIND`].
fn every_grant() -> Vec<GrantSpec> {
    vec![
        GrantSpec::IoPorts {
            base: 0x2f8,
            count: 8,
        },
        GrantSpec::IrqIsa(3),
        GrantSpec::IrqGsi {
            gsi: 20,
            level: true,
            active_low: false,
        },
        GrantSpec::DeviceMemory {
            phys: 0xfeb0_0000,
            pages: 2,
        },
        GrantSpec::Serves("serial".into()),
        GrantSpec::ClientOf("log".into()),
        GrantSpec::Authority(Authority::BootInfo),
        GrantSpec::Authority(Authority::IoSpace),
    ]
}

#[test]
fn a_granted_manifest_passes() {
    assert_eq!(check_result(&EVERY_KIND, every_grant(), true), Ok(()));
    assert_eq!(check_result(&[], Vec::new(), false), Ok(()));
}

#[test]
fn each_missing_grant_is_refused_by_name() {
    let expected = [
        "asks for I/O ports 0x2f8..0x300, not granted",
        "asks for ISA IRQ 3, not granted",
        "asks for GSI 20 (level-triggered, active high), not granted",
        "asks for device memory 0xfeb00000..0xfeb02000, not granted",
        "asks to serve endpoint \"serial\", not granted",
        "asks to be a client of endpoint \"log\", not granted",
        "asks for authority boot-info, not granted",
        "asks for authority io-space, not granted",
    ];
    for (i, line) in expected.iter().enumerate() {
        let mut grants = every_grant();
        grants.remove(i);
        assert_eq!(
            check_result(&EVERY_KIND, grants, true),
            Err(line.to_string())
        );
    }
    assert_eq!(
        check_result(&EVERY_KIND, every_grant(), false),
        Err("asks for the debug capability, not granted".into())
    );
}

#[test]
fn the_first_refusal_is_reported() {
    let bytes = packed(&EVERY_KIND);
    let manifest = Manifest::parse(&bytes).unwrap();
    let config_bytes = config_with(vec![GrantSpec::IrqIsa(3)], false);
    let config = Config::parse(&config_bytes).unwrap();
    let refusal = check(&manifest, &config.program(0).unwrap()).unwrap_err();
    assert_eq!(
        refusal,
        Refusal {
            index: 0,
            need: EVERY_KIND[0]
        }
    );
}

#[test]
fn ranges_must_lie_inside_one_grant() {
    let ports = |base, count| Need::IoPorts { base, count };
    let granted = || {
        vec![
            GrantSpec::IoPorts {
                base: 0x3f8,
                count: 8,
            },
            GrantSpec::IoPorts {
                base: 0x400,
                count: 8,
            },
        ]
    };
    for (need, ok) in [
        (ports(0x3f8, 8), true),
        (ports(0x3fc, 1), true),
        (ports(0x3ff, 1), true),
        (ports(0x400, 8), true),
        (ports(0x3f7, 2), false),
        (ports(0x3ff, 2), false), // spans two adjacent grants
        (ports(0x3f8, 16), false),
        (ports(0x408, 1), false),
    ] {
        let result = check_result(&[need], granted(), false);
        assert_eq!(result.is_ok(), ok, "{need}: {result:?}");
    }
    let memory = |phys, pages| Need::DeviceMemory { phys, pages };
    let granted = || {
        vec![GrantSpec::DeviceMemory {
            phys: 0x10_0000,
            pages: 4,
        }]
    };
    for (need, ok) in [
        (memory(0x10_0000, 4), true),
        (memory(0x10_1000, 2), true),
        (memory(0x10_3000, 1), true),
        (memory(0x10_3000, 2), false),
        (memory(0xf_f000, 2), false),
        (memory(0x20_0000, 1), false),
    ] {
        let result = check_result(&[need], granted(), false);
        assert_eq!(result.is_ok(), ok, "{need}: {result:?}");
    }
}

#[test]
fn irqs_and_endpoints_must_match_exactly() {
    let gsi = |gsi, level, active_low| Need::IrqGsi {
        gsi,
        level,
        active_low,
    };
    let granted = || {
        vec![GrantSpec::IrqGsi {
            gsi: 11,
            level: true,
            active_low: true,
        }]
    };
    assert_eq!(
        check_result(&[gsi(11, true, true)], granted(), false),
        Ok(())
    );
    assert_eq!(
        check_result(&[gsi(11, false, true)], granted(), false),
        Err("asks for GSI 11 (edge-triggered, active low), not granted".into())
    );
    assert!(check_result(&[gsi(11, true, false)], granted(), false).is_err());
    assert!(check_result(&[gsi(12, true, true)], granted(), false).is_err());
    // An ISA IRQ is not its GSI.
    assert!(check_result(&[Need::IrqIsa(11)], granted(), false).is_err());
    // Serving is not calling, and the other way round.
    let serves = vec![GrantSpec::Serves("tty".into())];
    assert!(check_result(&[Need::ClientOf("tty")], serves.clone(), false).is_err());
    assert_eq!(check_result(&[Need::Serves("tty")], serves, false), Ok(()));
    let client = vec![GrantSpec::ClientOf("tty".into())];
    assert_eq!(
        check_result(&[Need::Serves("tty")], client, false),
        Err("asks to serve endpoint \"tty\", not granted".into())
    );
}

/// A valid need with small ranges, endpoint names from a short list.
fn arb_need() -> impl Strategy<Value = Need<'static>> {
    const NAMES: [&str; 4] = ["serial", "log", "kbd", "net-0"];
    prop_oneof![
        (0x3f0u16..0x420, 1u32..24).prop_map(|(base, count)| Need::IoPorts { base, count }),
        (0u16.., 1u32..=0x1_0000).prop_map(|(base, count)| Need::IoPorts {
            base: base.min((0x1_0000 - count) as u16),
            count
        }),
        (0u8..=15).prop_map(Need::IrqIsa),
        (0u32..=255, any::<bool>(), any::<bool>()).prop_map(|(gsi, level, active_low)| {
            Need::IrqGsi {
                gsi,
                level,
                active_low,
            }
        }),
        (0x100u64..0x120, 1u32..12).prop_map(|(page, pages)| Need::DeviceMemory {
            phys: page * 4096,
            pages
        }),
        prop::sample::select(NAMES.to_vec()).prop_map(Need::Serves),
        prop::sample::select(NAMES.to_vec()).prop_map(Need::ClientOf),
        prop::sample::select(Authority::ALL.to_vec()).prop_map(Need::Authority),
        Just(Need::Debug),
    ]
}

/// A grant a configuration accepts for the driver: ports above the
/// kernel's, near the needs' ports; memory near the needs' memory.
fn arb_grant() -> impl Strategy<Value = GrantSpec> {
    const NAMES: [&str; 4] = ["serial", "log", "kbd", "net-0"];
    prop_oneof![
        (0x3f0u16..0x420, 1u32..24).prop_map(|(base, count)| GrantSpec::IoPorts { base, count }),
        (0u8..=15).prop_map(GrantSpec::IrqIsa),
        (0u32..=255, any::<bool>(), any::<bool>()).prop_map(|(gsi, level, active_low)| {
            GrantSpec::IrqGsi {
                gsi,
                level,
                active_low,
            }
        }),
        (0x100u64..0x120, 1u32..12).prop_map(|(page, pages)| GrantSpec::DeviceMemory {
            phys: page * 4096,
            pages
        }),
        prop::sample::select(NAMES.to_vec()).prop_map(|n| GrantSpec::Serves(n.into())),
        prop::sample::select(NAMES.to_vec()).prop_map(|n| GrantSpec::ClientOf(n.into())),
        prop::sample::select(Authority::ALL.to_vec()).prop_map(GrantSpec::Authority),
    ]
}

/// Grants the encoder can pack: one endpoint name is not both served and
/// called by the driver, or served twice.
fn arb_grants() -> impl Strategy<Value = Vec<GrantSpec>> {
    prop::collection::vec(arb_grant(), 0..8).prop_map(|grants| {
        let mut seen = Vec::new();
        grants
            .into_iter()
            .filter(|g| match g {
                GrantSpec::Serves(n) | GrantSpec::ClientOf(n) => {
                    let fresh = !seen.contains(n);
                    seen.push(n.clone());
                    fresh
                }
                _ => true,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn pack_then_parse_round_trips(needs in prop::collection::vec(arb_need(), 0..24)) {
        let bytes = packed(&needs);
        prop_assert_eq!(bytes.len(), packed_len(&needs));
        let manifest = Manifest::parse(&bytes).unwrap();
        prop_assert!(manifest.needs().eq(needs.iter().copied()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let config_bytes = config_with(every_grant(), true);
        let config = Config::parse(&config_bytes).unwrap();
        if let Ok(manifest) = Manifest::parse(&bytes) {
            invariants::check_manifest(&manifest, &config.program(0).unwrap());
        }
    }

    /// Random bytes behind a valid header: the records and strings are
    /// reached.
    #[test]
    fn arbitrary_records_never_panic(
        count in 0u16..6,
        strings in prop::collection::vec(any::<u8>(), 0..24),
        records in prop::collection::vec(
            (0u8..10, any::<u32>(), prop_oneof![0u64..32, any::<u64>()]),
            6,
        ),
    ) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"MMAN");
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        let total = 16 + 16 * usize::from(count) + strings.len();
        bytes.extend_from_slice(&(total as u32).to_le_bytes());
        for &(kind, a, b) in &records[..usize::from(count)] {
            bytes.extend_from_slice(&[kind, 0, 0, 0]);
            bytes.extend_from_slice(&(a % 0x2_0000).to_le_bytes());
            bytes.extend_from_slice(&b.to_le_bytes());
        }
        bytes.extend_from_slice(&strings);
        let config_bytes = config_with(every_grant(), false);
        let config = Config::parse(&config_bytes).unwrap();
        if let Ok(manifest) = Manifest::parse(&bytes) {
            invariants::check_manifest(&manifest, &config.program(0).unwrap());
        }
    }

    #[test]
    fn mutations_never_panic(
        needs in prop::collection::vec(arb_need(), 0..12),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = packed(&needs);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let config_bytes = config_with(every_grant(), true);
        let config = Config::parse(&config_bytes).unwrap();
        if let Ok(manifest) = Manifest::parse(&bytes) {
            invariants::check_manifest(&manifest, &config.program(0).unwrap());
        }
    }

    /// `check` refuses exactly at the first need the enumerating model
    /// refuses. Half the needs are copied from the grants (or shrunk from
    /// them), so that both answers are common.
    #[test]
    fn check_agrees_with_the_model(
        grants in arb_grants(),
        debug in any::<bool>(),
        random in prop::collection::vec(arb_need(), 0..6),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0u32..4, 0u32..4), 0..6),
    ) {
        let mut needs: Vec<Need<'_>> = Vec::new();
        for (pick, trim_front, trim_back) in &picks {
            if grants.is_empty() {
                break;
            }
            needs.push(match &grants[pick.index(grants.len())] {
                GrantSpec::IoPorts { base, count } => {
                    let front = (*trim_front).min(count - 1);
                    let back = (*trim_back).min(count - 1 - front);
                    Need::IoPorts { base: base + front as u16, count: count - front - back }
                }
                GrantSpec::IrqIsa(line) => Need::IrqIsa(*line),
                GrantSpec::IrqGsi { gsi, level, active_low } => Need::IrqGsi {
                    gsi: *gsi,
                    level: *level,
                    active_low: *active_low,
                },
                GrantSpec::DeviceMemory { phys, pages } => {
                    let front = (*trim_front).min(pages - 1);
                    let back = (*trim_back).min(pages - 1 - front);
                    Need::DeviceMemory {
                        phys: phys + u64::from(front) * 4096,
                        pages: pages - front - back,
                    }
                }
                GrantSpec::Serves(name) => Need::Serves(leak(name)),
                GrantSpec::ClientOf(name) => Need::ClientOf(leak(name)),
                GrantSpec::Authority(a) => Need::Authority(*a),
            });
        }
        needs.extend(random);
        if debug {
            needs.push(Need::Debug);
        }
        let bytes = packed(&needs);
        let manifest = Manifest::parse(&bytes).unwrap();
        let config_bytes = config_with(grants, debug);
        let config = Config::parse(&config_bytes).unwrap();
        invariants::check(&config);
        invariants::check_manifest(&manifest, &config.program(0).unwrap());
    }
}

/// A `'static` copy of `name` (the needs borrow their names; the tests
/// leak a few bytes).
fn leak(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

#[test]
fn the_section_name() {
    assert_eq!(manifest::SECTION, ".mica.manifest");
}
