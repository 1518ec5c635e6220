//! `Serial`: a byte-stream console device (the 16550 UART driver,
//! `programs/serial`, serves it), and the pure pieces its server is built
//! from, so that they are tested on the host: the receive ring
//! ([`RxRing`]), the output translation ([`OutputChunks`]) and the checks
//! of a read's arguments ([`ReadWait::check`]).
//!
//! Operations (`docs/serial.md` has the whole story):
//!
//! - `info` (idempotent, cheap, fits in registers): bytes buffered,
//!   bytes dropped so far, the current [`flags`];
//! - `write(data)`: sends every byte (at most [`WRITE_MAX_BYTES`] per
//!   call, the message limit; [`write_all`] splits longer data), returns
//!   how many bytes of `data` were taken (all of them);
//! - `read(max, wait, deadline)`: up to `max` buffered bytes (1 to
//!   [`READ_MAX_BYTES`]); with [`Wait::None`] at once, possibly none; with
//!   [`Wait::Forever`] once at least one byte is there; with
//!   [`Wait::Until`] once a byte is there or at `deadline` (nanoseconds on
//!   the monotonic clock, `abi::clock`, as every deadline of the kernel),
//!   whichever is first: a read that reaches its deadline returns an empty
//!   slice;
//! - `configure(flags)`: sets the [`flags`], returns the old ones.
//!
//! A bad request is answered with an [`ErrorCode`]: [`BAD_LENGTH`],
//! [`BAD_WAIT`], [`BAD_FLAGS`], [`READERS_BUSY`]; one that does not decode
//! with the protocol-level `MALFORMED` or `UNKNOWN_OPERATION`.

use crate::client::{Error, Transport};
use crate::status::ErrorCode;

crate::wire_enum! {
    /// How long a `read` waits for a first byte.
    pub enum Wait {
        /// Not at all: what is buffered, possibly nothing.
        None = 0,
        /// Until a byte arrives (the driver's death ends it with
        /// `PeerClosed`).
        Forever = 1,
        /// Until a byte arrives or the call's `deadline` passes.
        Until = 2,
    }
}

crate::protocol! {
    /// A serial console: write bytes, read bytes, with or without waiting.
    pub protocol Serial = 0x5352 {
        client SerialClient;
        server SerialServer;

        /// Bytes buffered and not yet read, bytes dropped since the driver
        /// started (receive buffer full, or the UART's own overrun), and
        /// the current [`flags`]. Cheap and idempotent: the first call a
        /// restarted driver answers.
        #[idempotent]
        fn info() -> (u64, u64, u32) = 1;

        /// Sends `data` (at most [`WRITE_MAX_BYTES`]); with
        /// [`flags::CRLF`] each `\n` goes out as `\r\n`. Returns when every
        /// byte is in the UART's transmit FIFO: the number of bytes of
        /// `data` taken, all of them.
        fn write(data: &[u8]) -> u64 = 2;

        /// Up to `max` received bytes (1 to [`READ_MAX_BYTES`], else
        /// [`BAD_LENGTH`]); `wait` says how long to wait for the first
        /// one, `deadline` is the time for [`Wait::Until`] (not 0) and 0
        /// otherwise ([`BAD_WAIT`]). Empty when nothing came in time.
        /// [`READERS_BUSY`] when it would wait but as many reads wait
        /// already as the driver can hold while still serving writes.
        fn read(max: u32, wait: Wait, deadline: u64) -> &[u8] = 3;

        /// Sets the [`flags`] (an unknown bit is [`BAD_FLAGS`]); returns
        /// the ones before.
        #[idempotent]
        fn configure(flags: u32) -> u32 = 4;
    }
}

/// Bits of the driver's configuration (`configure`, `info`).
pub mod flags {
    /// Translate each `\n` written into `\r\n` (a terminal in raw mode,
    /// as QEMU's stdio, needs both). On at start.
    pub const CRLF: u32 = 1 << 0;
    /// The UART's loopback mode (modem control bit 4): written bytes come
    /// back as received bytes, through the receive interrupt, and nothing
    /// leaves the port. For tests. Off at start.
    pub const LOOPBACK: u32 = 1 << 1;
    /// Every defined bit.
    pub const ALL: u32 = CRLF | LOOPBACK;
    /// The flags a freshly started driver has.
    pub const DEFAULT: u32 = CRLF;
}

