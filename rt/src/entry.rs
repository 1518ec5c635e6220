//! The code that runs before and after `main` (built for Mica only; on
//! the host, where tests link `rt`, the standard library starts and ends
//! the program): `_start`, the runtime's set-up for the first program and
//! for loaded ones, the first program's wait for its exit, and the panic
//! handler. `crate::start` describes the sequence.

use core::sync::atomic::Ordering;

use abi::CapSlot;
use abi::boot::BOOT_INFO_MAGIC;
use abi::startup::{STARTUP_MAGIC, STARTUP_VERSION, StartupInfo};

use crate::process::{self, OwnCaps};
use crate::start::{BOOT_INFO, START_TSC, STARTUP, boot_info, startup_info};
use crate::thread::{self, TlsTemplate};
use crate::{heap, sys};

/// Whether `key=value` is on a kernel command line.
fn boot_arg_is(cmdline: &[u8], key: &str, value: &str) -> bool {
    core::str::from_utf8(cmdline).is_ok_and(|text| {
        text.split_whitespace()
            .any(|word| word.strip_prefix(key).and_then(|w| w.strip_prefix('=')) == Some(value))
    })
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

unsafe extern "Rust" {
    fn __mica_main() -> u64;
}

fn run_main() -> u64 {
    // SAFETY: `entry!` defines `__mica_main` in every program linking rt,
    // with exactly this signature.
    unsafe { __mica_main() }
}

/// A page-aligned offset below `pages` pages from `seed` (0 without ASLR).
fn random_offset(seed: u64, pages: u64) -> u64 {
    // splitmix64's finaliser spreads every seed bit over the result.
    let mut x = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x % pages) * abi::layout::PAGE_BYTES
}

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
    let aslr = !boot_arg_is(boot.cmdline(), "aslr", "off");
    let entropy = aslr.then_some([boot.entropy[0], boot.entropy[1]]);
    if let Err(e) = layout_memory(own, entropy) {
        crate::println!("rt: cannot set up the heap: {e:?}");
        sys::thread_exit(1);
    }
    // The first thread is the process's parent: the exit message and the
    // main thread's faults come to this endpoint (other threads that fault
    // just end, as the test runner's tests expect).
    let Ok(endpoint) = sys::endpoint_create(own.budget) else {
        sys::thread_exit(1)
    };
    process::set_parent(endpoint, CapSlot::NULL);
    let spawned = thread::Builder::new()
        .name("main")
        .stack_size(256 * 1024)
        .fault_endpoint(endpoint)
        .spawn(|| process::exit(run_main()));
    match spawned {
        Ok(handle) => handle.detach(),
        Err(e) => {
            crate::println!("rt: cannot start main: {e:?}");
            sys::thread_exit(1);
        }
    }
    let status = boot_wait(<crate::ipc::Endpoint as crate::handle::Handle>::from_raw(
        endpoint,
    ));
    if status != 0 {
        // Nobody is above the first program to hear it: a failure ends the
        // machine (under QEMU) so that it is seen at once.
        let _ = sys::debug_exit(CapSlot(boot.debug_cap), status);
    }
    sys::thread_exit(status)
}

/// The first program's first thread: waits for the exit message or a
/// fault of the main thread; the status.
fn boot_wait(endpoint: crate::ipc::Endpoint) -> u64 {
    let mut message = crate::ipc::Message::new(0);
    loop {
        if endpoint.recv(&mut message).is_err() {
            return 1;
        }
        if message.info().is_fault() {
            crate::println!(
                "rt: the main thread faulted: vector {} at {:#x} (address {:#x})",
                message.word(abi::ipc::fault::WORD_VECTOR),
                message.word(abi::ipc::fault::WORD_RIP),
                message.word(abi::ipc::fault::WORD_ADDR)
            );
            return 128 + message.word(abi::ipc::fault::WORD_VECTOR);
        }
        if message.label() == abi::startup::EXIT_LABEL {
            return message.word(0);
        }
    }
}

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
    process::set_parent(CapSlot(startup.parent), CapSlot(startup.parent));
    crate::log::set_endpoint(CapSlot(startup.log));
    if startup.flags & abi::startup::flags::BOOT_INFO != 0 {
        adopt_boot_info_copy();
    }
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

/// Makes the loader's copy of the boot information the one
/// [`boot_info`] returns, if its magic and version are right.
fn adopt_boot_info_copy() {
    let addr = abi::startup::BOOT_INFO_COPY_ADDR;
    // SAFETY: with `flags::BOOT_INFO` the loader maps the page after the
    // startup page read-only for the program's whole life; it starts with
    // a u64 magic.
    let magic = unsafe { (addr as *const u64).read() };
    // SAFETY: as above; the magic says the page is a BootInfo.
    let version = unsafe { (*(addr as *const abi::boot::BootInfo)).version };
    if magic == BOOT_INFO_MAGIC && version == abi::boot::BOOT_INFO_VERSION {
        BOOT_INFO.store(addr, Ordering::Relaxed);
        // Map a granted initramfs now, as the kernel does for the first
        // program.
        let _ = crate::start::initramfs();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    thread::with_current_name(|name| crate::log::panic_message(name, info));
    process::exit(process::PANIC_STATUS)
}
