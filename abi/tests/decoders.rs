//! Property tests of every decoder in `abi` that reads untrusted input: the
//! syscall argument and result registers, syscall numbers, error codes,
//! rights, slots, object types, the flat image header and user ranges.
//!
//! Each decoder is compared with a model written from its documentation, not
//! from its code, and every value it accepts must survive a re-encoding.

use std::fmt::Debug;

use abi::boot::{
    FLAT_MAGIC, FLAT_MAX_HEADER_BYTES, FLAT_MAX_MEM_BYTES, FLAT_MAX_STACK_BYTES, FLAT_VERSION,
    FlatImageHeader, ImageError,
};
use abi::ipc::MessageInfo;
use abi::layout::{IMAGE_BASE, PAGE_BYTES, USER_END, is_user_canonical, is_user_range};
use abi::syscall::*;
use abi::{CapSlot, MapFlags, ObjectType, Rights, SysError};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Cases per property; every property here is cheap.
const CASES: u32 = 2048;

/// READ | WRITE | GRANT | CONTROL: the bits a rights register may hold.
const KNOWN_RIGHTS: u64 = 0b1111;

/// A register value, biased toward the edges where decoders change their
/// answer (small numbers, 32-bit limits, single bits) since uniform `u64`s
/// almost never name a valid slot or rights mask.
fn reg() -> impl Strategy<Value = u64> {
    let edges = vec![
        0,
        1,
        KNOWN_RIGHTS,
        KNOWN_RIGHTS + 1,
        u64::from(u32::MAX) - 1,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 1,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    prop_oneof![
        3 => any::<u64>(),
        3 => any::<u32>().prop_map(u64::from),
        3 => 0u64..64,
        1 => (0u32..64).prop_map(|bit| 1u64 << bit),
        1 => proptest::sample::select(edges),
    ]
}

/// Six argument registers, each from [`reg`].
fn arg_regs() -> impl Strategy<Value = ArgRegs> {
    proptest::array::uniform6(reg())
}

/// Six result registers, each from [`reg`].
fn ret_regs() -> impl Strategy<Value = RetRegs> {
    proptest::array::uniform6(reg())
}

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

/// One module of properties per syscall result struct.
macro_rules! result_properties {
    ($module:ident: $ty:ident { $($field:ident),* }) => {
        mod $module {
            use super::*;

            /// The struct's fields, one register each.
            const FIELDS: &[&str] = &[$(stringify!($field)),*];
            /// Registers the struct uses.
            const USED: usize = FIELDS.len();

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                #[test]
                fn any_registers_decode_and_encode_back(regs in ret_regs()) {
                    let result = <$ty as SyscallResult>::decode(&regs);
                    let encoded = result.encode();
                    prop_assert_eq!(&encoded[..USED], &regs[..USED]);
                    prop_assert!(encoded[USED..].iter().all(|&reg| reg == 0));
                    prop_assert_eq!(<$ty as SyscallResult>::decode(&encoded), result);
                }

                #[test]
                fn any_value_round_trips(values in proptest::array::uniform6(any::<u64>())) {
                    #[allow(unused_mut, unused_variables)]
                    let mut next = values.iter().copied();
                    let result = $ty { $($field: next.next().unwrap()),* };
                    let regs = result.encode();
                    // Fields sit in registers in declaration order.
                    let mut expected = [0u64; 6];
                    expected[..USED].copy_from_slice(&values[..USED]);
                    prop_assert_eq!(regs, expected);
                    prop_assert_eq!(<$ty as SyscallResult>::decode(&regs), result);
                }
            }
        }
    };
}

result_properties!(no_result: NoResult {});
result_properties!(frame_count: FrameCount { free, total, resolved_faults });
result_properties!(slot_result: SlotResult { slot });
result_properties!(clock_time: ClockTime { nanos });
result_properties!(thread_status: ThreadStatus { kind, code, error_code, rip, addr });
result_properties!(signals: Signals { bits });
result_properties!(kernel_counters: KernelCounters {
    fastpath_ipc, fastpath_enabled, spurious_interrupts, unexpected_interrupts, irq_deliveries,
    last_irq_tsc
});
result_properties!(recv_result: RecvResult { badge, info, mr0, mr1, mr2, mr3 });
result_properties!(futex_woken: FutexWoken { woken });
result_properties!(futex_requeued: FutexRequeued { woken, requeued });

/// A `u64` that is often small or near a limit.
fn small_or_any() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..64,
        1 => any::<u64>(),
        1 => (0u64..64).prop_map(|n| u64::MAX - n),
    ]
}

