//! Futexes: wait and wake (counts, value mismatch, deadlines, priority
//! order), requeue, every documented error, two programs over shared
//! memory, copy-on-write separation after `AspaceClone` (and a waiter
//! following its own side's copy), waiters whose page is freed under
//! them or who are destroyed, and a storm of threads and programs waiting,
//! waking and timing out while address spaces and memory objects are
//! destroyed under them, with every frame back at the end.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::copy_spawn::{Child, spawn_copy};
use crate::raw as sys;
use abi::layout::{PAGE_BYTES, USER_END};
use abi::syscall::{FUTEX_ALL, Syscall};
use abi::{CapSlot, MapFlags, Rights, SysError};

use super::support::*;
use super::vm::{area, map_new, unmap_delete};
use super::{TestResult, aspace_cap, boot};
use crate::cpu::{poke, word_at};
use crate::peer::{self, Rng, grant};
use crate::{ensure, ensure_eq};

const MS: u64 = 1_000_000;
const PAGE: u64 = PAGE_BYTES;
const RW: MapFlags = MapFlags::READ.union(MapFlags::WRITE);
/// Set by [`mark`] when it runs (see `timeouts`: only if the test blocked).
const MARK: usize = 40;
/// The wake-up order counter.
const RANK: usize = 60;
/// Where helpers find their deadline.
const DEADLINE: usize = 10;
/// Where helpers leave the time their wait returned.
const RETURNED: usize = 20;

/// Futex words in this program's own (private) data.
static WORDS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];

fn now() -> u64 {
    sys::clock_read()
}

fn addr(word: &AtomicU32) -> u64 {
    word.as_ptr() as u64
}

/// The word at user address `addr` of this program.
fn at(addr: u64) -> &'static AtomicU32 {
    word_at(addr)
}

// ---------------------------------------------------------------------------
// Thread bodies.

fn mark(_: u64) -> u64 {
    set_out(MARK, 1);
    0
}

/// Waits on the word at `arg` while it is 0, until `OUT[DEADLINE]`;
/// records its rank and the time it returned.
fn wait_zero(arg: u64) -> u64 {
    let result = sys::futex_wait_raw(arg, 0, out(DEADLINE));
    set_out(RETURNED, now());
    set_out(30 + add_out(RANK, 1) as usize, arg);
    code(result)
}

/// Waits on the word at `low(arg)` (an address below 4 GiB: this
/// program's data) while it is 0, then records its rank under its index
/// `high(arg)`.
fn wait_ranked(arg: u64) -> u64 {
    let result = sys::futex_wait_raw(arg & 0xffff_ffff, 0, 0);
    set_out(30 + high(arg) as usize, add_out(RANK, 1));
    code(result)
}

/// Waits on `WORDS[0]` with the deadline `OUT[DEADLINE]` and is woken
/// before it; then waits on `WORDS[1]` without deadline past that
/// deadline, which only a wake ends.
fn wait_twice(_: u64) -> u64 {
    match sys::futex_wait(&WORDS[0], 0, out(DEADLINE)) {
        Ok(()) => {}
        Err(error) => return 100 + error.code(),
    }
    code(sys::futex_wait(&WORDS[1], 0, 0))
}

raw_entry! {
    mark_entry => mark;
    wait_zero_entry => wait_zero;
    wait_ranked_entry => wait_ranked;
    wait_twice_entry => wait_twice;
}

/// A marker below the test's priority (see `timeouts`).
fn marker() -> Result<RawThread, super::Failure> {
    set_out(MARK, 0);
    Raw::new(mark_entry, 0).priority(31).start()
}

/// Joins the marker; whether it had run before (the test blocked).
fn blocked_before(marker: RawThread) -> Result<bool, super::Failure> {
    let before = out(MARK) == 1;
    marker.join()?;
    Ok(before)
}

