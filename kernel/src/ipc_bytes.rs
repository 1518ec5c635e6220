//! The bytes of a message (docs/ipc.md, "Bytes"): a message whose info has
//! the bytes flag carries, besides its words and capabilities, the bytes
//! of up to `MSG_MAX_PIECES` ranges of the sender's memory, which the
//! kernel copies straight into the window the receiver named in its IPC
//! buffer. L4's string items and QNX's replies work this way: a server
//! answers a read with the file's bytes from where it keeps them, and
//! they land in the caller's buffer with one copy.
//!
//! Both sides are reached through their own page tables and the direct
//! map, so either thread may be in another address space and neither
//! needs to be running. [`plan`] checks everything and faults every page
//! in first (a sender's lazy page, a receiver's copy-on-write page), so
//! [`copy`] cannot fail: the transfer stays whole or nothing.

use abi::SysError;
use abi::ipc::{
    IPC_BUFFER_PIECE_COUNT_OFFSET, IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_RECEIVED_OFFSET,
    IPC_BUFFER_WINDOW_OFFSET, MSG_MAX_BYTES, MSG_MAX_PIECES,
};
use abi::layout::{PAGE_BYTES, USER_START, is_user_range};

use crate::arch::user_tables::{self, Access};
use crate::ipc::TransferError;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::mem::phys;
use crate::object::thread::Thread;
use crate::vm;

/// What a transfer's bytes will copy, checked: the sender's pieces, and
/// where in the receiver they go.
pub struct Plan {
    pieces: [(u64, u64); MSG_MAX_PIECES],
    count: usize,
    /// The receiver's window; `len` is what will be copied (the pieces'
    /// total, cut to the window).
    window: u64,
    len: u64,
    /// The physical address of the receiver's `received` word, where the
    /// count copied goes.
    count_word: u64,
}

/// Reads the sender's pieces from its IPC buffer (at physical `source`)
/// and the receiver's window from its own (at physical `destination`),
/// checks them, and faults their pages in.
///
/// # Errors
/// For the sender: [`SysError::InvalidArg`] for more than
/// `MSG_MAX_PIECES` pieces or more than `MSG_MAX_BYTES` bytes in all;
/// [`SysError::BadAddress`] for a piece outside user space or not
/// readable; [`SysError::OutOfMemory`] if a lazy page of a piece cannot
/// be paid for. For the receiver: [`SysError::BadAddress`] for a window
/// outside user space or not writable (only the part the bytes need is
/// checked); [`SysError::OutOfMemory`] likewise.
pub fn plan(
    k: &mut Kernel,
    sender: ObjId<Thread>,
    receiver: ObjId<Thread>,
    source: u64,
    destination: u64,
) -> Result<Plan, TransferError> {
    // Offsets inside an IPC buffer, which lies in one RAM page: the sums
    // below cannot wrap.
    let at = |buffer: u64, offset: usize| buffer.wrapping_add(offset as u64);
    let count = phys::read_u64(at(source, IPC_BUFFER_PIECE_COUNT_OFFSET));
    if count > MSG_MAX_PIECES as u64 {
        return Err(TransferError::Sender(SysError::InvalidArg));
    }
    let count = count as usize;
    let mut plan = Plan {
        pieces: [(0, 0); MSG_MAX_PIECES],
        count,
        window: phys::read_u64(at(destination, IPC_BUFFER_WINDOW_OFFSET)),
        len: 0,
        count_word: at(destination, IPC_BUFFER_RECEIVED_OFFSET),
    };
    let mut total = 0u64;
    for (i, piece) in plan.pieces.iter_mut().enumerate().take(count) {
        // `i < MSG_MAX_PIECES`: inside the buffer.
        let entry = at(
            source,
            IPC_BUFFER_PIECES_OFFSET.wrapping_add(i.wrapping_mul(16)),
        );
        let (addr, len) = (phys::read_u64(entry), phys::read_u64(entry.wrapping_add(8)));
        total = total
            .checked_add(len)
            .filter(|&total| total <= MSG_MAX_BYTES)
            .ok_or(TransferError::Sender(SysError::InvalidArg))?;
        if len > 0 && !user_range(addr, len) {
            return Err(TransferError::Sender(SysError::BadAddress));
        }
        *piece = (addr, len);
    }
    let room = phys::read_u64(at(destination, IPC_BUFFER_WINDOW_OFFSET.wrapping_add(8)));
    plan.len = total.min(room);
    if plan.len == 0 {
        return Ok(plan);
    }
    if !user_range(plan.window, plan.len) {
        return Err(TransferError::Receiver(SysError::BadAddress));
    }
    // The sender's pieces, as far as the window takes them.
    let sender_space = k.objects.get(sender).aspace;
    let mut left = plan.len;
    for &(addr, len) in &plan.pieces[..count] {
        let take = len.min(left);
        ready(k, sender_space, addr, take, Access::Read).map_err(TransferError::Sender)?;
        left = left.wrapping_sub(take);
    }
    let receiver_space = k.objects.get(receiver).aspace;
    ready(k, receiver_space, plan.window, plan.len, Access::Write)
        .map_err(TransferError::Receiver)?;
    Ok(plan)
}

