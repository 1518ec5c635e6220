//! `Tty`: what a terminal (the console server, `servers/console`) answers
//! besides the `File` protocol, on the same capabilities. A terminal is a
//! `File` server (`read` gives typed input, `write` shows output); these
//! operations set its mode and report the signal keys.
//!
//! Opcodes start at 64 so that one server can take both protocols on one
//! endpoint: the `File` protocol's opcodes are below 64, and the server's
//! receive loop sends each request to the protocol whose range its opcode
//! is in ([`is_tty_opcode`]).

crate::wire_enum! {
    /// How the terminal treats what is typed.
    pub enum Mode {
        /// Canonical: lines are edited (backspace, ^U, ^W) and echoed, a
        /// read returns at most one line, ^D ends the input, ^C and ^\
        /// are signals ([`TtyServer::wait_signal`]).
        Cooked = 0,
        /// Raw: every byte as typed, no echo, no signals (a line editor's
        /// mode).
        Raw = 1,
    }
}

crate::wire_enum! {
    /// A signal key.
    pub enum Signal {
        /// ^C: interrupt the foreground job.
        Interrupt = 1,
        /// ^\: end the foreground job hard.
        Quit = 2,
    }
}

crate::protocol! {
    /// A terminal's mode and signals.
    pub protocol Tty = 0x5454 {
        client TtyClient;
        server TtyServer;

        /// Sets the mode; returns the one before.
        fn set_mode(mode: Mode) -> Mode = 64;

        /// Waits until a signal key is typed in cooked mode, and returns
        /// it. Several callers may wait; each signal answers all of them.
        fn wait_signal() -> Signal = 65;

        /// The terminal's size in columns and rows, as far as it knows
        /// (80 by 24 when it cannot tell).
        #[idempotent]
        fn size() -> (u16, u16) = 66;
    }
}

/// Whether a request's opcode belongs to [`Tty`] rather than to `File`.
pub fn is_tty_opcode(opcode: u16) -> bool {
    (64..128).contains(&opcode)
}
