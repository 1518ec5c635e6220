//! The script language of `cargo xtask run --script FILE`: what to type
//! on the serial console, and when (README.md "Driving the shell from a
//! script", docs/shell.md).
//!
//! Each line of the file is one step:
//!
//! - a plain line: wait for the shell's prompt, type the line, then Enter
//!   (CR, as a terminal sends it); an empty line is Enter alone;
//! - `@type TEXT`: wait for the prompt, type TEXT without Enter (`@type
//!   <^D>` ends the shell; the next line waits for a new prompt, so TEXT
//!   should end the line, as `<^C>` or `<^D>` do);
//! - `@send TEXT`: type TEXT at once, without waiting for a prompt (`@send
//!   <^C>` interrupts the running command);
//! - `@sleep SECONDS`: wait (a decimal number, at most 600);
//! - `@wait TEXT`: wait until the output since the last typed input
//!   contains TEXT;
//! - `@@...`: a plain line that starts with `@` (the first `@` dropped).
//!
//! In TEXT and in plain lines, `<NAME>` types a key: `<^C>` (any of
//! `^@`, `^A`..`^Z`, `^[`, `^\`, `^]`, `^^`, `^_`, `^?`), `<Enter>`,
//! `<Tab>`, `<Esc>`, `<BS>` (DEL, what Backspace sends), `<Del>`, `<Up>`,
//! `<Down>`, `<Right>`, `<Left>`, `<Home>`, `<End>`, `<PgUp>`, `<PgDn>`,
//! `<Ins>` (names in any case), and `<lt>` a literal `<`. Anything else in
//! angle brackets (`cat <file>`, `a<b`) is typed as written.

use std::time::Duration;

/// What one script line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Wait for the prompt, then type `keys` (Enter included for a plain
    /// line).
    AtPrompt {
        /// The bytes to type.
        keys: Vec<u8>,
    },
    /// Type `keys` now.
    Send {
        /// The bytes to type.
        keys: Vec<u8>,
    },
    /// Wait this long.
    Sleep(Duration),
    /// Wait until the output since the last input contains this.
    Wait(String),
}

/// A step with the script line it came from (1-based) and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The line number in the script.
    pub number: usize,
    /// The line as written.
    pub text: String,
    /// What it asks for.
    pub step: Step,
}

/// The longest `@sleep`, in seconds.
const MAX_SLEEP_SECONDS: f64 = 600.0;

/// Parses a whole script; the error names the line.
pub fn parse(script: &str) -> Result<Vec<Line>, String> {
    script
        .lines()
        .enumerate()
        .map(|(index, text)| {
            let number = index + 1;
            parse_line(text)
                .map(|step| Line {
                    number,
                    text: text.to_owned(),
                    step,
                })
                .map_err(|why| format!("script line {number}: {why}: {text}"))
        })
        .collect()
}

/// Parses one line (without its newline; a trailing CR is dropped).
pub fn parse_line(line: &str) -> Result<Step, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if let Some(rest) = line.strip_prefix("@@") {
        let mut keys = parse_keys(&format!("@{rest}"));
        keys.push(b'\r');
        return Ok(Step::AtPrompt { keys });
    }
    let Some(directive) = line.strip_prefix('@') else {
        let mut keys = parse_keys(line);
        keys.push(b'\r');
        return Ok(Step::AtPrompt { keys });
    };
    let (word, argument) = directive.split_once(' ').unwrap_or((directive, ""));
    match word {
        "type" => Ok(Step::AtPrompt {
            keys: parse_keys(argument),
        }),
        "send" => Ok(Step::Send {
            keys: parse_keys(argument),
        }),
        "sleep" => {
            let seconds: f64 = argument
                .trim()
                .parse()
                .map_err(|_| format!("@sleep wants seconds, not `{argument}`"))?;
            if !(0.0..=MAX_SLEEP_SECONDS).contains(&seconds) {
                return Err(format!("@sleep {seconds}: at most {MAX_SLEEP_SECONDS} s"));
            }
            Ok(Step::Sleep(Duration::from_secs_f64(seconds)))
        }
        "wait" if !argument.is_empty() => Ok(Step::Wait(argument.to_owned())),
        "wait" => Err("@wait wants the text to wait for".to_owned()),
        _ => Err(format!(
            "unknown directive `@{word}` (@type, @send, @sleep, @wait; `@@` for a line that starts with @)"
        )),
    }
}

