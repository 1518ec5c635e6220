//! The PVH boot protocol's start info (Xen `arch/x86/hvm/start_info.h`,
//! as QEMU's PVH option ROM fills it): memory map, modules (the initramfs),
//! command line and the ACPI RSDP's address.
//!
//! Read once at boot through the boot code's direct map of the first 4 GiB.
//! Nothing here trusts the structure: every pointer and count is checked
//! and a malformed field becomes an error or is clipped.

use abi::boot::CMDLINE_BYTES;
use kcore::memmap::PhysRange;

use crate::config::{DIRECT_MAP_BASE, MAX_MEMMAP_ENTRIES};

const START_INFO_MAGIC: u32 = 0x336e_c578;
const MEMMAP_TYPE_RAM: u32 = 1;
/// The boot code's direct map covers only this much until `paging` runs.
const EARLY_MAP_BYTES: u64 = 4 << 30;

/// What the kernel needs from the boot loader.
pub struct BootParams {
    /// RAM ranges of the memory map (type 1), unsorted, as given.
    pub ram: [PhysRange; MAX_MEMMAP_ENTRIES],
    /// How many of `ram` are used.
    pub ram_count: usize,
    /// The first module (the initramfs), if any.
    pub initrd: Option<PhysRange>,
    /// Physical range of the start info structures, to keep out of the allocator.
    pub start_info: PhysRange,
    /// The command line, truncated to [`CMDLINE_BYTES`].
    pub cmdline: [u8; CMDLINE_BYTES],
    /// Bytes used in `cmdline`.
    pub cmdline_len: usize,
    /// Physical address of the ACPI RSDP (`rsdp_paddr`), if given.
    pub rsdp: Option<u64>,
}

/// Why the start info could not be used.
#[derive(Clone, Copy, Debug)]
pub enum PvhError {
    /// A pointer or length lies outside the early direct map.
    OutOfRange,
    /// Wrong magic number.
    BadMagic,
    /// Version 0 has no memory map; the kernel needs one.
    NoMemoryMap,
}

/// Reads `len` bytes of physical memory below 4 GiB, through the boot
/// code's map. The slice is only valid until `paging::init_kernel_space`
/// drops that map: callers copy what they keep (this module and `acpi`).
///
/// # Errors
/// [`PvhError::OutOfRange`] when the range starts at 0 or ends past 4 GiB.
pub(super) fn early_phys_bytes(phys: u64, len: u64) -> Result<&'static [u8], PvhError> {
    let end = phys.checked_add(len).ok_or(PvhError::OutOfRange)?;
    if end > EARLY_MAP_BYTES || phys == 0 {
        return Err(PvhError::OutOfRange);
    }
    // SAFETY: the boot page tables map physical 0..4 GiB at DIRECT_MAP_BASE
    // and [phys, end) lies inside it; what is read there (the start info,
    // ACPI tables, the BIOS area) is firmware data nothing writes while the
    // kernel reads it, and no caller keeps the slice past the boot map.
    Ok(unsafe {
        core::slice::from_raw_parts(
            DIRECT_MAP_BASE.wrapping_add(phys) as *const u8,
            len as usize,
        )
    })
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    // Offsets are small constants; the slice index checks the bounds.
    b.copy_from_slice(&bytes[offset..offset.wrapping_add(4)]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[offset..offset.wrapping_add(8)]);
    u64::from_le_bytes(b)
}

/// Parses the start info at physical address `start_info`.
///
/// # Errors
/// [`PvhError`] when the structure is missing, malformed or lacks a memory map.
pub fn parse(start_info: u64) -> Result<BootParams, PvhError> {
    // Version 1 layout: 56 bytes.
    let info = early_phys_bytes(start_info, 56)?;
    if u32_at(info, 0) != START_INFO_MAGIC {
        return Err(PvhError::BadMagic);
    }
    let version = u32_at(info, 4);
    let nr_modules = u32_at(info, 12);
    let modlist = u64_at(info, 16);
    let cmdline_paddr = u64_at(info, 24);
    let rsdp_paddr = u64_at(info, 32);
    if version < 1 {
        return Err(PvhError::NoMemoryMap);
    }
    let memmap = u64_at(info, 40);
    let memmap_entries = u64::from(u32_at(info, 48));

    let mut params = BootParams {
        ram: [PhysRange::new(0, 0); MAX_MEMMAP_ENTRIES],
        ram_count: 0,
        initrd: None,
        // `early_phys_bytes` read those 56 bytes, so the end does not wrap.
        start_info: PhysRange::new(start_info, start_info.wrapping_add(56)),
        cmdline: [0; CMDLINE_BYTES],
        cmdline_len: 0,
        rsdp: (rsdp_paddr != 0).then_some(rsdp_paddr),
    };

    // Memory map: entries of {addr u64, size u64, type u32, reserved u32}.
    let table = early_phys_bytes(
        memmap,
        memmap_entries.checked_mul(24).ok_or(PvhError::OutOfRange)?,
    )?;
    for entry in table.chunks_exact(24) {
        let (addr, size, kind) = (u64_at(entry, 0), u64_at(entry, 8), u32_at(entry, 16));
        if kind != MEMMAP_TYPE_RAM || size == 0 {
            continue;
        }
        if params.ram_count == MAX_MEMMAP_ENTRIES {
            crate::klog!(
                Warn,
                "memory map has more than {} RAM entries; ignoring the rest",
                MAX_MEMMAP_ENTRIES
            );
            break;
        }
        params.ram[params.ram_count] = PhysRange::new(addr, addr.saturating_add(size));
        // Below MAX_MEMMAP_ENTRIES (checked above).
        params.ram_count = params.ram_count.wrapping_add(1);
    }

    // Module 0 is the initramfs: {paddr u64, size u64, cmdline u64, reserved u64}.
    if nr_modules > 0 {
        let module = early_phys_bytes(modlist, 32)?;
        let (addr, size) = (u64_at(module, 0), u64_at(module, 8));
        if size > 0 {
            params.initrd = Some(PhysRange::new(
                addr,
                addr.checked_add(size).ok_or(PvhError::OutOfRange)?,
            ));
        }
    }

    if cmdline_paddr != 0 {
        // Read up to CMDLINE_BYTES, stopping at the terminating NUL.
        let available = (EARLY_MAP_BYTES.saturating_sub(cmdline_paddr)).min(CMDLINE_BYTES as u64);
        let bytes = early_phys_bytes(cmdline_paddr, available)?;
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        params.cmdline[..len].copy_from_slice(&bytes[..len]);
        params.cmdline_len = len;
    }
    Ok(params)
}
