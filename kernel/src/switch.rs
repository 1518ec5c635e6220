//! Which thread runs next, and making its CPU state live: the FS/GS
//! bases (switched eagerly, skipped when equal) and the FPU registers
//! (switched lazily: CR0.TS makes the next FPU instruction trap, and
//! [`take_fpu`] moves the registers then).
//!
//! Called at the end of every kernel entry (`crate::entry`), by the fast
//! paths (`resume_target`, `run_first_ready`), and by the thread syscalls
//! that read or write another thread's TLS bases.

use crate::arch::{self, ResumeTarget, UserContext};
use crate::kernel::Kernel;
use crate::klog;
use crate::mem::kobj::ObjId;
use crate::object::ioports::PortOwner;
use crate::object::thread::{Thread, ThreadState};

/// The registers the CPU holds for threads other than the running one.
pub struct CpuState {
    /// The thread whose FPU registers are live in the CPU.
    fpu_owner: Option<ObjId<Thread>>,
    /// Whether CR0.TS is set (the running thread's next FPU use traps).
    fpu_trapping: bool,
    /// The thread whose FS/GS bases are live in the CPU.
    tls_owner: Option<ObjId<Thread>>,
    /// The thread whose I/O ports the TSS bitmap has open.
    pub ports: PortOwner,
}

impl CpuState {
    /// Nothing live yet.
    pub const fn new() -> CpuState {
        CpuState {
            fpu_owner: None,
            fpu_trapping: false,
            tls_owner: None,
            ports: PortOwner::new(),
        }
    }

    /// Whether an #NM exception is the lazy FPU switch (CR0.TS was set by
    /// the kernel), not a fault of the thread.
    pub fn fpu_trapping(&self) -> bool {
        self.fpu_trapping
    }

    /// A thread is being destroyed: the CPU no longer holds its state.
    pub fn forget(&mut self, id: ObjId<Thread>) {
        if self.fpu_owner == Some(id) {
            self.fpu_owner = None;
        }
        if self.tls_owner == Some(id) {
            self.tls_owner = None;
        }
    }
}

/// How the kernel leaves for user mode.
pub enum Exit {
    /// Back to the thread that entered the kernel, which is still the
    /// current one: its context top, address space, TLS bases and FPU
    /// state are the live ones (the kernel loads another thread's only
    /// when it switches to it, and a thread's address space lives as long
    /// as the thread).
    Same(*const UserContext),
    /// To another thread, whose TLS and FPU state are made live here;
    /// `arch::resume` does the rest.
    Switch(ResumeTarget),
}

/// Picks the thread to run next and prepares the CPU for it (FPU and
/// TLS registers); `None` when nothing is runnable.
pub fn choose_next(k: &mut Kernel) -> Option<Exit> {
    let entered = k.sched.current;
    let Some(next) = k.sched.pick(&mut k.objects) else {
        if k.live_threads == 0 && !k.announced_idle {
            k.announced_idle = true;
            klog!(Info, "no user threads left; idle");
        }
        return None;
    };
    if entered == Some(next) {
        // The thread that entered goes on: nothing to switch.
        return Some(Exit::Same(&k.objects.get(next).context));
    }
    Some(run(k, next))
}

/// [`choose_next`] when the thread that entered is no longer current
/// (it has blocked or yielded), for the fast paths: the first thread of
/// the most urgent queue runs; `None` (and nothing changed) when none is
/// ready.
#[inline(always)]
pub fn run_first_ready(k: &mut Kernel) -> Option<Exit> {
    let next = k.sched.run_first_ready(&mut k.objects)?;
    Some(run(k, next))
}

/// `next`, now current, runs.
#[inline(always)]
fn run(k: &mut Kernel, next: ObjId<Thread>) -> Exit {
    k.objects.get_mut(next).state = ThreadState::Running;
    Exit::Switch(resume_target(k, next))
}

/// Makes `next`'s registers live and says where to resume it.
#[inline(always)]
pub fn resume_target(k: &mut Kernel, next: ObjId<Thread>) -> ResumeTarget {
    switch_registers(k, next);
    let thread = k.objects.get(next);
    ResumeTarget {
        context: &thread.context,
        root: k.objects.get(thread.aspace).root,
    }
}

/// Makes `next`'s FS/GS bases live, and arms the lazy FPU switch.
#[inline(always)]
fn switch_registers(k: &mut Kernel, next: ObjId<Thread>) {
    if k.cpu.tls_owner != Some(next) {
        let (fs, gs) = arch::read_tls_bases();
        if let Some(previous) = k.cpu.tls_owner {
            let thread = k.objects.get_mut(previous);
            thread.fs_base = fs;
            thread.gs_base = gs;
        }
        let thread = k.objects.get(next);
        // Most threads share the same (zero) bases: skip the writes; and
        // most that differ differ in FS alone (threads of `rt` have their
        // TLS there, GS stays 0): write just that.
        if (thread.fs_base, thread.gs_base) != (fs, gs) {
            if thread.gs_base == gs {
                arch::write_fs_base(thread.fs_base);
            } else {
                arch::write_tls_bases(thread.fs_base, thread.gs_base);
            }
        }
        k.cpu.tls_owner = Some(next);
    }
    // Only while some thread holds I/O ports: the bitmap is for it alone.
    if k.cpu.ports.is_some() {
        k.cpu.ports.switch_to(next);
    }
    let trap = k.cpu.fpu_owner != Some(next);
    if trap != k.cpu.fpu_trapping {
        if trap {
            arch::fpu::trap_next_use();
        } else {
            arch::fpu::allow_use();
        }
        k.cpu.fpu_trapping = trap;
    }
}

/// The running thread used the FPU (#NM): move the FPU registers from
/// their owner to it.
#[inline(never)]
pub fn take_fpu(k: &mut Kernel, current: ObjId<Thread>) {
    arch::fpu::allow_use();
    k.cpu.fpu_trapping = false;
    if let Some(previous) = k.cpu.fpu_owner {
        arch::fpu::save(&mut k.objects.get_mut(previous).fpu);
    }
    arch::fpu::restore(&k.objects.get(current).fpu);
    k.cpu.fpu_owner = Some(current);
}

/// The current FS/GS bases of a thread (live in the CPU if it owns it).
pub fn tls_bases(k: &Kernel, id: ObjId<Thread>) -> (u64, u64) {
    if k.cpu.tls_owner == Some(id) {
        arch::read_tls_bases()
    } else {
        let thread = k.objects.get(id);
        (thread.fs_base, thread.gs_base)
    }
}

/// Sets a thread's FS/GS bases (in the CPU too if it owns it).
pub fn set_tls_bases(k: &mut Kernel, id: ObjId<Thread>, fs: u64, gs: u64) {
    let thread = k.objects.get_mut(id);
    thread.fs_base = fs;
    thread.gs_base = gs;
    if k.cpu.tls_owner == Some(id) {
        arch::write_tls_bases(fs, gs);
    }
}
