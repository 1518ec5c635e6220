//! `ReplySaveRecv`: a reply right saved into a named slot and the next
//! message received in one syscall; a caller gone before the save leaves
//! a dead Reply capability; every error, before the save (nothing saved,
//! nothing received, the right kept) and after it (the receive's, with
//! the reply saved).
//!
//! The test thread is the server. Callers above its priority call at
//! once; one below it calls only once the server waits, so that the
//! receive blocks and another thread runs (the fast path's case).

use crate::raw::{self as sys, Message, Received};
use abi::ipc::fault;
use abi::syscall::exit_kind;
use abi::{CapSlot, Rights, SysError};

use super::TestResult;
use super::ipc::recorded;
use super::saved_reply::{REPLY, described, saved_caller, send_one, take_call};
use super::support::*;
use crate::{ensure, ensure_eq};

raw_entry! {
    caller_entry => saved_caller;
    send_one_entry => send_one;
    delete_entry => delete_slot;
    ud2_entry => crate::cpu::ud2;
}

/// Deletes the capability in slot `arg`; returns the error's code.
fn delete_slot(arg: u64) -> u64 {
    code(sys::cap_delete(CapSlot(arg as u32)))
}

/// Starts a `saved_reply` caller with label `label` (1 to 3) on `ep` at
/// `priority`.
#[track_caller]
fn caller(ep: CapSlot, label: u64, priority: u64) -> Result<RawThread, super::Failure> {
    Raw::new(caller_entry, pack(u64::from(ep.0), label))
        .priority(priority)
        .buffer(&PAGES[label as usize - 1])
        .start()
}

/// `ReplySaveRecv` on `ep` into `dst` until `deadline`.
fn save_recv(ep: CapSlot, dst: CapSlot, deadline: u64) -> Result<Received, SysError> {
    sys::reply_save_recv_raw(ep.to_reg(), dst.to_reg(), deadline)
}

/// Its label, or its error.
fn label(result: Result<Received, SysError>) -> Result<u64, SysError> {
    result.map(|got| got.message.info.label())
}

