//! The threads `rt` made: their records, start and end, reaping, and the
//! list the process's exit walks.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abi::{CapSlot, SysError};

use super::Thread;
use super::block::{self, Block, Tcb};
use crate::handle::Handle;
use crate::process;
use crate::sync::Mutex;
use crate::sys;

/// A thread `rt` made, shared by its handle, its TCB and the registry.
pub struct Record {
    thread: Thread,
    name: Option<String>,
    /// Slot index of its block (for "which thread am I").
    index: usize,
    block: Mutex<Option<Block>>,
    main: UnsafeCell<Option<Box<dyn FnOnce() + Send>>>,
    detached: AtomicBool,
    finished: AtomicBool,
}

// SAFETY: `main` is taken exactly once, by the thread itself at its start
// (`entry`), after the starter wrote it and before anyone else looks;
// every other field is immutable or synchronised.
unsafe impl Sync for Record {}
// SAFETY: as above; the closure is Send.
unsafe impl Send for Record {}

impl Record {
    /// The thread's capability.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Its name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl core::fmt::Debug for Record {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Record")
            .field("thread", &self.thread)
            .field("name", &self.name)
            .field("index", &self.index)
            .finish()
    }
}

/// Every live thread rt made.
static LIVE: Mutex<Vec<Arc<Record>>> = Mutex::new(Vec::new());

/// Makes a block, a thread in it, and starts `main` there.
pub(super) fn start(
    name: Option<String>,
    priority: Option<u64>,
    stack_bytes: u64,
    fault_endpoint: Option<CapSlot>,
    main: Box<dyn FnOnce() + Send>,
) -> Result<Arc<Record>, SysError> {
    adopt_pending_main();
    reap_finished();
    let own = process::own_caps();
    let block = Block::create(stack_bytes, &process::tls_template())?;
    let thread = match sys::thread_create(own.budget, own.aspace, own.cspace) {
        Ok(slot) => Thread::from_raw(slot),
        Err(e) => {
            block.destroy();
            return Err(e);
        }
    };
    let (tcb, stack_top, ipc) = (block.tcb(), block.stack_top(), block.ipc_buffer());
    let record = Arc::new(Record {
        thread,
        name,
        index: block.index,
        block: Mutex::new(Some(block)),
        main: UnsafeCell::new(Some(main)),
        detached: AtomicBool::new(false),
        finished: AtomicBool::new(false),
    });
    let configured = record
        .thread
        .configure(ipc, fault_endpoint.unwrap_or_else(process::fault_endpoint))
        .and_then(|()| match priority {
            Some(p) => record.thread.set_priority(p, p),
            None => Ok(()),
        });
    if let Err(e) = configured {
        discard(&record);
        return Err(e);
    }
    set_tcb_record(tcb, Arc::into_raw(Arc::clone(&record)) as u64);
    LIVE.lock().push(Arc::clone(&record));
    // rsp + 8 is 16-byte aligned at a function's entry.
    let entry = entry as *const () as u64;
    if let Err(e) = record.thread.start(entry, stack_top - 8, tcb, tcb) {
        LIVE.lock().retain(|r| !Arc::ptr_eq(r, &record));
        release_tcb_record(tcb);
        discard(&record);
        return Err(e);
    }
    Ok(record)
}

fn set_tcb_record(tcb: u64, value: u64) {
    let field = tcb + block::TCB_RECORD_OFFSET as u64;
    // SAFETY: `tcb` is the TCB of a block made by Block::create, committed
    // and mapped until the block is destroyed; the thread has not started
    // or has ended, so nothing else writes it now.
    unsafe { (field as *mut u64).write_volatile(value) };
}

/// Drops the reference the TCB held.
fn release_tcb_record(tcb: u64) {
    let field = tcb + block::TCB_RECORD_OFFSET as u64;
    // SAFETY: as in set_tcb_record.
    let raw = unsafe { (field as *const u64).read_volatile() };
    if raw != 0 {
        set_tcb_record(tcb, 0);
        // SAFETY: a non-zero field holds the pointer Arc::into_raw gave
        // `start`, whose reference nobody else releases (it was just
        // cleared).
        drop(unsafe { Arc::from_raw(raw as *const Record) });
    }
}

/// Frees the block of a thread that never ran or has ended.
fn discard(record: &Record) {
    if let Some(block) = record.block.lock().take() {
        block.destroy();
    }
}

/// Where a thread made by `start` begins: `tcb` in `rdi`.
extern "C" fn entry(tcb: u64) -> ! {
    let field = tcb + block::TCB_RECORD_OFFSET as u64;
    // SAFETY: `start` wrote the record pointer before ThreadStart, and the
    // TCB's reference keeps the record alive while the thread runs.
    let record = unsafe { &*((field as *const u64).read_volatile() as *const Record) };
    // SAFETY: see Record: only this thread takes `main`, once.
    let main = unsafe { (*record.main.get()).take() };
    if let Some(main) = main {
        main();
    }
    super::local::run_destructors(tcb);
    record.finished.store(true, Ordering::Release);
    sys::thread_exit(0)
}

/// After `ThreadWait` said the thread ended: frees its block, drops it
/// from the registry.
pub(super) fn reap(record: &Arc<Record>) {
    let block = record.block.lock().take();
    if let Some(block) = block {
        release_tcb_record(block.tcb());
        block.destroy();
    }
    LIVE.lock().retain(|r| !Arc::ptr_eq(r, record));
}

/// Marks a thread detached: it is reaped after it ends.
pub(super) fn detach(record: &Arc<Record>) {
    record.detached.store(true, Ordering::Release);
}

