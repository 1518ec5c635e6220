//! Starting one instance of a program: what it asks for, what init makes
//! for it, then the loader.
//!
//! What a program gets is decided here and nowhere else:
//!
//! - its own thread, address space, capability space and budget (split
//!   from init's, `budget_frames` of it), and the parent endpoint (init's,
//!   badged for this instance), which `rt::spawn` always gives;
//! - what its manifest (the `.mica.manifest` section of its ELF file)
//!   asks for, once `sysconf::manifest::check` has found every need
//!   granted by its `system.toml` entry: I/O ports, IRQ lines and device
//!   memory (made by init once, at the first start, exactly as asked, and
//!   kept, so every instance gets the same ones), the endpoints it serves
//!   (`SERVICE`) and calls (`CLIENT`), named after the service, the
//!   kernel authorities, the boot information and the debug capability;
//! - a program without a manifest: only the endpoints its entry grants.
//!   Anything else its entry grants it has not asked for, and does not get.
//!
//! Nothing else: no capability to init's budget, address space or
//! capability space, nor to any other program's.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use abi::startup::handle;
use abi::syscall::IrqSource;
use abi::{CapSlot, Rights};
use rt::spawn::{Child, ElfFile, Grant, Spawn, SpawnError};
use rt::sys;
use sysconf::Authority;
use sysconf::manifest::{self, Manifest, Need};

use crate::program::Resource;

/// The capabilities and facts init starts programs with.
pub struct Authorities<'a> {
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
    /// A badged capability to init's supervisor protocol.
    pub supervisor: CapSlot,
    /// The kernel's debug capability (granted read-only as `kernel-log`).
    pub debug: CapSlot,
    /// The archive.
    pub archive: &'a [u8],
    /// Boot entropy, mixed per instance.
    pub entropy: [u64; 4],
    /// Randomise programs' layouts.
    pub aslr: bool,
    /// An environment variable every program gets: in `mode=bench`,
    /// `MICA_BOOT_BENCH=UNIT:TSC` with the TSC at the kernel's first
    /// instruction, from which `sh` times `boot_to_prompt`.
    pub env: Option<String>,
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

/// The program's ELF file in the initramfs.
pub fn file<'a>(
    authorities: &Authorities<'a>,
    program: &sysconf::Program<'_>,
) -> Result<&'a [u8], LaunchError> {
    kcore::tar::find(authorities.archive, program.path).map_err(|_| LaunchError::NoFile)
}

/// What `program` (whose file is `file`) asks for, each need checked
/// against its entry; the one line that says why it is refused otherwise.
pub fn needs<'a>(program: &sysconf::Program<'a>, file: &'a [u8]) -> Result<Vec<Need<'a>>, String> {
    match elfload::section(file, manifest::SECTION) {
        Err(e) => Err(format!("its section headers are unreadable: {e}")),
        Ok(None) => Ok(program
            .grants()
            .filter_map(|grant| match grant {
                sysconf::Grant::Serves(e) => Some(Need::Serves(e.name)),
                sysconf::Grant::ClientOf(e) => Some(Need::ClientOf(e.name)),
                sysconf::Grant::Authority(a) if a.is_read_only() => Some(Need::Authority(a)),
                _ => None,
            })
            .collect()),
        Ok(Some(bytes)) => {
            let manifest =
                Manifest::parse(bytes).map_err(|e| format!("its manifest is malformed: {e}"))?;
            manifest::check(&manifest, program).map_err(|refusal| format!("{refusal}"))?;
            Ok(manifest.needs().collect())
        }
    }
}

