//! The shell as a user types at it: `bin/sh` on a console of the test's
//! own (`wire::Rig`, the real console server over a fake terminal), keys
//! typed on the terminal, and what came back rendered as the user reads
//! it (`ttycore::transcript`) and compared row by row.
//!
//! Each test starts its own console and interactive shell: the shell's
//! three streams are the console, so it edits lines in raw mode with its
//! editor and runs jobs in cooked mode with its ^C thread, as on the
//! serial console at boot.

use alloc::string::String;
use alloc::vec::Vec;

use process::{Command, End, Process, Stdio};
use rt::Handle;
use rt::time::{Duration, Instant};
use ttycore::transcript::Transcript;

use super::TestResult;
use super::syscalls::fail;
use super::wire::Rig;
use crate::{ensure, ensure_eq};

/// How long a test waits for the shell to answer (commands under TCG on a
/// loaded host included).
const PATIENCE: Duration = Duration::from_secs(20);

/// An interactive shell on a console of the test's own.
struct Session {
    rig: Rig,
    shell: Process,
    transcript: Transcript,
    /// Finished rows when the last keys were typed.
    rows_at_input: usize,
    /// Whether keys were typed yet (the first prompt follows no row).
    typed: bool,
}

impl Session {
    /// Starts a console and `sh` on it, and waits for the first prompt.
    fn start() -> Result<Session, super::Failure> {
        let rig = Rig::start()?;
        let streams = [rig.console()?, rig.console()?, rig.console()?];
        let shell = Command::new("/bin/sh")
            .args(&["sh"])
            .stdin(Stdio::File(streams[0].slot()))
            .stdout(Stdio::File(streams[1].slot()))
            .stderr(Stdio::File(streams[2].slot()))
            .budget(8192)
            .spawn()
            .map_err(|e| {
                rt::println!("    spawn sh: {e:?}");
                fail()
            })?;
        // The shell has its own; ours go (dropping a capability does not
        // close the open console).
        drop(streams);
        let mut session = Session {
            rig,
            shell,
            transcript: Transcript::new(),
            rows_at_input: 0,
            typed: false,
        };
        session.until("the first prompt", Session::at_prompt)?;
        Ok(session)
    }

    /// Takes what the console wrote into the transcript.
    fn pump(&mut self) {
        let written = self.rig.wire.take_written();
        self.transcript.feed(&written);
    }

    /// Waits until `done` holds.
    fn until(&mut self, what: &str, done: impl Fn(&Session) -> bool) -> TestResult {
        let start = Instant::now();
        loop {
            self.pump();
            if done(self) {
                return Ok(());
            }
            if start.elapsed() > PATIENCE {
                rt::println!("    waited for {what}; the screen:");
                let text = self.transcript.text();
                let rows: Vec<&str> = text.lines().collect();
                for row in &rows[rows.len().saturating_sub(12)..] {
                    rt::println!("    | {row}");
                }
                return Err(fail());
            }
            rt::time::sleep(Duration::from_millis(5));
        }
    }

    /// A prompt shows after a row finished since the last keys.
    fn at_prompt(&self) -> bool {
        (!self.typed || self.transcript.finished().len() > self.rows_at_input)
            && self.transcript.current().ends_with("$ ")
    }

    /// Types `keys` now.
    fn type_keys(&mut self, keys: &[u8]) {
        self.pump();
        self.rows_at_input = self.transcript.finished().len();
        self.typed = true;
        self.rig.wire.type_keys(keys);
    }

    /// Types `keys` (Enter included if wanted) and waits for the next
    /// prompt; the rows in between (the first is the edited line).
    fn run(&mut self, keys: &[u8]) -> Result<Vec<String>, super::Failure> {
        self.type_keys(keys);
        self.until("the prompt", Session::at_prompt)?;
        Ok(self.transcript.finished()[self.rows_at_input..].to_vec())
    }

    /// Types `line` and Enter; checks the rows it gave after the command
    /// line itself.
    fn check(&mut self, line: &str, want: &[&str]) -> TestResult {
        let mut keys = Vec::from(line.as_bytes());
        keys.push(b'\r');
        let rows = self.run(&keys)?;
        if rows.len() != want.len() + 1 || rows[1..].iter().zip(want).any(|(a, b)| a != b) {
            rt::println!("    typed {line:?}\n    got   {rows:?}\n    want  {want:?}");
            return Err(fail());
        }
        Ok(())
    }

    /// Waits until the shell has a running child called `name`.
    fn until_child(&mut self, name: &str) -> TestResult {
        let shell = self.shell.pid();
        let start = Instant::now();
        loop {
            let list = process::list().map_err(|_| fail())?;
            if list
                .iter()
                .any(|p| p.parent == shell && !p.ended && p.name == name)
            {
                return Ok(());
            }
            ensure!(start.elapsed() < PATIENCE);
            rt::time::sleep(Duration::from_millis(5));
        }
    }

