//! Host tests of the syscall encodings.

use super::*;
use crate::ipc::MessageInfo;
use crate::{CapSlot, MapFlags, ObjectType, Rights, SysError};

fn round_trip<A: SyscallArgs + PartialEq + core::fmt::Debug>(args: A) {
    assert_eq!(A::decode(&args.encode()), Ok(args));
}

fn round_trip_result<R: SyscallResult + PartialEq + core::fmt::Debug>(r: R) {
    assert_eq!(R::decode(&r.encode()), r);
}

#[test]
fn numbers_round_trip_and_unknown_is_none() {
    for (i, s) in Syscall::ALL.iter().enumerate() {
        assert_eq!(s.index(), i);
        assert!(s.number() < Syscall::NUMBER_LIMIT);
        assert_eq!(Syscall::from_number(s.number()), Some(*s));
    }
    let known = Syscall::ALL.map(Syscall::number);
    for number in 0..Syscall::NUMBER_LIMIT + 16 {
        if !known.contains(&number) {
            assert_eq!(Syscall::from_number(number), None);
        }
    }
    assert_eq!(Syscall::from_number(u64::MAX), None);
}

#[test]
fn every_args_struct_round_trips() {
    let slot = CapSlot(7);
    round_trip(IoPortsCreateArgs {
        parent: slot,
        budget: slot,
        base: 0x80,
        count: 8,
    });
    round_trip(IoPortsBindArgs {
        ports: slot,
        thread: slot,
    });
    round_trip(IoPortsUnbindArgs {
        ports: slot,
        thread: slot,
    });
    round_trip(IrqCreateArgs {
        control: slot,
        budget: slot,
        source: IrqSource::Gsi {
            gsi: 11,
            level: true,
            active_low: true,
        },
    });
    round_trip(IrqBindArgs {
        irq: slot,
        notification: slot,
        bits: 1 << 5,
    });
    round_trip(IrqAckArgs { irq: slot });
    round_trip(NullArgs {});
    round_trip(DebugWriteArgs {
        console: slot,
        addr: 0x40_0000,
        len: 12,
    });
    round_trip(DebugExitArgs {
        console: slot,
        code: 3,
    });
    round_trip(DebugFrameCountArgs { console: slot });
    round_trip(DebugLogReadArgs {
        console: slot,
        cursor: 77,
        addr: 0x1000,
        len: DEBUG_LOG_READ_MAX_BYTES,
    });
    round_trip(ThreadExitArgs { code: u64::MAX });
    round_trip(ThreadYieldArgs {});
    round_trip(ThreadCreateArgs {
        budget: slot,
        aspace: slot,
        cspace: CapSlot(2),
    });
    round_trip(CapMintArgs {
        src: slot,
        rights: Rights::WRITE,
        badge: 9,
        cspace: CapSlot(0),
        dst: CapSlot(4),
    });
    round_trip(CapMoveArgs {
        src: slot,
        cspace: CapSlot(3),
        dst: CapSlot(0),
    });
    round_trip(CapRevokeArgs { slot });
    round_trip(CSpaceCreateArgs {
        budget: slot,
        slots: 64,
    });
    round_trip(AspaceMapArgs {
        aspace: slot,
        memory: CapSlot(2),
        offset: 1,
        vaddr: 0x1000,
        pages: 3,
        flags: MapFlags::READ | MapFlags::EXEC,
    });
    round_trip(ThreadStartArgs {
        thread: slot,
        entry: 1,
        stack: 2,
        arg: 3,
        tls: 0x7000_0000,
    });
    round_trip(ThreadExecArgs {
        aspace: slot,
        entry: 1,
        stack: 2,
        arg: u64::MAX,
        tls: 4,
    });
    round_trip(AspacePopulateArgs {
        aspace: slot,
        vaddr: 0x6000_0000,
        pages: POPULATE_MAX_PAGES,
    });
    round_trip(CapCopyManyArgs {
        cspace: slot,
        addr: 0x6000_0010,
        count: CAP_COPY_MANY_MAX,
    });
    round_trip(ThreadSetPriorityArgs {
        thread: slot,
        priority: 3,
        max_priority: 4,
    });
    round_trip(CallArgs {
        endpoint: slot,
        info: MessageInfo::new(7, 4, 1),
        mr0: 1,
        mr1: 2,
        mr2: 3,
        mr3: u64::MAX,
    });
    round_trip(ReplyArgs {
        reserved: 0,
        info: MessageInfo::new(0, 0, 0),
        mr0: 0,
        mr1: 0,
        mr2: 0,
        mr3: 0,
    });
    round_trip(ReplySaveArgs { dst: CapSlot(0) });
    round_trip(ReplySaveArgs { dst: slot });
    round_trip(ReplySaveRecvArgs {
        endpoint: slot,
        dst: CapSlot(9),
        deadline: u64::MAX,
    });
    round_trip(ReplyWithArgs {
        reply: slot,
        info: MessageInfo::new(9, 64, 3),
        mr0: u64::MAX,
        mr1: 1,
        mr2: 2,
        mr3: 3,
    });
    round_trip(SignalArgs {
        notification: slot,
        bits: 1,
    });
    round_trip(ThreadWaitArgs { thread: slot });
    round_trip(CapCopyArgs {
        src: slot,
        rights: Rights::READ | Rights::GRANT,
        cspace: CapSlot(0),
        dst: CapSlot(5),
    });
    round_trip(CapDeleteArgs { slot });
    round_trip(CapInfoArgs { slot, out: 0x1000 });
    round_trip(ClockReadArgs {});
    round_trip(RecvArgs {
        endpoint: slot,
        deadline: 5,
    });
    round_trip(WaitArgs {
        notification: slot,
        deadline: u64::MAX,
    });
    round_trip(FutexWaitArgs {
        addr: 0x40_0004,
        expected: u32::MAX,
        deadline: 7,
    });
    round_trip(FutexWakeArgs {
        addr: 0x40_0000,
        count: FUTEX_ALL,
    });
    round_trip(FutexRequeueArgs {
        addr: 0x40_0000,
        wake_count: 1,
        addr2: 0x40_0008,
        requeue_count: FUTEX_ALL,
        expected: 3,
    });
}

