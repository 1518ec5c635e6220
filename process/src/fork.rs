//! `fork`: a copy of the calling process, through the process server.
//!
//! The child is a new process (a child of the caller in the process
//! table) whose address space is a copy-on-write clone of the caller's
//! (`AspaceClone`), on a budget split from the caller's. Only the calling
//! thread goes on in it, returning [`Fork::Child`]. Its capability space
//! holds, at the same slots as the caller's (its memory names them
//! there):
//!
//! - its own thread, address space, capability space and budget;
//! - its own capability to the process server, as its `proc` handle and
//!   its parent endpoint;
//! - the caller's services (`CLIENT` handles: the file servers, so the
//!   namespace, and the current directory's name, which is in memory),
//!   each only if its slot still holds an endpoint the caller may grant
//!   (else that slot is empty in the child);
//! - for every file the caller has open, an object of its own sharing it
//!   (`dup`: the same offset, the same pipe end), so that closing it is
//!   not the caller's close.
//!
//! Nothing else: endpoints, notifications, memory objects, rings and
//! other capabilities the caller made are not the child's (their slots
//! are empty there). A forked child's open files move bulk data by
//! message (the caller's shared rings and data areas stay the caller's).

use alloc::vec::Vec;

use abi::startup::handle::CLIENT;
use abi::syscall::{CapCopyEntry, cap_copy_mode};
use abi::{CapSlot, ObjectType, Rights, SysError};
use rt::fork::Forked;
use rt::spawn::DEFAULT_CSPACE_SLOTS;
use rt::sys;

use crate::command::split_budget;
use crate::server::{SERVICE, own, with};
use crate::{Pid, ProcError, Process};

/// Services copied by one `CapCopyMany` (a program has a handful; more
/// take more calls).
const SERVICES_PER_CALL: usize = 8;

/// Which side of a fork this is.
#[derive(Debug)]
pub enum Fork {
    /// The copy.
    Child,
    /// The caller, with its new child.
    Parent(Process),
}

/// Makes a copy of the calling process (see the module docs).
///
/// # Errors
/// `OutOfMemory` (the caller's budget cannot pay for the copy, or a server
/// is out of room), `TableFull`/`SessionFull`, `NoSuchProcess` without a
/// `proc` capability, `InvalidArgument` for a program not loaded by rt
/// (no startup page).
pub fn fork() -> Result<Fork, ProcError> {
    let proc = own()?;
    let info = rt::start::startup_info().ok_or(ProcError::InvalidArgument)?;
    let budget = split_budget(None)?;
    let name = rt::process::args()
        .next()
        .and_then(|arg| arg.rsplit('/').next())
        .unwrap_or("forked");
    let name = &name[..crate::command::name_len(name)];
    let created = with(proc, |c| c.create(budget, name));
    let _ = sys::cap_delete(budget);
    let (pid, child, own_cap, work) = created?;
    let process = Process::new(Pid(pid), child.into_raw());
    let (own_cap, work) = (own_cap.into_raw(), work.into_raw());
    // The child's own objects of the open files, made before the clone.
    let mut files: Vec<(CapSlot, CapSlot)> = Vec::new();
    rt::inherit::for_each(|slot| {
        if let Ok(dup) = files::dup_slot(slot) {
            files.push((slot, dup));
        }
    });
    let caps = rt::process::own_caps();
    let thread_slot = rt::thread::current_slot().unwrap_or(CapSlot(info.thread));
    let slots = match u64::from(info.cspace_slots) {
        0 => DEFAULT_CSPACE_SLOTS,
        slots => slots,
    };
    let forked = rt::fork::fork(|start| -> Result<(), SysError> {
        let aspace = sys::aspace_clone(work, caps.aspace)?;
        let cspace = match sys::cspace_create(work, slots) {
            Ok(cspace) => cspace,
            Err(error) => {
                let _ = sys::cap_delete(aspace);
                return Err(error);
            }
        };
        let result = (|| {
            // Own objects with every right; endpoints (services, the
            // process server, files) with the rights a client has.
            let put = |src: CapSlot, rights: Rights, dst: CapSlot| -> Result<(), SysError> {
                if dst.0 == 0 {
                    return Ok(());
                }
                sys::cap_copy_to(src, rights, cspace, dst).map(|_| ())
            };
            let client = Rights::WRITE | Rights::GRANT;
            put(aspace, Rights::all(), caps.aspace)?;
            put(cspace, Rights::all(), caps.cspace)?;
            put(work, Rights::all(), caps.budget)?;
            put(own_cap, client, CapSlot(info.parent))?;
            if proc != CapSlot(info.parent) {
                put(own_cap, client, proc)?;
            }
            // The services, in one call that checks each is still an
            // endpoint the caller may grant: one it has let go of, holds
            // with fewer rights, or whose slot it reused for something
            // else is not passed on (its entry fails alone). On the stack:
            // the heap is locked across the clone.
            let mut entries = [CapCopyEntry::default(); SERVICES_PER_CALL];
            let mut count = 0;
            let services = info.handles.iter().filter(|h| {
                h.kind == CLIENT && h.name() != SERVICE && h.slot != info.parent && h.slot != 0
            });
            for handle in services {
                entries[count] = CapCopyEntry {
                    src: handle.slot,
                    dst: handle.slot,
                    rights: client.bits(),
                    object_type: ObjectType::Endpoint.to_reg() as u16,
                    mode: cap_copy_mode::EXACT,
                };
                count += 1;
                if count == SERVICES_PER_CALL {
                    let _ = sys::cap_copy_many(cspace, &entries);
                    count = 0;
                }
            }
            if count > 0 {
                let _ = sys::cap_copy_many(cspace, &entries[..count]);
            }
            for &(slot, dup) in &files {
                put(dup, client, slot)?;
            }
            let thread = sys::thread_create(work, aspace, cspace)?;
            let started = put(thread, Rights::all(), thread_slot)
                .and_then(|()| {
                    sys::thread_configure(thread, start.ipc_buffer, CapSlot(info.parent))
                })
                .and_then(|()| {
                    sys::thread_start(thread, start.entry, start.stack, start.arg, start.tls)
                });
            let _ = sys::cap_delete(thread);
            started
        })();
        let _ = sys::cap_delete(aspace);
        let _ = sys::cap_delete(cspace);
        result
    });
    match forked {
        // In the child every capability named above is its own, at the
        // caller's slots: nothing here may be deleted.
        Ok(Forked::Child) => {
            core::mem::forget(process);
            Ok(Fork::Child)
        }
        Ok(Forked::Parent) => {
            for (_, dup) in files {
                let _ = sys::cap_delete(dup);
            }
            let _ = sys::cap_delete(work);
            let _ = sys::cap_delete(own_cap);
            Ok(Fork::Parent(process))
        }
        Err(error) => {
            for (_, dup) in files {
                let _ = sys::cap_delete(dup);
            }
            let _ = sys::cap_delete(work);
            let _ = sys::cap_delete(own_cap);
            let _ = process.kill();
            let _ = process.wait();
            Err(match error {
                SysError::OutOfMemory => ProcError::OutOfMemory,
                _ => ProcError::InvalidArgument,
            })
        }
    }
}
