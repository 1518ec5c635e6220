//! Long kernel operations are preemptible: a revoke of more than 10,000
//! derived capabilities lets a higher-priority thread woken by the timer
//! run before it finishes, and then carries on where it stopped.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::raw as sys;
use abi::syscall::CSPACE_MAX_SLOTS;
use abi::{CapSlot, Rights, SysError};

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

static REVOKE_DONE: AtomicBool = AtomicBool::new(false);
static RAN_DURING_REVOKE: AtomicBool = AtomicBool::new(false);
static WOKEN: AtomicBool = AtomicBool::new(false);
static ALARM: AtomicU32 = AtomicU32::new(0);

/// Timer period of the kernel (100 Hz), in nanoseconds.
const TICK_NS: u64 = 10_000_000;

/// The high-priority thread: arms a timer for the next tick, sleeps on it,
/// and records whether the revoke was still running when it woke.
fn sleeper(_: u64) -> u64 {
    let alarm = CapSlot(ALARM.load(Ordering::Relaxed));
    // Deadlines are precise (a one-shot timer, not the next tick): one tick
    // ahead, inside the revoke, which takes several ticks.
    let deadline = sys::clock_read() + TICK_NS;
    if sys::timer_set(alarm, deadline, 1).is_err() || sys::wait(alarm).is_err() {
        return 1;
    }
    WOKEN.store(true, Ordering::Relaxed);
    RAN_DURING_REVOKE.store(!REVOKE_DONE.load(Ordering::Relaxed), Ordering::Relaxed);
    0
}

/// Fills `spaces` new capability spaces with copies of `root`; returns how
/// many copies were made.
fn fill(root: CapSlot, spaces: &[CapSlot]) -> Result<u64, super::Failure> {
    let mut made = 0;
    for &space in spaces {
        for _ in 1..CSPACE_MAX_SLOTS {
            sys::cap_copy_to(root, Rights::READ, space, CapSlot::NULL).map_err(|_| fail())?;
            made += 1;
        }
    }
    Ok(made)
}

pub fn revoke_preempted_by_timer() -> TestResult {
    let own = rt::process::own_caps();
    let before = free_frames()?;
    let root = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let alarm = sys::notification_create(own.budget).map_err(|_| fail())?;
    ALARM.store(alarm.0, Ordering::Relaxed);
    // Under TCG two spaces (16,382 copies) take several ticks to revoke;
    // on faster machines the tree doubles until the revoke outlasts two
    // ticks, so the timer surely fires inside it.
    let mut spaces = [CapSlot::NULL; 64];
    let mut count = 2;
    let mut conclusive = false;
    while count <= spaces.len() && !conclusive {
        // Fresh spaces each round: a revoke leaves its slots taken (by
        // placeholders only their holder could delete).
        for space in &mut spaces[..count] {
            if *space != CapSlot::NULL {
                ensure_eq!(sys::cap_delete(*space), Ok(()));
            }
            *space = sys::cspace_create(own.budget, CSPACE_MAX_SLOTS).map_err(|_| fail())?;
        }
        let copies = fill(root, &spaces[..count])?;
        ensure!(copies >= 8191);
        REVOKE_DONE.store(false, Ordering::Relaxed);
        RAN_DURING_REVOKE.store(false, Ordering::Relaxed);
        WOKEN.store(false, Ordering::Relaxed);
        let high = crate::raw_thread::spawn(sleeper, 0).map_err(|_| fail())?;
        // Above our priority, it runs at once, arms the timer and sleeps.
        ensure_eq!(sys::thread_set_priority(high.slot(), 40, 40), Ok(()));
        // On a loaded host the deadline may pass before the revoke starts:
        // then this round says nothing.
        let early = WOKEN.load(Ordering::Relaxed);
        let started = sys::clock_read();
        ensure_eq!(sys::cap_revoke(root), Ok(()));
        let took = sys::clock_read() - started;
        REVOKE_DONE.store(true, Ordering::Relaxed);
        ensure_eq!(high.join().map(|s| s.code), Ok(0));
        if early {
            count *= 2;
        } else if RAN_DURING_REVOKE.load(Ordering::Relaxed) {
            conclusive = true;
        } else {
            // The timer must have fired within the revoke if it took two ticks.
            ensure!(took < 2 * TICK_NS);
            count *= 2;
        }
        // Every copy went: each space's first and last slots hold the
        // revoke's placeholders (taken, so a copy there is refused); that
        // no copy kept the endpoint shows at the end, when deleting `root`
        // gives every frame back.
        for &space in &spaces[..count.min(spaces.len())] {
            if space == CapSlot::NULL {
                continue;
            }
            let first = sys::cap_copy_to(root, Rights::READ, space, CapSlot(1));
            ensure_eq!(first, Err(SysError::InvalidCap));
            let last = CapSlot(CSPACE_MAX_SLOTS as u32 - 1);
            ensure_eq!(
                sys::cap_copy_to(root, Rights::READ, space, last),
                Err(SysError::InvalidCap)
            );
        }
    }
    ensure!(conclusive);
    for space in spaces.iter().filter(|s| **s != CapSlot::NULL) {
        ensure_eq!(sys::cap_delete(*space), Ok(()));
    }
    ensure_eq!(sys::cap_delete(alarm), Ok(()));
    ensure_eq!(sys::cap_delete(root), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
