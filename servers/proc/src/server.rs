//! The process server's state: the table, what the server holds of each
//! process, and the parents waiting.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abi::ipc::WATCH_BADGE;
use abi::startup::EXIT_LABEL;
use abi::{CapSlot, ObjectType, Rights};
use procore::{Limits, Pid, ProcError, State, Table, Which};
use protocols::proc::{
    self, Badge, EntriesWriter, NAME_MAX_BYTES, ProcEntry, ProcServer, ProcState, wire,
};
use protocols::status::{self, OK};
use protocols::wire::Put;
use protocols::{Cap, ErrorCode};
use rt::ipc::{Message, SavedReply};
use rt::sys;

pub use protocols::proc::End;

/// Processes in all, and in one session. Each process started through the
/// server costs it a capability slot (its budget), and each parent
/// waiting one more.
const LIMITS: Limits = Limits {
    total: 192,
    per_session: 128,
};
/// The status a handler answers with to have its call wait: never sent.
const DEFER: ErrorCode = ErrorCode::new(0xffff);

/// What the server holds of one process.
struct Held {
    name: String,
    /// Its budget (the server's capability), while it runs; `None` for a
    /// session root, which init made and ends.
    budget: Option<CapSlot>,
    /// The capability the process's own ones are copies of, minted as a
    /// lease (`WATCH_BADGE`), while it runs: when every copy has gone
    /// without the server ending the process (whoever held its budget
    /// from above took it: init ending a session root), the kernel
    /// deletes it and signals the server ([`Server::leases_ended`]).
    lease: Option<CapSlot>,
}

/// A parent waiting for a child.
struct Parked {
    parent: Pid,
    which: Which,
    request_id: u32,
    reply: SavedReply,
}

/// The server's state.
pub struct Server {
    endpoint: CapSlot,
    table: Table<End>,
    held: BTreeMap<Pid, Held>,
    /// Session roots by session number.
    roots: BTreeMap<u32, Pid>,
    waiting: Vec<Parked>,
    /// The badge of the call being handled.
    badge: u64,
    request_id: u32,
    /// The wait the current call defers, for [`Server::park`].
    deferral: Option<(Pid, Which)>,
    /// Capabilities the last reply sent copies of, deleted after it.
    sent: Vec<CapSlot>,
    list: EntriesWriter,
}

impl Server {
    /// No processes yet, answering on `endpoint`.
    pub fn new(endpoint: CapSlot) -> Server {
        Server {
            endpoint,
            table: Table::new(LIMITS),
            held: BTreeMap::new(),
            roots: BTreeMap::new(),
            waiting: Vec::new(),
            badge: 0,
            request_id: 0,
            deferral: None,
            sent: Vec::new(),
            list: EntriesWriter::default(),
        }
    }

