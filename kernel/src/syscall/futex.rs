//! Futex syscalls: wait, wake, requeue. They name no capability: the
//! caller's own address space is the authority (a thread can only wait on,
//! or wake, words it can read), as with Linux's futexes. The keys, the
//! table and what happens to waiters when memory changes are in
//! `crate::futex`.

use abi::SysError;
use abi::syscall::{
    FutexRequeueArgs, FutexRequeued, FutexWaitArgs, FutexWakeArgs, FutexWoken, SyscallResult,
};

use crate::futex;
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::thread::Thread;
use crate::timer;

/// `FutexWait`: blocks while the word holds `expected`.
pub fn wait(k: &mut Kernel, caller: ObjId<Thread>, args: FutexWaitArgs) -> Result<Next, SysError> {
    let aspace = k.objects.get(caller).aspace;
    let key = futex::key(k, aspace, args.addr)?;
    if futex::read_word(key) != args.expected {
        return Err(SysError::WouldBlock);
    }
    if timer::expired(args.deadline) {
        return Err(SysError::TimedOut);
    }
    futex::wait(k, caller, key, args.addr, args.deadline);
    Ok(Next::Blocked)
}

/// `FutexWake`.
pub fn wake(k: &mut Kernel, caller: ObjId<Thread>, args: FutexWakeArgs) -> Result<Next, SysError> {
    if args.count == 0 {
        return Err(SysError::InvalidArg);
    }
    let aspace = k.objects.get(caller).aspace;
    let key = futex::key(k, aspace, args.addr)?;
    let woken = futex::wake(k, key, args.count);
    Ok(Next::Reply(FutexWoken { woken }.encode()))
}

/// `FutexRequeue`: if the word at `addr` holds `expected`, wakes some of
/// its waiters and moves others to the word at `addr2`.
pub fn requeue(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: FutexRequeueArgs,
) -> Result<Next, SysError> {
    if (args.wake_count == 0 && args.requeue_count == 0) || args.addr == args.addr2 {
        return Err(SysError::InvalidArg);
    }
    let aspace = k.objects.get(caller).aspace;
    let from = futex::key(k, aspace, args.addr)?;
    let to = futex::key(k, aspace, args.addr2)?;
    // Two mappings of one page: the same word.
    if from == to {
        return Err(SysError::InvalidArg);
    }
    if futex::read_word(from) != args.expected {
        return Err(SysError::WouldBlock);
    }
    let woken = futex::wake(k, from, args.wake_count);
    let requeued = futex::requeue(k, from, to, aspace, args.addr2, args.requeue_count);
    Ok(Next::Reply(FutexRequeued { woken, requeued }.encode()))
}
