//! Structures the kernel shares with the first program at boot: the flat
//! image header that `xtask` writes and the kernel checks, and the boot
//! information page the kernel fills and maps read-only.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::layout::{IMAGE_BASE, PAGE_BYTES};

/// Magic bytes at the start of a flat image.
pub const FLAT_MAGIC: [u8; 8] = *b"MICAFLAT";
/// Version of [`FlatImageHeader`] (2: `header_bytes` may exceed the header,
/// so that the data can start on a page boundary of the initramfs).
pub const FLAT_VERSION: u32 = 2;
/// Largest `header_bytes`: the padding after the header is less than a page.
pub const FLAT_MAX_HEADER_BYTES: u32 = PAGE_BYTES as u32;
/// Largest image (code, data and zero-filled bss) the kernel will map.
pub const FLAT_MAX_MEM_BYTES: u64 = 256 << 20;
/// Largest initial stack the kernel will map.
pub const FLAT_MAX_STACK_BYTES: u64 = 16 << 20;

/// Header of the flat `bootstrap` image, followed (after padding up to
/// `header_bytes`) by `file_bytes` of image data to be placed at
/// `load_addr`. Memory from `load_addr + file_bytes` to
/// `load_addr + mem_bytes` is zero-filled (bss).
///
/// The build pads the header so that the data starts on a page boundary
/// of the initramfs; the kernel then maps those pages of the initramfs
/// themselves (copy-on-write) instead of copying them.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct FlatImageHeader {
    /// [`FLAT_MAGIC`].
    pub magic: [u8; 8],
    /// [`FLAT_VERSION`].
    pub version: u32,
    /// Where the image data starts, from the start of the header: the
    /// header, then padding that is ignored. At least
    /// `size_of::<FlatImageHeader>()`, at most [`FLAT_MAX_HEADER_BYTES`].
    pub header_bytes: u32,
    /// Virtual address of the first data byte; must be [`IMAGE_BASE`].
    pub load_addr: u64,
    /// Entry point; inside the loaded data.
    pub entry: u64,
    /// Bytes of data, from `header_bytes` on.
    pub file_bytes: u64,
    /// Bytes of memory the image occupies, bss included (>= `file_bytes`).
    pub mem_bytes: u64,
    /// Bytes of initial stack to map below [`crate::layout::STACK_TOP`]; a page multiple.
    pub stack_bytes: u64,
    /// Bytes at the start of the image mapped read + execute; the rest is
    /// mapped read + write, never executable (W^X). A page multiple.
    pub exec_bytes: u64,
}

/// Why a flat image was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than its header or than the data the header promises.
    Truncated,
    /// Wrong magic bytes or version.
    BadMagic,
    /// A header field is out of range or inconsistent.
    BadField(&'static str),
}

impl FlatImageHeader {
    /// Checks a flat image and returns its header and data. Never panics.
    ///
    /// # Errors
    /// [`ImageError`] for anything that does not describe a loadable image.
    pub fn parse(image: &[u8]) -> Result<(FlatImageHeader, &[u8]), ImageError> {
        let (header, _) =
            FlatImageHeader::read_from_prefix(image).map_err(|_| ImageError::Truncated)?;
        if header.magic != FLAT_MAGIC || header.version != FLAT_VERSION {
            return Err(ImageError::BadMagic);
        }
        if (header.header_bytes as usize) < core::mem::size_of::<FlatImageHeader>()
            || header.header_bytes > FLAT_MAX_HEADER_BYTES
        {
            return Err(ImageError::BadField("header_bytes"));
        }
        let rest = image
            .get(header.header_bytes as usize..)
            .ok_or(ImageError::Truncated)?;
        if header.load_addr != IMAGE_BASE {
            return Err(ImageError::BadField("load_addr"));
        }
        let data = usize::try_from(header.file_bytes)
            .ok()
            .and_then(|n| rest.get(..n))
            .ok_or(ImageError::Truncated)?;
        if header.mem_bytes < header.file_bytes || header.mem_bytes > FLAT_MAX_MEM_BYTES {
            return Err(ImageError::BadField("mem_bytes"));
        }
        let entry_ok =
            header.entry >= header.load_addr && header.entry - header.load_addr < header.file_bytes;
        if !entry_ok {
            return Err(ImageError::BadField("entry"));
        }
        if header.exec_bytes % PAGE_BYTES != 0
            || header.exec_bytes > header.mem_bytes
            || header.entry - header.load_addr >= header.exec_bytes
        {
            return Err(ImageError::BadField("exec_bytes"));
        }
        if header.stack_bytes == 0
            || header.stack_bytes % PAGE_BYTES != 0
            || header.stack_bytes > FLAT_MAX_STACK_BYTES
        {
            return Err(ImageError::BadField("stack_bytes"));
        }
        Ok((header, data))
    }
}

