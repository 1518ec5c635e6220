//! `exec`: the calling process runs another program, in place.
//!
//! The process keeps its pid, its parent, its budget, its capability
//! space and its calling thread; it gets a new address space with the new
//! program's image (built first, paid by its own budget, while the old
//! one still runs), and its thread moves there (`ThreadExec`). What the
//! new program has, at the slots it had them (its startup page names
//! them): its own thread, address space, capability space and budget, its
//! parent endpoint and `proc` capability, the services (the namespace),
//! and the streams the [`Command`] names (`Stdio::Inherit`: the program's
//! own `stdin`, `stdout`, `stderr`; `Stdio::File`: the file at that slot).
//! Everything else goes before the switch: the other threads, and every
//! other capability; files still open that are not passed on are closed
//! (close-on-exec for all of them: the new program could not name them).

use abi::startup::handle::{CLIENT, FILE};
use abi::startup::{Handle as StartupHandle, STARTUP_HANDLES, StartupInfo};
use abi::syscall::{CapCopyEntry, cap_copy_mode};
use abi::{CapSlot, ObjectType};
use alloc::string::String;
use alloc::vec::Vec;
use rt::spawn::ExecSlots;
use rt::sys;

use crate::command::{Program, entropy, program_name, spawn_error};
use crate::server::{own, with};
use crate::{Command, ProcError, Stdio};

impl Command<'_> {
    /// Runs the program in place of the caller's (see the module docs);
    /// returns only if it cannot, with why. Up to building the new image
    /// nothing of the caller changes; after that, a failure ends the
    /// process with status 127.
    pub fn exec(&self) -> ProcError {
        match exec(self) {
            Ok(never) => match never {},
            Err(error) => error,
        }
    }
}

/// The streams' names, in `Command`'s order.
const STREAMS: [&str; 3] = ["stdin", "stdout", "stderr"];

/// Whether each capability the new program keeps is still what it was (a
/// service or stream an endpoint, the debug capability itself), as bits in
/// this order: the services, the streams there are, the debug capability.
/// One `CapCopyMany` that only checks. Out of line, so that its entries
/// are not on the stack while the image is built (a forked caller pays a
/// fault for each page of stack it reaches).
#[inline(never)]
fn still_there(info: &StartupInfo, streams: &[Option<CapSlot>; 3]) -> u64 {
    let check = |slot: CapSlot, kind: ObjectType| CapCopyEntry {
        src: slot.0,
        dst: 0,
        rights: 0,
        object_type: kind.to_reg() as u16,
        mode: cap_copy_mode::CHECK,
    };
    let mut entries = [CapCopyEntry::default(); STARTUP_HANDLES + 4];
    let candidates = info
        .handles
        .iter()
        .filter(|h| h.kind == CLIENT)
        .map(|h| check(CapSlot(h.slot), ObjectType::Endpoint))
        .chain(
            streams
                .iter()
                .flatten()
                .map(|&s| check(s, ObjectType::Endpoint)),
        )
        .chain((info.debug != 0).then(|| check(CapSlot(info.debug), ObjectType::Debug)));
    let mut checks = 0;
    for (entry, candidate) in entries.iter_mut().zip(candidates) {
        *entry = candidate;
        checks += 1;
    }
    match checks {
        0 => 0,
        n => sys::cap_copy_many(CapSlot::NULL, &entries[..n]).map_or(0, |r| r.copied),
    }
}