/// Runs `body` twice and checks that the second run gives back every
/// frame (the first warms up what this program keeps: helpers' stack
/// pages, page tables of the areas, the scratch window of `spawn_copy`).
fn twice(body: fn() -> TestResult) -> TestResult {
    body()?;
    let before = free_frames()?;
    body()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn reset_words() {
    for word in &WORDS {
        word.store(0, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------
// Wait and wake in one program.

pub fn wait_wake() -> TestResult {
    twice(wait_wake_once)
}

fn wait_wake_once() -> TestResult {
    clear_out();
    reset_words();
    // A waiter above the test's priority waits at once; a wake ends it.
    set_out(DEADLINE, 0);
    let waiter = Raw::new(wait_zero_entry, addr(&WORDS[0]))
        .priority(33)
        .start()?;
    ensure_eq!(out(RANK), 0);
    WORDS[0].store(1, Ordering::SeqCst);
    ensure_eq!(sys::futex_wake(&WORDS[0], 1), Ok(1));
    ensure_eq!(waiter.join()?, 0);
    ensure_eq!(out(RANK), 1);
    // Nobody waits now.
    ensure_eq!(sys::futex_wake(&WORDS[0], 1), Ok(0));
    ensure_eq!(sys::futex_wake(&WORDS[0], FUTEX_ALL), Ok(0));

    // A word in a page nobody has touched yet: the wait faults it in.
    let base = area(20);
    let memory = map_new(2, base, RW)?;
    let word = base + PAGE + 12;
    let waiter = Raw::new(wait_zero_entry, word).priority(33).start()?;
    ensure_eq!(sys::futex_wake_raw(word, FUTEX_ALL), Ok(1));
    ensure_eq!(waiter.join()?, 0);
    // A read-only mapping of the same page shares the futex.
    let alias = base + 8 * PAGE;
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        1,
        alias,
        1,
        MapFlags::READ,
    ))?;
    let waiter = Raw::new(wait_zero_entry, alias + 12).priority(33).start()?;
    ensure_eq!(sys::futex_wake_raw(word, FUTEX_ALL), Ok(1));
    ensure_eq!(waiter.join()?, 0);
    must(sys::aspace_unmap(aspace_cap(), alias, 1))?;
    unmap_delete(memory, base, 2)
}

pub fn value_mismatch() -> TestResult {
    reset_words();
    WORDS[0].store(5, Ordering::SeqCst);
    // A different word: WouldBlock at once, before any deadline counts.
    let marker = marker()?;
    ensure_eq!(sys::futex_wait(&WORDS[0], 4, 0), Err(SysError::WouldBlock));
    ensure_eq!(sys::futex_wait(&WORDS[0], 4, 1), Err(SysError::WouldBlock));
    ensure_eq!(
        sys::futex_wait(&WORDS[0], u32::MAX, now() + 1000 * MS),
        Err(SysError::WouldBlock)
    );
    ensure!(!blocked_before(marker)?);
    // Every bit counts.
    WORDS[0].store(0x8000_0001, Ordering::SeqCst);
    ensure_eq!(sys::futex_wait(&WORDS[0], 1, 0), Err(SysError::WouldBlock));
    ensure_eq!(
        sys::futex_wait(&WORDS[0], 0x8000_0001, 1),
        Err(SysError::TimedOut)
    );
    Ok(())
}

pub fn wait_timeout() -> TestResult {
    clear_out();
    reset_words();
    // Nobody wakes: TimedOut, not before the deadline.
    let deadline = now() + 20 * MS;
    ensure_eq!(
        sys::futex_wait(&WORDS[0], 0, deadline),
        Err(SysError::TimedOut)
    );
    ensure!(now() >= deadline);
    // Passed already: at once.
    let marker = marker()?;
    ensure_eq!(sys::futex_wait(&WORDS[0], 0, 1), Err(SysError::TimedOut));
    ensure!(!blocked_before(marker)?);
    // Woken before the deadline; later, waiting without one, nothing
    // stale fires. (The deadline is far enough that a loaded host's
    // stall between the start and the wake does not pass it.)
    let deadline = now() + 300 * MS;
    set_out(DEADLINE, deadline);
    let waiter = Raw::new(wait_twice_entry, 0).priority(33).start()?;
    ensure_eq!(sys::futex_wake(&WORDS[0], 1), Ok(1));
    pause(330 * MS);
    ensure!(now() >= deadline);
    ensure_eq!(sys::futex_wake(&WORDS[1], 1), Ok(1));
    ensure_eq!(waiter.join()?, 0);
    Ok(())
}

pub fn wait_errors() -> TestResult {
    let word = addr(&WORDS[2]);
    let bad = Err(SysError::BadAddress);
    let bad_address = SysError::BadAddress;
    for address in [
        word + 1,
        word + 2,
        word + 3,
        0,
        4,
        UNMAPPED,
        USER_END - 4,
        USER_END,
        0x0000_8000_0000_0000,
        0xffff_8000_0000_0000,
        u64::MAX - 3,
    ] {
        ensure_eq!(sys::futex_wait_raw(address, 0, 1), bad);
        ensure_eq!(sys::futex_wake_raw(address, 1), Err(bad_address));
        ensure_eq!(
            sys::futex_requeue_raw(address, 1, word, 1, 0),
            Err(bad_address)
        );
        ensure_eq!(
            sys::futex_requeue_raw(word, 1, address, 1, 0),
            Err(bad_address)
        );
    }
    // The expected value is a 32-bit word.
    ensure_eq!(
        sys::futex_wait_raw(word, 1 << 32, 1),
        Err(SysError::InvalidArg)
    );
    // Past the end of its object (the region outlives a shrink).
    let base = area(20);
    let memory = map_new(2, base, RW)?;
    must(sys::memory_resize(memory, 1))?;
    ensure_eq!(sys::futex_wait_raw(base + PAGE, 0, 1), bad);
    ensure_eq!(sys::futex_wait_raw(base, 0, 1), Err(SysError::TimedOut));
    unmap_delete(memory, base, 2)?;
    // Device memory (the HPET's registers), mapped read-write.
    let device = CapSlot(boot().device_cap);
    let apic = must(sys::memory_create_device(budget(), device, 0xfed0_0000, 1))?;
    let base = area(21);
    must(sys::aspace_map(aspace_cap(), apic, 0, base, 1, RW))?;
    ensure_eq!(sys::futex_wait_raw(base + 0x30, 0, 1), bad);
    ensure_eq!(sys::futex_wake_raw(base + 0x30, 1), Err(bad_address));
    unmap_delete(apic, base, 1)?;
    Ok(())
}

pub fn wake_errors_and_counts() -> TestResult {
    clear_out();
    reset_words();
    ensure_eq!(sys::futex_wake(&WORDS[0], 0), Err(SysError::InvalidArg));
    // Five waiters: a wake of 2 ends two, FUTEX_ALL the rest.
    set_out(DEADLINE, 0);
    let mut waiters = [const { None }; 5];
    for waiter in waiters.iter_mut() {
        *waiter = Some(
            Raw::new(wait_zero_entry, addr(&WORDS[0]))
                .priority(33)
                .start()?,
        );
    }
    ensure_eq!(sys::futex_wake(&WORDS[1], FUTEX_ALL), Ok(0));
    ensure_eq!(sys::futex_wake(&WORDS[0], 2), Ok(2));
    ensure_eq!(out(RANK), 2);
    ensure_eq!(sys::futex_wake(&WORDS[0], 1), Ok(1));
    ensure_eq!(sys::futex_wake(&WORDS[0], FUTEX_ALL), Ok(2));
    ensure_eq!(out(RANK), 5);
    ensure_eq!(sys::futex_wake(&WORDS[0], FUTEX_ALL), Ok(0));
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, 0);
    }
    Ok(())
}

