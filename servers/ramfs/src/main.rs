//! ramfs: a read-write file system in memory, mounted at `/tmp`, behind
//! the `File` protocol (`protocols::file`, `docs/files.md`).
//!
//! Started by init with the endpoint it serves, named "ramfs". The tree
//! and its rules are `fscore::tree`; this program turns each request into
//! one call there, with the caller's session (the program init gave the
//! root capability to) as the owner who pays. Memory comes from ramfs's
//! own budget, and the tree's limits keep it well inside it
//! (`Limits::for_budget` of the budget init gave, which is less than
//! system.toml's ask on a small machine): one client cannot take more
//! than a quota, so it cannot fill memory for all.
//!
//! Bulk reads and writes may go through a ring the client attaches to an
//! open file (`rings`): one thread per ring, sharing the tree with the
//! main thread behind a mutex.
//!
//! Exit status: 0 when the endpoint is gone; 1 when the startup handle is
//! missing; 2 when receiving fails otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod rings;
mod server;

use abi::SysError;
use abi::startup::handle::SERVICE;
use fscore::tree::account::Limits;
use rt::Handle;
use rt::ipc::Endpoint;

sysconf::manifest! {
    serves: ["ramfs"],
}

rt::entry!(main);

/// The budget assumed when the kernel cannot say (the ask of system.toml).
const BUDGET_FRAMES_ASKED: u64 = 6144;

fn main() -> u64 {
    let Some(slot) = rt::start::startup_info().and_then(|info| info.handle(SERVICE)) else {
        rt::log::error!("ramfs: no SERVICE endpoint in the startup page");
        return 1;
    };
    let endpoint = Endpoint::from_raw(slot);
    let frames = rt::sys::budget_info(rt::process::own_caps().budget)
        .map_or(BUDGET_FRAMES_ASKED, |status| status.limit);
    let mut server = server::Server::new(slot, Limits::for_budget(frames));
    if let Err(error) = server.watch() {
        rt::log::warn!("ramfs: no leases ({error}): a killed client's files stay open");
    }
    let served = protocols::server::serve_notified(
        &endpoint,
        &mut server,
        |server, request, reply| server.dispatch(request, reply),
        |server, bits| server.leases_ended(bits),
    );
    match served {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("ramfs: receiving failed: {error}");
            2
        }
    }
}
