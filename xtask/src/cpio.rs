//! A minimal writer for the "newc" cpio format (the one the Linux kernel
//! unpacks as an initramfs).
//!
//! Each member is a 110-byte ASCII header (`070701` and thirteen 8-digit
//! hex fields), the NUL-terminated path padded with NULs to a multiple of 4
//! bytes counted from the start of the header, then the file data padded to
//! a multiple of 4. The archive ends with a member named `TRAILER!!!`.
//! Timestamps, owners and inode numbers are fixed, so the output depends
//! only on the entries.

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFCHR: u32 = 0o020_000;

/// Length of a newc header.
const HEADER_LEN: usize = 110;

/// What a cpio member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpioKind {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A character device node.
    CharDev {
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
    },
}

/// One member of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpioEntry {
    /// Path inside the archive, without a leading `/` (e.g. `dev/console`).
    /// Parents must come earlier in the list.
    pub path: String,
    /// Permission bits (`0o755`); the file type bits come from `kind`.
    pub perm: u32,
    /// Directory, file or device node.
    pub kind: CpioKind,
}

impl CpioEntry {
    /// A directory with the given permissions.
    pub fn dir(path: &str, perm: u32) -> Self {
        Self {
            path: path.to_owned(),
            perm,
            kind: CpioKind::Dir,
        }
    }

    /// A regular file with the given permissions and contents.
    pub fn file(path: &str, perm: u32, data: Vec<u8>) -> Self {
        Self {
            path: path.to_owned(),
            perm,
            kind: CpioKind::File(data),
        }
    }

    /// A character device node (`/dev/console` is major 5, minor 1).
    pub fn char_dev(path: &str, perm: u32, major: u32, minor: u32) -> Self {
        Self {
            path: path.to_owned(),
            perm,
            kind: CpioKind::CharDev { major, minor },
        }
    }
}

/// Serialises `entries`, in order, followed by the `TRAILER!!!` member.
pub fn write_newc(entries: &[CpioEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = entry.path.trim_start_matches('/');
        let (ty, nlink, data, rdev): (u32, u32, &[u8], (u32, u32)) = match &entry.kind {
            CpioKind::Dir => (S_IFDIR, 2, &[], (0, 0)),
            CpioKind::File(data) => (S_IFREG, 1, data, (0, 0)),
            CpioKind::CharDev { major, minor } => (S_IFCHR, 1, &[], (*major, *minor)),
        };
        let header = Header {
            // Inode 0 is avoided; each member gets its own number so that no
            // two regular files look like hard links of each other.
            ino: u32::try_from(i + 1).expect("too many cpio entries"),
            mode: ty | (entry.perm & 0o7777),
            nlink,
            filesize: u32::try_from(data.len()).expect("cpio member larger than 4 GiB"),
            rdevmajor: rdev.0,
            rdevminor: rdev.1,
        };
        push_member(&mut out, &header, path, data);
    }
    let trailer = Header {
        ino: 0,
        mode: 0,
        nlink: 1,
        filesize: 0,
        rdevmajor: 0,
        rdevminor: 0,
    };
    push_member(&mut out, &trailer, "TRAILER!!!", &[]);
    out
}

/// The header fields that vary between members; the rest are 0.
struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    filesize: u32,
    rdevmajor: u32,
    rdevminor: u32,
}

