//! A terminal as its server keeps it: the line discipline, the reads that
//! wait for input and the calls that wait for a signal key. The console
//! server (`servers/console`) holds one [`Terminal`] behind a lock, shared
//! by its receive loop (which starts reads and waits) and its input thread
//! (which feeds bytes and answers the waiters).
//!
//! `R` is whatever the server answers a waiting call through (a saved
//! reply on Mica, a number in the tests). Answering is the caller's
//! closure, `deliver(reply, Delivery) -> bool`, which says whether the
//! caller got the answer: a reader that has gone (killed while it waited)
//! does not take its bytes with it, they stay for the next reader.
//!
//! # Invariants
//!
//! - Reads are answered in the order they came: a read that finds others
//!   waiting waits behind them, even if input is there
//!   ([`Terminal::read_now`]).
//! - A waiting read is answered as soon as the line discipline can answer
//!   it (a line, raw bytes, an end of file), and never with more than its
//!   `max` bytes; in canonical mode never with bytes of two lines.
//! - A signal answers every call waiting for one at that moment, each
//!   exactly once; a call that arrives later waits for the next signal.
//! - At most [`WAITING_READS_MAX`] reads and [`WAITING_SIGNALS_MAX`]
//!   signal calls wait; [`Terminal::can_park_read`] and
//!   [`Terminal::can_park_signal`] say whether one more may.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::ldisc::{Input, LineDiscipline, ReadOutcome, Settings, Signal};

/// The most reads that may wait at once.
pub const WAITING_READS_MAX: usize = 64;
/// The most calls that may wait for a signal at once.
pub const WAITING_SIGNALS_MAX: usize = 64;

/// The answer to a waiting call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// A read's bytes; empty for an end of file.
    Data(&'a [u8]),
    /// A signal key was typed.
    Signal(Signal),
    /// The open object the read came through was closed meanwhile.
    Closed,
}

/// A read that waits.
#[derive(Debug)]
struct Reader<R> {
    reply: R,
    /// Bytes it takes at most (at least 1).
    max: usize,
    /// The open object it came through ([`Terminal::close`]).
    object: u64,
}

/// What one batch of input did, besides the echo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Readers may have something to read.
    pub readable: bool,
    /// Signal keys typed, in order.
    pub signals: Vec<Signal>,
    /// Bytes refused because a buffer was full.
    pub refused: usize,
}

/// One terminal: its line discipline and the calls that wait on it.
#[derive(Debug)]
pub struct Terminal<R> {
    ldisc: LineDiscipline,
    /// Waiting reads, oldest first.
    readers: VecDeque<Reader<R>>,
    /// Calls waiting for a signal.
    signal_waiters: Vec<R>,
    /// Where a waiting read's bytes are copied before they are delivered.
    scratch: Vec<u8>,
}