/// `read`'s `max` is 0 or above [`READ_MAX_BYTES`].
pub const BAD_LENGTH: ErrorCode = ErrorCode::new(0x100);
/// `read`'s `deadline` does not match its `wait`: 0 with [`Wait::Until`],
/// or not 0 with the others.
pub const BAD_WAIT: ErrorCode = ErrorCode::new(0x101);
/// `configure` with a bit outside [`flags::ALL`].
pub const BAD_FLAGS: ErrorCode = ErrorCode::new(0x102);
/// A `read` would wait, but the driver has no thread to spare for it
/// (every other one but the last already waits in a read); retry later or
/// read without waiting.
pub const READERS_BUSY: ErrorCode = ErrorCode::new(0x103);

/// The most bytes one `write` takes: a request is one length word and
/// the bytes, 64 words in all.
pub const WRITE_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 1) * 8;
/// The most bytes one `read` returns (its reply has the same shape).
pub const READ_MAX_BYTES: usize = (abi::ipc::MSG_MAX_WORDS - 1) * 8;

/// A checked `read` request: how long it may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadWait {
    /// Answer at once.
    None,
    /// Wait for a byte for ever.
    Forever,
    /// Wait for a byte until this deadline.
    Until(u64),
}

impl ReadWait {
    /// Checks `read`'s arguments: the number of bytes to read at most and
    /// how long to wait.
    ///
    /// # Errors
    /// [`BAD_LENGTH`], [`BAD_WAIT`].
    pub fn check(max: u32, wait: Wait, deadline: u64) -> Result<(usize, ReadWait), ErrorCode> {
        let max = usize::try_from(max).map_err(|_| BAD_LENGTH)?;
        if max == 0 || max > READ_MAX_BYTES {
            return Err(BAD_LENGTH);
        }
        let wait = match (wait, deadline) {
            (Wait::None, 0) => ReadWait::None,
            (Wait::Forever, 0) => ReadWait::Forever,
            (Wait::Until, deadline) if deadline != 0 => ReadWait::Until(deadline),
            _ => return Err(BAD_WAIT),
        };
        Ok((max, wait))
    }
}

/// The receive buffer: a ring of `N` bytes that drops what does not fit
/// and counts it.
#[derive(Debug)]
pub struct RxRing<const N: usize> {
    bytes: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    /// Bytes held (at most `N`).
    len: usize,
    /// Bytes dropped since the ring was made.
    dropped: u64,
}

impl<const N: usize> Default for RxRing<N> {
    fn default() -> Self {
        RxRing::new()
    }
}