/// Makes the device capabilities `needs` asks for, in order (once per
/// program; init keeps them).
pub fn make_resources(
    authorities: &Authorities<'_>,
    needs: &[Need<'_>],
) -> Result<Vec<Resource>, LaunchError> {
    let mut made = Vec::new();
    let result = (|| {
        for need in needs {
            let resource = match *need {
                Need::IoPorts { base, count } => Resource {
                    kind: handle::IO_PORTS,
                    slot: sys::io_ports_create(
                        authorities.io_space,
                        authorities.budget,
                        u64::from(base),
                        u64::from(count),
                    )
                    .map_err(|e| LaunchError::Resource("I/O ports", e))?,
                },
                Need::IrqIsa(line) => irq(authorities, IrqSource::Isa(line))?,
                Need::IrqGsi {
                    gsi,
                    level,
                    active_low,
                } => irq(
                    authorities,
                    IrqSource::Gsi {
                        gsi,
                        level,
                        active_low,
                    },
                )?,
                Need::DeviceMemory { phys, pages } => Resource {
                    kind: handle::DEVICE_MEMORY,
                    slot: sys::memory_create_device(
                        authorities.budget,
                        authorities.device,
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

fn irq(authorities: &Authorities<'_>, source: IrqSource) -> Result<Resource, LaunchError> {
    Ok(Resource {
        kind: handle::IRQ,
        slot: sys::irq_create(authorities.irq_control, authorities.budget, source)
            .map_err(|e| LaunchError::Resource("IRQ", e))?,
    })
}

/// What one instance starts with besides its entry.
pub struct Instance<'r, 'a> {
    /// What the program asks for (checked).
    pub needs: &'r [Need<'a>],
    /// The device capabilities made for it, in the order of `needs`.
    pub resources: &'r [Resource],
    /// init's capability to the endpoint of a name, if it is open.
    pub endpoint: &'r dyn Fn(&str) -> Option<CapSlot>,
    /// init's endpoint and this instance's badge on it.
    pub report_to: (CapSlot, u64),
    /// The instance number (mixed into its entropy).
    pub number: u64,
    /// The badge of its client capabilities (`abi::startup::CLIENT_BADGE`
    /// and its index).
    pub client_badge: u64,
    /// Its budget: the entry's ask, or less on a small machine
    /// (`sysconf::budget::grant`).
    pub budget_frames: u32,
}

/// Starts one instance of `program` from `file`.
pub fn launch(
    authorities: &Authorities<'_>,
    program: &sysconf::Program<'_>,
    file: &[u8],
    instance: &Instance<'_, '_>,
) -> Result<Child, LaunchError> {
    let (initramfs, page_offset) = authorities.initramfs;
    let offset =
        page_offset + (file.as_ptr() as u64).wrapping_sub(authorities.archive.as_ptr() as u64);
    let mut grants: Vec<Grant<'_>> = Vec::new();
    // The badged client capabilities minted for this start, deleted once
    // the loader has copied them.
    let mut minted = Minted(Vec::new());
    let mut resources = instance.resources.iter();
    let (mut debug, mut boot_info) = (false, false);
    let all = Rights::all();
    for need in instance.needs {
        let grant = match *need {
            Need::Serves(name) | Need::ClientOf(name) => {
                let serves = matches!(need, Need::Serves(_));
                let Some(mut slot) = (instance.endpoint)(name) else {
                    // Closed: its server will not come back.
                    continue;
                };
                if !serves {
                    slot =
                        sys::cap_mint(slot, Rights::WRITE | Rights::GRANT, instance.client_badge)
                            .map_err(|e| LaunchError::Resource("client capability", e))?;
                    minted.0.push(slot);
                }
                Grant {
                    slot,
                    rights: if serves {
                        Rights::READ | Rights::WRITE | Rights::GRANT
                    } else {
                        Rights::WRITE | Rights::GRANT
                    },
                    kind: if serves {
                        handle::SERVICE
                    } else {
                        handle::CLIENT
                    },
                    name,
                }
            }
            Need::IoPorts { .. }
            | Need::IrqIsa(_)
            | Need::IrqGsi { .. }
            | Need::DeviceMemory { .. } => {
                let Some(resource) = resources.next() else {
                    continue;
                };
                Grant::new(resource.slot, all, resource.kind)
            }
            Need::Authority(Authority::IoSpace) => {
                Grant::new(authorities.io_space, all, handle::IO_SPACE)
            }
            Need::Authority(Authority::IrqControl) => {
                Grant::new(authorities.irq_control, all, handle::IRQ_CONTROL)
            }
            Need::Authority(Authority::DeviceMemory) => {
                Grant::new(authorities.device, all, handle::DEVICE)
            }
            Need::Authority(Authority::Initramfs) => {
                Grant::new(initramfs, Rights::READ | Rights::GRANT, handle::INITRAMFS)
            }
            Need::Authority(Authority::Supervisor) => Grant::new(
                authorities.supervisor,
                Rights::WRITE | Rights::GRANT,
                handle::SUPERVISOR,
            ),
            Need::Authority(Authority::KernelLog) => {
                Grant::new(authorities.debug, Rights::READ, handle::KERNEL_LOG)
            }
            Need::Authority(Authority::BootInfo) => {
                boot_info = true;
                continue;
            }
            Need::Debug => {
                debug = true;
                continue;
            }
        };
        grants.push(grant);
    }
    // argv[0] is the program's name, as on Unix.
    let args: Vec<&str> = core::iter::once(program.name)
        .chain(program.args())
        .collect();
    let (report_to, badge) = instance.report_to;
    let env: Vec<&str> = authorities.env.iter().map(String::as_str).collect();
    Spawn::new(ElfFile {
        bytes: file,
        backing: Some((initramfs, offset)),
    })
    .args(&args)
    .env(&env)
    .grants(&grants)
    .budget(u64::from(instance.budget_frames))
    .priority(u64::from(program.priority))
    .max_priority(u64::from(program.max_priority))
    .debug(debug)
    .boot_info(boot_info)
    .cspace_slots(cspace_slots(instance.budget_frames))
    .aslr(authorities.aslr)
    .entropy(mix(authorities.entropy, instance.number))
    .report_to(report_to, badge)
    .spawn()
    .map_err(LaunchError::Spawn)
}

/// Capabilities init made for one start only: deleted when it is done.
struct Minted(Vec<CapSlot>);

impl Drop for Minted {
    fn drop(&mut self) {
        for &slot in &self.0 {
            // An error leaves nothing to free.
            let _ = sys::cap_delete(slot);
        }
    }
}

/// A program's capability-space size: one slot per 4 frames of budget,
/// in whole frames of slots (64), at least 256 and at most 4,096 (the
/// space costs a frame per 64 slots, so at most 1/256 of the budget).
fn cspace_slots(budget_frames: u32) -> u64 {
    (u64::from(budget_frames) / 4)
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
