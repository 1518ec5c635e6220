//! Utilities on text: `echo`, `grep`, `head`, `seq`, `sort`, `tail`,
//! `uniq`, `wc`, `yes`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use utilcore::opts::{Parsed, Spec};
use utilcore::regex::Regex;
use utilcore::text::{self, Seq, SortOptions, UniqOptions, WcShow, WcState};

use crate::Utility;
use crate::io::{Io, Stop, inputs};

/// `echo`.
pub const ECHO: Utility = Utility {
    name: "echo",
    summary: "display a line of text",
    usage: "[-neE] [STRING]...\nEcho the STRING(s) to standard output.\n  -n  do not output the trailing newline\n  -e  enable interpretation of backslash escapes\n  -E  disable interpretation of backslash escapes (default)\n",
    run: echo,
};

fn echo(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    if args.len() == 1 && args[0] == "--help" {
        io.print(&format!("Usage: echo {}", ECHO.usage))?;
        return Ok(0);
    }
    io.out(&utilcore::echo::output(args))?;
    Ok(0)
}

/// `yes`.
pub const YES: Utility = Utility {
    name: "yes",
    summary: "output a string repeatedly until killed",
    usage: "[STRING]...\nRepeatedly output a line with all specified STRING(s), or 'y'.\n",
    run: yes,
};

fn yes(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "",
        valued: "",
        long: &[],
    };
    let parsed = io.options(args, &spec, YES.usage, 1)?;
    let mut line = if parsed.operands.is_empty() {
        String::from("y")
    } else {
        parsed.operands.join(" ")
    };
    line.push('\n');
    // A buffer's worth a write.
    let mut block = String::new();
    while block.len() < 4096 {
        block.push_str(&line);
    }
    loop {
        io.print(&block)?;
        io.flush()?;
    }
}

/// A count option: a non-negative number (GNU allows a `-` for "all but
/// the last"; not here).
fn count(
    io: &mut Io,
    parsed: &Parsed,
    letter: char,
    default: u64,
    what: &str,
) -> Result<u64, Stop> {
    match parsed.value(letter) {
        None => Ok(default),
        Some(text) => text.trim_start_matches('+').parse().map_err(|_| {
            io.error(format_args!("invalid number of {what}: '{text}'"));
            Stop::Status(1)
        }),
    }
}

/// `head -5` and `tail -5`: the old form of `-n 5`.
fn old_count(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| match a.strip_prefix('-') {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => format!("-n{n}"),
            _ => a.clone(),
        })
        .collect()
}

/// `head`.
pub const HEAD: Utility = Utility {
    name: "head",
    summary: "output the first part of files",
    usage: "[-n LINES | -c BYTES] [FILE]...\nPrint the first 10 lines of each FILE to standard output.\n  -n, --lines=N  print the first N lines\n  -c, --bytes=N  print the first N bytes\n",
    run: head,
};

fn head(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "qv",
        valued: "nc",
        long: &[("lines", 'n'), ("bytes", 'c')],
    };
    let parsed = io.options(&old_count(args), &spec, HEAD.usage, 1)?;
    let bytes_mode = parsed.value('c').is_some();
    let limit = if bytes_mode {
        count(io, &parsed, 'c', 0, "bytes")?
    } else {
        count(io, &parsed, 'n', 10, "lines")?
    };
    let files = inputs(&parsed.operands);
    let mut status = 0;
    for (i, path) in files.iter().enumerate() {
        if files.len() > 1 {
            let gap = if i > 0 { "\n" } else { "" };
            let shown = if path == "-" { "standard input" } else { path };
            io.print(&format!("{gap}==> {shown} <==\n"))?;
        }
        let mut left = limit;
        let ok = io.read_each(path, |io, piece| {
            if left == 0 {
                return Ok(false);
            }
            let mut take = piece.len();
            if bytes_mode {
                take = take.min(left as usize);
                left -= take as u64;
            } else {
                for (at, &b) in piece.iter().enumerate() {
                    if b == b'\n' {
                        left -= 1;
                        if left == 0 {
                            take = at + 1;
                            break;
                        }
                    }
                }
            }
            io.out(&piece[..take])?;
            Ok(left > 0)
        })?;
        if !ok {
            status = 1;
        }
    }
    Ok(status)
}

