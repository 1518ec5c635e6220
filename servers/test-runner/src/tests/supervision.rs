//! init's supervision, seen from a supervised program: the programs of
//! `system-test.toml` that init started with the test runner, its
//! `Supervisor` protocol, and the endpoints init connected.
//!
//! - `flaky` answers one call per instance and then fails: init restarts
//!   it with a doubling delay and gives up at the fourth failure, after
//!   which its endpoint is revoked (a queued call gets `PeerClosed`, a
//!   later one `InvalidCap`: nobody waits for a server that will not come);
//! - `once` answers one call and exits cleanly: not restarted;
//! - `echo-server` is killed through the protocol, again and again, and
//!   comes back each time with init's frame count unchanged;
//! - `cap-probe` reports every capability it holds;
//! - `missing` names a file that does not exist: refused.

use alloc::vec::Vec;

use abi::SysError;
use abi::startup::handle;
use protocols::Error;
use protocols::echo::EchoClient;
use protocols::supervisor::{
    Event, EventKind, NOT_RUNNING, State, SupervisorClient, UNKNOWN_PROGRAM,
};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message};

use super::TestResult;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// An endpoint init gave the test runner: `kind` named `name`.
pub fn granted(kind: u32, name: &str) -> Result<Endpoint, super::Failure> {
    let slot = rt::start::startup_info()
        .and_then(|info| info.handle_named(kind, name))
        .ok_or_else(fail)?;
    Ok(Endpoint::from_raw(copy_of(slot)?))
}

/// A copy of `slot` with the same rights: the handle deletes the copy
/// when dropped, and the startup slot stays for the next test.
fn copy_of(slot: abi::CapSlot) -> Result<abi::CapSlot, super::Failure> {
    let info = rt::sys::cap_info(slot).map_err(|_| fail())?;
    let rights = abi::Rights::from_bits_truncate(info.rights);
    rt::sys::cap_copy(slot, rights).map_err(|_| fail())
}

pub fn supervisor() -> Result<SupervisorClient, super::Failure> {
    let slot = rt::start::startup_info()
        .and_then(|info| info.handle(handle::SUPERVISOR))
        .ok_or_else(fail)?;
    Ok(SupervisorClient::new(Endpoint::from_raw(copy_of(slot)?)))
}

/// One call to a `serve-once` program: word 0 in, word 0 + 1 back.
fn call_once(endpoint: &Endpoint, word: u64) -> Result<u64, SysError> {
    let mut message = Message::with_words(0, &[word]);
    endpoint.call(&mut message)?;
    Ok(message.word(0))
}

fn history(supervisor: &mut SupervisorClient, name: &str) -> Result<Vec<Event>, super::Failure> {
    let bytes = supervisor.history(name).map_err(|_| fail())?;
    Ok(Event::parse_all(bytes).collect())
}

/// Waits (up to 5 s) until `name` is in `state`.
fn wait_for(
    supervisor: &mut SupervisorClient,
    name: &str,
    state: State,
) -> Result<(State, u64, u64), super::Failure> {
    let deadline = rt::time::now_ns() + 5_000_000_000;
    loop {
        let status = supervisor.status(name).map_err(|_| fail())?;
        if status.0 == state || rt::time::now_ns() > deadline {
            return Ok(status);
        }
        rt::time::sleep(rt::time::Duration::from_millis(5));
    }
}

/// Each call to `flaky` is served by a new instance, started after a
/// delay that doubles up to its cap; the fourth failure within the window
/// makes init give up and close the endpoint, so the next call fails at
/// once instead of waiting for a server that will not come.
pub fn backoff_then_give_up() -> TestResult {
    let flaky = granted(handle::CLIENT, "flaky")?;
    let mut supervisor = supervisor()?;
    for word in 0..4 {
        ensure_eq!(call_once(&flaky, word), Ok(word + 1));
    }
    let (state, instance, failures) = wait_for(&mut supervisor, "flaky", State::GaveUp)?;
    ensure_eq!((state, instance, failures), (State::GaveUp, 4, 4));
    // init revoked the endpoint: the capability is gone.
    ensure_eq!(call_once(&flaky, 9), Err(SysError::InvalidCap));
    let events = history(&mut supervisor, "flaky")?;
    let kinds: Vec<(EventKind, u32)> = events.iter().map(|e| (e.kind, e.value)).collect();
    use EventKind::*;
    ensure_eq!(
        kinds,
        [
            (Started, 1),
            (Exited, 3),
            (RestartIn, 20),
            (Started, 2),
            (Exited, 3),
            (RestartIn, 40),
            (Started, 3),
            (Exited, 3),
            (RestartIn, 80),
            (Started, 4),
            (Exited, 3),
            (GaveUp, 4),
        ]
    );
    // Each restart came no sooner than its delay.
    for pair in events.windows(2) {
        if pair[0].kind == RestartIn {
            let waited = pair[1].time_ns - pair[0].time_ns;
            ensure!(waited >= u64::from(pair[0].value) * 1_000_000);
        }
    }
    let note = supervisor.note("flaky").map_err(|_| fail())?;
    ensure!(note.contains("gave up"));
    Ok(())
}

/// A clean exit under `on-failure` is not restarted; the endpoint it
/// served is closed.
pub fn clean_exit_stays_down() -> TestResult {
    let once = granted(handle::CLIENT, "once")?;
    let mut supervisor = supervisor()?;
    ensure_eq!(call_once(&once, 41), Ok(42));
    let status = wait_for(&mut supervisor, "once", State::Stopped)?;
    ensure_eq!(status, (State::Stopped, 1, 0));
    ensure_eq!(call_once(&once, 1), Err(SysError::InvalidCap));
    let kinds: Vec<EventKind> = history(&mut supervisor, "once")?
        .iter()
        .map(|e| e.kind)
        .collect();
    ensure_eq!(kinds, [EventKind::Started, EventKind::Exited]);
    ensure_eq!(supervisor.kill("once"), Err(Error::Remote(NOT_RUNNING)));
    Ok(())
}

