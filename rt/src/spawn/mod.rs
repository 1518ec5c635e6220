//! Starting a program from its ELF file: the loader.
//!
//! [`Spawn`] checks the file with `elfload` (which validates everything
//! before anything is mapped), then builds the new process out of objects
//! paid by a budget split from the caller's:
//!
//! - an address space and a capability space;
//! - per segment: the file's whole pages mapped straight from the memory
//!   object holding the file (the initramfs) when the segment is not
//!   writable and the file is page-aligned there; one fresh object for the
//!   other pages, into which only the partial head and tail pages (and a
//!   writable segment's bytes) are copied, the rest left to fill with
//!   zeroes when touched (`.bss` is lazy);
//! - the first thread's block at slot 0 of the thread area: a stack holding
//!   the System V `argc`/`argv`/`envp`/auxiliary vector, the PT_TLS data
//!   and the thread control block at the FS base, and the IPC buffer;
//! - the startup page (`abi::startup::StartupInfo`), read-only, right
//!   after the block (so it needs no page tables of its own), or at
//!   `abi::startup::STARTUP_ADDR` with a copy of the boot information;
//! - the capabilities: its thread, address space, capability space and
//!   budget, the parent endpoint (minted with a badge; also the thread's
//!   fault endpoint), the debug capability if asked, and the handles the
//!   caller lists.
//!
//! The caller fills the fresh objects through a scratch mapping in its
//! own address space, removed before `spawn` returns. The thread area and
//! the stack move by random pages unless ASLR is off.
//!
//! A [`Child`] owns the budget: [`Child::wait`] waits for the exit message
//! or a fault, and dropping the child (or [`Child::kill`]) revokes the
//! budget, which destroys everything the child was made of and returns
//! every frame.
//!
//! Here: the loader (checks, the image, the thread). In `caps.rs`: the
//! child's capabilities and the startup page's list of them. In
//! `child.rs`: [`Child`] and [`ExitStatus`].

mod caps;
mod child;

pub use child::{Child, ExitStatus};

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::layout::PAGE_BYTES;
use abi::startup::{self, Handle as StartupHandle, STARTUP_HANDLES, StartupInfo};
use abi::{CapSlot, MapFlags, Rights, SysError};
use elfload::{AuxEntry, ElfError, Image, InitialStack, Options, SetupError};

use crate::handle::Handle;
use crate::ipc::Endpoint;
use crate::memory::Budget;
use crate::process;
use crate::sys;
use crate::thread::block::{self, Layout, Tcb, TlsTemplate};

/// Where the parent maps a child's pages while filling them: one slot of
/// [`SCRATCH_SLOT_BYTES`] per spawn in progress.
const SCRATCH_BASE: u64 = 0x0000_6000_0000_0000;
const SCRATCH_SLOT_BYTES: u64 = 1 << 32;
const SCRATCH_SLOTS: u64 = 64;
/// Where in its scratch slot a spawn maps a file given as a memory object
/// (the child's fresh pages fill the slot from its start, below this).
const FILE_WINDOW_BYTES: u64 = SCRATCH_SLOT_BYTES / 2;
/// Capability-space slots a child gets by default (each 64 cost a frame).
pub const DEFAULT_CSPACE_SLOTS: u64 = 256;
/// Default budget of a child, in frames (16 MiB).
pub const DEFAULT_BUDGET_FRAMES: u64 = 4096;
/// Default stack of the first thread.
pub const DEFAULT_STACK_BYTES: u64 = 256 * 1024;
/// Bytes at the top of the first stack reserved for arguments, environment
/// and the auxiliary vector.
const ARGS_BYTES_MAX: u64 = 64 * 1024;

/// The child's fixed slots (the startup page names them too).
mod slot {
    pub const THREAD: u32 = 1;
    pub const ASPACE: u32 = 2;
    pub const CSPACE: u32 = 3;
    pub const BUDGET: u32 = 4;
    pub const PARENT: u32 = 5;
    pub const DEBUG: u32 = 6;
    pub const FIRST_HANDLE: u32 = 8;
}

