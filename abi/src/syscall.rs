//! Syscall numbers and the register encoding of every syscall's arguments
//! and results, side by side, so the kernel's decoder and the runtime's
//! encoder are the same code.
//!
//! # Calling convention
//! `syscall` with the number in `rax` and up to six arguments in
//! `rdi, rsi, rdx, r10, r8, r9` ([`ArgRegs`]). On return `rax` holds the
//! status (0, or a [`SysError`] code) and up to five results are in
//! `rdi, rsi, rdx, r10, r8` ([`RetRegs`]). `rcx` and `r11` are clobbered (the
//! `syscall` instruction uses them); every other register, and the FPU/SSE
//! state, is preserved. Argument registers a syscall does not use are ignored.
//!
//! Every syscall that names an object does so through a capability slot
//! ([`CapSlot`]) in the caller's capability space: there is no ambient
//! authority. Every syscall that takes a capability can fail with
//! [`SysError::InvalidCap`] (slot 0, out of range, empty, or a register
//! value above 32 bits); those that need a particular object type or right
//! also with [`SysError::WrongType`] and [`SysError::MissingRights`]. Each
//! variant below lists the rest, in the order the kernel checks them.

use crate::{CapSlot, ObjectType, Rights, SysError};

/// The argument registers `rdi, rsi, rdx, r10, r8, r9`, in that order.
pub type ArgRegs = [u64; 6];
/// The result registers `rdi, rsi, rdx, r10, r8`, in that order.
pub type RetRegs = [u64; 5];

/// Every syscall, with its number.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syscall {
    /// Does nothing and returns success: the cost of entering and leaving
    /// the kernel. No arguments, no capability, no errors.
    Null = 0,
    /// Writes bytes to the kernel's debug console (COM1).
    ///
    /// Arguments: [`DebugWriteArgs`]. Rights: [`Rights::WRITE`] on a
    /// [`ObjectType::Debug`] capability. Errors: [`SysError::InvalidArg`] if
    /// the buffer is longer than [`DEBUG_WRITE_MAX_BYTES`];
    /// [`SysError::BadAddress`] if it is not readable user memory.
    DebugWrite = 1,
    /// Ends the QEMU run with an exit code (through the `isa-debug-exit`
    /// device); returns only if no such device exists.
    ///
    /// Arguments: [`DebugExitArgs`]. Rights: [`Rights::CONTROL`] on a
    /// [`ObjectType::Debug`] capability. Errors: [`SysError::InvalidArg`] if
    /// the code is 64 or more; [`SysError::PeerClosed`] if the device is absent.
    DebugExit = 2,
    /// Reports the kernel's free and total physical frames.
    ///
    /// Arguments: [`DebugFrameCountArgs`]; results: [`FrameCount`]. Rights:
    /// [`Rights::READ`] on a [`ObjectType::Debug`] capability.
    DebugFrameCount = 3,
    /// Ends the calling thread with an exit code. Never returns.
    /// Arguments: [`ThreadExitArgs`]. Needs no capability: a thread may
    /// always end itself.
    ThreadExit = 4,
    /// Gives up the rest of the time slice. No arguments, no errors.
    ThreadYield = 5,
    /// Creates and starts a thread in an address space, sharing the
    /// caller's capability space, and puts a capability to it (all rights)
    /// in a free slot.
    ///
    /// Arguments: [`ThreadCreateArgs`]; results: [`SlotResult`]. Rights:
    /// [`Rights::WRITE`] on an [`ObjectType::AddressSpace`] capability.
    /// Errors: [`SysError::InvalidArg`] if the entry point or stack pointer
    /// is not a user address; [`SysError::OutOfMemory`] if no frame or no
    /// free slot is left.
    ThreadCreate = 6,
    /// Waits until a thread has ended and reports how.
    ///
    /// Arguments: [`ThreadWaitArgs`]; results: [`ThreadStatus`]. Rights:
    /// [`Rights::READ`] on an [`ObjectType::Thread`] capability. Errors:
    /// [`SysError::InvalidArg`] if the thread waits for itself;
    /// [`SysError::WouldBlock`] if another thread already waits for it.
    ThreadWait = 7,
    /// Copies a capability (of any type) into a free slot with the same or
    /// fewer rights.
    ///
    /// Arguments: [`CapCopyArgs`]; results: [`SlotResult`]. Errors:
    /// [`SysError::InvalidArg`] if `rights` has unknown bits;
    /// [`SysError::MissingRights`] if `rights` is not a subset of the
    /// source's rights; [`SysError::OutOfMemory`] if no slot is free.
    CapCopy = 8,
    /// Empties a slot (of any type). Deleting the last capability to a
    /// thread that has ended frees it; a running thread is freed when it
    /// ends. (Address spaces and the debug object are not destroyed yet.)
    /// Arguments: [`CapDeleteArgs`].
    CapDelete = 9,
    /// Writes a [`CapInfo`] describing a slot's capability to user memory.
    ///
    /// Arguments: [`CapInfoArgs`]. Errors: [`SysError::BadAddress`] if the
    /// destination is not writable user memory.
    CapInfo = 10,
    /// Reads the monotonic clock. Results: [`ClockTime`]. Needs no
    /// capability: time since boot is not authority. No errors.
    ClockRead = 11,
}

