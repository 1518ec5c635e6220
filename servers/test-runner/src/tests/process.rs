//! Programs in address spaces of their own talking through endpoints: every
//! message length and capability count across address spaces, and the
//! frames of a whole program coming back when it is destroyed.

use crate::copy_spawn::spawn_copy;
use crate::raw as sys;
use abi::{Rights, SysError};

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::peer::{self, grant};
use crate::{ensure, ensure_eq};

/// A client in one address space calls an echo server in another with
/// every length 0..=64 and 0..=3 capabilities; then both are destroyed
/// and every frame comes back.
pub fn every_length_across_spaces() -> TestResult {
    let own = rt::process::own_caps();
    // The first copy leaves page tables for its scratch window in our own
    // address space (kept for the next one): make them before counting.
    let warm_up = spawn_copy(peer::echo_server, 0, &[]).map_err(|_| fail())?;
    warm_up.destroy();
    let before = free_frames()?;
    let endpoint = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let spare = sys::notification_create(own.budget).map_err(|_| fail())?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(endpoint, peer::ENDPOINT, Rights::all()),
        grant(spare, peer::SPARE, Rights::all()),
    ];
    let server = spawn_copy(peer::echo_server, 0, &grants).map_err(|_| fail())?;
    let client = spawn_copy(peer::lengths_client, 0, &grants).map_err(|_| fail())?;
    let status = sys::thread_wait(client.thread).map_err(|_| fail())?;
    client.destroy();
    server.destroy();
    ensure_eq!(status.kind, abi::syscall::exit_kind::EXITED);
    ensure_eq!(status.code, 0);
    ensure_eq!(sys::cap_delete(endpoint), Ok(()));
    ensure_eq!(sys::cap_delete(spare), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A server destroyed while a client in another address space is blocked
/// calling it: the client's call fails with `PeerClosed` once the endpoint
/// goes; destroying a server with a caller waiting for its reply also
/// ends that call with `PeerClosed`.
pub fn server_gone_mid_call() -> TestResult {
    let own = rt::process::own_caps();
    let endpoint = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(endpoint, peer::ENDPOINT, Rights::READ),
    ];
    // A server that receives the call and never replies: it reaches its
    // receive (same priority: our yields let it run until it blocks), then
    // is suspended there. The call is still delivered to it, and we wait
    // for a reply that never comes until another thread destroys it.
    let server = spawn_copy(peer::echo_server, 0, &grants).map_err(|_| fail())?;
    for _ in 0..5 {
        sys::thread_yield();
    }
    ensure_eq!(sys::thread_suspend(server.thread), Ok(()));
    let killer = crate::raw_thread::spawn(destroy_thread_later, u64::from(server.thread.0))
        .map_err(|_| fail())?;
    let outcome = sys::call(endpoint, &sys::Message::new(7, &[]));
    ensure_eq!(outcome.map(|_| ()), Err(SysError::PeerClosed));
    ensure!(killer.join().is_ok());
    server.destroy();
    ensure_eq!(sys::cap_delete(endpoint), Ok(()));
    Ok(())
}

fn destroy_thread_later(slot: u64) -> u64 {
    for _ in 0..10 {
        sys::thread_yield();
    }
    match sys::cap_delete(abi::CapSlot(slot as u32)) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Short calls to a waiting server in another address space take the fast
/// path (both the call and the server's reply_recv), unless the kernel
/// runs with `fastpath=off`. (Long ones: [`long_fast_path_taken`].)
pub fn fast_path_taken() -> TestResult {
    let own = rt::process::own_caps();
    let endpoint = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(endpoint, peer::ENDPOINT, Rights::all()),
    ];
    let server = spawn_copy(peer::echo_server, 0, &grants).map_err(|_| fail())?;
    let counters = || sys::debug_counters(super::debug_cap()).map_err(|_| fail());
    // The first call may find the server not yet waiting.
    let first = sys::call(endpoint, &sys::Message::new(1, &[]));
    ensure!(first.is_ok());
    let before = counters()?;
    for round in 0..10u64 {
        let reply = sys::call(endpoint, &sys::Message::new(round, &[round, 2, 3, 4]));
        let reply = reply.map_err(|_| fail())?;
        ensure_eq!(reply.message.info.label(), round);
        ensure_eq!(reply.message.words, [round, 2, 3, 4]);
    }
    let after = counters()?;
    let expected = if before.fastpath_enabled == 1 { 20 } else { 0 };
    ensure_eq!(after.fastpath_ipc - before.fastpath_ipc, expected);
    server.destroy();
    ensure_eq!(sys::cap_delete(endpoint), Ok(()));
    Ok(())
}

/// Messages longer than the registers, between IPC buffers that are
/// mapped, take the fast path too (unless the kernel runs with
/// `fastpath=off`), and arrive whole; see [`long_calls_client`].
pub fn long_fast_path_taken() -> TestResult {
    let own = rt::process::own_caps();
    let endpoint = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(endpoint, peer::ENDPOINT, Rights::all()),
    ];
    let server = spawn_copy(peer::echo_server, 0, &grants).map_err(|_| fail())?;
    let client = spawn_copy(long_calls_client, 0, &grants).map_err(|_| fail())?;
    let status = sys::thread_wait(client.thread).map_err(|_| fail())?;
    client.destroy();
    server.destroy();
    ensure_eq!(status.kind, abi::syscall::exit_kind::EXITED);
    ensure_eq!(status.code, 0);
    ensure_eq!(sys::cap_delete(endpoint), Ok(()));
    Ok(())
}

/// Calls the echo server with 5 to 64 words, checks every word of each
/// reply, and that each call and reply took the fast path when it is on
/// (after a first call, which may find the server not yet waiting and
/// faults in its buffer page). Exits 0, or with the failing line.
extern "C" fn long_calls_client(_: u64) -> ! {
    sys::thread_exit(check_long_calls().err().unwrap_or(0))
}

fn check_long_calls() -> Result<(), u64> {
    use abi::ipc::{MSG_MAX_WORDS, MSG_REG_WORDS, MessageInfo};
    let line = |_| u64::from(line!());
    let buffer = crate::copy_spawn::child_ipc_buffer();
    let counters = || sys::debug_counters(peer::DEBUG).map_err(line);
    let first = sys::Message {
        info: MessageInfo::new(0, MSG_MAX_WORDS, 0),
        words: [0; 4],
    };
    sys::call(peer::ENDPOINT, &first).map_err(line)?;
    let before = counters()?;
    for length in MSG_REG_WORDS + 1..=MSG_MAX_WORDS {
        let word = |index: usize| (length * 1000 + index) as u64;
        let message = sys::Message {
            info: MessageInfo::new(length as u64, length, 0),
            words: [word(0), word(1), word(2), word(3)],
        };
        for index in MSG_REG_WORDS..length {
            buffer.set_word(index, word(index));
        }
        let reply = sys::call(peer::ENDPOINT, &message).map_err(line)?;
        if reply.message.info != message.info || reply.message.words != message.words {
            return Err(u64::from(line!()));
        }
        for index in MSG_REG_WORDS..length {
            if buffer.word(index) != word(index) {
                return Err(u64::from(line!()));
            }
            // The next call must not pass for this one's echo.
            buffer.set_word(index, 0);
        }
    }
    let after = counters()?;
    let calls = (MSG_MAX_WORDS - MSG_REG_WORDS) as u64;
    let expected = if before.fastpath_enabled == 1 {
        2 * calls
    } else {
        0
    };
    if after.fastpath_ipc - before.fastpath_ipc != expected {
        return Err(u64::from(line!()));
    }
    Ok(())
}