/// Which scratch slots are in use (the lowest free one is taken, so that
/// one spawn after another reuses the same page tables).
static SCRATCH_USED: AtomicU64 = AtomicU64::new(0);

/// A scratch slot, released when dropped.
struct Scratch {
    index: u32,
}

impl Scratch {
    fn take() -> Result<Scratch, SysError> {
        loop {
            let used = SCRATCH_USED.load(Ordering::Acquire);
            let index = (!used).trailing_zeros();
            if u64::from(index) >= SCRATCH_SLOTS {
                return Err(SysError::OutOfMemory);
            }
            let bit = 1u64 << index;
            if SCRATCH_USED
                .compare_exchange(used, used | bit, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Ok(Scratch { index });
            }
        }
    }

    fn base(&self) -> u64 {
        SCRATCH_BASE + u64::from(self.index) * SCRATCH_SLOT_BYTES
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        SCRATCH_USED.fetch_and(!(1u64 << self.index), Ordering::AcqRel);
    }
}

/// Why a program could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The ELF file was refused (the reason says which check).
    Elf(ElfError),
    /// The arguments, environment or TLS did not fit.
    Setup(SetupError),
    /// More handles than the startup page holds.
    TooManyHandles,
    /// A grant's name is too long or holds a NUL.
    BadHandleName,
    /// A syscall failed (out of budget, say).
    Kernel(SysError),
}

impl From<SysError> for SpawnError {
    fn from(error: SysError) -> Self {
        SpawnError::Kernel(error)
    }
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::Elf(e) => write!(f, "bad ELF file: {e}"),
            SpawnError::Setup(e) => write!(f, "cannot set up the program: {e}"),
            SpawnError::TooManyHandles => write!(f, "more than {STARTUP_HANDLES} handles"),
            SpawnError::BadHandleName => write!(f, "a handle name is too long or holds a NUL"),
            SpawnError::Kernel(e) => write!(f, "kernel refused: {e:?}"),
        }
    }
}

/// The ELF file to load: its bytes, and the memory object they are in
/// (so whole pages can be mapped rather than copied).
#[derive(Clone, Copy, Debug)]
pub struct ElfFile<'a> {
    /// The file.
    pub bytes: &'a [u8],
    /// The object holding it and the byte offset of `bytes[0]` in it, if
    /// any (for the initramfs: its capability and the file's offset).
    pub backing: Option<(CapSlot, u64)>,
}

/// A capability to hand the child: the caller's `slot`, with `rights`,
/// listed in the startup page as `kind` (`abi::startup::handle`) under
/// `name` (at most `abi::startup::HANDLE_NAME_BYTES` bytes).
#[derive(Clone, Copy, Debug)]
pub struct Grant<'a> {
    /// The caller's slot.
    pub slot: CapSlot,
    /// Rights of the child's copy.
    pub rights: Rights,
    /// What it is for.
    pub kind: u32,
    /// Its name in the startup page (an endpoint's service name).
    pub name: &'a str,
}

impl Grant<'_> {
    /// An unnamed grant.
    pub fn new(slot: CapSlot, rights: Rights, kind: u32) -> Grant<'static> {
        Grant {
            slot,
            rights,
            kind,
            name: "",
        }
    }
}

/// The slots a program's startup page names for its own objects.
#[derive(Clone, Copy, Debug)]
pub struct ExecSlots {
    /// Its first thread.
    pub thread: u32,
    /// Its address space.
    pub aspace: u32,
    /// Its capability space.
    pub cspace: u32,
    /// Its budget.
    pub budget: u32,
    /// Its parent endpoint.
    pub parent: u32,
    /// The debug capability (0: none).
    pub debug: u32,
    /// The size of its capability space.
    pub cspace_slots: u32,
}

/// A built image: its address space (a capability the caller owns) and
/// where its first thread starts.
#[derive(Clone, Copy, Debug)]
pub struct ExecImage {
    /// The new address space.
    pub aspace: CapSlot,
    /// The entry point.
    pub entry: u64,
    /// The initial stack pointer.
    pub stack: u64,
    /// The first argument (the startup page's address).
    pub arg: u64,
    /// The FS base (the thread control block).
    pub tls: u64,
    /// The first thread's IPC buffer.
    pub ipc_buffer: u64,
}

