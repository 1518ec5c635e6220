//! The packed format: examples, each decoder error, and property tests
//! (round trips; no panic on arbitrary, mutated or truncated bytes; every
//! accepted configuration yields in-bounds data).

use proptest::prelude::*;
use sysconf::{
    Authority, Config, Conflict, DecodeError, EntryError, Grant, GrantSpec, ProgramSpec,
    RestartKind, RestartPolicy, System, encode,
};

mod invariants;

fn policy() -> RestartPolicy {
    RestartPolicy {
        kind: RestartKind::OnFailure,
        backoff_initial_ms: 10,
        backoff_max_ms: 1000,
        min_run_ms: 500,
        give_up_failures: 5,
        give_up_window_ms: 60_000,
    }
}

fn program(name: &str, grants: Vec<GrantSpec>, depends_on: &[&str]) -> ProgramSpec {
    ProgramSpec {
        name: name.into(),
        path: format!("bin/{name}"),
        priority: 10,
        max_priority: 0,
        budget_frames: 64,
        least_budget_frames: 16,
        restart: policy(),
        debug: false,
        args: vec!["--verbose".into()],
        grants,
        depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
    }
}

fn example() -> System {
    System {
        aslr: true,
        programs: vec![
            program(
                "serial",
                vec![
                    GrantSpec::IoPorts {
                        base: 0x2f8,
                        count: 8,
                    },
                    GrantSpec::IrqIsa(3),
                    GrantSpec::Serves("serial".into()),
                ],
                &[],
            ),
            program(
                "shell",
                vec![
                    GrantSpec::ClientOf("serial".into()),
                    GrantSpec::DeviceMemory {
                        phys: 0xfeb0_0000,
                        pages: 2,
                    },
                    GrantSpec::IrqGsi {
                        gsi: 20,
                        level: true,
                        active_low: false,
                    },
                    GrantSpec::Authority(Authority::BootInfo),
                ],
                &["serial"],
            ),
        ],
    }
}

#[test]
fn example_round_trips() {
    let bytes = encode(&example()).unwrap();
    let config = Config::parse(&bytes).unwrap();
    assert!(config.aslr());
    let programs: Vec<_> = config.programs().map(Result::unwrap).collect();
    assert_eq!(programs.len(), 2);
    assert_eq!(programs[0].name, "serial");
    assert_eq!(programs[0].path, "bin/serial");
    assert_eq!(programs[0].restart, policy());
    assert_eq!(programs[1].args().collect::<Vec<_>>(), ["--verbose"]);
    assert_eq!(programs[1].depends_on().collect::<Vec<_>>(), [0]);
    let grants: Vec<_> = programs[1].grants().collect();
    assert!(matches!(grants[0], Grant::ClientOf(e) if e.name == "serial" && e.server == 0));
    assert_eq!(
        grants[1],
        Grant::DeviceMemory {
            phys: 0xfeb0_0000,
            pages: 2
        }
    );
    assert_eq!(grants[3], Grant::Authority(Authority::BootInfo));
    assert!(programs[1].has_authority(Authority::BootInfo));
    assert!(!programs[1].has_authority(Authority::IoSpace));
    assert!(!programs[0].has_authority(Authority::BootInfo));
    assert_eq!(invariants::model_of(&config), example());
}

#[test]
fn every_authority_round_trips() {
    let mut system = example();
    system.programs[0]
        .grants
        .extend(Authority::ALL.map(GrantSpec::Authority));
    let bytes = encode(&system).unwrap();
    let config = Config::parse(&bytes).unwrap();
    let program = config.program(0).unwrap();
    for a in Authority::ALL {
        assert!(program.has_authority(a), "{a}");
    }
    assert_eq!(invariants::model_of(&config), system);
}

