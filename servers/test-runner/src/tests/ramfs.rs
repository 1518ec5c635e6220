//! The file API on ramfs, the read-write file system at `/tmp`: every
//! operation with its errors, files shared by two opens and by another
//! program, space limits, and the server killed under its clients.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use files::{File, FsError, Kind, OpenFlags, SeekFrom};
use protocols::supervisor::State;
use rt::Handle;

use super::TestResult;
use super::supervision::supervisor;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

/// A directory of its own under /tmp for one test, empty.
fn scratch(name: &str) -> Result<String, super::Failure> {
    let dir = format!("/tmp/{name}");
    remove_all(&dir);
    files::mkdir(&dir).map_err(|_| fail())?;
    Ok(dir)
}

/// Removes `path` and everything under it, ignoring errors.
fn remove_all(path: &str) {
    if let Ok(entries) = files::read_dir(path) {
        for entry in entries {
            let child = format!("{path}/{}", entry.name);
            if entry.kind == Kind::Dir {
                remove_all(&child);
            } else {
                let _ = files::remove_file(&child);
            }
        }
        let _ = files::remove_dir(path);
    } else {
        let _ = files::remove_file(path);
    }
}

fn read_all(path: &str) -> Result<Vec<u8>, FsError> {
    let mut file = File::open_read(path)?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)?;
    Ok(out)
}

fn write_file(path: &str, data: &[u8]) -> Result<(), FsError> {
    File::create(path)?.write_all(data)
}

/// Create, write, read back, append, truncate, seek and stat.
pub fn files_round_trip() -> TestResult {
    let dir = scratch("round-trip")?;
    let path = format!("{dir}/a.txt");
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    ensure_eq!(write_file(&path, &data), Ok(()));
    ensure_eq!(read_all(&path), Ok(data.clone()));
    let meta = files::metadata(&path).map_err(|_| fail())?;
    ensure_eq!((meta.kind, meta.size, meta.links), (Kind::File, 20_000, 1));
    // Append goes to the end whatever the offset.
    let mut log = File::open(&path, OpenFlags::WRITE | OpenFlags::APPEND).map_err(|_| fail())?;
    ensure_eq!(log.seek(SeekFrom::Start(0)), Ok(0));
    ensure_eq!(log.write(b"tail"), Ok(4));
    ensure_eq!(files::metadata(&path).map(|m| m.size), Ok(20_004));
    // Read-write: seek, overwrite, read back; a hole reads as zeroes.
    let mut file = File::open(&path, OpenFlags::READ | OpenFlags::WRITE).map_err(|_| fail())?;
    ensure_eq!(file.seek(SeekFrom::End(-4)), Ok(20_000));
    let mut buf = [0u8; 8];
    ensure_eq!(file.read(&mut buf), Ok(4));
    ensure_eq!(&buf[..4], b"tail");
    ensure_eq!(file.write_at(30_000, b"far"), Ok(3));
    ensure_eq!(file.read_at(25_000, &mut buf), Ok(8));
    ensure_eq!(buf, [0; 8]);
    ensure_eq!(file.set_len(10), Ok(()));
    ensure_eq!(read_all(&path), Ok(data[..10].to_vec()));
    // Truncate on open.
    ensure_eq!(write_file(&path, b"new"), Ok(()));
    ensure_eq!(read_all(&path), Ok(b"new".to_vec()));
    drop((log, file));
    remove_all(&dir);
    Ok(())
}

