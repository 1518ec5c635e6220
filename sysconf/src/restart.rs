//! What a supervisor does when a program ends, as a pure state machine:
//! init feeds it the times a program starts and ends, and it answers
//! whether to restart it, after what delay, or to give up.
//!
//! The rules, from a program's [`RestartPolicy`]:
//!
//! - `never`: the program stays down, whatever the end.
//! - `on-failure`: a clean exit (status 0) stays down; a failure (non-zero
//!   status, fault, or a kill by the supervisor) is restarted.
//! - `always`: every end is restarted; a clean exit is not a failure.
//! - The delay before a restart starts at `backoff_initial_ms` and doubles
//!   with each restart in a row, up to `backoff_max_ms`. A run of at least
//!   `min_run_ms` (from start to end) makes the next delay the first again.
//! - With `give_up_failures` N > 0, the N-th failure within the last
//!   `give_up_window_ms` makes the supervisor give up: the program stays
//!   down for good.
//!
//! Times are milliseconds on any monotonic clock; the tracker keeps the
//! last N failure times and nothing else.

use crate::{RestartKind, RestartPolicy};

/// Most failures the give-up window tracks (larger `give_up_failures` are
/// clamped to this).
pub const MAX_TRACKED_FAILURES: usize = 32;

/// How a run ended, as the supervisor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Exit status 0.
    Clean,
    /// A non-zero exit status, a fault, or a kill.
    Failure,
}

/// What to do after an end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this many milliseconds.
    Restart {
        /// The delay, ms.
        after_ms: u64,
    },
    /// Leave it down: the policy does not restart this end.
    Stay,
    /// Leave it down for good: too many failures within the window.
    GiveUp,
}

/// One program's restart state.
#[derive(Clone, Copy, Debug)]
pub struct Tracker {
    policy: RestartPolicy,
    started_ms: u64,
    /// Restarts in a row since the last long-enough run.
    streak: u32,
    /// The most recent failure times, oldest first (`failures` of them).
    failure_times: [u64; MAX_TRACKED_FAILURES],
    failures: usize,
}

impl Tracker {
    /// A tracker for a program with `policy`.
    pub fn new(policy: RestartPolicy) -> Tracker {
        Tracker {
            policy,
            started_ms: 0,
            streak: 0,
            failure_times: [0; MAX_TRACKED_FAILURES],
            failures: 0,
        }
    }

    /// Records that the program (re)started at `now_ms`.
    pub fn started(&mut self, now_ms: u64) {
        self.started_ms = now_ms;
    }

    /// Records an end at `now_ms` and decides what follows.
    pub fn ended(&mut self, now_ms: u64, end: End) -> Decision {
        let restarts = match (self.policy.kind, end) {
            (RestartKind::Never, _) | (RestartKind::OnFailure, End::Clean) => false,
            (RestartKind::OnFailure, End::Failure) | (RestartKind::Always, _) => true,
        };
        if now_ms.saturating_sub(self.started_ms) >= u64::from(self.policy.min_run_ms) {
            self.streak = 0;
        }
        if end == End::Failure && self.record_failure(now_ms) {
            return Decision::GiveUp;
        }
        if !restarts {
            return Decision::Stay;
        }
        let after_ms = self.delay_ms();
        self.streak = self.streak.saturating_add(1);
        Decision::Restart { after_ms }
    }

    /// The delay of the next restart: the first doubled once per restart
    /// in the streak, capped.
    fn delay_ms(&self) -> u64 {
        let first = u64::from(self.policy.backoff_initial_ms);
        let cap = u64::from(self.policy.backoff_max_ms).max(first);
        let doubled = match 1u64.checked_shl(self.streak) {
            Some(factor) => first.saturating_mul(factor),
            None => u64::MAX,
        };
        doubled.min(cap)
    }

