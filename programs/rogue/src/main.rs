//! A driver that misbehaves on purpose, for the supervision tests: it is
//! granted COM2's ports (0x2f8-0x2ff), ISA IRQ 3 and a page of device
//! memory, binds the ports and reads one of them; then, when a call
//! arrives on its `SERVICE` endpoint, it reads port 0x300, one past its
//! range. The kernel faults it (#GP), the caller gets `PeerClosed`, and
//! init, its supervisor, hears of it.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use abi::startup::handle::{IO_PORTS, SERVICE};
use rt::Handle;

sysconf::manifest! {
    io_ports: [(0x2f8, 8)],
    irqs: [isa(3)],
    device_memory: [(0xfeb0_0000, 1)],
    serves: ["rogue"],
}

rt::entry!(main);

fn main() -> u64 {
    let Some(info) = rt::start::startup_info() else {
        return 1;
    };
    let (Some(ports), Some(service)) = (info.handle(IO_PORTS), info.handle(SERVICE)) else {
        return 1;
    };
    let ports = rt::device::IoPorts::from_raw(ports);
    let Some(me) = rt::thread::current() else {
        return 2;
    };
    if ports.bind(me.thread()).is_err() {
        return 3;
    }
    // Inside the range: fine (no COM2 here reads as 0xff).
    let _ = rt::device::port_read_u8(0x2f8);
    let endpoint = rt::ipc::Endpoint::from_raw(service);
    let mut message = rt::ipc::Message::new(0);
    if endpoint.recv(&mut message).is_err() {
        return 4;
    }
    // Outside: the kernel raises #GP and the thread ends in a fault.
    let _ = rt::device::port_read_u8(0x300);
    5
}