impl Syscall {
    /// Every syscall, in number order.
    pub const ALL: [Syscall; 12] = [
        Syscall::Null,
        Syscall::DebugWrite,
        Syscall::DebugExit,
        Syscall::DebugFrameCount,
        Syscall::ThreadExit,
        Syscall::ThreadYield,
        Syscall::ThreadCreate,
        Syscall::ThreadWait,
        Syscall::CapCopy,
        Syscall::CapDelete,
        Syscall::CapInfo,
        Syscall::ClockRead,
    ];

    /// The number placed in `rax`.
    pub const fn number(self) -> u64 {
        self as u64
    }

    /// Decodes `rax`; `None` for an unknown number.
    pub fn from_number(number: u64) -> Option<Syscall> {
        Syscall::ALL.get(usize::try_from(number).ok()?).copied()
    }
}

/// Arguments of one syscall: which syscall they belong to and how they sit
/// in registers.
pub trait SyscallArgs: Sized {
    /// The syscall these arguments are for.
    const SYSCALL: Syscall;
    /// Puts the arguments in registers.
    fn encode(&self) -> ArgRegs;
    /// Reads and checks the arguments from registers.
    ///
    /// # Errors
    /// The [`SysError`] the syscall returns for malformed register values.
    fn decode(regs: &ArgRegs) -> Result<Self, SysError>;
}

/// Results of one syscall and how they sit in registers.
pub trait SyscallResult: Sized {
    /// Puts the results in registers.
    fn encode(&self) -> RetRegs;
    /// Reads the results from registers.
    fn decode(regs: &RetRegs) -> Self;
}

/// Defines an argument struct whose fields each take one register, in order.
macro_rules! args {
    ($(#[$meta:meta])* $name:ident for $call:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        impl SyscallArgs for $name {
            const SYSCALL: Syscall = Syscall::$call;
            #[allow(unused_mut, unused_variables, unused_assignments)]
            fn encode(&self) -> ArgRegs {
                let mut regs = [0u64; 6];
                let mut i = 0;
                $( regs[i] = Reg::to_reg(self.$field); i += 1; )*
                regs
            }
            #[allow(unused_mut, unused_variables, unused_assignments)]
            fn decode(regs: &ArgRegs) -> Result<Self, SysError> {
                let mut i = 0;
                $( let $field = <$ty as Reg>::from_reg(regs[i])?; i += 1; )*
                Ok($name { $($field),* })
            }
        }
    };
}

