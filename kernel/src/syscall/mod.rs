//! Syscall dispatch: decode the number, then one exhaustive `match` with an
//! arm per syscall. Handlers live in one file per object group. Each checks
//! everything before it changes anything: operations with several steps
//! are split into `decode_*` (no side effects, returns a checked op) and
//! `invoke_*` (cannot fail). An unknown number is an error, never a panic.

mod cap;
mod clock;
mod debug;
mod futex;
mod ioports;
mod ipc;
mod irq;
mod memory;
mod notification;
mod thread;

use abi::syscall::{ArgRegs, SlotResult, Syscall, SyscallArgs, SyscallResult};
use abi::{CapSlot, Rights, SysError};

use crate::cap::{CapTarget, Capability, SlotId};
use crate::kernel::{Kernel, Next};
use crate::mem::kobj::ObjId;
use crate::object::budget::Budget;
use crate::object::cspace::{self, CSpace};
use crate::object::thread::Thread;

/// Runs syscall `number` for `caller` with argument registers `args`.
pub fn dispatch(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    number: u64,
    args: ArgRegs,
) -> Result<Next, SysError> {
    let Some(syscall) = Syscall::from_number(number) else {
        crate::klog!(Debug, "unknown syscall {number}");
        return Err(SysError::UnknownSyscall);
    };
    match syscall {
        Syscall::Null => Ok(Next::Success),
        Syscall::DebugWrite => debug::write(k, caller, decode(&args)?),
        Syscall::DebugLogRead => debug::log_read(k, caller, decode(&args)?),
        Syscall::DebugExit => debug::exit(k, caller, decode(&args)?),
        Syscall::DebugFrameCount => debug::frame_count(k, caller, decode(&args)?),
        Syscall::ThreadExit => thread::exit(k, caller, decode(&args)?),
        Syscall::ThreadYield => thread::yield_now(k),
        Syscall::ThreadCreate => thread::create(k, caller, decode(&args)?),
        Syscall::ThreadWait => thread::wait(k, caller, decode(&args)?),
        Syscall::CapCopy => cap::copy(k, caller, decode(&args)?),
        Syscall::CapDelete => cap::delete(k, caller, decode(&args)?),
        Syscall::CapInfo => cap::info(k, caller, decode(&args)?),
        Syscall::ClockRead => clock::read(),
        Syscall::CapMint => cap::mint(k, caller, decode(&args)?),
        Syscall::CapMove => cap::move_cap(k, caller, decode(&args)?),
        Syscall::CapRevoke => cap::revoke(k, caller, decode(&args)?),
        Syscall::CapDetach => cap::detach(k, caller, decode(&args)?),
        Syscall::CapDeleteRange => cap::delete_range(k, caller, decode(&args)?),
        Syscall::CapCopyMany => cap::copy_many(k, caller, decode(&args)?),
        Syscall::EndpointWatch => ipc::endpoint_watch(k, caller, decode(&args)?),
        Syscall::CSpaceCreate => cap::cspace_create(k, caller, decode(&args)?),
        Syscall::EndpointCreate => ipc::endpoint_create(k, caller, decode(&args)?),
        Syscall::NotificationCreate => notification::create(k, caller, decode(&args)?),
        Syscall::AspaceCreate => memory::aspace_create(k, caller, decode(&args)?),
        Syscall::MemoryCreate => memory::memory_create(k, caller, decode(&args)?),
        Syscall::AspaceMap => memory::aspace_map(k, caller, decode(&args)?),
        Syscall::ThreadStart => thread::start(k, caller, decode(&args)?),
        Syscall::ThreadConfigure => thread::configure(k, caller, decode(&args)?),
        Syscall::ThreadSetPriority => thread::set_priority(k, caller, decode(&args)?),
        Syscall::ThreadReadRegs => thread::read_regs(k, caller, decode(&args)?),
        Syscall::ThreadWriteRegs => thread::write_regs(k, caller, decode(&args)?),
        Syscall::ThreadSuspend => thread::suspend(k, caller, decode(&args)?),
        Syscall::ThreadResume => thread::resume(k, caller, decode(&args)?),
        Syscall::ThreadBind => thread::bind(k, caller, decode(&args)?),
        Syscall::Send => ipc::send(k, caller, decode(&args)?),
        Syscall::NbSend => ipc::nb_send(k, caller, decode(&args)?),
        Syscall::Call => ipc::call(k, caller, decode(&args)?),
        Syscall::Recv => ipc::recv(k, caller, decode(&args)?),
        Syscall::NbRecv => ipc::nb_recv(k, caller, decode(&args)?),
        Syscall::Reply => ipc::reply(k, caller, decode(&args)?),
        Syscall::ReplyRecv => ipc::reply_recv(k, caller, decode(&args)?),
        Syscall::ReplySave => ipc::reply_save(k, caller, decode(&args)?),
        Syscall::ReplyWith => ipc::reply_with(k, caller, decode(&args)?),
        Syscall::ReplySaveRecv => ipc::reply_save_recv(k, caller, decode(&args)?),
        Syscall::Signal => notification::signal(k, caller, decode(&args)?),
        Syscall::Wait => notification::wait(k, caller, decode(&args)?),
        Syscall::Poll => notification::poll(k, caller, decode(&args)?),
        Syscall::TimerSet => notification::timer_set(k, caller, decode(&args)?),
        Syscall::AspaceUnmap => memory::aspace_unmap(k, caller, decode(&args)?),
        Syscall::IoPortsCreate => ioports::create(k, caller, decode(&args)?),
        Syscall::IoPortsBind => ioports::bind(k, caller, decode(&args)?),
        Syscall::IoPortsUnbind => ioports::unbind(k, caller, decode(&args)?),
        Syscall::IrqCreate => irq::create(k, caller, decode(&args)?),
        Syscall::IrqBind => irq::bind(k, caller, decode(&args)?),
        Syscall::IrqAck => irq::ack(k, caller, decode(&args)?),
        Syscall::DebugCounters => debug::counters(k, caller, decode(&args)?),
        Syscall::BudgetSplit => memory::budget_split(k, caller, decode(&args)?),
        Syscall::BudgetInfo => memory::budget_info(k, caller, decode(&args)?),
        Syscall::MemoryResize => memory::memory_resize(k, caller, decode(&args)?),
        Syscall::MemoryCreateDevice => memory::memory_create_device(k, caller, decode(&args)?),
        Syscall::AspaceProtect => memory::aspace_protect(k, caller, decode(&args)?),
        Syscall::AspaceClone => memory::aspace_clone(k, caller, decode(&args)?),
        Syscall::AspacePopulate => memory::aspace_populate(k, caller, decode(&args)?),
        Syscall::ThreadExec => memory::thread_exec(k, caller, decode(&args)?),
        Syscall::MemoryLend => memory::memory_lend(k, caller, decode(&args)?),
        Syscall::FutexWait => futex::wait(k, caller, decode(&args)?),
        Syscall::FutexWake => futex::wake(k, caller, decode(&args)?),
        Syscall::FutexRequeue => futex::requeue(k, caller, decode(&args)?),
    }
}

