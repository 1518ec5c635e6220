//! The serial driver: COM1's 16550 UART behind the `Serial` protocol
//! (`protocols::serial`), for any number of clients.
//!
//! Started by a loader (init, or today the test runner) with, in its
//! startup page: one `IO_PORTS` handle (ports 0x3f8-0x3ff, unbound), one
//! `IRQ` handle (ISA IRQ 4, not bound to a notification) and the `SERVICE`
//! endpoint named "serial". Every start resets the UART and binds the
//! interrupt to a notification of its own, so a driver killed at any
//! moment and started again on the same endpoint serves the calls still
//! queued there as if nothing happened (bytes received meanwhile are
//! lost; see `docs/serial.md`).
//!
//! Threads (each bound to the port range, since a thread may use only the
//! ports bound to it):
//!
//! - the interrupt thread waits on the notification, drains the receive
//!   FIFO into the ring [`RX_BUFFER_BYTES`] long (dropping and counting
//!   what does not fit), wakes waiting readers, acknowledges the line;
//! - [`SERVER_THREADS`] server threads (the first thread is one) receive
//!   on the one endpoint (the kernel queues receivers of an endpoint like
//!   senders) and dispatch. A `read` that waits keeps its thread until a
//!   byte comes or its deadline passes; at most `SERVER_THREADS - 1` reads
//!   wait at once (`READERS_BUSY` beyond), so one thread is always free for
//!   writes, `info` and `configure`.
//!
//! One mutex guards the UART's registers and the driver's state; a write
//! takes it for one FIFO load (16 bytes) at a time, so readers and the
//! interrupt thread get in between. Nothing is logged after start.
//!
//! Exit status: 0 when the endpoint is gone; 1 when a startup handle is
//! missing; 2 when setting up threads, ports or the interrupt fails.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod uart;

use alloc::sync::Arc;

use abi::SysError;
use abi::startup::handle::{IO_PORTS, IRQ, SERVICE};
use protocols::ErrorCode;
use protocols::serial::{
    self, OutputChunks, READ_MAX_BYTES, READERS_BUSY, ReadWait, RxRing, SerialServer, Wait, flags,
};
use rt::Handle;
use rt::device::{IoPorts, Irq};
use rt::ipc::Endpoint;
use rt::notify::Notification;
use rt::sync::{Condvar, Mutex};

use uart::{FIFO_BYTES, Uart};

// What the driver asks init for (docs/system.md, "Manifests"): COM1's
// ports as one IO_PORTS handle, ISA IRQ 4 as one IRQ handle (made, not
// bound), and the endpoint it serves (kept by init across restarts).
sysconf::manifest! {
    io_ports: [(0x3f8, 8)],
    irqs: [isa(4)],
    serves: ["serial"],
}

rt::entry!(main);

/// COM1's first port.
const COM1_BASE: u16 = 0x3f8;
/// Bytes received and not yet read that the driver keeps.
pub const RX_BUFFER_BYTES: usize = 4096;
/// Threads receiving on the endpoint.
pub const SERVER_THREADS: usize = 4;
/// Reads that may wait at once: one server thread stays free.
const WAITING_READERS_MAX: usize = SERVER_THREADS - 1;
/// The notification bit the interrupt signals.
const IRQ_BIT: u64 = 1;

/// What every thread shares.
struct Shared {
    /// The range every thread binds itself to.
    ports: IoPorts,
    /// The endpoint every server thread receives on.
    endpoint: Endpoint,
    /// The UART and the buffered input; its lock also orders register
    /// accesses between threads.
    state: Mutex<State>,
    /// Notified when bytes arrive.
    readable: Condvar,
}

/// Guarded by `Shared::state`.
struct State {
    uart: Uart,
    rx: RxRing<RX_BUFFER_BYTES>,
    flags: u32,
    /// Reads waiting for a byte now.
    waiting_readers: usize,
}

impl Shared {
    /// Moves received bytes into the ring and wakes readers if any came.
    fn drain(&self, state: &mut State) {
        let State { uart, rx, .. } = state;
        let (received, overruns) = uart.drain(|byte| rx.push(byte));
        rx.count_dropped(overruns);
        if received > 0 {
            self.readable.notify_all();
        }
    }
}

fn main() -> u64 {
    let Some(info) = rt::start::startup_info() else {
        return 1;
    };
    let service = info
        .handle_named(SERVICE, "serial")
        .or_else(|| info.handle(SERVICE));
    let (Some(ports), Some(irq), Some(service)) =
        (info.handle(IO_PORTS), info.handle(IRQ), service)
    else {
        rt::log::error!("serial: the startup page lacks IO_PORTS, IRQ or SERVICE");
        return 1;
    };
    let shared = Arc::new(Shared {
        ports: IoPorts::from_raw(ports),
        endpoint: Endpoint::from_raw(service),
        state: Mutex::new(State {
            uart: Uart::new(COM1_BASE),
            rx: RxRing::new(),
            flags: flags::DEFAULT,
            waiting_readers: 0,
        }),
        readable: Condvar::new(),
    });
    match start(&shared, Irq::from_raw(irq)) {
        Ok(()) => serve(&shared),
        Err(error) => {
            rt::log::error!("serial: setting up failed: {error}");
            2
        }
    }
}