impl<const N: usize> RxRing<N> {
    /// An empty ring.
    pub const fn new() -> RxRing<N> {
        RxRing {
            bytes: [0; N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Appends `byte`, or drops it (and counts it) when the ring is full.
    pub fn push(&mut self, byte: u8) {
        if self.len == N {
            self.count_dropped(1);
            return;
        }
        // head < N and len < N, so neither the sum nor the index overflows.
        let tail = (self.head + self.len) % N;
        self.bytes[tail] = byte;
        self.len += 1;
    }

    /// Counts `count` bytes lost elsewhere (the UART's overrun).
    pub fn count_dropped(&mut self, count: u64) {
        self.dropped = self.dropped.saturating_add(count);
    }

    /// Moves the oldest bytes into `out`, as many as fit; returns how many.
    pub fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let count = out.len().min(self.len);
        for slot in &mut out[..count] {
            *slot = self.bytes[self.head];
            self.head = (self.head + 1) % N;
        }
        self.len -= count;
        count
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes dropped since the ring was made.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Splits written data into the chunks that go to the transmit FIFO,
/// translating `\n` into `\r\n` when asked. A chunk may end between the
/// `\r` and its `\n`; the next chunk starts with the `\n`.
#[derive(Debug)]
pub struct OutputChunks<'a> {
    data: &'a [u8],
    /// Index of the next byte of `data` to send.
    next: usize,
    /// A `\r` went out for `data[next]`, a `\n` still to send.
    lf_pending: bool,
    crlf: bool,
}

impl<'a> OutputChunks<'a> {
    /// The chunks of `data`, with `crlf` translation or without.
    pub fn new(data: &'a [u8], crlf: bool) -> OutputChunks<'a> {
        OutputChunks {
            data,
            next: 0,
            lf_pending: false,
            crlf,
        }
    }

    /// Fills `out` with the next bytes to send; returns how many (0 when
    /// everything has been sent).
    pub fn next_chunk(&mut self, out: &mut [u8]) -> usize {
        let mut filled = 0;
        while filled < out.len() {
            let Some(&byte) = self.data.get(self.next) else {
                break;
            };
            if byte == b'\n' && self.crlf && !self.lf_pending {
                out[filled] = b'\r';
                self.lf_pending = true;
            } else {
                out[filled] = byte;
                self.lf_pending = false;
                self.next += 1;
            }
            filled += 1;
        }
        filled
    }
}

/// Writes all of `data`, in calls of at most [`WRITE_MAX_BYTES`]; returns
/// the bytes written.
///
/// # Errors
/// The first failed call's; the bytes before it were written.
pub fn write_all<T: Transport>(client: &mut SerialClient<T>, data: &[u8]) -> Result<u64, Error> {
    let mut written = 0;
    for chunk in data.chunks(WRITE_MAX_BYTES) {
        written += client.write(chunk)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(data: &[u8], crlf: bool, chunk: usize) -> Vec<u8> {
        let mut chunks = OutputChunks::new(data, crlf);
        let mut out = Vec::new();
        let mut buf = vec![0; chunk];
        loop {
            let n = chunks.next_chunk(&mut buf);
            if n == 0 {
                return out;
            }
            assert!(n <= chunk);
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn newlines_become_crlf_across_chunk_boundaries() {
        let data = b"a\nb\n\n\r\nend\n";
        let want = b"a\r\nb\r\n\r\n\r\r\nend\r\n";
        for chunk in 1..20 {
            assert_eq!(translate(data, true, chunk), want, "chunk {chunk}");
            assert_eq!(translate(data, false, chunk), data, "chunk {chunk}");
        }
        assert!(translate(b"", true, 16).is_empty());
    }

    #[test]
    fn ring_keeps_order_and_counts_drops() {
        let mut ring = RxRing::<4>::new();
        for byte in 1..=6 {
            ring.push(byte);
        }
        assert_eq!((ring.len(), ring.dropped()), (4, 2));
        let mut out = [0; 3];
        assert_eq!(ring.pop_into(&mut out), 3);
        assert_eq!(out, [1, 2, 3]);
        ring.push(7);
        ring.push(8);
        ring.push(9);
        assert_eq!(ring.dropped(), 2);
        ring.push(10);
        assert_eq!(ring.dropped(), 3);
        let mut out = [0; 8];
        assert_eq!(ring.pop_into(&mut out), 4);
        assert_eq!(&out[..4], [4, 7, 8, 9]);
        assert!(ring.is_empty());
        assert_eq!(ring.pop_into(&mut out), 0);
        ring.count_dropped(u64::MAX);
        assert_eq!(ring.dropped(), u64::MAX);
    }

    #[test]
    fn read_arguments_are_checked() {
        assert_eq!(ReadWait::check(1, Wait::None, 0), Ok((1, ReadWait::None)));
        assert_eq!(
            ReadWait::check(READ_MAX_BYTES as u32, Wait::Forever, 0),
            Ok((READ_MAX_BYTES, ReadWait::Forever))
        );
        assert_eq!(
            ReadWait::check(8, Wait::Until, 5),
            Ok((8, ReadWait::Until(5)))
        );
        assert_eq!(ReadWait::check(0, Wait::None, 0), Err(BAD_LENGTH));
        assert_eq!(
            ReadWait::check(READ_MAX_BYTES as u32 + 1, Wait::None, 0),
            Err(BAD_LENGTH)
        );
        assert_eq!(ReadWait::check(8, Wait::Until, 0), Err(BAD_WAIT));
        assert_eq!(ReadWait::check(8, Wait::None, 1), Err(BAD_WAIT));
        assert_eq!(ReadWait::check(8, Wait::Forever, 1), Err(BAD_WAIT));
    }
}
