//! One 512-byte tar header block: where its fields are, which dialect wrote
//! it, its checksum, and its numbers (octal text or GNU base-256).
//!
//! Every accessor takes fixed ranges of a `[u8; 512]`, so none can go out of
//! bounds; numbers come back as `Option` and never overflow.
//!
//! # Layout
//!
//! Offsets in bytes. The first 257 bytes are common to every dialect (the
//! 1979 Seventh Edition "v7" header stops there); POSIX ustar and GNU put a
//! magic at 257 and differ after 345.
//!
//! | field      | offset | len | notes                                             |
//! |------------|--------|-----|---------------------------------------------------|
//! | `name`     | 0      | 100 | NUL-terminated unless it fills the field          |
//! | `mode`     | 100    | 8   | permission bits; numbers are octal or base-256    |
//! | `uid`      | 108    | 8   |                                                   |
//! | `gid`      | 116    | 8   |                                                   |
//! | `size`     | 124    | 12  | bytes of data that follow the header              |
//! | `mtime`    | 136    | 12  | seconds since 1970, may be negative in base-256   |
//! | `chksum`   | 148    | 8   | sum of the header bytes, this field as spaces     |
//! | `typeflag` | 156    | 1   | see [`super::reader`]                             |
//! | `linkname` | 157    | 100 | target of a hard or symbolic link                 |
//! | `magic`    | 257    | 6   | `"ustar\0"` POSIX, `"ustar "` GNU, zeros for v7   |
//! | `version`  | 263    | 2   | `"00"` POSIX, `" \0"` GNU                         |
//! | `devmajor` | 329    | 8   | device numbers (ustar and GNU only)               |
//! | `devminor` | 337    | 8   |                                                   |
//! | `prefix`   | 345    | 155 | POSIX only: leading components of the path        |
//!
//! GNU headers use the `prefix` area for other things: `atime`, `ctime`,
//! four sparse-map entries at 386, `isextended` at 482 and the real size of
//! a sparse file at 483. The `star` dialect ends its prefix at 131 bytes
//! and marks itself with `"tar\0"` at 508.
//!
//! # Numbers
//!
//! Octal numbers may have leading spaces or NULs and end at a space, a NUL
//! or the field's end. GNU tar writes a value that does not fit in octal
//! (a file of 8 GiB or more, a negative time) in base 256: the first byte
//! has its top bit set, bit 6 is the sign, and the remaining bits of the
//! field are a big-endian two's-complement number.
//!
//! # Checksum
//!
//! The sum of all 512 bytes with `chksum` counted as eight spaces. POSIX
//! asks for unsigned bytes; some historic tars summed signed bytes, and
//! both are accepted, as GNU tar does.

use core::ops::Range;

/// Size of a tar block (and of a header), in bytes.
pub const BLOCK_BYTES: usize = 512;

/// A header block, borrowed from the archive.
pub type Block = [u8; BLOCK_BYTES];

/// Field `name`.
const NAME: Range<usize> = 0..100;
/// Field `mode`.
const MODE: Range<usize> = 100..108;
/// Field `uid`.
const UID: Range<usize> = 108..116;
/// Field `gid`.
const GID: Range<usize> = 116..124;
/// Field `size`.
const SIZE: Range<usize> = 124..136;
/// Field `mtime`.
const MTIME: Range<usize> = 136..148;
/// Field `chksum`.
pub const CHKSUM: Range<usize> = 148..156;
/// Field `typeflag`.
const TYPEFLAG: usize = 156;
/// Field `linkname`.
const LINKNAME: Range<usize> = 157..257;
/// Fields `magic` and `version` together.
const MAGIC_VERSION: Range<usize> = 257..265;
/// Field `devmajor`.
const DEVMAJOR: Range<usize> = 329..337;
/// Field `devminor`.
const DEVMINOR: Range<usize> = 337..345;
/// Field `prefix` (POSIX ustar).
const PREFIX: Range<usize> = 345..500;
/// Field `prefix` in the `star` dialect, which keeps times after it.
const STAR_PREFIX: Range<usize> = 345..476;
/// Where `star` puts its trailing magic.
const STAR_TRAILER: Range<usize> = 508..512;
/// GNU: the `isextended` flag of the sparse map in the header.
const GNU_IS_EXTENDED: usize = 482;
/// GNU sparse extension block: its `isextended` flag.
const GNU_EXTENSION_IS_EXTENDED: usize = 504;

