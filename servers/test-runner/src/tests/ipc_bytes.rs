//! The bytes of a message (docs/ipc.md, "Bytes"): a reply (or any
//! message) that lists pieces of the sender's memory lands them in the
//! window the receiver named, cut to the window; each documented error,
//! and who gets it.

use alloc::vec;
use alloc::vec::Vec;

use abi::ipc::{IPC_BUFFER_PIECE_COUNT_OFFSET, MSG_MAX_BYTES, MSG_MAX_PIECES};
use abi::layout::USER_END;
use abi::{CapSlot, SysError};
use rt::ipc::Message;
use rt::ipc_buffer::IpcBufferPtr;
use rt::ipc_bytes::{receive_into, set_pieces};
use rt::thread::JoinHandle;

use super::TestResult;
use super::support::*;
use crate::raw as sys;
use crate::{ensure, ensure_eq};

/// What a caller thread saw: its call's result, the count the kernel
/// reported, and its window's bytes.
type Seen = (Result<u64, SysError>, usize, Vec<u8>);

/// A thread that calls `ep` once with a window of `window` bytes (none
/// for 0) at `offset` into a buffer of its own, and reports what it saw.
fn caller(ep: CapSlot, window: usize, offset: usize) -> Result<JoinHandle<Seen>, super::Failure> {
    let fail = || super::Failure {
        what: "could not start the caller",
        file: file!(),
        line: line!(),
    };
    rt::thread::spawn(move || {
        let mut buf = vec![0u8; window + offset];
        let mut message = Message::new(1);
        let (result, got) = if window == 0 {
            (rt::sys::call(ep, &mut message), 0)
        } else {
            receive_into(&mut buf[offset..], || rt::sys::call(ep, &mut message))
        };
        (result.map(|()| message.label()), got, buf.split_off(offset))
    })
    .map_err(|_| fail())
}

/// What a thread returned.
fn joined<T>(thread: JoinHandle<T>) -> Result<T, super::Failure> {
    thread.join().map_err(|_| super::Failure {
        what: "a thread could not be joined",
        file: file!(),
        line: line!(),
    })
}

/// Takes the call `caller` makes on `ep`.
fn take(ep: CapSlot) -> TestResult {
    let mut request = Message::new(0);
    ensure_eq!(rt::sys::recv(ep, &mut request, 0), Ok(()));
    ensure!(request.info().is_call());
    Ok(())
}

/// A reply labelled 7 carrying the pieces listed.
fn reply_with_bytes(pieces: &[(u64, u64)]) -> Result<(), SysError> {
    set_pieces(pieces)?;
    let mut reply = Message::new(7);
    reply.send_bytes();
    rt::sys::reply(&reply)
}

/// `len` bytes of a pattern that differs from page to page.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8) ^ ((i >> 12) as u8) ^ seed)
        .collect()
}

fn piece(bytes: &[u8]) -> (u64, u64) {
    (bytes.as_ptr() as u64, bytes.len() as u64)
}

pub fn reply_lands_in_window() -> TestResult {
    let ep = must(sys::endpoint_create(budget()))?;
    let a = pattern(5000, 1);
    let b = pattern(9000, 2);

    // Two pieces, each crossing pages, into a window at an odd offset.
    let thread = caller(ep, 14_000, 3)?;
    take(ep)?;
    ensure_eq!(reply_with_bytes(&[piece(&a), piece(&b)]), Ok(()));
    let (result, got, bytes) = joined(thread)?;
    ensure_eq!(result, Ok(7));
    ensure_eq!(got, 14_000);
    ensure!(bytes[..5000] == a[..] && bytes[5000..] == b[..]);
    // Counted from here: the first thread and buffers grew the heap and
    // the thread pool, which keep their pages.
    let before = free_frames()?;

    // A smaller window takes the first bytes only.
    let thread = caller(ep, 6000, 0)?;
    take(ep)?;
    ensure_eq!(reply_with_bytes(&[piece(&a), piece(&b)]), Ok(()));
    let (result, got, bytes) = joined(thread)?;
    ensure_eq!((result, got), (Ok(7), 6000));
    ensure!(bytes[..5000] == a[..] && bytes[5000..] == b[..1000]);

    // No window: the reply goes, no byte does.
    let thread = caller(ep, 0, 0)?;
    take(ep)?;
    ensure_eq!(reply_with_bytes(&[piece(&a)]), Ok(()));
    ensure_eq!(joined(thread)?.0, Ok(7));

    // No pieces, and empty pieces: 0 bytes.
    let thread = caller(ep, 100, 0)?;
    take(ep)?;
    ensure_eq!(reply_with_bytes(&[(0, 0), (1, 0)]), Ok(()));
    let (result, got, _) = joined(thread)?;
    ensure_eq!((result, got), (Ok(7), 0));

    ensure_eq!(free_frames()?, before);
    must(sys::cap_delete(ep))?;
    Ok(())
}

