//! Mica's in-OS test suite and benchmarks, and for now the first program.
//!
//! The kernel command line picks the mode: `mode=run` prints a banner and
//! the tests it can run, then ends (the kernel idles); `mode=test
//! [filter=NAME]` runs every test whose name contains NAME, each in its own
//! thread so a failing or faulting test cannot end the run, prints one line
//! per test and a summary, and ends QEMU through the debug capability;
//! `mode=bench` runs the benchmarks and prints `BENCH` rows; `mode=fuzz
//! seed=S count=N` runs the syscall fuzzer once (`sysfuzz`), prints what it
//! covered and ends QEMU with code 0 if it passed.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod bench;
mod bench_files;
mod bench_futex;
mod bench_pair;
mod bench_pipes;
mod bench_procs;
mod bench_shell;
mod bench_vm;
mod copy_spawn;
mod cpu;
mod peer;
mod raw;
mod raw_thread;
mod rtc;
mod sysfuzz;
mod tests;
mod timing;

use abi::boot::BootInfo;
use rt::println;
use rt::thread::JoinError;

// The test runner tests the kernel itself, so it asks for strong
// capabilities: the kernel's device authorities (to make ports, IRQs and
// device memory of its own), the initramfs (to load programs), a copy of
// the boot information (the command line says what to run), init's
// supervisor protocol, the debug capability (to end the run), the
// endpoints its capability and console tests serve, and the servers it
// tests.
sysconf::manifest! {
    authority: [
        "io-space",
        "irq-control",
        "device-memory",
        "initramfs",
        "boot-info",
        "supervisor",
    ],
    debug: true,
    serves: ["report", "console-wire"],
    client_of: ["serial", "echo", "flaky", "once", "rogue", "initfs", "ramfs", "pipe", "ring", "proc", "console"],
}

rt::entry!(main);

/// The value of `key=value` on the kernel command line.
fn arg<'a>(cmdline: &'a [u8], key: &str) -> Option<&'a str> {
    let text = core::str::from_utf8(cmdline).ok()?;
    text.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

fn main() -> u64 {
    // A test thread that faults fails its test, not the run.
    rt::process::set_fault_endpoint(abi::CapSlot::NULL);
    // Output goes through the serial driver init runs.
    if let Some(serial) = protocols::serial::startup_endpoint() {
        protocols::serial::use_as_stdout(serial);
    }
    let Some(boot) = rt::start::boot_info() else {
        return 1;
    };
    match arg(boot.cmdline(), "mode") {
        Some("test") => run_tests(boot, arg(boot.cmdline(), "filter").unwrap_or("")),
        Some("bench") => bench::run(boot),
        Some("fuzz") => sysfuzz::fuzz_mode(boot),
        _ => banner(boot),
    }
}

fn banner(boot: &BootInfo) -> u64 {
    println!();
    println!(
        "Mica {} -- a capability microkernel",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "The shell is not here yet. The in-OS tests this image can run (cargo xtask test [NAME]):"
    );
    for test in tests::ALL {
        println!("  {}", test.name);
    }
    let (free, total) = crate::raw::debug_frame_count(abi::CapSlot(boot.debug_cap))
        .map_or((0, 0), |c| (c.free, c.total));
    println!(
        "{free} of {total} frames free. Nothing more to do: the kernel idles now (Ctrl-A X quits QEMU)."
    );
    0
}

fn run_tests(boot: &BootInfo, filter: &str) -> u64 {
    let debug = abi::CapSlot(boot.debug_cap);
    let (mut passed, mut failed) = (0u32, 0u32);
    tests::warm_up();
    for (index, test) in tests::ALL.iter().enumerate() {
        if !test.name.contains(filter) {
            continue;
        }
        let outcome = rt::thread::Builder::new()
            .name(test.name)
            .stack_size(tests::TEST_STACK)
            .spawn(move || tests::run_one(index as u64))
            .map_err(JoinError::Kernel)
            .and_then(|handle| handle.join());
        match outcome {
            Ok(0) => {
                passed += 1;
                println!("test {} ... ok", test.name);
            }
            Err(JoinError::Faulted(status)) => {
                failed += 1;
                println!(
                    "test {} ... FAILED: killed by vector {} at rip {:#x} (address {:#x})",
                    test.name, status.code, status.rip, status.addr
                );
            }
            Ok(code) => {
                failed += 1;
                println!("test {} ... FAILED (exit code {})", test.name, code);
            }
            Err(e) => {
                failed += 1;
                println!("test {} ... FAILED: could not run it: {:?}", test.name, e);
            }
        }
    }
    println!("mica-tests: {passed} passed, {failed} failed");
    let code = if failed == 0 { 0 } else { 1 };
    let _ = crate::raw::debug_exit(debug, code);
    code
}
