//! Utilities on files and directories: `cat`, `cp`, `ls`, `mkdir`, `mv`,
//! `rm`, `rmdir`, `stat`, `tee`, `touch`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use files::{File, FsError, Kind, OpenFlags};
use protocols::tty::TtyClient;
use utilcore::errors::message;
use utilcore::ls::{self, Entry};
use utilcore::opts::Spec;

use crate::Utility;
use crate::io::{Io, Stop, inputs};

/// `cat`.
pub const CAT: Utility = Utility {
    name: "cat",
    summary: "concatenate files to standard output",
    usage: "[FILE]...\nConcatenate FILE(s) to standard output (- or none: standard input).\n",
    run: cat,
};

fn cat(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "u",
        valued: "",
        long: &[],
    };
    let parsed = io.options(args, &spec, CAT.usage, 1)?;
    let mut status = 0;
    for path in inputs(&parsed.operands) {
        let ok = io.read_each(&path, |io, piece| {
            io.out(piece)?;
            Ok(true)
        })?;
        if !ok {
            status = 1;
        }
    }
    Ok(status)
}

/// `tee`.
pub const TEE: Utility = Utility {
    name: "tee",
    summary: "copy standard input to standard output and files",
    usage: "[-a] [FILE]...\nCopy standard input to each FILE, and also to standard output.\n  -a, --append  append to the FILEs, do not overwrite\n",
    run: tee,
};

fn tee(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "ai",
        valued: "",
        long: &[("append", 'a')],
    };
    let parsed = io.options(args, &spec, TEE.usage, 1)?;
    let mode = if parsed.has('a') {
        OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::APPEND
    } else {
        OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE
    };
    let mut status = 0;
    let mut outputs: Vec<(String, File)> = Vec::new();
    for path in &parsed.operands {
        match File::open(path, mode) {
            Ok(file) => outputs.push((path.clone(), file)),
            Err(error) => {
                io.file_error(path, error);
                status = 1;
            }
        }
    }
    let mut failed: Vec<(String, FsError)> = Vec::new();
    io.read_each("-", |io, piece| {
        for (path, file) in outputs.iter_mut() {
            if let Err(error) = file.write_all(piece) {
                failed.push((path.clone(), error));
            }
        }
        outputs.retain(|(p, _)| !failed.iter().any(|(f, _)| f == p));
        io.out(piece)?;
        io.flush()?;
        Ok(true)
    })?;
    for (path, error) in failed {
        io.file_error(&path, error);
        status = 1;
    }
    Ok(status)
}

/// `ls`.
pub const LS: Utility = Utility {
    name: "ls",
    summary: "list directory contents",
    usage: "[-al1] [FILE]...\nList information about the FILEs (the current directory by default), sorted by name.\n  -a, --all  do not ignore entries starting with .\n  -l         use a long listing format\n  -1         list one file per line\n",
    run: ls,
};

/// The `-l` kind letter.
fn kind_letter(kind: Kind) -> char {
    match kind {
        Kind::Dir => 'd',
        Kind::Pipe => 'p',
        Kind::Device => 'c',
        Kind::Symlink => 'l',
        Kind::File => '-',
    }
}

/// The width of the terminal `stdout` is, if it is one.
fn terminal_width(io: &Io) -> Option<usize> {
    let file = io.stdout_file()?;
    let endpoint = file.endpoint();
    TtyClient::new(endpoint)
        .size()
        .ok()
        .map(|(columns, _)| usize::from(columns))
}

