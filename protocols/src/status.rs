//! The message labels of requests and replies, and the reply statuses.
//!
//! A request's label is `opcode | request_id << 16`; its reply's is
//! `status | request_id << 16`, with the same id. Labels are 48 bits
//! ([`abi::ipc::LABEL_MAX`]), so the id has 32.
//!
//! | status | meaning |
//! |---|---|
//! | 0 ([`OK`]) | success; the body holds the reply values |
//! | 1 ([`MALFORMED`]) | the server could not decode the request |
//! | 2 ([`UNKNOWN_OPERATION`]) | no operation has the request's opcode |
//! | 3 ([`REPLY_TOO_LARGE`]) | the handler's reply did not fit in one message |
//! | 4 to 0xff | reserved for protocol-level errors |
//! | 0x100 and up ([`APPLICATION_MIN`]) | the handler's [`ErrorCode`] |
//!
//! A reply with a non-zero status has an empty body and no capability.

/// Success.
pub const OK: u16 = 0;
/// The server could not decode the request (sizes, values, capability
/// count).
pub const MALFORMED: u16 = 1;
/// No operation of the protocol has the request's opcode.
pub const UNKNOWN_OPERATION: u16 = 2;
/// The handler succeeded, but its reply values did not fit in one message.
pub const REPLY_TOO_LARGE: u16 = 3;
/// The smallest application error code.
pub const APPLICATION_MIN: u16 = 0x100;

/// An application error a handler returns, sent as the reply's status: a
/// value of [`APPLICATION_MIN`] or more, which each protocol defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(u16);

impl ErrorCode {
    /// The error code `code`.
    ///
    /// # Panics
    /// If `code` is below [`APPLICATION_MIN`] (the protocol-level statuses);
    /// define codes as constants, so that this is a compile-time check.
    pub const fn new(code: u16) -> ErrorCode {
        assert!(
            code >= APPLICATION_MIN,
            "application error codes start at 0x100"
        );
        ErrorCode(code)
    }

    /// The code from a reply's status, if it is an application error.
    pub const fn from_status(status: u16) -> Option<ErrorCode> {
        if status >= APPLICATION_MIN {
            Some(ErrorCode(status))
        } else {
            None
        }
    }

    /// The code (the reply's status).
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "application error {:#x}", self.0)
    }
}

/// The label of request number `request_id` for operation `opcode`.
#[inline(always)]
pub const fn request_label(opcode: u16, request_id: u32) -> u64 {
    opcode as u64 | (request_id as u64) << 16
}

/// The label of the reply with `status` to request number `request_id`.
#[inline(always)]
pub const fn reply_label(status: u16, request_id: u32) -> u64 {
    status as u64 | (request_id as u64) << 16
}

/// Splits a label into its low 16 bits (opcode or status) and the request
/// id (the next 32 bits). Bits above 48 are ignored (a received label has
/// none).
#[inline(always)]
pub const fn split_label(label: u64) -> (u16, u32) {
    (label as u16, (label >> 16) as u32)
}
