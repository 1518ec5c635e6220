//! The fast paths: the common cases of `Call` and `ReplyRecv` (a message
//! without capabilities to a partner that is already waiting, switching
//! straight to it), `Signal`, `Wait` and `ThreadYield`.
//!
//! Each function is a list of guards, then one commit. Any guard that
//! fails returns `None` with nothing changed, and the general path
//! (`crate::syscall`) handles the syscall instead, reporting any error; so
//! a fast path only ever does what the general path would, minus its
//! generality. Every check the general path makes is a guard here: the
//! capability's slot, type and rights, the badge rules, the priorities
//! (the thread that runs next is the one `sched::Scheduler::pick` would
//! choose), suspended threads, bound notifications and queued senders.
//! - `Call` and `ReplyRecv`: the message has no capabilities; words past
//!   the registers (up to `MSG_MAX_WORDS` in all) need both IPC buffers
//!   mapped with the access the copy needs (a register-only message
//!   touches no buffer, and its path is built without these checks); a
//!   reply with bytes (`crate::ipc_bytes`) needs every page of its pieces
//!   and of the caller's window mapped too; the
//!   partner is waiting (a receiver for `Call`, a caller for the reply of `ReplyRecv`,
//!   or a faulted thread the reply resumes), is not suspended, and no ready
//!   thread is more urgent than it; for `Call`, the receiver holds no
//!   unanswered reply right; for `ReplyRecv`, no sender is queued on the
//!   endpoint and the bound notification (if any) has no bits pending
//!   (those receive at once).
//! - `Signal`: the bits go into the word, or to the first waiter, which
//!   either runs at once (more urgent than the caller, and alone at its
//!   priority among the ready threads) or is queued to run later; a bound
//!   thread receiving on an endpoint is left to the general path.
//! - `Wait`: pending bits return at once; otherwise the caller waits and
//!   the most urgent ready thread runs (with none ready, the general path
//!   idles).
//! - `ThreadYield`: a ready thread at least as urgent as the caller runs,
//!   and the caller goes to the back of its queue.
//!
//! Threads woken here are woken as `object::thread::wake` wakes them
//! (results set, then running or ready); [`switch_to`] and
//! [`Scheduler::make_ready`] are the only ways a fast path makes a
//! blocked thread run.
//!
//! `Kernel::fastpath` (`FastPath::Off`) turns them all off (kernel command
//! line `fastpath=off`), so the whole test suite can run on the general
//! path too.
//!
//! [`Scheduler::make_ready`]: crate::sched::Scheduler::make_ready

use abi::ipc::{MSG_MAX_WORDS, MSG_REG_WORDS, MessageInfo};
use abi::syscall::{ArgRegs, SlotResult, SyscallResult};
use abi::{CapSlot, Rights};

use crate::arch::user_tables::Access;
use crate::cap::{Capability, ObjectRef, SlotId};
use crate::ipc;
use crate::ipc_bytes;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::endpoint::{self, Endpoint, QueueKind};
use crate::object::notification::{self, Notification};
use crate::object::reply;
use crate::object::thread::{ReplyRight, Thread, ThreadState};
use crate::switch::{self, Exit};

/// The syscalls with a fast path (the entry code tells them apart by
/// number, so this does not look again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastSyscall {
    /// `Syscall::Call`.
    Call,
    /// `Syscall::ReplyRecv`.
    ReplyRecv,
    /// `Syscall::Signal`.
    Signal,
    /// `Syscall::Wait`.
    Wait,
    /// `Syscall::ThreadYield`.
    Yield,
    /// `Syscall::Recv`.
    Recv,
    /// `Syscall::ReplySave`.
    ReplySave,
    /// `Syscall::ReplyWith`.
    ReplyWith,
    /// `Syscall::ReplySaveRecv`.
    ReplySaveRecv,
}