#[test]
fn futex_values_are_32_bits() {
    assert_eq!(
        FutexWaitArgs::decode(&[0x1000, 1 << 32, 0, 0, 0, 0]),
        Err(SysError::InvalidArg)
    );
    assert_eq!(
        FutexRequeueArgs::decode(&[0x1000, 1, 0x2000, 1, u64::MAX, 0]),
        Err(SysError::InvalidArg)
    );
    assert_eq!(
        Syscall::FutexWait.arg_kinds(),
        &[ArgKind::Address, ArgKind::Value, ArgKind::Deadline]
    );
    assert_eq!(Syscall::Recv.arg_kinds()[1], ArgKind::Deadline);
    assert_eq!(Syscall::Wait.arg_kinds()[1], ArgKind::Deadline);
}

#[test]
fn arg_kinds_follow_the_structs() {
    for s in Syscall::ALL {
        assert!(s.arg_kinds().len() <= 6, "{s:?}");
    }
    assert_eq!(
        Syscall::DebugWrite.arg_kinds(),
        &[ArgKind::Slot, ArgKind::Address, ArgKind::Length]
    );
    assert_eq!(
        Syscall::AspaceMap.arg_kinds(),
        &[
            ArgKind::Slot,
            ArgKind::Slot,
            ArgKind::Count,
            ArgKind::Address,
            ArgKind::Count,
            ArgKind::MapFlags
        ]
    );
    assert_eq!(
        Syscall::AspacePopulate.arg_kinds(),
        &[ArgKind::Slot, ArgKind::Address, ArgKind::Count]
    );
    assert_eq!(
        Syscall::CapCopyMany.arg_kinds(),
        &[ArgKind::Slot, ArgKind::Address, ArgKind::Count]
    );
    assert_eq!(Syscall::ThreadStart.arg_kinds()[4], ArgKind::Address);
    assert_eq!(Syscall::ThreadExec.arg_kinds()[4], ArgKind::Address);
    assert_eq!(Syscall::Null.arg_kinds(), &[]);
    assert_eq!(Syscall::MemoryLend.arg_kinds()[4], ArgKind::Mode);
    assert_eq!(Syscall::Call.arg_kinds()[1], ArgKind::Info);
}

#[test]
fn lend_mode_round_trips() {
    for m in [LendMode::Lend, LendMode::Move] {
        assert_eq!(LendMode::from_reg(m.to_reg()), Ok(m));
    }
    assert_eq!(LendMode::from_reg(2), Err(SysError::InvalidArg));
}

#[test]
fn args_know_their_syscall() {
    assert_eq!(DebugWriteArgs::SYSCALL, Syscall::DebugWrite);
    assert_eq!(ThreadCreateArgs::SYSCALL, Syscall::ThreadCreate);
    assert_eq!(ClockReadArgs::SYSCALL, Syscall::ClockRead);
}

#[test]
fn registers_are_in_documented_order() {
    let regs = ThreadStartArgs {
        thread: CapSlot(1),
        entry: 2,
        stack: 3,
        arg: 4,
        tls: 5,
    }
    .encode();
    assert_eq!(regs, [1, 2, 3, 4, 5, 0]);
    let regs = ThreadExecArgs {
        aspace: CapSlot(1),
        entry: 2,
        stack: 3,
        arg: 4,
        tls: 5,
    }
    .encode();
    assert_eq!(regs, [1, 2, 3, 4, 5, 0]);
    let regs = AspacePopulateArgs {
        aspace: CapSlot(1),
        vaddr: 0x2000,
        pages: 3,
    }
    .encode();
    assert_eq!(regs, [1, 0x2000, 3, 0, 0, 0]);
    let regs = SendArgs {
        endpoint: CapSlot(1),
        info: MessageInfo::new(0, 0, 0),
        mr0: 3,
        mr1: 4,
        mr2: 5,
        mr3: 6,
    }
    .encode();
    assert_eq!(regs, [1, 0, 3, 4, 5, 6]);
    let regs = ThreadStatus {
        kind: 1,
        code: 2,
        error_code: 3,
        rip: 4,
        addr: 5,
    }
    .encode();
    assert_eq!(regs, [1, 2, 3, 4, 5, 0]);
}

