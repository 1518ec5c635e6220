//! The startup page: what a program started by another program finds at
//! `_start` (the first program gets [`crate::boot::BootInfo`] instead).
//!
//! The loader maps one read-only page holding a [`StartupInfo`] in the new
//! address space and starts the first thread with its address in `rdi`;
//! the same address is in the auxiliary vector as [`AT_MICA_STARTUP`]. The
//! stack holds `argc`, `argv`, `envp` and the auxiliary vector as the
//! System V ABI lays them out, so a C `_start` finds them where it expects.
//!
//! The page says which slot of the program's capability space holds
//! which capability, where its first thread's block is, and the entropy
//! its runtime uses for its own address-space randomisation. Each passed
//! capability has a kind ([`handle`]) and a name: for an endpoint, the
//! name of the service (`serial`, `echo`), so a program finds its
//! connections by name rather than by position.
//!
//! With [`flags::BOOT_INFO`], the page after the startup page holds a copy
//! of the kernel's [`crate::boot::BootInfo`] whose capability fields name
//! the program's own slots (0 where it holds no such capability), for the
//! few programs granted it (the test runner).
//!
//! A program ends by sending [`EXIT_LABEL`] with its status in word 0 to
//! `parent`; the same endpoint is every thread's fault endpoint, so the
//! parent sees a crash as the kernel's fault message.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Magic value of [`StartupInfo`].
pub const STARTUP_MAGIC: u64 = u64::from_le_bytes(*b"MICASTRT");
/// Version of [`StartupInfo`].
pub const STARTUP_VERSION: u32 = 3;
/// Auxiliary-vector type whose value is the startup page's address.
pub const AT_MICA_STARTUP: u64 = 0x4d49_0001;
/// Where the loader maps the startup page of a program given a copy of
/// the boot information ([`flags::BOOT_INFO`]); any other program's
/// follows its first thread's block (the address is the first argument
/// and the [`AT_MICA_STARTUP`] entry, never assumed).
pub const STARTUP_ADDR: u64 = crate::layout::BOOT_INFO_ADDR;
/// Capabilities a [`StartupInfo`] can name besides the fixed ones.
pub const STARTUP_HANDLES: usize = 32;
/// Bytes of a handle's name (UTF-8, padded with NULs).
pub const HANDLE_NAME_BYTES: usize = 24;
/// Where a copy of the boot information is, with [`flags::BOOT_INFO`].
pub const BOOT_INFO_COPY_ADDR: u64 = STARTUP_ADDR + crate::layout::PAGE_BYTES;
/// Label of the message that reports a program's exit to its parent
/// (word 0: the status).
pub const EXIT_LABEL: u64 = 0x4558_4954; // "EXIT"
/// The bit set in the badge of every [`handle::CLIENT`] capability init
/// hands out: init mints each program's client capabilities with badge
/// `CLIENT_BADGE | (index + 1)`, its index in the system configuration,
/// so a server knows which program calls (a session) and a client cannot
/// mint badges of its own from an unbadged copy. Servers mint their own
/// badges below this bit.
pub const CLIENT_BADGE: u64 = 1 << 63;

/// Bits of [`StartupInfo::flags`].
pub mod flags {
    /// Randomise the heap and thread area (address-space layout
    /// randomisation); clear, they start at their fixed bases.
    pub const ASLR: u32 = 1 << 0;
    /// A copy of the boot information is at
    /// [`super::BOOT_INFO_COPY_ADDR`].
    pub const BOOT_INFO: u32 = 1 << 1;
}

