//! How kernel objects live and die: the header every object starts with,
//! reference counts, and deferred destruction.
//!
//! Every object type has a [`Header`] (`kernel_object!` records where), so
//! the kernel reaches the reference count, the payer and the destroy-list
//! link of any object the same way, whatever its type.
//!
//! A reference is a capability, or whatever else an object's type says
//! keeps it alive (a thread keeps its address space and capability space,
//! a region its memory object). When the last one goes ([`release`]) the
//! object joins the destroy list (linked through `Header::reap_next`), and
//! [`reap`] destroys everything on it after the current operation, each
//! type in its own `destroy`. Destroying one object may release others
//! (a capability space holds capabilities), which join the list; nothing
//! recurses.

use abi::SysError;

use crate::cap::ObjectRef;
use crate::kernel::Kernel;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::{
    aspace, budget, cspace, endpoint, ioports, irq, memory, notification, reply, thread,
};
use budget::Budget;

/// What every kernel object starts with.
#[repr(C)]
#[derive(Debug)]
pub struct Header {
    /// References that keep the object alive. A u64 (in what was padding
    /// before `payer`): each reference is held in memory, so the count
    /// cannot reach 2^64, while a u32 could be overrun by 2^32 capability
    /// slots (256 GiB, inside the direct map).
    pub refs: u64,
    /// The budget that paid for the object's frame (a budget's parent; the
    /// root budget pays for itself).
    pub payer: ObjId<Budget>,
    /// Next object on the destroy list.
    pub reap_next: Option<ObjectRef>,
}

// Widening `refs` took the padding: the header is still four words.
const _: () = assert!(core::mem::size_of::<Header>() == HEADER_BYTES);
const HEADER_BYTES: usize = 32;

impl Header {
    /// A header for an object `payer` paid for, with no references yet.
    pub const fn new(payer: ObjId<Budget>) -> Header {
        Header {
            refs: 0,
            payer,
            reap_next: None,
        }
    }
}

/// Objects whose last reference is gone, waiting to be destroyed.
pub struct Reaper {
    head: Option<ObjectRef>,
}

impl Reaper {
    /// An empty list.
    pub const fn new() -> Reaper {
        Reaper { head: None }
    }
}

/// Counts a new reference (a capability, a thread, a mapping) to `object`.
#[inline]
pub fn add_ref(k: &mut Kernel, object: ObjectRef) {
    if let Some(header) = k.objects.header_mut(object) {
        // Each reference is held in memory: far below 2^64 (see `refs`).
        header.refs = header.refs.wrapping_add(1);
    }
}

/// Drops a reference to `object`; at the last it joins the destroy list.
/// A saved reply's deletion wakes its caller with `PeerClosed` instead.
pub fn release(k: &mut Kernel, object: ObjectRef) {
    let Some(header) = k.objects.header_mut(object) else {
        // A saved reply is its caller's one way to an answer: deleting it
        // answers `PeerClosed`.
        if let ObjectRef::Reply(Some(caller)) = object {
            reply::release(k, caller);
        }
        return;
    };
    header.refs = header.refs.saturating_sub(1);
    if header.refs != 0 {
        return;
    }
    // A budget still paying for something stays until it is refunded.
    if let ObjectRef::Budget(id) = object
        && !k.objects.get(id).is_unused()
    {
        return;
    }
    schedule_destroy(k, object);
}

/// Puts an object whose last reference is gone on the destroy list.
pub fn schedule_destroy(k: &mut Kernel, object: ObjectRef) {
    let head = k.reaper.head.take();
    if let Some(header) = k.objects.header_mut(object) {
        header.reap_next = head;
    }
    k.reaper.head = Some(object);
}

/// Destroys every object on the destroy list (and those they release).
#[inline(always)]
pub fn reap(k: &mut Kernel) {
    if k.reaper.head.is_some() {
        reap_all(k);
    }
}

#[inline(never)]
fn reap_all(k: &mut Kernel) {
    while let Some(object) = k.reaper.head {
        k.reaper.head = k
            .objects
            .header_mut(object)
            .and_then(|header| header.reap_next.take());
        destroy(k, object);
    }
}

/// Destroys an object whose last reference is gone: its type's
/// `teardown` lets go of everything it holds and takes it out of every
/// queue and every other object, then its frame is freed.
fn destroy(k: &mut Kernel, object: ObjectRef) {
    match object {
        // No header, so never on the destroy list.
        ObjectRef::Debug
        | ObjectRef::DeviceMemory
        | ObjectRef::IoSpace
        | ObjectRef::IrqControl
        | ObjectRef::Reply(_)
        | ObjectRef::Revoked => {}
        ObjectRef::Budget(id) => {
            budget::teardown(k, id);
            free(k, id);
        }
        ObjectRef::Thread(id) => {
            thread::teardown(k, id);
            free(k, id);
        }
        ObjectRef::Endpoint(id) => {
            endpoint::teardown(k, id);
            free(k, id);
        }
        ObjectRef::Notification(id) => {
            notification::teardown(k, id);
            free(k, id);
        }
        ObjectRef::CSpace(id) => {
            cspace::teardown(k, id);
            free(k, id);
        }
        ObjectRef::AddressSpace(id) => {
            aspace::teardown(k, id);
            free(k, id);
        }
        ObjectRef::Memory(id) => {
            memory::teardown(k, id);
            free(k, id);
        }
        ObjectRef::IoPorts(id) => {
            ioports::teardown(k, id);
            free(k, id);
        }
        ObjectRef::Irq(id) => {
            irq::teardown(k, id);
            free(k, id);
        }
    }
}

/// Destroys an object made by [`new_object`] that never got a reference
/// (an operation failed after making it).
pub fn discard(k: &mut Kernel, object: ObjectRef) {
    destroy(k, object);
}

/// Frees a torn-down object's frame and refunds its payer.
fn free<T: KernelObject>(k: &mut Kernel, id: ObjId<T>) {
    let payer = k.objects.get(id).header().payer;
    // SAFETY: `id`'s last reference is gone (or it never had one:
    // `discard`), it is off the destroy list (`reap_all` takes it off
    // before `destroy`), and its type's teardown has just taken it out of
    // every queue, list and object that named it; an object reaches
    // `destroy` once (when its count reaches zero, or once from
    // `discard`), so its frame is freed once.
    unsafe { k.objects.free(id) };
    budget::refund(k, payer, 1);
}

/// Puts `value` in a new frame paid for by `budget`.
///
/// # Errors
/// [`SysError::OutOfMemory`] (nothing kept).
pub fn new_object<T: KernelObject>(
    k: &mut Kernel,
    budget: ObjId<Budget>,
    value: T,
) -> Result<ObjId<T>, SysError> {
    budget::charge(k, budget, 1)?;
    k.objects.alloc(value).map_err(|_| {
        budget::refund(k, budget, 1);
        SysError::OutOfMemory
    })
}