/// The bytes of `text` with its `<NAME>` keys.
pub fn parse_keys(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        match after
            .find('>')
            .and_then(|close| Some((key(&after[..close])?, close)))
        {
            Some((bytes, close)) => {
                out.extend_from_slice(bytes);
                rest = &after[close + 1..];
            }
            None => {
                out.push(b'<');
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// The bytes a terminal sends for the key `name`.
fn key(name: &str) -> Option<&'static [u8]> {
    const CONTROLS: &[u8; 32] = b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_";
    if let Some(letter) = name.strip_prefix('^') {
        let [c] = letter.as_bytes() else {
            return None;
        };
        if *c == b'?' {
            return Some(b"\x7f");
        }
        let at = CONTROLS.iter().position(|&x| x == c.to_ascii_uppercase())?;
        // Every control byte as a one-byte slice, indexed by its value.
        const BYTES: [u8; 32] = {
            let mut all = [0u8; 32];
            let mut i = 0;
            while i < 32 {
                all[i] = i as u8;
                i += 1;
            }
            all
        };
        return Some(&BYTES[at..=at]);
    }
    let bytes: &[u8] = match name.to_ascii_lowercase().as_str() {
        "enter" => b"\r",
        "tab" => b"\t",
        "esc" => b"\x1b",
        "bs" => b"\x7f",
        "del" => b"\x1b[3~",
        "up" => b"\x1b[A",
        "down" => b"\x1b[B",
        "right" => b"\x1b[C",
        "left" => b"\x1b[D",
        "home" => b"\x1b[H",
        "end" => b"\x1b[F",
        "pgup" => b"\x1b[5~",
        "pgdn" => b"\x1b[6~",
        "ins" => b"\x1b[2~",
        "lt" => b"<",
        _ => return None,
    };
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_prompt(keys: &[u8]) -> Step {
        Step::AtPrompt {
            keys: keys.to_vec(),
        }
    }

    #[test]
    fn plain_lines_are_typed_with_enter() {
        assert_eq!(parse_line("echo hi"), Ok(at_prompt(b"echo hi\r")));
        assert_eq!(parse_line(""), Ok(at_prompt(b"\r")));
        assert_eq!(parse_line("ls\r"), Ok(at_prompt(b"ls\r")));
        assert_eq!(parse_line("@@home"), Ok(at_prompt(b"@home\r")));
        // Redirections and comparisons stay as written.
        assert_eq!(
            parse_line("cat <f >g; [ a \\< b ]; x<y> #<x"),
            Ok(at_prompt(b"cat <f >g; [ a \\< b ]; x<y> #<x\r"))
        );
    }

    #[test]
    fn keys() {
        assert_eq!(
            parse_keys("<^C><^c><^@><^[><^\\><^]><^^><^_><^?>"),
            b"\x03\x03\x00\x1b\x1c\x1d\x1e\x1f\x7f"
        );
        assert_eq!(
            parse_keys("a<Up><DOWN><left><Right><Home><End><Del><BS><Tab><Esc><Enter><lt>b"),
            b"a\x1b[A\x1b[B\x1b[D\x1b[C\x1b[H\x1b[F\x1b[3~\x7f\t\x1b\r<b"
        );
        assert_eq!(parse_keys("<PgUp><PgDn><Ins>"), b"\x1b[5~\x1b[6~\x1b[2~");
        // Not keys: typed as written.
        assert_eq!(
            parse_keys("<^CC> <> <^> <<Up> <up"),
            b"<^CC> <> <^> <\x1b[A <up"
        );
        assert_eq!(parse_keys("é<Tab>€"), "é\t€".as_bytes());
    }

    #[test]
    fn directives() {
        assert_eq!(parse_line("@type <^D>"), Ok(at_prompt(b"\x04")));
        assert_eq!(
            parse_line("@send <^C>"),
            Ok(Step::Send {
                keys: b"\x03".to_vec()
            })
        );
        assert_eq!(
            parse_line("@sleep 0.5"),
            Ok(Step::Sleep(Duration::from_millis(500)))
        );
        assert_eq!(
            parse_line("@wait done now"),
            Ok(Step::Wait("done now".into()))
        );
        assert!(parse_line("@sleep x").is_err());
        assert!(parse_line("@sleep -1").is_err());
        assert!(parse_line("@sleep 601").is_err());
        assert!(parse_line("@wait").is_err());
        assert!(parse_line("@bogus").is_err());
        assert!(parse_line("@").is_err());
    }

    #[test]
    fn whole_scripts_name_the_bad_line() {
        let lines = parse("echo a\n@sleep 1\n@send <^C>\n").unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].number, 2);
        assert_eq!(lines[2].text, "@send <^C>");
        let error = parse("echo a\n@nope\n").unwrap_err();
        assert!(error.starts_with("script line 2: unknown directive `@nope`"));
    }
}
