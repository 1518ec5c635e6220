//! The clock page: the monotonic clock read without a syscall, the same
//! clock as `ClockRead`, in every thread and address space, and a page no
//! program can write, execute, unmap or map over.

use crate::copy_spawn::spawn_copy;
use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::clock::{ClockPage, flags};
use abi::layout::{CLOCK_PAGE_ADDR, PAGE_BYTES, USER_END};
use abi::syscall::exit_kind;
use abi::{MapFlags, SysError};
use rt::time;

use super::TestResult;
use super::syscalls::fail;
use crate::{cpu, ensure, ensure_eq};

/// Page-fault error code bits.
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_USER: u64 = 4;
const PF_FETCH: u64 = 16;
const PAGE_FAULT: u64 = 14;

/// Reads the page the way `rt::time` does, as a whole.
fn page() -> ClockPage {
    ClockPage::read(|offset| cpu::read_u64_at(CLOCK_PAGE_ADDR + offset as u64))
}

/// Every read from the page lies between the two `ClockRead` syscalls
/// around it, and the page never goes back.
pub fn matches_syscall() -> TestResult {
    let mut last = 0;
    for _ in 0..2000 {
        let before = sys::clock_read();
        let now = time::now_ns();
        let after = sys::clock_read();
        ensure!(before <= now && now <= after);
        ensure!(now >= last);
        last = now;
    }
    Ok(())
}

/// The page says its formula is the kernel's clock, with the frequency the
/// boot information reports, and readers use it (no fallback).
pub fn contents() -> TestResult {
    let clock = page();
    ensure_eq!(clock.sequence % 2, 0);
    ensure!(clock.flags & flags::TSC_CLOCK != 0);
    ensure!(clock.is_tsc_usable());
    ensure_eq!(clock.tsc_hz, super::boot().tsc_hz);
    ensure_eq!(clock.ns_base, 0);
    ensure_eq!(clock.tsc_base, super::boot().kernel_entry_tsc);
    Ok(())
}

fn read_clock(_: u64) -> u64 {
    time::now_ns()
}

extern "C" fn report_clock(_: u64) -> ! {
    sys::thread_exit(time::now_ns())
}

/// Another thread and another address space read the same clock: a value
/// between the readings taken before it started and after it ended.
pub fn other_threads_and_spaces() -> TestResult {
    let before = time::now_ns();
    let thread = spawn(read_clock, 0)
        .and_then(|h| h.join())
        .map_err(|_| fail())?;
    let after = time::now_ns();
    ensure_eq!(thread.kind, exit_kind::EXITED);
    ensure!(before <= thread.code && thread.code <= after);

    let before = time::now_ns();
    let child = spawn_copy(report_clock, 0, &[]).map_err(|_| fail())?;
    let status = sys::thread_wait(child.thread).map_err(|_| fail())?;
    child.destroy();
    let after = time::now_ns();
    ensure_eq!(status.kind, exit_kind::EXITED);
    ensure!(before <= status.code && status.code <= after);
    Ok(())
}

/// Writing the page or running it faults: it is read-only and not
/// executable.
pub fn read_only() -> TestResult {
    let run = |f: fn(u64) -> u64, addr| spawn(f, addr).and_then(|h| h.join());
    let s = run(cpu::write_at, CLOCK_PAGE_ADDR).map_err(|_| fail())?;
    ensure_eq!((s.kind, s.code), (exit_kind::FAULTED, PAGE_FAULT));
    ensure_eq!(
        s.error_code & (PF_PRESENT | PF_WRITE | PF_USER),
        PF_PRESENT | PF_WRITE | PF_USER
    );
    if super::boot().cpu_features & abi::boot::cpu::NX != 0 {
        let s = run(cpu::jump_to, CLOCK_PAGE_ADDR).map_err(|_| fail())?;
        ensure_eq!((s.kind, s.code), (exit_kind::FAULTED, PAGE_FAULT));
        ensure_eq!(s.error_code & PF_FETCH, PF_FETCH);
    }
    // Still there, unchanged.
    ensure!(page().is_tsc_usable());
    Ok(())
}

/// The page lies above every address a program can map: mapping,
/// unmapping or protecting it is refused, and it stays.
pub fn not_mappable() -> TestResult {
    ensure_eq!(CLOCK_PAGE_ADDR, USER_END);
    let own = rt::process::own_caps();
    let memory = sys::memory_create(own.budget, 1).map_err(|_| fail())?;
    let rw = MapFlags::READ | MapFlags::WRITE;
    let bad = Err(SysError::InvalidArg);
    ensure_eq!(
        sys::aspace_map(own.aspace, memory, 0, CLOCK_PAGE_ADDR, 1, rw),
        bad
    );
    ensure_eq!(
        sys::aspace_map(own.aspace, memory, 0, USER_END - PAGE_BYTES, 2, rw),
        bad
    );
    ensure_eq!(sys::aspace_unmap(own.aspace, CLOCK_PAGE_ADDR, 1), bad);
    ensure_eq!(
        sys::aspace_protect(own.aspace, CLOCK_PAGE_ADDR, 1, MapFlags::READ),
        bad
    );
    ensure_eq!(sys::cap_delete(memory), Ok(()));
    ensure!(page().is_tsc_usable());
    Ok(())
}
