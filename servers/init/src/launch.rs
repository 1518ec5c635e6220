//! Starting one instance of a program: its capabilities, then the loader.
//!
//! What a program gets is decided here and nowhere else:
//!
//! - its own thread, address space, capability space and budget (split
//!   from init's, `budget_frames` of it), and the parent endpoint (init's,
//!   badged for this instance), which `rt::spawn` always gives;
//! - for each grant of its entry: the endpoint it serves (`SERVICE`, named
//!   after the service) or calls (`CLIENT`), and the I/O ports, IRQ lines
//!   and device memory, which init makes once, at the first start, and
//!   keeps, so that every instance gets the same ones (`Resource`);
//! - the debug capability only if its entry allows it.
//!
//! Nothing else: no capability to init's budget, address space or
//! capability space, nor to any other program's.

use alloc::vec::Vec;
use core::fmt;

use abi::startup::handle;
use abi::syscall::IrqSource;
use abi::{CapSlot, Rights};
use rt::spawn::{Child, ElfFile, Grant, Spawn, SpawnError};
use rt::sys;
use sysconf::Grant as ConfigGrant;

use crate::program::Resource;

/// The capabilities and facts init starts programs with.
pub struct Authority<'a> {
    /// init's budget.
    pub budget: CapSlot,
    /// The I/O space.
    pub io_space: CapSlot,
    /// The IRQ control.
    pub irq_control: CapSlot,
    /// The device memory authority.
    pub device: CapSlot,
    /// The initramfs memory object and the archive's offset in its first
    /// page.
    pub initramfs: (CapSlot, u64),
    /// The archive.
    pub archive: &'a [u8],
    /// Boot entropy, mixed per instance.
    pub entropy: [u64; 4],
    /// Randomise programs' layouts.
    pub aslr: bool,
}

/// Why an instance could not be started.
#[derive(Debug)]
pub enum LaunchError {
    /// The file is not in the initramfs.
    NoFile,
    /// A device capability could not be made (the kernel's error).
    Resource(&'static str, abi::SysError),
    /// The loader refused.
    Spawn(SpawnError),
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::NoFile => write!(f, "its file is not in the initramfs"),
            LaunchError::Resource(what, e) => write!(f, "cannot make its {what}: {e}"),
            LaunchError::Spawn(e) => write!(f, "cannot load it: {e}"),
        }
    }
}

