//! The frame count after creating and deleting many objects of each kind
//! (endpoints, notifications, capability spaces, threads, unstarted and
//! run): each took frames, and all came back.

use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::{CapSlot, SysError};

use crate::tests::TestResult;
use crate::tests::support::{budget, free_frames, join, must};
use crate::{ensure, ensure_eq};

const CYCLE: usize = 1000;

/// Creates `CYCLE` objects with `create`, deletes them, and checks that
/// each took at least `frames_each` frames and that all came back.
fn cycle(create: fn() -> Result<CapSlot, SysError>, frames_each: u64) -> TestResult {
    // Once first, so that nothing sized lazily is counted.
    let warm = must(create())?;
    must(sys::cap_delete(warm))?;
    let before = free_frames()?;
    let mut slots = [CapSlot::NULL; CYCLE];
    for slot in slots.iter_mut() {
        *slot = must(create())?;
    }
    ensure!(before - free_frames()? >= frames_each * CYCLE as u64);
    for slot in slots {
        ensure_eq!(sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn cycle_endpoints() -> TestResult {
    cycle(|| sys::endpoint_create(budget()), 1)
}

pub fn cycle_notifications() -> TestResult {
    cycle(|| sys::notification_create(budget()), 1)
}

pub fn cycle_cspaces() -> TestResult {
    cycle(|| sys::cspace_create(budget(), 64), 2)
}

pub fn cycle_threads_unstarted() -> TestResult {
    cycle(
        || {
            let own = rt::process::own_caps();
            sys::thread_create(own.budget, own.aspace, own.cspace)
        },
        1,
    )
}

fn plus_one(x: u64) -> u64 {
    x + 1
}

pub fn cycle_threads_run() -> TestResult {
    ensure_eq!(join(must(spawn(plus_one, 0))?)?, 1);
    let before = free_frames()?;
    const BATCH: usize = 25;
    for round in 0..(CYCLE / BATCH) as u64 {
        let mut handles = [const { None }; BATCH];
        for (i, handle) in handles.iter_mut().enumerate() {
            *handle = Some(must(spawn(plus_one, round * 100 + i as u64))?);
        }
        for (i, handle) in handles.into_iter().enumerate() {
            if let Some(handle) = handle {
                ensure_eq!(join(handle)?, round * 100 + i as u64 + 1);
            }
        }
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
