//! `sysconf::manifest!` used as a program would use it: from a crate that
//! forbids unsafe code (the attribute below compiles, which is the test
//! that the macro's `#[unsafe(link_section)]` does not trip the lint), and
//! the packed bytes parse back to exactly the needs declared.
#![forbid(unsafe_code)]

use sysconf::Authority;
use sysconf::manifest::{Manifest, Need};

/// A constant used inside the declaration.
const COM2: u16 = 0x2f8;

sysconf::manifest! {
    io_ports: [(0x3f8, 8), (COM2, 8)],
    irqs: [isa(4), gsi(20, level, active_low), gsi(21), gsi(22, active_low,)],
    device_memory: [(0xfeb0_0000, 2)],
    serves: ["serial"],
    client_of: ["log", "kbd"],
    authority: ["boot-info", "io-space"],
    debug: true,
    // Keys may repeat and come in any order.
    irqs: [gsi(23, level)],
}

#[test]
fn the_bytes_parse_back_to_the_declaration() {
    let manifest = Manifest::parse(&MANIFEST).unwrap();
    let needs: Vec<Need<'_>> = manifest.needs().collect();
    let gsi = |gsi, level, active_low| Need::IrqGsi {
        gsi,
        level,
        active_low,
    };
    assert_eq!(
        needs,
        [
            Need::IoPorts {
                base: 0x3f8,
                count: 8
            },
            Need::IoPorts {
                base: 0x2f8,
                count: 8
            },
            Need::IrqIsa(4),
            gsi(20, true, true),
            gsi(21, false, false),
            gsi(22, false, true),
            Need::DeviceMemory {
                phys: 0xfeb0_0000,
                pages: 2
            },
            Need::Serves("serial"),
            Need::ClientOf("log"),
            Need::ClientOf("kbd"),
            Need::Authority(Authority::BootInfo),
            Need::Authority(Authority::IoSpace),
            Need::Debug,
            gsi(23, true, false),
        ]
    );
}

/// Each form in a module of its own (the static is always `MANIFEST`).
mod forms {
    mod empty {
        sysconf::manifest! {}

        #[test]
        fn has_no_needs() {
            let manifest = sysconf::manifest::Manifest::parse(&MANIFEST).unwrap();
            assert!(manifest.is_empty());
            assert_eq!(MANIFEST.len(), 16);
        }
    }

    mod no_debug {
        sysconf::manifest! { debug: false, serves: ["a"] }

        #[test]
        fn debug_false_adds_nothing() {
            let manifest = sysconf::manifest::Manifest::parse(&MANIFEST).unwrap();
            let needs: Vec<_> = manifest.needs().collect();
            assert_eq!(needs, [sysconf::manifest::Need::Serves("a")]);
        }
    }

    mod trailing_commas {
        sysconf::manifest! {
            io_ports: [(0x60, 1), (0x64, 1),],
            authority: ["supervisor",],
        }

        #[test]
        fn are_accepted() {
            let manifest = sysconf::manifest::Manifest::parse(&MANIFEST).unwrap();
            assert_eq!(manifest.len(), 3);
        }
    }
}
