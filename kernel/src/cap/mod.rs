//! Capabilities: what a slot holds, and the capability space that holds them.

pub mod cspace;

use abi::{ObjectType, Rights};

use crate::mem::kobj::ObjId;
use crate::object::aspace::AddressSpace;
use crate::object::thread::Thread;

/// The object a capability names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectRef {
    /// The kernel's debug facilities (a singleton, never destroyed).
    Debug,
    /// An address space.
    AddressSpace(ObjId<AddressSpace>),
    /// A thread.
    Thread(ObjId<Thread>),
}

impl ObjectRef {
    /// The type of the object.
    pub fn object_type(&self) -> ObjectType {
        match self {
            ObjectRef::Debug => ObjectType::Debug,
            ObjectRef::AddressSpace(_) => ObjectType::AddressSpace,
            ObjectRef::Thread(_) => ObjectType::Thread,
        }
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

/// The marker for the debug object in typed lookups.
#[derive(Clone, Copy, Debug)]
pub struct DebugObject;

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

impl CapTarget for ObjId<AddressSpace> {
    fn from_ref(object: ObjectRef) -> Option<Self> {
        match object {
            ObjectRef::AddressSpace(id) => Some(id),
            _ => None,
        }
    }
}

impl CapTarget for ObjId<Thread> {
    fn from_ref(object: ObjectRef) -> Option<Self> {
        match object {
            ObjectRef::Thread(id) => Some(id),
            _ => None,
        }
    }
}
