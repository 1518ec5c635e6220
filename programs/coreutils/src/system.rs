//! Utilities about the system: `clear`, `dmesg`, `env`, `false`, `free`,
//! `help`, `ps`, `sleep`, `true`, `uname`, `uptime`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use utilcore::opts::Spec;

use crate::io::{Io, Stop};
use crate::{UTILITIES, Utility};

const NO_OPTIONS: Spec = Spec {
    flags: "",
    valued: "",
    long: &[],
};

/// `true`.
pub const TRUE: Utility = Utility {
    name: "true",
    summary: "do nothing, successfully",
    usage: "\nExit with a status code indicating success.\n",
    run: |io, args| {
        if args.first().is_some_and(|a| a == "--help") {
            io.print(&format!("Usage: true{}", TRUE.usage))?;
        }
        Ok(0)
    },
};

/// `false`.
pub const FALSE: Utility = Utility {
    name: "false",
    summary: "do nothing, unsuccessfully",
    usage: "\nExit with a status code indicating failure.\n",
    run: |io, args| {
        if args.first().is_some_and(|a| a == "--help") {
            io.print(&format!("Usage: false{}", FALSE.usage))?;
        }
        Ok(1)
    },
};

/// `clear`.
pub const CLEAR: Utility = Utility {
    name: "clear",
    summary: "clear the terminal screen",
    usage: "\nClear the screen (ANSI: cursor home, erase display).\n",
    run: |io, args| {
        io.options(args, &NO_OPTIONS, CLEAR.usage, 1)?;
        io.print("\x1b[H\x1b[2J\x1b[3J")?;
        Ok(0)
    },
};

/// Where the console server serves the kernel log.
const KMSG: &str = "/dev/kmsg";

/// `dmesg`.
pub const DMESG: Utility = Utility {
    name: "dmesg",
    summary: "print the kernel log",
    usage: "\nPrint the kernel's log (the newest 16 KiB it keeps), read from /dev/kmsg.\n",
    run: |io, args| {
        io.options(args, &NO_OPTIONS, DMESG.usage, 1)?;
        let read = io.read_each(KMSG, |io, piece| {
            io.out(piece)?;
            Ok(true)
        })?;
        Ok(if read { 0 } else { 1 })
    },
};

/// `sleep`.
pub const SLEEP: Utility = Utility {
    name: "sleep",
    summary: "delay for a specified amount of time",
    usage: "NUMBER[SUFFIX]...\nPause for NUMBER seconds (SUFFIX s, m, h or d; NUMBER may have a fraction); the pauses add up.\n",
    run: sleep,
};

/// Nanoseconds in `text` (`1.5`, `2m`), or `None`.
fn duration_ns(text: &str) -> Option<u64> {
    let (number, unit) = match text.char_indices().last()? {
        (at, c) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text, 's'),
    };
    let scale: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac_ns = 0u64;
    let mut place = 100_000_000u64;
    for b in fraction.bytes() {
        let d = char::from(b).to_digit(10)?;
        frac_ns += u64::from(d) * place;
        place /= 10;
    }
    whole
        .checked_mul(1_000_000_000)?
        .checked_add(frac_ns)?
        .checked_mul(scale)
}

fn sleep(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let parsed = io.options(args, &NO_OPTIONS, SLEEP.usage, 1)?;
    if parsed.operands.is_empty() {
        io.error(format_args!(
            "missing operand\nTry 'sleep --help' for more information."
        ));
        return Ok(1);
    }
    let mut total = 0u64;
    for text in &parsed.operands {
        match duration_ns(text) {
            Some(ns) => total = total.saturating_add(ns),
            None => {
                io.error(format_args!(
                    "invalid time interval '{text}'\nTry 'sleep --help' for more information."
                ));
                return Ok(1);
            }
        }
    }
    rt::time::sleep(rt::time::Duration::from_nanos(total));
    Ok(0)
}

/// `env`.
pub const ENV: Utility = Utility {
    name: "env",
    summary: "print the environment, or run a program in a changed one",
    usage: "[-i] [NAME=VALUE]... [COMMAND [ARG]...]\nSet each NAME to VALUE in the environment and run COMMAND (from /bin); without one, print the environment.\n  -i, --ignore-environment  start with an empty environment\n",
    run: env,
};

