//! A generated protocol between two processes: the `Echo` protocol's
//! client here, its server the `echo-server` program loaded from the
//! initramfs. Every operation and message size, capabilities both ways,
//! bulk data through lent pages, malformed requests answered with an
//! error, and a server killed in the middle of a call.

use alloc::vec::Vec;

use abi::startup::handle::SERVICE;
use abi::syscall::LendMode;
use abi::{Rights, SysError};
use protocols::echo::{self, Color, EchoClient};
use protocols::{Bulk, Error};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message};
use rt::memory::{AddressSpace, Budget};
use rt::spawn::{Child, ExitStatus, Grant, Spawn};

use super::TestResult;
use super::spawn::program;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// Starts `path` serving a fresh endpoint; returns the child and the
/// client's copy of the endpoint.
pub fn start_server(path: &str, args: &[&str]) -> Result<(Child, Endpoint), SysError> {
    start_server_at(path, args, None)
}

/// [`start_server`], its first thread at `priority` if given.
pub fn start_server_at(
    path: &str,
    args: &[&str],
    priority: Option<u64>,
) -> Result<(Child, Endpoint), SysError> {
    let own = rt::process::own_caps();
    let endpoint = Endpoint::from_raw(rt::sys::endpoint_create(own.budget)?);
    let grants = [Grant {
        slot: endpoint.slot(),
        rights: Rights::READ | Rights::WRITE | Rights::GRANT,
        kind: SERVICE,
        name: "echo",
    }];
    let file = program(path).ok_or(SysError::InvalidArg)?;
    let mut spawn = Spawn::new(file).args(args).grants(&grants).aslr(false);
    if let Some(priority) = priority {
        spawn = spawn.priority(priority);
    }
    let child = spawn.spawn().map_err(|_| SysError::InvalidArg)?;
    Ok((child, endpoint))
}

/// Every operation of `Echo`, with its errors, through a real server.
pub fn every_operation() -> TestResult {
    let (child, endpoint) =
        start_server("bin/echo-server", &["echo-server"]).map_err(|_| fail())?;
    let mut client = EchoClient::new(&endpoint);
    ensure_eq!(client.ping(7), Ok(7));
    ensure_eq!(client.add(2, 3), Ok(5));
    ensure_eq!(client.add(u64::MAX, 1), Err(Error::Remote(echo::OVERFLOW)));
    ensure_eq!(client.divide(-7, 2), Ok((-3, -1)));
    ensure_eq!(
        client.divide(1, 0),
        Err(Error::Remote(echo::DIVIDE_BY_ZERO))
    );
    ensure_eq!(
        client.scalars(
            255,
            65535,
            u32::MAX,
            -1,
            i16::MIN,
            i32::MAX,
            false,
            Color::Blue
        ),
        Ok((0, 0, 0, 0, i16::MIN + 1, i32::MIN, true, Color::Red))
    );
    ensure_eq!(client.shout("hello, Mica"), Ok((11, "HELLO, MICA")));
    // Every message size: byte strings from empty to the largest that fits.
    let data: Vec<u8> = (0..=255u8).cycle().take(echo::SHOUT_MAX_BYTES).collect();
    for len in 0..=echo::SHOUT_MAX_BYTES {
        ensure_eq!(client.echo(&data[..len]), Ok(&data[..len]));
    }
    let long: alloc::string::String =
        core::iter::repeat_n('x', echo::SHOUT_MAX_BYTES + 1).collect();
    ensure!(client.shout(&long).is_err());
    // Capabilities both ways.
    let token = Endpoint::from_raw(
        rt::sys::endpoint_create(rt::process::own_caps().budget).map_err(|_| fail())?,
    );
    ensure_eq!(
        client.give().map(|_| ()),
        Err(Error::Remote(echo::NOTHING_KEPT))
    );
    ensure_eq!(client.keep(token.slot()), Ok(1));
    let back = client.give().map_err(|_| fail())?;
    let back = back.into_handle::<Endpoint>();
    ensure!(back.info().is_ok());
    ensure_eq!(client.forget(), Ok(()));
    ensure_eq!(
        client.give().map(|_| ()),
        Err(Error::Remote(echo::NOTHING_KEPT))
    );
    drop(back);
    // Bulk data: three pages of a buffer lent read-only.
    let buffer: Vec<u8> = (0..3 * 4096 + 100).map(|i| (i % 251) as u8).collect();
    let aspace = AddressSpace::from_raw(rt::process::own_caps().aspace);
    let budget = Budget::from_raw(rt::process::own_caps().budget);
    let lent = aspace.lend(
        &budget,
        buffer.as_ptr() as u64 + 50,
        3 * 4096,
        LendMode::Lend,
    );
    let _ = aspace.into_raw();
    let _ = budget.into_raw();
    let (memory, offset) = lent.map_err(|_| fail())?;
    let answer = client.lend(Bulk {
        memory: memory.slot(),
        offset_bytes: offset,
        len_bytes: 3 * 4096,
    });
    ensure_eq!(answer, Ok((4, 3 * 4096)));
    drop(memory);
    // Revoking the endpoint takes the server's copy away, and deleting ours
    // destroys it: the server's receive fails and it ends with 0.
    endpoint.revoke().map_err(|_| fail())?;
    drop(endpoint);
    let mut child = child;
    let deadline = rt::time::deadline_after(rt::time::Duration::from_secs(10));
    ensure_eq!(child.wait_until(deadline), Ok(ExitStatus::Exited(0)));
    Ok(())
}

