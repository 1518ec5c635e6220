//! console: the system's terminal (`docs/console.md`, "The console
//! server"). It sits on the serial driver (`protocols::serial`), applies
//! the line discipline (`ttycore`) to what is typed, and serves
//!
//! - the `File` protocol (`protocols::file`) for `/dev`: the directory
//!   itself (the empty path) and the devices in it: `console`, whose
//!   `read` gives typed input and whose `write` shows program output;
//!   `null`; and `kmsg`, the kernel log (with the `kernel-log` authority,
//!   a `KERNEL_LOG` handle);
//! - the `Tty` protocol (`protocols::tty`: `set_mode`, `wait_signal`,
//!   `size`) on the same capabilities, told apart by opcode
//!   (`protocols::tty::is_tty_opcode`).
//!
//! Startup page: `SERVICE` (the endpoint it serves, `console`) and a
//! `CLIENT` handle for its terminal, named `serial` unless an argument
//! `terminal=NAME` names another (the test system gives it a wire the test
//! runner serves, so that the real UART stays the serial tests').
//!
//! Two threads share one [`state::State`] behind a lock:
//!
//! - the **receive loop** (this thread) answers calls; a read with
//!   nothing to read, or a `wait_signal`, saves its reply right
//!   (`rt::ipc::SavedReply`) in the state and the loop goes on: no thread
//!   is held for a waiting client;
//! - the **input thread** ([`port::input_loop`]) reads the terminal for
//!   ever, feeds the bytes to the line discipline, writes the echo, and
//!   answers the waiting calls itself (`ReplyWith` works from any thread
//!   of the capability space), so the loop needs no wake-up.
//!
//! Exit status: 0 when the endpoint is gone; 1 when a startup handle is
//! missing; 2 when the input thread cannot start or receiving fails.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod port;
mod server;
mod state;

use alloc::boxed::Box;

use abi::SysError;
use abi::startup::handle::{CLIENT, KERNEL_LOG, SERVICE};
use rt::Handle;
use rt::ipc::Endpoint;
use rt::sync::Mutex;

// No manifest (`sysconf::manifest!`): a program with one gets only what it
// names, and the console's terminal is configuration (`serial`, or the
// test runner's wire in the test system, named by an argument). Without
// one, init gives it the endpoints its system.toml entry grants and the
// read-only `kernel-log` authority (docs/init.md).

rt::entry!(main);

/// The service the terminal is reached through, unless an argument says.
const DEFAULT_TERMINAL: &str = "serial";

fn main() -> u64 {
    let Some(info) = rt::start::startup_info() else {
        rt::log::error!("console: no startup page");
        return 1;
    };
    let Some(service) = info.handle(SERVICE) else {
        rt::log::error!("console: no SERVICE endpoint in the startup page");
        return 1;
    };
    let terminal = rt::process::args()
        .find_map(|arg| arg.strip_prefix("terminal="))
        .unwrap_or(DEFAULT_TERMINAL);
    let Some(wire) = info.handle_named(CLIENT, terminal) else {
        rt::log::error!("console: no CLIENT handle {terminal:?} in the startup page");
        return 1;
    };
    // Both live as long as the program: the threads share them.
    let port: &'static port::Port = Box::leak(Box::new(port::Port::new(Endpoint::from_raw(wire))));
    let shared: &'static state::Shared = Box::leak(Box::new(Mutex::new(state::State::new(port))));
    let input = rt::thread::Builder::new()
        .name("console-input")
        .spawn(move || port::input_loop(port, shared));
    match input {
        // It runs for the program's life.
        Ok(handle) => handle.detach(),
        Err(error) => {
            rt::log::error!("console: cannot start the input thread: {error}");
            return 2;
        }
    }
    let endpoint = Endpoint::from_raw(service);
    let kernel_log = info.handle(KERNEL_LOG);
    let mut server = server::Server::new(service, shared, kernel_log);
    if let Err(error) = server.watch() {
        rt::log::warn!("console: no leases ({error}): a killed client's objects stay open");
    }
    match protocols::server::serve_deferring(&endpoint, &mut server) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("console: receiving failed: {error}");
            2
        }
    }
}
