//! `RingPeer`: the IPC side of the `ring-peer` program, which serves
//! shared-memory rings (the `ring` crate, docs/ring.md). A client makes a
//! memory object, creates a ring in it, and `attach`es it with its
//! geometry; the peer maps the object, checks the header, and serves the
//! ring from a thread of its own, sleeping in a receive on the ring's
//! doorbell between batches.
//! `status` says whether a ring is still served or was found hostile (and
//! why, as a `ring::Reason` code); `detach` stops serving and unmaps it.
//!
//! The ring's own operations, which the peer completes:
//!
//! | opcode | operation | completion `value` |
//! |---|---|---|
//! | [`OP_NOP`] | nothing | `arg`'s low 32 bits |
//! | [`OP_SUM`] | adds up the bytes of the data range | the sum, wrapping |
//! | [`OP_FILL`] | fills the data range with `arg`'s low byte | the length |
//!
//! A submission with another opcode, any flag, or a data range outside
//! the data area makes the ring hostile. Every completion's status is 0.

use crate::ErrorCode;

crate::wire_enum! {
    /// Where a ring stands.
    pub enum RingState {
        /// Served.
        Serving = 0,
        /// The client broke a rule: the ring is no longer served.
        Hostile = 1,
        /// Served no more for another reason (the thread could not
        /// start, or was stopped).
        Stopped = 2,
    }
}

crate::protocol! {
    /// The ring peer's protocol.
    pub protocol RingPeer = 0x5250 {
        client RingPeerClient;
        server RingPeerServer;

        /// Serves the ring the client made in `memory` (mapped from its
        /// first page, as many pages as the geometry needs) with these
        /// sizes; returns the ring's number and its doorbell
        /// (`ring::doorbell`): the endpoint the ring's thread receives on
        /// and the notification bound to it.
        /// [`BAD_GEOMETRY`], [`BAD_MEMORY`], [`BAD_HEADER`],
        /// [`TOO_MANY_RINGS`].
        fn attach(memory: Cap, sq_entries: u32, cq_entries: u32, data_bytes: u32) -> (u32, Cap, Cap) = 1;

        /// The ring's state, the submissions completed so far, and the
        /// `ring::Reason` code of its hostile verdict (0 if none).
        /// [`NO_SUCH_RING`].
        #[idempotent]
        fn status(ring: u32) -> (RingState, u64, u32) = 2;

        /// Stops serving the ring, unmaps it and deletes the memory
        /// capability; returns the submissions completed.
        /// [`NO_SUCH_RING`].
        fn detach(ring: u32) -> u64 = 3;
    }
}

/// Completes at once with `arg`'s low 32 bits.
pub const OP_NOP: u16 = 0;
/// Adds up the data range's bytes.
pub const OP_SUM: u16 = 1;
/// Fills the data range with `arg`'s low byte.
pub const OP_FILL: u16 = 2;
/// The opcodes, as a `ring::SqeRules::opcodes` mask.
pub const OPCODES: u64 = 1 << OP_NOP | 1 << OP_SUM | 1 << OP_FILL;

/// `attach`: the sizes are not a valid ring geometry.
pub const BAD_GEOMETRY: ErrorCode = ErrorCode::new(0x100);
/// `attach`: the memory object is too small or cannot be mapped
/// read-write.
pub const BAD_MEMORY: ErrorCode = ErrorCode::new(0x101);
/// `attach`: the region's header does not describe this geometry.
pub const BAD_HEADER: ErrorCode = ErrorCode::new(0x102);
/// `attach`: the peer serves as many rings as it can.
pub const TOO_MANY_RINGS: ErrorCode = ErrorCode::new(0x103);
/// `status`, `detach`: no ring has this number.
pub const NO_SUCH_RING: ErrorCode = ErrorCode::new(0x104);
