//! The process table: ids, parents and children, sessions, how each
//! process ended, and who may wait for whom.
//!
//! Rules (POSIX's, with init standing for [`INIT`]):
//!
//! - a process is added running, as a root of a new session (its parent
//!   is init) or as the child of a running process, in its parent's
//!   session;
//! - when it ends, its running children become init's (orphans) and its
//!   ended children are reaped; it stays as ended until its parent waits
//!   for it, unless its parent is init, which reaps it at once;
//! - a parent waits for one child or for any: an ended one is reaped and
//!   reported (the lowest id first), a running one means "not yet", and
//!   no child at all is an error.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::{INIT, Pid, ProcError};

/// How many processes the table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// In all.
    pub total: usize,
    /// In one session (a root and everything it started).
    pub per_session: usize,
}

/// A process's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State<S> {
    /// Running (or at least not known to have ended).
    Running,
    /// Ended with this status; its parent has not waited for it yet.
    Ended(S),
}

/// One process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<S> {
    /// Its parent: the process that started it, or [`INIT`].
    pub parent: Pid,
    /// The root it descends from (orphans keep theirs).
    pub session: Pid,
    /// Running or ended.
    pub state: State<S>,
    children: BTreeSet<Pid>,
}

impl<S> Entry<S> {
    /// Its children, running and ended, lowest id first.
    pub fn children(&self) -> impl Iterator<Item = Pid> + '_ {
        self.children.iter().copied()
    }

    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running)
    }
}

/// Which child `wait` is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// This one.
    Child(Pid),
    /// Any.
    Any,
}

/// What ending a process changed besides its own entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Whether the process itself was reaped at once (its parent is init).
    pub reaped: bool,
    /// Its children that were still running: now init's.
    pub orphaned: Vec<Pid>,
    /// Its children that had ended: reaped now.
    pub reaped_children: Vec<Pid>,
}

/// The table.
#[derive(Clone, Debug)]
pub struct Table<S> {
    entries: BTreeMap<Pid, Entry<S>>,
    sessions: BTreeMap<Pid, usize>,
    next: u32,
    limits: Limits,
}

impl<S: Clone> Table<S> {
    /// An empty table; the first id handed out is 2.
    pub fn new(limits: Limits) -> Table<S> {
        Table {
            entries: BTreeMap::new(),
            sessions: BTreeMap::new(),
            next: INIT.0 + 1,
            limits,
        }
    }

    /// Adds a running process: a root (`None`: its parent is init and it
    /// starts a session) or a child of the running `parent`.
    ///
    /// # Errors
    /// `NoSuchProcess` for an unknown parent, `NotRunning` for one that
    /// ended, `TableFull`, `SessionFull`.
    pub fn add(&mut self, parent: Option<Pid>) -> Result<Pid, ProcError> {
        let session = match parent {
            Some(parent) => {
                let entry = self.entries.get(&parent).ok_or(ProcError::NoSuchProcess)?;
                if !entry.is_running() {
                    return Err(ProcError::NotRunning);
                }
                Some(entry.session)
            }
            None => None,
        };
        if self.entries.len() >= self.limits.total || self.next == u32::MAX {
            return Err(ProcError::TableFull);
        }
        if let Some(session) = session
            && self.sessions.get(&session).copied().unwrap_or(0) >= self.limits.per_session
        {
            return Err(ProcError::SessionFull);
        }
        let pid = Pid(self.next);
        self.next += 1;
        let session = session.unwrap_or(pid);
        let parent = parent.unwrap_or(INIT);
        self.entries.insert(
            pid,
            Entry {
                parent,
                session,
                state: State::Running,
                children: BTreeSet::new(),
            },
        );
        *self.sessions.entry(session).or_insert(0) += 1;
        if let Some(entry) = self.entries.get_mut(&parent) {
            entry.children.insert(pid);
        }
        Ok(pid)
    }

