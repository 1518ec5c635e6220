//! The debug capability: console output, ending the QEMU run and the
//! free-frame count, before drivers exist. Only the first program gets it.

use abi::syscall::{
    DEBUG_EXIT_CODE_LIMIT, DEBUG_LOG_READ_MAX_BYTES, DEBUG_WRITE_MAX_BYTES, DebugCountersArgs,
    DebugExitArgs, DebugFrameCountArgs, DebugLogReadArgs, DebugWriteArgs, FrameCount,
    KernelCounters, LogRead, SyscallResult,
};
use abi::{Rights, SysError};

use super::lookup;
use crate::cap::DebugObject;
use crate::kernel::{FastPath, Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::thread::Thread;
use crate::usercopy::{Read, UserSlice, Write};

/// `DebugWrite`: copy the bytes in, then print them.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn write(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: DebugWriteArgs,
) -> Result<Next, SysError> {
    lookup::<DebugObject>(k, caller, args.console, Rights::WRITE)?;
    if args.len > DEBUG_WRITE_MAX_BYTES {
        return Err(SysError::InvalidArg);
    }
    let source = UserSlice::<Read>::new(args.addr, args.len)?;
    let mut buffer = [0u8; DEBUG_WRITE_MAX_BYTES as usize];
    let bytes = &mut buffer[..source.len()];
    source.copy_to(k, caller, bytes)?;
    crate::klog::write_raw(bytes);
    Ok(Next::Success)
}

/// `DebugExit`: end the QEMU run.
#[inline(never)] // keeps its large frame off the common syscall path
pub fn exit(k: &mut Kernel, caller: ObjId<Thread>, args: DebugExitArgs) -> Result<Next, SysError> {
    lookup::<DebugObject>(k, caller, args.console, Rights::CONTROL)?;
    if args.code >= DEBUG_EXIT_CODE_LIMIT {
        return Err(SysError::InvalidArg);
    }
    crate::klog!(Info, "user asked to end the run with code {}", args.code);
    crate::arch::qemu::exit(args.code as u32);
    // Still here: no debug-exit device.
    Err(SysError::PeerClosed)
}

/// `DebugFrameCount`: free and total frames.
pub fn frame_count(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: DebugFrameCountArgs,
) -> Result<Next, SysError> {
    lookup::<DebugObject>(k, caller, args.console, Rights::READ)?;
    let (free, total) = crate::mem::frame::counts();
    let aspace = k.objects.get(caller).aspace;
    let resolved_faults = k.objects.get(aspace).resolved_faults;
    Ok(Next::Reply(
        FrameCount {
            free,
            total,
            resolved_faults,
        }
        .encode(),
    ))
}

/// `DebugCounters`.
pub fn counters(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: DebugCountersArgs,
) -> Result<Next, SysError> {
    lookup::<DebugObject>(k, caller, args.console, Rights::READ)?;
    let irq_counts = crate::arch::irq::counts();
    let counters = KernelCounters {
        fastpath_ipc: k.fastpath_hits,
        fastpath_enabled: u64::from(k.fastpath == FastPath::On),
        spurious_interrupts: irq_counts
            .spurious_apic
            .saturating_add(irq_counts.spurious_pic),
        unexpected_interrupts: irq_counts.unexpected,
        irq_deliveries: k.irqs.deliveries,
        last_irq_tsc: crate::arch::irq::last_arrival_tsc(),
    };
    Ok(Next::Reply(counters.encode()))
}

/// `DebugLogRead`: the kept kernel log from a cursor, copied out after the
/// log's lock is dropped (a fault in the copy may log).
#[inline(never)] // keeps its large frame off the common syscall path
pub fn log_read(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    args: DebugLogReadArgs,
) -> Result<Next, SysError> {
    lookup::<DebugObject>(k, caller, args.console, Rights::READ)?;
    if args.len > DEBUG_LOG_READ_MAX_BYTES {
        return Err(SysError::InvalidArg);
    }
    let whole = UserSlice::<Write>::new(args.addr, args.len)?;
    let mut buffer = [0u8; DEBUG_LOG_READ_MAX_BYTES as usize];
    let read = crate::klog::read(args.cursor, &mut buffer[..whole.len()]);
    UserSlice::<Write>::new(args.addr, read.copied as u64)?.copy_from(
        k,
        caller,
        &buffer[..read.copied],
    )?;
    let result = LogRead {
        start: read.start,
        copied: read.copied as u64,
        end: read.end,
    };
    Ok(Next::Reply(result.encode()))
}
