//! Memory benchmarks, each the counterpart of a row of the Linux harness
//! (`bench/linux/bench.c`): a first-touch fault, a copy-on-write fault, a
//! map and unmap of one page, the clone (and destruction) of an address
//! space with 1,000 touched pages, and a fault delivered to a user-space
//! pager that maps the page and resumes the thread.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw::{self as sys, Message};
use crate::timing::{tsc_end, tsc_start};
use abi::ipc::fault;
use abi::layout::PAGE_BYTES;
use abi::{CapSlot, MapFlags, SysError};

use crate::cpu::{peek, poke};

const PAGE: u64 = PAGE_BYTES;
const RW: MapFlags = MapFlags::READ.union(MapFlags::WRITE);
/// Pages the fault benchmarks touch (as the Linux harness).
pub const FAULT_PAGES: usize = 10_000;
/// Touched pages in the cloned address space.
const CLONE_PAGES: u64 = 1_000;
/// Where these benchmarks map (unused by the rest of the program).
const AREA: u64 = 0x0000_0070_0000_0000;

fn own() -> rt::process::OwnCaps {
    rt::process::own_caps()
}

/// A fresh object of `pages` pages mapped read-write at `vaddr`.
fn mapped(pages: u64, vaddr: u64) -> Result<CapSlot, SysError> {
    let memory = sys::memory_create(own().budget, pages)?;
    if let Err(e) = sys::aspace_map(own().aspace, memory, 0, vaddr, pages, RW) {
        let _ = sys::cap_delete(memory);
        return Err(e);
    }
    Ok(memory)
}

fn release(memory: CapSlot, vaddr: u64, pages: u64) {
    let _ = sys::aspace_unmap(own().aspace, vaddr, pages);
    let _ = sys::cap_delete(memory);
}

/// `page_fault_zero`: one write per page of a fresh lazy object, each a
/// first-touch fault that allocates and zeroes a page.
pub fn fault_zero(samples: &mut [u64], overhead: u64) -> Result<(), SysError> {
    let pages = samples.len() as u64;
    let memory = mapped(pages, AREA)?;
    for (i, s) in samples.iter_mut().enumerate() {
        let addr = AREA + i as u64 * PAGE;
        let start = tsc_start();
        poke(addr, 1);
        *s = (tsc_end() - start).saturating_sub(overhead);
    }
    release(memory, AREA, pages);
    Ok(())
}

/// `page_fault_cow`: the pages are touched, the address space is cloned
/// (the clone stays alive, so every page is shared), then one write per
/// page, each a copy-on-write fault.
pub fn fault_cow(samples: &mut [u64], overhead: u64) -> Result<(), SysError> {
    let pages = samples.len() as u64;
    let base = AREA + (1 << 32);
    let memory = mapped(pages, base)?;
    for i in 0..pages {
        poke(base + i * PAGE, 1);
    }
    let clone = sys::aspace_clone(own().budget, own().aspace)?;
    for (i, s) in samples.iter_mut().enumerate() {
        let addr = base + i as u64 * PAGE;
        let start = tsc_start();
        poke(addr, 2);
        *s = (tsc_end() - start).saturating_sub(overhead);
    }
    let _ = sys::cap_delete(clone);
    release(memory, base, pages);
    Ok(())
}

/// `map_unmap_page`: map one page of an object and unmap it, untouched.
pub fn map_unmap(samples: &mut [u64], overhead: u64, warmup: usize) -> Result<(), SysError> {
    let memory = sys::memory_create(own().budget, 1)?;
    let vaddr = AREA + (2 << 32);
    let aspace = own().aspace;
    for i in 0..warmup + samples.len() {
        let start = tsc_start();
        let mapped = sys::aspace_map(aspace, memory, 0, vaddr, 1, RW);
        let unmapped = sys::aspace_unmap(aspace, vaddr, 1);
        let t = (tsc_end() - start).saturating_sub(overhead);
        mapped.and(unmapped)?;
        if i >= warmup {
            samples[i - warmup] = t;
        }
    }
    let _ = sys::cap_delete(memory);
    Ok(())
}

