//! Messages and endpoints.
//!
//! A [`Message`] is one type for every IPC: a label, up to
//! [`MSG_MAX_WORDS`] words and up to [`MSG_MAX_CAPS`] capabilities, and on
//! receipt the sender's badge. The first [`MSG_REG_WORDS`] words travel in
//! registers; the others, the capabilities and a deadline go through the
//! calling thread's IPC buffer, which every thread made by `rt` has. A
//! message of at most four words and no capability never touches the
//! buffer (the kernel's fast path).
//!
//! [`Endpoint`] wraps the IPC syscalls with the argument structs of `abi`
//! (`CallArgs`, `RecvResult`, ...): one encoding, the kernel's.

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use abi::ipc::{MSG_MAX_CAPS, MSG_MAX_WORDS, MSG_REG_WORDS, MessageInfo};
use abi::syscall::{
    CallArgs, NbRecvArgs, NbSendArgs, RecvArgs, RecvResult, ReplyArgs, ReplyRecvArgs,
    ReplySaveRecvArgs, ReplyWithArgs, SendArgs, SyscallArgs, SyscallResult,
};
use abi::{CapSlot, SysError};

use crate::handle::{Handle, handle};
use crate::ipc_buffer::IpcBufferPtr;
use crate::memory::Budget;
use crate::sys;

/// A message, to send or as received.
///
/// Making one costs a few stores, not 64: only the register words start
/// as zero, and `words[..len]` is all that is ever read.
#[derive(Clone)]
pub struct Message {
    /// The label, and the number of words and capabilities in the info
    /// word's count bits (so sending and receiving move one word, not
    /// three); on receipt, the kernel's flags too.
    info: MessageInfo,
    badge: u64,
    /// Invariant: `words[..max(len, MSG_REG_WORDS)]` are initialised, and
    /// the counts in `info` are at most [`MSG_MAX_WORDS`] and
    /// [`MSG_MAX_CAPS`].
    words: [MaybeUninit<u64>; MSG_MAX_WORDS],
    caps: [CapSlot; MSG_MAX_CAPS],
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("label", &self.label())
            .field("badge", &self.badge)
            .field("words", &self.words())
            .field("caps", &self.caps())
            .finish()
    }
}

/// The info word's length bits.
const LENGTH_BITS: u64 = 0xff;
/// The info word's capability-count bits.
const CAPS_SHIFT: u32 = 8;
/// The info word's length and capability-count bits.
const COUNT_BITS: u64 = 0x3ff;
/// The info word's flag bits (the kernel's, and the deadline's), which a
/// message sent never carries over from one received.
const FLAG_BITS: u64 = 0xfc00;
/// A message to send with bytes ([`Message::send_bytes`]) keeps it in bit
/// 15, which the kernel never sets in a received info, so a received
/// message's bytes flag (bit 10) is never sent on by mistake with whatever
/// pieces the IPC buffer still lists.
const SEND_BYTES: u64 = 1 << 15;
const _: () = assert!(MessageInfo::new(0, 0xff, 3).to_reg() == COUNT_BITS);
const _: () = assert!(MessageInfo::new(1, 0, 0).to_reg() == FLAG_BITS + 0x400);

/// A message has no room for another word or capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl Default for Message {
    fn default() -> Self {
        Message::new(0)
    }
}

impl Message {
    /// An empty message with `label` (48 bits; higher bits are cut).
    #[inline(always)]
    pub const fn new(label: u64) -> Message {
        let mut words = [MaybeUninit::uninit(); MSG_MAX_WORDS];
        let mut index = 0;
        while index < MSG_REG_WORDS {
            words[index] = MaybeUninit::new(0);
            index += 1;
        }
        Message {
            info: MessageInfo::new(label, 0, 0),
            badge: 0,
            words,
            caps: [CapSlot::NULL; MSG_MAX_CAPS],
        }
    }

    /// A message with `label` and `words` (at most [`MSG_MAX_WORDS`]; the
    /// rest are cut).
    pub fn with_words(label: u64, words: &[u64]) -> Message {
        let mut message = Message::new(label);
        for &word in words.iter().take(MSG_MAX_WORDS) {
            let _ = message.push(word);
        }
        message
    }

