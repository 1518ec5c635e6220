//! init: Mica's first program. The kernel maps it as the one flat image;
//! everything else is an ELF file in the initramfs that init loads.
//!
//! At boot init reads the packed system configuration from the initramfs
//! (`etc/system.bin`, or `etc/system-NAME.bin` with `system=NAME` on the
//! kernel command line), decodes it with `sysconf::Config::parse` and
//! checks every entry again; an entry it cannot accept is logged and
//! skipped. It then starts each program in order (`launch`), giving it
//! exactly the capabilities its entry grants and its manifest asks for,
//! on a budget split from init's own, and supervises it (`supervise`):
//! exits and faults come to init's one endpoint, a dead instance's budget
//! is revoked (every frame comes back), and its restart policy decides
//! what follows. The same endpoint serves the `Supervisor` protocol to
//! programs granted that authority (`service`).
//!
//! init logs through the kernel's debug console; it is the only program
//! that holds the debug capability unasked.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod launch;
mod program;
mod service;
mod supervise;

use alloc::format;
use alloc::string::String;

use rt::println;

rt::entry!(main);

/// The value of `key=value` on the kernel command line.
fn arg<'a>(cmdline: &'a [u8], key: &str) -> Option<&'a str> {
    let text = core::str::from_utf8(cmdline).ok()?;
    text.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

fn main() -> u64 {
    let Some(boot) = rt::start::boot_info() else {
        return 1;
    };
    if arg(boot.cmdline(), "mode") == Some("bench") {
        // From the kernel's first instruction to the first user one, which
        // is init's (the benchmarks run later, in the test runner).
        let ticks = rt::start::start_tsc().saturating_sub(boot.kernel_entry_tsc);
        let unit = arg(boot.cmdline(), "unit").unwrap_or("instructions");
        println!("BENCH boot_to_user {unit} {ticks} {ticks} {ticks} 1");
    }
    let Some(archive) = rt::start::initramfs() else {
        println!("init: no initramfs; nothing to start");
        return 1;
    };
    let path: String = match arg(boot.cmdline(), "system") {
        Some(variant) => format!("etc/system-{variant}.bin"),
        None => String::from("etc/system.bin"),
    };
    // One pass over the archive for the configuration and for the check
    // that the kernel ran the right `bootstrap`: the kernel reads only the
    // first member (`kcore::tar::find_leading`), a full reader takes the
    // last member of a path.
    let mut found = [Err(kcore::tar::TarError::NotFound); 2];
    kcore::tar::lookup_many(archive, &[path.as_str(), "bootstrap"], &mut found);
    if !matches!(found[1], Ok(entry) if entry.header_offset == 0) {
        println!(
            "init: warning: the initramfs's `bootstrap` is not only its first member; \
             the kernel ran the first one"
        );
    }
    let bytes = match found[0] {
        Ok(entry) if entry.is_regular_file() => entry.data,
        Ok(_) => {
            println!("init: {path} in the initramfs is not a file; nothing to start");
            return 1;
        }
        Err(e) => {
            println!("init: cannot read {path} from the initramfs: {e:?}; nothing to start");
            return 1;
        }
    };
    let config = match sysconf::Config::parse(bytes) {
        Ok(config) => config,
        Err(e) => {
            println!("init: {path} is unusable: {e}; nothing to start");
            return 1;
        }
    };
    let aslr = config.aslr() && arg(boot.cmdline(), "aslr") != Some("off");
    println!(
        "init: {path}: {} programs, {} endpoints",
        config.program_count(),
        config.endpoint_count()
    );
    let mut init = match supervise::Init::new(boot, archive, config, aslr) {
        Ok(init) => init,
        Err(e) => {
            println!("init: cannot set up: {e}");
            return 1;
        }
    };
    init.start_all();
    banner(&init);
    init.run()
}

/// The greeting, through the serial driver when one serves `serial`.
///
/// Only the greeting: init's own log stays on the debug console, because
/// init must never wait for a program it supervises (a log line sent to a
/// driver that init has just killed would wait for the restart that only
/// init can do).
fn banner(init: &supervise::Init<'_>) {
    use rt::handle::Handle;
    let Some(serial) = init.endpoint("serial") else {
        return;
    };
    // CR LF by hand: the console server, once it runs, turns the driver's
    // own LF translation off (its line discipline translates instead).
    let text = format!(
        "\r\nMica {} -- a capability microkernel\r\n\
         init started {} programs; this text came through the serial driver.\r\n",
        env!("CARGO_PKG_VERSION"),
        init.running()
    );
    let endpoint = rt::ipc::Endpoint::from_raw(serial);
    let mut client = protocols::serial::SerialClient::new(&endpoint);
    // Bounded: a driver that does not answer must not stall supervision.
    client
        .client_mut()
        .set_deadline(rt::time::deadline_after(rt::time::Duration::from_secs(1)));
    if protocols::serial::write_all(&mut client, text.as_bytes()).is_err() {
        println!("init: the serial driver did not take the greeting");
    }
    let _ = endpoint.into_raw();
}