/// What a capability passed in [`StartupInfo::handles`] is for.
pub mod handle {
    /// An unused entry.
    pub const NONE: u32 = 0;
    /// An endpoint the program serves (its service).
    pub const SERVICE: u32 = 1;
    /// An endpoint of a server the program is a client of.
    pub const CLIENT: u32 = 2;
    /// The initramfs memory object (read-only).
    pub const INITRAMFS: u32 = 3;
    /// An I/O port range (name: empty; in the order the manifest lists
    /// them).
    pub const IO_PORTS: u32 = 4;
    /// An interrupt line, not yet bound (in the manifest's order).
    pub const IRQ: u32 = 5;
    /// A device memory object (in the manifest's order).
    pub const DEVICE_MEMORY: u32 = 6;
    /// The I/O space: makes any I/O port range.
    pub const IO_SPACE: u32 = 7;
    /// The IRQ control: makes any interrupt line.
    pub const IRQ_CONTROL: u32 = 8;
    /// The device memory authority: makes device memory objects.
    pub const DEVICE: u32 = 9;
    /// An endpoint to init's supervisor protocol.
    pub const SUPERVISOR: u32 = 10;
    /// An open file, directory or pipe end of a file server (named
    /// `stdin`, `stdout`, `stderr` or as the parent chose), which the
    /// program now owns: it closes it.
    pub const FILE: u32 = 11;
    /// The kernel log: a debug capability with only
    /// [`crate::Rights::READ`] (`DebugLogRead`, frame counts, counters).
    pub const KERNEL_LOG: u32 = 12;
    /// First value free for programs to agree on among themselves.
    pub const USER: u32 = 0x1000;
}

/// One capability passed to the program.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Handle {
    /// What it is for ([`handle`]).
    pub kind: u32,
    /// Its slot in the program's capability space.
    pub slot: u32,
    /// Its name (for an endpoint, the service's), NUL-padded UTF-8.
    pub name: [u8; HANDLE_NAME_BYTES],
}

impl Handle {
    /// A handle of `kind` at `slot` named `name`, or `None` if the name is
    /// longer than [`HANDLE_NAME_BYTES`] or holds a NUL.
    pub fn new(kind: u32, slot: u32, name: &str) -> Option<Handle> {
        let bytes = name.as_bytes();
        if bytes.len() > HANDLE_NAME_BYTES || bytes.contains(&0) {
            return None;
        }
        let mut handle = Handle {
            kind,
            slot,
            name: [0; HANDLE_NAME_BYTES],
        };
        handle.name[..bytes.len()].copy_from_slice(bytes);
        Some(handle)
    }

    /// Whether its name is `name` (as `self.name() == name`, without
    /// decoding the name: a byte compare).
    pub fn name_is(&self, name: &str) -> bool {
        let bytes = name.as_bytes();
        let len = bytes.len();
        if len == 0 {
            // An empty name also stands for one that is not UTF-8.
            return self.name() == name;
        }
        len <= HANDLE_NAME_BYTES
            && self.name.get(len).is_none_or(|&b| b == 0)
            && self.name[..len] == *bytes
            && !bytes.contains(&0)
    }

    /// The name, up to the first NUL; empty if it is not UTF-8.
    pub fn name(&self) -> &str {
        let len = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(HANDLE_NAME_BYTES);
        core::str::from_utf8(&self.name[..len]).unwrap_or("")
    }
}

/// The startup page.
#[repr(C)]
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct StartupInfo {
    /// [`STARTUP_MAGIC`].
    pub magic: u64,
    /// [`STARTUP_VERSION`].
    pub version: u32,
    /// Bits from [`flags`].
    pub flags: u32,
    /// Slot of the first thread's own capability.
    pub thread: u32,
    /// Slot of the program's address space (`WRITE`).
    pub aspace: u32,
    /// Slot of the program's capability space.
    pub cspace: u32,
    /// Slot of the program's budget.
    pub budget: u32,
    /// Slot of the parent's endpoint (exit reports, faults), 0 for none.
    pub parent: u32,
    /// Slot of the debug capability, 0 for none.
    pub debug: u32,
    /// Slot of the log endpoint (the console server), 0 for none.
    pub log: u32,
    /// Number of slots of the program's capability space (0: not said;
    /// a forked child's space is made as large).
    pub cspace_slots: u32,
    /// Number of arguments.
    pub argc: u64,
    /// Address of the `argv` array (NULL-terminated, as on the stack).
    pub argv: u64,
    /// Number of environment strings.
    pub envc: u64,
    /// Address of the `envp` array (NULL-terminated).
    pub envp: u64,
    /// Random bits for the program's own use (its runtime's ASLR).
    pub entropy: [u64; 4],
    /// Base of the thread area; the first thread's block is slot 0.
    pub thread_area: u64,
    /// The first thread's TCB (its FS base).
    pub main_tcb: u64,
    /// The PT_TLS template: address of its initial bytes (0: none).
    pub tls_image: u64,
    /// Bytes of the template to copy.
    pub tls_filesz: u64,
    /// Bytes of TLS data in all.
    pub tls_memsz: u64,
    /// Alignment of the TLS data.
    pub tls_align: u64,
    /// CPU features (`crate::boot::cpu` bits).
    pub cpu_features: u64,
    /// Other capabilities.
    pub handles: [Handle; STARTUP_HANDLES],
}