    /// Ends the shell with ^D at an empty prompt; its end.
    fn end(mut self) -> Result<End, super::Failure> {
        self.type_keys(b"\x04");
        self.shell.wait().map_err(|_| fail())
    }
}

/// `sleep 100` then ^C: the prompt comes back at once (one CR LF after
/// the `^C` echo, no blank row), `$?` is 130 and the shell goes on; ^C
/// on a line at the prompt abandons it, with status 130 too.
pub fn interrupt_sleep() -> TestResult {
    let mut session = Session::start()?;
    let started = Instant::now();
    session.type_keys(b"sleep 100\r");
    session.until_child("sleep")?;
    session.type_keys(b"\x03");
    session.until("the prompt after ^C", Session::at_prompt)?;
    ensure!(started.elapsed() < Duration::from_secs(60));
    let rows = session.transcript.finished()[session.rows_at_input..].to_vec();
    ensure_eq!(rows, ["^C"]);
    session.check("echo $?", &["130"])?;
    let rows = session.run(b"echo half\x03")?;
    ensure_eq!(rows, ["/ $ echo half^C"]);
    session.check("echo $?", &["130"])?;
    session.check("echo alive", &["alive"])?;
    ensure_eq!(session.end()?, End::Exited(0));
    Ok(())
}

/// The line editor through the console: Backspace, ^U, ^W, Up to recall
/// a line, ^A ^E ^K, and Tab completing a command, a file and a directory.
pub fn line_editor() -> TestResult {
    let mut session = Session::start()?;
    session.check("echo abx\x7fc", &["abc"])?;
    session.check("junk\x15echo u", &["u"])?;
    session.check("echo a bad\x17good", &["a good"])?;
    let rows = session.run(b"\x1b[A\r")?;
    ensure_eq!(rows, ["/ $ echo a good", "a good"]);
    // ^A to the start, ^E to the end, four left, ^K the rest.
    session.check(
        "cho kept cut\x01e\x05\x1b[D\x1b[D\x1b[D\x1b[D\x0b",
        &["kept"],
    )?;
    // Tab: a command (the only one starting `unam`), then a file.
    let rows = session.run(b"unam\t-s\r")?;
    ensure_eq!(rows, ["/ $ uname -s", "Mica"]);
    session.check("echo tabbed > /tmp/tab-complete-me", &[])?;
    let rows = session.run(b"cat /tmp/tab-comp\t\r")?;
    ensure_eq!(rows, ["/ $ cat /tmp/tab-complete-me", "tabbed"]);
    // A directory completes with its `/`, a mount point too.
    session.check("cd /bi\t", &[])?;
    session.check("pwd", &["/bin"])?;
    session.check("cd /tm\t", &[])?;
    session.check("pwd; rm tab-complete-me", &["/tmp"])?;
    ensure_eq!(session.end()?, End::Exited(0));
    Ok(())
}

/// `yes | head -n 3` typed at the prompt ends with three lines, and a
/// crashing program is reported with its fault and status 139.
pub fn pipeline_and_fault() -> TestResult {
    let mut session = Session::start()?;
    session.check("yes | head -n 3", &["y", "y", "y"])?;
    let rows = session.run(b"/bin/probe fault\r")?;
    ensure_eq!(rows.len(), 2);
    ensure!(rows[1].starts_with("sh: /bin/probe: page fault (vector 14) at 0x"));
    session.check("echo $?", &["139"])?;
    ensure_eq!(session.end()?, End::Exited(0));
    Ok(())
}

/// A fork bomb typed at the prompt: budgets stop it, and the shell that
/// typed it still runs commands.
pub fn fork_bomb() -> TestResult {
    let mut session = Session::start()?;
    session.check(
        "echo 'sh /tmp/cbomb.sh & sh /tmp/cbomb.sh & wait' > /tmp/cbomb.sh",
        &[],
    )?;
    session.check(
        "sh /tmp/cbomb.sh 2>/dev/null; rm /tmp/cbomb.sh; echo survived",
        &["survived"],
    )?;
    session.check("echo still; seq 2 | wc -l", &["still", "2"])?;
    ensure_eq!(session.end()?, End::Exited(0));
    Ok(())
}

/// ^D at an empty prompt ends the shell with the last status; ^D on a
/// line that holds text deletes under the cursor instead.
pub fn ctrl_d_ends_the_shell() -> TestResult {
    let mut session = Session::start()?;
    // ^A, then ^D deletes the `x`.
    session.check("xecho kept\x01\x04", &["kept"])?;
    session.check("false", &[])?;
    ensure_eq!(session.end()?, End::Exited(1));
    Ok(())
}
