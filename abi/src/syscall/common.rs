//! Results shared by syscalls of every family: none ([`NoResult`]), or the
//! slot of a new capability ([`SlotResult`]).

use super::*;

results!(
    /// Results of syscalls that return nothing.
    NoResult {}
);
results!(
    /// Results of syscalls that fill a capability slot.
    SlotResult {
        /// The slot that now holds the new capability.
        slot: u64,
    }
);