/// `tail`.
pub const TAIL: Utility = Utility {
    name: "tail",
    summary: "output the last part of files",
    usage: "[-n LINES | -c BYTES] [FILE]...\nPrint the last 10 lines of each FILE to standard output.\n  -n, --lines=N  print the last N lines (+N: from line N on)\n  -c, --bytes=N  print the last N bytes\n",
    run: tail,
};

fn tail(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "qv",
        valued: "nc",
        long: &[("lines", 'n'), ("bytes", 'c')],
    };
    let parsed = io.options(&old_count(args), &spec, TAIL.usage, 1)?;
    let bytes_mode = parsed.value('c').is_some();
    let letter = if bytes_mode { 'c' } else { 'n' };
    let from_start = parsed.value(letter).is_some_and(|v| v.starts_with('+'));
    let limit = count(
        io,
        &parsed,
        letter,
        10,
        if bytes_mode { "bytes" } else { "lines" },
    )?;
    let files = inputs(&parsed.operands);
    let mut status = 0;
    for (i, path) in files.iter().enumerate() {
        if files.len() > 1 {
            let gap = if i > 0 { "\n" } else { "" };
            let shown = if path == "-" { "standard input" } else { path };
            io.print(&format!("{gap}==> {shown} <==\n"))?;
        }
        let Some(data) = io.read_all(path)? else {
            status = 1;
            continue;
        };
        let start = if bytes_mode {
            if from_start {
                (limit.saturating_sub(1) as usize).min(data.len())
            } else {
                data.len().saturating_sub(limit as usize)
            }
        } else {
            let ends: Vec<usize> = data
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1)
                .collect();
            let lines = ends.len() + usize::from(!data.is_empty() && !data.ends_with(b"\n"));
            let skip = if from_start {
                (limit.saturating_sub(1) as usize).min(lines)
            } else {
                lines.saturating_sub(limit as usize)
            };
            if skip == 0 {
                0
            } else {
                ends.get(skip - 1).copied().unwrap_or(data.len())
            }
        };
        io.out(&data[start..])?;
    }
    Ok(status)
}

/// `wc`.
pub const WC: Utility = Utility {
    name: "wc",
    summary: "print newline, word, and byte counts",
    usage: "[-clmw] [FILE]...\nPrint newline, word, and byte counts for each FILE, and a total line if more than one FILE.\n  -c, --bytes  print the byte counts\n  -m, --chars  print the character counts\n  -l, --lines  print the newline counts\n  -w, --words  print the word counts\n",
    run: wc,
};

fn wc(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "clmw",
        valued: "",
        long: &[
            ("bytes", 'c'),
            ("chars", 'm'),
            ("lines", 'l'),
            ("words", 'w'),
        ],
    };
    let parsed = io.options(args, &spec, WC.usage, 1)?;
    let mut show = WcShow {
        lines: parsed.has('l'),
        words: parsed.has('w'),
        chars: parsed.has('m'),
        bytes: parsed.has('c'),
    };
    if show.count() == 0 {
        show = WcShow {
            lines: true,
            words: true,
            chars: false,
            bytes: true,
        };
    }
    let files = inputs(&parsed.operands);
    let mut results = Vec::new();
    let mut status = 0;
    let mut size_hint = Some(0u64);
    for path in &files {
        let mut state = WcState::default();
        let ok = io.read_each(path, |_, piece| {
            state.add(piece);
            Ok(true)
        })?;
        if !ok {
            status = 1;
            continue;
        }
        let regular =
            path != "-" && files::metadata(path).is_ok_and(|m| m.kind == files::Kind::File);
        size_hint = match (size_hint, regular) {
            (Some(total), true) => Some(total + state.counts.bytes),
            _ => None,
        };
        results.push((path.clone(), state.counts));
    }
    let width = text::wc_width(&show, files.len(), size_hint);
    let mut total = text::Counts::default();
    for (path, counts) in &results {
        total += *counts;
        let name = (path != "-").then_some(path.as_str());
        io.print(&text::wc_line(counts, &show, width, name))?;
    }
    if files.len() > 1 {
        io.print(&text::wc_line(&total, &show, width, Some("total")))?;
    }
    Ok(status)
}

