//! Kernel tunables, one per line.

/// Base of the direct map of all physical memory (PML4 slot 256).
pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
/// Largest physical address the direct map covers (512 GiB, one PML4 slot).
pub const DIRECT_MAP_MAX_BYTES: u64 = 512 << 30;
/// Where the local APIC's registers are mapped (uncached), below the kernel image.
pub const LAPIC_VIRT: u64 = 0xffff_ff00_0000_0000;
/// Where the I/O APICs' registers are mapped (uncached), one 4 KiB page each after the LAPIC's.
pub const IOAPIC_VIRT: u64 = LAPIC_VIRT + 0x1000;
/// Physical addresses device memory objects may name are below this
/// (64 TiB, more than any x86_64 CPU's physical address width needs here).
pub const PHYS_LIMIT: u64 = 1 << 46;
/// Bytes of the per-CPU kernel stack.
pub const KERNEL_STACK_BYTES: usize = 64 * 1024;
/// Bytes of each interrupt stack (double fault, NMI, machine check).
pub const IST_STACK_BYTES: usize = 16 * 1024;
/// Timer interrupts per second (the scheduler's time slice is one tick).
pub const TICK_HZ: u64 = 100;
/// Clock calibration stops once its error bound is this many parts per million or less...
pub const CALIBRATION_TARGET_PPM: u64 = 500;
/// ...or after this many microseconds, whichever comes first.
pub const CALIBRATION_MAX_US: u64 = 20_000;
/// Capability slots in the first program's capability space.
pub const BOOT_CSPACE_SLOTS: u64 = 4096;
/// Capabilities a revoke deletes between checks for a pending interrupt.
pub const REVOKE_BATCH: u32 = 32;
/// Priority of the first thread (its maximum is the highest priority).
pub const BOOT_PRIORITY: u8 = 32;
/// Most memory-map entries the boot code keeps.
pub const MAX_MEMMAP_ENTRIES: usize = 64;
/// Log level: messages at this level or more severe are printed.
pub const LOG_LEVEL: crate::klog::Level = crate::klog::Level::Info;
/// Buckets of the futex wait table (hashed by page; a power of two).
pub const FUTEX_BUCKETS: usize = 256;