impl StartupInfo {
    /// The slot of the first handle of `kind`, if any.
    pub fn handle(&self, kind: u32) -> Option<crate::CapSlot> {
        self.handles_of(kind).next()
    }

    /// The slot of the handle of `kind` named `name`, if any.
    pub fn handle_named(&self, kind: u32, name: &str) -> Option<crate::CapSlot> {
        self.handles
            .iter()
            .find(|h| h.kind == kind && kind != handle::NONE && h.name_is(name))
            .map(|h| crate::CapSlot(h.slot))
    }

    /// The slots of every handle of `kind`, in order.
    pub fn handles_of(&self, kind: u32) -> impl Iterator<Item = crate::CapSlot> + '_ {
        self.handles
            .iter()
            .filter(move |h| h.kind == kind && kind != handle::NONE)
            .map(|h| crate::CapSlot(h.slot))
    }
}

const _: () = assert!(core::mem::size_of::<StartupInfo>() <= crate::layout::PAGE_BYTES as usize);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};
    use zerocopy::FromZeros;

    #[test]
    fn layout_is_fixed() {
        assert_eq!(offset_of!(StartupInfo, thread), 16);
        assert_eq!(offset_of!(StartupInfo, argc), 48);
        assert_eq!(offset_of!(StartupInfo, entropy), 80);
        assert_eq!(offset_of!(StartupInfo, handles), 168);
        assert_eq!(size_of::<Handle>(), 8 + HANDLE_NAME_BYTES);
        assert_eq!(
            size_of::<StartupInfo>(),
            168 + (8 + HANDLE_NAME_BYTES) * STARTUP_HANDLES
        );
    }

    #[test]
    fn handles_are_found_by_kind() {
        let mut info = StartupInfo::new_zeroed();
        info.handles[3] = Handle::new(handle::SERVICE, 40, "echo").unwrap();
        info.handles[5] = Handle::new(handle::CLIENT, 41, "serial").unwrap();
        info.handles[6] = Handle::new(handle::CLIENT, 42, "log").unwrap();
        assert_eq!(info.handle(handle::SERVICE), Some(crate::CapSlot(40)));
        assert_eq!(info.handle(handle::IRQ), None);
        assert_eq!(info.handle(handle::NONE), None);
        assert_eq!(
            info.handle_named(handle::CLIENT, "log"),
            Some(crate::CapSlot(42))
        );
        assert_eq!(info.handle_named(handle::CLIENT, "echo"), None);
        assert_eq!(info.handles_of(handle::CLIENT).count(), 2);
    }

    #[test]
    fn handle_names_are_checked() {
        let long = "x".repeat(HANDLE_NAME_BYTES);
        assert_eq!(Handle::new(1, 2, &long).unwrap().name(), long);
        assert!(Handle::new(1, 2, &(long + "y")).is_none());
        assert!(Handle::new(1, 2, "a\0b").is_none());
        let mut bad = Handle::new(1, 2, "ok").unwrap();
        bad.name[0] = 0xff;
        assert_eq!(bad.name(), "");
    }

    #[test]
    fn name_is_agrees_with_name() {
        let long = "x".repeat(HANDLE_NAME_BYTES);
        let mut bad = Handle::new(1, 2, "ok").unwrap();
        bad.name[0] = 0xff;
        let mut nul_inside = Handle::new(1, 2, "ab").unwrap();
        nul_inside.name[3] = b'c';
        let handles = [
            Handle::new(1, 2, "proc").unwrap(),
            Handle::new(1, 2, "").unwrap(),
            Handle::new(1, 2, &long).unwrap(),
            bad,
            nul_inside,
        ];
        let queries = [
            "",
            "proc",
            "pro",
            "procs",
            "ok",
            "\u{ff}k",
            "ab",
            "ab\0c",
            "ab\0",
            &long,
            "xxxxxxxxxxxxxxxxxxxxxxxxy",
        ];
        for handle in &handles {
            for query in queries {
                assert_eq!(handle.name_is(query), handle.name() == query, "{query:?}");
            }
        }
    }
}
