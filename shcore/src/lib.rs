//! Pure logic of Mica's shell language, for the POSIX-like `sh`: plain Rust
//! with no I/O and no system calls, tested on the host with
//! `cargo test -p shcore`.
//!
//! - [`ast`]: the syntax tree (lists, pipelines, simple and compound
//!   commands, redirections, words made of quoted and unquoted parts).
//! - [`parse`] ([`parser`], over the lexer's [`token`]s): text to tree,
//!   or a [`ParseError`] that is either [`ParseError::Incomplete`] (prompt
//!   for another line) or [`ParseError::Syntax`].
//! - [`print`]: `Display` for the tree, printing text that parses back to
//!   the same tree.
//! - [`expand`]: a word to fields (parameters, arithmetic, command
//!   substitution, quote removal, field splitting, `"$@"`, tilde) against
//!   an [`Env`] the shell implements.
//! - [`arith`]: the expressions of arithmetic expansion `$((...))`.
//! - [`glob`]: pathname pattern matching (`*`, `?`, `[...]`) of one name.
//! - [`complete`]: which word a cursor is in and whether it names a command.
//!
//! What the language covers and leaves out is in `docs/shell.md`. Every
//! input gives a tree or an error, never a panic; nesting is bounded by
//! [`error::MAX_DEPTH`] and the lexer and parser are linear in the input.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod arith;
pub mod ast;
pub mod complete;
pub mod error;
pub mod expand;
pub mod glob;
mod lexer;
pub mod parser;
pub mod print;
pub mod token;

pub use error::{Incomplete, Missing, ParseError, SyntaxError, SyntaxErrorKind};
pub use expand::{Env, ExpandError, Field};
pub use parser::parse;
