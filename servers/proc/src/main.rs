//! proc: the process server (`protocols::proc`, `docs/processes.md`).
//!
//! It keeps the process table (`procore`): ids, parents and children, how
//! each process ended. A parent makes a child's budget itself and
//! registers it here (`create`); the server keeps the budget, so it can
//! end the process whatever the process does (`kill`: revoke the budget),
//! and it is the child's parent endpoint, so it hears of every exit and
//! every fault. `wait` is answered when a child ends: the server saves the
//! caller's reply right (`rt::ipc::SavedReply`) meanwhile, so no server
//! thread is held by a waiting parent.
//!
//! When a process ends, what it made goes with its budget, except its
//! running children: their budgets are detached from its budget first
//! (`CapDetach`), so they run on as orphans (their memory is still
//! charged to it; it goes when they do), and init, which the table stands
//! for, reaps them.
//!
//! Exit status: 0 when the endpoint is gone; 1 when the startup handle is
//! missing; 2 when receiving fails otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod server;

use abi::SysError;
use abi::startup::handle::SERVICE;
use rt::Handle;
use rt::ipc::Endpoint;

sysconf::manifest! {
    serves: ["proc"],
}

rt::entry!(main);

fn main() -> u64 {
    let Some(slot) = rt::start::startup_info().and_then(|info| info.handle(SERVICE)) else {
        rt::log::error!("proc: no SERVICE endpoint in the startup page");
        return 1;
    };
    let endpoint = Endpoint::from_raw(slot);
    let mut server = server::Server::new(slot);
    match protocols::server::serve_deferring(&endpoint, &mut server) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("proc: receiving failed: {error}");
            2
        }
    }
}
