//! The bytes of a message (docs/ipc.md, "Bytes"): a sender lists pieces
//! of its memory ([`set_pieces`], then [`crate::ipc::Message::send_bytes`]),
//! and the kernel copies them straight into the window the receiver
//! named ([`receive_into`]): one copy from where the sender keeps the
//! bytes to where the receiver wants them.

use abi::SysError;
use abi::ipc::{
    IPC_BUFFER_PIECE_COUNT_OFFSET, IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_RECEIVED_OFFSET,
    IPC_BUFFER_WINDOW_OFFSET, MSG_MAX_PIECES,
};

use crate::ipc_buffer::IpcBufferPtr;

/// Lists the pieces the current thread's next message with bytes sends,
/// in order: `(address, length)` of its own memory, which must stay as
/// they are until that message has gone (a reply goes during its
/// syscall; a send once a receiver takes it).
///
/// # Errors
/// [`SysError::InvalidArg`] for more than `MSG_MAX_PIECES` pieces
/// (nothing is listed then).
pub fn set_pieces(pieces: &[(u64, u64)]) -> Result<(), SysError> {
    if pieces.len() > MSG_MAX_PIECES {
        return Err(SysError::InvalidArg);
    }
    let mut list = Pieces::begin();
    for &(addr, len) in pieces {
        list.push(addr, len);
    }
    list.end();
    Ok(())
}

/// The pieces of the current thread's next message with bytes, written
/// straight into its IPC buffer as they come (no list to build first):
/// [`Pieces::push`] each, then [`Pieces::end`]. Pieces past
/// `MSG_MAX_PIECES` are dropped (the caller keeps within it).
#[derive(Debug)]
pub struct Pieces {
    buffer: IpcBufferPtr,
    count: usize,
}

impl Pieces {
    /// No pieces yet.
    pub fn begin() -> Pieces {
        Pieces {
            buffer: IpcBufferPtr::current(),
            count: 0,
        }
    }

    /// Adds `len` bytes from `addr` of this program's memory, which must
    /// stay as they are until the message has gone (see [`set_pieces`]).
    pub fn push(&mut self, addr: u64, len: u64) {
        if self.count < MSG_MAX_PIECES {
            let at = IPC_BUFFER_PIECES_OFFSET + 16 * self.count;
            self.buffer.set_raw_word(at, addr);
            self.buffer.set_raw_word(at + 8, len);
            self.count += 1;
        }
    }

    /// Publishes the count.
    pub fn end(self) {
        self.buffer
            .set_raw_word(IPC_BUFFER_PIECE_COUNT_OFFSET, self.count as u64);
    }
}

/// Runs `exchange` (a call, say) with `buf` as the current thread's
/// window for the bytes of a message it receives meanwhile, and returns
/// its result and how many bytes the kernel put at the start of `buf`
/// (0 if no message with bytes came). The window is closed
/// again before this returns, so no later message writes into `buf`.
pub fn receive_into<R>(buf: &mut [u8], exchange: impl FnOnce() -> R) -> (R, usize) {
    let buffer = IpcBufferPtr::current();
    buffer.set_raw_word(IPC_BUFFER_WINDOW_OFFSET, buf.as_mut_ptr() as u64);
    buffer.set_raw_word(IPC_BUFFER_WINDOW_OFFSET + 8, buf.len() as u64);
    buffer.set_raw_word(IPC_BUFFER_RECEIVED_OFFSET, 0);
    let result = exchange();
    let got = buffer.raw_word(IPC_BUFFER_RECEIVED_OFFSET);
    buffer.set_raw_word(IPC_BUFFER_WINDOW_OFFSET, 0);
    buffer.set_raw_word(IPC_BUFFER_WINDOW_OFFSET + 8, 0);
    // The kernel never copies past the window; a count above it would be
    // someone else's scribble on this thread's buffer page.
    (result, (got as usize).min(buf.len()))
}
