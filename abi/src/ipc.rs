//! The shape of an IPC message: the message-info word, the message
//! registers and the IPC buffer.
//!
//! A message is a 48-bit label, up to [`MSG_MAX_WORDS`] words and up to
//! [`MSG_MAX_CAPS`] capabilities. The first [`MSG_REG_WORDS`] words travel
//! in CPU registers (`rdx, r10, r8, r9`, see [`crate::syscall`]); the rest,
//! and the capability slots, in the sender's and receiver's [`IpcBuffer`]s,
//! which the kernel copies between. A message that fits in registers never
//! touches memory: that is the fast path.

use crate::SysError;

/// Message words passed in registers.
pub const MSG_REG_WORDS: usize = 4;
/// Most words one message carries (registers included).
pub const MSG_MAX_WORDS: usize = 64;
/// Most capabilities one message carries.
pub const MSG_MAX_CAPS: usize = 3;

/// The badge bit a server sets on a capability it mints for a client when
/// it wants to learn, through [`crate::syscall::Syscall::EndpointWatch`],
/// that every copy the client was given has gone.
pub const WATCH_BADGE: u64 = 1 << 62;

/// The word that describes a message: label, length and capability count,
/// plus flags the kernel sets on receive.
///
/// Bits 0-7: length in words (`0..=MSG_MAX_WORDS`); bits 8-9: capability
/// count (`0..=MSG_MAX_CAPS`); bit 11: deadline ([`MessageInfo::with_deadline`],
/// senders only); bit 12: notification ([`MessageInfo::NOTIFICATION`]);
/// bit 13: call; bit 14: fault ([`MessageInfo::FAULT`]); bits 16-63: label.
/// Other bits must be zero, and senders may not set bits 12-14. A receiver
/// never sees bit 11.
///
/// Every flag lies in bits 0-15 above the length, so a register-only
/// message without flags is exactly one whose low 16 bits are at most
/// [`MSG_REG_WORDS`] (the IPC fast path's one-compare test).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MessageInfo(u64);

const LENGTH_MASK: u64 = 0xff;
const CAPS_SHIFT: u32 = 8;
const CAPS_MASK: u64 = 0x3;
const LABEL_SHIFT: u32 = 16;
const FLAG_NOTIFICATION: u64 = 1 << 12;
const FLAG_CALL: u64 = 1 << 13;
const FLAG_FAULT: u64 = 1 << 14;
const FLAG_DEADLINE: u64 = 1 << 11;
const FLAG_BYTES: u64 = 1 << 10;
const RESERVED: u64 = !(LENGTH_MASK
    | (CAPS_MASK << CAPS_SHIFT)
    | (!0u64 << LABEL_SHIFT)
    | FLAG_DEADLINE
    | FLAG_BYTES);
const SENDER_RESERVED: u64 = RESERVED | FLAG_NOTIFICATION | FLAG_CALL | FLAG_FAULT;

/// Largest label (48 bits).
pub const LABEL_MAX: u64 = (1 << 48) - 1;

impl MessageInfo {
    /// Received info of a bound notification's signal (the badge register
    /// then holds the signal bits; no words, no label).
    pub const NOTIFICATION: MessageInfo = MessageInfo(FLAG_NOTIFICATION);

    /// Received info of a fault message ([`fault`]): four words, a call
    /// (the receiver answers with [`fault::RESUME`] or [`fault::KILL`]).
    pub const FAULT: MessageInfo = MessageInfo(FLAG_FAULT | FLAG_CALL | MSG_REG_WORDS as u64);

    /// A message with `label` (truncated to 48 bits), `words` words and
    /// `caps` capabilities. Counts above the limits make an info the
    /// kernel rejects with [`SysError::InvalidArg`].
    pub const fn new(label: u64, words: usize, caps: usize) -> MessageInfo {
        let words = if words > LENGTH_MASK as usize {
            LENGTH_MASK
        } else {
            words as u64
        };
        let caps = if caps > CAPS_MASK as usize {
            CAPS_MASK
        } else {
            caps as u64
        };
        MessageInfo((label & LABEL_MAX) << LABEL_SHIFT | caps << CAPS_SHIFT | words)
    }

    /// Reads a sender's info register.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] for reserved or kernel-only bits, more than
    /// [`MSG_MAX_WORDS`] words or more than [`MSG_MAX_CAPS`] capabilities.
    pub fn from_reg(reg: u64) -> Result<MessageInfo, SysError> {
        let info = MessageInfo(reg);
        if reg & SENDER_RESERVED != 0 || info.words() > MSG_MAX_WORDS || info.caps() > MSG_MAX_CAPS
        {
            return Err(SysError::InvalidArg);
        }
        Ok(info)
    }

