//! User address ranges: [`is_user_range`] against a model computed in
//! `u128`, near the top of user space and of `u64`, and
//! [`is_user_canonical`].

use abi::layout::{USER_END, is_user_canonical, is_user_range};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::CASES;

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