#[test]
fn header_errors() {
    let bytes = encode(&example()).unwrap();
    assert_eq!(
        Config::parse(&bytes[..31]).unwrap_err(),
        DecodeError::TooShort
    );
    let mut b = bytes.clone();
    b[0] = b'X';
    assert_eq!(Config::parse(&b).unwrap_err(), DecodeError::BadMagic);
    // Versions 1 (before authority grants) and 2 (before least budgets)
    // are refused, like any other.
    assert_eq!(sysconf::VERSION, 3);
    for version in [1, 2, 4] {
        let mut b = bytes.clone();
        b[4] = version;
        assert_eq!(
            Config::parse(&b).unwrap_err(),
            DecodeError::UnsupportedVersion(u16::from(version))
        );
    }
    let mut b = bytes.clone();
    b[6] |= 2;
    assert_eq!(Config::parse(&b).unwrap_err(), DecodeError::ReservedBits);
    let mut b = bytes.clone();
    b[28] = 1;
    assert_eq!(Config::parse(&b).unwrap_err(), DecodeError::ReservedBits);
    assert_eq!(
        Config::parse(&bytes[..bytes.len() - 1]).unwrap_err(),
        DecodeError::SizeMismatch
    );
    let mut b = bytes.clone();
    b[8] = 0xff; // program count
    assert_eq!(Config::parse(&b).unwrap_err(), DecodeError::SizeMismatch);
}

/// Byte offset of program `i`'s record.
fn program_at(i: usize) -> usize {
    sysconf::HEADER_BYTES + i * sysconf::PROGRAM_BYTES
}

/// Byte offset of grant `i`'s record in the example.
fn grant_at(i: usize) -> usize {
    program_at(2) + sysconf::ENDPOINT_BYTES + i * sysconf::GRANT_BYTES
}

/// Applies `f` to the example's bytes and returns what program 1 decodes
/// to, checking that program 0 is unaffected.
fn second_program(f: impl FnOnce(&mut Vec<u8>)) -> Result<(), EntryError> {
    let mut bytes = encode(&example()).unwrap();
    f(&mut bytes);
    let config = Config::parse(&bytes).unwrap();
    let results: Vec<_> = config.programs().collect();
    assert_eq!(results.len(), 2);
    results[0].as_ref().unwrap();
    results[1].map(|_| ())
}

#[test]
fn a_bad_entry_fails_alone() {
    let p = program_at(1);
    assert_eq!(second_program(|_| {}), Ok(()));
    assert_eq!(
        second_program(|b| b[p] = 0xff),
        Err(EntryError::StringOutOfBounds)
    );
    assert_eq!(
        second_program(|b| b[p + 4] = 0xff),
        Err(EntryError::StringOutOfBounds)
    );
    assert_eq!(
        second_program(|b| b[p + 4] = 0),
        Err(EntryError::EmptyString)
    );
    assert_eq!(second_program(|b| b[p + 12] = 2), Err(EntryError::BadPath));
    assert_eq!(
        second_program(|b| b[p + 16] = 64),
        Err(EntryError::BadPriority(64))
    );
    assert_eq!(
        second_program(|b| b[p + 17] = 3),
        Err(EntryError::BadRestart(3))
    );
    assert_eq!(
        second_program(|b| b[p + 18] = 2),
        Err(EntryError::ReservedBits)
    );
    // A highest priority below the priority (5) or above 63.
    assert_eq!(
        second_program(|b| b[p + 19] = 1),
        Err(EntryError::BadMaxPriority(1))
    );
    assert_eq!(
        second_program(|b| b[p + 19] = 64),
        Err(EntryError::BadMaxPriority(64))
    );
    assert_eq!(
        second_program(|b| b[p + 20..p + 24].fill(0)),
        Err(EntryError::ZeroBudget)
    );
    assert_eq!(
        second_program(|b| b[p + 24..p + 28].fill(0xff)),
        Err(EntryError::BadBackoff)
    );
    // A least budget of zero, or above the budget (64).
    assert_eq!(
        second_program(|b| b[p + 56..p + 60].fill(0)),
        Err(EntryError::BadLeastBudget)
    );
    assert_eq!(
        second_program(|b| b[p + 56] = 65),
        Err(EntryError::BadLeastBudget)
    );
    assert_eq!(
        second_program(|b| b[p + 60] = 1),
        Err(EntryError::ReservedBits)
    );
    assert_eq!(
        second_program(|b| b[p + 46] = 9),
        Err(EntryError::TableOutOfBounds)
    );
    assert_eq!(
        second_program(|b| b[p + 51] = 1),
        Err(EntryError::TableOutOfBounds)
    );
    // The dependency table: program 1 depends on itself.
    let dep = grant_at(7) + 2 * sysconf::ARG_BYTES;
    assert_eq!(
        second_program(|b| b[dep] = 1),
        Err(EntryError::BadDependency)
    );
    assert_eq!(
        second_program(|b| b[dep] = 2),
        Err(EntryError::BadDependency)
    );
    // Program 1's argument, the last "--verbose" in the string table.
    let bytes = encode(&example()).unwrap();
    let arg = bytes.windows(9).rposition(|w| w == b"--verbose").unwrap();
    assert_eq!(
        second_program(|b| b[arg] = 0xff),
        Err(EntryError::StringNotUtf8)
    );
}

