//! Budgets, memory objects and address spaces (numbers 80..96): the
//! arguments of the `Budget*`, `Memory*` and `Aspace*` syscalls, their
//! results, how [`Syscall::MemoryLend`] takes pages ([`LendMode`]) and the
//! limits they name.

use super::*;
use crate::{CapSlot, MapFlags, SysError};
// The documentation's links name these.
#[cfg(doc)]
use crate::{ObjectType, Rights};

/// Most pages one memory object has ([`Syscall::MemoryCreate`],
/// [`Syscall::MemoryResize`]): 2^26 pages, 256 GiB of address space
/// (pages are allocated only when touched).
pub const MEMORY_MAX_PAGES: u64 = 1 << 26;

args!(
    /// Arguments of [`Syscall::BudgetSplit`].
    BudgetSplitArgs for BudgetSplit {
        /// The parent [`ObjectType::Budget`], with [`Rights::WRITE`].
        budget: CapSlot,
        /// Frames the child may spend (not 0).
        frames: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::BudgetInfo`].
    BudgetInfoArgs for BudgetInfo {
        /// An [`ObjectType::Budget`] with [`Rights::READ`].
        budget: CapSlot,
    }
);
results!(
    /// Results of [`Syscall::BudgetInfo`].
    BudgetStatus {
        /// Frames the budget may spend.
        limit: u64,
        /// Frames charged to it now (objects, page tables, pages, child
        /// budgets).
        used: u64,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryCreate`].
    MemoryCreateArgs for MemoryCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
        /// Number of pages, `1..=MEMORY_MAX_PAGES`.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryResize`].
    MemoryResizeArgs for MemoryResize {
        /// An anonymous [`ObjectType::MemoryObject`] with [`Rights::WRITE`].
        memory: CapSlot,
        /// New number of pages, `1..=MEMORY_MAX_PAGES`.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::MemoryCreateDevice`].
    MemoryCreateDeviceArgs for MemoryCreateDevice {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`].
        budget: CapSlot,
        /// The [`ObjectType::DeviceMemory`] capability, with [`Rights::WRITE`].
        device: CapSlot,
        /// Page-aligned physical address of the first register page.
        phys: u64 as PhysAddress,
        /// Number of pages (not 0).
        pages: u64 as Count,
    }
);

/// How [`Syscall::MemoryLend`] takes whole pages.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LendMode {
    /// Share them copy-on-write: the sender keeps its data.
    Lend = 0,
    /// Take them: the sender's objects get fresh zero pages there.
    Move = 1,
}

impl Reg for LendMode {
    const KIND: ArgKind = ArgKind::Mode;
    fn to_reg(self) -> u64 {
        self as u64
    }
    fn from_reg(reg: u64) -> Result<Self, SysError> {
        match reg {
            0 => Ok(LendMode::Lend),
            1 => Ok(LendMode::Move),
            _ => Err(SysError::InvalidArg),
        }
    }
}

args!(
    /// Arguments of [`Syscall::MemoryLend`].
    MemoryLendArgs for MemoryLend {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`]: pays for the
        /// new object and the copied head and tail pages.
        budget: CapSlot,
        /// The [`ObjectType::AddressSpace`] holding the bytes.
        aspace: CapSlot,
        /// First byte.
        addr: u64 as Address,
        /// Number of bytes (not 0).
        len: u64 as Length,
        /// Share or take the whole pages.
        mode: LendMode,
    }
);
results!(
    /// Results of [`Syscall::MemoryLend`].
    LendResult {
        /// The slot of the new memory object's capability.
        slot: u64,
        /// Where the first byte is in the object (`addr % 4096`).
        offset: u64,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceCreate`].
    AspaceCreateArgs for AspaceCreate {
        /// An [`ObjectType::Budget`] capability with [`Rights::WRITE`].
        budget: CapSlot,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceMap`].
    AspaceMapArgs for AspaceMap {
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// An [`ObjectType::MemoryObject`] capability.
        memory: CapSlot,
        /// First page of the object to map.
        offset: u64 as Count,
        /// Page-aligned user address.
        vaddr: u64 as Address,
        /// Number of pages (not 0).
        pages: u64 as Count,
        /// Access.
        flags: MapFlags,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceUnmap`].
    AspaceUnmapArgs for AspaceUnmap {
        /// An [`ObjectType::AddressSpace`] capability with [`Rights::WRITE`].
        aspace: CapSlot,
        /// First address of the region.
        vaddr: u64 as Address,
        /// Its length in pages.
        pages: u64 as Count,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceProtect`].
    AspaceProtectArgs for AspaceProtect {
        /// An [`ObjectType::AddressSpace`] with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Page-aligned first address.
        vaddr: u64 as Address,
        /// Number of pages (not 0).
        pages: u64 as Count,
        /// The new access ([`MapFlags::SHARE`] not allowed).
        flags: MapFlags,
    }
);
args!(
    /// Arguments of [`Syscall::AspaceClone`].
    AspaceCloneArgs for AspaceClone {
        /// An [`ObjectType::Budget`] with [`Rights::WRITE`]: pays for the
        /// new space, its page tables and the copies' pages.
        budget: CapSlot,
        /// The [`ObjectType::AddressSpace`] to copy, with [`Rights::READ`]
        /// and [`Rights::WRITE`].
        aspace: CapSlot,
    }
);

/// Most pages one [`Syscall::AspacePopulate`] makes present (4 MiB): the
/// call is not preemptible, so its work is bounded.
pub const POPULATE_MAX_PAGES: u64 = 1024;

args!(
    /// Arguments of [`Syscall::AspacePopulate`].
    AspacePopulateArgs for AspacePopulate {
        /// An [`ObjectType::AddressSpace`] with [`Rights::WRITE`].
        aspace: CapSlot,
        /// Page-aligned first address.
        vaddr: u64 as Address,
        /// Number of pages, `1..=POPULATE_MAX_PAGES`.
        pages: u64 as Count,
    }
);
