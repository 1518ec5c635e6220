//! `ClockRead`: the monotonic clock.

use abi::SysError;
use abi::syscall::{ClockTime, SyscallResult};

use crate::kernel::Next;

/// Nanoseconds since boot.
pub fn read() -> Result<Next, SysError> {
    Ok(Next::Reply(
        ClockTime {
            nanos: crate::time::now_ns(),
        }
        .encode(),
    ))
}
