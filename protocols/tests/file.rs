//! The `File` protocol's shared pieces on the host: a full `readdir`
//! reply fits in one message, directory entries parse back (and a
//! malformed reply ends with an error, never a panic), badges, and every
//! error survives the wire.

use abi::CapSlot;
use fscore::{FsError, Kind};
use proptest::prelude::*;
use protocols::ErrorCode;
use protocols::file::{
    self, Badge, DirEntries, DirWriter, FileClient, FileServer, READDIR_MAX_BYTES, Whence,
};
use protocols::loopback::Loopback;

/// A server whose directory holds `names`, and which fails everything
/// else with one error.
struct Listing {
    names: Vec<String>,
    dir: DirWriter,
    error: FsError,
}

impl FileServer for Listing {
    fn open(&mut self, _: &str, _: u32) -> Result<(CapSlot, u8), ErrorCode> {
        Err(file::code(self.error))
    }
    fn read(&mut self, _: u32) -> Result<&[u8], ErrorCode> {
        Err(file::code(self.error))
    }
    fn read_at(&mut self, _: u64, _: u32) -> Result<&[u8], ErrorCode> {
        Err(file::code(self.error))
    }
    fn write(&mut self, _: &[u8]) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
    fn write_at(&mut self, _: u64, _: &[u8]) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
    fn seek(&mut self, _: i64, _: Whence) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
    fn stat(&mut self) -> Result<(u8, u64, u64, u64), ErrorCode> {
        Err(file::code(self.error))
    }
    fn stat_at(&mut self, _: &str) -> Result<(u8, u64, u64, u64), ErrorCode> {
        Err(file::code(self.error))
    }
    fn truncate(&mut self, _: u64) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn readdir(&mut self, cookie: u64) -> Result<(&[u8], u64), ErrorCode> {
        let mut writer = DirWriter::default();
        let mut at = cookie as usize;
        while let Some(name) = self.names.get(at) {
            if !writer.push(Kind::File, name) {
                break;
            }
            at += 1;
        }
        self.dir = writer;
        let next = if at < self.names.len() { at as u64 } else { 0 };
        Ok((self.dir.as_bytes(), next))
    }
    fn mkdir(&mut self, _: &str) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn rmdir(&mut self, _: &str) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn unlink(&mut self, _: &str) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn rename(&mut self, _: &str, _: &str) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn dup(&mut self, _: &str) -> Result<CapSlot, ErrorCode> {
        Err(file::code(self.error))
    }
    fn close(&mut self) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn attach_ring(
        &mut self,
        _: protocols::Cap,
        _: u32,
        _: u32,
        _: u32,
    ) -> Result<(protocols::abi::CapSlot, protocols::abi::CapSlot), ErrorCode> {
        Err(file::code(self.error))
    }
    fn map(&mut self) -> Result<(abi::CapSlot, u64, u64), ErrorCode> {
        Err(file::code(self.error))
    }
    fn map_at(&mut self, _: &str) -> Result<(abi::CapSlot, u64, u64), ErrorCode> {
        Err(file::code(self.error))
    }
    fn attach_data(&mut self, _: protocols::Cap, _: u32) -> Result<(), ErrorCode> {
        Err(file::code(self.error))
    }
    fn write_shared(&mut self, _: u32, _: u32) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
    fn read_shared(&mut self, _: u32, _: u32) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
    fn attach_pipe(&mut self) -> Result<(abi::CapSlot, u32, u8), ErrorCode> {
        Err(file::code(self.error))
    }

    fn read_bytes(&mut self, _offset: u64, _max: u32) -> Result<u64, ErrorCode> {
        Err(file::code(self.error))
    }
}

fn client(names: Vec<String>, error: FsError) -> FileClient<Loopback<Listing>> {
    let server = Listing {
        names,
        dir: DirWriter::default(),
        error,
    };
    FileClient::new(Loopback::new(server, file::dispatch::<Listing>))
}

/// Lists everything through the client, as `files::read_dir` does.
fn list(client: &mut FileClient<Loopback<Listing>>) -> Result<Vec<String>, FsError> {
    let mut out = Vec::new();
    let mut cookie = 0;
    loop {
        let (bytes, next) = client.readdir(cookie).map_err(file::error_of)?;
        for entry in DirEntries::new(bytes) {
            out.push(entry?.1.to_string());
        }
        if next == 0 {
            return Ok(out);
        }
        cookie = next;
    }
}

proptest! {
    /// Names of every length up to 255 bytes, in any number: each reply
    /// fits one message, and the listing comes back whole, in order.
    #[test]
    fn listings_fit_and_come_back_whole(lens in proptest::collection::vec(1usize..=255, 0..40)) {
        let names: Vec<String> = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| format!("{i:03}{}", "n".repeat(len.saturating_sub(3))))
            .collect();
        let mut client = client(names.clone(), FsError::NotFound);
        prop_assert_eq!(list(&mut client), Ok(names));
    }

    /// Any bytes as a readdir reply: entries or one error, never a panic.
    #[test]
    fn any_entry_bytes_parse_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut seen = 0;
        for entry in DirEntries::new(&bytes) {
            seen += 1;
            if entry.is_err() {
                break;
            }
        }
        prop_assert!(seen <= bytes.len());
    }
}

#[test]
fn a_full_reply_is_exactly_the_limit() {
    let mut writer = DirWriter::default();
    assert!(writer.is_empty());
    // 2 + 255 bytes, 2 + 10, then exactly what is left.
    assert!(writer.push(Kind::Dir, &"a".repeat(255)));
    assert!(writer.push(Kind::File, &"b".repeat(10)));
    assert!(!writer.push(Kind::File, &"c".repeat(255)));
    let rest = READDIR_MAX_BYTES - 257 - 12 - 2;
    assert!(writer.push(Kind::Pipe, &"c".repeat(rest)));
    assert_eq!(writer.as_bytes().len(), READDIR_MAX_BYTES);
    assert!(!writer.push(Kind::File, ""));
    let kinds: Vec<Kind> = DirEntries::new(writer.as_bytes())
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(kinds, [Kind::Dir, Kind::File, Kind::Pipe]);
    // A name over 255 bytes never goes in.
    assert!(!DirWriter::default().push(Kind::File, &"x".repeat(256)));
}

#[test]
fn every_error_survives_the_wire() {
    for error in FsError::ALL {
        let mut client = client(Vec::new(), error);
        assert_eq!(client.unlink("x").map_err(file::error_of), Err(error));
        assert_eq!(client.stat().map_err(file::error_of), Err(error));
    }
}

#[test]
fn badges_name_roots_and_objects() {
    let root = abi::startup::CLIENT_BADGE | 7;
    assert_eq!(Badge::of(root), Badge::Root { session: 7 });
    assert_eq!(Badge::of(42), Badge::Object(42));
    assert_eq!(Badge::of(0), Badge::None);
}

#[test]
fn seeks_land_between_zero_and_i64_max() {
    assert_eq!(file::seek_target(10, -10), Ok(0));
    assert_eq!(file::seek_target(10, -11), Err(FsError::InvalidArgument));
    assert_eq!(file::seek_target(0, i64::MAX), Ok(i64::MAX as u64));
    assert_eq!(
        file::seek_target(1, i64::MAX),
        Err(FsError::InvalidArgument)
    );
    assert_eq!(
        file::seek_target(u64::MAX, 1),
        Err(FsError::InvalidArgument)
    );
}