/// Which writer's layout a header follows (by its magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// POSIX.1-1988 ustar and pax (`"ustar\0"`): `prefix` is part of the
    /// path.
    Ustar,
    /// GNU tar's own formats (`"ustar  \0"`): no prefix; sparse fields.
    Gnu,
    /// No magic: the Seventh Edition header, without device numbers or
    /// prefix.
    V7,
}

/// A numeric field that is not a valid number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `mode`.
    Mode,
    /// `uid`.
    Uid,
    /// `gid`.
    Gid,
    /// `mtime`.
    Mtime,
    /// `devmajor` or `devminor`.
    Device,
}

impl Field {
    /// The field's name as the format calls it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mode => "mode",
            Self::Uid => "uid",
            Self::Gid => "gid",
            Self::Mtime => "mtime",
            Self::Device => "devmajor/devminor",
        }
    }
}

/// A view of one header block.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// The 512 bytes.
    block: &'a Block,
}

impl<'a> Header<'a> {
    /// Wraps a block (its checksum is not checked here).
    pub fn new(block: &'a Block) -> Self {
        Self { block }
    }

    /// The layout this header follows.
    pub fn dialect(&self) -> Dialect {
        match &self.block[MAGIC_VERSION] {
            b"ustar  \0" => Dialect::Gnu,
            magic if magic.starts_with(b"ustar\0") => Dialect::Ustar,
            _ => Dialect::V7,
        }
    }

    /// The `typeflag` byte.
    pub fn typeflag(&self) -> u8 {
        self.block[TYPEFLAG]
    }

    /// The `name` field up to its first NUL.
    pub fn name(&self) -> &'a [u8] {
        until_nul(&self.block[NAME])
    }

    /// The `prefix` field up to its first NUL; empty unless POSIX ustar.
    pub fn prefix(&self) -> &'a [u8] {
        if self.dialect() != Dialect::Ustar {
            return &[];
        }
        if &self.block[STAR_TRAILER] == b"tar\0" {
            until_nul(&self.block[STAR_PREFIX])
        } else {
            until_nul(&self.block[PREFIX])
        }
    }

    /// The `linkname` field up to its first NUL.
    pub fn link_name(&self) -> &'a [u8] {
        until_nul(&self.block[LINKNAME])
    }

    /// The `size` field, or `None` if it is not a number or negative.
    pub fn size(&self) -> Option<u64> {
        parse_unsigned(&self.block[SIZE])
    }

    /// The permission bits (`mode` masked to `0o7777`).
    pub fn mode(&self) -> Result<u32, Field> {
        let mode = parse_unsigned(&self.block[MODE]).ok_or(Field::Mode)?;
        // Some writers include the file-type bits; only the low twelve
        // are permissions.
        u32::try_from(mode & 0o7777).map_err(|_| Field::Mode)
    }

    /// The `uid` field.
    pub fn uid(&self) -> Result<u64, Field> {
        parse_unsigned(&self.block[UID]).ok_or(Field::Uid)
    }

    /// The `gid` field.
    pub fn gid(&self) -> Result<u64, Field> {
        parse_unsigned(&self.block[GID]).ok_or(Field::Gid)
    }

    /// The `mtime` field, in seconds since 1970.
    pub fn mtime(&self) -> Result<i64, Field> {
        parse_number(&self.block[MTIME]).ok_or(Field::Mtime)
    }

    /// `(devmajor, devminor)`; zeros in a v7 header, which has no such
    /// fields.
    pub fn device(&self) -> Result<(u32, u32), Field> {
        if self.dialect() == Dialect::V7 {
            return Ok((0, 0));
        }
        let number = |range: Range<usize>| {
            parse_unsigned(&self.block[range]).and_then(|value| u32::try_from(value).ok())
        };
        let major = number(DEVMAJOR).ok_or(Field::Device)?;
        let minor = number(DEVMINOR).ok_or(Field::Device)?;
        Ok((major, minor))
    }

    /// GNU: whether sparse extension blocks follow this header.
    pub fn gnu_is_extended(&self) -> bool {
        self.block[GNU_IS_EXTENDED] != 0
    }

    /// Whether the stored checksum matches (see the module documentation).
    ///
    /// Every lookup checks every header of the archive, so this is the
    /// reader's hot loop: the unsigned sum is taken a word at a time
    /// ([`byte_sum`]), and the signed sum, which only historic writers
    /// produce, only when the unsigned one does not match.
    pub fn checksum_ok(&self) -> bool {
        let Some(stored) = parse_octal(&self.block[CHKSUM]) else {
            return false;
        };
        // The sum counts `chksum` as eight spaces: take its own bytes out
        // and the spaces in. At most 512 * 255, so nothing overflows.
        let field = &self.block[CHKSUM];
        let field_sum: u64 = field.iter().map(|byte| u64::from(*byte)).sum();
        let spaces = u64::from(b' ') * CHKSUM.len() as u64;
        let unsigned_sum = byte_sum(self.block) - field_sum + spaces;
        stored == unsigned_sum
            || i64::try_from(stored).is_ok_and(|stored| stored == self.signed_checksum())
    }

    /// The checksum as historic tars computed it, summing signed bytes.
    fn signed_checksum(&self) -> i64 {
        self.block
            .iter()
            .enumerate()
            .map(|(index, byte)| {
                let byte = if CHKSUM.contains(&index) { b' ' } else { *byte };
                i64::from(byte.cast_signed())
            })
            .sum()
    }
}

