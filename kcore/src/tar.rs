//! Read-only reader for ustar (POSIX.1-1988) tar archives, as used for the
//! initramfs.
//!
//! The kernel calls [`find`] on the initramfs the bootloader loaded to get the
//! bytes of the first program; [`entries`] lists an archive. The archive is
//! untrusted input: every field is checked, every offset is computed with
//! checked arithmetic and every slice is taken with `get`, so no input can
//! panic, overflow or read out of bounds. Nothing is copied: entries borrow
//! the archive.
//!
//! # Format
//!
//! An archive is a sequence of 512-byte blocks. Each member is one header
//! block followed by its data, zero-padded to a whole block. The archive ends
//! at the first all-zero block (normally there are two) or at the end of the
//! input. Header fields used here (offsets in bytes, POSIX.1 `ustar` layout):
//!
//! | field      | offset | length | contents                                   |
//! |------------|--------|--------|--------------------------------------------|
//! | `name`     | 0      | 100    | NUL-terminated unless it fills the field   |
//! | `size`     | 124    | 12     | octal, space/NUL terminated                |
//! | `chksum`   | 148    | 8      | octal sum of the header bytes              |
//! | `typeflag` | 156    | 1      | `'0'` or NUL: regular file; `'5'`: dir ... |
//! | `magic`    | 257    | 6      | `"ustar\0"` for POSIX ustar                |
//! | `prefix`   | 345    | 155    | leading path components (ustar only)       |
//!
//! The checksum is the sum of all 512 header bytes with the `chksum` field
//! counted as eight spaces. POSIX asks for unsigned bytes; some historic tars
//! summed signed bytes, and both are accepted, as GNU tar does.
//!
//! # Not supported
//!
//! GNU base-256 sizes (files of 8 GiB or more) are rejected as
//! [`TarError::BadHeader`]. GNU long-name (`'L'`) and pax (`'x'`, `'g'`)
//! members are listed as ordinary entries of that kind, but their contents are
//! not applied to the next member, so [`find`] only sees names that fit the
//! ustar `prefix` and `name` fields. The `prefix` field is read only when the
//! magic is POSIX `"ustar\0"`: GNU-format headers keep other data there.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::Range;

/// Size of a tar block (and of a header), in bytes.
const BLOCK_BYTES: usize = 512;
/// Header field `name`.
const NAME: Range<usize> = 0..100;
/// Header field `size`.
const SIZE: Range<usize> = 124..136;
/// Header field `chksum`.
const CHKSUM: Range<usize> = 148..156;
/// Header field `typeflag`.
const TYPEFLAG: usize = 156;
/// Header field `magic`.
const MAGIC: Range<usize> = 257..263;
/// Header field `prefix`.
const PREFIX: Range<usize> = 345..500;
/// The POSIX ustar magic; GNU tar writes `"ustar "` instead.
const USTAR_MAGIC: &[u8] = b"ustar\0";
/// Longest path a header can hold: `prefix`, a `/`, then `name`.
const MAX_PATH_BYTES: usize = 155 + 1 + 100;

/// Why reading an archive failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarError {
    /// The archive ends inside a header or inside a member's data.
    Truncated,
    /// A header's checksum does not match, or its `size` or `chksum` field is
    /// not a valid octal number.
    BadHeader,
    /// No regular file has the requested path.
    NotFound,
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "tar archive is truncated",
            Self::BadHeader => "tar header is corrupt",
            Self::NotFound => "no such file in the tar archive",
        })
    }
}

