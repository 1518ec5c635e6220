//! Syscall dispatch: decode the number, then one exhaustive `match` with an
//! arm per syscall. Handlers live in one file per object group. Each checks
//! everything before it changes anything; invocations with several steps
//! (`ThreadCreate`) are split into `decode_*` (no side effects) and
//! `invoke_*` (cannot fail). An unknown number is an error, never a panic.

mod cap;
mod clock;
mod debug;
mod thread;

use abi::SysError;
use abi::syscall::{ArgRegs, Syscall, SyscallArgs};

use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::thread::Thread;

/// Runs syscall `number` for `caller` with argument registers `args`.
pub fn dispatch(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    number: u64,
    args: ArgRegs,
) -> Result<Next, SysError> {
    let Some(syscall) = Syscall::from_number(number) else {
        crate::klog!(Debug, "unknown syscall {number}");
        return Err(SysError::UnknownSyscall);
    };
    match syscall {
        Syscall::Null => Ok(Next::Reply([0; 5])),
        Syscall::DebugWrite => debug::write(k, caller, decode(&args)?),
        Syscall::DebugExit => debug::exit(k, caller, decode(&args)?),
        Syscall::DebugFrameCount => debug::frame_count(k, caller, decode(&args)?),
        Syscall::ThreadExit => thread::exit(k, caller, decode(&args)?),
        Syscall::ThreadYield => thread::yield_now(k),
        Syscall::ThreadCreate => thread::create(k, caller, decode(&args)?),
        Syscall::ThreadWait => thread::wait(k, caller, decode(&args)?),
        Syscall::CapCopy => cap::copy(k, caller, decode(&args)?),
        Syscall::CapDelete => cap::delete(k, caller, decode(&args)?),
        Syscall::CapInfo => cap::info(k, caller, decode(&args)?),
        Syscall::ClockRead => clock::read(),
    }
}

fn decode<A: SyscallArgs>(args: &ArgRegs) -> Result<A, SysError> {
    A::decode(args)
}

/// The capability space of `caller`.
fn cspace_of(k: &Kernel, caller: ObjId<Thread>) -> &crate::cap::cspace::CSpace {
    k.objects.get(k.objects.get(caller).cspace)
}