/// Tries the fast path for the `kind` syscall the running thread `caller`
/// made; returns how to leave the kernel if it handled it.
#[inline(always)]
pub fn try_syscall(k: &mut Kernel, caller: ObjId<Thread>, kind: FastSyscall) -> Option<Exit> {
    let (_, args) = k.objects.get(caller).context.syscall_args();
    let short = plain_message(args[1], MSG_REG_WORDS);
    match kind {
        FastSyscall::Call if short => call::<InRegisters>(k, caller, &args),
        FastSyscall::Call => call::<InBuffers>(k, caller, &args),
        FastSyscall::ReplyRecv if short => reply_recv::<InRegisters>(k, caller, &args),
        FastSyscall::ReplyRecv if bytes_message(args[1]) => {
            reply_recv::<WithBytes>(k, caller, &args)
        }
        FastSyscall::ReplyRecv => reply_recv::<InBuffers>(k, caller, &args),
        FastSyscall::Signal => signal(k, caller, &args),
        FastSyscall::Wait => wait(k, caller, &args),
        FastSyscall::Yield => yield_now(k, caller),
        FastSyscall::Recv => recv(k, caller, &args),
        FastSyscall::ReplySave => reply_save(k, caller, &args),
        FastSyscall::ReplyWith if short => reply_with(k, caller, &args),
        FastSyscall::ReplyWith => None,
        FastSyscall::ReplySaveRecv => reply_save_recv(k, caller, &args),
    }
}

/// Where the words of a `Call` or `ReplyRecv` message are: the fast path
/// is built once for each, so that the register-only case (the common
/// one) carries none of the buffer case's checks.
trait Words {
    /// Whether some words are in the IPC buffers.
    const IN_BUFFERS: bool;
    /// Whether the message carries bytes (`crate::ipc_bytes`; then the
    /// buffers are needed whatever the words).
    const BYTES: bool = false;
}

/// At most `MSG_REG_WORDS` words, all in registers.
struct InRegisters;

impl Words for InRegisters {
    const IN_BUFFERS: bool = false;
}

/// More than `MSG_REG_WORDS` words: the rest in the IPC buffers.
struct InBuffers;

impl Words for InBuffers {
    const IN_BUFFERS: bool = true;
}

/// A reply with bytes (`crate::ipc_bytes`) and no capabilities.
struct WithBytes;

impl Words for WithBytes {
    const IN_BUFFERS: bool = true;
    const BYTES: bool = true;
}

/// Whether the info register `reg` is that of a message with bytes, at
/// most `MSG_MAX_WORDS` words, no capabilities and no other flag: bit 10
/// flipped, it is a plain message of that length.
#[inline(always)]
fn bytes_message(reg: u64) -> bool {
    (reg & 0xffff) ^ (1 << 10) <= MSG_MAX_WORDS as u64
}

/// Bits 0-15 of the info register hold the length, the capability count,
/// reserved and kernel-only bits, so a valid message without capabilities
/// of at most `words` words has them at most `words`: one compare instead
/// of a full decode.
#[inline(always)]
fn plain_message(reg: u64, words: usize) -> bool {
    reg & 0xffff <= words as u64
}

/// The physical addresses of the IPC buffers of `sender` (to read words
/// past the registers from) and `receiver` (to write them to), if both
/// are mapped with that access (else the general path faults pages in,
/// or reports the error to the side at fault).
#[inline(always)]
fn buffers(k: &mut Kernel, sender: ObjId<Thread>, receiver: ObjId<Thread>) -> Option<(u64, u64)> {
    let source = ipc::mapped_buffer(k, sender, Access::Read)?;
    let destination = ipc::mapped_buffer(k, receiver, Access::Write)?;
    Some((source, destination))
}

/// The slot the caller names with `reg` (the raw argument register), if
/// that is a slot of its space other than slot 0: the checks of decoding
/// the slot number and of `cspace::get`, in fewer instructions (the
/// compare with the space's size also rules out a register value that is
/// no slot number at all, 2^32 or more).
#[inline(always)]
fn slot(k: &Kernel, caller: ObjId<Thread>, reg: u64) -> Option<SlotId> {
    let space = k.objects.get(k.objects.get(caller).cspace);
    if reg == u64::from(CapSlot::NULL.0) || reg >= u64::from(space.limit()) {
        return None;
    }
    // In range, so it fits in a u32.
    space.slot_id(reg as u32)
}

