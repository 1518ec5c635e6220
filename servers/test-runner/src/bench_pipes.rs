//! The pipe rows, timed as `bench/linux/bench.c` times them on Linux,
//! between this program and a `bin/probe` child through `servers/pipe`:
//!
//! - `pipe_pingpong`: one byte to the child (`probe cat`) and the same
//!   byte back, through two pipes;
//! - `pipe_throughput_64k`: 64 KiB written into a pipe and read by the
//!   child (`probe sink 65536`), until its one-byte acknowledgement comes
//!   back. The 64 KiB go through the ends' data areas (`files::area`).

use abi::Rights;
use abi::startup::handle::FILE;
use files::File;
use rt::Handle;
use rt::spawn::{Child, Grant, Spawn};

use crate::bench::{measure, measure_after, report};

/// Samples of `pipe_pingpong`.
const PINGPONG_SAMPLES: usize = 1000;
/// Samples of `pipe_throughput_64k`.
const THROUGHPUT_SAMPLES: usize = 50;

/// A new pipe: read end, write end.
fn pipe() -> Option<(File, File)> {
    let read = File::open_read("pipe:").ok()?;
    let write = read.dup("write").ok()?;
    Some((read, write))
}

/// Starts `bin/probe` with `args`, its `stdin` and `stdout` ends given
/// (new capabilities to them; ours stay ours).
fn start(args: &[&str], stdin: &File, stdout: &File) -> Option<Child> {
    let input = stdin.dup("").ok()?.into_endpoint();
    let output = stdout.dup("").ok()?.into_endpoint();
    let grant = |slot, name| Grant {
        slot,
        rights: Rights::WRITE | Rights::GRANT,
        kind: FILE,
        name,
    };
    let grants = [grant(input.slot(), "stdin"), grant(output.slot(), "stdout")];
    Spawn::new(crate::tests::spawn::program("bin/probe")?)
        .args(args)
        .grants(&grants)
        .aslr(false)
        .spawn()
        .ok()
}

/// Both pipe rows, or a line saying why they cannot run.
pub fn rows(unit: &str, samples: &mut [u64], overhead: u64) {
    if pingpong(unit, &mut samples[..PINGPONG_SAMPLES], overhead).is_none() {
        rt::println!("bench: pipe_pingpong could not run");
    }
    if throughput(unit, &mut samples[..THROUGHPUT_SAMPLES], overhead).is_none() {
        rt::println!("bench: pipe_throughput_64k could not run");
    }
}

fn pingpong(unit: &str, samples: &mut [u64], overhead: u64) -> Option<()> {
    let (to_read, mut to_write) = pipe()?;
    let (mut from_read, from_write) = pipe()?;
    let mut child = start(&["probe", "cat"], &to_read, &from_write)?;
    drop((to_read, from_write));
    let mut byte = [0u8; 1];
    let mut ok = true;
    measure(samples, overhead, || {
        ok &= to_write.write(b"x") == Ok(1);
        ok &= from_read.read(&mut byte) == Ok(1);
    });
    drop(to_write);
    let ended = child.wait().ok()?;
    (ok && ended == rt::spawn::ExitStatus::Exited(0)).then_some(())?;
    report("pipe_pingpong", unit, samples);
    Some(())
}

fn throughput(unit: &str, samples: &mut [u64], overhead: u64) -> Option<()> {
    let (to_read, mut to_write) = pipe()?;
    let (mut from_read, from_write) = pipe()?;
    let mut child = start(&["probe", "sink", "65536"], &to_read, &from_write)?;
    drop((to_read, from_write));
    let data = [0x5au8; 64 * 1024];
    let mut ack = [0u8; 1];
    let mut ok = true;
    measure_after(5, samples, overhead, || {
        ok &= to_write.write_all(&data).is_ok();
        ok &= from_read.read(&mut ack) == Ok(1);
    });
    drop(to_write);
    let ended = child.wait().ok()?;
    (ok && ended == rt::spawn::ExitStatus::Exited(0)).then_some(())?;
    report("pipe_throughput_64k", unit, samples);
    Some(())
}
