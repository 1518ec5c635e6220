//! Programs in address spaces of their own, made from a copy of this one.
//!
//! [`spawn_copy`] builds a new address space holding a snapshot of the
//! running program's image (code read+execute, data and bss read+write, as
//! they are now, copied eagerly into objects of its own; `AspaceClone`
//! would share them copy-on-write instead, but would also copy every other
//! region of this program), a fresh stack and
//! an IPC buffer page, a new capability space holding the capabilities the
//! caller lists, and one thread that starts at a function of the image.
//! Every frame comes from memory objects the caller holds, so
//! [`Child::destroy`] returns all of them.
//!
//! The copy is made through a scratch mapping in the caller's own address
//! space, removed again before `spawn_copy` returns.
#![allow(unsafe_code)]

use abi::layout::PAGE_BYTES;
use abi::{CapSlot, MapFlags, Rights, SysError};

use rt::sys;

unsafe extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __image_end: u8;
}

/// Where a child's stack ends (its top).
pub const CHILD_STACK_TOP: u64 = abi::layout::STACK_TOP;
/// Pages of a child's stack.
pub const CHILD_STACK_PAGES: u64 = 16;
/// Where a child's IPC buffer page is.
pub const CHILD_IPC_BUFFER: u64 = 0x0000_0030_0000_0000;
/// Where the caller maps pages it fills for a child, briefly.
const SCRATCH: u64 = 0x0000_0050_0000_0000;
/// Slots in a child's capability space.
pub const CHILD_CSPACE_SLOTS: u64 = 4096;

/// A capability to give a child: the caller's `src`, with `rights`, put in
/// the child's slot `dst`.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    /// The caller's slot.
    pub src: CapSlot,
    /// The child's slot (not 0).
    pub dst: CapSlot,
    /// Rights of the child's copy.
    pub rights: Rights,
}

/// A program started by [`spawn_copy`], and everything it is made of.
#[derive(Debug)]
pub struct Child {
    /// Its thread.
    pub thread: CapSlot,
    /// Its address space.
    pub aspace: CapSlot,
    /// Its capability space.
    pub cspace: CapSlot,
    /// Memory objects: code, data, stack, IPC buffer.
    memory: [CapSlot; 4],
}

/// The running program's image: its first byte, the end of its code
/// (page-aligned; read-only data, data and bss follow) and its end
/// (page-aligned), from the linker script's symbols.
pub fn image_bounds() -> (u64, u64, u64) {
    let start = &raw const __image_start as u64;
    let text_end = &raw const __text_end as u64;
    let end = &raw const __image_end as u64;
    (start, text_end, end)
}

/// A memory object of `pages` pages holding a copy of the caller's memory
/// at `source` (`pages` pages, or zeroes for `None`).
fn filled_object(
    budget: CapSlot,
    own_aspace: CapSlot,
    source: Option<u64>,
    pages: u64,
) -> Result<CapSlot, SysError> {
    let memory = sys::memory_create(budget, pages)?;
    if let Some(source) = source {
        let flags = MapFlags::READ | MapFlags::WRITE;
        if let Err(e) = sys::aspace_map(own_aspace, memory, 0, SCRATCH, pages, flags) {
            let _ = sys::cap_delete(memory);
            return Err(e);
        }
        // SAFETY: `source` spans `pages` mapped pages of this program's
        // own image (between linker symbols), and SCRATCH was just mapped
        // writable for `pages` pages; the two ranges are distinct.
        unsafe {
            core::ptr::copy_nonoverlapping(
                source as *const u8,
                SCRATCH as *mut u8,
                (pages * PAGE_BYTES) as usize,
            )
        };
        sys::aspace_unmap(own_aspace, SCRATCH, pages)?;
    }
    Ok(memory)
}

