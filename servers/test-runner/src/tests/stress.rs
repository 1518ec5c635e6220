//! Stress: clients and servers in several address spaces call each other
//! through one endpoint and signal a notification while the test
//! suspends, resumes, deletes and replaces them, [`ROUNDS`] times, in an
//! order drawn from a fixed seed (printed, so a failure can be replayed
//! with the same choices; where each program is when a choice lands still
//! depends on the timer). After it the kernel must be alive, every program
//! must come apart cleanly and every frame must come back. Random syscalls
//! with checked outcomes are `sysfuzz`'s job; this is the storm of
//! lifecycle operations under IPC load that it does not make.

use crate::copy_spawn::{Child, spawn_copy};
use crate::raw as sys;
use abi::{CapSlot, Rights};

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::peer::{self, Rng, grant};
use crate::{ensure, ensure_eq};

/// Programs alive at once.
const PROGRAMS: usize = 6;
/// Operations in the storm.
const ROUNDS: u32 = 1_500;
/// The seed of their order.
const SEED: u64 = 0x5354_4f52_4d00_0001;
/// Slot of a server's own thread capability in its space (for binding).
const SELF_SLOT: CapSlot = CapSlot(7);

fn start(index: usize, endpoint: CapSlot, ping: CapSlot, seed: u64) -> Option<Child> {
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(endpoint, peer::ENDPOINT, Rights::all()),
        grant(ping, peer::PING, Rights::all()),
    ];
    if index.is_multiple_of(2) {
        let child = spawn_copy(peer::stress_server, u64::from(SELF_SLOT.0), &grants).ok()?;
        // The server binds its own thread: give it its capability (it may
        // already be running; binding then fails and it serves unbound).
        let _ = sys::cap_copy_to(child.thread, Rights::all(), child.cspace, SELF_SLOT);
        Some(child)
    } else {
        spawn_copy(peer::stress_client, seed, &grants).ok()
    }
}

pub fn storm() -> TestResult {
    let own = rt::process::own_caps();
    // Warm up the scratch window's page tables (see the process tests).
    let warm_up = spawn_copy(peer::echo_server, 0, &[]).map_err(|_| fail())?;
    warm_up.destroy();
    let before = free_frames()?;
    let endpoint = sys::endpoint_create(own.budget).map_err(|_| fail())?;
    let ping = sys::notification_create(own.budget).map_err(|_| fail())?;
    rt::println!("    storm seed {SEED:#x}, {ROUNDS} rounds");
    let mut rng = Rng::new(SEED);
    let mut programs: [Option<Child>; PROGRAMS] = [const { None }; PROGRAMS];
    for (index, program) in programs.iter_mut().enumerate() {
        *program = start(index, endpoint, ping, rng.next());
    }
    let (mut suspends, mut resumes, mut replaced) = (0u32, 0u32, 0u32);
    for _ in 0..ROUNDS {
        let index = (rng.next() % PROGRAMS as u64) as usize;
        match rng.next() % 8 {
            0..=2 => {
                if let Some(child) = &programs[index] {
                    ensure_eq!(sys::thread_suspend(child.thread), Ok(()));
                    suspends += 1;
                }
            }
            3..=5 => {
                if let Some(child) = &programs[index] {
                    ensure_eq!(sys::thread_resume(child.thread), Ok(()));
                    resumes += 1;
                }
            }
            _ => {
                if let Some(child) = programs[index].take() {
                    child.destroy();
                }
                programs[index] = start(index, endpoint, ping, rng.next());
                replaced += 1;
            }
        }
        // Let the programs run a little.
        for _ in 0..(rng.next() % 4) {
            sys::thread_yield();
        }
    }
    for child in programs.iter().flatten() {
        let _ = sys::thread_suspend(child.thread);
    }
    for program in programs.iter_mut() {
        if let Some(child) = program.take() {
            child.destroy();
        }
    }
    ensure!(suspends > 0 && resumes > 0 && replaced > 0);
    ensure_eq!(sys::null(), Ok(()));
    ensure_eq!(sys::cap_delete(endpoint), Ok(()));
    ensure_eq!(sys::cap_delete(ping), Ok(()));
    ensure_eq!(free_frames()?, before);
    Ok(())
}