/// The endpoint in the caller's slot `reg`, with its capability, if that
/// capability has `needed` (`cspace::lookup`'s checks: one compare of the
/// slot's contents does for "empty" and "wrong type").
#[inline(always)]
fn endpoint_cap(
    k: &Kernel,
    caller: ObjId<Thread>,
    reg: u64,
    needed: Rights,
) -> Option<(ObjId<Endpoint>, Capability)> {
    let cap = k.objects.slot(slot(k, caller, reg)?).cap;
    if let Some(Capability {
        object: ObjectRef::Endpoint(id),
        rights,
        badge,
    }) = cap
        && rights.contains(needed)
    {
        return Some((
            id,
            Capability {
                object: ObjectRef::Endpoint(id),
                rights,
                badge,
            },
        ));
    }
    None
}

/// The notification in the caller's slot `reg`: as [`endpoint_cap`].
#[inline(always)]
fn notification_cap(
    k: &Kernel,
    caller: ObjId<Thread>,
    reg: u64,
    needed: Rights,
) -> Option<(ObjId<Notification>, Capability)> {
    let cap = k.objects.slot(slot(k, caller, reg)?).cap;
    if let Some(Capability {
        object: ObjectRef::Notification(id),
        rights,
        badge,
    }) = cap
        && rights.contains(needed)
    {
        return Some((
            id,
            Capability {
                object: ObjectRef::Notification(id),
                rights,
                badge,
            },
        ));
    }
    None
}

/// Whether `thread` may run now in the caller's place: it is not
/// suspended and no ready thread is more urgent.
#[inline(always)]
fn can_switch_to(k: &Kernel, thread: ObjId<Thread>) -> bool {
    let thread = k.objects.get(thread);
    !thread.suspended && k.sched.none_ready_above(thread.priority)
}

/// The caller goes on (its results are set): what `pick` does when no
/// ready thread is more urgent, which the caller checked.
#[inline(always)]
fn back_to(k: &Kernel, caller: ObjId<Thread>) -> Exit {
    Exit::Same(&k.objects.get(caller).context)
}

/// `thread`, which the caller has just woken or handed the CPU to, runs
/// instead of the caller, which is no longer current (it has blocked).
#[inline(always)]
fn switch_to(k: &mut Kernel, caller: ObjId<Thread>, thread: ObjId<Thread>) -> Exit {
    k.sched.forget_current(caller);
    k.objects.get_mut(thread).state = ThreadState::Running;
    k.sched.current = Some(thread);
    Exit::Switch(switch::resume_target(k, thread))
}

#[inline(always)]
fn call<W: Words>(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards.
    if W::IN_BUFFERS && !plain_message(args[1], MSG_MAX_WORDS) {
        return None;
    }
    let info = MessageInfo::from_received(args[1]);
    let (endpoint, cap) = endpoint_cap(k, caller, args[0], Rights::WRITE)?;
    let receiver = k.objects.get(endpoint).first(QueueKind::Recv)?;
    let owes_reply = matches!(
        k.objects.get(receiver).reply,
        ReplyRight::To(_) | ReplyRight::Fault(_)
    );
    if owes_reply || !can_switch_to(k, receiver) || crate::timer::thread_armed(k, receiver) {
        return None;
    }
    let buffers = if W::IN_BUFFERS {
        Some(buffers(k, caller, receiver)?)
    } else {
        None
    };
    // Commit: the receiver takes the message and the reply right; the
    // caller waits for the reply.
    if let Some((source, destination)) = buffers {
        ipc::copy_buffer_words(source, destination, info.words());
    }
    endpoint::pop(k, endpoint);
    let grant = cap.rights.contains(Rights::GRANT);
    let thread = k.objects.get_mut(caller);
    thread.state = ThreadState::AwaitingReply { grant };
    thread.replier = Some(receiver);
    let thread = k.objects.get_mut(receiver);
    thread.reply = ReplyRight::To(caller);
    let received = info.with_call().to_reg();
    thread
        .context
        .set_syscall_result(0, [cap.badge, received, args[2], args[3], args[4], args[5]]);
    // A statistics counter: one per system call, it cannot reach 2^64.
    k.fastpath_hits = k.fastpath_hits.wrapping_add(1);
    Some(switch_to(k, caller, receiver))
}

