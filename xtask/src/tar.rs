//! A minimal ustar writer for the initramfs (regular files only).

use anyhow::{Result, bail};

/// Appends a regular file to `archive`.
pub fn append_file(archive: &mut Vec<u8>, path: &str, mode: u32, data: &[u8]) -> Result<()> {
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
    header[156] = b'0';
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
}