/// The sum of a block's bytes, as unsigned numbers.
///
/// Eight bytes at a time: the even bytes of a word masked into four 16-bit
/// lanes, the odd bytes shifted down into the same lanes, both added to
/// one accumulator. A lane gains at most 2 * 255 per word, so after the
/// block's 64 words it holds at most 32,640 and never carries into the
/// next; the four lanes are added at the end.
fn byte_sum(block: &Block) -> u64 {
    const EVEN_BYTES: u64 = 0x00ff_00ff_00ff_00ff;
    const LOW_LANES: u64 = 0x0000_ffff_0000_ffff;
    let (words, rest) = block.as_chunks::<8>();
    debug_assert!(rest.is_empty());
    let mut lanes: u64 = 0;
    for word in words {
        let word = u64::from_le_bytes(*word);
        lanes += (word & EVEN_BYTES) + ((word >> 8) & EVEN_BYTES);
    }
    let pairs = (lanes & LOW_LANES) + ((lanes >> 16) & LOW_LANES);
    (pairs & 0xffff_ffff) + (pairs >> 32)
}

/// GNU: whether another sparse extension block follows this one.
pub fn gnu_extension_is_extended(block: &Block) -> bool {
    block[GNU_EXTENSION_IS_EXTENDED] != 0
}

/// A numeric field that must not be negative.
pub fn parse_unsigned(field: &[u8]) -> Option<u64> {
    match field.first() {
        Some(first) if first & 0x80 != 0 => u64::try_from(parse_base256(field)?).ok(),
        _ => parse_octal(field),
    }
}

/// A numeric field, octal or base-256, as a signed number.
pub fn parse_number(field: &[u8]) -> Option<i64> {
    match field.first() {
        Some(first) if first & 0x80 != 0 => parse_base256(field),
        _ => i64::try_from(parse_octal(field)?).ok(),
    }
}

/// GNU base-256: top bit of the first byte set, bit 6 the sign, then a
/// big-endian two's-complement number in the remaining bits. `None` if it
/// does not fit an `i64`.
fn parse_base256(field: &[u8]) -> Option<i64> {
    let (&first, rest) = field.split_first()?;
    let negative = first & 0x40 != 0;
    // Work on the magnitude's bits: invert a negative number's bytes, so
    // that the value is `!bits` and both signs share the overflow check.
    let flip = if negative { 0xff } else { 0 };
    let mut bits: u64 = u64::from((first ^ flip) & 0x3f);
    for &byte in rest {
        if bits >> 56 != 0 {
            return None;
        }
        bits = (bits << 8) | u64::from(byte ^ flip);
    }
    let magnitude = i64::try_from(bits).ok()?;
    Some(if negative { !magnitude } else { magnitude })
}

