//! Programs loaded from their ELF files in the initramfs (`rt::spawn`):
//! every program there, a static C program built with gcc, arguments and
//! environment, exit statuses, panics, faults and budgets, hostile files
//! refused with their own error, and every frame back afterwards.

use alloc::string::ToString;
use alloc::vec::Vec;

use abi::CapSlot;
use elfload::ElfError;
use rt::spawn::{ElfFile, ExitStatus, Spawn, SpawnError};

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// The initramfs as a byte slice, and the offset of its first byte in its
/// memory object.
fn initramfs() -> (&'static [u8], u64) {
    let boot = super::boot();
    let bytes = rt::start::initramfs().unwrap_or(&[]);
    (bytes, boot.initramfs_addr % abi::layout::PAGE_BYTES)
}

/// A file of the initramfs, backed by the initramfs object.
pub fn program(path: &str) -> Option<ElfFile<'static>> {
    let (archive, base) = initramfs();
    let bytes = kcore::tar::find(archive, path).ok()?;
    let offset = bytes.as_ptr() as u64 - archive.as_ptr() as u64 + base;
    Some(ElfFile {
        bytes,
        backing: Some((CapSlot(super::boot().initramfs_cap), offset)),
    })
}

/// Spawns and waits, with ASLR on or off.
fn run(path: &str, args: &[&str], env: &[&str], aslr: bool) -> Result<ExitStatus, SpawnError> {
    let file = program(path).ok_or(SpawnError::Kernel(abi::SysError::InvalidArg))?;
    let mut child = Spawn::new(file)
        .args(args)
        .env(env)
        .aslr(aslr)
        .entropy(entropy())
        .spawn()?;
    // A child that neither exits nor faults fails the test, not the run.
    let deadline = rt::time::deadline_after(rt::time::Duration::from_secs(20));
    child.wait_until(deadline).map_err(SpawnError::Kernel)
}

/// Some entropy for the children's layout.
fn entropy() -> [u64; 4] {
    let boot = super::boot();
    let t = rt::time::now_ns();
    [
        boot.entropy[0] ^ t,
        boot.entropy[1].rotate_left(17) ^ t,
        boot.entropy[2],
        boot.entropy[3],
    ]
}

/// The smallest program exits with its argument count, with and without
/// ASLR.
pub fn tiny_exits() -> TestResult {
    for aslr in [false, true] {
        ensure_eq!(run("bin/tiny", &[], &[], aslr), Ok(ExitStatus::Exited(0)));
        ensure_eq!(
            run("bin/tiny", &["tiny", "a", "b"], &[], aslr),
            Ok(ExitStatus::Exited(3))
        );
    }
    Ok(())
}

/// Arguments and environment arrive as given.
pub fn args_and_env() -> TestResult {
    let status = run(
        "bin/probe",
        &["probe", "args"],
        &["A=1", "HOME=/", "B="],
        false,
    );
    ensure_eq!(status, Ok(ExitStatus::Exited(203)));
    let status = run("bin/probe", &["probe", "exit", "77"], &[], true);
    ensure_eq!(status, Ok(ExitStatus::Exited(77)));
    // A NUL inside an argument cannot be passed.
    let file = program("bin/probe").ok_or_else(|| fail())?;
    let refused = Spawn::new(file).args(&["probe", "a\0b"]).spawn().err();
    ensure_eq!(
        refused,
        Some(SpawnError::Setup(elfload::SetupError::NulInString))
    );
    Ok(())
}

/// A panic in a second thread ends the whole process with status 101.
pub fn panic_ends_process() -> TestResult {
    ensure_eq!(
        run("bin/probe", &["probe", "panic-thread"], &[], true),
        Ok(ExitStatus::Exited(rt::process::PANIC_STATUS))
    );
    Ok(())
}

/// Threads, thread-local values and locks in a loaded program.
pub fn threads_in_child() -> TestResult {
    ensure_eq!(
        run("bin/probe", &["probe", "threads"], &[], true),
        Ok(ExitStatus::Exited(0))
    );
    Ok(())
}