/// Defines a result struct whose fields each take one register, in order.
macro_rules! results {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : u64),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
        pub struct $name { $($(#[$fmeta])* pub $field: u64),* }

        impl SyscallResult for $name {
            #[allow(unused_mut, unused_variables, unused_assignments)]
            fn encode(&self) -> RetRegs {
                let mut regs = [0u64; 5];
                let mut i = 0;
                $( regs[i] = self.$field; i += 1; )*
                regs
            }
            #[allow(unused_mut, unused_variables, unused_assignments)]
            fn decode(regs: &RetRegs) -> Self {
                let mut i = 0;
                $( let $field = regs[i]; i += 1; )*
                $name { $($field),* }
            }
        }
    };
}

/// A value that travels in one register.
pub trait Reg: Sized {
    /// Encodes into a register.
    fn to_reg(self) -> u64;
    /// Decodes from a register, rejecting values out of range.
    ///
    /// # Errors
    /// The error the kernel reports for such a value.
    fn from_reg(reg: u64) -> Result<Self, SysError>;
}

impl Reg for u64 {
    fn to_reg(self) -> u64 {
        self
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        Ok(reg)
    }
}

impl Reg for CapSlot {
    fn to_reg(self) -> u64 {
        CapSlot::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        CapSlot::from_reg(reg)
    }
}

impl Reg for Rights {
    fn to_reg(self) -> u64 {
        Rights::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        Rights::from_reg(reg)
    }
}

/// Largest buffer one [`Syscall::DebugWrite`] accepts.
pub const DEBUG_WRITE_MAX_BYTES: u64 = 4096;
/// Exit codes [`Syscall::DebugExit`] accepts are below this.
pub const DEBUG_EXIT_CODE_LIMIT: u64 = 64;

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
        addr: u64,
        /// Number of bytes, at most [`DEBUG_WRITE_MAX_BYTES`].
        len: u64,
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
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Where the thread starts; a user address.
        entry: u64,
        /// Its initial stack pointer; a user address.
        stack: u64,
        /// Placed in the new thread's `rdi`.
        arg: u64,
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
    /// Arguments of [`Syscall::CapCopy`].
    CapCopyArgs for CapCopy {
        /// The capability to copy.
        src: CapSlot,
        /// Rights of the copy; a subset of the source's.
        rights: Rights,
    }
);
args!(
    /// Arguments of [`Syscall::CapDelete`].
    CapDeleteArgs for CapDelete {
        /// The slot to empty.
        slot: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::CapInfo`].
    CapInfoArgs for CapInfo {
        /// The slot to describe.
        slot: CapSlot,
        /// User address of a writable [`CapInfo`].
        out: u64,
    }
);
args!(
    /// Arguments of [`Syscall::ClockRead`].
    ClockReadArgs for ClockRead {}
);

results!(
    /// Results of syscalls that return nothing.
    NoResult {}
);
results!(
    /// Results of [`Syscall::DebugFrameCount`].
    FrameCount {
        /// Frames free right now.
        free: u64,
        /// Frames the allocator manages.
        total: u64,
    }
);
results!(
    /// Results of syscalls that fill a capability slot.
    SlotResult {
        /// The slot that now holds the new capability.
        slot: u64,
    }
);
results!(
    /// Results of [`Syscall::ClockRead`].
    ClockTime {
        /// Nanoseconds since boot.
        nanos: u64,
    }
);

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

/// What [`Syscall::CapInfo`] writes to user memory.
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
pub struct CapInfo {
    /// The object type's code ([`ObjectType::to_reg`]).
    pub object_type: u32,
    /// The capability's rights ([`Rights::bits`]).
    pub rights: u32,
    /// The badge (0 when unbadged).
    pub badge: u64,
}

impl CapInfo {
    /// The object type, if the code is known.
    pub fn object_type(&self) -> Option<ObjectType> {
        ObjectType::from_reg(u64::from(self.object_type)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<A: SyscallArgs + PartialEq + core::fmt::Debug>(args: A) {
        assert_eq!(A::decode(&args.encode()), Ok(args));
    }

    fn round_trip_result<R: SyscallResult + PartialEq + core::fmt::Debug>(r: R) {
        assert_eq!(R::decode(&r.encode()), r);
    }

    #[test]
    fn numbers_round_trip_and_unknown_is_none() {
        for (i, s) in Syscall::ALL.iter().enumerate() {
            assert_eq!(s.number(), i as u64);
            assert_eq!(Syscall::from_number(s.number()), Some(*s));
        }
        assert_eq!(Syscall::from_number(Syscall::ALL.len() as u64), None);
        assert_eq!(Syscall::from_number(u64::MAX), None);
    }

    #[test]
    fn every_args_struct_round_trips() {
        let slot = CapSlot(7);
        round_trip(NullArgs {});
        round_trip(DebugWriteArgs {
            console: slot,
            addr: 0x40_0000,
            len: 12,
        });
        round_trip(DebugExitArgs {
            console: slot,
            code: 3,
        });
        round_trip(DebugFrameCountArgs { console: slot });
        round_trip(ThreadExitArgs { code: u64::MAX });
        round_trip(ThreadYieldArgs {});
        round_trip(ThreadCreateArgs {
            aspace: slot,
            entry: 1,
            stack: 2,
            arg: 3,
        });
        round_trip(ThreadWaitArgs { thread: slot });
        round_trip(CapCopyArgs {
            src: slot,
            rights: Rights::READ | Rights::GRANT,
        });
        round_trip(CapDeleteArgs { slot });
        round_trip(CapInfoArgs { slot, out: 0x1000 });
        round_trip(ClockReadArgs {});
    }

    #[test]
    fn args_know_their_syscall() {
        assert_eq!(DebugWriteArgs::SYSCALL, Syscall::DebugWrite);
        assert_eq!(ThreadCreateArgs::SYSCALL, Syscall::ThreadCreate);
        assert_eq!(ClockReadArgs::SYSCALL, Syscall::ClockRead);
    }

    #[test]
    fn registers_are_in_documented_order() {
        let regs = ThreadCreateArgs {
            aspace: CapSlot(1),
            entry: 2,
            stack: 3,
            arg: 4,
        }
        .encode();
        assert_eq!(regs, [1, 2, 3, 4, 0, 0]);
        let regs = ThreadStatus {
            kind: 1,
            code: 2,
            error_code: 3,
            rip: 4,
            addr: 5,
        }
        .encode();
        assert_eq!(regs, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn malformed_registers_are_typed_errors() {
        assert_eq!(
            CapDeleteArgs::decode(&[1 << 32, 0, 0, 0, 0, 0]),
            Err(SysError::InvalidCap)
        );
        assert_eq!(
            CapCopyArgs::decode(&[1, 1 << 20, 0, 0, 0, 0]),
            Err(SysError::InvalidArg)
        );
    }

    #[test]
    fn every_result_struct_round_trips() {
        round_trip_result(NoResult {});
        round_trip_result(FrameCount { free: 1, total: 2 });
        round_trip_result(SlotResult { slot: 9 });
        round_trip_result(ClockTime { nanos: 1 << 40 });
        round_trip_result(ThreadStatus {
            kind: 2,
            code: 14,
            error_code: 4,
            rip: 5,
            addr: 6,
        });
    }

    #[test]
    fn cap_info_layout() {
        assert_eq!(core::mem::size_of::<CapInfo>(), 16);
        assert_eq!(core::mem::offset_of!(CapInfo, badge), 8);
        let info = CapInfo {
            object_type: 3,
            rights: 1,
            badge: 0,
        };
        assert_eq!(info.object_type(), Some(ObjectType::Thread));
    }
}