/// Waiters at priorities 33, 35, 34, 35, 33 wake one at a time: highest
/// priority first, FIFO among equals.
pub fn priority_order() -> TestResult {
    clear_out();
    reset_words();
    let priorities = [33u64, 35, 34, 35, 33];
    let mut waiters = [const { None }; 5];
    for (i, waiter) in waiters.iter_mut().enumerate() {
        *waiter = Some(
            Raw::new(wait_ranked_entry, pack(addr(&WORDS[0]), i as u64))
                .priority(priorities[i])
                .start()?,
        );
    }
    for round in 0..5 {
        ensure_eq!(sys::futex_wake(&WORDS[0], 1), Ok(1));
        ensure_eq!(out(RANK), round + 1);
    }
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, 0);
    }
    let ranks = [0, 1, 2, 3].map(|i| out(30 + i));
    ensure_eq!(ranks, [3, 0, 2, 1]);
    ensure_eq!(out(34), 4);
    Ok(())
}

pub fn requeue() -> TestResult {
    clear_out();
    reset_words();
    let (a, b) = (&WORDS[0], &WORDS[1]);
    // Four waiters on A: one woken, two moved to B, one left on A.
    set_out(DEADLINE, 0);
    let mut waiters = [const { None }; 4];
    for waiter in waiters.iter_mut() {
        *waiter = Some(Raw::new(wait_zero_entry, addr(a)).priority(33).start()?);
    }
    ensure_eq!(sys::futex_requeue(a, 1, b, 2, 0), Ok((1, 2)));
    ensure_eq!(out(RANK), 1);
    ensure_eq!(sys::futex_wake(b, FUTEX_ALL), Ok(2));
    ensure_eq!(sys::futex_wake(a, FUTEX_ALL), Ok(1));
    ensure_eq!(out(RANK), 4);
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, 0);
    }
    // Requeue only: nobody woken, everyone moved (a condition variable's
    // broadcast onto its mutex).
    let mut waiters = [const { None }; 2];
    for waiter in waiters.iter_mut() {
        *waiter = Some(Raw::new(wait_zero_entry, addr(a)).priority(33).start()?);
    }
    ensure_eq!(sys::futex_requeue(a, 0, b, FUTEX_ALL, 0), Ok((0, 2)));
    ensure_eq!(sys::futex_wake(a, FUTEX_ALL), Ok(0));
    ensure_eq!(sys::futex_wake(b, FUTEX_ALL), Ok(2));
    for waiter in waiters.into_iter().flatten() {
        ensure_eq!(waiter.join()?, 0);
    }
    // Errors: no counts, the same word twice, a word that moved on, a
    // value wider than 32 bits.
    let invalid = Err(SysError::InvalidArg);
    ensure_eq!(sys::futex_requeue(a, 0, b, 0, 0), invalid);
    ensure_eq!(sys::futex_requeue(a, 1, a, 1, 0), invalid);
    a.store(3, Ordering::SeqCst);
    ensure_eq!(sys::futex_requeue(a, 1, b, 1, 2), Err(SysError::WouldBlock));
    ensure_eq!(sys::futex_requeue(a, 1, b, 1, 3), Ok((0, 0)));
    let (status, _) = sys::raw_syscall(
        Syscall::FutexRequeue.number(),
        [addr(a), 1, addr(b), 1, 1 << 32, 0],
    );
    ensure_eq!(SysError::from_code(status), Some(SysError::InvalidArg));
    // Two mappings of one page name the same word.
    let base = area(20);
    let memory = map_new(1, base, RW)?;
    let alias = base + 4 * PAGE;
    must(sys::aspace_map(aspace_cap(), memory, 0, alias, 1, RW))?;
    ensure_eq!(
        sys::futex_requeue_raw(base + 8, 1, alias + 8, 1, 0),
        invalid
    );
    ensure_eq!(
        sys::futex_requeue_raw(base + 8, 1, alias + 12, 1, 0),
        Ok((0, 0))
    );
    must(sys::aspace_unmap(aspace_cap(), alias, 1))?;
    unmap_delete(memory, base, 1)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Two programs over shared memory.

