//! A child process: wait for it, or end it.

use abi::CapSlot;
use rt::Handle;
use rt::ipc::Endpoint;

use crate::server::{own, with};
use crate::{End, Pid, ProcError};

/// A child the caller started (or was given a capability to). Dropping it
/// lets the child run on; the caller can still [`wait_any`] for it.
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    /// The child capability: `kill` goes through it.
    cap: Endpoint,
}

impl Process {
    pub(crate) fn new(pid: Pid, cap: CapSlot) -> Process {
        Process {
            pid,
            cap: Endpoint::from_raw(cap),
        }
    }

    /// Its id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The child capability (to hand another program the power to end
    /// it).
    pub fn cap(&self) -> CapSlot {
        self.cap.slot()
    }

    /// Waits until it ends, reaps it and says how it ended.
    ///
    /// # Errors
    /// `NoSuchProcess` if it was reaped already (by [`wait_any`]);
    /// `NotChild` if the caller is not its parent.
    pub fn wait(&self) -> Result<End, ProcError> {
        wait(self.pid.0, false).map(|found| found.map_or(End::Killed, |(_, end)| end))
    }

    /// How it ended if it has (and reaps it), or `None` if it runs.
    ///
    /// # Errors
    /// As [`Process::wait`].
    pub fn try_wait(&self) -> Result<Option<End>, ProcError> {
        wait(self.pid.0, true).map(|found| found.map(|(_, end)| end))
    }

    /// Ends it now, wherever it is; its parent learns `End::Killed`.
    ///
    /// # Errors
    /// `NotRunning` if it has already ended; `NoSuchProcess` once reaped.
    pub fn kill(&self) -> Result<(), ProcError> {
        with(self.cap.slot(), |c| c.kill())
    }
}

/// Waits for any child of the caller to end, reaps it and says which and
/// how.
///
/// # Errors
/// `NoChildren` if the caller has none.
pub fn wait_any() -> Result<(Pid, End), ProcError> {
    wait(0, false)?.ok_or(ProcError::NoChildren)
}

/// As [`wait_any`], answering `None` at once if no child has ended yet.
///
/// # Errors
/// As [`wait_any`].
pub fn try_wait_any() -> Result<Option<(Pid, End)>, ProcError> {
    wait(0, true)
}

fn wait(pid: u32, nohang: bool) -> Result<Option<(Pid, End)>, ProcError> {
    let (child, tag, a, b, c, d) = with(own()?, |client| client.wait(pid, nohang))?;
    if child == 0 {
        return Ok(None);
    }
    let end = End::from_wire(tag, [a, b, c, d]).ok_or(ProcError::InvalidArgument)?;
    Ok(Some((Pid(child), end)))
}