fn env(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let mut empty = false;
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "-i" | "--ignore-environment" | "-" => empty = true,
            "--help" => {
                io.print(&format!("Usage: env {}", ENV.usage))?;
                return Ok(0);
            }
            "--" => {
                rest = &rest[1..];
                break;
            }
            option if option.starts_with('-') => {
                io.error(format_args!(
                    "invalid option -- '{}'\nTry 'env --help' for more information.",
                    &option[1..]
                ));
                return Ok(125);
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut vars: Vec<String> = if empty {
        Vec::new()
    } else {
        rt::process::env().map(String::from).collect()
    };
    while let Some(first) = rest.first().filter(|a| a.contains('=')) {
        let key = first.split('=').next().unwrap_or("");
        vars.retain(|v| v.split('=').next() != Some(key));
        vars.push(first.clone());
        rest = &rest[1..];
    }
    let Some(command) = rest.first() else {
        for var in &vars {
            io.print(var)?;
            io.print("\n")?;
        }
        return Ok(0);
    };
    io.flush()?;
    let path = if command.contains('/') {
        command.clone()
    } else {
        format!("/bin/{command}")
    };
    let argv: Vec<&str> = rest.iter().map(String::as_str).collect();
    let envs: Vec<&str> = vars.iter().map(String::as_str).collect();
    match process::Command::new(&path).args(&argv).env(&envs).spawn() {
        Ok(child) => Ok(child.wait().map_or(1, |end| end.shell_status())),
        Err(process::ProcError::NotFound) => {
            io.error(format_args!("'{command}': No such file or directory"));
            Ok(127)
        }
        Err(error) => {
            io.error(format_args!("'{command}': cannot run: {error:?}"));
            Ok(126)
        }
    }
}

/// `ps`.
pub const PS: Utility = Utility {
    name: "ps",
    summary: "report the processes",
    usage: "\nList every process: id, parent id, state (R running, Z ended and not yet reaped), memory in KiB (frames charged to its budget) and name.\n",
    run: ps,
};

fn ps(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "efAaux",
        valued: "",
        long: &[],
    };
    io.options(args, &spec, PS.usage, 1)?;
    let list = match process::list() {
        Ok(list) => list,
        Err(error) => {
            io.error(format_args!("cannot list processes: {error:?}"));
            return Ok(1);
        }
    };
    io.print("  PID  PPID S    MEM(K) NAME\n")?;
    for p in list {
        let state = if p.ended { 'Z' } else { 'R' };
        let memory = p
            .frames
            .map_or(String::from("-"), |f| format!("{}", u64::from(f) * 4));
        io.print(&format!(
            "{:>5} {:>5} {state} {:>9} {}\n",
            p.pid.0, p.parent.0, memory, p.name
        ))?;
    }
    Ok(0)
}

/// `free`.
pub const FREE: Utility = Utility {
    name: "free",
    summary: "display the memory of this program's budget and of the processes",
    usage: "[-k|-m]\nShow the budget this program was started with (its parent's share), what it uses, and the memory every process's budget is charged.\n  -k  KiB (default)\n  -m  MiB\n",
    run: free,
};

fn free(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "kmh",
        valued: "",
        long: &[],
    };
    let parsed = io.options(args, &spec, FREE.usage, 1)?;
    let mebibytes = parsed.has('m');
    let unit = if mebibytes { "MiB" } else { "KiB" };
    let show = |frames: u64| -> u64 { if mebibytes { frames / 256 } else { frames * 4 } };
    let own = rt::process::own_caps().budget;
    let Ok(status) = rt::sys::budget_info(own) else {
        io.error(format_args!("cannot read the budget"));
        return Ok(1);
    };
    let processes: u64 = process::list()
        .map(|l| l.iter().filter_map(|p| p.frames).map(u64::from).sum())
        .unwrap_or(0);
    io.print(&format!(
        "{:<12}{:>12}{:>12}{:>12}\n",
        unit, "total", "used", "free"
    ))?;
    io.print(&format!(
        "{:<12}{:>12}{:>12}{:>12}\n",
        "Budget:",
        show(status.limit),
        show(status.used),
        show(status.limit.saturating_sub(status.used))
    ))?;
    io.print(&format!(
        "{:<12}{:>12}{:>12}\n",
        "Processes:",
        "",
        show(processes)
    ))?;
    Ok(0)
}

/// `uptime`.
pub const UPTIME: Utility = Utility {
    name: "uptime",
    summary: "tell how long the system has been running",
    usage: "\nPrint how long the system has been up (the monotonic clock) and how many processes run.\n",
    run: uptime,
};

fn uptime(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    io.options(args, &NO_OPTIONS, UPTIME.usage, 1)?;
    let seconds = rt::time::now_ns() / 1_000_000_000;
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    let processes = process::list().map_or(0, |l| l.len());
    let up = if days > 0 {
        format!("{days} days, {hours:>2}:{minutes:02}")
    } else if hours > 0 {
        format!("{hours:>2}:{minutes:02}")
    } else {
        format!("{minutes} min, {secs} sec")
    };
    io.print(&format!("up {up},  {processes} processes\n"))?;
    Ok(0)
}

/// `uname`.
pub const UNAME: Utility = Utility {
    name: "uname",
    summary: "print system information",
    usage: "[-asnrvm]\nPrint system information (the kernel name by default).\n  -a  all\n  -s  kernel name\n  -n  node name\n  -r  kernel release\n  -v  kernel version\n  -m  machine\n",
    run: uname,
};

fn uname(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "asnrvmpio",
        valued: "",
        long: &[("all", 'a')],
    };
    let parsed = io.options(args, &spec, UNAME.usage, 1)?;
    let all = parsed.has('a');
    let fields = [
        ('s', "Mica"),
        ('n', "mica"),
        ('r', env!("CARGO_PKG_VERSION")),
        ('v', "capability microkernel"),
        ('m', "x86_64"),
    ];
    let mut shown: Vec<&str> = fields
        .iter()
        .filter(|(letter, _)| all || parsed.has(*letter))
        .map(|(_, value)| *value)
        .collect();
    if shown.is_empty() {
        shown.push("Mica");
    }
    io.print(&shown.join(" "))?;
    io.print("\n")?;
    Ok(0)
}

/// `help`.
pub const HELP: Utility = Utility {
    name: "help",
    summary: "list the utilities",
    usage: "\nList the programs in /bin with what each does; NAME --help says more.\n",
    run: help,
};

fn help(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    io.options(args, &NO_OPTIONS, HELP.usage, 1)?;
    io.print("Programs (each takes --help); `help` in the shell lists its built-ins:\n")?;
    for utility in UTILITIES {
        io.print(&format!("  {:<8} {}\n", utility.name, utility.summary))?;
    }
    Ok(0)
}
