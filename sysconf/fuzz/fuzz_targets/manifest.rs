//! Fuzzes `sysconf::manifest::Manifest::parse` and `manifest::check`.
//!
//! Beyond "never panics", every manifest `parse` accepts must keep the
//! promises the property tests check (`invariants::check_manifest` in
//! `sysconf/tests/invariants/mod.rs`, included here by path): needs that
//! end, as many as the header says, each in range, packing back to the same
//! needs; and `check` refusing exactly the first need that a model (which
//! enumerates ports and pages) does not find granted.
//!
//! The first input byte picks a mode:
//!
//! | byte 0 | the manifest is                                                 |
//! |--------|-----------------------------------------------------------------|
//! | bit 0 clear | the rest of the input, as is                               |
//! | bit 0 set   | a valid manifest with every kind of need, with the rest of the input read as 2-byte edits: offset (modulo the length) and the byte to write there |
//!
//! and bit 1 picks the program it is checked against: one granted
//! everything the seed asks for (so edits decide), or one granted little.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sysconf::manifest::{Manifest, Need, pack_into, packed_len};
use sysconf::{Authority, Config, GrantSpec, ProgramSpec, RestartKind, RestartPolicy, System};

#[allow(dead_code)]
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

/// Every kind of need, the granted ones first.
const SEED: [Need<'static>; 10] = [
    Need::IoPorts {
        base: 0x3f8,
        count: 8,
    },
    Need::IrqIsa(4),
    Need::IrqGsi {
        gsi: 20,
        level: true,
        active_low: true,
    },
    Need::DeviceMemory {
        phys: 0xfeb0_0000,
        pages: 2,
    },
    Need::Serves("serial"),
    Need::ClientOf("log"),
    Need::Authority(Authority::BootInfo),
    Need::Debug,
    Need::Authority(Authority::Supervisor),
    Need::IoPorts {
        base: 0x2f8,
        count: 8,
    },
];

fn seed() -> Vec<u8> {
    let mut bytes = vec![0; packed_len(&SEED)];
    pack_into(&SEED, &mut bytes).expect("the seed packs");
    bytes
}

/// A configuration: program 0 is granted the first eight needs of
/// [`SEED`] (ranges a little wider), program 1 only an ISA IRQ, program 2
/// serves "log".
fn config() -> Vec<u8> {
    let restart = RestartPolicy {
        kind: RestartKind::Never,
        backoff_initial_ms: 0,
        backoff_max_ms: 0,
        min_run_ms: 0,
        give_up_failures: 0,
        give_up_window_ms: 0,
    };
    let program = |name: &str, debug, grants| ProgramSpec {
        name: name.into(),
        path: format!("bin/{name}"),
        priority: 10,
        max_priority: 0,
        budget_frames: 32,
        least_budget_frames: 16,
        restart,
        debug,
        args: Vec::new(),
        grants,
        depends_on: Vec::new(),
    };
    let system = System {
        aslr: true,
        programs: vec![
            program(
                "driver",
                true,
                vec![
                    GrantSpec::IoPorts {
                        base: 0x3f0,
                        count: 0x20,
                    },
                    GrantSpec::IrqIsa(4),
                    GrantSpec::IrqGsi {
                        gsi: 20,
                        level: true,
                        active_low: true,
                    },
                    GrantSpec::DeviceMemory {
                        phys: 0xfea0_0000,
                        pages: 0x200,
                    },
                    GrantSpec::Serves("serial".into()),
                    GrantSpec::ClientOf("log".into()),
                    GrantSpec::Authority(Authority::BootInfo),
                ],
            ),
            program("small", false, vec![GrantSpec::IrqIsa(4)]),
            program("log", false, vec![GrantSpec::Serves("log".into())]),
        ],
    };
    sysconf::encode(&system).expect("the configuration encodes")
}

static SEED_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
static CONFIG: OnceLock<Vec<u8>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut bytes = SEED_BYTES.get_or_init(seed).clone();
        for edit in rest.chunks_exact(2) {
            let at = usize::from(edit[0]) % bytes.len();
            bytes[at] = edit[1];
        }
        bytes
    };
    let config_bytes = CONFIG.get_or_init(config);
    let config = Config::parse(config_bytes).expect("the configuration parses");
    let program = config
        .program(usize::from(mode >> 1 & 1))
        .expect("the program decodes");
    if let Ok(manifest) = Manifest::parse(&bytes) {
        invariants::check_manifest(&manifest, &program);
    }
});
