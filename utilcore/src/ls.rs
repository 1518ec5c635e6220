//! `ls` output: names in columns for a terminal (GNU's layout: filled
//! down the columns, as few rows as fit the width, two spaces between
//! columns), one a line otherwise, and `-l` lines.
//!
//! Mica's files have no owners, modes or times: `-l` shows `root`, modes
//! by kind (`drwxr-xr-x`, `-rw-r--r--`, `prw-------` for a pipe) and the
//! epoch as the time, in GNU's columns.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// One entry of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name as shown.
    pub name: String,
    /// `d` directory, `-` file, `p` pipe, `c` device, `l` link.
    pub kind: char,
    /// Its size in bytes.
    pub size: u64,
    /// Its number of names.
    pub links: u64,
}

/// Names in columns to fit `width` (GNU `ls -C`).
pub fn columns(names: &[&str], width: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let lens: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    let mut rows = names.len();
    for try_rows in 1..=names.len() {
        let cols = names.len().div_ceil(try_rows);
        let mut total = 0;
        for c in 0..cols {
            let widest = (0..try_rows)
                .filter_map(|r| lens.get(c * try_rows + r))
                .max()
                .copied()
                .unwrap_or(0);
            total += widest + if c + 1 < cols { 2 } else { 0 };
        }
        if total <= width {
            rows = try_rows;
            break;
        }
    }
    let cols = names.len().div_ceil(rows);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            (0..rows)
                .filter_map(|r| lens.get(c * rows + r))
                .max()
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in 0..rows {
        let mut line = String::new();
        for c in 0..cols {
            let Some(name) = names.get(c * rows + r) else {
                continue;
            };
            line.push_str(name);
            let next_exists = names.get((c + 1) * rows + r).is_some();
            if next_exists {
                let pad = widths[c] - lens[c * rows + r] + 2;
                line.extend(core::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The mode string for a kind.
fn mode(kind: char) -> &'static str {
    match kind {
        'd' => "drwxr-xr-x",
        'p' => "prw-------",
        'c' => "crw-rw-rw-",
        'l' => "lrwxrwxrwx",
        _ => "-rw-r--r--",
    }
}

/// The `-l` lines of `entries` (no `total` line: see [`total_blocks`]).
pub fn long(entries: &[Entry]) -> String {
    let links_width = entries
        .iter()
        .map(|e| crate::text::digits(e.links))
        .max()
        .unwrap_or(1);
    let size_width = entries
        .iter()
        .map(|e| crate::text::digits(e.size))
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!(
            "{} {:>links_width$} root root {:>size_width$} Jan  1  1970 {}\n",
            mode(e.kind),
            e.links,
            e.size,
            e.name
        ));
    }
    out
}

/// The `total` of `ls -l`: 1 KiB blocks of 4 KiB pages, as GNU counts
/// them on a file system of 4 KiB blocks.
pub fn total_blocks(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .filter(|e| e.kind == '-')
        .map(|e| e.size.div_ceil(4096) * 4)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_layout() {
        let names = ["a", "bb", "ccc", "d", "e"];
        assert_eq!(columns(&names, 80), "a  bb  ccc  d  e\n");
        assert_eq!(columns(&names, 8), "a    d\nbb   e\nccc\n");
        assert_eq!(columns(&names, 1), "a\nbb\nccc\nd\ne\n");
        assert_eq!(columns(&[], 80), "");
    }

    #[test]
    fn long_lines() {
        let entries = [
            Entry {
                name: "bin".into(),
                kind: 'd',
                size: 30,
                links: 2,
            },
            Entry {
                name: "f".into(),
                kind: '-',
                size: 5000,
                links: 1,
            },
        ];
        assert_eq!(
            long(&entries),
            "drwxr-xr-x 2 root root   30 Jan  1  1970 bin\n-rw-r--r-- 1 root root 5000 Jan  1  1970 f\n"
        );
        assert_eq!(total_blocks(&entries), 8);
    }
}
