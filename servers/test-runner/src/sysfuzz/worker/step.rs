//! A worker's step: what it does next (answer a call it received, answer
//! through a saved reply, run a script, call an unknown number, or make a
//! random call), and how a drawn call is made: the guards against
//! blocking with nobody to wake it (an invalid slot, the alarm, a timer),
//! a `ThreadExec` spoiled so that it never succeeds, the IPC buffer and
//! `CapCopyMany` entries filled, futex arguments made to bite.

use core::sync::atomic::Ordering;

use abi::ipc::{
    IPC_BUFFER_CAPS_OFFSET, IPC_BUFFER_DEADLINE_WORD, IPC_BUFFER_PIECE_COUNT_OFFSET,
    IPC_BUFFER_PIECES_OFFSET, IPC_BUFFER_WINDOW_OFFSET, MSG_MAX_PIECES, MessageInfo,
};
use abi::layout::USER_END;
use abi::syscall::{ClockReadArgs, PollArgs, Syscall, TimerSetArgs};
use abi::{CapSlot, ObjectType, Rights};

use crate::sysfuzz::args;
use crate::sysfuzz::copy_many;
use crate::sysfuzz::layout::{CSPACE_SLOTS, OWN_SCRATCH, OWN_SCRATCH_PAGES};
use crate::sysfuzz::pool::State;
use crate::sysfuzz::report::{self, stat};

use super::{
    ALARM_BIT, BLOCK_PERCENT, COPY_MANY_BUILT_PERCENT, IPC_PAGES, SAVED_ANSWER_PERCENT,
    SCRIPT_PERCENT, Tag, UNKNOWN_NUMBERS, UNKNOWN_PERCENT, Worker,
};

impl Worker {
    /// One step: a reply when holding a reply right (often; sometimes
    /// saved instead, as a Reply capability), an answer through a saved
    /// reply the pool holds (now and then), a script (rarely), else a
    /// random call.
    pub(super) fn step(&mut self) {
        if self.holding_reply && self.rng.chance(50) {
            let call = match self.rng.below(100) {
                0..50 => Syscall::Reply,
                50..70 => Syscall::ReplyRecv,
                70..90 => Syscall::ReplySaveRecv,
                _ => Syscall::ReplySave,
            };
            if call == Syscall::ReplySaveRecv && self.rng.chance(50) {
                // Saved, then a receive where the call came from (the
                // alarm ends it).
                self.tag = Tag::Random;
                let mut args = args::generate(&mut self.rng, &self.pool, &self.cx, call);
                args[0] = self.call_endpoint;
                self.issue(call, args, true);
                return;
            }
            self.random_call(Some(call));
        } else if self.rng.chance(SAVED_ANSWER_PERCENT)
            && let Some(entry) =
                self.pool
                    .live_with(&mut self.rng, ObjectType::Reply, Rights::empty())
        {
            // Random arguments, mostly through that capability.
            self.tag = Tag::Random;
            let mut args = args::generate(&mut self.rng, &self.pool, &self.cx, Syscall::ReplyWith);
            if self.rng.chance(80) {
                args[0] = u64::from(entry.slot);
            }
            self.issue(Syscall::ReplyWith, args, true);
        } else if self.rng.chance(SCRIPT_PERCENT) {
            self.tag = Tag::Script;
            report::bump(stat::SCRIPTS, 1);
            self.script();
        } else if self.rng.chance(UNKNOWN_PERCENT) {
            self.tag = Tag::Random;
            let number = self.rng.pick(&UNKNOWN_NUMBERS);
            let args = args::unknown(&mut self.rng);
            self.raw(number, args);
        } else {
            self.random_call(None);
        }
    }

    /// Whether a call on `slot` might block, for an object of `kind`.
    fn might_block(&self, slot: u64, kind: ObjectType) -> bool {
        if slot == 0 || slot >= u64::from(CSPACE_SLOTS) {
            return false;
        }
        match self.pool.find(slot) {
            Some(entry) => entry.state == State::Live && entry.kind.is_none_or(|k| k == kind),
            None => true,
        }
    }

    /// One random call of `call` (or of a random known number).
    pub fn random_call(&mut self, call: Option<Syscall>) {
        self.tag = Tag::Random;
        let call = call.unwrap_or_else(|| {
            loop {
                let pick = Syscall::ALL[self.rng.below(Syscall::ALL.len() as u64) as usize];
                if pick != Syscall::ThreadExit {
                    break pick;
                }
            }
        });
        let args = args::generate(&mut self.rng, &self.pool, &self.cx, call);
        self.issue(call, args, true);
    }

