//! Faults delivered to a fault endpoint (resume, kill, a pager), budgets
//! that run out and bundles that return every frame, and lent buffers.

use crate::raw::{self as sys, Message};
use abi::ipc::fault::{self, kind};
use abi::syscall::{LendMode, exit_kind};
use abi::{CapSlot, MapFlags, Rights, SysError};

use super::support::{Raw, budget, free_frames, must, raw_entry};
use super::vm::{area, map_new, page_faulted, run, unmap_delete, write_word, written};
use super::{TestResult, aspace_cap};
use crate::cpu::{peek, peek_byte, poke, poke_byte};
use crate::{ensure, ensure_eq};

const PAGE: u64 = abi::layout::PAGE_BYTES;
const RW: MapFlags = MapFlags::READ.union(MapFlags::WRITE);

fn ud2(arg: u64) -> u64 {
    crate::cpu::ud2(arg)
}

fn int3(arg: u64) -> u64 {
    crate::cpu::int3(arg)
}

fn send_to(endpoint: u64) -> u64 {
    super::support::code(sys::send(CapSlot(endpoint as u32), &Message::new(1, &[])))
}

raw_entry! {
    write_entry => write_word;
    ud2_entry => ud2;
    int3_entry => int3;
    send_entry => send_to;
}

/// Receives one fault message on `endpoint` and checks its shape.
fn fault_message(endpoint: CapSlot, badge: u64) -> Result<[u64; 4], super::Failure> {
    let received = must(sys::recv(endpoint))?;
    ensure!(received.message.info.is_fault());
    ensure!(received.message.info.is_call());
    ensure_eq!(received.badge, badge);
    Ok(received.message.words)
}

fn resume() -> Result<(), SysError> {
    sys::reply(&Message::new(fault::RESUME, &[]))
}

pub fn fault_endpoint() -> TestResult {
    let base = area(8);
    let memory = map_new(2, base, MapFlags::READ)?;
    let endpoint = must(sys::endpoint_create(budget()))?;
    let badged = must(sys::cap_mint(endpoint, Rights::WRITE, 0x77))?;

    // A write to a read-only page: the message says where and why; the
    // supervisor makes the page writable and resumes; the write lands.
    let thread = Raw::new(write_entry, base).fault_endpoint(badged).start()?;
    let words = fault_message(endpoint, 0x77)?;
    ensure_eq!(words[fault::WORD_VECTOR], 14);
    let bits = kind::WRITE | kind::PROTECTION;
    ensure_eq!(words[fault::WORD_KIND] & 0xff, bits);
    ensure_eq!(words[fault::WORD_ADDR], base);
    must(sys::aspace_protect(aspace_cap(), base, 1, RW))?;
    must(resume())?;
    ensure_eq!(thread.join()?, 0);
    ensure_eq!(peek(base), written(base));

    // A supervisor that kills: a bad answer is refused, KILL ends it.
    let thread = Raw::new(write_entry, base + PAGE)
        .fault_endpoint(badged)
        .start()?;
    fault_message(endpoint, 0x77)?;
    ensure_eq!(sys::reply(&Message::new(7, &[])), Err(SysError::InvalidArg));
    must(sys::reply(&Message::new(fault::KILL, &[])))?;
    let status = thread.wait()?;
    ensure!(page_faulted(&status, base + PAGE));

    // A pager: a fault outside every region; the supervisor maps a page
    // there and resumes.
    let hole = base + (64 << 20);
    let thread = Raw::new(write_entry, hole).fault_endpoint(badged).start()?;
    let words = fault_message(endpoint, 0x77)?;
    ensure_eq!(words[fault::WORD_KIND] & kind::UNMAPPED, kind::UNMAPPED);
    let page = map_new(1, hole, RW)?;
    must(resume())?;
    ensure_eq!(thread.join()?, 0);
    ensure_eq!(peek(hole), written(hole));
    unmap_delete(page, hole, 1)?;

    // Other exceptions go there too.
    let thread = Raw::new(ud2_entry, 0).fault_endpoint(badged).start()?;
    let words = fault_message(endpoint, 0x77)?;
    ensure_eq!(words[fault::WORD_VECTOR], 6);
    must(sys::reply(&Message::new(fault::KILL, &[])))?;
    ensure_eq!(thread.wait()?.code, 6);

    // A supervisor that ends without answering: the thread ends.
    let supervisor = must(crate::raw_thread::spawn(
        |endpoint| sys::recv(CapSlot(endpoint as u32)).map_or(1, |_| 0),
        u64::from(endpoint.0),
    ))?;
    let thread = Raw::new(write_entry, base + PAGE)
        .fault_endpoint(badged)
        .start()?;
    ensure_eq!(must(supervisor.join())?.code, 0);
    ensure!(page_faulted(&thread.wait()?, base + PAGE));

    // A fault "endpoint" that is not one: killed as without any.
    let thread = Raw::new(write_entry, 0)
        .fault_endpoint(super::debug_cap())
        .start()?;
    ensure_eq!(thread.wait()?.kind, exit_kind::FAULTED);

    // A fault message still queued when the endpoint goes, behind an
    // ordinary sender: the thread ends with its fault (it is not in a
    // syscall to fail; were it woken, it would run on past the breakpoint
    // and exit), the sender gets PeerClosed.
    let sender = Raw::new(send_entry, u64::from(endpoint.0)).start()?;
    sys::thread_yield();
    let thread = Raw::new(int3_entry, 0).fault_endpoint(badged).start()?;
    sys::thread_yield();
    must(sys::cap_delete(badged))?;
    must(sys::cap_delete(endpoint))?;
    let status = thread.wait()?;
    ensure_eq!((status.kind, status.code), (exit_kind::FAULTED, 3));
    ensure_eq!(sender.join()?, SysError::PeerClosed.code());
    unmap_delete(memory, base, 2)
}

