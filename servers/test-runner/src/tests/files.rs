//! The file API (`files`) on initfs, the read-only file system of the
//! initramfs: every operation, each documented error, paths that try to
//! climb above `/`, capabilities that outlive their object, and a server
//! that cannot be talked into serving what it should not.

use alloc::string::String;
use alloc::vec::Vec;

use abi::startup::handle::CLIENT;
use abi::{Rights, SysError};
use files::{File, FsError, Kind, OpenFlags, SeekFrom};
use protocols::file::FileClient;
use rt::handle::Handle;
use rt::spawn::{ExitStatus, Grant, Spawn};

use super::TestResult;
use super::spawn::program;
use super::supervision::granted;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// The bytes of `path` in the initramfs, as the archive holds them.
fn archived(path: &str) -> Result<&'static [u8], super::Failure> {
    let archive = rt::start::initramfs().ok_or_else(fail)?;
    kcore::tar::find(archive, path).map_err(|_| fail())
}

/// Whether all of `path`, read through its server, is `expected`.
fn reads_as(path: &str, expected: &[u8]) -> Result<bool, FsError> {
    Ok(read_all(path)? == expected)
}

/// Reads all of `path` through its server.
fn read_all(path: &str) -> Result<Vec<u8>, FsError> {
    let mut file = File::open_read(path)?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)?;
    Ok(out)
}

/// A file comes back byte for byte, through every way of naming it.
pub fn initfs_reads_files() -> TestResult {
    let expected = archived("bin/echo-server")?;
    ensure!(expected.len() > 4096);
    ensure_eq!(reads_as("/bin/echo-server", expected), Ok(true));
    // `..` at the root stays at the root; `.` and repeated slashes go.
    ensure_eq!(
        reads_as("/../../bin/./../bin//echo-server", expected),
        Ok(true)
    );
    ensure_eq!(reads_as("initfs:bin/echo-server", expected), Ok(true));
    ensure_eq!(reads_as("initfs:../../bin/echo-server", expected), Ok(true));
    Ok(())
}

/// Offsets: read moves it, read_at does not, seek from each end, and a
/// dup shares it.
pub fn initfs_offsets_and_dup() -> TestResult {
    let expected = archived("bin/echo-server")?;
    let mut file = File::open_read("/bin/echo-server").map_err(|_| fail())?;
    let mut buf = [0u8; 100];
    ensure_eq!(file.read(&mut buf), Ok(100));
    ensure_eq!(&buf[..], &expected[..100]);
    ensure_eq!(file.read_at(1000, &mut buf), Ok(100));
    ensure_eq!(&buf[..], &expected[1000..1100]);
    let mut twin = file.dup("").map_err(|_| fail())?;
    ensure_eq!(twin.read(&mut buf), Ok(100));
    ensure_eq!(&buf[..], &expected[100..200]);
    ensure_eq!(file.seek(SeekFrom::Current(0)), Ok(200));
    ensure_eq!(
        file.seek(SeekFrom::End(-10)),
        Ok(expected.len() as u64 - 10)
    );
    ensure_eq!(file.read(&mut buf), Ok(10));
    ensure_eq!(file.read(&mut buf), Ok(0));
    ensure_eq!(
        file.seek(SeekFrom::Current(-1_000_000_000)),
        Err(FsError::InvalidArgument)
    );
    ensure_eq!(file.seek(SeekFrom::Start(5)), Ok(5));
    // Past the end: reads give nothing.
    ensure_eq!(file.seek(SeekFrom::Start(1 << 40)), Ok(1 << 40));
    ensure_eq!(file.read(&mut buf), Ok(0));
    let meta = file.metadata().map_err(|_| fail())?;
    ensure_eq!((meta.kind, meta.size), (Kind::File, expected.len() as u64));
    ensure_eq!(twin.dup("write").map(|_| ()), Err(FsError::InvalidArgument));
    Ok(())
}