    /// Makes `call` with `args` and learns from the result. `guarded`: a
    /// call that may block on a live object is usually given an invalid
    /// slot instead (see [`BLOCK_PERCENT`]); unguarded, only the
    /// receive's alarm bounds it (scripts that know a partner answers).
    pub fn issue(&mut self, call: Syscall, mut args: [u64; 6], guarded: bool) {
        let guarded = guarded
            && !(matches!(call, Syscall::ReplyRecv | Syscall::ReplySaveRecv) && self.holding_reply);
        let mut alarm = false;
        let kind = match call {
            Syscall::Recv
            | Syscall::ReplyRecv
            | Syscall::ReplySaveRecv
            | Syscall::Send
            | Syscall::Call => Some(ObjectType::Endpoint),
            Syscall::Wait => Some(ObjectType::Notification),
            Syscall::ThreadWait => Some(ObjectType::Thread),
            _ => None,
        };
        let live = kind.is_some_and(|kind| self.might_block(args[0], kind));
        // Guarded, most calls that could wait get a slot that fails at once.
        let spoil = live && guarded && !self.rng.chance(BLOCK_PERCENT);
        match call {
            Syscall::ThreadExec => self.spoil_exec(&mut args),
            _ if spoil => args[0] = args::invalid_slot(&mut self.rng),
            // The worker's alarm ends the receive at the next tick.
            Syscall::Recv | Syscall::ReplyRecv | Syscall::ReplySaveRecv => alarm = live,
            Syscall::Wait if live => {
                // Its own timer ends the wait at the next tick.
                self.tag = Tag::Upkeep;
                let deadline = self.tick_ahead();
                let armed = self.call(&TimerSetArgs {
                    notification: CapSlot(args[0] as u32),
                    deadline,
                    bits: 1,
                });
                self.tag = Tag::Random;
                if armed.is_err() {
                    args[0] = args::invalid_slot(&mut self.rng);
                }
            }
            _ => {}
        }
        if matches!(
            call,
            Syscall::Send
                | Syscall::NbSend
                | Syscall::Call
                | Syscall::Reply
                | Syscall::ReplyRecv
                | Syscall::ReplyWith
        ) {
            self.fill_buffer(args[1]);
        }
        if args::is_futex(call) {
            self.futex_args(call, &mut args);
        }
        if call == Syscall::CapCopyMany && self.rng.chance(COPY_MANY_BUILT_PERCENT) {
            let page = &IPC_PAGES[self.index];
            (args[1], args[2]) = copy_many::write_entries(&mut self.rng, &self.pool, page, args[0]);
        }
        if alarm {
            self.alarm(true);
        }
        // What may still block after the guards above (an invalid slot fails).
        let blocks = (matches!(
            call,
            Syscall::Send
                | Syscall::Call
                | Syscall::Recv
                | Syscall::ReplyRecv
                | Syscall::ReplySaveRecv
                | Syscall::Wait
                | Syscall::ThreadWait
        ) && args[0] != 0
            && args[0] < u64::from(CSPACE_SLOTS))
            || call == Syscall::FutexWait;
        let (status, results) = if blocks {
            self.blocking(call.number(), args)
        } else {
            self.raw(call.number(), args)
        };
        if alarm {
            self.alarm(false);
        }
        self.observe(call, &args, status, &results);
    }

    /// Makes a futex call's arguments bite: half the time the value its
    /// word holds (when the worker can read it: the scratch buffer), and a
    /// `FutexWait` always a deadline no further than `args::NEAR_NS`.
    fn futex_args(&mut self, call: Syscall, args: &mut [u64; 6]) {
        let expected = match call {
            Syscall::FutexWait => 1,
            Syscall::FutexRequeue => 4,
            _ => return,
        };
        // Mostly a value that fits the 32-bit word (wider ones stop at the
        // decoder with `InvalidArg`).
        if self.rng.chance(80) {
            args[expected] &= u64::from(u32::MAX);
        }
        let scratch = OWN_SCRATCH..OWN_SCRATCH + OWN_SCRATCH_PAGES * abi::layout::PAGE_BYTES;
        if scratch.contains(&args[0]) && args[0].is_multiple_of(4) && self.rng.chance(50) {
            args[expected] = u64::from(crate::cpu::word_at(args[0]).load(Ordering::SeqCst));
        }
        if call == Syscall::FutexWait {
            let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
            if let Ok(results) = self.call(&ClockReadArgs {}) {
                self.cx.now = results[0];
            }
            self.tag = tag;
            let latest = self.cx.now + args::NEAR_NS;
            if args[2] == 0 || args[2] > latest {
                args[2] = self.cx.now + 1 + self.rng.below(args::NEAR_NS);
            }
        }
    }