    /// Handles one call into `reply`: `true` to answer it now, `false`
    /// when it waits ([`Server::park`] takes its reply right then).
    pub fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        self.badge = request.badge();
        self.request_id = status::split_label(request.label()).1;
        self.deferral = None;
        proc::dispatch(self, request, reply);
        let deferred =
            status::split_label(reply.label()).0 == DEFER.get() && self.deferral.is_some();
        if !deferred {
            self.deferral = None;
        }
        !deferred
    }

    /// Keeps the deferred wait's reply right.
    pub fn park(&mut self, reply: SavedReply) {
        if let Some((parent, which)) = self.deferral.take() {
            self.waiting.push(Parked {
                parent,
                which,
                request_id: self.request_id,
                reply,
            });
        }
    }

    /// Forgets a deferral whose reply right could not be saved.
    pub fn unpark(&mut self) {
        self.deferral = None;
    }

    /// Deletes the capabilities the last reply carried copies of.
    pub fn release_sent(&mut self) {
        for slot in self.sent.drain(..) {
            let _ = sys::cap_delete(slot);
        }
    }

    /// A fault message from a process's thread: the process ends with it.
    /// The faulting thread is never answered; it goes with the process.
    pub fn fault(&mut self, message: &Message) {
        if let Badge::Own(pid) = Badge::of(message.badge()) {
            let end = End::Faulted {
                vector: message.word(abi::ipc::fault::WORD_VECTOR),
                kind: message.word(abi::ipc::fault::WORD_KIND),
                rip: message.word(abi::ipc::fault::WORD_RIP),
                addr: message.word(abi::ipc::fault::WORD_ADDR),
            };
            let _ = self.end(pid, end);
        }
    }

    /// A message that is not a call: a process's exit.
    pub fn message(&mut self, message: &Message) {
        if let Badge::Own(pid) = Badge::of(message.badge())
            && message.label() == EXIT_LABEL
        {
            let _ = self.end(pid, End::Exited(message.word(0)));
        }
    }

    /// The process the current call comes from (a root is registered the
    /// first time it calls).
    fn caller(&mut self) -> Result<Pid, ProcError> {
        match Badge::of(self.badge) {
            Badge::Own(pid) => match self.table.get(pid) {
                Some(entry) if entry.is_running() => Ok(pid),
                Some(_) => Err(ProcError::NotRunning),
                None => Err(ProcError::NoSuchProcess),
            },
            Badge::Root(session) => {
                if let Some(&pid) = self.roots.get(&session) {
                    return Ok(pid);
                }
                let pid = self.table.add(None)?;
                self.roots.insert(session, pid);
                let held = Held {
                    name: String::from("session"),
                    budget: None,
                    lease: None,
                };
                self.held.insert(pid, held);
                Ok(pid)
            }
            Badge::Child(_) | Badge::None => Err(ProcError::InvalidArgument),
        }
    }

    /// Ends the running process `pid`: its running children are detached
    /// from its budget (they become init's), then everything made from
    /// the budget goes, and a parent waiting for it is answered.
    fn end(&mut self, pid: Pid, end: End) -> Result<(), ProcError> {
        let ended = self.table.end(pid, end)?;
        // The lease goes first, so that the copies going with the budget
        // do not signal.
        if let Some(lease) = self.held.get_mut(&pid).and_then(|h| h.lease.take())
            && holds_lease(lease, pid)
        {
            let _ = sys::cap_delete(lease);
        }
        let budget = self.held.get_mut(&pid).and_then(|h| h.budget.take());
        if let Some(budget) = budget {
            for orphan in &ended.orphaned {
                if let Some(theirs) = self.held.get(orphan).and_then(|h| h.budget) {
                    // Fails only for a budget the parent did not make from
                    // its own: it then was never under this one.
                    let _ = sys::cap_detach(theirs, budget);
                }
            }
            let _ = sys::cap_revoke(budget);
            let _ = sys::cap_delete(budget);
        }
        for child in &ended.reaped_children {
            self.held.remove(child);
        }
        // Its own waits are over (it cannot be answered any more).
        self.waiting.retain(|parked| parked.parent != pid);
        if ended.reaped {
            self.held.remove(&pid);
        } else if let Some(parent) = self.table.get(pid).map(|e| e.parent) {
            self.wake(parent);
        }
        Ok(())
    }

    /// The watch notification fired: every running process whose lease
    /// has gone (all copies of its own capability, which live in its
    /// capability space) was taken down without the server, by a revoke
    /// of a budget above its own: it ends as `Killed`. When that budget
    /// was a session root's (init ended the root), the root's entry goes
    /// too, once none of its children's budgets is left: so the table
    /// keeps nothing of a session init ended, and a restarted instance
    /// starts a session of its own.
    pub fn leases_ended(&mut self) {
        let gone: Vec<(Pid, bool)> = self
            .held
            .iter()
            .filter_map(|(&pid, held)| {
                let lease = held.lease?;
                if holds_lease(lease, pid) {
                    return None;
                }
                let from_above = held
                    .budget
                    .is_none_or(|budget| sys::cap_info(budget).is_err());
                Some((pid, from_above))
            })
            .collect();
        for (pid, from_above) in gone {
            if let Some(held) = self.held.get_mut(&pid) {
                // The kernel deleted it.
                held.lease = None;
            }
            let parent = self.table.get(pid).map(|entry| entry.parent);
            if self.table.get(pid).is_some_and(|entry| entry.is_running()) {
                let _ = self.end(pid, End::Killed);
            }
            if let Some(root) = parent.filter(|_| from_above) {
                self.end_root_if_gone(root);
            }
        }
    }

    /// Ends the session root `root` (a process init made, whose budget
    /// the server never held) if no child of it still has its budget:
    /// a budget above theirs, the root's, was revoked.
    fn end_root_if_gone(&mut self, root: Pid) {
        let is_root = self.roots.values().any(|&pid| pid == root);
        let Some(entry) = self.table.get(root).filter(|e| is_root && e.is_running()) else {
            return;
        };
        let live_child = entry.children().any(|child| {
            self.table.get(child).is_some_and(|e| e.is_running())
                && self
                    .held
                    .get(&child)
                    .and_then(|h| h.budget)
                    .is_some_and(|budget| sys::cap_info(budget).is_ok())
        });
        if live_child {
            return;
        }
        self.roots.retain(|_, pid| *pid != root);
        let _ = self.end(root, End::Killed);
    }

    /// Answers the waits of `parent` that can be answered now.
    fn wake(&mut self, parent: Pid) {
        let mut index = 0;
        while index < self.waiting.len() {
            let parked = &self.waiting[index];
            if parked.parent != parent {
                index += 1;
                continue;
            }
            let message = match self.table.wait(parent, parked.which) {
                Ok(None) => {
                    index += 1;
                    continue;
                }
                Ok(Some((child, end))) => {
                    self.held.remove(&child);
                    ended_message(parked.request_id, child, end)
                }
                Err(error) => Message::new(status::reply_label(error.code(), parked.request_id)),
            };
            let parked = self.waiting.swap_remove(index);
            // A parent that has gone loses the answer (its child is reaped
            // all the same).
            let _ = parked.reply.send(&message);
        }
    }
}

