//! The kernel's console: QEMU's debug console port (`isa-debugcon` at
//! I/O port 0xe9), one `out` per byte, for the kernel log, panics and the
//! debug capability's output.
//!
//! The UART (COM1, 0x3f8) belongs to the user-space serial driver; the
//! kernel never touches it, so the two never fight over the device. QEMU
//! puts both on one terminal through a multiplexed character device
//! (`xtask/src/qemu.rs`). On a machine without the port the bytes go
//! nowhere (an `out` to an unclaimed ISA port is ignored).

use x86_64::instructions::port::Port;

/// The debug console's port (`abi::syscall::KERNEL_IO_PORTS` holds it).
const DEBUGCON: u16 = 0xe9;

/// Writes bytes, turning `\n` into `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    let mut port = Port::<u8>::new(DEBUGCON);
    for &b in bytes {
        // SAFETY: writing the debug console's port has no effect on memory;
        // the kernel owns the port (it is never granted to user space).
        unsafe {
            if b == b'\n' {
                port.write(b'\r');
            }
            port.write(b);
        }
    }
}