/// Makes the device capabilities `program` is granted (once per program;
/// init keeps them).
pub fn make_resources(
    authority: &Authority<'_>,
    program: &sysconf::Program<'_>,
) -> Result<Vec<Resource>, LaunchError> {
    let mut made = Vec::new();
    let result = (|| {
        for grant in program.grants() {
            let resource = match grant {
                ConfigGrant::IoPorts { base, count } => Resource {
                    kind: handle::IO_PORTS,
                    slot: sys::io_ports_create(
                        authority.io_space,
                        authority.budget,
                        u64::from(base),
                        u64::from(count),
                    )
                    .map_err(|e| LaunchError::Resource("I/O ports", e))?,
                },
                ConfigGrant::IrqIsa(line) => irq(authority, IrqSource::Isa(line))?,
                ConfigGrant::IrqGsi {
                    gsi,
                    level,
                    active_low,
                } => irq(
                    authority,
                    IrqSource::Gsi {
                        gsi,
                        level,
                        active_low,
                    },
                )?,
                ConfigGrant::DeviceMemory { phys, pages } => Resource {
                    kind: handle::DEVICE_MEMORY,
                    slot: sys::memory_create_device(
                        authority.budget,
                        authority.device,
                        phys,
                        u64::from(pages),
                    )
                    .map_err(|e| LaunchError::Resource("device memory", e))?,
                },
                _ => continue,
            };
            made.push(resource);
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(made),
        Err(e) => {
            for resource in made {
                let _ = sys::cap_delete(resource.slot);
            }
            Err(e)
        }
    }
}

fn irq(authority: &Authority<'_>, source: IrqSource) -> Result<Resource, LaunchError> {
    Ok(Resource {
        kind: handle::IRQ,
        slot: sys::irq_create(authority.irq_control, authority.budget, source)
            .map_err(|e| LaunchError::Resource("IRQ", e))?,
    })
}

/// What one instance starts with besides its entry.
pub struct Instance<'r> {
    /// The endpoints, by index in the configuration (init's slots).
    pub endpoints: &'r [Option<CapSlot>],
    /// The device capabilities made for the program.
    pub resources: &'r [Resource],
    /// init's endpoint and this instance's badge on it.
    pub report_to: (CapSlot, u64),
    /// The instance number (mixed into its entropy).
    pub number: u64,
    /// A capability to init's supervisor protocol (badged).
    pub supervisor: CapSlot,
}

/// Starts one instance of `program`.
pub fn launch(
    authority: &Authority<'_>,
    program: &sysconf::Program<'_>,
    instance: &Instance<'_>,
) -> Result<Child, LaunchError> {
    let bytes =
        kcore::tar::find(authority.archive, program.path).map_err(|_| LaunchError::NoFile)?;
    let (initramfs, page_offset) = authority.initramfs;
    let offset =
        page_offset + (bytes.as_ptr() as u64).wrapping_sub(authority.archive.as_ptr() as u64);
    let mut grants: Vec<Grant<'_>> = Vec::new();
    let endpoint_rights = |serves: bool| {
        if serves {
            Rights::READ | Rights::WRITE | Rights::GRANT
        } else {
            Rights::WRITE | Rights::GRANT
        }
    };
    for grant in program.grants() {
        let (endpoint, kind) = match grant {
            ConfigGrant::Serves(e) => (e, handle::SERVICE),
            ConfigGrant::ClientOf(e) => (e, handle::CLIENT),
            _ => continue,
        };
        let Some(Some(slot)) = instance.endpoints.get(usize::from(endpoint.index)) else {
            continue;
        };
        grants.push(Grant {
            slot: *slot,
            rights: endpoint_rights(kind == handle::SERVICE),
            kind,
            name: endpoint.name,
        });
    }
    for resource in instance.resources {
        grants.push(Grant::new(resource.slot, Rights::all(), resource.kind));
    }
    // INTERIM (until system.toml's authority grants land): the test runner
    // gets the strong capabilities it needs.
    let strong = program.name == "test-runner";
    if strong {
        grants.push(Grant::new(
            authority.io_space,
            Rights::all(),
            handle::IO_SPACE,
        ));
        grants.push(Grant::new(
            authority.irq_control,
            Rights::all(),
            handle::IRQ_CONTROL,
        ));
        grants.push(Grant::new(authority.device, Rights::all(), handle::DEVICE));
        grants.push(Grant::new(
            initramfs,
            Rights::READ | Rights::GRANT,
            handle::INITRAMFS,
        ));
        grants.push(Grant::new(
            instance.supervisor,
            Rights::WRITE | Rights::GRANT,
            handle::SUPERVISOR,
        ));
    }
    // argv[0] is the program's name, as on Unix.
    let args: Vec<&str> = core::iter::once(program.name)
        .chain(program.args())
        .collect();
    let (report_to, badge) = instance.report_to;
    Spawn::new(ElfFile {
        bytes,
        backing: Some((initramfs, offset)),
    })
    .args(&args)
    .grants(&grants)
    .budget(u64::from(program.budget_frames))
    .priority(u64::from(program.priority))
    .max_priority(if strong {
        63
    } else {
        u64::from(program.priority)
    })
    .boot_info(strong)
    .cspace_slots(cspace_slots(program.budget_frames))
    .debug(program.debug)
    .aslr(authority.aslr)
    .entropy(mix(authority.entropy, instance.number))
    .report_to(report_to, badge)
    .spawn()
    .map_err(LaunchError::Spawn)
}

/// A program's capability-space size: one slot per 16 frames of budget,
/// in whole frames of slots (64), at least 256 and at most 4,096.
fn cspace_slots(budget_frames: u32) -> u64 {
    (u64::from(budget_frames) / 16)
        .next_multiple_of(64)
        .clamp(256, 4096)
}

/// Per-instance entropy: the boot words run through splitmix64 with the
/// instance number, so no two instances share a layout.
fn mix(entropy: [u64; 4], number: u64) -> [u64; 4] {
    entropy.map(|word| {
        let mut x = word ^ number.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    })
}
