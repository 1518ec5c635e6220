//! I/O port ranges: made from the I/O space or a range holding them, bound
//! to threads that then run `in`/`out` directly, every other port
//! faulting; unbinding or deleting the range takes the ports away at once;
//! the kernel's own ports are never granted.

use crate::raw::{self as sys, Message};
use abi::ipc::fault;
use abi::syscall::{
    IO_PORTS_PER_THREAD, KERNEL_IO_PORTS, THREADS_PER_IO_PORTS, ThreadStatus, exit_kind,
};
use abi::{CapSlot, ObjectType, Rights, SysError};

use super::support::{EMPTY_SLOT, Raw, budget, free_frames, must, raw_entry};
use super::{TestResult, boot};
use crate::{cpu, ensure, ensure_eq};

/// The POST diagnostic port: writes and reads are harmless.
const POST: u64 = 0x80;
/// The keyboard controller's data port: a harmless read, never granted
/// here.
const KEYBOARD_DATA: u64 = 0x60;
const GENERAL_PROTECTION: u64 = 13;

fn io_space() -> CapSlot {
    CapSlot(boot().io_space_cap)
}

raw_entry! {
    out_in_entry => cpu::port_out_in;
}

fn general_protection(status: &ThreadStatus) -> bool {
    status.kind == exit_kind::FAULTED && status.code == GENERAL_PROTECTION
}

/// Starts a thread that runs `out`/`in` on `port`, with `ports` bound to
/// it before it runs; returns how it ended.
fn run_on(ports: Option<CapSlot>, port: u64) -> Result<ThreadStatus, super::Failure> {
    let thread = Raw::new(out_in_entry, port).suspended().start()?;
    if let Some(ports) = ports {
        must(sys::io_ports_bind(ports, thread.slot()))?;
    }
    must(sys::thread_resume(thread.slot()))?;
    thread.wait()
}