    /// Records that the running process `pid` ended with `status`.
    ///
    /// # Errors
    /// `NoSuchProcess`, or `NotRunning` if it had already ended.
    pub fn end(&mut self, pid: Pid, status: S) -> Result<Ended, ProcError> {
        let entry = self.entries.get_mut(&pid).ok_or(ProcError::NoSuchProcess)?;
        if !entry.is_running() {
            return Err(ProcError::NotRunning);
        }
        entry.state = State::Ended(status);
        let parent = entry.parent;
        let children = core::mem::take(&mut entry.children);
        let mut ended = Ended::default();
        for child in children {
            let running = self.entries.get(&child).is_some_and(Entry::is_running);
            if running {
                if let Some(entry) = self.entries.get_mut(&child) {
                    entry.parent = INIT;
                }
                ended.orphaned.push(child);
            } else {
                self.remove(child);
                ended.reaped_children.push(child);
            }
        }
        if parent == INIT {
            self.remove(pid);
            ended.reaped = true;
        }
        Ok(ended)
    }

    /// `parent` waits for `which`: `Some` with the child reaped and its
    /// status, or `None` if the child (or every child) is still running.
    ///
    /// # Errors
    /// `NoSuchProcess` for an unknown parent or child, `NotChild` for a
    /// process that is not `parent`'s child, `NoChildren` for `Any` with
    /// no child.
    pub fn wait(&mut self, parent: Pid, which: Which) -> Result<Option<(Pid, S)>, ProcError> {
        let entry = self.entries.get(&parent).ok_or(ProcError::NoSuchProcess)?;
        let found = match which {
            Which::Child(child) => {
                if !entry.children.contains(&child) {
                    return Err(if self.entries.contains_key(&child) {
                        ProcError::NotChild
                    } else {
                        ProcError::NoSuchProcess
                    });
                }
                self.ended_status(child).map(|status| (child, status))
            }
            Which::Any => {
                if entry.children.is_empty() {
                    return Err(ProcError::NoChildren);
                }
                entry
                    .children
                    .iter()
                    .find_map(|&child| self.ended_status(child).map(|status| (child, status)))
            }
        };
        if let Some((child, _)) = &found {
            self.remove(*child);
        }
        Ok(found)
    }

    /// Takes back a process that never ran (its server could not finish
    /// making it): it must be running and have no child.
    ///
    /// # Errors
    /// `NoSuchProcess`; `NotRunning` for one that ended or has children.
    pub fn cancel(&mut self, pid: Pid) -> Result<(), ProcError> {
        let entry = self.entries.get(&pid).ok_or(ProcError::NoSuchProcess)?;
        if !entry.is_running() || !entry.children.is_empty() {
            return Err(ProcError::NotRunning);
        }
        self.remove(pid);
        Ok(())
    }

    /// The process `pid`.
    pub fn get(&self, pid: Pid) -> Option<&Entry<S>> {
        self.entries.get(&pid)
    }

    /// Every process, lowest id first.
    pub fn iter(&self) -> impl Iterator<Item = (Pid, &Entry<S>)> {
        self.entries.iter().map(|(&pid, entry)| (pid, entry))
    }

    /// How many processes there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many processes `session` holds.
    pub fn session_len(&self, session: Pid) -> usize {
        self.sessions.get(&session).copied().unwrap_or(0)
    }

    fn ended_status(&self, pid: Pid) -> Option<S> {
        match &self.entries.get(&pid)?.state {
            State::Ended(status) => Some(status.clone()),
            State::Running => None,
        }
    }

    /// Takes `pid` out of the table and out of its parent's children.
    fn remove(&mut self, pid: Pid) {
        let Some(entry) = self.entries.remove(&pid) else {
            return;
        };
        if let Some(parent) = self.entries.get_mut(&entry.parent) {
            parent.children.remove(&pid);
        }
        if let Some(count) = self.sessions.get_mut(&entry.session) {
            *count -= 1;
            if *count == 0 {
                self.sessions.remove(&entry.session);
            }
        }
    }
}
