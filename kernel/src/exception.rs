//! Exceptions in user mode: the lazy FPU switch, page faults the regions
//! resolve, and everything else, which becomes a fault message on the
//! thread's fault endpoint (a supervisor answers it: resume or kill), or
//! ends the thread if it has none.

use crate::arch::Fault;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::endpoint::Endpoint;
use crate::object::ioports;
use crate::object::thread::{self, Thread};
use crate::switch;
use crate::vm::{self, Access};

/// The #NM exception: an FPU instruction while CR0.TS is set.
const DEVICE_NOT_AVAILABLE: u64 = 7;
/// The #GP exception (also an `in`/`out` the I/O bitmap does not allow).
const GENERAL_PROTECTION: u64 = 13;
/// The page-fault exception.
const PAGE_FAULT: u64 = 14;
/// Page-fault error code: the access was a write.
const PF_WRITE: u64 = 1 << 1;
/// Page-fault error code: the access was an instruction fetch.
const PF_INSTRUCTION: u64 = 1 << 4;

/// An exception of the running thread `current`.
#[inline(always)]
pub fn handle(k: &mut Kernel, current: ObjId<Thread>, fault: Fault) {
    if fault.vector == DEVICE_NOT_AVAILABLE && k.cpu.fpu_trapping() {
        switch::take_fpu(k, current);
    } else if fault.vector == GENERAL_PROTECTION && ioports::take_ports(k, current) {
        // The thread's ports were not open: they are now; it runs the
        // instruction again.
    } else {
        user_fault(k, current, fault);
    }
}

/// An exception in user mode: a page fault the regions resolve goes
/// on at once; anything else becomes a message on the thread's fault
/// endpoint, or ends the thread if it has none.
fn user_fault(k: &mut Kernel, id: ObjId<Thread>, fault: Fault) {
    let mut kind = 0;
    if fault.vector == PAGE_FAULT {
        let access = if fault.error_code & PF_INSTRUCTION != 0 {
            kind |= abi::ipc::fault::kind::EXEC;
            Access::Exec
        } else if fault.error_code & PF_WRITE != 0 {
            kind |= abi::ipc::fault::kind::WRITE;
            Access::Write
        } else {
            Access::Read
        };
        let aspace = k.objects.get(id).aspace;
        match vm::fault::resolve(k, aspace, fault.addr, access) {
            Ok(()) => {
                let space = k.objects.get_mut(aspace);
                // Far below 2^64.
                space.resolved_faults = space.resolved_faults.wrapping_add(1);
                return;
            }
            Err(error) => kind |= error.kind(),
        }
    }
    kind |= fault.error_code << abi::ipc::fault::kind::ERROR_CODE_SHIFT;
    let thread = k.objects.get_mut(id);
    thread.fault = [fault.vector, kind, fault.rip, fault.addr];
    let (cspace, slot) = (thread.cspace, thread.fault_endpoint);
    let handler = (slot != abi::CapSlot::NULL)
        .then(|| {
            crate::object::cspace::lookup::<ObjId<Endpoint>>(
                &k.objects,
                cspace,
                slot,
                abi::Rights::WRITE,
            )
            .ok()
        })
        .flatten();
    match handler {
        Some((endpoint, cap)) => crate::ipc::send_fault(k, id, endpoint, cap.badge),
        None => thread::kill_faulted(k, id),
    }
}