    /// Records a failure; whether it is the one that makes init give up.
    fn record_failure(&mut self, now_ms: u64) -> bool {
        let limit = (self.policy.give_up_failures as usize).min(MAX_TRACKED_FAILURES);
        if limit == 0 {
            return false;
        }
        if self.failures == MAX_TRACKED_FAILURES {
            self.failure_times.copy_within(1.., 0);
            self.failures -= 1;
        }
        self.failure_times[self.failures] = now_ms;
        self.failures += 1;
        let window = u64::from(self.policy.give_up_window_ms);
        let recent = self.failure_times[..self.failures]
            .iter()
            .filter(|&&t| now_ms.saturating_sub(t) < window)
            .count();
        recent >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(
        kind: RestartKind,
        first: u32,
        cap: u32,
        min_run: u32,
        n: u32,
        window: u32,
    ) -> RestartPolicy {
        RestartPolicy {
            kind,
            backoff_initial_ms: first,
            backoff_max_ms: cap,
            min_run_ms: min_run,
            give_up_failures: n,
            give_up_window_ms: window,
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets_after_a_long_run() {
        let mut t = Tracker::new(policy(RestartKind::OnFailure, 10, 50, 1000, 0, 0));
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..5 {
            t.started(now);
            now += 1;
            match t.ended(now, End::Failure) {
                Decision::Restart { after_ms } => delays.push(after_ms),
                other => panic!("{other:?}"),
            }
            now += 100;
        }
        assert_eq!(delays, [10, 20, 40, 50, 50]);
        t.started(now);
        now += 1000;
        assert_eq!(
            t.ended(now, End::Failure),
            Decision::Restart { after_ms: 10 }
        );
    }

    #[test]
    fn clean_exits_follow_the_policy() {
        let mut t = Tracker::new(policy(RestartKind::OnFailure, 10, 50, 0, 0, 0));
        assert_eq!(t.ended(5, End::Clean), Decision::Stay);
        let mut t = Tracker::new(policy(RestartKind::Never, 10, 50, 0, 0, 0));
        assert_eq!(t.ended(5, End::Failure), Decision::Stay);
        let mut t = Tracker::new(policy(RestartKind::Always, 10, 50, 100, 0, 0));
        assert_eq!(t.ended(5, End::Clean), Decision::Restart { after_ms: 10 });
    }

    #[test]
    fn gives_up_at_the_nth_failure_within_the_window() {
        let mut t = Tracker::new(policy(RestartKind::Always, 0, 0, 0, 3, 1000));
        assert_eq!(t.ended(0, End::Failure), Decision::Restart { after_ms: 0 });
        assert_eq!(
            t.ended(600, End::Failure),
            Decision::Restart { after_ms: 0 }
        );
        // The first failure left the window: two within it.
        assert_eq!(
            t.ended(1100, End::Failure),
            Decision::Restart { after_ms: 0 }
        );
        assert_eq!(t.ended(1200, End::Failure), Decision::GiveUp);
    }

    #[test]
    fn a_zero_first_delay_stays_zero() {
        let mut t = Tracker::new(policy(RestartKind::Always, 0, 1000, 10, 0, 0));
        for i in 0..100 {
            assert_eq!(t.ended(i, End::Failure), Decision::Restart { after_ms: 0 });
        }
    }

    fn any_policy() -> impl Strategy<Value = RestartPolicy> {
        (
            0u8..3,
            any::<u32>(),
            any::<u32>(),
            0u32..5000,
            0u32..40,
            0u32..10_000,
        )
            .prop_map(|(kind, first, cap, min_run, n, window)| {
                let kind = [
                    RestartKind::Never,
                    RestartKind::OnFailure,
                    RestartKind::Always,
                ][kind as usize];
                policy(kind, first, cap, min_run, n, window)
            })
    }

    proptest! {
        /// Every delay lies between the first and the cap (the cap never
        /// below the first), and within a streak delays never shrink.
        #[test]
        fn delays_stay_in_bounds(p in any_policy(), steps in prop::collection::vec((0u64..3000, 0u64..3000, any::<bool>()), 1..60)) {
            let mut t = Tracker::new(p);
            let mut now = 0u64;
            let mut last: Option<u64> = None;
            for (run, gap, clean) in steps {
                t.started(now);
                now += run;
                let long = run >= u64::from(p.min_run_ms);
                let end = if clean { End::Clean } else { End::Failure };
                match t.ended(now, end) {
                    Decision::Restart { after_ms } => {
                        prop_assert!(after_ms >= u64::from(p.backoff_initial_ms));
                        prop_assert!(after_ms <= u64::from(p.backoff_max_ms).max(u64::from(p.backoff_initial_ms)));
                        if let (Some(before), false) = (last, long) {
                            prop_assert!(after_ms >= before);
                        }
                        prop_assert!(p.kind != RestartKind::Never);
                        prop_assert!(!(p.kind == RestartKind::OnFailure && clean));
                        last = Some(after_ms);
                    }
                    Decision::Stay => {
                        prop_assert!(p.kind == RestartKind::Never || clean);
                        last = None;
                    }
                    Decision::GiveUp => {
                        prop_assert!(!clean && p.give_up_failures > 0);
                        last = None;
                    }
                }
                now += gap;
            }
        }

        /// Giving up happens exactly when the model (count of failures in
        /// the window, including this one) reaches N.
        #[test]
        fn give_up_matches_the_model(n in 1u32..8, window in 1u32..5000, gaps in prop::collection::vec(0u64..3000, 1..40)) {
            let mut t = Tracker::new(policy(RestartKind::Always, 0, 0, 0, n, window));
            let mut now = 0u64;
            let mut times: Vec<u64> = Vec::new();
            for gap in gaps {
                now += gap;
                times.push(now);
                let recent = times.iter().filter(|&&f| now - f < u64::from(window)).count();
                let expect = if recent >= n as usize { Decision::GiveUp } else { Decision::Restart { after_ms: 0 } };
                prop_assert_eq!(t.ended(now, End::Failure), expect);
            }
        }
    }
}