/// One member of an archive, borrowing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The `name` field, up to its first NUL (at most 100 bytes).
    pub name: &'a [u8],
    /// The ustar `prefix` field up to its first NUL (at most 155 bytes);
    /// empty when it is unused or the header is not POSIX ustar. The full path
    /// is `prefix/name` when this is non-empty.
    pub prefix: &'a [u8],
    /// The `typeflag` byte: `b'0'` or `0` for a regular file, `b'5'` for a
    /// directory, `b'2'` for a symbolic link, and so on.
    pub kind: u8,
    /// The member's data, `size` bytes (without the block padding).
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// Whether this is a regular file (`typeflag` `'0'` or NUL).
    pub fn is_regular_file(&self) -> bool {
        matches!(self.kind, b'0' | 0)
    }

    /// Whether the entry's full path (`prefix/name`, or `name` when the prefix
    /// is empty) equals `path`, ignoring any leading `"./"` on either side.
    pub fn path_matches(&self, path: &str) -> bool {
        let mut joined = [0u8; MAX_PATH_BYTES];
        match self.joined_path(&mut joined) {
            Some(own) => strip_dot_slash(own) == strip_dot_slash(path.as_bytes()),
            None => false,
        }
    }

    /// Writes `prefix/name` (or `name`) into `buffer` and returns it, or
    /// `None` if it does not fit (it always does for fields read from a
    /// header).
    fn joined_path<'b>(&self, buffer: &'b mut [u8; MAX_PATH_BYTES]) -> Option<&'b [u8]> {
        let mut len: usize = 0;
        let mut push = |bytes: &[u8]| -> Option<()> {
            let end = len.checked_add(bytes.len())?;
            buffer.get_mut(len..end)?.copy_from_slice(bytes);
            len = end;
            Some(())
        };
        if !self.prefix.is_empty() {
            push(self.prefix)?;
            push(b"/")?;
        }
        push(self.name)?;
        buffer.get(..len)
    }
}

/// Iterator over the members of an archive; see [`entries`].
///
/// Yields `Ok` for each member until the first all-zero block or the end of
/// the input, then `None`. After yielding an `Err` it yields only `None`.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    /// The whole archive.
    archive: &'a [u8],
    /// Byte offset of the next header; always `<= archive.len()`.
    offset: usize,
    /// Set once the end or an error has been reached.
    done: bool,
}

impl<'a> Entries<'a> {
    /// Reads the member at `self.offset`, or `Ok(None)` at the end of the
    /// archive, and advances past it.
    fn read_next(&mut self) -> Result<Option<Entry<'a>>, TarError> {
        let rest = self.archive.get(self.offset..).unwrap_or(&[]);
        if rest.is_empty() {
            return Ok(None);
        }
        let Some(header) = rest.first_chunk::<BLOCK_BYTES>() else {
            // A partial block: harmless zero padding, or a cut-off header.
            return if is_zero(rest) {
                Ok(None)
            } else {
                Err(TarError::Truncated)
            };
        };
        if is_zero(header) {
            return Ok(None);
        }
        check_checksum(header)?;
        let size = parse_octal(&header[SIZE]).ok_or(TarError::BadHeader)?;
        // A size that does not fit a usize cannot fit in the archive either.
        let size = usize::try_from(size).map_err(|_| TarError::Truncated)?;
        let data_start = self
            .offset
            .checked_add(BLOCK_BYTES)
            .ok_or(TarError::Truncated)?;
        let data_end = data_start.checked_add(size).ok_or(TarError::Truncated)?;
        let data = self
            .archive
            .get(data_start..data_end)
            .ok_or(TarError::Truncated)?;
        // The padding after the last member may be missing; then the next
        // read simply finds the end of the input.
        let padded = size
            .checked_next_multiple_of(BLOCK_BYTES)
            .ok_or(TarError::Truncated)?;
        self.offset = data_start
            .checked_add(padded)
            .map_or(self.archive.len(), |next| next.min(self.archive.len()));
        let prefix = if &header[MAGIC] == USTAR_MAGIC {
            until_nul(&header[PREFIX])
        } else {
            &[]
        };
        Ok(Some(Entry {
            name: until_nul(&header[NAME]),
            prefix,
            kind: header[TYPEFLAG],
            data,
        }))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, TarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.read_next();
        match result {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl FusedIterator for Entries<'_> {}

/// Iterates over the members of `archive`.
pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        archive,
        offset: 0,
        done: false,
    }
}

/// Finds a regular file (typeflag `b'0'` or `0`) by its full path (`prefix`
/// + `"/"` + `name` when the prefix is non-empty) and returns its data.
///
/// A leading `"./"` on names in the archive (as `tar -C dir .` writes them)
/// and on `path` is ignored. The first matching member wins; members after it
/// are not read.
///
/// # Errors
///
/// [`TarError::NotFound`] if no regular file has that path, or the error of
/// the first corrupt or truncated member before a match.
pub fn find<'a>(archive: &'a [u8], path: &str) -> Result<&'a [u8], TarError> {
    for entry in entries(archive) {
        let entry = entry?;
        if entry.is_regular_file() && entry.path_matches(path) {
            return Ok(entry.data);
        }
    }
    Err(TarError::NotFound)
}