    /// The register value.
    pub const fn to_reg(self) -> u64 {
        self.0
    }

    /// Reads a received info register (the kernel's flags allowed).
    pub const fn from_received(reg: u64) -> MessageInfo {
        MessageInfo(reg)
    }

    /// The label.
    pub const fn label(self) -> u64 {
        self.0 >> LABEL_SHIFT
    }

    /// Number of message words.
    pub const fn words(self) -> usize {
        (self.0 & LENGTH_MASK) as usize
    }

    /// Number of capabilities.
    pub const fn caps(self) -> usize {
        ((self.0 >> CAPS_SHIFT) & CAPS_MASK) as usize
    }

    /// Whether this is a bound notification's signal, not a message.
    pub const fn is_notification(self) -> bool {
        self.0 & FLAG_NOTIFICATION != 0
    }

    /// Whether this is a fault message from the kernel ([`fault`]).
    pub const fn is_fault(self) -> bool {
        self.0 & FLAG_FAULT != 0
    }

    /// Whether the sender called (and waits for a reply).
    pub const fn is_call(self) -> bool {
        self.0 & FLAG_CALL != 0
    }

    /// The same info with the call flag set (the kernel does this).
    pub const fn with_call(self) -> MessageInfo {
        MessageInfo(self.0 | FLAG_CALL)
    }

    /// The same info with the deadline flag: the `Send`, `Call` or
    /// `ReplyRecv` that sends it gives up with `SysError::TimedOut` once
    /// the deadline in the sender's IPC buffer ([`IpcBuffer::deadline`])
    /// passes. Senders only; the receiver's info never has it.
    pub const fn with_deadline(self) -> MessageInfo {
        MessageInfo(self.0 | FLAG_DEADLINE)
    }

    /// Whether the sender gave a deadline ([`MessageInfo::with_deadline`]).
    pub const fn has_deadline(self) -> bool {
        self.0 & FLAG_DEADLINE != 0
    }

    /// The same info without the deadline flag (the kernel clears it
    /// before the receiver sees the info).
    pub const fn without_deadline(self) -> MessageInfo {
        MessageInfo(self.0 & !FLAG_DEADLINE)
    }

    /// The same info with the bytes flag: the message also carries the
    /// bytes of the pieces of memory the sender lists in its IPC buffer
    /// ([`IpcBuffer::pieces`]), which the kernel copies into the window
    /// the receiver names in its own ([`IpcBuffer::window`]); the
    /// receiver's info keeps the flag. See docs/ipc.md, "Bytes".
    pub const fn with_bytes(self) -> MessageInfo {
        MessageInfo(self.0 | FLAG_BYTES)
    }

    /// Whether the message carries bytes ([`MessageInfo::with_bytes`]).
    pub const fn has_bytes(self) -> bool {
        self.0 & FLAG_BYTES != 0
    }

    /// The same info with another capability count (the kernel reports
    /// the number transferred).
    pub const fn with_caps(self, caps: usize) -> MessageInfo {
        let caps = if caps > CAPS_MASK as usize {
            CAPS_MASK
        } else {
            caps as u64
        };
        MessageInfo(self.0 & !(CAPS_MASK << CAPS_SHIFT) | caps << CAPS_SHIFT)
    }
}

/// Fault messages: what a thread's fault endpoint receives when the thread
/// takes an exception the kernel cannot resolve (a page fault outside any
/// region, a write to a read-only mapping, a budget that cannot pay for a
/// page, a general-protection fault, ...).
///
/// The message arrives as a call with info [`MessageInfo::FAULT`] and the
/// badge of the fault endpoint capability (so a supervisor that gives
/// each thread its own badge knows which one faulted). Its four words are
/// the vector, the [`kind`](fault::kind) bits, the faulting instruction and
/// the address. The thread stays stopped until the receiver replies: with
/// label [`fault::RESUME`] it runs the faulting instruction again (after the
/// supervisor has, say, mapped a page), with [`fault::KILL`] it ends with
/// the fault as its exit status (as a thread without a fault endpoint does).
pub mod fault {
    /// Reply label: run the faulting instruction again.
    pub const RESUME: u64 = 0;
    /// Reply label: end the thread, reporting the fault.
    pub const KILL: u64 = 1;
    /// Message word 0: the exception vector (14 for a page fault).
    pub const WORD_VECTOR: usize = 0;
    /// Message word 1: [`kind`] bits, with the CPU's error code in bits 32-63.
    pub const WORD_KIND: usize = 1;
    /// Message word 2: the faulting instruction's address.
    pub const WORD_RIP: usize = 2;
    /// Message word 3: the faulting data address (page faults), else 0.
    pub const WORD_ADDR: usize = 3;