/// Where children map the shared page.
const CHILD_SHARED: u64 = 0x0000_0040_0000_0000;
/// Where children map a second shared page (the storm's doomed one).
const CHILD_DOOMED: u64 = 0x0000_0041_0000_0000;
/// Round trips of the ping-pong.
const ROUNDS: u32 = 200;

/// The other side of [`cross_process`]: after the go signal, answers
/// [`ROUNDS`] pings on the word at `CHILD_SHARED` (1: its turn; it stores
/// 0 and wakes the parent), then waits on the next word until woken.
extern "C" fn pong_child(_: u64) -> ! {
    let _ = sys::wait(peer::PING);
    let word = word_at(CHILD_SHARED);
    for _ in 0..ROUNDS {
        while word.load(Ordering::SeqCst) == 0 {
            match sys::futex_wait(word, 0, 0) {
                Ok(()) | Err(SysError::WouldBlock) => {}
                Err(_) => sys::thread_exit(1),
            }
        }
        word.store(0, Ordering::SeqCst);
        if sys::futex_wake(word, 1).is_err() {
            sys::thread_exit(2);
        }
    }
    let code = match sys::futex_wait(word_at(CHILD_SHARED + 4), 0, 0) {
        Ok(()) => 0,
        Err(error) => 100 + error.code(),
    };
    sys::thread_exit(code)
}

/// A fresh one-page memory object mapped read-write at `vaddr` here and at
/// `child_vaddr` in `child`.
fn share_with(child: &Child, vaddr: u64, child_vaddr: u64) -> Result<CapSlot, super::Failure> {
    let memory = map_new(1, vaddr, RW)?;
    must(sys::aspace_map(child.aspace, memory, 0, child_vaddr, 1, RW))?;
    Ok(memory)
}

pub fn cross_process() -> TestResult {
    twice(cross_process_once)
}