/// Requests that no client stub would send are answered with an error
/// status, and the server goes on serving.
pub fn malformed_requests() -> TestResult {
    let (_child, endpoint) =
        start_server("bin/echo-server", &["echo-server"]).map_err(|_| fail())?;
    let status = |message: &Message| (message.label() & 0xffff) as u16;
    let label = |opcode: u64, id: u64| opcode | (id << 16);
    // Unknown opcode.
    let mut m = Message::with_words(label(999, 1), &[1]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::UNKNOWN_OPERATION);
    ensure_eq!(m.label() >> 16, 1);
    // `ping` with no argument, and with one too many.
    for words in [&[][..], &[1, 2][..]] {
        let mut m = Message::with_words(label(1, 2), words);
        endpoint.call(&mut m).map_err(|_| fail())?;
        ensure_eq!(status(&m), protocols::status::MALFORMED);
    }
    // `scalars` with a u8 out of range and a bad enum value.
    let mut m = Message::with_words(label(4, 3), &[256, 0, 0, 0, 0, 0, 0, 0]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    let mut m = Message::with_words(label(4, 4), &[0, 0, 0, 0, 0, 0, 0, 9]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    // `shout` with a length past the message, and with invalid UTF-8.
    let mut m = Message::with_words(label(5, 5), &[4096]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    let mut m = Message::with_words(label(5, 6), &[2, 0xffff]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    // `keep` without its capability.
    let mut m = Message::with_words(label(7, 7), &[]);
    endpoint.call(&mut m).map_err(|_| fail())?;
    ensure_eq!(status(&m), protocols::status::MALFORMED);
    // A plain send (no reply expected) is not answered and does no harm.
    endpoint
        .send(&Message::with_words(label(1, 8), &[5]))
        .map_err(|_| fail())?;
    // Still serving.
    let mut client = EchoClient::new(&endpoint);
    ensure_eq!(client.ping(99), Ok(99));
    Ok(())
}

/// A server killed while it holds a call: the client gets `PeerClosed`,
/// and every frame comes back (measured on the second round, after the
/// first has grown the runner's heap).
pub fn server_killed_mid_call() -> TestResult {
    kill_mid_call()?;
    let before = free_frames()?;
    kill_mid_call()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn kill_mid_call() -> TestResult {
    let (child, endpoint) = start_server("bin/probe", &["probe", "hold"]).map_err(|_| fail())?;
    let caller = endpoint.copy(Rights::WRITE).map_err(|_| fail())?;
    let worker = rt::thread::spawn(move || {
        let mut client = EchoClient::new(&caller);
        // `forget` is not idempotent: no retry after PeerClosed.
        client.forget()
    })
    .map_err(|_| fail())?;
    // Let the call reach the server, then kill it.
    rt::time::sleep(rt::time::Duration::from_millis(20));
    child.kill();
    ensure_eq!(worker.join().map_err(|_| fail())?, Err(Error::PeerClosed));
    drop(endpoint);
    Ok(())
}
