//! Pure logic of Mica's shell built-ins and coreutils: plain Rust with no
//! I/O and no system calls, tested on the host with
//! `cargo test -p utilcore`. The programs (`programs/sh`,
//! `programs/coreutils`) read and write; this crate decides what.
//!
//! - [`errors`]: the GNU wording of each `FsError` (`No such file or
//!   directory`).
//! - [`opts`]: GNU-style option parsing (`-la`, `-n 3`, `-n3`, `--`,
//!   `--help`), with the GNU messages for bad options.
//! - [`echo`], [`test`]: the `echo` and `test`/`[` commands.
//! - [`text`]: `wc`, `head`, `tail`, `sort`, `uniq` and `seq` on bytes.
//! - [`regex`]: grep's matcher (`. * ^ $ [...]` and `\`), case folding.
//! - [`ls`]: `ls` output: one name a line, columns, and `-l` lines.
//! - [`jobspec`]: `%1`, `%%`, pids: which job a `fg`/`kill` argument names.
//!
//! No input panics: every function answers with a value or a typed error.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod echo;
pub mod errors;
pub mod jobspec;
pub mod ls;
pub mod opts;
pub mod regex;
pub mod test;
pub mod text;