/// mkdir, readdir (sorted, across several replies), rename, unlink,
/// rmdir, and the current directory.
pub fn directories() -> TestResult {
    let dir = scratch("dirs")?;
    ensure_eq!(files::mkdir(&format!("{dir}/sub")), Ok(()));
    let mut names = Vec::new();
    for i in 0..60 {
        // Long names, so the listing takes several replies.
        let name = format!("file-{i:02}-{}", "x".repeat(40));
        ensure_eq!(write_file(&format!("{dir}/{name}"), b"x"), Ok(()));
        names.push(name);
    }
    let listed = files::read_dir(&dir).map_err(|_| fail())?;
    ensure_eq!(listed.len(), 61);
    ensure_eq!(listed[60].name.as_str(), "sub");
    ensure_eq!(listed[60].kind, Kind::Dir);
    ensure!(listed[..60].iter().map(|e| &e.name).eq(names.iter()));
    ensure_eq!(files::metadata(&dir).map(|m| m.size), Ok(61));
    // Rename within the file system, over an existing file, into a
    // subdirectory.
    let (a, b) = (format!("{dir}/{}", names[0]), format!("{dir}/{}", names[1]));
    ensure_eq!(files::rename(&a, &b), Ok(()));
    ensure_eq!(files::metadata(&a).map(|_| ()), Err(FsError::NotFound));
    ensure_eq!(files::rename(&b, &format!("{dir}/sub/moved")), Ok(()));
    ensure_eq!(read_all(&format!("{dir}/sub/moved")), Ok(b"x".to_vec()));
    // The current directory: relative paths, `..`, and back.
    ensure_eq!(files::chdir(&format!("{dir}/sub")), Ok(()));
    ensure_eq!(files::getcwd(), format!("{dir}/sub"));
    ensure_eq!(read_all("moved"), Ok(b"x".to_vec()));
    ensure_eq!(read_all("./../sub/moved"), Ok(b"x".to_vec()));
    ensure_eq!(files::chdir(".."), Ok(()));
    ensure_eq!(files::getcwd(), dir.clone());
    ensure_eq!(files::chdir("sub/moved"), Err(FsError::NotADirectory));
    ensure_eq!(files::chdir("tmp:"), Ok(()));
    ensure_eq!(files::getcwd(), String::from("/tmp"));
    ensure_eq!(files::chdir("/"), Ok(()));
    ensure_eq!(files::getcwd(), String::from("/"));
    remove_all(&dir);
    ensure_eq!(files::metadata(&dir).map(|_| ()), Err(FsError::NotFound));
    Ok(())
}

/// Each documented error of ramfs.
pub fn errors() -> TestResult {
    use FsError::*;
    let dir = scratch("errors")?;
    let file = format!("{dir}/f");
    ensure_eq!(write_file(&file, b"data"), Ok(()));
    let open = |path: &str, flags| File::open(path, flags).map(|_| ());
    ensure_eq!(open(&format!("{dir}/none"), OpenFlags::READ), Err(NotFound));
    ensure_eq!(
        open(&format!("{file}/x"), OpenFlags::READ),
        Err(NotADirectory)
    );
    ensure_eq!(open(&dir, OpenFlags::WRITE), Err(IsADirectory));
    let excl = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
    ensure_eq!(open(&file, excl), Err(Exists));
    ensure_eq!(files::mkdir(&file), Err(Exists));
    ensure_eq!(files::mkdir(&format!("{dir}/a/b")), Err(NotFound));
    ensure_eq!(files::remove_dir(&file), Err(NotADirectory));
    ensure_eq!(files::remove_file(&dir), Err(IsADirectory));
    ensure_eq!(files::remove_dir("/tmp"), Err(Busy));
    ensure_eq!(files::remove_dir(&dir), Err(NotEmpty));
    ensure_eq!(
        files::rename(&dir, &format!("{dir}/inside")),
        Err(InvalidArgument)
    );
    ensure_eq!(files::rename(&file, "/bin/f"), Err(CrossDevice));
    let long = "n".repeat(256);
    ensure_eq!(open(&format!("{dir}/{long}"), excl), Err(NameTooLong));
    ensure_eq!(files::mkdir(&format!("{dir}/{long}")), Err(NameTooLong));
    // Wrong modes.
    let mut reader = File::open_read(&file).map_err(|_| fail())?;
    ensure_eq!(reader.write(b"x"), Err(WrongMode));
    ensure_eq!(reader.set_len(0), Err(WrongMode));
    let writer = File::open(&file, OpenFlags::WRITE).map_err(|_| fail())?;
    ensure_eq!(writer.read_at(0, &mut [0; 4]), Err(WrongMode));
    // Past the largest file (8 MiB).
    ensure_eq!(writer.write_at(8 << 20, b"x"), Err(FileTooLarge));
    ensure_eq!(writer.set_len((8 << 20) + 1), Err(FileTooLarge));
    // A closed object's capability.
    let twin = reader.dup("").map_err(|_| fail())?;
    let slot = twin.endpoint().slot();
    let copy = rt::ipc::Endpoint::from_raw(
        rt::sys::cap_copy(slot, abi::Rights::WRITE).map_err(|_| fail())?,
    );
    ensure_eq!(twin.close(), Ok(()));
    let mut stale = File::from_endpoint(copy, Kind::File);
    ensure_eq!(stale.read(&mut [0; 4]), Err(BadDescriptor));
    // `..` cannot climb out of tmp: through the scheme it stays in ramfs.
    ensure_eq!(write_file("tmp:../../../errors-escape", b"e"), Ok(()));
    ensure_eq!(read_all("/tmp/errors-escape"), Ok(b"e".to_vec()));
    ensure_eq!(files::remove_file("/tmp/errors-escape"), Ok(()));
    drop((reader, writer));
    remove_all(&dir);
    Ok(())
}

