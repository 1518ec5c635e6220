//! Values held in one register: syscall numbers, error codes, rights,
//! capability slots, object types and IRQ sources decode exactly the
//! documented range and encode back to the register they came from.

use abi::syscall::*;
use abi::{CapSlot, ObjectType, Rights, SysError};
use proptest::prelude::*;

use super::{CASES, KNOWN_RIGHTS, reg};

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