/// Whether `slot` holds the lease of `pid`: the kernel deletes a lease
/// whose copies have all gone, and the slot may hold something else since
/// (never this badge: pids are not reused).
fn holds_lease(slot: CapSlot, pid: Pid) -> bool {
    sys::cap_info(slot).is_ok_and(|info| {
        info.object_type == ObjectType::Endpoint.to_reg() as u32
            && info.badge == Badge::own(pid) | WATCH_BADGE
    })
}

/// The reply to a wait that found `child` ended.
fn ended_message(request_id: u32, child: Pid, end: End) -> Message {
    let mut message = Message::new(status::reply_label(OK, request_id));
    let (tag, words) = end.to_wire();
    let _ = child.0.put(&mut message);
    let _ = tag.put(&mut message);
    for word in words {
        let _ = word.put(&mut message);
    }
    message
}

/// Whether `name` may name a process.
fn check_name(name: &str) -> Result<(), ProcError> {
    if name.len() > NAME_MAX_BYTES || name.contains('\0') {
        return Err(ProcError::InvalidArgument);
    }
    Ok(())
}

impl ProcServer for Server {
    fn create(
        &mut self,
        budget: Cap,
        name: &str,
    ) -> Result<(u32, CapSlot, CapSlot, CapSlot), ErrorCode> {
        let parent = wire(self.caller())?;
        wire(check_name(name))?;
        let is_budget = sys::cap_info(budget.slot())
            .is_ok_and(|info| info.object_type == ObjectType::Budget.to_reg() as u32);
        if !is_budget {
            return Err(proc::code(ProcError::InvalidArgument));
        }
        let pid = wire(self.table.add(Some(parent)))?;
        let rights = Rights::WRITE | Rights::GRANT;
        let mut lease = None;
        let made = (|| {
            let child = sys::cap_mint(self.endpoint, rights, Badge::child(pid))?;
            self.sent.push(child);
            let minted = sys::cap_mint(self.endpoint, rights, Badge::own(pid) | WATCH_BADGE)?;
            lease = Some(minted);
            let own = sys::cap_copy(minted, rights)?;
            self.sent.push(own);
            let work = sys::cap_copy(budget.slot(), Rights::all())?;
            self.sent.push(work);
            Ok::<_, abi::SysError>((child, own, work))
        })();
        let (child, own, work) = match made {
            Ok(made) => made,
            Err(_) => {
                if let Some(lease) = lease {
                    let _ = sys::cap_delete(lease);
                }
                let _ = self.table.cancel(pid);
                return Err(proc::code(ProcError::OutOfMemory));
            }
        };
        let held = Held {
            name: String::from(name),
            budget: Some(budget.into_raw()),
            lease,
        };
        self.held.insert(pid, held);
        Ok((pid.0, child, own, work))
    }