/// Magic value of [`BootInfo`].
pub const BOOT_INFO_MAGIC: u64 = 0x4d49_4341_424f_4f54; // "MICABOOT"
/// Version of [`BootInfo`] (6: `entropy`, and `cmdline` moved after it).
pub const BOOT_INFO_VERSION: u32 = 6;
/// Bytes of kernel command line kept in [`BootInfo::cmdline`].
pub const CMDLINE_BYTES: usize = 512;

/// CPU protections the kernel turned on and CPU facilities user space may
/// rely on, in [`BootInfo::cpu_features`].
pub mod cpu {
    /// Supervisor-mode execution prevention.
    pub const SMEP: u64 = 1 << 0;
    /// Supervisor-mode access prevention.
    pub const SMAP: u64 = 1 << 1;
    /// User-mode instruction prevention (`sgdt` and friends fault in ring 3).
    pub const UMIP: u64 = 1 << 2;
    /// FPU state saved with XSAVE (else FXSAVE).
    pub const XSAVE: u64 = 1 << 3;
    /// No-execute pages.
    pub const NX: u64 = 1 << 4;
    /// `rdfsbase`/`wrgsbase` usable from ring 3.
    pub const FSGSBASE: u64 = 1 << 5;
    /// A local APIC (and so I/O APICs and `IrqCreate`).
    pub const APIC: u64 = 1 << 6;
    /// [`super::BootInfo::entropy`] came from the CPU's random-number
    /// generator (RDSEED, else RDRAND); clear when the kernel had to mix
    /// boot timings instead, which are guessable.
    pub const RDRAND: u64 = 1 << 7;
}

/// The page the kernel maps read-only at [`crate::layout::BOOT_INFO_ADDR`]
/// for the first program; its address also arrives in `rdi` at `_start`.
#[repr(C)]
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct BootInfo {
    /// [`BOOT_INFO_MAGIC`].
    pub magic: u64,
    /// [`BOOT_INFO_VERSION`].
    pub version: u32,
    /// Bytes used in `cmdline`.
    pub cmdline_len: u32,
    /// Where the initramfs is mapped (read-only).
    pub initramfs_addr: u64,
    /// Its length in bytes.
    pub initramfs_bytes: u64,
    /// Slot of the [`crate::ObjectType::Debug`] capability.
    pub debug_cap: u32,
    /// Slot of the capability to the program's own address space.
    pub aspace_cap: u32,
    /// Slot of the capability to the first thread itself.
    pub thread_cap: u32,
    /// Slot of the capability to the program's own capability space.
    pub cspace_cap: u32,
    /// TSC value at the kernel's first instruction (for `boot_to_user`).
    pub kernel_entry_tsc: u64,
    /// TSC ticks per second, as calibrated by the kernel.
    pub tsc_hz: u64,
    /// Frames of RAM the allocator manages.
    pub total_frames: u64,
    /// Bits from [`cpu`].
    pub cpu_features: u64,
    /// Slot of the root [`crate::ObjectType::Budget`] capability (kernel
    /// memory for new objects).
    pub budget_cap: u32,
    /// Slot of a read-only [`crate::ObjectType::MemoryObject`] covering the
    /// initramfs pages (from the page holding `initramfs_addr`).
    pub initramfs_cap: u32,
    /// Bytes of a thread object without its FPU save area (reported by
    /// the benchmarks).
    pub thread_object_bytes: u32,
    /// Bytes of the FPU save area in each thread object.
    pub fpu_area_bytes: u32,
    /// Slot of the [`crate::ObjectType::DeviceMemory`] capability (the
    /// physical ranges that are not RAM, for MMIO memory objects).
    pub device_cap: u32,
    /// Slot of the [`crate::ObjectType::IoSpace`] capability (the I/O
    /// ports the kernel does not use, for I/O port ranges).
    pub io_space_cap: u32,
    /// Slot of the [`crate::ObjectType::IrqControl`] capability.
    pub irq_control_cap: u32,
    /// Reserved (zero).
    pub reserved: u32,
    /// Four random words, different at every boot, to seed user-space
    /// generators (hash keys, address randomization): from RDSEED or
    /// RDRAND when [`cpu::RDRAND`] is set in `cpu_features`, else boot
    /// timings (TSC readings) and the memory map size mixed together, which
    /// are neither secret nor strong.
    pub entropy: [u64; 4],
    /// The kernel command line (not NUL-terminated; see `cmdline_len`).
    pub cmdline: [u8; CMDLINE_BYTES],
}

impl BootInfo {
    /// The command line as bytes.
    pub fn cmdline(&self) -> &[u8] {
        let len = (self.cmdline_len as usize).min(CMDLINE_BYTES);
        &self.cmdline[..len]
    }
}