#[test]
fn malformed_registers_are_typed_errors() {
    assert_eq!(
        CapDeleteArgs::decode(&[1 << 32, 0, 0, 0, 0, 0]),
        Err(SysError::InvalidCap)
    );
    assert_eq!(
        CapCopyArgs::decode(&[1, 1 << 20, 0, 0, 0, 0]),
        Err(SysError::InvalidArg)
    );
}

#[test]
fn saved_reply_args_decode_like_reply() {
    assert_eq!(Syscall::ReplySave.number(), 56);
    assert_eq!(Syscall::ReplyWith.number(), 57);
    assert_eq!(Syscall::ReplySave.arg_kinds(), &[ArgKind::Slot]);
    assert_eq!(
        Syscall::ReplyWith.arg_kinds(),
        &[
            ArgKind::Slot,
            ArgKind::Info,
            ArgKind::Value,
            ArgKind::Value,
            ArgKind::Value,
            ArgKind::Value
        ]
    );
    // The slot must fit in 32 bits; the rest of the registers are ignored.
    assert_eq!(
        ReplySaveArgs::decode(&[1 << 32, 0, 0, 0, 0, 0]),
        Err(SysError::InvalidCap)
    );
    assert_eq!(
        ReplySaveArgs::decode(&[5, u64::MAX, 1, 2, 3, 4]),
        Ok(ReplySaveArgs { dst: CapSlot(5) })
    );
    assert_eq!(Syscall::ReplySaveRecv.number(), 58);
    assert_eq!(
        Syscall::ReplySaveRecv.arg_kinds(),
        &[ArgKind::Slot, ArgKind::Slot, ArgKind::Deadline]
    );
    assert_eq!(
        ReplySaveRecvArgs::decode(&[1 << 32, 2, 0, 0, 0, 0]),
        Err(SysError::InvalidCap)
    );
    assert_eq!(
        ReplySaveRecvArgs::decode(&[1, 1 << 32, 0, 0, 0, 0]),
        Err(SysError::InvalidCap)
    );
    assert_eq!(
        ReplySaveRecvArgs::decode(&[1, 2, 3, u64::MAX, 5, 6]),
        Ok(ReplySaveRecvArgs {
            endpoint: CapSlot(1),
            dst: CapSlot(2),
            deadline: 3
        })
    );
    // The slot first, then the info word, as for `ReplyRecv`.
    assert_eq!(
        ReplyWithArgs::decode(&[1 << 32, 1 << 15, 0, 0, 0, 0]),
        Err(SysError::InvalidCap)
    );
    for bad_info in [1 << 12, 1 << 13, 1 << 14, 1 << 15, 65] {
        assert_eq!(
            ReplyWithArgs::decode(&[3, bad_info, 0, 0, 0, 0]),
            Err(SysError::InvalidArg),
            "{bad_info:#x}"
        );
    }
    let regs = ReplyWithArgs {
        reply: CapSlot(3),
        info: MessageInfo::new(7, 2, 1),
        mr0: 4,
        mr1: 5,
        mr2: 6,
        mr3: 7,
    }
    .encode();
    assert_eq!(regs, [3, MessageInfo::new(7, 2, 1).to_reg(), 4, 5, 6, 7]);
}

#[test]
fn every_result_struct_round_trips() {
    round_trip_result(NoResult {});
    round_trip_result(FrameCount {
        free: 1,
        total: 2,
        resolved_faults: 3,
    });
    round_trip_result(CapCopyManyResult {
        copied: u64::MAX,
        first_error: 3,
    });
    round_trip_result(LogRead {
        start: 1,
        copied: 2,
        end: 3,
    });
    round_trip_result(SlotResult { slot: 9 });
    round_trip_result(ClockTime { nanos: 1 << 40 });
    round_trip_result(Signals { bits: 5 });
    round_trip_result(FutexWoken { woken: 2 });
    round_trip_result(FutexRequeued {
        woken: 1,
        requeued: 9,
    });
    round_trip_result(RecvResult {
        badge: 1,
        info: 2,
        mr0: 3,
        mr1: 4,
        mr2: 5,
        mr3: 6,
    });
    round_trip_result(ThreadStatus {
        kind: 2,
        code: 14,
        error_code: 4,
        rip: 5,
        addr: 6,
    });
}

#[test]
fn cap_info_layout() {
    assert_eq!(core::mem::size_of::<CapInfo>(), 16);
    assert_eq!(core::mem::offset_of!(CapInfo, badge), 8);
    let info = CapInfo {
        object_type: 3,
        rights: 1,
        badge: 0,
    };
    assert_eq!(info.object_type(), Some(ObjectType::Thread));
}