/// Octal text: optional leading spaces or NULs, octal digits, then only
/// spaces or NULs to the end of the field. A field with no digits is 0.
/// `None` for any other byte or on overflow.
pub fn parse_octal(field: &[u8]) -> Option<u64> {
    // Read once per header for `chksum` and `size`, so a plain index walk
    // rather than iterator adapters: three phases, each a tight loop.
    let is_filler = |byte: u8| byte == b' ' || byte == 0;
    let mut index = 0;
    while index < field.len() && is_filler(field[index]) {
        index += 1;
    }
    let mut value: u64 = 0;
    while index < field.len() {
        let digit = field[index].wrapping_sub(b'0');
        if digit > 7 {
            break;
        }
        // 21 octal digits fill 63 bits; one more must not overflow.
        if value >> 61 != 0 {
            return None;
        }
        value = (value << 3) | u64::from(digit);
        index += 1;
    }
    while index < field.len() {
        if !is_filler(field[index]) {
            return None;
        }
        index += 1;
    }
    Some(value)
}

/// `field` up to (not including) its first NUL, or all of it.
pub fn until_nul(field: &[u8]) -> &[u8] {
    match field.iter().position(|byte| *byte == 0) {
        Some(len) => field.get(..len).unwrap_or(field),
        None => field,
    }
}

/// Whether every byte is zero.
pub fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|byte| *byte == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse_octal(&[b'7'; 30]), None);
    }

    #[test]
    fn base256_fields() {
        // 10 GiB, as GNU tar writes a size that octal cannot hold.
        let mut size = [0u8; 12];
        size[0] = 0x80;
        size[7..].copy_from_slice(&[0x02, 0x80, 0, 0, 0]);
        assert_eq!(parse_unsigned(&size), Some(10 << 30));
        assert_eq!(parse_number(&size), Some(10 << 30));
        // Small values work too.
        let mut small = [0u8; 8];
        small[0] = 0x80;
        small[7] = 5;
        assert_eq!(parse_unsigned(&small), Some(5));
        // -1 and -256.
        assert_eq!(parse_number(&[0xff; 12]), Some(-1));
        let mut minus = [0xffu8; 12];
        minus[11] = 0;
        assert_eq!(parse_number(&minus), Some(-256));
        assert_eq!(parse_unsigned(&[0xff; 12]), None);
        // Too big for 64 bits.
        let mut huge = [0u8; 12];
        huge[0] = 0x80;
        huge[3] = 1;
        assert_eq!(parse_number(&huge), None);
        assert_eq!(parse_unsigned(&huge), None);
        // The largest i64, and one more.
        let mut max = [0u8; 12];
        max[0] = 0x80;
        max[4..].copy_from_slice(&i64::MAX.to_be_bytes());
        assert_eq!(parse_number(&max), Some(i64::MAX));
        max[4] = 0x80;
        assert_eq!(parse_number(&max), None);
        // The smallest i64.
        let mut min = [0xffu8; 12];
        min[4..].copy_from_slice(&i64::MIN.to_be_bytes());
        assert_eq!(parse_number(&min), Some(i64::MIN));
    }

    #[test]
    fn byte_sum_matches_a_plain_sum() {
        let plain = |block: &Block| block.iter().map(|byte| u64::from(*byte)).sum::<u64>();
        let mut block = [0xffu8; BLOCK_BYTES];
        assert_eq!(byte_sum(&block), 512 * 255);
        block.fill(0);
        assert_eq!(byte_sum(&block), 0);
        // Every byte value at every position.
        let mut seed: u32 = 1;
        for _ in 0..200 {
            for byte in &mut block {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                *byte = (seed >> 16) as u8;
            }
            assert_eq!(byte_sum(&block), plain(&block));
        }
    }

    #[test]
    fn dialects() {
        let mut block = [0u8; BLOCK_BYTES];
        block[345] = b'p';
        assert_eq!(Header::new(&block).dialect(), Dialect::V7);
        assert_eq!(Header::new(&block).prefix(), b"");
        block[MAGIC_VERSION].copy_from_slice(b"ustar  \0");
        assert_eq!(Header::new(&block).dialect(), Dialect::Gnu);
        assert_eq!(Header::new(&block).prefix(), b"");
        block[MAGIC_VERSION].copy_from_slice(b"ustar\x0000");
        assert_eq!(Header::new(&block).dialect(), Dialect::Ustar);
        assert_eq!(Header::new(&block).prefix(), b"p");
        block[PREFIX].fill(b'q');
        assert_eq!(Header::new(&block).prefix().len(), 155);
        block[STAR_TRAILER].copy_from_slice(b"tar\0");
        assert_eq!(Header::new(&block).prefix().len(), 131);
    }
}
