//! Debug, clock and dispatch syscalls: success and every documented error.

use crate::raw as sys;
use abi::syscall::{DEBUG_LOG_READ_MAX_BYTES, DEBUG_WRITE_MAX_BYTES, KERNEL_LOG_BYTES, Syscall};
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
        6,
        15,
        26,
        31,
        60,
        63,
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

/// The kernel log from the start: the boot banner is its first line
/// (unless 16 KiB were logged since), reads follow each other by cursor,
/// and a cursor past the end copies nothing.
pub fn log_read() -> TestResult {
    let mut buf = [0u8; 512];
    let first = sys::debug_log_read(debug_cap(), 0, &mut buf).map_err(|_| fail())?;
    ensure!(first.copied > 0 && first.copied <= 512);
    ensure!(first.end >= first.start + first.copied);
    if first.start == 0 {
        ensure!(buf.starts_with(b"[INFO ] kernel: Mica "));
    }
    ensure!(first.end - first.start <= KERNEL_LOG_BYTES);
    // The next piece starts where the first ended (nothing was lost in
    // between: the test logs no kernel line).
    let next_cursor = first.start + first.copied;
    let mut more = [0u8; 64];
    let next = sys::debug_log_read(debug_cap(), next_cursor, &mut more).map_err(|_| fail())?;
    ensure_eq!(next.start, next_cursor);
    // The log's end: nothing to copy there or beyond.
    let end = next.end;
    for cursor in [end, end + 1, u64::MAX] {
        let at_end = sys::debug_log_read(debug_cap(), cursor, &mut more).map_err(|_| fail())?;
        ensure_eq!(at_end.copied, 0);
        ensure!(at_end.start >= end && at_end.start == at_end.end);
    }
    // An empty buffer copies nothing and still says where the log is.
    let empty = sys::debug_log_read(debug_cap(), 0, &mut []).map_err(|_| fail())?;
    ensure_eq!(empty.copied, 0);
    ensure!(empty.end >= end);
    // A read-only copy is enough.
    let read_only = debug_with(Rights::READ).map_err(|_| fail())?;
    ensure!(sys::debug_log_read(read_only, 0, &mut more).is_ok());
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    Ok(())
}

pub fn log_read_errors() -> TestResult {
    let mut buf = [0u8; 16];
    ensure_eq!(
        sys::debug_log_read(CapSlot(0), 0, &mut buf).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::debug_log_read(aspace_cap(), 0, &mut buf).map(|_| ()),
        Err(SysError::WrongType)
    );
    let write_only = debug_with(Rights::WRITE).map_err(|_| fail())?;
    ensure_eq!(
        sys::debug_log_read(write_only, 0, &mut buf).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(write_only), Ok(()));
    let mut big = alloc::vec![0u8; DEBUG_LOG_READ_MAX_BYTES as usize + 1];
    ensure_eq!(
        sys::debug_log_read(debug_cap(), 0, &mut big).map(|_| ()),
        Err(SysError::InvalidArg)
    );
    // A kernel address, and a buffer nothing maps.
    let (status, _) = sys::raw_syscall(
        Syscall::DebugLogRead.number(),
        [debug_cap().0 as u64, 0, 0xffff_8000_0000_0000, 16, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::BadAddress));
    let (status, _) = sys::raw_syscall(
        Syscall::DebugLogRead.number(),
        [debug_cap().0 as u64, 0, 0x10, 16, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::BadAddress));
    // Read-only memory: the clock page.
    let clock = abi::layout::CLOCK_PAGE_ADDR;
    let (status, _) = sys::raw_syscall(
        Syscall::DebugLogRead.number(),
        [debug_cap().0 as u64, 0, clock, 16, 0, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::BadAddress));
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