fn decode<A: SyscallArgs>(args: &ArgRegs) -> Result<A, SysError> {
    A::decode(args)
}

/// The capability space of `caller`.
fn cspace_of(k: &Kernel, caller: ObjId<Thread>) -> ObjId<CSpace> {
    k.objects.get(caller).cspace
}

/// Looks up a `T` with `needed` rights in the caller's capability space:
/// the one place handlers turn a slot into an object.
fn lookup<T: CapTarget>(
    k: &Kernel,
    caller: ObjId<Thread>,
    slot: CapSlot,
    needed: Rights,
) -> Result<(T, Capability), SysError> {
    cspace::lookup(&k.objects, cspace_of(k, caller), slot, needed)
}

/// The budget that pays for a new object: a [`Budget`] capability with
/// [`Rights::WRITE`], and the slot holding it (the new object's capability
/// derives from it, so revoking the budget reaches the object).
fn payer(
    k: &Kernel,
    caller: ObjId<Thread>,
    slot: CapSlot,
) -> Result<(ObjId<Budget>, SlotId), SysError> {
    let (id, cap) = cspace::get(&k.objects, cspace_of(k, caller), slot)?;
    let budget = ObjId::<Budget>::from_ref(cap.object).ok_or(SysError::WrongType)?;
    if !cap.rights.contains(Rights::WRITE) {
        return Err(SysError::MissingRights);
    }
    Ok((budget, id))
}

/// The results of a syscall that filled `slot`.
fn slot_result(index: u32) -> Next {
    Next::Reply(
        SlotResult {
            slot: u64::from(index),
        }
        .encode(),
    )
}

/// Checks that the caller's capability space has a free slot for a new
/// object's capability (before the object is made).
fn check_new_slot(k: &Kernel, caller: ObjId<Thread>) -> Result<(), SysError> {
    k.objects
        .get(cspace_of(k, caller))
        .check_reserve(CapSlot::NULL)
}

/// Puts the first capability (all rights) to a new object in the
/// caller's lowest free slot, which [`check_new_slot`] found, derived from
/// `budget`'s (the slot [`payer`] returned).
fn install_new(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    object: crate::cap::ObjectRef,
    budget: SlotId,
) -> Next {
    slot_result(install_new_with(k, caller, object, Rights::all(), budget))
}

/// [`install_new`] with `rights`; returns the slot.
fn install_new_with(
    k: &mut Kernel,
    caller: ObjId<Thread>,
    object: crate::cap::ObjectRef,
    rights: Rights,
    budget: SlotId,
) -> u32 {
    let cspace = cspace_of(k, caller);
    let index = k
        .objects
        .get_mut(cspace)
        .reserve(CapSlot::NULL)
        .expect("check_new_slot found a free slot");
    let cap = Capability {
        object,
        rights,
        badge: 0,
    };
    crate::cap::tree::install(k, cspace, index, cap, Some(budget));
    index
}
