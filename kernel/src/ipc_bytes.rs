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
use crate::object::aspace::AddressSpace;
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

/// One side of the copy: its address space and the page last translated.
struct Side {
    space: ObjId<AddressSpace>,
    root: u64,
    access: Access,
    /// The user page last translated (never 0: below `USER_START`), and
    /// its frame.
    page: u64,
    frame: u64,
}

impl Side {
    fn new(k: &Kernel, thread: ObjId<Thread>, access: Access) -> Side {
        let space = k.objects.get(thread).aspace;
        Side {
            space,
            root: k.objects.get(space).root,
            access,
            page: 0,
            frame: 0,
        }
    }

    /// The physical address of user byte `addr`, faulting its page in if
    /// `fault_in` allows.
    fn phys(&mut self, k: &mut Kernel, addr: u64, fault_in: bool) -> Result<u64, Stop> {
        let page = addr & !(PAGE_BYTES - 1);
        if page != self.page {
            self.frame = self.translate(k, page, fault_in)?;
            self.page = page;
        }
        // `addr - page` is below a page, `frame` page-aligned.
        Ok(self.frame | (addr & (PAGE_BYTES - 1)))
    }

    #[inline(never)]
    fn translate(&self, k: &mut Kernel, page: u64, fault_in: bool) -> Result<u64, Stop> {
        if let Some(frame) = user_tables::translate_ram(self.root, page, self.access) {
            return Ok(frame);
        }
        if !fault_in {
            return Err(Stop::NotPresent);
        }
        vm::fault::populate(k, self.space, page, PAGE_BYTES, self.access)
            .map_err(|error| self.blame(error))?;
        // A page that is there but not RAM (device memory) is refused.
        user_tables::translate_ram(self.root, page, self.access)
            .ok_or_else(|| self.blame(SysError::BadAddress))
    }

    fn blame(&self, error: SysError) -> Stop {
        match self.access {
            Access::Write => Stop::Receiver(error),
            _ => Stop::Sender(error),
        }
    }
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
    let mut from_side = Side::new(k, sender, Access::Read);
    let mut to_side = Side::new(k, receiver, Access::Write);
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
            let chunk = end
                .wrapping_sub(from)
                .min(PAGE_BYTES.wrapping_sub(from % PAGE_BYTES))
                .min(PAGE_BYTES.wrapping_sub(to % PAGE_BYTES));
            let src = from_side.phys(k, from, fault_in)?;
            let dst = to_side.phys(k, to, fault_in)?;
            phys::copy_span(dst, src, chunk);
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