#[test]
fn a_bad_grant_fails_its_program() {
    let client = grant_at(3);
    let memory = grant_at(4);
    let gsi = grant_at(5);
    assert_eq!(
        second_program(|b| b[client] = 9),
        Err(EntryError::BadGrantKind(9))
    );
    assert_eq!(
        second_program(|b| b[client + 1] = 1),
        Err(EntryError::ReservedBits)
    );
    assert_eq!(
        second_program(|b| b[client + 4] = 1),
        Err(EntryError::BadEndpoint)
    );
    assert_eq!(
        second_program(|b| b[client] = 5),
        Err(EntryError::WrongServer)
    );
    assert_eq!(
        second_program(|b| b[memory + 4] = 0),
        Err(EntryError::BadDeviceMemory)
    );
    assert_eq!(
        second_program(|b| b[memory + 8] = 1),
        Err(EntryError::BadDeviceMemory)
    );
    assert_eq!(
        second_program(
            |b| b[memory + 8..memory + 16].copy_from_slice(&(u64::MAX - 4095).to_le_bytes())
        ),
        Err(EntryError::BadDeviceMemory)
    );
    assert_eq!(second_program(|b| b[gsi + 5] = 1), Err(EntryError::BadIrq));
    assert_eq!(second_program(|b| b[gsi + 8] = 4), Err(EntryError::BadIrq));
    // Program 1's memory grant turned into I/O ports, then an ISA IRQ.
    assert_eq!(
        second_program(|b| {
            b[memory] = sysconf::kind::IO_PORTS;
            b[memory + 4..memory + 8].copy_from_slice(&0xfff0u32.to_le_bytes());
            b[memory + 8..memory + 16].copy_from_slice(&0x11u64.to_le_bytes());
        }),
        Err(EntryError::BadIoPorts)
    );
    assert_eq!(
        second_program(|b| {
            b[memory] = sysconf::kind::IO_PORTS;
            b[memory + 8..memory + 16].fill(0);
        }),
        Err(EntryError::BadIoPorts)
    );
    assert_eq!(
        second_program(|b| {
            b[memory] = sysconf::kind::IRQ_ISA;
            b[memory + 4..memory + 16].fill(0);
            b[memory + 4] = 16;
        }),
        Err(EntryError::BadIrq)
    );
}

#[test]
fn bad_authority_grants_fail_their_program() {
    let authority = grant_at(6);
    assert_eq!(second_program(|_| {}), Ok(()));
    assert_eq!(
        second_program(|b| b[authority + 4] = 8),
        Err(EntryError::BadAuthority(8))
    );
    assert_eq!(
        second_program(|b| b[authority + 4] = 0),
        Err(EntryError::BadAuthority(0))
    );
    assert_eq!(
        second_program(|b| b[authority + 7] = 1),
        Err(EntryError::BadAuthority(1 << 24 | 5))
    );
    assert_eq!(
        second_program(|b| b[authority + 8] = 1),
        Err(EntryError::ReservedBits)
    );
    assert_eq!(
        second_program(|b| b[authority + 15] = 1),
        Err(EntryError::ReservedBits)
    );
    assert_eq!(
        EntryError::BadAuthority(9).to_string(),
        "unknown authority id 9"
    );
}

