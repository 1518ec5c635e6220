//! What every accepted configuration promises, shared by the property
//! tests (`tests/format.rs`) and the fuzz target (`fuzz/fuzz_targets/parse.rs`
//! includes this file by path).

use sysconf::{Config, Grant, GrantSpec, ProgramSpec, System};

/// Walks everything `config` yields and checks it is in bounds; panics
/// (failing the test or the fuzz run) if not.
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
            budget_frames: p.budget_frames,
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
