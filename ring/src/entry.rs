//! The two fixed-size entries, their little-endian encoding, and the
//! checks a consumer makes on each after copying it out.
//!
//! ```text
//! Sqe, 32 bytes                       Cqe, 16 bytes
//! 0   opcode     u16                  0   user_data  u64
//! 2   flags      u16                  8   status     u16
//! 4   len        u32                  10  flags      u16  (reserved: 0)
//! 8   user_data  u64                  12  value      u32
//! 16  offset     u64
//! 24  arg        u64
//! ```
//!
//! An `Sqe` asks for operation `opcode` on the `len` bytes at `offset` in
//! the data area (both 0 when it has no data), with an operation-defined
//! `arg`; `user_data` comes back unchanged in its `Cqe`. Which opcodes and
//! flags exist is the protocol's business ([`SqeRules`]); the ring checks
//! them, and that `offset + len` lies inside the data area, computed
//! without overflow. A `Cqe` carries an operation-defined `status` (0 for
//! success) and `value` (bytes done, say).

use crate::Reason;

/// What both entry types share: a fixed size and an encoding.
pub trait Entry: Copy + core::fmt::Debug {
    /// The encoded size in bytes (at most [`MAX_ENTRY_BYTES`]).
    const BYTES: usize;
    /// Writes the encoding into `out`, `BYTES` long.
    fn encode(&self, out: &mut [u8]);
    /// Reads an entry from `bytes`, `BYTES` long. Every bit pattern
    /// decodes; the checks come after.
    fn decode(bytes: &[u8]) -> Self;
}

/// The larger entry's size.
pub const MAX_ENTRY_BYTES: usize = 32;

/// A submission: one request to the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sqe {
    /// The operation.
    pub opcode: u16,
    /// Operation flags; which are allowed is the protocol's choice.
    pub flags: u16,
    /// Bytes of data at `offset`.
    pub len: u32,
    /// Returned unchanged in the completion.
    pub user_data: u64,
    /// Where the data starts, in bytes from the data area's start.
    pub offset: u64,
    /// An operation-defined argument.
    pub arg: u64,
}

