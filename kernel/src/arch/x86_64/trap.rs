//! Rust side of interrupts and exceptions: what each vector means, from
//! user mode and from kernel mode.
//!
//! From user mode, an exception is the thread's fault (the portable kernel
//! kills it and reports it; fault endpoints come later), the timer is a
//! preemption point and a device vector is reported as `UserTrap::Irq`.
//! From kernel mode, only these are expected: a fault inside the usercopy
//! routine (resumed at its fixup), the timer and device interrupts while
//! the CPU idles or at a preemption point (a device vector is then left
//! pending for `irq::take_pending`), and spurious interrupts (counted by
//! `irq`). Any other exception is a kernel bug: it is reported with
//! vector, error code, RIP and CR2, and the kernel halts.

use x86_64::registers::control::Cr2;

use super::context::UserContext;
use super::idt::{SPURIOUS_VECTOR, TIMER_VECTOR};
use super::irq::{self, IrqVector};
use super::{timer, usercopy};

const PAGE_FAULT: u64 = 14;
const GENERAL_PROTECTION: u64 = 13;

/// Names of the architectural exceptions (SDM Vol. 3A Table 7-1).
pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error (#DE)",
        1 => "debug (#DB)",
        2 => "NMI",
        3 => "breakpoint (#BP)",
        4 => "overflow (#OF)",
        5 => "BOUND range exceeded (#BR)",
        6 => "invalid opcode (#UD)",
        7 => "device not available (#NM)",
        8 => "double fault (#DF)",
        10 => "invalid TSS (#TS)",
        11 => "segment not present (#NP)",
        12 => "stack-segment fault (#SS)",
        13 => "general protection (#GP)",
        14 => "page fault (#PF)",
        16 => "x87 floating-point error (#MF)",
        17 => "alignment check (#AC)",
        18 => "machine check (#MC)",
        19 => "SIMD floating-point (#XM)",
        20 => "virtualization (#VE)",
        21 => "control protection (#CP)",
        _ => "reserved exception",
    }
}

/// A user-mode exception the kernel could not resolve.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    /// Exception vector.
    pub vector: u64,
    /// Error code pushed by the CPU, or 0.
    pub error_code: u64,
    /// Faulting instruction.
    pub rip: u64,
    /// CR2 for page faults, else 0.
    pub addr: u64,
}

/// Why a user thread entered the kernel other than by `syscall`.
#[derive(Clone, Copy, Debug)]
pub enum UserTrap {
    /// The timer: a tick or the deadline was due (`timer::take_events`
    /// says which). Already acknowledged.
    Timer,
    /// A device interrupt on this vector. Already acknowledged; a
    /// level-triggered GSI stays masked until `irq::acknowledge`.
    Irq(IrqVector),
    /// Nothing to do (spurious, early or unexpected interrupt).
    Spurious,
    /// An exception.
    Fault(Fault),
}

#[unsafe(no_mangle)]
extern "C" fn trap_from_user(context: *const UserContext) -> ! {
    // SAFETY: the entry stub passes the running thread's saved context,
    // which the kernel keeps alive while the thread runs; only read here.
    let c = unsafe { &*context };
    let trap = match c.vector {
        vector @ 0..=31 => UserTrap::Fault(Fault {
            vector,
            error_code: c.error_code,
            rip: c.rip,
            addr: if vector == PAGE_FAULT {
                Cr2::read_raw()
            } else {
                0
            },
        }),
        v if v == u64::from(TIMER_VECTOR) => {
            if timer::interrupt() {
                UserTrap::Timer
            } else {
                UserTrap::Spurious
            }
        }
        v if v == u64::from(SPURIOUS_VECTOR) => {
            irq::spurious();
            UserTrap::Spurious
        }
        vector => match irq::interrupt(vector) {
            Some(irq) => UserTrap::Irq(irq),
            None => UserTrap::Spurious,
        },
    };
    crate::entry::user_trap(trap)
}

#[unsafe(no_mangle)]
extern "C" fn syscall_from_user(_context: *const UserContext) -> ! {
    crate::entry::syscall()
}

#[unsafe(no_mangle)]
extern "C" fn null_from_user(_context: *const UserContext) -> ! {
    crate::entry::null_syscall()
}

#[unsafe(no_mangle)]
extern "C" fn call_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::Call)
}

#[unsafe(no_mangle)]
extern "C" fn reply_recv_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::ReplyRecv)
}

#[unsafe(no_mangle)]
extern "C" fn signal_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::Signal)
}

#[unsafe(no_mangle)]
extern "C" fn wait_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::Wait)
}

#[unsafe(no_mangle)]
extern "C" fn yield_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::Yield)
}

#[unsafe(no_mangle)]
extern "C" fn recv_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::Recv)
}

#[unsafe(no_mangle)]
extern "C" fn reply_save_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::ReplySave)
}

#[unsafe(no_mangle)]
extern "C" fn reply_save_recv_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::ReplySaveRecv)
}

#[unsafe(no_mangle)]
extern "C" fn reply_with_from_user(_context: *const UserContext) -> ! {
    crate::entry::fast_syscall(crate::fastpath::FastSyscall::ReplyWith)
}

#[unsafe(no_mangle)]
extern "C" fn trap_from_kernel(frame: &mut UserContext) {
    match frame.vector {
        PAGE_FAULT | GENERAL_PROTECTION => {
            if let Some(fixup) = usercopy::fixup_for(frame.rip) {
                frame.rip = fixup;
                return;
            }
            fatal(frame)
        }
        v if v == u64::from(TIMER_VECTOR) => {
            if timer::interrupt() {
                crate::time::tick();
            }
        }
        v if v == u64::from(SPURIOUS_VECTOR) => irq::spurious(),
        0..=31 => fatal(frame),
        vector => {
            if let Some(irq) = irq::interrupt(vector) {
                irq::mark_pending(irq);
            }
        }
    }
}

#[unsafe(no_mangle)]
extern "C" fn trap_fatal(frame: &UserContext) -> ! {
    fatal(frame)
}

fn fatal(frame: &UserContext) -> ! {
    panic!(
        "{} in kernel: vector {} error {:#x} rip {:#x} cr2 {:#x} rsp {:#x} cs {:#x} rflags {:#x}",
        exception_name(frame.vector),
        frame.vector,
        frame.error_code,
        frame.rip,
        Cr2::read_raw(),
        frame.rsp,
        frame.cs,
        frame.rflags,
    )
}
