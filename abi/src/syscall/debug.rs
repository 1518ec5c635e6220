//! The null syscall and the debug object's (numbers 0..16): the arguments
//! of [`Syscall::Null`] and the `Debug*` syscalls, their results (frame and
//! fault counts, kernel counters, kernel log reads) and the limits they name.

use super::*;
use crate::{CapSlot, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

/// Largest buffer one [`Syscall::DebugWrite`] accepts.
pub const DEBUG_WRITE_MAX_BYTES: u64 = 4096;
/// Exit codes [`Syscall::DebugExit`] accepts are below this.
pub const DEBUG_EXIT_CODE_LIMIT: u64 = 64;
/// Largest buffer one [`Syscall::DebugLogRead`] fills.
pub const DEBUG_LOG_READ_MAX_BYTES: u64 = 4096;
/// How much of its log the kernel keeps for [`Syscall::DebugLogRead`]
/// (the newest bytes; older ones are overwritten).
pub const KERNEL_LOG_BYTES: u64 = 16384;

args!(
    /// Arguments of [`Syscall::Null`].
    NullArgs for Null {}
);
args!(
    /// Arguments of [`Syscall::DebugWrite`].
    DebugWriteArgs for DebugWrite {
        /// A [`ObjectType::Debug`] capability with [`Rights::WRITE`].
        console: CapSlot,
        /// User address of the bytes.
        addr: u64 as Address,
        /// Number of bytes, at most [`DEBUG_WRITE_MAX_BYTES`].
        len: u64 as Length,
    }
);
args!(
    /// Arguments of [`Syscall::DebugExit`].
    DebugExitArgs for DebugExit {
        /// A [`ObjectType::Debug`] capability with [`Rights::CONTROL`].
        console: CapSlot,
        /// Exit code, below [`DEBUG_EXIT_CODE_LIMIT`]; QEMU exits with `code * 2 + 1`.
        code: u64,
    }
);
args!(
    /// Arguments of [`Syscall::DebugFrameCount`].
    DebugFrameCountArgs for DebugFrameCount {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::DebugLogRead`].
    DebugLogReadArgs for DebugLogRead {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
        /// Position in the log's history of the first byte wanted (0: the
        /// first byte the kernel ever logged).
        cursor: u64,
        /// User address of the buffer.
        addr: u64 as Address,
        /// Its length, at most [`DEBUG_LOG_READ_MAX_BYTES`].
        len: u64 as Length,
    }
);
args!(
    /// Arguments of [`Syscall::DebugCounters`].
    DebugCountersArgs for DebugCounters {
        /// A [`ObjectType::Debug`] capability with [`Rights::READ`].
        console: CapSlot,
    }
);
results!(
    /// Results of [`Syscall::DebugCounters`].
    KernelCounters {
        /// `Call`s and `ReplyRecv`s the IPC fast path has handled.
        fastpath_ipc: u64,
        /// 1 if the fast path is on (kernel command line `fastpath=off`
        /// turns it off), else 0.
        fastpath_enabled: u64,
        /// Spurious interrupts (the local APIC's spurious vector, the
        /// 8259's IRQ 7 and 15), counted and dropped.
        spurious_interrupts: u64,
        /// Interrupts on vectors nothing was bound to, counted and dropped.
        unexpected_interrupts: u64,
        /// Interrupt deliveries to user space (an [`ObjectType::Irq`]
        /// signalling its notification).
        irq_deliveries: u64,
        /// TSC value when the last device interrupt entered the kernel
        /// (for the `irq_to_user` benchmark).
        last_irq_tsc: u64,
    }
);
results!(
    /// Results of [`Syscall::DebugFrameCount`].
    FrameCount {
        /// Frames free right now.
        free: u64,
        /// Frames the allocator manages.
        total: u64,
        /// Page faults of the caller's address space the kernel has
        /// resolved (each mapped what the touch needed; faults it could
        /// not resolve are not counted).
        resolved_faults: u64,
    }
);
results!(
    /// Results of [`Syscall::DebugLogRead`].
    LogRead {
        /// Position of the first byte copied (past `cursor` when the
        /// bytes in between were overwritten).
        start: u64,
        /// Bytes copied into the buffer.
        copied: u64,
        /// Position just past the newest byte logged: the log's length.
        end: u64,
    }
);