/// Copies what `plan` checked and writes the count into the receiver's
/// `received` word. Nothing ran since [`plan`], so every page is still
/// there.
pub fn copy(k: &Kernel, sender: ObjId<Thread>, receiver: ObjId<Thread>, plan: &Plan) {
    let from_root = k.objects.get(k.objects.get(sender).aspace).root;
    let to_root = k.objects.get(k.objects.get(receiver).aspace).root;
    // Every range here was checked to lie in user space (`plan`), so no
    // sum or difference below wraps.
    let mut to = plan.window;
    let end = plan.window.wrapping_add(plan.len);
    for &(mut from, len) in &plan.pieces[..plan.count] {
        let piece_end = from.wrapping_add(len);
        while from < piece_end && to < end {
            let chunk = piece_end
                .wrapping_sub(from)
                .min(end.wrapping_sub(to))
                .min(PAGE_BYTES.wrapping_sub(from % PAGE_BYTES))
                .min(PAGE_BYTES.wrapping_sub(to % PAGE_BYTES));
            let (Some(src), Some(dst)) = (
                user_tables::translate_ram(from_root, from, Access::Read),
                user_tables::translate_ram(to_root, to, Access::Write),
            ) else {
                // `plan` made every page present and RAM.
                debug_assert!(false, "a planned page went away");
                return;
            };
            phys::copy_span(dst, src, chunk);
            from = from.wrapping_add(chunk);
            to = to.wrapping_add(chunk);
        }
    }
    phys::write_u64(plan.count_word, plan.len);
}

/// Whether `[addr, addr + len)` (not empty) lies in user space above the
/// null page.
fn user_range(addr: u64, len: u64) -> bool {
    is_user_range(addr, len) && addr >= USER_START
}

/// Faults in every page of a user range for `access` and checks each is
/// RAM (not device memory).
fn ready(
    k: &mut Kernel,
    aspace: ObjId<crate::object::aspace::AddressSpace>,
    addr: u64,
    len: u64,
    access: Access,
) -> Result<(), SysError> {
    if len == 0 {
        return Ok(());
    }
    vm::fault::populate(k, aspace, addr, len, access)?;
    let root = k.objects.get(aspace).root;
    // A user range (checked by the caller): its end and the pages up to
    // it do not wrap.
    let end = addr.wrapping_add(len);
    let mut page = addr & !(PAGE_BYTES - 1);
    while page < end {
        if user_tables::translate_ram(root, page, access).is_none() {
            return Err(SysError::BadAddress);
        }
        page = page.wrapping_add(PAGE_BYTES);
    }
    Ok(())
}
