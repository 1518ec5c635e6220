//! Scripts: short sequences that build something a random call would
//! rarely reach, with random choices at every step (and every step may
//! fail, often with `OutOfMemory` under the small budget). Their objects
//! join the pool, so random calls then work on them too.
//!
//! - `window`: create a memory object, derive a copy, map it in the
//!   worker's window of the child's own address space, populate it (now
//!   and then a page too far, a hole), touch its pages
//!   (through the kernel: `CapInfo` writes there), protect it read-only,
//!   resize it, unmap it, revoke and delete it. Two rules are checked:
//!   after a read-only protect, and after the unmap, the kernel must
//!   refuse to write there (`BadAddress`).
//! - `partner`: a scratch address space with the child's image, a stack
//!   and an IPC buffer mapped, a capability space holding an endpoint,
//!   notification or address space, and a partner thread (`partner.rs`).
//! - `clone`: clone a scratch address space (copy-on-write), sometimes
//!   with a partner started in the clone.
//! - `lend`: lend or move bytes of a scratch address space, map the result.
//! - `resize`: grow and shrink memory objects.
//! - `split`: split a budget, spend it, revoke or delete it.
//! - `derive`: copy and mint an endpoint or notification, then revoke it.
//! - `probe`: a syscall that creates something, paid by a fresh budget of
//!   a few frames no one else knows; when it fails with `OutOfMemory`,
//!   the budget must be empty ("nothing kept", as the syscalls promise).
//! - `ipc`: calls and sends to an endpoint an echo partner serves, with
//!   random message infos and capabilities.
//! - `relocate`: move capabilities to other slots and spaces.
//! - `exec`: a partner in a scratch address space moves with `ThreadExec`
//!   into another (a fresh one with the image and a stack mapped, or a
//!   clone) and ends there; the worker waits for it and counts the
//!   partner's `ThreadExec` and `ThreadExit` from its exit code.
//! - `devices`: a sub-range of the fuzzer's I/O ports bound to and
//!   unbound from a thread, its interrupt line bound to a notification,
//!   acked and unbound, device memory (where nothing answers) made.
//!   (`window` maps device memory in the worker's window now and then.)
//! - `futex`: a `FutexWait` in the worker's window that a partner, in a
//!   scratch space sharing the page, ends with `FutexWake`.
//!
//! This file chooses the script ([`Worker::script`]) and holds what every
//! script uses: a payer, a live pool entry, a create that joins the pool,
//! a delete that leaves it. The scripts themselves are in `memory.rs`
//! (`window`, `clone`, `lend`, `resize`), `partners.rs` (`partner`, `ipc`,
//! `exec`, `futex`), `caps.rs` (`split`, `derive`, `probe`, `relocate`)
//! and `devices.rs` (`devices`).

mod caps;
mod devices;
mod memory;
mod partners;

use abi::layout::PAGE_BYTES;
use abi::syscall::{CapDeleteArgs, SyscallArgs};
use abi::{CapSlot, ObjectType, Rights};

use super::layout::{WINDOW, WINDOW_PAGES};
use super::worker::Worker;

/// Priority partners get (above the workers', so they answer at once).
const PARTNER_PRIORITY: u64 = super::WORKER_MAX_PRIORITY;

fn slot(value: u64) -> CapSlot {
    CapSlot(value as u32)
}

impl Worker {
    /// Runs one script, chosen at random.
    pub fn script(&mut self) {
        match self.rng.below(100) {
            0..20 => self.script_partner(),
            20..24 => self.script_exec(),
            24..40 => self.script_window(),
            40..50 => self.script_clone(),
            50..59 => self.script_lend(),
            59..66 => self.script_resize(),
            66..75 => self.script_split(),
            75..81 => self.script_derive(),
            81..88 => self.script_probe(),
            88..94 => self.script_ipc(),
            94..96 => self.script_relocate(),
            96..98 => self.script_futex(),
            _ => self.script_devices(),
        }
    }

    /// An FS base for a partner thread (which never uses one): mostly
    /// none, else a user address.
    fn partner_tls(&mut self) -> u64 {
        match self.rng.below(4) {
            0 => WINDOW + self.rng.below(WINDOW_PAGES) * PAGE_BYTES,
            1 => abi::layout::USER_END - 8,
            _ => 0,
        }
    }

    /// A budget to pay with: a live one from the pool, else the worker's.
    fn payer(&mut self) -> Option<u64> {
        let entry = self
            .pool
            .live_with(&mut self.rng, ObjectType::Budget, Rights::WRITE);
        match entry {
            Some(entry) if self.rng.chance(85) => Some(u64::from(entry.slot)),
            _ if self.infra.budget != 0 => Some(self.infra.budget),
            _ => entry.map(|e| u64::from(e.slot)),
        }
    }

    /// A live pool entry of `kind` with `rights`, if any.
    fn live(&mut self, kind: ObjectType, rights: Rights) -> Option<u64> {
        self.pool
            .live_with(&mut self.rng, kind, rights)
            .map(|e| u64::from(e.slot))
    }

    /// Makes an object with `args` (a create syscall) and adds it to the pool.
    fn make<A: SyscallArgs>(&mut self, args: &A, kind: ObjectType, parent: u64) -> Option<u64> {
        let results = self.call(args).ok()?;
        self.learn(results[0], Some(kind), Some(Rights::all()), parent);
        Some(results[0])
    }

    /// Deletes `slot` (and tells the pool).
    fn drop_slot(&mut self, value: u64) {
        if self.call(&CapDeleteArgs { slot: slot(value) }).is_ok() {
            self.pool.deleted(value);
        }
    }

    /// Random rights, usually all of them.
    fn some_rights(&mut self) -> Rights {
        if self.rng.chance(70) {
            Rights::all()
        } else {
            Rights::from_bits_truncate(self.rng.below(16) as u32)
        }
    }
}
