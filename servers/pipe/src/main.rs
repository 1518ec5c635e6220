//! pipe: pipes behind the `File` protocol (`protocols::file`,
//! `docs/files.md`).
//!
//! `open("pipe:")` (the empty path on the server's root) makes a pipe and
//! answers with its read end; `dup(end, "write")` gives a write end,
//! `dup(end, "read")` a read end, `dup(end, "")` another capability to
//! the same end. The buffer and its rules are `fscore::pipe`: a write of
//! at most `PIPE_BUF` bytes is atomic, a read of an empty pipe with no
//! writer left is the end of the file, a write with no reader left is
//! `BrokenPipe`.
//!
//! Blocking: a read of an empty pipe, or a write that does not fit, is
//! not answered at once. The server saves the call's reply right
//! (`rt::ipc::SavedReply`) and goes on serving; the call is answered when
//! data, room, or the last close of the other side comes. So no server
//! thread is ever held by a client, and any number of clients may wait.
//!
//! Exit status: 0 when the endpoint is gone; 1 when the startup handle is
//! missing; 2 when receiving fails otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod direct;
mod server;

use abi::SysError;
use abi::startup::handle::SERVICE;
use rt::Handle;
use rt::ipc::Endpoint;

sysconf::manifest! {
    serves: ["pipe"],
}

rt::entry!(main);

fn main() -> u64 {
    let Some(slot) = rt::start::startup_info().and_then(|info| info.handle(SERVICE)) else {
        rt::log::error!("pipe: no SERVICE endpoint in the startup page");
        return 1;
    };
    let endpoint = Endpoint::from_raw(slot);
    let mut server = server::Server::new(slot);
    if let Err(error) = server.watch() {
        rt::log::warn!("pipe: no leases ({error}): a killed client's ends stay open");
    }
    match protocols::server::serve_deferring(&endpoint, &mut server) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        error => {
            rt::log::error!("pipe: receiving failed: {error}");
            2
        }
    }
}
