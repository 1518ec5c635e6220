//! `futex_pingpong`: two programs in address spaces of their own share a
//! page and hand a futex word back and forth, as the Linux harness's row of
//! the same name does (`bench/linux/bench.c`): the client stores 1, wakes
//! the partner and waits while the word is 1; the partner, woken, stores
//! 0, wakes the client and waits while the word is 0. Nobody spins, so a
//! round trip is two waits, two wakes and two switches between address
//! spaces.
//!
//! Figures count kernel instructions only, as `bench_pair` does: every
//! syscall runs in `crate::timing::timed_syscall`, whose overhead is subtracted
//! once per syscall (four per round trip); the client subtracts its own
//! user time between its wake and its wait exactly, and the partner
//! reports the median of its user time per round, which the runner
//! subtracts.

use core::sync::atomic::Ordering;

use crate::copy_spawn::spawn_copy;
use crate::raw::{self as sys, Message};
use crate::timing::{Timed, summarize, timed_overhead, timed_syscall};
use abi::syscall::Syscall;
use abi::{MapFlags, Rights, SysError};
use rt::println;

use crate::bench_pair::{CLIENT_REPORT, PARTNER_REPORT, SAMPLES};
use crate::cpu::word_at;
use crate::peer::{self, PING, PONG, RESULTS, grant};

/// Where both programs map the shared page.
const SHARED: u64 = 0x0000_0040_0000_0000;
/// Round trips before the timed ones.
const WARMUP: usize = 100;
const TOTAL: usize = WARMUP + SAMPLES;

fn wake() -> Timed {
    timed_syscall(Syscall::FutexWake.number(), [SHARED, 1, 0, 0, 0, 0])
}

fn wait(expected: u64) -> Timed {
    timed_syscall(Syscall::FutexWait.number(), [SHARED, expected, 0, 0, 0, 0])
}

fn report(label: u64, words: &[u64]) -> ! {
    let _ = sys::send(RESULTS, &Message::new(label, words));
    sys::thread_exit(0)
}

/// Times [`TOTAL`] round trips and reports the last [`SAMPLES`].
extern "C" fn client(_: u64) -> ! {
    let _ = sys::wait(PONG);
    let overhead = timed_overhead();
    let word = word_at(SHARED);
    let mut samples = [0u64; SAMPLES];
    for round in 0..TOTAL {
        word.store(1, Ordering::SeqCst);
        let woke = wake();
        let waited = wait(1);
        // Minus this side's own user time between the two syscalls.
        let elapsed = (waited.after - woke.before) - (waited.before - woke.after) - 4 * overhead;
        // Only a tick between the two can make the wait return at once;
        // the next waits then catch up.
        while word.load(Ordering::SeqCst) == 1 {
            let _ = sys::futex_wait(word, 1, 0);
        }
        if round >= WARMUP {
            samples[round - WARMUP] = elapsed;
        }
    }
    let (median, p10, p90) = summarize(&mut samples);
    report(CLIENT_REPORT, &[median, p10, p90, SAMPLES as u64])
}

/// Answers [`TOTAL`] round trips, timing its user code between syscalls,
/// and reports the median of that.
extern "C" fn partner(_: u64) -> ! {
    let _ = sys::wait(PING);
    let word = word_at(SHARED);
    let mut gaps = [0u64; TOTAL];
    let mut previous_wake: Option<Timed> = None;
    for round in 0..TOTAL {
        let mut waited = wait(0);
        while word.load(Ordering::SeqCst) == 0 {
            waited = wait(0);
        }
        if let Some(woke) = previous_wake {
            gaps[round - 1] += waited.before - woke.after;
        }
        word.store(0, Ordering::SeqCst);
        let woke = wake();
        gaps[round] = woke.before - waited.after;
        previous_wake = Some(woke);
    }
    let (median, _, _) = summarize(&mut gaps[..TOTAL - 1]);
    report(PARTNER_REPORT, &[median])
}

/// Runs the pair and prints the `futex_pingpong` row (or why it could not
/// run).
pub fn row(unit: &str) {
    match pingpong() {
        Ok([median, p10, p90, count]) => {
            println!("BENCH futex_pingpong {unit} {median} {p10} {p90} {count}")
        }
        Err(e) => println!("bench futex_pingpong could not run: {e}"),
    }
}

/// The client's `[median, p10, p90, samples]`, minus the partner's user
/// time.
fn pingpong() -> Result<[u64; 4], SysError> {
    let own = rt::process::own_caps();
    let results = sys::endpoint_create(own.budget)?;
    // One start signal each (a notification's bits do not count).
    let ping = sys::notification_create(own.budget)?;
    let pong = sys::notification_create(own.budget)?;
    let shared = sys::memory_create(own.budget, 1)?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(results, RESULTS, Rights::WRITE),
        grant(ping, PING, Rights::all()),
        grant(pong, PONG, Rights::all()),
    ];
    let outcome = (|| {
        let partner = spawn_copy(partner, 0, &grants)?;
        let client = match spawn_copy(client, 0, &grants) {
            Ok(client) => client,
            Err(e) => {
                partner.destroy();
                return Err(e);
            }
        };
        let flags = MapFlags::READ | MapFlags::WRITE;
        let mapped = sys::aspace_map(partner.aspace, shared, 0, SHARED, 1, flags)
            .and_then(|()| sys::aspace_map(client.aspace, shared, 0, SHARED, 1, flags));
        let started = mapped
            .and_then(|()| sys::signal(ping, 1))
            .and_then(|()| sys::signal(pong, 1));
        let (figures, partner_time) = if started.is_ok() {
            crate::bench::collect_reports(results)
        } else {
            (None, None)
        };
        client.destroy();
        partner.destroy();
        started?;
        let (Some(figures), Some(partner_time)) = (figures, partner_time) else {
            return Err(SysError::PeerClosed);
        };
        let [median, p10, p90, count] = figures;
        Ok([
            median.saturating_sub(partner_time),
            p10.saturating_sub(partner_time),
            p90.saturating_sub(partner_time),
            count,
        ])
    })();
    for slot in [results, ping, pong, shared] {
        let _ = sys::cap_delete(slot);
    }
    outcome
}
