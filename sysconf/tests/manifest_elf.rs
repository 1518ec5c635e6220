//! End to end on the host: the one manifest of this test program, found
//! by `elfload::section` in the program's own ELF file, is byte for byte
//! the `MANIFEST` static, and checks against a configuration as declared.
//! This is the path init takes with a driver's file (with the host's
//! linker instead of `rt/elf.ld`).
#![forbid(unsafe_code)]

use sysconf::manifest::{self, Manifest, Need, SECTION};
use sysconf::{Authority, Config, GrantSpec, ProgramSpec, RestartKind, RestartPolicy, System};

sysconf::manifest! {
    io_ports: [(0x3f8, 8)],
    irqs: [isa(4)],
    serves: ["serial"],
    authority: ["io-space"],
}

#[test]
fn the_section_in_this_file_is_the_manifest() {
    let path = std::env::current_exe().unwrap();
    let file = std::fs::read(&path).unwrap();
    let Ok(found) = elfload::section(&file, SECTION) else {
        // Not an x86_64 ELF host: nothing to read.
        eprintln!("skipped: {} is not an ELF64 x86_64 file", path.display());
        return;
    };
    let bytes = found.expect("the linker keeps .mica.manifest");
    assert_eq!(bytes, &MANIFEST[..]);
    let manifest = Manifest::parse(bytes).unwrap();
    assert_eq!(
        manifest.needs().nth(3),
        Some(Need::Authority(Authority::IoSpace))
    );

    let grants = vec![
        GrantSpec::IoPorts {
            base: 0x3f8,
            count: 8,
        },
        GrantSpec::IrqIsa(4),
        GrantSpec::Serves("serial".into()),
    ];
    let system = System {
        aslr: true,
        programs: vec![ProgramSpec {
            name: "serial".into(),
            path: "bin/serial".into(),
            priority: 10,
            max_priority: 0,
            budget_frames: 32,
            least_budget_frames: 32,
            restart: RestartPolicy {
                kind: RestartKind::Never,
                backoff_initial_ms: 0,
                backoff_max_ms: 0,
                min_run_ms: 0,
                give_up_failures: 0,
                give_up_window_ms: 0,
            },
            debug: false,
            args: Vec::new(),
            grants,
            depends_on: Vec::new(),
        }],
    };
    let config_bytes = sysconf::encode(&system).unwrap();
    let config = Config::parse(&config_bytes).unwrap();
    let refusal = manifest::check(&manifest, &config.program(0).unwrap()).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "asks for authority io-space, not granted"
    );
}
