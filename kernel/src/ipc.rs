//! IPC through endpoints: the general (slow) path of send, receive, call
//! and reply, and the message transfer between two threads.
//!
//! A message waits in its sender: a blocked sender's label, length and
//! first words stay in its saved argument registers (`rsi` = info,
//! `rdx, r10, r8, r9` = words 0-3), the rest in its IPC buffer. When sender
//! and receiver meet, [`transfer`] checks everything on both sides first,
//! then copies: a transfer either happens whole or not at all (the bytes
//! of a message with bytes, `crate::ipc_bytes`, go first, and a failure
//! there may leave some of them in the receiver's window). A failure
//! is blamed on one side ([`TransferError`]); the other side's operation
//! goes on as if they had not met (the message is not lost).
//!
//! The IPC buffers are reached through the two threads' page tables and
//! the kernel's direct map, so either thread may be in another address
//! space.
//!
//! Deadlines: a blocking send or receive may carry one
//! ([`Blocking::Until`]). If no partner is there and it has passed, the
//! call fails with `TimedOut` at once; otherwise the thread blocks with its
//! timeout armed (`crate::timer`). Taking its message or waking it disarms
//! the timeout; for a caller, the deadline covers only the wait for a
//! receiver, never the wait for the reply ([`link_reply`]).

use abi::ipc::{
    IPC_BUFFER_BYTES, IPC_BUFFER_CAPS_OFFSET, IPC_BUFFER_DEADLINE_OFFSET, MSG_MAX_CAPS,
    MSG_REG_WORDS, MessageInfo, fault,
};
use abi::syscall::{RecvResult, SyscallResult};
use abi::{CapSlot, Rights, SysError};

use crate::arch::user_tables::{self, Access};
use crate::cap::{Capability, SlotId, tree};
use crate::ipc_bytes;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::mem::phys;
use crate::object::cspace;
use crate::object::endpoint::{self, Endpoint, QueueKind};
use crate::object::thread::{self, BufferTlb, ReplyRight, SendKind, Thread, ThreadState};
use crate::timer;
use crate::vm;

/// Which side of a transfer was at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// The sender's message or capabilities are bad.
    Sender(SysError),
    /// The receiver cannot take the message.
    Receiver(SysError),
}

/// How a sender sends.
#[derive(Clone, Copy, Debug)]
pub struct SendMode {
    /// Badge of the capability used.
    pub badge: u64,
    /// Capabilities may go along.
    pub grant: bool,
    /// A send, a call or a fault message.
    pub kind: SendKind,
}

/// Whether an operation that finds no partner waits for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    /// Wait in the endpoint's queue.
    Block,
    /// Wait in the endpoint's queue until this deadline (nanoseconds on
    /// the monotonic clock, not 0), then fail with `TimedOut`.
    Until(u64),
    /// Fail with `WouldBlock` at once.
    Poll,
}

impl Blocking {
    /// A blocking wait until `deadline_ns`, or for ever for 0.
    pub fn until(deadline_ns: u64) -> Blocking {
        match deadline_ns {
            0 => Blocking::Block,
            deadline => Blocking::Until(deadline),
        }
    }

    /// Where no partner is waiting: `Ok` with the deadline to arm (0 for
    /// none) if the caller may block, else the error it gets at once.
    fn may_block(self) -> Result<u64, SysError> {
        match self {
            Blocking::Block => Ok(0),
            Blocking::Until(deadline) if timer::expired(deadline) => Err(SysError::TimedOut),
            Blocking::Until(deadline) => Ok(deadline),
            Blocking::Poll => Err(SysError::WouldBlock),
        }
    }
}

/// The deadline the running thread `caller` put in its IPC buffer for a
/// message whose info has the deadline flag.
///
/// # Errors
/// [`SysError::InvalidArg`] without an IPC buffer; [`SysError::BadAddress`]
/// if it is not mapped readable.
#[inline(never)]
pub fn buffer_deadline(k: &mut Kernel, caller: ObjId<Thread>) -> Result<u64, SysError> {
    if k.objects.get(caller).ipc_buffer == 0 {
        return Err(SysError::InvalidArg);
    }
    let buffer = buffer_phys(k, caller, Access::Read).ok_or(SysError::BadAddress)?;
    Ok(phys::read_u64(buffer_word(
        buffer,
        IPC_BUFFER_DEADLINE_OFFSET,
    )))
}

