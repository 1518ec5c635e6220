//! Program start and end: `_start`, the [`entry!`] macro, and the panic
//! handler.
//!
//! The kernel starts the first thread at `_start` with `rdi` = address of
//! the read-only [`BootInfo`] page and a 16-byte-aligned stack.
//! `_start` reads the TSC first thing (for the `boot_to_user` benchmark),
//! then calls the program's entry, and ends the thread with its result.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::boot::{BOOT_INFO_MAGIC, BootInfo};

static BOOT_INFO: AtomicU64 = AtomicU64::new(0);
static START_TSC: AtomicU64 = AtomicU64::new(0);

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

/// The TSC value `_start` read as its first instruction.
pub fn start_tsc() -> u64 {
    START_TSC.load(Ordering::Relaxed)
}

#[unsafe(naked)]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text._start")]
extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "rdtsc",
        "shl rdx, 32",
        "or rax, rdx",
        "mov rsi, rax",
        "and rsp, -16",
        "xor ebp, ebp",
        "call {start}",
        "ud2",
        start = sym rt_start,
    )
}

extern "C" fn rt_start(boot_info: u64, tsc: u64) -> ! {
    START_TSC.store(tsc, Ordering::Relaxed);
    let aligned = boot_info.is_multiple_of(core::mem::align_of::<BootInfo>() as u64);
    if aligned && boot_info != 0 {
        // SAFETY: the kernel passes the address of the BootInfo page it
        // mapped read-only; it is aligned and non-null (checked above).
        let info = unsafe { &*(boot_info as *const BootInfo) };
        if info.magic == BOOT_INFO_MAGIC {
            BOOT_INFO.store(boot_info, Ordering::Relaxed);
            crate::debug::set_console(abi::CapSlot(info.debug_cap));
            crate::thread::set_own_caps(crate::thread::OwnCaps {
                budget: abi::CapSlot(info.budget_cap),
                aspace: abi::CapSlot(info.aspace_cap),
                cspace: abi::CapSlot(info.cspace_cap),
            });
        }
    }
    unsafe extern "Rust" {
        fn __mica_main() -> u64;
    }
    // SAFETY: `entry!` defines `__mica_main` in every program linking rt,
    // with exactly this signature.
    let code = unsafe { __mica_main() };
    crate::sys::thread_exit(code)
}

/// Names the program's entry function, `fn() -> u64`; its result is the
/// first thread's exit code.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub fn __mica_main() -> u64 {
            let main: fn() -> u64 = $main;
            main()
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("panic: {}", info);
    crate::sys::thread_exit(101)
}