    /// The label.
    #[inline(always)]
    pub fn label(&self) -> u64 {
        self.info.label()
    }

    /// Sets the label and empties the message (words and capabilities).
    /// The register words keep their old values, which travel unread past
    /// the length; [`Message::clear`] zeroes them too.
    pub fn reset(&mut self, label: u64) {
        self.info = MessageInfo::new(label, 0, 0);
    }

    /// As [`Message::new`] in place: the label, no words, no capabilities,
    /// and zero register words (so nothing of an earlier message travels
    /// with this one), without writing the whole message.
    #[inline(always)]
    pub fn clear(&mut self, label: u64) {
        // The badge is left: it only means something in a received message.
        self.info = MessageInfo::new(label, 0, 0);
        for word in &mut self.words[..MSG_REG_WORDS] {
            *word = MaybeUninit::new(0);
        }
    }

    /// The words.
    #[inline(always)]
    pub fn words(&self) -> &[u64] {
        let len = self.len();
        debug_assert!(len <= MSG_MAX_WORDS);
        // SAFETY: `len <= MSG_MAX_WORDS` and words[..len] are initialised
        // (the type's invariant: `push` stops at the limit, `store` clamps
        // what the kernel reports, `set_counts` is given counts within
        // it), and MaybeUninit<u64> has u64's layout. (Not a checked slice:
        // this is on every message's path.)
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u64>(), len) }
    }

    /// Word `index`, or 0 past the end.
    #[inline(always)]
    pub fn word(&self, index: usize) -> u64 {
        self.words().get(index).copied().unwrap_or(0)
    }

    /// Appends a word.
    ///
    /// # Errors
    /// [`Full`] past [`MSG_MAX_WORDS`].
    #[inline(always)]
    pub fn push(&mut self, word: u64) -> Result<(), Full> {
        let len = self.len();
        let slot = self.words.get_mut(len).ok_or(Full)?;
        *slot = MaybeUninit::new(word);
        // Below 64 words (checked just above): the count stays in its bits.
        self.info = MessageInfo::from_received(self.info.to_reg() + 1);
        Ok(())
    }

    /// Room for `more` words.
    pub fn room(&self) -> usize {
        MSG_MAX_WORDS - self.len()
    }

    /// Number of words.
    #[inline(always)]
    fn len(&self) -> usize {
        (self.info.to_reg() & LENGTH_BITS) as usize
    }

    /// Number of capabilities.
    #[inline(always)]
    fn caps_len(&self) -> usize {
        ((self.info.to_reg() & COUNT_BITS) >> CAPS_SHIFT) as usize
    }

    /// Sets the counts (each within its limit).
    fn set_counts(&mut self, len: usize, caps: usize) {
        let others = self.info.to_reg() & !COUNT_BITS;
        let counts = ((caps as u64) << CAPS_SHIFT) | len as u64;
        self.info = MessageInfo::from_received(others | counts);
    }

    /// Cuts the message to its first `len` words (no-op if shorter).
    pub fn truncate(&mut self, len: usize) {
        self.set_counts(self.len().min(len), self.caps_len());
    }

    /// The capabilities: slots to send, or the slots the kernel put the
    /// received ones in (the receiver owns those now).
    #[inline(always)]
    pub fn caps(&self) -> &[CapSlot] {
        &self.caps[..self.caps_len()]
    }

    /// Appends a capability to send (the endpoint capability and this one
    /// both need `GRANT`). The sender keeps its own.
    ///
    /// # Errors
    /// [`Full`] past [`MSG_MAX_CAPS`].
    pub fn push_cap(&mut self, slot: CapSlot) -> Result<(), Full> {
        let caps = self.caps_len();
        let entry = self.caps.get_mut(caps).ok_or(Full)?;
        *entry = slot;
        self.info = MessageInfo::from_received(self.info.to_reg() + (1 << CAPS_SHIFT));
        Ok(())
    }

    /// Forgets the capabilities (say, after taking ownership of received
    /// ones) without deleting them.
    pub fn clear_caps(&mut self) {
        self.set_counts(self.len(), 0);
    }

    /// The badge of the sender's capability in a received message (0 for a
    /// reply or an unbadged sender; the signal bits of a bound
    /// notification). A message built since then keeps the old value.
    #[inline(always)]
    pub fn badge(&self) -> u64 {
        self.badge
    }

    /// Sends the bytes of the pieces this thread listed with
    /// [`crate::ipc_bytes::set_pieces`] with the message (docs/ipc.md,
    /// "Bytes"). [`Message::reset`] and [`Message::clear`] undo it.
    pub fn send_bytes(&mut self) {
        self.info = MessageInfo::from_received(self.info.to_reg() | SEND_BYTES);
    }

    /// The received info word: whether it is a call, a fault message, a
    /// notification's signal.
    #[inline(always)]
    pub fn info(&self) -> MessageInfo {
        self.info
    }

    /// Writes what does not fit in registers to the IPC buffer and returns
    /// the info word to send.
    #[inline(always)]
    fn load(&self, deadline: Option<u64>) -> MessageInfo {
        // The label's bits, and the counts in bits 0-9 (`len <= 64` and
        // `caps_len <= 3` always hold): any received flag in the low 16
        // bits goes, as `MessageInfo::new` would drop it.
        // The label and the counts; any received flag goes.
        let raw = self.info.to_reg() & !FLAG_BITS;
        let mut info = MessageInfo::from_received(raw);
        if self.info.to_reg() & SEND_BYTES != 0 {
            info = info.with_bytes();
        }
        // One compare: more than the register words, or any capability.
        if raw & COUNT_BITS > MSG_REG_WORDS as u64 || deadline.is_some() {
            let buffer = IpcBufferPtr::current();
            for (index, &word) in self.words().iter().enumerate().skip(MSG_REG_WORDS) {
                buffer.set_word(index, word);
            }
            for (index, &slot) in self.caps().iter().enumerate() {
                buffer.set_cap(index, slot);
            }
            if let Some(deadline) = deadline {
                buffer.set_deadline(deadline);
                info = info.with_deadline();
            }
        }
        info
    }

    /// The register words to send.
    #[inline(always)]
    fn registers(&self) -> [u64; MSG_REG_WORDS] {
        // SAFETY: the register words are always initialised (invariant).
        unsafe {
            [
                self.words[0].assume_init(),
                self.words[1].assume_init(),
                self.words[2].assume_init(),
                self.words[3].assume_init(),
            ]
        }
    }

    /// Takes in a received message from the result registers (and the
    /// IPC buffer for the rest).
    #[inline(always)]
    fn store(&mut self, result: RecvResult) {
        self.info = MessageInfo::from_received(result.info);
        self.badge = result.badge;
        let registers = [result.mr0, result.mr1, result.mr2, result.mr3];
        for (slot, word) in self.words.iter_mut().zip(registers) {
            *slot = MaybeUninit::new(word);
        }
        // One compare on the length and capability bits of the info word.
        if result.info & COUNT_BITS > MSG_REG_WORDS as u64 {
            // The kernel never reports more than 64 words and 3
            // capabilities; the clamp keeps the invariant if it did.
            let len = self.info.words().min(MSG_MAX_WORDS);
            let caps = self.info.caps().min(MSG_MAX_CAPS);
            self.set_counts(len, caps);
            let buffer = IpcBufferPtr::current();
            for index in MSG_REG_WORDS..len {
                self.words[index] = MaybeUninit::new(buffer.word(index));
            }
            for index in 0..caps {
                self.caps[index] = buffer.cap(index);
            }
        }
    }
}