/// A child whose budget runs out gets an allocation error, not a fault,
/// and the parent gets every frame back.
pub fn heap_exhaustion() -> TestResult {
    // The same path once first, so that the parent's own heap has grown.
    ensure_eq!(
        run("bin/probe", &["probe", "exit", "0"], &[], false),
        Ok(ExitStatus::Exited(0))
    );
    let before = free_frames()?;
    let file = program("bin/probe").ok_or_else(|| fail())?;
    let mut child = Spawn::new(file)
        .args(&["probe", "heap-exhaust"])
        .budget(1500)
        .spawn()
        .map_err(|_| fail())?;
    ensure_eq!(child.wait(), Ok(ExitStatus::Exited(0)));
    drop(child);
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A static C program built by gcc loads and runs, its TLS and bss as the
/// compiler expects; when it crashes the parent sees the fault.
pub fn c_program() -> TestResult {
    ensure_eq!(
        run("bin/c-hello", &["c-hello", "x"], &[], true),
        Ok(ExitStatus::Exited(44))
    );
    match run("bin/c-hello", &["c-hello", "crash"], &[], false) {
        Ok(ExitStatus::Faulted { vector, addr, .. }) => {
            ensure_eq!(vector, 14);
            ensure_eq!(addr, 0x10);
        }
        other => {
            rt::println!("    got {other:?}");
            return Err(fail());
        }
    }
    Ok(())
}

/// Every program in `bin/` of the initramfs loads (each is started and
/// killed, or run to its end).
pub fn every_program_loads() -> TestResult {
    let (archive, _) = initramfs();
    let mut names = Vec::new();
    for entry in kcore::tar::entries(archive) {
        // Every member of the image is one the reader represents.
        let entry = entry.map_err(|e| {
            rt::println!("    initramfs: {e}");
            fail()
        })?;
        let mut components = entry.path.components();
        if entry.is_regular_file() && components.next() == Some(b"bin") {
            names.push(entry.path.to_string());
        }
    }
    ensure!(names.len() >= 3);
    for name in &names {
        let file = program(name).ok_or_else(|| fail())?;
        let child = Spawn::new(file).args(&[name.as_str(), "sleep"]).spawn();
        if let Err(e) = &child {
            rt::println!("    {name}: {e}");
        }
        ensure!(child.is_ok());
    }
    Ok(())
}

/// Hostile files are refused before anything is mapped, each with its own
/// error.
pub fn hostile_files() -> TestResult {
    let good = program("bin/tiny").ok_or_else(|| fail())?.bytes.to_vec();
    let before = free_frames()?;
    let mut cases: Vec<(Vec<u8>, ElfError)> = Vec::new();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.clone();
        f(&mut bytes);
        bytes
    };
    let phoff = u64::from_le_bytes(good[32..40].try_into().map_err(|_| fail())?) as usize;
    let phnum = u16::from_le_bytes([good[56], good[57]]) as usize;
    let load = (0..phnum)
        .map(|i| phoff + 56 * i)
        .find(|&at| good[at..at + 4] == [1, 0, 0, 0])
        .ok_or_else(|| fail())?;
    cases.push((good[..40].to_vec(), ElfError::TooShort));
    cases.push((with(&|b| b[0] = 0), ElfError::BadMagic));
    cases.push((with(&|b| b[5] = 2), ElfError::NotLittleEndian));
    cases.push((with(&|b| b[18] = 3), ElfError::WrongMachine));
    cases.push((with(&|b| b[16] = 1), ElfError::NotExecutable));
    cases.push((with(&|b| b[54] = 32), ElfError::BadPhentsize));
    cases.push((
        with(&|b| b[56..58].copy_from_slice(&[0, 0])),
        ElfError::NoProgramHeaders,
    ));
    cases.push((
        with(&|b| b[32..40].copy_from_slice(&(u64::MAX - 8).to_le_bytes())),
        ElfError::PhdrsOutOfFile,
    ));
    // p_filesz past the end of the file.
    cases.push((
        with(&|b| b[load + 32..load + 40].copy_from_slice(&(1u64 << 40).to_le_bytes())),
        ElfError::SegmentOutOfFile,
    ));
    // p_align 3.
    cases.push((
        with(&|b| b[load + 48..load + 56].copy_from_slice(&3u64.to_le_bytes())),
        ElfError::BadAlignment,
    ));
    // The segment in the kernel half.
    cases.push((
        with(&|b| {
            b[load + 16..load + 24].copy_from_slice(&0xffff_8000_0000_0000u64.to_le_bytes());
            b[load + 48..load + 56].copy_from_slice(&0u64.to_le_bytes());
        }),
        ElfError::AboveUserEnd,
    ));
    // Writable and executable.
    cases.push((
        with(&|b| b[load + 4] |= 2 | 1),
        ElfError::WritableAndExecutable,
    ));
    // The entry point outside every executable segment.
    cases.push((
        with(&|b| b[24..32].copy_from_slice(&0x10u64.to_le_bytes())),
        ElfError::EntryNotExecutable,
    ));
    // A dynamic executable: turn the first header into PT_INTERP.
    cases.push((
        with(&|b| b[phoff..phoff + 4].copy_from_slice(&3u32.to_le_bytes())),
        ElfError::NeedsInterpreter,
    ));
    for (bytes, expected) in &cases {
        let file = ElfFile {
            bytes,
            backing: None,
        };
        let got = Spawn::new(file).spawn().err();
        if got != Some(SpawnError::Elf(*expected)) {
            rt::println!("    expected {expected:?}, got {got:?}");
            return Err(fail());
        }
    }
    drop(cases);
    // A copy without the initramfs behind it loads by copying everything.
    let file = ElfFile {
        bytes: &good,
        backing: None,
    };
    let mut child = Spawn::new(file)
        .args(&["tiny", "1"])
        .spawn()
        .map_err(|_| fail())?;
    ensure_eq!(child.wait(), Ok(ExitStatus::Exited(2)));
    drop(child);
    drop(good);
    ensure!(free_frames()? <= before);
    Ok(())
}

