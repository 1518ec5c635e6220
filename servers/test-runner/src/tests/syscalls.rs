//! Debug, clock and dispatch syscalls: success and every documented error.

use crate::raw as sys;
use abi::syscall::{DEBUG_WRITE_MAX_BYTES, Syscall};
use abi::{CapSlot, Rights, SysError};

use super::{TestResult, aspace_cap, debug_cap};
use crate::{ensure, ensure_eq};

pub fn null() -> TestResult {
    ensure_eq!(sys::null(), Ok(()));
    Ok(())
}

pub fn unknown_number() -> TestResult {
    // Gaps between the groups, the first number past them, and far beyond.
    for number in [
        5,
        15,
        24,
        31,
        60,
        Syscall::NUMBER_LIMIT,
        999,
        1 << 32,
        u64::MAX,
    ] {
        let (status, _) = sys::raw_syscall(number, [0; 6]);
        ensure_eq!(SysError::from_code(status), Some(SysError::UnknownSyscall));
    }
    Ok(())
}

pub fn debug_write_ok() -> TestResult {
    ensure_eq!(
        sys::debug_write(debug_cap(), b"    (debug_write_ok prints this line)\n"),
        Ok(())
    );
    ensure_eq!(sys::debug_write(debug_cap(), b""), Ok(()));
    Ok(())
}

/// A copy of the debug capability with only `rights`.
fn debug_with(rights: Rights) -> Result<CapSlot, SysError> {
    sys::cap_copy(debug_cap(), rights)
}

pub fn debug_write_errors() -> TestResult {
    let text = b"x";
    ensure_eq!(
        sys::debug_write(CapSlot(0), text),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::debug_write(CapSlot(100), text),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::debug_write(CapSlot(100_000), text),
        Err(SysError::InvalidCap)
    );
    let (status, _) = sys::raw_syscall(
        Syscall::DebugWrite.number(),
        [1 << 40, text.as_ptr() as u64, 1, 0, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidCap));
    ensure_eq!(
        sys::debug_write(aspace_cap(), text),
        Err(SysError::WrongType)
    );
    let read_only = debug_with(Rights::READ).map_err(|_| fail())?;
    ensure_eq!(
        sys::debug_write(read_only, text),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    let big = [b'.'; DEBUG_WRITE_MAX_BYTES as usize + 1];
    ensure_eq!(
        sys::debug_write(debug_cap(), &big),
        Err(SysError::InvalidArg)
    );
    Ok(())
}

pub fn debug_exit_errors() -> TestResult {
    // Success ends the run: the suite's own last call is that test.
    ensure_eq!(sys::debug_exit(CapSlot(0), 0), Err(SysError::InvalidCap));
    ensure_eq!(sys::debug_exit(aspace_cap(), 0), Err(SysError::WrongType));
    let no_control = debug_with(Rights::READ | Rights::WRITE).map_err(|_| fail())?;
    ensure_eq!(sys::debug_exit(no_control, 0), Err(SysError::MissingRights));
    ensure_eq!(sys::cap_delete(no_control), Ok(()));
    ensure_eq!(sys::debug_exit(debug_cap(), 64), Err(SysError::InvalidArg));
    ensure_eq!(
        sys::debug_exit(debug_cap(), u64::MAX),
        Err(SysError::InvalidArg)
    );
    Ok(())
}

pub fn frame_count() -> TestResult {
    let counts = sys::debug_frame_count(debug_cap()).map_err(|_| fail())?;
    ensure!(counts.total > 1000);
    ensure!(counts.free > 0 && counts.free <= counts.total);
    ensure_eq!(counts.total, super::boot().total_frames);
    ensure_eq!(
        sys::debug_frame_count(aspace_cap()).map(|_| ()),
        Err(SysError::WrongType)
    );
    ensure_eq!(
        sys::debug_frame_count(CapSlot(77)).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    let write_only = debug_with(Rights::WRITE).map_err(|_| fail())?;
    ensure_eq!(
        sys::debug_frame_count(write_only).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(write_only), Ok(()));
    Ok(())
}

pub fn clock_read() -> TestResult {
    let first = sys::clock_read();
    let mut last = first;
    for _ in 0..1000 {
        let now = sys::clock_read();
        ensure!(now >= last);
        last = now;
    }
    ensure!(last > first);
    ensure!(first > 0);
    Ok(())
}

/// A failure for `?` on unexpected errors in setup steps, naming the
/// caller's line.
#[track_caller]
pub fn fail() -> super::Failure {
    super::Failure {
        what: "setup syscall failed",
        file: core::panic::Location::caller().file(),
        line: core::panic::Location::caller().line(),
    }
}
