//! The machine side of `fork`: saving the calling thread's place so that
//! a thread in a copy of the address space can return from the same call.
//!
//! [`fork`] saves the callee-saved registers and the stack pointer of its
//! caller, with the heap locked, and calls `prepare` (in the parent):
//! `prepare` clones the address space, makes the child's capability space
//! and a thread in the clone, and starts that thread at
//! [`ChildStart::entry`] with [`ChildStart::arg`]. The child's thread
//! restores the saved registers from the clone's copy of the context and
//! returns from the call that saved them, with 1 for "child". Nothing of
//! the caller's frame changes between the save and the clone (the caller
//! is inside the call), so each process sees the call return once, with
//! the stack and the callee-saved registers as the ABI promises.
//!
//! Only the calling thread goes on in the child; [`fork`] forgets the
//! others' records there (their capabilities are not in the child's
//! space). The heap is locked across the clone, so the child's heap is
//! consistent; any other lock another thread held stays held in the child
//! (as POSIX says of fork in a multithreaded process).

use core::sync::atomic::{AtomicU64, Ordering};

/// The saved place: callee-saved registers and the stack pointer (which
/// points at the return address).
#[repr(C)]
#[derive(Debug, Default)]
struct Context {
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    rsp: u64,
}

/// Where and how the child's thread starts.
#[derive(Clone, Copy, Debug)]
pub struct ChildStart {
    /// Its entry point (`ThreadStart`'s `entry`).
    pub entry: u64,
    /// Its stack pointer until it restores the saved one.
    pub stack: u64,
    /// Its argument (the saved context's address).
    pub arg: u64,
    /// Its FS base: the calling thread's TCB, the same in the clone.
    pub tls: u64,
    /// The calling thread's IPC buffer, to configure the child's thread.
    pub ipc_buffer: u64,
}

/// How many times this process has been forked into (0 in a process that
/// was spawned): `files` compares it to forget per-process state (shared
/// data areas) a forked child must not use.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// This process's fork generation.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Whether this is the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forked {
    /// The calling process.
    Parent,
    /// The copy, where the call returned a second time.
    Child,
}

/// Saves the caller's place and runs `prepare` (see the module docs);
/// returns in the parent with `prepare`'s result, and in the child with
/// `Forked::Child`. `prepare` must not allocate (the heap is locked).
///
/// # Errors
/// What `prepare` returned.
pub fn fork<F, E>(prepare: F) -> Result<Forked, E>
where
    F: FnOnce(&ChildStart) -> Result<(), E>,
{
    struct Call<F, E> {
        prepare: Option<F>,
        result: Option<Result<(), E>>,
    }

    extern "C" fn callback<F, E>(context: *mut Context, call: *mut Call<F, E>)
    where
        F: FnOnce(&ChildStart) -> Result<(), E>,
    {
        // SAFETY: `fork` passes a pointer to its own `Call`, alive for the
        // whole `fork_point` call and not otherwise touched meanwhile.
        let call = unsafe { &mut *call };
        // SAFETY: `fork_point` passes the context it just filled, on
        // `fork`'s stack; only read here.
        let rsp = unsafe { (*context).rsp };
        let start = ChildStart {
            entry: fork_resume as *const () as usize as u64,
            // Below the saved frame, 16-byte aligned; the child switches to
            // the saved stack pointer at once.
            stack: (rsp - 256) & !15,
            arg: context as u64,
            tls: crate::thread::block::current_tcb(),
            ipc_buffer: crate::thread::block::ipc_buffer_addr(),
        };
        if let Some(prepare) = call.prepare.take() {
            call.result = Some(prepare(&start));
        }
    }

    let mut context = Context::default();
    let mut call: Call<F, E> = Call {
        prepare: Some(prepare),
        result: None,
    };
    let heap = crate::heap::lock();
    // SAFETY: `fork_point` follows the C ABI: it saves the callee-saved
    // registers into `context`, calls `callback` with the two pointers,
    // and returns 0; or, in the child, returns 1 with the same callee-saved
    // registers and stack pointer (restored from the clone's copy of
    // `context`, which was written before the clone and not changed).
    let child = unsafe {
        fork_point(
            &mut context,
            &mut call as *mut Call<F, E> as *mut u8,
            callback::<F, E> as *const () as usize as u64,
        )
    };
    drop(heap);
    if child == 1 {
        GENERATION.fetch_add(1, Ordering::AcqRel);
        crate::thread::registry::forget_others_after_fork();
        return Ok(Forked::Child);
    }
    match call.result {
        Some(Ok(())) => Ok(Forked::Parent),
        Some(Err(error)) => Err(error),
        None => Ok(Forked::Parent),
    }
}

/// Saves the callee-saved registers and `rsp` into `context` (rdi), calls
/// `callback(context, call)` (rdx with rdi, rsi), and returns 0.
#[unsafe(naked)]
unsafe extern "C" fn fork_point(_context: *mut Context, _call: *mut u8, _callback: u64) -> u64 {
    core::arch::naked_asm!(
        "mov [rdi + 0], rbx",
        "mov [rdi + 8], rbp",
        "mov [rdi + 16], r12",
        "mov [rdi + 24], r13",
        "mov [rdi + 32], r14",
        "mov [rdi + 40], r15",
        "mov [rdi + 48], rsp",
        // On entry rsp is 8 below a 16-byte boundary: align for the call.
        "sub rsp, 8",
        "call rdx",
        "add rsp, 8",
        "xor eax, eax",
        "ret",
    )
}

/// The child's first instruction: `rdi` is the clone's copy of the
/// context. Restores it and returns 1 from `fork_point`'s call.
#[unsafe(naked)]
unsafe extern "C" fn fork_resume() -> ! {
    core::arch::naked_asm!(
        "mov rbx, [rdi + 0]",
        "mov rbp, [rdi + 8]",
        "mov r12, [rdi + 16]",
        "mov r13, [rdi + 24]",
        "mov r14, [rdi + 32]",
        "mov r15, [rdi + 40]",
        "mov rsp, [rdi + 48]",
        "mov eax, 1",
        "ret",
    )
}
