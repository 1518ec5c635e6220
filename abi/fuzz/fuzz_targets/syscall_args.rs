//! Fuzzes the syscall argument decoders in `abi::syscall` the way the kernel
//! meets them: a number in `rax` and six registers chosen by user code.
//!
//! The first 8 bytes of the input (little-endian, zero-padded) are the
//! syscall number and the next 48 the six argument registers. The number is
//! checked against `Syscall::from_number`; the args type it selects (modulo
//! the number of syscalls, so every input decodes as something) decodes the
//! registers, and an accepted value must re-encode to registers that decode
//! to the same value.
#![no_main]

use abi::syscall::*;
use libfuzzer_sys::fuzz_target;

/// Bytes of input used: the number and six registers.
const INPUT_BYTES: usize = 8 + 6 * 8;

/// Decodes `regs` as `A` and, if that succeeds, checks that the value
/// survives an encode and a second decode.
fn round_trip<A>(call: Syscall, regs: &ArgRegs)
where
    A: SyscallArgs + PartialEq + core::fmt::Debug,
{
    assert_eq!(A::SYSCALL, call);
    // `black_box` keeps the optimizer from proving the round trip at compile
    // time and deleting the code this target is meant to run.
    if let Ok(args) = A::decode(core::hint::black_box(regs)) {
        let encoded = core::hint::black_box(args.encode());
        assert_eq!(A::decode(&encoded), Ok(args), "{regs:#x?}");
    }
}

