//! The runtime (`rt`) as a program uses it: owning handles, messages of
//! every size, threads with closures, thread-local values, the heap, the
//! futex locks, sleeping and deadlines.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::ipc::{MSG_MAX_CAPS, MSG_MAX_WORDS};
use abi::{CapSlot, ObjectType, Rights, SysError};
use rt::handle::Handle;
use rt::ipc::{Endpoint, Message};
use rt::memory::Budget;
use rt::notify::Notification;
use rt::sync::{Condvar, Mutex, Once, OnceLock};
use rt::thread::{self, Builder, JoinError, Local};
use rt::time::{Duration, Instant};

use super::TestResult;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// The program's budget as a handle that does not own the slot.
fn budget() -> Budget {
    Budget::from_raw(rt::process::own_caps().budget)
}

/// Runs `f` with the program's budget, giving the slot back afterwards.
fn with_budget<R>(f: impl FnOnce(&Budget) -> R) -> R {
    let budget = budget();
    let result = f(&budget);
    let _ = budget.into_raw();
    result
}

/// Handles own their slots: dropping one deletes its capability, `into_raw`
/// keeps it, copies and mints are handles of their own.
pub fn handles_own_slots() -> TestResult {
    let endpoint = with_budget(Endpoint::create).map_err(|_| fail())?;
    let slot = endpoint.slot();
    ensure_eq!(
        endpoint.info().ok().and_then(|i| i.object_type()),
        Some(ObjectType::Endpoint)
    );
    let copy = endpoint.copy(Rights::WRITE).map_err(|_| fail())?;
    ensure!(copy.slot() != slot);
    ensure_eq!(copy.info().map(|i| i.rights), Ok(Rights::WRITE.bits()));
    let minted = endpoint.mint(Rights::WRITE, 7).map_err(|_| fail())?;
    ensure_eq!(minted.info().map(|i| i.badge), Ok(7));
    let copy_slot = copy.slot();
    drop(copy);
    ensure_eq!(
        rt::sys::cap_info(copy_slot).err(),
        Some(SysError::InvalidCap)
    );
    // Revoking the original deletes the minted copy behind its handle; its
    // drop then finds an empty slot and does no harm.
    endpoint.revoke().map_err(|_| fail())?;
    ensure_eq!(minted.info().err(), Some(SysError::InvalidCap));
    drop(minted);
    let raw = endpoint.into_raw();
    ensure!(rt::sys::cap_info(raw).is_ok());
    ensure_eq!(rt::sys::cap_delete(raw), Ok(()));
    // A handle adopted from a slot of the wrong type gets WrongType.
    let wrong = Notification::from_raw(raw);
    ensure_eq!(wrong.signal(1), Err(SysError::InvalidCap));
    let _ = wrong.into_raw();
    Ok(())
}

/// Messages of every length and capability count go through a call and
/// come back as the server built them.
pub fn message_every_size() -> TestResult {
    let endpoint = Arc::new(with_budget(Endpoint::create).map_err(|_| fail())?);
    let server_end = Arc::clone(&endpoint);
    let server = Builder::new()
        .name("echo")
        .spawn(move || -> Result<u64, SysError> {
            let mut message = Message::new(0);
            server_end.recv(&mut message)?;
            let mut served = 0;
            loop {
                if message.label() == 0xdead {
                    rt::ipc::reply(&Message::new(0))?;
                    return Ok(served);
                }
                // The reply: the words reversed, plus one, and the received
                // capabilities' slots deleted.
                let words: Vec<u64> = message.words().iter().rev().map(|w| w + 1).collect();
                for &slot in message.caps() {
                    let _ = rt::sys::cap_delete(slot);
                }
                let caps = message.caps().len() as u64;
                message = Message::with_words(message.label() + caps, &words);
                served += 1;
                server_end.reply_recv(&mut message)?;
            }
        })
        .map_err(|_| fail())?;
    let mut calls = 0;
    for caps in 0..=MSG_MAX_CAPS {
        for len in 0..=MSG_MAX_WORDS {
            let words: Vec<u64> = (0..len as u64).map(|i| i * 3 + 1).collect();
            let mut message = Message::with_words(100, &words);
            for _ in 0..caps {
                message.push_cap(endpoint.slot()).map_err(|_| fail())?;
            }
            endpoint.call(&mut message).map_err(|_| fail())?;
            calls += 1;
            ensure_eq!(message.label(), 100 + caps as u64);
            let expected: Vec<u64> = words.iter().rev().map(|w| w + 1).collect();
            ensure_eq!(message.words(), &expected[..]);
            ensure_eq!(message.caps().len(), 0);
        }
    }
    let mut stop = Message::new(0xdead);
    endpoint.call(&mut stop).map_err(|_| fail())?;
    ensure_eq!(server.join(), Ok(Ok(calls)));
    // A message refuses a 65th word and a fourth capability.
    let mut full = Message::with_words(1, &[0; MSG_MAX_WORDS]);
    ensure!(full.push(1).is_err());
    for _ in 0..MSG_MAX_CAPS {
        full.push_cap(CapSlot(1)).map_err(|_| fail())?;
    }
    ensure!(full.push_cap(CapSlot(1)).is_err());
    Ok(())
}

