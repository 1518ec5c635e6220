//! I/O port ranges: `in` and `out` without a syscall, for drivers.
//!
//! An `IoPorts` object names `count` ports from `first`. Binding it to a
//! thread lets that thread run `in`/`out` on them directly: the TSS I/O
//! permission bitmap (`arch::gdt`) has the ports of one thread, the CPU's
//! *port owner*, open. Switching to another thread costs one store (the
//! bitmap is disabled, `switch::switch_registers`), and only while some
//! thread owns ports; the owner's first `in`/`out` after that faults (#GP),
//! and [`take_ports`] opens the bitmap for it again and lets it retry. A
//! port outside every range the thread holds faults for real: the fault
//! goes to its fault endpoint like any other.
//!
//! The other choice, `in`/`out` as syscalls on a capability (seL4's), costs
//! a kernel entry per access (about 100 instructions here) against about 1
//! for a bound thread, plus one fault (about 1,500) each time the owner
//! changes; drivers touch their ports in bursts, so the bitmap wins. The
//! `ioport_out` benchmark row measures one access.
//!
//! Bindings go both ways (the range lists its threads, the thread its
//! ranges) and hold no reference: when the last capability to the range
//! goes, [`teardown`] unbinds it everywhere, so revoking the capability
//! takes the ports away at once; a thread's teardown unbinds its ranges.
//!
//! Lifetime: `header.refs` counts capabilities.

use abi::SysError;
use abi::syscall::{IO_PORTS_PER_THREAD, THREADS_PER_IO_PORTS};

use crate::arch::gdt;
use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::budget::Budget;
use crate::object::lifetime::Header;
use crate::object::thread::Thread;

/// A range of I/O ports.
#[repr(C)]
pub struct IoPorts {
    /// References (capabilities) and the budget that paid for it.
    pub header: Header,
    /// The first port.
    pub first: u16,
    /// Number of ports (1 to 65,536).
    pub count: u32,
    /// The threads it is bound to.
    bound: [Option<ObjId<Thread>>; THREADS_PER_IO_PORTS],
}

crate::kernel_object!(IoPorts);

impl IoPorts {
    /// The `count` ports from `first`, bound to nobody.
    pub const fn new(first: u16, count: u32, budget: ObjId<Budget>) -> IoPorts {
        IoPorts {
            header: Header::new(budget),
            first,
            count,
            bound: [None; THREADS_PER_IO_PORTS],
        }
    }

    /// Whether `[first, first + count)` lies inside this range.
    pub fn covers(&self, first: u64, count: u64) -> bool {
        let (own_first, own_end) = (
            u64::from(self.first),
            // A u16 plus a u32 in a u64: no wrap.
            u64::from(self.first).wrapping_add(u64::from(self.count)),
        );
        own_first <= first && first.saturating_add(count) <= own_end
    }
}

/// The ports the CPU's bitmap has open, and for whom.
pub struct PortOwner {
    /// The thread whose ports are open in the bitmap (it may not be
    /// running: the bitmap is then disabled).
    thread: Option<ObjId<Thread>>,
    /// The open ranges, as `(first, count)`.
    open: [(u16, u32); IO_PORTS_PER_THREAD],
    /// Entries in use in `open`.
    open_count: usize,
    /// Whether the bitmap is enabled (the owner is running).
    enabled: bool,
}

impl PortOwner {
    /// Nobody: the bitmap is all ones and disabled.
    pub const fn new() -> PortOwner {
        PortOwner {
            thread: None,
            open: [(0, 0); IO_PORTS_PER_THREAD],
            open_count: 0,
            enabled: false,
        }
    }

    /// Whether any thread has ports open (the switch then has work).
    #[inline(always)]
    pub fn is_some(&self) -> bool {
        self.thread.is_some()
    }

    /// `next` is about to run: the bitmap is enabled for the owner and
    /// disabled for everyone else.
    pub fn switch_to(&mut self, next: ObjId<Thread>) {
        let enable = self.thread == Some(next);
        if enable != self.enabled {
            if enable {
                gdt::io_enable();
            } else {
                gdt::io_disable();
            }
            self.enabled = enable;
        }
    }

