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
//! A process taken down from above (init revoking a session root's
//! budget takes everything the root started) sends nothing: the server
//! learns of it through leases (`EndpointWatch`): each process's own
//! capability is a copy of one the server keeps, which the kernel deletes
//! when the last copy goes, signalling the server.
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
    // Processes taken down from above (init ending a session root) are
    // seen through their leases; without the watch they stay listed.
    if let Err(error) = watch(slot) {
        rt::log::error!("proc: no watch on the endpoint: {error}");
    }
    let mut server = server::Server::new(slot);
    match protocols::server::serve_deferring(&endpoint, &mut server) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("proc: receiving failed: {error}");
            2
        }
    }
}

/// Binds a notification to this thread and makes it the endpoint's watch
/// notification (`EndpointWatch`): the kernel signals it when every copy
/// of a lease the server minted has gone.
fn watch(endpoint: abi::CapSlot) -> Result<(), SysError> {
    let thread = rt::thread::current_slot().ok_or(SysError::InvalidArg)?;
    let notification = rt::sys::notification_create(rt::process::own_caps().budget)?;
    let bound = rt::sys::thread_bind(thread, notification)
        .and_then(|()| rt::sys::endpoint_watch(endpoint, notification));
    // The endpoint and the thread hold it now.
    let _ = rt::sys::cap_delete(notification);
    bound
}