/// Where the child's parent endpoint comes from.
#[derive(Clone, Copy, Debug)]
enum Parent<'a> {
    /// Minted from the caller's endpoint with this badge.
    Mint(CapSlot, u64),
    /// A copy of a (badged) capability, also listed as this `CLIENT`
    /// handle.
    Copy(CapSlot, &'a str),
}

/// What to start and with what.
#[derive(Debug)]
pub struct Spawn<'a> {
    file: ElfFile<'a>,
    /// The file as a memory object, mapped only while loading:
    /// (object, byte offset, length).
    object: Option<(CapSlot, u64, u64)>,
    args: &'a [&'a str],
    env: &'a [&'a str],
    grants: &'a [Grant<'a>],
    services: &'a [Grant<'a>],
    budget_frames: u64,
    stack_bytes: u64,
    aslr: bool,
    debug: bool,
    boot_info: bool,
    report_to: Option<(CapSlot, u64)>,
    priority: Option<u64>,
    max_priority: Option<u64>,
    entropy: [u64; 4],
    cspace_slots: u64,
}

impl<'a> Spawn<'a> {
    /// A child running `file` with the defaults: no arguments, no
    /// environment, no handles, [`DEFAULT_BUDGET_FRAMES`], ASLR on.
    pub fn new(file: ElfFile<'a>) -> Spawn<'a> {
        Spawn {
            file,
            object: None,
            args: &[],
            env: &[],
            grants: &[],
            services: &[],
            budget_frames: DEFAULT_BUDGET_FRAMES,
            stack_bytes: DEFAULT_STACK_BYTES,
            aslr: true,
            debug: false,
            boot_info: false,
            report_to: None,
            priority: None,
            max_priority: None,
            entropy: [0; 4],
            cspace_slots: DEFAULT_CSPACE_SLOTS,
        }
    }

    /// A child running the ELF file that is `len` bytes at byte `offset`
    /// of the memory object `memory` (a read-only object nobody writes:
    /// the initramfs, from a file server's `map`). The caller never reads
    /// it: the loader maps the file while it works, and the child's
    /// read-only segments straight from the object.
    pub fn from_object(memory: CapSlot, offset: u64, len: u64) -> Spawn<'a> {
        let mut spawn = Spawn::new(ElfFile {
            bytes: &[],
            backing: None,
        });
        spawn.object = Some((memory, offset, len));
        spawn
    }

