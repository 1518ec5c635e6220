//! A started program as its parent sees it: [`Child`], which owns its
//! budget (waiting for its end, or killing it, revokes the budget, which
//! destroys everything it was made of), and how it ended
//! ([`ExitStatus`]).

use abi::SysError;
use abi::ipc::MessageInfo;
use abi::startup;

use crate::handle::Handle;
use crate::ipc::{Endpoint, Message};
use crate::memory::Budget;

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited (returned from `main`, called `exit`, or panicked: 101).
    Exited(u64),
    /// A thread took an exception nobody handled: vector, error code,
    /// instruction and address.
    Faulted {
        /// The exception vector (14: page fault).
        vector: u64,
        /// The fault's kind bits (`abi::ipc::fault::kind`).
        kind: u64,
        /// The faulting instruction.
        rip: u64,
        /// The address (page faults).
        addr: u64,
    },
}

impl ExitStatus {
    /// The end a message on a parent endpoint reports: a fault message
    /// from the kernel or an [`startup::EXIT_LABEL`] message; `None` for
    /// anything else.
    pub fn from_message(message: &Message) -> Option<ExitStatus> {
        let info: MessageInfo = message.info();
        if info.is_fault() {
            return Some(ExitStatus::Faulted {
                vector: message.word(abi::ipc::fault::WORD_VECTOR),
                kind: message.word(abi::ipc::fault::WORD_KIND),
                rip: message.word(abi::ipc::fault::WORD_RIP),
                addr: message.word(abi::ipc::fault::WORD_ADDR),
            });
        }
        (message.label() == startup::EXIT_LABEL).then(|| ExitStatus::Exited(message.word(0)))
    }

    /// Whether this is a clean exit (status 0).
    pub fn is_success(&self) -> bool {
        matches!(self, ExitStatus::Exited(0))
    }
}

/// A running child program.
#[derive(Debug)]
pub struct Child {
    pub(super) budget: Budget,
    pub(super) endpoint: Option<Endpoint>,
    pub(super) status: Option<ExitStatus>,
}

impl Child {
    /// Waits until the child exits or faults, then destroys it.
    ///
    /// # Errors
    /// The kernel's; [`SysError::InvalidArg`] for a child started with
    /// [`Spawn::report_to`].
    pub fn wait(&mut self) -> Result<ExitStatus, SysError> {
        self.wait_until(0)
    }

    /// As [`Child::wait`], giving up with [`SysError::TimedOut`] at
    /// `deadline` (the child keeps running then).
    ///
    /// # Errors
    /// The kernel's.
    pub fn wait_until(&mut self, deadline: u64) -> Result<ExitStatus, SysError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let Some(endpoint) = &self.endpoint else {
            return Err(SysError::InvalidArg);
        };
        let mut message = Message::new(0);
        let status = loop {
            endpoint.recv_until(&mut message, deadline)?;
            if let Some(status) = ExitStatus::from_message(&message) {
                break status;
            }
            // Anything else on the parent endpoint is ignored.
        };
        self.status = Some(status);
        self.destroy();
        Ok(status)
    }

    /// Ends the child now, wherever it is, and frees everything it had.
    pub fn kill(mut self) {
        self.destroy();
    }

    /// Frames its budget is charged now.
    ///
    /// # Errors
    /// The kernel's.
    pub fn frames_used(&self) -> Result<u64, SysError> {
        self.budget.status().map(|s| s.used)
    }

    fn destroy(&mut self) {
        let _ = self.budget.revoke();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.destroy();
    }
}