#[inline(always)]
fn reply_recv<W: Words>(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards.
    if W::BYTES {
        if !bytes_message(args[1]) {
            return None;
        }
    } else if W::IN_BUFFERS && !plain_message(args[1], MSG_MAX_WORDS) {
        return None;
    }
    let info = MessageInfo::from_received(args[1]);
    // A reply to a call, or the answer that resumes a faulted thread (its
    // words are ignored; a register-only one needs no buffer check).
    let (target, fault) = match k.objects.get(caller).reply {
        ReplyRight::To(target) => (target, false),
        ReplyRight::Fault(target) if !W::IN_BUFFERS && info.label() == abi::ipc::fault::RESUME => {
            (target, true)
        }
        _ => return None,
    };
    let (endpoint, _) = endpoint_cap(k, caller, args[0], Rights::READ)?;
    if k.objects.get(endpoint).kind == QueueKind::Send {
        return None;
    }
    if let Some(bound) = k.objects.get(caller).bound
        && k.objects.get(bound).word != 0
    {
        return None;
    }
    if !can_switch_to(k, target) {
        return None;
    }
    let buffers = if W::IN_BUFFERS {
        Some(buffers(k, caller, target)?)
    } else {
        None
    };
    // The last guard, as it writes: the bytes, if every page is there
    // (else the general path faults them in, or reports the error, and
    // copies them again from the start).
    if W::BYTES
        && let Some((source, destination)) = buffers
    {
        ipc_bytes::copy(k, caller, target, source, destination, false).ok()?;
    }
    // Commit: the reply goes to the caller, which runs; this thread waits
    // on the endpoint.
    if let Some((source, destination)) = buffers {
        ipc::copy_buffer_words(source, destination, info.words());
    }
    k.objects.get_mut(caller).reply = ReplyRight::None;
    let thread = k.objects.get_mut(target);
    thread.replier = None;
    // A faulted thread runs its faulting instruction again, registers
    // untouched.
    if !fault {
        thread
            .context
            .set_syscall_result(0, [0, info.to_reg(), args[2], args[3], args[4], args[5]]);
    }
    k.objects.get_mut(caller).state = ThreadState::Receiving { endpoint };
    if k.objects.get(endpoint).kind == QueueKind::Idle {
        // Alone in the queue: no priority order to keep.
        let mut queue = k.objects.get(endpoint).queue;
        queue.push_back(&mut k.objects, caller);
        let endpoint = k.objects.get_mut(endpoint);
        endpoint.queue = queue;
        endpoint.kind = QueueKind::Recv;
    } else {
        endpoint::enqueue(k, endpoint, caller, QueueKind::Recv);
    }
    // A statistics counter: one per system call, it cannot reach 2^64.
    k.fastpath_hits = k.fastpath_hits.wrapping_add(1);
    Some(switch_to(k, caller, target))
}

