//! Syscall stubs: one raw `syscall` instruction, and a typed wrapper per
//! syscall with the same name as its `abi::syscall::Syscall` variant.
//! Encoding and decoding come from `abi`, so they match the kernel's.

use abi::syscall::*;
use abi::{CapSlot, Rights, SysError};

/// Makes syscall `number` with argument registers `args`; returns the
/// status word and the result registers.
#[inline(always)]
pub fn raw_syscall(number: u64, args: ArgRegs) -> (u64, RetRegs) {
    let status: u64;
    let (r0, r1, r2, r3, r4): (u64, u64, u64, u64, u64);
    // SAFETY: `syscall` enters the kernel, which preserves every register
    // except rax, the result registers, rcx and r11 (declared here), and
    // never touches this stack; memory it writes is named by the arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => status,
            inlateout("rdi") args[0] => r0,
            inlateout("rsi") args[1] => r1,
            inlateout("rdx") args[2] => r2,
            inlateout("r10") args[3] => r3,
            inlateout("r8") args[4] => r4,
            in("r9") args[5],
            out("rcx") _,
            out("r11") _,
            options(nostack),
        );
    }
    (status, [r0, r1, r2, r3, r4])
}

/// Makes the syscall `A` describes and decodes its results.
///
/// # Errors
/// The kernel's [`SysError`]; an unknown status code reads as
/// [`SysError::UnknownSyscall`].
#[inline(always)]
pub fn call<A: SyscallArgs, R: SyscallResult>(args: &A) -> Result<R, SysError> {
    let (status, regs) = raw_syscall(A::SYSCALL.number(), args.encode());
    if status == 0 {
        Ok(R::decode(&regs))
    } else {
        Err(SysError::from_code(status).unwrap_or(SysError::UnknownSyscall))
    }
}

/// `Null`: enter and leave the kernel.
#[inline(always)]
pub fn null() -> Result<(), SysError> {
    call::<_, NoResult>(&NullArgs {}).map(|_| ())
}

/// `DebugWrite`: print bytes on the kernel console.
pub fn debug_write(console: CapSlot, bytes: &[u8]) -> Result<(), SysError> {
    debug_write_raw(console, bytes.as_ptr() as u64, bytes.len() as u64)
}

/// `DebugWrite` with a raw address (tests pass bad ones on purpose).
pub fn debug_write_raw(console: CapSlot, addr: u64, len: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&DebugWriteArgs { console, addr, len }).map(|_| ())
}

/// `DebugExit`: end the QEMU run.
pub fn debug_exit(console: CapSlot, code: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&DebugExitArgs { console, code }).map(|_| ())
}

/// `DebugFrameCount`: (free, total) frames.
pub fn debug_frame_count(console: CapSlot) -> Result<FrameCount, SysError> {
    call(&DebugFrameCountArgs { console })
}

/// `ThreadExit`: end the calling thread.
pub fn thread_exit(code: u64) -> ! {
    let _ = call::<_, NoResult>(&ThreadExitArgs { code });
    // The kernel never returns from ThreadExit; stop here regardless.
    loop {
        core::hint::spin_loop();
    }
}

/// `ThreadYield`.
pub fn thread_yield() {
    let _ = call::<_, NoResult>(&ThreadYieldArgs {});
}

/// `ThreadCreate`: start a thread; returns the slot of its capability.
pub fn thread_create(
    aspace: CapSlot,
    entry: u64,
    stack: u64,
    arg: u64,
) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&ThreadCreateArgs {
        aspace,
        entry,
        stack,
        arg,
    })?;
    Ok(CapSlot(r.slot as u32))
}

/// `ThreadWait`: wait for a thread to end.
pub fn thread_wait(thread: CapSlot) -> Result<ThreadStatus, SysError> {
    call(&ThreadWaitArgs { thread })
}

/// `CapCopy`.
pub fn cap_copy(src: CapSlot, rights: Rights) -> Result<CapSlot, SysError> {
    let r: SlotResult = call(&CapCopyArgs { src, rights })?;
    Ok(CapSlot(r.slot as u32))
}

/// `CapDelete`.
pub fn cap_delete(slot: CapSlot) -> Result<(), SysError> {
    call::<_, NoResult>(&CapDeleteArgs { slot }).map(|_| ())
}

/// `CapInfo` into `out`.
pub fn cap_info(slot: CapSlot) -> Result<CapInfo, SysError> {
    let mut out = CapInfo::default();
    cap_info_raw(slot, &mut out as *mut CapInfo as u64)?;
    Ok(out)
}

/// `CapInfo` with a raw destination address (tests pass bad ones on purpose).
pub fn cap_info_raw(slot: CapSlot, out: u64) -> Result<(), SysError> {
    call::<_, NoResult>(&CapInfoArgs { slot, out }).map(|_| ())
}

/// `ClockRead`: nanoseconds since boot.
pub fn clock_read() -> u64 {
    call::<_, ClockTime>(&ClockReadArgs {}).map_or(0, |t| t.nanos)
}
