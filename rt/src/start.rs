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

use core::sync::atomic::{AtomicU64, Ordering};

use abi::CapSlot;
use abi::boot::{BOOT_INFO_MAGIC, BootInfo};
use abi::startup::{STARTUP_MAGIC, STARTUP_VERSION, StartupInfo};

use crate::process::{self, OwnCaps};
use crate::thread::{self, TlsTemplate};
use crate::{heap, sys};

static BOOT_INFO: AtomicU64 = AtomicU64::new(0);
static STARTUP: AtomicU64 = AtomicU64::new(0);
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

/// The initramfs the kernel mapped for the first program (read-only, for
/// its whole life).
pub fn initramfs() -> Option<&'static [u8]> {
    let boot = boot_info()?;
    let len = usize::try_from(boot.initramfs_bytes).ok()?;
    if boot.initramfs_addr == 0 || len == 0 {
        return None;
    }
    // SAFETY: the kernel maps `initramfs_bytes` bytes from `initramfs_addr`
    // read-only in the first program's address space before it starts and
    // never unmaps them by itself (docs/boot.md); nothing writes them.
    Some(unsafe { core::slice::from_raw_parts(boot.initramfs_addr as *const u8, len) })
}

/// The TSC value `_start` read as its first instruction.
pub fn start_tsc() -> u64 {
    START_TSC.load(Ordering::Relaxed)
}

#[cfg(target_os = "none")]
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

#[cfg(target_os = "none")]
unsafe extern "Rust" {
    fn __mica_main() -> u64;
}

#[cfg(target_os = "none")]
fn run_main() -> u64 {
    // SAFETY: `entry!` defines `__mica_main` in every program linking rt,
    // with exactly this signature.
    unsafe { __mica_main() }
}

#[cfg(target_os = "none")]
/// A page-aligned offset below `pages` pages from `seed` (0 without ASLR).
fn random_offset(seed: u64, pages: u64) -> u64 {
    // splitmix64's finaliser spreads every seed bit over the result.
    let mut x = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x % pages) * abi::layout::PAGE_BYTES
}

#[cfg(target_os = "none")]
/// Places the heap and the thread area; `entropy` None keeps them fixed.
fn layout_memory(own: OwnCaps, entropy: Option<[u64; 2]>) -> Result<(), heap::HeapError> {
    let [heap_seed, area_seed] = entropy.unwrap_or([0, 0]);
    let (heap_shift, area_shift) = match entropy {
        Some(_) => (
            random_offset(heap_seed, heap::HEAP_RANDOM_PAGES),
            random_offset(area_seed, thread::block::AREA_RANDOM_PAGES),
        ),
        None => (0, 0),
    };
    if startup_info().is_none() {
        thread::block::set_area(thread::block::AREA_BASE + area_shift);
    }
    heap::init(own.budget, own.aspace, heap::HEAP_BASE + heap_shift)
}

#[cfg(target_os = "none")]
extern "C" fn rt_start(info: u64, tsc: u64) -> ! {
    START_TSC.store(tsc, Ordering::Relaxed);
    if info == 0 || !info.is_multiple_of(abi::layout::PAGE_BYTES) {
        sys::thread_exit(2);
    }
    // SAFETY: the kernel or the loader passes the address of a page it
    // mapped read-only for the program's whole life (non-null and
    // page-aligned, checked above); both page types start with a u64
    // magic.
    let magic = unsafe { (info as *const u64).read() };
    if magic == BOOT_INFO_MAGIC {
        BOOT_INFO.store(info, Ordering::Relaxed);
        boot_start()
    } else if magic == STARTUP_MAGIC {
        // SAFETY: as above; the magic says the page is a StartupInfo.
        let startup = unsafe { &*(info as *const StartupInfo) };
        if startup.version != STARTUP_VERSION {
            sys::thread_exit(3);
        }
        STARTUP.store(info, Ordering::Relaxed);
        loaded_start(startup)
    } else {
        sys::thread_exit(2)
    }
}

#[cfg(target_os = "none")]
/// The first program: `main` on a thread of its own.
fn boot_start() -> ! {
    let Some(boot) = boot_info() else {
        sys::thread_exit(2)
    };
    crate::debug::set_console(CapSlot(boot.debug_cap));
    crate::log::init();
    let own = OwnCaps {
        budget: CapSlot(boot.budget_cap),
        aspace: CapSlot(boot.aspace_cap),
        cspace: CapSlot(boot.cspace_cap),
    };
    process::set_own_caps(own);
    let aslr = !crate::boot_arg_is(boot.cmdline(), "aslr", "off");
    let entropy = aslr.then_some([boot.entropy[0], boot.entropy[1]]);
    if let Err(e) = layout_memory(own, entropy) {
        crate::println!("rt: cannot set up the heap: {e:?}");
        sys::thread_exit(1);
    }
    let spawned = thread::Builder::new()
        .name("main")
        .stack_size(256 * 1024)
        .spawn(|| process::exit(run_main()));
    match spawned {
        Ok(handle) => handle.detach(),
        Err(e) => {
            crate::println!("rt: cannot start main: {e:?}");
            sys::thread_exit(1);
        }
    }
    while process::BOOT_EXIT.load(Ordering::Acquire) == 0 {
        let _ = sys::futex_wait(&process::BOOT_EXIT, 0, 0);
    }
    let status = process::BOOT_STATUS.load(Ordering::Relaxed);
    if status != 0 {
        // Nobody is above the first program to hear it: a failure ends the
        // machine (under QEMU) so that it is seen at once.
        let _ = sys::debug_exit(CapSlot(boot.debug_cap), status);
    }
    sys::thread_exit(status)
}

#[cfg(target_os = "none")]
/// A loaded program: `main` on the first thread, whose block the loader
/// made.
fn loaded_start(startup: &'static StartupInfo) -> ! {
    crate::debug::set_console(CapSlot(startup.debug));
    let own = OwnCaps {
        budget: CapSlot(startup.budget),
        aspace: CapSlot(startup.aspace),
        cspace: CapSlot(startup.cspace),
    };
    process::set_own_caps(own);
    process::set_parent(CapSlot(startup.parent));
    crate::log::set_endpoint(CapSlot(startup.log));
    process::set_tls_template(&TlsTemplate {
        image: startup.tls_image,
        filesz: startup.tls_filesz,
        memsz: startup.tls_memsz,
        align: startup.tls_align,
    });
    thread::block::set_area(startup.thread_area);
    thread::block::claim_slot(thread::block::MAIN_SLOT);
    let aslr = startup.flags & abi::startup::flags::ASLR != 0;
    let entropy = aslr.then_some([startup.entropy[0], startup.entropy[1]]);
    if let Err(e) = layout_memory(own, entropy) {
        crate::println!("rt: cannot set up the heap: {e:?}");
        process::exit(1);
    }
    thread::adopt_main(
        CapSlot(startup.thread),
        thread::block::MAIN_SLOT,
        startup.main_tcb,
    );
    process::exit(run_main())
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

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let thread = thread::current();
    let name = thread.as_ref().and_then(|t| t.name()).unwrap_or("?");
    crate::log::panic_message(name, info);
    process::exit(process::PANIC_STATUS)
}
