//! The syscall argument structs: each decodes only what its documentation
//! allows, field by field in register order, and every accepted value
//! encodes back to the registers it came from. Every syscall number is
//! covered ([`decode_as`] has no wildcard arm).

use std::fmt::Debug;

use abi::ipc::MessageInfo;
use abi::syscall::*;
use abi::{CapSlot, MapFlags, Rights, SysError};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{CASES, KNOWN_RIGHTS, arg_regs};

/// Any capability slot (slot 0 included: rejecting it is the kernel's job).
fn slot() -> impl Strategy<Value = CapSlot> {
    any::<u32>().prop_map(CapSlot)
}

/// Any set of known rights.
fn rights() -> impl Strategy<Value = Rights> {
    any::<u32>().prop_map(Rights::from_bits_truncate)
}

/// What one argument register holds, as the docs of `abi::syscall` give it.
#[derive(Clone, Copy, Debug)]
enum Field {
    /// A [`CapSlot`]: 32 bits, else [`SysError::InvalidCap`].
    Slot,
    /// A [`Rights`] mask: known bits only, else [`SysError::InvalidArg`].
    Rights,
    /// Any 64-bit value.
    Word,
    /// A [`MapFlags`] mask: known bits and READ.
    Flags,
    /// A [`LendMode`]: 0 or 1.
    Mode,
    /// A sender's [`MessageInfo`]: no reserved or kernel bits (bit 10, the
    /// bytes flag, and bit 11, the deadline flag, are allowed), at most 64
    /// words and 3 capabilities.
    Info,
    /// A 32-bit value (a futex word), else [`SysError::InvalidArg`].
    Word32,
}

impl Field {
    /// The model: whether a register value is acceptable for this field.
    fn check(self, reg: u64) -> Result<(), SysError> {
        match self {
            Field::Slot if reg > u64::from(u32::MAX) => Err(SysError::InvalidCap),
            Field::Rights if reg & !KNOWN_RIGHTS != 0 => Err(SysError::InvalidArg),
            Field::Flags if reg > 15 || reg & 1 == 0 => Err(SysError::InvalidArg),
            Field::Mode if reg > 1 => Err(SysError::InvalidArg),
            Field::Info if reg & 0xff > 64 || reg & 0xf000 != 0 => Err(SysError::InvalidArg),
            Field::Word32 if reg > u64::from(u32::MAX) => Err(SysError::InvalidArg),
            Field::Slot
            | Field::Rights
            | Field::Word
            | Field::Flags
            | Field::Mode
            | Field::Info
            | Field::Word32 => Ok(()),
        }
    }
}

/// Decodes `regs` as `A`, whose registers hold `fields` in order, and checks
/// the result against the model: fields are checked in register order and
/// the first bad one gives the error; unused registers are ignored; an
/// accepted value encodes back to the registers it came from (unused ones
/// zero) and decodes to itself again.
fn check_decode<A>(fields: &[Field], regs: &ArgRegs) -> Result<(), TestCaseError>
where
    A: SyscallArgs + PartialEq + Debug,
{
    let want = fields
        .iter()
        .zip(regs)
        .try_for_each(|(field, &reg)| field.check(reg));
    match (A::decode(regs), want) {
        (Ok(args), Ok(())) => {
            let encoded = args.encode();
            prop_assert_eq!(&encoded[..fields.len()], &regs[..fields.len()]);
            prop_assert!(encoded[fields.len()..].iter().all(|&reg| reg == 0));
            prop_assert_eq!(A::decode(&encoded), Ok(args));
        }
        (Err(got), Err(want)) => prop_assert_eq!(got, want),
        (got, want) => {
            let message = format!("decode {regs:#x?} gave {got:?}, model {want:?}");
            return Err(TestCaseError::fail(message));
        }
    }
    Ok(())
}