/// The physical address of a thread's IPC buffer, if it has one in a
/// region that allows the access (faulted in if it is not yet mapped).
#[inline(always)]
fn buffer_phys(k: &mut Kernel, id: ObjId<Thread>, access: Access) -> Option<u64> {
    let thread = k.objects.get(id);
    let (aspace, buffer) = (thread.aspace, thread.ipc_buffer);
    if buffer == 0 {
        return None;
    }
    match mapped_buffer(k, id, access) {
        Some(phys) => Some(phys),
        None => fault_in_buffer(k, aspace, buffer, access),
    }
}

/// The physical address of a thread's IPC buffer, if it has one and its
/// page is mapped with the access (nothing is faulted in: the fast path's
/// check, which leaves every other case to [`transfer`]).
///
/// The thread's last translation is kept (`Thread::buffer_tlb`) and used
/// again while no page-table entry has been written since.
#[inline(always)]
pub fn mapped_buffer(k: &mut Kernel, id: ObjId<Thread>, access: Access) -> Option<u64> {
    let thread = k.objects.get(id);
    if thread.ipc_buffer == 0 {
        return None;
    }
    let generation = user_tables::generation();
    let tlb = thread.buffer_tlb;
    if tlb.generation == generation && (tlb.writable || access != Access::Write) {
        return Some(tlb.frame);
    }
    let root = k.objects.get(thread.aspace).root;
    // The buffer is page-aligned: its address is its frame's.
    let frame = user_tables::translate_ram(root, thread.ipc_buffer, access)?;
    k.objects.get_mut(id).buffer_tlb = BufferTlb {
        frame,
        generation,
        writable: access == Access::Write,
    };
    Some(frame)
}

/// Copies message words `MSG_REG_WORDS..words` from the IPC buffer at
/// physical `source` to the one at `destination` (both checked by
/// [`buffer_phys`] or [`mapped_buffer`]).
#[inline(always)]
pub fn copy_buffer_words(source: u64, destination: u64, words: usize) {
    let first = MSG_REG_WORDS * 8;
    let count = words.saturating_sub(MSG_REG_WORDS);
    phys::copy_words(
        buffer_word(destination, first),
        buffer_word(source, first),
        count,
    );
}

/// The physical address of the byte at `offset` of the IPC buffer at
/// physical `buffer`: the buffer lies in one RAM page, the offset inside
/// the buffer, so the sum cannot wrap.
#[inline(always)]
fn buffer_word(buffer: u64, offset: usize) -> u64 {
    debug_assert!(offset < core::mem::size_of::<abi::ipc::IpcBuffer>());
    buffer.wrapping_add(offset as u64)
}

/// The offset in the IPC buffer of capability `i` (below `MSG_MAX_CAPS`).
fn cap_offset(i: usize) -> usize {
    debug_assert!(i < MSG_MAX_CAPS);
    IPC_BUFFER_CAPS_OFFSET.wrapping_add(i.wrapping_mul(8))
}

/// [`buffer_phys`] for a buffer page not mapped yet (or copy-on-write).
#[cold]
#[inline(never)]
fn fault_in_buffer(
    k: &mut Kernel,
    aspace: ObjId<crate::object::aspace::AddressSpace>,
    buffer: u64,
    access: Access,
) -> Option<u64> {
    vm::fault::populate(k, aspace, buffer, IPC_BUFFER_BYTES as u64, access).ok()?;
    let root = k.objects.get(aspace).root;
    user_tables::translate_ram(root, buffer, access)
}

