//! A fake terminal for console tests: a `Serial` server ([`Wire`]) on a
//! thread of the test runner takes what a console writes and answers its
//! reads with keys the test types; [`Rig`] starts a console of the test's
//! own (`bin/console` with a fresh endpoint and the wire as its `serial`).
//! Used by `console.rs` (the console server) and `sh_console.rs` (the
//! shell on it).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use abi::Rights;
use abi::startup::CLIENT_BADGE;
use abi::startup::handle::{CLIENT, SERVICE};
use files::{FsError, OpenFlags};
use protocols::file::{self, FileClient};
use protocols::serial::{self, SerialServer, Wait, flags};
use protocols::{ErrorCode, status};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message, SavedReply};
use rt::spawn::{Child, Grant, Spawn};
use rt::sync::Mutex;
use rt::thread::JoinHandle;
use rt::time::{Duration, Instant, deadline_after};

use super::TestResult;
use super::spawn::program;
use super::syscalls::fail;
use crate::ensure;

/// How long a test waits for the console to do something.
pub const PATIENCE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// The fake terminal.

/// What the fake wire holds: keys typed and not yet read, what the
/// console wrote, and the console's read waiting for a key.
#[derive(Default)]
struct WireState {
    typed: Vec<u8>,
    written: Vec<u8>,
    flags: u32,
    waiting: Option<(SavedReply, u32, usize)>,
    /// Reads and configures seen, to know the console is connected.
    reads: u32,
}

/// The status the fake's `read` answers with to have its call wait.
const DEFER: ErrorCode = ErrorCode::new(0xffff);

struct FakeSerial {
    state: Arc<Mutex<WireState>>,
    deferred: Option<usize>,
    buffer: [u8; serial::READ_MAX_BYTES],
}

impl SerialServer for FakeSerial {
    fn info(&mut self) -> Result<(u64, u64, u32), ErrorCode> {
        let state = self.state.lock();
        Ok((state.typed.len() as u64, 0, state.flags))
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        self.state.lock().written.extend_from_slice(data);
        Ok(data.len() as u64)
    }

    fn read(&mut self, max: u32, wait: Wait, _deadline: u64) -> Result<&[u8], ErrorCode> {
        let mut state = self.state.lock();
        state.reads += 1;
        let max = (max as usize).min(serial::READ_MAX_BYTES);
        if state.typed.is_empty() {
            if wait == Wait::None {
                return Ok(&[]);
            }
            self.deferred = Some(max);
            return Err(DEFER);
        }
        let n = state.typed.len().min(max);
        self.buffer[..n].copy_from_slice(&state.typed[..n]);
        state.typed.drain(..n);
        Ok(&self.buffer[..n])
    }

    fn configure(&mut self, new: u32) -> Result<u32, ErrorCode> {
        let mut state = self.state.lock();
        Ok(core::mem::replace(&mut state.flags, new))
    }
}

/// Answers a waiting read with what was typed, if anything.
fn answer_waiting(state: &mut WireState) {
    if state.typed.is_empty() {
        return;
    }
    let Some((reply, request_id, max)) = state.waiting.take() else {
        return;
    };
    let n = state.typed.len().min(max);
    let mut message = Message::new(status::reply_label(status::OK, request_id));
    let _ = protocols::wire::put_bytes(&state.typed[..n], &mut message);
    if reply.send(&message).is_ok() {
        state.typed.drain(..n);
    }
}

