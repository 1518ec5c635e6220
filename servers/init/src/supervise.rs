//! The supervisor: starts the programs, then waits on init's one endpoint
//! for what happens to them and for supervisor calls, and restarts the
//! dead when their policy says so.
//!
//! Every instance reports to init's endpoint with a badge of its own
//! ([`child_badge`]: the program's index and the instance number), so a
//! message from an instance that is already gone is recognised and
//! ignored. When an instance ends (exit message, fault message, or a
//! `kill` call), init revokes its budget, which destroys its threads, its
//! address space and capability space and returns every frame it used;
//! then `sysconf::restart::Tracker` decides: restart after a delay, stay
//! down, or give up.
//!
//! Endpoints belong to init and outlive instances: a restarted server
//! serves the same endpoint, so clients keep their capabilities. A call the
//! dead instance had received fails with `PeerClosed` (the kernel answers
//! for a destroyed server thread); calls still queued wait for the next
//! instance, which serves them. When a server will not come back (it
//! stopped, or init gave up on it), init destroys the endpoints it served,
//! so every queued and later caller gets `PeerClosed` instead of waiting
//! for ever.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abi::{CapSlot, Rights, SysError};
use protocols::supervisor::{EventKind, State};
use rt::Handle;
use rt::ipc::{Endpoint, Message};
use rt::println;
use rt::spawn::ExitStatus;
use sysconf::restart::{Decision, End};

use crate::launch::{self, Authorities, Instance};
use crate::program::Supervised;

/// Badge of supervisor calls (programs granted the `supervisor`
/// authority).
pub const SUPERVISOR_BADGE: u64 = 1;
/// Bit set in every instance's badge.
const CHILD_BIT: u64 = 1 << 63;

/// The badge of instance `instance` of program `index`.
fn child_badge(index: usize, instance: u64) -> u64 {
    CHILD_BIT | ((index as u64) << 32) | (instance & 0xffff_ffff)
}

/// init's state.
pub struct Init<'a> {
    pub(crate) authorities: Authorities<'a>,
    pub(crate) programs: Vec<Supervised<'a>>,
    /// The configuration's endpoints (init's slots), by index.
    endpoints: Vec<Option<CapSlot>>,
    /// Their names, by index.
    endpoint_names: Vec<&'a str>,
    /// The endpoint instances report to and supervisor clients call.
    inbox: Endpoint,
}

fn now_ms() -> u64 {
    rt::time::now_ns() / 1_000_000
}