/// Directories list what the archive holds.
pub fn initfs_lists_directories() -> TestResult {
    let root = files::read_dir("/").map_err(|_| fail())?;
    ensure!(root.iter().any(|e| e.name == "bin" && e.kind == Kind::Dir));
    ensure!(root.iter().any(|e| e.name == "etc" && e.kind == Kind::Dir));
    // The mount points in `/` are listed too, in name order.
    ensure!(root.iter().any(|e| e.name == "tmp" && e.kind == Kind::Dir));
    ensure!(root.iter().any(|e| e.name == "dev" && e.kind == Kind::Dir));
    ensure!(root.windows(2).all(|w| w[0].name < w[1].name));
    let bin = files::read_dir("/bin").map_err(|_| fail())?;
    for name in ["echo-server", "initfs", "serial", "test-runner"] {
        ensure!(bin.iter().any(|e| e.name == name && e.kind == Kind::File));
    }
    let mut sorted: Vec<String> = bin.iter().map(|e| e.name.clone()).collect();
    sorted.sort();
    ensure!(bin.iter().map(|e| &e.name).eq(sorted.iter()));
    let meta = files::metadata("/bin").map_err(|_| fail())?;
    ensure_eq!((meta.kind, meta.size), (Kind::Dir, bin.len() as u64));
    ensure_eq!(
        files::metadata("/bin/initfs").map(|m| m.kind),
        Ok(Kind::File)
    );
    Ok(())
}

/// Each documented error of initfs.
pub fn initfs_errors() -> TestResult {
    use FsError::*;
    let open = |path: &str, flags| File::open(path, flags).map(|_| ());
    ensure_eq!(open("/bin/no-such", OpenFlags::READ), Err(NotFound));
    ensure_eq!(open("/no/such/dir", OpenFlags::READ), Err(NotFound));
    ensure_eq!(open("/bin/serial/x", OpenFlags::READ), Err(NotADirectory));
    ensure_eq!(
        open("/bin/serial", OpenFlags::READ | OpenFlags::DIRECTORY),
        Err(NotADirectory)
    );
    ensure_eq!(open("/bin/serial", OpenFlags::WRITE), Err(ReadOnly));
    let create = OpenFlags::WRITE | OpenFlags::CREATE;
    ensure_eq!(open("/bin/new", create), Err(ReadOnly));
    ensure_eq!(open("", OpenFlags::READ), Err(InvalidPath));
    let long: String = core::iter::repeat_n('x', 300).collect();
    ensure_eq!(open(&long, OpenFlags::READ), Err(NameTooLong));
    let deep: String = core::iter::repeat_n("a/", 3000).collect();
    ensure_eq!(open(&deep, OpenFlags::READ), Err(NameTooLong));
    let mut dir = File::open("/bin", OpenFlags::READ | OpenFlags::DIRECTORY).map_err(|_| fail())?;
    ensure_eq!(dir.read(&mut [0; 8]), Err(IsADirectory));
    ensure_eq!(dir.write(b"x"), Err(ReadOnly));
    ensure_eq!(files::mkdir("/bin/d"), Err(ReadOnly));
    ensure_eq!(files::remove_file("/bin/serial"), Err(ReadOnly));
    ensure_eq!(files::remove_dir("/bin"), Err(ReadOnly));
    ensure_eq!(files::rename("/bin/serial", "/bin/s"), Err(ReadOnly));
    ensure_eq!(files::remove_dir("/"), Err(Busy));
    ensure_eq!(files::metadata("/bin/nothing"), Err(NotFound));
    // Neither READ nor WRITE.
    ensure_eq!(
        open("/bin/serial", OpenFlags::empty()),
        Err(InvalidArgument)
    );
    Ok(())
}

