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
use rt::ipc::{Endpoint, Message, SavedReply};

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
    match serve(&endpoint, &mut server) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("proc: receiving failed: {error}");
            2
        }
    }
}

/// The receive loop: calls are answered at once or parked (`wait`); exit
/// and fault messages end their process.
fn serve(endpoint: &Endpoint, server: &mut server::Server) -> SysError {
    let mut request = Message::new(0);
    let mut reply = Message::new(0);
    let mut received = endpoint.recv(&mut request);
    loop {
        // The capabilities the last reply carried copies of.
        server.release_sent();
        match received {
            Ok(()) if request.info().is_fault() => {
                server.fault(&request);
                received = endpoint.recv(&mut request);
            }
            Ok(()) if request.info().is_call() => {
                if server.dispatch(&request, &mut reply) {
                    received = endpoint.reply_recv(&mut reply);
                    core::mem::swap(&mut request, &mut reply);
                    if received.is_err() {
                        received = endpoint.recv(&mut request);
                    }
                } else {
                    match SavedReply::save() {
                        Ok(saved) => server.park(saved),
                        // The caller has gone, or no slot is left: the
                        // caller gets PeerClosed either way.
                        Err(_) => server.unpark(),
                    }
                    received = endpoint.recv(&mut request);
                }
            }
            Ok(()) => {
                server.message(&request);
                protocols::discard_caps(&request);
                received = endpoint.recv(&mut request);
            }
            Err(error) => return error,
        }
    }
}