/// `grep`.
pub const GREP: Utility = Utility {
    name: "grep",
    summary: "print lines that match a pattern",
    usage: "[-cinvqF] [-e] PATTERN [FILE]...\nSearch for PATTERN (a basic regular expression: . * ^ $ [...] \\) in each FILE.\n  -F  PATTERN is a fixed string\n  -i  ignore case\n  -v  select non-matching lines\n  -c  print only a count of selected lines per FILE\n  -n  print line numbers\n  -q  quiet: exit 0 at the first match\nExit status: 0 if a line is selected, 1 if none, 2 on an error.\n",
    run: grep,
};

fn grep(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "cinvqFGsH",
        valued: "e",
        long: &[
            ("count", 'c'),
            ("ignore-case", 'i'),
            ("line-number", 'n'),
            ("invert-match", 'v'),
            ("quiet", 'q'),
            ("fixed-strings", 'F'),
            ("regexp", 'e'),
        ],
    };
    let parsed = io.options(args, &spec, GREP.usage, 2)?;
    let mut operands = parsed.operands.clone();
    let pattern = match parsed.value('e') {
        Some(p) => p.to_string(),
        None => {
            if operands.is_empty() {
                io.error(format_args!("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."));
                return Ok(2);
            }
            operands.remove(0)
        }
    };
    let fold = parsed.has('i');
    let regex = if parsed.has('F') {
        Regex::fixed(&pattern, fold)
    } else {
        match Regex::new(&pattern, fold) {
            Ok(regex) => regex,
            Err(error) => {
                io.error(format_args!("{error}"));
                return Ok(2);
            }
        }
    };
    let (invert, counting, numbers, quiet) = (
        parsed.has('v'),
        parsed.has('c'),
        parsed.has('n'),
        parsed.has('q'),
    );
    let files = inputs(&operands);
    let named = files.len() > 1;
    let mut selected_any = false;
    let mut error = false;
    for path in &files {
        let Some(data) = io.read_all(path)? else {
            error = true;
            continue;
        };
        let shown = if path == "-" {
            "(standard input)"
        } else {
            path.as_str()
        };
        let mut count = 0u64;
        for (number, line) in text::lines(&data).into_iter().enumerate() {
            let text = String::from_utf8_lossy(line);
            if regex.is_match(&text) == invert {
                continue;
            }
            count += 1;
            selected_any = true;
            if quiet {
                return Ok(0);
            }
            if counting {
                continue;
            }
            if named {
                io.print(shown)?;
                io.print(":")?;
            }
            if numbers {
                io.print(&format!("{}:", number + 1))?;
            }
            io.out(line)?;
            io.print("\n")?;
        }
        if counting {
            let prefix = if named {
                format!("{shown}:")
            } else {
                String::new()
            };
            io.print(&format!("{prefix}{count}\n"))?;
        }
    }
    Ok(if error {
        2
    } else if selected_any {
        0
    } else {
        1
    })
}

/// `sort`.
pub const SORT: Utility = Utility {
    name: "sort",
    summary: "sort lines of text files",
    usage: "[-fnru] [FILE]...\nWrite the sorted concatenation of all FILE(s) to standard output (byte order).\n  -f, --ignore-case     fold lower case to upper case characters\n  -n, --numeric-sort    compare according to string numerical value\n  -r, --reverse         reverse the result of comparisons\n  -u, --unique          output only the first of an equal run\n",
    run: sort,
};

