//! Where the kernel is entered from user mode, and how it leaves: each
//! entry takes the kernel lock, does its work, chooses the next thread,
//! drops the lock and returns to user mode (or idles). Nothing stays on the
//! kernel stack between entries.
//!
//! This is the top layer: the arch entry code calls in here, and it calls
//! the syscall dispatcher, the IPC fast path, exception handling, timers,
//! reaping and the switch, in that order.

use spin::MutexGuard;

use crate::arch::{self, UserContext, UserTrap};
use crate::exception;
use crate::fastpath::FastSyscall;
use crate::kernel::{FastPath, KERNEL, Kernel, Next};
use crate::object::{irq, lifetime};
use crate::switch::{self, Exit};
use crate::timer;

/// Length of the `syscall` instruction, to run it again.
const SYSCALL_INSTRUCTION_BYTES: u64 = 2;

/// A `syscall` from the current thread, on the general path.
#[inline(always)]
pub fn syscall() -> ! {
    general_syscall(KERNEL.lock())
}

/// `Null`: straight back to the caller.
#[inline(always)]
pub fn null_syscall() -> ! {
    let mut guard = KERNEL.lock();
    match guard.as_mut().and_then(null_syscall_kernel) {
        Some(context) => {
            drop(guard);
            arch::resume_caller(context)
        }
        None => general_syscall(guard),
    }
}

/// A syscall with a fast path (`Call`, `ReplyRecv`, `Signal`, `Wait`,
/// `ThreadYield`): the fast path if its guards pass, else the general
/// path, under the same hold of the lock.
#[inline(always)]
pub fn fast_syscall(kind: FastSyscall) -> ! {
    // Uncontended on one CPU: one compare-exchange, no spin loop to enter.
    let mut guard = KERNEL.try_lock().unwrap_or_else(|| KERNEL.lock());
    let exit = match guard.as_mut() {
        Some(k) => fast_syscall_kernel(k, kind),
        None => None,
    };
    match exit {
        Some(exit) => {
            drop(guard);
            leave(exit)
        }
        None => general_syscall(guard),
    }
}

#[inline(never)]
fn general_syscall(mut guard: MutexGuard<'_, Option<Kernel>>) -> ! {
    let target = guard.as_mut().and_then(|k| {
        handle_syscall(k);
        switch::choose_next(k)
    });
    drop(guard);
    run(target)
}

/// An interrupt or exception from the current thread.
pub fn user_trap(trap: UserTrap) -> ! {
    let target = {
        let mut guard = KERNEL.lock();
        guard.as_mut().and_then(|k| {
            handle_trap(k, trap);
            switch::choose_next(k)
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

#[inline(always)]
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
            idle_tick(k);
            switch::choose_next(k)
        });
        if let Some(exit) = exit {
            leave(exit);
        }
        arch::wait_for_interrupt();
    }
}

/// `Null` for the current thread: its results are set, and it goes on
/// with everything still live (context top, address space, TLS, FPU).
#[inline(always)]
fn null_syscall_kernel(k: &mut Kernel) -> Option<*const UserContext> {
    let context = &mut k.objects.get_mut(k.sched.current?).context;
    context.set_syscall_result(0, [0; 6]);
    Some(context)
}

/// The fast path for the current thread's `kind` syscall: how to leave,
/// or `None` to take the general path ([`handle_syscall`], then
/// [`switch::choose_next`]).
#[inline(always)]
fn fast_syscall_kernel(k: &mut Kernel, kind: FastSyscall) -> Option<Exit> {
    let current = k.sched.current?;
    if k.fastpath == FastPath::Off {
        return None;
    }
    crate::fastpath::try_syscall(k, current, kind)
}

/// Handles the syscall the current thread just made.
fn handle_syscall(k: &mut Kernel) {
    let Some(current) = k.sched.current else {
        return;
    };
    let (number, args) = k.objects.get(current).context.syscall_args();
    let result = match crate::syscall::dispatch(k, current, number, args) {
        Ok(Next::Success) => Some((0, [0; 6])),
        Ok(Next::Reply(values)) => Some((0, values)),
        Err(error) => Some((error.code(), [0; 6])),
        Ok(Next::Restart) => {
            // `rip` is just past the `syscall` instruction that entered.
            let context = &mut k.objects.get_mut(current).context;
            context.rip = context.rip.wrapping_sub(SYSCALL_INSTRUCTION_BYTES);
            // A preemption point let interrupts in.
            while let Some(vector) = arch::irq::take_pending() {
                irq::fire(k, vector);
            }
            timer::on_tick(k);
            None
        }
        // The thread is blocked (its waker sets the results) or done.
        Ok(Next::Blocked | Next::Done) => None,
    };
    if let Some((status, values)) = result {
        let context = &mut k.objects.get_mut(current).context;
        context.set_syscall_result(status, values);
    }
    lifetime::reap(k);
    timer::reprogram(k);
}

/// Handles an interrupt or exception from the current thread.
fn handle_trap(k: &mut Kernel, trap: UserTrap) {
    match trap {
        UserTrap::Timer => {
            // A tick, a deadline, or both (`arch::timer`): only a tick
            // ends the time slice.
            let events = arch::timer::take_events();
            if events.deadline {
                timer::deadline_reached(k);
            }
            if events.tick {
                crate::time::tick();
                timer::on_tick(k);
            }
        }
        UserTrap::Spurious => {}
        UserTrap::Irq(vector) => irq::fire(k, vector),
        UserTrap::Fault(fault) => {
            if let Some(current) = k.sched.current {
                exception::handle(k, current, fault);
            }
        }
    }
    lifetime::reap(k);
    timer::reprogram(k);
}

/// Called by the idle loop after each wake-up: ticks taken while the
/// CPU idled still fire timers, and so does any other wake-up once the
/// earliest deadline has passed.
fn idle_tick(k: &mut Kernel) {
    // Interrupts that arrived while the CPU idled (or at a preemption
    // point) wait in the arch layer's pending set.
    while let Some(vector) = arch::irq::take_pending() {
        irq::fire(k, vector);
    }
    if arch::timer::take_events().deadline {
        timer::deadline_reached(k);
    }
    if timer::tick_pending(k) {
        timer::on_tick(k);
    } else if timer::next_deadline(k).is_some_and(|due| due <= crate::time::now_ns()) {
        timer::fire_due(k);
    }
    timer::reprogram(k);
}
