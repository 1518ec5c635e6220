//! A minimal ustar writer for the initramfs: regular files, optionally
//! with their data on a page boundary of the archive (so that a loader can
//! map the pages instead of copying them). The padding that needs is a pax
//! extended header holding only a `comment` record, which every tar
//! reader ignores.

use anyhow::{Result, bail};

/// Appends a regular file to `archive`.
pub fn append_file(archive: &mut Vec<u8>, path: &str, mode: u32, data: &[u8]) -> Result<()> {
    append_member(archive, path, mode, b'0', data)
}

/// Appends a regular file whose data starts at a multiple of `align`
/// bytes (a power of two, at least 512) from the archive's start.
pub fn append_file_aligned(
    archive: &mut Vec<u8>,
    path: &str,
    mode: u32,
    data: &[u8],
    align: usize,
) -> Result<()> {
    if !align.is_power_of_two() || align < 512 {
        bail!("tar alignment {align} is not a power of two of at least 512");
    }
    if !(archive.len() + 512).is_multiple_of(align) {
        // The pax member is a header and `pad` bytes of records, then the
        // file's header: pad = (align - (len + 1024) % align) % align,
        // and a whole `align` if that is 0.
        let mut pad = (align - (archive.len() + 1024) % align) % align;
        if pad == 0 {
            pad = align;
        }
        append_member(
            archive,
            "PaxHeaders/align",
            0o644,
            b'x',
            &comment_record(pad),
        )?;
    }
    append_file(archive, path, mode, data)
}

/// A pax record `"<len> comment=xxx\n"` exactly `len` bytes long.
fn comment_record(len: usize) -> Vec<u8> {
    // "<digits> comment=" + filler + "\n": find the digit count that fits.
    for digits in 1..=6 {
        let fixed = digits + " comment=".len() + 1;
        if len >= fixed && len.to_string().len() == digits {
            let mut record = format!("{len} comment=").into_bytes();
            record.resize(len - 1, b'x');
            record.push(b'\n');
            return record;
        }
    }
    Vec::new()
}

fn append_member(
    archive: &mut Vec<u8>,
    path: &str,
    mode: u32,
    kind: u8,
    data: &[u8],
) -> Result<()> {
    if path.len() > 99 || path.is_empty() {
        bail!("initramfs path `{path}` must be 1 to 99 bytes");
    }
    let mut header = [0u8; 512];
    header[..path.len()].copy_from_slice(path.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], u64::from(mode));
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], data.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = kind;
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    archive.extend_from_slice(&header);
    archive.extend_from_slice(data);
    archive.resize(archive.len().div_ceil(512) * 512, 0);
    Ok(())
}

/// Ends the archive with two zero blocks.
pub fn finish(archive: &mut Vec<u8>) {
    archive.resize(archive.len() + 1024, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checksum_and_padding() {
        let mut a = Vec::new();
        append_file(&mut a, "bootstrap", 0o755, b"hello").unwrap();
        finish(&mut a);
        assert_eq!(a.len(), 512 * 4);
        let sum: u32 = a[..512]
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(b)
                }
            })
            .sum();
        let stored = u32::from_str_radix(std::str::from_utf8(&a[148..154]).unwrap(), 8).unwrap();
        assert_eq!(sum, stored);
        assert_eq!(&a[512..517], b"hello");
        assert!(append_file(&mut a, &"x".repeat(100), 0o644, b"").is_err());
    }

    #[test]
    fn aligned_members_start_on_the_boundary_and_tar_lists_them() {
        for before in [0usize, 1, 511, 512, 3000, 3584, 4096, 7000] {
            let mut a = Vec::new();
            append_file(&mut a, "first", 0o644, &vec![7u8; before]).unwrap();
            let at = a.len();
            append_file_aligned(&mut a, "bin/x", 0o755, b"\x7fELF", 4096).unwrap();
            let data = a.len() - 512;
            assert_eq!(data % 4096, 0, "after {before} bytes");
            assert_eq!(&a[data..data + 4], b"\x7fELF");
            if at + 512 != data {
                // The padding member is a pax header whose records add up.
                assert_eq!(a[at + 156], b'x');
                let size =
                    usize::from_str_radix(std::str::from_utf8(&a[at + 124..at + 135]).unwrap(), 8)
                        .unwrap();
                let record = &a[at + 512..at + 512 + size];
                let text = std::str::from_utf8(record).unwrap();
                let len: usize = text.split(' ').next().unwrap().parse().unwrap();
                assert_eq!(len, size);
                assert!(text.ends_with('\n'));
            }
        }
    }
}