fn ls(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "al1",
        valued: "",
        long: &[("all", 'a')],
    };
    let parsed = io.options(args, &spec, LS.usage, 2)?;
    let all = parsed.has('a');
    let long = parsed.has('l');
    let width = if parsed.has('1') {
        None
    } else {
        terminal_width(io)
    };
    let operands = if parsed.operands.is_empty() {
        alloc::vec![String::from(".")]
    } else {
        parsed.operands.clone()
    };
    let mut status = 0;
    let mut lone_files: Vec<Entry> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for path in &operands {
        match files::metadata(path) {
            Ok(meta) if meta.kind == Kind::Dir => dirs.push(path.clone()),
            Ok(meta) => lone_files.push(Entry {
                name: path.clone(),
                kind: kind_letter(meta.kind),
                size: meta.size,
                links: meta.links,
            }),
            Err(error) => {
                io.error(format_args!("cannot access '{path}': {}", message(error)));
                status = 2;
            }
        }
    }
    lone_files.sort_by(|a, b| a.name.cmp(&b.name));
    dirs.sort();
    let show = |io: &mut Io, entries: &[Entry], with_total: bool| -> Result<(), Stop> {
        if long {
            if with_total {
                io.print(&format!("total {}\n", ls::total_blocks(entries)))?;
            }
            io.print(&ls::long(entries))
        } else {
            let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            match width {
                Some(width) => io.print(&ls::columns(&names, width)),
                None => {
                    for name in names {
                        io.print(name)?;
                        io.print("\n")?;
                    }
                    Ok(())
                }
            }
        }
    };
    if !lone_files.is_empty() {
        show(io, &lone_files, false)?;
    }
    let headers = operands.len() > 1 || status != 0;
    for (i, dir) in dirs.iter().enumerate() {
        let listing = match files::read_dir(dir) {
            Ok(listing) => listing,
            Err(error) => {
                io.error(format_args!(
                    "cannot open directory '{dir}': {}",
                    message(error)
                ));
                status = 2;
                continue;
            }
        };
        let mut entries: Vec<Entry> = Vec::new();
        if all {
            for name in [".", ".."] {
                let links = files::metadata(&format!("{dir}/{name}")).map_or(1, |m| m.links);
                entries.push(Entry {
                    name: name.to_string(),
                    kind: 'd',
                    size: files::metadata(&format!("{dir}/{name}")).map_or(0, |m| m.size),
                    links,
                });
            }
        }
        for item in listing {
            if !all && item.name.starts_with('.') {
                continue;
            }
            let (size, links) = if long {
                files::metadata(&format!("{dir}/{}", item.name))
                    .map_or((0, 1), |m| (m.size, m.links))
            } else {
                (0, 1)
            };
            entries.push(Entry {
                kind: kind_letter(item.kind),
                name: item.name,
                size,
                links,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        if headers {
            if i > 0 || !lone_files.is_empty() {
                io.print("\n")?;
            }
            io.print(&format!("{dir}:\n"))?;
        }
        show(io, &entries, true)?;
    }
    Ok(status)
}

/// `mkdir`.
pub const MKDIR: Utility = Utility {
    name: "mkdir",
    summary: "make directories",
    usage: "[-p] DIRECTORY...\nCreate the DIRECTORY(ies), if they do not already exist.\n  -p, --parents  no error if existing, make parent directories as needed\n",
    run: mkdir,
};

fn mkdir(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "pv",
        valued: "",
        long: &[("parents", 'p')],
    };
    let parsed = io.options(args, &spec, MKDIR.usage, 1)?;
    if parsed.operands.is_empty() {
        io.error(format_args!(
            "missing operand\nTry 'mkdir --help' for more information."
        ));
        return Ok(1);
    }
    let mut status = 0;
    for path in &parsed.operands {
        let result = if parsed.has('p') {
            make_parents(path)
        } else {
            files::mkdir(path)
        };
        if let Err(error) = result {
            io.error(format_args!(
                "cannot create directory '{path}': {}",
                message(error)
            ));
            status = 1;
        }
    }
    Ok(status)
}

/// `mkdir -p`: each missing directory along `path`.
fn make_parents(path: &str) -> Result<(), FsError> {
    let mut prefix = String::new();
    if path.starts_with('/') {
        prefix.push('/');
    }
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push_str(part);
        match files::mkdir(&prefix) {
            Ok(()) | Err(FsError::Exists) => {}
            // A mount point (`/tmp`) or a directory of a read-only file
            // system that is there already.
            Err(_) if files::metadata(&prefix).is_ok_and(|m| m.kind == Kind::Dir) => {}
            Err(error) => return Err(error),
        }
        if files::metadata(&prefix).is_ok_and(|m| m.kind != Kind::Dir) {
            return Err(FsError::NotADirectory);
        }
        prefix.push('/');
    }
    Ok(())
}

/// `rmdir`.
pub const RMDIR: Utility = Utility {
    name: "rmdir",
    summary: "remove empty directories",
    usage: "DIRECTORY...\nRemove the DIRECTORY(ies), if they are empty.\n",
    run: rmdir,
};

fn rmdir(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "",
        valued: "",
        long: &[],
    };
    let parsed = io.options(args, &spec, RMDIR.usage, 1)?;
    if parsed.operands.is_empty() {
        io.error(format_args!(
            "missing operand\nTry 'rmdir --help' for more information."
        ));
        return Ok(1);
    }
    let mut status = 0;
    for path in &parsed.operands {
        if let Err(error) = files::remove_dir(path) {
            io.error(format_args!(
                "failed to remove '{path}': {}",
                message(error)
            ));
            status = 1;
        }
    }
    Ok(status)
}

/// `rm`.
pub const RM: Utility = Utility {
    name: "rm",
    summary: "remove files or directories",
    usage: "[-rf] FILE...\nRemove the FILE(s).\n  -f, --force      ignore nonexistent files, never prompt\n  -r, -R, --recursive  remove directories and their contents recursively\n",
    run: rm,
};

