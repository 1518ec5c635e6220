//! initfs: the initramfs as a read-only file system, behind the `File`
//! protocol (`protocols::file`, `docs/files.md`).
//!
//! Started by init with the initramfs and the boot information (which
//! says where the archive is; the runtime maps it read-only)
//! and the endpoint it serves, named "initfs". It lists the archive once
//! (`kcore::tar`), builds the tree ([`index`]), then answers calls for
//! ever. File data is read straight from the mapped archive: nothing is
//! copied into the server's memory. Every call that would change
//! anything answers `ReadOnly`.
//!
//! Exit status: 0 when the endpoint is gone; 1 when a startup handle is
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
    serves: ["initfs"],
    authority: ["initramfs", "boot-info"],
}

rt::entry!(main);

fn main() -> u64 {
    let Some(info) = rt::start::startup_info() else {
        return 1;
    };
    let (Some(slot), Some(archive)) = (info.handle(SERVICE), rt::start::initramfs()) else {
        rt::log::error!("initfs: no SERVICE endpoint or no initramfs in the startup page");
        return 1;
    };
    let index = server::index_archive(archive);
    let endpoint = Endpoint::from_raw(slot);
    let mut server = server::Server::new(slot, index);
    if let Err(error) = server.watch() {
        rt::log::warn!("initfs: no leases ({error}): a killed client's files stay open");
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
            rt::log::error!("initfs: receiving failed: {error}");
            2
        }
    }
}
