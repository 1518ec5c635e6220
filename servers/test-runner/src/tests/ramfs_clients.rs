//! One ramfs file, several programs: two programs (`probe`, each in its
//! own address space, not threads of the runner) writing the same file in
//! /tmp interleaved, with `write_at` to disjoint ranges and with plain
//! `write` through one open file whose capability both hold; and a file
//! one program writes that another reads back. Each checks the contents
//! exactly and that every frame comes back.

use alloc::format;
use alloc::vec::Vec;

use abi::Rights;
use abi::startup::handle::{CLIENT, FILE};
use files::{File, OpenFlags};
use rt::Handle;
use rt::spawn::{Child, ExitStatus, Grant, Spawn};

use super::TestResult;
use super::spawn::program;
use super::supervision::granted;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// `probe`'s `write-at` run, in bytes (`RUN_BYTES` there).
const RUN_BYTES: usize = 256;
/// `probe`'s `write-out` write, in bytes (`WRITE_BYTES` there).
const WRITE_BYTES: usize = 100;

/// Starts `probe` with `args`, the ramfs root (so its namespace has
/// /tmp) and, if given, `out` as its inherited file `out`.
fn probe(args: &[&str], out: Option<&File>) -> Result<Child, super::Failure> {
    let root = granted(CLIENT, "ramfs")?;
    let mut grants = Vec::new();
    grants.push(Grant {
        name: "ramfs",
        ..Grant::new(root.slot(), Rights::WRITE | Rights::GRANT, CLIENT)
    });
    // A new capability to the same open object: the child owns it and
    // closes it; ours is deleted without closing the object.
    let given = match out {
        Some(file) => Some(file.dup("").map_err(|_| fail())?.into_endpoint()),
        None => None,
    };
    if let Some(given) = &given {
        grants.push(Grant {
            name: "out",
            ..Grant::new(given.slot(), Rights::WRITE | Rights::GRANT, FILE)
        });
    }
    let child = Spawn::new(program("bin/probe").ok_or_else(fail)?)
        .args(args)
        .grants(&grants)
        .spawn()
        .map_err(|_| fail())?;
    drop((root, given));
    Ok(child)
}

/// A scratch directory of its own under /tmp.
fn scratch(name: &str) -> Result<alloc::string::String, super::Failure> {
    let dir = format!("/tmp/{name}");
    let _ = files::remove_dir(&dir);
    files::mkdir(&dir).map_err(|_| fail())?;
    Ok(dir)
}

fn read_all(path: &str) -> Result<Vec<u8>, super::Failure> {
    let mut out = Vec::new();
    File::open_read(path)
        .and_then(|mut file| file.read_to_end(&mut out))
        .map_err(|_| fail())?;
    Ok(out)
}

/// Byte `index` of the pattern `seed` (`probe`'s `pattern`).
fn pattern(seed: u64, index: usize) -> u8 {
    ((index as u64).wrapping_mul(31).wrapping_add(seed) % 251) as u8
}

/// Two programs `write_at` alternate runs of one file at once (A the
/// even runs, B the odd ones): every run lands, none covers another.
/// Frames counted on the second round.
pub fn two_programs_write_at() -> TestResult {
    write_at_round()?;
    let before = free_frames()?;
    write_at_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn write_at_round() -> TestResult {
    const RUNS: usize = 40;
    let dir = scratch("clients-write-at")?;
    let path = format!("{dir}/f");
    // Made first, so that neither program's open races the other's create.
    drop(File::create(&path).map_err(|_| fail())?);
    let odd = format!("{RUN_BYTES}");
    let runs = format!("{RUNS}");
    let mut a = probe(&["probe", "write-at", &path, "0", "65", &runs], None)?;
    let mut b = probe(&["probe", "write-at", &path, &odd, "66", &runs], None)?;
    ensure_eq!(a.wait(), Ok(ExitStatus::Exited(0)));
    ensure_eq!(b.wait(), Ok(ExitStatus::Exited(0)));
    let got = read_all(&path)?;
    ensure_eq!(got.len(), 2 * RUNS * RUN_BYTES);
    for (index, run) in got.chunks(RUN_BYTES).enumerate() {
        let byte = if index % 2 == 0 { 65 } else { 66 };
        ensure!(run.iter().all(|&b| b == byte));
    }
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_dir(&dir).map_err(|_| fail())?;
    drop((a, b));
    Ok(())
}

/// Two programs `write` through one open file (each holds a capability
/// to the same open object, so they share its offset): no write covers
/// another, the file is the writes one after the other, each whole.
/// (They do interleave: a trial run saw the writer change 97 times in 99.)
/// Frames counted on the second round.
pub fn two_programs_share_an_offset() -> TestResult {
    shared_offset_round()?;
    let before = free_frames()?;
    shared_offset_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn shared_offset_round() -> TestResult {
    const WRITES: usize = 50;
    let dir = scratch("clients-shared")?;
    let path = format!("{dir}/f");
    let mut file = File::open(&path, OpenFlags::WRITE | OpenFlags::CREATE).map_err(|_| fail())?;
    // The runner writes first: the programs go on from its offset.
    ensure_eq!(file.write(b"head"), Ok(4));
    let writes = format!("{WRITES}");
    let mut a = probe(&["probe", "write-out", "97", &writes], Some(&file))?;
    let mut b = probe(&["probe", "write-out", "98", &writes], Some(&file))?;
    ensure_eq!(a.wait(), Ok(ExitStatus::Exited(0)));
    ensure_eq!(b.wait(), Ok(ExitStatus::Exited(0)));
    ensure_eq!(file.write(b"tail"), Ok(4));
    drop(file);
    let got = read_all(&path)?;
    ensure_eq!(got.len(), 4 + 2 * WRITES * WRITE_BYTES + 4);
    ensure_eq!(&got[..4], b"head");
    ensure_eq!(&got[got.len() - 4..], b"tail");
    let body = &got[4..got.len() - 4];
    let mut counts = [0usize; 2];
    for write in body.chunks(WRITE_BYTES) {
        ensure!(write.iter().all(|&b| b == write[0]));
        ensure!(write[0] == 97 || write[0] == 98);
        counts[usize::from(write[0] - 97)] += 1;
    }
    ensure_eq!(counts, [WRITES, WRITES]);
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_dir(&dir).map_err(|_| fail())?;
    drop((a, b));
    Ok(())
}

/// A file one program writes (20,000 bytes, past one message) and closes
/// is what another program reads back, and what the runner reads.
pub fn one_program_writes_another_reads() -> TestResult {
    write_then_read_round()?;
    let before = free_frames()?;
    write_then_read_round()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn write_then_read_round() -> TestResult {
    let dir = scratch("clients-pass")?;
    let path = format!("{dir}/f");
    let mut writer = probe(&["probe", "fill", &path, "7", "20000"], None)?;
    ensure_eq!(writer.wait(), Ok(ExitStatus::Exited(0)));
    let mut reader = probe(&["probe", "check", &path, "7", "20000"], None)?;
    ensure_eq!(reader.wait(), Ok(ExitStatus::Exited(0)));
    // The check fails on other contents.
    let mut wrong = probe(&["probe", "check", &path, "8", "20000"], None)?;
    ensure_eq!(wrong.wait(), Ok(ExitStatus::Exited(1)));
    let got = read_all(&path)?;
    ensure!(got.len() == 20_000);
    ensure!(got.iter().enumerate().all(|(i, &b)| b == pattern(7, i)));
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_dir(&dir).map_err(|_| fail())?;
    drop((writer, reader, wrong));
    Ok(())
}
