//! The Mica microkernel.
//!
//! `kmain` is the whole init sequence, one subsystem per line. After it,
//! the kernel only runs when user mode enters it (`entry`).
#![no_std]
#![no_main]
// STYLE.md §11: the kernel-only lints, on top of `[workspace.lints]`.
#![warn(
    clippy::unwrap_used,
    reason = "a kernel panic only on a broken invariant, said with `expect`"
)]
#![warn(
    clippy::arithmetic_side_effects,
    reason = "every overflow is ruled out: checked on user values, wrapping where the bound is known"
)]

mod arch;
mod boot_program;
mod cap;
mod config;
mod entry;
mod exception;
mod fastpath;
mod futex;
mod ipc;
mod ipc_bytes;
mod kernel;
mod klog;
mod mem;
mod object;
mod sched;
mod switch;
mod syscall;
mod time;
mod timer;
mod usercopy;
mod vm;

use kcore::memmap::PhysRange;

unsafe extern "C" {
    static __kernel_phys_start: u8;
    static __kernel_phys_end: u8;
}

/// Bytes at the bottom of physical memory never handed out (real-mode IVT,
/// BIOS data, option ROMs, the PVH start info).
const LOW_MEMORY_BYTES: u64 = 1 << 20;

/// The kernel's Rust entry, called once by the boot code on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn kmain(start_info_phys: u64, entry_tsc: u64) -> ! {
    klog!(Info, "Mica {} booting", env!("CARGO_PKG_VERSION"));
    // Boot timings, the entropy of a CPU without RDSEED or RDRAND.
    let mut timings = kcore::entropy::Pool::new();
    timings.add(entry_tsc);
    timings.add(arch::tsc::now()); // after the first log line
    let boot = match arch::pvh::parse(start_info_phys) {
        Ok(boot) => boot,
        Err(e) => panic!("unusable PVH start info: {e:?}"),
    };
    let features = arch::cpu::init(); // protections and FPU modes
    klog!(
        Info,
        "cpu: nx={} smep={} smap={} umip={} xsave={} fsgsbase={} apic={} rdrand={} rdseed={}",
        on(features.nx),
        on(features.smep),
        on(features.smap),
        on(features.umip),
        on(features.xsave),
        on(features.fsgsbase),
        on(features.apic),
        on(features.rdrand),
        on(features.rdseed)
    );

    // Firmware tables live outside the direct map: read them while the
    // boot code's map of the first 4 GiB is still there.
    arch::acpi::discover(boot.rsdp); // interrupt controllers (MADT)

    let ram = &boot.ram[..boot.ram_count];
    // Both symbols are physical addresses (linker.ld).
    let kernel_image = PhysRange::new(
        &raw const __kernel_phys_start as u64,
        &raw const __kernel_phys_end as u64,
    );
    let initrd = boot
        .initrd
        .unwrap_or_else(|| panic!("no initramfs: boot with -initrd"));
    // RAM beyond the direct map's reach is never handed out.
    let unreachable = PhysRange::new(config::DIRECT_MAP_MAX_BYTES, u64::MAX);
    let reserved = [
        PhysRange::new(0, LOW_MEMORY_BYTES),
        kernel_image,
        initrd,
        unreachable,
        boot.start_info,
    ];
    let (free, _) = mem::frame::init(ram, &reserved); // frame allocator
    let ram_bytes: u64 = ram.iter().map(|r| r.len()).sum();
    timings.add(ram_bytes);
    timings.add(arch::tsc::now());
    klog!(
        Info,
        "memory: {} MiB of RAM in {} ranges, {} frames free",
        ram_bytes >> 20,
        ram.len(),
        free
    );

    let lapic = arch::apic::lapic_phys(features.apic);
    arch::paging::init_kernel_space(ram, lapic, features.nx); // direct map, kernel image W^X
    arch::gdt::init(); // segments, TSS, IST stacks
    arch::idt::init(); // every vector
    let stack = &raw const arch::boot::BOOT_STACK as u64;
    arch::cpu::init_percpu(stack, features.smap); // gs-based per-CPU block
    arch::syscall_entry::init(); // SYSCALL/SYSRET
    let fpu_bytes = arch::fpu::init(features.xsave); // XCR0
    arch::irq::init(features.apic); // 8259s remapped and masked, local APIC on
    let clocks = arch::timer::init(features.apic); // clock frequencies, the tick
    timings.add(arch::tsc::now()); // after calibrating against the PIT
    time::init(clocks.tsc.hz, entry_tsc, arch::tsc::invariant()); // the clock page
    arch::ioapic::init(features.apic); // I/O APICs mapped, every input masked
    let cpuid = clocks.cpuid;
    klog!(
        Info,
        "cpuid: max leaf {:#x}, 0x15 = {:#x}/{:#x}/{:#x}, 0x16 base {} MHz, hypervisor {} \
         (max leaf {:#x}), 0x40000010 = {}/{} kHz, tsc-deadline={}",
        cpuid.max_basic_leaf,
        cpuid.leaf_15[0],
        cpuid.leaf_15[1],
        cpuid.leaf_15[2],
        cpuid.base_mhz,
        on(cpuid.hypervisor),
        cpuid.max_hypervisor_leaf,
        cpuid.leaf_40000010[0],
        cpuid.leaf_40000010[1],
        on(cpuid.tsc_deadline)
    );
    klog!(
        Info,
        "tsc: {}, invariant: {}",
        clocks.tsc,
        if arch::tsc::invariant() {
            "yes"
        } else {
            "no (user space must not trust it)"
        }
    );
    if let Some(lapic) = clocks.lapic {
        klog!(Info, "apic timer: {}", lapic);
    }
    klog!(
        Info,
        "tick: {:?} at {} Hz, fpu state {} bytes",
        clocks.hardware,
        config::TICK_HZ,
        fpu_bytes
    );
    let cmdline = &boot.cmdline[..boot.cmdline_len];
    if has_word(cmdline, b"mode=test") {
        arch_self_test(); // deadline and I/O APIC delivery, for the test suite
    }
    klog!(
        Info,
        "thread object: {} bytes + {} bytes FPU area",
        object::thread::THREAD_OBJECT_BYTES,
        arch::fpu::FPU_AREA_BYTES
    );

    let (_, total) = mem::frame::counts();
    let mut k = kernel::Kernel::new();
    if has_word(cmdline, b"fastpath=off") {
        k.fastpath = kernel::FastPath::Off;
    }
    let fastpath = match k.fastpath {
        kernel::FastPath::On => "on",
        kernel::FastPath::Off => "off",
    };
    klog!(Info, "ipc fast path: {fastpath}");
    let (entropy, entropy_bit) = boot_entropy(&features, timings); // BootInfo::entropy
    let facts = boot_program::BootFacts {
        initrd,
        cmdline: &boot.cmdline[..boot.cmdline_len],
        entry_tsc,
        cpu_features: features.abi_bits() | entropy_bit,
        total_frames: total,
        entropy,
    };
    if let Err(e) = boot_program::start(&mut k, &facts) {
        klog!(Error, "the initramfs has no usable `bootstrap` program");
        panic!("cannot start the first program: {}", e.describe());
    }
    *kernel::KERNEL.lock() = Some(k);
    entry::idle() // runs the first thread
}

