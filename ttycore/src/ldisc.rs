//! The line discipline: what the console server does with every byte that
//! arrives from the terminal before a program reads it.
//!
//! The console feeds each input byte to [`LineDiscipline::input`], writes
//! the echo bytes it gets back to the terminal, delivers any [`Signal`],
//! and wakes blocked readers when the result is [`Input::Readable`].
//! Readers take bytes with [`LineDiscipline::read`].
//!
//! # Modes ([`Settings`])
//!
//! - **Canonical** (cooked): input is edited a line at a time and readers
//!   see a line only once it ends. CR and LF end a line (CR becomes LF; the
//!   echo is `\r\n`); backspace (0x7f or 0x08) erases one character, a whole
//!   UTF-8 sequence (`\b \b`, two of them for a `^X` control character);
//!   ^U erases the line; ^W erases the previous word (blanks, then
//!   non-blanks); ^D at the start of a line is end of file for one read,
//!   elsewhere it hands the partial line to readers without a newline
//!   (POSIX VEOF). Other control characters enter the line and echo as `^X`
//!   (tab too: `^I`). Bytes from 0x80 pass through intact.
//! - **Raw** (non-canonical): every byte is readable at once, unchanged.
//! - **Echo**, independent of the mode: off, nothing is echoed (passwords,
//!   or a program that draws its own screen like the shell's editor). In raw
//!   mode with echo on, bytes echo as in canonical mode.
//! - **Signals** (ISIG), independent of the mode: on, ^C gives
//!   [`Signal::Interrupt`] (echo `^C\r\n`) and ^\ gives [`Signal::Quit`]
//!   (echo `^\\\r\n`); both discard the pending line (POSIX, without
//!   NOFLSH); the byte never reaches readers. Off, they are ordinary bytes.
//! - **Output CR LF** (ONLCR): whether [`LineDiscipline::output`] turns LF
//!   into CR LF in program output (see [`crate::output`]).
//!
//! # Limits
//!
//! The pending line holds at most [`LINE_MAX_BYTES`]; the queue readers
//! take from holds at most [`QUEUE_MAX_BYTES`] (each queued line or end of
//! file counts one byte more, so the count of queued items is bounded too).
//! A byte beyond either is refused: [`Input::Refused`], and a bell (0x07) is
//! echoed when echo is on. A character whose lead byte is refused has its
//! continuation bytes refused too, so the line never holds half of one.
//!
//! # Invariants
//!
//! Readers never see a byte that was erased or discarded, and see a line
//! (or raw bytes) in arrival order. In canonical mode a read returns bytes
//! of one line at most (a line may take several reads); an end of file is
//! reported to exactly one read.
//!
//! Columns: the echo assumes one column per character, two for `^X`, and
//! one for each byte of an invalid UTF-8 sequence (terminals usually show
//! U+FFFD). The erase echo never moves left of the line's start.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::utf8::{is_continuation, last_unit_len, sequence_len};
use crate::{BELL, LINE_MAX_BYTES};

/// The most bytes waiting for readers, queued lines and raw bytes together.
pub const QUEUE_MAX_BYTES: usize = 4 * LINE_MAX_BYTES;

/// Interrupt: ^C.
const INTR: u8 = 0x03;
/// Quit: ^\.
const QUIT: u8 = 0x1c;
/// End of file: ^D.
const EOF: u8 = 0x04;
/// Erase the line: ^U.
const KILL: u8 = 0x15;
/// Erase a word: ^W.
const WERASE: u8 = 0x17;
/// Erase a character: DEL, what most terminals send for Backspace.
const ERASE: u8 = 0x7f;
/// Erase a character: ^H, what some terminals send for Backspace.
const BACKSPACE: u8 = 0x08;

/// How the line discipline treats input and output; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Edit a line at a time (cooked); off, every byte is readable at once (raw).
    pub canonical: bool,
    /// Echo input to the terminal.
    pub echo: bool,
    /// ^C and ^\ raise signals instead of being input (ISIG).
    pub signals: bool,
    /// [`LineDiscipline::output`] turns LF into CR LF (ONLCR).
    pub output_crlf: bool,
}

impl Settings {
    /// A console's default: canonical, echo, signals, CR LF on output.
    pub const COOKED: Self = Self {
        canonical: true,
        echo: true,
        signals: true,
        output_crlf: true,
    };
    /// Every byte passes through unchanged: no editing, echo, signals or
    /// output processing (`cfmakeraw`). Set `signals` to keep ^C a signal.
    pub const RAW: Self = Self {
        canonical: false,
        echo: false,
        signals: false,
        output_crlf: false,
    };
}

impl Default for Settings {
    fn default() -> Self {
        Self::COOKED
    }
}

/// A signal the console delivers to the foreground program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// ^C: interrupt the program (SIGINT).
    Interrupt,
    /// ^\: quit the program (SIGQUIT).
    Quit,
}

/// What one input byte did.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The byte edited the pending line or was ignored; readers have nothing new.
    Edited,
    /// Readers have something new to read (bytes or an end of file): wake them.
    Readable,
    /// The byte raised a signal; it is not input.
    Signal(Signal),
    /// A buffer is full: the byte was dropped (and a bell echoed if echo is on).
    Refused,
}