fn cross_process_once() -> TestResult {
    let own = rt::process::own_caps();
    let base = area(22);

    let ping = must(sys::notification_create(own.budget))?;
    let grants = [
        grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
        grant(ping, peer::PING, Rights::all()),
    ];
    let child = spawn_copy(pong_child, 0, &grants).map_err(|_| fail("spawn_copy"))?;
    // Its view of the page is at another address: keys are physical.
    let memory = share_with(&child, base, CHILD_SHARED)?;
    let word = at(base);
    ensure_eq!(sys::signal(ping, 1), Ok(()));
    for _ in 0..ROUNDS {
        word.store(1, Ordering::SeqCst);
        ensure!(sys::futex_wake(word, 1).is_ok());
        while word.load(Ordering::SeqCst) == 1 {
            match sys::futex_wait(word, 1, 0) {
                Ok(()) | Err(SysError::WouldBlock) => {}
                Err(error) => {
                    rt::println!("    futex_wait: {:?}", error);
                    return Err(fail("the parent's wait failed"));
                }
            }
        }
    }
    // The child now waits on the next word: one wake from here ends it.
    let second = at(base + 4);
    let mut woken = 0;
    for _ in 0..100 {
        woken = must(sys::futex_wake(second, FUTEX_ALL))?;
        if woken != 0 {
            break;
        }
        sys::thread_yield();
    }
    ensure_eq!(woken, 1);
    let status = must(sys::thread_wait(child.thread))?;
    ensure_eq!(
        (status.kind, status.code),
        (abi::syscall::exit_kind::EXITED, 0)
    );
    child.destroy();
    unmap_delete(memory, base, 1)?;
    ensure_eq!(sys::cap_delete(ping), Ok(()));
    Ok(())
}

#[track_caller]
fn fail(what: &'static str) -> super::Failure {
    super::Failure {
        what,
        file: core::panic::Location::caller().file(),
        line: core::panic::Location::caller().line(),
    }
}

// ---------------------------------------------------------------------------
// Copy-on-write.

/// After `AspaceClone`, a private page's futex is no longer shared once
/// either side has its own copy, while a `SHARE` region's still is; and a
/// waiter whose own side copies the page follows the copy.
pub fn cow_separation() -> TestResult {
    // A first round warms up what this program touches on the way.
    for round in 0..2 {
        cow_round(round)?;
    }
    Ok(())
}

fn cow_round(round: u32) -> TestResult {
    clear_out();
    let private = area(23);
    let shared = area(24);
    let private_memory = map_new(1, private, RW)?;
    let shared_memory = must(sys::memory_create(budget(), 1))?;
    must(sys::aspace_map(
        aspace_cap(),
        shared_memory,
        0,
        shared,
        1,
        RW | MapFlags::SHARE,
    ))?;
    poke(private, 0);
    poke(shared, 0);
    let before = free_frames()?;

    // A waiter of this program on the private page, then the clone: the
    // page is now copy-on-write. This side writes first and so gets the
    // copy; the waiter follows it, and a wake here ends its wait. (Its
    // deadline only keeps a failure from hanging.)
    set_out(DEADLINE, now() + 1000 * MS);
    let own_waiter = Raw::new(wait_zero_entry, private + 8)
        .priority(33)
        .start()?;
    // The clone's threads read their deadline from the clone's copy of
    // `OUT`, made now.
    set_out(DEADLINE, now() + 60 * MS);
    let clone = must(sys::aspace_clone(budget(), aspace_cap()))?;
    poke(private + 8, 0);
    ensure_eq!(sys::futex_wake_raw(private + 8, FUTEX_ALL), Ok(1));
    ensure_eq!(own_waiter.join()?, 0);
    // A waiter in the clone on each page.
    let clone_private = Raw::new(wait_zero_entry, private)
        .aspace(clone)
        .priority(33)
        .start()?;
    let clone_shared = Raw::new(wait_zero_entry, shared)
        .aspace(clone)
        .priority(33)
        .start()?;
    // This side's wake does not reach the clone's private copy, but does
    // reach its SHARE region.
    ensure_eq!(sys::futex_wake_raw(private, FUTEX_ALL), Ok(0));
    ensure_eq!(sys::futex_wake_raw(shared, FUTEX_ALL), Ok(1));
    ensure_eq!(clone_shared.join()?, 0);
    // (Its `OUT` words are the clone's copy: only the exit code tells.)
    ensure_eq!(clone_private.join()?, SysError::TimedOut.code());

    must(sys::cap_delete(clone))?;
    if round > 0 {
        ensure_eq!(free_frames()?, before);
    }
    unmap_delete(private_memory, private, 1)?;
    unmap_delete(shared_memory, shared, 1)
}