/// Checks the header checksum (see the module documentation).
fn check_checksum(header: &[u8; BLOCK_BYTES]) -> Result<(), TarError> {
    let stored = parse_octal(&header[CHKSUM]).ok_or(TarError::BadHeader)?;
    // At most 512 * 255, so neither sum can overflow.
    let mut unsigned_sum: u64 = 0;
    let mut signed_sum: i64 = 0;
    for (index, byte) in header.iter().copied().enumerate() {
        let byte = if CHKSUM.contains(&index) { b' ' } else { byte };
        unsigned_sum += u64::from(byte);
        signed_sum += i64::from(byte.cast_signed());
    }
    let signed_matches = i64::try_from(stored).is_ok_and(|stored| stored == signed_sum);
    if stored == unsigned_sum || signed_matches {
        Ok(())
    } else {
        Err(TarError::BadHeader)
    }
}

/// Parses a numeric header field: optional leading spaces or NULs, octal
/// digits, then only spaces or NULs to the end of the field. A field with no
/// digits is 0. Returns `None` for any other byte or on overflow.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let is_filler = |byte: &u8| *byte == b' ' || *byte == 0;
    let mut bytes = field.iter().skip_while(|byte| is_filler(byte));
    let mut value: u64 = 0;
    for byte in bytes.by_ref() {
        match byte {
            b'0'..=b'7' => {
                value = value.checked_mul(8)?.checked_add(u64::from(byte - b'0'))?;
            }
            b' ' | 0 => break,
            _ => return None,
        }
    }
    if bytes.all(is_filler) {
        Some(value)
    } else {
        None
    }
}

/// `field` up to (not including) its first NUL, or all of it.
fn until_nul(field: &[u8]) -> &[u8] {
    let len = field
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(field.len());
    field.get(..len).unwrap_or(field)
}

/// `path` without any leading `"./"` components.
fn strip_dot_slash(mut path: &[u8]) -> &[u8] {
    while let Some(rest) = path.strip_prefix(b"./") {
        path = rest;
    }
    path
}