    /// Closes every open range and forgets the owner.
    fn clear(&mut self) {
        for &(first, count) in &self.open[..self.open_count] {
            gdt::io_deny(first, count);
        }
        self.open_count = 0;
        self.thread = None;
        if self.enabled {
            gdt::io_disable();
            self.enabled = false;
        }
    }
}

/// Binds `ports` to `thread`.
///
/// # Errors
/// [`SysError::InvalidArg`] if already bound; [`SysError::OutOfMemory`] if
/// the thread or the range has no room left.
pub fn bind(k: &mut Kernel, ports: ObjId<IoPorts>, thread: ObjId<Thread>) -> Result<(), SysError> {
    if k.objects.get(thread).io_ports.contains(&Some(ports)) {
        return Err(SysError::InvalidArg);
    }
    let thread_free = k
        .objects
        .get(thread)
        .io_ports
        .iter()
        .position(Option::is_none);
    let ports_free = k.objects.get(ports).bound.iter().position(Option::is_none);
    let (Some(t), Some(p)) = (thread_free, ports_free) else {
        return Err(SysError::OutOfMemory);
    };
    k.objects.get_mut(thread).io_ports[t] = Some(ports);
    k.objects.get_mut(ports).bound[p] = Some(thread);
    Ok(())
}

/// Unbinds `ports` from `thread`; if the thread owns the bitmap, it is
/// closed (the next access reopens what the thread still holds).
///
/// # Errors
/// [`SysError::InvalidArg`] if not bound.
pub fn unbind(
    k: &mut Kernel,
    ports: ObjId<IoPorts>,
    thread: ObjId<Thread>,
) -> Result<(), SysError> {
    let t = k
        .objects
        .get(thread)
        .io_ports
        .iter()
        .position(|&bound| bound == Some(ports))
        .ok_or(SysError::InvalidArg)?;
    k.objects.get_mut(thread).io_ports[t] = None;
    let range = k.objects.get_mut(ports);
    if let Some(p) = range.bound.iter().position(|&bound| bound == Some(thread)) {
        range.bound[p] = None;
    }
    if k.cpu.ports.thread == Some(thread) {
        k.cpu.ports.clear();
    }
    Ok(())
}

/// Before the range is freed: unbound from every thread.
pub fn teardown(k: &mut Kernel, ports: ObjId<IoPorts>) {
    let bound = k.objects.get(ports).bound;
    for thread in bound.into_iter().flatten() {
        // Bound both ways (module invariant), so this cannot fail.
        let _ = unbind(k, ports, thread);
    }
}

/// A thread is being destroyed: it gives up every range.
pub fn release_thread(k: &mut Kernel, thread: ObjId<Thread>) {
    let held = k.objects.get(thread).io_ports;
    for ports in held.into_iter().flatten() {
        let _ = unbind(k, ports, thread);
    }
}

/// The running thread `thread` raised #GP: if it holds ports that the
/// bitmap does not have open for it, open them and return true (the
/// instruction runs again); otherwise the fault is its own.
pub fn take_ports(k: &mut Kernel, thread: ObjId<Thread>) -> bool {
    let held = k.objects.get(thread).io_ports;
    if held.iter().all(Option::is_none) {
        return false;
    }
    let owner = &k.cpu.ports;
    if owner.thread == Some(thread) && owner.enabled {
        return false;
    }
    if owner.thread != Some(thread) {
        k.cpu.ports.clear();
        for ports in held.into_iter().flatten() {
            let range = k.objects.get(ports);
            let (first, count) = (range.first, range.count);
            gdt::io_allow(first, count);
            let owner = &mut k.cpu.ports;
            owner.open[owner.open_count] = (first, count);
            // One entry per range a thread holds; indexing `open` above
            // bounded it.
            owner.open_count = owner.open_count.wrapping_add(1);
        }
        k.cpu.ports.thread = Some(thread);
    }
    k.cpu.ports.switch_to(thread);
    true
}
