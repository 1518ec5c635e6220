//! Fuzzes `sysconf::Config::parse` and everything an accepted
//! configuration yields.
//!
//! Beyond "never panics", every configuration `parse` accepts must keep the
//! promises the property tests check (`sysconf/tests/invariants/mod.rs`,
//! included here by path): iterators that end, with the counts the entries
//! state, and every value in range.
//!
//! Random bytes rarely pass the header's size check, so the first input
//! byte picks a mode:
//!
//! | byte 0 | the configuration is                                            |
//! |--------|-----------------------------------------------------------------|
//! | even   | the rest of the input, as is                                    |
//! | odd    | a valid encoding of a small system with every grant kind, with the rest of the input read as 3-byte edits: offset (u16, modulo the length) and the byte to write there |
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconf::{Authority, Config, GrantSpec, ProgramSpec, RestartKind, RestartPolicy, System};

#[path = "../../tests/invariants/mod.rs"]
mod invariants;

fn seed() -> Vec<u8> {
    let restart = RestartPolicy {
        kind: RestartKind::Always,
        backoff_initial_ms: 10,
        backoff_max_ms: 1000,
        min_run_ms: 500,
        give_up_failures: 5,
        give_up_window_ms: 60_000,
    };
    let program = |name: &str, grants, depends_on: Vec<String>| ProgramSpec {
        name: name.into(),
        path: format!("bin/{name}"),
        priority: 20,
        max_priority: 0,
        budget_frames: 128,
        least_budget_frames: 64,
        restart,
        debug: true,
        args: vec!["-v".into(), "x".into()],
        grants,
        depends_on,
    };
    let system = System {
        aslr: true,
        programs: vec![
            program(
                "a",
                vec![
                    GrantSpec::IoPorts {
                        base: 0x60,
                        count: 1,
                    },
                    GrantSpec::IrqIsa(1),
                    GrantSpec::Serves("kbd".into()),
                ],
                vec![],
            ),
            program(
                "b",
                vec![
                    GrantSpec::IrqGsi {
                        gsi: 11,
                        level: true,
                        active_low: true,
                    },
                    GrantSpec::DeviceMemory {
                        phys: 0xfe00_0000,
                        pages: 4,
                    },
                    GrantSpec::ClientOf("kbd".into()),
                    GrantSpec::Serves("net".into()),
                    GrantSpec::Authority(Authority::IoSpace),
                ],
                vec!["a".into()],
            ),
        ],
    };
    sysconf::encode(&system).expect("the seed encodes")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut bytes = seed();
        for edit in rest.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
            bytes[at] = edit[2];
        }
        bytes
    };
    if let Ok(config) = Config::parse(&bytes) {
        invariants::check(&config);
    }
});
