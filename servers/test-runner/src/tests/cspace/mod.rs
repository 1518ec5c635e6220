//! Capability-space syscalls: copy, mint, move, delete, info and revoke,
//! within the program's space and into others; a full space; creating
//! spaces; and the frame count after creating and deleting many objects of
//! each kind.
//!
//! The tests are in files by concept: `copy_mint.rs` (copy, mint, move
//! and info in the program's own space), `delete_revoke.rs` (delete,
//! revoke, delete a range, detach, watch), `spaces.rs` (other spaces,
//! creating them, a full one, deleting one), `cycles.rs` (frame counts
//! after many objects), and `support.rs` (what they share, also used by
//! `cspace_many`). They are re-exported here, so that the suite's table
//! names them `cspace::NAME` (test `cspace_NAME`).

mod copy_mint;
mod cycles;
mod delete_revoke;
mod spaces;
mod support;

pub use copy_mint::{copy, copy_errors, copy_rights, info, mint, move_cap};
pub use cycles::{
    cycle_cspaces, cycle_endpoints, cycle_notifications, cycle_threads_run, cycle_threads_unstarted,
};
pub use delete_revoke::{
    delete, delete_basic, delete_own_thread, delete_range, detach, endpoint_watch, revoke,
};
pub use spaces::{across_spaces, create_errors, delete_space_deletes_caps, space_full};
pub(super) use support::{described, empty, probe};
