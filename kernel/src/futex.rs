//! Futexes: threads waiting for a 32-bit word of user memory to change,
//! keyed by where the word is in physical memory.
//!
//! Keys. A word's key is its physical address: the frame of its page plus
//! its offset. [`key`] finds it through the caller's page tables, faulting
//! the page in first if needed, by the rules of a write when the region is
//! writable (so a copy-on-write page becomes the caller's own copy before
//! the caller waits or wakes on it) and of a read otherwise. Every address
//! space that maps the same page (a memory object mapped in two spaces, a
//! `SHARE` region of a clone) therefore shares the futex, and a private
//! page that copy-on-write copies is a different futex on each side. Device
//! memory is refused (`BadAddress`): its reads can have side effects.
//!
//! The table. `Kernel::futex` is a `kcore::futex::FutexTable`: a fixed
//! array of `config::FUTEX_BUCKETS` intrusive lists hashed by page,
//! chained through the waiting threads' own wait-queue links, so waiting
//! never allocates. A waiting thread is in `ThreadState::Futex`, whose
//! `key` is its place in the table. Each bucket is in priority order, FIFO
//! among equals, so wakes take the most urgent waiter of the word first.
//! The comparison of the word with the expected value and the enqueueing
//! happen under the kernel lock, as do wakes, so no wake is lost between
//! them.
//!
//! Lifetime. A waiter keeps nothing alive: not the page, not the memory
//! object, not the other address spaces. What happens to waiters when
//! memory changes under them:
//! - the page is copied on write into a memory object ([`page_replaced`],
//!   from `vm::pages::copy_page`): the waiters that see the page through
//!   that object at their own address move to the copy, so a thread keeps
//!   waiting on what its address space shows, and the other side's
//!   waiters stay on the old page;
//! - the page is freed, its last holder gone (its object shrank, or was
//!   destroyed after being unmapped from the waiter's space): its waiters
//!   are woken with `BadAddress` ([`page_freed`], from
//!   `vm::pages::release_page`), as a wait there would now fail. No key in
//!   the table ever names a freed frame, so a frame used again later can
//!   never wake a stale waiter;
//! - the waiting thread ends or is destroyed: `thread::end` takes it out
//!   ([`remove`]); its deadline passes: `thread::time_out` does.
//!
//! An address space cannot be destroyed under its own waiters (a thread
//! holds its address space), so its destruction only releases pages,
//! which the rules above cover.

use abi::SysError;
use abi::layout::{PAGE_BYTES, USER_END, USER_START};
use kcore::frame::FrameNumber;
use kcore::futex::{FutexStore, FutexTable, page_of};

use crate::arch::user_tables;
use crate::config::FUTEX_BUCKETS;
use crate::kernel::Kernel;
use crate::mem::kobj::{ObjId, Objects};
use crate::mem::phys;
use crate::object::aspace::{AddressSpace, FutexTlb, attrs};
use crate::object::memory::{Backing, FixedKind, MemoryObject};
use crate::object::thread::{self, Thread, ThreadState};
use crate::timer;
use crate::vm::{self, Access};

/// The futex wait table.
pub type Table = FutexTable<ObjId<Thread>, FUTEX_BUCKETS>;

impl FutexStore<ObjId<Thread>> for Objects {
    fn key(&self, id: ObjId<Thread>) -> u64 {
        match self.get(id).state {
            ThreadState::Futex { key, .. } => key,
            state => unreachable!("a thread in the futex table is in {state:?}"),
        }
    }

    fn set_key(&mut self, id: ObjId<Thread>, key: u64) {
        match &mut self.get_mut(id).state {
            ThreadState::Futex { key: old, .. } => *old = key,
            state => unreachable!("a thread queued as a futex waiter is in {state:?}"),
        }
    }

    fn priority(&self, id: ObjId<Thread>) -> u8 {
        self.get(id).priority
    }
}

/// Bytes of a futex word.
const WORD_BYTES: u64 = 4;

/// The key of the 32-bit word at `addr` in `aspace`: its physical
/// address, with the page faulted in (see the module documentation).
///
/// # Errors
/// [`SysError::BadAddress`] for an address that is misaligned, outside
/// user space, in no region or past its object's end, or in device
/// memory; [`SysError::OutOfMemory`] if the page cannot be paid for.
#[inline(always)]
pub fn key(k: &mut Kernel, aspace: ObjId<AddressSpace>, addr: u64) -> Result<u64, SysError> {
    if !addr.is_multiple_of(WORD_BYTES) || !(USER_START..USER_END).contains(&addr) {
        return Err(SysError::BadAddress);
    }
    let (page, offset) = (addr & !(PAGE_BYTES - 1), addr & (PAGE_BYTES - 1));
    let generation = user_tables::generation();
    let space = k.objects.get(aspace);
    let cached = space.futex_tlb;
    if cached.page == page && cached.generation == generation {
        return Ok(cached.frame | offset);
    }
    match user_tables::translate_ram(space.root, addr, Access::Write) {
        Some(phys) => {
            k.objects.get_mut(aspace).futex_tlb = FutexTlb {
                page,
                // `phys` is the frame's address with `offset` in it.
                frame: phys & !(PAGE_BYTES - 1),
                generation,
            };
            Ok(phys)
        }
        None => fault_in(k, aspace, addr),
    }
}