impl<'a> Init<'a> {
    /// Decodes every entry and makes the endpoints.
    ///
    /// # Errors
    /// The kernel's, when init's own endpoint cannot be made.
    pub fn new(
        boot: &abi::boot::BootInfo,
        archive: &'a [u8],
        config: sysconf::Config<'a>,
        aslr: bool,
    ) -> Result<Init<'a>, SysError> {
        let budget = CapSlot(boot.budget_cap);
        let inbox = Endpoint::from_raw(sys_endpoint(budget)?);
        let supervisor = rt::sys::cap_mint(
            inbox.slot(),
            Rights::WRITE | Rights::GRANT,
            SUPERVISOR_BADGE,
        )?;
        let mut programs: Vec<Supervised<'a>> = Vec::new();
        for (index, entry) in config.programs().enumerate() {
            let supervised = match entry {
                Ok(program) => {
                    let conflict = programs
                        .iter()
                        .filter_map(|p| p.entry.as_ref())
                        .find_map(|p| program.conflict_with(p).map(|c| (p.name, c)));
                    match conflict {
                        Some((other, why)) => refused(
                            String::from(program.name),
                            format!("{why} with program {other}"),
                        ),
                        None => Supervised::new(String::from(program.name), Some(program)),
                    }
                }
                Err(e) => refused(format!("entry {index}"), format!("{e}")),
            };
            programs.push(supervised);
        }
        let mut endpoints = Vec::new();
        let mut endpoint_names = Vec::new();
        for endpoint in config.endpoints() {
            let (slot, name) = match endpoint {
                Ok(endpoint) => (Some(sys_endpoint(budget)?), endpoint.name),
                Err(e) => {
                    println!("init: an endpoint entry is unusable: {e}");
                    (None, "")
                }
            };
            endpoints.push(slot);
            endpoint_names.push(name);
        }
        Ok(Init {
            authorities: Authorities {
                budget,
                io_space: CapSlot(boot.io_space_cap),
                irq_control: CapSlot(boot.irq_control_cap),
                device: CapSlot(boot.device_cap),
                initramfs: (
                    CapSlot(boot.initramfs_cap),
                    boot.initramfs_addr % abi::layout::PAGE_BYTES,
                ),
                supervisor,
                debug: CapSlot(boot.debug_cap),
                archive,
                entropy: boot.entropy,
                aslr,
                env: (crate::arg(boot.cmdline(), "mode") == Some("bench")).then(|| {
                    let unit = crate::arg(boot.cmdline(), "unit").unwrap_or("instructions");
                    format!("MICA_BOOT_BENCH={unit}:{}", boot.kernel_entry_tsc)
                }),
            },
            programs,
            endpoints,
            endpoint_names,
            inbox,
        })
    }

    /// Starts every accepted program, in order.
    pub fn start_all(&mut self) {
        for index in 0..self.programs.len() {
            if self.programs[index].entry.is_some() {
                self.start(index);
            }
        }
    }

    /// Starts one instance of program `index`.
    fn start(&mut self, index: usize) {
        let Some(entry) = self.programs[index].entry else {
            return;
        };
        let later = &self.programs[index + 1..];
        let Some(budget_frames) = budget_for(self.authorities.budget, &entry, later) else {
            let program = &mut self.programs[index];
            program.restart_at = None;
            let why = format!(
                "too little memory: its least budget is {} frames",
                entry.least_budget_frames
            );
            if program.instance == 0 {
                refuse(program, why);
            } else {
                program.set_note(format_args!("restart failed: {why}"));
                println!("init: {}: {}", program.name, program.note);
                self.ended(index, End::Failure);
            }
            return;
        };
        let authorities = &self.authorities;
        let program = &mut self.programs[index];
        program.restart_at = None;
        let Some(entry) = program.entry else {
            return;
        };
        if program.plan.is_none() {
            match plan(authorities, &entry) {
                Ok((file, needs, resources)) => {
                    program.plan = Some((file, needs));
                    program.resources = resources;
                }
                Err(why) => {
                    refuse(program, why);
                    return;
                }
            }
        }
        let Some((file, needs)) = &program.plan else {
            return;
        };
        let number = program.instance + 1;
        let (endpoints, names) = (&self.endpoints, &self.endpoint_names);
        let endpoint = |name: &str| {
            let at = names.iter().position(|&n| n == name)?;
            *endpoints.get(at)?
        };
        let instance = Instance {
            needs,
            resources: &program.resources,
            endpoint: &endpoint,
            report_to: (self.inbox.slot(), child_badge(index, number)),
            number: ((index as u64) << 32) | number,
            client_badge: abi::startup::CLIENT_BADGE | (index as u64 + 1),
            budget_frames,
        };
        match launch::launch(authorities, &entry, file, &instance) {
            Ok(child) => {
                program.instance = number;
                program.child = Some(child);
                program.state = State::Running;
                if let Some(tracker) = &mut program.tracker {
                    tracker.started(now_ms());
                }
                program.record(EventKind::Started, number as u32);
                program.set_note(format_args!("instance {number} started"));
                let of_ask = if budget_frames < entry.budget_frames {
                    format!(" of the {} it asks for", entry.budget_frames)
                } else {
                    String::new()
                };
                println!(
                    "init: started {} ({}, instance {number}, {budget_frames} frames{of_ask}, priority {})",
                    program.name, entry.path, entry.priority
                );
            }
            Err(e) if program.instance == 0 => refuse(program, format!("{e}")),
            Err(e) => {
                // A restart that fails counts as one more failure.
                program.set_note(format_args!("restart failed: {e}"));
                println!("init: {}: {}", program.name, program.note);
                self.ended(index, End::Failure);
            }
        }
    }

    /// Supervises for ever.
    pub fn run(&mut self) -> ! {
        let mut message = Message::new(0);
        loop {
            let deadline = self
                .programs
                .iter()
                .filter_map(|p| p.restart_at)
                .min()
                .unwrap_or(0);
            match self.inbox.recv_until(&mut message, deadline) {
                Ok(()) => self.handle(&mut message),
                Err(SysError::TimedOut) => {}
                Err(e) => {
                    println!("init: receiving failed: {e}");
                    rt::time::sleep(core::time::Duration::from_millis(10));
                }
            }
            self.start_due();
        }
    }

    fn start_due(&mut self) {
        let now = rt::time::now_ns();
        for index in 0..self.programs.len() {
            if self.programs[index].restart_at.is_some_and(|at| at <= now) {
                self.start(index);
            }
        }
    }

    fn handle(&mut self, message: &mut Message) {
        let badge = message.badge();
        let info = message.info();
        if badge == SUPERVISOR_BADGE && info.is_call() && !info.is_fault() {
            let mut reply = Message::new(0);
            crate::service::dispatch(self, message, &mut reply);
            let _ = rt::ipc::reply(&reply);
            return;
        }
        if badge & CHILD_BIT != 0 {
            let index = ((badge >> 32) & 0x7fff_ffff) as usize;
            let instance = badge & 0xffff_ffff;
            let current = self
                .programs
                .get(index)
                .is_some_and(|p| p.child.is_some() && (p.instance & 0xffff_ffff) == instance);
            if current && let Some(status) = ExitStatus::from_message(message) {
                self.instance_ended(index, status);
                return;
            }
        }
        protocols::cap::discard_caps(message);
    }

    /// The running instance of `index` ended with `status`.
    fn instance_ended(&mut self, index: usize, status: ExitStatus) {
        let program = &mut self.programs[index];
        // Revoking the budget destroys what is left of the instance and
        // returns every frame.
        program.child = None;
        let end = match status {
            ExitStatus::Exited(code) => {
                program.record(EventKind::Exited, code as u32);
                let number = program.instance;
                program.set_note(format_args!("instance {number} exited with status {code}"));
                if code == 0 { End::Clean } else { End::Failure }
            }
            ExitStatus::Faulted {
                vector, rip, addr, ..
            } => {
                program.record(EventKind::Faulted, vector as u32);
                let number = program.instance;
                program.set_note(format_args!(
                    "instance {number} faulted: vector {vector} at {rip:#x} (address {addr:#x})"
                ));
                End::Failure
            }
        };
        println!("init: {} {}", program.name, program.note);
        self.ended(index, end);
    }

    /// Kills the running instance of `index`; false if none runs.
    pub(crate) fn kill(&mut self, index: usize) -> bool {
        let program = &mut self.programs[index];
        let Some(child) = program.child.take() else {
            return false;
        };
        child.kill();
        program.record(EventKind::Killed, 0);
        let number = program.instance;
        program.set_note(format_args!("instance {number} killed"));
        println!("init: {} {}", program.name, program.note);
        self.ended(index, End::Failure);
        true
    }

    /// Applies the restart policy after an end.
    fn ended(&mut self, index: usize, end: End) {
        let program = &mut self.programs[index];
        if end == End::Failure {
            program.failures += 1;
        }
        let decision = match &mut program.tracker {
            Some(tracker) => tracker.ended(now_ms(), end),
            None => Decision::Stay,
        };
        match decision {
            Decision::Restart { after_ms } => {
                program.state = State::Waiting;
                program.restart_at =
                    Some(rt::time::now_ns().saturating_add(after_ms.saturating_mul(1_000_000)));
                program.record(
                    EventKind::RestartIn,
                    after_ms.min(u64::from(u32::MAX)) as u32,
                );
                if after_ms > 0 {
                    println!("init: restarting {} in {after_ms} ms", program.name);
                }
            }
            Decision::Stay => {
                program.state = State::Stopped;
                self.close_served(index);
            }
            Decision::GiveUp => {
                program.state = State::GaveUp;
                program.record(EventKind::GaveUp, program.failures as u32);
                let failures = program.failures;
                program.set_note(format_args!(
                    "gave up after {failures} failures within its window"
                ));
                println!("init: {}: {}", program.name, program.note);
                self.close_served(index);
            }
        }
    }

    /// Destroys the endpoints program `index` serves: nobody will serve
    /// them again, so their callers get `PeerClosed`.
    fn close_served(&mut self, index: usize) {
        let Some(entry) = self.programs[index].entry else {
            return;
        };
        for grant in entry.grants() {
            if let sysconf::Grant::Serves(endpoint) = grant
                && let Some(slot) = self
                    .endpoints
                    .get_mut(usize::from(endpoint.index))
                    .and_then(Option::take)
            {
                let _ = rt::sys::cap_revoke(slot);
                let _ = rt::sys::cap_delete(slot);
            }
        }
    }

    /// init's capability to the endpoint named `name`, if it is open.
    pub fn endpoint(&self, name: &str) -> Option<CapSlot> {
        let index = self.endpoint_names.iter().position(|&n| n == name)?;
        *self.endpoints.get(index)?
    }

    /// How many programs run now.
    pub fn running(&self) -> usize {
        self.programs.iter().filter(|p| p.child.is_some()).count()
    }

    /// The index of the program named `name`.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.programs.iter().position(|p| p.name == name)
    }
}

