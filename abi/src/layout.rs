//! The fixed layout of a user address space at boot.
//!
//! The kernel has no ELF loader: it maps the flat `bootstrap` image, the boot
//! information page, the initramfs and a stack at these addresses.

/// Size of a page.
pub const PAGE_BYTES: u64 = 4096;

/// First address user space may map.
pub const USER_START: u64 = 0x1000;

/// One past the last byte user space may map: the top 512 GiB of the lower
/// half (the last PML4 entry of the user half) hold the pages the kernel
/// shares read-only with every address space ([`CLOCK_PAGE_ADDR`]). So the
/// last page of the lower canonical half is never mapped either, and a
/// `syscall` instruction can never end at the canonical boundary (the
/// SYSRET non-canonical RCX pitfall).
pub const USER_END: u64 = 0x0000_7f80_0000_0000;

/// Where the read-only clock page ([`crate::clock::ClockPage`]) is mapped
/// in every address space: the monotonic clock without a syscall.
pub const CLOCK_PAGE_ADDR: u64 = 0x0000_7f80_0000_0000;

/// Where the bootstrap image is loaded and linked.
pub const IMAGE_BASE: u64 = 0x0040_0000;

/// Where the read-only [`crate::boot::BootInfo`] page is mapped.
pub const BOOT_INFO_ADDR: u64 = 0x0000_0010_0000_0000;

/// Where the initramfs (a tar file) is mapped read-only.
pub const INITRAMFS_ADDR: u64 = 0x0000_0020_0000_0000;

/// Top of the first thread's stack (exclusive). One unmapped guard page
/// lies below the stack.
pub const STACK_TOP: u64 = 0x0000_7f7f_fff0_0000;

/// Whether `[addr, addr + len)` lies inside user space, computed without
/// overflow. Zero-length ranges are inside when `addr` is.
pub const fn is_user_range(addr: u64, len: u64) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr <= USER_END && end <= USER_END,
        None => false,
    }
}

/// Whether `addr` is canonical with bit 47 clear: an address user code can
/// run at without a general-protection fault on return.
pub const fn is_user_canonical(addr: u64) -> bool {
    addr < 0x0000_8000_0000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ranges() {
        assert!(is_user_range(0, 0));
        assert!(is_user_range(IMAGE_BASE, PAGE_BYTES));
        assert!(is_user_range(USER_END - 1, 1));
        assert!(!is_user_range(USER_END - 1, 2));
        assert!(!is_user_range(USER_END, 1));
        assert!(!is_user_range(0xffff_8000_0000_0000, 8));
        assert!(!is_user_range(0x0000_8000_0000_0000, 0));
        assert!(!is_user_range(u64::MAX, 2));
        assert!(!is_user_range(8, u64::MAX));
    }

    #[test]
    fn fixed_addresses_are_ordered_and_aligned() {
        for a in [IMAGE_BASE, BOOT_INFO_ADDR, INITRAMFS_ADDR, STACK_TOP] {
            assert_eq!(a % PAGE_BYTES, 0);
            assert!(is_user_range(a, 0));
        }
        const { assert!(IMAGE_BASE < BOOT_INFO_ADDR && BOOT_INFO_ADDR < INITRAMFS_ADDR) };
        const { assert!(INITRAMFS_ADDR < STACK_TOP && STACK_TOP < USER_END) };
    }
}