fn rm(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "rRfv",
        valued: "",
        long: &[("recursive", 'r'), ("force", 'f')],
    };
    let parsed = io.options(args, &spec, RM.usage, 1)?;
    let force = parsed.has('f');
    let recursive = parsed.has('r') || parsed.has('R');
    if parsed.operands.is_empty() {
        if force {
            return Ok(0);
        }
        io.error(format_args!(
            "missing operand\nTry 'rm --help' for more information."
        ));
        return Ok(1);
    }
    let mut status = 0;
    for path in &parsed.operands {
        match files::metadata(path) {
            Err(FsError::NotFound) if force => {}
            Err(error) => {
                io.error(format_args!("cannot remove '{path}': {}", message(error)));
                status = 1;
            }
            Ok(meta) if meta.kind == Kind::Dir => {
                if !recursive {
                    io.error(format_args!("cannot remove '{path}': Is a directory"));
                    status = 1;
                } else if let Err((at, error)) = remove_tree(path, 0) {
                    io.error(format_args!("cannot remove '{at}': {}", message(error)));
                    status = 1;
                }
            }
            Ok(_) => {
                if let Err(error) = files::remove_file(path) {
                    io.error(format_args!("cannot remove '{path}': {}", message(error)));
                    status = 1;
                }
            }
        }
    }
    Ok(status)
}

/// Directory depth `rm -r` and `cp -r` go to (paths are at most 4,096
/// bytes, so deeper cannot be named anyway).
const TREE_DEPTH_MAX: usize = 256;

/// Removes the directory `path` and everything below it.
fn remove_tree(path: &str, depth: usize) -> Result<(), (String, FsError)> {
    if depth > TREE_DEPTH_MAX {
        return Err((path.to_string(), FsError::NameTooLong));
    }
    let entries = files::read_dir(path).map_err(|e| (path.to_string(), e))?;
    for entry in entries {
        let child = format!("{path}/{}", entry.name);
        if entry.kind == Kind::Dir {
            remove_tree(&child, depth + 1)?;
        } else {
            files::remove_file(&child).map_err(|e| (child.clone(), e))?;
        }
    }
    files::remove_dir(path).map_err(|e| (path.to_string(), e))
}

/// `mv`.
pub const MV: Utility = Utility {
    name: "mv",
    summary: "move (rename) files",
    usage: "SOURCE... DEST\nRename SOURCE to DEST, or move SOURCE(s) into the directory DEST.\n",
    run: mv,
};

/// Where `source` goes for `mv`/`cp` to `dest`: into it if it is a
/// directory.
fn destination(source: &str, dest: &str, many: bool) -> String {
    let into = many || files::metadata(dest).is_ok_and(|m| m.kind == Kind::Dir);
    if into {
        let base = source
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(source);
        format!("{}/{base}", dest.trim_end_matches('/'))
    } else {
        dest.to_string()
    }
}

/// Source and destination operands, or a message and status.
fn two_or_more(io: &mut Io, operands: &[String], name: &str) -> Option<(Vec<String>, String)> {
    match operands {
        [] => {
            io.error(format_args!(
                "missing file operand\nTry '{name} --help' for more information."
            ));
            None
        }
        [one] => {
            io.error(format_args!(
                "missing destination file operand after '{one}'\nTry '{name} --help' for more information."
            ));
            None
        }
        [sources @ .., dest] => Some((sources.to_vec(), dest.clone())),
    }
}

fn mv(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "fv",
        valued: "",
        long: &[("force", 'f')],
    };
    let parsed = io.options(args, &spec, MV.usage, 1)?;
    let Some((sources, dest)) = two_or_more(io, &parsed.operands, "mv") else {
        return Ok(1);
    };
    let mut status = 0;
    for source in &sources {
        let target = destination(source, &dest, sources.len() > 1);
        let result = match files::rename(source, &target) {
            // Across file systems: copy, then remove.
            Err(FsError::CrossDevice) => copy_file(source, &target)
                .map_err(|(_, e)| e)
                .and_then(|()| files::remove_file(source)),
            other => other,
        };
        if let Err(error) = result {
            io.error(format_args!(
                "cannot move '{source}' to '{target}': {}",
                message(error)
            ));
            status = 1;
        }
    }
    Ok(status)
}

/// `cp`.
pub const CP: Utility = Utility {
    name: "cp",
    summary: "copy files and directories",
    usage: "[-r] SOURCE... DEST\nCopy SOURCE to DEST, or SOURCE(s) into the directory DEST.\n  -r, -R, --recursive  copy directories recursively\n",
    run: cp,
};

