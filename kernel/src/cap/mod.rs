//! Capabilities: what a slot holds, and where slots live.
//!
//! A [`Slot`] is 64 bytes in a slot page of a capability space
//! (`object::cspace`). Besides the capability it carries its links in the
//! capability derivation tree (`kcore::cdt`: a preorder list with depths,
//! spanning every capability space) and its own address (owner space and
//! index), so that a revoke that reaches a slot in another space can empty
//! it there. A [`SlotId`] is the slot's physical address.
//!
//! `tree` holds the operations that change slots: install, delete, move,
//! revoke; they keep the derivation tree and the objects' reference counts
//! in step.

pub mod tree;

use core::num::NonZeroU64;

use abi::{ObjectType, Rights};

use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::aspace::AddressSpace;
use crate::object::budget::Budget;
use crate::object::cspace::CSpace;
use crate::object::endpoint::Endpoint;
use crate::object::ioports::IoPorts;
use crate::object::irq::Irq;
use crate::object::memory::MemoryObject;
use crate::object::notification::Notification;
use crate::object::thread::Thread;

/// The object a capability names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectRef {
    /// The kernel's debug facilities (a singleton, never destroyed).
    Debug,
    /// A budget: frames a holder may spend.
    Budget(ObjId<Budget>),
    /// The physical ranges that are not RAM (a singleton, never destroyed).
    DeviceMemory,
    /// An address space.
    AddressSpace(ObjId<AddressSpace>),
    /// A thread.
    Thread(ObjId<Thread>),
    /// A capability space.
    CSpace(ObjId<CSpace>),
    /// An endpoint.
    Endpoint(ObjId<Endpoint>),
    /// A notification.
    Notification(ObjId<Notification>),
    /// A memory object.
    Memory(ObjId<MemoryObject>),
    /// Every I/O port the kernel does not use (a singleton, never
    /// destroyed).
    IoSpace,
    /// A range of I/O ports.
    IoPorts(ObjId<IoPorts>),
    /// The right to make interrupt lines (a singleton, never destroyed).
    IrqControl,
    /// An interrupt line.
    Irq(ObjId<Irq>),
    /// A saved reply (`object::reply`): the caller that waits for it, or
    /// `None` once that caller has gone. Holds no reference: the caller's
    /// own end turns it into `None`.
    Reply(Option<ObjId<Thread>>),
    /// What a revoke leaves in each slot it empties (`tree::revoke`): no
    /// object, no rights, no reference. Every use but `CapDelete` (and
    /// `CapDeleteRange`) answers `InvalidCap`, and the slot stays taken
    /// until its holder deletes it: a program's record of a slot never
    /// comes to name a capability the slot got later.
    Revoked,
}

impl ObjectRef {
    /// The physical address of the object's frame and the offset of its
    /// header in it; `None` for the singletons and saved replies, which
    /// have neither.
    #[inline(always)]
    pub fn header_location(self) -> Option<(u64, usize)> {
        #[inline(always)]
        fn of<T: KernelObject>(id: ObjId<T>) -> Option<(u64, usize)> {
            Some((id.phys(), T::HEADER_OFFSET))
        }
        match self {
            ObjectRef::Debug
            | ObjectRef::DeviceMemory
            | ObjectRef::IoSpace
            | ObjectRef::IrqControl
            | ObjectRef::Reply(_)
            | ObjectRef::Revoked => None,
            ObjectRef::Budget(id) => of(id),
            ObjectRef::AddressSpace(id) => of(id),
            ObjectRef::Thread(id) => of(id),
            ObjectRef::CSpace(id) => of(id),
            ObjectRef::Endpoint(id) => of(id),
            ObjectRef::Notification(id) => of(id),
            ObjectRef::Memory(id) => of(id),
            ObjectRef::IoPorts(id) => of(id),
            ObjectRef::Irq(id) => of(id),
        }
    }

