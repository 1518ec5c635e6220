//! The Mica microkernel.
#![no_std]
#![no_main]

mod arch;
mod config;
mod klog;

/// The kernel's Rust entry, called once by the boot code on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn kmain(start_info_phys: u64, entry_tsc: u64) -> ! {
    arch::serial::init();
    klog!(Info, "Mica booting (start info at {:#x}, tsc {})", start_info_phys, entry_tsc);
    loop {
        x86_64::instructions::hlt();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    klog::write_panic(format_args!("KERNEL PANIC: {info}"));
    loop {
        x86_64::instructions::hlt();
    }
}
