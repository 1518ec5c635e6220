//! Capability slots, rights and object types.

/// Index of a slot in the caller's capability space. Slot 0 is never valid,
/// so that a zeroed argument cannot name a capability by accident.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapSlot(pub u32);

impl CapSlot {
    /// The slot that never holds a capability.
    pub const NULL: CapSlot = CapSlot(0);

    /// Encodes into one register.
    pub const fn to_reg(self) -> u64 {
        self.0 as u64
    }

    /// Decodes from one register; values that do not fit in 32 bits are an
    /// invalid capability, not a truncated one.
    pub fn from_reg(reg: u64) -> Result<CapSlot, crate::SysError> {
        u32::try_from(reg)
            .map(CapSlot)
            .map_err(|_| crate::SysError::InvalidCap)
    }
}

bitflags::bitflags! {
    /// What a capability lets its holder do with the object. Rights only
    /// shrink along derivation: a copy has the same or fewer.
    #[repr(transparent)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Rights: u32 {
        /// Observe the object (query state, wait on a thread).
        const READ = 1 << 0;
        /// Change the object (write to a console, create threads in an address space).
        const WRITE = 1 << 1;
        /// Pass the capability on to another capability space.
        const GRANT = 1 << 2;
        /// Control the object's lifetime or the machine's (end the QEMU run).
        const CONTROL = 1 << 3;
    }
}

impl Rights {
    /// Encodes into one register.
    pub const fn to_reg(self) -> u64 {
        self.bits() as u64
    }

    /// Decodes from one register; unknown bits are an error, never ignored.
    pub fn from_reg(reg: u64) -> Result<Rights, crate::SysError> {
        u32::try_from(reg)
            .ok()
            .and_then(Rights::from_bits)
            .ok_or(crate::SysError::InvalidArg)
    }
}

bitflags::bitflags! {
    /// How a range of pages is mapped. Writable and executable together
    /// (W^X) needs [`Rights::CONTROL`] on the memory object.
    #[repr(transparent)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MapFlags: u32 {
        /// Readable (every mapping is).
        const READ = 1 << 0;
        /// Writable.
        const WRITE = 1 << 1;
        /// Executable.
        const EXEC = 1 << 2;
        /// [`crate::syscall::Syscall::AspaceClone`] shares the region with
        /// the clone instead of copying it (copy-on-write).
        const SHARE = 1 << 3;
    }
}

impl MapFlags {
    /// Encodes into one register.
    pub const fn to_reg(self) -> u64 {
        self.bits() as u64
    }

    /// Decodes from one register: unknown bits or no READ are an error.
    pub fn from_reg(reg: u64) -> Result<MapFlags, crate::SysError> {
        let flags = u32::try_from(reg)
            .ok()
            .and_then(MapFlags::from_bits)
            .ok_or(crate::SysError::InvalidArg)?;
        if !flags.contains(MapFlags::READ) {
            return Err(crate::SysError::InvalidArg);
        }
        Ok(flags)
    }
}

/// The kind of kernel object a capability names.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectType {
    /// The kernel's debug facilities before drivers exist: print to the debug console,
    /// end the QEMU run, count free frames. Held only by the first program.
    Debug = 1,
    /// An address space (page tables plus mapped regions).
    AddressSpace = 2,
    /// A thread of execution.
    Thread = 3,
    /// A capability space (a table of slots).
    CSpace = 4,
    /// An IPC endpoint (synchronous rendezvous; caps may carry a badge).
    Endpoint = 5,
    /// A notification: a word of signal bits (caps may carry a badge).
    Notification = 6,
    /// Pages that can be mapped into address spaces.
    MemoryObject = 7,
    /// Frames a holder may spend: kernel objects, page tables and pages.
    Budget = 8,
    /// Physical address ranges that are not RAM (device registers), from
    /// which MMIO memory objects are made. Held only by the first program.
    DeviceMemory = 9,
    /// Every x86 I/O port the kernel does not use itself, from which
    /// [`ObjectType::IoPorts`] ranges are made. Held only by the first
    /// program.
    IoSpace = 10,
    /// A range of x86 I/O ports that threads bound to it may use with
    /// `in` and `out` directly.
    IoPorts = 11,
    /// The right to make [`ObjectType::Irq`] objects for interrupt lines.
    /// Held only by the first program.
    IrqControl = 12,
    /// One interrupt line, delivered to a notification.
    Irq = 13,
    /// A saved reply ([`crate::syscall::Syscall::ReplySave`]): the right to
    /// answer one waiting caller once. Names no object of its own (it
    /// holds no budget): only the caller that waits. Cannot be copied,
    /// minted or sent; moves only within its capability space.
    Reply = 14,
}

impl ObjectType {
    /// Encodes into one register.
    pub const fn to_reg(self) -> u64 {
        self as u64
    }

    /// Whether capabilities to this type may carry a badge.
    pub const fn is_badgeable(self) -> bool {
        matches!(self, ObjectType::Endpoint | ObjectType::Notification)
    }

    /// Decodes from one register.
    pub fn from_reg(reg: u64) -> Result<ObjectType, crate::SysError> {
        match reg {
            1 => Ok(ObjectType::Debug),
            2 => Ok(ObjectType::AddressSpace),
            3 => Ok(ObjectType::Thread),
            4 => Ok(ObjectType::CSpace),
            5 => Ok(ObjectType::Endpoint),
            6 => Ok(ObjectType::Notification),
            7 => Ok(ObjectType::MemoryObject),
            8 => Ok(ObjectType::Budget),
            9 => Ok(ObjectType::DeviceMemory),
            10 => Ok(ObjectType::IoSpace),
            11 => Ok(ObjectType::IoPorts),
            12 => Ok(ObjectType::IrqControl),
            13 => Ok(ObjectType::Irq),
            14 => Ok(ObjectType::Reply),
            _ => Err(crate::SysError::InvalidArg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SysError;

    #[test]
    fn slot_round_trip() {
        for s in [0u32, 1, 17, u32::MAX] {
            assert_eq!(CapSlot::from_reg(CapSlot(s).to_reg()), Ok(CapSlot(s)));
        }
        assert_eq!(CapSlot::from_reg(1 << 32), Err(SysError::InvalidCap));
    }

    #[test]
    fn rights_round_trip_and_reject_unknown_bits() {
        for bits in 0..16u32 {
            let r = Rights::from_bits(bits).unwrap();
            assert_eq!(Rights::from_reg(r.to_reg()), Ok(r));
        }
        assert_eq!(Rights::from_reg(1 << 4), Err(SysError::InvalidArg));
        assert_eq!(Rights::from_reg(1 << 40), Err(SysError::InvalidArg));
    }

    #[test]
    fn object_type_round_trip() {
        for t in [
            ObjectType::Debug,
            ObjectType::AddressSpace,
            ObjectType::Thread,
            ObjectType::CSpace,
            ObjectType::Endpoint,
            ObjectType::Notification,
            ObjectType::MemoryObject,
            ObjectType::Budget,
            ObjectType::DeviceMemory,
            ObjectType::IoSpace,
            ObjectType::IoPorts,
            ObjectType::IrqControl,
            ObjectType::Irq,
            ObjectType::Reply,
        ] {
            assert_eq!(ObjectType::from_reg(t.to_reg()), Ok(t));
        }
        assert_eq!(ObjectType::from_reg(0), Err(SysError::InvalidArg));
        assert_eq!(ObjectType::from_reg(15), Err(SysError::InvalidArg));
        assert_eq!(ObjectType::from_reg(99), Err(SysError::InvalidArg));
    }
}
