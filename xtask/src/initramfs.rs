//! The initramfs writer: a POSIX tar archive (ustar headers, pax extended
//! headers where needed) written with the `tar` crate, so that the image is
//! what real tools write and read.
//!
//! Members are regular files and directories, in the order the builder
//! appends them. Every header is deterministic: mtime 0, uid and gid 0, no
//! user or group names, so the same inputs give the same bytes.
//!
//! A file can have its data start on a page boundary of the archive
//! ([`Initramfs::append_file_aligned`]), so that the loader maps the pages
//! of the initramfs instead of copying them. The padding that needs is a
//! pax extended header (typeflag `x`) holding one `comment` record of
//! exactly the right length: every tar reader ignores a comment, and the
//! member after it is the file, as written.

use anyhow::{Context, Result, bail};
use tar::{Builder, EntryType, Header};

/// Size of a tar header block.
const BLOCK_BYTES: usize = 512;

/// An archive being written, in memory.
pub struct Initramfs {
    /// The `tar` crate's writer over the archive's bytes.
    builder: Builder<Vec<u8>>,
}

impl Initramfs {
    /// An empty archive.
    pub fn new() -> Self {
        Self {
            builder: Builder::new(Vec::new()),
        }
    }

    /// The bytes written so far (a multiple of 512).
    pub fn len(&self) -> usize {
        self.builder.get_ref().len()
    }

    /// Appends a directory (0755).
    pub fn append_dir(&mut self, path: &str) -> Result<()> {
        self.append(path, EntryType::Directory, 0o755, &[])
    }

    /// Appends a regular file.
    pub fn append_file(&mut self, path: &str, mode: u32, data: &[u8]) -> Result<()> {
        self.append(path, EntryType::Regular, mode, data)
    }

    /// Appends a regular file whose data starts at a multiple of `align`
    /// bytes (a power of two, at least 512) from the archive's start.
    pub fn append_file_aligned(
        &mut self,
        path: &str,
        mode: u32,
        data: &[u8],
        align: usize,
    ) -> Result<()> {
        if !align.is_power_of_two() || align < BLOCK_BYTES {
            bail!("tar alignment {align} is not a power of two of at least 512");
        }
        let len = self.len();
        if !(len + BLOCK_BYTES).is_multiple_of(align) {
            // The pax member is a header and `pad` bytes of records, then
            // the file's header: pad = (align - (len + 1024) % align) %
            // align, and a whole `align` if that is 0 (a record cannot be
            // empty).
            let mut pad = (align - (len + 2 * BLOCK_BYTES) % align) % align;
            if pad == 0 {
                pad = align;
            }
            let filler = comment_filler(pad)?;
            self.builder
                .append_pax_extensions([("comment", filler.as_slice())])
                .context("writing a pax padding header")?;
        }
        let header_at = self.len();
        self.append_file(path, mode, data)?;
        let data_at = header_at + BLOCK_BYTES;
        if !data_at.is_multiple_of(align) || self.len() < data_at + data.len() {
            bail!("initramfs: {path} landed at {data_at}, not on a {align}-byte boundary");
        }
        Ok(())
    }

    /// Appends a hard link (typeflag `1`) at `path` to the earlier member
    /// `target`: one copy of the data under a second name.
    pub fn append_hard_link(&mut self, path: &str, target: &str) -> Result<()> {
        if path.is_empty() || path.len() > 100 || target.len() > 100 {
            bail!("initramfs link `{path}` -> `{target}` must be 1 to 100 bytes each");
        }
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::Link);
        header.set_mode(0o755);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(0);
        header
            .set_link_name(target)
            .with_context(|| format!("linking {path} to {target}"))?;
        self.builder
            .append_data(&mut header, path, std::io::empty())
            .with_context(|| format!("writing the link {path} into the initramfs"))
    }

    /// Ends the archive (two zero blocks) and returns its bytes.
    pub fn finish(self) -> Result<Vec<u8>> {
        self.builder.into_inner().context("finishing the initramfs")
    }

    /// Appends one member with a deterministic ustar header.
    fn append(&mut self, path: &str, kind: EntryType, mode: u32, data: &[u8]) -> Result<()> {
        if path.is_empty() || path.len() > 100 {
            bail!("initramfs path `{path}` must be 1 to 100 bytes");
        }
        let mut header = Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(data.len() as u64);
        self.builder
            .append_data(&mut header, path, data)
            .with_context(|| format!("writing {path} into the initramfs"))
    }
}

