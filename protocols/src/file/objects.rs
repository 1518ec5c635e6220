//! What every file server does with the capability a request came
//! through: find the object its badge names, mint capabilities for new
//! objects, and delete each minted capability once the reply that carried
//! a copy of it has gone.

use abi::{CapSlot, Rights};
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
    /// request, when that reply has been sent.
    pending: Option<CapSlot>,
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
        Objects {
            endpoint,
            table: Table::new(limit),
            badge: 0,
            pending: None,
        }
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
        match rt::sys::cap_mint(self.endpoint, Rights::WRITE | Rights::GRANT, id) {
            Ok(slot) => {
                self.pending = Some(slot);
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
            Badge::Object(id) => self.table.remove(id).ok_or(FsError::BadDescriptor),
            _ => Err(FsError::BadDescriptor),
        }
    }
}