pub fn budget_runs_out() -> TestResult {
    let base = area(9);
    super::vm::warm_up(base)?;
    let before = free_frames()?;
    let child = must(sys::budget_split(budget(), 8))?;
    let memory = must(sys::memory_create(child, 16))?;
    must(sys::aspace_map(aspace_cap(), memory, 0, base, 16, RW))?;
    for page in 0..7 {
        poke(base + page * PAGE, page);
    }
    ensure_eq!(must(sys::budget_info(child))?.used, 8);
    // The ninth frame cannot be paid: the touch ends the thread, a
    // syscall that needs the page fails, and nothing else changes.
    ensure!(page_faulted(
        &run(write_word, base + 7 * PAGE)?,
        base + 7 * PAGE
    ));
    ensure_eq!(
        sys::debug_write_raw(super::debug_cap(), base + 8 * PAGE, 8),
        Err(SysError::OutOfMemory)
    );
    ensure_eq!(sys::memory_create(child, 1), Err(SysError::OutOfMemory));
    ensure_eq!(sys::endpoint_create(child), Err(SysError::OutOfMemory));
    ensure_eq!(sys::budget_split(child, 1), Err(SysError::OutOfMemory));
    ensure_eq!(sys::budget_split(child, 0), Err(SysError::InvalidArg));
    ensure_eq!(must(sys::budget_info(child))?.used, 8);
    // The rest of the system carries on.
    let endpoint = must(sys::endpoint_create(budget()))?;
    must(sys::cap_delete(endpoint))?;
    // Giving frames back makes room again.
    must(sys::memory_resize(memory, 6))?;
    must(sys::memory_resize(memory, 16))?;
    poke(base + 7 * PAGE, 7);
    ensure_eq!(peek(base + 5 * PAGE), 5);
    unmap_delete(memory, base, 16)?;
    ensure_eq!(
        sys::budget_info(aspace_cap()).err(),
        Some(SysError::WrongType)
    );
    must(sys::cap_delete(child))?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn touch_and_wait(base: u64) -> u64 {
    for page in 0..8 {
        poke(base + page * PAGE, page);
    }
    loop {
        sys::thread_yield();
    }
}

raw_entry! {
    toucher_entry => touch_and_wait;
}

pub fn clone_out_of_memory_keeps_nothing() -> TestResult {
    // An object two tree levels deep with one page far out: copying its
    // tree needs two nodes, and the budget runs out after the first
    // (found by sysfuzz: the failed copy used to keep a node's charge).
    let base = area(13);
    let pages = 131_073;
    let memory = must(sys::memory_create(budget(), pages))?;
    let source = must(sys::aspace_create(budget()))?;
    must(sys::aspace_map(source, memory, 0, base, pages, RW))?;
    must(sys::aspace_map(
        aspace_cap(),
        memory,
        pages - 1,
        base,
        1,
        RW,
    ))?;
    poke(base, 1);
    let before = free_frames()?;
    for frames in 1..8 {
        let child = must(sys::budget_split(budget(), frames))?;
        match sys::aspace_clone(child, source) {
            Ok(clone) => must(sys::cap_delete(clone))?,
            Err(error) => ensure_eq!(error, SysError::OutOfMemory),
        }
        ensure_eq!(must(sys::budget_info(child))?.used, 0);
        must(sys::cap_delete(child))?;
        ensure_eq!(free_frames()?, before);
    }
    must(sys::aspace_unmap(aspace_cap(), base, 1))?;
    must(sys::cap_delete(source))?;
    must(sys::cap_delete(memory))?;
    Ok(())
}

pub fn budget_bundle_destroyed() -> TestResult {
    let before = free_frames()?;
    let root_used = must(sys::budget_info(budget()))?.used;
    let child = must(sys::budget_split(budget(), 400))?;
    // A process-like bundle paid from the child budget: a copy of this
    // program's address space with more memory in it, a capability space
    // with an endpoint, and a running thread that touched its memory.
    let aspace = must(sys::aspace_clone(child, aspace_cap()))?;
    let cspace = must(sys::cspace_create(child, 128))?;
    let memory = must(sys::memory_create(child, 64))?;
    let base = area(10);
    must(sys::aspace_map(aspace, memory, 0, base, 64, RW))?;
    let endpoint = must(sys::endpoint_create(child))?;
    must(sys::cap_copy_to(
        endpoint,
        Rights::all(),
        cspace,
        CapSlot::NULL,
    ))?;
    let _notification = must(sys::notification_create(child))?;
    let thread = Raw::new(toucher_entry, base)
        .aspace(aspace)
        .cspace(cspace)
        .budget(child)
        .start()?;
    while must(sys::budget_info(child))?.used < 20 {
        sys::thread_yield();
    }
    // Revoking the budget deletes every capability to what it paid for;
    // the objects go, and every frame comes back.
    must(sys::cap_revoke(child))?;
    thread.deleted_itself()?;
    ensure_eq!(must(sys::budget_info(child))?.used, 0);
    must(sys::cap_delete(child))?;
    ensure_eq!(must(sys::budget_info(budget()))?.used, root_used);
    ensure_eq!(free_frames()?, before);
    Ok(())
}

pub fn lend_head_tail() -> TestResult {
    let base = area(11);
    for area in [base, base + (64 << 20), base + (80 << 20)] {
        super::vm::warm_up(area)?;
    }
    let before = free_frames()?;
    let memory = map_new(3, base, RW)?;
    for word in 0..3 * PAGE / 8 {
        poke(base + word * 8, 0xaaaa_aaaa_aaaa_aaaa);
    }
    let start = base + 100;
    let len = 2 * PAGE - 50;
    let pattern = |i: u64| (i % 251) as u8 + 1;
    for i in 0..len {
        poke_byte(start + i, pattern(i));
    }
    let aspace = aspace_cap();
    let (lent, offset) = must(sys::memory_lend(
        budget(),
        aspace,
        start,
        len,
        LendMode::Lend,
    ))?;
    ensure_eq!(offset, 100);
    let info = must(sys::cap_info(lent))?;
    ensure_eq!(info.rights, (Rights::READ | Rights::GRANT).bits());
    let view = base + (64 << 20);
    ensure_eq!(
        sys::aspace_map(aspace, lent, 0, view, 3, RW),
        Err(SysError::MissingRights)
    );
    must(sys::aspace_map(aspace, lent, 0, view, 3, MapFlags::READ))?;
    // Not one byte from outside the buffer, though it shares its pages.
    for i in 0..100 {
        ensure_eq!(peek_byte(view + i), 0);
    }
    for i in offset + len..3 * PAGE {
        ensure_eq!(peek_byte(view + i), 0);
    }
    for i in (0..len).step_by(97) {
        ensure_eq!(peek_byte(view + offset + i), pattern(i));
    }
    // The sender writes afterwards: the lent bytes do not change.
    poke_byte(start, 0x55);
    poke(base + PAGE, 0x1234);
    ensure_eq!(peek_byte(view + offset), pattern(0));
    ensure_eq!(peek_byte(view + PAGE), pattern(PAGE - 100));
    // Moving: the whole page leaves the sender (it reads zero there), the
    // partial ones are copied and stay.
    let (moved, _) = must(sys::memory_lend(
        budget(),
        aspace,
        start,
        len,
        LendMode::Move,
    ))?;
    ensure_eq!(peek(base + PAGE), 0);
    ensure_eq!(peek_byte(start), 0x55);
    let view2 = view + (16 << 20);
    must(sys::aspace_map(aspace, moved, 0, view2, 3, MapFlags::READ))?;
    ensure_eq!(peek(view2 + PAGE), 0x1234);
    // Errors.
    let lend = |addr, len, mode| sys::memory_lend(budget(), aspace, addr, len, mode);
    ensure_eq!(lend(start, 0, LendMode::Lend), Err(SysError::InvalidArg));
    ensure_eq!(
        lend(0xffff_8000_0000_0000, 8, LendMode::Lend),
        Err(SysError::InvalidArg)
    );
    ensure_eq!(
        lend(base + (32 << 20), 8, LendMode::Lend),
        Err(SysError::BadAddress)
    );
    ensure_eq!(lend(view, 8, LendMode::Move), Err(SysError::BadAddress));
    ensure_eq!(
        sys::memory_lend(budget(), lent, view, 8, LendMode::Lend),
        Err(SysError::WrongType)
    );
    must(sys::aspace_unmap(aspace, view2, 3))?;
    must(sys::cap_delete(moved))?;
    unmap_delete(lent, view, 3)?;
    unmap_delete(memory, base, 3)?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}