#[test]
fn authorities_never_conflict() {
    let mut system = example();
    for program in &mut system.programs {
        program
            .grants
            .extend(Authority::ALL.map(GrantSpec::Authority));
    }
    let bytes = encode(&system).unwrap();
    let config = Config::parse(&bytes).unwrap();
    let (a, b) = (config.program(0).unwrap(), config.program(1).unwrap());
    assert_eq!(a.conflict_with(&b), None);
    assert_eq!(b.conflict_with(&a), None);
}

#[test]
fn kernel_io_ports_fail_the_entry() {
    let mut system = example();
    // The debug console's port, 0xe9.
    system.programs[1].grants.push(GrantSpec::IoPorts {
        base: 0xe0,
        count: 10,
    });
    let bytes = encode(&system).unwrap();
    let config = Config::parse(&bytes).unwrap();
    assert!(config.program(0).is_ok());
    assert_eq!(config.program(1).unwrap_err(), EntryError::KernelIoPorts);
}

#[test]
fn conflicts_between_programs() {
    let with = |grants: Vec<GrantSpec>| {
        let mut system = example();
        system.programs[1].grants = grants;
        system.programs[1].depends_on.clear();
        encode(&system).unwrap()
    };
    let conflict = |bytes: &[u8]| {
        let config = Config::parse(bytes).unwrap();
        let (a, b) = (config.program(0).unwrap(), config.program(1).unwrap());
        assert_eq!(a.conflict_with(&b).is_some(), b.conflict_with(&a).is_some());
        a.conflict_with(&b)
    };
    assert_eq!(conflict(&encode(&example()).unwrap()), None);
    let ports = with(vec![GrantSpec::IoPorts {
        base: 0x2ff,
        count: 1,
    }]);
    assert_eq!(conflict(&ports), Some(Conflict::IoPorts));
    let ports = with(vec![GrantSpec::IoPorts {
        base: 0x300,
        count: 1,
    }]);
    assert_eq!(conflict(&ports), None);
    assert_eq!(
        conflict(&with(vec![GrantSpec::IrqIsa(3)])),
        Some(Conflict::Irq)
    );
    let gsi = GrantSpec::IrqGsi {
        gsi: 3,
        level: false,
        active_low: false,
    };
    assert_eq!(conflict(&with(vec![gsi])), None);
    let mut system = example();
    system.programs[0].grants.push(GrantSpec::DeviceMemory {
        phys: 0xfeb0_1000,
        pages: 1,
    });
    assert_eq!(
        conflict(&encode(&system).unwrap()),
        Some(Conflict::DeviceMemory)
    );
    system.programs[1].name = "serial".into();
    system.programs[1].depends_on.clear();
    assert_eq!(conflict(&encode(&system).unwrap()), Some(Conflict::Name));
}

#[test]
fn endpoint_entries_are_checked() {
    let mut bytes = encode(&example()).unwrap();
    let e = program_at(2);
    bytes[e + 8] = 7; // server out of range
    let config = Config::parse(&bytes).unwrap();
    assert_eq!(config.endpoint(0), Err(EntryError::BadEndpoint));
    assert_eq!(config.program(0).unwrap_err(), EntryError::BadEndpoint);
    assert_eq!(config.program(1).unwrap_err(), EntryError::BadEndpoint);
    assert_eq!(config.program(2).unwrap_err(), EntryError::TableOutOfBounds);
}

fn arb_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}"
}

fn arb_policy() -> impl Strategy<Value = RestartPolicy> {
    (
        0u8..3,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(k, a, b, min_run_ms, give_up_failures, give_up_window_ms)| RestartPolicy {
                kind: [
                    RestartKind::Never,
                    RestartKind::OnFailure,
                    RestartKind::Always,
                ][usize::from(k)],
                backoff_initial_ms: a.min(b),
                backoff_max_ms: a.max(b),
                min_run_ms,
                give_up_failures,
                give_up_window_ms,
            },
        )
}