// ---------------------------------------------------------------------------
// Memory and threads going away under waiters.

/// A waiter whose page is freed (its object unmapped and deleted, or
/// shrunk) is woken with `BadAddress`; a destroyed waiter leaves the
/// table; every frame comes back.
pub fn memory_gone() -> TestResult {
    twice(memory_gone_once)
}

fn memory_gone_once() -> TestResult {
    clear_out();
    let base = area(25);
    set_out(DEADLINE, 0);

    // Unmapped and deleted: the page goes with its last holder.
    let memory = map_new(1, base, RW)?;
    let waiter = Raw::new(wait_zero_entry, base + 16).priority(33).start()?;
    unmap_delete(memory, base, 1)?;
    ensure_eq!(waiter.join()?, SysError::BadAddress.code());

    // Shrunk under a waiter on its second page.
    let memory = map_new(2, base, RW)?;
    let waiter = Raw::new(wait_zero_entry, base + PAGE)
        .priority(33)
        .start()?;
    let bystander = Raw::new(wait_zero_entry, base).priority(33).start()?;
    must(sys::memory_resize(memory, 1))?;
    ensure_eq!(waiter.join()?, SysError::BadAddress.code());
    ensure_eq!(sys::futex_wake_raw(base, FUTEX_ALL), Ok(1));
    ensure_eq!(bystander.join()?, 0);
    unmap_delete(memory, base, 2)?;

    // A destroyed waiter: no wake finds it afterwards.
    let memory = map_new(1, base, RW)?;
    let doomed = Raw::new(wait_zero_entry, base).priority(33).start()?;
    doomed.kill()?;
    ensure_eq!(sys::futex_wake_raw(base, FUTEX_ALL), Ok(0));
    // One destroyed with a deadline armed: nothing fires later.
    set_out(DEADLINE, now() + 10 * MS);
    let doomed = Raw::new(wait_zero_entry, base).priority(33).start()?;
    doomed.kill()?;
    pause(30 * MS);
    ensure_eq!(sys::futex_wake_raw(base, FUTEX_ALL), Ok(0));
    unmap_delete(memory, base, 1)
}

// ---------------------------------------------------------------------------
// The storm.

/// Where the storm maps its shared page here.
const STORM_SHARED: u64 = area(26);
/// Where it maps each round's doomed page here.
const STORM_DOOMED: u64 = area(27);
/// Futex words the storm uses in each page.
const STORM_WORDS: u64 = 16;
/// Threads of this program in the storm.
const STORM_THREADS: usize = 8;
/// Programs alive at once in each round.
const STORM_CHILDREN: usize = 2;
/// Rounds: each makes a doomed page and programs, lets everything run,
/// then destroys programs and page under the waiters.
const STORM_ROUNDS: u64 = 8;

/// Set to stop the storm's threads.
static STORM_STOP: AtomicU64 = AtomicU64::new(0);
/// Storm threads that have stopped.
static STORM_DONE: AtomicU64 = AtomicU64::new(0);
/// Results the storm's threads saw that no rule allows.
static STORM_BAD: AtomicU64 = AtomicU64::new(0);
/// Calls the storm's threads made, and how many blocked and were woken
/// or timed out.
static STORM_CALLS: AtomicU64 = AtomicU64::new(0);
static STORM_WOKEN: AtomicU64 = AtomicU64::new(0);
static STORM_TIMED_OUT: AtomicU64 = AtomicU64::new(0);
static STORM_FREED: AtomicU64 = AtomicU64::new(0);

/// A deadline for a storm wait: none (rarely), past, or a few
/// milliseconds ahead.
fn storm_deadline(rng: &mut Rng, forever: bool) -> u64 {
    match rng.next() % 10 {
        0 if forever => 0,
        1 => 1,
        _ => now() + 1 + rng.next() % (4 * MS),
    }
}

