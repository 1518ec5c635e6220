//! The operations of a file's ring (`File::attach_ring`): bulk reads and
//! writes between the open file and the ring's data area.
//!
//! | opcode | operation | completion `value` |
//! |---|---|---|
//! | [`OP_READ`] | reads `len` bytes of the file at offset `arg` into the data range | bytes read (fewer at the end of the file) |
//! | [`OP_WRITE`] | writes the data range into the file at offset `arg` | bytes written (fewer when space runs out) |
//!
//! A completion's `status` is 0, or the `FsError::code` of the error when
//! nothing was done (`WrongMode` for a read on a file not open for
//! reading, `NoSpace`, ...). The object's offset never moves. A
//! submission with another opcode, any flag, or a data range outside the
//! data area makes the ring hostile: the server stops serving it.

/// Reads `len` bytes of the file at offset `arg` into the data range.
pub const OP_READ: u16 = 1;
/// Writes the data range into the file at offset `arg`.
pub const OP_WRITE: u16 = 2;
/// The opcodes a file's ring has, as `ring::SqeRules::opcodes`.
pub const OPCODES: u64 = 1 << OP_READ | 1 << OP_WRITE;

/// The completion status of `error`.
pub fn status(error: fscore::FsError) -> u16 {
    error.code()
}

/// The error a completion's `status` stands for; `None` for 0 (success)
/// and for a code the server should not have sent (the caller treats it
/// as `InvalidArgument`).
pub fn error_of(status: u16) -> Option<fscore::FsError> {
    match status {
        0 => None,
        code => Some(fscore::FsError::from_code(code).unwrap_or(fscore::FsError::InvalidArgument)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fscore::FsError;

    #[test]
    fn status_round_trip() {
        for error in [FsError::WrongMode, FsError::NoSpace, FsError::IsADirectory] {
            assert_eq!(error_of(status(error)), Some(error));
        }
        assert_eq!(error_of(0), None);
        assert_eq!(error_of(u16::MAX), Some(FsError::InvalidArgument));
    }
}