/// Moves the message `sender` holds to `receiver` and returns the
/// receiver's result registers.
///
/// # Errors
/// [`TransferError`]; nothing has changed then.
pub fn transfer(
    k: &mut Kernel,
    sender: ObjId<Thread>,
    receiver: ObjId<Thread>,
    mode: SendMode,
) -> Result<[u64; 6], TransferError> {
    if mode.kind == SendKind::Fault {
        let words = k.objects.get(sender).fault;
        return Ok(RecvResult {
            badge: mode.badge,
            info: MessageInfo::FAULT.to_reg(),
            mr0: words[0],
            mr1: words[1],
            mr2: words[2],
            mr3: words[3],
        }
        .encode());
    }
    let context = &k.objects.get(sender).context;
    let info = MessageInfo::from_received(context.rsi);
    let words = [context.rdx, context.r10, context.r8, context.r9];
    let (word_count, cap_count) = (info.words(), info.caps());

    // Check both sides.
    let mut buffers = None;
    if word_count > MSG_REG_WORDS || cap_count > 0 || info.has_bytes() {
        let source = buffer_phys(k, sender, Access::Read)
            .ok_or(TransferError::Sender(SysError::BadAddress))?;
        let destination = buffer_phys(k, receiver, Access::Write)
            .ok_or(TransferError::Receiver(SysError::BadAddress))?;
        buffers = Some((source, destination));
    }
    let mut sent: [Option<(SlotId, Capability)>; MSG_MAX_CAPS] = [None; MSG_MAX_CAPS];
    if let Some((source, _)) = buffers
        && cap_count > 0
    {
        if !mode.grant {
            return Err(TransferError::Sender(SysError::MissingRights));
        }
        let sender_cspace = k.objects.get(sender).cspace;
        for (i, entry) in sent.iter_mut().enumerate().take(cap_count) {
            let raw = phys::read_u64(buffer_word(source, cap_offset(i)));
            let slot = CapSlot::from_reg(raw).map_err(TransferError::Sender)?;
            let (id, cap) =
                cspace::get(&k.objects, sender_cspace, slot).map_err(TransferError::Sender)?;
            if !cap.rights.contains(Rights::GRANT) {
                return Err(TransferError::Sender(SysError::MissingRights));
            }
            *entry = Some((id, cap));
        }
        let receiver_cspace = k.objects.get(receiver).cspace;
        if (k.objects.get(receiver_cspace).free() as usize) < cap_count {
            return Err(TransferError::Sender(SysError::OutOfMemory));
        }
    }

    // The bytes first: a failure leaves everything else as it was.
    if let Some((source, destination)) = buffers
        && info.has_bytes()
    {
        ipc_bytes::copy(k, sender, receiver, source, destination, true).map_err(
            |stop| match stop {
                ipc_bytes::Stop::Sender(error) => TransferError::Sender(error),
                ipc_bytes::Stop::Receiver(error) => TransferError::Receiver(error),
                // Pages are faulted in here.
                ipc_bytes::Stop::NotPresent => TransferError::Sender(SysError::BadAddress),
            },
        )?;
    }

    // Copy.
    if let Some((source, destination)) = buffers {
        copy_buffer_words(source, destination, word_count);
        let receiver_cspace = k.objects.get(receiver).cspace;
        for (i, (parent, cap)) in sent.iter().take(cap_count).flatten().copied().enumerate() {
            let index = k
                .objects
                .get_mut(receiver_cspace)
                .reserve(CapSlot::NULL)
                .expect("free slots were counted");
            tree::install(k, receiver_cspace, index, cap, Some(parent));
            phys::write_u64(buffer_word(destination, cap_offset(i)), u64::from(index));
        }
    }
    // The deadline was the sender's business.
    let mut received = info.with_caps(cap_count).without_deadline();
    if mode.kind == SendKind::Call {
        received = received.with_call();
    }
    Ok(RecvResult {
        badge: mode.badge,
        info: received.to_reg(),
        mr0: words[0],
        mr1: words[1],
        mr2: words[2],
        mr3: words[3],
    }
    .encode())
}

/// After a call (or a fault message) has been delivered: the caller waits
/// for the reply, and the receiver holds the right to give it. A deadline
/// the caller sent with covered only the wait for a receiver: it is
/// disarmed (the server may already act on the call; a reply that could
/// no longer be delivered would lose its result).
fn link_reply(k: &mut Kernel, caller: ObjId<Thread>, receiver: ObjId<Thread>, mode: SendMode) {
    timer::disarm_thread(k, caller);
    // An unanswered earlier call: its caller would wait forever.
    thread::drop_reply_right(k, receiver);
    k.objects.get_mut(receiver).reply = if mode.kind == SendKind::Fault {
        ReplyRight::Fault(caller)
    } else {
        ReplyRight::To(caller)
    };
    let thread = k.objects.get_mut(caller);
    thread.replier = Some(receiver);
    thread.state = ThreadState::AwaitingReply { grant: mode.grant };
}