    /// Its arguments (`args[0]` is by convention its name).
    pub fn args(mut self, args: &'a [&'a str]) -> Self {
        self.args = args;
        self
    }

    /// Its environment (`KEY=value` strings).
    pub fn env(mut self, env: &'a [&'a str]) -> Self {
        self.env = env;
        self
    }

    /// Capabilities to pass (listed in the startup page).
    pub fn grants(mut self, grants: &'a [Grant<'a>]) -> Self {
        self.grants = grants;
        self
    }

    /// Service endpoints to pass on if the caller still holds them: each
    /// is copied only if its slot holds an endpoint with
    /// [`Rights::GRANT`], with the rights it has among the grant's, and is
    /// listed in the startup page only then. They come first in the
    /// child's slots, before [`Spawn::grants`]. One `CapCopyMany` checks
    /// and copies them all (no `CapInfo` each).
    pub fn services(mut self, services: &'a [Grant<'a>]) -> Self {
        self.services = services;
        self
    }

    /// Its budget in frames, split from the caller's.
    pub fn budget(mut self, frames: u64) -> Self {
        self.budget_frames = frames;
        self
    }

    /// Its first thread's stack size.
    pub fn stack_size(mut self, bytes: u64) -> Self {
        self.stack_bytes = bytes;
        self
    }

    /// Whether to randomise its layout (off: tests and benchmarks repeat
    /// exactly).
    pub fn aslr(mut self, on: bool) -> Self {
        self.aslr = on;
        self
    }

    /// Whether it gets a copy of the caller's debug capability (so it can
    /// print before a console exists).
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Whether it gets a copy of the boot information (at
    /// `abi::startup::BOOT_INFO_COPY_ADDR`, its capability fields naming
    /// the child's slots: its own objects, the debug capability if given,
    /// and the first grant of each of the kinds `INITRAMFS`, `DEVICE`,
    /// `IO_SPACE` and `IRQ_CONTROL`; 0 for the rest). Off by default.
    pub fn boot_info(mut self, on: bool) -> Self {
        self.boot_info = on;
        self
    }

    /// Has the child report its exit and its faults to `endpoint` (a
    /// caller's endpoint, minted with `badge` for the child) instead of to
    /// an endpoint of the [`Child`]'s own: a supervisor that watches many
    /// children receives on one endpoint and tells them apart by badge.
    /// [`Child::wait`] then has nothing to wait on.
    pub fn report_to(mut self, endpoint: CapSlot, badge: u64) -> Self {
        self.report_to = Some((endpoint, badge));
        self
    }

    /// The size of its capability space, in slots.
    pub fn cspace_slots(mut self, slots: u64) -> Self {
        self.cspace_slots = slots;
        self
    }

    /// The highest priority its threads may give any thread (default:
    /// its priority).
    pub fn max_priority(mut self, max: u64) -> Self {
        self.max_priority = Some(max);
        self
    }

    /// Its first thread's priority.
    pub fn priority(mut self, priority: u64) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Random bits for its layout and its own use (the caller's entropy;
    /// with ASLR off they only reach the child).
    pub fn entropy(mut self, entropy: [u64; 4]) -> Self {
        self.entropy = entropy;
        self
    }

    /// Loads and starts the program.
    ///
    /// # Errors
    /// [`SpawnError`]; nothing is left behind.
    pub fn spawn(self) -> Result<Child, SpawnError> {
        if self.grants.len() + self.services.len() > STARTUP_HANDLES {
            return Err(SpawnError::TooManyHandles);
        }
        let scratch = Scratch::take()?;
        self.with_file(&scratch, |spawn| spawn.spawn_mapped(&scratch))
    }

    fn spawn_mapped(&self, scratch: &Scratch) -> Result<Child, SpawnError> {
        let image = self.parse()?;
        let own = process::own_caps();
        // The endpoint is the caller's (so revoking the child's budget does
        // not take it, and its slot, away from under the handle).
        let endpoint = match self.report_to {
            Some(_) => None,
            None => Some(Endpoint::from_raw(sys::endpoint_create(own.budget)?)),
        };
        let budget = Budget::from_raw(sys::budget_split(own.budget, self.budget_frames)?);
        let child = Child {
            budget,
            endpoint,
            status: None,
        };
        let parent = match (&child.endpoint, self.report_to) {
            (Some(own), _) => Parent::Mint(own.slot(), child.budget.slot().0 as u64),
            (None, Some((endpoint, badge))) => Parent::Mint(endpoint, badge),
            (None, None) => return Err(SpawnError::Kernel(SysError::InvalidArg)),
        };
        // Everything below is paid by the child's budget: a failure drops
        // `child`, whose revoke takes all of it down.
        self.build(child.budget.slot(), parent, &image, scratch.base())?;
        Ok(child)
    }

    /// Runs `f` on this spawn with its file readable: as given, or mapped
    /// from its object into the upper half of the scratch slot.
    fn with_file<R>(
        self,
        scratch: &Scratch,
        f: impl FnOnce(&Spawn<'_>) -> Result<R, SpawnError>,
    ) -> Result<R, SpawnError> {
        let Some((memory, offset, len)) = self.object else {
            return f(&self);
        };
        let skip = offset % PAGE_BYTES;
        let pages = skip
            .checked_add(len)
            .map(|end| end.div_ceil(PAGE_BYTES))
            .filter(|&pages| pages > 0 && pages <= FILE_WINDOW_BYTES / PAGE_BYTES)
            .ok_or(SpawnError::Kernel(SysError::InvalidArg))?;
        let window = scratch.base() + FILE_WINDOW_BYTES;
        let own = process::own_caps().aspace;
        sys::aspace_map(
            own,
            memory,
            offset / PAGE_BYTES,
            window,
            pages,
            MapFlags::READ,
        )?;
        let mapped = ScratchMap {
            addr: window,
            pages,
        };
        // SAFETY: `[window + skip, + len)` was just mapped readable, in this
        // spawn's own scratch slot where no Rust object lives and no other
        // spawn maps, and stays mapped until `mapped` drops after `f`; the
        // object is one nobody writes (the caller's promise, see
        // `from_object`), so the bytes do not change while borrowed.
        let bytes =
            unsafe { core::slice::from_raw_parts((window + skip) as *const u8, len as usize) };
        let spawn = Spawn {
            file: ElfFile {
                bytes,
                backing: Some((memory, offset)),
            },
            object: None,
            ..self
        };
        let result = f(&spawn);
        drop(mapped);
        result
    }

    /// Loads and starts the program on `budget`, which the caller made for
    /// it and keeps (it ends the child by revoking it), with a copy of
    /// `parent` as its parent endpoint, also listed in its startup page as
    /// the `CLIENT` handle `parent_name` (the process server's capability
    /// for the child is both).
    ///
    /// # Errors
    /// [`SpawnError`]; what was made before the error stays charged to
    /// `budget` until the caller revokes it.
    pub fn start(
        self,
        budget: CapSlot,
        parent: CapSlot,
        parent_name: &str,
    ) -> Result<(), SpawnError> {
        if self.grants.len() + self.services.len() >= STARTUP_HANDLES {
            return Err(SpawnError::TooManyHandles);
        }
        let scratch = Scratch::take()?;
        self.with_file(&scratch, |spawn| {
            let image = spawn.parse()?;
            let parent = Parent::Copy(parent, parent_name);
            spawn.build(budget, parent, &image, scratch.base())
        })
    }

    fn parse(&self) -> Result<Image, SpawnError> {
        let file_page_offset = self
            .file
            .backing
            .map_or(1, |(_, offset)| offset % PAGE_BYTES);
        elfload::parse(
            self.file.bytes,
            &Options {
                base: 0,
                file_page_offset,
            },
        )
        .map_err(SpawnError::Elf)
    }

    fn build(
        &self,
        budget: CapSlot,
        parent: Parent<'_>,
        image: &Image,
        scratch: u64,
    ) -> Result<(), SpawnError> {
        let slots = ExecSlots {
            thread: slot::THREAD,
            aspace: slot::ASPACE,
            cspace: slot::CSPACE,
            budget: slot::BUDGET,
            parent: slot::PARENT,
            debug: if self.debug { slot::DEBUG } else { 0 },
            cspace_slots: u32::try_from(self.cspace_slots).unwrap_or(0),
        };
        let cspace = sys::cspace_create(budget, self.cspace_slots)?;
        let aspace = match sys::aspace_create(budget) {
            Ok(aspace) => aspace,
            Err(error) => {
                let _ = sys::cap_delete(cspace);
                return Err(error.into());
            }
        };
        let started = (|| -> Result<(), SpawnError> {
            let thread = sys::thread_create(budget, aspace, cspace)?;
            let started = (|| {
                let copied = self.grant(budget, parent, (aspace, cspace, thread))?;
                let handles = self.handles(&parent, copied)?;
                let built = self.image(budget, aspace, image, scratch, &slots, &handles)?;
                sys::thread_configure(thread, built.ipc_buffer, CapSlot(slot::PARENT))?;
                if let Some(priority) = self.priority {
                    let max = self.max_priority.unwrap_or(priority);
                    sys::thread_set_priority(thread, priority, max)?;
                }
                sys::thread_start(thread, built.entry, built.stack, built.arg, built.tls)?;
                Ok(())
            })();
            let _ = sys::cap_delete(thread);
            started
        })();
        // The capabilities made here live on in the child's space; ours go.
        let _ = sys::cap_delete(aspace);
        let _ = sys::cap_delete(cspace);
        started
    }

    /// Builds the program's image in `aspace`, a new address space paid
    /// by `budget` that the caller owns (and deletes if this fails): its
    /// segments, its first thread's block, its startup page naming `slots`
    /// and `handles`. Returns where its first thread starts.
    fn image(
        &self,
        budget: CapSlot,
        aspace: CapSlot,
        image: &Image,
        scratch: u64,
        slots: &ExecSlots,
        handles: &[StartupHandle; STARTUP_HANDLES],
    ) -> Result<ExecImage, SpawnError> {
        let random = |i: usize| if self.aslr { self.entropy[i] } else { 0 };
        let area = block::AREA_BASE
            + if self.aslr {
                elfload::random_offset(random(0), block::AREA_RANDOM_PAGES)
            } else {
                0
            };
        let tls = image.tls().map(|t| TlsTemplate {
            image: 0,
            filesz: t.file_bytes,
            memsz: t.mem_bytes,
            align: t.align,
        });
        let layout = Layout::new(self.stack_bytes, &tls.unwrap_or_default())?;
        let thread_block = area + block::MAIN_SLOT as u64 * block::SLOT_BYTES;
        let tcb = thread_block + layout.tcb();
        let ipc_buffer = thread_block + layout.ipc_buffer();
        let tls_image = image
            .tls()
            .and_then(|t| self.tls_image_address(image, t.file_offset, t.file_bytes))
            .unwrap_or(0);
        let info = StartupInfo {
            magic: startup::STARTUP_MAGIC,
            version: startup::STARTUP_VERSION,
            flags: if self.aslr { startup::flags::ASLR } else { 0 }
                | if self.boot_info {
                    startup::flags::BOOT_INFO
                } else {
                    0
                },
            thread: slots.thread,
            aspace: slots.aspace,
            cspace: slots.cspace,
            budget: slots.budget,
            parent: slots.parent,
            debug: slots.debug,
            log: 0,
            cspace_slots: slots.cspace_slots,
            argc: self.args.len() as u64,
            argv: 0,
            envc: self.env.len() as u64,
            envp: 0,
            entropy: self.entropy,
            thread_area: area,
            main_tcb: tcb,
            tls_image,
            tls_filesz: tls.map_or(0, |t| t.filesz),
            tls_memsz: tls.map_or(0, |t| t.memsz),
            tls_align: tls.map_or(0, |t| t.align),
            cpu_features: crate::start::boot_info().map_or(0, |b| b.cpu_features),
            handles: *handles,
        };
        let startup_addr = self.startup_addr(thread_block, &layout);
        let rsp = self.fill(
            budget,
            aspace,
            image,
            &layout,
            (thread_block, startup_addr),
            scratch,
            &info,
        )?;
        Ok(ExecImage {
            aspace,
            entry: image.entry(),
            stack: rsp,
            arg: startup_addr,
            tls: tcb,
            ipc_buffer,
        })
    }

    /// Builds the program's image for `exec` in a new address space paid
    /// by the caller's own budget; its startup page names `slots` (the
    /// caller's own slots, which the program keeps) and `handles`. The
    /// caller then switches its thread to it (`ThreadExec`).
    ///
    /// # Errors
    /// [`SpawnError`]; nothing is left behind.
    pub fn exec_image(
        self,
        slots: ExecSlots,
        handles: &[StartupHandle; STARTUP_HANDLES],
    ) -> Result<ExecImage, SpawnError> {
        let scratch = Scratch::take()?;
        let budget = process::own_caps().budget;
        self.with_file(&scratch, |spawn| {
            let image = spawn.parse()?;
            let aspace = sys::aspace_create(budget)?;
            let built = spawn.image(budget, aspace, &image, scratch.base(), &slots, handles);
            if built.is_err() {
                let _ = sys::cap_delete(aspace);
            }
            built
        })
    }

    /// Where the PT_TLS template's bytes are in the child: inside the
    /// segment that holds them (static binaries put `.tdata` in a loaded
    /// segment).
    fn tls_image_address(&self, image: &Image, offset: u64, len: u64) -> Option<u64> {
        if len == 0 {
            return None;
        }
        image.segments().iter().find_map(|s| {
            let end = s.file_offset.checked_add(s.file_bytes)?;
            (offset >= s.file_offset && offset.checked_add(len)? <= end)
                .then(|| s.vaddr + (offset - s.file_offset))
        })
    }

    /// Where the startup page goes: right after the first thread's block
    /// (its page tables are the block's), or at `STARTUP_ADDR` with the
    /// copy of the boot information after it (where the runtime looks
    /// for that).
    fn startup_addr(&self, block_base: u64, layout: &Layout) -> u64 {
        if self.boot_info {
            startup::STARTUP_ADDR
        } else {
            block_base + layout.pages() * PAGE_BYTES
        }
    }

    /// Makes the child's memory: the segments' direct pages from the file's
    /// object, and one fresh object for everything else (each segment's
    /// other pages, then the first thread's block, then the startup page),
    /// filled through one scratch mapping. Returns the initial stack
    /// pointer.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &self,
        budget: CapSlot,
        aspace: CapSlot,
        image: &Image,
        layout: &Layout,
        (block_base, startup_addr): (u64, u64),
        scratch: u64,
        info: &StartupInfo,
    ) -> Result<u64, SpawnError> {
        // Where each segment's pages go in the one object.
        let mut pages = 0;
        let mut placed: [Option<(&elfload::Segment, u64)>; elfload::MAX_SEGMENTS] =
            [None; elfload::MAX_SEGMENTS];
        // An image has at most MAX_SEGMENTS segments.
        for (place, segment) in placed.iter_mut().zip(image.segments()) {
            if segment.fresh_ranges().iter().any(Option::is_some) {
                *place = Some((segment, pages));
                pages += segment.pages;
            }
        }
        let block_at = pages;
        let startup_at = block_at + layout.pages();
        let boot_info = self.boot_info.then(|| self.boot_info_copy()).flatten();
        let startup_pages = 1 + u64::from(boot_info.is_some());
        pages = startup_at + startup_pages;
        let memory = sys::memory_create(budget, pages)?;
        let result = (|| -> Result<u64, SpawnError> {
            for segment in image.segments() {
                if let (Some(direct), Some((object, offset))) = (segment.direct, self.file.backing)
                {
                    let page = (offset + direct.file_offset) / PAGE_BYTES;
                    let flags = segment.access.map_flags();
                    sys::aspace_map(aspace, object, page, direct.vaddr, direct.pages, flags)?;
                }
            }
            let mapped = ScratchMap::map(memory, scratch, pages)?;
            for &(segment, at) in placed.iter().flatten() {
                for copy in segment.file_copies() {
                    let bytes = file_range(self.file.bytes, copy.file_offset, copy.len)
                        .ok_or(SpawnError::Setup(SetupError::TemplateMismatch))?;
                    write_scratch(
                        scratch + at * PAGE_BYTES + (copy.vaddr - segment.start),
                        bytes,
                    );
                }
            }
            let block = scratch + block_at * PAGE_BYTES;
            let rsp = self.fill_block(image, layout, (block_base, startup_addr), block)?;
            let mut info = *info;
            info.argv = rsp + 8;
            info.envp = info.argv + (self.args.len() as u64 + 1) * 8;
            if boot_info.is_none() {
                info.flags &= !startup::flags::BOOT_INFO;
            }
            write_scratch(
                scratch + startup_at * PAGE_BYTES,
                zerocopy::IntoBytes::as_bytes(&info),
            );
            if let Some(boot) = &boot_info {
                write_scratch(
                    scratch + (startup_at + 1) * PAGE_BYTES,
                    zerocopy::IntoBytes::as_bytes(boot),
                );
            }
            drop(mapped);
            for &(segment, at) in placed.iter().flatten() {
                let flags = segment.access.map_flags();
                for range in segment.fresh_ranges().into_iter().flatten() {
                    let page = at + (range.start - segment.start) / PAGE_BYTES;
                    sys::aspace_map(aspace, memory, page, range.start, range.pages, flags)?;
                }
            }
            let rw = MapFlags::READ | MapFlags::WRITE;
            sys::aspace_map(aspace, memory, block_at, block_base, layout.pages(), rw)?;
            sys::aspace_map(
                aspace,
                memory,
                startup_at,
                startup_addr,
                startup_pages,
                MapFlags::READ,
            )?;
            Ok(rsp)
        })();
        // The child's regions hold the object now.
        let _ = sys::cap_delete(memory);
        result
    }

    /// Writes the first thread's block, mapped at `scratch` in this space
    /// and to be mapped at `base` in the child: the initial stack (its
    /// auxiliary vector naming the startup page at `startup_addr`), the
    /// TLS data and the TCB. Returns the initial stack pointer.
    fn fill_block(
        &self,
        image: &Image,
        layout: &Layout,
        (base, startup_addr): (u64, u64),
        scratch: u64,
    ) -> Result<u64, SpawnError> {
        let args: Vec<&[u8]> = self.args.iter().map(|a| a.as_bytes()).collect();
        let env: Vec<&[u8]> = self.env.iter().map(|e| e.as_bytes()).collect();
        let mut random = [0u8; elfload::RANDOM_BYTES];
        random[..8].copy_from_slice(&self.entropy[2].to_le_bytes());
        random[8..].copy_from_slice(&self.entropy[3].to_le_bytes());
        let extra = [AuxEntry {
            kind: startup::AT_MICA_STARTUP,
            value: startup_addr,
        }];
        let stack = InitialStack {
            args: &args,
            env: &env,
            random,
            extra_aux: &extra,
        };
        let top = layout.stack_top();
        let window = ARGS_BYTES_MAX.min(top);
        let buffer = scratch_slice(scratch + top - window, window);
        let rsp = stack
            .write(image, buffer, base + top)
            .map_err(SpawnError::Setup)?;
        if let Some(tls) = image.tls() {
            let bytes = file_range(self.file.bytes, tls.file_offset, tls.file_bytes)
                .ok_or(SpawnError::Setup(SetupError::TemplateMismatch))?;
            write_scratch(scratch + layout.stack_top() + layout.tls_offset, bytes);
        }
        let tcb = Tcb {
            self_ptr: base + layout.tcb(),
            ipc_buffer: base + layout.ipc_buffer(),
            record: 0,
            locals: [(0, 0); block::LOCAL_KEYS],
        };
        write_scratch_value(scratch + layout.tcb(), &tcb);
        Ok(rsp)
    }
}

/// A scratch mapping of a child's object in the caller's space, removed
/// when dropped (also on an error path).
struct ScratchMap {
    addr: u64,
    pages: u64,
}

impl ScratchMap {
    fn map(memory: CapSlot, addr: u64, pages: u64) -> Result<ScratchMap, SysError> {
        let own = process::own_caps().aspace;
        sys::aspace_map(
            own,
            memory,
            0,
            addr,
            pages,
            MapFlags::READ | MapFlags::WRITE,
        )?;
        Ok(ScratchMap { addr, pages })
    }
}

impl Drop for ScratchMap {
    fn drop(&mut self) {
        let _ = sys::aspace_unmap(process::own_caps().aspace, self.addr, self.pages);
    }
}

/// `len` bytes of `file` from `offset` (the plan keeps them in bounds;
/// `None` otherwise).
fn file_range(file: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let from = usize::try_from(offset).ok()?;
    let len = usize::try_from(len).ok()?;
    file.get(from..from.checked_add(len)?)
}

/// The scratch window as a byte slice.
fn scratch_slice(addr: u64, len: u64) -> &'static mut [u8] {
    // SAFETY: callers pass a range inside a scratch slot they just mapped
    // read + write, which no Rust object occupies and no other spawn uses
    // (each takes its own slot), and they unmap it before returning.
    unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len as usize) }
}

fn write_scratch(addr: u64, bytes: &[u8]) {
    scratch_slice(addr, bytes.len() as u64).copy_from_slice(bytes);
}

fn write_scratch_value<T>(addr: u64, value: &T) {
    // SAFETY: as in scratch_slice; `value` is a plain repr(C) struct read
    // as its bytes.
    let bytes = unsafe {
        core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
    };
    write_scratch(addr, bytes);
}