/// A closed object's capability answers `BadDescriptor` for ever, a
/// client cannot mint badges of its own, and hostile requests get errors.
pub fn initfs_stale_and_forged() -> TestResult {
    let file = File::open_read("/bin/serial").map_err(|_| fail())?;
    let copy = rt::ipc::Endpoint::from_raw(
        rt::sys::cap_copy(file.endpoint().slot(), Rights::WRITE).map_err(|_| fail())?,
    );
    ensure_eq!(file.close(), Ok(()));
    let mut stale = FileClient::new(&copy);
    ensure_eq!(
        stale
            .read(8)
            .map(|d| d.len())
            .map_err(protocols::file::error_of),
        Err(FsError::BadDescriptor)
    );
    ensure_eq!(
        stale.close().map_err(protocols::file::error_of),
        Err(FsError::BadDescriptor)
    );
    // The root capability init gave is badged: no badge can be minted
    // from it.
    let root = granted(CLIENT, "initfs")?;
    ensure_eq!(
        rt::sys::cap_mint(root.slot(), Rights::WRITE, 1).map(|_| ()),
        Err(SysError::InvalidArg)
    );
    // Closing the root is refused; the root keeps working.
    let mut client = FileClient::new(&root);
    ensure_eq!(
        client.close().map_err(protocols::file::error_of),
        Err(FsError::BadDescriptor)
    );
    ensure!(client.stat().is_ok());
    // A path a server must refuse even if a client skipped cleaning.
    for path in [
        "../bin",
        "bin/../bin",
        "/bin",
        "bin//serial",
        "./bin",
        "bin/.",
    ] {
        ensure_eq!(
            client
                .stat_at(path)
                .map(|_| ())
                .map_err(protocols::file::error_of),
            Err(FsError::InvalidPath)
        );
    }
    Ok(())
}

/// Opening and closing gives every frame back, on both sides.
pub fn initfs_frames_come_back() -> TestResult {
    let _ = read_all("/bin/serial");
    let before = free_frames()?;
    for _ in 0..200 {
        let mut file = File::open_read("/bin/serial").map_err(|_| fail())?;
        let mut buf = [0u8; 64];
        ensure_eq!(file.read(&mut buf), Ok(64));
        drop(file);
    }
    ensure_eq!(free_frames()?, before);
    Ok(())
}

/// What a spawned program's namespace holds is what its parent passed:
/// nothing (the null namespace: every path fails with `NoNamespace`), or
/// the initfs root under its service name.
pub fn null_namespace_and_passing_one() -> TestResult {
    let run = |grants: &[Grant<'_>]| -> Result<ExitStatus, super::Failure> {
        let file = program("bin/probe").ok_or_else(fail)?;
        let mut child = Spawn::new(file)
            .args(&["probe", "open", "/bin/serial"])
            .grants(grants)
            .spawn()
            .map_err(|_| fail())?;
        child.wait().map_err(|_| fail())
    };
    ensure_eq!(
        run(&[])?,
        ExitStatus::Exited(u64::from(FsError::NoNamespace.code()))
    );
    let root = granted(CLIENT, "initfs")?;
    let grant = Grant::new(root.slot(), Rights::WRITE | Rights::GRANT, CLIENT);
    let grant = Grant {
        name: "initfs",
        ..grant
    };
    ensure_eq!(run(&[grant])?, ExitStatus::Exited(0));
    Ok(())
}

/// One program may hold so many open objects on a server, and no more;
/// closing one makes room again. Unknown flag bits are refused.
pub fn open_limit_per_session() -> TestResult {
    let mut open = Vec::new();
    let limit = loop {
        match File::open_read("/bin/serial") {
            Ok(file) => open.push(file),
            Err(error) => break error,
        }
        ensure!(open.len() <= 1024);
    };
    ensure_eq!(limit, FsError::TooManyOpen);
    ensure!(open.len() >= 200);
    open.pop();
    ensure!(File::open_read("/bin/serial").is_ok());
    drop(open);
    let root = granted(CLIENT, "initfs")?;
    let mut client = FileClient::new(&root);
    ensure_eq!(
        client
            .open("bin/serial", 1 << 20)
            .map(|_| ())
            .map_err(protocols::file::error_of),
        Err(FsError::InvalidArgument)
    );
    Ok(())
}
