//! The error every syscall can return.

/// Why a syscall failed. Returned in `rax`; `0` means success.
///
/// Deliberately small: the kernel reports *what kind* of mistake the caller
/// made, not a POSIX errno.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SysError {
    /// The slot is out of range or empty.
    InvalidCap = 1,
    /// The capability names an object of another type.
    WrongType = 2,
    /// The capability lacks a right the operation needs.
    MissingRights = 3,
    /// An argument is out of range, misaligned or inconsistent.
    InvalidArg = 4,
    /// The kernel or the caller's budget has no memory left.
    OutOfMemory = 5,
    /// A non-blocking operation would have had to wait.
    WouldBlock = 6,
    /// The peer of the operation is gone.
    PeerClosed = 7,
    /// A user pointer is null, unmapped, not writable, or outside user space.
    BadAddress = 8,
    /// The syscall number is not one the kernel knows.
    UnknownSyscall = 9,
    /// A blocking call's deadline passed before it could complete.
    TimedOut = 10,
}

impl SysError {
    /// Every error, in code order.
    pub const ALL: [SysError; 10] = [
        SysError::InvalidCap,
        SysError::WrongType,
        SysError::MissingRights,
        SysError::InvalidArg,
        SysError::OutOfMemory,
        SysError::WouldBlock,
        SysError::PeerClosed,
        SysError::BadAddress,
        SysError::UnknownSyscall,
        SysError::TimedOut,
    ];

    /// The code placed in `rax`.
    pub const fn code(self) -> u64 {
        self as u64
    }

    /// Decodes a non-zero status word; `None` for 0 (success) or an unknown code.
    pub fn from_code(code: u64) -> Option<SysError> {
        SysError::ALL.into_iter().find(|e| e.code() == code)
    }

    /// A short lower-case name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            SysError::InvalidCap => "invalid capability",
            SysError::WrongType => "wrong object type",
            SysError::MissingRights => "missing rights",
            SysError::InvalidArg => "invalid argument",
            SysError::OutOfMemory => "out of memory",
            SysError::WouldBlock => "would block",
            SysError::PeerClosed => "peer closed",
            SysError::BadAddress => "bad address",
            SysError::UnknownSyscall => "unknown syscall",
            SysError::TimedOut => "timed out",
        }
    }
}

impl core::fmt::Display for SysError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for e in SysError::ALL {
            assert_ne!(e.code(), 0);
            assert_eq!(SysError::from_code(e.code()), Some(e));
        }
        assert_eq!(SysError::from_code(0), None);
        assert_eq!(SysError::from_code(1000), None);
        let mut codes: Vec<u64> = SysError::ALL.iter().map(|e| e.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), SysError::ALL.len());
    }
}
