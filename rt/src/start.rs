//! Program start and end: `_start`, the [`entry!`] macro, and the panic
//! handler.
//!
//! The kernel (for the first program) or a loader (for every other) starts
//! the first thread at `_start` with `rdi` = the address of a read-only
//! [`BootInfo`] or [`StartupInfo`] page and a 16-byte-aligned stack.
//! `_start` reads the TSC first thing (for the `boot_to_user` benchmark),
//! then `rt_start` sets the runtime up (own capabilities, heap, thread
//! area, logging) and runs the program's entry; its value is the
//! process's exit status ([`crate::process::exit`]).
//!
//! A loaded program's first thread has a thread block made by the loader
//! and runs `main` itself. The first program's first thread has only the
//! kernel's stack and no control block, so `main` runs on a thread `rt`
//! makes, and the first thread sleeps until the process exits, then ends
//! with its status.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abi::boot::BootInfo;
use abi::startup::StartupInfo;

pub(crate) static BOOT_INFO: AtomicU64 = AtomicU64::new(0);
pub(crate) static STARTUP: AtomicU64 = AtomicU64::new(0);
pub(crate) static START_TSC: AtomicU64 = AtomicU64::new(0);
static INITRAMFS_MAPPED: crate::sync::Once = crate::sync::Once::new();
static INITRAMFS_OK: AtomicBool = AtomicBool::new(false);

/// The boot information page of the first program.
pub fn boot_info() -> Option<&'static BootInfo> {
    let addr = BOOT_INFO.load(Ordering::Relaxed);
    if addr == 0 {
        return None;
    }
    // SAFETY: `addr` was checked in `rt_start` to hold a BootInfo with the
    // right magic; the kernel maps that page read-only for the program's
    // whole life, so a shared 'static reference is sound.
    Some(unsafe { &*(addr as *const BootInfo) })
}

/// The startup page of a program another one loaded.
pub fn startup_info() -> Option<&'static StartupInfo> {
    let addr = STARTUP.load(Ordering::Relaxed);
    if addr == 0 {
        return None;
    }
    // SAFETY: checked in `rt_start` (magic, version, alignment); the
    // loader maps the page read-only for the program's whole life.
    Some(unsafe { &*(addr as *const StartupInfo) })
}

/// The initramfs (read-only, for the program's whole life): the kernel
/// maps it for the first program; a loaded program granted it (with a copy
/// of the boot information) gets it mapped here on the first call.
pub fn initramfs() -> Option<&'static [u8]> {
    let boot = boot_info()?;
    let len = usize::try_from(boot.initramfs_bytes).ok()?;
    if boot.initramfs_addr == 0 || len == 0 {
        return None;
    }
    if startup_info().is_some() {
        INITRAMFS_MAPPED.call_once(|| {
            let page = boot.initramfs_addr & !(abi::layout::PAGE_BYTES - 1);
            let pages = (boot.initramfs_addr - page + boot.initramfs_bytes)
                .div_ceil(abi::layout::PAGE_BYTES);
            let mapped = crate::sys::aspace_map(
                crate::process::own_caps().aspace,
                abi::CapSlot(boot.initramfs_cap),
                0,
                page,
                pages,
                abi::MapFlags::READ,
            );
            INITRAMFS_OK.store(mapped.is_ok(), Ordering::Release);
        });
        if !INITRAMFS_OK.load(Ordering::Acquire) {
            return None;
        }
    }
    // SAFETY: the kernel (first program) or the call above (loaded one,
    // after its success) mapped `initramfs_bytes` bytes from
    // `initramfs_addr` read-only; nothing unmaps or writes them.
    Some(unsafe { core::slice::from_raw_parts(boot.initramfs_addr as *const u8, len) })
}

/// The TSC value `_start` read as its first instruction.
pub fn start_tsc() -> u64 {
    START_TSC.load(Ordering::Relaxed)
}

/// Names the program's entry function, `fn() -> u64`; its result is the
/// process's exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub fn __mica_main() -> u64 {
            let main: fn() -> u64 = $main;
            main()
        }
    };
}