/// What a read got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were copied (0 only for an empty buffer).
    Bytes(usize),
    /// End of file (^D at the start of a line): this read only.
    EndOfFile,
    /// Nothing to read yet: a blocking reader waits for [`Input::Readable`].
    Empty,
}

/// One item of the readers' queue.
#[derive(Clone, Debug)]
enum Chunk {
    /// A line or partial line from canonical mode; an empty one is an end of file.
    Line(Vec<u8>),
    /// Bytes from raw mode, merged while they keep arriving.
    Raw(Vec<u8>),
}

/// The line discipline of one terminal; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct LineDiscipline {
    /// The current mode.
    settings: Settings,
    /// The line being edited in canonical mode.
    line: Vec<u8>,
    /// What readers take, oldest first.
    queue: VecDeque<Chunk>,
    /// Bytes in `queue`.
    queued_bytes: usize,
    /// A lead byte was refused: refuse the continuation bytes that follow it.
    refusing_tail: bool,
}

impl LineDiscipline {
    /// A line discipline with `settings`, no pending line and nothing queued.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Changes the settings. Leaving canonical mode makes the pending line
    /// readable as it is (raw bytes, no newline), as Linux does: the result
    /// is then [`Input::Readable`], or [`Input::Refused`] when the queue has
    /// no room for the whole line, which is then discarded.
    pub fn set_settings(&mut self, settings: Settings) -> Input {
        let was_canonical = self.settings.canonical;
        self.settings = settings;
        if !was_canonical || settings.canonical || self.line.is_empty() {
            return Input::Edited;
        }
        let line = core::mem::take(&mut self.line);
        self.refusing_tail = false;
        if self.queue_room() < line.len().saturating_add(1) {
            return Input::Refused;
        }
        self.queued_bytes = self.queued_bytes.saturating_add(line.len());
        self.queue.push_back(Chunk::Raw(line));
        Input::Readable
    }

    /// The line being edited (canonical mode), not yet readable.
    pub fn pending_line(&self) -> &[u8] {
        &self.line
    }

    /// Bytes readers can take now, over all queued lines.
    pub fn readable_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Whether a read would return something now (bytes or an end of file).
    pub fn can_read(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Whether the next read returns [`ReadOutcome::EndOfFile`].
    pub fn at_end_of_file(&self) -> bool {
        matches!(self.queue.front(), Some(Chunk::Line(line)) if line.is_empty())
    }

    /// Discards the pending line and everything queued (`tcflush`).
    pub fn flush_input(&mut self) {
        self.line.clear();
        self.queue.clear();
        self.queued_bytes = 0;
        self.refusing_tail = false;
    }

    /// Copies program output to `out` for the terminal, with LF turned
    /// into CR LF when [`Settings::output_crlf`] is on.
    pub fn output(&self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.settings.output_crlf {
            crate::output::crlf(bytes, out);
        } else {
            out.extend_from_slice(bytes);
        }
    }

    /// Reads into `buf` from the oldest queued line: at most one line in
    /// canonical mode, whose rest stays for the next read.
    pub fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        if buf.is_empty() {
            return ReadOutcome::Bytes(0);
        }
        let Some(front) = self.queue.front_mut() else {
            return ReadOutcome::Empty;
        };
        let bytes = match front {
            Chunk::Line(bytes) | Chunk::Raw(bytes) => bytes,
        };
        if bytes.is_empty() {
            self.queue.pop_front();
            return ReadOutcome::EndOfFile;
        }
        let count = bytes.len().min(buf.len());
        for (to, from) in buf.iter_mut().zip(bytes.drain(..count)) {
            *to = from;
        }
        if bytes.is_empty() {
            self.queue.pop_front();
        }
        self.queued_bytes = self.queued_bytes.saturating_sub(count);
        ReadOutcome::Bytes(count)
    }

    /// Handles one byte from the terminal, appending what to echo to `echo`.
    pub fn input(&mut self, byte: u8, echo: &mut Vec<u8>) -> Input {
        if self.settings.signals {
            let signal = match byte {
                INTR => Some(Signal::Interrupt),
                QUIT => Some(Signal::Quit),
                _ => None,
            };
            if let Some(signal) = signal {
                self.line.clear();
                self.refusing_tail = false;
                if self.settings.echo {
                    echo_control(byte, echo);
                    echo.extend_from_slice(b"\r\n");
                }
                return Input::Signal(signal);
            }
        }
        if !self.settings.canonical {
            return self.input_raw(byte, echo);
        }
        match byte {
            b'\r' | b'\n' => self.end_line(echo),
            ERASE | BACKSPACE => {
                self.erase(1, echo);
                Input::Edited
            }
            KILL => {
                self.erase(usize::MAX, echo);
                Input::Edited
            }
            WERASE => {
                self.erase_word(echo);
                Input::Edited
            }
            EOF => self.end_of_file(echo),
            _ => self.insert(byte, echo),
        }
    }