    fn wait(&mut self, pid: u32, nohang: bool) -> Result<(u32, u8, u64, u64, u64, u64), ErrorCode> {
        let parent = wire(self.caller())?;
        let which = match pid {
            0 => Which::Any,
            pid => Which::Child(Pid(pid)),
        };
        match wire(self.table.wait(parent, which))? {
            Some((child, end)) => {
                self.held.remove(&child);
                let (tag, [a, b, c, d]) = end.to_wire();
                Ok((child.0, tag, a, b, c, d))
            }
            None if nohang => Ok((0, 0, 0, 0, 0, 0)),
            None => {
                self.deferral = Some((parent, which));
                Err(DEFER)
            }
        }
    }

    fn kill(&mut self) -> Result<(), ErrorCode> {
        let Badge::Child(pid) = Badge::of(self.badge) else {
            return Err(proc::code(ProcError::InvalidArgument));
        };
        wire(self.end(pid, End::Killed))
    }

    fn ids(&mut self) -> Result<(u32, u32), ErrorCode> {
        let pid = match Badge::of(self.badge) {
            Badge::Child(pid) => pid,
            _ => wire(self.caller())?,
        };
        let entry = self
            .table
            .get(pid)
            .ok_or(proc::code(ProcError::NoSuchProcess))?;
        Ok((pid.0, entry.parent.0))
    }

    fn list(&mut self, cursor: u32) -> Result<(&[u8], u32), ErrorCode> {
        wire(self.caller())?;
        self.list = EntriesWriter::default();
        let mut next = 0;
        for (pid, entry) in self.table.iter().filter(|(pid, _)| pid.0 >= cursor) {
            let held = self.held.get(&pid);
            let frames = held
                .and_then(|h| h.budget)
                .and_then(|b| sys::budget_info(b).ok())
                .map_or(u32::MAX, |s| u32::try_from(s.used).unwrap_or(u32::MAX));
            let record = ProcEntry {
                pid,
                parent: entry.parent,
                state: match entry.state {
                    State::Running => ProcState::Running,
                    State::Ended(_) => ProcState::Ended,
                },
                frames,
                name: held.map_or("", |h| h.name.as_str()),
            };
            if !self.list.push(&record) {
                next = pid.0;
                break;
            }
        }
        Ok((self.list.as_bytes(), next))
    }

    fn rename(&mut self, name: &str) -> Result<(), ErrorCode> {
        let pid = wire(self.caller())?;
        wire(check_name(name))?;
        if let Some(held) = self.held.get_mut(&pid) {
            held.name = String::from(name);
        }
        Ok(())
    }
}

impl protocols::server::Deferring for Server {
    fn dispatch(&mut self, request: &Message, reply: &mut Message) -> bool {
        Server::dispatch(self, request, reply)
    }

    fn park(&mut self, reply: SavedReply) {
        Server::park(self, reply);
    }

    fn unpark(&mut self) {
        Server::unpark(self);
    }

    /// Exit messages and fault messages end their process; the watch
    /// notification says leases have gone.
    fn other(&mut self, message: &Message) {
        if message.info().is_notification() {
            self.leases_ended();
        } else if message.info().is_fault() {
            self.fault(message);
        } else {
            self.message(message);
            protocols::discard_caps(message);
        }
    }

    /// The capabilities the last reply carried copies of go.
    fn before(&mut self) {
        self.release_sent();
    }
}
