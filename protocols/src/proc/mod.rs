//! `Proc`: the process server's protocol (`servers/proc`,
//! `docs/processes.md`), and what its clients and the server share: the
//! badges, how an end is encoded, and the listing format.
//!
//! A capability to the process server names a process, and its badge says
//! how ([`Badge`]):
//!
//! - a **session root**: init hands a program a client capability of the
//!   `proc` service (`abi::startup::CLIENT_BADGE` and the program's
//!   index); the server makes the program a process (a root, whose parent
//!   is init) the first time it calls;
//! - **self**: the capability a process started through the server holds
//!   for itself. It is also its parent endpoint: its exit message and its
//!   threads' fault messages come to the server through it, so the server
//!   learns every end;
//! - **child**: the capability the parent holds for a child: whoever holds
//!   it may end the process (`kill`).
//!
//! Operations:
//!
//! - on a root or self capability: `create`, `wait`, `ids`, `list`,
//!   `rename`;
//! - on a child capability: `kill`, `ids`.

mod entries;

pub use entries::{ENTRY_NAME_MAX, Entries, EntriesWriter, ProcEntry, ProcState};
pub use procore::{Pid, ProcError};

use crate::status::ErrorCode;

crate::protocol! {
    /// Processes: create, wait, kill, list.
    pub protocol Proc = 0x5052 {
        client ProcClient;
        server ProcServer;

        /// Registers a new child of the caller named `name` (at most
        /// [`NAME_MAX_BYTES`]), to run on `budget` (a budget the caller
        /// split from its own). Returns its pid; the caller's capability
        /// to it (child badge: kill); the child's own capability (self
        /// badge), to become its parent endpoint; and a capability to the
        /// budget derived from the server's, which the caller builds the
        /// child with and then deletes, so that ending the child takes
        /// everything built for it.
        fn create(budget: Cap, name: &str) -> (u32, Cap, Cap, Cap) = 1;

        /// Waits until the caller's child `pid` (0: any child) has ended,
        /// reaps it and returns its pid and how it ended ([`End`]); with
        /// `nohang`, answers pid 0 at once if none has ended yet.
        fn wait(pid: u32, nohang: bool) -> (u32, u8, u64, u64, u64, u64) = 2;

        /// Ends the process this (child) capability names, wherever it
        /// is; its parent learns [`End::Killed`].
        fn kill() = 3;

        /// The pid of the process this capability names, and its parent's
        /// (1: init).
        #[idempotent]
        fn ids() -> (u32, u32) = 4;

        /// Processes from pid `cursor` on ([`Entries`]), and the pid to go
        /// on from (0 after the last).
        #[idempotent]
        fn list(cursor: u32) -> (&[u8], u32) = 5;

        /// Gives the caller a new name (`exec` does).
        fn rename(name: &str) = 6;
    }
}

/// The longest name a process has.
pub const NAME_MAX_BYTES: usize = 32;

/// Badge bit of a process's own capability (the low 32 bits: its pid).
pub const SELF_BADGE: u64 = 1 << 61;
/// Badge bit of a parent's capability to its child.
pub const CHILD_BADGE: u64 = 1 << 60;

/// What a capability to the process server names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    /// A program init started, by its session number.
    Root(u32),
    /// The caller itself.
    Own(Pid),
    /// A child, by the parent's (or another holder's) capability.
    Child(Pid),
    /// Anything else: the server's own capability, or nonsense.
    None,
}

impl Badge {
    /// Reads a received badge.
    pub fn of(badge: u64) -> Badge {
        let pid = Pid(badge as u32);
        if badge & abi::startup::CLIENT_BADGE != 0 {
            Badge::Root(badge as u32)
        } else if badge & SELF_BADGE != 0 {
            Badge::Own(pid)
        } else if badge & CHILD_BADGE != 0 {
            Badge::Child(pid)
        } else {
            Badge::None
        }
    }

    /// The badge of `pid`'s own capability.
    pub fn own(pid: Pid) -> u64 {
        SELF_BADGE | u64::from(pid.0)
    }

    /// The badge of a capability to the child `pid`.
    pub fn child(pid: Pid) -> u64 {
        CHILD_BADGE | u64::from(pid.0)
    }
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// It exited with this status (101: a panic).
    Exited(u64),
    /// A thread took an exception nobody handled.
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
    /// It was ended by `kill`, or by whoever held its memory.
    Killed,
}

impl End {
    /// The four words and the tag `wait` carries it as.
    pub fn to_wire(self) -> (u8, [u64; 4]) {
        match self {
            End::Exited(code) => (0, [code, 0, 0, 0]),
            End::Faulted {
                vector,
                kind,
                rip,
                addr,
            } => (1, [vector, kind, rip, addr]),
            End::Killed => (2, [0; 4]),
        }
    }

    /// Reads what `wait` carried; `None` for an unknown tag.
    pub fn from_wire(tag: u8, words: [u64; 4]) -> Option<End> {
        match tag {
            0 => Some(End::Exited(words[0])),
            1 => Some(End::Faulted {
                vector: words[0],
                kind: words[1],
                rip: words[2],
                addr: words[3],
            }),
            2 => Some(End::Killed),
            _ => None,
        }
    }

    /// The status a shell shows for it: the exit status, or 128 plus a
    /// signal-like number (9 killed, 11 a page fault or protection fault,
    /// 4 an invalid opcode, 8 a divide or floating-point error, 5 a
    /// breakpoint or debug trap, 7 anything else).
    pub fn shell_status(self) -> u64 {
        match self {
            End::Exited(code) => code & 0xff,
            End::Killed => 128 + 9,
            End::Faulted { vector, .. } => {
                128 + match vector {
                    13 | 14 => 11,
                    6 => 4,
                    0 | 16 | 19 => 8,
                    1 | 3 => 5,
                    _ => 7,
                }
            }
        }
    }
}

impl core::fmt::Display for End {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            End::Exited(code) => write!(f, "exited with status {code}"),
            End::Killed => f.write_str("killed"),
            End::Faulted {
                vector, rip, addr, ..
            } => {
                let what = match vector {
                    14 => "page fault",
                    13 => "general protection fault",
                    6 => "invalid opcode",
                    0 => "divide error",
                    3 => "breakpoint",
                    _ => "exception",
                };
                write!(f, "{what} (vector {vector}) at {rip:#x}")?;
                if *vector == 14 {
                    write!(f, ", address {addr:#x}")?;
                }
                Ok(())
            }
        }
    }
}

/// The application error code of `error`.
pub fn code(error: ProcError) -> ErrorCode {
    ErrorCode::new(error.code())
}

/// A handler's result as the protocol's: the error as its code.
pub fn wire<T>(result: Result<T, ProcError>) -> Result<T, ErrorCode> {
    result.map_err(code)
}

/// The `ProcError` a client got: the server's own code; `NoSuchProcess`
/// for a capability that is no longer served; `InvalidArgument` for a
/// server that answered nonsense.
pub fn error_of(error: crate::Error) -> ProcError {
    match error {
        crate::Error::Remote(code) => {
            ProcError::from_code(code.get()).unwrap_or(ProcError::InvalidArgument)
        }
        crate::Error::Kernel(abi::SysError::OutOfMemory) => ProcError::OutOfMemory,
        crate::Error::PeerClosed | crate::Error::Kernel(_) => ProcError::NoSuchProcess,
        _ => ProcError::InvalidArgument,
    }
}