fn exec(command: &Command<'_>) -> Result<core::convert::Infallible, ProcError> {
    let (path, args, env, stdio) = command.parts();
    let info = rt::start::startup_info().ok_or(ProcError::InvalidArgument)?;
    let proc = own()?;
    let program = Program::open(path)?;
    let caps = rt::process::own_caps();
    let thread = rt::thread::current_slot().unwrap_or(CapSlot(info.thread));
    let streams = [0, 1, 2].map(|i| match stdio[i] {
        Stdio::Null => None,
        Stdio::File(slot) => Some(slot),
        Stdio::Inherit => info.handle_named(FILE, STREAMS[i]),
    });
    let clients = info.handles.iter().filter(|h| h.kind == CLIENT);
    let passed = still_there(info, &streams);
    let mut next = 0;
    let mut usable = || {
        let ok = passed & (1 << next) != 0;
        next += 1;
        ok
    };
    // The handles: the services where they are, then the streams.
    let mut handles = [StartupHandle::default(); STARTUP_HANDLES];
    let mut kept: Vec<CapSlot> = Vec::new();
    let mut count = 0;
    for handle in clients {
        if usable() && count < STARTUP_HANDLES {
            handles[count] = *handle;
            count += 1;
            kept.push(CapSlot(handle.slot));
        }
    }
    for (stream, name) in streams.iter().zip(STREAMS) {
        let Some(slot) = stream.filter(|_| usable()) else {
            continue;
        };
        let entry = StartupHandle::new(FILE, slot.0, name).ok_or(ProcError::InvalidArgument)?;
        *handles.get_mut(count).ok_or(ProcError::InvalidArgument)? = entry;
        count += 1;
        kept.push(slot);
    }
    let debug = match info.debug {
        0 => 0,
        slot if usable() => slot,
        _ => 0,
    };
    let slots = ExecSlots {
        thread: thread.0,
        aspace: caps.aspace.0,
        cspace: caps.cspace.0,
        budget: caps.budget.0,
        parent: info.parent,
        debug,
        cspace_slots: info.cspace_slots,
    };
    let pwd = {
        let mut pwd = String::from("PWD=");
        pwd.push_str(&files::getcwd());
        pwd
    };
    let mut environment: Vec<&str> = match env {
        Some(env) => env.to_vec(),
        None => rt::process::env().collect(),
    };
    environment.retain(|e| !e.starts_with("PWD="));
    environment.push(&pwd);
    let aslr = info.flags & abi::startup::flags::ASLR != 0;
    let image = program
        .loader()
        .args(args)
        .env(&environment)
        .aslr(aslr)
        .entropy(entropy())
        .exec_image(slots, &handles)
        .map_err(spawn_error)?;
    let _ = with(proc, |c| c.rename(program_name(path)));
    drop(program);

    // From here on there is no way back.
    rt::thread::registry_suspend_others();
    kept.extend([
        thread,
        caps.aspace,
        caps.cspace,
        caps.budget,
        CapSlot(info.parent),
        CapSlot(debug),
        proc,
        image.aspace,
    ]);
    // Files not passed on are closed, so their servers see the end.
    rt::inherit::for_each(|slot| {
        if !kept.contains(&slot) {
            files::close_slot(slot);
        }
    });
    let slots = match u64::from(info.cspace_slots) {
        0 => rt::spawn::DEFAULT_CSPACE_SLOTS,
        n => n,
    };
    // Everything else goes: one `CapDeleteRange` per gap between the kept
    // slots (the kernel skips the empty slots of a gap).
    kept.retain(|slot| slot.0 != 0);
    kept.sort_unstable();
    kept.dedup();
    let mut first = 1u64;
    for end in kept
        .iter()
        .map(|slot| u64::from(slot.0).min(slots))
        .chain([slots])
    {
        if end > first {
            let _ = sys::cap_delete_range(CapSlot(first as u32), end - first);
        }
        first = first.max(end + 1);
    }
    // The new space takes the old one's slot (the old space lives on while
    // this thread runs in it).
    let _ = sys::cap_delete(caps.aspace);
    let switched = sys::cap_move(image.aspace, CapSlot::NULL, caps.aspace)
        .and_then(|_| sys::thread_configure(thread, image.ipc_buffer, CapSlot(info.parent)))
        .err()
        .unwrap_or_else(|| {
            sys::thread_exec(caps.aspace, image.entry, image.stack, image.arg, image.tls)
        });
    rt::log::error!("exec: {path}: the switch failed: {switched:?}");
    rt::process::exit(127)
}
