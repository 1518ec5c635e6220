//! Threads (numbers 32..48): the arguments of the `Thread*` syscalls, the
//! register file [`Syscall::ThreadReadRegs`] and [`Syscall::ThreadWriteRegs`]
//! copy, how a thread ended ([`ThreadStatus`]) and the limits they name.

use super::*;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

/// Thread priorities are `0..PRIORITY_LEVELS`; higher runs first.
pub const PRIORITY_LEVELS: u64 = 64;

args!(
    /// Arguments of [`Syscall::ThreadExit`].
    ThreadExitArgs for ThreadExit {
        /// Reported to a [`Syscall::ThreadWait`]er.
        code: u64,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadYield`].
    ThreadYieldArgs for ThreadYield {}
);
args!(
    /// Arguments of [`Syscall::ThreadCreate`].
    ThreadCreateArgs for ThreadCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// An [`ObjectType::CSpace`] capability with [`Rights::WRITE`]: the
        /// slots the new thread's syscalls name.
        cspace: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadWait`].
    ThreadWaitArgs for ThreadWait {
        /// An [`ObjectType::Thread`] capability with [`Rights::READ`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadStart`].
    ThreadStartArgs for ThreadStart {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// Where it starts; a user address.
        entry: u64 as Address,
        /// Its initial stack pointer; a user address.
        stack: u64 as Address,
        /// Placed in its `rdi`.
        arg: u64,
        /// Its FS base (thread-local storage), or 0 for none; below
        /// `0x0000_8000_0000_0000`.
        tls: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadConfigure`].
    ThreadConfigureArgs for ThreadConfigure {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// Page-aligned user address of its [`crate::ipc::IpcBuffer`], or 0.
        ipc_buffer: u64 as Address,
        /// Slot (in its capability space) of its fault endpoint, or 0.
        fault_endpoint: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadSetPriority`].
    ThreadSetPriorityArgs for ThreadSetPriority {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// New priority, below [`PRIORITY_LEVELS`].
        priority: u64,
        /// New maximum controlled priority, below [`PRIORITY_LEVELS`].
        max_priority: u64,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadReadRegs`].
    ThreadReadRegsArgs for ThreadReadRegs {
        /// An [`ObjectType::Thread`] capability with [`Rights::READ`].
        thread: CapSlot,
        /// User address of a writable [`ThreadRegs`].
        out: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadWriteRegs`].
    ThreadWriteRegsArgs for ThreadWriteRegs {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// User address of a readable [`ThreadRegs`].
        regs: u64 as Address,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadSuspend`].
    ThreadSuspendArgs for ThreadSuspend {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadResume`].
    ThreadResumeArgs for ThreadResume {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadBind`].
    ThreadBindArgs for ThreadBind {
        /// An [`ObjectType::Thread`] capability with [`Rights::WRITE`].
        thread: CapSlot,
        /// An [`ObjectType::Notification`] with [`Rights::READ`], or
        /// [`CapSlot::NULL`] to unbind.
        notification: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::ThreadExec`].
    ThreadExecArgs for ThreadExec {
        /// The [`ObjectType::AddressSpace`] to run in, with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Where the thread starts; a user address.
        entry: u64 as Address,
        /// Its initial stack pointer; a user address.
        stack: u64 as Address,
        /// Placed in its `rdi`.
        arg: u64,
        /// Its FS base (thread-local storage), or 0 for none; below
        /// `0x0000_8000_0000_0000`.
        tls: u64 as Address,
    }
);

/// A thread's user registers, for [`Syscall::ThreadReadRegs`] and
/// [`Syscall::ThreadWriteRegs`].
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[allow(missing_docs)]
pub struct ThreadRegs {
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    /// FS base (TLS).
    pub fs_base: u64,
    /// GS base.
    pub gs_base: u64,
}

/// The `rflags` bits [`Syscall::ThreadWriteRegs`] takes from the caller:
/// CF, PF, AF, ZF, SF, DF and OF (never TF, IF or IOPL).
pub const USER_RFLAGS_MASK: u64 = 0x0cd5;

/// How a thread ended, in [`ThreadStatus::kind`].
pub mod exit_kind {
    /// It called [`super::Syscall::ThreadExit`]; `code` is its exit code.
    pub const EXITED: u64 = 1;
    /// The kernel killed it for a fault it could not resolve; `code` is the
    /// CPU exception vector.
    pub const FAULTED: u64 = 2;
}

results!(
    /// Results of [`Syscall::ThreadWait`].
    ThreadStatus {
        /// One of [`exit_kind`].
        kind: u64,
        /// The exit code, or the exception vector for a fault.
        code: u64,
        /// The exception's error code (faults only).
        error_code: u64,
        /// The instruction pointer at the fault (faults only).
        rip: u64,
        /// The faulting address (`cr2`) for a page fault (faults only).
        addr: u64,
    }
);
