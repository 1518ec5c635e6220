//! The shell at a terminal: the prompt, line editing (ttycore's `Editor`
//! in raw mode), history, tab completion, and ^C.
//!
//! The terminal is the shell's `stdin` when that answers the `Tty`
//! protocol (`protocols::tty`, served on the same capability as the
//! console's `File` protocol). While the shell edits a line the terminal
//! is raw and every key comes to the editor, ^C included (it cancels the
//! line). While a job runs the terminal is cooked, so the job reads lines
//! as usual, and a second thread blocked in `wait_signal` ends the
//! foreground job on ^C or ^\ (status 130 or 131); the shell itself never
//! ends on a key.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::CapSlot;
use protocols::tty::{Mode, Signal, TtyClient};
use rt::Handle;
use rt::ipc::Endpoint;
use rt::sync::OnceLock;
use shcore::complete::{CompletionKind, completion_at};
use ttycore::{Editor, Event, KeyDecoder};

use crate::jobs::Foreground;
use crate::shell::{Flow, Parsed, Reader, Shell};

/// The terminal's capability, once the shell knows it has one.
static TTY: OnceLock<CapSlot> = OnceLock::new();

/// Runs `f` with a `Tty` client on `slot` (which stays the caller's).
fn with_tty<T>(slot: CapSlot, f: impl FnOnce(&mut TtyClient<&Endpoint>) -> T) -> T {
    let endpoint = Endpoint::from_raw(slot);
    let result = f(&mut TtyClient::new(&endpoint));
    let _ = endpoint.into_raw();
    result
}

/// Whether `slot` is a terminal (it answers `size`).
pub fn is_terminal(slot: CapSlot) -> bool {
    with_tty(slot, |tty| tty.size().is_ok())
}

fn set_mode(mode: Mode) {
    if let Some(&slot) = TTY.get() {
        let _ = with_tty(slot, |tty| tty.set_mode(mode));
    }
}

/// Puts the terminal in cooked mode for a job (nothing without one).
pub fn cooked(_shell: &Shell) {
    set_mode(Mode::Cooked);
}

/// Starts the thread that turns ^C and ^\ into the end of the
/// foreground job.
fn watch_signals(slot: CapSlot, foreground: Arc<Foreground>) {
    let spawned = rt::thread::Builder::new()
        .name("sh-signals")
        .spawn(move || -> u64 {
            loop {
                match with_tty(slot, |tty| tty.wait_signal()) {
                    Ok(signal) => {
                        if foreground
                            .waiting
                            .load(core::sync::atomic::Ordering::Acquire)
                        {
                            let number = match signal {
                                Signal::Interrupt => 2,
                                Signal::Quit => 3,
                            };
                            foreground.interrupt(number);
                        }
                    }
                    // The terminal is gone (or never answers signals).
                    Err(_) => return 0,
                }
            }
        });
    if spawned.is_err() {
        rt::println!("sh: no thread for ^C: jobs cannot be interrupted");
    }
}

/// The prompt: `$PS1`, or the current directory and `$ `.
fn prompt(shell: &Shell, continued: bool) -> String {
    if continued {
        return shell.get("PS2").unwrap_or("> ").to_string();
    }
    match shell.get("PS1") {
        Some(ps1) => ps1.to_string(),
        None => format!("{} $ ", files::getcwd()),
    }
}

/// Reports background jobs that have ended since the last prompt.
fn report_jobs(shell: &mut Shell) {
    let mut text = String::new();
    for job in &mut shell.jobs.list {
        if job.done() {
            text.push_str(&format!(
                "[{}]+  Done                    {}\n",
                job.id, job.text
            ));
        }
    }
    shell.jobs.list.retain_mut(|j| !j.done());
    if !text.is_empty() {
        shell.io.err(text.as_bytes());
    }
}

