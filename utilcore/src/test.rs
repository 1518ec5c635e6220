//! `test` and `[` (POSIX XCU `test`): the expression over the arguments,
//! evaluated against the file system through [`Files`].
//!
//! POSIX decides by the number of arguments for up to four of them (so
//! `[ -n ]` is true: one non-empty argument; `[ ! = x ]` compares); with
//! more, a precedence parser: `!` binds tightest, then `-a`, then `-o`,
//! with `( ... )` for grouping.

use alloc::format;
use alloc::string::String;

/// What `test` asks of the file system.
pub trait Files {
    /// What `path` is: `None` if it does not exist.
    fn kind(&self, path: &str) -> Option<FileKind>;
    /// Its size in bytes.
    fn size(&self, path: &str) -> u64;
    /// Whether it can be written (not on a read-only file system).
    fn writable(&self, path: &str) -> bool;
}

/// The kinds of file `test` tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// Anything else (a pipe, a terminal).
    Other,
}

/// Evaluates `args` (without the closing `]`).
///
/// # Errors
/// A message for a malformed expression or a bad integer (`test` then
/// exits 2).
pub fn evaluate<S: AsRef<str>>(args: &[S], files: &dyn Files) -> Result<bool, String> {
    let args: alloc::vec::Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
    Eval {
        args: &args,
        pos: 0,
        files,
    }
    .by_count(0, args.len())
}

struct Eval<'a> {
    // `args` borrows for 'a; `next` hands out those borrows.
    args: &'a [&'a str],
    pos: usize,
    files: &'a dyn Files,
}

fn is_unary(op: &str) -> bool {
    matches!(
        op,
        "-n" | "-z"
            | "-e"
            | "-f"
            | "-d"
            | "-s"
            | "-r"
            | "-w"
            | "-x"
            | "-p"
            | "-h"
            | "-L"
            | "-S"
            | "-b"
            | "-c"
    )
}

fn is_binary(op: &str) -> bool {
    matches!(
        op,
        "=" | "==" | "!=" | "<" | ">" | "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"
    )
}