/// Makes an IPC syscall and takes in what it received.
#[inline(always)]
fn exchange<A: SyscallArgs>(args: A, message: &mut Message) -> Result<(), SysError> {
    let (status, regs) = sys::raw_syscall(A::SYSCALL.number(), args.encode());
    if status != 0 {
        return Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall));
    }
    message.store(RecvResult::decode(&regs));
    Ok(())
}

/// Makes an IPC syscall that receives nothing.
#[inline(always)]
fn deliver<A: SyscallArgs>(args: A) -> Result<(), SysError> {
    let (status, _) = sys::raw_syscall(A::SYSCALL.number(), args.encode());
    match status {
        0 => Ok(()),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

handle!(
    /// An endpoint capability: a rendezvous for messages and calls.
    Endpoint
);

macro_rules! message_args {
    ($args:ident, $slot:ident, $value:expr, $message:expr, $deadline:expr) => {{
        let info = $message.load($deadline);
        let [mr0, mr1, mr2, mr3] = $message.registers();
        $args {
            $slot: $value,
            info,
            mr0,
            mr1,
            mr2,
            mr3,
        }
    }};
}

impl Endpoint {
    /// `EndpointCreate`.
    ///
    /// # Errors
    /// The kernel's (`OutOfMemory` when `budget` cannot pay).
    pub fn create(budget: &Budget) -> Result<Endpoint, SysError> {
        sys::endpoint_create(budget.slot()).map(Endpoint::from_raw)
    }

    /// `Send`: waits until a receiver takes `message`.
    ///
    /// # Errors
    /// The kernel's (`PeerClosed` when the endpoint is destroyed).
    pub fn send(&self, message: &Message) -> Result<(), SysError> {
        deliver(message_args!(SendArgs, endpoint, self.slot, message, None))
    }

    /// `Send` that gives up with [`SysError::TimedOut`] when no receiver
    /// has taken `message` by `deadline` (nanoseconds on the monotonic
    /// clock).
    ///
    /// # Errors
    /// The kernel's.
    pub fn send_until(&self, message: &Message, deadline: u64) -> Result<(), SysError> {
        deliver(message_args!(
            SendArgs,
            endpoint,
            self.slot,
            message,
            Some(deadline)
        ))
    }

    /// `NbSend`: delivers `message` only if a receiver is waiting.
    ///
    /// # Errors
    /// [`SysError::WouldBlock`] when none is; otherwise the kernel's.
    pub fn nb_send(&self, message: &Message) -> Result<(), SysError> {
        deliver(message_args!(
            NbSendArgs, endpoint, self.slot, message, None
        ))
    }

    /// `Call`: sends `message` and waits for the reply, which replaces it.
    ///
    /// # Errors
    /// The kernel's; [`SysError::PeerClosed`] when the server ends or drops
    /// the call without answering.
    #[inline(always)]
    pub fn call(&self, message: &mut Message) -> Result<(), SysError> {
        let args = message_args!(CallArgs, endpoint, self.slot, message, None);
        exchange(args, message)
    }

    /// `Call` that gives up with [`SysError::TimedOut`] when no server has
    /// taken it by `deadline` (once taken, the reply is awaited).
    ///
    /// # Errors
    /// The kernel's.
    pub fn call_until(&self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        let args = message_args!(CallArgs, endpoint, self.slot, message, Some(deadline));
        exchange(args, message)
    }

    /// `Recv`: waits for a message, which replaces `message`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn recv(&self, message: &mut Message) -> Result<(), SysError> {
        self.recv_until(message, 0)
    }

    /// `Recv` until `deadline` (0: for ever).
    ///
    /// # Errors
    /// [`SysError::TimedOut`] at the deadline; otherwise the kernel's.
    pub fn recv_until(&self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        let args = RecvArgs {
            endpoint: self.slot,
            deadline,
        };
        exchange(args, message)
    }

    /// `NbRecv`: takes a message only if one is waiting.
    ///
    /// # Errors
    /// [`SysError::WouldBlock`] when none is.
    pub fn nb_recv(&self, message: &mut Message) -> Result<(), SysError> {
        exchange(
            NbRecvArgs {
                endpoint: self.slot,
            },
            message,
        )
    }

    /// `ReplyRecv`: answers the last call with `message`, then waits on
    /// this endpoint for the next, which replaces `message`.
    ///
    /// # Errors
    /// The kernel's.
    #[inline(always)]
    pub fn reply_recv(&self, message: &mut Message) -> Result<(), SysError> {
        let args = message_args!(ReplyRecvArgs, endpoint, self.slot, message, None);
        exchange(args, message)
    }

    /// `ReplySaveRecv`: keeps the call this thread last received (its
    /// reply right becomes a Reply capability in the empty slot `dst`),
    /// then waits on this endpoint for the next message, which replaces
    /// `message`: [`SavedReply::save`] and [`Endpoint::recv`] in one
    /// syscall. Returns the saved reply (dead, answering `PeerClosed`, if
    /// its caller had already gone) and the receive's result.
    ///
    /// # Errors
    /// When nothing was saved or received: the endpoint capability's
    /// errors; [`SysError::InvalidArg`] for a NULL `dst` or a fault
    /// message's right (kept); [`SysError::InvalidCap`] without a reply
    /// right, or for a `dst` out of range or full (the right is kept).
    /// The receive's own errors (`BadAddress`, `PeerClosed`, `TimedOut`)
    /// come inside the `Ok`, with the reply saved.
    #[inline(always)]
    pub fn reply_save_recv(
        &self,
        dst: CapSlot,
        message: &mut Message,
    ) -> Result<(SavedReply, Result<(), SysError>), SysError> {
        let args = ReplySaveRecvArgs {
            endpoint: self.slot,
            dst,
            deadline: 0,
        };
        let (status, regs) = sys::raw_syscall(ReplySaveRecvArgs::SYSCALL.number(), args.encode());
        let status = match status {
            0 => {
                message.store(RecvResult::decode(&regs));
                Ok(())
            }
            code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
        };
        match status {
            // The save's checks come first and change nothing when they fail.
            Err(
                error @ (SysError::InvalidCap
                | SysError::WrongType
                | SysError::MissingRights
                | SysError::InvalidArg
                | SysError::UnknownSyscall),
            ) => Err(error),
            result => Ok((SavedReply::from_raw(dst), result)),
        }
    }

    /// `ReplyRecv` whose receive gives up at `deadline`.
    ///
    /// # Errors
    /// The kernel's.
    pub fn reply_recv_until(&self, message: &mut Message, deadline: u64) -> Result<(), SysError> {
        let args = message_args!(ReplyRecvArgs, endpoint, self.slot, message, Some(deadline));
        exchange(args, message)
    }
}

/// `Reply`: answers the last call this thread received.
///
/// # Errors
/// [`SysError::InvalidCap`] when there is nothing to answer;
/// [`SysError::PeerClosed`] when the caller has gone.
pub fn reply(message: &Message) -> Result<(), SysError> {
    deliver(message_args!(ReplyArgs, reserved, 0, message, None))
}

/// `ReplyWith` through the Reply capability in `reply` (see [`SavedReply`],
/// which owns one).
///
/// # Errors
/// As [`reply`]; [`SysError::PeerClosed`] when the caller has gone (the
/// slot is emptied then, as after a success); [`SysError::InvalidCap`] or
/// [`SysError::WrongType`] for the slot.
pub fn reply_with(reply: CapSlot, message: &Message) -> Result<(), SysError> {
    deliver(message_args!(ReplyWithArgs, reply, reply, message, None))
}

handle!(
    /// A saved reply: the right to answer one caller, kept while this
    /// thread (or another of its capability space) serves other calls.
    ///
    /// [`SavedReply::save`] takes the thread's current reply right (after
    /// a `Recv` of a call); the thread then holds none, so it goes on
    /// with [`Endpoint::recv`] (a [`Endpoint::reply_recv`] would find
    /// nothing to answer). [`SavedReply::send`] answers. Dropping the
    /// handle deletes the capability, and the caller's `Call` fails with
    /// [`SysError::PeerClosed`]: a caller is never left waiting for an
    /// answer nobody can give. The capability cannot be copied, minted or
    /// sent to another capability space.
    SavedReply
);

impl SavedReply {
    /// `ReplySave`: the reply right of the call this thread last received,
    /// in the lowest free slot.
    ///
    /// # Errors
    /// [`SysError::InvalidCap`] when there is nothing to answer;
    /// [`SysError::InvalidArg`] for a fault message (answer it with
    /// [`reply`]); [`SysError::PeerClosed`] when the caller has gone;
    /// [`SysError::OutOfMemory`] when no slot is free (the right is kept).
    pub fn save() -> Result<SavedReply, SysError> {
        sys::reply_save(CapSlot::NULL).map(SavedReply::from_raw)
    }

    /// `ReplyWith`: answers the saved caller with `message`.
    ///
    /// # Errors
    /// [`SysError::PeerClosed`] when the caller has gone. The other
    /// errors are the sender's (`Reply`'s: a bad capability to send, a
    /// missing buffer, the caller's space full); the capability is then
    /// deleted with the handle, and the caller gets `PeerClosed`. To try
    /// again instead, use [`reply_with`] on [`Handle::slot`] and
    /// [`Handle::into_raw`] once it has succeeded.
    pub fn send(self, message: &Message) -> Result<(), SysError> {
        match reply_with(self.slot, message) {
            // The kernel has emptied the slot.
            result @ (Ok(()) | Err(SysError::PeerClosed)) => {
                SPARE_SLOT.store(self.into_raw().0, Ordering::Relaxed);
                result
            }
            Err(error) => Err(error),
        }
    }

    /// A slot that held a saved reply this process has answered since the
    /// last call, once: a likely free `dst` for
    /// [`Endpoint::reply_save_recv`]. Only a hint: something else may have
    /// taken the slot since (the kernel then refuses it with
    /// `InvalidCap`, changing nothing).
    pub fn spare_slot() -> Option<CapSlot> {
        match SPARE_SLOT.swap(0, Ordering::Relaxed) {
            0 => None,
            slot => Some(CapSlot(slot)),
        }
    }
}

/// The slot of the last saved reply answered ([`SavedReply::spare_slot`]);
/// 0 for none.
static SPARE_SLOT: AtomicU32 = AtomicU32::new(0);

/// Capability slot `index` of the message the calling thread received
/// last (from its IPC buffer), for a receive made without a [`Message`]
/// (a raw `Recv` whose `MessageInfo` counts capabilities). Only for
/// threads `rt` made.
pub fn received_cap(index: usize) -> CapSlot {
    IpcBufferPtr::current().cap(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_message_is_empty_with_zero_registers() {
        let message = Message::new(7);
        assert_eq!(message.label(), 7);
        assert!(message.words().is_empty());
        assert!(message.caps().is_empty());
        assert_eq!(message.registers(), [0; MSG_REG_WORDS]);
        assert_eq!(message.word(3), 0);
    }

    #[test]
    fn words_and_caps_fill_up_to_their_limits() {
        let mut message = Message::new(1);
        for i in 0..MSG_MAX_WORDS as u64 {
            assert_eq!(message.push(i), Ok(()));
        }
        assert_eq!(message.push(99), Err(Full));
        assert_eq!(message.words().len(), MSG_MAX_WORDS);
        assert_eq!(message.word(63), 63);
        assert_eq!(message.word(64), 0);
        assert_eq!(message.room(), 0);
        for i in 0..MSG_MAX_CAPS as u32 {
            assert_eq!(message.push_cap(CapSlot(i + 1)), Ok(()));
        }
        assert_eq!(message.push_cap(CapSlot(9)), Err(Full));
        message.truncate(2);
        assert_eq!(message.words(), &[0, 1]);
        message.reset(5);
        assert_eq!(
            (message.label(), message.words().len(), message.caps().len()),
            (5, 0, 0)
        );
    }

    #[test]
    fn with_words_cuts_at_the_limit_and_label_at_48_bits() {
        let long = [3u64; 80];
        assert_eq!(Message::with_words(1, &long).words().len(), MSG_MAX_WORDS);
        assert_eq!(Message::new(u64::MAX).label(), abi::ipc::LABEL_MAX);
    }

    #[test]
    fn a_received_message_takes_the_registers_and_counts() {
        let mut message = Message::with_words(1, &[9, 9, 9, 9]);
        let info = MessageInfo::new(42, 3, 0).to_reg();
        message.store(RecvResult {
            badge: 5,
            info,
            mr0: 1,
            mr1: 2,
            mr2: 3,
            mr3: 4,
        });
        assert_eq!(message.label(), 42);
        assert_eq!(message.badge(), 5);
        assert_eq!(message.words(), &[1, 2, 3]);
        // The register words past the length are still initialised.
        assert_eq!(message.registers(), [1, 2, 3, 4]);
    }

    #[test]
    fn the_info_word_sent_matches_the_message() {
        let mut message = Message::with_words(3, &[1, 2]);
        assert_eq!(message.load(None), MessageInfo::new(3, 2, 0));
        message.reset(4);
        assert_eq!(message.load(None), MessageInfo::new(4, 0, 0));
    }
}
