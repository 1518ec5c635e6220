//! Rows to compare: one per member, from GNU `tar -tv --numeric-owner`
//! output or from `kcore::tar`, with paths cleaned the same way.

use kcore::tar::{Entry, Kind};

/// What the tests compare of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The cleaned path (`""` for the root).
    pub path: String,
    /// `file`, `dir`, `symlink`, `hardlink`, `fifo`, `char`, `block`,
    /// `sparse`, or the reader's message for anything else.
    pub kind: String,
    /// The data size (a hard link's is its target's); `None` where not
    /// compared.
    pub size: Option<u64>,
    /// A link's target (a hard link's cleaned).
    pub target: String,
    /// Permission bits; `None` where not compared.
    pub mode: Option<u32>,
    /// `(uid, gid)`; `None` where not compared.
    pub owner: Option<(u64, u64)>,
}

impl Row {
    /// A member skipped as sparse: only its path is compared.
    pub fn sparse(path: String) -> Self {
        Self {
            path,
            kind: "sparse".into(),
            size: None,
            target: String::new(),
            mode: None,
            owner: None,
        }
    }

    /// Anything else the reader said.
    pub fn other(message: String) -> Self {
        Self {
            kind: message,
            ..Self::sparse(String::new())
        }
    }

    /// The reader's view of an entry.
    pub fn from_entry(entry: &Entry<'_>) -> Self {
        let (kind, target) = match entry.kind {
            Kind::File => ("file", String::new()),
            Kind::Directory => ("dir", String::new()),
            Kind::Symlink { target } => ("symlink", String::from_utf8_lossy(target).into()),
            Kind::HardLink { target } => ("hardlink", target.to_string()),
            Kind::Fifo => ("fifo", String::new()),
            Kind::CharDevice { .. } => ("char", String::new()),
            Kind::BlockDevice { .. } => ("block", String::new()),
        };
        let path = if entry.path.is_root() {
            String::new()
        } else {
            entry.path.to_string()
        };
        Self {
            path,
            kind: kind.into(),
            size: Some(entry.size()),
            target,
            mode: Some(entry.mode),
            owner: Some((entry.uid, entry.gid)),
        }
    }
}

/// A path cleaned as the reader cleans it.
pub fn clean(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Permission bits from `rwxr-xr-x` (with `s`, `S`, `t`, `T`).
fn mode_bits(text: &str) -> u32 {
    let mut mode = 0;
    for (index, ch) in text.chars().enumerate().take(9) {
        let bit = 1 << (8 - index);
        let special = match index {
            2 => 0o4000,
            5 => 0o2000,
            8 => 0o1000,
            _ => 0,
        };
        match ch {
            'r' | 'w' | 'x' => mode |= bit,
            's' | 't' => mode |= bit | special,
            'S' | 'T' => mode |= special,
            _ => {}
        }
    }
    mode
}

/// Parses `tar -tv --numeric-owner` output:
/// `-rw-r--r-- 0/0   6 2026-01-01 00:00 ./name[ -> target| link to target]`.
pub fn rows_from_listing(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let mut rest = line;
        let mut take = || {
            rest = rest.trim_start();
            let end = rest.find(' ').unwrap_or(rest.len());
            let (field, tail) = rest.split_at(end);
            rest = tail;
            field.to_string()
        };
        let mode = take();
        let owner = take();
        let size = take();
        let _date = take();
        let _time = take();
        let name = rest.strip_prefix(' ').unwrap_or(rest);
        let (kind, path, target) = match mode.chars().next() {
            Some('l') => {
                let (path, target) = name.split_once(" -> ").expect("symlink target");
                ("symlink", path, target.to_string())
            }
            Some('h') => {
                let (path, target) = name.split_once(" link to ").expect("hard link target");
                ("hardlink", path, clean(target))
            }
            Some('d') => ("dir", name, String::new()),
            Some('p') => ("fifo", name, String::new()),
            Some('c') => ("char", name, String::new()),
            Some('b') => ("block", name, String::new()),
            Some('-') => ("file", name, String::new()),
            other => panic!("unknown kind {other:?} in {line:?}"),
        };
        let (uid, gid) = owner.split_once('/').expect("uid/gid");
        let size = match kind {
            // tar shows devices' numbers there, and the stored size of
            // directories and pipes is not data.
            "char" | "block" | "dir" | "fifo" => Some(0),
            _ => Some(size.parse().expect("size")),
        };
        rows.push(Row {
            path: clean(path),
            kind: kind.into(),
            size,
            target,
            mode: Some(mode_bits(&mode[1..])),
            owner: Some((uid.parse().unwrap(), gid.parse().unwrap())),
        });
    }
    rows
}

/// Gives each hard link the size of its target: the latest earlier row
/// with the target's path.
pub fn resolve_hard_link_sizes(rows: &mut [Row]) {
    for index in 0..rows.len() {
        if rows[index].kind != "hardlink" {
            continue;
        }
        let target = rows[index].target.clone();
        let size = rows[..index]
            .iter()
            .rev()
            .find(|row| row.path == target)
            .and_then(|row| row.size);
        rows[index].size = size;
    }
}
