//! Where the kernel is entered from user mode, and how it leaves: each
//! entry takes the kernel lock, does its work, chooses the next thread,
//! drops the lock and returns to user mode (or idles). Nothing stays on the
//! kernel stack between entries.

use crate::arch::{self, ResumeTarget, UserTrap};
use spin::MutexGuard;

use crate::kernel::{FastExit, KERNEL, Kernel};

/// A `syscall` from the current thread: the fast path first (`Null`, and
/// `Call`/`ReplyRecv` that switch straight to a waiting partner), else the
/// general path, under the same hold of the lock.
#[inline(always)]
pub fn syscall() -> ! {
    let mut guard = KERNEL.lock();
    match guard.as_mut().and_then(Kernel::fast_syscall) {
        Some(FastExit::Caller(context)) => {
            drop(guard);
            arch::resume_caller(context)
        }
        Some(FastExit::Switch(target)) => {
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

fn run(target: Option<ResumeTarget>) -> ! {
    match target {
        Some(target) => arch::resume(target),
        None => idle(),
    }
}

/// Halts until a thread is ready, then runs it.
pub fn idle() -> ! {
    loop {
        let target = KERNEL.lock().as_mut().and_then(|k| {
            k.idle_tick();
            k.choose_next()
        });
        if let Some(target) = target {
            arch::resume(target);
        }
        arch::wait_for_interrupt();
    }
}
