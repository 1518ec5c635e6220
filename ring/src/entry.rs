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

/// What both entry types share: a fixed size and an encoding as
/// little-endian 32-bit words (so that byte `i` of the encoding is byte
/// `i % 4` of word `i / 4`, and the tables above describe both).
pub trait Entry: Copy + core::fmt::Debug {
    /// The encoded size in words (at most [`MAX_ENTRY_WORDS`]).
    const WORDS: usize;
    /// The encoded size in bytes.
    const BYTES: usize = 4 * Self::WORDS;
    /// Writes the encoding into `out`, `WORDS` long.
    fn encode(&self, out: &mut [u32]);
    /// Reads an entry from `words`, `WORDS` long. Every bit pattern
    /// decodes; the checks come after.
    fn decode(words: &[u32]) -> Self;
}

/// The larger entry's size in words.
pub const MAX_ENTRY_WORDS: usize = 8;
/// The larger entry's size in bytes.
pub const MAX_ENTRY_BYTES: usize = 4 * MAX_ENTRY_WORDS;

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

/// The low and high words of `value`.
const fn split(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

/// `low | high << 32`.
const fn join(low: u32, high: u32) -> u64 {
    low as u64 | (high as u64) << 32
}

impl Entry for Sqe {
    const WORDS: usize = 8;

    #[inline]
    fn encode(&self, out: &mut [u32]) {
        let (user_low, user_high) = split(self.user_data);
        let (offset_low, offset_high) = split(self.offset);
        let (arg_low, arg_high) = split(self.arg);
        out[..8].copy_from_slice(&[
            u32::from(self.opcode) | u32::from(self.flags) << 16,
            self.len,
            user_low,
            user_high,
            offset_low,
            offset_high,
            arg_low,
            arg_high,
        ]);
    }

    #[inline]
    fn decode(words: &[u32]) -> Sqe {
        let words = &words[..8];
        Sqe {
            opcode: words[0] as u16,
            flags: (words[0] >> 16) as u16,
            len: words[1],
            user_data: join(words[2], words[3]),
            offset: join(words[4], words[5]),
            arg: join(words[6], words[7]),
        }
    }
}

impl Entry for Cqe {
    const WORDS: usize = 4;

    #[inline]
    fn encode(&self, out: &mut [u32]) {
        let (user_low, user_high) = split(self.user_data);
        out[..4].copy_from_slice(&[
            user_low,
            user_high,
            u32::from(self.status) | u32::from(self.flags) << 16,
            self.value,
        ]);
    }

    #[inline]
    fn decode(words: &[u32]) -> Cqe {
        let words = &words[..4];
        Cqe {
            user_data: join(words[0], words[1]),
            status: words[2] as u16,
            flags: (words[2] >> 16) as u16,
            value: words[3],
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
    #[inline]
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
#[inline]
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
        let mut words = [0u32; 8];
        sqe.encode(&mut words);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            bytes,
            [
                0x02, 0x01, 0x04, 0x03, 0x08, 0x07, 0x06, 0x05, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13,
                0x12, 0x11, 0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21, 0x38, 0x37, 0x36, 0x35,
                0x34, 0x33, 0x32, 0x31
            ]
        );
        assert_eq!(Sqe::decode(&words), sqe);
    }

    #[test]
    fn cqe_encoding() {
        let cqe = Cqe {
            user_data: 0x0102_0304_0506_0708,
            status: 0x1112,
            flags: 0,
            value: 0x2122_2324,
        };
        let mut words = [0u32; 4];
        cqe.encode(&mut words);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            bytes,
            [
                8, 7, 6, 5, 4, 3, 2, 1, 0x12, 0x11, 0, 0, 0x24, 0x23, 0x22, 0x21
            ]
        );
        assert_eq!(Cqe::decode(&words), cqe);
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
