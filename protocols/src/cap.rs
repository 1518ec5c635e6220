//! Capabilities in protocol messages: [`Cap`] (one received capability,
//! owned) and the bulk-data descriptors [`Bulk`] (to send) and
//! [`ReceivedBulk`] (received).
//!
//! A capability argument takes no body word: it goes in the message's
//! capability slots, in argument order, and the kernel gives the receiver
//! a copy in a fresh slot of its own. The sender keeps its capability, so
//! the sending side names a plain [`CapSlot`]; the receiving side gets a
//! [`Cap`], which owns the new slot and deletes it when dropped (or is
//! turned into a typed `rt` handle with [`Cap::into_handle`]).
//!
//! Deleting goes through [`delete`]: `CapDelete` on Mica, and on the host
//! (tests, fuzzing) a record in [`host`], so that tests can check that a
//! rejected message leaves no slot behind.

use abi::CapSlot;
use abi::layout::PAGE_BYTES;
use abi::syscall::MEMORY_MAX_PAGES;
use rt::handle::Handle;
use rt::ipc::Message;

use crate::wire::{Malformed, Overflow, Put, Reader, Take};

/// Deletes a received capability nobody took.
#[cfg(target_os = "none")]
#[inline]
pub(crate) fn delete(slot: CapSlot) {
    // Nothing to do on failure: an empty slot has nothing left to free.
    let _ = rt::sys::cap_delete(slot);
}

/// Deletes a received capability nobody took (on the host: records it).
#[cfg(not(target_os = "none"))]
#[inline]
pub(crate) fn delete(slot: CapSlot) {
    host::record_delete(slot);
}

/// A capability received in a message. It owns its slot: dropping it
/// deletes the capability.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "dropping a received capability deletes it"]
pub struct Cap {
    slot: CapSlot,
}

impl Cap {
    /// Adopts `slot`, which the caller owns.
    pub fn from_raw(slot: CapSlot) -> Cap {
        Cap { slot }
    }

    /// The slot, still owned by this `Cap`.
    pub fn slot(&self) -> CapSlot {
        self.slot
    }

    /// Gives up ownership: the slot is no longer deleted on drop.
    pub fn into_raw(self) -> CapSlot {
        let slot = self.slot;
        core::mem::forget(self);
        slot
    }

    /// The capability as a typed handle (which owns the slot from now on).
    /// Nothing checks the object type: a wrong one makes the kernel answer
    /// `WrongType` to the handle's first call.
    pub fn into_handle<H: Handle>(self) -> H {
        H::from_raw(self.into_raw())
    }
}

impl Drop for Cap {
    fn drop(&mut self) {
        delete(self.slot);
    }
}

impl Put for CapSlot {
    #[inline]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        Ok(message.push_cap(*self)?)
    }
}

impl Take<'_> for Cap {
    #[inline]
    fn take(reader: &mut Reader<'_>) -> Result<Cap, Malformed> {
        reader.cap().map(Cap::from_raw)
    }
}

/// Most bytes a bulk descriptor can span: the largest memory object.
pub const BULK_MAX_BYTES: u64 = MEMORY_MAX_PAGES * PAGE_BYTES;

/// Bulk data to send: `len_bytes` bytes at `offset_bytes` in a memory
/// object, typically one `MemoryLend` made (whose `LendResult` gives the
/// slot and the offset). Wire: the capability in the next capability slot,
/// then two words, offset and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bulk {
    /// The memory object (the sender keeps it; the receiver gets a copy).
    pub memory: CapSlot,
    /// Where the data starts in the object.
    pub offset_bytes: u64,
    /// How many bytes.
    pub len_bytes: u64,
}

/// Bulk data received: the memory object (owned) and where the data is in
/// it. Decoding checks that `offset_bytes + len_bytes` does not pass
/// [`BULK_MAX_BYTES`]; the receiver still checks the object's real size
/// when it maps it (a shorter object faults past its end).
#[derive(Debug, PartialEq, Eq)]
pub struct ReceivedBulk {
    /// The memory object, owned.
    pub memory: Cap,
    /// Where the data starts in the object.
    pub offset_bytes: u64,
    /// How many bytes.
    pub len_bytes: u64,
}

impl ReceivedBulk {
    /// The number of pages of the object the data touches.
    pub fn pages(&self) -> u64 {
        if self.len_bytes == 0 {
            return 0;
        }
        // Decoding checked offset + len <= BULK_MAX_BYTES; a descriptor
        // made by hand may not have been.
        let end = self.offset_bytes.saturating_add(self.len_bytes);
        end.div_ceil(PAGE_BYTES) - self.offset_bytes / PAGE_BYTES
    }
}

impl Put for Bulk {
    #[inline]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        message.push_cap(self.memory)?;
        message.push(self.offset_bytes)?;
        Ok(message.push(self.len_bytes)?)
    }
}

impl Take<'_> for ReceivedBulk {
    #[inline]
    fn take(reader: &mut Reader<'_>) -> Result<ReceivedBulk, Malformed> {
        let offset_bytes = reader.word()?;
        let len_bytes = reader.word()?;
        let end = offset_bytes.checked_add(len_bytes).ok_or(Malformed)?;
        if end > BULK_MAX_BYTES {
            return Err(Malformed);
        }
        // The words are checked before the capability is taken, so a bad
        // descriptor leaves it to `Reader::discard_rest`.
        let memory = Take::take(reader)?;
        Ok(ReceivedBulk {
            memory,
            offset_bytes,
            len_bytes,
        })
    }
}

/// Deletes every capability `message` carried (a message nobody decodes,
/// say a `Send` to a server that only answers calls).
pub fn discard_caps(message: &Message) {
    for &slot in message.caps() {
        delete(slot);
    }
}

/// The host's stand-in for `CapDelete`: the slots deleted, per thread, for
/// tests to check (a program on Mica deletes for real).
#[cfg(not(target_os = "none"))]
pub mod host {
    extern crate std;

    use std::cell::RefCell;
    use std::vec::Vec;

    use abi::CapSlot;

    std::thread_local! {
        static DELETED: RefCell<Vec<CapSlot>> = const { RefCell::new(Vec::new()) };
    }

    /// Records that this thread deleted `slot`.
    pub(crate) fn record_delete(slot: CapSlot) {
        DELETED.with(|deleted| deleted.borrow_mut().push(slot));
    }

    /// The slots this thread deleted since the last call, in order.
    pub fn take_deleted() -> Vec<CapSlot> {
        DELETED.with(|deleted| core::mem::take(&mut *deleted.borrow_mut()))
    }
}