    /// Room left in the queue, counting one byte per queued chunk.
    fn queue_room(&self) -> usize {
        QUEUE_MAX_BYTES
            .saturating_sub(self.queued_bytes)
            .saturating_sub(self.queue.len())
    }

    /// Refuses a byte: a bell when echo is on.
    fn refuse(&self, echo: &mut Vec<u8>) -> Input {
        if self.settings.echo {
            echo.push(BELL);
        }
        Input::Refused
    }

    /// Raw mode: the byte is readable at once.
    fn input_raw(&mut self, byte: u8, echo: &mut Vec<u8>) -> Input {
        let merge = matches!(self.queue.back(), Some(Chunk::Raw(_)));
        let cost = if merge { 1 } else { 2 };
        if self.queue_room() < cost {
            return self.refuse(echo);
        }
        match self.queue.back_mut() {
            Some(Chunk::Raw(bytes)) => bytes.push(byte),
            _ => self.queue.push_back(Chunk::Raw(alloc::vec![byte])),
        }
        self.queued_bytes = self.queued_bytes.saturating_add(1);
        if self.settings.echo {
            echo_byte(byte, echo);
        }
        Input::Readable
    }

    /// Canonical mode: an ordinary byte joins the pending line.
    fn insert(&mut self, byte: u8, echo: &mut Vec<u8>) -> Input {
        let continuation = is_continuation(byte);
        if continuation && self.refusing_tail {
            return self.refuse(echo);
        }
        self.refusing_tail = false;
        // Room for the whole character its lead byte announces.
        let needed = if continuation {
            1
        } else {
            sequence_len(byte).unwrap_or(1)
        };
        if self.line.len().saturating_add(needed) > LINE_MAX_BYTES {
            self.refusing_tail = needed > 1;
            return self.refuse(echo);
        }
        self.line.push(byte);
        if self.settings.echo {
            echo_byte(byte, echo);
        }
        Input::Edited
    }

    /// Canonical mode: CR or LF queues the line with a newline.
    fn end_line(&mut self, echo: &mut Vec<u8>) -> Input {
        let len = self.line.len().saturating_add(1);
        if self.queue_room() < len.saturating_add(1) {
            return self.refuse(echo);
        }
        let mut line = core::mem::take(&mut self.line);
        line.push(b'\n');
        self.push_line(line);
        if self.settings.echo {
            echo.extend_from_slice(b"\r\n");
        }
        Input::Readable
    }

    /// Canonical mode: ^D queues the partial line, or an end of file.
    fn end_of_file(&mut self, echo: &mut Vec<u8>) -> Input {
        if self.queue_room() < self.line.len().saturating_add(1) {
            return self.refuse(echo);
        }
        let line = core::mem::take(&mut self.line);
        self.push_line(line);
        Input::Readable
    }

    fn push_line(&mut self, line: Vec<u8>) {
        self.queued_bytes = self.queued_bytes.saturating_add(line.len());
        self.queue.push_back(Chunk::Line(line));
        self.refusing_tail = false;
    }

    /// Erases up to `count` units (characters, or invalid bytes) from the
    /// end of the pending line, echoing `\b \b` per column.
    fn erase(&mut self, count: usize, echo: &mut Vec<u8>) {
        for _ in 0..count {
            if !self.erase_unit(echo) {
                break;
            }
        }
    }

    /// Erases the last unit; false when the line is empty.
    fn erase_unit(&mut self, echo: &mut Vec<u8>) -> bool {
        let unit = last_unit_len(&self.line);
        if unit == 0 {
            return false;
        }
        let start = self.line.len().saturating_sub(unit);
        let columns = match self.line.get(start..) {
            Some(&[byte]) if is_control(byte) => 2,
            _ => 1,
        };
        self.line.truncate(start);
        self.refusing_tail = false;
        if self.settings.echo {
            for _ in 0..columns {
                echo.extend_from_slice(b"\x08 \x08");
            }
        }
        true
    }

    /// ^W: erases trailing blanks, then the non-blanks before them.
    fn erase_word(&mut self, echo: &mut Vec<u8>) {
        while self.line.last().is_some_and(|&b| is_blank(b)) {
            self.erase_unit(echo);
        }
        while self.line.last().is_some_and(|&b| !is_blank(b)) {
            self.erase_unit(echo);
        }
    }
}

/// Whether `byte` separates words for ^W: space or tab.
fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Whether `byte` is an ASCII control character, echoed as `^X`.
fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

/// Echoes a control character as `^X` (`^?` for DEL).
fn echo_control(byte: u8, echo: &mut Vec<u8>) {
    echo.push(b'^');
    echo.push(byte ^ 0x40);
}

/// Echoes an input byte: CR and LF as `\r\n`, controls as `^X`, others as is.
fn echo_byte(byte: u8, echo: &mut Vec<u8>) {
    match byte {
        b'\r' | b'\n' => echo.extend_from_slice(b"\r\n"),
        _ if is_control(byte) => echo_control(byte, echo),
        _ => echo.push(byte),
    }
}

#[cfg(test)]
mod tests;