/// Reaps the detached threads that have finished.
fn reap_finished() {
    let done: Vec<Arc<Record>> = LIVE
        .lock()
        .iter()
        .filter(|r| r.detached.load(Ordering::Acquire) && r.finished.load(Ordering::Acquire))
        .cloned()
        .collect();
    for record in done {
        // It set `finished` just before ThreadExit: the wait is short.
        if record.thread.wait().is_ok() {
            reap(&record);
        }
    }
}

/// The slot index of the block the stack pointer is in, if any.
fn current_index() -> Option<usize> {
    let rsp: u64;
    // SAFETY: reads the stack pointer into a register; no memory access.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
    };
    let offset = rsp.checked_sub(block::area())?;
    let index = usize::try_from(offset / block::SLOT_BYTES).ok()?;
    (index < block::SLOTS).then_some(index)
}

/// The current thread's record, if rt made it.
pub(super) fn current() -> Option<Arc<Record>> {
    let index = current_index()?;
    adopt_pending_main();
    LIVE.lock().iter().find(|r| r.index == index).cloned()
}

/// Runs `f` with the current thread's name, without allocating or
/// waiting for a lock (the panic handler's use): "main" for a first thread
/// without a record, "?" when the name cannot be had.
#[cfg(target_os = "none")]
pub(crate) fn with_current_name(f: impl FnOnce(&str)) {
    let Some(index) = current_index() else {
        return f("?");
    };
    if MAIN_PENDING.load(Ordering::Acquire) && MAIN[1].load(Ordering::Relaxed) as usize == index {
        return f("main");
    }
    match LIVE.try_lock() {
        Some(live) => {
            let name = live
                .iter()
                .find(|r| r.index == index)
                .and_then(|r| r.name());
            f(name.unwrap_or("?"))
        }
        None => f("?"),
    }
}

/// Whether the current thread runs on a block rt made (so its FS base is
/// a TCB).
pub fn has_tcb() -> bool {
    current_index().is_some()
}

/// The capability slot of the calling thread, if rt knows it (a thread rt
/// made, or the first thread of a loaded program).
pub fn current_thread_slot() -> Option<CapSlot> {
    let me = current_index()?;
    if MAIN_PENDING.load(Ordering::Acquire) && MAIN[1].load(Ordering::Relaxed) as usize == me {
        return Some(CapSlot(MAIN[0].load(Ordering::Relaxed) as u32));
    }
    use crate::handle::Handle;
    LIVE.lock()
        .iter()
        .find(|r| r.index == me)
        .map(|r| r.thread.slot())
}

/// In a forked child: only the calling thread exists. The others' records
/// are forgotten, not dropped: their capabilities are not in the child's
/// space, and their slot numbers may name something else there.
pub(crate) fn forget_others_after_fork() {
    let me = current_index();
    if MAIN_PENDING.load(Ordering::Acquire) && me != Some(MAIN[1].load(Ordering::Relaxed) as usize)
    {
        MAIN_PENDING.store(false, Ordering::Release);
    }
    let mut live = LIVE.lock();
    for record in core::mem::take(&mut *live) {
        if Some(record.index) == me {
            live.push(record);
        } else {
            core::mem::forget(record);
        }
    }
}

/// Suspends every thread rt made except the caller (the process's exit).
pub fn suspend_others() {
    let me = current_index();
    if MAIN_PENDING.load(Ordering::Acquire) {
        // The first thread has no record yet: it has made no other thread
        // either, unless one is being made right now, and it is the one
        // exiting, or another exits, which then suspends it.
        let main = MAIN[1].load(Ordering::Relaxed) as usize;
        if me != Some(main) {
            let _ = sys::thread_suspend(CapSlot(MAIN[0].load(Ordering::Relaxed) as u32));
        }
    }
    // Not `lock()`: the exit may come from a thread that holds the lock
    // (a panic inside it); then the others keep running until the parent
    // ends the process.
    if let Some(live) = LIVE.try_lock() {
        for record in live.iter().filter(|r| Some(r.index) != me) {
            let _ = record.thread.suspend();
        }
    }
}

/// The first thread of a loaded program, until its record is made: its
/// capability, block slot and TCB (a program that never asks for its
/// threads makes no record and allocates nothing).
static MAIN: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
/// Whether `MAIN` names a thread whose record is not made yet.
static MAIN_PENDING: AtomicBool = AtomicBool::new(false);

/// Registers the first thread of a loaded program, whose block the loader
/// made at slot `index` with its TCB at `tcb`; its record is made when
/// first needed.
pub fn adopt_main(thread: CapSlot, index: usize, tcb: u64) {
    MAIN[0].store(u64::from(thread.0), Ordering::Relaxed);
    MAIN[1].store(index as u64, Ordering::Relaxed);
    MAIN[2].store(tcb, Ordering::Relaxed);
    MAIN_PENDING.store(true, Ordering::Release);
}

/// Makes the first thread's record if it is still pending.
fn adopt_pending_main() {
    if !MAIN_PENDING.swap(false, Ordering::AcqRel) {
        return;
    }
    let thread = CapSlot(MAIN[0].load(Ordering::Relaxed) as u32);
    let index = MAIN[1].load(Ordering::Relaxed) as usize;
    let tcb = MAIN[2].load(Ordering::Relaxed);
    let record = Arc::new(Record {
        thread: Thread::from_raw(thread),
        name: Some(String::from("main")),
        index,
        block: Mutex::new(None),
        main: UnsafeCell::new(None),
        detached: AtomicBool::new(false),
        finished: AtomicBool::new(false),
    });
    set_tcb_record(tcb, Arc::into_raw(Arc::clone(&record)) as u64);
    LIVE.lock().push(record);
}

/// The TCB layout is what `entry` and `block` assume.
const _: () = assert!(core::mem::offset_of!(Tcb, self_ptr) == 0);
const _: () = assert!(block::TCB_IPC_BUFFER_OFFSET == 8);
