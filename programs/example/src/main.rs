//! A Mica program to start from (README, "Your own program"): copy this
//! directory to `programs/NAME`, rename the package, add it to the
//! workspace's `members`, and `cargo xtask run` puts it in `/bin/NAME`.
//!
//! It shows the runtime's everyday calls: its arguments, writing and
//! reading a file in `/tmp`, starting a program and waiting for it, and
//! fork. Type `example` (or `example some words`) at the shell's prompt.
//! Every call returns a typed error, printed here the way a user reads it.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

use files::{File, eprintln, println};
use process::{Command, Fork, fork};

rt::entry!(main);

fn main() -> u64 {
    // `rt::println!` writes to standard output from here on too.
    files::stdio::install();
    let args: Vec<&str> = rt::process::args().collect();
    println!("example: {} argument(s): {:?}", args.len(), args);

    // A file in /tmp (ramfs): write it, read it back, remove it.
    let path = "/tmp/example.txt";
    let written = File::create(path).and_then(|mut file| file.write_all(b"hello, file\n"));
    if let Err(error) = written {
        eprintln!("example: {path}: {error}");
        return 1;
    }
    let mut text = Vec::new();
    match File::open_read(path).and_then(|mut file| file.read_to_end(&mut text)) {
        Ok(n) => println!(
            "example: read {n} bytes back: {:?}",
            core::str::from_utf8(&text)
        ),
        Err(error) => eprintln!("example: {path}: {error}"),
    }
    let _ = files::remove_file(path);

    // A child: /bin/echo with our standard streams; wait for its end.
    match Command::new("/bin/echo")
        .args(&["echo", "example: the child says hi"])
        .spawn()
    {
        Ok(child) => match child.wait() {
            Ok(end) => println!("example: child {} ended: {end}", child.pid().0),
            Err(error) => eprintln!("example: wait: {error}"),
        },
        Err(error) => eprintln!("example: /bin/echo: {error}"),
    }

    // fork: the copy exits with 7, the parent waits for it.
    match fork() {
        Ok(Fork::Child) => return 7,
        Ok(Fork::Parent(child)) => match child.wait() {
            Ok(end) => println!("example: forked child ended: {end}"),
            Err(error) => eprintln!("example: wait: {error}"),
        },
        Err(error) => eprintln!("example: fork: {error}"),
    }
    0
}
