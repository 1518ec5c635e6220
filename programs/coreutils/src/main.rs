//! Mica's coreutils: one multi-call program. xtask installs it once as
//! `/bin/coreutils` and links every utility's name to it in the
//! initramfs (tar hard links, which initfs resolves), so `/bin/ls` and
//! `/bin/cat` are the same file; the program runs the utility its
//! `argv[0]` names (`coreutils NAME ARGS...` works too). Why one program
//! rather than one each is measured in docs/shell.md.
//!
//! Each utility takes `--help`, writes errors as `NAME: message` on
//! `stderr`, and exits 0, or non-zero as its GNU namesake does. A write
//! to a pipe nobody reads ends the utility quietly with status 141 (as
//! SIGPIPE would). The pure logic (options, counting, sorting, matching,
//! layout) is `utilcore`, tested on the host.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod fileutils;
mod io;
mod system;
mod textutils;

use alloc::string::String;
use alloc::vec::Vec;

use crate::io::{Io, Stop};

rt::entry!(main);

/// A utility: its name, a one-line summary, its usage text and its code.
pub struct Utility {
    /// Its name (and file name in /bin).
    pub name: &'static str,
    /// What it does, for `help`.
    pub summary: &'static str,
    /// `--help`'s text after the `Usage:` line's program name.
    pub usage: &'static str,
    /// Runs it with the arguments after its name.
    pub run: fn(&mut Io, &[String]) -> Result<u64, Stop>,
}

/// Every utility. xtask links `/bin/NAME` for each `name: "NAME"` it
/// finds in this crate's sources.
pub const UTILITIES: &[Utility] = &[
    fileutils::CAT,
    textutils::ECHO,
    system::CLEAR,
    fileutils::CP,
    system::DMESG,
    system::ENV,
    system::FALSE,
    system::FREE,
    textutils::GREP,
    textutils::HEAD,
    system::HELP,
    fileutils::LS,
    fileutils::MKDIR,
    fileutils::MV,
    system::PS,
    fileutils::RM,
    fileutils::RMDIR,
    textutils::SEQ,
    system::SLEEP,
    textutils::SORT,
    fileutils::STAT,
    textutils::TAIL,
    fileutils::TEE,
    fileutils::TOUCH,
    system::TRUE,
    system::UNAME,
    textutils::UNIQ,
    system::UPTIME,
    textutils::WC,
    textutils::YES,
];

fn main() -> u64 {
    let args: Vec<String> = rt::process::args().map(String::from).collect();
    let arg0 = args.first().map_or("coreutils", String::as_str);
    let mut name = arg0.rsplit('/').next().unwrap_or(arg0);
    let mut rest = args.get(1..).unwrap_or(&[]);
    if name == "coreutils" {
        match rest.first() {
            Some(first) if first != "--help" => {
                name = first.as_str();
                rest = &rest[1..];
            }
            _ => name = "help",
        }
    }
    let utility = UTILITIES.iter().find(|u| u.name == name);
    let mut io = Io::new(utility.map_or("coreutils", |u| u.name));
    let status = match utility {
        Some(utility) => match (utility.run)(&mut io, rest) {
            Ok(status) => status,
            Err(stop) => io.stopped(stop),
        },
        None => {
            io.error(format_args!("{name}: no such utility (try 'help')"));
            127
        }
    };
    io.finish(status)
}
