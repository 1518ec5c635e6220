//! Thread syscalls: create, start (with an FS base), wait, yield, exit;
//! preemption; FPU and FS base preserved across switches.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::layout::USER_END;
use abi::syscall::exit_kind;
use abi::{CapSlot, Rights, SysError};

use super::support::{Raw, clear_out, must, out, raw_entry, set_out};
use super::syscalls::fail;
use super::{TestResult, debug_cap};
use crate::{cpu, ensure, ensure_eq};

fn add_one(x: u64) -> u64 {
    x + 1
}

pub fn create_and_wait() -> TestResult {
    for arg in [0u64, 41, u64::MAX - 1] {
        let handle = spawn(add_one, arg).map_err(|_| fail())?;
        let info = sys::cap_info(handle.slot()).map_err(|_| fail())?;
        ensure_eq!(info.object_type(), Some(abi::ObjectType::Thread));
        let status = handle.join().map_err(|_| fail())?;
        ensure_eq!(status.kind, exit_kind::EXITED);
        ensure_eq!(status.code, arg + 1);
    }
    Ok(())
}

fn entry() -> u64 {
    add_one as *const () as u64
}

pub fn create_errors() -> TestResult {
    let own = rt::process::own_caps();
    let create = |budget, aspace, cspace| sys::thread_create(budget, aspace, cspace);
    ensure_eq!(
        create(CapSlot(0), own.aspace, own.cspace),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        create(own.budget, CapSlot(4000), own.cspace),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        create(own.budget, own.aspace, CapSlot(1 << 20)),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        create(debug_cap(), own.aspace, own.cspace),
        Err(SysError::WrongType)
    );
    ensure_eq!(
        create(own.budget, own.cspace, own.cspace),
        Err(SysError::WrongType)
    );
    ensure_eq!(
        create(own.budget, own.aspace, own.aspace),
        Err(SysError::WrongType)
    );
    let read_only = sys::cap_copy(own.aspace, Rights::READ).map_err(|_| fail())?;
    ensure_eq!(
        create(own.budget, read_only, own.cspace),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    let weak_budget = sys::cap_copy(own.budget, Rights::READ).map_err(|_| fail())?;
    ensure_eq!(
        create(weak_budget, own.aspace, own.cspace),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(weak_budget), Ok(()));
    Ok(())
}

pub fn start_errors() -> TestResult {
    let own = rt::process::own_caps();
    let thread = sys::thread_create(own.budget, own.aspace, own.cspace).map_err(|_| fail())?;
    let stack = 0x7000_0000_0000;
    let start = |entry, stack| sys::thread_start(thread, entry, stack, 0, 0);
    ensure_eq!(start(0, stack), Err(SysError::InvalidArg));
    ensure_eq!(
        start(0xffff_ffff_8020_0000, stack),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        start(0x0000_8000_0000_0000, stack),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(start(USER_END, stack), Err(SysError::InvalidArg));
    ensure_eq!(
        start(entry(), 0xffff_8000_0000_0000),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(start(entry(), u64::MAX), Err(SysError::InvalidArg));
    // An FS base that is not below 0x0000_8000_0000_0000.
    for tls in [1 << 47, 0xffff_8000_0000_0000, 1 << 63, u64::MAX] {
        ensure_eq!(
            sys::thread_start(thread, entry(), stack, 0, tls),
            Err(SysError::InvalidArg)
        );
    }
    ensure_eq!(
        sys::thread_start(CapSlot(0), entry(), stack, 0, 0),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_start(debug_cap(), entry(), stack, 0, 0),
        Err(SysError::WrongType)
    );
    let read_only = sys::cap_copy(thread, Rights::READ).map_err(|_| fail())?;
    ensure_eq!(
        sys::thread_start(read_only, entry(), stack, 0, 0),
        Err(SysError::MissingRights)
    );
    // A thread that never started is freed with its last capability.
    ensure_eq!(sys::cap_delete(read_only), Ok(()));
    ensure_eq!(sys::cap_delete(thread), Ok(()));
    Ok(())
}

static RELEASE: AtomicU32 = AtomicU32::new(0);
static OWN_SLOT: AtomicU64 = AtomicU64::new(0);

fn wait_for_release(_: u64) -> u64 {
    while RELEASE.load(Ordering::Acquire) == 0 {
        sys::thread_yield();
    }
    7
}

fn wait_on(slot: u64) -> u64 {
    match sys::thread_wait(CapSlot(slot as u32)) {
        Ok(status) => status.code,
        Err(_) => 1000,
    }
}

fn wait_on_self(_: u64) -> u64 {
    loop {
        let slot = OWN_SLOT.load(Ordering::Acquire);
        if slot != 0 {
            return match sys::thread_wait(CapSlot(slot as u32)) {
                Err(SysError::InvalidArg) => 0,
                _ => 1,
            };
        }
        sys::thread_yield();
    }
}

pub fn wait_errors() -> TestResult {
    ensure_eq!(
        sys::thread_wait(CapSlot(0)).map(|_| ()),
        Err(SysError::InvalidCap)
    );
    ensure_eq!(
        sys::thread_wait(debug_cap()).map(|_| ()),
        Err(SysError::WrongType)
    );

    // Waiting for oneself.
    OWN_SLOT.store(0, Ordering::Release);
    let me = spawn(wait_on_self, 0).map_err(|_| fail())?;
    OWN_SLOT.store(u64::from(me.slot().0), Ordering::Release);
    ensure_eq!(me.join().map(|s| s.code), Ok(0));

    // A second waiter is refused; the first gets the status.
    RELEASE.store(0, Ordering::Release);
    let target = spawn(wait_for_release, 0).map_err(|_| fail())?;
    let waiter = spawn(wait_on, u64::from(target.slot().0)).map_err(|_| fail())?;
    for _ in 0..10 {
        sys::thread_yield();
    }
    ensure_eq!(
        sys::thread_wait(target.slot()).map(|_| ()),
        Err(SysError::WouldBlock)
    );
    let no_read = sys::cap_copy(target.slot(), Rights::WRITE).map_err(|_| fail())?;
    ensure_eq!(
        sys::thread_wait(no_read).map(|_| ()),
        Err(SysError::MissingRights)
    );
    ensure_eq!(sys::cap_delete(no_read), Ok(()));
    RELEASE.store(1, Ordering::Release);
    ensure_eq!(waiter.join().map(|s| s.code), Ok(7));
    // Waiting after the end returns at once, again and again.
    ensure_eq!(sys::thread_wait(target.slot()).map(|s| s.code), Ok(7));
    ensure_eq!(target.join().map(|s| s.code), Ok(7));
    Ok(())
}

pub fn yield_ok() -> TestResult {
    for _ in 0..100 {
        sys::thread_yield();
    }
    Ok(())
}

static SPIN_STOP: AtomicU32 = AtomicU32::new(0);

fn spin_until_stopped(_: u64) -> u64 {
    let mut n = 0u64;
    while SPIN_STOP.load(Ordering::Relaxed) == 0 {
        n = n.wrapping_add(1);
        core::hint::spin_loop();
    }
    n
}

pub fn preemption() -> TestResult {
    // The spinner never enters the kernel: only the timer can take the CPU
    // back from it and give it to us.
    SPIN_STOP.store(0, Ordering::Relaxed);
    let spinner = spawn(spin_until_stopped, 0).map_err(|_| fail())?;
    let start = sys::clock_read();
    while sys::clock_read() - start < 50_000_000 {
        sys::thread_yield();
    }
    SPIN_STOP.store(1, Ordering::Relaxed);
    let status = spinner.join().map_err(|_| fail())?;
    ensure_eq!(status.kind, exit_kind::EXITED);
    ensure!(status.code > 0);
    Ok(())
}

fn fpu_worker(seed: u64) -> u64 {
    cpu::xmm_fill(seed);
    for round in 0..200 {
        if round % 2 == 0 {
            sys::thread_yield();
        } else {
            let _ = sys::null();
        }
        if !cpu::xmm_check(seed) {
            return 1;
        }
    }
    0
}

pub fn fpu_preserved() -> TestResult {
    let a = spawn(fpu_worker, 1).map_err(|_| fail())?;
    let b = spawn(fpu_worker, 2).map_err(|_| fail())?;
    let c = spawn(fpu_worker, 3).map_err(|_| fail())?;
    ensure_eq!(a.join().map(|s| s.code), Ok(0));
    ensure_eq!(b.join().map(|s| s.code), Ok(0));
    ensure_eq!(c.join().map(|s| s.code), Ok(0));
    Ok(())
}

/// Sets its own FS and GS bases from user mode and checks that they
/// survive switches to threads with other bases.
fn fs_worker(value: u64) -> u64 {
    cpu::write_fs_base(value);
    cpu::write_gs_base(value + 0x1000);
    for _ in 0..50 {
        sys::thread_yield();
        if cpu::read_fs_base() != value || cpu::read_gs_base() != value + 0x1000 {
            return 1;
        }
    }
    0
}

pub fn fs_base_preserved() -> TestResult {
    if super::boot().cpu_features & abi::boot::cpu::FSGSBASE == 0 {
        rt::println!("    (no FSGSBASE on this CPU: skipped)");
        return Ok(());
    }
    let a = spawn(fs_worker, 0x1111_0000).map_err(|_| fail())?;
    let b = spawn(fs_worker, 0x2222_0000).map_err(|_| fail())?;
    ensure_eq!(a.join().map(|s| s.code), Ok(0));
    ensure_eq!(b.join().map(|s| s.code), Ok(0));
    Ok(())
}

/// The FS base [`start_tls`] starts a thread with: not mapped, and not
/// needed to be; only below `0x0000_8000_0000_0000`.
const START_TLS: u64 = 0x0000_7123_4567_8000;

/// Leaves its FS and GS bases, as the CPU has them, at `OUT[0]` and
/// `OUT[1]` (only with FSGSBASE; else it has no way to read them).
fn report_tls(_: u64) -> u64 {
    if super::boot().cpu_features & abi::boot::cpu::FSGSBASE != 0 {
        set_out(0, cpu::read_fs_base());
        set_out(1, cpu::read_gs_base());
    }
    0
}

raw_entry! {
    report_tls_entry => report_tls;
}

pub fn start_tls() -> TestResult {
    clear_out();
    // Suspended before it starts: its registers are those it starts with.
    let thread = Raw::new(report_tls_entry, 0)
        .tls(START_TLS)
        .suspended()
        .start()?;
    let regs = must(sys::thread_read_regs(thread.slot()))?;
    ensure_eq!((regs.fs_base, regs.gs_base), (START_TLS, 0));
    must(sys::thread_resume(thread.slot()))?;
    // Ended but not deleted: the bases it ran with are still there.
    must(sys::thread_wait(thread.slot()))?;
    let regs = must(sys::thread_read_regs(thread.slot()))?;
    ensure_eq!((regs.fs_base, regs.gs_base), (START_TLS, 0));
    ensure_eq!(thread.join()?, 0);
    if super::boot().cpu_features & abi::boot::cpu::FSGSBASE != 0 {
        ensure_eq!((out(0), out(1)), (START_TLS, 0));
    } else {
        rt::println!("    (no FSGSBASE on this CPU: rdfsbase check skipped)");
    }
    // 0: no FS base, as before the argument existed.
    let thread = Raw::new(report_tls_entry, 0).suspended().start()?;
    let regs = must(sys::thread_read_regs(thread.slot()))?;
    ensure_eq!((regs.fs_base, regs.gs_base), (0, 0));
    must(sys::thread_resume(thread.slot()))?;
    ensure_eq!(thread.join()?, 0);
    Ok(())
}