    /// The type of the object; `None` for [`ObjectRef::Revoked`], which
    /// names none.
    pub fn object_type(&self) -> Option<ObjectType> {
        Some(match self {
            ObjectRef::Revoked => return None,
            ObjectRef::Debug => ObjectType::Debug,
            ObjectRef::Budget(_) => ObjectType::Budget,
            ObjectRef::DeviceMemory => ObjectType::DeviceMemory,
            ObjectRef::IoSpace => ObjectType::IoSpace,
            ObjectRef::IoPorts(_) => ObjectType::IoPorts,
            ObjectRef::IrqControl => ObjectType::IrqControl,
            ObjectRef::Irq(_) => ObjectType::Irq,
            ObjectRef::AddressSpace(_) => ObjectType::AddressSpace,
            ObjectRef::Thread(_) => ObjectType::Thread,
            ObjectRef::CSpace(_) => ObjectType::CSpace,
            ObjectRef::Endpoint(_) => ObjectType::Endpoint,
            ObjectRef::Notification(_) => ObjectType::Notification,
            ObjectRef::Memory(_) => ObjectType::MemoryObject,
            ObjectRef::Reply(_) => ObjectType::Reply,
        })
    }
}

/// One capability: an object, the rights over it, and a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// The object.
    pub object: ObjectRef,
    /// What the holder may do with it.
    pub rights: Rights,
    /// Identifies the holder to the object's server (0 = unbadged).
    pub badge: u64,
}

/// The physical address of a slot (never 0: frame 0 is never allocated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotId(pub NonZeroU64);

/// One capability slot, as stored in a slot page.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    /// The capability, if the slot is full.
    pub cap: Option<Capability>,
    /// Previous slot in the derivation list.
    pub prev: Option<SlotId>,
    /// Next slot in the derivation list.
    pub next: Option<SlotId>,
    /// Depth in the derivation tree (0 for an original).
    pub depth: u32,
    /// Its index in its capability space.
    pub index: u32,
    /// The capability space it belongs to.
    pub owner: ObjId<CSpace>,
}

/// Bytes per slot (a power of two, so slot pages hold a whole number).
pub const SLOT_BYTES: usize = 64;
const _: () = assert!(core::mem::size_of::<Slot>() == SLOT_BYTES);

/// The marker for the debug object in typed lookups.
#[derive(Clone, Copy, Debug)]
pub struct DebugObject;

/// The marker for the device-memory object in typed lookups.
#[derive(Clone, Copy, Debug)]
pub struct DeviceObject;

/// The marker for the interrupt-control object in typed lookups.
#[derive(Clone, Copy, Debug)]
pub struct IrqControlObject;

impl CapTarget for IrqControlObject {
    fn from_ref(object: ObjectRef) -> Option<Self> {
        matches!(object, ObjectRef::IrqControl).then_some(IrqControlObject)
    }
}

/// An object type a typed capability lookup can return.
pub trait CapTarget: Sized {
    /// The reference, if `object` is of this type.
    fn from_ref(object: ObjectRef) -> Option<Self>;
}

impl CapTarget for DebugObject {
    fn from_ref(object: ObjectRef) -> Option<Self> {
        matches!(object, ObjectRef::Debug).then_some(DebugObject)
    }
}

impl CapTarget for DeviceObject {
    fn from_ref(object: ObjectRef) -> Option<Self> {
        matches!(object, ObjectRef::DeviceMemory).then_some(DeviceObject)
    }
}

macro_rules! cap_target {
    ($variant:ident, $ty:ty) => {
        impl CapTarget for ObjId<$ty> {
            fn from_ref(object: ObjectRef) -> Option<Self> {
                match object {
                    ObjectRef::$variant(id) => Some(id),
                    _ => None,
                }
            }
        }
    };
}

cap_target!(Budget, Budget);
cap_target!(AddressSpace, AddressSpace);
cap_target!(Thread, Thread);
cap_target!(CSpace, CSpace);
cap_target!(Endpoint, Endpoint);
cap_target!(Notification, Notification);
cap_target!(Memory, MemoryObject);
cap_target!(IoPorts, IoPorts);
cap_target!(Irq, Irq);