/// The value of a pax `comment` record that makes the whole record
/// `"<len> comment=<value>\n"` exactly `len` bytes long.
fn comment_filler(len: usize) -> Result<Vec<u8>> {
    let fixed = " comment=".len() + 1;
    // The length counts its own digits: `len` has `digits` of them.
    let digits = len.to_string().len();
    let Some(value) = len.checked_sub(fixed + digits) else {
        bail!("a pax record cannot be {len} bytes long");
    };
    Ok(vec![b'x'; value])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// GNU tar's `-tv` listing of `archive`, or `None` without GNU tar.
    fn gnu_listing(archive: &[u8], label: &str) -> Option<String> {
        // Tests run in parallel threads of one process: one file each.
        let name = format!("xtask-initramfs-{}-{label}.tar", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, archive).unwrap();
        let output = Command::new("tar").arg("-tvf").arg(&path).output();
        let _ = std::fs::remove_file(&path);
        match output {
            Ok(output) if output.status.success() => {
                Some(String::from_utf8(output.stdout).unwrap())
            }
            _ => {
                eprintln!("*** GNU tar is not installed: the initramfs listing is NOT checked ***");
                None
            }
        }
    }

    #[test]
    fn plain_members() {
        let mut image = Initramfs::new();
        image.append_file("bootstrap", 0o755, b"hello").unwrap();
        image.append_dir("bin").unwrap();
        assert!(image.append_file(&"x".repeat(101), 0o644, b"").is_err());
        assert!(image.append_file("", 0o644, b"").is_err());
        let bytes = image.finish().unwrap();
        assert_eq!(&bytes[512..517], b"hello");
        // Read back by the `tar` crate, with the deterministic fields.
        let mut archive = tar::Archive::new(&bytes[..]);
        let members: Vec<(String, u8, u64, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().display().to_string(),
                    header.entry_type().as_byte(),
                    header.mtime().unwrap(),
                    header.mode().unwrap(),
                    header.uid().unwrap() + header.gid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            members,
            [
                ("bootstrap".to_string(), b'0', 0, 0o755, 0),
                ("bin".to_string(), b'5', 0, 0o755, 0)
            ]
        );
        if let Some(listing) = gnu_listing(&bytes, "plain") {
            assert!(listing.contains(" bootstrap\n"), "{listing}");
            assert!(listing.starts_with("-rwxr-xr-x"), "{listing}");
            assert!(listing.contains("\ndrwxr-xr-x"), "{listing}");
        }
    }

    #[test]
    fn aligned_members_start_on_the_boundary_and_tar_lists_them() {
        for before in [0usize, 1, 511, 512, 3000, 3584, 4096, 7000, 8000] {
            let mut image = Initramfs::new();
            image
                .append_file("first", 0o644, &vec![7u8; before])
                .unwrap();
            let at = image.len();
            image
                .append_file_aligned("bin/x", 0o755, b"\x7fELF", 4096)
                .unwrap();
            let data = image.len() - 512;
            let bytes = image.finish().unwrap();
            assert_eq!(data % 4096, 0, "after {before} bytes");
            assert_eq!(&bytes[data..data + 4], b"\x7fELF");
            if at + 512 != data {
                // The padding member is a pax header whose record adds up.
                assert_eq!(bytes[at + 156], b'x');
                let size = usize::from_str_radix(
                    std::str::from_utf8(&bytes[at + 124..at + 135]).unwrap(),
                    8,
                )
                .unwrap();
                let record = std::str::from_utf8(&bytes[at + 512..at + 512 + size]).unwrap();
                let len: usize = record.split(' ').next().unwrap().parse().unwrap();
                assert_eq!(len, size);
                assert!(record.ends_with('\n'));
                assert_eq!(data, at + 512 + size + 512);
            }
            // Real readers see exactly the two files.
            let names: Vec<String> = tar::Archive::new(&bytes[..])
                .entries()
                .unwrap()
                .map(|entry| entry.unwrap().path().unwrap().display().to_string())
                .collect();
            assert_eq!(names, ["first", "bin/x"]);
            if let Some(listing) = gnu_listing(&bytes, "aligned") {
                let names: Vec<&str> = listing
                    .lines()
                    .map(|line| line.rsplit(' ').next().unwrap())
                    .collect();
                assert_eq!(names, ["first", "bin/x"], "after {before} bytes");
            }
        }
    }

    #[test]
    fn comment_records_have_the_asked_length() {
        // Every padding is a multiple of 512; the crate writes the record
        // whole, so the member's size is the record's length.
        for len in (512..=16384).step_by(512) {
            let value = comment_filler(len).unwrap();
            let mut builder = Builder::new(Vec::new());
            builder
                .append_pax_extensions([("comment", value.as_slice())])
                .unwrap();
            let bytes = builder.into_inner().unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&bytes[124..135]).unwrap(), 8);
            assert_eq!(size, Ok(len));
        }
        assert!(comment_filler(5).is_err());
    }
}