/// Send (or call) from the running thread `caller`, whose message is in
/// its argument registers.
pub fn send(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    endpoint: ObjId<Endpoint>,
    mode: SendMode,
    blocking: Blocking,
) -> Result<Next, SysError> {
    while let Some(receiver) = k.objects.get(endpoint).first(QueueKind::Recv) {
        match transfer(k, caller, receiver, mode) {
            Err(TransferError::Sender(error)) => return Err(error),
            Err(TransferError::Receiver(error)) => {
                endpoint::pop(k, endpoint);
                thread::wake(k, receiver, Err(error));
            }
            Ok(values) => {
                endpoint::pop(k, endpoint);
                thread::wake(k, receiver, Ok(values));
                if mode.kind.awaits_reply() {
                    k.sched.forget_current(caller);
                    link_reply(k, caller, receiver, mode);
                    return Ok(Next::Blocked);
                }
                return Ok(Next::Success);
            }
        }
    }
    let deadline = blocking.may_block()?;
    k.sched.forget_current(caller);
    k.objects.get_mut(caller).state = ThreadState::Sending {
        endpoint,
        badge: mode.badge,
        kind: mode.kind,
        grant: mode.grant,
    };
    endpoint::enqueue(k, endpoint, caller, QueueKind::Send);
    timer::arm_thread(k, caller, deadline);
    Ok(Next::Blocked)
}

/// Receive for the running thread `caller`.
pub fn recv(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    endpoint: ObjId<Endpoint>,
    blocking: Blocking,
) -> Result<Next, SysError> {
    if let Some(bound) = k.objects.get(caller).bound {
        let word = core::mem::take(&mut k.objects.get_mut(bound).word);
        if word != 0 {
            let result = RecvResult {
                badge: word,
                info: MessageInfo::NOTIFICATION.to_reg(),
                ..RecvResult::default()
            };
            return Ok(Next::Reply(result.encode()));
        }
    }
    while let Some(sender) = k.objects.get(endpoint).first(QueueKind::Send) {
        let ThreadState::Sending {
            badge, kind, grant, ..
        } = k.objects.get(sender).state
        else {
            unreachable!("a thread in a send queue is sending");
        };
        let mode = SendMode { badge, grant, kind };
        match transfer(k, sender, caller, mode) {
            Err(TransferError::Receiver(error)) => return Err(error),
            Err(TransferError::Sender(error)) => {
                endpoint::pop(k, endpoint);
                thread::wake(k, sender, Err(error));
            }
            Ok(values) => {
                endpoint::pop(k, endpoint);
                if kind.awaits_reply() {
                    link_reply(k, sender, caller, mode);
                } else {
                    thread::wake(k, sender, Ok([0; 6]));
                }
                return Ok(Next::Reply(values));
            }
        }
    }
    let deadline = blocking.may_block()?;
    k.sched.forget_current(caller);
    k.objects.get_mut(caller).state = ThreadState::Receiving { endpoint };
    endpoint::enqueue(k, endpoint, caller, QueueKind::Recv);
    timer::arm_thread(k, caller, deadline);
    Ok(Next::Blocked)
}

/// What a reply found.
pub enum ReplyOutcome {
    /// Delivered (or the caller was woken with the receiver-side error).
    Delivered,
    /// The caller has gone; the reply right is now used up.
    CallerGone,
}

/// Reply from the running thread `caller` through its reply right.
///
/// # Errors
/// [`SysError::InvalidCap`] with no reply right; the sender-side errors of
/// [`transfer`] (the right is kept, to try again).
pub fn reply(k: &mut Kernel, caller: ObjId<Thread>) -> Result<ReplyOutcome, SysError> {
    let target = match k.objects.get(caller).reply {
        ReplyRight::None => return Err(SysError::InvalidCap),
        ReplyRight::CallerGone => {
            k.objects.get_mut(caller).reply = ReplyRight::None;
            end_unsent_leases(k, caller);
            return Ok(ReplyOutcome::CallerGone);
        }
        ReplyRight::Fault(target) => return reply_to_fault(k, caller, target),
        ReplyRight::To(target) => target,
    };
    let result = transfer_reply(k, caller, target)?;
    k.objects.get_mut(caller).reply = ReplyRight::None;
    k.objects.get_mut(target).replier = None;
    if result.is_err() {
        end_unsent_leases(k, caller);
    }
    thread::wake(k, target, result);
    Ok(ReplyOutcome::Delivered)
}

