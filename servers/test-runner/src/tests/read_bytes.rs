//! `read_bytes` (File op 24, docs/files.md "Reads with one copy"): a
//! server answers a large read with its bytes as the pieces of its reply
//! (docs/ipc.md, "Bytes"), the kernel copies them once into the caller's
//! buffer. ramfs from its pages (holes included), initfs from the mapped
//! archive; each documented error; a client whose window is hostile gets
//! the error alone and the server goes on; every frame back.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use files::{File, FsError, OpenFlags, SeekFrom};
use protocols::file::{AT_OFFSET, FileClient};

use super::TestResult;
use super::support::free_frames;
use super::syscalls::fail;
use crate::{ensure, ensure_eq};

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(seed) % 253) as u8)
        .collect()
}

/// The whole of `file` read by messages, 504 bytes a call.
fn by_messages(file: &File, len: usize) -> Result<Vec<u8>, FsError> {
    let mut out = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let end = (done + protocols::file::READ_MAX_BYTES).min(len);
        match file.read_at(done as u64, &mut out[done..end])? {
            0 => break,
            n => done += n,
        }
    }
    out.truncate(done);
    Ok(out)
}

/// Writes all of `data` at `offset`, a message's worth a call.
fn write_all_at(file: &File, offset: u64, data: &[u8]) -> Result<(), FsError> {
    let mut done = 0;
    while done < data.len() {
        done += file.write_at(offset + done as u64, &data[done..])?;
    }
    Ok(())
}

/// A file of three pages and a bit, a hole, and more data past it;
/// large reads at every kind of offset give what messages give.
pub fn ramfs_reads() -> TestResult {
    let path = "/tmp/read-bytes";
    ramfs_reads_in(path)?;
    files::remove_file(path).map_err(|_| fail())?;
    // Counted over a second round: the first grew this program's heap
    // for its buffers, which keeps the pages.
    let before = free_frames()?;
    ramfs_reads_in(path)?;
    files::remove_file(path).map_err(|_| fail())?;
    ensure_eq!(free_frames()?, before);
    Ok(())
}

fn ramfs_reads_in(path: &str) -> TestResult {
    let data = pattern(3 * 4096 + 100, 7);
    let mut file = File::open(path, OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE)
        .map_err(|_| fail())?;
    ensure_eq!(write_all_at(&file, 0, &data), Ok(()));
    // A hole from 12,388 to 80,000, then 70,000 bytes: 150,000 in all,
    // more than one reply's 64 KiB and 16 pieces.
    let tail = pattern(70_000, 11);
    ensure_eq!(write_all_at(&file, 80_000, &tail), Ok(()));
    let size = 150_000;
    let expect = by_messages(&file, size).map_err(|_| fail())?;
    ensure_eq!(expect.len(), size);
    ensure!(expect[..data.len()] == data[..]);
    ensure!(expect[data.len()..80_000].iter().all(|&b| b == 0));

    for (offset, len) in [(0, 4096), (0, size), (100, 9000), (4095, 2), (79_000, 5000)] {
        let mut buf = vec![0xeeu8; len];
        let mut done = 0;
        while done < len {
            match file.read_at((offset + done) as u64, &mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => return Err(fail()),
            }
        }
        let end = (offset + len).min(size);
        ensure_eq!(done, end - offset);
        ensure!(buf[..done] == expect[offset..end]);
    }
    // Past the end: nothing.
    let mut buf = vec![0u8; 8192];
    ensure_eq!(file.read_at(size as u64 + 10, &mut buf), Ok(0));
    // At the object's offset, which moves (`read`).
    ensure_eq!(file.seek(SeekFrom::Start(1000)), Ok(1000));
    ensure_eq!(file.read(&mut buf), Ok(8192));
    ensure!(buf[..] == expect[1000..9192]);
    ensure_eq!(file.seek(SeekFrom::Current(0)), Ok(9192));
    // A write after a read changes what the next read sees.
    ensure_eq!(file.write_at(0, &[1, 2, 3]), Ok(3));
    ensure_eq!(file.read_at(0, &mut buf), Ok(8192));
    ensure!(buf[..3] == [1, 2, 3] && buf[3..] == expect[3..8192]);
    ensure_eq!(file.close(), Ok(()));
    Ok(())
}

