//! The caller's capability to the process server, and the calls that
//! need nothing else.

use alloc::string::String;
use alloc::vec::Vec;

use abi::CapSlot;
use abi::startup::handle::CLIENT;
use protocols::proc::{Entries, ProcClient, ProcState, error_of};
use rt::Handle;
use rt::ipc::Endpoint;

use crate::{Pid, ProcError};

/// The name the process server's capability has in a startup page.
pub const SERVICE: &str = "proc";

/// The caller's own capability to the process server: the `CLIENT`
/// handle `proc` of its startup page (init gives it; a parent that spawns
/// through the server names the child's own capability so).
pub(crate) fn own() -> Result<CapSlot, ProcError> {
    rt::start::startup_info()
        .and_then(|info| info.handle_named(CLIENT, SERVICE))
        .ok_or(ProcError::NoSuchProcess)
}

/// Runs `f` with a client on `slot`, which stays the caller's.
pub(crate) fn with<T>(
    slot: CapSlot,
    f: impl FnOnce(&mut ProcClient<&Endpoint>) -> Result<T, protocols::Error>,
) -> Result<T, ProcError> {
    let endpoint = Endpoint::from_raw(slot);
    let result = f(&mut ProcClient::new(&endpoint)).map_err(error_of);
    // The slot is the caller's: do not delete it with the client.
    let _ = endpoint.into_raw();
    result
}

/// The caller's pid and its parent's (1: init).
///
/// # Errors
/// `NoSuchProcess` without a `proc` capability.
pub fn ids() -> Result<(Pid, Pid), ProcError> {
    with(own()?, |c| c.ids()).map(|(pid, parent)| (Pid(pid), Pid(parent)))
}

/// One process, as [`list`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcInfo {
    /// Its id.
    pub pid: Pid,
    /// Its parent's (1: init).
    pub parent: Pid,
    /// Whether it has ended (and waits for its parent).
    pub ended: bool,
    /// Frames its budget is charged, if the server holds it.
    pub frames: Option<u32>,
    /// Its name: the program's file name.
    pub name: String,
}

/// Every process.
///
/// # Errors
/// `NoSuchProcess` without a `proc` capability; `InvalidArgument` for a
/// malformed reply.
pub fn list() -> Result<Vec<ProcInfo>, ProcError> {
    let slot = own()?;
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let next = with(slot, |c| {
            let (bytes, next) = c.list(cursor)?;
            for entry in Entries::new(bytes) {
                let Ok(entry) = entry else {
                    return Ok(None);
                };
                out.push(ProcInfo {
                    pid: entry.pid,
                    parent: entry.parent,
                    ended: entry.state == ProcState::Ended,
                    frames: (entry.frames != u32::MAX).then_some(entry.frames),
                    name: String::from(entry.name),
                });
            }
            Ok(Some(next))
        })?
        .ok_or(ProcError::InvalidArgument)?;
        if next == 0 || next <= cursor {
            return Ok(out);
        }
        cursor = next;
    }
}