/// The fake terminal: a thread serving `Serial` on an endpoint.
pub struct Wire {
    state: Arc<Mutex<WireState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Wire {
    /// Serves `endpoint` (which it keeps) until dropped.
    pub fn serve(endpoint: Endpoint) -> Result<Wire, super::Failure> {
        let state = Arc::new(Mutex::new(WireState {
            flags: flags::DEFAULT,
            ..WireState::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop) = (state.clone(), stop.clone());
        let thread = rt::thread::Builder::new()
            .name("fake-serial")
            .spawn(move || fake_loop(&endpoint, thread_state, &thread_stop))
            .map_err(|_| fail())?;
        Ok(Wire {
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// Types `keys` on the terminal.
    pub fn type_keys(&self, keys: &[u8]) {
        let mut state = self.state.lock();
        state.typed.extend_from_slice(keys);
        answer_waiting(&mut state);
    }

    /// Takes what the console wrote so far.
    pub fn take_written(&self) -> Vec<u8> {
        core::mem::take(&mut self.state.lock().written)
    }

    /// Waits until the console wrote `want` (exactly, from the last take),
    /// then takes it.
    pub fn expect_written(&self, want: &[u8]) -> Result<(), super::Failure> {
        let start = Instant::now();
        loop {
            {
                let mut state = self.state.lock();
                if state.written.len() >= want.len() {
                    let got = core::mem::take(&mut state.written);
                    drop(state);
                    if got != want {
                        rt::println!("    written {:?}\n    want    {:?}", got, want);
                        return Err(fail());
                    }
                    return Ok(());
                }
            }
            if start.elapsed() > PATIENCE {
                let got = self.take_written();
                rt::println!("    written {:?}\n    want    {:?}", got, want);
                return Err(fail());
            }
            rt::time::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until the console waits in a read of the wire.
    pub fn until_reading(&self) -> TestResult {
        let start = Instant::now();
        while self.state.lock().waiting.is_none() {
            ensure!(start.elapsed() < PATIENCE);
            rt::time::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// The wire's flags as the console left them.
    pub fn flags(&self) -> u32 {
        self.state.lock().flags
    }
}

impl Wire {
    /// Stops serving; a read still waiting gets `PeerClosed`, as from a
    /// driver that died.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.state.lock().waiting = None;
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn fake_loop(endpoint: &Endpoint, state: Arc<Mutex<WireState>>, stop: &AtomicBool) {
    let mut server = FakeSerial {
        state: state.clone(),
        deferred: None,
        buffer: [0; serial::READ_MAX_BYTES],
    };
    let mut request = Message::new(0);
    let mut reply = Message::new(0);
    while !stop.load(Ordering::SeqCst) {
        let deadline = deadline_after(Duration::from_millis(10));
        match endpoint.recv_until(&mut request, deadline) {
            Ok(()) if request.info().is_call() => {}
            Ok(()) => continue,
            Err(abi::SysError::TimedOut) => continue,
            Err(_) => return,
        }
        server.deferred = None;
        serial::dispatch(&mut server, &request, &mut reply);
        let deferred = status::split_label(reply.label()).0 == DEFER.get();
        match server.deferred.take() {
            Some(max) if deferred => {
                let request_id = status::split_label(request.label()).1;
                if let Ok(saved) = SavedReply::save() {
                    let mut state = state.lock();
                    state.waiting = Some((saved, request_id, max));
                    // Keys typed since the read was looked at.
                    answer_waiting(&mut state);
                }
            }
            _ => {
                let _ = rt::ipc::reply(&reply);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A console of the test's own.

/// A console started by the test, its terminal the fake wire.
pub struct Rig {
    pub wire: Wire,
    /// The test's copy of the wire's endpoint, to serve it again.
    pub wire_endpoint: Endpoint,
    /// The root capability (`/dev`) of session 1.
    pub root: Endpoint,
    pub child: Option<Child>,
}

impl Rig {
    /// Starts `bin/console` on a fresh endpoint with a fake wire as its
    /// `serial`, and waits until it reads the wire.
    pub fn start() -> Result<Rig, super::Failure> {
        let own = rt::process::own_caps();
        let service = Endpoint::from_raw(rt::sys::endpoint_create(own.budget).map_err(|_| fail())?);
        let wire = Endpoint::from_raw(rt::sys::endpoint_create(own.budget).map_err(|_| fail())?);
        let grants = [
            Grant {
                slot: service.slot(),
                rights: Rights::READ | Rights::WRITE | Rights::GRANT,
                kind: SERVICE,
                name: "console",
            },
            Grant {
                slot: wire.slot(),
                rights: Rights::WRITE | Rights::GRANT,
                kind: CLIENT,
                name: "serial",
            },
        ];
        let file = program("bin/console").ok_or_else(fail)?;
        let child = Spawn::new(file)
            .args(&["console"])
            .grants(&grants)
            .spawn()
            .map_err(|_| fail())?;
        let root = rt::sys::cap_mint(
            service.slot(),
            Rights::WRITE | Rights::GRANT,
            CLIENT_BADGE | 1,
        )
        .map_err(|_| fail())?;
        let rig = Rig {
            wire: Wire::serve(
                wire.copy(Rights::READ | Rights::WRITE)
                    .map_err(|_| fail())?,
            )?,
            wire_endpoint: wire,
            root: Endpoint::from_raw(root),
            child: Some(child),
        };
        rig.wire.until_reading()?;
        Ok(rig)
    }

    /// Ends the fake wire (its waiting read gets `PeerClosed`, as from a
    /// driver that died) and serves the endpoint again with a new one.
    pub fn restart_wire(&mut self) -> TestResult {
        let copy = self
            .wire_endpoint
            .copy(Rights::READ | Rights::WRITE)
            .map_err(|_| fail())?;
        self.wire.shutdown();
        self.wire = Wire::serve(copy)?;
        Ok(())
    }

    /// Opens `path` on the root with `flags`.
    pub fn open(&self, path: &str, flags: OpenFlags) -> Result<Endpoint, FsError> {
        let mut client = FileClient::new(&self.root);
        let (cap, _) = client.open(path, flags.bits()).map_err(file::error_of)?;
        Ok(Endpoint::from_raw(cap.into_raw()))
    }

    /// The console open for reading and writing.
    pub fn console(&self) -> Result<Endpoint, super::Failure> {
        self.open("console", OpenFlags::READ | OpenFlags::WRITE)
            .map_err(|_| fail())
    }
}