/// The strategy for one field's valid values, by [`Field`] name.
macro_rules! valid {
    (Slot) => {
        slot()
    };
    (Rights) => {
        rights()
    };
    (Word) => {
        any::<u64>()
    };
    (Flags) => {
        proptest::sample::select(vec![
            MapFlags::READ,
            MapFlags::READ | MapFlags::WRITE,
            MapFlags::READ | MapFlags::EXEC,
            MapFlags::READ | MapFlags::WRITE | MapFlags::EXEC | MapFlags::SHARE,
        ])
    };
    (Mode) => {
        proptest::sample::select(vec![LendMode::Lend, LendMode::Move])
    };
    (Info) => {
        (any::<u64>(), 0usize..=64, 0usize..=3, any::<bool>()).prop_map(
            |(label, words, caps, deadline)| {
                let info = MessageInfo::new(label, words, caps);
                if deadline { info.with_deadline() } else { info }
            },
        )
    };
    (Word32) => {
        any::<u32>()
    };
}

/// One module of properties per syscall argument struct.
macro_rules! args_properties {
    ($module:ident: $ty:ident for $call:ident {}) => {
        mod $module {
            use super::*;

            #[test]
            fn belongs_to_its_syscall() {
                assert_eq!(<$ty as SyscallArgs>::SYSCALL, Syscall::$call);
                assert_eq!($ty {}.encode(), [0; 6]);
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                #[test]
                fn decode_matches_model(regs in arg_regs()) {
                    check_decode::<$ty>(&[], &regs)?;
                }
            }
        }
    };
    ($module:ident: $ty:ident for $call:ident { $($field:ident: $kind:ident),+ }) => {
        mod $module {
            use super::*;

            #[test]
            fn belongs_to_its_syscall() {
                assert_eq!(<$ty as SyscallArgs>::SYSCALL, Syscall::$call);
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                #[test]
                fn decode_matches_model(regs in arg_regs()) {
                    check_decode::<$ty>(&[$(Field::$kind),+], &regs)?;
                }

                #[test]
                fn valid_values_round_trip(($($field,)+) in ($(valid!($kind),)+)) {
                    let args = $ty { $($field),+ };
                    let regs = args.encode();
                    // Fields sit in registers in declaration order.
                    let mut expected = [0u64; 6];
                    let mut next = expected.iter_mut();
                    $( *next.next().unwrap() = Reg::to_reg(args.$field); )+
                    prop_assert_eq!(regs, expected);
                    prop_assert_eq!(<$ty as SyscallArgs>::decode(&regs), Ok(args));
                }
            }
        }
    };
}

