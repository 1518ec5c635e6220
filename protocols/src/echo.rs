//! `Echo`: a protocol for tests and benchmarks whose operations together
//! use every type the codec supports, and [`EchoService`], its reference
//! server, which the `echo-server` program runs on Mica and the host tests
//! run through a loopback.
//!
//! `ping` is the `protocol_call_roundtrip` benchmark's call. `add`,
//! `divide` and `shout` answer application errors; `keep`, `give` and
//! `forget` move capabilities both ways; `lend` takes a bulk descriptor.

use abi::CapSlot;

use crate::{Cap, ErrorCode, ReceivedBulk};

crate::wire_enum! {
    /// A colour: an enum argument.
    pub enum Color {
        /// Red.
        Red = 0,
        /// Green.
        Green = 1,
        /// Blue.
        Blue = 2,
    }
}

impl Color {
    /// The next colour, round.
    pub fn next(self) -> Color {
        match self {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        }
    }
}

crate::protocol! {
    /// A protocol for tests and benchmarks.
    pub protocol Echo = 0x4543 {
        client EchoClient;
        server EchoServer;

        /// Returns `value`: the smallest call there is (one word each way,
        /// the kernel's fast path), for the `protocol_call_roundtrip`
        /// benchmark.
        #[idempotent]
        fn ping(value: u64) -> u64 = 1;

        /// `a + b`, or [`OVERFLOW`].
        #[idempotent]
        fn add(a: u64, b: u64) -> u64 = 2;

        /// Quotient and remainder (rounded toward zero), or
        /// [`DIVIDE_BY_ZERO`], or [`OVERFLOW`] for `i64::MIN / -1`.
        #[idempotent]
        fn divide(dividend: i64, divisor: i64) -> (i64, i64) = 3;

        /// Every scalar type, each changed so that a mix-up shows: the
        /// unsigned and signed integers plus one (wrapping), `flag`
        /// negated, `color` the next one.
        #[idempotent]
        fn scalars(
            byte: u8,
            half: u16,
            word32: u32,
            small: i8,
            short: i16,
            signed32: i32,
            flag: bool,
            color: Color,
        ) -> (u8, u16, u32, i8, i16, i32, bool, Color) = 4;

        /// The number of bytes of `text` and an ASCII upper-case copy, or
        /// [`TOO_LONG`] past [`SHOUT_MAX_BYTES`] (the reply would not fit).
        #[idempotent]
        fn shout(text: &str) -> (u64, &str) = 5;

        /// Returns `data` as it came (the reply borrows the request).
        #[idempotent]
        fn echo(data: &[u8]) -> &[u8] = 6;

        /// Keeps `cap`, deleting one kept before; returns how many
        /// capabilities the server has been given so far.
        fn keep(cap: Cap) -> u64 = 7;

        /// Sends a copy of the kept capability, or [`NOTHING_KEPT`].
        #[idempotent]
        fn give() -> Cap = 8;

        /// Deletes the kept capability, if any.
        fn forget() = 9;

        /// Takes lent data; returns the number of pages of the object it
        /// touches and its length (the object is deleted after).
        fn lend(data: Bulk) -> (u64, u64) = 10;
    }
}

/// `add` or `divide` overflowed.
pub const OVERFLOW: ErrorCode = ErrorCode::new(0x100);
/// `divide` by zero.
pub const DIVIDE_BY_ZERO: ErrorCode = ErrorCode::new(0x101);
/// `shout`'s text is longer than [`SHOUT_MAX_BYTES`].
pub const TOO_LONG: ErrorCode = ErrorCode::new(0x102);
/// `give` with no capability kept.
pub const NOTHING_KEPT: ErrorCode = ErrorCode::new(0x103);

/// The longest text `shout` takes: its reply (count, length, text) must
/// fit in one message of 64 words.
pub const SHOUT_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 2) * 8;

/// The reference `Echo` server.
#[derive(Debug)]
pub struct EchoService {
    /// The capability `keep` was last given.
    kept: Option<Cap>,
    /// How many capabilities `keep` has been given.
    caps_received: u64,
    /// Where `shout` writes its answer.
    shout: [u8; SHOUT_MAX_BYTES],
}

impl Default for EchoService {
    fn default() -> Self {
        EchoService::new()
    }
}

impl EchoService {
    /// A server that keeps nothing yet.
    pub const fn new() -> EchoService {
        EchoService {
            kept: None,
            caps_received: 0,
            shout: [0; SHOUT_MAX_BYTES],
        }
    }

    /// The slot of the capability kept, if any.
    pub fn kept(&self) -> Option<CapSlot> {
        self.kept.as_ref().map(Cap::slot)
    }
}

impl EchoServer for EchoService {
    #[inline]
    fn ping(&mut self, value: u64) -> Result<u64, ErrorCode> {
        Ok(value)
    }

    fn add(&mut self, a: u64, b: u64) -> Result<u64, ErrorCode> {
        a.checked_add(b).ok_or(OVERFLOW)
    }

    fn divide(&mut self, dividend: i64, divisor: i64) -> Result<(i64, i64), ErrorCode> {
        if divisor == 0 {
            return Err(DIVIDE_BY_ZERO);
        }
        let quotient = dividend.checked_div(divisor).ok_or(OVERFLOW)?;
        let remainder = dividend.checked_rem(divisor).ok_or(OVERFLOW)?;
        Ok((quotient, remainder))
    }

    fn scalars(
        &mut self,
        byte: u8,
        half: u16,
        word32: u32,
        small: i8,
        short: i16,
        signed32: i32,
        flag: bool,
        color: Color,
    ) -> Result<(u8, u16, u32, i8, i16, i32, bool, Color), ErrorCode> {
        Ok((
            byte.wrapping_add(1),
            half.wrapping_add(1),
            word32.wrapping_add(1),
            small.wrapping_add(1),
            short.wrapping_add(1),
            signed32.wrapping_add(1),
            !flag,
            color.next(),
        ))
    }

    fn shout<'m>(&'m mut self, text: &'m str) -> Result<(u64, &'m str), ErrorCode> {
        let out = self.shout.get_mut(..text.len()).ok_or(TOO_LONG)?;
        out.copy_from_slice(text.as_bytes());
        out.make_ascii_uppercase();
        // Changing the case of ASCII letters keeps UTF-8 valid, so this
        // cannot fail; it is checked rather than assumed all the same.
        let loud = core::str::from_utf8(out).map_err(|_| TOO_LONG)?;
        Ok((text.len() as u64, loud))
    }

    fn echo<'m>(&'m mut self, data: &'m [u8]) -> Result<&'m [u8], ErrorCode> {
        Ok(data)
    }

    fn keep(&mut self, cap: Cap) -> Result<u64, ErrorCode> {
        // The one kept before is dropped, which deletes it.
        self.kept = Some(cap);
        self.caps_received += 1;
        Ok(self.caps_received)
    }

    fn give(&mut self) -> Result<CapSlot, ErrorCode> {
        // The capability stays kept, so its slot is valid when the reply
        // (which carries a copy) is sent.
        self.kept().ok_or(NOTHING_KEPT)
    }

    fn forget(&mut self) -> Result<(), ErrorCode> {
        self.kept = None;
        Ok(())
    }

    fn lend(&mut self, data: ReceivedBulk) -> Result<(u64, u64), ErrorCode> {
        Ok((data.pages(), data.len_bytes))
    }
}