/// One random futex operation on the words at `shared` (readable here)
/// and `doomed` (reached only through syscalls: it may go at any
/// moment). Returns false if a result broke a rule.
fn storm_step(rng: &mut Rng, shared: u64, doomed: u64, forever: bool) -> bool {
    let pick = |rng: &mut Rng, base: u64| base + (rng.next() % STORM_WORDS) * 4;
    let roll = rng.next() % 100;
    match roll {
        // Wait on a shared word for its current value (or a stale one).
        0..35 => {
            let address = pick(rng, shared);
            let mut value = word_at(address).load(Ordering::SeqCst);
            if rng.next().is_multiple_of(8) {
                value = value.wrapping_add(1);
            }
            let deadline = storm_deadline(rng, forever);
            match sys::futex_wait_raw(address, u64::from(value), deadline) {
                Ok(()) => STORM_WOKEN.fetch_add(1, Ordering::Relaxed),
                Err(SysError::TimedOut) => STORM_TIMED_OUT.fetch_add(1, Ordering::Relaxed),
                Err(SysError::WouldBlock) => 0,
                Err(_) => return false,
            };
        }
        // Wait on the doomed page (its words stay 0): woken, timed out,
        // or BadAddress once it is gone.
        35..50 => {
            let deadline = storm_deadline(rng, forever);
            match sys::futex_wait_raw(pick(rng, doomed), 0, deadline) {
                Ok(()) => STORM_WOKEN.fetch_add(1, Ordering::Relaxed),
                Err(SysError::TimedOut) => STORM_TIMED_OUT.fetch_add(1, Ordering::Relaxed),
                Err(SysError::BadAddress) => STORM_FREED.fetch_add(1, Ordering::Relaxed),
                Err(_) => return false,
            };
        }
        // Change a shared word and wake some of its waiters.
        50..75 => {
            let address = pick(rng, shared);
            word_at(address).fetch_add(1, Ordering::SeqCst);
            let count = if rng.next().is_multiple_of(3) {
                FUTEX_ALL
            } else {
                1 + rng.next() % 3
            };
            if sys::futex_wake_raw(address, count).is_err() {
                return false;
            }
        }
        // Wake on the doomed page.
        75..85 => match sys::futex_wake_raw(pick(rng, doomed), 1 + rng.next() % 4) {
            Ok(_) | Err(SysError::BadAddress) => {}
            Err(_) => return false,
        },
        // Requeue between shared words (or from the doomed page).
        _ => {
            let from = if rng.next().is_multiple_of(4) {
                pick(rng, doomed)
            } else {
                pick(rng, shared)
            };
            let to = pick(rng, shared);
            let expected = if from >= shared && from < shared + PAGE {
                word_at(from).load(Ordering::SeqCst)
            } else {
                0
            };
            match sys::futex_requeue_raw(from, rng.next() % 3, to, 1 + rng.next() % 3, expected) {
                Ok(_) | Err(SysError::WouldBlock) => {}
                // Both counts 0 or the same word; a doomed page that went.
                Err(SysError::InvalidArg | SysError::BadAddress) => {}
                Err(_) => return false,
            }
        }
    }
    STORM_CALLS.fetch_add(1, Ordering::Relaxed);
    true
}

/// A storm thread of this program: random steps until told to stop.
fn storm_thread(seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    while STORM_STOP.load(Ordering::SeqCst) == 0 {
        if !storm_step(&mut rng, STORM_SHARED, STORM_DOOMED, true) {
            STORM_BAD.fetch_add(1, Ordering::SeqCst);
        }
    }
    STORM_DONE.fetch_add(1, Ordering::SeqCst);
    0
}

/// A storm program: random steps on its views of the shared and doomed
/// pages, and now and then a wait on its own stack with no deadline, until
/// it is destroyed.
extern "C" fn storm_child(seed: u64) -> ! {
    let _ = sys::wait(peer::PING);
    let mut rng = Rng::new(seed);
    let private = AtomicU32::new(0);
    loop {
        if rng.next().is_multiple_of(50) {
            // Nobody ever wakes this one: it waits until destroyed.
            let _ = sys::futex_wait(
                &private,
                0,
                if rng.next().is_multiple_of(2) { 0 } else { 1 },
            );
        }
        let _ = storm_step(&mut rng, CHILD_SHARED, CHILD_DOOMED, false);
    }
}