/// A killed server comes back and serves the same endpoint; every frame
/// of each dead instance returns to init.
pub fn kill_and_restart() -> TestResult {
    let echo = granted(handle::CLIENT, "echo")?;
    let mut client = EchoClient::new(echo);
    let mut supervisor = supervisor()?;
    let (state, first, _) = supervisor.status("echo-server").map_err(|_| fail())?;
    ensure_eq!(state, State::Running);
    ensure_eq!(client.ping(7), Ok(7));
    let mut used_after_first = 0;
    for round in 0..10u64 {
        ensure_eq!(supervisor.kill("echo-server"), Ok(()));
        // Queued until the new instance serves it.
        ensure_eq!(client.ping(round), Ok(round));
        let (state, instance, _) = supervisor.status("echo-server").map_err(|_| fail())?;
        ensure_eq!((state, instance), (State::Running, first + round + 1));
        let (_, used) = supervisor.frames().map_err(|_| fail())?;
        if round == 0 {
            used_after_first = used;
        }
        ensure_eq!(used, used_after_first);
    }
    Ok(())
}

/// A program holds exactly what init gave it: its own thread, address
/// space, capability space and budget, the parent endpoint, and the one
/// endpoint its entry grants; nothing else.
pub fn exact_capabilities() -> TestResult {
    let report = granted(handle::SERVICE, "report")?;
    let mut message = Message::new(0);
    let mut seen = Vec::new();
    loop {
        report.recv(&mut message).map_err(|_| fail())?;
        let label = message.label();
        let words = [
            message.word(0),
            message.word(1),
            message.word(2),
            message.word(3),
        ];
        rt::ipc::reply(&Message::new(0)).map_err(|_| fail())?;
        if label == 2 {
            ensure_eq!(words[0], seen.len() as u64);
            break;
        }
        seen.push(words);
    }
    use abi::ObjectType as T;
    let kind = |t: T| u64::from(t.to_reg() as u32);
    let slots: Vec<(u64, u64)> = seen.iter().map(|w| (w[0], w[1])).collect();
    ensure_eq!(
        slots,
        [
            (1, kind(T::Thread)),
            (2, kind(T::AddressSpace)),
            (3, kind(T::CSpace)),
            (4, kind(T::Budget)),
            (5, kind(T::Endpoint)),
            (8, kind(T::Endpoint)),
        ]
    );
    // The client endpoint: call rights only.
    let rights = abi::Rights::from_bits_truncate(seen[5][2] as u32);
    ensure!(!rights.contains(abi::Rights::READ));
    Ok(())
}

/// Unknown names and programs that could not start.
pub fn errors() -> TestResult {
    let mut supervisor = supervisor()?;
    ensure_eq!(
        supervisor.status("no-such-program"),
        Err(Error::Remote(UNKNOWN_PROGRAM))
    );
    ensure_eq!(
        supervisor.kill("no-such-program"),
        Err(Error::Remote(UNKNOWN_PROGRAM))
    );
    ensure_eq!(supervisor.status("missing"), Ok((State::Refused, 0, 0)));
    ensure!(
        supervisor
            .note("missing")
            .map_err(|_| fail())?
            .contains("not in the initramfs")
    );
    ensure_eq!(supervisor.kill("missing"), Err(Error::Remote(NOT_RUNNING)));
    Ok(())
}

/// A manifest that asks for a port range, an IRQ or device memory its
/// entry does not grant is refused, with a note naming what it asked for.
pub fn manifests_enforced() -> TestResult {
    let mut supervisor = supervisor()?;
    for (name, asked) in [
        (
            "greedy-ports",
            "asks for I/O ports 0x2f8..0x300, not granted",
        ),
        ("greedy-irq", "asks for ISA IRQ 7, not granted"),
        (
            "greedy-memory",
            "asks for device memory 0xfeb01000..0xfeb02000, not granted",
        ),
    ] {
        ensure_eq!(supervisor.status(name), Ok((State::Refused, 0, 0)));
        let note = supervisor.note(name).map_err(|_| fail())?;
        ensure_eq!(note, asked);
    }
    Ok(())
}

/// A driver that touches a port outside its range faults (#GP), and
/// init, its supervisor, records how it ended; its policy leaves it down.
pub fn outside_port_faults() -> TestResult {
    let mut supervisor = supervisor()?;
    ensure_eq!(supervisor.status("rogue"), Ok((State::Running, 1, 0)));
    // The call it faults in the middle of.
    let rogue = granted(handle::CLIENT, "rogue")?;
    ensure_eq!(call_once(&rogue, 0), Err(SysError::PeerClosed));
    let status = wait_for(&mut supervisor, "rogue", State::Stopped)?;
    ensure_eq!(status, (State::Stopped, 1, 1));
    let kinds: Vec<(EventKind, u32)> = history(&mut supervisor, "rogue")?
        .iter()
        .map(|e| (e.kind, e.value))
        .collect();
    ensure_eq!(kinds, [(EventKind::Started, 1), (EventKind::Faulted, 13)]);
    let note = supervisor.note("rogue").map_err(|_| fail())?;
    ensure!(note.contains("faulted: vector 13"));
    Ok(())
}