pub fn saves_then_receives() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    clear_out();

    // One calls at once; two, below this thread, once it waits.
    let one = caller(ep, 1, 33)?;
    let two = caller(ep, 2, 31)?;
    take_call(ep, 1)?;
    let got = must(save_recv(ep, EMPTY_SLOT, 0))?;
    ensure!(got.message.info.is_call());
    ensure_eq!((got.message.info.label(), got.message.words[0]), (2, 22));
    ensure_eq!(described(EMPTY_SLOT), Ok(REPLY));
    ensure_eq!((out(7), out(13)), (0, 0));
    // Two through this thread's right, one through the capability.
    ensure_eq!(sys::reply(&Message::new(20, &[2])), Ok(()));
    ensure_eq!(sys::reply_with(EMPTY_SLOT, &Message::new(10, &[1])), Ok(()));
    ensure_eq!(one.join()?, 0);
    ensure_eq!(two.join()?, 0);
    ensure_eq!((recorded(6).1.label(), recorded(6).2[0]), (10, 1));
    ensure_eq!((recorded(12).1.label(), recorded(12).2[0]), (20, 2));
    ensure_eq!(described(EMPTY_SLOT), Err(SysError::InvalidCap));

    // A message already queued is received at once.
    let one = caller(ep, 1, 33)?;
    let sender = Raw::new(send_one_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    take_call(ep, 1)?;
    let got = must(save_recv(ep, EMPTY_SLOT, 0))?;
    ensure!(!got.message.info.is_call());
    ensure_eq!(sender.join()?, 0);
    ensure_eq!(sys::reply_with(EMPTY_SLOT, &Message::new(11, &[])), Ok(()));
    ensure_eq!(one.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 11);

    // A caller gone before the save: a dead Reply capability, and the
    // receive goes ahead (here it times out: nothing comes).
    let three = caller(ep, 3, 33)?;
    take_call(ep, 3)?;
    three.kill()?;
    ensure_eq!(label(save_recv(ep, EMPTY_SLOT, 1)), Err(SysError::TimedOut));
    ensure_eq!(described(EMPTY_SLOT), Ok(REPLY));
    ensure_eq!(
        sys::reply_with(EMPTY_SLOT, &Message::new(0, &[])),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(described(EMPTY_SLOT), Err(SysError::InvalidCap));

    // The endpoint destroyed during the receive: PeerClosed, with the
    // reply saved all the same.
    let four = caller(ep, 3, 33)?;
    take_call(ep, 3)?;
    let deleter = Raw::new(delete_entry, u64::from(ep.0))
        .priority(31)
        .start()?;
    ensure_eq!(
        label(save_recv(ep, EMPTY_SLOT, 0)),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(deleter.join()?, 0);
    ensure_eq!(described(EMPTY_SLOT), Ok(REPLY));
    ensure_eq!(sys::reply_with(EMPTY_SLOT, &Message::new(40, &[])), Ok(()));
    ensure_eq!(four.join()?, 0);
    ensure_eq!(recorded(18).1.label(), 40);

    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let n = must(sys::notification_create(budget()))?;
    let write_only = must(sys::cap_copy(ep, Rights::WRITE))?;
    clear_out();

    // Before the save, nothing happens: checked with a call taken.
    let one = caller(ep, 1, 33)?;
    take_call(ep, 1)?;
    // Decoding: slots that do not fit in 32 bits.
    ensure_eq!(
        label(sys::reply_save_recv_raw(1 << 32, EMPTY_SLOT.to_reg(), 1)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        label(sys::reply_save_recv_raw(ep.to_reg(), u64::MAX, 1)),
        Err(SysError::InvalidCap)
    );
    // The endpoint capability: empty, of another type, without READ.
    ensure_eq!(
        label(save_recv(CapSlot(EMPTY_SLOT.0 + 1), EMPTY_SLOT, 1)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(label(save_recv(n, EMPTY_SLOT, 1)), Err(SysError::WrongType));
    ensure_eq!(
        label(save_recv(write_only, EMPTY_SLOT, 1)),
        Err(SysError::MissingRights)
    );
    // No destination named.
    ensure_eq!(
        label(save_recv(ep, CapSlot::NULL, 1)),
        Err(SysError::InvalidArg)
    );
    // A destination out of range or full.
    ensure_eq!(
        label(save_recv(ep, CapSlot(5000), 1)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(label(save_recv(ep, ep, 1)), Err(SysError::InvalidCap));
    // The right was kept through all of them.
    ensure_eq!(described(EMPTY_SLOT), Err(SysError::InvalidCap));
    ensure_eq!(sys::reply(&Message::new(5, &[])), Ok(()));
    ensure_eq!(one.join()?, 0);
    ensure_eq!(recorded(6).1.label(), 5);

    // No reply right: nothing is received (the queued send stays).
    let sender = Raw::new(send_one_entry, u64::from(ep.0))
        .priority(33)
        .start()?;
    ensure_eq!(
        label(save_recv(ep, EMPTY_SLOT, 1)),
        Err(SysError::InvalidCap)
    );
    let got = must(sys::recv(ep))?;
    ensure!(!got.message.info.is_call());
    ensure_eq!(sender.join()?, 0);
    // A plain send gives no right either.
    ensure_eq!(
        label(save_recv(ep, EMPTY_SLOT, 1)),
        Err(SysError::InvalidCap)
    );

    // A fault message's right is not saved, and is kept.
    let faulting = Raw::new(ud2_entry, 0).fault_endpoint(ep).start()?;
    ensure!(must(sys::recv(ep))?.message.info.is_fault());
    ensure_eq!(
        label(save_recv(ep, EMPTY_SLOT, 1)),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(described(EMPTY_SLOT), Err(SysError::InvalidCap));
    ensure_eq!(sys::reply(&Message::new(fault::KILL, &[])), Ok(()));
    let status = faulting.wait()?;
    ensure_eq!((status.kind, status.code), (exit_kind::FAULTED, 6));

    // After the save, the receive's errors: the deadline passed.
    let two = caller(ep, 2, 33)?;
    take_call(ep, 2)?;
    ensure_eq!(label(save_recv(ep, EMPTY_SLOT, 1)), Err(SysError::TimedOut));
    ensure_eq!(described(EMPTY_SLOT), Ok(REPLY));
    ensure_eq!(sys::reply_with(EMPTY_SLOT, &Message::new(6, &[])), Ok(()));
    ensure_eq!(two.join()?, 0);
    ensure_eq!(recorded(12).1.label(), 6);

    for slot in [write_only, n, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