#[test]
fn syscall_numbers_are_grouped_and_ascending() {
    // Each group of syscalls starts at a multiple of 16, in number order.
    for pair in Syscall::ALL.windows(2) {
        assert!(pair[0].number() < pair[1].number());
        let (group, next) = (pair[0].number() / 16, pair[1].number() / 16);
        if group != next {
            assert_eq!(pair[1].number() % 16, 0, "{:?} starts a group", pair[1]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_syscall_number_decodes_as_all_says(number in small_or_any()) {
        let want = Syscall::ALL.iter().copied().find(|call| call.number() == number);
        let got = Syscall::from_number(number);
        prop_assert_eq!(got, want);
        if number >= Syscall::NUMBER_LIMIT {
            prop_assert!(got.is_none());
        }
        if let Some(call) = got {
            prop_assert_eq!(call.number(), number);
        }
    }

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

    #[test]
    fn any_error_code_decodes_in_the_documented_range(code in small_or_any()) {
        let got = SysError::from_code(code);
        // Codes are 1 (InvalidCap) through 10 (TimedOut); 0 is success.
        prop_assert_eq!(got.is_some(), (1..=10).contains(&code));
        if let Some(error) = got {
            prop_assert_eq!(error.code(), code);
            prop_assert_eq!(Some(error), usize::try_from(code - 1).ok().map(|i| SysError::ALL[i]));
            prop_assert!(!error.name().is_empty());
        }
    }

    #[test]
    fn any_rights_register_decodes_known_bits_only(reg in reg()) {
        match Rights::from_reg(reg) {
            Ok(rights) => {
                prop_assert!(reg <= KNOWN_RIGHTS);
                prop_assert_eq!(rights.to_reg(), reg);
                prop_assert_eq!(u64::from(rights.bits()), reg);
            }
            Err(error) => {
                prop_assert!(reg > KNOWN_RIGHTS);
                prop_assert_eq!(error, SysError::InvalidArg);
            }
        }
    }

    #[test]
    fn any_slot_register_decodes_32_bits_only(reg in reg()) {
        match CapSlot::from_reg(reg) {
            Ok(slot) => {
                prop_assert!(reg <= u64::from(u32::MAX));
                prop_assert_eq!(slot.to_reg(), reg);
                prop_assert_eq!(u64::from(slot.0), reg);
            }
            Err(error) => {
                prop_assert!(reg > u64::from(u32::MAX));
                prop_assert_eq!(error, SysError::InvalidCap);
            }
        }
    }

    #[test]
    fn any_object_type_register_decodes_1_to_14(reg in reg()) {
        let want = match reg {
            1 => Ok(ObjectType::Debug),
            2 => Ok(ObjectType::AddressSpace),
            3 => Ok(ObjectType::Thread),
            4 => Ok(ObjectType::CSpace),
            5 => Ok(ObjectType::Endpoint),
            6 => Ok(ObjectType::Notification),
            7 => Ok(ObjectType::MemoryObject),
            8 => Ok(ObjectType::Budget),
            9 => Ok(ObjectType::DeviceMemory),
            10 => Ok(ObjectType::IoSpace),
            11 => Ok(ObjectType::IoPorts),
            12 => Ok(ObjectType::IrqControl),
            13 => Ok(ObjectType::Irq),
            14 => Ok(ObjectType::Reply),
            _ => Err(SysError::InvalidArg),
        };
        let got = ObjectType::from_reg(reg);
        prop_assert_eq!(got, want);
        if let Ok(object_type) = got {
            prop_assert_eq!(object_type.to_reg(), reg);
        }
    }
}

/// Size of the flat image header (`header_bytes` may add padding).
const HEADER_BYTES: usize = 64;

/// The header's documented byte layout: all fields little-endian, in
/// declaration order, no padding. Written out here instead of through
/// zerocopy so the test also pins the layout.
fn header_to_bytes(h: &FlatImageHeader) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES);
    bytes.extend_from_slice(&h.magic);
    bytes.extend_from_slice(&h.version.to_le_bytes());
    bytes.extend_from_slice(&h.header_bytes.to_le_bytes());
    for word in [
        h.load_addr,
        h.entry,
        h.file_bytes,
        h.mem_bytes,
        h.stack_bytes,
        h.exec_bytes,
    ] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    assert_eq!(bytes.len(), HEADER_BYTES);
    bytes
}

/// Reads a header from its documented layout; `None` if `bytes` is short.
fn header_from_bytes(bytes: &[u8]) -> Option<FlatImageHeader> {
    let bytes = bytes.get(..HEADER_BYTES)?;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    Some(FlatImageHeader {
        magic: bytes[..8].try_into().unwrap(),
        version: u32_at(8),
        header_bytes: u32_at(12),
        load_addr: u64_at(16),
        entry: u64_at(24),
        file_bytes: u64_at(32),
        mem_bytes: u64_at(40),
        stack_bytes: u64_at(48),
        exec_bytes: u64_at(56),
    })
}

/// The model: whether `image` is loadable by the documentation of
/// [`FlatImageHeader`], computed in `u128` so nothing can overflow.
fn model_accepts(image: &[u8]) -> bool {
    let Some(h) = header_from_bytes(image) else {
        return false;
    };
    let page = u128::from(PAGE_BYTES);
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    let file = u128::from(h.file_bytes);
    let mem = u128::from(h.mem_bytes);
    let exec = u128::from(h.exec_bytes);
    let stack = u128::from(h.stack_bytes);
    h.magic == FLAT_MAGIC
        && h.version == FLAT_VERSION
        && h.header_bytes as usize >= HEADER_BYTES
        && h.header_bytes <= FLAT_MAX_HEADER_BYTES
        && h.load_addr == IMAGE_BASE
        && u128::from(h.header_bytes) + file <= image.len() as u128
        && file <= mem
        && mem <= u128::from(FLAT_MAX_MEM_BYTES)
        && load <= entry
        && entry < load + file
        && entry < load + exec
        && exec % page == 0
        && exec <= mem
        && stack != 0
        && stack % page == 0
        && stack <= u128::from(FLAT_MAX_STACK_BYTES)
}

/// Checks what a successful parse promises about `image`.
fn check_parsed(image: &[u8], h: &FlatImageHeader, data: &[u8]) -> Result<(), TestCaseError> {
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    prop_assert_eq!(Some(*h), header_from_bytes(image));
    prop_assert!(load <= entry && entry < load + u128::from(h.file_bytes));
    prop_assert!(entry < load + u128::from(h.exec_bytes));
    prop_assert!(h.mem_bytes >= h.file_bytes);
    prop_assert!(h.mem_bytes >= h.exec_bytes);
    prop_assert!(h.mem_bytes <= FLAT_MAX_MEM_BYTES);
    prop_assert_eq!(h.exec_bytes % PAGE_BYTES, 0);
    prop_assert_eq!(h.stack_bytes % PAGE_BYTES, 0);
    prop_assert!(h.stack_bytes != 0 && h.stack_bytes <= FLAT_MAX_STACK_BYTES);
    prop_assert_eq!(data.len() as u64, h.file_bytes);
    prop_assert_eq!(data.as_ptr(), image[h.header_bytes as usize..].as_ptr());
    Ok(())
}

/// Parses `image` and checks the outcome against [`model_accepts`] and, on
/// success, [`check_parsed`].
fn check_parse(image: &[u8]) -> Result<(), TestCaseError> {
    let accepted = model_accepts(image);
    match FlatImageHeader::parse(image) {
        Ok((h, data)) => {
            prop_assert!(accepted, "parse accepted what the model rejects: {h:#x?}");
            check_parsed(image, &h, data)?;
        }
        Err(error) => {
            prop_assert!(!accepted, "parse rejected a valid image: {error:?}");
            if let ImageError::BadField(name) = error {
                let names = [
                    "header_bytes",
                    "load_addr",
                    "entry",
                    "file_bytes",
                    "mem_bytes",
                    "stack_bytes",
                    "exec_bytes",
                ];
                prop_assert!(names.contains(&name), "unknown field {name:?}");
            }
        }
    }
    Ok(())
}

/// A loadable image: a valid header (mostly without padding), its data
/// and up to 16 trailing bytes.
fn valid_image() -> impl Strategy<Value = (FlatImageHeader, Vec<u8>)> {
    let max_stack_pages = FLAT_MAX_STACK_BYTES / PAGE_BYTES;
    let header_bytes = prop_oneof![
        3 => Just(HEADER_BYTES as u32),
        1 => HEADER_BYTES as u32..=FLAT_MAX_HEADER_BYTES,
    ];
    (
        header_bytes,
        1..=3 * PAGE_BYTES,
        any::<u64>(),
        0u64..4,
        prop_oneof![3 => 0..(1u64 << 20), 1 => Just(u64::MAX)],
        1..=max_stack_pages,
        0usize..16,
        any::<u8>(),
    )
        .prop_map(
            move |(
                header_bytes,
                file_bytes,
                entry_seed,
                extra_exec_pages,
                extra_mem,
                stack_pages,
                tail,
                fill,
            )| {
                let entry_offset = entry_seed % file_bytes;
                let exec_bytes = (entry_offset / PAGE_BYTES + 1 + extra_exec_pages) * PAGE_BYTES;
                let least_mem = file_bytes.max(exec_bytes);
                // u64::MAX stands for "exactly the largest allowed".
                let mem_bytes = if extra_mem == u64::MAX {
                    FLAT_MAX_MEM_BYTES
                } else {
                    least_mem + extra_mem
                };
                let header = FlatImageHeader {
                    magic: FLAT_MAGIC,
                    version: FLAT_VERSION,
                    header_bytes,
                    load_addr: IMAGE_BASE,
                    entry: IMAGE_BASE + entry_offset,
                    file_bytes,
                    mem_bytes,
                    stack_bytes: stack_pages * PAGE_BYTES,
                    exec_bytes,
                };
                let data = vec![fill; file_bytes as usize + tail];
                (header, data)
            },
        )
}

/// Concatenates a header, its padding (zeros up to `header_bytes`, at
/// most up to [`FLAT_MAX_HEADER_BYTES`]) and the bytes after it.
fn image_of(header: &FlatImageHeader, data: &[u8]) -> Vec<u8> {
    let mut image = header_to_bytes(header);
    let padded = header.header_bytes.min(FLAT_MAX_HEADER_BYTES) as usize;
    image.resize(padded.max(HEADER_BYTES), 0);
    image.extend_from_slice(data);
    image
}

/// One change to one part of a valid image.
#[derive(Clone, Copy, Debug)]
struct Mutation {
    /// Which part: 0 to 8 are the header fields in order, 9 the data length.
    target: u8,
    /// How the new value is made: `raw` itself, the old value plus `delta`,
    /// a page multiple, a limit, or a value another check compares with.
    how: u8,
    /// Random bits for the new value.
    raw: u64,
    /// A small signed offset.
    delta: i64,
}

/// Any [`Mutation`].
fn mutation() -> impl Strategy<Value = Mutation> {
    (0u8..10, 0u8..5, any::<u64>(), -9000i64..9000).prop_map(|(target, how, raw, delta)| Mutation {
        target,
        how,
        raw,
        delta,
    })
}

impl Mutation {
    /// The new value of a field whose old value is `old`, in `h`.
    fn value(self, h: &FlatImageHeader, old: u64) -> u64 {
        let edges = [
            0,
            1,
            PAGE_BYTES,
            IMAGE_BASE,
            FLAT_MAX_MEM_BYTES,
            FLAT_MAX_MEM_BYTES + 1,
            FLAT_MAX_STACK_BYTES,
            FLAT_MAX_STACK_BYTES + PAGE_BYTES,
            u64::MAX - PAGE_BYTES + 1,
            u64::MAX,
        ];
        // Values where one check meets another: one byte either side of
        // these is where off-by-one mistakes show.
        let related = [
            h.load_addr.wrapping_add(h.file_bytes),
            h.load_addr.wrapping_add(h.exec_bytes),
            h.entry.wrapping_sub(h.load_addr),
            h.file_bytes,
            h.mem_bytes,
            h.exec_bytes,
        ];
        let pick = |values: &[u64]| values[(self.raw % values.len() as u64) as usize];
        match self.how {
            0 => self.raw,
            1 => old.wrapping_add_signed(self.delta),
            2 => (self.raw % (2 * FLAT_MAX_MEM_BYTES / PAGE_BYTES)) * PAGE_BYTES,
            3 => pick(&edges),
            _ => pick(&related).wrapping_add_signed(self.delta % 2),
        }
    }

    /// Applies the change to a header and its data.
    fn apply(self, h: &mut FlatImageHeader, data: &mut Vec<u8>) {
        let old = *h;
        let value = |field: u64| self.value(&old, field);
        match self.target {
            0 => {
                let byte = (self.raw % 8) as usize;
                h.magic[byte] ^= (self.raw >> 8) as u8 | 1;
            }
            1 => h.version = value(u64::from(h.version)) as u32,
            2 => h.header_bytes = value(u64::from(h.header_bytes)) as u32,
            3 => h.load_addr = value(h.load_addr),
            4 => h.entry = value(h.entry),
            5 => h.file_bytes = value(h.file_bytes),
            6 => h.mem_bytes = value(h.mem_bytes),
            7 => h.stack_bytes = value(h.stack_bytes),
            8 => h.exec_bytes = value(h.exec_bytes),
            _ => {
                let len = value(data.len() as u64) % (data.len() as u64 * 2 + 64);
                data.resize(len as usize, 0xcc);
            }
        }
    }
}

/// Any header field value, biased toward values the checks care about.
fn header_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => any::<u64>(),
        2 => (0u64..64).prop_map(|pages| pages * PAGE_BYTES),
        2 => 0u64..0x3000,
        2 => (0u64..0x3000).prop_map(|offset| IMAGE_BASE + offset),
        1 => (0u64..16).prop_map(|n| u64::MAX - n),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_of_any_bytes_matches_model(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        check_parse(&bytes)?;
    }

    #[test]
    fn valid_images_parse((header, data) in valid_image()) {
        let image = image_of(&header, &data);
        prop_assert!(model_accepts(&image));
        let (parsed, parsed_data) = FlatImageHeader::parse(&image)
            .map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
        prop_assert_eq!(parsed, header);
        prop_assert_eq!(parsed_data, &data[..header.file_bytes as usize]);
        check_parsed(&image, &parsed, parsed_data)?;
    }

    #[test]
    fn one_mutated_field_is_accepted_only_if_valid(
        (header, data) in valid_image(),
        change in mutation(),
    ) {
        let (mut header, mut data) = (header, data);
        change.apply(&mut header, &mut data);
        check_parse(&image_of(&header, &data))?;
    }

    #[test]
    fn arbitrary_fields_after_valid_magic_match_model(
        words in proptest::array::uniform6(header_word()),
        data_len in 0usize..0x3100,
    ) {
        let [entry, file_bytes, mem_bytes, stack_bytes, exec_bytes, _] = words;
        let header = FlatImageHeader {
            magic: FLAT_MAGIC,
            version: FLAT_VERSION,
            header_bytes: HEADER_BYTES as u32,
            load_addr: IMAGE_BASE,
            entry,
            file_bytes,
            mem_bytes,
            stack_bytes,
            exec_bytes,
        };
        check_parse(&image_of(&header, &vec![0x90; data_len]))?;
    }

    #[test]
    fn prefixes_of_valid_images_never_panic(
        (header, data) in valid_image(),
        cut in any::<prop::sample::Index>(),
    ) {
        let image = image_of(&header, &data);
        let len = cut.index(image.len() + 1);
        check_parse(&image[..len])?;
    }
}