/// Two opens of one file, and a file removed while open (it stays
/// readable until closed, as POSIX has it); another program appends to a
/// file this one reads.
pub fn shared_files() -> TestResult {
    let dir = scratch("shared")?;
    let path = format!("{dir}/s");
    let rw = OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE;
    let mut one = File::open(&path, rw).map_err(|_| fail())?;
    let mut two = File::open(&path, rw).map_err(|_| fail())?;
    ensure_eq!(one.write(b"aaaa"), Ok(4));
    ensure_eq!(two.write(b"bb"), Ok(2));
    ensure_eq!(read_all(&path), Ok(b"bbaa".to_vec()));
    ensure_eq!(files::remove_file(&path), Ok(()));
    ensure_eq!(files::metadata(&path).map(|_| ()), Err(FsError::NotFound));
    let mut buf = [0u8; 8];
    ensure_eq!(one.read_at(0, &mut buf), Ok(4));
    ensure_eq!(&buf[..4], b"bbaa");
    ensure_eq!(one.metadata().map(|m| m.links), Ok(0));
    ensure_eq!(two.write(b"cc"), Ok(2));
    ensure_eq!(one.read_at(0, &mut buf), Ok(4));
    ensure_eq!(&buf[..4], b"bbcc");
    drop((one, two));
    remove_all(&dir);
    Ok(())
}

/// A client's quota: writing past it gives `NoSpace` (a short write
/// first), and removing the files gives the space back.
pub fn space_runs_out() -> TestResult {
    let dir = scratch("space")?;
    let page = [0x5au8; 1];
    let mut filled = 0u64;
    let mut error = None;
    'files: for n in 0..64 {
        let file = File::create(&format!("{dir}/f{n}")).map_err(|_| fail())?;
        // One byte per page: every write takes a page (2,048 pages: the
        // largest file, 8 MiB).
        for i in 0..2048u64 {
            match file.write_at(i * 4096, &page) {
                Ok(1) => filled += 1,
                Ok(_) => {}
                Err(e) => {
                    error = Some(e);
                    break 'files;
                }
            }
        }
    }
    ensure_eq!(error, Some(FsError::NoSpace));
    ensure!(filled > 1000);
    remove_all(&dir);
    // The space is back: the same amount fits again.
    let dir = scratch("space")?;
    let file = File::create(&format!("{dir}/again")).map_err(|_| fail())?;
    for i in 0..1000u64 {
        ensure_eq!(file.write_at(i * 4096, &page), Ok(1));
    }
    drop(file);
    remove_all(&dir);
    Ok(())
}

/// ramfs killed under its clients: an open file's capability answers
/// `BadDescriptor` (its server is gone), the root works again once init
/// restarted it, and the files are gone with it.
pub fn killed_server() -> TestResult {
    let dir = scratch("killed")?;
    let path = format!("{dir}/k");
    ensure_eq!(write_file(&path, b"k"), Ok(()));
    let mut file = File::open_read(&path).map_err(|_| fail())?;
    let mut supervisor = supervisor()?;
    let (_, before, _) = supervisor.status("ramfs").map_err(|_| fail())?;
    ensure_eq!(supervisor.kill("ramfs"), Ok(()));
    ensure_eq!(file.read(&mut [0; 4]), Err(FsError::BadDescriptor));
    ensure_eq!(files::metadata(&path).map(|_| ()), Err(FsError::NotFound));
    let (state, after, _) = supervisor.status("ramfs").map_err(|_| fail())?;
    ensure_eq!((state, after), (State::Running, before + 1));
    ensure_eq!(files::metadata("/tmp").map(|m| m.kind), Ok(Kind::Dir));
    // A file of this instance, kept over one more restart: the next
    // instance's first file must not answer through it (each instance
    // numbers its objects from its own start, `protocols::file::table`).
    let first = "/tmp/killed-first";
    ensure_eq!(write_file(first, b"mine"), Ok(()));
    let mut kept = File::open_read(first).map_err(|_| fail())?;
    ensure_eq!(supervisor.kill("ramfs"), Ok(()));
    let (state, again, _) = supervisor.status("ramfs").map_err(|_| fail())?;
    ensure_eq!((state, again), (State::Running, before + 2));
    let other = "/tmp/killed-other";
    ensure_eq!(write_file(other, b"theirs"), Ok(()));
    let _theirs = File::open_read(other).map_err(|_| fail())?;
    ensure_eq!(kept.read(&mut [0; 8]), Err(FsError::BadDescriptor));
    ensure_eq!(files::remove_file(other), Ok(()));
    Ok(())
}