/// A reply from `replier` that counts as given but reached nobody (its
/// caller had gone, or could not take it: a receiver-side error): each
/// lease among the capabilities it would have carried that nothing
/// derives from ends now, as if the copy had been made and dropped, so
/// the server releases its object (docs/ipc.md, "Leases"). Slots that do
/// not name a capability are skipped (the reply is gone either way).
#[cold]
#[inline(never)]
pub fn end_unsent_leases(k: &mut Kernel, replier: ObjId<Thread>) {
    let info = MessageInfo::from_received(k.objects.get(replier).context.rsi);
    let count = info.caps().min(MSG_MAX_CAPS);
    if count == 0 {
        return;
    }
    let Some(source) = buffer_phys(k, replier, Access::Read) else {
        return;
    };
    let cspace = k.objects.get(replier).cspace;
    for i in 0..count {
        let raw = phys::read_u64(buffer_word(source, cap_offset(i)));
        let Ok(slot) = CapSlot::from_reg(raw) else {
            continue;
        };
        if let Ok((id, _)) = cspace::get(&k.objects, cspace, slot) {
            tree::end_lease_if_unheld(k, id);
        }
    }
}

/// Moves the reply the running thread `replier` holds in its argument
/// registers (and IPC buffer) to `target`, which awaits it, and returns
/// what `target` is to be woken with: the reply, or the receiver-side
/// error (the reply then counts as given; for a reply, a caller's space
/// too full for its capabilities is one). Waking it is the caller's, once
/// it has cut the link that named the reply's giver (`Reply` and
/// `ReplyRecv` through the thread's right, `ReplyWith` through a saved one).
///
/// # Errors
/// The sender-side errors of [`transfer`]; nothing has changed then, and
/// `target` still waits.
#[inline(always)] // `Reply`'s general path stays one function, as before
pub fn transfer_reply(
    k: &mut Kernel,
    replier: ObjId<Thread>,
    target: ObjId<Thread>,
) -> Result<Result<[u64; 6], SysError>, SysError> {
    let ThreadState::AwaitingReply { grant } = k.objects.get(target).state else {
        unreachable!("a caller with a replier awaits the reply");
    };
    let mode = SendMode {
        badge: 0,
        grant,
        kind: SendKind::Send,
    };
    match transfer(k, replier, target, mode) {
        // A caller whose capability space cannot take the reply's
        // capabilities made its own space full: its call fails, as for a
        // missing buffer, rather than leaving the server to try again.
        Err(TransferError::Sender(SysError::OutOfMemory)) => Ok(Err(SysError::OutOfMemory)),
        Err(TransferError::Sender(error)) => Err(error),
        Err(TransferError::Receiver(error)) => Ok(Err(error)),
        Ok(values) => Ok(Ok(values)),
    }
}

/// The answer to a fault message: the replier's label says whether the
/// thread runs the faulting instruction again or ends (words are ignored).
///
/// # Errors
/// [`SysError::InvalidArg`] for another label (the right is kept).
fn reply_to_fault(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    target: ObjId<Thread>,
) -> Result<ReplyOutcome, SysError> {
    let label = MessageInfo::from_received(k.objects.get(caller).context.rsi).label();
    if label != fault::RESUME && label != fault::KILL {
        return Err(SysError::InvalidArg);
    }
    k.objects.get_mut(caller).reply = ReplyRight::None;
    k.objects.get_mut(target).replier = None;
    if label == fault::RESUME {
        k.sched.make_ready(&mut k.objects, target);
    } else {
        thread::kill_faulted(k, target);
    }
    Ok(ReplyOutcome::Delivered)
}

/// Sends `thread`'s fault message (already in its `fault` words) on
/// `endpoint` as a call with `badge`; the thread waits for the answer.
pub fn send_fault(k: &mut Kernel, thread: ObjId<Thread>, endpoint: ObjId<Endpoint>, badge: u64) {
    let mode = SendMode {
        badge,
        grant: false,
        kind: SendKind::Fault,
    };
    // A fault message cannot fail on the sender's side (no buffer, no
    // capabilities) and blocking sends never return WouldBlock.
    let _ = send(k, thread, endpoint, mode, Blocking::Block);
}