/// Compares [`is_user_range`] with its model: true iff `addr <= USER_END`
/// and `addr + len <= USER_END`, summed without overflow.
fn check_user_range(addr: u64, len: u64) -> Result<(), TestCaseError> {
    let end = u128::from(addr) + u128::from(len);
    let want = end <= u128::from(USER_END) && addr <= USER_END;
    prop_assert_eq!(
        is_user_range(addr, len),
        want,
        "addr {:#x} len {:#x}",
        addr,
        len
    );
    Ok(())
}

/// An address or length near the edges of user space and of `u64`.
fn address() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => any::<u64>(),
        2 => 0u64..0x10000,
        2 => (-0x2000i64..0x2000).prop_map(|delta| USER_END.wrapping_add_signed(delta)),
        1 => (0u64..0x2000).prop_map(|n| u64::MAX - n),
        1 => (0u64..0x2000).prop_map(|n| (1u64 << 47).wrapping_add(n).wrapping_sub(0x1000)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn user_range_matches_u128_model(addr in address(), len in address()) {
        check_user_range(addr, len)?;
    }

    #[test]
    fn user_range_ending_near_the_top_matches_u128_model(
        addr in address(),
        end in prop_oneof![
            Just(USER_END),
            (-2i64..=2).prop_map(|delta| USER_END.wrapping_add_signed(delta)),
            (-2i64..=2).prop_map(|delta| 0u64.wrapping_add_signed(delta)),
        ],
    ) {
        check_user_range(addr, end.wrapping_sub(addr))?;
    }

    #[test]
    fn user_canonical_is_bit_47_and_up_clear(addr in address()) {
        prop_assert_eq!(is_user_canonical(addr), addr >> 47 == 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any register decodes to an `IrqSource` that encodes back to it, or
    /// is refused with `InvalidArg`; never a panic.
    #[test]
    fn any_irq_source_register_round_trips_or_is_refused(reg in reg()) {
        match abi::syscall::IrqSource::from_reg(reg) {
            Ok(source) => prop_assert_eq!(source.to_reg(), reg),
            Err(error) => prop_assert_eq!(error, SysError::InvalidArg),
        }
    }
}
