//! Fuzzes the generated `file::dispatch` (the `File` protocol every file
//! server answers) with arbitrary messages, given to a server that checks
//! what it is handed and answers with the real reply shapes: capabilities,
//! byte slices up to the limits, directory listings.
//!
//! Input: as `dispatch.rs` (a sequence of messages, each an 8-byte header:
//! opcode 2 bytes, request id 4, word count 1 modulo 65, capability count
//! 1 modulo 4; then the words).
//!
//! Checks, beyond "never panics": every reply names its request, has a
//! known status, and is empty with an error; every string a handler gets
//! is at most a message long; every capability received was deleted
//! exactly once (no `File` request carries one, so all of them are).
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocols::ErrorCode;
use protocols::abi::CapSlot;
use protocols::cap::host;
use protocols::file::{self, DirWriter, FileServer, READ_MAX_BYTES, Whence};
use protocols::fscore::{FsError, Kind};
use protocols::rt::ipc::Message;
use protocols::status::{self, APPLICATION_MIN, MALFORMED, OK, UNKNOWN_OPERATION};

const HEADER_BYTES: usize = 8;

/// Answers every operation from what it was given.
struct Server {
    data: [u8; READ_MAX_BYTES],
    dir: DirWriter,
}

/// A path from a request: never longer than a message, checked as a
/// server checks it.
fn check_path(path: &str) -> Result<(), ErrorCode> {
    assert!(path.len() <= 63 * 8);
    file::wire(protocols::fscore::path::check_server_path(path))
}

impl FileServer for Server {
    fn open(&mut self, path: &str, flags: u32) -> Result<(CapSlot, u8), ErrorCode> {
        check_path(path)?;
        protocols::fscore::OpenFlags::from_bits(flags).map_err(file::code)?;
        Ok((CapSlot(7), Kind::File.code()))
    }
    fn read(&mut self, max: u32) -> Result<&[u8], ErrorCode> {
        Ok(&self.data[..(max as usize).min(READ_MAX_BYTES)])
    }
    fn read_at(&mut self, offset: u64, max: u32) -> Result<&[u8], ErrorCode> {
        let len = (max as usize).min(READ_MAX_BYTES);
        Ok(&self.data[..len.min(offset as usize % (READ_MAX_BYTES + 1))])
    }
    fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
        assert!(data.len() <= 63 * 8);
        Ok(data.len() as u64)
    }
    fn write_at(&mut self, _offset: u64, data: &[u8]) -> Result<u64, ErrorCode> {
        assert!(data.len() <= 62 * 8);
        Ok(data.len() as u64)
    }
    fn seek(&mut self, offset: i64, whence: Whence) -> Result<u64, ErrorCode> {
        match whence {
            Whence::Start | Whence::Current | Whence::End => {}
        }
        u64::try_from(offset).map_err(|_| file::code(FsError::InvalidArgument))
    }
    fn stat(&mut self) -> Result<(u8, u64, u64, u64), ErrorCode> {
        Ok((Kind::Dir.code(), 1, 2, 3))
    }
    fn stat_at(&mut self, path: &str) -> Result<(u8, u64, u64, u64), ErrorCode> {
        check_path(path)?;
        Ok((Kind::File.code(), 1, 2, 3))
    }
    fn truncate(&mut self, _len: u64) -> Result<(), ErrorCode> {
        Err(file::code(FsError::ReadOnly))
    }
    fn readdir(&mut self, cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        let mut writer = DirWriter::default();
        let name = "n".repeat((cookie % 256) as usize);
        while writer.push(Kind::File, &name) {}
        self.dir = writer;
        Ok((self.dir.as_bytes(), cookie.wrapping_add(1)))
    }
    fn mkdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        check_path(path)
    }
    fn rmdir(&mut self, path: &str) -> Result<(), ErrorCode> {
        check_path(path)
    }
    fn unlink(&mut self, path: &str) -> Result<(), ErrorCode> {
        check_path(path)
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), ErrorCode> {
        check_path(from)?;
        check_path(to)
    }
    fn dup(&mut self, mode: &str) -> Result<CapSlot, ErrorCode> {
        match mode {
            "" | "read" | "write" => Ok(CapSlot(8)),
            _ => Err(file::code(FsError::InvalidArgument)),
        }
    }
    fn close(&mut self) -> Result<(), ErrorCode> {
        Err(file::code(FsError::BadDescriptor))
    }
    fn attach_ring(
        &mut self,
        _: protocols::Cap,
        _: u32,
        _: u32,
        _: u32,
    ) -> Result<(protocols::abi::CapSlot, protocols::abi::CapSlot), ErrorCode> {
        Err(file::code(FsError::InvalidArgument))
    }
    fn map(&mut self) -> Result<(protocols::abi::CapSlot, u64, u64), ErrorCode> {
        Err(file::code(FsError::InvalidArgument))
    }
    fn map_at(&mut self, path: &str) -> Result<(protocols::abi::CapSlot, u64, u64), ErrorCode> {
        check_path(path)?;
        Err(file::code(FsError::NotSupported))
    }
    fn attach_data(&mut self, _: protocols::Cap, _: u32) -> Result<(), ErrorCode> {
        Err(file::code(FsError::NotSupported))
    }
    fn write_shared(&mut self, offset: u32, len: u32) -> Result<u64, ErrorCode> {
        Ok(u64::from(offset.wrapping_add(len) % 7))
    }
    fn read_shared(&mut self, offset: u32, max: u32) -> Result<u64, ErrorCode> {
        Ok(u64::from(offset ^ max) % 5)
    }
    fn attach_pipe(&mut self) -> Result<(protocols::abi::CapSlot, u32, u8), ErrorCode> {
        Err(file::code(FsError::NotSupported))
    }
}

fuzz_target!(|input: &[u8]| {
    let mut server = Server {
        data: [0x5a; READ_MAX_BYTES],
        dir: DirWriter::default(),
    };
    let mut reply = Message::new(0);
    let mut received = Vec::new();
    let mut next_slot = 1u32;
    host::take_deleted();
    let mut rest = input;
    while let Some((header, tail)) = rest.split_first_chunk::<HEADER_BYTES>() {
        let opcode = u16::from_le_bytes([header[0], header[1]]);
        let id = u32::from_le_bytes([header[2], header[3], header[4], header[5]]);
        let words = usize::from(header[6]) % 65;
        let caps = usize::from(header[7]) % 4;
        let mut request = Message::new(status::request_label(opcode, id));
        rest = tail;
        for _ in 0..words {
            let Some((word, tail)) = rest.split_first_chunk::<8>() else {
                break;
            };
            request.push(u64::from_le_bytes(*word)).expect("at most 64 words");
            rest = tail;
        }
        for _ in 0..caps {
            request.push_cap(CapSlot(next_slot)).expect("at most 3 caps");
            received.push(CapSlot(next_slot));
            next_slot += 1;
        }

        file::dispatch(&mut server, &request, &mut reply);

        let (status, reply_id) = status::split_label(reply.label());
        assert_eq!(reply_id, id);
        assert!(
            matches!(status, OK | MALFORMED | UNKNOWN_OPERATION) || status >= APPLICATION_MIN,
            "status {status:#x}"
        );
        if status != OK {
            assert!(reply.words().is_empty() && reply.caps().is_empty());
        }
    }
    let mut deleted = host::take_deleted();
    deleted.sort();
    assert_eq!(deleted, received, "a capability leaked or was deleted twice");
});