#[inline(always)]
fn signal(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards.
    let (id, cap) = notification_cap(k, caller, args[0], Rights::WRITE)?;
    // A badged capability signals its badge, an unbadged one the bits
    // named; anything else is an error (the general path reports it).
    let bits = match (cap.badge, args[1]) {
        (0, 0) => return None,
        (0, bits) => bits,
        (badge, 0) => badge,
        (_, _) => return None,
    };
    let priority = k.objects.get(caller).priority;
    if !k.sched.none_ready_above(priority) {
        return None;
    }
    let ntfn = k.objects.get(id);
    let Some(waiter) = ntfn.waiters.front() else {
        // No waiter: the bits stay in the word, unless a bound thread
        // receiving on an endpoint takes them (the general path's case).
        if let Some(bound) = ntfn.bound
            && matches!(k.objects.get(bound).state, ThreadState::Receiving { .. })
        {
            return None;
        }
        // Commit.
        k.objects.get_mut(id).word |= bits;
        k.objects
            .get_mut(caller)
            .context
            .set_syscall_result(0, [0; 6]);
        return Some(back_to(k, caller));
    };
    let waiter_thread = k.objects.get(waiter);
    let preempts = waiter_thread.priority > priority;
    // A waiter that runs at once must be the first thread `pick` finds:
    // alone at its priority once woken.
    // A waiter with a timeout armed is the general path's (`thread::wake`
    // disarms it).
    if waiter_thread.suspended
        || (preempts && !k.sched.none_ready_at_or_above(waiter_thread.priority))
        || crate::timer::thread_armed(k, waiter)
    {
        return None;
    }
    // Commit: the first waiter takes the whole word; the caller's signal
    // succeeded.
    let word = ntfn.word | bits;
    notification::take_first_waiter(k, id);
    k.objects
        .get_mut(waiter)
        .context
        .set_syscall_result(0, [word, 0, 0, 0, 0, 0]);
    k.objects
        .get_mut(caller)
        .context
        .set_syscall_result(0, [0; 6]);
    if preempts {
        // The caller keeps its turn at the front of its queue.
        k.sched.preempt(&mut k.objects, caller);
        Some(switch_to(k, caller, waiter))
    } else {
        k.sched.make_ready(&mut k.objects, waiter);
        Some(back_to(k, caller))
    }
}

#[inline(always)]
fn wait(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards.
    let (id, _) = notification_cap(k, caller, args[0], Rights::READ)?;
    let word = k.objects.get(id).word;
    if word != 0 {
        // Pending bits: they return at once, if the caller goes on.
        if !k.sched.none_ready_above(k.objects.get(caller).priority) {
            return None;
        }
        // Commit.
        k.objects.get_mut(id).word = 0;
        k.objects
            .get_mut(caller)
            .context
            .set_syscall_result(0, [word, 0, 0, 0, 0, 0]);
        return Some(back_to(k, caller));
    }
    // The caller waits, with no deadline (a deadline arms a timeout: the
    // general path's); some thread must be ready to take the CPU.
    if args[1] != 0 {
        return None;
    }
    k.sched.highest_ready()?;
    // Commit.
    notification::block(k, id, caller);
    switch::run_first_ready(k)
}

#[inline(always)]
fn yield_now(k: &mut Kernel, caller: ObjId<Thread>) -> Option<Exit> {
    // Guards: a thread as urgent as the caller is ready (else the caller
    // goes on: the general path).
    let priority = k.objects.get(caller).priority;
    if k.sched.none_ready_at_or_above(priority) {
        return None;
    }
    // Commit: the caller goes to the back of its queue; the first of the
    // most urgent queue runs.
    k.objects
        .get_mut(caller)
        .context
        .set_syscall_result(0, [0; 6]);
    k.sched.forget_current(caller);
    k.sched.make_ready(&mut k.objects, caller);
    switch::run_first_ready(k)
}

