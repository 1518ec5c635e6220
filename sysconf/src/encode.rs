//! The encoder xtask uses: a plain data model ([`System`]) to the packed
//! form the crate header describes. It resolves names to indices and
//! refuses what it cannot represent; the checks with messages for people
//! (overlaps, cycles, ranges) are xtask's, which runs them first.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{
    ARG_BYTES, Authority, DEP_BYTES, ENDPOINT_BYTES, FLAG_ASLR, GRANT_BYTES, GSI_ACTIVE_LOW,
    GSI_LEVEL, HEADER_BYTES, MAGIC, PROGRAM_BYTES, PROGRAM_FLAG_DEBUG, RestartKind, RestartPolicy,
    VERSION, kind,
};

/// A whole system, as xtask reads it from `system.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct System {
    /// Whether the loader randomizes program addresses.
    pub aslr: bool,
    /// The programs in start order.
    pub programs: Vec<ProgramSpec>,
}

/// One program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSpec {
    /// Its name, unique.
    pub name: String,
    /// Its path in the initramfs, `bin/...`.
    pub path: String,
    /// Scheduling priority, 0-63.
    pub priority: u8,
    /// The highest priority it may give threads; 0: its priority.
    pub max_priority: u8,
    /// Budget in frames.
    pub budget_frames: u32,
    /// The least budget it can run with (1 to `budget_frames`).
    pub least_budget_frames: u32,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Whether it may be given the debug capability.
    pub debug: bool,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its grants.
    pub grants: Vec<GrantSpec>,
    /// Names of the programs that must start first.
    pub depends_on: Vec<String>,
}

/// One grant, with endpoints by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantSpec {
    /// Ports `base..base + count`.
    IoPorts {
        /// First port.
        base: u16,
        /// Number of ports.
        count: u32,
    },
    /// An ISA IRQ line.
    IrqIsa(u8),
    /// An I/O APIC GSI.
    IrqGsi {
        /// Its number.
        gsi: u32,
        /// Level-triggered.
        level: bool,
        /// Active low.
        active_low: bool,
    },
    /// Device memory.
    DeviceMemory {
        /// Physical address, page-aligned.
        phys: u64,
        /// Number of pages.
        pages: u32,
    },
    /// Serves the endpoint of this name.
    Serves(String),
    /// Is a client of the endpoint of this name.
    ClientOf(String),
    /// A strong kernel capability.
    Authority(Authority),
}

/// What the encoder cannot represent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// More entries in a table than a u16 counts, or more string bytes
    /// than a u32 does.
    TooLarge(&'static str),
    /// A dependency names no program.
    UnknownProgram(String),
    /// A client grant names an endpoint nobody serves.
    UnknownEndpoint(String),
    /// Two serves grants name one endpoint.
    DuplicateEndpoint(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLarge(what) => write!(f, "too many {what} for the packed format"),
            EncodeError::UnknownProgram(name) => write!(f, "no program is named \"{name}\""),
            EncodeError::UnknownEndpoint(name) => write!(f, "nobody serves endpoint \"{name}\""),
            EncodeError::DuplicateEndpoint(name) => {
                write!(f, "endpoint \"{name}\" is served twice")
            }
        }
    }
}

fn count16(n: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLarge(what))
}

struct Strings(Vec<u8>);

impl Strings {
    /// Appends `s` and returns its 8-byte reference.
    fn add(&mut self, s: &str) -> Result<[u8; 8], EncodeError> {
        let offset = u32::try_from(self.0.len()).map_err(|_| EncodeError::TooLarge("strings"))?;
        let len = u32::try_from(s.len()).map_err(|_| EncodeError::TooLarge("strings"))?;
        self.0.extend_from_slice(s.as_bytes());
        u32::try_from(self.0.len()).map_err(|_| EncodeError::TooLarge("strings"))?;
        let mut r = [0; 8];
        r[..4].copy_from_slice(&offset.to_le_bytes());
        r[4..].copy_from_slice(&len.to_le_bytes());
        Ok(r)
    }
}

