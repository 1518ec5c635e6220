//! The `Echo` protocol's server: the reference handlers of
//! `protocols::echo::EchoService` behind the generated dispatch, for the
//! in-OS protocol tests and the `protocol_call_roundtrip` benchmark.
//!
//! Started by a loader with the endpoint to serve in its startup page as
//! the `abi::startup::handle::SERVICE` handle; clients call a copy of it.
//! It answers calls until that endpoint is gone, then exits with 0. Exit
//! status 1: no `SERVICE` handle; 2: receiving failed otherwise (a wrong
//! capability).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use abi::SysError;
use abi::startup::handle::SERVICE;
use protocols::echo::{self, EchoService};
use rt::Handle;
use rt::ipc::Endpoint;

rt::entry!(main);

fn main() -> u64 {
    let Some(slot) = rt::start::startup_info().and_then(|info| info.handle(SERVICE)) else {
        rt::log::error!("echo-server: no SERVICE endpoint in the startup page");
        return 1;
    };
    let endpoint = Endpoint::from_raw(slot);
    let mut service = EchoService::new();
    match protocols::server::serve(&endpoint, |request, reply| {
        echo::dispatch(&mut service, request, reply)
    }) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("echo-server: receiving failed: {error}");
            2
        }
    }
}
