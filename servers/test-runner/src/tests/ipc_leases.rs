//! A reply that should have carried a lease's copy but reached nobody
//! (its caller was killed, or could not take capabilities: no IPC buffer,
//! or a full capability space) ends the lease
//! at once, as the deletion of that copy would have: the server's watch
//! notification is signalled and the lease's slot emptied, so the object
//! it stood for is released instead of staying until its session ends
//! (docs/ipc.md, "Leases").

use abi::ipc::WATCH_BADGE;
use abi::{CapSlot, Rights, SysError};
use rt::ipc::Message;

use super::TestResult;
use super::saved_reply::{saved_caller, take_call};
use super::support::*;
use crate::raw as sys;
use crate::{ensure, ensure_eq};

raw_entry! {
    saved_caller_entry => saved_caller;
}

/// Whether `slot` is empty.
fn empty(slot: CapSlot) -> bool {
    sys::cap_info(slot) == Err(SysError::InvalidCap)
}

/// A reply labelled 1 carrying `lease`'s copy.
fn with_lease(lease: CapSlot) -> Message {
    let mut reply = Message::new(1);
    reply.push_cap(lease).expect("one capability fits");
    reply
}

/// A caller at a priority above the test's, blocked in its call on `ep`
/// as soon as it starts; with an IPC buffer (`PAGES[0]`) or without one.
fn caller(ep: CapSlot, buffer: bool) -> Result<RawThread, super::Failure> {
    let raw = Raw::new(saved_caller_entry, pack(u64::from(ep.0), 1)).priority(33);
    if buffer { raw.buffer(&PAGES[0]) } else { raw }.start()
}

pub fn lease_reply_lost() -> TestResult {
    let before = free_frames()?;
    let rw = Rights::WRITE | Rights::GRANT;
    let ep = must(sys::endpoint_create(budget()))?;
    let note = must(sys::notification_create(budget()))?;
    ensure_eq!(sys::endpoint_watch(ep, note), Ok(()));

    // The caller is killed before the reply: `Reply` answers PeerClosed
    // and the lease ends.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 3))?;
    let one = caller(ep, true)?;
    take_call(ep, 1)?;
    one.kill()?;
    ensure_eq!(
        rt::sys::reply(&with_lease(lease)),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(sys::poll(note), Ok(1 << 3));
    ensure!(empty(lease));

    // The same through a saved reply and `ReplyWith`.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 4))?;
    let two = caller(ep, true)?;
    take_call(ep, 1)?;
    let saved = must(sys::reply_save(CapSlot::NULL))?;
    two.kill()?;
    ensure_eq!(
        rt::sys::reply_with(saved, &with_lease(lease)),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(sys::poll(note), Ok(1 << 4));
    ensure!(empty(lease));

    // A caller without an IPC buffer cannot take a capability: its call
    // fails with BadAddress, the reply counts as given, the lease ends.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 5))?;
    let three = caller(ep, false)?;
    take_call(ep, 1)?;
    ensure_eq!(rt::sys::reply(&with_lease(lease)), Ok(()));
    ensure_eq!(three.join()?, SysError::BadAddress.code());
    ensure_eq!(sys::poll(note), Ok(1 << 5));
    ensure!(empty(lease));

    // A caller whose capability space is full: its call fails with
    // OutOfMemory, the reply counts as given, the lease ends.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 8))?;
    let space = must(sys::cspace_create(budget(), 64))?;
    must(sys::cap_copy_to(
        ep,
        Rights::WRITE | Rights::GRANT,
        space,
        CapSlot(1),
    ))?;
    for slot in 2..64 {
        must(sys::cap_copy_to(note, Rights::READ, space, CapSlot(slot)))?;
    }
    let full = Raw::new(saved_caller_entry, pack(1, 1))
        .cspace(space)
        .priority(33)
        .buffer(&PAGES[0])
        .start()?;
    take_call(ep, 1)?;
    ensure_eq!(rt::sys::reply(&with_lease(lease)), Ok(()));
    ensure_eq!(full.join()?, SysError::OutOfMemory.code());
    ensure_eq!(sys::poll(note), Ok(1 << 8));
    ensure!(empty(lease));
    ensure_eq!(sys::cap_delete(space), Ok(()));

    // A lease whose client already holds a copy stays: the lost reply
    // took nothing from it.
    let lease = must(sys::cap_mint(ep, rw, WATCH_BADGE | 6))?;
    let held = must(sys::cap_copy(lease, rw))?;
    let four = caller(ep, true)?;
    take_call(ep, 1)?;
    four.kill()?;
    ensure_eq!(
        rt::sys::reply(&with_lease(lease)),
        Err(SysError::PeerClosed)
    );
    ensure_eq!(sys::poll(note), Ok(0));
    ensure!(!empty(lease));
    ensure_eq!(sys::cap_delete(held), Ok(()));
    ensure_eq!(sys::poll(note), Ok(1 << 6));
    ensure!(empty(lease));

    // A capability that is not a lease is left alone.
    let plain = must(sys::cap_mint(ep, rw, 7))?;
    let five = caller(ep, true)?;
    take_call(ep, 1)?;
    five.kill()?;
    ensure_eq!(
        rt::sys::reply(&with_lease(plain)),
        Err(SysError::PeerClosed)
    );
    ensure!(!empty(plain));
    ensure_eq!(sys::poll(note), Ok(0));

    for slot in [plain, note, ep] {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