fuzz_target!(|input: &[u8]| {
    let mut bytes = [0u8; INPUT_BYTES];
    let used = input.len().min(INPUT_BYTES);
    bytes[..used].copy_from_slice(&input[..used]);
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());

    let number = word(0);
    let count = Syscall::ALL.len() as u64;
    // Numbers are grouped with gaps, so `ALL` is searched, not indexed.
    let decoded = Syscall::from_number(number);
    let listed = Syscall::ALL.iter().copied().find(|call| call.number() == number);
    assert_eq!(decoded, listed);
    assert!(decoded.is_none() || number < Syscall::NUMBER_LIMIT);

    let call = Syscall::ALL[(number % count) as usize];
    let regs: ArgRegs = core::array::from_fn(|i| word(8 + 8 * i));
    // No wildcard arm: a new syscall must be added here to build.
    match call {
        Syscall::Null => round_trip::<NullArgs>(call, &regs),
        Syscall::DebugWrite => round_trip::<DebugWriteArgs>(call, &regs),
        Syscall::DebugExit => round_trip::<DebugExitArgs>(call, &regs),
        Syscall::DebugFrameCount => round_trip::<DebugFrameCountArgs>(call, &regs),
        Syscall::ThreadExit => round_trip::<ThreadExitArgs>(call, &regs),
        Syscall::ThreadYield => round_trip::<ThreadYieldArgs>(call, &regs),
        Syscall::ThreadCreate => round_trip::<ThreadCreateArgs>(call, &regs),
        Syscall::ThreadWait => round_trip::<ThreadWaitArgs>(call, &regs),
        Syscall::CapCopy => round_trip::<CapCopyArgs>(call, &regs),
        Syscall::CapDelete => round_trip::<CapDeleteArgs>(call, &regs),
        Syscall::CapInfo => round_trip::<CapInfoArgs>(call, &regs),
        Syscall::ClockRead => round_trip::<ClockReadArgs>(call, &regs),
        Syscall::CapMint => round_trip::<CapMintArgs>(call, &regs),
        Syscall::CapMove => round_trip::<CapMoveArgs>(call, &regs),
        Syscall::CapRevoke => round_trip::<CapRevokeArgs>(call, &regs),
        Syscall::CSpaceCreate => round_trip::<CSpaceCreateArgs>(call, &regs),
        Syscall::EndpointCreate => round_trip::<EndpointCreateArgs>(call, &regs),
        Syscall::NotificationCreate => round_trip::<NotificationCreateArgs>(call, &regs),
        Syscall::AspaceCreate => round_trip::<AspaceCreateArgs>(call, &regs),
        Syscall::MemoryCreate => round_trip::<MemoryCreateArgs>(call, &regs),
        Syscall::AspaceMap => round_trip::<AspaceMapArgs>(call, &regs),
        Syscall::ThreadStart => round_trip::<ThreadStartArgs>(call, &regs),
        Syscall::ThreadConfigure => round_trip::<ThreadConfigureArgs>(call, &regs),
        Syscall::ThreadSetPriority => round_trip::<ThreadSetPriorityArgs>(call, &regs),
        Syscall::ThreadReadRegs => round_trip::<ThreadReadRegsArgs>(call, &regs),
        Syscall::ThreadWriteRegs => round_trip::<ThreadWriteRegsArgs>(call, &regs),
        Syscall::ThreadSuspend => round_trip::<ThreadSuspendArgs>(call, &regs),
        Syscall::ThreadResume => round_trip::<ThreadResumeArgs>(call, &regs),
        Syscall::ThreadBind => round_trip::<ThreadBindArgs>(call, &regs),
        Syscall::Send => round_trip::<SendArgs>(call, &regs),
        Syscall::NbSend => round_trip::<NbSendArgs>(call, &regs),
        Syscall::Call => round_trip::<CallArgs>(call, &regs),
        Syscall::Recv => round_trip::<RecvArgs>(call, &regs),
        Syscall::NbRecv => round_trip::<NbRecvArgs>(call, &regs),
        Syscall::Reply => round_trip::<ReplyArgs>(call, &regs),
        Syscall::ReplyRecv => round_trip::<ReplyRecvArgs>(call, &regs),
        Syscall::Signal => round_trip::<SignalArgs>(call, &regs),
        Syscall::Wait => round_trip::<WaitArgs>(call, &regs),
        Syscall::Poll => round_trip::<PollArgs>(call, &regs),
        Syscall::TimerSet => round_trip::<TimerSetArgs>(call, &regs),
        Syscall::AspaceUnmap => round_trip::<AspaceUnmapArgs>(call, &regs),
        Syscall::DebugCounters => round_trip::<DebugCountersArgs>(call, &regs),
        Syscall::BudgetSplit => round_trip::<BudgetSplitArgs>(call, &regs),
        Syscall::BudgetInfo => round_trip::<BudgetInfoArgs>(call, &regs),
        Syscall::MemoryResize => round_trip::<MemoryResizeArgs>(call, &regs),
        Syscall::MemoryCreateDevice => round_trip::<MemoryCreateDeviceArgs>(call, &regs),
        Syscall::IoPortsCreate => round_trip::<IoPortsCreateArgs>(call, &regs),
        Syscall::IoPortsBind => round_trip::<IoPortsBindArgs>(call, &regs),
        Syscall::IoPortsUnbind => round_trip::<IoPortsUnbindArgs>(call, &regs),
        Syscall::IrqCreate => round_trip::<IrqCreateArgs>(call, &regs),
        Syscall::IrqBind => round_trip::<IrqBindArgs>(call, &regs),
        Syscall::IrqAck => round_trip::<IrqAckArgs>(call, &regs),
        Syscall::AspaceProtect => round_trip::<AspaceProtectArgs>(call, &regs),
        Syscall::AspaceClone => round_trip::<AspaceCloneArgs>(call, &regs),
        Syscall::AspacePopulate => round_trip::<AspacePopulateArgs>(call, &regs),
        Syscall::ThreadExec => round_trip::<ThreadExecArgs>(call, &regs),
        Syscall::MemoryLend => round_trip::<MemoryLendArgs>(call, &regs),
        Syscall::FutexWait => round_trip::<FutexWaitArgs>(call, &regs),
        Syscall::FutexWake => round_trip::<FutexWakeArgs>(call, &regs),
        Syscall::FutexRequeue => round_trip::<FutexRequeueArgs>(call, &regs),
        Syscall::DebugLogRead => round_trip::<DebugLogReadArgs>(call, &regs),
        Syscall::CapDetach => round_trip::<CapDetachArgs>(call, &regs),
        Syscall::ReplySave => round_trip::<ReplySaveArgs>(call, &regs),
        Syscall::ReplyWith => round_trip::<ReplyWithArgs>(call, &regs),
        Syscall::EndpointWatch => round_trip::<EndpointWatchArgs>(call, &regs),
        Syscall::CapDeleteRange => round_trip::<CapDeleteRangeArgs>(call, &regs),
        Syscall::ReplySaveRecv => round_trip::<ReplySaveRecvArgs>(call, &regs),
    }
});
