//! How many frames init gives a program: what its entry asks for when the
//! machine has them, less on a smaller machine, never less than the
//! entry's least budget (docs/system.md, "Budgets").
//!
//! Programs start in table order. Each takes what it asks for out of what
//! init can spare after keeping back the least budgets of the programs
//! still to start, so on a machine too small for every ask the programs
//! that come later (the shell, last in `system.toml`) still start, with
//! what is left. When even that keeps too little, a program still gets
//! its least budget if init can pay it, and a later one is refused.

/// The frames to give a program that asks for `ask` and runs with no
/// fewer than `least` (`least <= ask`), when init's budget has `free`
/// frames left, must keep `margin` of them for itself, and should keep
/// `reserve` more for the least budgets of the programs still to start.
/// `None` when not even `least` fits beside the margin.
#[must_use]
pub fn grant(ask: u32, least: u32, free: u64, margin: u64, reserve: u64) -> Option<u32> {
    let spare = free.saturating_sub(margin);
    let share = u64::from(ask)
        .min(spare.saturating_sub(reserve))
        .max(u64::from(least));
    // `share` is at most `ask` (least <= ask), so it fits in a u32.
    (share <= spare).then_some(share as u32)
}

#[cfg(test)]
mod tests {
    use super::grant;

    #[test]
    fn a_big_machine_gives_every_ask() {
        assert_eq!(grant(32_768, 4_096, 1_000_000, 64, 10_000), Some(32_768));
    }

    #[test]
    fn a_small_machine_gives_what_is_left_after_the_reserve() {
        // 20,000 free, 64 kept by init, 4,000 for later programs.
        assert_eq!(grant(32_768, 4_096, 20_000, 64, 4_000), Some(15_936));
    }

    #[test]
    fn the_least_budget_may_eat_into_the_reserve() {
        assert_eq!(grant(6_144, 1_024, 3_000, 64, 2_500), Some(1_024));
    }

    #[test]
    fn below_the_least_budget_it_is_refused() {
        assert_eq!(grant(6_144, 1_024, 1_000, 64, 0), None);
        assert_eq!(grant(6_144, 1_024, 1_088, 64, 0), Some(1_024));
        assert_eq!(grant(6_144, 1_024, 1_087, 64, 0), None);
        assert_eq!(grant(1, 1, 0, 0, 0), None);
    }

    proptest::proptest! {
        #[test]
        fn never_more_than_asked_or_spare_never_less_than_least(
            ask in 1u32..100_000,
            least_part in 0u32..=100,
            free in 0u64..200_000,
            margin in 0u64..1_000,
            reserve in 0u64..100_000,
        ) {
            let least = (u64::from(ask) * u64::from(least_part) / 100).max(1) as u32;
            match grant(ask, least, free, margin, reserve) {
                Some(frames) => {
                    proptest::prop_assert!(frames >= least && frames <= ask);
                    proptest::prop_assert!(u64::from(frames) + margin <= free);
                    // The reserve is touched only down to the least budget.
                    proptest::prop_assert!(
                        frames == least || u64::from(frames) + margin + reserve <= free
                    );
                }
                None => proptest::prop_assert!(u64::from(least) + margin > free),
            }
        }
    }
}
