//! How arguments and results sit in registers: the kinds of argument
//! registers, the traits every syscall's argument and result structs
//! implement, the macros that define them, and the register conversions.

use super::*;
use crate::ipc::MessageInfo;
use crate::{CapSlot, MapFlags, Rights, SysError};

/// What an argument register holds. One list per syscall
/// ([`Syscall::arg_kinds`]), made by the same definitions that decode the
/// registers, so the syscall fuzzer's idea of an argument is the kernel's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// A capability slot ([`CapSlot`]).
    Slot,
    /// [`Rights`] bits.
    Rights,
    /// [`MapFlags`] bits.
    MapFlags,
    /// A [`MessageInfo`] word.
    Info,
    /// A user virtual address.
    Address,
    /// A physical address.
    PhysAddress,
    /// A length in bytes.
    Length,
    /// A number of pages, slots or frames.
    Count,
    /// A small mode number ([`LendMode`]).
    Mode,
    /// An absolute deadline in nanoseconds on the [`Syscall::ClockRead`]
    /// clock; 0 for none.
    Deadline,
    /// Any value: codes, badges, bits, priorities, message words.
    Value,
}

/// Arguments of one syscall: which syscall they belong to and how they sit
/// in registers.
pub trait SyscallArgs: Sized {
    /// The syscall these arguments are for.
    const SYSCALL: Syscall;
    /// What each register holds, in order.
    const KINDS: &'static [ArgKind];
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

/// The [`ArgKind`] of a field: its type's, or the one written after `as`.
macro_rules! arg_kind {
    ($ty:ty) => {
        <$ty as Reg>::KIND
    };
    ($ty:ty, $kind:ident) => {
        ArgKind::$kind
    };
}

/// Defines an argument struct whose fields each take one register, in
/// order. A `u64` field names its [`ArgKind`] with `as Kind`.
macro_rules! args {
    ($(#[$meta:meta])* $name:ident for $call:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty $(as $kind:ident)?),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        impl SyscallArgs for $name {
            const SYSCALL: Syscall = Syscall::$call;
            const KINDS: &'static [ArgKind] = &[$(arg_kind!($ty $(, $kind)?)),*];
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
                let mut regs = [0u64; 6];
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
    /// What kind of argument it is.
    const KIND: ArgKind;
    /// Encodes into a register.
    fn to_reg(self) -> u64;
    /// Decodes from a register, rejecting values out of range.
    ///
    /// # Errors
    /// The error the kernel reports for such a value.
    fn from_reg(reg: u64) -> Result<Self, SysError>;
}

impl Reg for u64 {
    const KIND: ArgKind = ArgKind::Value;
    fn to_reg(self) -> u64 {
        self
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        Ok(reg)
    }
}

/// A 32-bit value (a futex word): [`SysError::InvalidArg`] for a register
/// above `u32::MAX`.
impl Reg for u32 {
    const KIND: ArgKind = ArgKind::Value;
    fn to_reg(self) -> u64 {
        u64::from(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        u32::try_from(reg).map_err(|_| SysError::InvalidArg)
    }
}

impl Reg for CapSlot {
    const KIND: ArgKind = ArgKind::Slot;
    fn to_reg(self) -> u64 {
        CapSlot::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        CapSlot::from_reg(reg)
    }
}

impl Reg for MapFlags {
    const KIND: ArgKind = ArgKind::MapFlags;
    fn to_reg(self) -> u64 {
        MapFlags::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        MapFlags::from_reg(reg)
    }
}

impl Reg for MessageInfo {
    const KIND: ArgKind = ArgKind::Info;
    fn to_reg(self) -> u64 {
        MessageInfo::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        MessageInfo::from_reg(reg)
    }
}

impl Reg for Rights {
    const KIND: ArgKind = ArgKind::Rights;
    fn to_reg(self) -> u64 {
        Rights::to_reg(self)
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        Rights::from_reg(reg)
    }
}
