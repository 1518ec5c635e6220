//! What the process table refuses, with the stable codes the `Proc`
//! protocol carries.

/// A refused process operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcError {
    /// No process has this id (it never existed, or it was reaped).
    NoSuchProcess,
    /// The process is not the caller's child.
    NotChild,
    /// `wait` for any child with no child to wait for.
    NoChildren,
    /// The process has already ended.
    NotRunning,
    /// The table is full.
    TableFull,
    /// The caller's session has as many processes as it may.
    SessionFull,
    /// The request is malformed (a bad path, too many arguments, ...).
    InvalidArgument,
    /// The program could not be loaded (not an ELF file for this machine,
    /// or a malformed one).
    NotExecutable,
    /// A file named in the request does not exist.
    NotFound,
    /// The caller's budget cannot pay for the new process.
    OutOfMemory,
}

impl ProcError {
    /// Every error, in code order.
    pub const ALL: [ProcError; 10] = [
        ProcError::NoSuchProcess,
        ProcError::NotChild,
        ProcError::NoChildren,
        ProcError::NotRunning,
        ProcError::TableFull,
        ProcError::SessionFull,
        ProcError::InvalidArgument,
        ProcError::NotExecutable,
        ProcError::NotFound,
        ProcError::OutOfMemory,
    ];

    /// The wire code: 0x201 upwards (file errors use 0x101 upwards).
    pub fn code(self) -> u16 {
        0x201 + self as u16
    }

    /// The error with wire code `code`.
    pub fn from_code(code: u16) -> Option<ProcError> {
        let index = code.checked_sub(0x201)?;
        ProcError::ALL.get(usize::from(index)).copied()
    }
}

impl core::fmt::Display for ProcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ProcError::NoSuchProcess => "no such process",
            ProcError::NotChild => "not a child of the caller",
            ProcError::NoChildren => "no child processes",
            ProcError::NotRunning => "process has already ended",
            ProcError::TableFull => "process table full",
            ProcError::SessionFull => "too many processes in this session",
            ProcError::InvalidArgument => "invalid argument",
            ProcError::NotExecutable => "not an executable",
            ProcError::NotFound => "no such file",
            ProcError::OutOfMemory => "out of memory",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (i, error) in ProcError::ALL.iter().enumerate() {
            assert_eq!(error.code(), 0x201 + i as u16);
            assert_eq!(ProcError::from_code(error.code()), Some(*error));
        }
        assert_eq!(ProcError::from_code(0x200), None);
        assert_eq!(ProcError::from_code(0x201 + 10), None);
        assert_eq!(ProcError::from_code(0), None);
    }
}
