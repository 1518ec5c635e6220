//! One supervised program: its configuration entry, what runs of it now,
//! the capabilities init made for it (kept across restarts), its restart
//! state and its recent history.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use abi::CapSlot;
use protocols::supervisor::{Event, EventKind, HISTORY_EVENTS, State};
use rt::spawn::Child;
use sysconf::restart::Tracker;

/// A capability init made for a program at its first start (an I/O port
/// range, an IRQ line, device memory): kept by init, a copy given to each
/// instance, so a restart re-binds the same line and ports.
#[derive(Clone, Copy, Debug)]
pub struct Resource {
    /// `abi::startup::handle` kind.
    pub kind: u32,
    /// init's slot.
    pub slot: CapSlot,
}

/// Bytes reserved for a program's note (longer ones reallocate).
const NOTE_BYTES: usize = 160;

/// A program init supervises.
pub struct Supervised<'a> {
    /// Its name (`entry N` for an entry that could not be decoded).
    pub name: String,
    /// Its checked entry; `None` if it was refused.
    pub entry: Option<sysconf::Program<'a>>,
    /// Where it stands.
    pub state: State,
    /// Instances started so far (the running one's number).
    pub instance: u64,
    /// Failures so far (non-zero exits, faults, kills).
    pub failures: u64,
    /// The restart rules' state.
    pub tracker: Option<Tracker>,
    /// The running instance.
    pub child: Option<Child>,
    /// When a restart is due (monotonic ns).
    pub restart_at: Option<u64>,
    /// Its ELF file and what it asks for (checked), found at the first
    /// start.
    pub plan: Option<(&'a [u8], Vec<sysconf::manifest::Need<'a>>)>,
    /// Device capabilities made for it, in the order of its needs.
    pub resources: Vec<Resource>,
    /// The last thing init logged about it.
    pub note: String,
    history: VecDeque<Event>,
}

impl<'a> Supervised<'a> {
    /// A program about to start.
    pub fn new(name: String, entry: Option<sysconf::Program<'a>>) -> Supervised<'a> {
        Supervised {
            name,
            tracker: entry.map(|e| Tracker::new(e.restart)),
            entry,
            state: State::Waiting,
            instance: 0,
            failures: 0,
            child: None,
            restart_at: None,
            plan: None,
            resources: Vec::new(),
            // Full size from the start: a restart must not grow init's
            // heap (the tests compare init's frames across restarts).
            note: String::with_capacity(NOTE_BYTES),
            history: VecDeque::with_capacity(HISTORY_EVENTS),
        }
    }

    /// Replaces the note, in its own buffer.
    pub fn set_note(&mut self, text: core::fmt::Arguments<'_>) {
        use core::fmt::Write;
        self.note.clear();
        let _ = self.note.write_fmt(text);
    }

    /// Records an event (the oldest goes past [`HISTORY_EVENTS`]).
    pub fn record(&mut self, kind: EventKind, value: u32) {
        if self.history.len() == HISTORY_EVENTS {
            self.history.pop_front();
        }
        self.history.push_back(Event {
            kind,
            value,
            time_ns: rt::time::now_ns(),
        });
    }

    /// The history, packed into `out`; the bytes written.
    pub fn history_into<'b>(&self, out: &'b mut [u8]) -> &'b [u8] {
        let mut len = 0;
        for (event, chunk) in self.history.iter().zip(out.chunks_exact_mut(16)) {
            chunk.copy_from_slice(&event.to_bytes());
            len += 16;
        }
        &out[..len]
    }
}
