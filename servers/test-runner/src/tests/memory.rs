//! Frame accounting: a full cycle of everything this kernel allocates for
//! user space returns the free-frame count exactly to where it was.

use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::Rights;

use super::support::free_frames;
use super::syscalls::fail;
use super::{TestResult, debug_cap};
use crate::ensure_eq;

pub fn threads_cycle() -> TestResult {
    // Warm up once so nothing lazily sized is counted.
    spawn(|x| x, 0).and_then(|h| h.join()).map_err(|_| fail())?;
    let before = free_frames()?;
    for round in 0..20u64 {
        let mut handles = [const { None }; 8];
        for (i, h) in handles.iter_mut().enumerate() {
            *h = Some(spawn(|x| x, round + i as u64).map_err(|_| fail())?);
        }
        let during = free_frames()?;
        ensure_eq!(before - during, 8);
        for h in handles.into_iter().flatten() {
            h.join().map_err(|_| fail())?;
        }
        // A faulting thread is freed too.
        spawn(crate::cpu::ud2, 0)
            .and_then(|h| h.join())
            .map_err(|_| fail())?;
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn caps_cycle() -> TestResult {
    let before = free_frames()?;
    for _ in 0..100 {
        let copy = sys::cap_copy(debug_cap(), Rights::READ).map_err(|_| fail())?;
        sys::cap_delete(copy).map_err(|_| fail())?;
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}
