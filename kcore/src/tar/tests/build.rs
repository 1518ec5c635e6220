//! A tar writer for the tests: every header dialect, pax and GNU records,
//! GNU sparse headers, and fields set by hand, so that the tests can make
//! archives no tool writes.

use crate::tar::header::{BLOCK_BYTES, CHKSUM};

/// Which magic a test header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// `"ustar\0" "00"`.
    Ustar,
    /// `"ustar " " \0"`.
    Gnu,
    /// None (v7).
    V7,
}

/// One header to write.
#[derive(Debug, Clone)]
pub struct Head {
    pub name: Vec<u8>,
    pub prefix: Vec<u8>,
    pub typeflag: u8,
    pub size: u64,
    pub link: Vec<u8>,
    pub magic: Magic,
    pub mode: u64,
    pub mtime: u64,
    /// Write `size` in base-256 even when octal would do.
    pub base256_size: bool,
}

impl Head {
    /// A POSIX ustar header for `name`.
    pub fn new(name: &str, typeflag: u8, size: u64) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            prefix: Vec::new(),
            typeflag,
            size,
            link: Vec::new(),
            magic: Magic::Ustar,
            mode: 0o644,
            mtime: 0o14_000_000_000,
            base256_size: false,
        }
    }

    /// The 512-byte header with a valid checksum.
    pub fn block(&self) -> [u8; BLOCK_BYTES] {
        let mut block = [0u8; BLOCK_BYTES];
        block[..self.name.len()].copy_from_slice(&self.name);
        put_octal(&mut block[100..108], self.mode);
        put_octal(&mut block[108..116], 1000);
        put_octal(&mut block[116..124], 100);
        if self.base256_size {
            block[124] = 0x80;
            block[128..136].copy_from_slice(&self.size.to_be_bytes());
        } else {
            put_octal(&mut block[124..136], self.size);
        }
        put_octal(&mut block[136..148], self.mtime);
        block[156] = self.typeflag;
        block[157..157 + self.link.len()].copy_from_slice(&self.link);
        match self.magic {
            Magic::Ustar => block[257..265].copy_from_slice(b"ustar\x0000"),
            Magic::Gnu => block[257..265].copy_from_slice(b"ustar  \0"),
            Magic::V7 => {}
        }
        if self.magic != Magic::V7 {
            put_octal(&mut block[329..337], 0);
            put_octal(&mut block[337..345], 0);
        }
        block[345..345 + self.prefix.len()].copy_from_slice(&self.prefix);
        fix_checksum(&mut block);
        block
    }
}

/// Writes `value` as `width - 1` octal digits and a NUL into `field`.
pub fn put_octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    assert_eq!(text.len(), digits, "{value} does not fit");
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

/// Recomputes and stores the unsigned checksum, formatted as GNU tar does:
/// six digits, NUL, space.
pub fn fix_checksum(header: &mut [u8]) {
    header[CHKSUM].fill(b' ');
    let sum: u64 = header[..BLOCK_BYTES].iter().map(|b| u64::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    header[CHKSUM].copy_from_slice(text.as_bytes());
}

/// One pax record `"<len> key=value\n"`.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut record = format!("{len} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// An archive under construction.
#[derive(Debug, Default, Clone)]
pub struct Archive {
    pub bytes: Vec<u8>,
}

impl Archive {
    pub fn new() -> Self {
        Self::default()
    }

    /// A header and `data`, padded to a block. `data` may differ in length
    /// from the header's size, to make odd archives.
    pub fn raw(&mut self, head: &Head, data: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(&head.block());
        self.bytes.extend_from_slice(data);
        self.pad();
        self
    }

    /// Zeros up to the next block boundary.
    pub fn pad(&mut self) {
        self.bytes
            .resize(self.bytes.len().next_multiple_of(BLOCK_BYTES), 0);
    }

    /// A member of type `typeflag` with `data`.
    pub fn member(&mut self, name: &str, typeflag: u8, data: &[u8]) -> &mut Self {
        self.raw(&Head::new(name, typeflag, data.len() as u64), data)
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.member(name, b'0', data)
    }

    /// A directory.
    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.member(name, b'5', b"")
    }

    /// A link (`b'1'` hard, `b'2'` symbolic) to `target`.
    pub fn link(&mut self, name: &str, typeflag: u8, target: &str) -> &mut Self {
        let mut head = Head::new(name, typeflag, 0);
        head.link = target.as_bytes().to_vec();
        self.raw(&head, b"")
    }

    /// A pax extended header (`b'x'` or `b'g'`) with these records.
    pub fn pax(&mut self, typeflag: u8, records: &[(&str, &[u8])]) -> &mut Self {
        let data: Vec<u8> = records
            .iter()
            .flat_map(|(key, value)| pax_record(key, value))
            .collect();
        self.member("PaxHeaders/x", typeflag, &data)
    }

    /// A GNU long-name (`b'L'`) or long-link (`b'K'`) record.
    pub fn gnu_long(&mut self, typeflag: u8, name: &[u8]) -> &mut Self {
        let mut data = name.to_vec();
        data.push(0);
        let mut head = Head::new("././@LongLink", typeflag, data.len() as u64);
        head.magic = Magic::Gnu;
        self.raw(&head, &data)
    }

    /// A GNU sparse (`S`) member with `segments` map entries, each of
    /// `chunk` stored bytes, so `segments - 4` entries go to extension
    /// blocks. The stored data is `fill` repeated.
    pub fn gnu_sparse(&mut self, name: &str, segments: usize, chunk: usize, fill: u8) -> &mut Self {
        let stored = segments * chunk;
        let mut head = Head::new(name, b'S', stored as u64);
        head.magic = Magic::Gnu;
        let mut block = head.block();
        let entry = |field: &mut [u8], index: usize| {
            put_octal(&mut field[..12], (index * 2 * chunk) as u64);
            put_octal(&mut field[12..24], chunk as u64);
        };
        for index in 0..segments.min(4) {
            entry(&mut block[386 + 24 * index..410 + 24 * index], index);
        }
        block[482] = u8::from(segments > 4);
        put_octal(&mut block[483..495], (segments * 2 * chunk) as u64);
        fix_checksum(&mut block);
        self.bytes.extend_from_slice(&block);
        let mut index = 4;
        while index < segments {
            let mut extension = [0u8; BLOCK_BYTES];
            for slot in 0..21 {
                if index < segments {
                    entry(&mut extension[24 * slot..24 * slot + 24], index);
                    index += 1;
                }
            }
            extension[504] = u8::from(index < segments);
            self.bytes.extend_from_slice(&extension);
        }
        self.bytes.extend(std::iter::repeat_n(fill, stored));
        self.pad();
        self
    }

    /// The archive with its two end blocks.
    pub fn finish(&self) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        bytes.resize(bytes.len() + 2 * BLOCK_BYTES, 0);
        bytes
    }
}