/// Many threads and programs wait, wake, requeue and time out on shared
/// words, while the programs and a page are destroyed under them each
/// round; afterwards no waiter is left and every frame is back.
pub fn storm() -> TestResult {
    // A short storm first warms up what this program keeps (its threads'
    // stack pages, the page tables of the areas).
    run_storm(1, 10)?;
    let before = free_frames()?;
    run_storm(STORM_ROUNDS, 40)?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// One storm of `rounds` rounds, letting everyone run `run_ms` each.
fn run_storm(rounds: u64, run_ms: u64) -> TestResult {
    let own = rt::process::own_caps();
    for counter in [
        &STORM_STOP,
        &STORM_DONE,
        &STORM_BAD,
        &STORM_CALLS,
        &STORM_WOKEN,
        &STORM_TIMED_OUT,
        &STORM_FREED,
    ] {
        counter.store(0, Ordering::SeqCst);
    }
    let shared = map_new(1, STORM_SHARED, RW)?;
    for word in 0..STORM_WORDS {
        word_at(STORM_SHARED + word * 4).store(0, Ordering::SeqCst);
    }
    let sleep = must(sys::notification_create(own.budget))?;
    let mut threads = [const { None }; STORM_THREADS];
    for (i, thread) in threads.iter_mut().enumerate() {
        *thread = Some(must(crate::raw_thread::spawn(
            storm_thread,
            0x5eed + i as u64,
        ))?);
    }
    let mut seed = 1u64;
    for round in 0..rounds {
        let doomed = map_new(1, STORM_DOOMED, RW)?;
        let mut children = [const { None }; STORM_CHILDREN];
        // Each program its own start signal (a notification's bits do not
        // count, so one shared would start only one of them).
        let mut starts = [CapSlot::NULL; STORM_CHILDREN];
        for (child, start) in children.iter_mut().zip(starts.iter_mut()) {
            seed += 1;
            *start = must(sys::notification_create(own.budget))?;
            let grants = [
                grant(crate::tests::debug_cap(), peer::DEBUG, Rights::all()),
                grant(*start, peer::PING, Rights::all()),
            ];
            let made = spawn_copy(storm_child, seed * 7919 + round, &grants)
                .map_err(|_| fail("spawn_copy"))?;
            must(sys::aspace_map(made.aspace, shared, 0, CHILD_SHARED, 1, RW))?;
            must(sys::aspace_map(made.aspace, doomed, 0, CHILD_DOOMED, 1, RW))?;
            must(sys::signal(*start, 1))?;
            *child = Some(made);
        }
        // Let everyone run for a while (this thread sleeps with a deadline).
        let _ = sys::wait_until(sleep, now() + run_ms * MS);
        // The first program goes, waits and all; then the doomed page,
        // with waiters on it here and in the second program.
        if let Some(child) = children[0].take() {
            child.destroy();
        }
        let _ = sys::wait_until(sleep, now() + 10 * MS);
        unmap_delete(doomed, STORM_DOOMED, 1)?;
        let _ = sys::wait_until(sleep, now() + 10 * MS);
        for child in children.into_iter().flatten() {
            child.destroy();
        }
        for start in starts {
            must(sys::cap_delete(start))?;
        }
    }
    // Stop the threads: wake every word until they have all finished.
    STORM_STOP.store(1, Ordering::SeqCst);
    while STORM_DONE.load(Ordering::SeqCst) < STORM_THREADS as u64 {
        for word in 0..STORM_WORDS {
            let address = STORM_SHARED + word * 4;
            word_at(address).fetch_add(1, Ordering::SeqCst);
            let _ = sys::futex_wake_raw(address, FUTEX_ALL);
        }
        let _ = sys::wait_until(sleep, now() + MS);
    }
    for thread in threads.into_iter().flatten() {
        ensure_eq!(join(thread)?, 0);
    }
    let calls = STORM_CALLS.load(Ordering::SeqCst);
    rt::println!(
        "    storm: {} calls here, {} woken, {} timed out, {} woken by a freed page",
        calls,
        STORM_WOKEN.load(Ordering::SeqCst),
        STORM_TIMED_OUT.load(Ordering::SeqCst),
        STORM_FREED.load(Ordering::SeqCst)
    );
    ensure_eq!(STORM_BAD.load(Ordering::SeqCst), 0);
    if rounds > 1 {
        ensure!(calls > 500);
        ensure!(STORM_WOKEN.load(Ordering::SeqCst) > 0);
        ensure!(STORM_TIMED_OUT.load(Ordering::SeqCst) > 0);
    }
    // Nobody is left waiting on a shared word.
    for word in 0..STORM_WORDS {
        ensure_eq!(
            sys::futex_wake_raw(STORM_SHARED + word * 4, FUTEX_ALL),
            Ok(0)
        );
    }
    unmap_delete(shared, STORM_SHARED, 1)?;
    ensure_eq!(sys::cap_delete(sleep), Ok(()));
    Ok(())
}