/// A completion: the answer to one submission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cqe {
    /// The submission's `user_data`.
    pub user_data: u64,
    /// The outcome: 0 for success, else an operation-defined code.
    pub status: u16,
    /// Reserved: 0.
    pub flags: u16,
    /// An operation-defined result (bytes done, say).
    pub value: u32,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl Entry for Sqe {
    const BYTES: usize = 32;

    fn encode(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&self.opcode.to_le_bytes());
        out[2..4].copy_from_slice(&self.flags.to_le_bytes());
        out[4..8].copy_from_slice(&self.len.to_le_bytes());
        out[8..16].copy_from_slice(&self.user_data.to_le_bytes());
        out[16..24].copy_from_slice(&self.offset.to_le_bytes());
        out[24..32].copy_from_slice(&self.arg.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Sqe {
        Sqe {
            opcode: u16_at(bytes, 0),
            flags: u16_at(bytes, 2),
            len: u32_at(bytes, 4),
            user_data: u64_at(bytes, 8),
            offset: u64_at(bytes, 16),
            arg: u64_at(bytes, 24),
        }
    }
}

impl Entry for Cqe {
    const BYTES: usize = 16;

    fn encode(&self, out: &mut [u8]) {
        out[0..8].copy_from_slice(&self.user_data.to_le_bytes());
        out[8..10].copy_from_slice(&self.status.to_le_bytes());
        out[10..12].copy_from_slice(&self.flags.to_le_bytes());
        out[12..16].copy_from_slice(&self.value.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Cqe {
        Cqe {
            user_data: u64_at(bytes, 0),
            status: u16_at(bytes, 8),
            flags: u16_at(bytes, 10),
            value: u32_at(bytes, 12),
        }
    }
}

/// What a server accepts in a submission, beyond what the ring checks
/// itself (the data range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqeRules {
    /// Bit `n` set: opcode `n` exists. Opcodes are below 64.
    pub opcodes: u64,
    /// The flag bits an `Sqe` may have.
    pub flags: u16,
}

impl SqeRules {
    /// Whether `opcode` exists.
    pub const fn knows(&self, opcode: u16) -> bool {
        opcode < 64 && self.opcodes & (1 << opcode) != 0
    }

    /// Checks `sqe` against these rules and a data area of `data_bytes`.
    ///
    /// # Errors
    /// The first problem: [`Reason::UnknownOpcode`],
    /// [`Reason::UnknownFlags`], [`Reason::DataOutOfRange`].
    pub fn check(&self, sqe: &Sqe, data_bytes: u32) -> Result<(), Reason> {
        if !self.knows(sqe.opcode) {
            return Err(Reason::UnknownOpcode);
        }
        if sqe.flags & !self.flags != 0 {
            return Err(Reason::UnknownFlags);
        }
        match sqe.offset.checked_add(u64::from(sqe.len)) {
            Some(end) if end <= u64::from(data_bytes) => Ok(()),
            _ => Err(Reason::DataOutOfRange),
        }
    }
}

/// The ring's check of a completion: its reserved field is 0.
///
/// # Errors
/// [`Reason::ReservedNotZero`].
pub fn check_cqe(cqe: &Cqe) -> Result<(), Reason> {
    if cqe.flags != 0 {
        return Err(Reason::ReservedNotZero);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqe_encoding() {
        let sqe = Sqe {
            opcode: 0x0102,
            flags: 0x0304,
            len: 0x0506_0708,
            user_data: 0x1112_1314_1516_1718,
            offset: 0x2122_2324_2526_2728,
            arg: 0x3132_3334_3536_3738,
        };
        let mut bytes = [0u8; 32];
        sqe.encode(&mut bytes);
        assert_eq!(
            bytes,
            [
                0x02, 0x01, 0x04, 0x03, 0x08, 0x07, 0x06, 0x05, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13,
                0x12, 0x11, 0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21, 0x38, 0x37, 0x36, 0x35,
                0x34, 0x33, 0x32, 0x31
            ]
        );
        assert_eq!(Sqe::decode(&bytes), sqe);
    }

    #[test]
    fn cqe_encoding() {
        let cqe = Cqe {
            user_data: 0x0102_0304_0506_0708,
            status: 0x1112,
            flags: 0,
            value: 0x2122_2324,
        };
        let mut bytes = [0u8; 16];
        cqe.encode(&mut bytes);
        assert_eq!(
            bytes,
            [
                8, 7, 6, 5, 4, 3, 2, 1, 0x12, 0x11, 0, 0, 0x24, 0x23, 0x22, 0x21
            ]
        );
        assert_eq!(Cqe::decode(&bytes), cqe);
        assert_eq!(check_cqe(&cqe), Ok(()));
        let reserved = Cqe { flags: 1, ..cqe };
        assert_eq!(check_cqe(&reserved), Err(Reason::ReservedNotZero));
    }

    #[test]
    fn sqe_checks() {
        let rules = SqeRules {
            opcodes: 0b110,
            flags: 0b1,
        };
        let ok = Sqe {
            opcode: 1,
            flags: 1,
            len: 16,
            offset: 48,
            ..Sqe::default()
        };
        assert_eq!(rules.check(&ok, 64), Ok(()));
        assert_eq!(
            rules.check(
                &Sqe {
                    len: 0,
                    offset: 64,
                    ..ok
                },
                64
            ),
            Ok(())
        );
        let cases = [
            (Sqe { opcode: 0, ..ok }, Reason::UnknownOpcode),
            (Sqe { opcode: 3, ..ok }, Reason::UnknownOpcode),
            (Sqe { opcode: 64, ..ok }, Reason::UnknownOpcode),
            (
                Sqe {
                    opcode: u16::MAX,
                    ..ok
                },
                Reason::UnknownOpcode,
            ),
            (Sqe { flags: 2, ..ok }, Reason::UnknownFlags),
            (Sqe { len: 17, ..ok }, Reason::DataOutOfRange),
            (Sqe { offset: 49, ..ok }, Reason::DataOutOfRange),
            (
                Sqe {
                    offset: 65,
                    len: 0,
                    ..ok
                },
                Reason::DataOutOfRange,
            ),
            (
                Sqe {
                    offset: u64::MAX,
                    len: 1,
                    ..ok
                },
                Reason::DataOutOfRange,
            ),
            (
                Sqe {
                    offset: u64::MAX - 15,
                    len: u32::MAX,
                    ..ok
                },
                Reason::DataOutOfRange,
            ),
        ];
        for (sqe, reason) in cases {
            assert_eq!(rules.check(&sqe, 64), Err(reason), "{sqe:?}");
        }
    }
}
