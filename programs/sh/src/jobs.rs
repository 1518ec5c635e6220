//! Children and jobs.
//!
//! A [`Child`] is a process the shell started, with the capabilities of
//! its streams that the shell closes once it has reaped it. A job is the
//! children of one pipeline. The foreground job is shared with the thread
//! that waits for ^C ([`Foreground`]); background jobs (`&`) wait in
//! [`Jobs`] until `fg`, `wait` or the prompt reaps them.
//!
//! A process can only be ended through its capability, which its parent
//! holds: `kill` here reaches the shell's own children, nothing else.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use files::File;
use process::{End, Process};
use rt::sync::Mutex;

/// A process the shell started.
pub struct Child {
    /// The process (shared with the ^C thread while in the foreground).
    pub process: Arc<Process>,
    /// The command name, for messages.
    pub name: String,
    /// The `dup`s of its streams, closed once it is reaped.
    pub streams: Vec<File>,
    /// How it ended, once reaped.
    pub end: Option<End>,
}

impl Child {
    /// Waits for it (if not yet reaped) and closes its streams.
    pub fn wait(&mut self) -> End {
        if self.end.is_none() {
            self.end = Some(self.process.wait().unwrap_or(End::Killed));
            self.streams.clear();
        }
        self.end.unwrap_or(End::Killed)
    }

    /// Reaps it if it has ended.
    pub fn poll(&mut self) -> Option<End> {
        if self.end.is_none()
            && let Ok(Some(end)) = self.process.try_wait()
        {
            self.end = Some(end);
            self.streams.clear();
        }
        self.end
    }
}

/// The processes of the job in the foreground, and the signal that
/// interrupted it.
#[derive(Default)]
pub struct Foreground {
    /// Its processes.
    pub processes: Mutex<Vec<Arc<Process>>>,
    /// A signal key came: 0 none, 2 ^C, 3 ^\ (the signal-like numbers).
    pub signal: AtomicU8,
    /// Whether the shell waits for a job (the ^C thread ignores keys
    /// otherwise).
    pub waiting: AtomicBool,
}

impl Foreground {
    /// Ends every process of the foreground job for signal `number`.
    pub fn interrupt(&self, number: u8) {
        self.signal.store(number, Ordering::Release);
        for process in self.processes.lock().iter() {
            let _ = process.kill();
        }
    }

    /// Takes the signal that came since the last call, if any.
    pub fn take_signal(&self) -> Option<u8> {
        match self.signal.swap(0, Ordering::AcqRel) {
            0 => None,
            n => Some(n),
        }
    }
}

/// A background job.
pub struct Job {
    /// Its number (`%N`).
    pub id: u32,
    /// Its children.
    pub children: Vec<Child>,
    /// The command as typed (printed).
    pub text: String,
}

impl Job {
    /// Whether every child has ended (reaping those that have).
    pub fn done(&mut self) -> bool {
        self.children.iter_mut().all(|c| c.poll().is_some())
    }

    /// The job's status: its last child's.
    pub fn status(&self) -> i32 {
        self.children
            .last()
            .and_then(|c| c.end)
            .map_or(0, |end| end.shell_status() as i32)
    }
}

/// The background jobs, oldest first.
#[derive(Default)]
pub struct Jobs {
    /// The jobs.
    pub list: Vec<Job>,
}

impl Jobs {
    /// Adds a job; returns its number (one more than the highest in use).
    pub fn add(&mut self, children: Vec<Child>, text: String) -> u32 {
        let id = self.list.iter().map(|j| j.id).max().unwrap_or(0) + 1;
        self.list.push(Job { id, children, text });
        id
    }

    /// The index of the job `spec` names.
    pub fn find(&self, spec: utilcore::jobspec::JobSpec) -> Option<usize> {
        use utilcore::jobspec::JobSpec;
        match spec {
            JobSpec::Job(id) => self.list.iter().position(|j| j.id == id),
            JobSpec::Current => self.list.len().checked_sub(1),
            JobSpec::Previous => self.list.len().checked_sub(2),
            JobSpec::Pid(pid) => self
                .list
                .iter()
                .position(|j| j.children.iter().any(|c| c.process.pid().0 == pid)),
        }
    }
}