fn cp(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "rRfv",
        valued: "",
        long: &[("recursive", 'r')],
    };
    let parsed = io.options(args, &spec, CP.usage, 1)?;
    let recursive = parsed.has('r') || parsed.has('R');
    let Some((sources, dest)) = two_or_more(io, &parsed.operands, "cp") else {
        return Ok(1);
    };
    let mut status = 0;
    for source in &sources {
        let target = destination(source, &dest, sources.len() > 1);
        match files::metadata(source) {
            Err(error) => {
                io.error(format_args!("cannot stat '{source}': {}", message(error)));
                status = 1;
            }
            Ok(meta) if meta.kind == Kind::Dir => {
                if !recursive {
                    io.error(format_args!(
                        "-r not specified; omitting directory '{source}'"
                    ));
                    status = 1;
                } else if let Err((at, error)) = copy_tree(source, &target, 0) {
                    io.error(format_args!("cannot copy '{at}': {}", message(error)));
                    status = 1;
                }
            }
            Ok(_) => {
                if let Err((at, error)) = copy_file(source, &target) {
                    io.error(format_args!(
                        "cannot create regular file '{at}': {}",
                        message(error)
                    ));
                    status = 1;
                }
            }
        }
    }
    Ok(status)
}

/// Copies one file's bytes.
fn copy_file(source: &str, target: &str) -> Result<(), (String, FsError)> {
    let mut input = File::open_read(source).map_err(|e| (source.to_string(), e))?;
    let mut output = File::create(target).map_err(|e| (target.to_string(), e))?;
    let mut buf = alloc::vec![0u8; 16 * 1024];
    loop {
        let n = input.read(&mut buf).map_err(|e| (source.to_string(), e))?;
        if n == 0 {
            return Ok(());
        }
        output
            .write_all(&buf[..n])
            .map_err(|e| (target.to_string(), e))?;
    }
}

/// Copies a directory tree.
fn copy_tree(source: &str, target: &str, depth: usize) -> Result<(), (String, FsError)> {
    if depth > TREE_DEPTH_MAX {
        return Err((source.to_string(), FsError::NameTooLong));
    }
    match files::mkdir(target) {
        Ok(()) | Err(FsError::Exists) => {}
        Err(error) => return Err((target.to_string(), error)),
    }
    for entry in files::read_dir(source).map_err(|e| (source.to_string(), e))? {
        let from = format!("{source}/{}", entry.name);
        let to = format!("{target}/{}", entry.name);
        if entry.kind == Kind::Dir {
            copy_tree(&from, &to, depth + 1)?;
        } else {
            copy_file(&from, &to)?;
        }
    }
    Ok(())
}

/// `touch`.
pub const TOUCH: Utility = Utility {
    name: "touch",
    summary: "create empty files",
    usage: "[-c] FILE...\nCreate each FILE that does not exist, empty (Mica's files keep no times).\n  -c, --no-create  do not create any files\n",
    run: touch,
};

fn touch(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "ac",
        valued: "",
        long: &[("no-create", 'c')],
    };
    let parsed = io.options(args, &spec, TOUCH.usage, 1)?;
    if parsed.operands.is_empty() {
        io.error(format_args!(
            "missing file operand\nTry 'touch --help' for more information."
        ));
        return Ok(1);
    }
    let mut status = 0;
    for path in &parsed.operands {
        if parsed.has('c') || files::metadata(path).is_ok() {
            continue;
        }
        if let Err(error) = File::open(path, OpenFlags::WRITE | OpenFlags::CREATE) {
            io.error(format_args!("cannot touch '{path}': {}", message(error)));
            status = 1;
        }
    }
    Ok(status)
}

/// `stat`.
pub const STAT: Utility = Utility {
    name: "stat",
    summary: "display file status",
    usage: "FILE...\nDisplay the kind, size, id and links of each FILE.\n",
    run: stat,
};

fn stat(io: &mut Io, args: &[String]) -> Result<u64, Stop> {
    let spec = Spec {
        flags: "",
        valued: "",
        long: &[],
    };
    let parsed = io.options(args, &spec, STAT.usage, 1)?;
    if parsed.operands.is_empty() {
        io.error(format_args!(
            "missing operand\nTry 'stat --help' for more information."
        ));
        return Ok(1);
    }
    let mut status = 0;
    for path in &parsed.operands {
        match files::metadata(path) {
            Ok(meta) => {
                let kind = match meta.kind {
                    Kind::File if meta.size == 0 => "regular empty file",
                    Kind::File => "regular file",
                    Kind::Dir => "directory",
                    Kind::Pipe => "fifo",
                    Kind::Device => "character special file",
                    Kind::Symlink => "symbolic link",
                };
                io.print(&format!(
                    "  File: {path}\n  Size: {:<15} Blocks: {:<10} {kind}\n  Inode: {:<14} Links: {}\n",
                    meta.size,
                    meta.size.div_ceil(512),
                    meta.id,
                    meta.links
                ))?;
            }
            Err(error) => {
                io.error(format_args!("cannot statx '{path}': {}", message(error)));
                status = 1;
            }
        }
    }
    Ok(status)
}