/// The documented errors, from the raw call.
pub fn errors() -> TestResult {
    let dir = "/tmp/read-bytes-errors";
    let _ = files::remove_file(&format!("{dir}/f"));
    let _ = files::remove_dir(dir);
    files::mkdir(dir).map_err(|_| fail())?;
    let path = format!("{dir}/f");
    let mut writer = File::create(&path).map_err(|_| fail())?;
    ensure_eq!(writer.write_all(&[7u8; 5000]), Ok(()));
    let mut buf = vec![0u8; 5000];
    // Not open for reading.
    ensure_eq!(writer.read_at(0, &mut buf), Err(FsError::WrongMode));
    let (result, _) = rt::ipc_bytes::receive_into(&mut buf, || {
        FileClient::new(writer.endpoint()).read_bytes(0, 5000)
    });
    ensure_eq!(
        result.map_err(protocols::file::error_of),
        Err(FsError::WrongMode)
    );
    // A directory.
    let directory = File::open(dir, OpenFlags::READ).map_err(|_| fail())?;
    let (result, _) = rt::ipc_bytes::receive_into(&mut buf, || {
        FileClient::new(directory.endpoint()).read_bytes(0, 5000)
    });
    ensure_eq!(
        result.map_err(protocols::file::error_of),
        Err(FsError::IsADirectory)
    );
    ensure_eq!(directory.close(), Ok(()));
    // Without a window: the answer says how many, none arrive.
    let reader = File::open_read(&path).map_err(|_| fail())?;
    let answer = FileClient::new(reader.endpoint()).read_bytes(0, 5000);
    ensure_eq!(answer.map_err(protocols::file::error_of), Ok(5000));
    ensure_eq!(writer.close(), Ok(()));
    ensure_eq!(reader.close(), Ok(()));
    files::remove_file(&path).map_err(|_| fail())?;
    files::remove_dir(dir).map_err(|_| fail())?;
    Ok(())
}

/// A window the caller cannot write (its own code): the call fails with
/// `BadAddress`, nothing else happens, and ramfs serves the next read.
pub fn hostile_window() -> TestResult {
    let path = "/tmp/read-bytes-hostile";
    let data = pattern(6000, 5);
    File::create(path)
        .and_then(|mut f| f.write_all(&data))
        .map_err(|_| fail())?;
    let reader = File::open_read(path).map_err(|_| fail())?;
    let code = hostile_window as *const () as u64;
    let buffer = rt::ipc_buffer::IpcBufferPtr::current();
    let window = abi::ipc::IPC_BUFFER_WINDOW_OFFSET;
    for (addr, len) in [
        (code, 6000u64),
        (abi::layout::USER_END - 100, 6000),
        (8, 6000),
    ] {
        buffer.set_raw_word(window, addr);
        buffer.set_raw_word(window + 8, len);
        let result = FileClient::new(reader.endpoint()).read_bytes(0, 6000);
        buffer.set_raw_word(window, 0);
        buffer.set_raw_word(window + 8, 0);
        ensure!(matches!(
            result,
            Err(protocols::Error::Kernel(abi::SysError::BadAddress))
        ));
    }
    let mut back = vec![0u8; 6000];
    ensure_eq!(reader.read_at(0, &mut back), Ok(6000));
    ensure!(back == data);
    ensure_eq!(reader.close(), Ok(()));
    files::remove_file(path).map_err(|_| fail())?;
    Ok(())
}

/// initfs answers from the mapped archive: the same bytes as messages.
pub fn initfs_reads() -> TestResult {
    let mut file = File::open_read("/bin/sh").map_err(|_| fail())?;
    let size = file.metadata().map_err(|_| fail())?.size as usize;
    // More than one reply's 64 KiB.
    ensure!(size > 70_000);
    let expect = by_messages(&file, size).map_err(|_| fail())?;
    let mut buf = vec![0u8; size];
    let mut done = 0;
    while done < size {
        match file.read_at(done as u64, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(_) => return Err(fail()),
        }
    }
    ensure_eq!(done, size);
    ensure!(buf == expect);
    // `read` at the offset, which moves.
    let mut some = vec![0u8; 10_000];
    ensure_eq!(file.read(&mut some), Ok(10_000));
    ensure!(some[..] == expect[..10_000]);
    ensure_eq!(
        FileClient::new(file.endpoint())
            .read_bytes(AT_OFFSET, 0)
            .map_err(protocols::file::error_of),
        Ok(0)
    );
    ensure_eq!(file.seek(SeekFrom::Current(0)), Ok(10_000));
    Ok(())
}
