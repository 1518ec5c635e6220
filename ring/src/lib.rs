//! Submission and completion queues in memory shared with a peer that may
//! write anything into it at any moment: io_uring's shape, for Mica's
//! batched requests between programs (DESIGN.md, "Rings").
//!
//! A ring is one region ([`layout`]): a header, a submission queue (SQ) of
//! 32-byte [`Sqe`]s, a completion queue (CQ) of 16-byte [`Cqe`]s and a data
//! area the submissions point into. The [`Client`] creates it, submits
//! and takes completions; the [`Server`] attaches with the geometry it was
//! told, takes submissions and completes them. Each side trusts nothing it
//! reads from the region:
//!
//! - it keeps its own indices privately and never reads them back;
//! - it loads the peer's index once per batch and checks that it is
//!   possible (no more than a queue ahead, never back);
//! - it copies each entry out once and checks the copy (opcode, flags,
//!   data range with checked arithmetic, reserved fields);
//! - it publishes its index only after it is done with the slots.
//!
//! A broken rule poisons the ring: every call returns [`Error::Hostile`]
//! with the first [`Reason`] from then on, without touching the region
//! again, and the caller (a server with other clients) reports it and
//! goes on. Sleeping and waking go through a [`Waker`] on the indices'
//! words, with "sleeps" flags so that a batch costs at most one wake
//! ([`queue`] explains the protocol).
//!
//! All access to the region goes through the [`Memory`] trait (aligned
//! 32-bit atomics for indices and entries, 64-bit ones for the data
//! area's bytes where the region offers them), so the crate has no
//! unsafe code. [`AtomicMemory`] is a
//! region in ordinary memory (host tests, two threads); on Mica,
//! `rt::shared::SharedRegion` is a `Memory` and [`mica::FutexWaker`] the
//! waker.
//!
//! Tests (docs/ring.md): `cargo test -p ring` runs the unit tests, the
//! round trips with a threaded peer (`tests/threads.rs`) and the property
//! tests against an adversary that rewrites the region between every load
//! (`tests/adversary.rs`). Every interleaving of one producer and one
//! consumer runs under loom with
//! `RUSTFLAGS="--cfg loom" cargo test -p ring --release --test loom`.
//! `ring/fuzz` drives a server on fuzzer-written memory (`ring/FUZZING.md`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod doorbell;
mod entry;
mod error;
pub mod layout;
mod memory;
pub mod mica;
pub mod queue;
mod sides;
pub mod wake;

pub use entry::{Cqe, Entry, MAX_ENTRY_BYTES, Sqe, SqeRules, check_cqe};
pub use error::{Error, Hostile, Reason};
pub use layout::{Geometry, Layout, QueueLayout, SetupError, offset};
pub use memory::{AtomicMemory, Memory};
pub use queue::{Consumer, Producer};
pub use sides::{Client, Completion, Request, Server};
pub use wake::{Spin, TimedOut, Waker};