/// Whether every byte is zero.
fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|byte| *byte == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One member for the test archive builder.
    #[derive(Clone, Debug, PartialEq)]
    struct Member {
        name: Vec<u8>,
        prefix: Vec<u8>,
        kind: u8,
        data: Vec<u8>,
    }

    fn member(name: &str, kind: u8, data: &[u8]) -> Member {
        Member {
            name: name.as_bytes().to_vec(),
            prefix: Vec::new(),
            kind,
            data: data.to_vec(),
        }
    }

    /// Writes `value` as `width - 1` octal digits and a NUL into `field`.
    fn put_octal(field: &mut [u8], value: u64) {
        let digits = field.len() - 1;
        let text = format!("{value:0digits$o}");
        assert_eq!(text.len(), digits, "{value} does not fit");
        field[..digits].copy_from_slice(text.as_bytes());
        field[digits] = 0;
    }

    /// Recomputes and stores the unsigned checksum, formatted as GNU tar
    /// does: six digits, NUL, space.
    fn fix_checksum(header: &mut [u8]) {
        header[CHKSUM].fill(b' ');
        let sum: u64 = header[..BLOCK_BYTES].iter().map(|b| u64::from(*b)).sum();
        let text = format!("{sum:06o}\0 ");
        header[CHKSUM].copy_from_slice(text.as_bytes());
    }

    /// A POSIX ustar header.
    fn header(name: &[u8], prefix: &[u8], kind: u8, size: u64) -> [u8; BLOCK_BYTES] {
        let mut block = [0u8; BLOCK_BYTES];
        block[..name.len()].copy_from_slice(name);
        put_octal(&mut block[100..108], 0o644);
        put_octal(&mut block[108..116], 0);
        put_octal(&mut block[116..124], 0);
        put_octal(&mut block[SIZE], size);
        put_octal(&mut block[136..148], 0o14_000_000_000);
        block[TYPEFLAG] = kind;
        block[MAGIC].copy_from_slice(USTAR_MAGIC);
        block[263..265].copy_from_slice(b"00");
        block[PREFIX][..prefix.len()].copy_from_slice(prefix);
        fix_checksum(&mut block);
        block
    }

    /// A complete archive with padding and the two end blocks.
    fn build(members: &[Member]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in members {
            out.extend_from_slice(&header(&m.name, &m.prefix, m.kind, m.data.len() as u64));
            out.extend_from_slice(&m.data);
            out.resize(out.len().next_multiple_of(BLOCK_BYTES), 0);
        }
        out.resize(out.len() + 2 * BLOCK_BYTES, 0);
        out
    }

    fn collect(archive: &[u8]) -> Vec<Result<Entry<'_>, TarError>> {
        entries(archive).collect()
    }

    #[test]
    fn octal_fields() {
        assert_eq!(parse_octal(b"00000001750\0"), Some(0o1750));
        assert_eq!(parse_octal(b"     1750 \0\0"), Some(0o1750));
        assert_eq!(parse_octal(b"\0\0\x00017\0\0"), Some(0o17));
        assert_eq!(parse_octal(b"777777777777"), Some(0o777_777_777_777));
        assert_eq!(parse_octal(b"000123 \0"), Some(0o123));
        assert_eq!(parse_octal(b"\0\0\0\0"), Some(0));
        assert_eq!(parse_octal(b"    "), Some(0));
        assert_eq!(parse_octal(b""), Some(0));
        assert_eq!(parse_octal(b"0000000018\0"), None);
        assert_eq!(parse_octal(b"00000x00017\0"), None);
        assert_eq!(parse_octal(b"12 34"), None);
        assert_eq!(parse_octal(b"12\0x"), None);
        assert_eq!(parse_octal(b"-1"), None);
        assert_eq!(parse_octal(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), None);
        // 22 digits: 1 << 63 still fits, 1 << 66 does not.
        assert_eq!(parse_octal(b"1000000000000000000000"), Some(1 << 63));
        assert_eq!(parse_octal(b"1777777777777777777777"), Some(u64::MAX));
        assert_eq!(parse_octal(b"2000000000000000000000"), None);
        assert_eq!(parse_octal(b"100000000000000000000000"), None);
    }

    #[test]
    fn helpers() {
        assert_eq!(until_nul(b"abc\0def"), b"abc");
        assert_eq!(until_nul(b"abc"), b"abc");
        assert_eq!(until_nul(b"\0"), b"");
        assert_eq!(strip_dot_slash(b"./././a/b"), b"a/b");
        assert_eq!(strip_dot_slash(b"../a"), b"../a");
        assert_eq!(strip_dot_slash(b".hidden"), b".hidden");
        assert!(!TarError::Truncated.to_string().is_empty());
        assert!(!TarError::BadHeader.to_string().is_empty());
        assert!(!TarError::NotFound.to_string().is_empty());
    }

    #[test]
    fn empty_archives() {
        assert!(collect(&[]).is_empty());
        assert!(collect(&[0u8; 1024]).is_empty());
        assert!(collect(&[0u8; 100]).is_empty());
        assert_eq!(find(&[], "init"), Err(TarError::NotFound));
        assert_eq!(find(&[0u8; 1024], "init"), Err(TarError::NotFound));
    }

    #[test]
    fn lists_members_in_order() {
        let archive = build(&[
            member("bin/", b'5', b""),
            member("bin/init", b'0', b"\x7fELF init"),
            member("etc/motd", 0, &[b'x'; 512]),
            member("link", b'2', b""),
            member("empty", b'0', b""),
        ]);
        let got = collect(&archive);
        assert_eq!(got.len(), 5);
        let names: Vec<&[u8]> = got.iter().map(|e| e.unwrap().name).collect();
        assert_eq!(
            names,
            [&b"bin/"[..], b"bin/init", b"etc/motd", b"link", b"empty"]
        );
        let init = got[1].unwrap();
        assert_eq!(init.kind, b'0');
        assert_eq!(init.prefix, b"");
        assert_eq!(init.data, b"\x7fELF init");
        assert_eq!(got[2].unwrap().data.len(), 512);
        assert_eq!(got[2].unwrap().kind, 0);
        assert!(got[4].unwrap().data.is_empty());
    }

    #[test]
    fn find_regular_files_only() {
        let archive = build(&[
            member("./", b'5', b""),
            member("./sbin", b'5', b""),
            member("./sbin/init", b'0', b"first program"),
            member("motd", 0, b"hello"),
            member("ln", b'2', b"not a file"),
            member("motd", b'0', b"shadowed"),
        ]);
        assert_eq!(find(&archive, "sbin/init"), Ok(&b"first program"[..]));
        assert_eq!(find(&archive, "./sbin/init"), Ok(&b"first program"[..]));
        assert_eq!(find(&archive, "motd"), Ok(&b"hello"[..]));
        assert_eq!(find(&archive, "sbin"), Err(TarError::NotFound));
        assert_eq!(find(&archive, "ln"), Err(TarError::NotFound));
        assert_eq!(find(&archive, "init"), Err(TarError::NotFound));
        assert_eq!(find(&archive, "sbin/init/"), Err(TarError::NotFound));
        assert_eq!(find(&archive, ""), Err(TarError::NotFound));
    }

    #[test]
    fn prefix_field_is_part_of_the_path() {
        let long_dir = "d".repeat(150);
        let mut m = member("server.elf", b'0', b"data");
        m.prefix = long_dir.as_bytes().to_vec();
        let mut dotted = member("x", b'0', b"dotted");
        dotted.prefix = b"./p".to_vec();
        let archive = build(&[m, dotted]);
        let entry = collect(&archive)[0].unwrap();
        assert_eq!(entry.prefix, long_dir.as_bytes());
        assert_eq!(entry.name, b"server.elf");
        assert_eq!(
            find(&archive, &format!("{long_dir}/server.elf")),
            Ok(&b"data"[..])
        );
        assert_eq!(find(&archive, "server.elf"), Err(TarError::NotFound));
        assert_eq!(find(&archive, &long_dir), Err(TarError::NotFound));
        assert_eq!(find(&archive, "p/x"), Ok(&b"dotted"[..]));
    }

    #[test]
    fn full_width_name_and_prefix() {
        let name = "n".repeat(100);
        let prefix = "p".repeat(155);
        let mut m = member(&name, b'0', b"wide");
        m.prefix = prefix.as_bytes().to_vec();
        let archive = build(&[m]);
        let entry = collect(&archive)[0].unwrap();
        assert_eq!(entry.name.len(), 100);
        assert_eq!(entry.prefix.len(), 155);
        assert_eq!(
            find(&archive, &format!("{prefix}/{name}")),
            Ok(&b"wide"[..])
        );
    }

    #[test]
    fn gnu_magic_ignores_the_prefix_area() {
        let mut archive = build(&[member("init", b'0', b"gnu")]);
        archive[MAGIC].copy_from_slice(b"ustar ");
        archive[263..265].copy_from_slice(b" \0");
        // GNU keeps atime/ctime where ustar has the prefix.
        archive[345..357].copy_from_slice(b"14000000000\0");
        fix_checksum(&mut archive[..BLOCK_BYTES]);
        let entry = collect(&archive)[0].unwrap();
        assert_eq!(entry.prefix, b"");
        assert_eq!(find(&archive, "init"), Ok(&b"gnu"[..]));
    }

    #[test]
    fn bad_checksum_is_rejected_and_iteration_stops() {
        let mut archive = build(&[member("a", b'0', b"1"), member("b", b'0', b"2")]);
        archive[BLOCK_BYTES * 2] ^= 1; // first byte of the second header
        let got = collect(&archive);
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert_eq!(got[1], Err(TarError::BadHeader));
        assert_eq!(find(&archive, "a"), Ok(&b"1"[..]));
        assert_eq!(find(&archive, "b"), Err(TarError::BadHeader));

        let mut iter = entries(&archive);
        assert!(iter.next().unwrap().is_ok());
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
        assert!(iter.next().is_none());
    }

    #[test]
    fn non_octal_checksum_field_is_rejected() {
        let mut archive = build(&[member("a", b'0', b"1")]);
        archive[CHKSUM.start] = b'9';
        assert_eq!(collect(&archive), [Err(TarError::BadHeader)]);
        archive[CHKSUM].copy_from_slice(b"\0\0\0\0\0\0\0\0");
        assert_eq!(collect(&archive), [Err(TarError::BadHeader)]);
    }

    #[test]
    fn signed_checksum_is_accepted() {
        let mut block = header(b"\xff\xfe\xfd", b"", b'0', 0);
        block[CHKSUM].fill(b' ');
        let signed: i64 = block.iter().map(|b| i64::from(b.cast_signed())).sum();
        let text = format!("{signed:06o}\0 ");
        block[CHKSUM].copy_from_slice(text.as_bytes());
        let got = collect(&block);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].unwrap().name, b"\xff\xfe\xfd");
    }

    #[test]
    fn non_octal_size_is_rejected() {
        let mut block = header(b"a", b"", b'0', 0);
        block[SIZE].copy_from_slice(b"0000000009\0\0");
        fix_checksum(&mut block);
        assert_eq!(collect(&block), [Err(TarError::BadHeader)]);
        // GNU base-256 encoding is not supported.
        block[SIZE].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        fix_checksum(&mut block);
        assert_eq!(collect(&block), [Err(TarError::BadHeader)]);
    }

    #[test]
    fn huge_sizes_are_truncated_not_panics() {
        for size in [b"77777777777\0", b"777777777777", b"00000004001\0"] {
            let mut archive = build(&[member("big", b'0', b"tiny")]);
            archive[SIZE].copy_from_slice(size);
            fix_checksum(&mut archive[..BLOCK_BYTES]);
            assert_eq!(collect(&archive), [Err(TarError::Truncated)]);
            assert_eq!(find(&archive, "big"), Err(TarError::Truncated));
        }
    }

    #[test]
    fn truncated_archives() {
        let archive = build(&[member("a", b'0', &[7; 700]), member("b", b'0', b"bee")]);
        // Cut inside the first header.
        assert_eq!(collect(&archive[..100]), [Err(TarError::Truncated)]);
        // Cut inside the first member's data.
        assert_eq!(
            collect(&archive[..BLOCK_BYTES + 699]),
            [Err(TarError::Truncated)]
        );
        // Cut inside the first member's padding: the member is whole.
        let got = collect(&archive[..BLOCK_BYTES + 700]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].unwrap().data.len(), 700);
        // Cut inside the second header.
        let got = collect(&archive[..3 * BLOCK_BYTES + 10]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Err(TarError::Truncated));
        // No end blocks at all: ends cleanly.
        let got = collect(&archive[..5 * BLOCK_BYTES]);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(Result::is_ok));
        // Cut inside the end blocks: ends cleanly.
        assert_eq!(collect(&archive[..5 * BLOCK_BYTES + 3]).len(), 2);
    }

    #[test]
    fn stops_at_the_first_zero_block() {
        let mut archive = build(&[member("a", b'0', b"1")]);
        archive.extend_from_slice(&build(&[member("after", b'0', b"2")]));
        assert_eq!(collect(&archive).len(), 1);
        assert_eq!(find(&archive, "after"), Err(TarError::NotFound));
    }

    /// Builds an archive with the host's tar, or `None` if there is none.
    fn host_tar(format: &str, files: &[(&str, &[u8])]) -> Option<Vec<u8>> {
        let dir =
            std::env::temp_dir().join(format!("kcore-tar-test-{}-{format}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, data) in files {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent()?).ok()?;
            std::fs::write(&file, data).ok()?;
        }
        let output = std::process::Command::new("tar")
            .arg(format!("--format={format}"))
            .args(["-cf", "-", "-C"])
            .arg(&dir)
            .arg(".")
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        match output {
            Ok(output) if output.status.success() => Some(output.stdout),
            _ => {
                eprintln!("host tar unavailable or failed for --format={format}; skipping");
                None
            }
        }
    }

    #[test]
    fn reads_archives_written_by_host_tar() {
        let long_path = format!("{}/{}", "l".repeat(60), "f".repeat(70));
        let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let short: &[(&str, &[u8])] = &[
            ("init", b"the first program"),
            ("bin/server", &big),
            ("empty", b""),
        ];
        for format in ["ustar", "gnu", "posix"] {
            let Some(archive) = host_tar(format, short) else {
                continue;
            };
            for (path, data) in short {
                assert_eq!(find(&archive, path), Ok(*data), "{format} {path}");
            }
            assert_eq!(find(&archive, "bin"), Err(TarError::NotFound), "{format}");
            assert!(entries(&archive).all(|e| e.is_ok()), "{format}");
        }
        let with_long: &[(&str, &[u8])] = &[("init", b"x"), (&long_path, b"long")];
        if let Some(archive) = host_tar("ustar", with_long) {
            assert_eq!(find(&archive, &long_path), Ok(&b"long"[..]));
            assert!(entries(&archive).any(|e| e.is_ok_and(|e| !e.prefix.is_empty())));
        }
    }

    /// One path segment of generated names.
    const SEGMENT: &str = "[a-z0-9_.-]{1,12}";

    fn member_strategy() -> impl Strategy<Value = Member> {
        let path = proptest::collection::vec(SEGMENT, 1..5).prop_map(|parts| parts.join("/"));
        (
            prop_oneof![Just(String::new()), Just("./".to_string())],
            path.clone(),
            prop_oneof![Just(String::new()), path],
            prop_oneof![Just(b'0'), Just(0u8), Just(b'5'), Just(b'2'), Just(b'x')],
            proptest::collection::vec(any::<u8>(), 0..1300),
        )
            .prop_map(|(dot, name, prefix, kind, data)| Member {
                name: format!("{dot}{name}").into_bytes(),
                prefix: prefix.into_bytes(),
                kind,
                data,
            })
    }

    /// The path [`find`] should match a member by.
    fn model_path(m: &Member) -> Vec<u8> {
        let mut joined = m.prefix.clone();
        if !joined.is_empty() {
            joined.push(b'/');
        }
        joined.extend_from_slice(&m.name);
        strip_dot_slash(&joined).to_vec()
    }

    /// Runs every reader path over `bytes`; it must not panic.
    fn exercise(bytes: &[u8]) {
        let results: Vec<_> = entries(bytes).collect();
        // At most one error, and only as the last item.
        let errors = results.iter().filter(|r| r.is_err()).count();
        assert!(errors <= 1);
        if errors == 1 {
            assert!(results.last().unwrap().is_err());
        }
        for entry in results.iter().flatten() {
            assert!(entry.name.len() <= 100 && entry.prefix.len() <= 155);
            let _ = entry.path_matches("init");
        }
        let _ = find(bytes, "init");
        let _ = find(bytes, "");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
            exercise(&bytes);
        }

        #[test]
        fn random_headers_with_valid_checksums_never_panic(
            mut block in proptest::collection::vec(any::<u8>(), BLOCK_BYTES),
            size in prop_oneof![
                proptest::collection::vec(prop_oneof![Just(b'0'), Just(b'7'), Just(b' '), Just(0u8), any::<u8>()], 12),
                Just(b"77777777777\0".to_vec()),
            ],
            tail in proptest::collection::vec(any::<u8>(), 0..2000),
        ) {
            block[SIZE].copy_from_slice(&size);
            fix_checksum(&mut block);
            block.extend_from_slice(&tail);
            exercise(&block);
        }

        #[test]
        fn mutated_archives_never_panic(
            members in proptest::collection::vec(member_strategy(), 0..5),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            refix in any::<bool>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut archive = build(&members);
            for (at, value) in edits {
                let at = at.index(archive.len());
                archive[at] = value;
            }
            if refix {
                fix_checksum(&mut archive[..BLOCK_BYTES]);
            }
            exercise(&archive);
            let cut = cut.index(archive.len() + 1);
            exercise(&archive[..cut]);
        }

        #[test]
        fn valid_archives_round_trip(members in proptest::collection::vec(member_strategy(), 0..6)) {
            let archive = build(&members);
            let got: Vec<Member> = entries(&archive)
                .map(|entry| {
                    let entry = entry.expect("valid archive");
                    Member {
                        name: entry.name.to_vec(),
                        prefix: entry.prefix.to_vec(),
                        kind: entry.kind,
                        data: entry.data.to_vec(),
                    }
                })
                .collect();
            prop_assert_eq!(&got, &members);
            for m in &members {
                let path = String::from_utf8(model_path(m)).unwrap();
                let want = members
                    .iter()
                    .find(|other| matches!(other.kind, b'0' | 0) && model_path(other) == model_path(m))
                    .map(|other| other.data.as_slice())
                    .ok_or(TarError::NotFound);
                prop_assert_eq!(find(&archive, &path), want);
            }
        }

        #[test]
        fn truncated_valid_archives_fail_cleanly(
            members in proptest::collection::vec(member_strategy(), 1..5),
            cut in any::<prop::sample::Index>(),
        ) {
            let archive = build(&members);
            let cut = cut.index(archive.len());
            let results: Vec<_> = entries(&archive[..cut]).collect();
            // Whatever was read is a prefix of the members; then either the
            // end or a truncation error.
            for (result, m) in results.iter().zip(&members) {
                match result {
                    Ok(entry) => {
                        prop_assert_eq!(entry.name, &m.name[..]);
                        prop_assert_eq!(entry.data, &m.data[..]);
                    }
                    Err(error) => prop_assert_eq!(*error, TarError::Truncated),
                }
            }
        }
    }
}