/// Starts `entry(arg)` in a new address space holding a copy of this
/// program, with the capabilities `grants` lists. The child's thread has
/// its IPC buffer at [`CHILD_IPC_BUFFER`]; `entry` must never return (it
/// ends with `thread_exit`).
///
/// # Errors
/// The first failing syscall's error; what was built is taken down again.
pub fn spawn_copy(
    entry: extern "C" fn(u64) -> !,
    arg: u64,
    grants: &[Grant],
) -> Result<Child, SysError> {
    let own = rt::process::own_caps();
    let aspace = sys::aspace_create(own.budget)?;
    let mut child = Child {
        thread: CapSlot::NULL,
        aspace,
        cspace: CapSlot::NULL,
        memory: [CapSlot::NULL; 4],
    };
    match build(&mut child, own, entry, arg, grants) {
        Ok(()) => Ok(child),
        Err(e) => {
            child.destroy();
            Err(e)
        }
    }
}

fn build(
    child: &mut Child,
    own: rt::process::OwnCaps,
    entry: extern "C" fn(u64) -> !,
    arg: u64,
    grants: &[Grant],
) -> Result<(), SysError> {
    let (start, text_end, end) = image_bounds();
    let code_pages = (text_end - start) / PAGE_BYTES;
    let data_pages = (end - text_end) / PAGE_BYTES;
    let read_write = MapFlags::READ | MapFlags::WRITE;
    let layout = [
        (
            Some(start),
            code_pages,
            start,
            MapFlags::READ | MapFlags::EXEC,
        ),
        (Some(text_end), data_pages, text_end, read_write),
        (
            None,
            CHILD_STACK_PAGES,
            CHILD_STACK_TOP - CHILD_STACK_PAGES * PAGE_BYTES,
            read_write,
        ),
        (None, 1, CHILD_IPC_BUFFER, read_write),
    ];
    for (index, (source, pages, vaddr, flags)) in layout.into_iter().enumerate() {
        let memory = filled_object(own.budget, own.aspace, source, pages)?;
        child.memory[index] = memory;
        sys::aspace_map(child.aspace, memory, 0, vaddr, pages, flags)?;
    }
    child.cspace = sys::cspace_create(own.budget, CHILD_CSPACE_SLOTS)?;
    for grant in grants {
        sys::cap_copy_to(grant.src, grant.rights, child.cspace, grant.dst)?;
    }
    child.thread = sys::thread_create(own.budget, child.aspace, child.cspace)?;
    sys::thread_configure(child.thread, CHILD_IPC_BUFFER, CapSlot::NULL)?;
    // rsp + 8 is 16-byte aligned at a function's entry.
    sys::thread_start(
        child.thread,
        entry as usize as u64,
        CHILD_STACK_TOP - 8,
        arg,
        0,
    )
}

impl Child {
    /// Deletes the child's thread (wherever it is), capability space,
    /// address space and memory: every frame it used comes back. Copies of
    /// these capabilities derived since (say, the child's own capability to
    /// its thread, which would keep thread and capability space alive in a
    /// cycle) are revoked first.
    pub fn destroy(self) {
        let slots = [self.thread, self.cspace, self.aspace];
        for slot in slots.into_iter().chain(self.memory) {
            if slot != CapSlot::NULL {
                let _ = sys::cap_revoke(slot);
                let _ = sys::cap_delete(slot);
            }
        }
    }
}

/// The IPC buffer of a child made by [`spawn_copy`], from inside it.
/// (Anywhere else nothing is mapped there, and an access faults.)
pub fn child_ipc_buffer() -> rt::ipc_buffer::IpcBufferPtr {
    // SAFETY: `spawn_copy` maps one writable page at CHILD_IPC_BUFFER in
    // every child and no Rust object lives there; in another program the
    // address is unmapped (SCRATCH and the image are elsewhere), so an
    // access faults instead of touching memory.
    unsafe { rt::ipc_buffer::IpcBufferPtr::at(CHILD_IPC_BUFFER) }
}