/// Packs `system`.
///
/// # Errors
/// An [`EncodeError`] for a name it cannot resolve or a table too large.
pub fn encode(system: &System) -> Result<Vec<u8>, EncodeError> {
    let index_of = |name: &str| system.programs.iter().position(|p| p.name == name);
    // Endpoints, in the order their servers declare them.
    let mut endpoint_names: Vec<(&str, usize)> = Vec::new();
    for (i, p) in system.programs.iter().enumerate() {
        for g in &p.grants {
            if let GrantSpec::Serves(name) = g {
                if endpoint_names.iter().any(|(n, _)| n == name) {
                    return Err(EncodeError::DuplicateEndpoint(name.clone()));
                }
                endpoint_names.push((name, i));
            }
        }
    }
    let endpoint_of = |name: &str| endpoint_names.iter().position(|(n, _)| *n == name);

    let mut strings = Strings(Vec::new());
    let mut programs = Vec::new();
    let mut endpoints = Vec::new();
    let mut grants = Vec::new();
    let mut args = Vec::new();
    let mut deps = Vec::new();
    for (name, server) in &endpoint_names {
        endpoints.extend_from_slice(&strings.add(name)?);
        endpoints.extend_from_slice(&count16(*server, "programs")?.to_le_bytes());
        endpoints.extend_from_slice(&[0, 0]);
    }
    for p in &system.programs {
        let first_arg = count16(args.len() / ARG_BYTES, "arguments")?;
        for a in &p.args {
            args.extend_from_slice(&strings.add(a)?);
        }
        let first_grant = count16(grants.len() / GRANT_BYTES, "grants")?;
        for g in &p.grants {
            let (kind, a, b): (u8, u32, u64) = match g {
                GrantSpec::IoPorts { base, count } => {
                    (kind::IO_PORTS, u32::from(*base), u64::from(*count))
                }
                GrantSpec::IrqIsa(line) => (kind::IRQ_ISA, u32::from(*line), 0),
                GrantSpec::IrqGsi {
                    gsi,
                    level,
                    active_low,
                } => {
                    let mut flags = 0;
                    if *level {
                        flags |= GSI_LEVEL;
                    }
                    if *active_low {
                        flags |= GSI_ACTIVE_LOW;
                    }
                    (kind::IRQ_GSI, *gsi, flags)
                }
                GrantSpec::DeviceMemory { phys, pages } => (kind::DEVICE_MEMORY, *pages, *phys),
                GrantSpec::Authority(authority) => (kind::AUTHORITY, authority.id(), 0),
                GrantSpec::Serves(name) | GrantSpec::ClientOf(name) => {
                    let e = endpoint_of(name)
                        .ok_or_else(|| EncodeError::UnknownEndpoint(name.clone()))?;
                    let k = if matches!(g, GrantSpec::Serves(_)) {
                        kind::SERVES
                    } else {
                        kind::CLIENT_OF
                    };
                    (k, u32::from(count16(e, "endpoints")?), 0)
                }
            };
            grants.extend_from_slice(&[kind, 0, 0, 0]);
            grants.extend_from_slice(&a.to_le_bytes());
            grants.extend_from_slice(&b.to_le_bytes());
        }
        let first_dep = count16(deps.len() / DEP_BYTES, "dependencies")?;
        for d in &p.depends_on {
            let i = index_of(d).ok_or_else(|| EncodeError::UnknownProgram(d.clone()))?;
            deps.extend_from_slice(&count16(i, "programs")?.to_le_bytes());
        }
        programs.extend_from_slice(&strings.add(&p.name)?);
        programs.extend_from_slice(&strings.add(&p.path)?);
        let restart = match p.restart.kind {
            RestartKind::Never => 0,
            RestartKind::OnFailure => 1,
            RestartKind::Always => 2,
        };
        let flags = if p.debug { PROGRAM_FLAG_DEBUG } else { 0 };
        programs.extend_from_slice(&[p.priority, restart, flags, p.max_priority]);
        for v in [
            p.budget_frames,
            p.restart.backoff_initial_ms,
            p.restart.backoff_max_ms,
            p.restart.min_run_ms,
            p.restart.give_up_failures,
            p.restart.give_up_window_ms,
        ] {
            programs.extend_from_slice(&v.to_le_bytes());
        }
        for v in [
            first_arg,
            count16(p.args.len(), "arguments")?,
            first_grant,
            count16(p.grants.len(), "grants")?,
            first_dep,
            count16(p.depends_on.len(), "dependencies")?,
        ] {
            programs.extend_from_slice(&v.to_le_bytes());
        }
        programs.extend_from_slice(&p.least_budget_frames.to_le_bytes());
        programs.extend_from_slice(&0u32.to_le_bytes());
    }
    debug_assert_eq!(programs.len(), system.programs.len() * PROGRAM_BYTES);
    debug_assert_eq!(endpoints.len(), endpoint_names.len() * ENDPOINT_BYTES);

    let total = HEADER_BYTES
        + programs.len()
        + endpoints.len()
        + grants.len()
        + args.len()
        + deps.len()
        + strings.0.len();
    let total32 = u32::try_from(total).map_err(|_| EncodeError::TooLarge("bytes"))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let flags = if system.aslr { FLAG_ASLR } else { 0 };
    out.extend_from_slice(&flags.to_le_bytes());
    for v in [
        count16(system.programs.len(), "programs")?,
        count16(endpoint_names.len(), "endpoints")?,
        count16(grants.len() / GRANT_BYTES, "grants")?,
        count16(args.len() / ARG_BYTES, "arguments")?,
        count16(deps.len() / DEP_BYTES, "dependencies")?,
        0,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(strings.0.len() as u32).to_le_bytes());
    out.extend_from_slice(&total32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    debug_assert_eq!(out.len(), HEADER_BYTES);
    for table in [programs, endpoints, grants, args, deps, strings.0] {
        out.extend_from_slice(&table);
    }
    Ok(out)
}
