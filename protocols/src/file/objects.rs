//! What every file server does with the capability a request came
//! through: find the object its badge names, mint capabilities for new
//! objects, and learn when a client can no longer use one.
//!
//! With [`Objects::watch`] (every file server calls it), each object's
//! capability is minted as a *lease* (`abi::ipc::WATCH_BADGE`, the
//! kernel's `EndpointWatch`): the server keeps the minted capability, the
//! reply carries a copy, and when the client's last copy goes (it deleted
//! it, or its process was killed) the kernel deletes the lease and signals
//! the server, whose [`Objects::ended`] then gives back the objects to
//! release as if they were closed. Without a watch, each minted capability
//! is deleted once the reply that carried a copy has gone.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use abi::ipc::WATCH_BADGE;
use abi::{CapSlot, ObjectType, Rights, SysError};
use fscore::FsError;

use super::{Badge, Table};

/// The open objects of a server and the request being answered.
#[derive(Debug)]
pub struct Objects<T> {
    /// The server's own unbadged endpoint capability, minted from.
    endpoint: CapSlot,
    table: Table<T>,
    /// The badge of the request being answered.
    badge: u64,
    /// A capability minted for the last reply: deleted at the next
    /// request, when that reply has been sent (without a watch).
    pending: Option<CapSlot>,
    /// The lease kept for each open object, by id (with a watch).
    leases: BTreeMap<u64, CapSlot>,
    /// Whether the kernel watches the leases (`watch`).
    watching: bool,
}

/// What the current request's capability names.
#[derive(Debug)]
pub enum This<'a, T> {
    /// The server's root directory, for a session.
    Root(u32),
    /// An open object, of a session.
    Object(u32, &'a mut T),
}

impl<T> This<'_, T> {
    /// The session.
    pub fn session(&self) -> u32 {
        match self {
            This::Root(session) | This::Object(session, _) => *session,
        }
    }
}

impl<T> Objects<T> {
    /// Objects of the server answering on `endpoint`, `limit` open per
    /// session.
    pub fn new(endpoint: CapSlot, limit: u32) -> Objects<T> {
        // Each instance's ids start apart (`table::first_id`) from its
        // startup entropy, which differs per instance: a capability kept
        // from an earlier instance of a restarted server names nothing.
        let entropy = rt::start::startup_info().map_or(1, |info| info.entropy[0]);
        Objects {
            endpoint,
            table: Table::with_first_id(limit, super::table::first_id(entropy)),
            badge: 0,
            pending: None,
            leases: BTreeMap::new(),
            watching: false,
        }
    }

    /// Has the kernel tell this thread when a client's capability to an
    /// object is gone: a notification (paid by the program's budget)
    /// bound to the calling thread, whose signals arrive on its receive
    /// as notification messages; hand their badge to [`Objects::ended`].
    ///
    /// # Errors
    /// The kernel's (no budget for the notification, a thread that rt did
    /// not make or that has a notification bound already).
    pub fn watch(&mut self) -> Result<(), SysError> {
        let thread = rt::thread::current_slot().ok_or(SysError::InvalidArg)?;
        let notification = rt::sys::notification_create(rt::process::own_caps().budget)?;
        let bound = rt::sys::thread_bind(thread, notification)
            .and_then(|()| rt::sys::endpoint_watch(self.endpoint, notification));
        // The endpoint and the thread hold it now; the slot is not needed.
        let _ = rt::sys::cap_delete(notification);
        bound?;
        self.watching = true;
        Ok(())
    }

    /// The objects whose clients are gone, among those the signalled
    /// `bits` name (bit `id % 64`), taken out of the table with their
    /// badges (a server releases each as it would on `close`).
    pub fn ended(&mut self, bits: u64) -> Vec<(u64, T)> {
        let gone: Vec<u64> = self
            .leases
            .iter()
            .filter(|&(&id, _)| bits & (1 << (id % 64)) != 0)
            .filter(|&(&id, &slot)| {
                // The kernel deleted the lease; its slot may hold something
                // else since, never this badge (ids are not reused).
                !rt::sys::cap_info(slot).is_ok_and(|info| {
                    info.badge == id | WATCH_BADGE
                        && info.object_type == ObjectType::Endpoint.to_reg() as u32
                })
            })
            .map(|(&id, _)| id)
            .collect();
        let mut out = Vec::new();
        for id in gone {
            self.leases.remove(&id);
            if let Some(value) = self.table.remove(id) {
                out.push((id | WATCH_BADGE, value));
            }
        }
        out
    }

    /// Starts answering a request that came with `badge`.
    pub fn begin(&mut self, badge: u64) {
        if let Some(slot) = self.pending.take() {
            // An error leaves nothing to free.
            let _ = rt::sys::cap_delete(slot);
        }
        self.badge = badge;
    }

    /// What the current request's capability names.
    ///
    /// # Errors
    /// `BadDescriptor` for a closed object or an unbadged capability.
    pub fn this(&mut self) -> Result<This<'_, T>, FsError> {
        match Badge::of(self.badge) {
            Badge::Root { session } => Ok(This::Root(session)),
            Badge::Object(id) => self
                .table
                .get_mut(id)
                .map(|(session, value)| This::Object(session, value))
                .ok_or(FsError::BadDescriptor),
            Badge::None => Err(FsError::BadDescriptor),
        }
    }

    /// Adds `value` for `session` and mints its capability, which the
    /// reply carries (a copy) and which is deleted at the next request.
    ///
    /// # Errors
    /// `TooManyOpen` when the session holds its limit of objects or no
    /// slot is left for the capability; `value` is dropped then (a server
    /// whose objects hold something releases it itself).
    pub fn mint(&mut self, session: u32, value: T) -> Result<CapSlot, FsError> {
        let id = self
            .table
            .insert(session, value)
            .map_err(|_| FsError::TooManyOpen)?;
        let badge = if self.watching { id | WATCH_BADGE } else { id };
        match rt::sys::cap_mint(self.endpoint, Rights::WRITE | Rights::GRANT, badge) {
            Ok(slot) => {
                if self.watching {
                    self.leases.insert(id, slot);
                } else {
                    self.pending = Some(slot);
                }
                Ok(slot)
            }
            Err(_) => {
                self.table.remove(id);
                Err(FsError::TooManyOpen)
            }
        }
    }

    /// Takes out the object the current request's capability names.
    ///
    /// # Errors
    /// `BadDescriptor` for a root capability (it is not an open object)
    /// or a closed one.
    pub fn close(&mut self) -> Result<T, FsError> {
        match Badge::of(self.badge) {
            Badge::Object(id) => {
                let value = self.table.remove(id).ok_or(FsError::BadDescriptor)?;
                if let Some(lease) = self.leases.remove(&id) {
                    // The client's copies now derive from the endpoint:
                    // no lease ends for them any more.
                    let _ = rt::sys::cap_delete(lease);
                }
                Ok(value)
            }
            _ => Err(FsError::BadDescriptor),
        }
    }
}