/// Binds this thread to the ports, resets the UART, starts the interrupt
/// thread and the other server threads.
fn start(shared: &Arc<Shared>, irq: Irq) -> Result<(), SysError> {
    bind_ports(shared)?;
    shared.state.lock().uart.reset();
    let notification = Notification::from_raw(rt::sys::notification_create(
        rt::process::own_caps().budget,
    )?);
    irq.bind(&notification, IRQ_BIT)?;
    // A line an earlier instance left masked (delivered, never
    // acknowledged) opens again.
    irq.ack()?;
    let theirs = Arc::clone(shared);
    rt::thread::Builder::new()
        .name("serial-irq")
        .spawn(move || interrupts(&theirs, &irq, &notification))?
        .detach();
    for _ in 1..SERVER_THREADS {
        let theirs = Arc::clone(shared);
        rt::thread::Builder::new()
            .name("serial-server")
            .spawn(move || -> () {
                if bind_ports(&theirs).is_err() {
                    rt::process::exit(2);
                }
                rt::process::exit(serve(&theirs))
            })?
            .detach();
    }
    Ok(())
}

/// Lets the calling thread use the UART's ports.
fn bind_ports(shared: &Shared) -> Result<(), SysError> {
    let me = rt::thread::current().ok_or(SysError::InvalidArg)?;
    shared.ports.bind(me.thread())
}

/// The interrupt thread: drains the receive FIFO on each interrupt.
fn interrupts(shared: &Shared, irq: &Irq, notification: &Notification) -> u64 {
    if bind_ports(shared).is_err() {
        rt::process::exit(2);
    }
    {
        let mut state = shared.state.lock();
        state.uart.enable_rx_interrupt();
        // Bytes that came before the interrupt was on.
        shared.drain(&mut state);
    }
    loop {
        if notification.wait().is_err() {
            rt::process::exit(2);
        }
        shared.drain(&mut shared.state.lock());
        let _ = irq.ack();
        // The ISA line is edge-triggered: a byte that raised it while it
        // was masked gives no new edge, so look once more after unmasking.
        shared.drain(&mut shared.state.lock());
    }
}

/// A server thread (bound to the ports): answers calls until the
/// endpoint is gone; the exit status.
fn serve(shared: &Arc<Shared>) -> u64 {
    let mut handler = Handler {
        shared: Arc::clone(shared),
        read: [0; READ_MAX_BYTES],
    };
    match protocols::server::serve(&shared.endpoint, |request, reply| {
        serial::dispatch(&mut handler, request, reply)
    }) {
        SysError::PeerClosed | SysError::InvalidCap => 0,
        _ => 2,
    }
}

/// One server thread's handlers.
struct Handler {
    shared: Arc<Shared>,
    /// Where `read` puts its answer.
    read: [u8; READ_MAX_BYTES],
}

impl SerialServer for Handler {
    fn info(&mut self) -> Result<(u64, u64, u32), ErrorCode> {
        let state = self.shared.state.lock();
        Ok((state.rx.len() as u64, state.rx.dropped(), state.flags))
    }

    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        let crlf = self.shared.state.lock().flags & flags::CRLF != 0;
        let mut chunks = OutputChunks::new(data, crlf);
        let mut fifo = [0; FIFO_BYTES];
        loop {
            let count = chunks.next_chunk(&mut fifo);
            if count == 0 {
                return Ok(data.len() as u64);
            }
            loop {
                let mut state = self.shared.state.lock();
                // In loopback mode what goes out comes straight back:
                // make room before adding to it.
                self.shared.drain(&mut state);
                if state.uart.transmit_ready() {
                    state.uart.transmit(&fifo[..count]);
                    break;
                }
                drop(state);
                rt::thread::yield_now();
            }
        }
    }

    fn read(&mut self, max: u32, wait: Wait, deadline: u64) -> Result<&[u8], ErrorCode> {
        let (max, wait) = ReadWait::check(max, wait, deadline)?;
        let Handler { shared, read } = self;
        let mut state = shared.state.lock();
        if state.rx.is_empty() && wait != ReadWait::None {
            if state.waiting_readers >= WAITING_READERS_MAX {
                return Err(READERS_BUSY);
            }
            state.waiting_readers += 1;
            let deadline = match wait {
                ReadWait::Until(deadline) => deadline,
                _ => 0,
            };
            while state.rx.is_empty() {
                if !shared.readable.wait_until(&mut state, deadline) {
                    break;
                }
            }
            state.waiting_readers -= 1;
        }
        let count = state.rx.pop_into(&mut read[..max]);
        drop(state);
        Ok(&read[..count])
    }

    fn configure(&mut self, new: u32) -> Result<u32, ErrorCode> {
        if new & !flags::ALL != 0 {
            return Err(serial::BAD_FLAGS);
        }
        let mut state = self.shared.state.lock();
        state.uart.set_loopback(new & flags::LOOPBACK != 0);
        Ok(core::mem::replace(&mut state.flags, new))
    }
}
