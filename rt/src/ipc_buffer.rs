//! Access to a thread's IPC buffer page (`abi::ipc::IpcBuffer`), which the
//! kernel reads and writes behind the program's back during IPC.

use abi::CapSlot;
use abi::ipc::{
    IPC_BUFFER_BYTES, IPC_BUFFER_CAPS_OFFSET, IPC_BUFFER_DEADLINE_OFFSET, MSG_MAX_CAPS,
    MSG_MAX_WORDS,
};

/// The IPC buffer at a fixed address of this address space.
#[derive(Clone, Copy, Debug)]
pub struct IpcBufferPtr {
    addr: u64,
}

impl IpcBufferPtr {
    /// The buffer at `addr`.
    ///
    /// # Safety
    /// 1. `addr` is page-aligned and a whole writable page is mapped there
    ///    for as long as the value is used.
    /// 2. Nothing else in the program treats that page as a Rust object.
    pub const unsafe fn at(addr: u64) -> IpcBufferPtr {
        IpcBufferPtr { addr }
    }

    /// The current thread's buffer (from its control block).
    ///
    /// Only for threads `rt` made: their FS base is a control block whose
    /// IPC buffer page is mapped, committed and used for nothing else.
    #[inline(always)]
    pub fn current() -> IpcBufferPtr {
        IpcBufferPtr {
            addr: crate::thread::block::ipc_buffer_addr(),
        }
    }

    fn word_ptr(&self, offset: usize) -> *mut u64 {
        (self.addr + offset as u64) as *mut u64
    }

    /// Message word `index` (0 for an index past [`MSG_MAX_WORDS`]).
    pub fn word(&self, index: usize) -> u64 {
        if index >= MSG_MAX_WORDS {
            return 0;
        }
        // SAFETY: in bounds of the mapped page (`at`'s contract 1), aligned;
        // volatile because the kernel writes it between our accesses.
        unsafe { self.word_ptr(index * 8).read_volatile() }
    }

    /// Sets message word `index` (ignored past [`MSG_MAX_WORDS`]).
    pub fn set_word(&self, index: usize, value: u64) {
        if index < MSG_MAX_WORDS {
            // SAFETY: as in `word`; the page is writable.
            unsafe { self.word_ptr(index * 8).write_volatile(value) }
        }
    }

    /// Capability slot `index` (received, or to send).
    pub fn cap(&self, index: usize) -> CapSlot {
        if index >= MSG_MAX_CAPS {
            return CapSlot::NULL;
        }
        // SAFETY: as in `word`.
        let raw = unsafe {
            self.word_ptr(IPC_BUFFER_CAPS_OFFSET + index * 8)
                .read_volatile()
        };
        CapSlot(raw as u32)
    }

    /// Sets the deadline a message with the deadline flag carries
    /// (`abi::ipc::IpcBuffer::deadline`).
    pub fn set_deadline(&self, deadline: u64) {
        // SAFETY: as in `set_word`.
        unsafe {
            self.word_ptr(IPC_BUFFER_DEADLINE_OFFSET)
                .write_volatile(deadline)
        }
    }

    /// The word at byte `offset` of the buffer (a multiple of 8 inside
    /// `abi::ipc::IpcBuffer`; 0 otherwise).
    pub fn raw_word(&self, offset: usize) -> u64 {
        if !offset.is_multiple_of(8) || offset >= IPC_BUFFER_BYTES {
            return 0;
        }
        // SAFETY: as in `word`: in bounds and aligned.
        unsafe { self.word_ptr(offset).read_volatile() }
    }

    /// Sets the word at byte `offset` of the buffer (ignored unless a
    /// multiple of 8 inside `abi::ipc::IpcBuffer`).
    pub fn set_raw_word(&self, offset: usize, value: u64) {
        if offset.is_multiple_of(8) && offset < IPC_BUFFER_BYTES {
            // SAFETY: as in `set_word`.
            unsafe { self.word_ptr(offset).write_volatile(value) }
        }
    }

    /// Sets capability slot `index` to send.
    pub fn set_cap(&self, index: usize, slot: CapSlot) {
        if index < MSG_MAX_CAPS {
            // SAFETY: as in `set_word`.
            unsafe {
                self.word_ptr(IPC_BUFFER_CAPS_OFFSET + index * 8)
                    .write_volatile(u64::from(slot.0))
            }
        }
    }
}
