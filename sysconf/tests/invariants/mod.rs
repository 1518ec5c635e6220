//! What every accepted configuration and manifest promises, shared by the
//! property tests (`tests/format.rs`, `tests/manifest.rs`) and the fuzz
//! targets (`fuzz/fuzz_targets/parse.rs` and `manifest.rs` include this file
//! by path).

use sysconf::manifest::{self, Manifest, Need};
use sysconf::{Config, Grant, GrantSpec, Program, ProgramSpec, System};

/// Walks everything `config` yields and checks it is in bounds; panics
/// (failing the test or the fuzz run) if not.
#[allow(dead_code)]
pub fn check(config: &Config<'_>) {
    let programs = config.program_count();
    let endpoints = config.endpoint_count();
    check_conflicts(config);
    assert_eq!(config.programs().count(), programs);
    assert_eq!(config.endpoints().count(), endpoints);
    for endpoint in config.endpoints().flatten() {
        assert!(usize::from(endpoint.server) < programs);
        assert!(usize::from(endpoint.index) < endpoints);
    }
    for (i, program) in config.programs().enumerate() {
        let Ok(program) = program else { continue };
        assert_eq!(usize::from(program.index), i);
        assert!(!program.name.is_empty());
        assert!(sysconf::is_initramfs_path(program.path));
        assert!(program.priority <= sysconf::MAX_PRIORITY);
        assert!(program.budget_frames > 0);
        assert!(program.least_budget_frames > 0);
        assert!(program.least_budget_frames <= program.budget_frames);
        assert!(program.restart.backoff_initial_ms <= program.restart.backoff_max_ms);
        assert_eq!(program.args().count(), program.arg_count());
        assert_eq!(program.grants().count(), program.grant_count());
        assert_eq!(program.depends_on().count(), program.dependency_count());
        for dep in program.depends_on() {
            assert!(usize::from(dep) < programs && dep != program.index);
        }
        for grant in program.grants() {
            match grant {
                Grant::IoPorts { base, count } => {
                    let end = u32::from(base) + count;
                    assert!(count >= 1 && end <= sysconf::IO_PORT_SPACE);
                    for (first, n) in abi::syscall::KERNEL_IO_PORTS {
                        assert!(
                            end <= u32::from(first)
                                || u32::from(first) + u32::from(n) <= u32::from(base)
                        );
                    }
                }
                Grant::IrqIsa(line) => assert!(line <= sysconf::MAX_ISA_IRQ),
                Grant::IrqGsi { gsi, .. } => assert!(gsi <= sysconf::MAX_GSI),
                Grant::DeviceMemory { phys, pages } => {
                    assert!(pages >= 1 && phys % sysconf::PAGE_BYTES == 0);
                    assert!(
                        phys.checked_add(u64::from(pages) * sysconf::PAGE_BYTES)
                            .is_some()
                    );
                }
                Grant::Serves(e) => {
                    assert_eq!(e.server, program.index);
                    assert!(usize::from(e.index) < endpoints);
                }
                Grant::ClientOf(e) => {
                    assert_ne!(e.server, program.index);
                    assert!(usize::from(e.server) < programs);
                    assert!(usize::from(e.index) < endpoints);
                }
                Grant::Authority(a) => {
                    assert_eq!(sysconf::Authority::from_id(a.id()), Some(a));
                    assert!(program.has_authority(a));
                }
            }
        }
    }
}

/// Whether two accepted programs conflict does not depend on the order
/// they are compared in (which conflict is named may: the first found).
/// Over at most 64 programs, to bound the time.
pub fn check_conflicts(config: &Config<'_>) {
    let accepted: Vec<_> = config.programs().take(64).flatten().collect();
    for a in &accepted {
        for b in &accepted {
            assert_eq!(a.conflict_with(b).is_some(), b.conflict_with(a).is_some());
        }
    }
}