/// Ranges from the I/O space and from a range; their capability info.
pub fn create() -> TestResult {
    let before = free_frames()?;
    let range = must(sys::io_ports_create(io_space(), budget(), POST, 16))?;
    let info = must(sys::cap_info(range))?;
    ensure_eq!(info.object_type(), Some(ObjectType::IoPorts));
    let part = must(sys::io_ports_create(range, budget(), POST + 4, 4))?;
    let whole = must(sys::io_ports_create(range, budget(), POST, 16))?;
    for slot in [whole, part, range] {
        must(sys::cap_delete(slot))?;
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// Every documented error of `IoPortsCreate`.
pub fn create_errors() -> TestResult {
    let b = budget();
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(
        sys::io_ports_create(EMPTY_SLOT, b, POST, 1),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::io_ports_create(b, b, POST, 1),
        Err(SysError::WrongType)
    );
    let read_only = must(sys::cap_copy(io_space(), Rights::READ))?;
    ensure_eq!(
        sys::io_ports_create(read_only, b, POST, 1),
        Err(SysError::MissingRights)
    );
    must(sys::cap_delete(read_only))?;
    ensure_eq!(
        sys::io_ports_create(io_space(), io_space(), POST, 1),
        Err(SysError::WrongType)
    );
    ensure_eq!(sys::io_ports_create(io_space(), b, POST, 0), bad);
    ensure_eq!(sys::io_ports_create(io_space(), b, 0xffff, 2), bad);
    ensure_eq!(sys::io_ports_create(io_space(), b, 0x1_0000, 1), bad);
    ensure_eq!(sys::io_ports_create(io_space(), b, u64::MAX, 2), bad);
    // The kernel's ports, at either end and inside a larger range.
    for (first, count) in KERNEL_IO_PORTS {
        let (first, last) = (u64::from(first), u64::from(first) + u64::from(count) - 1);
        ensure_eq!(sys::io_ports_create(io_space(), b, first, 1), bad);
        ensure_eq!(sys::io_ports_create(io_space(), b, last, 1), bad);
        ensure_eq!(sys::io_ports_create(io_space(), b, first - 1, 2), bad);
    }
    // A range made from a range stays inside it.
    let range = must(sys::io_ports_create(io_space(), b, POST, 4))?;
    ensure_eq!(sys::io_ports_create(range, b, POST + 2, 4), bad);
    ensure_eq!(sys::io_ports_create(range, b, POST - 1, 1), bad);
    must(sys::cap_delete(range))?;
    Ok(())
}

/// A bound thread uses its ports; an unbound one, or a port outside the
/// range, faults (#GP).
pub fn access() -> TestResult {
    let range = must(sys::io_ports_create(io_space(), budget(), POST, 1))?;
    ensure_eq!(run_on(Some(range), POST)?.kind, exit_kind::EXITED);
    ensure!(general_protection(&run_on(None, POST)?));
    ensure!(general_protection(&run_on(Some(range), KEYBOARD_DATA)?));
    // Two bound threads in turn (the bitmap moves between them).
    ensure_eq!(run_on(Some(range), POST)?.kind, exit_kind::EXITED);
    ensure_eq!(run_on(Some(range), POST)?.kind, exit_kind::EXITED);
    must(sys::cap_delete(range))?;
    Ok(())
}

/// A port outside the thread's ranges faults it to its fault endpoint,
/// which learns the vector and can kill it.
pub fn fault_to_endpoint() -> TestResult {
    let range = must(sys::io_ports_create(io_space(), budget(), POST, 1))?;
    let endpoint = must(sys::endpoint_create(budget()))?;
    let thread = Raw::new(out_in_entry, KEYBOARD_DATA)
        .fault_endpoint(endpoint)
        .suspended()
        .start()?;
    must(sys::io_ports_bind(range, thread.slot()))?;
    must(sys::thread_resume(thread.slot()))?;
    let received = must(sys::recv(endpoint))?;
    ensure!(received.message.info.is_fault());
    ensure_eq!(
        received.message.words[fault::WORD_VECTOR],
        GENERAL_PROTECTION
    );
    must(sys::reply(&Message::new(fault::KILL, &[])))?;
    ensure!(general_protection(&thread.wait()?));
    must(sys::cap_delete(endpoint))?;
    must(sys::cap_delete(range))?;
    Ok(())
}

extern "C" fn use_twice(arg: u64) -> ! {
    // Uses the port, waits on the notification in `arg`, uses it again.
    let (notification, port) = (CapSlot((arg >> 32) as u32), arg & 0xffff);
    cpu::port_out_in(port);
    let _ = sys::wait(notification);
    cpu::port_out_in(port);
    sys::thread_exit(0)
}

/// Unbinding or deleting the range takes the ports away from a thread
/// that already used them, at once.
pub fn revoked() -> TestResult {
    for delete in [false, true] {
        let range = must(sys::io_ports_create(io_space(), budget(), POST, 1))?;
        let notification = must(sys::notification_create(budget()))?;
        let arg = (u64::from(notification.0) << 32) | POST;
        let thread = Raw::new(use_twice, arg).suspended().start()?;
        must(sys::io_ports_bind(range, thread.slot()))?;
        must(sys::thread_resume(thread.slot()))?;
        // It ran its first `out` and waits (same priority: yield to it).
        for _ in 0..3 {
            sys::thread_yield();
        }
        if delete {
            must(sys::cap_delete(range))?;
        } else {
            must(sys::io_ports_unbind(range, thread.slot()))?;
            must(sys::cap_delete(range))?;
        }
        must(sys::signal(notification, 1))?;
        ensure!(general_protection(&thread.wait()?));
        must(sys::cap_delete(notification))?;
    }
    Ok(())
}

/// Every documented error of `IoPortsBind` and `IoPortsUnbind`, and the
/// limits on both sides.
pub fn bind_errors() -> TestResult {
    let before = free_frames()?;
    let range = must(sys::io_ports_create(io_space(), budget(), POST, 1))?;
    let thread = Raw::new(out_in_entry, POST).suspended().start()?;
    let slot = thread.slot();
    ensure_eq!(
        sys::io_ports_bind(EMPTY_SLOT, slot),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(sys::io_ports_bind(range, range), Err(SysError::WrongType));
    ensure_eq!(sys::io_ports_bind(slot, slot), Err(SysError::WrongType));
    let read_only = must(sys::cap_copy(range, Rights::READ))?;
    ensure_eq!(
        sys::io_ports_bind(read_only, slot),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::io_ports_unbind(range, slot), Err(SysError::InvalidArg));
    must(sys::io_ports_bind(range, slot))?;
    ensure_eq!(sys::io_ports_bind(range, slot), Err(SysError::InvalidArg));
    // A thread holds at most IO_PORTS_PER_THREAD ranges.
    let mut more = [CapSlot::NULL; IO_PORTS_PER_THREAD];
    for (i, extra) in more.iter_mut().enumerate() {
        *extra = must(sys::io_ports_create(
            io_space(),
            budget(),
            0x100 + i as u64,
            1,
        ))?;
    }
    for extra in &more[..IO_PORTS_PER_THREAD - 1] {
        must(sys::io_ports_bind(*extra, slot))?;
    }
    ensure_eq!(
        sys::io_ports_bind(more[IO_PORTS_PER_THREAD - 1], slot),
        Err(SysError::OutOfMemory)
    );
    must(sys::io_ports_unbind(range, slot))?;
    ensure_eq!(sys::io_ports_unbind(range, slot), Err(SysError::InvalidArg));
    // A range is bound to at most THREADS_PER_IO_PORTS threads.
    let shared = more[IO_PORTS_PER_THREAD - 1];
    let mut threads = heapless_threads();
    for t in threads.iter_mut() {
        *t = must(sys::thread_create(
            budget(),
            super::aspace_cap(),
            rt::process::own_caps().cspace,
        ))?;
        must(sys::io_ports_bind(shared, *t))?;
    }
    let one_more = must(sys::thread_create(
        budget(),
        super::aspace_cap(),
        rt::process::own_caps().cspace,
    ))?;
    ensure_eq!(
        sys::io_ports_bind(shared, one_more),
        Err(SysError::OutOfMemory)
    );
    // Its own ranges no longer hold the port it uses: it faults.
    must(sys::thread_resume(slot))?;
    ensure_eq!(thread.wait()?.kind, exit_kind::FAULTED);
    for t in threads.into_iter().chain([one_more]) {
        must(sys::cap_delete(t))?;
    }
    for extra in more {
        must(sys::cap_delete(extra))?;
    }
    must(sys::cap_delete(read_only))?;
    must(sys::cap_delete(range))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn heapless_threads() -> [CapSlot; THREADS_PER_IO_PORTS] {
    [CapSlot::NULL; THREADS_PER_IO_PORTS]
}

/// Binding to a thread that has ended is refused.
pub fn bind_ended() -> TestResult {
    let range = must(sys::io_ports_create(io_space(), budget(), POST, 1))?;
    let thread = Raw::new(out_in_entry, POST).start()?;
    let slot = thread.slot();
    ensure!(general_protection(&must(sys::thread_wait(slot))?));
    ensure_eq!(sys::io_ports_bind(range, slot), Err(SysError::InvalidArg));
    thread.kill()?;
    must(sys::cap_delete(range))?;
    Ok(())
}
