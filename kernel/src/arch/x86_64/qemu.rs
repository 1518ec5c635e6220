//! QEMU's `isa-debug-exit` device (I/O port 0xf4): writing `v` ends QEMU
//! with exit status `v * 2 + 1`. Absent on real hardware, where the write
//! does nothing and the caller carries on.

use x86_64::instructions::port::Port;

/// Exit value written by a kernel panic: QEMU exits with status 99.
pub const PANIC_EXIT_VALUE: u32 = 0x31;

/// Ends the QEMU run if the device exists; returns otherwise.
pub fn exit(value: u32) {
    let mut port = Port::<u32>::new(0xf4);
    // SAFETY: port 0xf4 is the debug-exit device under QEMU and unused
    // otherwise; writing it has no effect on kernel memory.
    unsafe { port.write(value) };
}