/// A program's file, what it asks for (checked against its entry) and
/// the device capabilities made for it; why it is refused otherwise.
#[allow(clippy::type_complexity)]
fn plan<'a>(
    authorities: &Authorities<'a>,
    entry: &sysconf::Program<'a>,
) -> Result<
    (
        &'a [u8],
        Vec<sysconf::manifest::Need<'a>>,
        Vec<crate::program::Resource>,
    ),
    String,
> {
    let file = launch::file(authorities, entry).map_err(|e| format!("{e}"))?;
    let needs = launch::needs(entry, file)?;
    let resources = launch::make_resources(authorities, &needs).map_err(|e| format!("{e}"))?;
    Ok((file, needs, resources))
}

/// Frames init keeps for itself beside its children's budgets (its heap,
/// the endpoints and capabilities it makes while it supervises).
const INIT_MARGIN_FRAMES: u64 = 256;

/// The budget for a start of `entry`: `sysconf::budget::grant` with what
/// init's budget has left and the least budgets of the programs `later`
/// in start order that have not started yet.
fn budget_for(
    budget: CapSlot,
    entry: &sysconf::Program<'_>,
    later: &[Supervised<'_>],
) -> Option<u32> {
    let status = rt::sys::budget_info(budget).ok()?;
    let free = status.limit.saturating_sub(status.used);
    let reserve: u64 = later
        .iter()
        .filter(|p| p.instance == 0 && p.state == State::Waiting)
        .filter_map(|p| p.entry.as_ref())
        .map(|e| u64::from(e.least_budget_frames) + 1)
        .sum();
    // A split costs one frame beside the budget it makes (counted in the
    // reserve for the later ones too).
    sysconf::budget::grant(
        entry.budget_frames,
        entry.least_budget_frames,
        free.saturating_sub(1),
        INIT_MARGIN_FRAMES,
        reserve,
    )
}

fn sys_endpoint(budget: CapSlot) -> Result<CapSlot, SysError> {
    rt::sys::endpoint_create(budget)
}

/// A program that is never started.
fn refused<'a>(name: String, why: String) -> Supervised<'a> {
    let mut program = Supervised::new(name, None);
    refuse(&mut program, why);
    program
}

fn refuse(program: &mut Supervised<'_>, why: String) {
    program.state = State::Refused;
    program.entry = None;
    program.record(EventKind::Refused, 0);
    println!("init: refused {}: {why}", program.name);
    program.set_note(format_args!("{why}"));
}
