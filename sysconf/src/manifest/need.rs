//! [`Need`]: one thing a manifest asks for; its value checks (shared by
//! the decoder and the compile-time encoder), whether a program's grants
//! cover it, and how it prints.

use core::fmt;

use crate::{Authority, Grant, IO_PORT_SPACE, MAX_GSI, MAX_ISA_IRQ, PAGE_BYTES, Program, is_name};

/// One thing a program needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Need<'a> {
    /// Ports `base..base + count`.
    IoPorts {
        /// First port.
        base: u16,
        /// Number of ports, >= 1; the end is at most 0x10000.
        count: u32,
    },
    /// An ISA IRQ line, 0-15.
    IrqIsa(u8),
    /// An I/O APIC GSI with its trigger mode and polarity.
    IrqGsi {
        /// Its number, at most [`crate::MAX_GSI`].
        gsi: u32,
        /// Level-triggered (else edge).
        level: bool,
        /// Active low (else active high).
        active_low: bool,
    },
    /// Device memory `phys..phys + pages * 4096`.
    DeviceMemory {
        /// Physical address, page-aligned.
        phys: u64,
        /// Number of pages, >= 1.
        pages: u32,
    },
    /// Serves the endpoint of this name.
    Serves(&'a str),
    /// Is a client of the endpoint of this name.
    ClientOf(&'a str),
    /// A strong kernel capability.
    Authority(Authority),
    /// The debug capability.
    Debug,
}

/// Why a need's values are out of range ([`Need::validate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NeedError {
    /// An I/O port range that is empty or goes past 0xffff.
    BadIoPorts,
    /// An ISA IRQ line above 15.
    BadIsaIrq,
    /// A GSI above [`crate::MAX_GSI`].
    BadGsi,
    /// Device memory that is empty, not page-aligned or ends past 2^64.
    BadDeviceMemory,
    /// An endpoint name that is not a valid name ([`crate::is_name`]).
    BadEndpointName,
}

impl NeedError {
    /// The message, for a compile-time panic (which cannot format).
    pub const fn message(self) -> &'static str {
        match self {
            NeedError::BadIoPorts => "an I/O port range is empty or goes past 0xffff",
            NeedError::BadIsaIrq => "an ISA IRQ line is above 15",
            NeedError::BadGsi => "a GSI is above 255",
            NeedError::BadDeviceMemory => {
                "device memory is empty, not page-aligned or ends past 2^64"
            }
            NeedError::BadEndpointName => {
                "an endpoint name is not lowercase letters, digits and '-', starting with a letter"
            }
        }
    }
}

impl fmt::Display for NeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl Need<'_> {
    /// Checks the values: ranges not empty and in bounds, IRQs in range,
    /// endpoint names valid. The decoder and the encoder both use it.
    ///
    /// # Errors
    /// The first rule broken.
    pub const fn validate(&self) -> Result<(), NeedError> {
        match *self {
            Need::IoPorts { base, count } => {
                let end = base as u64 + count as u64;
                if count == 0 || end > IO_PORT_SPACE as u64 {
                    return Err(NeedError::BadIoPorts);
                }
            }
            Need::IrqIsa(line) => {
                if line > MAX_ISA_IRQ {
                    return Err(NeedError::BadIsaIrq);
                }
            }
            Need::IrqGsi { gsi, .. } => {
                if gsi > MAX_GSI {
                    return Err(NeedError::BadGsi);
                }
            }
            Need::DeviceMemory { phys, pages } => {
                let bytes = pages as u64 * PAGE_BYTES;
                if pages == 0 || phys % PAGE_BYTES != 0 || phys.checked_add(bytes).is_none() {
                    return Err(NeedError::BadDeviceMemory);
                }
            }
            Need::Serves(name) | Need::ClientOf(name) => {
                if !is_name(name) {
                    return Err(NeedError::BadEndpointName);
                }
            }
            Need::Authority(_) | Need::Debug => {}
        }
        Ok(())
    }

    /// Whether `program`'s entry in the configuration grants this need
    /// (the rules are in the module documentation, "Coverage").
    pub fn is_granted_to(&self, program: &Program<'_>) -> bool {
        match *self {
            Need::Debug => program.debug,
            _ => program.grants().any(|grant| self.is_covered_by(&grant)),
        }
    }

    /// Whether `grant` alone covers this need.
    fn is_covered_by(&self, grant: &Grant<'_>) -> bool {
        // Ends in u128, so that no value can overflow.
        let inside = |start: u64, len: u128, outer_start: u64, outer_len: u128| {
            let (start, outer_start) = (u128::from(start), u128::from(outer_start));
            outer_start <= start && start + len <= outer_start + outer_len
        };
        let page_bytes = u128::from(PAGE_BYTES);
        match (*self, *grant) {
            (Need::IoPorts { base, count }, Grant::IoPorts { base: b, count: c }) => inside(
                u64::from(base),
                u128::from(count),
                u64::from(b),
                u128::from(c),
            ),
            (Need::IrqIsa(line), Grant::IrqIsa(granted)) => line == granted,
            (
                Need::IrqGsi {
                    gsi,
                    level,
                    active_low,
                },
                Grant::IrqGsi {
                    gsi: g,
                    level: l,
                    active_low: a,
                },
            ) => gsi == g && level == l && active_low == a,
            (Need::DeviceMemory { phys, pages }, Grant::DeviceMemory { phys: p, pages: n }) => {
                inside(
                    phys,
                    u128::from(pages) * page_bytes,
                    p,
                    u128::from(n) * page_bytes,
                )
            }
            (Need::Serves(name), Grant::Serves(e)) => e.name == name,
            (Need::ClientOf(name), Grant::ClientOf(e)) => e.name == name,
            (Need::Authority(a), Grant::Authority(g)) => a == g,
            _ => false,
        }
    }
}

/// What the need is, as a noun phrase: `I/O ports 0x3f8..0x400`, `ISA IRQ
/// 4`, `GSI 20 (level-triggered, active low)`, `device memory
/// 0xfeb00000..0xfeb02000`, `serves endpoint "serial"`, `client of endpoint
/// "log"`, `authority io-space`, `the debug capability`.
impl fmt::Display for Need<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Need::IoPorts { base, count } => {
                let end = u64::from(base) + u64::from(count);
                write!(f, "I/O ports {base:#x}..{end:#x}")
            }
            Need::IrqIsa(line) => write!(f, "ISA IRQ {line}"),
            Need::IrqGsi {
                gsi,
                level,
                active_low,
            } => {
                let trigger = if level { "level" } else { "edge" };
                let polarity = if active_low { "low" } else { "high" };
                write!(f, "GSI {gsi} ({trigger}-triggered, active {polarity})")
            }
            Need::DeviceMemory { phys, pages } => {
                let end = u128::from(phys) + u128::from(pages) * u128::from(PAGE_BYTES);
                write!(f, "device memory {phys:#x}..{end:#x}")
            }
            Need::Serves(name) => write!(f, "serves endpoint \"{name}\""),
            Need::ClientOf(name) => write!(f, "client of endpoint \"{name}\""),
            Need::Authority(a) => write!(f, "authority {a}"),
            Need::Debug => write!(f, "the debug capability"),
        }
    }
}