/// Deadlines on endpoints and notifications through the handles.
pub fn deadlines() -> TestResult {
    let endpoint = with_budget(Endpoint::create).map_err(|_| fail())?;
    let start = Instant::now();
    let deadline = rt::time::deadline_after(Duration::from_millis(2));
    let mut message = Message::new(0);
    ensure_eq!(
        endpoint.recv_until(&mut message, deadline),
        Err(SysError::TimedOut)
    );
    ensure!(start.elapsed() >= Duration::from_millis(2));
    let deadline = rt::time::deadline_after(Duration::from_millis(1));
    ensure_eq!(
        endpoint.send_until(&Message::new(1), deadline),
        Err(SysError::TimedOut)
    );
    let deadline = rt::time::deadline_after(Duration::from_millis(1));
    ensure_eq!(
        endpoint.call_until(&mut message, deadline),
        Err(SysError::TimedOut)
    );
    ensure_eq!(endpoint.nb_recv(&mut message), Err(SysError::WouldBlock));
    ensure_eq!(
        endpoint.nb_send(&Message::new(1)),
        Err(SysError::WouldBlock)
    );
    let notification = with_budget(Notification::create).map_err(|_| fail())?;
    let deadline = rt::time::deadline_after(Duration::from_millis(1));
    ensure_eq!(notification.wait_until(deadline), Err(SysError::TimedOut));
    notification.signal(0b101).map_err(|_| fail())?;
    ensure_eq!(notification.poll(), Ok(0b101));
    Ok(())
}

/// Closures with captured state run on threads with names, priorities and
/// stacks as asked, and join returns their values.
pub fn threads_with_closures() -> TestResult {
    let base = 40u64;
    let handles: Vec<_> = (0..8u64)
        .map(|i| Builder::new().name("adder").spawn(move || base + i))
        .collect::<Result<_, _>>()
        .map_err(|_| fail())?;
    let mut sum = 0;
    for handle in handles {
        ensure_eq!(handle.name(), Some("adder"));
        sum += handle.join().map_err(|_| fail())?;
    }
    ensure_eq!(sum, 8 * 40 + 28);
    // A large stack is usable to its bottom.
    let deep = Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let mut buffer = [0u8; 900 * 1024];
            for (i, byte) in buffer.iter_mut().enumerate().step_by(4096) {
                *byte = i as u8;
            }
            core::hint::black_box(&buffer);
            buffer.len()
        })
        .map_err(|_| fail())?;
    ensure_eq!(deep.join().ok(), Some(900 * 1024));
    // The thread's own name and handle, from inside.
    let named = Builder::new()
        .name("inside")
        .spawn(|| thread::current().map(|r| r.name() == Some("inside")))
        .map_err(|_| fail())?;
    ensure_eq!(named.join().ok(), Some(Some(true)));
    // Errors: a stack bigger than a slot, a priority above the maximum.
    ensure_eq!(
        Builder::new().stack_size(2 << 30).spawn(|| 0).err(),
        Some(SysError::InvalidArg)
    );
    ensure!(Builder::new().priority(1000).spawn(|| 0).is_err());
    // A thread that faults: join says so, the process goes on.
    let faulting = Builder::new()
        .spawn(|| crate::cpu::read_at(0x10))
        .map_err(|_| fail())?;
    match faulting.join() {
        Err(JoinError::Faulted(status)) => ensure_eq!(status.code, 14),
        _ => return Err(fail()),
    }
    Ok(())
}

