//! Where the kernel is entered from user mode, and how it leaves: each
//! entry takes the kernel lock, does its work, chooses the next thread,
//! drops the lock and returns to user mode (or idles). Nothing stays on the
//! kernel stack between entries.

use crate::arch::{self, UserTrap};
use spin::MutexGuard;

use crate::fastpath::FastIpc;
use crate::kernel::{Exit, KERNEL, Kernel};

/// A `syscall` from the current thread, on the general path.
#[inline(always)]
pub fn syscall() -> ! {
    general_syscall(KERNEL.lock())
}

/// `Null`: straight back to the caller.
#[inline(always)]
pub fn null_syscall() -> ! {
    let mut guard = KERNEL.lock();
    match guard.as_mut().and_then(Kernel::null_syscall) {
        Some(context) => {
            drop(guard);
            arch::resume_caller(context)
        }
        None => general_syscall(guard),
    }
}

/// `Call` or `ReplyRecv`: the fast path if its guards pass, else the
/// general path, under the same hold of the lock.
#[inline(always)]
pub fn fast_ipc(kind: FastIpc) -> ! {
    let mut guard = KERNEL.lock();
    let target = match guard.as_mut() {
        Some(k) => k.fast_ipc(kind),
        None => None,
    };
    match target {
        Some(target) => {
            drop(guard);
            arch::resume(target)
        }
        None => general_syscall(guard),
    }
}

#[inline(never)]
fn general_syscall(mut guard: MutexGuard<'_, Option<Kernel>>) -> ! {
    let target = guard.as_mut().and_then(|k| {
        k.syscall();
        k.choose_next()
    });
    drop(guard);
    run(target)
}

/// An interrupt or exception from the current thread.
pub fn user_trap(trap: UserTrap) -> ! {
    let target = {
        let mut guard = KERNEL.lock();
        guard.as_mut().and_then(|k| {
            k.user_trap(trap);
            k.choose_next()
        })
    };
    run(target)
}

fn run(exit: Option<Exit>) -> ! {
    match exit {
        Some(exit) => leave(exit),
        None => idle(),
    }
}

fn leave(exit: Exit) -> ! {
    match exit {
        Exit::Same(context) => arch::resume_caller(context),
        Exit::Switch(target) => arch::resume(target),
    }
}

/// Halts until a thread is ready, then runs it.
pub fn idle() -> ! {
    loop {
        let exit = KERNEL.lock().as_mut().and_then(|k| {
            k.idle_tick();
            k.choose_next()
        });
        if let Some(exit) = exit {
            leave(exit);
        }
        arch::wait_for_interrupt();
    }
}