pub fn call_carries_bytes() -> TestResult {
    // The other way: a caller's bytes land in the receiver's window.
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let fail = || super::Failure {
        what: "could not start the caller",
        file: file!(),
        line: line!(),
    };
    let sender = rt::thread::spawn(move || {
        let data = pattern(4096, 9);
        let mut message = Message::new(3);
        if set_pieces(&[piece(&data[..100]), piece(&data[100..])]).is_err() {
            return Err(SysError::InvalidArg);
        }
        message.send_bytes();
        rt::sys::call(ep, &mut message)
    })
    .map_err(|_| fail())?;
    let mut window = vec![0u8; 4096];
    let mut request = Message::new(0);
    let (result, got) = receive_into(&mut window, || rt::sys::recv(ep, &mut request, 0));
    ensure_eq!(result, Ok(()));
    ensure!(request.info().has_bytes());
    ensure_eq!(got, 4096);
    ensure!(window == pattern(4096, 9));
    // A plain reply; a received message's bytes flag is not sent back.
    ensure_eq!(rt::sys::reply(&request), Ok(()));
    ensure_eq!(joined(sender)?, Ok(()));
    must(sys::cap_delete(ep))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn sender_errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let data = pattern(8192, 5);
    let thread = caller(ep, 8192, 0)?;
    take(ep)?;

    // Each is the replier's error: nothing is given, the caller waits.
    let buffer = IpcBufferPtr::current();
    buffer.set_raw_word(IPC_BUFFER_PIECE_COUNT_OFFSET, MSG_MAX_PIECES as u64 + 1);
    let mut reply = Message::new(7);
    reply.send_bytes();
    ensure_eq!(rt::sys::reply(&reply), Err(SysError::InvalidArg));
    let too_many = vec![piece(&data[..1]); MSG_MAX_PIECES + 1];
    ensure_eq!(set_pieces(&too_many), Err(SysError::InvalidArg));
    let big = (data.as_ptr() as u64, MSG_MAX_BYTES + 1);
    ensure_eq!(reply_with_bytes(&[big]), Err(SysError::InvalidArg));
    let wraps = [piece(&data), (data.as_ptr() as u64, u64::MAX)];
    ensure_eq!(reply_with_bytes(&wraps), Err(SysError::InvalidArg));
    ensure_eq!(
        reply_with_bytes(&[(USER_END - 8, 64)]),
        Err(SysError::BadAddress)
    );
    ensure_eq!(reply_with_bytes(&[(8, 64)]), Err(SysError::BadAddress));
    // Inside user space but in no region.
    ensure_eq!(
        reply_with_bytes(&[(0x0000_6fff_0000_0000, 64)]),
        Err(SysError::BadAddress)
    );

    // The caller still waits, and takes the good reply.
    ensure_eq!(reply_with_bytes(&[piece(&data)]), Ok(()));
    let (result, got, bytes) = joined(thread)?;
    ensure_eq!((result, got), (Ok(7), 8192));
    ensure!(bytes == data);
    must(sys::cap_delete(ep))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn receiver_errors() -> TestResult {
    let before = free_frames()?;
    let ep = must(sys::endpoint_create(budget()))?;
    let data = pattern(100, 4);
    // A window the caller cannot write (its own code) or that is not
    // in user space: the reply counts as given, the call fails with
    // BadAddress.
    let code = reply_with_bytes as *const () as u64;
    for window in [(code, 100u64), (USER_END - 50, 100)] {
        let fail = || super::Failure {
            what: "could not start the caller",
            file: file!(),
            line: line!(),
        };
        let thread = rt::thread::spawn(move || {
            let buffer = IpcBufferPtr::current();
            let window_at = abi::ipc::IPC_BUFFER_WINDOW_OFFSET;
            buffer.set_raw_word(window_at, window.0);
            buffer.set_raw_word(window_at + 8, window.1);
            let mut message = Message::new(1);
            let result = rt::sys::call(ep, &mut message);
            buffer.set_raw_word(window_at, 0);
            buffer.set_raw_word(window_at + 8, 0);
            result
        })
        .map_err(|_| fail())?;
        take(ep)?;
        ensure_eq!(reply_with_bytes(&[piece(&data)]), Ok(()));
        ensure_eq!(joined(thread)?, Err(SysError::BadAddress));
    }
    must(sys::cap_delete(ep))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}
