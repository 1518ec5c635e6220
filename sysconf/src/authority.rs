//! [`Authority`]: the strong kernel capabilities init may hand a program,
//! named the same way in `system.toml`, in the packed configuration (grant
//! kind 7) and in a driver's manifest ([`crate::manifest`]).
//!
//! Each has a stable id (the packed value) and a kebab-case name (the
//! `system.toml` spelling, also what messages print). Both lists are
//! derived from [`Authority::ALL`], so a new variant needs one arm in
//! [`Authority::name`] and one entry there, and nothing else.

use core::fmt;

/// A strong kernel capability a program may be given by init.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum Authority {
    /// `io-space`: the IoSpace capability, which makes a capability for
    /// any I/O port range.
    IoSpace = 1,
    /// `irq-control`: the IrqControl capability, which makes a capability
    /// for any IRQ.
    IrqControl = 2,
    /// `device-memory`: the DeviceMemory capability, which makes a memory
    /// object for any physical range outside RAM.
    DeviceMemory = 3,
    /// `initramfs`: the initramfs memory object, read-only, mapped.
    Initramfs = 4,
    /// `boot-info`: a copy of the kernel's boot information page.
    BootInfo = 5,
    /// `supervisor`: may call init's supervisor protocol (list, kill and
    /// restart programs; frame counts).
    Supervisor = 6,
    /// `kernel-log`: the debug capability with only the right to read
    /// (the kernel log, frame counts and counters; no output, no exit).
    KernelLog = 7,
}

impl Authority {
    /// Every authority, in id order.
    pub const ALL: [Authority; 7] = [
        Authority::IoSpace,
        Authority::IrqControl,
        Authority::DeviceMemory,
        Authority::Initramfs,
        Authority::BootInfo,
        Authority::Supervisor,
        Authority::KernelLog,
    ];

    /// Every name, in id order (for messages such as serde's "expected one
    /// of").
    pub const NAMES: [&'static str; 7] = {
        let mut names = [""; 7];
        let mut i = 0;
        while i < Authority::ALL.len() {
            names[i] = Authority::ALL[i].name();
            i += 1;
        }
        names
    };

    /// Its packed id (grant kind 7's `a`, a manifest record's `a`).
    pub const fn id(self) -> u32 {
        self as u32
    }

    /// The authority with packed id `id`, if any.
    pub const fn from_id(id: u32) -> Option<Authority> {
        let mut i = 0;
        while i < Authority::ALL.len() {
            if Authority::ALL[i].id() == id {
                return Some(Authority::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// Its name in `system.toml`, kebab-case.
    pub const fn name(self) -> &'static str {
        match self {
            Authority::IoSpace => "io-space",
            Authority::IrqControl => "irq-control",
            Authority::DeviceMemory => "device-memory",
            Authority::Initramfs => "initramfs",
            Authority::BootInfo => "boot-info",
            Authority::Supervisor => "supervisor",
            Authority::KernelLog => "kernel-log",
        }
    }

    /// Whether it only lets the program read what the kernel reports
    /// (`boot-info`, `kernel-log`): no power over devices, memory or other
    /// programs. A program without a manifest gets these when its entry
    /// grants them, and no other authority (docs/init.md).
    pub const fn is_read_only(self) -> bool {
        matches!(self, Authority::BootInfo | Authority::KernelLog)
    }

    /// The authority named `name` (as in `system.toml`), if any.
    pub const fn from_name(name: &str) -> Option<Authority> {
        let mut i = 0;
        while i < Authority::ALL.len() {
            if bytes_eq(Authority::ALL[i].name().as_bytes(), name.as_bytes()) {
                return Some(Authority::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `a == b`, usable in a `const fn`.
pub(crate) const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for (i, a) in Authority::ALL.into_iter().enumerate() {
            assert_eq!(a.id(), i as u32 + 1, "ALL is in id order");
            assert_eq!(Authority::from_id(a.id()), Some(a));
            assert_eq!(Authority::from_name(a.name()), Some(a));
            assert_eq!(Authority::NAMES[i], a.name());
            assert_eq!(a.to_string(), a.name());
        }
        assert_eq!(Authority::from_id(0), None);
        assert_eq!(Authority::from_id(8), None);
        assert_eq!(Authority::from_name("io_space"), None);
        assert_eq!(Authority::from_name(""), None);
    }

    #[test]
    fn only_reporting_authorities_are_read_only() {
        let read_only: Vec<_> = Authority::ALL
            .into_iter()
            .filter(|a| a.is_read_only())
            .collect();
        assert_eq!(read_only, [Authority::BootInfo, Authority::KernelLog]);
    }
}
