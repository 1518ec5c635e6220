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
//! needs to be running. The copy streams: each piece is checked as it
//! comes, each page translated once, and the bytes go a run at a time
//! (`rep movsb`, as usercopy). It runs before anything else of the
//! transfer changes, so a failure leaves the transfer undone, except that
//! the receiver's window may hold some of the bytes (it is the receiver's
//! memory, given for this message's bytes).

use abi::SysError;
use abi::ipc::{
    IPC_BUFFER_PIECE_COUNT_OFFSET, IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_RECEIVED_OFFSET,
    IPC_BUFFER_WINDOW_OFFSET, MSG_MAX_BYTES, MSG_MAX_PIECES,
};
use abi::layout::{PAGE_BYTES, USER_START, is_user_range};

use crate::arch::user_tables::{self, Access};
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::mem::phys;
use crate::object::aspace::{AddressSpace, BytesTlb};
use crate::object::thread::Thread;
use crate::vm;

/// Why the bytes were not copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The sender's pieces are bad.
    Sender(SysError),
    /// The receiver's window is bad.
    Receiver(SysError),
    /// A page is not present and faulting it in was not allowed (the
    /// fast path's case: the general path does it).
    NotPresent,
}

/// The frame of user page `page` of `space` (whose root table is `root`)
/// for `access`, faulting it in if `fault_in` allows; errors are blamed
/// on the sender for a read, on the receiver for a write.
/// The space's last translations are kept (`AddressSpace::bytes_tlb`)
/// and used again while no page-table entry has been written since.
#[inline(never)]
fn frame(
    k: &mut Kernel,
    space: ObjId<AddressSpace>,
    root: u64,
    page: u64,
    access: Access,
    fault_in: bool,
) -> Result<u64, Stop> {
    let generation = user_tables::generation();
    let way = ((page / PAGE_BYTES) & 1) as usize;
    let cached = k.objects.get(space).bytes_tlb[way];
    if cached.page == page
        && cached.generation == generation
        && (cached.writable || access != Access::Write)
    {
        return Ok(cached.frame);
    }
    if let Some(frame) = user_tables::translate_ram(root, page, access) {
        k.objects.get_mut(space).bytes_tlb[way] = BytesTlb {
            page,
            frame,
            generation,
            writable: access == Access::Write,
        };
        return Ok(frame);
    }
    let blame = |error| match access {
        Access::Write => Stop::Receiver(error),
        _ => Stop::Sender(error),
    };
    if !fault_in {
        return Err(Stop::NotPresent);
    }
    vm::fault::populate(k, space, page, PAGE_BYTES, access).map_err(blame)?;
    // A page that is there but not RAM (device memory) is refused.
    user_tables::translate_ram(root, page, access).ok_or(blame(SysError::BadAddress))
}

/// Copies the bytes `sender` lists in its IPC buffer (at physical
/// `source`) into the window `receiver` names in its own (at physical
/// `destination`), cut to the window, and writes the count into the
/// receiver's `received` word. With `fault_in`, missing pages are faulted
/// in as a touch would (the general path); without, a missing page stops
/// the copy with [`Stop::NotPresent`] (the fast path).
///
/// # Errors
/// For the sender: [`SysError::InvalidArg`] for more than
/// `MSG_MAX_PIECES` pieces or more than `MSG_MAX_BYTES` bytes in all;
/// [`SysError::BadAddress`] for a piece outside user space or not
/// readable RAM; [`SysError::OutOfMemory`] if a lazy page of a piece
/// cannot be paid for. For the receiver: [`SysError::BadAddress`] for a
/// window outside user space or not writable RAM (only the part the bytes
/// need is looked at); [`SysError::OutOfMemory`] likewise.
pub fn copy(
    k: &mut Kernel,
    sender: ObjId<Thread>,
    receiver: ObjId<Thread>,
    source: u64,
    destination: u64,
    fault_in: bool,
) -> Result<(), Stop> {
    // Offsets inside an IPC buffer, which lies in one RAM page: the sums
    // cannot wrap.
    let at = |buffer: u64, offset: usize| buffer.wrapping_add(offset as u64);
    let count = phys::read_u64(at(source, IPC_BUFFER_PIECE_COUNT_OFFSET));
    if count > MSG_MAX_PIECES as u64 {
        return Err(Stop::Sender(SysError::InvalidArg));
    }
    let window = phys::read_u64(at(destination, IPC_BUFFER_WINDOW_OFFSET));
    let room = phys::read_u64(at(destination, IPC_BUFFER_WINDOW_OFFSET.wrapping_add(8)));
    let from_space = k.objects.get(sender).aspace;
    let from_root = k.objects.get(from_space).root;
    let to_space = k.objects.get(receiver).aspace;
    let to_root = k.objects.get(to_space).root;
    // The page last translated on each side and its frame (page 0 is
    // never a user page, so it stands for none).
    let (mut from_page, mut from_frame) = (0u64, 0u64);
    let (mut to_page, mut to_frame) = (0u64, 0u64);
    const MASK: u64 = PAGE_BYTES - 1;
    // Every range below was checked to lie in user space before use, so
    // no sum or difference wraps.
    let mut total = 0u64;
    let mut to = window;
    let mut copied = 0u64;
    for i in 0..count as usize {
        // `i < MSG_MAX_PIECES`: inside the buffer.
        let entry = at(
            source,
            IPC_BUFFER_PIECES_OFFSET.wrapping_add(i.wrapping_mul(16)),
        );
        let (mut from, len) = (phys::read_u64(entry), phys::read_u64(entry.wrapping_add(8)));
        total = total
            .checked_add(len)
            .filter(|&total| total <= MSG_MAX_BYTES)
            .ok_or(Stop::Sender(SysError::InvalidArg))?;
        if len == 0 {
            continue;
        }
        if !user_range(from, len) {
            return Err(Stop::Sender(SysError::BadAddress));
        }
        let take = len.min(room.wrapping_sub(copied));
        if take == 0 {
            continue;
        }
        if copied == 0 && !user_range(window, room.min(MSG_MAX_BYTES)) {
            return Err(Stop::Receiver(SysError::BadAddress));
        }
        let end = from.wrapping_add(take);
        while from < end {
            if from & !MASK != from_page {
                from_page = from & !MASK;
                from_frame = frame(k, from_space, from_root, from_page, Access::Read, fault_in)?;
            }
            if to & !MASK != to_page {
                to_page = to & !MASK;
                to_frame = frame(k, to_space, to_root, to_page, Access::Write, fault_in)?;
            }
            let chunk = end
                .wrapping_sub(from)
                .min(PAGE_BYTES.wrapping_sub((from & MASK).max(to & MASK)));
            phys::copy_span(to_frame | (to & MASK), from_frame | (from & MASK), chunk);
            from = from.wrapping_add(chunk);
            to = to.wrapping_add(chunk);
        }
        copied = copied.wrapping_add(take);
    }
    phys::write_u64(at(destination, IPC_BUFFER_RECEIVED_OFFSET), copied);
    Ok(())
}

/// Whether `[addr, addr + len)` (not empty) lies in user space above the
/// null page.
fn user_range(addr: u64, len: u64) -> bool {
    is_user_range(addr, len) && addr >= USER_START
}
