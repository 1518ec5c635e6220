//! A driver whose manifest asks for an ISA IRQ and a page of device
//! memory; `system-test.toml` grants it less, so init refuses it with one
//! log line naming what it asked for (the supervision tests read that
//! line back). Were it ever started, it would just exit.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sysconf::manifest! {
    irqs: [isa(7)],
    device_memory: [(0xfeb0_1000, 1)],
}

rt::entry!(main);

fn main() -> u64 {
    0
}
