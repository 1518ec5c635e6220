//! `cargo xtask run --script FILE`: boots the normal system, types a
//! script's lines into the serial console as a user would (each at the
//! shell's prompt; the language is in `script.rs`), prints the session as
//! the user sees it (`ttycore::transcript`), and quits QEMU after the last
//! line's prompt.
//!
//! QEMU's output is read in pieces as it comes, not by lines, because the
//! prompt (`/ $ `) ends without a newline. The prompt is the cursor's row
//! ending in `$ ` or `> ` (`$PS2`), after a row that ended since the last
//! input was typed, so an echo of the typed line never counts as the next
//! prompt.

use std::io::{Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ttycore::transcript::Transcript;

use crate::script::{Line, Step};

/// The endings of a prompt row.
const PROMPTS: [&str; 2] = ["$ ", "> "];

/// What init prints when the console shell has ended.
const SHELL_ENDED: &str = "init: sh instance";

/// How a session went.
pub struct Session {
    /// Everything the console showed, as rows.
    pub text: String,
    /// Whether the shell ended (`exit` or ^D) after the last line (init
    /// then restarted it, and the session waited for its prompt).
    pub shell_ended: bool,
}

/// The console as it is being read: the transcript, what was printed of
/// it, and where the last input was typed.
struct Console {
    chunks: Receiver<Vec<u8>>,
    transcript: Transcript,
    /// Finished rows already printed.
    printed: usize,
    /// Finished rows when the last input was typed.
    rows_at_input: usize,
    /// The transcript's text length when the last input was typed.
    text_at_input: usize,
    /// Print rows as they finish.
    echo: bool,
    /// QEMU's output has ended.
    closed: bool,
}

impl Console {
    /// Takes what QEMU wrote until `until` holds or `timeout` passes;
    /// `Ok(false)` on the timeout or when QEMU has ended.
    fn wait(&mut self, timeout: Duration, until: impl Fn(&Console) -> bool) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if until(self) {
                return true;
            }
            if self.closed {
                return false;
            }
            let left = end.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => {
                    self.transcript.feed(&chunk);
                    self.print_finished();
                }
                Err(RecvTimeoutError::Timeout) => return until(self),
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
            }
        }
    }

    fn print_finished(&mut self) {
        let rows = self.transcript.finished();
        if self.echo {
            let mut out = std::io::stdout().lock();
            for row in &rows[self.printed..] {
                let _ = writeln!(out, "{row}");
            }
            let _ = out.flush();
        }
        self.printed = rows.len();
    }

    /// The cursor's row shows a prompt that came after the last input.
    fn at_prompt(&self) -> bool {
        let row = self.transcript.current();
        self.transcript.finished().len() > self.rows_at_input
            && PROMPTS.iter().any(|p| row.ends_with(p))
    }

    /// init reported the shell's end since the last input.
    fn shell_ended(&self) -> bool {
        self.transcript.finished()[self.rows_at_input..]
            .iter()
            .any(|row| row.starts_with(SHELL_ENDED))
    }

    fn since_input(&self) -> String {
        let text = self.transcript.text();
        text.get(self.text_at_input..).unwrap_or("").to_owned()
    }

    fn mark_input(&mut self) {
        self.rows_at_input = self.transcript.finished().len();
        // The cursor's row may still change (the echo of what is typed),
        // so the text since the input starts at the row's start.
        let text = self.transcript.text();
        self.text_at_input = text.len() - text.rsplit('\n').next().map_or(0, str::len);
    }
}

/// Types `keys` on QEMU's stdin. QEMU's multiplexed console takes Ctrl-A
/// as its escape key, and Ctrl-A Ctrl-A as one Ctrl-A for the guest.
fn type_keys(stdin: &mut ChildStdin, keys: &[u8]) -> Result<()> {
    let mut bytes = Vec::with_capacity(keys.len());
    for &byte in keys {
        bytes.push(byte);
        if byte == 0x01 {
            bytes.push(0x01);
        }
    }
    stdin
        .write_all(&bytes)
        .and_then(|()| stdin.flush())
        .context("typing into QEMU")
}

/// Boots `cmd` (a normal-system QEMU command) and plays `lines`; each
/// wait gives up after `timeout`. Prints rows as they come when `echo`.
pub fn run(mut cmd: Command, lines: &[Line], timeout: Duration, echo: bool) -> Result<Session> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().context("starting qemu-system-x86_64")?;
    let mut stdin = child.stdin.take().context("QEMU stdin")?;
    let mut stdout = child.stdout.take().context("QEMU stdout")?;
    let (sender, chunks) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || sender.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut console = Console {
        chunks,
        transcript: Transcript::new(),
        printed: 0,
        rows_at_input: 0,
        text_at_input: 0,
        echo,
        closed: false,
    };
    let played = play(&mut console, &mut stdin, lines, timeout);
    let _ = child.kill();
    let _ = child.wait();
    drop(stdin);
    let _ = reader.join();
    // The rows QEMU wrote before it was killed.
    while let Ok(chunk) = console.chunks.try_recv() {
        console.transcript.feed(&chunk);
    }
    console.print_finished();
    let current = console.transcript.current();
    if echo && !current.trim_end().is_empty() {
        println!("{}", current.trim_end());
    }
    let shell_ended = played?;
    Ok(Session {
        text: console.transcript.text(),
        shell_ended,
    })
}

/// Plays the script; whether the shell ended.
fn play(
    console: &mut Console,
    stdin: &mut ChildStdin,
    lines: &[Line],
    timeout: Duration,
) -> Result<bool> {
    let stuck = |console: &Console, what: &str| {
        if console.closed {
            anyhow::anyhow!("QEMU ended {what}")
        } else {
            anyhow::anyhow!(
                "timed out after {} s {what}; the cursor's row: {:?}",
                timeout.as_secs(),
                console.transcript.current()
            )
        }
    };
    if !console.wait(timeout, Console::at_prompt) {
        return Err(stuck(console, "waiting for the first prompt"));
    }
    for line in lines {
        let what = format!("at script line {} (`{}`)", line.number, line.text);
        match &line.step {
            Step::AtPrompt { keys } => {
                if !console.wait(timeout, |c| c.at_prompt() || c.shell_ended()) {
                    return Err(stuck(console, &format!("waiting for the prompt {what}")));
                }
                // init restarts the console shell (system.toml): its
                // prompt comes back after the end.
                if console.shell_ended() && !console.wait(timeout, Console::at_prompt) {
                    bail!(
                        "the shell ended before script line {} and did not come back",
                        line.number
                    );
                }
                console.mark_input();
                type_keys(stdin, keys)?;
            }
            Step::Send { keys } => {
                console.mark_input();
                type_keys(stdin, keys)?;
            }
            Step::Sleep(duration) => {
                console.wait(*duration, |_| false);
            }
            Step::Wait(text) => {
                if !console.wait(timeout, |c| c.since_input().contains(text.as_str())) {
                    return Err(stuck(console, &format!("waiting for {text:?} {what}")));
                }
            }
        }
    }
    if !console.wait(timeout, |c| c.at_prompt() || c.shell_ended()) {
        return Err(stuck(console, "waiting for the prompt after the last line"));
    }
    let ended = console.shell_ended();
    // The restarted shell's prompt, so that the session ends at a prompt
    // whatever the timing.
    if ended && !console.wait(timeout, Console::at_prompt) {
        return Err(stuck(console, "waiting for the restarted shell's prompt"));
    }
    Ok(ended)
}