/// The interactive loop on the terminal `slot`; the shell's status at
/// the end (`exit` or ^D).
pub fn run(shell: &mut Shell, slot: CapSlot) -> i32 {
    let _ = TTY.set(slot);
    shell.interactive = true;
    watch_signals(slot, Arc::clone(&shell.foreground));
    let mut editor = Editor::new();
    let mut decoder = KeyDecoder::new();
    let mut reader = Reader::default();
    let mut out = Vec::new();
    let mut keys = Vec::new();
    let mut buf = [0u8; 256];
    let mut first_prompt = true;
    loop {
        report_jobs(shell);
        set_mode(Mode::Raw);
        out.clear();
        editor.begin(&prompt(shell, reader.pending()), &mut out);
        let _ = shell.io.out(&out);
        if core::mem::take(&mut first_prompt) {
            report_boot_bench(shell);
        }
        let line = 'edit: loop {
            let n = match shell.io.fds[0]
                .as_ref()
                .map(|f| f.borrow_mut().read(&mut buf))
            {
                Some(Ok(n)) if n > 0 => n,
                // The terminal is gone: as ^D.
                _ => break 'edit None,
            };
            keys.clear();
            decoder.decode(&buf[..n], &mut keys);
            for key in keys.drain(..) {
                out.clear();
                let event = editor.key(key, &mut out);
                if let Event::Complete { line, cursor } = &event {
                    let candidates = candidates(shell, line, *cursor, editor.word_start());
                    editor.complete(&candidates, &mut out);
                }
                let _ = shell.io.out(&out);
                match event {
                    Event::Line(line) => break 'edit Some(line),
                    Event::Cancelled => {
                        reader.clear();
                        shell.status = 130;
                        break 'edit Some(String::new());
                    }
                    Event::EndOfFile => break 'edit None,
                    _ => {}
                }
            }
        };
        let Some(mut line) = line else {
            set_mode(Mode::Cooked);
            return shell.status;
        };
        line.push('\n');
        match reader.feed(&line) {
            Parsed::More => {}
            Parsed::Error(error) => {
                // Cooked, so the message's newline returns the cursor.
                set_mode(Mode::Cooked);
                let io = shell.io.clone();
                shell.error(
                    &io,
                    format_args!("syntax error: {}", crate::shell::syntax_message(&error)),
                );
                shell.status = 2;
            }
            Parsed::Program(program) => {
                set_mode(Mode::Cooked);
                match shell.run_program(&program) {
                    Ok(_) => {}
                    Err(Flow::Exit(status)) => {
                        set_mode(Mode::Cooked);
                        return status;
                    }
                    Err(Flow::Interrupted) => {}
                    Err(Flow::Break(_) | Flow::Continue(_) | Flow::Return(_)) => {}
                }
            }
        }
    }
}

/// In a benchmark boot (init gave every program `MICA_BOOT_BENCH=UNIT:TSC`,
/// the TSC at the kernel's first instruction), the `boot_to_prompt` row:
/// counter ticks from then to the first prompt written (the console has
/// handed it to the serial driver when the write returns). Under QEMU's
/// `-icount` the TSC counts instructions.
fn report_boot_bench(shell: &Shell) {
    let now = rt::time::counter();
    let Some((unit, entry)) =
        rt::process::env_var("MICA_BOOT_BENCH").and_then(|v| v.split_once(':'))
    else {
        return;
    };
    let Ok(entry) = entry.parse::<u64>() else {
        return;
    };
    let ticks = now.saturating_sub(entry);
    let _ = shell.io.out(
        format!("\r\nBENCH boot_to_prompt {unit} {ticks} {ticks} {ticks} 1\r\nBENCH-DONE\r\n")
            .as_bytes(),
    );
}

/// Tab: the candidates that replace the word before the cursor.
fn candidates(shell: &Shell, line: &str, cursor: usize, word_start: usize) -> Vec<String> {
    let completion = completion_at(line, cursor);
    let word = line.get(word_start..cursor).unwrap_or("");
    // Only a plain word (no quotes or escapes) is completed.
    if completion.start != word_start
        || word != completion.prefix && completion.kind != CompletionKind::Variable
    {
        return Vec::new();
    }
    let mut found: Vec<String> = match completion.kind {
        CompletionKind::Command => {
            let mut names: Vec<String> = crate::builtins::NAMES
                .iter()
                .filter(|n| n.starts_with(word))
                .map(|n| n.to_string())
                .collect();
            let path = shell.get("PATH").unwrap_or("/bin");
            for dir in path.split(':') {
                if let Ok(entries) = files::read_dir(dir) {
                    names.extend(
                        entries
                            .into_iter()
                            .filter(|e| e.name.starts_with(word))
                            .map(|e| e.name),
                    );
                }
            }
            names
        }
        CompletionKind::Path => {
            let (dir, partial) = match word.rfind('/') {
                Some(at) => (&word[..=at], &word[at + 1..]),
                None => ("", word),
            };
            let listing = if dir.is_empty() { "." } else { dir };
            match files::read_dir(listing) {
                Ok(entries) => entries
                    .into_iter()
                    .filter(|e| e.name.starts_with(partial))
                    .filter(|e| !e.name.starts_with('.') || partial.starts_with('.'))
                    .map(|e| {
                        let slash = if e.kind == files::Kind::Dir { "/" } else { "" };
                        format!("{dir}{}{slash}", e.name)
                    })
                    .collect(),
                Err(_) => Vec::new(),
            }
        }
        CompletionKind::Variable => {
            let head = &word[..word.len() - completion.prefix.len()];
            shell
                .vars
                .keys()
                .filter(|n| n.starts_with(completion.prefix.as_str()))
                .map(|n| format!("{head}{n}"))
                .collect()
        }
        CompletionKind::Comment => Vec::new(),
    };
    found.sort();
    found.dedup();
    found
}