/// [`key`] for a page not mapped writable (absent, copy-on-write, in a
/// read-only region) or a device page.
#[cold]
#[inline(never)]
fn fault_in(k: &mut Kernel, aspace: ObjId<AddressSpace>, addr: u64) -> Result<u64, SysError> {
    let region = *k
        .objects
        .get(aspace)
        .regions
        .find(addr)
        .ok_or(SysError::BadAddress)?;
    if let Backing::Fixed {
        kind: FixedKind::Device,
        ..
    } = k.objects.get(region.object).backing
    {
        return Err(SysError::BadAddress);
    }
    let access = if region.attrs & attrs::WRITE != 0 {
        Access::Write
    } else {
        Access::Read
    };
    vm::fault::populate(k, aspace, addr, WORD_BYTES, access)?;
    let root = k.objects.get(aspace).root;
    user_tables::translate_ram(root, addr, access).ok_or(SysError::BadAddress)
}

/// The word a key names (read through the direct map: a key is always a
/// mapped RAM page's address).
pub fn read_word(key: u64) -> u32 {
    let pair = phys::read_u64(key & !7);
    // Little-endian: the word at offset 4 of the pair is its high half.
    (pair >> ((key & 4) << 3)) as u32
}

/// Blocks the running thread `caller` on `key` (whose word it has just
/// compared), with a timeout at `deadline_ns` (0: none). `vaddr` is the
/// word's address in its own address space.
pub fn wait(k: &mut Kernel, caller: ObjId<Thread>, key: u64, vaddr: u64, deadline_ns: u64) {
    k.sched.forget_current(caller);
    k.objects.get_mut(caller).state = ThreadState::Futex { key, vaddr };
    k.futex.enqueue(&mut k.objects, caller, key);
    timer::arm_thread(k, caller, deadline_ns);
}

/// Wakes up to `count` waiters on `key` (their `FutexWait` returns 0);
/// returns how many.
#[inline(always)]
pub fn wake(k: &mut Kernel, key: u64, count: u64) -> u64 {
    let mut woken = 0;
    while woken < count {
        let Some(waiter) = k.futex.pop(&mut k.objects, key) else {
            break;
        };
        thread::wake(k, waiter, Ok([0; 6]));
        // Below `count` (the loop condition).
        woken = woken.wrapping_add(1);
    }
    woken
}

/// Moves up to `count` waiters of `from` to `to` (a word at `vaddr` in
/// `aspace`); returns how many. Their deadlines stay armed.
pub fn requeue(
    k: &mut Kernel,
    from: u64,
    to: u64,
    aspace: ObjId<AddressSpace>,
    vaddr: u64,
    count: u64,
) -> u64 {
    let mut moved = 0;
    while moved < count {
        let Some(waiter) = k.futex.pop(&mut k.objects, from) else {
            break;
        };
        // Only a waiter of the same address space knows the new word by
        // `vaddr`.
        let own = k.objects.get(waiter).aspace == aspace;
        k.objects.get_mut(waiter).state = ThreadState::Futex {
            key: to,
            vaddr: if own { vaddr } else { 0 },
        };
        k.futex.enqueue(&mut k.objects, waiter, to);
        // Below `count` (the loop condition).
        moved = moved.wrapping_add(1);
    }
    moved
}

/// Takes a waiter out of the table (it ends, or its deadline passed).
pub fn remove(k: &mut Kernel, id: ObjId<Thread>) {
    k.futex.remove(&mut k.objects, id);
}

/// Copy-on-write gave `memory` the page `new` at `index` in place of
/// `old`: waiters on `old` that see it through `memory` at their own
/// address move to the same word in `new`. (The test is inline: usually
/// nobody waits at all.)
#[inline(always)]
pub fn page_replaced(k: &mut Kernel, memory: ObjId<MemoryObject>, index: u64, old: u64, new: u64) {
    if !k.futex.is_empty() {
        rekey(k, memory, index, old, new);
    }
}

#[inline(never)]
fn rekey(k: &mut Kernel, memory: ObjId<MemoryObject>, index: u64, old: u64, new: u64) {
    k.futex
        .rekey_page(&mut k.objects, page_of(old), page_of(new), |objects, id| {
            let thread = objects.get(id);
            let ThreadState::Futex { vaddr, .. } = thread.state else {
                return false;
            };
            vaddr != 0
                && objects
                    .get(thread.aspace)
                    .regions
                    .find(vaddr)
                    .is_some_and(|r| r.object == memory && r.object_page(vaddr) == index)
        });
}

/// The user page `frame` has been freed: its waiters are woken with
/// `BadAddress`, and no key names it any more. (The test is inline:
/// usually nobody waits at all.)
#[inline(always)]
pub fn page_freed(k: &mut Kernel, frame: FrameNumber) {
    if !k.futex.is_empty() {
        wake_freed(k, frame);
    }
}

#[inline(never)]
fn wake_freed(k: &mut Kernel, frame: FrameNumber) {
    while let Some(waiter) = k.futex.pop_page(&mut k.objects, frame.0) {
        thread::wake(k, waiter, Err(SysError::BadAddress));
    }
}