fn arb_plain_grant() -> impl Strategy<Value = GrantSpec> {
    prop_oneof![
        // Above the kernel's own ports (all below 0x400).
        (0x400u16.., 1u32..=0x100).prop_map(|(base, count)| GrantSpec::IoPorts {
            base: base.min((0x1_0000 - count) as u16),
            count
        }),
        (0u8..=15).prop_map(GrantSpec::IrqIsa),
        (0u32..=255, any::<bool>(), any::<bool>()).prop_map(|(gsi, level, active_low)| {
            GrantSpec::IrqGsi {
                gsi,
                level,
                active_low,
            }
        }),
        (0u64..1 << 40, 1u32..1000).prop_map(|(page, pages)| GrantSpec::DeviceMemory {
            phys: page * 4096,
            pages
        }),
        proptest::sample::select(Authority::ALL.to_vec()).prop_map(GrantSpec::Authority),
    ]
}

/// A valid system: unique names; endpoints served once, by name `e<i>`;
/// clients and dependencies on other programs only.
pub fn arb_system() -> impl Strategy<Value = System> {
    let program = (
        arb_name(),
        0u8..=63,
        1u32..,
        arb_policy(),
        any::<bool>(),
        proptest::collection::vec("[ -~é]{0,6}", 0..3),
        proptest::collection::vec(arb_plain_grant(), 0..4),
        0usize..3,
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
    );
    (any::<bool>(), proptest::collection::vec(program, 0..6)).prop_map(|(aslr, raw)| {
        let n = raw.len();
        let mut programs = Vec::new();
        let mut endpoints = 0;
        let mut served: Vec<(String, usize)> = Vec::new();
        for (i, p) in raw.iter().enumerate() {
            for _ in 0..p.7 {
                served.push((format!("e{endpoints}"), i));
                endpoints += 1;
            }
        }
        for (i, (name, priority, budget, restart, debug, args, mut grants, _, clients, deps)) in
            raw.into_iter().enumerate()
        {
            for (e, server) in &served {
                if *server == i {
                    grants.push(GrantSpec::Serves(e.clone()));
                }
            }
            let others: Vec<_> = served.iter().filter(|(_, s)| *s != i).collect();
            if !others.is_empty() {
                for c in &clients {
                    grants.push(GrantSpec::ClientOf(others[c.index(others.len())].0.clone()));
                }
            }
            let mut depends_on = Vec::new();
            if n > 1 {
                for d in &deps {
                    let mut j = d.index(n);
                    if j == i {
                        j = (j + 1) % n;
                    }
                    depends_on.push(format!("p{j}-{name}"));
                }
            }
            programs.push(ProgramSpec {
                name: format!("p{i}-{name}"),
                path: format!("bin/{name}"),
                priority,
                // 0 (the priority) or above it: the forms decoding gives back.
                max_priority: if i % 2 == 1 && priority < 63 {
                    priority + 1
                } else {
                    0
                },
                budget_frames: budget,
                least_budget_frames: budget.div_ceil(2),
                restart,
                debug,
                args,
                grants,
                depends_on,
            });
        }
        // Dependencies were written with the depending program's suffix;
        // point them at the real names.
        let names: Vec<String> = programs.iter().map(|p| p.name.clone()).collect();
        for p in &mut programs {
            for d in &mut p.depends_on {
                let j: usize = d[1..d.find('-').unwrap()].parse().unwrap();
                *d = names[j].clone();
            }
        }
        System { aslr, programs }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_parse_round_trips(system in arb_system()) {
        let bytes = encode(&system).unwrap();
        let config = Config::parse(&bytes).unwrap();
        invariants::check(&config);
        prop_assert_eq!(invariants::model_of(&config), system);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(config) = Config::parse(&bytes) {
            invariants::check(&config);
        }
    }

    #[test]
    fn mutations_never_panic(
        system in arb_system(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = encode(&system).unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(config) = Config::parse(&bytes) {
            invariants::check(&config);
        }
    }

    /// Edits past the header keep the sizes right, so the parse succeeds
    /// and each entry is judged on its own.
    #[test]
    fn edits_past_the_header_reach_the_entries(
        system in arb_system(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = encode(&system).unwrap();
        prop_assume!(bytes.len() > sysconf::HEADER_BYTES);
        let i = sysconf::HEADER_BYTES + at.index(bytes.len() - sysconf::HEADER_BYTES);
        bytes[i] = value;
        let config = Config::parse(&bytes).unwrap();
        prop_assert_eq!(config.program_count(), system.programs.len());
        invariants::check(&config);
    }
}