impl<'a> Eval<'a> {
    /// POSIX's rules by argument count, for `args[start..start+n]` that is
    /// the whole rest.
    fn by_count(&mut self, start: usize, n: usize) -> Result<bool, String> {
        let a = &self.args[start..];
        match n {
            0 => Ok(false),
            1 => Ok(!a[0].is_empty()),
            2 if a[0] == "!" => Ok(a[1].is_empty()),
            2 if is_unary(a[0]) => self.unary(a[0], a[1]),
            2 => Err(format!("{}: unary operator expected", a[0])),
            3 if is_binary(a[1]) => self.binary(a[0], a[1], a[2]),
            3 if a[1] == "-a" => Ok(!a[0].is_empty() && !a[2].is_empty()),
            3 if a[1] == "-o" => Ok(!a[0].is_empty() || !a[2].is_empty()),
            3 if a[0] == "!" => self.by_count(start + 1, 2).map(|v| !v),
            3 if a[0] == "(" && a[2] == ")" => Ok(!a[1].is_empty()),
            4 if a[0] == "!" => self.by_count(start + 1, 3).map(|v| !v),
            4 if a[0] == "(" && a[3] == ")" => self.by_count(start + 1, 2),
            _ => {
                self.pos = start;
                let value = self.or()?;
                match self.args.get(self.pos) {
                    None => Ok(value),
                    Some(extra) => Err(format!("{extra}: unexpected argument")),
                }
            }
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        let arg = self.args.get(self.pos).copied();
        if arg.is_some() {
            self.pos += 1;
        }
        arg
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.args.get(self.pos) == Some(&"-o") {
            self.pos += 1;
            let right = self.and()?;
            value = value || right;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.not()?;
        while self.args.get(self.pos) == Some(&"-a") {
            self.pos += 1;
            let right = self.not()?;
            value = value && right;
        }
        Ok(value)
    }

    fn not(&mut self) -> Result<bool, String> {
        if self.args.get(self.pos) == Some(&"!") {
            self.pos += 1;
            return self.not().map(|v| !v);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, String> {
        let Some(first) = self.next() else {
            return Err(String::from("argument expected"));
        };
        if first == "(" {
            let value = self.or()?;
            return match self.next() {
                Some(")") => Ok(value),
                _ => Err(String::from("')' expected")),
            };
        }
        if let Some(&op) = self.args.get(self.pos)
            && is_binary(op)
            && let Some(&right) = self.args.get(self.pos + 1)
        {
            self.pos += 2;
            return self.binary(first, op, right);
        }
        if is_unary(first)
            && let Some(operand) = self.next()
        {
            return self.unary(first, operand);
        }
        Ok(!first.is_empty())
    }

    fn unary(&self, op: &str, operand: &str) -> Result<bool, String> {
        let kind = || self.files.kind(operand);
        Ok(match op {
            "-n" => !operand.is_empty(),
            "-z" => operand.is_empty(),
            "-e" | "-r" => kind().is_some(),
            "-f" => kind() == Some(FileKind::File),
            "-d" => kind() == Some(FileKind::Directory),
            "-p" => kind() == Some(FileKind::Other),
            "-s" => kind().is_some() && self.files.size(operand) > 0,
            "-w" => kind().is_some() && self.files.writable(operand),
            // Any file may be tried as a program; directories are searched.
            "-x" => kind().is_some(),
            // No symbolic links, block or character devices, sockets.
            _ => false,
        })
    }

    fn binary(&self, left: &str, op: &str, right: &str) -> Result<bool, String> {
        let int = |text: &str| -> Result<i64, String> {
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("{text}: integer expression expected"))
        };
        Ok(match op {
            "=" | "==" => left == right,
            "!=" => left != right,
            "<" => left < right,
            ">" => left > right,
            _ => {
                let (l, r) = (int(left)?, int(right)?);
                match op {
                    "-eq" => l == r,
                    "-ne" => l != r,
                    "-lt" => l < r,
                    "-le" => l <= r,
                    "-gt" => l > r,
                    _ => l >= r,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Files for Fake {
        fn kind(&self, path: &str) -> Option<FileKind> {
            match path {
                "/bin" | "/tmp" => Some(FileKind::Directory),
                "/bin/sh" | "/tmp/empty" => Some(FileKind::File),
                _ => None,
            }
        }
        fn size(&self, path: &str) -> u64 {
            if path == "/bin/sh" { 100 } else { 0 }
        }
        fn writable(&self, path: &str) -> bool {
            path.starts_with("/tmp")
        }
    }

    fn t(args: &[&str]) -> Result<bool, String> {
        evaluate(args, &Fake)
    }

    #[test]
    fn by_count() {
        assert_eq!(t(&[]), Ok(false));
        assert_eq!(t(&[""]), Ok(false));
        assert_eq!(t(&["-n"]), Ok(true));
        assert_eq!(t(&["!", ""]), Ok(true));
        assert_eq!(t(&["-z", ""]), Ok(true));
        assert_eq!(t(&["a", "=", "a"]), Ok(true));
        assert_eq!(t(&["a", "!=", "a"]), Ok(false));
        assert_eq!(t(&["!", "=", "x"]), Ok(false));
        assert_eq!(t(&["!", "a", "=", "b"]), Ok(true));
        assert_eq!(t(&["(", "x", ")"]), Ok(true));
        assert!(t(&["a", "b"]).is_err());
    }

    #[test]
    fn integers_and_files() {
        assert_eq!(t(&["3", "-lt", "10"]), Ok(true));
        assert_eq!(t(&["-3", "-ge", "-3"]), Ok(true));
        assert_eq!(
            t(&["x", "-eq", "1"]),
            Err(String::from("x: integer expression expected"))
        );
        assert_eq!(t(&["-d", "/bin"]), Ok(true));
        assert_eq!(t(&["-f", "/bin"]), Ok(false));
        assert_eq!(t(&["-s", "/bin/sh"]), Ok(true));
        assert_eq!(t(&["-s", "/tmp/empty"]), Ok(false));
        assert_eq!(t(&["-e", "/nope"]), Ok(false));
        assert_eq!(t(&["-w", "/bin/sh"]), Ok(false));
    }

    #[test]
    fn connectives() {
        assert_eq!(t(&["a", "-a", "", "-o", "b"]), Ok(true));
        assert_eq!(t(&["-n", "a", "-a", "-z", "a"]), Ok(false));
        assert_eq!(t(&["!", "-d", "/bin", "-o", "-f", "/bin/sh"]), Ok(true));
        assert_eq!(t(&["(", "1", "-eq", "1", ")", "-a", "x"]), Ok(true));
        assert!(t(&["(", "1", "-eq", "1"]).is_err());
        assert!(t(&["1", "-eq"]).is_err());
        assert!(t(&["a", "b", "c", "d", "e"]).is_err());
    }
}