fn sort(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "fnru",
        valued: "",
        long: &[
            ("ignore-case", 'f'),
            ("numeric-sort", 'n'),
            ("reverse", 'r'),
            ("unique", 'u'),
        ],
    };
    let parsed = io.options(args, &spec, SORT.usage, 2)?;
    let options = SortOptions {
        reverse: parsed.has('r'),
        numeric: parsed.has('n'),
        fold: parsed.has('f'),
        unique: parsed.has('u'),
    };
    let mut data = Vec::new();
    for path in inputs(&parsed.operands) {
        let Some(mut more) = io.read_all(&path)? else {
            return Ok(2);
        };
        if !more.is_empty() && !more.ends_with(b"\n") {
            more.push(b'\n');
        }
        data.extend_from_slice(&more);
    }
    let mut lines = text::lines(&data);
    text::sort_lines(&mut lines, &options);
    for line in lines {
        io.out(line)?;
        io.print("\n")?;
    }
    Ok(0)
}

/// `uniq`.
pub const UNIQ: Utility = Utility {
    name: "uniq",
    summary: "report or omit repeated lines",
    usage: "[-cdui] [INPUT [OUTPUT]]\nFilter adjacent matching lines from INPUT, writing to standard output.\n  -c, --count        prefix lines by the number of occurrences\n  -d, --repeated     only print duplicate lines, one for each group\n  -u, --unique       only print unique lines\n  -i, --ignore-case  ignore differences in case when comparing\n",
    run: uniq,
};

fn uniq(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "cdui",
        valued: "",
        long: &[
            ("count", 'c'),
            ("repeated", 'd'),
            ("unique", 'u'),
            ("ignore-case", 'i'),
        ],
    };
    let parsed = io.options(args, &spec, UNIQ.usage, 1)?;
    let options = UniqOptions {
        count: parsed.has('c'),
        repeated: parsed.has('d'),
        unique: parsed.has('u'),
        ignore_case: parsed.has('i'),
    };
    let path = parsed
        .operands
        .first()
        .cloned()
        .unwrap_or_else(|| String::from("-"));
    let Some(data) = io.read_all(&path)? else {
        return Ok(1);
    };
    let output = text::uniq(&text::lines(&data), &options);
    match parsed.operands.get(1) {
        Some(out_path) => match files::File::create(out_path) {
            Ok(mut file) => {
                if let Err(error) = file.write_all(&output) {
                    io.file_error(out_path, error);
                    return Ok(1);
                }
            }
            Err(error) => {
                io.file_error(out_path, error);
                return Ok(1);
            }
        },
        None => io.out(&output)?,
    }
    Ok(0)
}

/// `seq`.
pub const SEQ: Utility = Utility {
    name: "seq",
    summary: "print a sequence of numbers",
    usage: "[-w] [-s SEP] [FIRST [INCREMENT]] LAST\nPrint integers from FIRST (1) to LAST, in steps of INCREMENT (1).\n  -s, --separator=STRING  use STRING to separate numbers (default: \\n)\n  -w, --equal-width       equalize width by padding with leading zeroes\n",
    run: seq,
};

fn seq(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "w",
        valued: "s",
        long: &[("separator", 's'), ("equal-width", 'w')],
    };
    // Negative numbers are operands, not options.
    let split = args
        .iter()
        .position(|a| {
            a.starts_with('-') && a.len() > 1 && a[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .unwrap_or(args.len());
    let parsed = io.options(&args[..split], &spec, SEQ.usage, 1)?;
    let mut operands = parsed.operands.clone();
    operands.extend(args[split..].iter().cloned());
    if operands.is_empty() || operands.len() > 3 {
        let what = if operands.is_empty() {
            "missing operand"
        } else {
            "extra operand"
        };
        io.error(format_args!(
            "{what}\nTry 'seq --help' for more information."
        ));
        return Ok(1);
    }
    let seq = match Seq::new(&operands) {
        Ok(seq) => seq,
        Err(error) => {
            io.error(format_args!(
                "{error}\nTry 'seq --help' for more information."
            ));
            return Ok(1);
        }
    };
    let separator = parsed.value('s').unwrap_or("\n").to_string();
    let width = if parsed.has('w') { seq.width() } else { 0 };
    let mut current = Some(seq.first).filter(|&f| seq.within(f));
    let mut first = true;
    while let Some(n) = current {
        if !first {
            io.print(&separator)?;
        }
        first = false;
        io.print(&text::zero_pad(n, width))?;
        current = seq.next(n);
    }
    if !first {
        io.print("\n")?;
    }
    Ok(0)
}