/// The first program's `BootInfo::entropy` and the `abi::boot::cpu`
/// bit that says where it came from: RDSEED or RDRAND when the CPU has
/// them and they deliver (`cpu::RDRAND`), else the boot `timings` mixed
/// (no bit: guessable).
fn boot_entropy(
    features: &arch::cpu::Features,
    mut timings: kcore::entropy::Pool,
) -> ([u64; 4], u64) {
    match arch::random::hardware_words(features.rdseed, features.rdrand) {
        Some(words) => {
            klog!(Info, "entropy: from the CPU's random-number generator");
            (words, abi::boot::cpu::RDRAND)
        }
        None => {
            timings.add(arch::tsc::now());
            klog!(
                Info,
                "entropy: nothing from RDSEED or RDRAND; boot timings mixed (weak)"
            );
            (timings.finish(), 0)
        }
    }
}

/// Whether the command line has `word` (space-separated).
fn has_word(cmdline: &[u8], word: &[u8]) -> bool {
    cmdline.split(|byte| *byte == b' ').any(|w| w == word)
}

/// Checks, on the hardware at hand, that a timer deadline fires and that
/// a device interrupt arrives through the I/O APIC; a failure panics, so
/// the test run fails. Runs before the first thread.
fn arch_self_test() {
    match arch::timer::self_test() {
        Ok(check) => klog!(
            Info,
            "self-test: deadline fired {} ns late after {} early interrupts",
            check.late_ns,
            check.early_interrupts
        ),
        Err(why) => panic!("timer self-test: {why}"),
    }
    if arch::irq::counts() != arch::irq::IrqCounts::default() {
        klog!(
            Info,
            "self-test: interrupts counted so far: {:?}",
            arch::irq::counts()
        );
    }
    match arch::ioapic::self_test() {
        Ok(gsi) => klog!(
            Info,
            "self-test: the PIT's interrupt arrived through {:?}",
            gsi
        ),
        Err(arch::ioapic::SelfTestError::NoIoApic) => {
            klog!(Info, "self-test: no I/O APIC in use, delivery not checked");
        }
        Err(why) => panic!("I/O APIC self-test: {why:?}"),
    }
}

fn on(flag: bool) -> &'static str {
    if flag { "on" } else { "off" }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    x86_64::instructions::interrupts::disable();
    klog::write_panic(format_args!("KERNEL PANIC: {info}"));
    arch::qemu::exit(arch::qemu::PANIC_EXIT_VALUE);
    loop {
        x86_64::instructions::hlt();
    }
}