    /// A deadline a timer tick from now (read as upkeep). Deadlines are
    /// precise: one already past fires at once.
    fn tick_ahead(&mut self) -> u64 {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        if let Ok(results) = self.call(&ClockReadArgs {}) {
            self.cx.now = results[0];
        }
        self.tag = tag;
        self.cx.now + crate::sysfuzz::TICK_NS
    }

    /// Arms (`on`) or disarms and drains the worker's alarm.
    fn alarm(&mut self, on: bool) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let notification = CapSlot(self.infra.alarm as u32);
        if on {
            let deadline = self.tick_ahead();
            let _ = self.call(&TimerSetArgs {
                notification,
                deadline,
                bits: ALARM_BIT,
            });
        } else {
            let _ = self.call(&TimerSetArgs {
                notification,
                deadline: 0,
                bits: 0,
            });
            let _ = self.call(&PollArgs { notification });
        }
        self.tag = tag;
    }

    /// Makes `ThreadExec` arguments fail their check: an entry or a stack
    /// outside user space.
    fn spoil_exec(&mut self, args: &mut [u64; 6]) {
        // Entries must lie in USER_START..USER_END, stacks in
        // USER_START..=USER_END.
        let outside = [
            0,
            0xfff,
            USER_END + 8,
            0x0000_8000_0000_0000,
            0xffff_8000_0000_0000,
            u64::MAX,
        ];
        if self.rng.chance(50) {
            args[1] = self.rng.pick(&[USER_END, USER_END + 1]);
        } else {
            args[2] = self.rng.pick(&outside);
        }
        if self.rng.chance(30) {
            args[1] = self.rng.pick(&outside);
        }
    }

    /// Puts capabilities (and some words, and a deadline) to send in the
    /// IPC buffer.
    fn fill_buffer(&mut self, info: u64) {
        let page = &IPC_PAGES[self.index];
        let deadline = args::deadline(&mut self.rng, &self.cx);
        page.set_word(IPC_BUFFER_DEADLINE_WORD, deadline);
        let caps = MessageInfo::from_received(info).caps().min(3);
        for index in 0..caps {
            let slot = args::cap_to_send(&mut self.rng, &self.pool);
            page.set_word(IPC_BUFFER_CAPS_OFFSET / 8 + index, slot);
        }
        if self.rng.chance(30) {
            for index in 4..8 {
                page.set_word(index, self.rng.next());
            }
        }
        // The bytes of a message (docs/ipc.md, "Bytes"): pieces of any
        // address (the kernel only reads them), sometimes too many or too
        // long; and the window this worker takes bytes in when it
        // receives: none, or at most 256 bytes where `args::address` lets
        // the kernel write in this space (its scratch buffer; else
        // addresses the kernel must refuse).
        if MessageInfo::from_received(info).has_bytes() || self.rng.chance(10) {
            let count = self.rng.below(MSG_MAX_PIECES as u64 + 2);
            page.set_word(IPC_BUFFER_PIECE_COUNT_OFFSET / 8, count);
            for index in 0..count.min(MSG_MAX_PIECES as u64) as usize {
                let addr = args::address(&mut self.rng, &self.cx, false);
                let len = match self.rng.below(10) {
                    0 => 0,
                    1..5 => self.rng.below(512),
                    5..8 => self.rng.below(5000),
                    8 => self.rng.below(70_000),
                    _ => u64::MAX - self.rng.below(100),
                };
                page.set_word(IPC_BUFFER_PIECES_OFFSET / 8 + 2 * index, addr);
                page.set_word(IPC_BUFFER_PIECES_OFFSET / 8 + 2 * index + 1, len);
            }
        }
        if self.rng.chance(20) {
            let (addr, len) = match self.rng.below(3) {
                0 => (0, 0),
                _ => (
                    args::address(&mut self.rng, &self.cx, true),
                    self.rng.below(257),
                ),
            };
            page.set_word(IPC_BUFFER_WINDOW_OFFSET / 8, addr);
            page.set_word(IPC_BUFFER_WINDOW_OFFSET / 8 + 1, len);
        }
    }
}
