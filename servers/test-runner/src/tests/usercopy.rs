//! The kernel's user-memory access: every bad pointer gives BadAddress,
//! in both directions (DebugWrite reads user memory, CapInfo writes it).

use crate::raw as sys;
use abi::layout::{BOOT_INFO_ADDR, IMAGE_BASE, STACK_TOP};
use abi::syscall::CapInfo;
use abi::{CapSlot, SysError};

use super::{TestResult, debug_cap};
use crate::ensure_eq;

/// An address no mapping covers (between the image and the boot info page).
const UNMAPPED: u64 = 0x0000_0008_0000_0000;

fn read(addr: u64, len: u64) -> Result<(), SysError> {
    sys::debug_write_raw(debug_cap(), addr, len)
}

fn write(addr: u64) -> Result<(), SysError> {
    sys::cap_info_raw(debug_cap(), addr)
}

pub fn null() -> TestResult {
    ensure_eq!(read(0, 1), Err(SysError::BadAddress));
    ensure_eq!(read(8, 16), Err(SysError::BadAddress));
    ensure_eq!(write(0), Err(SysError::BadAddress));
    // An empty range at null reads nothing and is fine.
    ensure_eq!(read(0, 0), Ok(()));
    Ok(())
}

pub fn unmapped() -> TestResult {
    ensure_eq!(read(UNMAPPED, 16), Err(SysError::BadAddress));
    ensure_eq!(write(UNMAPPED), Err(SysError::BadAddress));
    ensure_eq!(write(UNMAPPED + 4096 * 3 + 8), Err(SysError::BadAddress));
    Ok(())
}

pub fn kernel_half() -> TestResult {
    for addr in [
        0xffff_8000_0000_0000u64,
        0xffff_ffff_8020_0000,
        0xffff_ffff_ffff_f000,
        u64::MAX - 15,
    ] {
        ensure_eq!(read(addr, 16), Err(SysError::BadAddress));
        ensure_eq!(write(addr), Err(SysError::BadAddress));
    }
    Ok(())
}

pub fn non_canonical() -> TestResult {
    for addr in [
        0x0000_8000_0000_0000u64,
        0x1234_5678_0000_0000,
        0x7fff_ffff_ffff_fff8,
    ] {
        ensure_eq!(read(addr, 8), Err(SysError::BadAddress));
        ensure_eq!(write(addr), Err(SysError::BadAddress));
    }
    Ok(())
}

pub fn wrapping() -> TestResult {
    ensure_eq!(read(u64::MAX - 10, 100), Err(SysError::BadAddress));
    ensure_eq!(read(u64::MAX, 1), Err(SysError::BadAddress));
    ensure_eq!(
        read(abi::layout::USER_END - 8, 16),
        Err(SysError::BadAddress)
    );
    // DebugWrite refuses an over-long buffer before it looks at the range.
    ensure_eq!(read(IMAGE_BASE, u64::MAX - 4), Err(SysError::InvalidArg));
    Ok(())
}

pub fn straddle() -> TestResult {
    // The stack ends at STACK_TOP; the page above is never mapped.
    ensure_eq!(read(STACK_TOP - 10, 100), Err(SysError::BadAddress));
    ensure_eq!(write(STACK_TOP - 8), Err(SysError::BadAddress));
    // Just inside works.
    ensure_eq!(read(STACK_TOP - 1, 0), Ok(()));
    Ok(())
}

pub fn read_only() -> TestResult {
    // The boot info page, the code, and the initramfs are read-only.
    ensure_eq!(write(BOOT_INFO_ADDR), Err(SysError::BadAddress));
    ensure_eq!(write(IMAGE_BASE), Err(SysError::BadAddress));
    ensure_eq!(
        write(super::boot().initramfs_addr),
        Err(SysError::BadAddress)
    );
    // Reading them is fine.
    ensure_eq!(read(BOOT_INFO_ADDR, 0), Ok(()));
    // init's copy of the boot information follows the startup page.
    let info = super::boot() as *const _ as u64;
    ensure_eq!(info, abi::startup::BOOT_INFO_COPY_ADDR);
    ensure_eq!(write(info), Err(SysError::BadAddress));
    Ok(())
}

#[repr(C, align(4096))]
struct TwoPages([u8; 8192]);

pub fn across_pages() -> TestResult {
    let mut pages = TwoPages([0; 8192]);
    let at = pages.0.as_mut_ptr() as u64 + 4096 - 8;
    ensure_eq!(write(at), Ok(()));
    let info: CapInfo = zerocopy_read(&pages.0[4096 - 8..4096 + 8]);
    ensure_eq!(info.object_type(), Some(abi::ObjectType::Debug));
    let _ = CapSlot(0);
    Ok(())
}

fn zerocopy_read(bytes: &[u8]) -> CapInfo {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[8..16]);
    CapInfo {
        object_type: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        rights: u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        badge: u64::from_le_bytes(word),
    }
}