    /// Bits of message word 1.
    pub mod kind {
        /// The access was a write.
        pub const WRITE: u64 = 1 << 0;
        /// The access was an instruction fetch.
        pub const EXEC: u64 = 1 << 1;
        /// A page was mapped there but did not allow the access.
        pub const PROTECTION: u64 = 1 << 2;
        /// The address lies in a region, but its budget could not pay
        /// for the page (or a page table).
        pub const OUT_OF_MEMORY: u64 = 1 << 3;
        /// No region covers the address.
        pub const UNMAPPED: u64 = 1 << 4;
        /// Where the CPU's error code starts.
        pub const ERROR_CODE_SHIFT: u32 = 32;
    }
}

/// A thread's IPC buffer: one page at a page-aligned user address the
/// thread's owner sets with `ThreadConfigure`. The kernel reads the
/// sender's and writes the receiver's through their page tables, so either
/// thread may be in another address space.
///
/// `msg[0..MSG_REG_WORDS]` is unused (those words travel in registers); a
/// message of `n` words carries words `MSG_REG_WORDS..n` in `msg` at the
/// same indices. A sender lists the slots of the capabilities it sends in
/// `caps`; the kernel writes the slots where it put received capabilities
/// into the receiver's `caps`. A sender whose info has
/// [`MessageInfo::has_deadline`] puts the deadline in `deadline`; the kernel
/// never writes it. A sender whose info has [`MessageInfo::has_bytes`]
/// lists the memory to send in `piece_count` and `pieces`; a receiver
/// names where such bytes may go in `window`.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
pub struct IpcBuffer {
    /// Message words (the first [`MSG_REG_WORDS`] unused).
    pub msg: [u64; MSG_MAX_WORDS],
    /// Capability slots sent or received.
    pub caps: [u64; MSG_MAX_CAPS],
    /// The deadline of a `Send`, `Call` or `ReplyRecv` whose info has
    /// [`MessageInfo::has_deadline`]: nanoseconds on the monotonic clock
    /// (`ClockRead`), 0 for none. Word [`IPC_BUFFER_DEADLINE_WORD`].
    pub deadline: u64,
    /// Where this thread takes the bytes of a message it receives with
    /// [`MessageInfo::has_bytes`]: the address and the length of a range
    /// of its own memory. The kernel copies at most that many bytes there;
    /// `[0, 0]` takes none.
    pub window: [u64; 2],
    /// The number of bytes the kernel copied into `window` for the last
    /// message with bytes this thread received (written by the kernel
    /// only then).
    pub received: u64,
    /// How many of `pieces` a message with bytes sends, at most
    /// [`MSG_MAX_PIECES`].
    pub piece_count: u64,
    /// The ranges of the sender's memory whose bytes a message with
    /// [`MessageInfo::has_bytes`] carries, in order: address and length
    /// each, [`MSG_MAX_BYTES`] in all at most.
    pub pieces: [[u64; 2]; MSG_MAX_PIECES],
}

/// Bytes of an [`IpcBuffer`] (the rest of its page is the thread's).
pub const IPC_BUFFER_BYTES: usize = core::mem::size_of::<IpcBuffer>();
/// Offset of [`IpcBuffer::caps`].
pub const IPC_BUFFER_CAPS_OFFSET: usize = core::mem::offset_of!(IpcBuffer, caps);
/// Offset of [`IpcBuffer::deadline`].
pub const IPC_BUFFER_DEADLINE_OFFSET: usize = core::mem::offset_of!(IpcBuffer, deadline);
/// Index of [`IpcBuffer::deadline`] among the buffer's 64-bit words (67).
pub const IPC_BUFFER_DEADLINE_WORD: usize = IPC_BUFFER_DEADLINE_OFFSET / 8;
/// Offset of [`IpcBuffer::window`].
pub const IPC_BUFFER_WINDOW_OFFSET: usize = core::mem::offset_of!(IpcBuffer, window);
/// Index of [`IpcBuffer::window`] among the buffer's 64-bit words (68).
pub const IPC_BUFFER_WINDOW_WORD: usize = IPC_BUFFER_WINDOW_OFFSET / 8;
/// Offset of [`IpcBuffer::received`].
pub const IPC_BUFFER_RECEIVED_OFFSET: usize = core::mem::offset_of!(IpcBuffer, received);
/// Offset of [`IpcBuffer::piece_count`].
pub const IPC_BUFFER_PIECE_COUNT_OFFSET: usize = core::mem::offset_of!(IpcBuffer, piece_count);
/// Offset of [`IpcBuffer::pieces`].
pub const IPC_BUFFER_PIECES_OFFSET: usize = core::mem::offset_of!(IpcBuffer, pieces);
/// Most pieces of memory one message with bytes sends.
pub const MSG_MAX_PIECES: usize = 16;
/// Most bytes one message carries in its pieces (64 KiB).
pub const MSG_MAX_BYTES: u64 = 64 * 1024;