const _: () = assert!(core::mem::size_of::<BootInfo>() <= PAGE_BYTES as usize);
const _: () = assert!(core::mem::size_of::<FlatImageHeader>() == 64);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    fn header() -> FlatImageHeader {
        FlatImageHeader {
            magic: FLAT_MAGIC,
            version: FLAT_VERSION,
            header_bytes: size_of::<FlatImageHeader>() as u32,
            load_addr: IMAGE_BASE,
            entry: IMAGE_BASE + 4,
            file_bytes: 16,
            mem_bytes: 8192,
            stack_bytes: 65536,
            exec_bytes: 4096,
        }
    }

    fn image(h: &FlatImageHeader, data_len: usize) -> Vec<u8> {
        let mut v = h.as_bytes().to_vec();
        v.extend(std::iter::repeat_n(0xcc, data_len));
        v
    }

    #[test]
    fn layouts_are_fixed() {
        assert_eq!(size_of::<FlatImageHeader>(), 64);
        assert_eq!(offset_of!(FlatImageHeader, exec_bytes), 56);
        assert_eq!(offset_of!(FlatImageHeader, entry), 24);
        assert_eq!(offset_of!(FlatImageHeader, stack_bytes), 48);
        assert_eq!(offset_of!(BootInfo, initramfs_addr), 16);
        assert_eq!(offset_of!(BootInfo, debug_cap), 32);
        assert_eq!(offset_of!(BootInfo, kernel_entry_tsc), 48);
        assert_eq!(offset_of!(BootInfo, device_cap), 96);
        assert_eq!(offset_of!(BootInfo, io_space_cap), 100);
        assert_eq!(offset_of!(BootInfo, irq_control_cap), 104);
        assert_eq!(offset_of!(BootInfo, reserved), 108);
        assert_eq!(offset_of!(BootInfo, entropy), 112);
        assert_eq!(offset_of!(BootInfo, cmdline), 144);
        assert_eq!(size_of::<BootInfo>(), 144 + CMDLINE_BYTES);
    }

    #[test]
    fn good_image_parses() {
        let h = header();
        let img = image(&h, 16);
        let (parsed, data) = FlatImageHeader::parse(&img).unwrap();
        assert_eq!(parsed, h);
        assert_eq!(data.len(), 16);
    }

    #[test]
    fn data_starts_after_the_padding() {
        for pad in [1usize, 448, 4096 - 64] {
            let mut h = header();
            h.header_bytes = (64 + pad) as u32;
            let mut img = h.as_bytes().to_vec();
            img.extend(std::iter::repeat_n(0xee, pad));
            img.extend(std::iter::repeat_n(0xcc, 16));
            let (parsed, data) = FlatImageHeader::parse(&img).unwrap();
            assert_eq!(parsed, h);
            assert_eq!(data, &[0xcc; 16]);
            assert_eq!(
                FlatImageHeader::parse(&img[..img.len() - 1]),
                Err(ImageError::Truncated)
            );
        }
        let mut h = header();
        h.header_bytes = FLAT_MAX_HEADER_BYTES + 1;
        let mut img = h.as_bytes().to_vec();
        img.resize(8192, 0xcc);
        assert_eq!(
            FlatImageHeader::parse(&img),
            Err(ImageError::BadField("header_bytes"))
        );
    }

    #[test]
    fn bad_images_are_rejected() {
        let h = header();
        assert_eq!(FlatImageHeader::parse(&[]), Err(ImageError::Truncated));
        assert_eq!(
            FlatImageHeader::parse(&image(&h, 15)),
            Err(ImageError::Truncated)
        );
        type Case = (fn(&mut FlatImageHeader), ImageError);
        let cases: [Case; 10] = [
            (|h| h.exec_bytes = 100, ImageError::BadField("exec_bytes")),
            (|h| h.exec_bytes = 0, ImageError::BadField("exec_bytes")),
            (|h| h.magic[0] = b'X', ImageError::BadMagic),
            (|h| h.version = 1, ImageError::BadMagic),
            (
                |h| h.header_bytes = 63,
                ImageError::BadField("header_bytes"),
            ),
            (|h| h.load_addr = 0x1000, ImageError::BadField("load_addr")),
            (|h| h.mem_bytes = 8, ImageError::BadField("mem_bytes")),
            (|h| h.entry = IMAGE_BASE + 16, ImageError::BadField("entry")),
            (|h| h.stack_bytes = 100, ImageError::BadField("stack_bytes")),
            (|h| h.file_bytes = u64::MAX, ImageError::Truncated),
        ];
        for (mutate, err) in cases {
            let mut bad = h;
            mutate(&mut bad);
            assert_eq!(FlatImageHeader::parse(&image(&bad, 16)), Err(err));
        }
    }

    #[test]
    fn parse_never_panics_on_prefixes() {
        let img = image(&header(), 16);
        for n in 0..img.len() {
            let _ = FlatImageHeader::parse(&img[..n]);
        }
    }
}
