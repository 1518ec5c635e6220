//! The smallest Mica program: it starts, and exits with the number of its
//! arguments (so a parent can tell it ran with what it was given). The
//! `spawn_exit` benchmark loads it again and again.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

rt::entry!(main);

fn main() -> u64 {
    rt::process::args().count() as u64
}