impl IpcBuffer {
    /// An empty buffer.
    pub const fn new() -> IpcBuffer {
        IpcBuffer {
            msg: [0; MSG_MAX_WORDS],
            caps: [0; MSG_MAX_CAPS],
            deadline: 0,
            window: [0; 2],
            received: 0,
            piece_count: 0,
            pieces: [[0; 2]; MSG_MAX_PIECES],
        }
    }
}

impl Default for IpcBuffer {
    fn default() -> Self {
        IpcBuffer::new()
    }
}

const _: () = assert!(IPC_BUFFER_BYTES == 832);
const _: () = assert!(IPC_BUFFER_WINDOW_OFFSET == 544);
const _: () = assert!(IPC_BUFFER_BYTES <= 4096);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_round_trips() {
        let info = MessageInfo::new(0xabc, 17, 2);
        assert_eq!(info.label(), 0xabc);
        assert_eq!(info.words(), 17);
        assert_eq!(info.caps(), 2);
        assert_eq!(MessageInfo::from_reg(info.to_reg()), Ok(info));
        let max = MessageInfo::new(LABEL_MAX, MSG_MAX_WORDS, MSG_MAX_CAPS);
        assert_eq!(max.label(), LABEL_MAX);
        assert_eq!(MessageInfo::from_reg(max.to_reg()), Ok(max));
    }

    #[test]
    fn info_rejects_bad_senders() {
        assert_eq!(
            MessageInfo::from_reg(MessageInfo::new(0, MSG_MAX_WORDS + 1, 0).to_reg()),
            Err(SysError::InvalidArg)
        );
        assert_eq!(
            MessageInfo::from_reg(MessageInfo::NOTIFICATION.to_reg()),
            Err(SysError::InvalidArg)
        );
        assert_eq!(
            MessageInfo::from_reg(MessageInfo::new(0, 0, 0).with_call().to_reg()),
            Err(SysError::InvalidArg)
        );
        assert_eq!(MessageInfo::from_reg(1 << 15), Err(SysError::InvalidArg));
    }

    #[test]
    fn bytes_flag() {
        let info = MessageInfo::new(3, 1, 0).with_bytes();
        assert!(info.has_bytes());
        assert!(!MessageInfo::new(3, 1, 0).has_bytes());
        assert_eq!(MessageInfo::from_reg(info.to_reg()), Ok(info));
        assert!(info.with_caps(2).without_deadline().has_bytes());
        assert_eq!(IPC_BUFFER_WINDOW_WORD, 68);
        assert_eq!(IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_PIECE_COUNT_OFFSET + 8);
    }

    #[test]
    fn deadline_flag() {
        let info = MessageInfo::new(9, 2, 1).with_deadline();
        assert!(info.has_deadline());
        assert_eq!(MessageInfo::from_reg(info.to_reg()), Ok(info));
        assert_eq!((info.label(), info.words(), info.caps()), (9, 2, 1));
        let plain = info.without_deadline();
        assert!(!plain.has_deadline());
        assert_eq!(plain, MessageInfo::new(9, 2, 1));
        // The fast path's test (`reg & 0xffff <= MSG_REG_WORDS`) turns down
        // every message with a deadline.
        assert!(MessageInfo::new(0, 0, 0).with_deadline().to_reg() & 0xffff > MSG_REG_WORDS as u64);
    }

    #[test]
    fn flags() {
        let info = MessageInfo::new(5, 1, 0).with_call().with_caps(1);
        assert!(info.is_call());
        assert!(!info.is_notification());
        assert_eq!(info.caps(), 1);
        assert_eq!(info.label(), 5);
        assert!(MessageInfo::NOTIFICATION.is_notification());
        assert!(MessageInfo::FAULT.is_fault() && MessageInfo::FAULT.is_call());
        assert_eq!(MessageInfo::FAULT.words(), MSG_REG_WORDS);
        assert_eq!(
            MessageInfo::from_reg(MessageInfo::FAULT.to_reg()),
            Err(SysError::InvalidArg)
        );
    }

    #[test]
    fn buffer_layout() {
        assert_eq!(IPC_BUFFER_CAPS_OFFSET, 512);
        assert_eq!(IPC_BUFFER_DEADLINE_OFFSET, 536);
        assert_eq!(IPC_BUFFER_DEADLINE_WORD, 67);
        assert_eq!(core::mem::align_of::<IpcBuffer>(), 8);
    }
}