/// `aspace_clone_1000`: an address space whose one region has 1,000
/// touched pages is cloned and the clone destroyed (Linux: fork, exit,
/// wait).
pub fn clone_1000(samples: &mut [u64], overhead: u64, warmup: usize) -> Result<(), SysError> {
    let budget = own().budget;
    let source = sys::aspace_create(budget)?;
    let memory = sys::memory_create(budget, CLONE_PAGES)?;
    let base = AREA + (3 << 32);
    let result = (|| {
        sys::aspace_map(source, memory, 0, base, CLONE_PAGES, RW)?;
        // Touch the pages through a mapping of our own.
        sys::aspace_map(own().aspace, memory, 0, base, CLONE_PAGES, RW)?;
        for i in 0..CLONE_PAGES {
            poke(base + i * PAGE, i);
        }
        for i in 0..warmup + samples.len() {
            let start = tsc_start();
            let clone = sys::aspace_clone(budget, source)?;
            sys::cap_delete(clone)?;
            let t = (tsc_end() - start).saturating_sub(overhead);
            if i >= warmup {
                samples[i - warmup] = t;
            }
        }
        Ok(())
    })();
    let _ = sys::aspace_unmap(own().aspace, base, CLONE_PAGES);
    let _ = sys::cap_delete(source);
    let _ = sys::cap_delete(memory);
    result
}

/// Faults one round of the pager benchmark takes (an address space holds
/// at most 96 regions; the pager maps one per fault).
const PAGER_ROUND: usize = 64;

static PAGER_SAMPLES: [AtomicU64; PAGER_ROUND] = [const { AtomicU64::new(0) }; PAGER_ROUND];

#[repr(C, align(16))]
struct Stack([AtomicU64; 1024]);
static FAULTER_STACK: Stack = Stack([const { AtomicU64::new(0) }; 1024]);

/// The faulting thread: reads one word of each page of the window
/// (argument: window and measurement overhead), timing each read.
extern "C" fn faulter(window: u64) -> ! {
    let overhead = PAGER_SAMPLES[0].load(Ordering::SeqCst);
    for (i, sample) in PAGER_SAMPLES.iter().enumerate() {
        let start = tsc_start();
        let _ = peek(window + i as u64 * PAGE);
        sample.store(
            (tsc_end() - start).saturating_sub(overhead),
            Ordering::SeqCst,
        );
    }
    sys::thread_exit(0)
}

/// `pager_fault_roundtrip`: a thread reads pages where nothing is mapped;
/// each fault goes to this thread (the pager) as a message, which maps a
/// page of an object there and answers RESUME; the thread's read then
/// completes. A sample is the faulting read, as the faulting thread sees
/// it: kernel and pager together.
pub fn pager(samples: &mut [u64], overhead: u64) -> Result<(), SysError> {
    let caps = own();
    let endpoint = sys::endpoint_create(caps.budget)?;
    let backing = sys::memory_create(caps.budget, PAGER_ROUND as u64)?;
    let filled = AREA + (4 << 32);
    let window = AREA + (5 << 32);
    let result = (|| {
        // The pager's pages exist before the faults (a pager serves data
        // it already has).
        sys::aspace_map(caps.aspace, backing, 0, filled, PAGER_ROUND as u64, RW)?;
        for i in 0..PAGER_ROUND as u64 {
            poke(filled + i * PAGE, i);
        }
        let mut taken = 0;
        while taken < samples.len() {
            PAGER_SAMPLES[0].store(overhead, Ordering::SeqCst);
            let thread = sys::thread_create(caps.budget, caps.aspace, caps.cspace)?;
            let top = FAULTER_STACK.0.as_ptr() as u64 + 1024 * 8 - 8;
            let entry = faulter as *const () as u64;
            sys::thread_configure(thread, 0, endpoint)?;
            sys::thread_start(thread, entry, top, window, 0)?;
            let mut message = sys::recv(endpoint)?;
            for i in 0..PAGER_ROUND {
                let addr = message.message.words[fault::WORD_ADDR] & !(PAGE - 1);
                sys::aspace_map(caps.aspace, backing, i as u64, addr, 1, MapFlags::READ)?;
                let resume = Message::new(fault::RESUME, &[]);
                if i + 1 == PAGER_ROUND {
                    sys::reply(&resume)?;
                } else {
                    message = sys::reply_recv(endpoint, &resume)?;
                }
            }
            sys::thread_wait(thread)?;
            sys::cap_delete(thread)?;
            sys::aspace_unmap(caps.aspace, window, PAGER_ROUND as u64)?;
            // The first fault of a round also builds page tables.
            for sample in PAGER_SAMPLES.iter().skip(1) {
                if taken < samples.len() {
                    samples[taken] = sample.load(Ordering::SeqCst);
                    taken += 1;
                }
            }
        }
        Ok(())
    })();
    let _ = sys::aspace_unmap(caps.aspace, filled, PAGER_ROUND as u64);
    let _ = sys::cap_delete(backing);
    let _ = sys::cap_delete(endpoint);
    result
}