/// Appends one header, name and data, each padded to 4 bytes.
fn push_member(out: &mut Vec<u8>, h: &Header, name: &str, data: &[u8]) {
    let namesize = u32::try_from(name.len() + 1).expect("cpio name too long");
    let fields: [u32; 13] = [
        h.ino,
        h.mode,
        0, // uid
        0, // gid
        h.nlink,
        0, // mtime
        h.filesize,
        0, // devmajor
        0, // devminor
        h.rdevmajor,
        h.rdevminor,
        namesize,
        0, // check (only used by the crc variant)
    ];
    let start = out.len();
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    debug_assert_eq!(out.len() - start, HEADER_LEN);
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// NUL-pads `out` to a multiple of 4 bytes. Every member starts at a
/// multiple of 4, so padding the whole buffer pads the member correctly.
fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member read back from an archive.
    #[derive(Debug)]
    struct Parsed {
        name: String,
        fields: [u32; 13],
        data: Vec<u8>,
    }

    /// A strict reader used to check the writer: it fails on any misaligned
    /// member or bad magic.
    fn parse(mut buf: &[u8]) -> Vec<Parsed> {
        let total = buf.len();
        let mut members = Vec::new();
        loop {
            let offset = total - buf.len();
            assert_eq!(offset % 4, 0, "member at unaligned offset {offset}");
            assert_eq!(&buf[..6], b"070701");
            let mut fields = [0u32; 13];
            for (k, f) in fields.iter_mut().enumerate() {
                let hex = std::str::from_utf8(&buf[6 + 8 * k..14 + 8 * k]).unwrap();
                *f = u32::from_str_radix(hex, 16).unwrap();
            }
            let namesize = fields[11] as usize;
            let name_end = HEADER_LEN + namesize;
            assert_eq!(buf[name_end - 1], 0, "name not NUL-terminated");
            let name = String::from_utf8(buf[HEADER_LEN..name_end - 1].to_vec()).unwrap();
            let data_start = name_end.next_multiple_of(4);
            assert!(buf[name_end..data_start].iter().all(|&b| b == 0));
            let data_end = data_start + fields[6] as usize;
            let data = buf[data_start..data_end].to_vec();
            let next = data_end.next_multiple_of(4);
            assert!(buf[data_end..next].iter().all(|&b| b == 0));
            buf = &buf[next..];
            let done = name == "TRAILER!!!";
            members.push(Parsed { name, fields, data });
            if done {
                assert!(buf.is_empty(), "bytes after the trailer");
                return members;
            }
        }
    }

    #[test]
    fn empty_archive_is_just_the_trailer() {
        let out = write_newc(&[]);
        // 110 + 11 ("TRAILER!!!\0") = 121, padded to 124.
        assert_eq!(out.len(), 124);
        let m = parse(&out);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].name, "TRAILER!!!");
        assert_eq!(m[0].fields[11], 11);
    }

    #[test]
    fn header_is_exact_ascii() {
        let out = write_newc(&[CpioEntry::file("init", 0o755, b"abc".to_vec())]);
        let expected = concat!(
            "070701", "00000001", "000081ED", "00000000", "00000000", "00000001", "00000000",
            "00000003", "00000000", "00000000", "00000000", "00000000", "00000005", "00000000",
        );
        assert_eq!(&out[..HEADER_LEN], expected.as_bytes());
        // Name "init\0" ends at 115, padded to 116; data "abc" padded to 120.
        assert_eq!(&out[HEADER_LEN..116], b"init\0\0");
        assert_eq!(&out[116..120], b"abc\0");
        assert_eq!(&out[120..126], b"070701");
    }

    #[test]
    fn round_trip_of_an_initramfs() {
        let init: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let entries = [
            CpioEntry::dir("dev", 0o755),
            CpioEntry::char_dev("/dev/console", 0o600, 5, 1),
            CpioEntry::file("init", 0o755, init.clone()),
            CpioEntry::file("e", 0o644, Vec::new()),
        ];
        let out = write_newc(&entries);
        assert_eq!(out.len() % 4, 0);
        let m = parse(&out);
        assert_eq!(m.len(), 5);

        assert_eq!(m[0].name, "dev");
        assert_eq!(m[0].fields[1], 0o040_755);
        assert_eq!(m[0].fields[4], 2);

        // The leading slash is dropped; rdev carries the device number.
        assert_eq!(m[1].name, "dev/console");
        assert_eq!(m[1].fields[1], 0o020_600);
        assert_eq!((m[1].fields[9], m[1].fields[10]), (5, 1));
        assert_eq!(m[1].fields[6], 0);

        assert_eq!(m[2].name, "init");
        assert_eq!(m[2].fields[1], 0o100_755);
        assert_eq!(m[2].data, init);

        assert_eq!(m[3].name, "e");
        assert!(m[3].data.is_empty());

        // Distinct inode numbers for every real member.
        let mut inos: Vec<u32> = m[..4].iter().map(|p| p.fields[0]).collect();
        inos.dedup();
        assert_eq!(inos.len(), 4);
        assert_eq!(m[4].name, "TRAILER!!!");
    }

    #[test]
    fn every_name_length_pads_correctly() {
        // Name lengths 1..=8 cover every residue of (110 + namesize) mod 4,
        // and data lengths 0..=4 every residue of the data padding.
        for name_len in 1..=8 {
            for data_len in 0..=4 {
                let name = "n".repeat(name_len);
                let data = vec![0xAA; data_len];
                let out = write_newc(&[CpioEntry::file(&name, 0o644, data.clone())]);
                let m = parse(&out);
                assert_eq!(m[0].name, name);
                assert_eq!(m[0].data, data);
            }
        }
    }
}
