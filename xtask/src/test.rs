//! `cargo xtask test`: host tests, then the in-OS suite under QEMU with a
//! hard timeout, then one combined `N passed, N failed` line.

use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Result;

use crate::build;
use crate::qemu::{self, Accel};

/// The in-OS suite must finish within this.
const TIMEOUT: Duration = Duration::from_secs(300);

/// What the in-OS suite types on the console: `serial_echoes_a_fed_line`
/// (`servers/test-runner/src/tests/serial.rs`) prints the marker, then
/// reads the line from the serial driver.
fn console_feeds() -> Vec<qemu::Feed> {
    vec![qemu::Feed {
        marker: "serial-test: feed me a line".into(),
        input: b"mica serial ok\n".to_vec(),
    }]
}

/// (passed, failed) from `cargo test` output lines `test result: ...`.
fn host_counts(output: &str) -> (u64, u64) {
    let mut totals = (0, 0);
    for line in output.lines().filter(|l| l.starts_with("test result:")) {
        let number = |word: &str| {
            line.split(';')
                .find(|part| part.contains(word))
                .and_then(|part| {
                    part.split_whitespace()
                        .rev()
                        .nth(1)
                        .or(part.split_whitespace().next())
                })
                .and_then(|n| {
                    n.trim_start_matches(|c: char| !c.is_ascii_digit())
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        };
        totals.0 += number("passed");
        totals.1 += number("failed");
    }
    totals
}

fn run_host_tests() -> Result<(u64, u64)> {
    let (host, _) = build::crate_kinds()?;
    println!("xtask: host tests ({})", host.join(", "));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(build::root()).arg("test");
    for name in &host {
        cmd.args(["-p", name]);
    }
    let output = cmd.output()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    for line in text
        .lines()
        .filter(|l| l.starts_with("test ") && !l.starts_with("test result"))
    {
        println!("host {line}");
    }
    let (passed, mut failed) = host_counts(&text);
    if !output.status.success() && failed == 0 {
        println!("{text}");
        failed = 1;
    }
    println!("xtask: host: {passed} passed, {failed} failed");
    Ok((passed, failed))
}

/// Runs everything; the exit code is non-zero on any failure.
pub fn run(
    filter: Option<&str>,
    accel: Option<Accel>,
    no_host: bool,
    verbose: bool,
    slow_path: bool,
    extra: &[String],
) -> Result<ExitCode> {
    qemu::ensure_qemu()?;
    let (mut passed, mut failed) = if no_host { (0, 0) } else { run_host_tests()? };
    let art = build::build_all()?;
    let accel = qemu::accel_args(accel, false);
    let mut cmdline = match filter {
        Some(f) => format!("system=test mode=test filter={f}"),
        None => "system=test mode=test".to_string(),
    };
    if slow_path {
        cmdline.push_str(" fastpath=off");
    }
    let cmd = qemu::command(&art, &accel, &cmdline, false, extra);
    let log = build::root().join("target/mica/test-serial.log");
    println!(
        "xtask: booting the in-OS suite (timeout {} s, log {})",
        TIMEOUT.as_secs(),
        log.display()
    );
    let run = qemu::run_captured(cmd, TIMEOUT, &log, &console_feeds(), move |line| {
        if verbose || line.starts_with("test ") || line.contains("PANIC") || line.contains("panic")
        {
            println!("{line}");
        }
    })?;
    let summary = run
        .lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("mica-tests: "))
        .map(str::to_owned);
    let os_counts = summary.as_deref().and_then(|s| {
        let mut words = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty());
        Some((
            words.next()?.parse::<u64>().ok()?,
            words.next()?.parse::<u64>().ok()?,
        ))
    });
    let code = run.status.as_ref().and_then(qemu::guest_code);
    match (os_counts, run.status) {
        (Some((p, f)), Some(_)) if code.is_some() => {
            passed += p;
            failed += f;
            if f > 0 && code == Some(0) {
                failed += 1;
            }
        }
        (_, None) => {
            failed += 1;
            println!(
                "xtask: the in-OS suite hung or stopped early and was killed; last serial lines:\n{}",
                qemu::tail(&run.lines, 30)
            );
        }
        (_, Some(status)) => {
            failed += 1;
            let why = if status.code() == Some(qemu::PANIC_STATUS) {
                "the kernel panicked"
            } else {
                "the suite did not finish"
            };
            println!(
                "xtask: {why} (QEMU {status}); last serial lines:\n{}",
                qemu::tail(&run.lines, 30)
            );
        }
    }
    let (p, f) = script_checks(filter, &art, &accel, extra)?;
    passed += p;
    failed += f;
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The prefix of the scripted-session checks' names (a filter that is a
/// part of `script_session_NAME` runs that one).
const SCRIPT_CHECK: &str = "script_session_";

/// Boots the normal system once per `xtask/sessions/NAME.txt` whose test
/// name `script_session_NAME` contains `filter` (all without one), types it
/// at the shell as `cargo xtask run --script` does, and compares the
/// session from the shell's greeting on with `NAME.expected`. A few
/// seconds each under TCG. (passed, failed).
fn script_checks(
    filter: Option<&str>,
    art: &build::Artifacts,
    accel: &[String],
    extra: &[String],
) -> Result<(u64, u64)> {
    let dir = build::root().join("xtask/sessions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".txt")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut counts = (0, 0);
    for name in names {
        let test = format!("{SCRIPT_CHECK}{name}");
        if filter.is_some_and(|f| !test.contains(f)) {
            continue;
        }
        if script_check(&dir, &name, &test, art, accel, extra)? {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    Ok(counts)
}

/// One session: whether it went as expected.
fn script_check(
    dir: &std::path::Path,
    name: &str,
    test: &str,
    art: &build::Artifacts,
    accel: &[String],
    extra: &[String],
) -> Result<bool> {
    let script = std::fs::read_to_string(dir.join(format!("{name}.txt")))?;
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected")))
        .map_err(|e| anyhow::anyhow!("xtask/sessions/{name}.expected: {e}"))?;
    let lines = crate::script::parse(&script).map_err(anyhow::Error::msg)?;
    // The suite's command line does not apply: this is the normal system.
    let rest = qemu::without_append(extra);
    let cmd = qemu::command(art, accel, "mode=run", false, &rest);
    let got = match crate::session::run(cmd, &lines, Duration::from_secs(60), false) {
        Ok(session) => session.text,
        Err(e) => {
            println!("test {test} ... FAILED: {e:#}");
            return Ok(false);
        }
    };
    let from_greeting = got
        .find("\nMica sh:")
        .map_or(got.as_str(), |at| &got[at + 1..]);
    if from_greeting.trim_end() == expected.trim_end() {
        println!("test {test} ... ok");
        return Ok(true);
    }
    println!("test {test} ... FAILED: the session differs from xtask/sessions/{name}.expected:");
    for (number, (want, got)) in expected
        .lines()
        .zip(from_greeting.lines().chain(std::iter::repeat("<missing>")))
        .enumerate()
    {
        let mark = if want == got { ' ' } else { '!' };
        println!("  {mark} {:>3} want {want:?}", number + 1);
        if want != got {
            println!("        got  {got:?}");
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::host_counts;

    #[test]
    fn counts_cargo_test_summaries() {
        let out = "test result: ok. 17 passed; 0 failed; 0 ignored\ntest result: FAILED. 3 passed; 2 failed; 0 ignored";
        assert_eq!(host_counts(out), (20, 2));
    }
}