/// A hundred spawns and kills, of running and of sleeping children, give
/// every frame back.
pub fn frames_come_back() -> TestResult {
    // Warm up: the heap and the scratch page tables settle first.
    for _ in 0..4 {
        ensure_eq!(run("bin/tiny", &[], &[], false), Ok(ExitStatus::Exited(0)));
    }
    let before = free_frames()?;
    for i in 0..100 {
        let file = program("bin/probe").ok_or_else(|| fail())?;
        let child = Spawn::new(file)
            .args(&["probe", "sleep"])
            .aslr(i % 2 == 0)
            .spawn()
            .map_err(|_| fail())?;
        if i % 3 == 0 {
            rt::thread::yield_now();
        }
        child.kill();
        ensure_eq!(
            run("bin/tiny", &[], &[], i % 2 == 1),
            Ok(ExitStatus::Exited(0))
        );
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// `Spawn::services`: a service is passed on only if its slot holds an
/// endpoint the caller may grant (one without GRANT, a notification and an
/// empty slot are skipped, their slots left empty in the child), with the
/// rights it has among those asked; the grants follow every service's
/// slot. The child (`probe caps`) reports every capability it holds.
pub fn services_checked() -> TestResult {
    use abi::startup::handle::CLIENT;
    use abi::{ObjectType, Rights};
    use rt::Handle;
    use rt::ipc::Message;
    use rt::spawn::Grant;

    use super::support::{budget, must};
    // Warm up: the heap and the scratch page tables settle first.
    for _ in 0..2 {
        ensure_eq!(run("bin/tiny", &[], &[], false), Ok(ExitStatus::Exited(0)));
    }
    let before = free_frames()?;
    let report = must(rt::sys::endpoint_create(budget()))?;
    let good = must(rt::sys::endpoint_create(budget()))?;
    let no_grant = must(rt::sys::cap_copy(good, Rights::WRITE))?;
    let write_only = must(rt::sys::cap_copy(good, Rights::WRITE | Rights::GRANT))?;
    let notification = must(rt::sys::notification_create(budget()))?;
    let client = Rights::WRITE | Rights::GRANT;
    let service = |slot, name| Grant {
        slot,
        rights: client,
        kind: CLIENT,
        name,
    };
    let services = [
        Grant {
            rights: Rights::all(),
            ..service(good, "good")
        },
        service(no_grant, "no-grant"),
        service(notification, "notification"),
        service(CapSlot(3990), "empty"),
        Grant {
            rights: Rights::GRANT,
            ..service(write_only, "masked")
        },
    ];
    let grants = [service(report, "report")];
    let file = program("bin/probe").ok_or_else(fail)?;
    let mut child = Spawn::new(file)
        .args(&["probe", "caps"])
        .services(&services)
        .grants(&grants)
        .aslr(false)
        .spawn()
        .map_err(|_| fail())?;
    let endpoint = rt::ipc::Endpoint::from_raw(report);
    let mut message = Message::new(0);
    let mut seen = Vec::new();
    loop {
        endpoint.recv(&mut message).map_err(|_| fail())?;
        let (label, words) = (
            message.label(),
            [message.word(0), message.word(1), message.word(2)],
        );
        rt::ipc::reply(&Message::new(0)).map_err(|_| fail())?;
        if label == 2 {
            break;
        }
        seen.push(words);
    }
    ensure_eq!(child.wait(), Ok(ExitStatus::Exited(0)));
    // Its budget goes back with it.
    drop(child);
    core::mem::forget(endpoint);
    let held = |slot: u64| seen.iter().find(|w| w[0] == slot).map(|w| (w[1], w[2]));
    let endpoint_type = u64::from(ObjectType::Endpoint.to_reg() as u32);
    // The first service, with every right it was asked for that it has.
    ensure_eq!(
        held(8),
        Some((endpoint_type, u64::from(Rights::all().bits())))
    );
    for skipped in 9..12 {
        ensure_eq!(held(skipped), None);
    }
    // The mask leaves GRANT only.
    ensure_eq!(
        held(12),
        Some((endpoint_type, u64::from(Rights::GRANT.bits())))
    );
    // The grant after every service's slot.
    ensure_eq!(held(13), Some((endpoint_type, u64::from(client.bits()))));
    for slot in [report, good, no_grant, write_only, notification] {
        ensure_eq!(rt::sys::cap_delete(slot), Ok(()));
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// A fork passes on a service only while its slot holds an endpoint the
/// caller may grant: `probe fork-caps ramfs echo` puts a notification in
/// the slot of its service `echo` and forks; its child finds `ramfs` and
/// nothing at `echo`'s slot.
pub fn fork_services_checked() -> TestResult {
    let run_once = || -> Result<(), super::Failure> {
        let child = process::Command::new("/bin/probe")
            .args(&["probe", "fork-caps", "ramfs", "echo"])
            .spawn()
            .map_err(|_| fail())?;
        ensure_eq!(child.wait(), Ok(process::End::Exited(0)));
        Ok(())
    };
    run_once()?;
    let before = free_frames()?;
    run_once()?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}