impl<R> Terminal<R> {
    /// A terminal with `settings`, nothing typed and nobody waiting.
    pub fn new(settings: Settings) -> Terminal<R> {
        Terminal {
            ldisc: LineDiscipline::new(settings),
            readers: VecDeque::new(),
            signal_waiters: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The line discipline's settings.
    pub fn settings(&self) -> Settings {
        self.ldisc.settings()
    }

    /// The line discipline, to look at.
    pub fn ldisc(&self) -> &LineDiscipline {
        &self.ldisc
    }

    /// Reads waiting.
    pub fn waiting_reads(&self) -> usize {
        self.readers.len()
    }

    /// Calls waiting for a signal.
    pub fn waiting_signals(&self) -> usize {
        self.signal_waiters.len()
    }

    /// Whether one more read may wait.
    pub fn can_park_read(&self) -> bool {
        self.readers.len() < WAITING_READS_MAX
    }

    /// Whether one more call may wait for a signal.
    pub fn can_park_signal(&self) -> bool {
        self.signal_waiters.len() < WAITING_SIGNALS_MAX
    }

    /// A read into `buf` that answers now: `Some(n)` bytes (0 for an end
    /// of file or an empty `buf`), or `None` when it must wait, because
    /// nothing is readable or other reads wait already.
    pub fn read_now(&mut self, buf: &mut [u8]) -> Option<usize> {
        if buf.is_empty() {
            return Some(0);
        }
        if !self.readers.is_empty() {
            return None;
        }
        match self.ldisc.read(buf) {
            ReadOutcome::Bytes(n) => Some(n),
            ReadOutcome::EndOfFile => Some(0),
            ReadOutcome::Empty => None,
        }
    }

    /// Makes a read of up to `max` bytes (at least 1) through `object`
    /// wait; answer what can be answered with [`Terminal::wake`] after.
    /// Past [`WAITING_READS_MAX`] the reply is handed back.
    ///
    /// # Errors
    /// The reply, when too many reads wait.
    pub fn park_read(&mut self, reply: R, max: usize, object: u64) -> Result<(), R> {
        if !self.can_park_read() {
            return Err(reply);
        }
        self.readers.push_back(Reader {
            reply,
            max: max.max(1),
            object,
        });
        Ok(())
    }

    /// Makes a call wait for the next signal key. Past
    /// [`WAITING_SIGNALS_MAX`] the reply is handed back.
    ///
    /// # Errors
    /// The reply, when too many calls wait.
    pub fn park_signal(&mut self, reply: R) -> Result<(), R> {
        if !self.can_park_signal() {
            return Err(reply);
        }
        self.signal_waiters.push(reply);
        Ok(())
    }

    /// Feeds bytes typed on the terminal to the line discipline, appending
    /// what to echo to `echo`. Write the echo, then [`Terminal::wake`] the
    /// readers and [`Terminal::raise`] each signal, in that order, so that
    /// a program's answer to a line never comes before the line's echo.
    pub fn input(&mut self, bytes: &[u8], echo: &mut Vec<u8>) -> Effects {
        let mut effects = Effects::default();
        for &byte in bytes {
            match self.ldisc.input(byte, echo) {
                Input::Edited => {}
                Input::Readable => effects.readable = true,
                Input::Signal(signal) => effects.signals.push(signal),
                Input::Refused => effects.refused += 1,
            }
        }
        effects
    }

    /// Changes the settings; returns the old ones. Leaving canonical mode
    /// makes the pending line readable: call [`Terminal::wake`] after.
    pub fn set_settings(&mut self, settings: Settings) -> Settings {
        let old = self.ldisc.settings();
        // Refused (the pending line did not fit the queue) discards the
        // line; there is nobody to tell.
        let _ = self.ldisc.set_settings(settings);
        old
    }

    /// Copies program output to `out` for the terminal (LF to CR LF when
    /// the settings say so).
    pub fn output(&self, bytes: &[u8], out: &mut Vec<u8>) {
        self.ldisc.output(bytes, out);
    }

    /// Answers waiting reads, oldest first, while the line discipline has
    /// something for them. A reader that does not take its answer
    /// (`deliver` returns false) leaves the bytes for the next.
    pub fn wake(&mut self, mut deliver: impl FnMut(R, Delivery<'_>) -> bool) {
        while self.ldisc.can_read() {
            let Some(reader) = self.readers.pop_front() else {
                return;
            };
            let before = self.ldisc.clone();
            self.scratch.clear();
            self.scratch.resize(reader.max, 0);
            let n = match self.ldisc.read(&mut self.scratch) {
                ReadOutcome::Bytes(n) => n,
                ReadOutcome::EndOfFile | ReadOutcome::Empty => 0,
            };
            let data = self.scratch.get(..n).unwrap_or(&[]);
            if !deliver(reader.reply, Delivery::Data(data)) {
                self.ldisc = before;
            }
        }
    }

    /// Answers every call waiting for a signal with `signal`.
    pub fn raise(&mut self, signal: Signal, mut deliver: impl FnMut(R, Delivery<'_>) -> bool) {
        for reply in self.signal_waiters.drain(..) {
            // One that has gone simply misses it.
            let _ = deliver(reply, Delivery::Signal(signal));
        }
    }

    /// Answers the reads waiting on `object`, which was just closed, with
    /// [`Delivery::Closed`].
    pub fn close(&mut self, object: u64, mut deliver: impl FnMut(R, Delivery<'_>) -> bool) {
        let mut kept = VecDeque::with_capacity(self.readers.len());
        for reader in self.readers.drain(..) {
            if reader.object == object {
                let _ = deliver(reader.reply, Delivery::Closed);
            } else {
                kept.push_back(reader);
            }
        }
        self.readers = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use std::collections::BTreeSet;
    use std::vec::Vec as StdVec;

    /// What each reply number was answered with.
    #[derive(Default)]
    struct Answers {
        got: StdVec<(u32, StdVec<u8>)>,
        signals: StdVec<(u32, Signal)>,
        closed: StdVec<u32>,
        /// Replies whose caller has gone: they refuse their answer.
        gone: BTreeSet<u32>,
    }

    impl Answers {
        fn deliver(&mut self) -> impl FnMut(u32, Delivery<'_>) -> bool + '_ {
            |reply, delivery| {
                if self.gone.contains(&reply) {
                    return false;
                }
                match delivery {
                    Delivery::Data(bytes) => self.got.push((reply, bytes.to_vec())),
                    Delivery::Signal(signal) => self.signals.push((reply, signal)),
                    Delivery::Closed => self.closed.push(reply),
                }
                true
            }
        }
    }

    fn typed(terminal: &mut Terminal<u32>, bytes: &[u8], answers: &mut Answers) -> StdVec<u8> {
        let mut echo = StdVec::new();
        let effects = terminal.input(bytes, &mut echo);
        terminal.wake(answers.deliver());
        for signal in effects.signals {
            terminal.raise(signal, answers.deliver());
        }
        echo
    }

    #[test]
    fn a_waiting_read_gets_the_line_once_it_ends() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        let mut buf = [0; 16];
        assert_eq!(terminal.read_now(&mut buf), None);
        terminal.park_read(1, 16, 7).unwrap();
        assert_eq!(typed(&mut terminal, b"ls", &mut answers), b"ls");
        assert!(answers.got.is_empty());
        assert_eq!(
            typed(&mut terminal, b"\x7fs -l\r", &mut answers),
            b"\x08 \x08s -l\r\n"
        );
        assert_eq!(answers.got, vec![(1, b"ls -l\n".to_vec())]);
        assert_eq!(terminal.waiting_reads(), 0);
    }

    #[test]
    fn reads_are_answered_in_order_and_never_across_lines() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        terminal.park_read(1, 3, 0).unwrap();
        terminal.park_read(2, 64, 0).unwrap();
        terminal.park_read(3, 64, 0).unwrap();
        typed(&mut terminal, b"hello\rworld\r", &mut answers);
        assert_eq!(
            answers.got,
            vec![
                (1, b"hel".to_vec()),
                (2, b"lo\n".to_vec()),
                (3, b"world\n".to_vec())
            ]
        );
        // With nobody waiting, a read takes what is there; with someone
        // waiting, it waits behind them even if input is there.
        typed(&mut terminal, b"x\r", &mut answers);
        terminal.park_read(4, 64, 0).unwrap();
        let mut buf = [0; 8];
        assert_eq!(terminal.read_now(&mut buf), None);
        terminal.wake(answers.deliver());
        assert_eq!(answers.got.last(), Some(&(4, b"x\n".to_vec())));
        assert_eq!(terminal.read_now(&mut []), Some(0));
    }

    #[test]
    fn end_of_file_answers_one_read_with_nothing() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        terminal.park_read(1, 8, 0).unwrap();
        terminal.park_read(2, 8, 0).unwrap();
        typed(&mut terminal, b"\x04", &mut answers);
        assert_eq!(answers.got, vec![(1, vec![])]);
        assert_eq!(terminal.waiting_reads(), 1);
    }

    #[test]
    fn a_reader_that_has_gone_leaves_its_bytes_to_the_next() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        answers.gone.insert(1);
        terminal.park_read(1, 64, 0).unwrap();
        terminal.park_read(2, 64, 0).unwrap();
        typed(&mut terminal, b"abc\r", &mut answers);
        assert_eq!(answers.got, vec![(2, b"abc\n".to_vec())]);
        // Gone with nobody after it: the line stays for a later read.
        answers.gone.insert(3);
        terminal.park_read(3, 64, 0).unwrap();
        typed(&mut terminal, b"def\r", &mut answers);
        let mut buf = [0; 64];
        assert_eq!(terminal.read_now(&mut buf), Some(4));
        assert_eq!(&buf[..4], b"def\n");
    }

    #[test]
    fn signals_answer_every_waiter_once_and_discard_the_line() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        terminal.park_signal(10).unwrap();
        terminal.park_signal(11).unwrap();
        terminal.park_read(1, 64, 0).unwrap();
        assert_eq!(
            typed(&mut terminal, b"sleep\x03", &mut answers),
            b"sleep^C\r\n"
        );
        assert_eq!(
            answers.signals,
            vec![(10, Signal::Interrupt), (11, Signal::Interrupt)]
        );
        assert!(answers.got.is_empty());
        assert_eq!(terminal.waiting_signals(), 0);
        // Nobody waits now: the next signal reaches only later callers.
        typed(&mut terminal, b"\x1c", &mut answers);
        terminal.park_signal(12).unwrap();
        typed(&mut terminal, b"\x1c", &mut answers);
        assert_eq!(answers.signals.last(), Some(&(12, Signal::Quit)));
        assert_eq!(answers.signals.len(), 3);
        // The read still waits, for a line typed after the signal.
        typed(&mut terminal, b"ok\r", &mut answers);
        assert_eq!(answers.got, vec![(1, b"ok\n".to_vec())]);
    }

    #[test]
    fn raw_mode_passes_escape_sequences_and_utf8_intact() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        // The pending line becomes readable as raw bytes when the mode changes.
        typed(&mut terminal, b"pa", &mut answers);
        terminal.park_read(1, 64, 0).unwrap();
        assert_eq!(terminal.set_settings(Settings::RAW), Settings::COOKED);
        terminal.wake(answers.deliver());
        assert_eq!(answers.got, vec![(1, b"pa".to_vec())]);
        terminal.park_read(2, 64, 0).unwrap();
        let keys = "\x1b[A\x1b[1;5C\x03é€\r".as_bytes();
        assert_eq!(typed(&mut terminal, keys, &mut answers), b"");
        assert_eq!(answers.got[1], (2, keys.to_vec()));
        assert!(answers.signals.is_empty());
    }

    #[test]
    fn closing_an_object_answers_its_reads_only() {
        let mut terminal = Terminal::new(Settings::COOKED);
        let mut answers = Answers::default();
        terminal.park_read(1, 8, 5).unwrap();
        terminal.park_read(2, 8, 6).unwrap();
        terminal.park_read(3, 8, 5).unwrap();
        terminal.close(5, answers.deliver());
        assert_eq!(answers.closed, vec![1, 3]);
        typed(&mut terminal, b"a\r", &mut answers);
        assert_eq!(answers.got, vec![(2, b"a\n".to_vec())]);
    }

    #[test]
    fn waiting_is_bounded() {
        let mut terminal = Terminal::new(Settings::COOKED);
        for i in 0..WAITING_READS_MAX as u32 {
            assert_eq!(terminal.park_read(i, 1, 0), Ok(()));
        }
        assert_eq!(terminal.park_read(999, 1, 0), Err(999));
        for i in 0..WAITING_SIGNALS_MAX as u32 {
            assert_eq!(terminal.park_signal(i), Ok(()));
        }
        assert_eq!(terminal.park_signal(999), Err(999));
    }

    proptest::proptest! {
        /// Whatever is typed and whichever readers have gone, the readers
        /// that take their answers get exactly the bytes a lone reader of
        /// the line discipline would, in order.
        #[test]
        fn delivered_bytes_match_a_plain_reader(
            input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            raw in proptest::prelude::any::<bool>(),
            maxes in proptest::collection::vec(1usize..40, 1..20),
            gone in proptest::collection::vec(proptest::prelude::any::<bool>(), 20),
        ) {
            let settings = if raw { Settings::RAW } else { Settings::COOKED };
            let mut terminal = Terminal::new(settings);
            let mut answers = Answers::default();
            for (i, &max) in maxes.iter().enumerate() {
                if gone[i] {
                    answers.gone.insert(i as u32);
                }
                terminal.park_read(i as u32, max, 0).unwrap();
            }
            let mut echo = StdVec::new();
            let _ = terminal.input(&input, &mut echo);
            terminal.wake(answers.deliver());

            let mut model = LineDiscipline::new(settings);
            let mut model_echo = StdVec::new();
            for &byte in &input {
                let _ = model.input(byte, &mut model_echo);
            }
            proptest::prop_assert_eq!(&echo, &model_echo);
            let mut expected = StdVec::new();
            for (i, &max) in maxes.iter().enumerate() {
                if gone[i] || !model.can_read() {
                    continue;
                }
                let mut buf = vec![0; max];
                let n = match model.read(&mut buf) {
                    ReadOutcome::Bytes(n) => n,
                    _ => 0,
                };
                expected.push((i as u32, buf[..n].to_vec()));
            }
            proptest::prop_assert_eq!(answers.got, expected);
        }
    }
}