/// The model a fully valid configuration decodes to (panics on a bad entry).
#[allow(dead_code)]
pub fn model_of(config: &Config<'_>) -> System {
    let all: Vec<_> = config.programs().map(Result::unwrap).collect();
    let programs = all
        .iter()
        .map(|p| ProgramSpec {
            name: p.name.into(),
            path: p.path.into(),
            priority: p.priority,
            // Stored as 0 when it is the priority.
            max_priority: if p.max_priority == p.priority {
                0
            } else {
                p.max_priority
            },
            budget_frames: p.budget_frames,
            least_budget_frames: p.least_budget_frames,
            restart: p.restart,
            debug: p.debug,
            args: p.args().map(String::from).collect(),
            grants: p
                .grants()
                .map(|g| match g {
                    Grant::IoPorts { base, count } => GrantSpec::IoPorts { base, count },
                    Grant::IrqIsa(line) => GrantSpec::IrqIsa(line),
                    Grant::IrqGsi {
                        gsi,
                        level,
                        active_low,
                    } => GrantSpec::IrqGsi {
                        gsi,
                        level,
                        active_low,
                    },
                    Grant::DeviceMemory { phys, pages } => GrantSpec::DeviceMemory { phys, pages },
                    Grant::Serves(e) => GrantSpec::Serves(e.name.into()),
                    Grant::ClientOf(e) => GrantSpec::ClientOf(e.name.into()),
                    Grant::Authority(a) => GrantSpec::Authority(a),
                })
                .collect(),
            depends_on: p
                .depends_on()
                .map(|d| all[usize::from(d)].name.into())
                .collect(),
        })
        .collect();
    System {
        aslr: config.aslr(),
        programs,
    }
}

/// What every accepted manifest promises, and that [`manifest::check`]
/// agrees with [`granted_by_model`] on `program`: needs that end, as many
/// as [`Manifest::len`] says, each in range, packing back to a manifest
/// with the same needs; and a refusal exactly at the first need the model
/// does not grant.
#[allow(dead_code)]
pub fn check_manifest(manifest: &Manifest<'_>, program: &Program<'_>) {
    let needs: Vec<Need<'_>> = manifest.needs().collect();
    assert_eq!(needs.len(), manifest.len());
    assert_eq!(manifest.needs().len(), manifest.len());
    assert_eq!(manifest.is_empty(), needs.is_empty());
    for need in &needs {
        assert_eq!(need.validate(), Ok(()), "{need:?}");
    }
    let mut bytes = vec![0; manifest::packed_len(&needs)];
    assert_eq!(manifest::pack_into(&needs, &mut bytes), Ok(bytes.len()));
    let again = Manifest::parse(&bytes).expect("a repacked manifest parses");
    assert!(again.needs().eq(needs.iter().copied()));

    let grants: Vec<Grant<'_>> = program.grants().collect();
    let first_refused = needs
        .iter()
        .position(|need| !granted_by_model(need, &grants, program.debug));
    match (manifest::check(manifest, program), first_refused) {
        (Ok(()), None) => {}
        (Err(refusal), Some(index)) => {
            assert_eq!(usize::from(refusal.index), index);
            assert_eq!(refusal.need, needs[index]);
            let line = refusal.to_string();
            assert!(line.starts_with("asks ") && line.ends_with(", not granted"));
        }
        (result, model) => panic!("check says {result:?}, the model refuses need {model:?}"),
    }
}

/// Whether `grants` (and the debug flag) grant `need`, by enumeration: a
/// range is granted when every port or page of it lies in one and the same
/// grant.
#[allow(dead_code)]
pub fn granted_by_model(need: &Need<'_>, grants: &[Grant<'_>], debug: bool) -> bool {
    let page = sysconf::PAGE_BYTES;
    grants.iter().any(|grant| match (*need, *grant) {
        (Need::IoPorts { base, count }, Grant::IoPorts { base: b, count: c }) => {
            let granted = u32::from(b)..u32::from(b) + c;
            (u32::from(base)..u32::from(base) + count).all(|port| granted.contains(&port))
        }
        (Need::IrqIsa(line), Grant::IrqIsa(g)) => line == g,
        (
            need @ Need::IrqGsi { .. },
            Grant::IrqGsi {
                gsi,
                level,
                active_low,
            },
        ) => {
            need == Need::IrqGsi {
                gsi,
                level,
                active_low,
            }
        }
        (Need::DeviceMemory { phys, pages }, Grant::DeviceMemory { phys: p, pages: n }) => {
            let granted = u128::from(p)..u128::from(p) + u128::from(n) * u128::from(page);
            (0..u128::from(pages)).all(|i| {
                let start = u128::from(phys) + i * u128::from(page);
                granted.contains(&start) && granted.contains(&(start + u128::from(page) - 1))
            })
        }
        (Need::Serves(name), Grant::Serves(e)) => e.name == name,
        (Need::ClientOf(name), Grant::ClientOf(e)) => e.name == name,
        (Need::Authority(a), Grant::Authority(g)) => a == g,
        _ => false,
    }) || (*need == Need::Debug && debug)
}