#[inline(always)]
fn recv(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards: no deadline (a deadline arms a timeout: the general path's),
    // then those of `would_block`.
    if args[1] != 0 {
        return None;
    }
    let (endpoint, _) = endpoint_cap(k, caller, args[0], Rights::READ)?;
    if !would_block(k, caller, endpoint) {
        return None;
    }
    // Commit.
    block_receiving(k, caller, endpoint)
}

/// Whether a receive by `caller` on `endpoint` would wait while another
/// thread runs: nothing to take at once (a queued sender, the bound
/// notification's bits), and some thread ready to take the CPU (else the
/// general path idles).
#[inline(always)]
fn would_block(k: &Kernel, caller: ObjId<Thread>, endpoint: ObjId<Endpoint>) -> bool {
    if k.objects.get(endpoint).kind == QueueKind::Send {
        return false;
    }
    if let Some(bound) = k.objects.get(caller).bound
        && k.objects.get(bound).word != 0
    {
        return false;
    }
    k.sched.highest_ready().is_some()
}

/// The commit of a receive that [`would_block`]: the caller waits on the
/// endpoint; the first thread of the most urgent queue runs.
#[inline(always)]
fn block_receiving(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    endpoint: ObjId<Endpoint>,
) -> Option<Exit> {
    k.sched.forget_current(caller);
    k.objects.get_mut(caller).state = ThreadState::Receiving { endpoint };
    endpoint::enqueue(k, endpoint, caller, QueueKind::Recv);
    switch::run_first_ready(k)
}

#[inline(always)]
fn reply_save_recv(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards: the endpoint, a named slot that `reply::save` can take, a
    // right to a caller that still waits (a fault's right, a gone caller
    // and no right are the general path's), no deadline, and a receive
    // that `would_block`.
    if args[2] != 0 || args[1] == 0 || args[1] > u64::from(u32::MAX) {
        return None;
    }
    let (endpoint, _) = endpoint_cap(k, caller, args[0], Rights::READ)?;
    let thread = k.objects.get(caller);
    if !matches!(thread.reply, ReplyRight::To(_)) {
        return None;
    }
    let dst = CapSlot(args[1] as u32);
    k.objects.get(thread.cspace).check_reserve(dst).ok()?;
    if !would_block(k, caller, endpoint) {
        return None;
    }
    // Commit: the checks above are all `reply::save` makes.
    reply::save(k, caller, dst).ok()?;
    block_receiving(k, caller, endpoint)
}

#[inline(always)]
fn reply_save(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards: a right to a caller that still waits (a fault's right and a
    // gone caller are the general path's errors), a slot that
    // `reply::save` can take, and the caller goes on.
    let thread = k.objects.get(caller);
    if !matches!(thread.reply, ReplyRight::To(_))
        || !k.sched.none_ready_above(thread.priority)
        || args[0] > u64::from(u32::MAX)
    {
        return None;
    }
    let dst = CapSlot(args[0] as u32);
    k.objects.get(thread.cspace).check_reserve(dst).ok()?;
    // Commit: the checks above are all `reply::save` makes.
    let index = reply::save(k, caller, dst).ok()?;
    let result = SlotResult {
        slot: u64::from(index),
    }
    .encode();
    k.objects
        .get_mut(caller)
        .context
        .set_syscall_result(0, result);
    Some(back_to(k, caller))
}

#[inline(always)]
fn reply_with(k: &mut Kernel, caller: ObjId<Thread>, args: &ArgRegs) -> Option<Exit> {
    // Guards: a register-only message without capabilities (checked by
    // `try_syscall`), a Reply capability whose caller still waits, and a
    // caller that may be made ready while this thread goes on (not
    // suspended, no timeout armed, not more urgent than this thread).
    let info = MessageInfo::from_received(args[1]);
    let id = slot(k, caller, args[0])?;
    let Some(Capability {
        object: ObjectRef::Reply(Some(target)),
        ..
    }) = k.objects.slot(id).cap
    else {
        return None;
    };
    let priority = k.objects.get(caller).priority;
    let waiting = k.objects.get(target);
    if waiting.suspended
        || waiting.priority > priority
        || !k.sched.none_ready_above(priority)
        || crate::timer::thread_armed(k, target)
    {
        return None;
    }
    // Commit: as `reply::answer` with a transfer of registers only.
    k.objects
        .get_mut(target)
        .context
        .set_syscall_result(0, [0, info.to_reg(), args[2], args[3], args[4], args[5]]);
    reply::used_up(k, id, target);
    k.sched.make_ready(&mut k.objects, target);
    k.objects
        .get_mut(caller)
        .context
        .set_syscall_result(0, [0; 6]);
    Some(back_to(k, caller))
}
