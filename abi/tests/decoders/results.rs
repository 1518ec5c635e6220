//! The syscall result structs: any registers decode, and every value
//! encodes back to the registers it came from, one field per register in
//! declaration order.

use abi::syscall::*;
use proptest::prelude::*;

use super::{CASES, ret_regs};

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