/// Detached threads are reaped: more of them than there are slots run one
/// after another.
pub fn threads_detached() -> TestResult {
    static DONE: AtomicU64 = AtomicU64::new(0);
    DONE.store(0, Ordering::SeqCst);
    let count = rt::thread::block::SLOTS as u64 + 44;
    for _ in 0..count {
        let handle = thread::spawn(|| {
            DONE.fetch_add(1, Ordering::SeqCst);
        })
        .map_err(|_| fail())?;
        handle.detach();
        // Let it run and finish before the next (same priority).
        while DONE.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        rt::thread::yield_now();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while DONE.load(Ordering::SeqCst) < count && Instant::now() < deadline {
        thread::yield_now();
    }
    ensure_eq!(DONE.load(Ordering::SeqCst), count);
    Ok(())
}

/// Each thread has its own thread-local value, its own control block at
/// the FS base and its own IPC buffer.
pub fn thread_local_values() -> TestResult {
    static COUNTER: Local<Cell<u64>> = Local::new(|| Cell::new(0));
    COUNTER.with(|c| c.set(5));
    let others: Vec<_> = (1..=4u64)
        .map(|i| {
            thread::spawn(move || {
                COUNTER.with(|c| c.set(c.get() + i));
                let tcb = rt::thread::block::current_tcb();
                let ipc = rt::thread::block::ipc_buffer_addr();
                (COUNTER.with(Cell::get), tcb, ipc)
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| fail())?;
    let mut seen = Vec::new();
    for (i, handle) in others.into_iter().enumerate() {
        let (value, tcb, ipc) = handle.join().map_err(|_| fail())?;
        ensure_eq!(value, i as u64 + 1);
        ensure!(tcb != 0 && ipc % 4096 == 0 && ipc > tcb);
        ensure!(!seen.contains(&tcb));
        seen.push(tcb);
    }
    ensure_eq!(COUNTER.with(Cell::get), 5);
    Ok(())
}

/// The heap grows as collections grow, and a request past what it can
/// ever hold is an allocation error, not a fault.
pub fn heap_grows() -> TestResult {
    let before = rt::heap::committed_bytes();
    let mut big: Vec<u64> = Vec::new();
    for i in 0..(1u64 << 20) {
        big.push(i);
    }
    ensure_eq!(
        big.iter().sum::<u64>(),
        (1u64 << 20) * ((1u64 << 20) - 1) / 2
    );
    ensure!(rt::heap::committed_bytes() >= before.max(8 << 20));
    drop(big);
    let mut huge: Vec<u8> = Vec::new();
    ensure!(huge.try_reserve(1 << 40).is_err());
    ensure!(huge.try_reserve(4096).is_ok());
    Ok(())
}

/// A mutex under contention from threads of several priorities loses no
/// increment.
pub fn mutex_contended() -> TestResult {
    let counter = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..4u64)
        .map(|i| {
            let counter = Arc::clone(&counter);
            Builder::new().spawn(move || {
                for n in 0..2000u64 {
                    let mut guard = counter.lock();
                    let value = *guard;
                    if n % 64 == i {
                        thread::yield_now();
                    }
                    *guard = value + 1;
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| fail())?;
    for worker in workers {
        worker.join().map_err(|_| fail())?;
    }
    ensure_eq!(*counter.lock(), 8000);
    ensure!(counter.try_lock().is_some());
    Ok(())
}

/// A producer and consumers meet through a condition variable; a wait with
/// a deadline gives up.
pub fn condvar_queue() -> TestResult {
    let shared = Arc::new((Mutex::new(Vec::<u64>::new()), Condvar::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (queue, ready) = &*shared;
                let mut sum = 0;
                loop {
                    let mut items = queue.lock();
                    while items.is_empty() {
                        ready.wait(&mut items);
                    }
                    let item = items.remove(0);
                    if item == 0 {
                        return sum;
                    }
                    sum += item;
                }
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| fail())?;
    let (queue, ready) = &*shared;
    for item in 1..=300u64 {
        queue.lock().push(item);
        ready.notify_one();
        if item % 50 == 0 {
            thread::yield_now();
        }
    }
    for _ in 0..3 {
        queue.lock().push(0);
    }
    ready.notify_all();
    let mut total = 0;
    for consumer in consumers {
        total += consumer.join().map_err(|_| fail())?;
    }
    ensure_eq!(total, 300 * 301 / 2);
    let lonely = Condvar::new();
    let lock = Mutex::new(());
    let mut guard = lock.lock();
    let start = Instant::now();
    ensure!(!lonely.wait_until(
        &mut guard,
        rt::time::deadline_after(Duration::from_millis(2))
    ));
    ensure!(start.elapsed() >= Duration::from_millis(2));
    Ok(())
}

/// `Once` runs its function once however many threads race for it, and
/// `OnceLock` hands everyone the same value.
pub fn once_races() -> TestResult {
    static ONCE: Once = Once::new();
    static RUNS: AtomicU64 = AtomicU64::new(0);
    static VALUE: OnceLock<u64> = OnceLock::new();
    let racers: Vec<_> = (0..6u64)
        .map(|i| {
            thread::spawn(move || {
                ONCE.call_once(|| {
                    RUNS.fetch_add(1, Ordering::SeqCst);
                    thread::yield_now();
                });
                *VALUE.get_or_init(|| 100 + i)
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| fail())?;
    let values: Vec<u64> = racers.into_iter().map(|r| r.join().unwrap_or(0)).collect();
    ensure_eq!(RUNS.load(Ordering::SeqCst), 1);
    ensure!(ONCE.is_completed());
    ensure!(
        values
            .iter()
            .all(|&v| v == values[0] && (100..106).contains(&v))
    );
    ensure_eq!(VALUE.set(7), Err(7));
    Ok(())
}

/// `sleep` sleeps at least as long as asked, and not much longer.
pub fn sleep_and_time() -> TestResult {
    for ms in [1u64, 3, 10] {
        let start = Instant::now();
        rt::time::sleep(Duration::from_millis(ms));
        let slept = start.elapsed();
        ensure!(slept >= Duration::from_millis(ms));
        ensure!(slept < Duration::from_millis(ms + 50));
    }
    let past = Instant::now();
    rt::time::sleep_until(past);
    ensure!(Instant::now() - past < Duration::from_millis(50));
    rt::log::info!("runtime log line from a test");
    Ok(())
}

/// The IPC syscalls under their own names in `rt::sys` (raw slots, the
/// one `Message` type): a call answered by a thread that receives and
/// replies, and the non-blocking forms' errors.
pub fn sys_ipc_names() -> TestResult {
    let endpoint = with_budget(Endpoint::create).map_err(|_| fail())?;
    let slot = endpoint.slot();
    let mut message = Message::new(0);
    ensure_eq!(
        rt::sys::nb_recv(slot, &mut message),
        Err(SysError::WouldBlock)
    );
    ensure_eq!(rt::sys::nb_send(slot, &message), Err(SysError::WouldBlock));
    let server = thread::spawn(move || -> Result<u64, SysError> {
        let mut request = Message::new(0);
        rt::sys::recv(slot, &mut request, 0)?;
        let answer = Message::with_words(request.label() + 1, &[request.word(0) * 2]);
        rt::sys::reply(&answer)?;
        rt::sys::recv(slot, &mut request, 0)?;
        let mut answer = Message::with_words(9, &[request.word(0)]);
        rt::sys::reply_recv(slot, &mut answer).map(|()| answer.label())
    })
    .map_err(|_| fail())?;
    let mut call = Message::with_words(40, &[21]);
    ensure_eq!(rt::sys::call(slot, &mut call), Ok(()));
    ensure_eq!((call.label(), call.words()), (41, &[42][..]));
    let mut second = Message::with_words(1, &[5]);
    ensure_eq!(rt::sys::call(slot, &mut second), Ok(()));
    ensure_eq!((second.label(), second.word(0)), (9, 5));
    // The server's ReplyRecv waits again; a plain send ends it.
    ensure_eq!(rt::sys::send(slot, &Message::new(77)), Ok(()));
    ensure_eq!(server.join().map_err(|_| fail())?, Ok(77));
    Ok(())
}