args_properties!(null_args: NullArgs for Null {});
args_properties!(debug_write_args: DebugWriteArgs for DebugWrite {
    console: Slot, addr: Word, len: Word
});
args_properties!(debug_exit_args: DebugExitArgs for DebugExit { console: Slot, code: Word });
args_properties!(debug_frame_count_args: DebugFrameCountArgs for DebugFrameCount {
    console: Slot
});
args_properties!(debug_log_read_args: DebugLogReadArgs for DebugLogRead {
    console: Slot, cursor: Word, addr: Word, len: Word
});
args_properties!(thread_exit_args: ThreadExitArgs for ThreadExit { code: Word });
args_properties!(thread_yield_args: ThreadYieldArgs for ThreadYield {});
args_properties!(thread_create_args: ThreadCreateArgs for ThreadCreate {
    budget: Slot, aspace: Slot, cspace: Slot
});
args_properties!(thread_wait_args: ThreadWaitArgs for ThreadWait { thread: Slot });
args_properties!(cap_copy_args: CapCopyArgs for CapCopy {
    src: Slot, rights: Rights, cspace: Slot, dst: Slot
});
args_properties!(cap_delete_args: CapDeleteArgs for CapDelete { slot: Slot });
args_properties!(cap_info_args: CapInfoArgs for CapInfo { slot: Slot, out: Word });
args_properties!(clock_read_args: ClockReadArgs for ClockRead {});
args_properties!(cap_mint_args: CapMintArgs for CapMint {
    src: Slot, rights: Rights, badge: Word, cspace: Slot, dst: Slot
});
args_properties!(cap_move_args: CapMoveArgs for CapMove { src: Slot, cspace: Slot, dst: Slot });
args_properties!(cap_revoke_args: CapRevokeArgs for CapRevoke { slot: Slot });
args_properties!(cap_detach_args: CapDetachArgs for CapDetach { slot: Slot, ancestor: Slot });
args_properties!(cap_delete_range_args: CapDeleteRangeArgs for CapDeleteRange {
    first: Slot, count: Word
});
args_properties!(endpoint_watch_args: EndpointWatchArgs for EndpointWatch { endpoint: Slot, notification: Slot });
args_properties!(cspace_create_args: CSpaceCreateArgs for CSpaceCreate {
    budget: Slot, slots: Word
});
args_properties!(endpoint_create_args: EndpointCreateArgs for EndpointCreate { budget: Slot });
args_properties!(notification_create_args: NotificationCreateArgs for NotificationCreate {
    budget: Slot
});
args_properties!(aspace_create_args: AspaceCreateArgs for AspaceCreate { budget: Slot });
args_properties!(memory_create_args: MemoryCreateArgs for MemoryCreate {
    budget: Slot, pages: Word
});
args_properties!(aspace_map_args: AspaceMapArgs for AspaceMap {
    aspace: Slot, memory: Slot, offset: Word, vaddr: Word, pages: Word, flags: Flags
});
args_properties!(thread_start_args: ThreadStartArgs for ThreadStart {
    thread: Slot, entry: Word, stack: Word, arg: Word, tls: Word
});
args_properties!(thread_configure_args: ThreadConfigureArgs for ThreadConfigure {
    thread: Slot, ipc_buffer: Word, fault_endpoint: Slot
});
args_properties!(thread_set_priority_args: ThreadSetPriorityArgs for ThreadSetPriority {
    thread: Slot, priority: Word, max_priority: Word
});
args_properties!(thread_read_regs_args: ThreadReadRegsArgs for ThreadReadRegs {
    thread: Slot, out: Word
});
args_properties!(thread_write_regs_args: ThreadWriteRegsArgs for ThreadWriteRegs {
    thread: Slot, regs: Word
});
args_properties!(thread_suspend_args: ThreadSuspendArgs for ThreadSuspend { thread: Slot });
args_properties!(thread_resume_args: ThreadResumeArgs for ThreadResume { thread: Slot });
args_properties!(thread_bind_args: ThreadBindArgs for ThreadBind {
    thread: Slot, notification: Slot
});
args_properties!(send_args: SendArgs for Send {
    endpoint: Slot, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(nb_send_args: NbSendArgs for NbSend {
    endpoint: Slot, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(call_args: CallArgs for Call {
    endpoint: Slot, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(reply_args: ReplyArgs for Reply {
    reserved: Word, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(reply_recv_args: ReplyRecvArgs for ReplyRecv {
    endpoint: Slot, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(reply_save_args: ReplySaveArgs for ReplySave { dst: Slot });
args_properties!(reply_with_args: ReplyWithArgs for ReplyWith {
    reply: Slot, info: Info, mr0: Word, mr1: Word, mr2: Word, mr3: Word
});
args_properties!(reply_save_recv_args: ReplySaveRecvArgs for ReplySaveRecv {
    endpoint: Slot, dst: Slot, deadline: Word
});
args_properties!(recv_args: RecvArgs for Recv { endpoint: Slot, deadline: Word });
args_properties!(nb_recv_args: NbRecvArgs for NbRecv { endpoint: Slot });
args_properties!(signal_args: SignalArgs for Signal { notification: Slot, bits: Word });
args_properties!(wait_args: WaitArgs for Wait { notification: Slot, deadline: Word });
args_properties!(poll_args: PollArgs for Poll { notification: Slot });
args_properties!(debug_counters_args: DebugCountersArgs for DebugCounters { console: Slot });
args_properties!(aspace_unmap_args: AspaceUnmapArgs for AspaceUnmap {
    aspace: Slot, vaddr: Word, pages: Word
});
args_properties!(timer_set_args: TimerSetArgs for TimerSet {
    notification: Slot, deadline: Word, bits: Word
});
args_properties!(budget_split_args: BudgetSplitArgs for BudgetSplit {
    budget: Slot, frames: Word
});
args_properties!(budget_info_args: BudgetInfoArgs for BudgetInfo { budget: Slot });
args_properties!(memory_resize_args: MemoryResizeArgs for MemoryResize {
    memory: Slot, pages: Word
});
args_properties!(memory_create_device_args: MemoryCreateDeviceArgs for MemoryCreateDevice {
    budget: Slot, device: Slot, phys: Word, pages: Word
});
args_properties!(io_ports_create_args: IoPortsCreateArgs for IoPortsCreate {
    parent: Slot, budget: Slot, base: Word, count: Word
});
args_properties!(io_ports_bind_args: IoPortsBindArgs for IoPortsBind { ports: Slot, thread: Slot });
args_properties!(io_ports_unbind_args: IoPortsUnbindArgs for IoPortsUnbind {
    ports: Slot, thread: Slot
});
args_properties!(irq_bind_args: IrqBindArgs for IrqBind {
    irq: Slot, notification: Slot, bits: Word
});
args_properties!(irq_ack_args: IrqAckArgs for IrqAck { irq: Slot });
args_properties!(aspace_protect_args: AspaceProtectArgs for AspaceProtect {
    aspace: Slot, vaddr: Word, pages: Word, flags: Flags
});
args_properties!(aspace_clone_args: AspaceCloneArgs for AspaceClone {
    budget: Slot, aspace: Slot
});
args_properties!(thread_exec_args: ThreadExecArgs for ThreadExec {
    aspace: Slot, entry: Word, stack: Word, arg: Word, tls: Word
});
args_properties!(aspace_populate_args: AspacePopulateArgs for AspacePopulate {
    aspace: Slot, vaddr: Word, pages: Word
});
args_properties!(cap_copy_many_args: CapCopyManyArgs for CapCopyMany {
    cspace: Slot, addr: Word, count: Word
});
args_properties!(memory_lend_args: MemoryLendArgs for MemoryLend {
    budget: Slot, aspace: Slot, addr: Word, len: Word, mode: Mode
});
args_properties!(futex_wait_args: FutexWaitArgs for FutexWait {
    addr: Word, expected: Word32, deadline: Word
});
args_properties!(futex_wake_args: FutexWakeArgs for FutexWake { addr: Word, count: Word });
args_properties!(futex_requeue_args: FutexRequeueArgs for FutexRequeue {
    addr: Word, wake_count: Word, addr2: Word, requeue_count: Word, expected: Word32
});

/// Decodes and re-encodes `regs` with the argument type of `call`. The match
/// has no wildcard arm, so a new syscall does not compile until it is listed
/// here and given an `args_properties!` module above.
fn decode_as(call: Syscall, regs: &ArgRegs) -> Result<ArgRegs, SysError> {
    fn go<A: SyscallArgs>(call: Syscall, regs: &ArgRegs) -> Result<ArgRegs, SysError> {
        assert_eq!(A::SYSCALL, call);
        A::decode(regs).map(|args| args.encode())
    }
    match call {
        Syscall::Null => go::<NullArgs>(call, regs),
        Syscall::DebugWrite => go::<DebugWriteArgs>(call, regs),
        Syscall::DebugExit => go::<DebugExitArgs>(call, regs),
        Syscall::DebugFrameCount => go::<DebugFrameCountArgs>(call, regs),
        Syscall::DebugLogRead => go::<DebugLogReadArgs>(call, regs),
        Syscall::ThreadExit => go::<ThreadExitArgs>(call, regs),
        Syscall::ThreadYield => go::<ThreadYieldArgs>(call, regs),
        Syscall::ThreadCreate => go::<ThreadCreateArgs>(call, regs),
        Syscall::ThreadWait => go::<ThreadWaitArgs>(call, regs),
        Syscall::CapCopy => go::<CapCopyArgs>(call, regs),
        Syscall::CapDelete => go::<CapDeleteArgs>(call, regs),
        Syscall::CapInfo => go::<CapInfoArgs>(call, regs),
        Syscall::ClockRead => go::<ClockReadArgs>(call, regs),
        Syscall::CapMint => go::<CapMintArgs>(call, regs),
        Syscall::CapMove => go::<CapMoveArgs>(call, regs),
        Syscall::CapRevoke => go::<CapRevokeArgs>(call, regs),
        Syscall::CapDetach => go::<CapDetachArgs>(call, regs),
        Syscall::CapDeleteRange => go::<CapDeleteRangeArgs>(call, regs),
        Syscall::EndpointWatch => go::<EndpointWatchArgs>(call, regs),
        Syscall::CSpaceCreate => go::<CSpaceCreateArgs>(call, regs),
        Syscall::EndpointCreate => go::<EndpointCreateArgs>(call, regs),
        Syscall::NotificationCreate => go::<NotificationCreateArgs>(call, regs),
        Syscall::AspaceCreate => go::<AspaceCreateArgs>(call, regs),
        Syscall::MemoryCreate => go::<MemoryCreateArgs>(call, regs),
        Syscall::AspaceMap => go::<AspaceMapArgs>(call, regs),
        Syscall::ThreadStart => go::<ThreadStartArgs>(call, regs),
        Syscall::ThreadConfigure => go::<ThreadConfigureArgs>(call, regs),
        Syscall::ThreadSetPriority => go::<ThreadSetPriorityArgs>(call, regs),
        Syscall::ThreadReadRegs => go::<ThreadReadRegsArgs>(call, regs),
        Syscall::ThreadWriteRegs => go::<ThreadWriteRegsArgs>(call, regs),
        Syscall::ThreadSuspend => go::<ThreadSuspendArgs>(call, regs),
        Syscall::ThreadResume => go::<ThreadResumeArgs>(call, regs),
        Syscall::ThreadBind => go::<ThreadBindArgs>(call, regs),
        Syscall::Send => go::<SendArgs>(call, regs),
        Syscall::NbSend => go::<NbSendArgs>(call, regs),
        Syscall::Call => go::<CallArgs>(call, regs),
        Syscall::Recv => go::<RecvArgs>(call, regs),
        Syscall::NbRecv => go::<NbRecvArgs>(call, regs),
        Syscall::Reply => go::<ReplyArgs>(call, regs),
        Syscall::ReplyRecv => go::<ReplyRecvArgs>(call, regs),
        Syscall::ReplySave => go::<ReplySaveArgs>(call, regs),
        Syscall::ReplyWith => go::<ReplyWithArgs>(call, regs),
        Syscall::ReplySaveRecv => go::<ReplySaveRecvArgs>(call, regs),
        Syscall::Signal => go::<SignalArgs>(call, regs),
        Syscall::Wait => go::<WaitArgs>(call, regs),
        Syscall::Poll => go::<PollArgs>(call, regs),
        Syscall::TimerSet => go::<TimerSetArgs>(call, regs),
        Syscall::AspaceUnmap => go::<AspaceUnmapArgs>(call, regs),
        Syscall::DebugCounters => go::<DebugCountersArgs>(call, regs),
        Syscall::BudgetSplit => go::<BudgetSplitArgs>(call, regs),
        Syscall::BudgetInfo => go::<BudgetInfoArgs>(call, regs),
        Syscall::MemoryResize => go::<MemoryResizeArgs>(call, regs),
        Syscall::MemoryCreateDevice => go::<MemoryCreateDeviceArgs>(call, regs),
        Syscall::IoPortsCreate => go::<IoPortsCreateArgs>(call, regs),
        Syscall::IoPortsBind => go::<IoPortsBindArgs>(call, regs),
        Syscall::IoPortsUnbind => go::<IoPortsUnbindArgs>(call, regs),
        Syscall::IrqCreate => go::<IrqCreateArgs>(call, regs),
        Syscall::IrqBind => go::<IrqBindArgs>(call, regs),
        Syscall::IrqAck => go::<IrqAckArgs>(call, regs),
        Syscall::AspaceProtect => go::<AspaceProtectArgs>(call, regs),
        Syscall::AspaceClone => go::<AspaceCloneArgs>(call, regs),
        Syscall::AspacePopulate => go::<AspacePopulateArgs>(call, regs),
        Syscall::CapCopyMany => go::<CapCopyManyArgs>(call, regs),
        Syscall::ThreadExec => go::<ThreadExecArgs>(call, regs),
        Syscall::MemoryLend => go::<MemoryLendArgs>(call, regs),
        Syscall::FutexWait => go::<FutexWaitArgs>(call, regs),
        Syscall::FutexWake => go::<FutexWakeArgs>(call, regs),
        Syscall::FutexRequeue => go::<FutexRequeueArgs>(call, regs),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_syscall_decodes_with_its_args_type(
        index in 0..Syscall::ALL.len(),
        regs in arg_regs(),
    ) {
        let call = Syscall::ALL[index];
        if let Ok(encoded) = decode_as(call, &regs) {
            prop_assert_eq!(decode_as(call, &encoded), Ok(encoded));
        }
    }
}
